//! Looking inside a zip container (XLSX) before the spreadsheet reader opens it: every entry is
//! decompressed through a counting reader, because the sizes the zip headers declare can lie, and
//! the shared strings table (which the reader keeps in memory whole) is counted as it streams by.

use std::io::{self, BufReader, Cursor, Read};

use quick_xml::events::Event;

use super::limits::{Limit, ReadLimits, TooLarge};
use crate::DocumentError;

/// What a zip container holds, as far as reading tables goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ZipKind {
    /// An Office Open XML workbook (or anything else: the XLSX reader judges it).
    Xlsx,
    /// An Excel binary workbook (`xl/workbook.bin`).
    Xlsb,
    /// An OpenDocument spreadsheet (`content.xml`).
    Ods,
}

/// Checks a zip container against `limits` by decompressing every entry, and tells its kind.
pub(super) fn scan_zip(bytes: &[u8], limits: &ReadLimits) -> Result<ZipKind, DocumentError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(corrupt)?;
    let entries = u64::try_from(archive.len()).unwrap_or(u64::MAX);
    if entries > limits.max_zip_entries {
        return Err(DocumentError::TooLarge(TooLarge::exact(Limit::ZipEntries, limits.max_zip_entries, entries)));
    }
    let mut kind = ZipKind::Xlsx;
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let entry = archive.by_index(index).map_err(corrupt)?;
        let name = entry.name().map_err(corrupt)?.to_ascii_lowercase();
        if name.ends_with("workbook.bin") {
            kind = ZipKind::Xlsb;
        } else if name == "content.xml" && kind == ZipKind::Xlsx {
            kind = ZipKind::Ods;
        }
        let remaining = limits.max_uncompressed_bytes.saturating_sub(total);
        // One byte more than allowed is enough to know the bound is exceeded.
        let mut capped = Counting { inner: entry.take(remaining.saturating_add(1)), count: 0 };
        if name.ends_with("sharedstrings.xml") {
            count_shared_strings(&mut capped, limits)?;
        }
        io::copy(&mut capped, &mut io::sink()).map_err(corrupt)?;
        total = total.saturating_add(capped.count);
        if total > limits.max_uncompressed_bytes {
            return Err(DocumentError::TooLarge(TooLarge::at_least(
                Limit::UncompressedBytes,
                limits.max_uncompressed_bytes,
                total,
            )));
        }
    }
    Ok(kind)
}

/// Counts the `<si>` entries of a shared strings table as it streams by, refusing past the bound.
fn count_shared_strings(reader: &mut impl Read, limits: &ReadLimits) -> Result<(), DocumentError> {
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(reader));
    let mut buf = Vec::new();
    let mut count: u64 = 0;
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == "si" => {
                count += 1;
                if count > limits.max_shared_strings {
                    return Err(DocumentError::TooLarge(TooLarge::at_least(
                        Limit::SharedStrings,
                        limits.max_shared_strings,
                        count,
                    )));
                }
            }
            Ok(Event::Eof) => return Ok(()),
            Ok(_) => {}
            // A malformed table is the spreadsheet reader's to report; here only the count matters.
            Err(_) => return Ok(()),
        }
    }
}

fn corrupt(err: impl std::fmt::Display) -> DocumentError {
    DocumentError::Spreadsheet(format!("文件已损坏或不是 Excel 格式（{err}）"))
}

/// A reader that counts the bytes read through it.
struct Counting<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count = self.count.saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
        Ok(n)
    }
}
