//! Where a collection's closed WARC files go beyond the machine: `--store s3://BUCKET/PREFIX`,
//! any S3-compatible service (endpoint, region and credentials from the usual `AWS_*`
//! environment variables; `AWS_ALLOW_HTTP=true` for a plain-HTTP endpoint). It owns the
//! bucket's layout, `PREFIX/COLL/warc/FILE` beside `PREFIX/COLL/indexes/FILE.cdxj`, the
//! file's index segment (its CDXJ lines, sorted); uploading each closed file with its segment,
//! never over an object already there; listing and reading the segments back for `cairn
//! index`; and reading single records by range for replay and export, into a sparse local
//! copy of each file that holds only the ranges read, so every reader of local files serves
//! records from the bucket unchanged.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures_util::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::buffered::BufWriter;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use tokio::io::AsyncWriteExt;

use crate::index::{WrittenIndex, index_lines};
use crate::warc::dictionary::{DICT_FRAME_MAGIC, MAX_DICTIONARY};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("--store {0:?}: not an S3 URL (s3://BUCKET[/PREFIX])")]
    NotS3(String),
    #[error("--store {url}: {source}")]
    Config {
        url: String,
        source: object_store::Error,
    },
    #[error("{url}: {source}")]
    Bucket {
        url: String,
        source: object_store::Error,
    },
    #[error("{}: {source}", path.display())]
    Local { path: PathBuf, source: io::Error },
    #[error("{0} exists with another size: left as it is, the local file not uploaded")]
    Taken(String),
    #[error("{0}")]
    Damaged(String),
    #[error("starting the storage client: {0}")]
    Runtime(io::Error),
}

/// A range of a sparse local file: the file, offset and length.
type Range = (PathBuf, u64, u64);

/// A bucket (and prefix) holding collections.
pub struct Store {
    objects: Arc<dyn ObjectStore>,
    /// `s3://BUCKET/PREFIX`, as given, for messages.
    url: String,
    bucket: String,
    prefix: String,
    /// The client's own runtime: the store is used from threads with no runtime of theirs.
    /// Shut down in the background when the store goes, which may be on a runtime's thread.
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    /// Ranges of the sparse local files, by file, offset and length: each with whether it
    /// was copied in whole, behind a lock of its own, so a reader waits while another copies
    /// the range it needs and finds it missing again if that copy failed.
    fetched: Mutex<HashMap<Range, Arc<Mutex<bool>>>>,
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.url)
    }
}

/// What an upload did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct UploadReport {
    /// Files uploaded now, with their segments, by key.
    pub uploaded: Vec<String>,
    /// Files the bucket had already.
    pub present: usize,
    /// Files whose name the bucket holds with other contents: left as they are there.
    pub refused: Vec<String>,
}

impl Store {
    pub fn open(url: &str) -> Result<Store, StoreError> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| StoreError::NotS3(url.to_string()))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(StoreError::NotS3(url.to_string()));
        }
        // The one crypto library of the build, as for fetching.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let objects = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()
            .map_err(|source| StoreError::Config {
                url: url.to_string(),
                source,
            })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("cairn-store")
            .enable_all()
            .build()
            .map_err(StoreError::Runtime)?;
        Ok(Store {
            objects: Arc::new(objects),
            url: url.trim_end_matches('/').to_string(),
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
            fetched: Mutex::new(HashMap::new()),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// `PREFIX/COLL/FOLDER/NAME`; a prefix of several levels stays several levels.
    fn key(&self, collection: &str, folder: &str, name: &str) -> Key {
        let key = Key::from(self.prefix.as_str())
            .join(collection)
            .join(folder);
        if name.is_empty() { key } else { key.join(name) }
    }

    /// An object's address, for messages: `s3://BUCKET/KEY`.
    fn address(&self, key: &Key) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    fn bucket_error(&self, source: object_store::Error) -> StoreError {
        StoreError::Bucket {
            url: self.url.clone(),
            source,
        }
    }

    /// Runs a request to the bucket to its end on the store's runtime, from any thread.
    fn block_on<T: Send>(&self, work: impl Future<Output = T> + Send) -> T {
        let handle = &self.handle;
        std::thread::scope(|scope| {
            scope
                .spawn(|| handle.block_on(work))
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    /// Uploads every closed WARC file in `files` the bucket lacks, its index segment after
    /// it (so a segment always names a file that is there; the lines of files in `written`
    /// taken from there, not read back). A file already in the bucket
    /// with the same size is taken as uploaded (its segment sent if it is missing); with
    /// another size it is left as it is, named in the report, and the others go on.
    pub fn upload(
        &self,
        collection: &str,
        files: &[PathBuf],
        written: &WrittenIndex,
    ) -> Result<UploadReport, StoreError> {
        let mut report = UploadReport::default();
        for path in files {
            let name = file_name(path);
            let key = self.key(collection, "warc", &name);
            let segment_key = self.key(collection, "indexes", &format!("{name}.cdxj"));
            let size = fs::metadata(path).map_err(local_path(path))?.len();
            match self.size_of(&key)? {
                Some(there) if there == size => {
                    report.present += 1;
                    if self.size_of(&segment_key)?.is_none() {
                        self.put_segment(&segment_key, path, written)?;
                    }
                }
                Some(_) => {
                    let taken = StoreError::Taken(self.address(&key));
                    tracing::warn!("{taken}");
                    report.refused.push(self.address(&key));
                }
                None => {
                    self.put_file(&key, path)?;
                    self.put_segment(&segment_key, path, written)?;
                    tracing::info!(file = %path.display(), key = %key, "uploaded");
                    report.uploaded.push(key.to_string());
                }
            }
        }
        Ok(report)
    }

    /// An object's size, or `None` if the bucket has no such object.
    fn size_of(&self, key: &Key) -> Result<Option<u64>, StoreError> {
        match self.block_on(self.objects.head(key)) {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.bucket_error(e)),
        }
    }

    fn put_segment(
        &self,
        key: &Key,
        file: &Path,
        written: &WrittenIndex,
    ) -> Result<(), StoreError> {
        let segment = segment_of(file, written);
        self.block_on(self.objects.put(key, PutPayload::from(segment)))
            .map_err(|e| self.bucket_error(e))?;
        Ok(())
    }

    /// Streams a file into the bucket, in parts when it is large; a multipart upload that
    /// fails is aborted, leaving no parts behind.
    fn put_file(&self, key: &Key, path: &Path) -> Result<(), StoreError> {
        let mut file = File::open(path).map_err(local_path(path))?;
        self.block_on(async {
            let mut upload = BufWriter::new(self.objects.clone(), key.clone());
            let mut buffer = vec![0u8; 1 << 20];
            let sent = async {
                loop {
                    let n = file.read(&mut buffer)?;
                    if n == 0 {
                        break;
                    }
                    upload.write_all(&buffer[..n]).await?;
                }
                upload.shutdown().await
            }
            .await;
            if sent.is_err() {
                let _ = upload.abort().await;
            }
            sent.map_err(local_path(path))
        })
    }

    /// The index segments of a collection's files in the bucket: each file's name and its
    /// CDXJ lines.
    pub fn segments(&self, collection: &str) -> Result<Vec<(String, String)>, StoreError> {
        let prefix = self.key(collection, "indexes", "");
        self.block_on(async {
            let listed: Vec<_> = self
                .objects
                .list(Some(&prefix))
                .try_collect()
                .await
                .map_err(|e| self.bucket_error(e))?;
            let mut segments = Vec::new();
            for meta in listed {
                let Some(file) = meta
                    .location
                    .filename()
                    .and_then(|n| n.strip_suffix(".cdxj"))
                else {
                    continue;
                };
                let file = file.to_string();
                let got = self.objects.get(&meta.location).await;
                let bytes = match got {
                    Ok(got) => got.bytes().await,
                    Err(e) => Err(e),
                }
                .map_err(|e| self.bucket_error(e))?;
                segments.push((file, String::from_utf8_lossy(&bytes).into_owned()));
            }
            Ok(segments)
        })
    }

    /// A local file that holds, at their offsets, the bytes of the record `[offset, offset +
    /// length)` of the bucket's `file` and the file's first bytes (where a reader sniffs the
    /// compression, and a zstd dictionary lies): a sparse copy in `cache`, each range read
    /// from the bucket once per process.
    pub fn record_file(
        &self,
        collection: &str,
        file: &str,
        offset: u64,
        length: u64,
        cache: &Path,
    ) -> Result<PathBuf, StoreError> {
        let path = cache.join(file);
        let key = self.key(collection, "warc", file);
        fs::create_dir_all(cache).map_err(local_path(cache))?;
        let local = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(local_path(&path))?;
        self.copy_once(&path, (0, 8), || {
            let head = self.range(&key, 0, 8)?;
            let frame = self.skippable_frame(&key, &head)?;
            local.write_all_at(&head, 0).map_err(local_path(&path))?;
            local.write_all_at(&frame, 8).map_err(local_path(&path))
        })?;
        if length > 0 {
            self.copy_once(&path, (offset, length), || {
                let bytes = self.range(&key, offset, length)?;
                local
                    .write_all_at(&bytes, offset)
                    .map_err(local_path(&path))
            })?;
        }
        Ok(path)
    }

    /// Copies a range into a sparse file unless it was copied whole already; a reader of
    /// the same range waits meanwhile, and a copy that failed is tried again next time.
    fn copy_once(
        &self,
        path: &Path,
        (offset, length): (u64, u64),
        copy: impl FnOnce() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let entry = match self.fetched.lock() {
            Ok(mut ranges) => ranges
                .entry((path.to_path_buf(), offset, length))
                .or_default()
                .clone(),
            Err(_) => Arc::new(Mutex::new(false)),
        };
        let mut copied = entry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !*copied {
            copy()?;
            *copied = true;
        }
        Ok(())
    }

    /// The rest of the warc-zstd dictionary frame the file starts with, if it does.
    fn skippable_frame(&self, key: &Key, head: &[u8]) -> Result<Vec<u8>, StoreError> {
        let word = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        if head.len() < 8 || word(head) != DICT_FRAME_MAGIC {
            return Ok(Vec::new());
        }
        let size = u64::from(word(&head[4..]));
        // The same bound the WARC reader holds a file's dictionary to.
        if size > MAX_DICTIONARY as u64 {
            return Err(StoreError::Damaged(format!(
                "{}: a dictionary frame of {size} bytes",
                self.address(key)
            )));
        }
        self.range(key, 8, size)
    }

    fn range(&self, key: &Key, offset: u64, length: u64) -> Result<Vec<u8>, StoreError> {
        let end = offset.checked_add(length).ok_or_else(|| {
            StoreError::Damaged(format!(
                "{}: no record at {offset}+{length}",
                self.address(key)
            ))
        })?;
        let bytes = self
            .block_on(self.objects.get_range(key, offset..end))
            .map_err(|e| StoreError::Bucket {
                url: self.address(key),
                source: e,
            })?;
        Ok(bytes.to_vec())
    }
}

/// A WARC file's index segment: its CDXJ lines, sorted; taken from what the crawl's writer
/// indexed as it wrote (`written`) when it holds them, else read from the file.
fn segment_of(path: &Path, written: &WrittenIndex) -> Vec<u8> {
    let lines = index_lines(&[path.to_path_buf()], written).lines;
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    text.into_bytes()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn local_path(path: &Path) -> impl Fn(io::Error) -> StoreError + '_ {
    move |source| StoreError::Local {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_every_level_of_the_prefix_and_urls_are_checked() {
        let store = Store::open("s3://bucket/archive/2024/").unwrap();
        let key = store.key("news", "warc", "news-1.warc.zst");
        assert_eq!(key.as_ref(), "archive/2024/news/warc/news-1.warc.zst");
        assert_eq!(
            store.address(&key),
            "s3://bucket/archive/2024/news/warc/news-1.warc.zst"
        );
        let bare = Store::open("s3://bucket").unwrap();
        assert_eq!(bare.key("c", "indexes", "").as_ref(), "c/indexes");
        for bad in ["http://bucket/x", "s3://", "s3:///x", "bucket"] {
            let refused = Store::open(bad).unwrap_err().to_string();
            assert!(refused.contains("not an S3 URL"), "{bad}: {refused}");
        }
    }
}
