//! Converting WARC (and ARC) files to another compression, as `cairn recompress` does: so a
//! zstd collection can go to a tool that reads only gzip (pywb, warcio, ReplayWeb.page), and an
//! old gzip collection can shrink. The decompressed stream is kept byte for byte: every record
//! is cut where it starts and compressed into a member or frame of its own (one that shared a
//! gzip member with others gets its own), so digests, record IDs and every header stay as they
//! were. The new file is written as `NAME.open`, read back and compared with the old one
//! before it takes its name; only then does the old file go. A file that does not read whole
//! is left as it is.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::codec::{BodyIn, Compression, RecordEncoder, Unpacker};
use super::error::ReadError;
use super::reader::{WarcReader, http_header_field, read_http_head};
use super::repair::{rename_no_clobber, sync_dir};
use super::writer::{OPEN_SUFFIX, is_being_written};

#[derive(Debug, thiserror::Error)]
pub enum RecompressError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: {source}; not converted (cairn verify names the damage)", path.display())]
    Damaged { path: PathBuf, source: ReadError },
    #[error("{}: the converted file differs from it ({detail}); not converted", path.display())]
    Differs { path: PathBuf, detail: String },
    #[error("{}: {} exists already; not converted", path.display(), taken.display())]
    NameTaken { path: PathBuf, taken: PathBuf },
    #[error("{}: still being written (or left unfinished: cairn verify --repair mends it)", .0.display())]
    Unfinished(PathBuf),
    #[error("{}: not named as a WARC or ARC file (.warc, .warc.gz, .warc.zst, .arc, .arc.gz)", .0.display())]
    NotWarcName(PathBuf),
}

#[derive(Debug, Serialize)]
pub struct RecompressReport {
    pub path: PathBuf,
    /// The converted file; `None` when the file was in that compression already.
    pub converted: Option<PathBuf>,
    pub records: u64,
    pub bytes_before: u64,
    pub bytes_after: u64,
}

/// One record of the decompressed stream: where it starts and ends (where the next one
/// starts), how long its headers are (the WARC header and any HTTP header, a block of their
/// own in a zstd frame) and whether its payload is compressed already.
struct Cut {
    start: u64,
    end: u64,
    head_len: u64,
    packed: bool,
}

/// Converts `path` to `to`, next to it, with the compression's usual suffix.
pub fn recompress(path: &Path, to: Compression) -> Result<RecompressReport, RecompressError> {
    if is_being_written(path) || path.to_string_lossy().ends_with(OPEN_SUFFIX) {
        return Err(RecompressError::Unfinished(path.to_path_buf()));
    }
    let io_err = |source| RecompressError::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes_before = std::fs::metadata(path).map_err(io_err)?.len();
    let (from, cuts) = cut_records(path).map_err(|source| RecompressError::Damaged {
        path: path.to_path_buf(),
        source,
    })?;
    let mut report = RecompressReport {
        path: path.to_path_buf(),
        converted: None,
        records: cuts.len() as u64,
        bytes_before,
        bytes_after: bytes_before,
    };
    if from == to {
        return Ok(report);
    }
    let target = converted_name(path, to)?;
    if target.exists() {
        return Err(RecompressError::NameTaken {
            path: path.to_path_buf(),
            taken: target,
        });
    }
    let open = PathBuf::from(format!("{}{OPEN_SUFFIX}", target.display()));
    let written = write_converted(path, from, &cuts, &open, to);
    let checked = written.and_then(|stream| check_converted(path, &open, &stream, cuts.len()));
    if let Err(e) = checked {
        let _ = std::fs::remove_file(&open);
        return Err(e);
    }
    rename_no_clobber(&open, &target).map_err(io_err)?;
    report.bytes_after = std::fs::metadata(&target).map_err(io_err)?.len();
    // The new file holds every byte the old one did, checked: the old one may go.
    std::fs::remove_file(path).map_err(io_err)?;
    sync_dir(path.parent().unwrap_or(Path::new(".")));
    report.converted = Some(target);
    Ok(report)
}

/// The name a file takes in another compression: `x.warc.zst` becomes `x.warc.gz`.
fn converted_name(path: &Path, to: Compression) -> Result<PathBuf, RecompressError> {
    let name = path.to_string_lossy();
    let stem = [".warc", ".arc"].iter().find_map(|kind| {
        ["", ".gz", ".zst"]
            .iter()
            .find_map(|suffix| name.strip_suffix(&format!("{kind}{suffix}")))
            .map(|stem| format!("{stem}{kind}"))
    });
    let stem = stem.ok_or_else(|| RecompressError::NotWarcName(path.to_path_buf()))?;
    let suffix = match to {
        Compression::None => "",
        Compression::Gzip => ".gz",
        Compression::Zstd => ".zst",
    };
    Ok(PathBuf::from(format!("{stem}{suffix}")))
}

/// Reads every record through, noting where each starts in the decompressed stream; any
/// damage stops the conversion before a byte is written.
fn cut_records(path: &Path) -> Result<(Compression, Vec<Cut>), ReadError> {
    let mut reader = WarcReader::open(path)?;
    let compression = reader.compression();
    let mut cuts: Vec<Cut> = Vec::new();
    while let Some(mut record) = reader.next_record()? {
        let offset = record.offset;
        let header = record.header.clone();
        let warc_head = record.block_start;
        let mut block = record.block();
        let http_head = if header.holds_http() {
            read_http_head(&mut block).map_err(|e| ReadError::io(offset, e))?
        } else {
            Vec::new()
        };
        let (content_type, encoding) = if header.holds_http() {
            let field = |name| http_header_field(&http_head, name);
            (field("content-type"), field("content-encoding"))
        } else {
            (header.get("Content-Type").map(str::to_string), None)
        };
        drop(record);
        let closed = reader.close_record()?;
        cuts.push(Cut {
            start: closed.start,
            end: closed.end,
            head_len: warc_head - closed.start + http_head.len() as u64,
            packed: crate::content::is_packed(content_type.as_deref(), encoding.as_deref()),
        });
    }
    // Each record runs to where the next starts (blank lines between records are kept with
    // the one before them), the first from the stream's start, the last to its end.
    for at in 1..cuts.len() {
        cuts[at - 1].end = cuts[at].start;
    }
    if let Some(first) = cuts.first_mut() {
        first.start = 0;
    }
    if let Some(last) = cuts.last_mut() {
        last.end = reader.decompressed_position();
    }
    Ok((compression, cuts))
}

/// The decompressed stream as it was read: its digest and length, to compare the new file's
/// with.
#[derive(PartialEq, Eq)]
struct Stream {
    sha256: [u8; 32],
    len: u64,
}

/// Writes each cut of `path`'s stream as a member or frame of its own into `open` (created
/// new), synced; returns the stream read.
fn write_converted(
    path: &Path,
    from: Compression,
    cuts: &[Cut],
    open: &Path,
    to: Compression,
) -> Result<Stream, RecompressError> {
    let out_err = |source| RecompressError::Io {
        path: open.to_path_buf(),
        source,
    };
    let in_err = |source| RecompressError::Io {
        path: path.to_path_buf(),
        source,
    };
    let source = File::open(path).map_err(in_err)?;
    let mut stream = Hashing::new(Unpacker::new(source, from).map_err(in_err)?);
    let file = File::options()
        .write(true)
        .create_new(true)
        .open(open)
        .map_err(out_err)?;
    let mut out = io::BufWriter::with_capacity(1 << 20, file);
    let mut encoder = RecordEncoder::new(to).map_err(out_err)?;
    for cut in cuts {
        let len = cut.end - cut.start;
        let mut cut_stream = (&mut stream).take(len);
        let body = BodyIn::read(&mut cut_stream, len, cut.head_len.min(len));
        encoder
            .encode(&mut out, b"", body, b"", cut.packed)
            .map_err(out_err)?;
    }
    let file = out.into_inner().map_err(|e| out_err(e.into_error()))?;
    let permissions = std::fs::metadata(path).map_err(in_err)?.permissions();
    file.set_permissions(permissions).map_err(out_err)?;
    file.sync_all().map_err(out_err)?;
    Ok(stream.finish())
}

/// Reads the new file back: its decompressed stream must be the old one's, byte for byte,
/// and each of its records must stand alone in its member or frame.
fn check_converted(
    path: &Path,
    open: &Path,
    expected: &Stream,
    records: usize,
) -> Result<(), RecompressError> {
    let differs = |detail: String| RecompressError::Differs {
        path: path.to_path_buf(),
        detail,
    };
    let read_err = |e: ReadError| differs(format!("it does not read back: {e}"));
    let mut reader = WarcReader::open(open).map_err(read_err)?;
    let mut count = 0;
    while reader.next_record().map_err(read_err)?.is_some() {
        let span = reader.finish_record().map_err(read_err)?;
        if span.length.is_none() || !span.starts_member {
            return Err(differs(format!(
                "record at {} shares a member",
                span.offset
            )));
        }
        count += 1;
    }
    if count != records {
        return Err(differs(format!("{count} records, not {records}")));
    }
    let file = File::open(open).map_err(|e| differs(e.to_string()))?;
    let compression = reader.compression();
    let unpacker = Unpacker::new(file, compression).map_err(|e| differs(e.to_string()))?;
    let mut again = Hashing::new(unpacker);
    io::copy(&mut again, &mut io::sink()).map_err(|e| differs(e.to_string()))?;
    if again.finish() != *expected {
        return Err(differs("its decompressed bytes differ".into()));
    }
    Ok(())
}

/// A reader that digests what passes through it.
struct Hashing<R> {
    inner: R,
    sha256: Sha256,
    len: u64,
}

impl<R: Read> Hashing<R> {
    fn new(inner: R) -> Hashing<R> {
        Hashing {
            inner,
            sha256: Sha256::new(),
            len: 0,
        }
    }

    fn finish(self) -> Stream {
        Stream {
            sha256: self.sha256.finalize().into(),
            len: self.len,
        }
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sha256.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_converted_file_keeps_its_name_and_takes_the_compression_s_suffix() {
        for (from, to, expected) in [
            ("a/x.warc.zst", Compression::Gzip, "a/x.warc.gz"),
            ("x.warc.gz", Compression::Zstd, "x.warc.zst"),
            ("x.warc", Compression::Gzip, "x.warc.gz"),
            ("x.warc.gz", Compression::None, "x.warc"),
            ("IA-001.arc.gz", Compression::Zstd, "IA-001.arc.zst"),
            ("x.arc", Compression::Gzip, "x.arc.gz"),
        ] {
            let name = converted_name(Path::new(from), to).unwrap();
            assert_eq!(name, Path::new(expected), "{from}");
        }
        assert!(matches!(
            converted_name(Path::new("x.tar.gz"), Compression::Zstd),
            Err(RecompressError::NotWarcName(_))
        ));
    }
}
