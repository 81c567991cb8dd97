//! The service's modules form no import cycle: a module (a top-level file or directory of
//! `src/`) names items of another only "downwards". Re-exports (`pub use`) and module declarations
//! are not dependencies; everything else that names `crate::x` or `super::x` is.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap_or_else(|e| panic!("{e}")).path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a file belongs to (`lab/report.rs` → `lab`).
fn top(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap_or_else(|e| panic!("{e}"));
    let first = rel.components().next().map(|c| c.as_os_str().to_string_lossy().to_string()).unwrap_or_default();
    first.trim_end_matches(".rs").to_string()
}

/// The names right after each `crate::` or `super::` (the first segment, or each entry of a
/// `{…}` group), outside re-exports, module declarations, comments and unit tests.
fn referenced(text: &str, in_subdir: bool) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or(text);
    let mut out = BTreeSet::new();
    for line in code.lines() {
        let t = line.trim_start();
        if t.starts_with("//") || t.starts_with("pub use") || t.starts_with("pub(crate) use") || t.starts_with("mod ") {
            continue;
        }
        let line = t.split("//").next().unwrap_or(t);
        for prefix in ["crate::", "super::"] {
            // `super::` from a file directly under src/ is the crate root; from a subdirectory it is
            // the top-level module itself, which is no dependency on another.
            if prefix == "super::" && in_subdir {
                continue;
            }
            let mut rest = line;
            while let Some(i) = rest.find(prefix) {
                let after = &rest[i + prefix.len()..];
                if let Some(group) = after.strip_prefix('{') {
                    let end = group.find('}').unwrap_or(group.len());
                    for part in group[..end].split(',') {
                        let name: String =
                            part.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                        if !name.is_empty() {
                            out.insert(name);
                        }
                    }
                } else {
                    let name: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    if !name.is_empty() {
                        out.insert(name);
                    }
                }
                rest = after;
            }
        }
    }
    out
}

#[test]
fn service_modules_form_no_import_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let m = top(&src, f);
        if m == "lib" {
            continue;
        }
        graph.entry(m).or_default();
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for f in &files {
        let m = top(&src, f);
        if m == "lib" {
            continue;
        }
        let in_subdir = f.parent() != Some(src.as_path());
        let text = std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let deps: Vec<String> =
            referenced(&text, in_subdir).into_iter().filter(|d| *d != m && modules.contains(d)).collect();
        graph.entry(m).or_default().extend(deps);
    }
    // Any cycle shows as a module reachable from itself.
    let mut cycles = Vec::new();
    for start in graph.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<(String, Vec<String>)> =
            graph[start].iter().map(|d| (d.clone(), vec![start.clone(), d.clone()])).collect();
        while let Some((m, path)) = stack.pop() {
            if m == *start {
                cycles.push(path.join(" → "));
                break;
            }
            if !seen.insert(m.clone()) {
                continue;
            }
            for d in graph.get(&m).into_iter().flatten() {
                let mut p = path.clone();
                p.push(d.clone());
                stack.push((d.clone(), p));
            }
        }
    }
    assert!(cycles.is_empty(), "import cycles between service modules:\n{}", cycles.join("\n"));
    // The check itself sees dependencies: the use cases depend on the shared access module.
    assert!(graph["lab"].contains("access"), "the scan found no dependency of lab on access");
}

/// No source file of the workspace grows past what a reader takes in at once (issue 14: "no
/// non-generated file over ~600 lines"): a file that would is split by what it is about.
#[test]
fn no_source_file_is_longer_than_650_lines() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for krate in std::fs::read_dir(&crates).unwrap() {
        let src = krate.unwrap().path().join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    assert!(files.len() > 100, "found the workspace's sources");
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = std::fs::read_to_string(f).unwrap().lines().count();
            (n > 650).then(|| format!("{} ({n} lines)", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these files: {long:?}");
}
