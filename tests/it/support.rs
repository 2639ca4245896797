//! Helpers shared by the integration tests: the cairn binary, external tools, a sample page mix
//! written through cairn's writer, and a tiny local HTTP server for wget.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use cairn::warc::{Block, Compression, NewRecord, RecordType, WarcWriter, WriterConfig, Written};

/// An HTTP client for talking to servers the tests start (rustls with ring, as cairn's own).
pub fn http_client() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy()
}

pub fn cairn() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
}

/// Whether this machine has what a test needs besides cairn: programs by name
/// (`"zstd"`), Python modules (`"python:websockets"`), `"mount-namespaces"` (root, as
/// CI runs), `"postgresql"` (Debian's server programs, for [`crate::workers::Postgres`]),
/// `"s3rver"` (unpacked into `target/s3rver/`, for [`crate::workers::S3rver`]), or `"replaywebpage"` (ReplayWeb.page's built files, unpacked into
/// `target/replaywebpage/`). When something is missing the test is skipped, with a line
/// naming it on the terminal even while cargo captures output; `scripts/test` installs
/// everything and sets `CAIRN_REQUIRE_TOOLS`, under which a missing tool fails the test
/// instead.
pub fn requires(needs: &[&str]) -> bool {
    let missing: Vec<&str> = needs.iter().copied().filter(|n| !available(n)).collect();
    if missing.is_empty() {
        return true;
    }
    let test = std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_string();
    let message = format!(
        "skipped {test}: needs {} (scripts/test, run as root as CI does, installs and runs everything)\n",
        missing.join(", ")
    );
    assert!(
        std::env::var_os("CAIRN_REQUIRE_TOOLS").is_none(),
        "{message}"
    );
    // Straight to the terminal: libtest captures only what the print macros write.
    let _ = std::io::stderr().write_all(message.as_bytes());
    false
}

fn available(need: &str) -> bool {
    let succeeds = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if let Some(module) = need.strip_prefix("python:") {
        return succeeds("python3", &["-c", &format!("import {module}")]);
    }
    if need == "replaywebpage" {
        let unpacked = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/replaywebpage");
        return ["index.html", "ui.js", "sw.js"]
            .iter()
            .all(|f| unpacked.join(f).is_file());
    }
    if need == "s3rver" {
        return crate::workers::S3rver::installed().is_some() && succeeds("node", &["--version"]);
    }
    if need == "postgresql" {
        return crate::workers::postgres_bin().is_some();
    }
    if need == "mount-namespaces" {
        return succeeds(
            "unshare",
            &[
                "--mount",
                "sh",
                "-c",
                "mount -t tmpfs -o size=1m tmpfs /mnt",
            ],
        );
    }
    succeeds("sh", &["-c", &format!("command -v {need}")])
}

/// An external program a test has checked for with [`requires`].
pub fn tool(name: &str) -> Command {
    Command::new(name)
}

/// Runs a command and returns its output, failing the test (with its stderr) if it fails.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert_succeeded(cmd, out)
}

/// A command's output, failing the test (with its stdout and stderr) if it failed.
pub fn assert_succeeded(cmd: &Command, out: Output) -> Output {
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The seed post, as an archived page and a resource record would carry it.
pub fn seed_post() -> Vec<u8> {
    cairn::demo::SEED_POST.as_bytes().to_vec()
}

/// One record of the sample, as it was handed to the writer.
#[derive(Debug, Clone)]
pub struct Sample {
    pub kind: RecordType,
    pub id: String,
    pub target: Option<String>,
    pub content_type: Option<String>,
    pub fields: Vec<(String, String)>,
    pub block: Vec<u8>,
}

/// A page mix: the seed article's request and response, an image, a stylesheet, a 404, a
/// revisit of the image, the post itself as a resource, and the page's metadata.
pub fn sample_records() -> Vec<Sample> {
    let article = "https://www.cna.com.tw/news/aopl/202303220008.aspx";
    let image =
        "https://imgcdn.cna.com.tw/www/webphotos/WebCover/420/20230321/1200x900_065325447941.jpg";
    let html = [
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: ".as_slice(),
        seed_post().len().to_string().as_bytes(),
        b"\r\n\r\n",
        &seed_post(),
    ]
    .concat();
    let jpeg: Vec<u8> = (0..40_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let image_response = [
        b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 40000\r\n\r\n".as_slice(),
        &jpeg,
    ]
    .concat();
    let css = b"HTTP/1.1 200 OK\r\nContent-Type: text/css\r\n\r\nbody{background:url(/bg.png)}\n"
        .to_vec();
    let not_found =
        b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n\r\n<h1>gone</h1>".to_vec();
    let request = b"GET /news/aopl/202303220008.aspx HTTP/1.1\r\nHost: www.cna.com.tw\r\nUser-Agent: cairn-test\r\nAccept-Encoding: gzip\r\n\r\n".to_vec();
    let http = |kind| Some(format!("application/http; msgtype={kind}"));
    let mut n = 0;
    let mut id = || {
        n += 1;
        format!("<urn:uuid:00000000-0000-4000-8000-{n:012}>")
    };
    vec![
        Sample {
            kind: RecordType::Request,
            id: id(),
            target: Some(article.into()),
            content_type: http("request"),
            fields: vec![("WARC-IP-Address".into(), "127.0.0.1".into())],
            block: request,
        },
        Sample {
            kind: RecordType::Response,
            id: id(),
            target: Some(article.into()),
            content_type: http("response"),
            fields: vec![
                (
                    "WARC-Concurrent-To".into(),
                    "<urn:uuid:00000000-0000-4000-8000-000000000001>".into(),
                ),
                ("WARC-IP-Address".into(), "127.0.0.1".into()),
            ],
            block: html,
        },
        Sample {
            kind: RecordType::Response,
            id: id(),
            target: Some(image.into()),
            content_type: http("response"),
            fields: vec![],
            block: image_response,
        },
        Sample {
            kind: RecordType::Response,
            id: id(),
            target: Some("https://www.cna.com.tw/css/main.css?v=3".into()),
            content_type: http("response"),
            fields: vec![],
            block: css,
        },
        Sample {
            kind: RecordType::Response,
            id: id(),
            target: Some("https://imgcdn.cna.com.tw/missing.jpg".into()),
            content_type: http("response"),
            fields: vec![],
            block: not_found,
        },
        Sample {
            kind: RecordType::Revisit,
            id: id(),
            target: Some(format!("{image}?copy=2")),
            content_type: http("response"),
            fields: vec![
                (
                    "WARC-Profile".into(),
                    "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest".into(),
                ),
                ("WARC-Refers-To-Target-URI".into(), image.into()),
                (
                    "WARC-Refers-To-Date".into(),
                    "2023-03-22T00:08:00.000000Z".into(),
                ),
                (
                    "WARC-Refers-To".into(),
                    "<urn:uuid:00000000-0000-4000-8000-000000000003>".into(),
                ),
                (
                    "WARC-Payload-Digest".into(),
                    format!("sha256:{}", sha256_hex(&jpeg)),
                ),
            ],
            block: b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 40000\r\n\r\n"
                .to_vec(),
        },
        Sample {
            kind: RecordType::Resource,
            id: id(),
            target: Some("file:///_posts/2023-03-21-cna-xi-putin-talks.md".into()),
            content_type: Some("text/markdown; charset=utf-8".into()),
            fields: vec![],
            block: seed_post(),
        },
        Sample {
            kind: RecordType::Metadata,
            id: id(),
            target: Some(article.into()),
            content_type: Some("application/warc-fields".into()),
            fields: vec![(
                "WARC-Refers-To".into(),
                "<urn:uuid:00000000-0000-4000-8000-000000000002>".into(),
            )],
            block: format!("via: \r\nhops: \r\noutlink: {image} E img/@src\r\n").into_bytes(),
        },
    ]
}

/// `len` bytes of deterministic noise (xorshift64): incompressible, like a photo, and the same
/// for the same seed on every call.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A process's peak resident memory in KiB (`VmHWM` of a `/proc/PID/status`), while it runs.
pub fn peak_memory_kib(status_path: &str) -> Option<u64> {
    std::fs::read_to_string(status_path)
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(bytes))
}

pub fn sample_date() -> time::OffsetDateTime {
    time::macros::datetime!(2023-03-22 00:08:00.123456 UTC)
}

/// Writes the samples `copies` times into `dir` and returns where each landed.
pub fn write_samples(
    dir: &Path,
    compression: Compression,
    max_file_size: Option<u64>,
    copies: usize,
) -> (Vec<PathBuf>, Vec<(Sample, Written)>) {
    let mut config = WriterConfig::new(dir, "test", compression);
    config.warcinfo.push(("isPartOf".into(), "test".into()));
    if let Some(max) = max_file_size {
        config.max_file_size = max;
    }
    let mut writer = WarcWriter::new(config).unwrap();
    let mut written = Vec::new();
    for copy in 0..copies {
        for sample in sample_records() {
            let mut sample = sample;
            if copy > 0 {
                sample.id = sample
                    .id
                    .replace("-4000-8000-", &format!("-4000-{:04}-", 8000 + copy));
            }
            let mut record = NewRecord::new(sample.kind.clone(), Block::Bytes(&sample.block))
                .id(&sample.id)
                .date(sample_date());
            record.target_uri = sample.target.clone();
            record.content_type = sample.content_type.clone();
            record.fields = sample.fields.clone();
            let w = writer.write(record).unwrap();
            written.push((sample, w));
        }
    }
    let files = writer.close().unwrap();
    (files, written)
}

/// A local HTTP/1.1 server on 127.0.0.1 serving fixed responses by path; stopped on drop.
pub struct TestServer {
    pub port: u16,
    stop: Arc<AtomicBool>,
    hits: Arc<std::sync::atomic::AtomicUsize>,
}

pub type Route = (&'static str, Vec<u8>);

impl TestServer {
    /// `routes` maps a path to the complete raw response sent for it; unknown paths get 404.
    pub fn start(routes: Vec<Route>) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = hits.clone();
        let routes = Arc::new(routes);
        thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                counted.fetch_add(1, Ordering::SeqCst);
                let routes = routes.clone();
                thread::spawn(move || serve(conn, &routes));
            }
        });
        TestServer { port, stop, hits }
    }

    /// Connections accepted so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(conn: TcpStream, routes: &[Route]) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let response = routes
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, r)| r.clone())
        .unwrap_or_else(|| {
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found"
                .to_vec()
        });
    let mut conn = conn;
    let _ = conn.write_all(&response);
    let _ = conn.flush();
    let _ = conn.shutdown(std::net::Shutdown::Both);
    let _ = reader.read_to_end(&mut Vec::new());
}

/// Runs a command to its end, sampling its peak resident memory (`VmHWM`) as it goes.
pub fn run_measuring_memory(cmd: &mut Command) -> (Output, u64) {
    let dir = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (dir.path().join("out"), dir.path().join("err"));
    let mut child = cmd
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if let Some(kib) = peak_memory_kib(&status_path) {
            peak_kib = kib;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let output = Output {
        status,
        stdout: std::fs::read(out_path).unwrap(),
        stderr: std::fs::read(err_path).unwrap(),
    };
    (output, peak_kib / 1024)
}

/// A server's own runtime (`workers` threads) and a listener on a free port of 127.0.0.1.
pub fn loopback_listener(workers: usize) -> (tokio::runtime::Runtime, tokio::net::TcpListener) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    (runtime, listener)
}
