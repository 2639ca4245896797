//! The offline copy against sites laid out to break it: a URL whose file is another's folder,
//! a URL named like a temporary file, a capture that cannot be read; and job files naming
//! folders outside the archives.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use crate::archive::{archive_ok, warc_files};
use crate::fixture::{Handler, HttpsFixture, Request, Step, response};
use crate::support::{cairn, requires, run_ok};

fn site(pages: &'static [(&'static str, &'static str, &'static [u8])]) -> HttpsFixture {
    let handler: Handler = Arc::new(move |req: &Request| {
        let found = pages.iter().find(|(path, _, _)| *path == req.target);
        let (status, mime, body): (&str, &str, &[u8]) = match found {
            Some((_, mime, body)) => ("200 OK", mime, body),
            None => ("404 Not Found", "text/plain", b""),
        };
        vec![Step::Send(response(status, mime, body))]
    });
    HttpsFixture::start(&["clash.example.com"], handler).unwrap()
}

fn export(archives: &Path) -> std::process::Output {
    cairn()
        .arg("--archives")
        .arg(archives)
        .arg("export")
        .output()
        .unwrap()
}

#[test]
fn a_file_and_a_folder_of_one_name_both_export_every_time() {
    if !requires(&["zstd"]) {
        return;
    }
    let fixture = site(&[
        (
            "/",
            "text/html",
            b"<a href=/x.html>x</a> <a href=/x.html/y>y</a>",
        ),
        ("/x.html", "text/html", b"<p>the file</p>"),
        ("/x.html/y", "text/html", b"<p>inside the folder</p>"),
    ]);
    let archives = tempfile::tempdir().unwrap();
    archive_ok(
        archives.path(),
        &fixture,
        &["--no-progress"],
        &["https://clash.example.com/"],
    );
    for _ in 0..2 {
        run_ok(cairn().arg("--archives").arg(archives.path()).arg("export"));
    }
    let host = archives.path().join("default/offline/clash.example.com");
    let inside = fs::read_to_string(host.join("x.html/y.html")).unwrap();
    assert!(inside.contains("inside the folder"));
    let file = fs::read_to_string(host.join("x~2.html")).unwrap();
    assert!(file.contains("the file"));
    let index = fs::read_to_string(host.join("index.html")).unwrap();
    assert!(index.contains("href=\"x~2.html\""), "{index}");
    assert!(index.contains("href=\"x.html/y.html\""), "{index}");
}

#[test]
fn a_url_named_like_a_temporary_file_is_kept() {
    if !requires(&["zstd"]) {
        return;
    }
    let fixture = site(&[
        (
            "/",
            "text/html",
            b"<a href=/data.html>d</a> <a href=/data.cairn-tmp>t</a>",
        ),
        ("/data.html", "text/html", b"<p>data page</p>"),
        (
            "/data.cairn-tmp",
            "application/octet-stream",
            b"archived bytes",
        ),
    ]);
    let archives = tempfile::tempdir().unwrap();
    archive_ok(
        archives.path(),
        &fixture,
        &["--no-progress", "--depth", "1"],
        &["https://clash.example.com/"],
    );
    run_ok(cairn().arg("--archives").arg(archives.path()).arg("export"));
    let host = archives.path().join("default/offline/clash.example.com");
    assert_eq!(
        fs::read(host.join("data.cairn-tmp")).unwrap(),
        b"archived bytes"
    );
    assert!(host.join("data.html").exists());
    // No temporary file is left behind.
    let names: Vec<String> = fs::read_dir(&host)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with(".cairn-")), "{names:?}");
}

#[test]
fn one_capture_that_cannot_be_read_costs_only_its_file() {
    if !requires(&["zstd"]) {
        return;
    }
    let fixture = site(&[
        ("/", "text/html", b"<img src=/a.png><img src=/b.png>"),
        ("/a.png", "image/png", &[7u8; 3000]),
        ("/b.png", "image/png", &[9u8; 3000]),
    ]);
    let archives = tempfile::tempdir().unwrap();
    archive_ok(
        archives.path(),
        &fixture,
        &["--no-progress", "--compression", "gzip"],
        &["https://clash.example.com/"],
    );
    // Damage the record of /a.png in the middle of its member.
    let captures = crate::archive::index_entries(archives.path(), "default");
    let a = captures.iter().find(|c| c.url.ends_with("/a.png")).unwrap();
    let file = warc_files(archives.path(), "default")
        .into_iter()
        .find(|f| f.file_name().unwrap().to_string_lossy() == a.filename)
        .unwrap();
    let mut bytes = fs::read(&file).unwrap();
    let middle = (a.offset + a.length / 2) as usize;
    for b in &mut bytes[middle..middle + 16] {
        *b ^= 0x5a;
    }
    fs::write(&file, bytes).unwrap();
    fs::remove_dir_all(archives.path().join("default/offline")).unwrap();

    let out = export(archives.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: https://clash.example.com/a.png: "),
        "{stderr}"
    );
    let host = archives.path().join("default/offline/clash.example.com");
    assert_eq!(fs::read(host.join("b.png")).unwrap(), vec![9u8; 3000]);
    assert!(host.join("index.html").exists());
    assert!(!host.join("a.png").exists());
}

#[test]
fn a_job_naming_a_folder_outside_the_archives_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let archives = dir.path().join("archives");
    for (line, collection) in [(5, "../outside"), (5, "/abs"), (5, "a/b")] {
        let config = dir.path().join("cairn.toml");
        fs::write(
            &config,
            format!(
                "[[job]]\nname = \"j\"\ntargets = [\"https://a.example/\"]\nschedule = \"0 * * * *\"\ncollection = \"{collection}\"\n"
            ),
        )
        .unwrap();
        for args in [&["jobs", "list"][..], &["jobs", "run", "j"]] {
            let out = cairn()
                .arg("--archives")
                .arg(&archives)
                .args(args)
                .arg("--config")
                .arg(&config)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{stderr}");
            assert!(
                stderr.starts_with(&format!("error: {}:{line}: ", config.display())),
                "{stderr}"
            );
        }
    }
    assert!(!dir.path().join("outside").exists());
    assert!(!archives.exists());
}
