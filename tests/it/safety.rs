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

/// A DNS server for the rebinding test, on 127.0.0.153:53 (where a resolv.conf can point):
/// `rebind.example.com` answers a public address first and loopback after; `mixed.example.com`
/// answers both at once; `nowhere.example.com` does not exist; every AAAA query gets no answer.
/// Written by hand because the wire format of one A answer is a few dozen bytes, where a DNS
/// server crate brings a resolver stack. Returns the A queries seen, by name.
fn start_rebinding_dns() -> Arc<std::sync::Mutex<Vec<String>>> {
    let socket = std::net::UdpSocket::bind("127.0.0.153:53")
        .expect("binding 127.0.0.153:53 for the test's DNS server (needs root, as in CI)");
    let queries = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = queries.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        let mut rebind_answers = 0;
        while let Ok((n, peer)) = socket.recv_from(&mut buf) {
            let query = &buf[..n];
            // Header (12 bytes), then the question: labels up to a zero byte, type, class.
            let Some(name_end) = query.iter().skip(12).position(|&b| b == 0).map(|i| 12 + i) else {
                continue;
            };
            let question_end = name_end + 5;
            if question_end > n {
                continue;
            }
            let name = String::from_utf8_lossy(&query[12..name_end]).to_lowercase();
            let qtype = u16::from_be_bytes([query[name_end + 1], query[name_end + 2]]);
            let mut no_such_name = false;
            let addresses: Vec<[u8; 4]> = match qtype {
                1 => {
                    seen.lock().unwrap().push(name.clone());
                    if name.contains("rebind") {
                        rebind_answers += 1;
                        if rebind_answers == 1 {
                            vec![[192, 0, 2, 1]]
                        } else {
                            vec![[127, 0, 0, 1]]
                        }
                    } else if name.contains("nowhere") {
                        no_such_name = true;
                        vec![]
                    } else {
                        vec![[192, 0, 2, 1], [127, 0, 0, 1]]
                    }
                }
                _ => vec![],
            };
            let mut answer = query[..question_end].to_vec();
            answer[2] = 0x81; // a response, recursion desired
            answer[3] = if no_such_name { 0x83 } else { 0x80 }; // NXDOMAIN, or no error
            answer[6..8].copy_from_slice(&(addresses.len() as u16).to_be_bytes());
            answer[8..12].fill(0);
            for address in addresses {
                // The name by pointer to the question, type A, class IN, TTL 0, 4 bytes.
                answer.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4]);
                answer.extend_from_slice(&address);
            }
            let _ = socket.send_to(&answer, peer);
        }
    });
    queries
}

#[test]
fn a_name_that_rebinds_to_an_internal_address_is_refused() {
    if !requires(&["mount-namespaces"]) {
        return;
    }
    let internal = TestServer::start(vec![(
        "/secret",
        b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret".to_vec(),
    )]);
    let queries = start_rebinding_dns();
    let dir = tempfile::tempdir().unwrap();
    let resolv = dir.path().join("resolv.conf");
    std::fs::write(
        &resolv,
        "nameserver 127.0.0.153\noptions timeout:1 attempts:1\n",
    )
    .unwrap();
    for name in [
        "rebind.example.com",
        "mixed.example.com",
        "nowhere.example.com",
    ] {
        // cairn resolves through this machine's resolver, pointed (in a mount namespace of its
        // own) at the test's DNS server. robots.txt is fetched first, so the page's fetch is
        // the second lookup: the rebinding attack's moment.
        let script = format!(
            "mount --bind '{}' /etc/resolv.conf && exec '{}' --archives '{}' archive \
             --no-progress --timeout 3 http://{name}:{}/secret",
            resolv.display(),
            env!("CARGO_BIN_EXE_cairn"),
            dir.path().display(),
            internal.port,
        );
        let out = std::process::Command::new("unshare")
            .args(["--mount", "sh", "-c", &script])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        if name.starts_with("rebind") {
            assert!(
                stderr.contains("resolves to 127.0.0.1, not a public address"),
                "{stderr}"
            );
        }
    }
    assert_eq!(internal.hits(), 0, "the internal server was reached");
    // A name that does not exist, or resolves only to refused addresses, is not asked again:
    // one lookup for robots.txt, one for the page, no retries.
    let queries = queries.lock().unwrap().clone();
    let asked = |label: &str| queries.iter().filter(|q| q.contains(label)).count();
    assert_eq!(asked("nowhere"), 2, "{queries:?}");
    assert!(asked("rebind") >= 2 && asked("mixed") >= 1, "{queries:?}");
}

/// A hostile server: resets, stalls, lies about lengths, bombs, loops.
fn hostile(target: &str) -> Vec<Step> {
    use crate::fixture::response;
    use std::time::Duration;
    let head = |extra: &str| {
        format!("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n{extra}Connection: close\r\n\r\n")
            .into_bytes()
    };
    match target {
        "/" => vec![Step::Send(response(
            "200 OK",
            "text/html",
            b"<a href=/reset>a</a><a href=/stall>b</a><a href=/short>c</a><a href=/long>d</a>\
              <a href=/bomb>e</a><a href=/loop1>f</a><a href=/links>g</a><a href=/badheader>h</a>",
        ))],
        // Promises 100,000 bytes, sends 100, hangs up.
        "/reset" | "/long" => vec![Step::Send([head("Content-Length: 100000\r\n"), vec![b'x'; 100]].concat())],
        // Headers, then nothing, for longer than the timeout.
        "/stall" => vec![
            Step::Send([head("Content-Length: 1000\r\n"), b"partial".to_vec()].concat()),
            Step::Pause(Duration::from_secs(20)),
        ],
        // Says 5 bytes, sends more.
        "/short" => vec![Step::Send([head("Content-Length: 5\r\n"), b"hello and more".to_vec()].concat())],
        // 40 MB of zeros gzipped to a few KB, with a link inside.
        "/bomb" => {
            use std::io::Write;
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            gz.write_all(b"<img src=/after-bomb>").unwrap();
            gz.write_all(&vec![b' '; 40 << 20]).unwrap();
            let body = gz.finish().unwrap();
            vec![Step::Send(
                [head(&format!("Content-Encoding: gzip\r\nContent-Length: {}\r\n", body.len())), body].concat(),
            )]
        }
        "/loop1" => vec![Step::Send(response_with("302 Found", &[("Location", "/loop2")], b""))],
        "/loop2" => vec![Step::Send(response_with("302 Found", &[("Location", "/loop1")], b""))],
        "/links" => {
            let links: String = (0..10_000).map(|i| format!("<a href=/l/{i}>{i}</a>")).collect();
            vec![Step::Send(response("200 OK", "text/html", links.as_bytes()))]
        }
        "/badheader" => vec![Step::Send(
            [b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Bad: \xff\xfe\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".to_vec()].concat(),
        )],
        _ => vec![Step::Send(response("200 OK", "text/html", b"fine"))],
    }
}

#[test]
fn hostile_servers_end_in_records_or_clear_errors() {
    if !requires(&["zstd", "warcio"]) {
        return;
    }
    use crate::archive::{assert_valid_warcs, index_entries, warc_files};
    let handler: Handler = Arc::new(|req: &Request| hostile(&req.target));
    let fixture = HttpsFixture::start(&["hostile.example.com"], handler).unwrap();
    let archives = tempfile::tempdir().unwrap();
    let out = archive(
        archives.path(),
        &fixture,
        &[
            "--no-progress",
            "--timeout",
            "3",
            "--depth",
            "1",
            "--max-pages",
            "200",
        ],
        &["https://hostile.example.com/"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"));
    let entries = index_entries(archives.path(), "default");
    let url = |p: &str| format!("https://hostile.example.com{p}");
    let has = |p: &str| entries.iter().any(|e| e.url == url(p));
    for path in [
        "/reset",
        "/stall",
        "/short",
        "/long",
        "/bomb",
        "/loop1",
        "/loop2",
        "/links",
        "/after-bomb",
    ] {
        assert!(has(path), "{path} archived");
    }
    assert!(
        entries.iter().filter(|e| e.url.contains("/l/")).count() <= 200,
        "--max-pages bounds the link farm"
    );
    let files = warc_files(archives.path(), "default");
    assert_valid_warcs(&files);
    // Cut-short bodies are kept and marked; the bomb is stored as sent (compressed).
    let truncation = |path: &str| {
        let (header, _) = crate::faults::response_record(&files, &url(path));
        header.get("WARC-Truncated").map(str::to_string)
    };
    assert_eq!(truncation("/reset").as_deref(), Some("disconnect"));
    assert_eq!(truncation("/stall").as_deref(), Some("time"));
    assert_eq!(truncation("/short"), None);
    assert_eq!(truncation("/bomb"), None);

    // A certificate that does not verify is refused unless its CA is given.
    let out = cairn()
        .arg("--archives")
        .arg(archives.path())
        .args(["archive", "--no-progress", "--connect-to"])
        .arg(format!(
            "hostile.example.com:443:127.0.0.1:{}",
            fixture.port
        ))
        .arg("https://hostile.example.com/")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.lines().last().unwrap().contains("certificate"),
        "{stderr}"
    );
}

#[test]
fn twenty_kills_lose_nothing_whole() {
    use std::time::Duration;
    let handler: Handler = Arc::new(|req: &Request| {
        let body = match req.target.as_str() {
            "/" => (0..40)
                .map(|i| format!("<a href=/p{i}>{i}</a>"))
                .collect::<String>(),
            t if t.ends_with(".jpg") => "x".repeat(30_000),
            t => format!("<img src={t}.jpg>"),
        };
        vec![
            Step::Pause(Duration::from_millis(20)),
            Step::Send(crate::fixture::response(
                "200 OK",
                "text/html",
                body.as_bytes(),
            )),
        ]
    });
    let fixture = HttpsFixture::start(&["kill.example.com"], handler).unwrap();
    let archives = tempfile::tempdir().unwrap();
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for round in 0..20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let mut child = cairn()
            .arg("--archives")
            .arg(archives.path())
            .args([
                "archive",
                "--no-progress",
                "--robots",
                "ignore",
                "--compression",
            ])
            .arg(["zstd", "gzip", "none"][round % 3])
            .args(fixture.args())
            .arg("https://kill.example.com/")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(50 + x % 600));
        let _ = child.kill();
        let _ = child.wait();
        for entry in std::fs::read_dir(archives.path().join("default/warc"))
            .into_iter()
            .flatten()
        {
            let path = entry.unwrap().path();
            if path.to_string_lossy().ends_with(".open") {
                // Interrupted: mend it, and what is left must verify.
                run_ok(cairn().args(["verify", "--repair"]).arg(&path));
            } else {
                run_ok(cairn().arg("verify").arg(&path));
            }
        }
    }
    let files = crate::archive::warc_files(archives.path(), "default");
    assert!(!files.is_empty());
    run_ok(
        cairn()
            .arg("verify")
            .arg(archives.path().join("default/warc")),
    );
}
