//! Font discovery for PDF rendering: owns which font files are used and when they are read.
//!
//! At start-up [`Fonts::load`] walks a list of folders (the configured ones first, then the
//! system's `/usr/share/fonts` and `/usr/local/share/fonts`) recursively, reads every `.ttf`,
//! `.otf` and `.ttc` file once to record its faces' metadata (family, weight, Unicode coverage) in
//! a typst [`FontBook`], and then drops the bytes. A face's file is read again, and kept, only when
//! typst first asks for that face, so a server that renders with two CJK fonts holds those two
//! files in memory, not all of `/usr/share/fonts`. All faces of one collection (`.ttc`) share one
//! copy of the file.
//!
//! Loading fails with [`DocumentError::NoChineseFont`] when no face covers Chinese text: an official
//! form without its Chinese glyphs would be worse than no form.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use typst::foundations::Bytes;
use typst::text::{Font, FontBook, FontInfo};
use typst::utils::LazyHash;

use crate::DocumentError;

/// The system font folders searched after the configured ones (Debian's fonts-noto-cjk installs
/// into `/usr/share/fonts/opentype/noto`).
pub const SYSTEM_FONT_DIRS: [&str; 2] = ["/usr/share/fonts", "/usr/local/share/fonts"];

/// Guards against symlink loops and pathological trees.
const MAX_DEPTH: usize = 16;

/// A corrupt collection header must not make us probe billions of faces.
const MAX_FACES_PER_FILE: u32 = 256;

/// A character every Simplified Chinese font covers; a face without it cannot set a form.
const CHINESE_PROBE: char = '中';

/// The fonts available to the PDF renderer. Cheap to clone (one `Arc`), `Send + Sync`.
#[derive(Clone)]
pub struct Fonts {
    inner: Arc<Inner>,
}

struct Inner {
    book: LazyHash<FontBook>,
    faces: Vec<Face>,
    files: Vec<FontFile>,
}

/// One font file, read on first use and then shared by all its faces.
struct FontFile {
    path: PathBuf,
    data: OnceLock<Option<Bytes>>,
}

/// One face: its file and its index inside that file (non-zero only in collections).
struct Face {
    file: usize,
    index: u32,
    font: OnceLock<Option<Font>>,
}

impl Fonts {
    /// Finds fonts in `extra_dirs` (in order, e.g. the configured font folder) and then in
    /// [`SYSTEM_FONT_DIRS`]. Folders that do not exist are skipped.
    ///
    /// # Errors
    /// [`DocumentError::NoChineseFont`] when no face covers Chinese text.
    pub fn load(extra_dirs: &[PathBuf]) -> Result<Fonts, DocumentError> {
        let mut dirs = extra_dirs.to_vec();
        dirs.extend(SYSTEM_FONT_DIRS.iter().map(PathBuf::from));
        Self::load_only(&dirs)
    }

    /// Like [`Fonts::load`] but searches only `dirs`, not the system folders.
    ///
    /// # Errors
    /// [`DocumentError::NoChineseFont`] when no face covers Chinese text.
    pub fn load_only(dirs: &[PathBuf]) -> Result<Fonts, DocumentError> {
        let started = std::time::Instant::now();
        let mut paths = Vec::new();
        let mut seen = HashSet::new();
        for dir in dirs {
            collect_font_files(dir, 0, &mut seen, &mut paths);
        }

        let mut book = FontBook::new();
        let mut faces = Vec::new();
        let mut files = Vec::new();
        for path in paths {
            let data = match fs::read(&path) {
                Ok(data) => data,
                Err(err) => {
                    tracing::warn!(path = %path.display(), %err, "font file not readable, skipped");
                    continue;
                }
            };
            let file = files.len();
            let mut count = 0;
            // Not `Font::iter`: that would keep the whole file alive; the metadata is enough now.
            let collection_size = typst_face_count(&data);
            for index in 0..collection_size {
                if let Some(info) = FontInfo::new(&data, index) {
                    book.push(info);
                    faces.push(Face { file, index, font: OnceLock::new() });
                    count += 1;
                }
            }
            if count == 0 {
                tracing::debug!(path = %path.display(), "no usable face in font file, skipped");
                continue;
            }
            files.push(FontFile { path, data: OnceLock::new() });
        }

        let fonts = Fonts { inner: Arc::new(Inner { book: LazyHash::new(book), faces, files }) };
        let Some(chinese) = fonts.chinese_family() else {
            return Err(DocumentError::NoChineseFont { searched: dirs.to_vec() });
        };
        tracing::info!(
            faces = fonts.inner.faces.len(),
            files = fonts.inner.files.len(),
            first_chinese_family = chinese,
            elapsed_ms = started.elapsed().as_millis(),
            "fonts loaded"
        );
        Ok(fonts)
    }

    /// Number of faces found (a `.ttc` collection has several).
    pub fn face_count(&self) -> usize {
        self.inner.faces.len()
    }

    /// Whether a family of this name (as typst names it, e.g. "Noto Serif CJK SC") was found.
    /// Case-insensitive.
    pub fn has_family(&self, family: &str) -> bool {
        self.inner.book.contains_family(&family.to_lowercase())
    }

    /// The names of all families found, sorted case-insensitively.
    pub fn families(&self) -> Vec<&str> {
        self.inner.book.families().map(|(name, _)| name).collect()
    }

    /// The first family (in search order) with a face covering Chinese text.
    pub fn chinese_family(&self) -> Option<&str> {
        (0..self.inner.faces.len())
            .filter_map(|index| self.inner.book.info(index))
            .find(|info| info.coverage.contains(u32::from(CHINESE_PROBE)))
            .map(|info| info.family.as_str())
    }

    pub(crate) fn book(&self) -> &LazyHash<FontBook> {
        &self.inner.book
    }

    /// The face at `index` of the book, reading its file on first use.
    pub(crate) fn font(&self, index: usize) -> Option<Font> {
        let face = self.inner.faces.get(index)?;
        face.font
            .get_or_init(|| {
                let file = self.inner.files.get(face.file)?;
                let data = file.data.get_or_init(|| match fs::read(&file.path) {
                    Ok(data) => Some(Bytes::new(data)),
                    Err(err) => {
                        tracing::error!(path = %file.path.display(), %err, "font file vanished");
                        None
                    }
                });
                Font::new(data.clone()?, face.index)
            })
            .clone()
    }
}

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fonts").field("faces", &self.inner.faces.len()).field("files", &self.inner.files.len()).finish()
    }
}

/// How many faces the file holds: a collection (`ttcf` header) lists its count, any other font
/// file is one face. Mirrors what `Font::iter` does, without keeping the bytes.
fn typst_face_count(data: &[u8]) -> u32 {
    match data {
        [b't', b't', b'c', b'f', _, _, _, _, a, b, c, d, ..] => {
            u32::from_be_bytes([*a, *b, *c, *d]).min(MAX_FACES_PER_FILE)
        }
        _ => 1,
    }
}

fn is_font_file(path: &Path) -> bool {
    path.extension()
        .and_then(|ext| ext.to_str())
        .is_some_and(|ext| ["ttf", "otf", "ttc"].iter().any(|known| ext.eq_ignore_ascii_case(known)))
}

/// Appends the font files under `dir` in a stable (sorted) order, following symlinks but visiting
/// each real file or folder once.
fn collect_font_files(dir: &Path, depth: usize, seen: &mut HashSet<PathBuf>, out: &mut Vec<PathBuf>) {
    if depth > MAX_DEPTH {
        return;
    }
    let Ok(canonical) = dir.canonicalize() else {
        return;
    };
    if !seen.insert(canonical) {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|entry| entry.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        let Ok(meta) = fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            collect_font_files(&path, depth + 1, seen, out);
        } else if meta.is_file()
            && is_font_file(&path)
            && let Ok(canonical) = path.canonicalize()
            && seen.insert(canonical)
        {
            out.push(path);
        }
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::panic)] // a failing test should panic
mod tests {
    use super::*;

    #[test]
    fn counts_faces_of_a_collection_from_its_header() {
        let mut ttc = b"ttcf\x00\x01\x00\x00".to_vec();
        ttc.extend_from_slice(&10u32.to_be_bytes());
        assert_eq!(typst_face_count(&ttc), 10);
        assert_eq!(typst_face_count(b"\x00\x01\x00\x00rest"), 1);
        assert_eq!(typst_face_count(b""), 1);
    }

    #[test]
    fn accepts_only_font_extensions() {
        assert!(is_font_file(Path::new("/a/NotoSerifCJK-Regular.ttc")));
        assert!(is_font_file(Path::new("/a/FandolFang-Regular.OTF")));
        assert!(!is_font_file(Path::new("/a/fonts.dir")));
        assert!(!is_font_file(Path::new("/a/font.pcf.gz")));
    }

    #[test]
    fn refuses_a_folder_without_chinese_fonts() {
        let empty = std::env::temp_dir().join(format!("choucha-no-fonts-{}", std::process::id()));
        let result = fs::create_dir_all(&empty).map(|()| Fonts::load_only(std::slice::from_ref(&empty)));
        let _ = fs::remove_dir(&empty);
        match result {
            Ok(Err(err @ DocumentError::NoChineseFont { .. })) => {
                assert!(err.to_string().contains("未找到中文字体"), "{err}");
            }
            other => panic!("expected NoChineseFont, got {other:?}"),
        }
    }
}
