//! Mending a WARC file that its writer never closed (`.open`, after a crash or a kill), as
//! gowarc's `mend` does: every whole record is kept, only a torn tail is cut, and the file is
//! renamed without `.open`.
//!
//! Records usually end their gzip member or zstd frame, and the file is cut where the last
//! whole member ends. Where several records share a member (as gowarc and some crawlers write)
//! and the member is torn, the whole records inside it are compressed again, one member each,
//! into a new file beside the old one, which is removed only once the new one is whole on disk.
//! Repair never removes a file that holds a whole record and never renames over a file that
//! exists; damage it cannot call a torn tail (whole records follow it) leaves the file as it is.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::codec::{BodyIn, Compression, RecordEncoder, Unpacker};
use super::dictionary::file_dictionary;
use super::error::ReadError;
use super::reader::{WarcReader, next_whole_record};
use super::writer::{OPEN_SUFFIX, is_being_written, same_inode, still_named};

#[derive(Debug, Clone, Serialize)]
pub struct RepairReport {
    pub path: PathBuf,
    /// The mended file, or `None` when the file was left as it is or was empty.
    pub repaired: Option<PathBuf>,
    pub kept_records: u64,
    pub kept_bytes: u64,
    pub dropped_bytes: u64,
    /// Whole records of a torn shared member, compressed again one member each.
    pub recompressed_records: u64,
    /// Why the file was left as it is, when it was.
    pub untouched: Option<String>,
    /// Target URIs of the kept response, revisit and resource records.
    #[serde(skip)]
    pub captured: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RepairError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}: not an unfinished WARC file (its name does not end in .open)")]
    NotOpen(PathBuf),
    #[error("{0}: already exists; the repaired file would replace it")]
    Exists(PathBuf),
}

/// One record read whole: where it lies in the decompressed stream, and what it captured.
struct WholeRecord {
    start: u64,
    end: u64,
    capture: Option<String>,
}

/// What reading a file through found.
struct Scan {
    compression: Compression,
    whole: Vec<WholeRecord>,
    /// The records before this one lie wholly before `clean_end`.
    clean_records: usize,
    /// Where the last member (uncompressed: record) that ended whole ends in the file, and in
    /// the decompressed stream.
    clean_end: u64,
    clean_end_decompressed: u64,
    damage: Option<ReadError>,
}

/// Keeps the whole records of `path` (a `.open` file), cuts the torn tail, renames it.
pub fn repair(path: &Path) -> Result<RepairReport, RepairError> {
    let name = path.to_string_lossy();
    let Some(final_name) = name.strip_suffix(OPEN_SUFFIX) else {
        return Err(RepairError::NotOpen(path.to_path_buf()));
    };
    let repaired = PathBuf::from(final_name);
    let io_err = |source| RepairError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut report = RepairReport {
        path: path.to_path_buf(),
        repaired: None,
        kept_records: 0,
        kept_bytes: 0,
        dropped_bytes: 0,
        recompressed_records: 0,
        untouched: None,
        captured: Vec::new(),
    };
    if is_being_written(path) {
        report.untouched = Some("a writer still holds it open; left as it is".into());
        return Ok(report);
    }
    if repaired.exists() {
        // A repair that was stopped between naming the file and unlinking `.open` left both
        // names on one file: finishing it loses nothing.
        if same_file(path, &repaired).map_err(io_err)? {
            std::fs::remove_file(path).map_err(io_err)?;
            report.repaired = Some(repaired);
            return Ok(report);
        }
        return Err(RepairError::Exists(repaired));
    }
    let total = std::fs::metadata(path).map_err(io_err)?.len();
    if total == 0 {
        // A writer killed before its first record: nothing to keep, nothing lost. Or one
        // that has only just created it, and not yet locked it.
        if !remove_unclaimed(path).map_err(io_err)? {
            report.untouched = Some("a writer still holds it open; left as it is".into());
        }
        return Ok(report);
    }
    let scan = scan_past_zeros(path, total).map_err(io_err)?;
    if let Some(reason) = undecided(path, &scan).map_err(io_err)? {
        report.untouched = Some(reason);
        return Ok(report);
    }
    let salvage = &scan.whole[scan.clean_records..];
    let kept_bytes = if salvage.is_empty() {
        cut_in_place(path, &repaired, scan.clean_end).map_err(io_err)?;
        scan.clean_end
    } else {
        rewrite_with_salvage(path, &repaired, &scan).map_err(io_err)?
    };
    report.repaired = Some(repaired);
    report.kept_records = scan.whole.len() as u64;
    report.kept_bytes = kept_bytes;
    report.dropped_bytes = total.saturating_sub(scan.clean_end);
    report.recompressed_records = salvage.len() as u64;
    report.captured = scan.whole.into_iter().filter_map(|r| r.capture).collect();
    Ok(report)
}

/// Why the file must be left as it is, if it must: it holds no whole record, or whole
/// records follow its damage, so the damage is no torn tail.
fn undecided(path: &Path, scan: &Scan) -> io::Result<Option<String>> {
    let Some(damage) = &scan.damage else {
        return Ok(None);
    };
    if scan.whole.is_empty() {
        return Ok(Some(format!(
            "no whole record to keep ({damage}); left as it is"
        )));
    }
    // Only a file that ends too soon was torn by its writer; corrupt or malformed bytes are
    // damage of another kind, which cutting would lose for good.
    if !matches!(damage, ReadError::Truncated { .. }) {
        return Ok(Some(format!(
            "damage that is no torn tail: {damage}; left as it is"
        )));
    }
    if let Some(next) = next_whole_record(path, scan.compression, scan.clean_end)? {
        return Ok(Some(format!(
            "damage inside the file, not a torn tail: {damage}, yet a whole record starts at \
             offset {next}; left as it is"
        )));
    }
    Ok(None)
}

/// Removes an empty unfinished file under its lock, so that a writer which has just created
/// it, and locks it before its first byte, either holds it first (the file is left alone) or
/// finds it gone and writes another ([`super::writer`]). False when a writer holds it.
fn remove_unclaimed(path: &Path) -> io::Result<bool> {
    let file = File::open(path)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Ok(false),
        // Without locks, as before them: an empty file is a killed writer's.
        Err(std::fs::TryLockError::Error(_)) => {}
    }
    if file.metadata()?.len() == 0 && still_named(&file, path) {
        std::fs::remove_file(path)?;
    }
    Ok(true)
}

/// Scans the file; if its damage is not a truncation and the file ends in zero bytes (the
/// blocks a crash left allocated but never written), scans it again as if it ended where the
/// zeros begin.
fn scan_past_zeros(path: &Path, total: u64) -> io::Result<Scan> {
    let scan = scan(path, total);
    let truncated = matches!(scan.damage, Some(ReadError::Truncated { .. }) | None);
    let zeros_start = zero_tail_start(path, total)?;
    if truncated || zeros_start == total {
        return Ok(scan);
    }
    Ok(self::scan(path, zeros_start))
}

/// Where the run of zero bytes that ends the file begins (`total` if it ends in none).
fn zero_tail_start(path: &Path, total: u64) -> io::Result<u64> {
    use std::os::unix::fs::FileExt;
    let file = File::open(path)?;
    let mut end = total;
    let mut chunk = vec![0u8; 64 << 10];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let part = &mut chunk[..(end - start) as usize];
        file.read_exact_at(part, start)?;
        if let Some(last) = part.iter().rposition(|&b| b != 0) {
            return Ok(start + last as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// Reads the first `total` bytes' records through, noting which are whole and where the file
/// is whole up to (all `total` bytes, when nothing is damaged).
fn scan(path: &Path, total: u64) -> Scan {
    let mut scan = Scan {
        compression: Compression::None,
        whole: Vec::new(),
        clean_records: 0,
        clean_end: 0,
        clean_end_decompressed: 0,
        damage: None,
    };
    match scan_records(path, total, &mut scan) {
        Ok(()) => {
            scan.clean_records = scan.whole.len();
            scan.clean_end = total;
        }
        Err(damage) => scan.damage = Some(damage),
    }
    scan
}

fn scan_records(path: &Path, total: u64, scan: &mut Scan) -> Result<(), ReadError> {
    scan.compression = WarcReader::open(path)?.compression();
    let file = File::open(path).map_err(|e| ReadError::io(0, e))?;
    let mut reader = WarcReader::new(file.take(total), scan.compression)?;
    while let Some(mut record) = reader.next_record()? {
        let offset = record.offset;
        let captures = matches!(
            record.header.get("WARC-Type"),
            Some("response" | "revisit" | "resource")
        );
        let capture = captures.then(|| record.header.target_uri().unwrap_or("").to_string());
        io::copy(&mut record.block(), &mut io::sink()).map_err(|e| ReadError::io(offset, e))?;
        drop(record);
        let closed = reader.close_record()?;
        scan.whole.push(WholeRecord {
            start: closed.start,
            end: closed.end,
            capture,
        });
        if let Some(end) = reader.member_end(&closed)? {
            scan.clean_records = scan.whole.len();
            scan.clean_end = end;
            scan.clean_end_decompressed = closed.end;
        }
    }
    Ok(())
}

/// Cuts the file at `end` and renames it to `repaired`.
fn cut_in_place(path: &Path, repaired: &Path, end: u64) -> io::Result<()> {
    let file = OpenOptions::new().write(true).open(path)?;
    file.set_len(end)?;
    file.sync_all()?;
    drop(file);
    rename_no_clobber(path, repaired)
}

/// Writes the whole members and then the salvaged records, one member each, to a new file
/// beside `path`; once it is synced and named `repaired`, the old one goes. Returns its size.
fn rewrite_with_salvage(path: &Path, repaired: &Path, scan: &Scan) -> io::Result<u64> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let permissions = std::fs::metadata(path)?.permissions();
    let mut temp = tempfile::Builder::new()
        .prefix(".repair-")
        .permissions(permissions)
        .tempfile_in(dir)?;
    let mut source = File::open(path)?;
    io::copy(&mut (&mut source).take(scan.clean_end), temp.as_file_mut())?;
    source.seek(SeekFrom::Start(scan.clean_end))?;
    // A dictionary file's records are read and written again with its dictionary; the copy
    // above starts with its frame already.
    let dictionary = match scan.compression {
        Compression::Zstd => file_dictionary(path, &source)?.map(|found| found.decoding),
        _ => None,
    };
    let (mut tail, mut encoder) = match &dictionary {
        Some(decoding) => (
            Unpacker::zstd_at(source, scan.clean_end, 256 << 10, Some(decoding))?,
            RecordEncoder::with_dictionary(decoding.dictionary().clone())?,
        ),
        None => (
            Unpacker::new_at(source, scan.compression, scan.clean_end)?,
            RecordEncoder::new(scan.compression)?,
        ),
    };
    let mut at = scan.clean_end_decompressed;
    for record in &scan.whole[scan.clean_records..] {
        io::copy(&mut (&mut tail).take(record.start - at), &mut io::sink())?;
        let len = record.end - record.start;
        let mut bytes = (&mut tail).take(len);
        let body = BodyIn::read(&mut bytes, len, 0);
        encoder.encode(temp.as_file_mut(), b"", body, b"", false)?;
        at = record.end;
    }
    let size = temp.as_file().metadata()?.len();
    temp.as_file().sync_all()?;
    temp.persist_noclobber(repaired).map_err(|e| e.error)?;
    std::fs::remove_file(path)?;
    sync_dir(dir);
    Ok(size)
}

/// Renames without ever replacing a file: a hard link fails if the name is taken. Where the
/// file system has no hard links (FAT, some network shares), a plain rename after a check.
pub(super) fn rename_no_clobber(from: &Path, to: &Path) -> io::Result<()> {
    match std::fs::hard_link(from, to) {
        Ok(()) => std::fs::remove_file(from)?,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(e),
        Err(_) if to.exists() => return Err(io::ErrorKind::AlreadyExists.into()),
        Err(_) => std::fs::rename(from, to)?,
    }
    sync_dir(from.parent().unwrap_or(Path::new(".")));
    Ok(())
}

/// Makes a rename in `dir` durable; a file system that cannot sync a folder has done its best.
pub(super) fn sync_dir(dir: &Path) {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let _ = File::open(dir).and_then(|d| d.sync_all());
}

/// Whether two paths name one file.
fn same_file(a: &Path, b: &Path) -> io::Result<bool> {
    Ok(same_inode(&std::fs::metadata(a)?, &std::fs::metadata(b)?))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn an_empty_unfinished_file_is_removed_only_when_no_writer_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.warc.zst.open");
        File::create(&path).unwrap();
        // A writer that has just locked its new file, between the repair's look and its own.
        let writer = File::options().write(true).open(&path).unwrap();
        writer.try_lock().unwrap();
        assert!(!remove_unclaimed(&path).unwrap());
        assert!(path.exists());
        drop(writer);
        assert!(remove_unclaimed(&path).unwrap());
        assert!(!path.exists());
    }

    /// A resource record of its own, byte by byte, with a body that compresses poorly (so that
    /// cuts land inside records, not only between them).
    fn record(i: usize) -> Vec<u8> {
        let mut state = i as u64 * 2_654_435_761 + 1;
        let body: String = (0..200 + i * 37 % 700)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                (b'a' + (state >> 59) as u8 % 26) as char
            })
            .collect();
        format!(
            "WARC/1.1\r\nWARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-{i:012}>\r\n\
             WARC-Date: 2026-01-01T00:00:00Z\r\nWARC-Target-URI: http://example.com/{i}\r\n\
             Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}\r\n\r\n",
            body.len()
        )
        .into_bytes()
    }

    fn compress(compression: Compression, bytes: &[u8]) -> Vec<u8> {
        match compression {
            Compression::Gzip => {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
                gz.write_all(bytes).unwrap();
                gz.finish().unwrap()
            }
            Compression::Zstd => zstd::encode_all(bytes, 3).unwrap(),
            Compression::None => bytes.to_vec(),
        }
    }

    /// A file of `records.len()` records laid out in members of the given sizes: its bytes,
    /// the offsets where members end, and the records.
    fn file(compression: Compression, groups: &[usize]) -> (Vec<u8>, Vec<u64>, Vec<Vec<u8>>) {
        let records: Vec<Vec<u8>> = (0..groups.iter().sum()).map(record).collect();
        let (mut bytes, mut ends, mut next) = (Vec::new(), Vec::new(), 0);
        for &size in groups {
            bytes.extend(compress(compression, &records[next..next + size].concat()));
            ends.push(bytes.len() as u64);
            next += size;
        }
        (bytes, ends, records)
    }

    /// How many of `records` decompress whole from a prefix of a file.
    fn whole_in_prefix(compression: Compression, prefix: &[u8], records: &[Vec<u8>]) -> usize {
        let mut out = Vec::new();
        let mut unpacker = Unpacker::new(prefix, compression).unwrap();
        let _ = unpacker.read_to_end(&mut out);
        // A record whose block is whole is kept even if its closing line ends are not, as
        // readers accept it.
        let trailer_optional = 4;
        let mut end = 0;
        records
            .iter()
            .take_while(|r| {
                end += r.len();
                end - trailer_optional <= out.len()
            })
            .count()
    }

    /// The records a repaired file holds, as bytes.
    fn records_of(path: &Path) -> Vec<(String, Vec<u8>)> {
        let mut reader = WarcReader::open(path).unwrap();
        let mut records = Vec::new();
        while let Some(mut record) = reader.next_record().unwrap() {
            let uri = record.header.target_uri().unwrap().to_string();
            let mut block = Vec::new();
            record.block().read_to_end(&mut block).unwrap();
            records.push((uri, block));
        }
        records
    }

    fn cut_points(len: u64, member_ends: &[u64]) -> Vec<u64> {
        let mut cuts: Vec<u64> = (1..40).map(|k| len * k / 40).collect();
        for &end in member_ends {
            cuts.extend([end.saturating_sub(1), end, end + 1]);
        }
        cuts.retain(|&c| c > 0 && c <= len);
        cuts.sort_unstable();
        cuts.dedup();
        cuts
    }

    /// Every layout gowarc, warcio and whole-file gzip produce, cut everywhere: every whole
    /// record comes back byte for byte, and no file holding one is ever removed.
    #[test]
    fn every_whole_record_survives_any_cut_in_any_member_layout() {
        let layouts: [&[usize]; 4] = [&[1; 12], &[17, 17, 16], &[12], &[3, 1, 5, 3]];
        for compression in [Compression::Gzip, Compression::Zstd, Compression::None] {
            for groups in layouts {
                let (bytes, ends, records) = file(compression, groups);
                for cut in cut_points(bytes.len() as u64, &ends) {
                    let case = format!("{compression:?} {groups:?} cut at {cut}");
                    check_cut(compression, &bytes[..cut as usize], &records, &case);
                }
            }
        }
    }

    fn check_cut(compression: Compression, prefix: &[u8], records: &[Vec<u8>], case: &str) {
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("x.warc.open");
        std::fs::write(&open, prefix).unwrap();
        let expected = whole_in_prefix(compression, prefix, records);
        let report = repair(&open).unwrap_or_else(|e| panic!("{case}: {e}"));
        if expected == 0 {
            assert!(report.untouched.is_some(), "{case}: {report:?}");
            assert_eq!(std::fs::read(&open).unwrap(), prefix, "{case}: touched");
            return;
        }
        assert_eq!(report.kept_records, expected as u64, "{case}: {report:?}");
        let repaired = report.repaired.as_ref().expect(case);
        assert!(!open.exists(), "{case}");
        let kept = records_of(repaired);
        assert_eq!(kept.len(), expected, "{case}");
        for (i, (uri, _)) in kept.iter().enumerate() {
            assert_eq!(uri, &format!("http://example.com/{i}"), "{case}");
        }
        let report = super::super::verify::verify_file(repaired);
        assert!(report.ok(), "{case}: {:?}", report.defects);
    }

    #[test]
    fn damage_followed_by_whole_records_leaves_the_file_as_it_is() {
        let (mut bytes, ends, _) = file(Compression::Gzip, &[4, 4, 4]);
        let middle = (ends[0] + ends[1]) as usize / 2;
        bytes[middle] ^= 0xff;
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("x.warc.gz.open");
        std::fs::write(&open, &bytes).unwrap();
        let report = repair(&open).unwrap();
        assert!(report.untouched.is_some(), "{report:?}");
        assert_eq!(std::fs::read(&open).unwrap(), bytes);
    }

    fn repair_bytes(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf, RepairReport) {
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join(name);
        std::fs::write(&open, bytes).unwrap();
        let report = repair(&open).unwrap();
        (dir, open, report)
    }

    #[test]
    fn corrupt_or_malformed_bytes_are_no_torn_tail() {
        // A flipped byte in a file of one gzip member: what follows it is not lost.
        let (mut one, _, _) = file(Compression::Gzip, &[12]);
        let at = one.len() * 3 / 5;
        one[at] ^= 0x40;
        let (_dir, open, report) = repair_bytes("one.warc.gz.open", &one);
        assert!(report.untouched.is_some(), "{report:?}");
        assert_eq!(std::fs::read(&open).unwrap(), one);
        // A header line without a colon inside the last shared member.
        let records: Vec<Vec<u8>> = (0..5).map(record).collect();
        let mut plain = records.concat();
        let at = records[0].len() + records[1].len() + records[2].len() + 12;
        plain[at] = b'\n';
        let shared = compress(Compression::Gzip, &plain);
        let (_dir, open, report) = repair_bytes("shared.warc.gz.open", &shared);
        assert!(report.untouched.is_some(), "{report:?}");
        assert_eq!(std::fs::read(&open).unwrap(), shared);
    }

    #[test]
    fn a_tail_of_zeros_a_crash_left_is_cut() {
        for compression in [Compression::Gzip, Compression::Zstd, Compression::None] {
            let (mut bytes, ends, _) = file(compression, &[1; 6]);
            bytes.truncate(ends[3] as usize + 40);
            bytes.extend([0u8; 8192]);
            let (_, _, report) = repair_bytes("z.warc.open", &bytes);
            assert_eq!(report.kept_records, 4, "{compression:?}: {report:?}");
            assert!(report.repaired.is_some());
        }
    }

    #[test]
    fn a_file_its_writer_holds_is_left_alone() {
        let (bytes, _, _) = file(Compression::Gzip, &[1; 3]);
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("w.warc.gz.open");
        std::fs::write(&open, &bytes[..bytes.len() - 5]).unwrap();
        let writer = File::open(&open).unwrap();
        writer.lock().unwrap();
        let report = repair(&open).unwrap();
        assert!(report.untouched.unwrap().contains("writer"));
        drop(writer);
        // The last member lost its gzip footer, not its record.
        assert_eq!(repair(&open).unwrap().kept_records, 3);
    }

    #[test]
    fn a_repair_stopped_between_two_names_is_finished() {
        let (bytes, _, _) = file(Compression::Gzip, &[1; 3]);
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("r.warc.gz.open");
        let done = dir.path().join("r.warc.gz");
        std::fs::write(&open, &bytes).unwrap();
        std::fs::hard_link(&open, &done).unwrap();
        let report = repair(&open).unwrap();
        assert_eq!(report.repaired.as_deref(), Some(done.as_path()));
        assert!(!open.exists());
        assert_eq!(std::fs::read(&done).unwrap(), bytes);
        // Another file of that name is never replaced.
        std::fs::write(&open, &bytes).unwrap();
        std::fs::write(&done, b"other").unwrap();
        assert!(matches!(repair(&open), Err(RepairError::Exists(_))));
    }

    #[test]
    fn a_whole_file_of_shared_members_is_kept_whole() {
        let (bytes, _, _) = file(Compression::Gzip, &[17, 17, 16]);
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("x.warc.gz.open");
        std::fs::write(&open, &bytes).unwrap();
        let report = repair(&open).unwrap();
        assert_eq!((report.kept_records, report.recompressed_records), (50, 0));
        assert_eq!(std::fs::read(dir.path().join("x.warc.gz")).unwrap(), bytes);
    }
}
