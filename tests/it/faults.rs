//! Faults beyond a hostile server's answers: a page far larger than any real one, URLs whose
//! bytes are not UTF-8, and a disk that fills up mid-crawl. Each ends in the right records or a
//! one-line error, with nothing already archived lost.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use crate::archive::{archive_ok, assert_valid_warcs, index_entries, warc_files};
use crate::fixture::{Handler, HttpsFixture, Request, Step, jpeg, response, response_with};
use crate::support::*;

/// The response record for `url`: its WARC header fields and HTTP head.
pub fn response_record(files: &[std::path::PathBuf], url: &str) -> (cairn::warc::Header, Vec<u8>) {
    for file in files {
        let mut reader = cairn::warc::WarcReader::open(file).unwrap();
        while let Some(record) = reader.next_record().unwrap() {
            if record.header.get("WARC-Type") == Some("response")
                && record.header.target_uri() == Some(url)
            {
                let offset = record.offset;
                let header = record.header.clone();
                drop(record);
                let capture = cairn::warc::reader::read_capture(file, offset, 0).unwrap();
                return (header, capture.http_head);
            }
        }
    }
    panic!("no response record for {url}");
}

#[test]
fn a_100_mb_page_is_stored_whole_while_memory_stays_bounded() {
    if !requires(&["zstd", "warcio"]) {
        return;
    }
    const SIZE: usize = 100 << 20;
    let mut page = b"<html><head><title>big</title></head><body><img src=/first.jpg>".to_vec();
    let filler = b"<p>All the news that fits, and a great deal that does not.</p>\n";
    while page.len() < SIZE - 100 {
        page.extend_from_slice(filler);
    }
    page.extend_from_slice(b"<img src=/last.jpg></body></html>");
    let digest = format!("sha256:{}", sha256_hex(&page));
    let page = Arc::new(page);
    let served = page.clone();
    let handler: Handler = Arc::new(move |req: &Request| match req.target.as_str() {
        "/" => vec![Step::Send(response("200 OK", "text/html", &served))],
        path => vec![Step::Send(response("200 OK", "image/jpeg", &jpeg(path)))],
    });
    let fixture = HttpsFixture::start(&["big.example.com"], handler).unwrap();
    let archives = tempfile::tempdir().unwrap();
    let (out, peak_mib) = run_measuring_memory(
        cairn()
            .arg("--archives")
            .arg(archives.path())
            .args(["archive", "--no-progress", "--robots", "ignore"])
            .args(fixture.args())
            .arg("https://big.example.com/"),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    eprintln!("100 MB page: peak memory {peak_mib} MiB");

    let files = warc_files(archives.path(), "default");
    assert_valid_warcs(&files);
    let (header, _) = response_record(&files, "https://big.example.com/");
    assert_eq!(header.get("WARC-Payload-Digest"), Some(digest.as_str()));
    assert_eq!(header.get("WARC-Truncated"), None, "stored whole");
    let entries = index_entries(archives.path(), "default");
    let archived = |path: &str| {
        entries
            .iter()
            .any(|e| e.url == format!("https://big.example.com{path}"))
    };
    assert!(
        archived("/first.jpg"),
        "links early in the page are followed"
    );
    // Links past what is parsed are not, and the report says so.
    assert!(!archived("/last.jpg"));
    assert!(
        stderr.contains(
            "https://big.example.com/: stored whole, but links were read from its first 8.4 MB only"
        ),
        "{stderr}"
    );
    // The offline copy is whole too, its one archived reference rewritten, and the image
    // that was not archived (past what the crawl read) fenced, its URL kept aside.
    let offline = std::fs::read(
        archives
            .path()
            .join("default/offline/big.example.com/index.html"),
    )
    .unwrap();
    let tail = String::from_utf8_lossy(&offline[offline.len() - 200..]).into_owned();
    assert!(
        offline.len() > SIZE - 200 && tail.ends_with("</body></html>"),
        "{tail}"
    );
    assert!(
        tail.contains("data-cairn-original=\"/last.jpg\"") && !tail.contains(" src="),
        "{tail}"
    );
    assert!(!offline[..200].windows(15).any(|w| w == b"src=/first.jpg>"));
    // Bodies stream to disk, into the WARC and into the offline copy; only the parsed head of
    // the page is ever in memory.
    assert!(
        peak_mib < 128,
        "peak memory {peak_mib} MiB for a 100 MB page"
    );
}

#[test]
fn urls_that_are_not_utf8_are_escaped_as_browsers_do() {
    if !requires(&["zstd", "warcio"]) {
        return;
    }
    let handler: Handler = Arc::new(|req: &Request| match req.target.as_str() {
        "/" => vec![Step::Send(response(
            "200 OK",
            "text/html; charset=utf-8",
            b"<a href=\"/bad-\xff-link\">a</a><img src=\"/img-\xe9.jpg\"><a href=/moved>m</a>\
              <a href=/latin1>l</a>",
        ))],
        "/latin1" => vec![Step::Send(response(
            "200 OK",
            "text/html; charset=windows-1252",
            b"<a href=\"/caf\xe9\">caf\xe9</a>",
        ))],
        // A raw Latin-1 byte, then raw UTF-8: each byte is kept and percent-escaped.
        "/moved" => vec![Step::Send(
            [
                b"HTTP/1.1 302 Found\r\nLocation: /to-\xe9-\xc3\xa9\r\n".to_vec(),
                b"Content-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
            ]
            .concat(),
        )],
        path => vec![Step::Send(response("200 OK", "image/jpeg", &jpeg(path)))],
    });
    let fixture = HttpsFixture::start(&["bytes.example.com"], handler).unwrap();
    let archives = tempfile::tempdir().unwrap();
    archive_ok(
        archives.path(),
        &fixture,
        &["--no-progress", "--robots", "ignore", "--depth", "2"],
        &["https://bytes.example.com/"],
    );
    let mut requested: Vec<String> = fixture.requested().into_iter().map(|r| r.target).collect();
    requested.sort();
    assert_eq!(
        requested,
        [
            "/",
            // Invalid UTF-8 in a UTF-8 page decodes to U+FFFD, as in every browser.
            "/bad-%EF%BF%BD-link",
            // A windows-1252 page's é is U+00E9, sent in UTF-8.
            "/caf%C3%A9",
            "/img-%EF%BF%BD.jpg",
            "/latin1",
            "/moved",
            "/to-%E9-%C3%A9",
        ]
    );
    let files = warc_files(archives.path(), "default");
    assert_valid_warcs(&files);
    let (_, head) = response_record(&files, "https://bytes.example.com/moved");
    assert!(
        head.windows(18)
            .any(|w| w.eq_ignore_ascii_case(b"Location: /to-\xe9-\xc3\xa9")),
        "the redirect's record keeps the bytes as sent: {}",
        String::from_utf8_lossy(&head)
    );
    assert_eq!(index_entries(archives.path(), "default").len(), 7);

    // A seed that is not UTF-8 on the command line: a usage error, not a panic.
    use std::os::unix::ffi::OsStrExt;
    let out = cairn()
        .arg("--archives")
        .arg(archives.path())
        .arg("archive")
        .arg(std::ffi::OsStr::from_bytes(
            b"https://bytes.example.com/\xff",
        ))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error: ") && !stderr.contains("panicked"),
        "{stderr}"
    );
}

#[test]
fn a_full_disk_ends_in_a_clear_error_and_closed_warcs_stay_whole() {
    if !requires(&["mount-namespaces", "zstd", "warcio"]) {
        return;
    }
    // Incompressible images, 200 KB each: 40 of them cannot fit in a 3 MB disk.
    let handler: Handler = Arc::new(move |req: &Request| match req.target.as_str() {
        "/small" => vec![Step::Send(response(
            "200 OK",
            "text/html",
            b"<title>small</title><img src=/small.jpg>",
        ))],
        "/big" => {
            let images: String = (0..40).map(|i| format!("<img src=/n{i}.jpg>")).collect();
            vec![Step::Send(response(
                "200 OK",
                "text/html",
                images.as_bytes(),
            ))]
        }
        path => {
            let seed = path
                .bytes()
                .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
            vec![Step::Send(response_with(
                "200 OK",
                &[("Content-Type", "image/jpeg")],
                &noise(seed, 200_000),
            ))]
        }
    });
    let fixture = HttpsFixture::start(&["disk.example.com"], handler).unwrap();
    let outside = tempfile::tempdir().unwrap();
    let disk = outside.path().join("disk");
    let kept = outside.path().join("kept");
    std::fs::create_dir_all(&disk).unwrap();
    let archive_cmd = |target: &str| {
        let mut words = vec![
            env!("CARGO_BIN_EXE_cairn").to_string(),
            "--archives".into(),
            disk.display().to_string(),
            "archive".into(),
            "--no-progress".into(),
            "--robots".into(),
            "ignore".into(),
        ];
        words.extend(fixture.args());
        words.push(format!("https://disk.example.com{target}"));
        words
            .iter()
            .map(|w| format!("'{w}'"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    // All inside one mount namespace: the tmpfs vanishes with it, so what is left is copied
    // out for the checks below.
    let script = format!(
        "set -e\n\
         mount -t tmpfs -o size=3m tmpfs '{disk}'\n\
         {small} 2>'{out}/small.err'\n\
         set +e\n\
         {big} 2>'{out}/big.err'\n\
         echo $? >'{out}/big.status'\n\
         cp -a '{disk}' '{kept}'\n",
        disk = disk.display(),
        out = outside.path().display(),
        kept = kept.display(),
        small = archive_cmd("/small"),
        big = archive_cmd("/big"),
    );
    run_ok(Command::new("unshare").args(["--mount", "sh", "-c", &script]));

    let read = |name: &str| std::fs::read_to_string(outside.path().join(name)).unwrap();
    let stderr = read("big.err");
    assert_eq!(read("big.status").trim(), "1", "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let last = stderr.lines().last().unwrap_or("");
    assert!(
        last.starts_with("error: ") && last.contains("No space left on device"),
        "{stderr}"
    );

    // The first crawl's WARC, closed before the disk filled, is whole and still indexed.
    let warc_dir = kept.join("default/warc");
    let mut closed = Vec::new();
    for entry in std::fs::read_dir(&warc_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().ends_with(".open") {
            // The interrupted file mends to its whole records.
            run_ok(cairn().args(["verify", "--repair"]).arg(&path));
        } else {
            closed.push(path);
        }
    }
    assert!(!closed.is_empty());
    assert_valid_warcs(&closed);
    let index = std::fs::read_to_string(kept.join("default/index.cdxj")).unwrap();
    assert!(
        index
            .lines()
            .filter_map(|l| cairn::index::Capture::parse(l).ok())
            .any(|e| e.url == "https://disk.example.com/small"),
        "{index}"
    );
    check_index_names_whole_records(&kept.join("default"), &index);
}

/// Every line of the index points at a record that reads.
fn check_index_names_whole_records(collection: &Path, index: &str) {
    for entry in index
        .lines()
        .filter_map(|l| cairn::index::Capture::parse(l).ok())
    {
        let file = collection.join("warc").join(&entry.filename);
        let offset = entry.offset;
        cairn::warc::reader::read_capture(&file, offset, 1 << 20)
            .unwrap_or_else(|e| panic!("{}: {e}", entry.url));
    }
}
