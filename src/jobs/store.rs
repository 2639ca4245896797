//! Job state and history. [`JobStore`] is the narrow interface the scheduler needs (a lock per
//! job that holds across processes, run history, the last time each job fell due); the
//! embedded default is SQLite in `archives/cairn.sqlite` (WAL mode), and a deployment that
//! outgrows one machine can fill the same interface with PostgreSQL.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

use serde::{Serialize, Serializer};

use crate::frontier::{Candidate, CandidateKind};

/// A lock whose holder has not renewed it for this long is taken to have died.
pub const LOCK_STALE_SECS: i64 = 60;

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS runs (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 job TEXT NOT NULL,
                 started TEXT NOT NULL,
                 ended TEXT,
                 outcome TEXT NOT NULL,
                 pages INTEGER NOT NULL DEFAULT 0,
                 bytes INTEGER NOT NULL DEFAULT 0,
                 new_payloads INTEGER NOT NULL DEFAULT 0,
                 revisits INTEGER NOT NULL DEFAULT 0);
             CREATE INDEX IF NOT EXISTS runs_by_job ON runs(job, id);
             CREATE TABLE IF NOT EXISTS locks (
                 job TEXT PRIMARY KEY,
                 owner TEXT NOT NULL,
                 heartbeat INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS schedule (
                 job TEXT PRIMARY KEY,
                 last_due INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS frontier (
                 job TEXT NOT NULL,
                 seq INTEGER NOT NULL,
                 url TEXT NOT NULL,
                 depth INTEGER NOT NULL,
                 kind TEXT NOT NULL,
                 via TEXT,
                 hops TEXT NOT NULL,
                 PRIMARY KEY (job, url));
             CREATE INDEX IF NOT EXISTS frontier_order ON frontier(job, seq);";

/// Columns added to `runs` after databases were made without them: added when missing.
const ADDED_RUN_COLUMNS: &[(&str, &str)] = &[
    // The URLs of the pages whose article text changed in the run, as a JSON array.
    ("changed", "TEXT NOT NULL DEFAULT '[]'"),
    // What the job's `on_change` command did: its exit status, or why it did not run.
    ("on_change", "TEXT"),
];

#[derive(Debug, thiserror::Error)]
#[error("job database: {0}")]
pub struct StoreError(#[from] rusqlite::Error);

/// How a run ended, or that it has not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Running,
    Ok,
    /// The run ended in an error, or some of its targets could not be archived at all.
    Failed(String),
    /// Killed before it ended; the next run of the job resumed it.
    Killed,
}

impl Outcome {
    /// The text kept in the database.
    fn to_db(&self) -> String {
        match self {
            Outcome::Running => "running".into(),
            Outcome::Ok => "ok".into(),
            Outcome::Failed(why) => format!("failed: {why}"),
            Outcome::Killed => "killed".into(),
        }
    }

    fn from_db(text: &str) -> Outcome {
        match text {
            "running" => Outcome::Running,
            "ok" => Outcome::Ok,
            killed if killed.starts_with("killed") => Outcome::Killed,
            other => Outcome::Failed(other.strip_prefix("failed: ").unwrap_or(other).into()),
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Killed => f.write_str("killed (resumed by the next run)"),
            other => f.write_str(&other.to_db()),
        }
    }
}

impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// One run of a job, as `cairn jobs history` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    pub id: i64,
    pub job: String,
    pub started: String,
    pub ended: Option<String>,
    pub outcome: Outcome,
    pub pages: i64,
    pub bytes: i64,
    pub new_payloads: i64,
    pub revisits: i64,
    /// The pages whose article text changed since their capture before.
    pub changed: Vec<String>,
    /// What the job's `on_change` command did, when it ran.
    pub on_change: Option<String>,
}

/// What a run reports when it ends.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub outcome: Outcome,
    pub pages: u64,
    pub bytes: u64,
    pub new_payloads: u64,
    pub revisits: u64,
    pub changed: Vec<String>,
    pub on_change: Option<String>,
}

impl RunResult {
    /// A run that ended with nothing to count.
    pub fn bare(outcome: Outcome) -> RunResult {
        RunResult {
            outcome,
            pages: 0,
            bytes: 0,
            new_payloads: 0,
            revisits: 0,
            changed: Vec::new(),
            on_change: None,
        }
    }
}

pub trait JobStore: Send + Sync {
    /// Takes the job's lock for `owner` unless a live holder has it; true if taken.
    fn try_lock(&self, job: &str, owner: &str, now: i64) -> Result<bool, StoreError>;
    /// Who holds the job's lock, if anyone.
    fn lock_owner(&self, job: &str) -> Result<Option<String>, StoreError>;
    /// Takes the lock from `old`, known dead; false if someone else got there first.
    fn take_over(&self, job: &str, old: &str, owner: &str, now: i64) -> Result<bool, StoreError>;
    /// Renews a held lock.
    fn heartbeat(&self, job: &str, owner: &str, now: i64) -> Result<(), StoreError>;
    fn unlock(&self, job: &str, owner: &str) -> Result<(), StoreError>;
    fn start_run(&self, job: &str, started: &str) -> Result<i64, StoreError>;
    fn end_run(&self, id: i64, ended: &str, result: &RunResult) -> Result<(), StoreError>;
    fn history(&self, job: &str) -> Result<Vec<RunRow>, StoreError>;
    fn last_due(&self, job: &str) -> Result<Option<i64>, StoreError>;
    fn set_last_due(&self, job: &str, due: i64) -> Result<(), StoreError>;
    /// Runs recorded as started but never ended: killed, since their lock is now ours.
    fn unfinished_runs(&self, job: &str) -> Result<Vec<i64>, StoreError>;
    /// Persists candidates the job's crawl admitted (its frontier).
    fn record_frontier(&self, job: &str, candidates: &[Candidate]) -> Result<(), StoreError>;
    fn load_frontier(&self, job: &str) -> Result<Vec<Candidate>, StoreError>;
    fn clear_frontier(&self, job: &str) -> Result<(), StoreError>;
}

pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // Switching to WAL and creating the schema can meet another process doing the same,
        // and that conflict is reported at once rather than waited for: retry a while.
        let mut attempts = 0;
        loop {
            match Self::prepare(&conn) {
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy && attempts < 100 =>
                {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                other => break other?,
            }
        }
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    fn prepare(conn: &Connection) -> rusqlite::Result<()> {
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            conn.pragma_update(None, "journal_mode", "WAL")?;
        }
        conn.execute_batch(SCHEMA)?;
        for (column, definition) in ADDED_RUN_COLUMNS {
            let present: bool = conn.query_row(
                "SELECT count(*) FROM pragma_table_info('runs') WHERE name = ?1",
                params![column],
                |r| r.get::<_, i64>(0).map(|n| n > 0),
            )?;
            if present {
                continue;
            }
            match conn.execute_batch(&format!(
                "ALTER TABLE runs ADD COLUMN {column} {definition}"
            )) {
                // Another process opening the database added it first.
                Err(e) if e.to_string().contains("duplicate column") => {}
                added => added?,
            }
        }
        Ok(())
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let mut conn = self
            .conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(f(&mut conn)?)
    }
}

impl JobStore for SqliteStore {
    fn try_lock(&self, job: &str, owner: &str, now: i64) -> Result<bool, StoreError> {
        self.with(|conn| {
            // One statement, so two processes racing for the lock cannot both win.
            let changed = conn.execute(
                "INSERT INTO locks(job, owner, heartbeat) VALUES (?1, ?2, ?3)
                 ON CONFLICT(job) DO UPDATE SET owner = excluded.owner, heartbeat = excluded.heartbeat
                 WHERE locks.heartbeat < ?3 - ?4 OR locks.owner = excluded.owner",
                params![job, owner, now, LOCK_STALE_SECS],
            )?;
            Ok(changed == 1)
        })
    }

    fn lock_owner(&self, job: &str) -> Result<Option<String>, StoreError> {
        self.with(|conn| {
            conn.query_row(
                "SELECT owner FROM locks WHERE job = ?1",
                params![job],
                |r| r.get(0),
            )
            .optional()
        })
    }

    fn take_over(&self, job: &str, old: &str, owner: &str, now: i64) -> Result<bool, StoreError> {
        self.with(|conn| {
            let changed = conn.execute(
                "UPDATE locks SET owner = ?3, heartbeat = ?4 WHERE job = ?1 AND owner = ?2",
                params![job, old, owner, now],
            )?;
            Ok(changed == 1)
        })
    }

    fn heartbeat(&self, job: &str, owner: &str, now: i64) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.execute(
                "UPDATE locks SET heartbeat = ?3 WHERE job = ?1 AND owner = ?2",
                params![job, owner, now],
            )
            .map(|_| ())
        })
    }

    fn unlock(&self, job: &str, owner: &str) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.execute(
                "DELETE FROM locks WHERE job = ?1 AND owner = ?2",
                params![job, owner],
            )
            .map(|_| ())
        })
    }

    fn start_run(&self, job: &str, started: &str) -> Result<i64, StoreError> {
        self.with(|conn| {
            conn.execute(
                "INSERT INTO runs(job, started, outcome) VALUES (?1, ?2, 'running')",
                params![job, started],
            )?;
            Ok(conn.last_insert_rowid())
        })
    }

    fn end_run(&self, id: i64, ended: &str, r: &RunResult) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.execute(
                "UPDATE runs SET ended = ?2, outcome = ?3, pages = ?4, bytes = ?5, new_payloads = ?6,
                 revisits = ?7, changed = ?8, on_change = ?9 WHERE id = ?1",
                params![
                    id,
                    ended,
                    r.outcome.to_db(),
                    r.pages as i64,
                    r.bytes as i64,
                    r.new_payloads as i64,
                    r.revisits as i64,
                    serde_json::to_string(&r.changed).unwrap_or_else(|_| "[]".into()),
                    r.on_change
                ],
            )
            .map(|_| ())
        })
    }

    fn history(&self, job: &str) -> Result<Vec<RunRow>, StoreError> {
        self.with(|conn| {
            let mut statement = conn.prepare(
                "SELECT id, job, started, ended, outcome, pages, bytes, new_payloads, revisits,
                 changed, on_change FROM runs WHERE job = ?1 ORDER BY id",
            )?;
            let rows = statement.query_map(params![job], |row| {
                Ok(RunRow {
                    id: row.get(0)?,
                    job: row.get(1)?,
                    started: row.get(2)?,
                    ended: row.get(3)?,
                    outcome: Outcome::from_db(&row.get::<_, String>(4)?),
                    pages: row.get(5)?,
                    bytes: row.get(6)?,
                    new_payloads: row.get(7)?,
                    revisits: row.get(8)?,
                    changed: serde_json::from_str(&row.get::<_, String>(9)?).unwrap_or_default(),
                    on_change: row.get(10)?,
                })
            })?;
            rows.collect()
        })
    }

    fn last_due(&self, job: &str) -> Result<Option<i64>, StoreError> {
        self.with(|conn| {
            conn.query_row(
                "SELECT last_due FROM schedule WHERE job = ?1",
                params![job],
                |r| r.get(0),
            )
            .optional()
        })
    }

    fn unfinished_runs(&self, job: &str) -> Result<Vec<i64>, StoreError> {
        self.with(|conn| {
            let mut statement =
                conn.prepare("SELECT id FROM runs WHERE job = ?1 AND ended IS NULL")?;
            let ids = statement.query_map(params![job], |r| r.get(0))?;
            ids.collect()
        })
    }

    fn record_frontier(&self, job: &str, candidates: &[Candidate]) -> Result<(), StoreError> {
        if candidates.is_empty() {
            return Ok(());
        }
        self.with(|conn| {
            // Immediate: take the write lock up front, so a busy database is waited for
            // rather than failing the upgrade from a read.
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            // Queue order: one look at the last position per batch, then counting on.
            let last: i64 = tx.query_row(
                "SELECT COALESCE(MAX(seq), -1) FROM frontier WHERE job = ?1",
                params![job],
                |r| r.get(0),
            )?;
            {
                let mut insert = tx.prepare(
                    "INSERT OR IGNORE INTO frontier(job, seq, url, depth, kind, via, hops)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                for (seq, c) in (last + 1..).zip(candidates) {
                    insert.execute(params![
                        job,
                        seq,
                        c.url.as_str(),
                        c.depth,
                        kind_name(c.kind),
                        c.via.as_ref().map(|v| v.as_str().to_string()),
                        c.hops
                    ])?;
                }
            }
            tx.commit()
        })
    }

    fn load_frontier(&self, job: &str) -> Result<Vec<Candidate>, StoreError> {
        self.with(|conn| {
            let mut statement = conn.prepare(
                "SELECT url, depth, kind, via, hops FROM frontier WHERE job = ?1 ORDER BY seq",
            )?;
            let rows = statement.query_map(params![job], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, u32>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (url, depth, kind, via, hops) = row?;
                let Ok(url) = url::Url::parse(&url) else {
                    continue;
                };
                out.push(Candidate {
                    url,
                    depth,
                    kind: kind_from(&kind),
                    via: via.and_then(|v| url::Url::parse(&v).ok()),
                    hops,
                });
            }
            Ok(out)
        })
    }

    fn clear_frontier(&self, job: &str) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.execute("DELETE FROM frontier WHERE job = ?1", params![job])
                .map(|_| ())
        })
    }

    fn set_last_due(&self, job: &str, due: i64) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.execute(
                "INSERT INTO schedule(job, last_due) VALUES (?1, ?2)
                 ON CONFLICT(job) DO UPDATE SET last_due = MAX(last_due, excluded.last_due)",
                params![job, due],
            )
            .map(|_| ())
        })
    }
}

fn kind_name(kind: CandidateKind) -> &'static str {
    match kind {
        CandidateKind::Target => "target",
        CandidateKind::Page => "page",
        CandidateKind::Requisite => "requisite",
    }
}

fn kind_from(name: &str) -> CandidateKind {
    match name {
        "target" => CandidateKind::Target,
        "page" => CandidateKind::Page,
        _ => CandidateKind::Requisite,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_from_before_change_reports_gains_their_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        let old = Connection::open(&path).unwrap();
        old.execute_batch(
            "CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT NOT NULL,
             started TEXT NOT NULL, ended TEXT, outcome TEXT NOT NULL,
             pages INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,
             new_payloads INTEGER NOT NULL DEFAULT 0, revisits INTEGER NOT NULL DEFAULT 0);
             INSERT INTO runs(job, started, ended, outcome, pages) VALUES ('job', 't0', 't1', 'ok', 7);",
        )
        .unwrap();
        drop(old);
        let store = SqliteStore::open(&path).unwrap();
        let history = store.history("job").unwrap();
        assert_eq!((history[0].pages, history[0].changed.len()), (7, 0));
        assert!(history[0].on_change.is_none());
        // Opened again, the columns are there and nothing is added twice.
        drop(store);
        SqliteStore::open(&path).unwrap();
    }

    #[test]
    fn one_holder_at_a_time_until_the_lock_goes_stale() {
        let dir = tempfile::tempdir().unwrap();
        let a = SqliteStore::open(&dir.path().join("s.sqlite")).unwrap();
        let b = SqliteStore::open(&dir.path().join("s.sqlite")).unwrap();
        assert!(a.try_lock("job", "a", 1000).unwrap());
        assert!(!b.try_lock("job", "b", 1001).unwrap());
        a.heartbeat("job", "a", 1050).unwrap();
        assert!(!b.try_lock("job", "b", 1100).unwrap());
        assert!(
            b.try_lock("job", "b", 1050 + LOCK_STALE_SECS + 1).unwrap(),
            "a died"
        );
        b.unlock("job", "b").unwrap();
        assert!(a.try_lock("job", "a", 2000).unwrap());
        let id = a.start_run("job", "t0").unwrap();
        a.end_run(
            id,
            "t1",
            &RunResult {
                pages: 3,
                changed: vec!["https://a.example/news/1".into()],
                on_change: Some("exit 0".into()),
                ..RunResult::bare(Outcome::Ok)
            },
        )
        .unwrap();
        let history = b.history("job").unwrap();
        assert_eq!(
            (history.len(), &history[0].outcome, history[0].pages),
            (1, &Outcome::Ok, 3)
        );
        assert_eq!(history[0].changed, ["https://a.example/news/1"]);
        assert_eq!(history[0].on_change.as_deref(), Some("exit 0"));
        for outcome in [
            Outcome::Running,
            Outcome::Ok,
            Outcome::Killed,
            Outcome::Failed("x: y".into()),
        ] {
            assert_eq!(Outcome::from_db(&outcome.to_db()), outcome);
        }
    }
}
