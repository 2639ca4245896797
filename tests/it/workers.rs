//! Several workers, one crawl: `cairn archive --state postgres://...` processes, each with an
//! archives folder of its own as on separate machines, crawl a two-host site together through
//! Debian's PostgreSQL, started here in a temporary folder on a loopback port. Every URL is
//! fetched once, by one of them; per-host limits hold across them (the fixture counts the
//! requests it is answering at once, per host); robots.txt one worker fetched binds the others;
//! the union of their captures is a single process's; a second crawl writes revisits for what
//! other workers stored; a worker killed outright gives its URLs back when its leases expire,
//! and its unfinished file is mended when it starts again. A job with shared state keeps its
//! runs there, with the pages whose text changed and what `on_change` did.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cairn::warc::WarcReader;

use crate::archive::{archive_ok, assert_valid_warcs, index_entries, warc_files};
use crate::fixture::{Handler, HttpsFixture, Request, Step, response};
use crate::support::*;

/// The newest PostgreSQL server programs Debian installed (`/usr/lib/postgresql/N/bin`).
pub fn postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let path = e.ok()?.path();
            let version = path.file_name()?.to_str()?.parse().ok()?;
            let bin = path.join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// A PostgreSQL server of its own: a cluster made by `initdb` in a temporary folder, listening
/// on 127.0.0.1 only, stopped and removed when dropped. The server refuses to run as root, so
/// as root (CI) its programs run as Debian's `postgres` user.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
}

impl Postgres {
    pub fn start() -> Postgres {
        Postgres::start_with(None)
    }

    /// A server that takes TLS connections only, its certificate for 127.0.0.1 signed by a
    /// CA made now (returned as PEM, for the client to trust).
    pub fn start_tls_only() -> (Postgres, String) {
        let ca = rcgen::CertifiedIssuer::self_signed(
            {
                let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
                params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
                params
            },
            rcgen::KeyPair::generate().unwrap(),
        )
        .unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        let server = Postgres::start_with(Some((leaf.pem(), key.serialize_pem())));
        (server, ca.pem())
    }

    fn start_with(tls: Option<(String, String)>) -> Postgres {
        let bin = postgres_bin().expect("checked by requires");
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        if is_root() {
            run_ok(Command::new("chown").arg("postgres").arg(dir.path()));
        }
        let server = Postgres { dir, bin, port };
        run_ok(server.command("initdb").args([
            "-D",
            &server.data(),
            "-A",
            "trust",
            "-U",
            "cairn",
            "--no-sync",
        ]));
        let mut options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50",
            server.dir.path().display()
        );
        if let Some((cert, key)) = tls {
            options.push_str(&server.require_tls(&cert, &key));
        }
        let log = server.dir.path().join("server.log");
        run_ok(server.command("pg_ctl").args([
            "-D",
            &server.data(),
            "-o",
            &options,
            "-l",
            &log.display().to_string(),
            "-w",
            "start",
        ]));
        server
    }

    /// Puts the certificate and key in the data folder and lets TCP clients in over TLS
    /// only; returns the server options that turn TLS on.
    fn require_tls(&self, cert: &str, key: &str) -> String {
        let data = PathBuf::from(self.data());
        std::fs::write(data.join("server.crt"), cert).unwrap();
        std::fs::write(data.join("server.key"), key).unwrap();
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
        )
        .unwrap();
        run_ok(
            Command::new("chmod")
                .arg("600")
                .arg(data.join("server.key")),
        );
        if is_root() {
            run_ok(Command::new("chown").arg("-R").arg("postgres").arg(&data));
        }
        " -c ssl=on".to_string()
    }

    /// Where a worker finds it: the cluster's own `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://cairn@127.0.0.1:{}/postgres", self.port)
    }

    /// One value from a query, by psql.
    pub fn query(&self, sql: &str) -> String {
        let out = run_ok(&mut self.psql(sql));
        stdout(&out).trim().to_string()
    }

    /// The same, or `None` if the query fails (the schema not made yet).
    pub fn try_query(&self, sql: &str) -> Option<String> {
        let out = self.psql(sql).stderr(Stdio::null()).output().ok()?;
        out.status
            .success()
            .then(|| stdout(&out).trim().to_string())
    }

    fn psql(&self, sql: &str) -> Command {
        let mut command = Command::new(self.bin.join("psql"));
        command.args(["-X", "-A", "-t", "-d", &self.url(), "-c", sql]);
        command
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["-D", &self.data(), "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .status();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| stdout(&o).trim() == "0")
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// An S3-compatible server of its own: s3rver (from npm, installed by `scripts/test` into
/// `target/s3rver/`), objects kept as files in a temporary folder, one bucket, `cairn`, on
/// 127.0.0.1; its request log kept, to see how the objects were read.
pub struct S3rver {
    _dir: tempfile::TempDir,
    port: u16,
    child: Child,
    log: PathBuf,
}

impl S3rver {
    /// s3rver's program, if it is installed.
    pub fn installed() -> Option<PathBuf> {
        let program = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/s3rver/node_modules/s3rver/bin/s3rver.js");
        program.is_file().then_some(program)
    }

    pub fn start() -> S3rver {
        let program = S3rver::installed().expect("checked by requires");
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let log = dir.path().join("requests.log");
        let child = Command::new("node")
            .arg(program)
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .args(["--configure-bucket", "cairn", "-d"])
            .arg(dir.path().join("objects"))
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "s3rver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        S3rver {
            _dir: dir,
            port,
            child,
            log,
        }
    }

    /// What cairn reads the endpoint and credentials from (s3rver's fixed keys).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT", format!("http://127.0.0.1:{}", self.port)),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", "S3RVER".into()),
            ("AWS_SECRET_ACCESS_KEY", "S3RVER".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }

    /// The requests it answered, one line each: path, status, time, size.
    pub fn requests(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for S3rver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const BUCKET: &str = "s3://cairn/crawls";

const NEWS: &str = "news.workers.example";
const IMAGES: &str = "img.workers.example";
/// Pages of the site most tests crawl; the three-worker test crawls `BIG` of them.
const PAGES: usize = 90;
const BIG: usize = 400;

/// A news site on two hosts: an index of `pages` pages, each with two photos of its own and
/// the site's logo on the image host, a link to the next page and one to a path robots.txt
/// disallows. Every answer comes `pause` late, so fetches overlap.
fn news_site(pages: usize, pause: Duration) -> Handler {
    Arc::new(move |req: &Request| {
        let host = req.host.split(':').next().unwrap_or_default();
        let (kind, body) = match (host, req.target.as_str()) {
            (_, "/robots.txt") => (
                "text/plain",
                b"User-agent: *\nDisallow: /private/\n".to_vec(),
            ),
            (NEWS, "/") => {
                let links: String = (0..pages)
                    .map(|i| format!("<a href=/p{i}>story {i}</a>"))
                    .collect();
                (
                    "text/html",
                    format!("<title>front</title>{links}").into_bytes(),
                )
            }
            (NEWS, page) => {
                let n: usize = page.trim_start_matches("/p").parse().unwrap_or(0);
                let html = format!(
                    "<title>story {n}</title><img src=https://{IMAGES}/{n}a.jpg>\
                     <img src=https://{IMAGES}/{n}b.jpg><img src=https://{IMAGES}/logo.png>\
                     <a href=/p{}>next</a><a href=/private/{n}>staff</a>",
                    (n + 1) % pages
                );
                ("text/html", html.into_bytes())
            }
            (_, image) => (
                "image/jpeg",
                format!("photo {image} ").repeat(40).into_bytes(),
            ),
        };
        vec![
            Step::Pause(pause),
            Step::Send(response("200 OK", kind, &body)),
        ]
    })
}

/// A worker: `cairn archive` of the site into its own archives folder, sharing `state`.
fn worker(archives: &Path, fixture: &HttpsFixture, state: &str, extra: &[&str]) -> Child {
    worker_command(archives, fixture, state, extra)
        .spawn()
        .unwrap()
}

fn worker_command(archives: &Path, fixture: &HttpsFixture, state: &str, extra: &[&str]) -> Command {
    let mut command = cairn();
    command
        .arg("--archives")
        .arg(archives)
        .args(["archive", "--state", state, "--no-progress", "--depth", "1"])
        .args(fixture.args())
        .args(extra)
        .arg(format!("https://{NEWS}/"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// `cairn index --store` into a fresh archives folder: the collection's index made of the
/// bucket's segments alone.
fn index_from_bucket(archives: &Path, s3: &S3rver) {
    run_ok(
        cairn()
            .arg("--archives")
            .arg(archives)
            .args(["index", "--store", BUCKET])
            .envs(s3.env()),
    );
}

fn wait_ok(child: Child, what: &str) {
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{what}: {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every URL the workers captured, over their collections' indexes.
fn captured(folders: &[PathBuf]) -> BTreeSet<String> {
    folders
        .iter()
        .flat_map(|f| index_entries(f, "default"))
        .map(|c| c.url)
        .collect()
}

/// What one `cairn archive` of the site, with no shared state, captures (into `work/whole`).
fn single_process_captures(work: &Path, fixture: &HttpsFixture) -> BTreeSet<String> {
    let whole = work.join("whole");
    archive_ok(
        &whole,
        fixture,
        &["--no-progress", "--depth", "1"],
        &[&format!("https://{NEWS}/")],
    );
    captured(&[whole])
}

/// Record IDs of the response records in `files`, and (ID, WARC-Refers-To) of the revisits.
fn responses_and_revisits(files: &[PathBuf]) -> (HashSet<String>, Vec<String>) {
    let (mut responses, mut refers_to) = (HashSet::new(), Vec::new());
    for file in files {
        let mut reader = WarcReader::open(file).unwrap();
        while let Some(record) = reader.next_record().unwrap() {
            let header = &record.header;
            match header.get("WARC-Type") {
                Some("response") => {
                    responses.insert(header.get("WARC-Record-ID").unwrap().to_string());
                }
                Some("revisit") => refers_to.push(header.get("WARC-Refers-To").unwrap().into()),
                _ => {}
            }
        }
    }
    (responses, refers_to)
}

#[test]
fn three_workers_crawl_a_site_once_within_per_host_limits_and_recrawl_as_revisits() {
    if !requires(&["postgresql", "zstd", "warcio"]) {
        return;
    }
    let postgres = Postgres::start();
    let fixture =
        HttpsFixture::start(&[NEWS, IMAGES], news_site(BIG, Duration::from_millis(5))).unwrap();
    let work = tempfile::tempdir().unwrap();
    let folders: Vec<PathBuf> = (1..=3).map(|i| work.path().join(format!("w{i}"))).collect();
    let limits = ["--per-host", "2", "--concurrency", "4"];
    let crawl_all = || {
        let workers: Vec<Child> = folders
            .iter()
            .map(|f| worker(f, &fixture, &postgres.url(), &limits))
            .collect();
        for (i, child) in workers.into_iter().enumerate() {
            wait_ok(child, &format!("worker {}", i + 1));
        }
    };
    crawl_all();

    // Every URL once, robots.txt once per host, and what it disallows by no worker.
    let requests = fixture.requested();
    let mut counts: HashMap<(String, String), usize> = HashMap::new();
    for r in &requests {
        *counts
            .entry((r.host.clone(), r.target.clone()))
            .or_default() += 1;
    }
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "fetched more than once: {twice:?}");
    let expected = 2 + 1 + BIG + 2 * BIG + 1;
    assert_eq!(
        counts.len(),
        expected,
        "robots.txt twice, the front page, pages, photos, logo"
    );
    assert!(!requests.iter().any(|r| r.target.starts_with("/private/")));
    // Two at a time to each host over all three workers, and both slots used.
    for host in [NEWS, IMAGES] {
        assert_eq!(
            fixture.peak_in_flight(host),
            2,
            "requests to {host} at once"
        );
    }

    // Each worker did part of it; together, what one process captures.
    for folder in &folders {
        let own = index_entries(folder, "default");
        assert!(
            own.len() > 10,
            "{} captured {} URLs",
            folder.display(),
            own.len()
        );
        assert_valid_warcs(&warc_files(folder, "default"));
    }
    let shared = captured(&folders);
    let run = postgres.query("SELECT outcome, workers, pages FROM cairn_runs ORDER BY id LIMIT 1");
    assert_eq!(run, format!("ok|3|{}", BIG + 1));

    // A second crawl: every payload is stored already, by one worker or another, and each
    // revisit names a record that exists, often in another worker's files.
    let first_files: Vec<Vec<PathBuf>> = folders.iter().map(|f| warc_files(f, "default")).collect();
    crawl_all();
    let (stored, _) = responses_and_revisits(&first_files.concat());
    let mut from_others = 0;
    for (folder, before) in folders.iter().zip(&first_files) {
        let (own, _) = responses_and_revisits(before);
        let new: Vec<PathBuf> = warc_files(folder, "default")
            .into_iter()
            .filter(|f| !before.contains(f))
            .collect();
        let (responses, refers_to) = responses_and_revisits(&new);
        assert!(responses.is_empty(), "stored again: {responses:?}");
        assert!(refers_to.iter().all(|id| stored.contains(id)));
        from_others += refers_to.iter().filter(|id| !own.contains(*id)).count();
        assert_valid_warcs(&new);
    }
    assert!(
        from_others > 20,
        "{from_others} revisits of other workers' records"
    );
    let second = postgres
        .query("SELECT outcome, new_payloads, revisits FROM cairn_runs ORDER BY id OFFSET 1");
    // Every page and resource a revisit (robots.txt is archived beside them, not counted).
    assert_eq!(second, format!("ok|0|{}", counts.len() - 2));

    // One process alone captures the same URLs.
    assert_eq!(shared, single_process_captures(work.path(), &fixture));
}

#[test]
fn a_killed_worker_s_urls_go_to_the_others_and_its_file_is_mended_when_it_returns() {
    if !requires(&["postgresql", "s3rver", "zstd", "warcio"]) {
        return;
    }
    let postgres = Postgres::start();
    let s3 = S3rver::start();
    let fixture = HttpsFixture::start(
        &[NEWS, IMAGES],
        news_site(PAGES, Duration::from_millis(150)),
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let folders: Vec<PathBuf> = (1..=3).map(|i| work.path().join(format!("w{i}"))).collect();
    let options = ["--per-host", "3", "--lease", "2", "--store", BUCKET];
    let spawn = |folder: &Path| {
        worker_command(folder, &fixture, &postgres.url(), &options)
            .envs(s3.env())
            .spawn()
            .unwrap()
    };
    let mut doomed = spawn(&folders[0]);
    let others: Vec<Child> = folders[1..].iter().map(|f| spawn(f)).collect();
    let open = |folder: &Path| {
        std::fs::read_dir(folder.join("default/warc"))
            .map(|d| {
                d.filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .path()
                        .to_string_lossy()
                        .ends_with(".open")
                })
                .count()
            })
            .unwrap_or(0)
    };
    // Killed once it has written records (its file is open), while it holds leases.
    let count = |sql: &str| {
        postgres
            .try_query(sql)
            .map_or(0, |n| n.parse::<usize>().unwrap())
    };
    let leased_by_doomed = format!(
        "SELECT count(*) FROM cairn_frontier WHERE state = 'leased' AND owner LIKE '%:{}:%'",
        doomed.id()
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let held = loop {
        let done = count("SELECT count(*) FROM cairn_frontier WHERE state = 'done'");
        let held = count(&leased_by_doomed);
        if done >= 30 && held > 0 && open(&folders[0]) == 1 {
            break held;
        }
        assert!(Instant::now() < deadline, "the crawl never got going");
        std::thread::sleep(Duration::from_millis(20));
    };
    let doomed_pid = doomed.id();
    doomed.kill().unwrap(); // SIGKILL
    doomed.wait().unwrap();
    let started = Instant::now();
    for (i, child) in others.into_iter().enumerate() {
        wait_ok(child, &format!("worker {}", i + 2));
    }
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the others waited for the killed worker's leases to expire"
    );
    let run = postgres.query("SELECT outcome, workers FROM cairn_runs ORDER BY id LIMIT 1");
    assert_eq!(run, "ok|3");
    assert_eq!(
        postgres.query("SELECT count(*) FROM cairn_frontier WHERE state <> 'done'"),
        "0"
    );
    assert_eq!(
        open(&folders[0]),
        1,
        "the killed worker's file is left open"
    );
    // No URL was fetched twice but what the killed worker had leased.
    let mut counts: HashMap<String, usize> = HashMap::new();
    for r in fixture.requested() {
        *counts.entry(format!("{}{}", r.host, r.target)).or_default() += 1;
    }
    let twice = counts.values().filter(|n| **n > 1).count();
    assert!(
        twice <= held,
        "{twice} fetched twice, {held} leased: {counts:?}"
    );

    // Back again, the worker mends its file and uploads it after its run; with the others'
    // captures, what it kept makes the whole site, in the bucket.
    wait_ok(spawn(&folders[0]), "the returning worker");
    assert_eq!(open(&folders[0]), 0);
    let bucket = work.path().join("from-bucket");
    index_from_bucket(&bucket, &s3);
    let files: BTreeSet<String> = index_entries(&bucket, "default")
        .into_iter()
        .map(|c| c.filename)
        .collect();
    assert!(
        files.iter().any(|f| f.contains(&format!("-{doomed_pid}-"))),
        "the mended file is in the bucket: {files:?}"
    );
    for folder in &folders {
        assert_valid_warcs(&warc_files(folder, "default"));
    }
    let whole = single_process_captures(work.path(), &fixture);
    assert_eq!(captured(&folders), whole);
    assert_eq!(captured(&[bucket]), whole);
}

#[test]
fn a_job_with_shared_state_runs_as_workers_and_keeps_its_history_there() {
    if !requires(&["postgresql"]) {
        return;
    }
    let postgres = Postgres::start();
    let fixture =
        HttpsFixture::start(&[NEWS, IMAGES], news_site(PAGES, Duration::from_millis(25))).unwrap();
    let work = tempfile::tempdir().unwrap();
    let archives = work.path().join("archives");
    let extra = format!(
        "state = {:?}\ndepth = 1\nper_host = 2\nconcurrency = 2\n",
        postgres.url()
    );
    let config = crate::jobs::config(work.path(), &fixture, NEWS, &extra);
    let job = |args: &[&str]| {
        let mut command = cairn();
        command
            .arg("--archives")
            .arg(&archives)
            .arg("jobs")
            .args(args)
            .arg("--config")
            .arg(&config);
        command
    };
    // Two workers on one machine, one archives folder: no lock keeps the second out.
    let workers: Vec<Child> = (0..2)
        .map(|_| {
            job(&["run", "site"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, child) in workers.into_iter().enumerate() {
        wait_ok(child, &format!("job worker {}", i + 1));
    }
    let history = run_ok(job(&["history", "site"]).arg("--json"));
    let rows: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    let run = &rows[0];
    assert_eq!(
        (
            run["outcome"].as_str(),
            run["workers"].as_i64(),
            run["pages"].as_i64()
        ),
        (Some("ok"), Some(2), Some(i64::try_from(PAGES).unwrap() + 1)),
        "{run}"
    );
    assert!(run["ended"].is_string());
    // Both workers' files are in the one collection's index, each URL once.
    let entries = index_entries(&archives, "site");
    let urls: BTreeSet<String> = entries.iter().map(|c| c.url.clone()).collect();
    assert_eq!(urls.len(), entries.len());
    assert_eq!(urls.len(), 2 + 1 + PAGES + 2 * PAGES + 1);
    assert_eq!(warc_files(&archives, "site").len(), 2);
    assert!(
        archives.join("cairn.sqlite").metadata().is_err() || {
            // The local job database, if any, holds no run of a shared job.
            let store =
                cairn::jobs::store::SqliteStore::open(&archives.join("cairn.sqlite")).unwrap();
            cairn::jobs::store::JobStore::history(&store, "site")
                .unwrap()
                .is_empty()
        }
    );
}

/// A job with shared state, run once, then again after the article was edited: the second
/// run's record in PostgreSQL names the changed article and what `on_change` did.
#[test]
fn a_shared_job_records_the_changed_article_and_what_its_on_change_did() {
    if !requires(&["postgresql"]) {
        return;
    }
    let postgres = Postgres::start();
    let edited = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let fixture = crate::site::start_editions(edited.clone()).unwrap();
    let work = tempfile::tempdir().unwrap();
    let archives = work.path().join("archives");
    let told = work.path().join("told");
    let config = work.path().join("cairn.toml");
    std::fs::write(
        &config,
        format!(
            "[[job]]\nname = \"cna\"\ntargets = [{:?}]\nschedule = \"0 */6 * * *\"\ndepth = 0\n\
             state = {:?}\n{}on_change = \"cat > {}; exit 3\"\n",
            crate::site::ARTICLE,
            postgres.url(),
            crate::jobs::fixture_keys(&fixture),
            told.display(),
        ),
    )
    .unwrap();
    let jobs = |config: &Path, args: &[&str]| {
        let mut command = cairn();
        command
            .arg("--archives")
            .arg(&archives)
            .args(["jobs", "--config"])
            .arg(config)
            .args(args);
        command
    };
    let job = |action: &str| jobs(&config, &[action, "cna"]);
    run_ok(&mut job("run"));
    assert!(!told.exists(), "nothing changed in the first run");
    // As a database an earlier cairn made, before runs kept their changes: the next worker
    // to connect adds what it lacks.
    postgres.query("ALTER TABLE cairn_runs DROP COLUMN changed, DROP COLUMN on_change");
    edited.store(true, std::sync::atomic::Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(1100));
    run_ok(&mut job("run"));
    assert_eq!(
        std::fs::read_to_string(&told).unwrap(),
        format!("{}\n", crate::site::ARTICLE)
    );
    let history = run_ok(job("history").arg("--json"));
    let rows: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    let runs = rows.as_array().unwrap();
    assert_eq!(runs.len(), 2, "{rows}");
    assert_eq!(runs[0]["changed"], serde_json::json!([]), "{rows}");
    assert_eq!(runs[0]["on_change"], serde_json::json!([]), "{rows}");
    assert_eq!(
        (&runs[1]["changed"], &runs[1]["on_change"]),
        (
            &serde_json::json!([crate::site::ARTICLE]),
            &serde_json::json!(["exit 3"])
        ),
        "{rows}"
    );
    let plain = stdout(&run_ok(&mut job("history")));
    assert!(
        plain.contains(&format!("  text changed: {}", crate::site::ARTICLE)),
        "{plain}"
    );
    assert!(plain.contains("  on_change: exit 3"), "{plain}");

    // A job that names no state, run with `--state`: its record goes to the state its worker
    // crawled with. The article goes back to its first edition, a change too.
    let unnamed = work.path().join("unnamed.toml");
    std::fs::write(
        &unnamed,
        format!(
            "[[job]]\nname = \"second\"\ncollection = \"second\"\ntargets = [{:?}]\n\
             schedule = \"0 */6 * * *\"\ndepth = 0\n{}on_change = \"exit 0\"\n",
            crate::site::ARTICLE,
            crate::jobs::fixture_keys(&fixture),
        ),
    )
    .unwrap();
    let run_with_state = || {
        run_ok(&mut jobs(
            &unnamed,
            &["run", "second", "--state", &postgres.url()],
        ))
    };
    run_with_state();
    edited.store(false, std::sync::atomic::Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(1100));
    run_with_state();
    let recorded = postgres.query(
        "SELECT changed[1] || ' ' || on_change[1] FROM cairn_runs \
         WHERE crawl = 'collection second' ORDER BY id DESC LIMIT 1",
    );
    assert_eq!(recorded, format!("{} exit 0", crate::site::ARTICLE));
}

#[test]
fn replay_and_export_read_what_workers_uploaded_from_the_bucket_by_range() {
    if !requires(&["postgresql", "s3rver"]) {
        return;
    }
    let postgres = Postgres::start();
    let s3 = S3rver::start();
    let fixture =
        HttpsFixture::start(&[NEWS, IMAGES], news_site(PAGES, Duration::from_millis(5))).unwrap();
    let work = tempfile::tempdir().unwrap();
    let folders: Vec<PathBuf> = (1..=2).map(|i| work.path().join(format!("w{i}"))).collect();
    let workers: Vec<Child> = folders
        .iter()
        .map(|f| {
            worker_command(f, &fixture, &postgres.url(), &["--store", BUCKET])
                .envs(s3.env())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, child) in workers.into_iter().enumerate() {
        wait_ok(child, &format!("worker {}", i + 1));
    }

    // A machine of its own: the index from the bucket's segments, nothing downloaded whole.
    let replayer = work.path().join("replayer");
    index_from_bucket(&replayer, &s3);
    assert_eq!(
        captured(std::slice::from_ref(&replayer)),
        captured(&folders)
    );
    let port = free_port();
    let mut replay = cairn()
        .arg("--archives")
        .arg(&replayer)
        .args([
            "replay",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--store",
            BUCKET,
        ])
        .envs(s3.env())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let get = |url: &str| -> (u16, Vec<u8>) {
        let address = format!("http://127.0.0.1:{port}/default/2030id_/{url}");
        let deadline = Instant::now() + Duration::from_secs(20);
        runtime.block_on(async {
            let client = http_client().build().unwrap();
            loop {
                match client.get(&address).send().await {
                    Ok(r) => return (r.status().as_u16(), r.bytes().await.unwrap().to_vec()),
                    Err(_) if Instant::now() < deadline => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    Err(e) => panic!("{url}: {e}"),
                }
            }
        })
    };
    let (status, page) = get(&format!("https://{NEWS}/p7"));
    let (image_status, image) = get(&format!("https://{IMAGES}/7a.jpg"));
    let _ = replay.kill();
    let _ = replay.wait();
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&page).contains("<title>story 7</title>"));
    assert_eq!(image_status, 200);
    assert_eq!(image, "photo /7a.jpg ".repeat(40).into_bytes());
    // Export reads the bucket too: the offline copy, and a WACZ package that verifies.
    let export = |args: &[&str]| {
        run_ok(
            cairn()
                .arg("--archives")
                .arg(&replayer)
                .arg("export")
                .args(args)
                .args(["--store", BUCKET])
                .envs(s3.env()),
        )
    };
    export(&[]);
    let offline = std::fs::read_dir(replayer.join(format!("default/offline/{NEWS}")))
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
        .filter(|page| page.contains("<title>story 7</title>"))
        .count();
    assert_eq!(offline, 1, "page 7 in the offline copy");
    let package = work.path().join("from-bucket.wacz");
    export(&["--wacz", package.to_str().unwrap()]);
    run_ok(cairn().arg("verify").arg(&package));

    // What the workers stored is a revisit for any other, now that it is in the bucket.
    let in_bucket: BTreeSet<String> = index_entries(&replayer, "default")
        .into_iter()
        .map(|c| c.filename)
        .collect();
    let named = postgres.query("SELECT string_agg(DISTINCT file, ' ') FROM cairn_payloads");
    assert!(!named.is_empty());
    assert!(named.split(' ').all(|f| in_bucket.contains(f)), "{named}");
    let downloaded = std::fs::read_dir(replayer.join("default/warc")).map_or(0, Iterator::count);
    assert_eq!(downloaded, 0, "no WARC file is downloaded whole");
    // Every read of a WARC object asked for a range of it. (s3rver logs path, status, time
    // and size; an upload and the check before it read nothing.)
    let requests = s3.requests();
    let warc = |l: &&str| l.contains("/crawls/default/warc/");
    let whole: Vec<&str> = requests
        .lines()
        .filter(warc)
        .filter(|l| l.contains(" 200 ") && !l.ends_with(" 0b"))
        .collect();
    let ranges = requests
        .lines()
        .filter(warc)
        .filter(|l| l.contains(" 206 "));
    assert!(whole.is_empty(), "{whole:?}");
    // A file's first bytes once, then each record: at least three.
    assert!(ranges.count() >= 3, "{requests}");
}

#[test]
fn a_url_that_three_workers_died_fetching_is_abandoned_and_the_run_ends() {
    if !requires(&["postgresql"]) {
        return;
    }
    let postgres = Postgres::start();
    let handler: Handler = Arc::new(|req: &Request| match req.target.as_str() {
        "/" => vec![Step::Send(response(
            "200 OK",
            "text/html",
            b"<title>front</title><a href=/hang>stuck</a><a href=/fine>fine</a>",
        ))],
        // Never answered while a worker lives to wait for it.
        "/hang" => vec![Step::Pause(Duration::from_secs(120))],
        _ => vec![Step::Send(response(
            "200 OK",
            "text/html",
            b"<title>fine</title>",
        ))],
    });
    let fixture = HttpsFixture::start(&[NEWS], handler).unwrap();
    let work = tempfile::tempdir().unwrap();
    let options = ["--lease", "1", "--timeout", "300", "--robots", "ignore"];
    let hung = || {
        fixture
            .requested()
            .iter()
            .filter(|r| r.target == "/hang")
            .count()
    };
    for killed in 1..=3 {
        let mut doomed = worker(
            &work.path().join(format!("w{killed}")),
            &fixture,
            &postgres.url(),
            &options,
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while hung() < killed {
            assert!(
                Instant::now() < deadline,
                "worker {killed} never asked for /hang"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        doomed.kill().unwrap(); // SIGKILL, as a crash the URL caused would
        doomed.wait().unwrap();
    }
    // The fourth finds the URL claimed three times, its lease expired: it is given up.
    wait_ok(
        worker(&work.path().join("w4"), &fixture, &postgres.url(), &options),
        "the fourth worker",
    );
    assert_eq!(hung(), 3);
    let hang =
        postgres.query("SELECT state, fetches, error FROM cairn_frontier WHERE url LIKE '%/hang'");
    assert_eq!(hang, "done|3|abandoned: 3 workers claimed it and died");
    let run =
        postgres.query("SELECT outcome, ended IS NOT NULL FROM cairn_runs ORDER BY id LIMIT 1");
    assert_eq!(run, "ok|t");
}

#[test]
fn a_worker_speaks_tls_to_a_database_that_takes_nothing_else() {
    if !requires(&["postgresql"]) {
        return;
    }
    let (postgres, ca) = Postgres::start_tls_only();
    let fixture = HttpsFixture::start(&[NEWS, IMAGES], news_site(5, Duration::ZERO)).unwrap();
    let work = tempfile::tempdir().unwrap();
    let ca_file = work.path().join("database-ca.pem");
    std::fs::write(&ca_file, ca).unwrap();
    let run = |state: &str, trust: bool| {
        let mut command = worker_command(&work.path().join("w"), &fixture, state, &[]);
        if trust {
            command.env("SSL_CERT_FILE", &ca_file);
        }
        command.output().unwrap()
    };
    let required = format!("{}?sslmode=require", postgres.url());
    let out = run(&required, true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        postgres.query("SELECT outcome, pages FROM cairn_runs"),
        "ok|6"
    );
    // The server's certificate is checked: from an unknown CA, no connection.
    let untrusted = run(&required, false);
    let said = String::from_utf8_lossy(&untrusted.stderr);
    assert!(!untrusted.status.success());
    assert!(
        said.contains("error: connecting to the crawl state database"),
        "{said}"
    );
    assert!(said.to_lowercase().contains("certificate"), "{said}");
    // Without TLS the server lets no one in, and the error says why in one line.
    let plain = run(&format!("{}?sslmode=disable", postgres.url()), true);
    let said = String::from_utf8_lossy(&plain.stderr);
    assert!(!plain.status.success());
    assert!(said.contains("pg_hba.conf"), "{said}");
}
