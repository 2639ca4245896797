//! cairn's writer: what it writes passes warcio (and FastWARC for zstd), reads back identically
//! through cairn's reader, lies where the writer said, rolls over, and streams big blocks.

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::process::Command;

use cairn::warc::{
    Block, Compression, NewRecord, RecordType, WarcReader, WarcWriter, WriterConfig,
};

use crate::support::*;

const ALL: [Compression; 3] = [Compression::Zstd, Compression::Gzip, Compression::None];

/// warcio's verdict on a file cairn wrote: zstd files go through the plain `zstd` CLI first,
/// since warcio does not read zstd. Returns how many records warcio checked.
fn warcio_check(path: &Path, compression: Compression) -> usize {
    let checked = if compression == Compression::Zstd {
        let plain = path.with_extension("unzstd.warc");
        run_ok(
            tool("zstd")
                .arg("-d")
                .arg("-q")
                .arg("-f")
                .arg(path)
                .arg("-o")
                .arg(&plain),
        );
        plain
    } else {
        path.to_path_buf()
    };
    let out = run_ok(tool("warcio").arg("check").arg("-v").arg(&checked));
    let text = stdout(&out);
    assert!(!text.contains("digest failed"), "warcio check: {text}");
    let records = text.matches("WARC-Record-ID").count();
    let passed =
        text.matches("digest pass").count() + text.matches("not checked (revisit)").count();
    assert_eq!(
        records, passed,
        "every record's digest passes warcio: {text}"
    );
    records
}

#[test]
fn every_compression_passes_warcio_and_reads_back_identically() {
    if !requires(&["zstd", "warcio", "fastwarc"]) {
        return;
    }
    for compression in ALL {
        let dir = tempfile::tempdir().unwrap();
        let (files, written) = write_samples(dir.path(), compression, None, 1);
        assert_eq!(files.len(), 1);
        let file = &files[0];
        assert!(file.to_string_lossy().ends_with(compression.extension()));

        // warcinfo + every sample record, each digest checked by warcio.
        assert_eq!(
            warcio_check(file, compression),
            written.len() + 1,
            "{compression:?}"
        );
        if compression == Compression::Zstd {
            let out = run_ok(tool("fastwarc").arg("check").arg(file));
            assert!(!stdout(&out).contains("FAIL"), "{}", stdout(&out));
        }

        let mut reader = WarcReader::open(file).unwrap();
        let info = reader.next_record().unwrap().unwrap();
        assert_eq!(info.header.version, "WARC/1.1");
        assert_eq!(info.header.record_type(), Some(RecordType::Warcinfo));
        drop(info);
        for (sample, w) in &written {
            let mut record = reader.next_record().unwrap().expect("record missing");
            let h = &record.header;
            assert_eq!(record.offset, w.offset);
            assert_eq!(h.record_type(), Some(sample.kind.clone()));
            assert_eq!(h.get("WARC-Record-ID"), Some(sample.id.as_str()));
            assert_eq!(h.get("WARC-Date"), Some("2023-03-22T00:08:00.123456Z"));
            assert_eq!(h.target_uri(), sample.target.as_deref());
            assert_eq!(h.get("Content-Type"), sample.content_type.as_deref());
            for (name, value) in &sample.fields {
                assert_eq!(h.get(name), Some(value.as_str()), "{name}");
            }
            assert_eq!(h.get("WARC-Block-Digest"), Some(w.block_digest.as_str()));
            assert_eq!(
                h.get("WARC-Block-Digest").unwrap(),
                format!("sha256:{}", sha256_hex(&sample.block))
            );
            let mut block = Vec::new();
            record.block().read_to_end(&mut block).unwrap();
            assert_eq!(block, sample.block, "{compression:?} {:?}", sample.target);
            drop(record);
            let span = reader.finish_record().unwrap();
            assert_eq!(span.length, Some(w.length), "length as the writer said");
        }
        assert!(reader.next_record().unwrap().is_none());
    }
}

#[test]
fn payload_digest_covers_what_follows_the_http_header() {
    let dir = tempfile::tempdir().unwrap();
    let (_, written) = write_samples(dir.path(), Compression::None, None, 1);
    let (sample, w) = &written[2];
    let payload_start = sample
        .block
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap()
        + 4;
    assert_eq!(
        w.payload_digest.as_deref(),
        Some(format!("sha256:{}", sha256_hex(&sample.block[payload_start..])).as_str())
    );
    // A revisit keeps the payload digest it was given; warcinfo and metadata get none.
    let (revisit, w) = &written[5];
    assert_eq!(revisit.kind, RecordType::Revisit);
    assert_eq!(w.payload_digest, None);
    assert_eq!(written[7].1.payload_digest, None);
}

#[test]
fn each_record_decompresses_alone_from_its_offset() {
    if !requires(&["zstd", "gzip"]) {
        return;
    }
    for compression in [Compression::Zstd, Compression::Gzip] {
        let dir = tempfile::tempdir().unwrap();
        let (files, written) = write_samples(dir.path(), compression, None, 1);
        let bytes = fs::read(&files[0]).unwrap();
        for (sample, w) in &written {
            let slice = &bytes[w.offset as usize..(w.offset + w.length) as usize];
            let one = dir.path().join("one");
            fs::write(&one, slice).unwrap();
            let (program, flag) = match compression {
                Compression::Zstd => ("zstd", "-dc"),
                _ => ("gzip", "-dc"),
            };
            let out = run_ok(tool(program).arg(flag).arg(&one));
            let text = out.stdout;
            assert!(text.starts_with(b"WARC/1.1\r\n"));
            assert!(text.ends_with(&[sample.block.as_slice(), b"\r\n\r\n"].concat()));
        }
    }
}

#[test]
fn files_stay_open_until_closed_and_roll_over_at_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = WriterConfig::new(dir.path(), "coll", Compression::Zstd);
    config.max_file_size = 30_000;
    let mut writer = WarcWriter::new(config).unwrap();
    // Incompressible, so that the files really grow.
    let mut block = vec![0u8; 20_000];
    Generated {
        len: 20_007,
        pos: 7,
    }
    .read_exact(&mut block)
    .unwrap();
    let mut names = Vec::new();
    for i in 0..5 {
        let record = NewRecord::new(RecordType::Resource, Block::Bytes(&block))
            .target(&format!("https://example.com/{i}"))
            .content_type("text/plain");
        names.push(writer.write(record).unwrap().filename);
        let listing: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        let open: Vec<&String> = listing.iter().filter(|n| n.ends_with(".open")).collect();
        assert_eq!(
            open.len(),
            1,
            "exactly the file being written is .open: {listing:?}"
        );
        assert_eq!(open[0], &format!("{}.open", names[i]));
    }
    let files = writer.close().unwrap();
    assert!(files.len() >= 2, "rolled over: {files:?}");
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy();
        assert!(
            name.starts_with("coll-") && name.ends_with(".warc.zst"),
            "{name}"
        );
        let mut reader = WarcReader::open(file).unwrap();
        let first = reader.next_record().unwrap().unwrap();
        assert_eq!(first.header.record_type(), Some(RecordType::Warcinfo));
        assert_eq!(first.header.get("WARC-Filename"), Some(name.as_ref()));
    }
    assert!(
        fs::read_dir(dir.path()).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".open"))
    );
    run_ok(cairn().arg("verify").arg(dir.path()));
}

/// A seekable stream of `len` generated bytes, so a huge block needs no memory or disk.
struct Generated {
    len: u64,
    pos: u64,
}

/// 64 KiB of noise that the generated stream repeats: incompressible within a period, and
/// cheap to produce even in a debug build.
fn noise() -> &'static [u8] {
    static NOISE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    NOISE.get_or_init(|| {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        (0..1 << 16)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    })
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let noise = noise();
        let at = (self.pos % noise.len() as u64) as usize;
        let n = buf
            .len()
            .min(noise.len() - at)
            .min((self.len - self.pos) as usize);
        buf[..n].copy_from_slice(&noise[at..at + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Generated {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.pos = match to {
            SeekFrom::Start(p) => p,
            SeekFrom::Current(d) => self.pos.saturating_add_signed(d),
            SeekFrom::End(d) => self.len.saturating_add_signed(d),
        };
        Ok(self.pos)
    }
}

const BIG_CHILD: &str = "CAIRN_TEST_BIG_RECORD_DIR";

/// The work of `a_2_gib_record_keeps_memory_flat`, run in a process of its own so that its
/// peak memory is its own: writes one 2 GiB record and reads it back, then prints the peak.
#[test]
fn big_record_child() {
    let Ok(dir) = std::env::var(BIG_CHILD) else {
        return;
    };
    let len = 2u64 << 30;
    let mut writer = WarcWriter::new(WriterConfig::new(&dir, "big", Compression::Zstd)).unwrap();
    let mut source = Generated { len, pos: 0 };
    let record = NewRecord::new(
        RecordType::Resource,
        Block::Stream {
            reader: &mut source,
            len,
        },
    )
    .target("https://example.com/huge.bin")
    .content_type("application/octet-stream");
    let written = writer.write(record).unwrap();
    let files = writer.close().unwrap();
    let mut reader = WarcReader::open(&files[0]).unwrap();
    reader.next_record().unwrap().unwrap();
    let mut record = reader.next_record().unwrap().unwrap();
    assert_eq!(record.header.content_length(), Some(len));
    let copied = std::io::copy(&mut record.block(), &mut std::io::sink()).unwrap();
    assert_eq!(copied, len);
    println!(
        "PEAK_KIB={} DIGEST={}",
        peak_memory_kib("/proc/self/status").unwrap(),
        written.block_digest
    );
}

#[test]
fn a_2_gib_record_keeps_memory_flat() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_ok(
        Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "writer::big_record_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(BIG_CHILD, dir.path()),
    );
    let text = stdout(&out);
    let peak: u64 = text
        .split("PEAK_KIB=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("child printed no peak: {text}"));
    assert!(
        peak < 64 * 1024,
        "peak RSS {peak} KiB writing and reading a 2 GiB record"
    );
    run_ok(cairn().arg("verify").arg(dir.path()));
}

/// The `warc` crate, an independent reader, sees the same records in cairn's plain and gzip
/// files (it reads gzip as one stream, so per-record members are no obstacle).
#[test]
fn the_warc_crate_reads_what_cairn_writes() {
    for compression in [Compression::None, Compression::Gzip] {
        let dir = tempfile::tempdir().unwrap();
        let (files, written) = write_samples(dir.path(), compression, None, 1);
        // (Its own `from_path` opens files for writing, so the file is opened here.)
        let file = std::fs::File::open(&files[0]).unwrap();
        let stream: Box<dyn Read> = match compression {
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(file)),
            _ => Box::new(file),
        };
        let records: Vec<warc::Record<warc::BufferedBody>> =
            warc::WarcReader::new(std::io::BufReader::new(stream))
                .iter_records()
                .collect::<Result<_, _>>()
                .unwrap();
        assert_eq!(records.len(), written.len() + 1);
        for (record, (sample, _)) in records[1..].iter().zip(&written) {
            assert_eq!(record.warc_id(), sample.id);
            assert_eq!(record.body(), sample.block.as_slice());
        }
    }
}

/// A block source that fails after some bytes, as a spool file on a failing disk would.
struct FailsMidway {
    inner: Generated,
    fail_at: u64,
    digested: bool,
}

impl Read for FailsMidway {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // The digest pass succeeds; the write pass breaks halfway.
        if self.digested && self.inner.pos >= self.fail_at {
            return Err(std::io::Error::other("disk went away"));
        }
        self.inner.read(buf)
    }
}

impl Seek for FailsMidway {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        if self.inner.pos > 0 {
            self.digested = true;
        }
        self.inner.seek(to)
    }
}

#[test]
fn a_record_that_fails_midway_is_cut_back_and_writing_goes_on() {
    for compression in ALL {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = WarcWriter::new(WriterConfig::new(dir.path(), "t", compression)).unwrap();
        let ok = b"kept";
        let record =
            |block| NewRecord::new(RecordType::Resource, block).target("https://example.com/");
        writer.write(record(Block::Bytes(ok))).unwrap();
        let len = 3 << 20;
        let mut source = FailsMidway {
            inner: Generated { len, pos: 0 },
            fail_at: 2 << 20,
            digested: false,
        };
        let failed = writer.write(record(Block::Stream {
            reader: &mut source,
            len,
        }));
        assert!(failed.is_err(), "{compression:?}");
        writer.write(record(Block::Bytes(ok))).unwrap();
        let files = writer.close().unwrap();
        let out = run_ok(cairn().arg("verify").arg(&files[0]));
        assert!(stdout(&out).contains("3 records"), "{}", stdout(&out));
    }
}

#[test]
fn verify_repair_keeps_every_whole_record_of_an_interrupted_file() {
    for compression in ALL {
        let dir = tempfile::tempdir().unwrap();
        let (files, written) = write_samples(dir.path(), compression, None, 1);
        let bytes = fs::read(&files[0]).unwrap();
        // Cut inside the fourth sample record, as a kill mid-write would.
        let (_, cut_in) = &written[3];
        let cut = (cut_in.offset + cut_in.length / 2) as usize;
        let open = dir.path().join(format!(
            "{}.open",
            files[0].file_name().unwrap().to_string_lossy()
        ));
        fs::remove_file(&files[0]).unwrap();
        fs::write(&open, &bytes[..cut]).unwrap();
        let out = run_ok(cairn().args(["verify", "--repair"]).arg(&open));
        assert!(
            stdout(&out).contains("kept 4 records"),
            "{compression:?}: {}",
            stdout(&out)
        );
        assert!(!open.exists() && files[0].exists());
        let out = run_ok(cairn().arg("verify").arg(&files[0]));
        assert!(stdout(&out).contains("4 records"), "{}", stdout(&out));
        // A file that is not unfinished is refused.
        let out = cairn()
            .args(["verify", "--repair"])
            .arg(&files[0])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
    }
}
