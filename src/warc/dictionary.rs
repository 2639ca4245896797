//! zstd dictionaries in WARC files (IIPC "Zstandard Compression for WARC Files", section
//! "Dictionaries"): a file may start with a skippable frame of magic `0x184D2A5D` holding one
//! dictionary, raw or itself zstd-compressed, and then every record frame of the file is
//! compressed with it. Small records gain most: a site's pages share their template, headers and
//! scripts, which a dictionary holds once instead of each frame learning them again.
//!
//! Here: a dictionary, checked ([`ZstdDictionary`]); its frame, written and read; the
//! dictionaries of files read from an offset ([`file_dictionary`]), prepared once for the
//! process, since replay reads one small record at a time; and training one from samples
//! ([`train`]). Which records make good samples is the caller's to say.

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use zstd::dict::DecoderDictionary;
use zstd::stream::raw::Decoder as ZstdDecoder;

/// The warc-zstd dictionary frame: a skippable frame with this magic, first in the file.
pub const DICT_FRAME_MAGIC: u32 = 0x184D_2A5D;
/// zstd dictionary magic (RFC 8878 section 5).
pub const DICT_MAGIC: u32 = 0xEC30_A437;
/// zstd frame magic (RFC 8878 section 3.1.1).
pub const ZSTD_MAGIC: u32 = 0xFD2F_B528;
/// Largest dictionary cairn accepts, raw or compressed; the warc-zstd spec only requires
/// 8 MiB, and anything larger is refused before it is read into memory.
pub const MAX_DICTIONARY: usize = 64 << 20;
/// The dictionary inside a file's frame is compressed at this level: it is done once per
/// writer, and a trained 112 KiB dictionary shrinks to about a third.
const FRAME_LEVEL: i32 = 19;

#[derive(Debug, thiserror::Error)]
pub enum DictionaryError {
    #[error(
        "not a zstd dictionary: it starts with neither the dictionary magic (37 A4 30 EC) nor a \
         zstd frame"
    )]
    NotDictionary,
    #[error("a zstd dictionary of {0} bytes exceeds the {MAX_DICTIONARY}-byte limit")]
    TooLarge(u64),
    #[error("the zstd dictionary names no dictionary ID, which every frame must carry")]
    NoId,
    #[error("the compressed zstd dictionary does not decompress: {0}")]
    Compressed(io::Error),
    #[error("zstd cannot load the dictionary (its entropy tables are damaged)")]
    Damaged,
    #[error("training a zstd dictionary from {samples} samples of {bytes} bytes: {source}")]
    Training {
        samples: usize,
        bytes: usize,
        source: io::Error,
    },
}

impl From<DictionaryError> for io::Error {
    /// A dictionary a file cannot use is damage in that file.
    fn from(err: DictionaryError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, err)
    }
}

/// A zstd dictionary (RFC 8878 section 5) zstd can load, with the ID every frame compressed
/// with it names. Cheap to clone: the bytes are shared.
#[derive(Clone, PartialEq, Eq)]
pub struct ZstdDictionary {
    bytes: Arc<[u8]>,
    id: u32,
}

impl std::fmt::Debug for ZstdDictionary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ZstdDictionary(id {}, {} bytes)",
            self.id,
            self.bytes.len()
        )
    }
}

impl ZstdDictionary {
    /// Checks a raw dictionary: its magic, its size, its ID, and that zstd loads it.
    pub fn new(bytes: Vec<u8>) -> Result<ZstdDictionary, DictionaryError> {
        if bytes.len() > MAX_DICTIONARY {
            return Err(DictionaryError::TooLarge(bytes.len() as u64));
        }
        if bytes.len() < 8 || le32(&bytes) != DICT_MAGIC {
            return Err(DictionaryError::NotDictionary);
        }
        let id = zstd::zstd_safe::get_dict_id_from_dict(&bytes).ok_or(DictionaryError::NoId)?;
        DecoderDictionary::try_copy(&bytes).map_err(|_| DictionaryError::Damaged)?;
        Ok(ZstdDictionary {
            bytes: bytes.into(),
            id: id.get(),
        })
    }

    /// The dictionary from a dictionary frame's payload: raw, or one zstd frame that
    /// decompresses to it (whose content size must be given, and within the limit).
    pub fn from_frame_payload(payload: &[u8]) -> Result<ZstdDictionary, DictionaryError> {
        match payload.get(..4).map(le32) {
            Some(DICT_MAGIC) => ZstdDictionary::new(payload.to_vec()),
            Some(ZSTD_MAGIC) => {
                let size = match zstd::zstd_safe::get_frame_content_size(payload) {
                    Ok(Some(size)) => size,
                    _ => {
                        let missing = io::Error::other("its frame gives no content size");
                        return Err(DictionaryError::Compressed(missing));
                    }
                };
                if size > MAX_DICTIONARY as u64 {
                    return Err(DictionaryError::TooLarge(size));
                }
                let raw = zstd::bulk::decompress(payload, size as usize)
                    .map_err(DictionaryError::Compressed)?;
                ZstdDictionary::new(raw)
            }
            _ => Err(DictionaryError::NotDictionary),
        }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The dictionary ID (RFC 8878 section 5), which each frame compressed with it names.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The dictionary frame a file starts with. The dictionary goes in compressed, as the spec
    /// allows: every WARC file carries its own copy, and a crawl of a few pages writes a file
    /// of a few hundred kilobytes, where a raw 112 KiB dictionary would eat much of what it
    /// saves. FastWARC and cairn read either form; a raw one would only spare readers one
    /// decompression of the dictionary per file.
    pub fn frame(&self) -> io::Result<Vec<u8>> {
        let mut compressor = zstd::bulk::Compressor::new(FRAME_LEVEL)?;
        // The spec asks for both fields in a compressed dictionary.
        compressor.set_parameter(zstd::stream::raw::CParameter::ChecksumFlag(true))?;
        compressor.set_parameter(zstd::stream::raw::CParameter::ContentSizeFlag(true))?;
        let compressed = compressor.compress(&self.bytes)?;
        let len = u32::try_from(compressed.len()).map_err(io::Error::other)?;
        let mut frame = Vec::with_capacity(8 + compressed.len());
        frame.extend_from_slice(&DICT_FRAME_MAGIC.to_le_bytes());
        frame.extend_from_slice(&len.to_le_bytes());
        frame.extend_from_slice(&compressed);
        Ok(frame)
    }
}

pub(crate) fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// Trains a dictionary of at most `max_size` bytes on `samples` (each one a whole record as it
/// is compressed: WARC header, block, closing line ends), with zstd's default trainer
/// (fastCover). zstd needs several samples to find what they share; it fails on too few.
pub fn train(samples: &[Vec<u8>], max_size: usize) -> Result<ZstdDictionary, DictionaryError> {
    let bytes = samples.iter().map(Vec::len).sum();
    let training = |source| DictionaryError::Training {
        samples: samples.len(),
        bytes,
        source,
    };
    let raw = zstd::dict::from_samples(samples, max_size).map_err(training)?;
    ZstdDictionary::new(raw)
}

/// A dictionary ready to decode with: prepared once for the process and shared by every
/// reader of every file that carries it, or (past [`MAX_SHARED`]) one a reader loads for
/// itself.
#[derive(Clone)]
pub enum Decoding {
    Shared(&'static Shared),
    Own(ZstdDictionary),
}

/// A prepared dictionary (libzstd's `ZSTD_DDict`), kept for the life of the process: a
/// decoder refers to it by pointer, so a spare decoder that holds it may outlive any reader,
/// and only a `'static` one can be borrowed that long. Few are ever made (a collection keeps
/// one dictionary for all its files) and at most [`MAX_SHARED`], each within
/// [`MAX_SHARED_SIZE`].
pub struct Shared {
    /// Its place among the shared ones: spare decoders are kept by it.
    pub index: usize,
    dictionary: ZstdDictionary,
    prepared: DecoderDictionary<'static>,
}

const MAX_SHARED: usize = 16;
const MAX_SHARED_SIZE: usize = 1 << 20;

static SHARED: Mutex<Vec<&'static Shared>> = Mutex::new(Vec::new());

impl Decoding {
    /// The shared, prepared form of `dictionary` (the same for the same bytes), or its own
    /// when it is too large to keep or enough are kept already.
    pub fn of(dictionary: &ZstdDictionary) -> Decoding {
        let mut shared = SHARED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(known) = shared.iter().find(|s| &s.dictionary == dictionary) {
            return Decoding::Shared(known);
        }
        let prepared = DecoderDictionary::try_copy(dictionary.bytes());
        match prepared {
            Ok(prepared)
                if shared.len() < MAX_SHARED && dictionary.bytes().len() <= MAX_SHARED_SIZE =>
            {
                let kept: &'static Shared = Box::leak(Box::new(Shared {
                    index: shared.len(),
                    dictionary: dictionary.clone(),
                    prepared,
                }));
                shared.push(kept);
                Decoding::Shared(kept)
            }
            _ => Decoding::Own(dictionary.clone()),
        }
    }

    /// A new decoder with this dictionary.
    pub fn decoder(&self) -> io::Result<ZstdDecoder<'static>> {
        match self {
            Decoding::Shared(shared) => ZstdDecoder::with_prepared_dictionary(&shared.prepared),
            Decoding::Own(dictionary) => ZstdDecoder::with_dictionary(dictionary.bytes()),
        }
    }

    /// Which spare decoders fit this dictionary: the shared one's index; none for one of its
    /// own (its decoder is dropped with its reader).
    pub fn spare_key(&self) -> Option<usize> {
        match self {
            Decoding::Shared(shared) => Some(shared.index),
            Decoding::Own(_) => None,
        }
    }

    pub fn dictionary(&self) -> &ZstdDictionary {
        match self {
            Decoding::Shared(shared) => &shared.dictionary,
            Decoding::Own(dictionary) => dictionary,
        }
    }
}

/// What a reader needs to read a dictionary file from an offset: the dictionary, and where its
/// frame ends (the first record's offset).
#[derive(Clone)]
pub struct FileDictionary {
    pub decoding: Decoding,
    pub frame_end: u64,
}

/// The files whose dictionaries were read lately, by path, inode, modification time and size,
/// so that replay reading record after record of one file reads its dictionary frame once.
/// Small: when full it starts over.
static FILES: Mutex<Vec<(FileKey, FileDictionary)>> = Mutex::new(Vec::new());
const MAX_FILES: usize = 256;

#[derive(Clone, PartialEq, Eq)]
struct FileKey {
    path: PathBuf,
    inode: (u64, u64),
    modified: Option<SystemTime>,
    len: u64,
}

/// The dictionary `file` (opened from `path`) starts with, if it starts with a dictionary
/// frame: read from the file's start (with `pread`, leaving the file's position alone) or
/// taken from the cache. A frame that holds no usable dictionary is an `InvalidData` error.
pub fn file_dictionary(path: &Path, file: &File) -> io::Result<Option<FileDictionary>> {
    let meta = file.metadata()?;
    let key = FileKey {
        path: path.to_path_buf(),
        inode: (meta.dev(), meta.ino()),
        modified: meta.modified().ok(),
        len: meta.len(),
    };
    let cached = lock_files()
        .iter()
        .find(|(k, _)| k == &key)
        .map(|(_, d)| d.clone());
    if cached.is_some() {
        return Ok(cached);
    }
    let Some(found) = read_dictionary_frame(file, meta.len())? else {
        return Ok(None);
    };
    let mut files = lock_files();
    if files.len() >= MAX_FILES {
        files.clear();
    }
    files.push((key, found.clone()));
    Ok(Some(found))
}

fn lock_files() -> std::sync::MutexGuard<'static, Vec<(FileKey, FileDictionary)>> {
    FILES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Reads the dictionary frame at the start of a file of `len` bytes, if there is one.
fn read_dictionary_frame(file: &File, len: u64) -> io::Result<Option<FileDictionary>> {
    let mut head = [0u8; 8];
    if len < 8 {
        return Ok(None);
    }
    file.read_exact_at(&mut head, 0)?;
    if le32(&head) != DICT_FRAME_MAGIC {
        return Ok(None);
    }
    let size = u64::from(le32(&head[4..]));
    if size > MAX_DICTIONARY as u64 {
        return Err(DictionaryError::TooLarge(size).into());
    }
    if 8 + size > len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "file ends inside the zstd dictionary frame",
        ));
    }
    let mut payload = vec![0u8; size as usize];
    file.read_exact_at(&mut payload, 8)?;
    let dictionary = ZstdDictionary::from_frame_payload(&payload)?;
    Ok(Some(FileDictionary {
        decoding: Decoding::of(&dictionary),
        frame_end: 8 + size,
    }))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Records of one small site: alike in their template, different in their text.
    pub(crate) fn site_records(n: usize) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| {
                let words: String = (0..(40 + i * 7 % 50))
                    .map(|w| format!("word{} ", (w * 31 + i * 17) % 97))
                    .collect();
                format!(
                    "WARC/1.1\r\nWARC-Type: response\r\nWARC-Target-URI: https://a.example/{i}\r\n\
                     Content-Type: application/http; msgtype=response\r\n\r\n\
                     HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><head><title>\
                     page {i}</title><link rel=stylesheet href=/site.css></head><body>\
                     <nav><a href=/>home</a> <a href=/news>news</a></nav><p>{words}</p>\
                     </body></html>\r\n\r\n"
                )
                .into_bytes()
            })
            .collect()
    }

    #[test]
    fn a_trained_dictionary_goes_through_its_frame_and_back() {
        let dictionary = train(&site_records(200), 8 << 10).unwrap();
        assert!(
            dictionary.id() >= 32_768,
            "zstd picks IDs the spec suggests"
        );
        let frame = dictionary.frame().unwrap();
        assert_eq!(le32(&frame), DICT_FRAME_MAGIC);
        assert_eq!(le32(&frame[4..]) as usize, frame.len() - 8);
        assert_eq!(le32(&frame[8..]), ZSTD_MAGIC, "compressed inside");
        let back = ZstdDictionary::from_frame_payload(&frame[8..]).unwrap();
        assert_eq!(back, dictionary);
        let raw = ZstdDictionary::from_frame_payload(dictionary.bytes()).unwrap();
        assert_eq!(raw, dictionary);
    }

    #[test]
    fn damaged_or_oversized_dictionaries_are_refused_with_a_reason() {
        let dictionary = train(&site_records(200), 8 << 10).unwrap();
        let mut damaged = dictionary.bytes().to_vec();
        damaged[8..40].fill(0xff);
        let refusals = [
            ZstdDictionary::new(b"not a dictionary at all".to_vec()).unwrap_err(),
            ZstdDictionary::new(damaged).unwrap_err(),
            ZstdDictionary::from_frame_payload(b"\x28\xb5\x2f\xfd\x00").unwrap_err(),
            ZstdDictionary::new(vec![0; MAX_DICTIONARY + 1]).unwrap_err(),
        ];
        let messages: Vec<String> = refusals.iter().map(ToString::to_string).collect();
        assert!(
            messages[0].contains("not a zstd dictionary"),
            "{messages:?}"
        );
        assert!(messages[1].contains("damaged"), "{messages:?}");
        assert!(messages[2].contains("compressed"), "{messages:?}");
        assert!(messages[3].contains("exceeds"), "{messages:?}");
        let few = train(&site_records(2), 8 << 10).unwrap_err();
        assert!(few.to_string().contains("2 samples"), "{few}");
    }

    /// A file written with a dictionary: pages, requests and photos, as a crawl writes them.
    pub(crate) struct Written {
        pub file: PathBuf,
        pub dictionary: Option<ZstdDictionary>,
        /// Each record as given: its block, its payload's head length, and where it landed.
        pub records: Vec<(Vec<u8>, usize, crate::warc::Written)>,
    }

    pub(crate) fn write_with_dictionary(dir: &Path) -> Written {
        let dictionary = train(&site_records(300), 16 << 10).unwrap();
        write_records(dir, Some(&dictionary))
    }

    /// The records [`write_with_dictionary`] writes, with or without a dictionary.
    fn write_records(dir: &Path, dictionary: Option<&ZstdDictionary>) -> Written {
        use crate::warc::{
            Block, Clock, NewRecord, RecordIds, RecordType, WarcWriter, WriterConfig,
        };
        let mut config = WriterConfig::new(dir, "dict", crate::warc::Compression::Zstd);
        config.zstd_dictionary = dictionary.cloned();
        let start = time::macros::datetime!(2023-03-22 00:08:00 UTC);
        config.clock = Clock::ticking(start, time::Duration::seconds(1));
        config.ids = RecordIds::sequential();
        let mut writer = WarcWriter::new(config).unwrap();
        let mut records = Vec::new();
        for (i, page) in site_records(40).into_iter().enumerate() {
            let html_at = memchr::memmem::find(&page, b"HTTP/1.1").unwrap();
            let html = page[html_at..page.len() - 4].to_vec();
            let (block, head_len, packed, kind) = match i % 4 {
                3 => {
                    let head = b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n\r\n";
                    let noise: Vec<u8> = (0..5000u32)
                        .map(|n| (n.wrapping_mul(2_654_435_761) >> (i % 7 + 9)) as u8)
                        .collect();
                    (
                        [&head[..], &noise].concat(),
                        head.len(),
                        true,
                        RecordType::Response,
                    )
                }
                2 => {
                    let head = format!("GET /{i} HTTP/1.1\r\nHost: a.example\r\n\r\n").into_bytes();
                    let len = head.len();
                    (head, len, false, RecordType::Request)
                }
                _ => {
                    let head_len = memchr::memmem::find(&html, b"\r\n\r\n").unwrap() + 4;
                    (html, head_len, false, RecordType::Response)
                }
            };
            let msgtype = if kind == RecordType::Request {
                "request"
            } else {
                "response"
            };
            let mut record = NewRecord::new(kind, Block::Bytes(&block))
                .target(&format!("https://a.example/{i}"))
                .content_type(&format!("application/http; msgtype={msgtype}"));
            record.packed = packed;
            let written = writer.write(record).unwrap();
            records.push((block, head_len, written));
        }
        let file = writer.close().unwrap().remove(0);
        Written {
            file,
            dictionary: dictionary.cloned(),
            records,
        }
    }

    #[test]
    fn the_dictionary_frame_comes_first_and_every_frame_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let written = write_with_dictionary(dir.path());
        let bytes = std::fs::read(&written.file).unwrap();
        assert_eq!(le32(&bytes), DICT_FRAME_MAGIC);
        let frame_end = 8 + u64::from(le32(&bytes[4..]));
        let mut reader = crate::warc::WarcReader::open(&written.file).unwrap();
        let info = reader.next_record().unwrap().unwrap();
        assert_eq!(
            info.offset, frame_end,
            "warcinfo right after the dictionary frame"
        );
        drop(info);
        let info_span = reader.finish_record().unwrap();
        assert_eq!(
            written.records[0].2.offset,
            frame_end + info_span.length.unwrap()
        );
        for (_, _, w) in &written.records {
            let frame = &bytes[w.offset as usize..(w.offset + w.length) as usize];
            let id = zstd::zstd_safe::get_dict_id_from_frame(frame).map(|id| id.get());
            let dictionary = written.dictionary.as_ref().unwrap();
            assert_eq!(id, Some(dictionary.id()), "offset {}", w.offset);
        }
        let plain = tempfile::tempdir().unwrap();
        let without = write_records(plain.path(), None);
        let text = |w: &Written| -> u64 {
            w.records
                .iter()
                .filter(|r| r.0.len() < 4000)
                .map(|r| r.2.length)
                .sum()
        };
        let (with, without) = (text(&written), text(&without));
        assert!(
            with * 10 < without * 7,
            "text records: {with} bytes, {without} without"
        );
    }

    #[test]
    fn every_record_reads_back_whole_and_alone_by_its_offset() {
        use crate::warc::reader::{read_capture, read_capture_exact, with_payload_exact};
        let dir = tempfile::tempdir().unwrap();
        let written = write_with_dictionary(dir.path());
        let file = &written.file;
        // The whole file, in order.
        let mut reader = crate::warc::WarcReader::open(file).unwrap();
        reader.next_record().unwrap();
        for (block, _, w) in &written.records {
            let mut record = reader.next_record().unwrap().unwrap();
            assert_eq!(record.offset, w.offset);
            let mut read = Vec::new();
            std::io::Read::read_to_end(&mut record.block(), &mut read).unwrap();
            assert_eq!(&read, block);
            drop(record);
            assert_eq!(reader.finish_record().unwrap().length, Some(w.length));
        }
        assert!(reader.next_record().unwrap().is_none());
        // Each record alone, last first, by every way replay and the offline copy read.
        for (block, head_len, w) in written.records.iter().rev() {
            let (head, payload) = block.split_at(*head_len);
            let mut reader = crate::warc::WarcReader::open_at(file, w.offset).unwrap();
            let mut record = reader.next_record().unwrap().unwrap();
            let mut read = Vec::new();
            std::io::Read::read_to_end(&mut record.block(), &mut read).unwrap();
            assert_eq!(&read, block, "open_at {}", w.offset);
            let exact = crate::warc::reader::exact_reader(file, w.offset, w.length).unwrap();
            assert!(exact.is_some(), "read alone, from its own bytes");
            for capture in [
                read_capture_exact(file, w.offset, w.length, 1 << 20).unwrap(),
                read_capture(file, w.offset, 1 << 20).unwrap(),
            ] {
                assert_eq!(
                    (&capture.http_head[..], &capture.payload[..]),
                    (head, payload)
                );
                assert_eq!(
                    capture.header.get("WARC-Record-ID"),
                    Some(w.record_id.as_str())
                );
            }
            let streamed = with_payload_exact(file, w.offset, w.length, |h, body| {
                let mut rest = Vec::new();
                std::io::Read::read_to_end(body, &mut rest).unwrap();
                (h.to_vec(), rest)
            });
            assert_eq!(streamed.unwrap(), (head.to_vec(), payload.to_vec()));
        }
    }

    #[test]
    fn verify_checks_every_digest_of_a_dictionary_file() {
        let dir = tempfile::tempdir().unwrap();
        let written = write_with_dictionary(dir.path());
        let report = crate::warc::verify::verify_file(&written.file);
        assert!(report.ok(), "{:?}", report.defects);
        assert_eq!(report.records, written.records.len() as u64 + 1);
        assert!(report.digests_checked > written.records.len() as u64);
        assert_eq!(report.compression, Some("zstd"));
    }

    /// Damage in one record's frame is that record's: reading another by its offset does not
    /// decompress the file from its start (which the reader did once, through the damage).
    #[test]
    fn a_record_reads_by_offset_past_damage_earlier_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let written = write_with_dictionary(dir.path());
        let mut bytes = std::fs::read(&written.file).unwrap();
        let damaged = &written.records[5].2;
        let middle = (damaged.offset + damaged.length / 2) as usize;
        bytes[middle..middle + 8].fill(0x55);
        std::fs::write(&written.file, &bytes).unwrap();
        let (block, _, later) = &written.records[30];
        let mut reader = crate::warc::WarcReader::open_at(&written.file, later.offset).unwrap();
        let mut record = reader.next_record().unwrap().unwrap();
        let mut read = Vec::new();
        std::io::Read::read_to_end(&mut record.block(), &mut read).unwrap();
        assert_eq!(&read, block);
        let report = crate::warc::verify::verify_file(&written.file);
        assert_eq!(report.defects.len(), 1, "{:?}", report.defects);
        assert_eq!(report.defects[0].offset, damaged.offset);
        assert!(
            report.defects[0].message.contains("resumed"),
            "{:?}",
            report.defects
        );
    }

    #[test]
    fn a_damaged_or_oversized_dictionary_frame_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let written = write_with_dictionary(dir.path());
        let bytes = std::fs::read(&written.file).unwrap();
        let offset = written.records[3].2.offset;
        let mut damaged = bytes.clone();
        damaged[20..60].fill(0);
        let mut oversized = bytes.clone();
        oversized[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        for (name, bytes, expect) in [
            ("damaged", damaged, "dictionary"),
            ("oversized", oversized, "exceeds"),
        ] {
            let path = dir.path().join(format!("{name}.warc.zst"));
            std::fs::write(&path, bytes).unwrap();
            let whole =
                crate::warc::WarcReader::open(&path).and_then(|mut r| r.next_record().map(|_| ()));
            let alone = crate::warc::WarcReader::open_at(&path, offset).map(|_| ());
            let exact = crate::warc::reader::read_capture_exact(
                &path,
                offset,
                written.records[3].2.length,
                100,
            );
            for err in [whole.unwrap_err(), alone.unwrap_err(), exact.unwrap_err()] {
                assert!(err.to_string().contains(expect), "{name}: {err}");
            }
            let report = crate::warc::verify::verify_file(&path);
            assert!(
                !report.ok() && report.defects[0].message.contains(expect),
                "{:?}",
                report.defects
            );
        }
    }

    #[test]
    fn one_dictionary_is_prepared_once() {
        let dictionary = train(&site_records(200), 8 << 10).unwrap();
        let (a, b) = (Decoding::of(&dictionary), Decoding::of(&dictionary.clone()));
        assert!(a.spare_key().is_some() && a.spare_key() == b.spare_key());
    }
}
