//! `cairn index` agrees with cdxj-indexer (PyPI) on the same files, and its zstd fast path
//! agrees with reading every record.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use cairn::index::{Capture, WrittenIndex, index_file};
use cairn::warc::Compression;

use crate::foreign::{warcio_file, wget_file};
use crate::support::*;

/// cdxj-indexer's lines for one file, in file order.
fn cdxj_indexer_lines(path: &Path) -> Vec<String> {
    let out = run_ok(tool("cdxj-indexer").arg(path));
    stdout(&out).lines().map(str::to_string).collect()
}

/// cdxj-indexer's lines for one file, parsed.
fn cdxj_indexer(path: &Path) -> Vec<Capture> {
    cdxj_indexer_lines(path)
        .iter()
        .map(|l| Capture::parse(l).unwrap_or_else(|_| panic!("unparsable cdxj-indexer line {l}")))
        .collect()
}

/// Runs `cairn index` on a collection holding `files` and returns its index.cdxj lines.
fn cairn_index_lines(files: &[&Path]) -> Vec<String> {
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
    text.lines().map(str::to_string).collect()
}

/// Runs `cairn index` on a collection holding `files` and parses its index.cdxj.
fn cairn_index(files: &[&Path]) -> Vec<Capture> {
    cairn_index_lines(files)
        .iter()
        .map(|l| Capture::parse(l).unwrap())
        .collect()
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

/// A crawl's index lines are made as its writer writes each record, not read back: line for
/// line they are the ones reading the files makes, in every compression, for every kind of
/// record (a revisit, a 404, the post as a resource, metadata, requests).
#[test]
fn lines_made_while_writing_are_the_lines_reading_makes() {
    let dir = tempfile::tempdir().unwrap();
    for compression in [Compression::Zstd, Compression::Gzip, Compression::None] {
        let (files, records) =
            write_samples(&dir.path().join(compression.name()), compression, None, 2);
        let mut written = WrittenIndex::default();
        for (sample, record) in &records {
            let http = sample
                .content_type
                .as_deref()
                .unwrap_or("")
                .starts_with("application/http");
            let head_end = sample.block.windows(4).position(|w| w == b"\r\n\r\n");
            let head = head_end
                .filter(|_| http)
                .map(|end| &sample.block[..end + 4]);
            written.add(record, head);
        }
        for file in &files {
            let name = file.file_name().unwrap().to_str().unwrap();
            let made: Vec<&str> = written
                .lines_of(name)
                .unwrap_or_else(|| panic!("{name}: every line known"))
                .iter()
                .map(String::as_str)
                .collect();
            let read: Vec<String> = index_file(file)
                .captures
                .iter()
                .map(Capture::to_line)
                .collect();
            assert!(
                made.len() >= 10,
                "{name}: a real comparison ({} lines)",
                made.len()
            );
            assert_eq!(made, read, "{name}");
        }
    }
}

/// Target URIs as crawlers write them when a page links carelessly: spaces, non-ASCII, `|`,
/// quotes, backslashes, a tab, DEL, escapes, IDN hosts, wget's angle brackets, a fragment, a
/// port `surt` rejects.
const AWKWARD_URIS: &[&str] = &[
    "http://example.com/a b/c d.html?q=x y",
    "https://www.example.com/caf\u{e9}/\u{65b0}\u{805e}?q=\u{5024}&a=\u{1f600}",
    "https://b\u{fc}cher.de/Stra\u{df}e?x=1",
    "http://example.com/a|b?c=|d|",
    "http://example.com/\"quoted\"/it's",
    "http://example.com/back\\slash",
    "http://example.com/tab\there",
    "http://example.com/del\u{7f}here",
    "http://example.com/%7Euser/%E6%96%B0?q=%20a+b",
    "<http://example.com/angle brackets>",
    "http://example.com/page#frag ment",
    "http://example.com:8a/bad port",
    "http://example.com/{braces}^`caret`<lt>",
];

/// The JSON string token of a field as written, quotes and escapes and all.
fn raw_json_string<'a>(line: &'a str, field: &str) -> &'a str {
    let name = format!("\"{field}\":");
    let at = line.find(&name).expect("the field") + name.len();
    let value = line[at..].trim_start();
    let mut escaped = false;
    for (i, c) in value.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return &value[..=i],
            _ => {}
        }
    }
    panic!("unterminated string in {line}")
}

#[test]
fn index_url_field_is_escaped_as_cdxj_indexer_does() {
    if !requires(&["cdxj-indexer", "python3", "python:warcio"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("awkward.warc.gz");
    let script = r#"
import io, sys
from warcio.warcwriter import WARCWriter
with open(sys.argv[1], "wb") as f:
    w = WARCWriter(f, gzip=True)
    for uri in sys.argv[2:]:
        body = io.BytesIO(uri.encode())
        w.write_record(w.create_warc_record(uri, "resource", payload=body, warc_content_type="text/plain"))
"#;
    run_ok(
        tool("python3")
            .args(["-c", script])
            .arg(&path)
            .args(AWKWARD_URIS),
    );

    // Lines by offset: cdxj-indexer writes file order, cairn sorts by key.
    let by_offset = |lines: Vec<String>| -> BTreeMap<u64, String> {
        lines
            .into_iter()
            .map(|l| (Capture::parse(&l).unwrap().offset, l))
            .collect()
    };
    let theirs = by_offset(cdxj_indexer_lines(&path));
    let ours = by_offset(cairn_index_lines(&[path.as_path()]));
    assert_eq!(theirs.len(), AWKWARD_URIS.len(), "{theirs:#?}");
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>()
    );
    for (offset, their) in &theirs {
        let our = &ours[offset];
        let key = |line: &str| line.split(' ').next().unwrap().to_string();
        assert_eq!(key(our), key(their), "urlkey at {offset}:\n{our}\n{their}");
        assert_eq!(
            raw_json_string(our, "url"),
            raw_json_string(their, "url"),
            "url as written, at {offset}"
        );
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

/// A crawl merges its captures into the index, updates the offline copy, and reads no other
/// WARC for either: an earlier file whose
/// bytes were replaced behind the index's back (size and time kept) is not read again, and
/// the merged index is line for line what a whole rebuild of the readable files gives. A file
/// that changed as the index can see (its size) makes the next crawl rebuild the index whole.
#[test]
fn a_crawl_merges_its_captures_into_the_index_without_reading_older_files() {
    use crate::archive::{archive_ok, warc_files};
    let fixture = crate::site::start().unwrap();
    let archives = tempfile::tempdir().unwrap();
    let root = archives.path();
    let first = "https://www.cna.com.tw/news/aopl/202303220008.aspx";
    archive_ok(root, &fixture, &["--no-progress", "--depth", "0"], &[first]);
    let old_files = warc_files(root, "default");
    let old_lines = fs::read_to_string(root.join("default/index.cdxj")).unwrap();

    // The first crawl's file, garbled in place: size and modification time as they were.
    let old = &old_files[0];
    let modified = fs::metadata(old).unwrap().modified().unwrap();
    let size = fs::metadata(old).unwrap().len() as usize;
    let kept = fs::read(old).unwrap();
    fs::write(old, vec![b'x'; size]).unwrap();
    fs::File::options()
        .write(true)
        .open(old)
        .unwrap()
        .set_modified(modified)
        .unwrap();

    let second = "https://www.cna.com.tw/news/aopl/202303210001.aspx";
    let out = archive_ok(
        root,
        &fixture,
        &["--no-progress", "--depth", "0"],
        &[second],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Neither the index nor the offline copy read it (each says `error:` of what it cannot).
    let unreadable = format!("error: {}", old.display());
    assert!(
        !stderr.contains("error:"),
        "an older file was read: {stderr}"
    );
    let merged = fs::read_to_string(root.join("default/index.cdxj")).unwrap();
    assert!(merged.lines().count() > old_lines.lines().count());
    for line in old_lines.lines() {
        assert!(merged.contains(line), "{line} kept");
    }

    // Restored, the whole rebuild agrees with the merge line for line.
    fs::write(old, &kept).unwrap();
    run_ok(cairn().arg("--archives").arg(root).arg("index"));
    let rebuilt = fs::read_to_string(root.join("default/index.cdxj")).unwrap();
    assert_eq!(merged, rebuilt);

    // A file changed as the index sees it: the next crawl rebuilds, and reports the damage.
    let mut grown = kept.clone();
    grown.extend_from_slice(b"garbage after the last record\r\n");
    fs::write(old, &grown).unwrap();
    let out = crate::archive::archive(root, &fixture, &["--no-progress", "--depth", "0"], &[first]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&unreadable), "{stderr}");
}
