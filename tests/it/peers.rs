//! Other writers' files, judged beside the tools archivists already trust: for files from
//! warcio, GNU wget, a Heritrix-style WARC/1.0 writer and the Internet Archive's ARC format,
//! cairn's verify agrees with warcio and FastWARC, its index with cdxj-indexer, and its replay
//! (`id_`) with pywb's, capture by capture.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::foreign::{warcio_file, wget_file};
use crate::interop::{ARC_FILES, cdxj_values};
use crate::replay::ReplayServer;
use crate::support::{cairn, http_client, requires, run_ok, stdout, tool};

/// A WARC/1.0 file as Heritrix and warcprox write them, byte by byte: angle-bracketed target
/// URIs, sha1 digests in base32, a body kept with its chunked framing (and another also
/// gzip-encoded), a redirect, a resource and metadata. (Chunk extensions and trailers, which
/// pywb 2.10 serves garbled, are `replay::chunked_bodies_replay_dechunked`'s to check.)
const HERITRIX_STYLE: &str = r#"
import base64, gzip, hashlib, sys
def digest(data):
    return b"sha1:" + base64.b32encode(hashlib.sha1(data).digest())
def record(kind, uri, block, content_type, n, extra=b""):
    fields = [b"WARC/1.0", b"WARC-Type: " + kind, b"WARC-Target-URI: <" + uri + b">",
              b"WARC-Date: 2019-05-06T07:08:09Z",
              b"WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-%012d>" % n,
              b"Content-Type: " + content_type, b"WARC-Block-Digest: " + digest(block)]
    if extra:
        fields.append(extra)
    fields.append(b"Content-Length: %d" % len(block))
    return b"\r\n".join(fields) + b"\r\n\r\n" + block + b"\r\n\r\n"
def response(uri, head, payload, n):
    return record(b"response", uri, head + b"\r\n" + payload, b"application/http; msgtype=response", n)
def chunked(data, size):
    out = b""
    for i in range(0, len(data), size):
        part = data[i:i + size]
        out += b"%x\r\n" % len(part) + part + b"\r\n"
    return out + b"0\r\n\r\n"
page = b"<html><head><title>heritrix</title></head><body>" + b"chunked text " * 300 + b"</body></html>"
script = gzip.compress(b"console.log('gzip inside chunks');" * 50, mtime=0)
out = record(b"warcinfo", b"", b"software: heritrix-style\r\n", b"application/warc-fields", 1).replace(b"WARC-Target-URI: <>\r\n", b"")
out += response(b"http://heritrix.example/page",
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n", chunked(page, 700), 2)
out += response(b"http://heritrix.example/app.js",
    b"HTTP/1.1 200 OK\r\nContent-Type: application/javascript\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
    chunked(script, 100), 3)
out += response(b"http://heritrix.example/old",
    b"HTTP/1.1 301 Moved Permanently\r\nLocation: http://heritrix.example/page\r\nContent-Length: 0\r\n", b"", 4)
out += record(b"resource", b"http://heritrix.example/notes.txt", b"plain resource", b"text/plain", 5)
out += record(b"metadata", b"http://heritrix.example/page", b"outlink: http://heritrix.example/app.js\r\n", b"application/warc-fields", 6)
open(sys.argv[1] + "/heritrix-style.warc", "wb").write(out)
"#;

/// FastWARC's count of every record in a file, with its digests checked where given.
const FASTWARC_COUNT: &str = r#"
import sys
from fastwarc.warc import ArchiveIterator
for path in sys.argv[1:]:
    n = bad = 0
    for record in ArchiveIterator(open(path, "rb"), parse_http=False):
        n += 1
        if "WARC-Block-Digest" in record.headers and not record.verify_block_digest(consume=True):
            bad += 1
    print(path, n, bad)
"#;

/// pywb's `wayback` over a collection of the same files, on a port of its own; stopped on drop.
pub struct Pywb {
    child: Child,
    pub origin: String,
}

impl Pywb {
    fn start(root: &Path, files: &[PathBuf]) -> Pywb {
        Pywb::start_adding(root, &[], files)
    }

    /// As [`Pywb::start`], `wb-manager add` given `options` too (`--unpack-wacz`).
    pub fn start_adding(root: &Path, options: &[&str], files: &[PathBuf]) -> Pywb {
        fs::create_dir_all(root).unwrap();
        run_ok(
            tool("wb-manager")
                .args(["init", "default"])
                .current_dir(root),
        );
        run_ok(
            tool("wb-manager")
                .args(["add", "default"])
                .args(options)
                .args(files)
                .current_dir(root),
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("wayback")
            .args(["-b", "127.0.0.1", "-p", &port.to_string()])
            .current_dir(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pywb = Pywb {
            child,
            origin: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "pywb never listened"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        pywb
    }
}

impl Drop for Pywb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Status, `Location` (as the URL it leads to) and body of one `id_` request.
pub fn fetch(origin: &str, path: &str) -> (u16, Option<String>, Vec<u8>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = http_client()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap();
        // As browsers ask: pywb decodes a stored encoding for a client that does not take it.
        let response = client
            .get(format!("{origin}{path}"))
            .header("accept-encoding", "gzip, deflate, br")
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|l| archived_target(&String::from_utf8_lossy(l.as_bytes())));
        (status, location, response.bytes().await.unwrap().to_vec())
    })
}

/// The archived URL a `Location` names, whether the replay rewrote it into its own space or not.
fn archived_target(location: &str) -> String {
    let re = regex::Regex::new(r"^(?:https?://127\.0\.0\.1:\d+)?/default/\d+[a-z_]*/").unwrap();
    re.replace(location, "").into_owned()
}

#[test]
fn other_writers_files_agree_with_warcio_fastwarc_cdxj_indexer_and_pywb() {
    if !requires(&[
        "python:warcio",
        "python:fastwarc",
        "cdxj-indexer",
        "wget",
        "wayback",
        "wb-manager",
    ]) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let archives = work.path().join("archives");
    let warcs = archives.join("default/warc");
    fs::create_dir_all(&warcs).unwrap();
    run_ok(tool("python3").args(["-c", ARC_FILES]).arg(&warcs));
    run_ok(tool("python3").args(["-c", HERITRIX_STYLE]).arg(&warcs));
    fs::rename(warcio_file(work.path(), true), warcs.join("warcio.warc.gz")).unwrap();
    fs::rename(wget_file(work.path(), true), warcs.join("wget.warc.gz")).unwrap();
    let mut files: Vec<PathBuf> = fs::read_dir(&warcs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();

    // Verify: every file whole for cairn, warcio and FastWARC alike, with the same records.
    let out = run_ok(cairn().arg("--json").arg("verify").args(&files));
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // FastWARC reads WARC files only.
    let is_arc = |f: &PathBuf| f.to_string_lossy().contains(".arc");
    let warc_files: Vec<&PathBuf> = files.iter().filter(|f| !is_arc(f)).collect();
    let out = run_ok(
        tool("python3")
            .args(["-c", FASTWARC_COUNT])
            .args(&warc_files),
    );
    let fastwarc = stdout(&out);
    for (file, report) in files.iter().zip(reports.as_array().unwrap()) {
        assert_eq!(report["defects"], serde_json::json!([]), "{report}");
        run_ok(tool("warcio").arg("check").arg(file));
        let line = format!("{} {} 0", file.display(), report["records"]);
        assert!(
            is_arc(file) || fastwarc.lines().any(|l| l == line),
            "{line} not in {fastwarc}"
        );
    }

    // Index: cairn's lines are cdxj-indexer's.
    run_ok(cairn().arg("--archives").arg(&archives).arg("index"));
    let ours = fs::read_to_string(archives.join("default/index.cdxj")).unwrap();
    let theirs = stdout(&run_ok(
        tool("cdxj-indexer").args(&files).current_dir(&warcs),
    ));
    assert_eq!(cdxj_values(&ours), cdxj_values(&theirs));

    // Replay: each capture's archived bytes, status and redirect target as pywb serves them.
    let pywb = Pywb::start(&work.path().join("pywb"), &files);
    let cairn_replay = ReplayServer::start(&archives);
    let mut compared = 0;
    for (_, timestamp, fields) in cdxj_values(&ours) {
        let url = fields["url"].as_str().unwrap();
        if fields["mime"] == "warc/revisit" || !url.starts_with("http") {
            continue;
        }
        let path = format!("/default/{timestamp}id_/{url}");
        let expected = fetch(&pywb.origin, &path);
        let got = fetch(&cairn_replay.origin, &path);
        assert_eq!(got.0, expected.0, "status of {path}");
        assert_eq!(got.1, expected.1, "Location of {path}");
        assert!(
            got.2 == expected.2,
            "body of {path}: {} bytes, pywb {}",
            got.2.len(),
            expected.2.len()
        );
        compared += 1;
    }
    assert!(compared >= 12, "{compared} captures compared");
}
