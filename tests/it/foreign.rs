//! WARCs written by other tools (warcio, GNU wget) are read and verified; damaged files are
//! rejected with one clear line naming file and offset, never a panic.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use cairn::warc::{Compression, WarcReader};

use crate::support::*;

/// Writes a WARC with warcio: warcinfo, request, response, a revisit, resource and metadata.
pub fn warcio_file(dir: &Path, gzip: bool) -> PathBuf {
    let path = dir.join(if gzip {
        "warcio.warc.gz"
    } else {
        "warcio.warc"
    });
    let script = r#"
import io, sys
from warcio.warcwriter import WARCWriter
from warcio.statusandheaders import StatusAndHeaders
path, gzip = sys.argv[1], sys.argv[2] == "1"
with open(path, "wb") as f:
    w = WARCWriter(f, gzip=gzip, warc_version="1.1")
    w.write_record(w.create_warcinfo_record(path, {"software": "warcio"}))
    req = StatusAndHeaders("GET /a HTTP/1.1", [("Host", "example.com")], is_http_request=True)
    w.write_record(w.create_warc_record("http://example.com/a", "request", http_headers=req))
    body = "<html><title>héllo</title><img src='/i.png'></html>".encode()
    resp = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
    w.write_record(w.create_warc_record("http://example.com/a", "response", payload=io.BytesIO(body), http_headers=resp))
    img = StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1")
    w.write_record(w.create_warc_record("http://example.com/i.png", "response", payload=io.BytesIO(bytes(range(256)) * 40), http_headers=img))
    rev = StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1")
    w.write_record(w.create_revisit_record("http://example.com/i.png?v=2", "sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "http://example.com/i.png", "2023-03-22T00:08:00Z", http_headers=rev))
    w.write_record(w.create_warc_record("http://example.com/post.md", "resource", payload=io.BytesIO(b"---\nfrom: x\n---\n"), warc_content_type="text/markdown"))
    w.write_record(w.create_warc_record("http://example.com/a", "metadata", payload=io.BytesIO(b"outlink: http://example.com/i.png\r\n"), warc_content_type="application/warc-fields"))
"#;
    run_ok(
        tool("python3")
            .args(["-c", script])
            .arg(&path)
            .arg(if gzip { "1" } else { "0" }),
    );
    path
}

/// A small site for wget: a page with links, a gzip-encoded script, a chunked stylesheet and
/// an image; wget fetches them with `--warc-file`.
pub fn wget_file(dir: &Path, compress: bool) -> PathBuf {
    let gz_body = {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b"console.log('archived');\n".repeat(50).as_slice())
            .unwrap();
        e.finish().unwrap()
    };
    let html = b"<html><head><title>w</title><link rel=stylesheet href=/style.css><script src=/app.js></script></head><body><img src=/img.png><a href=/missing>x</a></body></html>";
    let routes = vec![
        (
            "/",
            [
                format!("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", html.len()).as_bytes(),
                html.as_slice(),
            ]
            .concat(),
        ),
        (
            "/style.css",
            b"HTTP/1.1 200 OK\r\nContent-Type: text/css\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n10\r\nbody{color:red;}\r\n6\r\np{a:b}\r\n0\r\n\r\n".to_vec(),
        ),
        (
            "/app.js",
            [
                format!("HTTP/1.1 200 OK\r\nContent-Type: application/javascript\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", gz_body.len()).as_bytes(),
                &gz_body,
            ]
            .concat(),
        ),
        (
            "/img.png",
            [
                b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 2048\r\nConnection: close\r\n\r\n".as_slice(),
                &[7u8; 2048],
            ]
            .concat(),
        ),
    ];
    let server = TestServer::start(routes);
    let name = if compress { "wget" } else { "wget-plain" };
    let mut cmd = tool("wget");
    cmd.current_dir(dir)
        .args(["-q", "-p", "--tries=1", "--timeout=10", "-e", "robots=off"])
        .arg(format!("--warc-file={name}"))
        .arg("-P")
        .arg(dir.join("mirror"));
    if !compress {
        cmd.arg("--no-warc-compression");
    }
    cmd.arg(server.url("/")).arg(server.url("/missing"));
    // wget exits 8 when a URL (here /missing) answers 404; the WARC is what matters.
    let out = cmd.output().unwrap();
    assert!(matches!(out.status.code(), Some(0 | 8)), "wget: {out:?}");
    let path = dir.join(if compress {
        "wget.warc.gz"
    } else {
        "wget-plain.warc"
    });
    assert!(path.exists(), "wget wrote no WARC");
    path
}

fn record_types(path: &Path) -> Vec<String> {
    let mut reader = WarcReader::open(path).unwrap();
    let mut types = Vec::new();
    while let Some(mut record) = reader.next_record().unwrap() {
        types.push(record.header.get("WARC-Type").unwrap().to_string());
        std::io::copy(&mut record.block(), &mut std::io::sink()).unwrap();
    }
    types
}

fn verify(path: &Path) -> Output {
    cairn().arg("verify").arg(path).output().unwrap()
}

fn assert_one_line_error(out: &Output, expected: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "exit code; stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    let report = format!("{}{stderr}", stdout(out));
    for part in expected {
        assert!(report.contains(part), "{part:?} not in: {report}");
    }
}

#[test]
fn warcio_files_gzip_and_plain_read_and_verify() {
    if !requires(&["python3", "python:warcio"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for gzip in [true, false] {
        let path = warcio_file(dir.path(), gzip);
        assert_eq!(
            record_types(&path),
            [
                "warcinfo", "request", "response", "response", "revisit", "resource", "metadata"
            ]
        );
        let out = run_ok(cairn().arg("verify").arg(&path));
        let text = stdout(&out);
        assert!(text.starts_with("ok "), "{text}");
        assert!(text.contains("7 records"), "{text}");
    }
}

#[test]
fn wget_files_read_and_verify() {
    if !requires(&["wget"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for compress in [true, false] {
        let path = wget_file(dir.path(), compress);
        let types = record_types(&path);
        assert_eq!(
            types.iter().filter(|t| *t == "response").count(),
            5,
            "{types:?}"
        );
        assert_eq!(
            types.iter().filter(|t| *t == "request").count(),
            5,
            "{types:?}"
        );
        let out = run_ok(cairn().arg("verify").arg(&path));
        assert!(stdout(&out).starts_with("ok "), "{}", stdout(&out));
        // wget writes WARC/1.0 with bracketed target URIs; the reader unwraps them.
        let mut reader = WarcReader::open(&path).unwrap();
        let first = reader.next_record().unwrap().unwrap();
        assert_eq!(first.header.version, "WARC/1.0");
    }
}

#[test]
fn a_flipped_payload_byte_is_named_with_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let (files, written) = write_samples(dir.path(), Compression::None, None, 1);
    let mut bytes = fs::read(&files[0]).unwrap();
    let (_, image) = &written[2];
    // A byte near the end of the image's payload.
    let at = (image.offset + image.length) as usize - 100;
    bytes[at] ^= 0x01;
    let damaged = dir.path().join("flipped.warc");
    fs::write(&damaged, &bytes).unwrap();
    let out = verify(&damaged);
    assert_one_line_error(
        &out,
        &[
            "flipped.warc",
            &format!("offset {}", image.offset),
            "does not match",
        ],
    );

    // In a compressed file the same flip breaks the member's checksum.
    for compression in [Compression::Gzip, Compression::Zstd] {
        let sub = dir.path().join(compression.name());
        let (files, written) = write_samples(&sub, compression, None, 1);
        let mut bytes = fs::read(&files[0]).unwrap();
        let (_, image) = &written[2];
        let at = (image.offset + image.length / 2) as usize;
        bytes[at] ^= 0x01;
        let damaged = sub.join(format!("flipped.{}", compression.extension()));
        fs::write(&damaged, &bytes).unwrap();
        let out = verify(&damaged);
        assert_one_line_error(&out, &[&format!("offset {}", image.offset)]);
    }
}

#[test]
fn truncated_and_non_warc_files_are_rejected_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    for compression in [Compression::None, Compression::Gzip, Compression::Zstd] {
        let sub = dir.path().join(compression.name());
        let (files, written) = write_samples(&sub, compression, None, 1);
        let bytes = fs::read(&files[0]).unwrap();
        let (_, image) = &written[2];
        let cut = (image.offset + image.length / 2) as usize;
        let truncated = sub.join(format!("truncated.{}", compression.extension()));
        fs::write(&truncated, &bytes[..cut]).unwrap();
        let out = verify(&truncated);
        assert_one_line_error(&out, &["truncated", &format!("offset {}", image.offset)]);
    }

    let text = dir.path().join("notes.warc");
    fs::write(&text, "these are not the records you are looking for\n").unwrap();
    assert_one_line_error(&verify(&text), &["not a WARC file"]);
    // An empty file is read as one without records, as warcio and FastWARC read it, with a
    // warning.
    let empty = dir.path().join("empty.warc.gz.open");
    fs::write(&empty, "").unwrap();
    let out = run_ok(cairn().arg("verify").arg(&empty));
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("warning: "),
        "{out:?}"
    );
    let missing = dir.path().join("missing.warc");
    let out = verify(&missing);
    assert_one_line_error(&out, &["missing.warc"]);
}

#[test]
fn zstd_files_with_a_dictionary_frame_are_read() {
    if !requires(&["zstd"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Records as separate files, a dictionary trained on them by the zstd CLI, then each
    // record compressed alone with it: the layout of the warc-zstd spec.
    let (files, written) = write_samples(&dir.path().join("plain"), Compression::None, None, 20);
    let bytes = fs::read(&files[0]).unwrap();
    let parts = dir.path().join("parts");
    fs::create_dir_all(&parts).unwrap();
    let mut record_files = Vec::new();
    let mut starts: Vec<usize> = written.iter().map(|(_, w)| w.offset as usize).collect();
    starts.insert(0, 0);
    starts.push(bytes.len());
    for (i, pair) in starts.windows(2).enumerate() {
        let p = parts.join(format!("{i:04}.rec"));
        fs::write(&p, &bytes[pair[0]..pair[1]]).unwrap();
        record_files.push(p);
    }
    let dict = dir.path().join("dict");
    run_ok(
        tool("zstd")
            .arg("--train")
            .arg("-q")
            .args(&record_files)
            .arg("-o")
            .arg(&dict),
    );
    let dictionary = fs::read(&dict).unwrap();
    for compressed_dictionary in [false, true] {
        let stored = if compressed_dictionary {
            zstd::bulk::compress(&dictionary, 3).unwrap()
        } else {
            dictionary.clone()
        };
        let mut out = Vec::new();
        out.extend_from_slice(&0x184D_2A5Du32.to_le_bytes());
        out.extend_from_slice(&(stored.len() as u32).to_le_bytes());
        out.extend_from_slice(&stored);
        for p in &record_files {
            let frame = run_ok(tool("zstd").arg("-q").arg("-c").arg("-D").arg(&dict).arg(p)).stdout;
            out.extend_from_slice(&frame);
        }
        let path = dir
            .path()
            .join(format!("dict-{compressed_dictionary}.warc.zst"));
        fs::write(&path, &out).unwrap();
        assert_eq!(record_types(&path).len(), written.len() + 1);
        let out = run_ok(cairn().arg("verify").arg(&path));
        assert!(stdout(&out).starts_with("ok "), "{}", stdout(&out));
    }
}

#[test]
fn frozen_fixtures_from_three_writers_verify_and_index() {
    let dir = fixture("warc");
    let out = run_ok(cairn().arg("verify").arg(&dir));
    let text = stdout(&out);
    for (file, records) in [
        ("cairn-sample.warc.zst", "4 records"),
        ("warcio-sample.warc.gz", "4 records"),
        ("wget-sample.warc.gz", "12 records"),
    ] {
        let line = text
            .lines()
            .find(|l| l.contains(file))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(line.starts_with("ok ") && line.contains(records), "{line}");
    }
    let article = "tw,com,cna)/news/aopl/202303220008.aspx 20230322000800";
    let entries = cairn::index::index_file(&dir.join("cairn-sample.warc.zst")).captures;
    assert_eq!(
        entries.len(),
        2,
        "the response and the post resource: {entries:?}"
    );
    assert_eq!(
        format!("{} {}", entries[0].urlkey, entries[0].timestamp),
        article
    );
    assert_eq!(entries[0].status, Some(200));
    assert_eq!(entries[0].mime.as_deref(), Some("text/html"));
}
