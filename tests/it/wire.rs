//! Heads as they crossed the wire: an HTTPS server writes raw responses (an HTTP/1.0 status
//! line with its own reason phrase, header names in odd case, repeated fields, trailing
//! spaces, interim 1xx heads, several responses on one kept-alive connection), and each
//! record holds exactly the bytes sent for it, with the request exactly as the server read it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::archive::{archive_ok, find_record, warc_files};
use crate::fixture::{Handler, HttpsFixture, Request, Step};
use crate::support::*;

/// Every file is whole to `cairn verify` (digests included) and to warcio.
fn assert_readers_agree(files: &[PathBuf]) {
    for file in files {
        run_ok(cairn().arg("verify").arg(file));
        run_ok(tool("warcio").arg("check").arg(file));
        let index = stdout(&run_ok(
            tool("warcio")
                .args(["index", "-f", "warc-type,warc-target-uri,http:status"])
                .arg(file),
        ));
        assert!(index.contains("\"warc-type\": \"response\""), "{index}");
    }
}

/// The request the server read for `target`, byte for byte.
fn request_read(fixture: &HttpsFixture, target: &str) -> Vec<u8> {
    let request = fixture
        .requested()
        .into_iter()
        .find(|r| r.target == target)
        .unwrap_or_else(|| panic!("no request for {target}"));
    request.head.into_bytes()
}

fn not_found() -> Vec<u8> {
    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
}

#[test]
fn response_heads_are_stored_as_sent_on_the_wire() {
    if !requires(&["python:warcio", "warcio"]) {
        return;
    }
    let head = b"HTTP/1.0 200 Fine\r\nContent-Type: text/html\r\nX-CuStOm-Name: MiXeD vAlUe\r\n\
        Set-Cookie: a=1; Path=/\r\nSet-Cookie: b=2; Path=/\r\nX-Padded:   three spaces   \r\n\
        Content-Length: 26\r\n\r\n";
    let body = b"<title>as it came</title>\n";
    let handler: Handler = Arc::new(move |req: &Request| match req.target.as_str() {
        // The head in two writes, so the tap sees it arrive in pieces.
        "/page" => vec![
            Step::Send(head[..40].to_vec()),
            Step::Pause(Duration::from_millis(50)),
            Step::Send([&head[40..], &body[..]].concat()),
        ],
        _ => vec![Step::Send(not_found())],
    });
    let fixture = HttpsFixture::start(&["wire.example.com"], handler).unwrap();
    let archives = tempfile::tempdir().unwrap();
    let url = "https://wire.example.com/page";
    archive_ok(
        archives.path(),
        &fixture,
        &["--no-progress", "--compression", "gzip"],
        &[url],
    );

    let files = warc_files(archives.path(), "default");
    let (_, block) = find_record(&files, "response", url);
    assert_eq!(
        String::from_utf8_lossy(&block),
        String::from_utf8_lossy(&[&head[..], &body[..]].concat())
    );
    let (_, request) = find_record(&files, "request", url);
    assert_eq!(
        String::from_utf8_lossy(&request),
        String::from_utf8_lossy(&request_read(&fixture, "/page"))
    );
    assert_readers_agree(&files);
}

#[test]
fn interim_responses_are_left_out_and_the_final_head_is_kept() {
    let final_head =
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nLink: </a.css>; rel=preload\r\n\
        Content-Length: 5\r\nConnection: close\r\n\r\n";
    let handler: Handler = Arc::new(move |req: &Request| match req.target.as_str() {
        "/hinted" => vec![
            Step::Send(b"HTTP/1.1 100 Continue\r\n\r\n".to_vec()),
            Step::Pause(Duration::from_millis(20)),
            Step::Send(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n".to_vec()),
            Step::Pause(Duration::from_millis(20)),
            Step::Send([&final_head[..], b"hello"].concat()),
        ],
        _ => vec![Step::Send(not_found())],
    });
    let fixture = HttpsFixture::start(&["hints.example.com"], handler).unwrap();
    let archives = tempfile::tempdir().unwrap();
    let url = "https://hints.example.com/hinted";
    archive_ok(
        archives.path(),
        &fixture,
        &["--no-progress", "--compression", "gzip"],
        &[url],
    );
    let files = warc_files(archives.path(), "default");
    let (_, block) = find_record(&files, "response", url);
    assert_eq!(
        String::from_utf8_lossy(&block),
        String::from_utf8_lossy(&[&final_head[..], b"hello"].concat())
    );
    run_ok(cairn().arg("verify").args(&files));
    if requires(&["warcio"]) {
        assert_readers_agree(&files);
    }
}

#[test]
fn kept_alive_connections_keep_each_response_head_apart() {
    let page = |extra: &str, body: &str| {
        format!(
            "HTTP/1.1 200 OK\r\n{extra}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    let answers: Vec<(&str, Vec<u8>)> = vec![
        (
            "/robots.txt",
            b"HTTP/1.1 404 Not Here\r\ncontent-length: 0\r\nX-Robots-Only: yes\r\n\r\n".to_vec(),
        ),
        (
            "/",
            page(
                "Content-Type: text/html\r\nX-First-Only: One\r\n",
                "<a href=\"/second\">second</a><img src=\"/empty.png\">",
            ),
        ),
        (
            "/second",
            page(
                "content-TYPE: text/html\r\nx-SECOND-only: two  \r\n",
                "<p>second</p>",
            ),
        ),
        (
            "/empty.png",
            b"HTTP/1.1 204 No Content\r\nX-Empty:\r\n\r\n".to_vec(),
        ),
    ];
    let server = KeepAliveServer::start("keepalive.example.com", answers.clone());
    let archives = tempfile::tempdir().unwrap();
    let out = cairn()
        .arg("--archives")
        .arg(archives.path())
        .args(["archive", "--no-progress", "--compression", "gzip"])
        .args(["--concurrency", "1", "--per-host", "1", "--ca-cert"])
        .arg(&server.ca_pem)
        .arg("--connect-to")
        .arg(format!(
            "keepalive.example.com:443:127.0.0.1:{}",
            server.port
        ))
        .arg("https://keepalive.example.com/")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let requests = server.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), answers.len(), "{requests:?}");
    assert_eq!(
        server.connections.load(Ordering::SeqCst),
        1,
        "one connection kept alive"
    );
    let files = warc_files(archives.path(), "default");
    for (target, answer) in &answers {
        let url = format!("https://keepalive.example.com{target}");
        let (_, block) = find_record(&files, "response", &url);
        assert_eq!(
            String::from_utf8_lossy(&block),
            String::from_utf8_lossy(answer),
            "{url}"
        );
        let (_, request) = find_record(&files, "request", &url);
        let read = &requests.iter().find(|(t, _)| t == target).unwrap().1;
        assert_eq!(
            String::from_utf8_lossy(&request),
            String::from_utf8_lossy(read),
            "{url}"
        );
    }
    run_ok(cairn().arg("verify").args(&files));
}

#[test]
fn through_a_proxy_tunnel_heads_are_stored_as_sent_and_credentials_are_not() {
    let head =
        b"HTTP/1.1 200 OK\r\nX-Via-Tunnel: YeS \r\nContent-Length: 2\r\nConnection: close\r\n\r\n";
    let handler: Handler = Arc::new(move |req: &Request| match req.target.as_str() {
        "/page" => vec![Step::Send([&head[..], b"ok"].concat())],
        _ => vec![Step::Send(not_found())],
    });
    let fixture = HttpsFixture::start(&["tunnel.example.com"], handler).unwrap();
    let proxy = TunnelProxy::start(fixture.port);
    let archives = tempfile::tempdir().unwrap();
    let url = "https://tunnel.example.com/page";
    let out = cairn()
        .arg("--archives")
        .arg(archives.path())
        .args([
            "archive",
            "--no-progress",
            "--compression",
            "gzip",
            "--ca-cert",
        ])
        .arg(&fixture.ca_pem)
        .arg("--proxy")
        .arg(format!("http://user:secret@127.0.0.1:{}", proxy.port))
        .arg(url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let connects = proxy.connects.lock().unwrap().clone();
    assert!(
        connects.iter().all(
            |c| c.starts_with("CONNECT tunnel.example.com:443 HTTP/1.1\r\n")
                && c.contains("\r\nProxy-Authorization: Basic dXNlcjpzZWNyZXQ=\r\n")
        ),
        "{connects:?}"
    );
    let files = warc_files(archives.path(), "default");
    let (_, block) = find_record(&files, "response", url);
    assert_eq!(block, [&head[..], b"ok"].concat());
    let (_, request) = find_record(&files, "request", url);
    assert_eq!(request, request_read(&fixture, "/page"));
    assert!(!String::from_utf8_lossy(&request).contains("Proxy-Authorization"));
    run_ok(cairn().arg("verify").args(&files));
}

/// An HTTP proxy that opens every `CONNECT` tunnel to `127.0.0.1:upstream`, logging the
/// `CONNECT` heads it read.
struct TunnelProxy {
    port: u16,
    connects: Arc<Mutex<Vec<String>>>,
    _runtime: tokio::runtime::Runtime,
}

impl TunnelProxy {
    fn start(upstream: u16) -> TunnelProxy {
        let (runtime, listener) = crate::support::loopback_listener(1);
        let port = listener.local_addr().unwrap().port();
        let connects = Arc::new(Mutex::new(Vec::new()));
        let log = connects.clone();
        runtime.spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    // The client waits for the answer before its TLS hello: the head is all.
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match client.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    log.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&head).into_owned());
                    let Ok(mut server) =
                        tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await
                    else {
                        return;
                    };
                    let answer = b"HTTP/1.1 200 Connection Established\r\n\r\n";
                    if client.write_all(answer).await.is_ok() {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        TunnelProxy {
            port,
            connects,
            _runtime: runtime,
        }
    }
}

/// Targets and heads of the requests a server read, in order.
type RequestLog = Mutex<Vec<(String, Vec<u8>)>>;

/// An HTTPS server that keeps its connections open: it answers each request in turn with the
/// bytes given for its target, and counts the connections it accepted.
struct KeepAliveServer {
    port: u16,
    ca_pem: PathBuf,
    connections: Arc<AtomicUsize>,
    requests: Arc<RequestLog>,
    _dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

impl KeepAliveServer {
    fn start(name: &str, answers: Vec<(&'static str, Vec<u8>)>) -> KeepAliveServer {
        let dir = tempfile::tempdir().unwrap();
        let acceptor = tls_acceptor(name, dir.path());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (counted, log, answers) = (connections.clone(), requests.clone(), Arc::new(answers));
        runtime.spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let (acceptor, log, answers) = (acceptor.clone(), log.clone(), answers.clone());
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(tcp).await {
                        serve_kept_alive(tls, &answers, &log).await;
                    }
                });
            }
        });
        KeepAliveServer {
            port,
            ca_pem: dir.path().join("ca.pem"),
            connections,
            requests,
            _dir: dir,
            _runtime: runtime,
        }
    }
}

/// Answers requests on one connection until the client closes it.
async fn serve_kept_alive<S>(mut stream: S, answers: &[(&str, Vec<u8>)], log: &RequestLog)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut read = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let end = loop {
            if let Some(end) = read.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => read.extend_from_slice(&buf[..n]),
            }
        };
        let head: Vec<u8> = read.drain(..end).collect();
        let text = String::from_utf8_lossy(&head);
        let target = text.split_whitespace().nth(1).unwrap_or("/").to_string();
        log.lock().unwrap().push((target.clone(), head));
        let answer = answers
            .iter()
            .find(|(t, _)| *t == target)
            .map(|(_, a)| a.clone())
            .unwrap_or_else(|| b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec());
        if stream.write_all(&answer).await.is_err() || stream.flush().await.is_err() {
            return;
        }
    }
}

/// A CA made now (written to `dir/ca.pem`) and a leaf for `name` signed by it.
fn tls_acceptor(name: &str, dir: &Path) -> tokio_rustls::TlsAcceptor {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec![name.to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}
