//! `cairn index` agrees with cdxj-indexer (PyPI) on the same files, and its zstd fast path
//! agrees with reading every record.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use cairn::index::{Capture, index_file};
use cairn::warc::Compression;

use crate::foreign::{warcio_file, wget_file};
use crate::support::*;

/// cdxj-indexer's lines for one file, keyed by (url, timestamp, offset).
fn cdxj_indexer(path: &Path) -> Vec<Capture> {
    let out = run_ok(tool("cdxj-indexer").arg(path));
    stdout(&out)
        .lines()
        .map(|l| Capture::parse(l).unwrap_or_else(|_| panic!("unparsable cdxj-indexer line {l}")))
        .collect()
}

/// Runs `cairn index` on a collection holding `files` and parses its index.cdxj.
fn cairn_index(files: &[&Path]) -> Vec<Capture> {
    let archives = tempfile::tempdir().unwrap();
    let warc_dir = archives.path().join("coll/warc");
    fs::create_dir_all(&warc_dir).unwrap();
    for f in files {
        fs::copy(f, warc_dir.join(f.file_name().unwrap())).unwrap();
    }
    run_ok(
        cairn()
            .arg("--archives")
            .arg(archives.path())
            .args(["-c", "coll", "index"]),
    );
    let text = fs::read_to_string(archives.path().join("coll/index.cdxj")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted, "index.cdxj is sorted");
    lines.iter().map(|l| Capture::parse(l).unwrap()).collect()
}

fn key(e: &Capture) -> (String, String, String, String) {
    (
        e.filename.clone(),
        e.offset.to_string(),
        e.url.clone(),
        e.timestamp.clone(),
    )
}

#[test]
fn cairn_index_agrees_with_cdxj_indexer() {
    if !requires(&["cdxj-indexer", "python3", "python:warcio", "wget"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for compression in [Compression::Gzip, Compression::None] {
        let (written, _) =
            write_samples(&dir.path().join(compression.name()), compression, None, 3);
        files.extend(written);
    }
    files.push(warcio_file(dir.path(), true));
    files.push(warcio_file(dir.path(), false));
    files.push(wget_file(dir.path(), true));
    files.push(wget_file(dir.path(), false));

    let theirs: BTreeMap<_, Capture> = files
        .iter()
        .flat_map(|f| cdxj_indexer(f))
        .map(|e| (key(&e), e))
        .collect();
    let refs: Vec<&Path> = files.iter().map(|f| f.as_path()).collect();
    let ours: BTreeMap<_, Capture> = cairn_index(&refs)
        .into_iter()
        .map(|e| (key(&e), e))
        .collect();

    assert!(
        theirs.len() > 30,
        "a real comparison: {} captures",
        theirs.len()
    );
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>(),
        "same captures (file, offset, url, timestamp)"
    );
    for (k, their) in &theirs {
        let our = &ours[k];
        assert_eq!(our.length, their.length, "length of {k:?}");
        assert_eq!(our.urlkey, their.urlkey, "SURT of {k:?}");
        assert_eq!(our.status, their.status, "status of {k:?}");
        assert_eq!(our.mime, their.mime, "mime of {k:?}");
        assert_eq!(our.digest, their.digest, "digest of {k:?}");
    }
}

#[test]
fn zstd_fast_path_matches_gzip_index_and_offsets_read_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (zst, written) = write_samples(&dir.path().join("z"), Compression::Zstd, None, 2);
    let (gz, _) = write_samples(&dir.path().join("g"), Compression::Gzip, None, 2);
    let z = index_file(&zst[0]).captures;
    let g = index_file(&gz[0]).captures;
    assert_eq!(z.len(), g.len());
    for (a, b) in z.iter().zip(&g) {
        assert_eq!((&a.urlkey, &a.timestamp), (&b.urlkey, &b.timestamp));
        assert_eq!(
            (&a.url, &a.mime, &a.status, &a.digest),
            (&b.url, &b.mime, &b.status, &b.digest)
        );
    }
    // Offsets and lengths are exactly where the writer put each record.
    for entry in &z {
        let offset: u64 = entry.offset;
        let length: u64 = entry.length;
        assert!(
            written
                .iter()
                .any(|(_, w)| w.offset == offset && w.length == length),
            "{entry:?}"
        );
    }
    // A zstd file of another layout (each record in several frames) takes the general path.
    let (plain, plain_written) = write_samples(&dir.path().join("p"), Compression::None, None, 1);
    let bytes = fs::read(&plain[0]).unwrap();
    let mut bounds: Vec<usize> = plain_written
        .iter()
        .map(|(_, w)| w.offset as usize)
        .collect();
    bounds.insert(0, 0);
    bounds.push(bytes.len());
    let mut multi = Vec::new();
    for record in bounds.windows(2) {
        for chunk in bytes[record[0]..record[1]].chunks(1000) {
            multi.extend(zstd::bulk::compress(chunk, 3).unwrap());
        }
    }
    let path = dir.path().join("multi.warc.zst");
    fs::write(&path, multi).unwrap();
    let entries = index_file(&path).captures;
    assert_eq!(entries.len(), index_file(&plain[0]).captures.len());
}
