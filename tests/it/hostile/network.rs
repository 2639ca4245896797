//! The crawler's network fence (issue 13): a `--resolve`/`--connect-to` mapping allows exactly
//! the host and port it names. Pages link, embed and redirect to an internal server that
//! counts every connection; it must count none.

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
