//! The WARC reader and everything built on it (verify, index, capture lookup, repair) on
//! hostile bytes, in all three compressions. The first byte picks the framing: the rest read as
//! it is (so corrupt gzip and zstd streams from the seed corpus are explored too), or split
//! before each `WARC/` and packed one gzip member or one zstd frame per piece, so the record
//! parser is explored under each codec's member boundaries.
//!
//! Beyond "no panic", two promises are checked: in a file that verifies, every offset the index
//! gives reads back as a record; and a repaired file reads whole to its end.
#![no_main]

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use cairn::warc::WarcReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let bytes = match mode % 3 {
        0 => rest.to_vec(),
        1 => pack(rest, gzip_member),
        _ => pack(rest, zstd_frame),
    };
    let path = scratch("input.warc");
    std::fs::write(&path, &bytes).unwrap();

    let verified = cairn::warc::verify::verify_file(&path).ok();
    read_every_block(&path);
    let index = cairn::index::index_file(&path);
    // The zstd index reads headers only, so damage inside a block is verify's to find.
    for entry in index.captures.into_iter().filter(|_| verified) {
        let (offset, length) = (entry.offset, entry.length);
        cairn::warc::reader::read_capture(&path, offset, 1 << 16)
            .unwrap_or_else(|e| panic!("indexed offset {offset} does not read: {e}"));
        cairn::warc::reader::read_capture_exact(&path, offset, length, 1 << 16)
            .unwrap_or_else(|e| panic!("indexed record {offset}+{length} does not read: {e}"));
    }

    let open = scratch("input.warc.open");
    let repaired = scratch("input.warc");
    std::fs::remove_file(&repaired).unwrap();
    std::fs::write(&open, &bytes).unwrap();
    if let Ok(report) = cairn::warc::repair::repair(&open)
        && let Some(repaired) = &report.repaired
    {
        let mut reader = WarcReader::open(repaired).unwrap();
        let mut records = 0;
        while let Some(mut record) = reader.next_record().unwrap() {
            io::copy(&mut record.block(), &mut io::sink()).unwrap();
            records += 1;
        }
        assert_eq!(
            records, report.kept_records,
            "the repaired file reads whole"
        );
        std::fs::remove_file(repaired).unwrap();
    }
    let _ = std::fs::remove_file(&open);
});

fn read_every_block(path: &Path) {
    let Ok(mut reader) = WarcReader::open(path) else {
        return;
    };
    while let Ok(Some(mut record)) = reader.next_record() {
        if io::copy(&mut record.block(), &mut io::sink()).is_err() {
            return;
        }
    }
}

/// The input split before each `WARC/`, each piece compressed on its own, concatenated.
fn pack(data: &[u8], compress: fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let mut starts: Vec<usize> = data
        .windows(5)
        .enumerate()
        .filter(|(i, w)| *i > 0 && *w == b"WARC/")
        .map(|(i, _)| i)
        .collect();
    starts.insert(0, 0);
    starts.push(data.len());
    starts
        .windows(2)
        .flat_map(|w| compress(&data[w[0]..w[1]]))
        .collect()
}

fn gzip_member(piece: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(piece).unwrap();
    encoder.finish().unwrap()
}

fn zstd_frame(piece: &[u8]) -> Vec<u8> {
    zstd::bulk::compress(piece, 1).unwrap()
}

/// A file in this process's own scratch directory (fuzz jobs run side by side).
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cairn-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}
