//! `cairn archive --zstd-dictionary`: the seed post's source, archived into a new collection
//! (too few text records yet: written without), again (a dictionary trained from the first
//! crawl, written as the collection's, and used), and into another collection that is given
//! that dictionary. The files verify, FastWARC reads them, the plain zstd CLI decompresses them
//! with the dictionary taken out of their frame (warcio checks what it gives), replay and the
//! offline copy read them; with gzip the option is a usage error.

use std::fs;
use std::path::{Path, PathBuf};

use crate::archive::{archive, archive_ok, warc_files};
use crate::replay::ReplayServer;
use crate::site;
use crate::support::*;

const DICT_FRAME_MAGIC: [u8; 4] = 0x184D_2A5Du32.to_le_bytes();

/// Archives the article with `--zstd-dictionary` into `collection`; returns the run's JSON
/// summary.
fn archive_with_dictionary(
    archives: &Path,
    fixture: &crate::fixture::HttpsFixture,
    collection: &str,
) -> serde_json::Value {
    let out = archive_ok(
        archives,
        fixture,
        &[
            "--no-progress",
            "--json",
            "-c",
            collection,
            "--zstd-dictionary",
        ],
        &[site::ARTICLE],
    );
    serde_json::from_slice(&out.stdout).expect("--json prints JSON")
}

/// The files of `collection` that the last run added.
fn new_files(archives: &Path, collection: &str, before: &[PathBuf]) -> Vec<PathBuf> {
    let all = warc_files(archives, collection);
    all.into_iter().filter(|f| !before.contains(f)).collect()
}

/// The dictionary a file's frame holds, decompressed by the zstd CLI into `out`.
fn dictionary_of(file: &Path, out: &Path) -> Vec<u8> {
    let bytes = fs::read(file).unwrap();
    assert_eq!(
        bytes[..4],
        DICT_FRAME_MAGIC,
        "{} starts with a dictionary frame",
        file.display()
    );
    let size = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
    let compressed = out.with_extension("zst");
    fs::write(&compressed, &bytes[8..8 + size]).unwrap();
    run_ok(
        tool("zstd")
            .args(["-d", "-q", "-f"])
            .arg(&compressed)
            .arg("-o")
            .arg(out),
    );
    fs::read(out).unwrap()
}

/// Records FastWARC reads in a file, by its own iterator (not only `fastwarc check`'s exit).
fn fastwarc_records(file: &Path) -> usize {
    let script = "import sys\n\
        from fastwarc.warc import ArchiveIterator\n\
        from fastwarc.stream_io import ZstdReader\n\
        print(sum(1 for r in ArchiveIterator(ZstdReader(sys.argv[1]), parse_http=False)))\n";
    let out = run_ok(tool("python3").args(["-c", script]).arg(file));
    stdout(&out).trim().parse().unwrap()
}

/// How many records cairn reads in a file.
fn cairn_records(file: &Path) -> usize {
    let mut reader = cairn::warc::WarcReader::open(file).unwrap();
    let mut n = 0;
    while reader.next_record().unwrap().is_some() {
        n += 1;
    }
    n
}

/// Checks a file written with `dictionary`: every reader agrees on it.
fn assert_readers_agree(file: &Path, dictionary: &[u8], work: &Path) {
    let records = cairn_records(file);
    assert_eq!(
        dictionary_of(file, &work.join("frame-dictionary")),
        dictionary
    );
    // FastWARC: its check verifies each digest; its iterator counts the same records.
    let out = run_ok(tool("fastwarc").arg("check").arg(file));
    let said = format!("{} {}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(
        said.contains(&format!("{records} records were verified successfully")),
        "{said}"
    );
    assert_eq!(fastwarc_records(file), records);
    // The zstd CLI skips the frame, and decompresses the records with the dictionary given;
    // warcio checks every digest of what it gives.
    let plain = work.join("with-dictionary.warc");
    let dict = work.join("frame-dictionary");
    run_ok(
        tool("zstd")
            .args(["-d", "-q", "-f", "-D"])
            .arg(&dict)
            .arg(file)
            .arg("-o")
            .arg(&plain),
    );
    let out = run_ok(tool("warcio").args(["check", "-v"]).arg(&plain));
    assert_eq!(stdout(&out).matches("WARC-Record-ID").count(), records);
    run_ok(cairn().arg("verify").arg(file));
    // recompress reads it too: a copy converted to gzip gives the same bytes.
    let copy = work.join("copy.warc.zst");
    fs::copy(file, &copy).unwrap();
    run_ok(cairn().args(["recompress", "--to", "gzip"]).arg(&copy));
    let gz = work.join("copy.warc.gz");
    let converted = run_ok(tool("gzip").arg("-dc").arg(&gz)).stdout;
    assert_eq!(converted, fs::read(&plain).unwrap());
    fs::remove_file(gz).unwrap();
}

#[test]
fn crawls_train_the_collections_dictionary_and_write_with_it() {
    if !requires(&["zstd", "gzip", "warcio", "fastwarc", "python:fastwarc"]) {
        return;
    }
    let fixture = site::start().unwrap();
    let work = tempfile::tempdir().unwrap();
    let archives = work.path().join("archives");

    // A new collection has no text records to train on: written without, and said so.
    let first = archive_with_dictionary(&archives, &fixture, "default");
    assert_eq!(
        first["zstd_dictionary"]["outcome"], "too_few_samples",
        "{first}"
    );
    let dictionary_path = archives.join("default/zstd-dictionary");
    assert!(!dictionary_path.exists());
    let first_files = warc_files(&archives, "default");
    assert_ne!(fs::read(&first_files[0]).unwrap()[..4], DICT_FRAME_MAGIC);

    // The second crawl trains on the first's text records and writes with the dictionary.
    let second = archive_with_dictionary(&archives, &fixture, "default");
    assert_eq!(second["zstd_dictionary"]["outcome"], "trained", "{second}");
    let samples = second["zstd_dictionary"]["samples"].as_u64().unwrap();
    assert!(samples >= 20, "{second}");
    let dictionary = fs::read(&dictionary_path).unwrap();
    let id = second["zstd_dictionary"]["id"].as_u64().unwrap();
    assert_eq!(dictionary[..4], 0xEC30_A437u32.to_le_bytes());
    assert_eq!(
        u64::from(u32::from_le_bytes(dictionary[4..8].try_into().unwrap())),
        id
    );
    let second_files = new_files(&archives, "default", &first_files);
    assert_eq!(second_files.len(), 1);
    assert_readers_agree(&second_files[0], &dictionary, work.path());

    // Another collection given that dictionary keeps it, and never has it replaced.
    fs::create_dir_all(archives.join("fresh")).unwrap();
    fs::copy(&dictionary_path, archives.join("fresh/zstd-dictionary")).unwrap();
    let third = archive_with_dictionary(&archives, &fixture, "fresh");
    assert_eq!(third["zstd_dictionary"]["outcome"], "kept", "{third}");
    assert_eq!(third["zstd_dictionary"]["id"].as_u64(), Some(id));
    let fresh_files = warc_files(&archives, "fresh");
    assert_readers_agree(&fresh_files[0], &dictionary, work.path());
    let again = archive_with_dictionary(&archives, &fixture, "default");
    assert_eq!(again["zstd_dictionary"]["outcome"], "kept", "{again}");
    assert_eq!(
        fs::read(&dictionary_path).unwrap(),
        dictionary,
        "never replaced"
    );
    drop(fixture);

    // Replay and the offline copy read the dictionary files, with no fixture running: every
    // image of the article in the collection whose responses are all in a dictionary file.
    let server = ReplayServer::start(&archives);
    let entries = crate::archive::index_entries(&archives, "fresh");
    let mut images = 0;
    for entry in entries.iter().filter(|e| e.status == Some(200)) {
        let (status, _, body) = server.get(&format!("/fresh/{}id_/{}", entry.timestamp, entry.url));
        assert_eq!(status, 200, "{}", entry.url);
        if entry.url.contains("imgcdn.cna.com.tw") {
            let url = url::Url::parse(&entry.url).unwrap();
            assert_eq!(body, crate::fixture::jpeg(url.path()), "{}", entry.url);
            images += 1;
        }
    }
    assert!(images >= 16, "{images} images replayed");
    let (status, _, page) = server.get(&format!("/default/2099/{}", site::ARTICLE));
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&page).contains("強調通過和談解決烏克蘭危機"));
    let offline = archives.join("fresh/offline/www.cna.com.tw/news/aopl/202303220008.aspx.html");
    assert!(
        fs::read_to_string(offline)
            .unwrap()
            .contains("強調通過和談解決烏克蘭危機")
    );
    // `cairn index` reads the dictionary files into the index the crawls made as they wrote.
    for collection in ["default", "fresh"] {
        let path = archives.join(collection).join("index.cdxj");
        let made_while_writing = fs::read_to_string(&path).unwrap();
        let out = run_ok(
            cairn()
                .arg("--archives")
                .arg(&archives)
                .args(["-c", collection, "--json", "index"]),
        );
        let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(stats["problems"], serde_json::json!([]), "{stats}");
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            made_while_writing,
            "{collection}"
        );
    }
}

#[test]
fn a_dictionary_with_gzip_is_a_usage_error() {
    let fixture = site::start().unwrap();
    let archives = tempfile::tempdir().unwrap();
    let out = archive(
        archives.path(),
        &fixture,
        &["--zstd-dictionary", "--compression", "gzip"],
        &[site::ARTICLE],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr.trim(),
        "error: --zstd-dictionary needs --compression zstd (the default), not gzip"
    );
    assert!(
        warc_files(archives.path(), "default").is_empty(),
        "nothing written"
    );
}
