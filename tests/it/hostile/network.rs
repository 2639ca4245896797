//! The crawler's network fence (issue 13): a `--resolve`/`--connect-to` mapping allows exactly
//! the host and port it names, and through `--proxy` internal targets are refused before the
//! proxy sees them. Pages link, embed and redirect to an internal server that counts every
//! connection; it must count none.

use std::net::ToSocketAddrs;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::fixture::{Handler, HttpsFixture, Request, Step, response_with};
use crate::support::*;

/// A page that reaches for `targets`: by link, by image, and by a redirect from `/go`.
fn hostile_page(targets: &[String]) -> Vec<u8> {
    let mut html = String::from("<!doctype html><title>hostile</title>");
    for target in targets {
        html.push_str(&format!("<a href=\"{target}\">x</a><img src=\"{target}\">"));
    }
    html.push_str("<a href=\"/go\">go</a>");
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{html}",
        html.len()
    )
    .into_bytes()
}

fn redirect_to(location: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .into_bytes()
}

fn internal_server() -> TestServer {
    TestServer::start(vec![(
        "/secret",
        b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsecret".to_vec(),
    )])
}

#[test]
fn a_mapping_allows_only_the_host_and_port_it_names() {
    let internal = internal_server();
    let q = internal.port;
    let archives = tempfile::tempdir().unwrap();
    // Each case: the mapping, the target it allows, and the other ports of the mapped host
    // and address the page then reaches for.
    let cases = |p: u16| {
        [
            (
                "--connect-to",
                format!("mapped.test:80:127.0.0.1:{p}"),
                "http://mapped.test/".to_string(),
            ),
            (
                "--connect-to",
                format!("127.0.0.1:80:127.0.0.1:{p}"),
                "http://127.0.0.1/".to_string(),
            ),
            (
                "--resolve",
                format!("mapped.test:{p}:127.0.0.1"),
                format!("http://mapped.test:{p}/"),
            ),
            (
                "--resolve",
                format!("127.0.0.1:{p}:127.0.0.1"),
                format!("http://127.0.0.1:{p}/"),
            ),
        ]
    };
    let inward = [
        format!("http://mapped.test:{q}/secret"),
        format!("http://127.0.0.1:{q}/secret"),
        format!("http://[::ffff:127.0.0.1]:{q}/secret"),
    ];
    for (i, hop) in inward.iter().enumerate() {
        let page = TestServer::start(vec![
            ("/", hostile_page(&inward)),
            ("/go", redirect_to(hop)),
        ]);
        for (option, mapping, target) in cases(page.port) {
            let before = page.hits();
            let out = cairn()
                .arg("--archives")
                .arg(archives.path())
                .args([
                    "archive",
                    "--no-progress",
                    "--scope",
                    "any",
                    "--timeout",
                    "5",
                ])
                .args([option, mapping.as_str(), target.as_str()])
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{mapping} {target}: {stderr}");
            assert!(
                page.hits() > before,
                "{mapping}: the mapped page was not fetched"
            );
            assert_eq!(
                internal.hits(),
                0,
                "{mapping} {target} (redirect {i}) reached the internal server: {stderr}"
            );
        }
    }
    // The other port as a target of its own is refused outright.
    for (option, mapping, _) in cases(1) {
        for target in &inward[1..] {
            let out = cairn()
                .arg("--archives")
                .arg(archives.path())
                .args(["archive", "--no-progress", "--timeout", "5"])
                .args([option, mapping.as_str(), target.as_str()])
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{mapping} {target}: {stderr}");
            assert!(
                stderr.contains("--allow-private"),
                "{mapping} {target}: {stderr}"
            );
        }
    }
    assert_eq!(internal.hits(), 0, "the internal server was reached");
}

/// Names that resolve to loopback here: `localhost` spelled with a trailing dot, and this
/// machine's own name where it resolves inward (as `/etc/hosts` often makes it).
fn names_resolving_inward() -> Vec<String> {
    let mut names = vec!["localhost.".to_string()];
    if let Ok(name) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let name = name.trim().to_ascii_lowercase();
        let inward = (name.as_str(), 80)
            .to_socket_addrs()
            .is_ok_and(|mut a| a.all(|a| a.ip().is_loopback()));
        if !name.is_empty() && inward {
            names.push(name);
        }
    }
    names
}

#[test]
fn through_a_proxy_internal_targets_are_refused_before_the_proxy_sees_them() {
    let internal = internal_server();
    let q = internal.port;
    let mut inward = vec![
        format!("http://localhost:{q}/secret"),
        format!("http://127.0.0.1:{q}/secret"),
        format!("http://sub.localhost:{q}/secret"),
        format!("https://localhost:{q}/secret"),
    ];
    for name in names_resolving_inward() {
        inward.push(format!("http://{name}:{q}/secret"));
    }
    let page = hostile_page(&inward);
    let redirect = inward[0].clone();
    let handler: Handler = Arc::new(move |req: &Request| match req.target.as_str() {
        "/" => vec![Step::Send(page.clone())],
        "/go" => vec![Step::Send(redirect_to(&redirect))],
        _ => vec![Step::Send(response_with("200 OK", &[], b"ok"))],
    });
    let fixture = HttpsFixture::start(&["allowed.test"], handler).unwrap();
    let proxy = ForwardProxy::start(("allowed.test:443".to_string(), fixture.port));
    let archives = tempfile::tempdir().unwrap();
    let out = cairn()
        .arg("--archives")
        .arg(archives.path())
        .args([
            "archive",
            "--no-progress",
            "--scope",
            "any",
            "--timeout",
            "5",
        ])
        .args(fixture.args())
        .arg("--proxy")
        .arg(format!("http://127.0.0.1:{}", proxy.port))
        .arg("https://allowed.test/")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let heads = proxy.heads.lock().unwrap().clone();
    assert!(
        heads
            .iter()
            .any(|h| h.starts_with("CONNECT allowed.test:443 ")),
        "the mapped host:port goes through the proxy: {heads:?}"
    );
    assert!(
        fixture.requested().iter().any(|r| r.target == "/go"),
        "the mapped host:port works"
    );
    let leaked: Vec<&String> = heads
        .iter()
        .filter(|h| h.contains(&format!(":{q}")))
        .collect();
    assert!(
        leaked.is_empty(),
        "the proxy was asked for internal targets: {leaked:?}\n{stderr}"
    );
    assert_eq!(internal.hits(), 0, "the internal server was reached");

    // A target given on the command line is refused too, naming the way out.
    let out = cairn()
        .arg("--archives")
        .arg(archives.path())
        .args(["archive", "--no-progress", "--timeout", "5", "--proxy"])
        .arg(format!("http://127.0.0.1:{}", proxy.port))
        .arg(&inward[0])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--allow-private"), "{stderr}");
    assert_eq!(internal.hits(), 0, "the internal server was reached");
}

/// A forward proxy, as squid or tinyproxy would be: a `CONNECT host:port` opens a tunnel, a
/// request in absolute form is passed on in origin form, each to the address the proxy itself
/// resolves for its host (one name:port it maps, as its own DNS would). Logs every head read.
struct ForwardProxy {
    port: u16,
    heads: Arc<Mutex<Vec<String>>>,
    _runtime: tokio::runtime::Runtime,
}

impl ForwardProxy {
    fn start(known: (String, u16)) -> ForwardProxy {
        let (runtime, listener) = crate::support::loopback_listener(1);
        let port = listener.local_addr().unwrap().port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let log = heads.clone();
        let known = Arc::new(known);
        runtime.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(proxy_one(client, log.clone(), known.clone()));
            }
        });
        ForwardProxy {
            port,
            heads,
            _runtime: runtime,
        }
    }
}

async fn proxy_one(
    mut client: tokio::net::TcpStream,
    log: Arc<Mutex<Vec<String>>>,
    known: Arc<(String, u16)>,
) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match client.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    log.lock().unwrap().push(text.clone());
    let mut words = text.split(' ');
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let (authority, forward) = if method == "CONNECT" {
        (target.to_string(), None)
    } else {
        let Ok(url) = url::Url::parse(target) else {
            return;
        };
        let authority = format!(
            "{}:{}",
            url.host_str().unwrap_or(""),
            url.port_or_known_default().unwrap_or(80)
        );
        let origin_form = &url[url::Position::BeforePath..];
        (authority, Some(text.replacen(target, origin_form, 1)))
    };
    let server = if authority == known.0 {
        tokio::net::TcpStream::connect(("127.0.0.1", known.1)).await
    } else {
        tokio::net::TcpStream::connect(authority.as_str()).await
    };
    let Ok(mut server) = server else {
        let _ = client
            .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            .await;
        return;
    };
    let sent = match forward {
        Some(request) => server.write_all(request.as_bytes()).await,
        None => {
            client
                .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                .await
        }
    };
    if sent.is_ok() {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
    }
}
