//! Network safety: without --allow-private, loopback, private and link-local addresses are
//! refused however they are written, reached through a name or a redirect; the internal server
//! never sees a request. Names mapped with --connect-to stay allowed.

use std::sync::Arc;

use crate::archive::archive;
use crate::fixture::{Handler, HttpsFixture, Request, Step, response_with};
use crate::support::*;

#[test]
fn internal_addresses_are_never_reached() {
    let internal = TestServer::start(vec![(
        "/secret",
        b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret".to_vec(),
    )]);
    let port = internal.port;
    let archives = tempfile::tempdir().unwrap();
    for target in [
        format!("http://127.0.0.1:{port}/secret"),
        format!("http://127.1:{port}/secret"),
        format!("http://2130706433:{port}/secret"),
        format!("http://0x7f000001:{port}/secret"),
        format!("http://[::ffff:127.0.0.1]:{port}/secret"),
        format!("http://localhost:{port}/secret"),
    ] {
        let out = cairn()
            .arg("--archives")
            .arg(archives.path())
            .args(["archive", "--no-progress", "--timeout", "5"])
            .arg(&target)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{target}: {stderr}");
        assert!(stderr.contains("--allow-private"), "{target}: {stderr}");
    }
    // A public page that redirects inward, and links and embeds inward.
    let inward = format!("http://127.0.0.1:{port}/secret");
    let handler: Handler = Arc::new(move |req: &Request| match req.target.as_str() {
        "/go" => vec![Step::Send(response_with(
            "302 Found",
            &[("Location", inward.as_str())],
            b"",
        ))],
        _ => vec![Step::Send(response_with(
            "200 OK",
            &[("Content-Type", "text/html")],
            format!("<img src=\"{inward}\"><a href=\"http://10.0.0.1/\">x</a><a href=/go>go</a>")
                .as_bytes(),
        ))],
    });
    let fixture = HttpsFixture::start(&["public.example.com"], handler).unwrap();
    let out = archive(
        archives.path(),
        &fixture,
        &["--no-progress", "--scope", "any"],
        &["https://public.example.com/"],
    );
    assert!(
        out.status.success(),
        "the mapped public name itself is allowed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(internal.hits(), 0, "the internal server was reached");

    // With --allow-private, the user's explicit choice, it is reached.
    run_ok(
        cairn()
            .arg("--archives")
            .arg(archives.path())
            .args([
                "archive",
                "--no-progress",
                "--allow-private",
                "--robots",
                "ignore",
            ])
            .arg(format!("http://127.0.0.1:{port}/secret")),
    );
    assert!(internal.hits() > 0);
}
