//! Every template and static script keeps to the Content-Security-Policy's `script-src 'self'`: no
//! inline `<script>` (data blocks of `type="application/json"` aside), no inline event handler, no
//! `hx-on`, no `eval`. The rendered pages of the demo are crawled by the CLI's `serve_tls` test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            files(&p, ext, out);
        } else if p.extension().is_some_and(|e| e == ext) {
            out.push(p);
        }
    }
}

#[test]
fn templates_hold_no_inline_code() {
    let mut templates = Vec::new();
    files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"), "html", &mut templates);
    assert!(templates.len() > 20, "templates found: {}", templates.len());
    let mut bad = Vec::new();
    for t in &templates {
        let html = std::fs::read_to_string(t).unwrap();
        bad.extend(common::csp::inline_code(&html).into_iter().map(|v| format!("{}: {v}", t.display())));
        for (i, line) in html.lines().enumerate() {
            if line.contains("?csrf=") || line.contains("&csrf=") {
                bad.push(format!("{}:{}: CSRF token in a URL", t.display(), i + 1));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn the_checker_finds_what_the_policy_blocks() {
    let found = common::csp::inline_code(
        "<script>alert(1)</script><script src=\"/static/app.js\"></script>\
         <script type=\"application/json\">{}</script><button onclick=\"x()\">b</button>\
         <div hx-on:click=\"y()\"></div><a href=\"javascript:z()\">a</a><p>online=ok</p>",
    );
    assert_eq!(found.len(), 4, "{found:?}");
}

#[test]
fn static_scripts_evaluate_no_strings() {
    let mut scripts = Vec::new();
    files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("static"), "js", &mut scripts);
    for s in scripts.iter().filter(|p| !p.ends_with("htmx.min.js")) {
        let js = std::fs::read_to_string(s).unwrap();
        for pat in ["eval(", "new Function(", "setTimeout(\"", "setInterval(\""] {
            assert!(!js.contains(pat), "{}: {pat}", s.display());
        }
    }
}
