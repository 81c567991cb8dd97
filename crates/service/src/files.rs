//! The file store (issue 17): every stored file — evidence photos and videos, receipt and seal
//! photos, proof documents, issued PDFs — is kept under a key such as `evidence/ab/<sha256>` or
//! `reports/<name>.pdf`, either in a local folder (`<data_dir>/<key>`, the layout of earlier
//! versions, so nothing moves) or in S3-compatible object storage (`s3://bucket/prefix/<key>`).
//!
//! A stored file is never replaced: placing a key that exists leaves it as it is (keys are content
//! addresses or fresh names, so equal keys mean equal bytes; DESIGN.md rule 7). Staging — the bytes
//! of a resumable upload so far — is in the staging folder `evidence/uploads` of the same store
//! (see `evidence::staging`); it is never listed as a stored file.
//!
//! The local backend is plain `tokio::fs` (a hard link places a file atomically and never over
//! another); the S3 backend is `object_store`'s, with a multipart upload for large files.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::{Result, ServiceError};

/// A file's bytes as they are read, in blocks.
pub type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

/// The largest file read whole into memory (photos, proof documents, PDFs); videos are streamed.
pub const MAX_READ_BYTES: u64 = 64 * 1024 * 1024;

/// Files at least this large go to object storage as a multipart upload, in parts of this size.
const PART_BYTES: usize = 8 * 1024 * 1024;

/// Block size of local reads.
const BLOCK_BYTES: usize = 256 * 1024;

/// Where a deployment keeps its files.
#[derive(Clone)]
pub struct FileStore {
    backend: Arc<Backend>,
}

enum Backend {
    Local { root: PathBuf },
    S3 { store: AmazonS3, prefix: String, url: String },
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Object storage as configured (`[files]`, `--files-url`); what is not given here comes from the
/// usual `AWS_*` environment variables (`AWS_ENDPOINT`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_ALLOW_HTTP`…).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct S3Config {
    /// `s3://bucket` or `s3://bucket/prefix`.
    pub url: String,
    /// The S3-compatible server, e.g. `https://oss.example.gov.cn` (none: AWS itself).
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    /// Secret: never shown.
    pub secret_access_key: Option<String>,
    /// Allow a plain `http://` endpoint (a server on the same machine or network).
    pub allow_http: bool,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("url", &self.url)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key.as_ref().map(|_| "***"))
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

/// Splits `s3://bucket/prefix` into the bucket and the prefix (without slashes at either end);
/// `None` when it is not such a URL.
pub fn parse_s3_url(url: &str) -> Option<(String, String)> {
    let rest = url.trim().strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let valid_bucket = (3..=63).contains(&bucket.len())
        && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    let prefix = prefix.trim_matches('/');
    let valid_prefix = prefix.split('/').all(|s| s.is_empty() || is_segment(s)) && !prefix.contains("//");
    (valid_bucket && valid_prefix).then(|| (bucket.to_string(), prefix.to_string()))
}

/// A key segment: letters, digits, `.`, `_`, `-`, not starting with a dot (no `..`, no hidden files).
fn is_segment(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn check_key(key: &str) -> Result<()> {
    if !key.is_empty() && key.split('/').all(is_segment) {
        Ok(())
    } else {
        Err(ServiceError::internal(format!("invalid file key {key:?}")))
    }
}

fn io_error(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::internal(format!("file store: {e}"))
}

/// The folders of the local backend that hold stored files (the data folder holds other things).
const LOCAL_FOLDERS: [&str; 2] = ["evidence", "reports"];

/// The staging folder of resumable uploads, under `evidence/` in the local layout: never listed.
pub const STAGING: &str = "evidence/uploads";

impl FileStore {
    /// Files under the local folder `root` (the data folder).
    pub fn local(root: PathBuf) -> Self {
        FileStore { backend: Arc::new(Backend::Local { root }) }
    }

    /// Files in S3-compatible object storage. Fails (in Chinese) on a malformed URL or settings;
    /// whether the bucket answers is checked by [`FileStore::check`].
    pub fn s3(c: &S3Config) -> std::result::Result<Self, String> {
        let Some((bucket, prefix)) = parse_s3_url(&c.url) else {
            return Err(format!(
                "对象存储地址“{}”无效：应为 s3://存储桶 或 s3://存储桶/前缀（存储桶名为3至63个小写字母、数字、“-”或“.”）",
                c.url
            ));
        };
        // reqwest is built without a default TLS provider: ring, as for `serve --tls-cert`.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = AmazonS3Builder::from_env().with_bucket_name(&bucket);
        if let Some(e) = &c.endpoint {
            b = b.with_endpoint(e).with_virtual_hosted_style_request(false);
        }
        if let Some(r) = &c.region {
            b = b.with_region(r);
        }
        if let Some(k) = &c.access_key_id {
            b = b.with_access_key_id(k);
        }
        if let Some(k) = &c.secret_access_key {
            b = b.with_secret_access_key(k);
        }
        if c.allow_http {
            b = b.with_allow_http(true);
        }
        let store = b.build().map_err(|e| format!("对象存储配置有误：{e}"))?;
        let url = if prefix.is_empty() { format!("s3://{bucket}") } else { format!("s3://{bucket}/{prefix}") };
        Ok(FileStore { backend: Arc::new(Backend::S3 { store, prefix, url }) })
    }

    /// Where the files are, for people: a folder or an `s3://` URL.
    pub fn describe(&self) -> String {
        match &*self.backend {
            Backend::Local { root } => root.display().to_string(),
            Backend::S3 { url, .. } => url.clone(),
        }
    }

    /// Whether the files are in a local folder.
    pub fn is_local(&self) -> bool {
        matches!(&*self.backend, Backend::Local { .. })
    }

    /// The local file of `key` (local backend only): for tests and an administrator's checks.
    pub fn local_path(&self, key: &str) -> Option<PathBuf> {
        match &*self.backend {
            Backend::Local { root } if check_key(key).is_ok() => Some(root.join(key)),
            _ => None,
        }
    }

    fn object(prefix: &str, key: &str) -> ObjectPath {
        if prefix.is_empty() { ObjectPath::from(key) } else { ObjectPath::from(format!("{prefix}/{key}")) }
    }

    /// The store answers: the folder can be created, or the bucket can be listed.
    pub async fn check(&self) -> Result<()> {
        match &*self.backend {
            Backend::Local { root } => tokio::fs::create_dir_all(root.join(STAGING)).await.map_err(io_error),
            Backend::S3 { store, prefix, .. } => {
                let p = if prefix.is_empty() { None } else { Some(ObjectPath::from(prefix.as_str())) };
                store.list_with_delimiter(p.as_ref()).await.map(|_| ()).map_err(io_error)
            }
        }
    }

    /// Place the finished local file `staged` at `key`. An existing file stays as it is.
    pub async fn put_file(&self, key: &str, staged: &Path) -> Result<()> {
        check_key(key)?;
        match &*self.backend {
            // A staged file of this store (under its folder) is linked in place; any other file
            // (a backup being restored) is copied first, so the stored file never shares its
            // bytes with a file outside the store.
            Backend::Local { root } if staged.starts_with(root) => place_local(&root.join(key), staged).await,
            Backend::Local { root } => {
                let dest = root.join(key);
                if tokio::fs::try_exists(&dest).await.map_err(io_error)? {
                    return Ok(());
                }
                let dir = dest.parent().ok_or_else(|| io_error("no parent folder"))?;
                tokio::fs::create_dir_all(dir).await.map_err(io_error)?;
                let tmp = dir.join(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
                let result = async {
                    tokio::fs::copy(staged, &tmp).await.map_err(io_error)?;
                    tokio::fs::File::open(&tmp).await.map_err(io_error)?.sync_all().await.map_err(io_error)?;
                    place_local(&dest, &tmp).await
                }
                .await;
                let _ = tokio::fs::remove_file(&tmp).await;
                result
            }
            Backend::S3 { store, prefix, .. } => {
                let location = Self::object(prefix, key);
                if exists_s3(store, &location).await? {
                    return Ok(());
                }
                let mut f = tokio::fs::File::open(staged).await.map_err(io_error)?;
                let size = f.metadata().await.map_err(io_error)?.len();
                if size < PART_BYTES as u64 {
                    let mut buf = Vec::with_capacity(size as usize);
                    f.read_to_end(&mut buf).await.map_err(io_error)?;
                    store.put(&location, PutPayload::from(buf)).await.map_err(io_error)?;
                    return Ok(());
                }
                let upload = store.put_multipart(&location).await.map_err(io_error)?;
                let mut w = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
                let mut buf = vec![0u8; 1024 * 1024];
                let sent: Result<()> = async {
                    loop {
                        let n = f.read(&mut buf).await.map_err(io_error)?;
                        if n == 0 {
                            return Ok(());
                        }
                        w.wait_for_capacity(4).await.map_err(io_error)?;
                        w.write(&buf[..n]);
                    }
                }
                .await;
                match sent {
                    Ok(()) => w.finish().await.map(|_| ()).map_err(io_error),
                    Err(e) => {
                        let _ = w.abort().await;
                        Err(e)
                    }
                }
            }
        }
    }

    /// Store `bytes` at `key`. An existing file stays as it is.
    pub async fn put_bytes(&self, key: &str, bytes: Vec<u8>) -> Result<()> {
        check_key(key)?;
        match &*self.backend {
            Backend::Local { root } => {
                let dest = root.join(key);
                let dir = dest.parent().ok_or_else(|| io_error("no parent folder"))?;
                tokio::fs::create_dir_all(dir).await.map_err(io_error)?;
                let tmp = dir.join(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
                let result = async {
                    tokio::fs::write(&tmp, &bytes).await.map_err(io_error)?;
                    let f = tokio::fs::File::open(&tmp).await.map_err(io_error)?;
                    f.sync_all().await.map_err(io_error)?;
                    place_local(&dest, &tmp).await
                }
                .await;
                let _ = tokio::fs::remove_file(&tmp).await;
                result
            }
            Backend::S3 { store, prefix, .. } => {
                let location = Self::object(prefix, key);
                if exists_s3(store, &location).await? {
                    return Ok(());
                }
                store.put(&location, PutPayload::from(bytes)).await.map(|_| ()).map_err(io_error)
            }
        }
    }

    /// The size of the file at `key`, or `None` when there is none.
    pub async fn len(&self, key: &str) -> Result<Option<u64>> {
        check_key(key)?;
        match &*self.backend {
            Backend::Local { root } => match tokio::fs::metadata(root.join(key)).await {
                Ok(m) if m.is_file() => Ok(Some(m.len())),
                Ok(_) => Ok(None),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(io_error(e)),
            },
            Backend::S3 { store, prefix, .. } => match store.head(&Self::object(prefix, key)).await {
                Ok(m) => Ok(Some(m.size)),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(io_error(e)),
            },
        }
    }

    /// Whether a file is stored at `key`.
    pub async fn exists(&self, key: &str) -> Result<bool> {
        Ok(self.len(key).await?.is_some())
    }

    /// The whole file at `key`, refused above [`MAX_READ_BYTES`] (stream large files with
    /// [`FileStore::stream`]).
    pub async fn get(&self, key: &str) -> Result<Vec<u8>> {
        let len = self.len(key).await?.ok_or_else(|| io_error(format!("file {key} missing")))?;
        if len > MAX_READ_BYTES {
            return Err(io_error(format!("file {key} is {len} bytes, above the whole-read limit")));
        }
        match &*self.backend {
            Backend::Local { root } => tokio::fs::read(root.join(key)).await.map_err(io_error),
            Backend::S3 { store, prefix, .. } => {
                let r = store.get(&Self::object(prefix, key)).await.map_err(io_error)?;
                Ok(r.bytes().await.map_err(io_error)?.to_vec())
            }
        }
    }

    /// The bytes `range` (the whole file when `None`) of the file at `key`, as a stream. The range
    /// must lie within the file.
    pub async fn stream(&self, key: &str, range: Option<Range<u64>>) -> Result<ByteStream> {
        check_key(key)?;
        match &*self.backend {
            Backend::Local { root } => {
                let mut f = tokio::fs::File::open(root.join(key)).await.map_err(io_error)?;
                let len = f.metadata().await.map_err(io_error)?.len();
                let r = range.unwrap_or(0..len);
                f.seek(std::io::SeekFrom::Start(r.start)).await.map_err(io_error)?;
                let left = r.end.saturating_sub(r.start);
                let s = futures::stream::try_unfold((f, left), |(mut f, left)| async move {
                    if left == 0 {
                        return Ok(None);
                    }
                    let mut buf = vec![0u8; BLOCK_BYTES.min(left as usize)];
                    let n = f.read(&mut buf).await?;
                    if n == 0 {
                        return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
                    }
                    buf.truncate(n);
                    Ok(Some((Bytes::from(buf), (f, left - n as u64))))
                });
                Ok(s.boxed())
            }
            Backend::S3 { store, prefix, .. } => {
                let opts = GetOptions { range: range.map(GetRange::Bounded), ..Default::default() };
                let r = store.get_opts(&Self::object(prefix, key), opts).await.map_err(io_error)?;
                Ok(r.into_stream().map_err(std::io::Error::other).boxed())
            }
        }
    }

    /// The files under the folder `dir` (staging included) as `(key, size)`, sorted by key.
    pub async fn list_under(&self, dir: &str) -> Result<Vec<(String, u64)>> {
        check_key(dir)?;
        let mut out = match &*self.backend {
            Backend::Local { root } => local_list(root, vec![root.join(dir)]).await?,
            Backend::S3 { store, prefix, .. } => s3_list(store, prefix, Some(dir)).await?,
        };
        out.sort();
        Ok(out)
    }

    /// Store `bytes` at `key` in the staging folder, replacing what is there: a part of a
    /// resumable upload, sent again after a failure. Stored files go through `put_*`.
    pub async fn put_staged(&self, key: &str, bytes: Vec<u8>) -> Result<()> {
        check_staged(key)?;
        match &*self.backend {
            Backend::Local { root } => {
                let dest = root.join(key);
                tokio::fs::create_dir_all(dest.parent().ok_or_else(|| io_error("no parent folder"))?)
                    .await
                    .map_err(io_error)?;
                tokio::fs::write(&dest, &bytes).await.map_err(io_error)
            }
            Backend::S3 { store, prefix, .. } => {
                store.put(&Self::object(prefix, key), PutPayload::from(bytes)).await.map(|_| ()).map_err(io_error)
            }
        }
    }

    /// Remove the staged `key` (a part of a finished or rejected upload); a missing one is no error.
    pub async fn delete_staged(&self, key: &str) -> Result<()> {
        check_staged(key)?;
        match &*self.backend {
            Backend::Local { root } => match tokio::fs::remove_file(root.join(key)).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_error(e)),
                _ => Ok(()),
            },
            Backend::S3 { store, prefix, .. } => match store.delete(&Self::object(prefix, key)).await {
                Err(e) if !matches!(e, object_store::Error::NotFound { .. }) => Err(io_error(e)),
                _ => Ok(()),
            },
        }
    }

    /// Every stored file as `(key, size)`, sorted by key; staged uploads are not stored files.
    pub async fn list(&self) -> Result<Vec<(String, u64)>> {
        let mut out = match &*self.backend {
            Backend::Local { root } => local_list(root, LOCAL_FOLDERS.iter().map(|f| root.join(f)).collect()).await?,
            Backend::S3 { store, prefix, .. } => s3_list(store, prefix, None).await?,
        };
        out.retain(|(k, _)| !k.starts_with(&format!("{STAGING}/")));
        out.sort();
        Ok(out)
    }
}

/// The files under the local folders `dirs` of `root`, keyed relative to `root`.
async fn local_list(root: &Path, dirs: Vec<PathBuf>) -> Result<Vec<(String, u64)>> {
    let root = root.to_path_buf();
    tokio::task::spawn_blocking(move || -> std::io::Result<Vec<(String, u64)>> {
        let mut out = Vec::new();
        for dir in dirs {
            walk(&root, &dir, &mut out)?;
        }
        Ok(out)
    })
    .await
    .map_err(io_error)?
    .map_err(io_error)
}

/// The objects under `prefix` (and the folder `dir` in it, when given) as `(key, size)`, keyed
/// without the prefix; names that are not keys are left out.
async fn s3_list(store: &AmazonS3, prefix: &str, dir: Option<&str>) -> Result<Vec<(String, u64)>> {
    let under = match dir {
        Some(d) => Some(FileStore::object(prefix, d)),
        None if prefix.is_empty() => None,
        None => Some(ObjectPath::from(prefix)),
    };
    let mut out = Vec::new();
    let mut items = store.list(under.as_ref());
    while let Some(m) = items.next().await {
        let m = m.map_err(io_error)?;
        let full = m.location.to_string();
        let key = if prefix.is_empty() {
            full.as_str()
        } else {
            full.strip_prefix(prefix).and_then(|k| k.strip_prefix('/')).unwrap_or_default()
        };
        if check_key(key).is_ok() {
            out.push((key.to_string(), m.size));
        }
    }
    Ok(out)
}

/// A key in the staging folder: only staged parts are replaced or removed.
fn check_staged(key: &str) -> Result<()> {
    check_key(key)?;
    if key.starts_with(&format!("{STAGING}/")) {
        Ok(())
    } else {
        Err(ServiceError::internal(format!("{key:?} is not a staged file")))
    }
}

/// Stored files under `dir`, keyed relative to `root`; hidden temporary files are skipped.
fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, u64)>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for e in entries {
        let e = e?;
        let path = e.path();
        let t = e.file_type()?;
        if t.is_dir() {
            walk(root, &path, out)?;
        } else if t.is_file()
            && let Ok(rel) = path.strip_prefix(root)
        {
            let key = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            if check_key(&key).is_ok() {
                out.push((key, e.metadata()?.len()));
            }
        }
    }
    Ok(())
}

async fn exists_s3(store: &AmazonS3, location: &ObjectPath) -> Result<bool> {
    match store.head(location).await {
        Ok(_) => Ok(true),
        Err(object_store::Error::NotFound { .. }) => Ok(false),
        Err(e) => Err(io_error(e)),
    }
}

/// A hard link is atomic and never replaces an existing file: if the key is already stored, the
/// stored file stays as it is (rule 7). The placed file is made read-only.
async fn place_local(dest: &Path, staged: &Path) -> Result<()> {
    if let Some(dir) = dest.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(io_error)?;
    }
    match tokio::fs::hard_link(staged, dest).await {
        Ok(()) => {
            let mut perms = tokio::fs::metadata(dest).await.map_err(io_error)?.permissions();
            perms.set_readonly(true);
            tokio::fs::set_permissions(dest, perms).await.map_err(io_error)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io_error(e)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_bucket_and_prefix_from_an_s3_url() {
        assert_eq!(parse_s3_url("s3://choucha-files"), Some(("choucha-files".into(), String::new())));
        assert_eq!(parse_s3_url("s3://choucha/prov/33/"), Some(("choucha".into(), "prov/33".into())));
        for bad in ["s3://", "s3://Upper", "http://bucket/x", "s3://ok-bucket/../x", "s3://ok-bucket/a//b", "s3://ab"] {
            assert_eq!(parse_s3_url(bad), None, "{bad}");
        }
    }

    #[test]
    fn keys_never_leave_the_store() {
        assert!(check_key("evidence/ab/abcdef").is_ok());
        assert!(check_key("reports/1-v1-x.pdf").is_ok());
        for bad in ["", "../x", "evidence/../../etc/passwd", "/abs", "a//b", ".hidden", "a/.tmp-1"] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_secret_key_is_not_shown() {
        let c = S3Config { secret_access_key: Some("hush-hush".into()), ..Default::default() };
        assert!(!format!("{c:?}").contains("hush"));
    }

    #[tokio::test]
    async fn local_files_are_placed_once_listed_and_read_in_ranges() {
        let root = std::env::temp_dir().join(format!("choucha-files-{}", uuid::Uuid::new_v4().simple()));
        let files = FileStore::local(root.clone());
        files.check().await.unwrap();
        files.put_bytes("reports/a.pdf", b"first".to_vec()).await.unwrap();
        files.put_bytes("reports/a.pdf", b"second".to_vec()).await.unwrap();
        assert_eq!(files.get("reports/a.pdf").await.unwrap(), b"first");
        assert_eq!(files.len("reports/a.pdf").await.unwrap(), Some(5));
        assert_eq!(files.len("reports/none.pdf").await.unwrap(), None);
        std::fs::write(root.join(STAGING).join("0123"), b"half").unwrap();
        std::fs::write(root.join("choucha.db"), b"not a stored file").unwrap();
        assert_eq!(files.list().await.unwrap(), vec![("reports/a.pdf".to_string(), 5)]);
        let part: Vec<Bytes> = files.stream("reports/a.pdf", Some(1..4)).await.unwrap().try_collect().await.unwrap();
        assert_eq!(part.concat(), b"irs");
        let mut p = std::fs::metadata(root.join("reports/a.pdf")).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        p.set_readonly(false);
        std::fs::set_permissions(root.join("reports/a.pdf"), p).unwrap();
        let _ = std::fs::remove_dir_all(&root);
    }
}
