//! What the PDF tests share: one renderer with the machine's fonts, keeping a PDF for a look, and
//! reading it back with poppler-utils (`pdftotext`, `pdfimages`). Without poppler-utils the checks
//! are skipped, except under `CI=true`, where they fail.
#![allow(dead_code)] // each test binary uses its own part
#![allow(clippy::expect_used, clippy::panic)] // a failing test should panic

use std::process::Command;
use std::sync::LazyLock;

use choucha_documents::Renderer;

pub static RENDERER: LazyLock<Renderer> = LazyLock::new(|| match Renderer::load(&[]) {
    Ok(renderer) => renderer,
    Err(err) => panic!("{err}"),
});

/// Keeps the PDF for a look when `CHOUCHA_PDF_OUT` names a folder.
pub fn keep(name: &str, pdf: &[u8]) {
    if let Some(dir) = std::env::var_os("CHOUCHA_PDF_OUT") {
        std::fs::write(std::path::Path::new(&dir).join(name), pdf).expect("write PDF for inspection");
    }
}

/// Runs a poppler tool on the PDF; `None` when the tool is missing outside CI.
pub fn poppler(tool: &str, args: &[&str], pdf: &[u8]) -> Option<String> {
    let path = std::env::temp_dir().join(format!(
        "choucha-documents-{tool}-{}-{:?}.pdf",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&path, pdf).expect("write temporary PDF");
    let output =
        Command::new(tool).args(args).arg(&path).args(if tool == "pdftotext" { &["-"][..] } else { &[] }).output();
    let _ = std::fs::remove_file(&path);
    match output {
        Ok(output) => {
            assert!(output.status.success(), "{tool} failed: {}", String::from_utf8_lossy(&output.stderr));
            Some(String::from_utf8(output.stdout).expect("poppler writes UTF-8"))
        }
        Err(err) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{tool} (poppler-utils) is required under CI: {err}")
        }
        Err(err) => {
            eprintln!("SKIPPED: {tool} (poppler-utils) not found ({err}); install it to check PDFs");
            None
        }
    }
}

/// The PDF's text as pdftotext prints it (pages end with a form feed).
pub fn pdf_raw_text(pdf: &[u8]) -> Option<String> {
    poppler("pdftotext", &["-raw", "-enc", "UTF-8"], pdf)
}

/// The PDF's text with all whitespace removed (pdftotext splits CJK runs with spaces and lines).
pub fn pdf_text(pdf: &[u8]) -> Option<String> {
    pdf_raw_text(pdf).map(|text| squeeze(&text))
}

pub fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}
