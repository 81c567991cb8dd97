//! Where the bytes of an open resumable upload wait until its last chunk.
//!
//! With files on local disk, one server holds the deployment's files, so the bytes wait in one
//! staged file, `<data_dir>/evidence/uploads/<upload id>`, whose length is the offset a client
//! resumes from. With object storage, the servers of a deployment share nothing but the database
//! and the store, and a phone's next chunk may reach another server: each chunk waits as its own
//! object, `evidence/uploads/<upload id>/<offset, 20 digits>`, and the bytes received are those of
//! the parts that follow each other from offset 0. The last chunk gathers the parts into a local
//! staged file, which is hashed and placed as before.

use std::io::SeekFrom;

use tokio::io::{AsyncSeekExt, AsyncWriteExt};

use crate::files::STAGING;
use crate::{Result, Services};

use super::{io_error, staged_path, uploads_dir};

fn parts_dir(upload_id: &str) -> String {
    format!("{STAGING}/{upload_id}")
}

/// The parts of an upload in the store, in offset order, as `(key, offset, size)`.
async fn parts(s: &Services, upload_id: &str) -> Result<Vec<(String, u64, u64)>> {
    let dir = parts_dir(upload_id);
    let listed = s.files().list_under(&dir).await?;
    Ok(listed
        .into_iter()
        .filter_map(|(key, size)| {
            let offset = key.strip_prefix(&dir)?.strip_prefix('/')?.parse::<u64>().ok()?;
            Some((key, offset, size))
        })
        .collect())
}

/// The bytes received so far: the offset the next chunk must start at.
pub(super) async fn received(s: &Services, upload_id: &str) -> Result<u64> {
    if s.files().is_local() {
        return match tokio::fs::metadata(staged_path(s, upload_id)).await {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(io_error(e)),
        };
    }
    let mut next = 0;
    for (_, offset, size) in parts(s, upload_id).await? {
        if offset == next {
            next += size;
        } else if offset > next {
            break;
        }
    }
    Ok(next)
}

/// Keep `chunk`, which starts at `offset` (the bytes received so far), durably.
pub(super) async fn keep(s: &Services, upload_id: &str, offset: u64, chunk: &[u8]) -> Result<()> {
    if !s.files().is_local() {
        return s.files().put_staged(&format!("{}/{offset:020}", parts_dir(upload_id)), chunk.to_vec()).await;
    }
    tokio::fs::create_dir_all(uploads_dir(s)).await.map_err(io_error)?;
    let mut f = tokio::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(staged_path(s, upload_id))
        .await
        .map_err(io_error)?;
    f.seek(SeekFrom::Start(offset)).await.map_err(io_error)?;
    f.write_all(chunk).await.map_err(io_error)?;
    // The length of the staged file is the offset a client resumes from: make it durable.
    f.sync_data().await.map_err(io_error)
}

/// The whole upload as the local staged file (gathered from its parts in the store, in order).
pub(super) async fn gather(s: &Services, upload_id: &str) -> Result<std::path::PathBuf> {
    let path = staged_path(s, upload_id);
    if s.files().is_local() {
        return Ok(path);
    }
    tokio::fs::create_dir_all(uploads_dir(s)).await.map_err(io_error)?;
    let mut f = tokio::fs::File::create(&path).await.map_err(io_error)?;
    let mut next = 0;
    for (key, offset, size) in parts(s, upload_id).await? {
        if offset != next {
            continue;
        }
        let mut stream = s.files().stream(&key, None).await?;
        while let Some(block) = futures::StreamExt::next(&mut stream).await {
            f.write_all(&block.map_err(io_error)?).await.map_err(io_error)?;
        }
        next += size;
    }
    f.sync_data().await.map_err(io_error)?;
    Ok(path)
}

/// Drop an upload's waiting bytes (it is finished or rejected).
pub(super) async fn discard(s: &Services, upload_id: &str) {
    let _ = tokio::fs::remove_file(staged_path(s, upload_id)).await;
    if !s.files().is_local()
        && let Ok(parts) = parts(s, upload_id).await
    {
        for (key, ..) in parts {
            let _ = s.files().delete_staged(&key).await;
        }
    }
}
