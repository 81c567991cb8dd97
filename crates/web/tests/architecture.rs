//! The web crate reaches the database only through the service: it does not depend on the store
//! (the store's fixtures are for tests only) and no source file names it.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn the_web_does_not_reach_the_store() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let deps = manifest.split("[dependencies]").nth(1).unwrap().split("\n[").next().unwrap();
    assert!(deps.contains("choucha-service"), "the scan reads the dependencies");
    assert!(!deps.contains("choucha-store"), "choucha-web depends on choucha-store");
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    assert!(files.len() > 10, "the scan finds the web's sources");
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            // Not by name, and not through the composition root's handle on the services either.
            text.contains("choucha_store") || text.contains(".store()")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(offenders.is_empty(), "web sources naming the store: {offenders:?}");
}
