//! The collection's zstd dictionary, `archives/COLL/zstd-dictionary` (a raw zstd dictionary,
//! as `zstd -D` takes it): what crawls run with `--zstd-dictionary` compress their records
//! with. It is trained once, from the text records already in the collection's WARCs, and
//! written once (create-new, never replaced): every WARC file written with it carries its own
//! copy in its dictionary frame, so nothing depends on this file staying, yet crawls that share
//! it compress alike. With too few text records to train on, a crawl writes without one and a
//! later crawl trains it.

use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Collection, CollectionError, io_err};
use crate::content::is_text;
use crate::warc::dictionary::train;
use crate::warc::reader::http_header_field;
use crate::warc::{Header, ReadError, RecordType, WarcReader, ZstdDictionary};

/// Fewest text records a dictionary is trained on: zstd's trainer needs several samples to
/// tell what they share (it fails on fewer than about ten), and one learnt from a handful of
/// pages fits those pages only.
pub const MIN_SAMPLES: usize = 20;

/// The dictionary's size: zstd's own default (`zstd --train`, 112 KiB). On the seed post's
/// captures and the crawl benchmark's site (`scripts/bench-dictionary`), 64 KiB compressed
/// the text records to nearly the same size and 256 KiB gained under 2%, while every WARC file
/// carries the dictionary (compressed, about a third of it) in its frame.
pub const DICTIONARY_SIZE: usize = 112 << 10;

/// Samples read, newest files first: about 100 times the dictionary, the total zstd's trainer
/// is documented to want; more costs training time for little. Each sample is cut at
/// [`MAX_SAMPLE`]: a dictionary helps a record's first kilobytes most (its headers and the
/// page template), and one long page would crowd out many short ones.
const SAMPLE_BUDGET: usize = 100 * DICTIONARY_SIZE;
const MAX_SAMPLE: usize = 64 << 10;

/// The name of the dictionary in the collection's folder.
pub(super) const DICTIONARY: &str = "zstd-dictionary";

/// What a crawl with `--zstd-dictionary` compresses with, and how it came to.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum DictionaryUse {
    /// The collection's dictionary, trained by an earlier crawl.
    Kept { path: PathBuf, id: u32 },
    /// Trained now, from the collection's text records, and written for the crawls to come.
    Trained {
        path: PathBuf,
        id: u32,
        samples: usize,
        /// Reading the samples and training took this long, before the crawl.
        seconds: f64,
    },
    /// Too few text records to train on yet: this crawl is written without a dictionary.
    TooFewSamples { samples: usize, needed: usize },
}

impl fmt::Display for DictionaryUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DictionaryUse::Kept { path, id } => write!(
                f,
                "records compressed with zstd dictionary {id} ({})",
                path.display()
            ),
            DictionaryUse::Trained {
                path,
                id,
                samples,
                seconds,
            } => write!(
                f,
                "zstd dictionary {id} trained on {samples} text records in {seconds:.1} s and \
                 written to {}; records compressed with it",
                path.display()
            ),
            DictionaryUse::TooFewSamples { samples, needed } => write!(
                f,
                "no zstd dictionary yet: the collection holds {samples} text records, {needed} \
                 are needed to train one; this crawl is written without, a later one trains it"
            ),
        }
    }
}

impl Collection {
    pub fn zstd_dictionary_path(&self) -> PathBuf {
        self.dir.join(DICTIONARY)
    }

    /// The dictionary a crawl compresses with: the collection's, or one trained now from its
    /// text records and written (never over one another process wrote meanwhile: that one is
    /// used instead), or none while the collection holds too few text records.
    pub fn zstd_dictionary(
        &self,
    ) -> Result<(Option<ZstdDictionary>, DictionaryUse), CollectionError> {
        let path = self.zstd_dictionary_path();
        if let Some(dictionary) = read_dictionary(&path)? {
            let id = dictionary.id();
            return Ok((Some(dictionary), DictionaryUse::Kept { path, id }));
        }
        let started = std::time::Instant::now();
        let samples = text_samples(&self.warc_files()?);
        if samples.len() < MIN_SAMPLES {
            let samples = samples.len();
            let needed = MIN_SAMPLES;
            return Ok((None, DictionaryUse::TooFewSamples { samples, needed }));
        }
        let trained = train(&samples, DICTIONARY_SIZE).map_err(|source| {
            let path = path.clone();
            CollectionError::Dictionary { path, source }
        })?;
        // Another crawl may have written one meanwhile: that one is the collection's.
        let dictionary = if write_new(&path, &trained)? {
            trained
        } else {
            read_dictionary(&path)?.unwrap_or(trained)
        };
        let used = DictionaryUse::Trained {
            id: dictionary.id(),
            samples: samples.len(),
            seconds: started.elapsed().as_secs_f64(),
            path,
        };
        Ok((Some(dictionary), used))
    }
}

/// The dictionary at `path`, if there is one; one that is not a usable dictionary is an error.
fn read_dictionary(path: &Path) -> Result<Option<ZstdDictionary>, CollectionError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(path)(e)),
    };
    let dictionary = ZstdDictionary::new(bytes).map_err(|source| CollectionError::Dictionary {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Some(dictionary))
}

/// Writes the dictionary as a new file: whole (written beside, synced, then linked in) and
/// never over one that exists. Returns false when one did (another crawl trained it first).
fn write_new(path: &Path, dictionary: &ZstdDictionary) -> Result<bool, CollectionError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".zstd-dictionary-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .tempfile_in(dir)
        .map_err(io_err(path))?;
    temp.write_all(dictionary.bytes()).map_err(io_err(path))?;
    temp.as_file().sync_all().map_err(io_err(path))?;
    match temp.persist_noclobber(path) {
        Ok(_) => Ok(true),
        Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(io_err(path)(e.error)),
    }
}

/// The text records of `files`, newest file first, as samples to train on: each record as
/// the writer compresses it (WARC header, block, closing line ends), cut at [`MAX_SAMPLE`],
/// until [`SAMPLE_BUDGET`] is read.
pub fn text_samples(files: &[PathBuf]) -> Vec<Vec<u8>> {
    let mut samples = Vec::new();
    let mut total = 0;
    for file in files.iter().rev() {
        // A damaged file gives what reads before the damage: verify and the index report it.
        let _ = file_samples(file, &mut samples, &mut total);
        if total >= SAMPLE_BUDGET {
            break;
        }
    }
    samples
}

fn file_samples(
    path: &Path,
    samples: &mut Vec<Vec<u8>>,
    total: &mut usize,
) -> Result<(), ReadError> {
    let mut reader = WarcReader::open(path)?;
    while let Some(mut record) = reader.next_record()? {
        let mut sample = record.header.to_bytes();
        let header_len = sample.len();
        let offset = record.offset;
        let whole = (&mut record.block())
            .take(MAX_SAMPLE as u64)
            .read_to_end(&mut sample)
            .map_err(|e| ReadError::io(offset, e))?
            == record.header.content_length().unwrap_or(0) as usize;
        if !is_text_record(&record.header, &sample[header_len..]) {
            continue;
        }
        if whole {
            sample.extend_from_slice(b"\r\n\r\n");
        }
        sample.truncate(MAX_SAMPLE);
        *total += sample.len();
        samples.push(sample);
        if *total >= SAMPLE_BUDGET {
            return Ok(());
        }
    }
    Ok(())
}

/// Whether a record is text that a dictionary learns from and helps: requests, revisits,
/// metadata and warcinfo (headers and fields), and responses and resources whose payload is
/// text (see [`is_text`]), given the block or its first bytes.
pub fn is_text_record(header: &Header, block: &[u8]) -> bool {
    match header.record_type() {
        Some(RecordType::Request | RecordType::Revisit | RecordType::Metadata) => true,
        Some(RecordType::Warcinfo) => true,
        Some(RecordType::Response | RecordType::Resource) if header.holds_http() => {
            let Some(end) = memchr::memmem::find(block, b"\r\n\r\n") else {
                return false;
            };
            let head = &block[..end + 4];
            let content_type = http_header_field(head, "content-type");
            let encoding = http_header_field(head, "content-encoding");
            is_text(
                content_type.as_deref(),
                encoding.as_deref(),
                &block[end + 4..],
            )
        }
        Some(RecordType::Response | RecordType::Resource) => {
            is_text(header.get("Content-Type"), None, block)
        }
        _ => false,
    }
}
