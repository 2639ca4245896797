//! Scheduled crawl jobs: a job on a 1-second schedule re-crawls a site, storing unchanged
//! payloads as revisits and a changed page anew; two schedulers sharing one database never
//! run one job twice at once; `jobs run` and `jobs history` serve system schedulers.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cairn::jobs::store::{JobStore, Outcome, RunRow, SqliteStore};

use crate::archive::{assert_valid_warcs, index_entries, warc_files};
use crate::fixture::{Handler, HttpsFixture, Request, Step, response};
use crate::replay::ReplayServer;
use crate::support::*;

/// The keys that point a job at the fixture: its CA, its mappings, no progress lines.
pub fn fixture_keys(fixture: &HttpsFixture) -> String {
    let args = fixture.args();
    let connect_to: Vec<String> = args
        .chunks(2)
        .filter(|p| p[0] == "--connect-to")
        .map(|p| format!("{:?}", p[1]))
        .collect();
    format!(
        "ca_cert = [{:?}]\nconnect_to = [{}]\nno_progress = true\n",
        fixture.ca_pem.display().to_string(),
        connect_to.join(", ")
    )
}

pub fn config(dir: &Path, fixture: &HttpsFixture, host: &str, extra: &str) -> PathBuf {
    let text = format!(
        "[[job]]\nname = \"site\"\ntargets = [\"https://{host}/\"]\nschedule = \"* * * * * *\"\ncollection = \"site\"\n{}{extra}",
        fixture_keys(fixture)
    );
    let path = dir.join("cairn.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn scheduler(archives: &Path, config: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("--archives")
        .arg(archives)
        .arg("schedule")
        .arg("--config")
        .arg(config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn stop(child: Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the scheduler stops cleanly on SIGTERM: {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn finished_runs(archives: &Path) -> Vec<RunRow> {
    let store = SqliteStore::open(&archives.join("cairn.sqlite")).unwrap();
    store
        .history("site")
        .unwrap()
        .into_iter()
        .filter(|r| r.ended.is_some())
        .collect()
}

fn wait_for_runs(archives: &Path, n: usize, limit: Duration) -> Vec<RunRow> {
    let start = Instant::now();
    loop {
        if archives.join("cairn.sqlite").exists() {
            let runs = finished_runs(archives);
            if runs.len() >= n || start.elapsed() > limit {
                return runs;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_scheduled_job_recrawls_storing_only_what_changed() {
    if !requires(&["zstd", "warcio"]) {
        return;
    }
    let visits = Arc::new(AtomicUsize::new(0));
    let seen = visits.clone();
    let handler: Handler = Arc::new(move |req: &Request| {
        // Incompressible, as photos are.
        let mut x = 0x2545_F491u32;
        let photo: Vec<u8> = (0..80_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        match req.target.as_str() {
            "/" => {
                let edition = if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                    "first edition"
                } else {
                    "second edition"
                };
                let page = format!(
                    "<html><head><title>{edition}</title></head><body><img src=/photo.jpg><img src=/other.jpg>{}</body></html>",
                    "<p>text</p>".repeat(200)
                );
                vec![Step::Send(response("200 OK", "text/html", page.as_bytes()))]
            }
            "/photo.jpg" => vec![Step::Send(response("200 OK", "image/jpeg", &photo))],
            "/other.jpg" => vec![Step::Send(response(
                "200 OK",
                "image/jpeg",
                &photo[..60_000],
            ))],
            _ => vec![Step::Send(response("404 Not Found", "text/plain", b""))],
        }
    });
    let fixture = HttpsFixture::start(&["jobs.example.com"], handler).unwrap();
    let work = tempfile::tempdir().unwrap();
    let archives = work.path().join("archives");
    let config = config(work.path(), &fixture, "jobs.example.com", "");
    let child = scheduler(&archives, &config);
    let runs = wait_for_runs(&archives, 2, Duration::from_secs(60));
    stop(child);
    assert!(runs.len() >= 2, "{runs:?}");
    assert!(runs.iter().all(|r| r.outcome == Outcome::Ok), "{runs:?}");
    assert_eq!(runs[1].revisits, 2, "the photos, unchanged: {runs:?}");
    assert!(
        runs[1].bytes * 10 < runs[0].bytes,
        "second run wrote {} bytes, the first {}",
        runs[1].bytes,
        runs[0].bytes
    );

    let files = warc_files(&archives, "site");
    assert_valid_warcs(&files);
    // The changed page is captured anew, and replays as the newer capture.
    let entries = index_entries(&archives, "site");
    let pages: Vec<_> = entries
        .iter()
        .filter(|e| e.url == "https://jobs.example.com/")
        .collect();
    assert!(pages.len() >= 2 && pages.iter().all(|e| e.mime.as_deref() == Some("text/html")));
    let server = ReplayServer::start(&archives);
    let (status, _, body) = server.get("/site/2099/https://jobs.example.com/");
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("second edition"));

    // History, for people and for scripts.
    let out = run_ok(
        cairn()
            .arg("--archives")
            .arg(&archives)
            .args(["jobs", "history", "site", "--config"])
            .arg(&config),
    );
    assert!(stdout(&out).lines().count() >= 3, "{}", stdout(&out));
    let out = run_ok(
        cairn()
            .arg("--archives")
            .arg(&archives)
            .args(["--json", "jobs", "history", "site", "--config"])
            .arg(&config),
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(rows.as_array().unwrap().len() >= 2);
}

#[test]
fn two_schedulers_never_run_a_job_twice_at_once() {
    let handler: Handler = Arc::new(|req: &Request| {
        let body = if req.target == "/" {
            b"<img src=/slow.jpg>".to_vec()
        } else {
            b"slow".to_vec()
        };
        vec![
            Step::Pause(Duration::from_millis(700)),
            Step::Send(response("200 OK", "text/html", &body)),
        ]
    });
    let fixture = HttpsFixture::start(&["slow.example.com"], handler).unwrap();
    let work = tempfile::tempdir().unwrap();
    let archives = work.path().join("archives");
    let config = config(
        work.path(),
        &fixture,
        "slow.example.com",
        "robots = \"ignore\"\n",
    );
    let first = scheduler(&archives, &config);
    let second = scheduler(&archives, &config);
    let runs = wait_for_runs(&archives, 4, Duration::from_secs(60));
    stop(first);
    stop(second);
    let all = finished_runs(&archives);
    assert!(runs.len() >= 4, "{all:?}");
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            let (a_end, b_end) = (a.ended.clone().unwrap(), b.ended.clone().unwrap());
            let overlap = a.started < b_end && b.started < a_end;
            assert!(!overlap, "runs overlap: {a:?} {b:?}");
        }
    }
}

#[test]
fn jobs_run_once_with_overrides_and_bad_configs_name_the_line() {
    let handler: Handler = Arc::new(|_: &Request| {
        vec![Step::Send(response(
            "200 OK",
            "text/html",
            b"<title>once</title>",
        ))]
    });
    let fixture = HttpsFixture::start(&["once.example.com"], handler).unwrap();
    let work = tempfile::tempdir().unwrap();
    let archives = work.path().join("archives");
    let config = config(work.path(), &fixture, "once.example.com", "depth = 3\n");
    let out = run_ok(
        cairn()
            .arg("--archives")
            .arg(&archives)
            .args(["jobs", "run", "site", "--config"])
            .arg(&config)
            .args(["--depth", "0"]),
    );
    // The run says what it archived, as `cairn archive` does.
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("archived 1 pages"), "{said}");
    let runs = finished_runs(&archives);
    assert_eq!(
        (runs.len(), &runs[0].outcome, runs[0].pages),
        (1, &Outcome::Ok, 1)
    );
    let out = run_ok(
        cairn()
            .arg("--archives")
            .arg(&archives)
            .args(["jobs", "list", "--config"])
            .arg(&config),
    );
    assert!(
        stdout(&out).starts_with("site\t* * * * * *\tsite\tnext "),
        "{}",
        stdout(&out)
    );

    std::fs::write(&config, "[[job]]\nname = \"x\"\ntargets = [\"https://a.example/\"]\nschedule = \"0 * * * *\"\nwibble = 1\n").unwrap();
    let out = cairn()
        .args(["jobs", "list", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.starts_with("error: ") && stderr.contains("cairn.toml:5: unknown field `wibble`"),
        "{stderr}"
    );
}

/// Thirty pages with a photo each, every answer 200 ms late: a crawl long enough to kill.
fn slow_site(req: &Request) -> Vec<Step> {
    let body = match req.target.as_str() {
        "/" => (0..30)
            .map(|i| format!("<a href=/p{i}>{i}</a>"))
            .collect::<String>()
            .into_bytes(),
        t if t.ends_with(".jpg") => format!("image {t}").repeat(200).into_bytes(),
        t => format!("<title>{t}</title><img src={t}.jpg>").into_bytes(),
    };
    vec![
        Step::Pause(Duration::from_millis(200)),
        Step::Send(response("200 OK", "text/html", &body)),
    ]
}

#[test]
fn a_crawl_killed_midway_resumes_and_completes() {
    if !requires(&["zstd", "warcio"]) {
        return;
    }
    let handler: Handler = Arc::new(slow_site);
    let fixture = HttpsFixture::start(&["resume.example.com"], handler).unwrap();
    let work = tempfile::tempdir().unwrap();
    let archives = work.path().join("archives");
    let config = config(
        work.path(),
        &fixture,
        "resume.example.com",
        "robots = \"ignore\"\nper_host = 2\n",
    );
    let log = work.path().join("runs.log");
    let run = || {
        let err = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        Command::new(env!("CARGO_BIN_EXE_cairn"))
            .arg("--archives")
            .arg(&archives)
            .args(["jobs", "run", "site", "--config"])
            .arg(&config)
            .stdout(std::process::Stdio::null())
            .stderr(err)
            .spawn()
            .unwrap()
    };
    let mut killed = run();
    std::thread::sleep(Duration::from_millis(2500));
    killed.kill().unwrap(); // SIGKILL
    killed.wait().unwrap();
    let fetched_before = fixture.requested().len();
    assert!(
        fetched_before > 5,
        "the killed run had started ({fetched_before} requests)"
    );

    let mut resumed = run();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = resumed.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            resumed.kill().unwrap();
            panic!(
                "the resumed run hangs: {}",
                std::fs::read_to_string(&log).unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        status.success(),
        "{}",
        std::fs::read_to_string(&log).unwrap()
    );
    let runs = finished_runs(&archives);
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(runs[0].outcome == Outcome::Killed, "{runs:?}");
    assert_eq!(runs[1].outcome, Outcome::Ok);

    // Nothing the killed run archived was fetched again, but what was in flight.
    let requests = fixture.requested();
    let mut counts = std::collections::HashMap::new();
    for r in &requests {
        *counts.entry(r.target.clone()).or_insert(0) += 1;
    }
    let twice = counts.values().filter(|n| **n > 1).count();
    assert!(twice <= 6, "{twice} URLs fetched twice: {counts:?}");

    // Every file is closed and valid, and the captures equal an uninterrupted crawl's.
    let files = warc_files(&archives, "site");
    assert!(files.len() >= 2);
    assert!(
        std::fs::read_dir(archives.join("site/warc"))
            .unwrap()
            .all(|e| !e.unwrap().path().to_string_lossy().ends_with(".open"))
    );
    assert_valid_warcs(&files);
    let captured = |dir: &Path, coll: &str| -> std::collections::BTreeSet<String> {
        index_entries(dir, coll)
            .into_iter()
            .map(|e| e.url)
            .collect()
    };
    let whole = work.path().join("whole");
    crate::archive::archive_ok(
        &whole,
        &fixture,
        &["--no-progress", "--robots", "ignore"],
        &["https://resume.example.com/"],
    );
    let (resumed, uninterrupted) = (captured(&archives, "site"), captured(&whole, "default"));
    assert_eq!(
        (
            resumed.difference(&uninterrupted).collect::<Vec<_>>(),
            uninterrupted.difference(&resumed).collect::<Vec<_>>()
        ),
        (vec![], vec![]),
        "captured by the resumed job only / by the uninterrupted crawl only"
    );
}
