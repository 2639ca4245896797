//! A shared crawl's runs: the first worker to come starts one, the others join it; each adds
//! what it did when it leaves, and whoever sees the frontier empty ends it.

use tokio_postgres::Client;

use super::StateError;

/// What one worker did, added to its run's row when it leaves.
#[derive(Debug, Default, Clone, Copy)]
pub struct WorkerCounts {
    pub pages: u64,
    pub bytes: u64,
    pub new_payloads: u64,
    pub revisits: u64,
}

/// A run's row, for history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SharedRun {
    #[serde(skip)]
    pub id: i64,
    pub started: String,
    pub ended: Option<String>,
    pub outcome: String,
    pub workers: i64,
    pub pages: i64,
    pub bytes: i64,
    pub new_payloads: i64,
    pub revisits: i64,
    /// The pages whose article text changed, as the workers found them.
    pub changed: Vec<String>,
    /// What each worker's `on_change` command did.
    pub on_change: Vec<String>,
}

/// The crawl's live run, or a new one; this worker counted among its workers.
pub async fn join(client: &Client, crawl: &str) -> Result<i64, StateError> {
    // One statement: the live run if there is one, else a new one. Two workers racing to start
    // it meet the unique index on live runs; the loser finds the winner's row on its retry.
    let statement = "WITH live AS (
            UPDATE cairn_runs SET workers = workers + 1
            WHERE crawl = $1 AND ended IS NULL RETURNING id),
         started AS (
            INSERT INTO cairn_runs (crawl, workers) SELECT $1, 1
            WHERE NOT EXISTS (SELECT 1 FROM live)
            ON CONFLICT (crawl) WHERE ended IS NULL DO NOTHING RETURNING id)
         SELECT id FROM live UNION ALL SELECT id FROM started";
    for _ in 0..5 {
        if let Some(row) = client.query_opt(statement, &[&crawl]).await? {
            return Ok(row.get(0));
        }
    }
    let row = client.query_one(statement, &[&crawl]).await?;
    Ok(row.get(0))
}

/// Adds what this worker did to its run.
pub async fn add_counts(client: &Client, run: i64, counts: WorkerCounts) -> Result<(), StateError> {
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    client
        .execute(
            "UPDATE cairn_runs SET pages = pages + $2, bytes = bytes + $3,
                 new_payloads = new_payloads + $4, revisits = revisits + $5
             WHERE id = $1",
            &[
                &run,
                &n(counts.pages),
                &n(counts.bytes),
                &n(counts.new_payloads),
                &n(counts.revisits),
            ],
        )
        .await?;
    Ok(())
}

/// Adds the pages whose text this worker found changed, and what its `on_change` did, to
/// its run (ended or not: texts are read once the worker has left).
pub async fn add_changes(
    client: &Client,
    run: i64,
    changed: &[String],
    on_change: Option<&str>,
) -> Result<(), StateError> {
    let on_change: Vec<&str> = on_change.into_iter().collect();
    client
        .execute(
            "UPDATE cairn_runs SET
                 changed = ARRAY(SELECT DISTINCT u FROM unnest(changed || $2::text[]) AS u ORDER BY u),
                 on_change = on_change || $3::text[]
             WHERE id = $1",
            &[&run, &changed, &on_change],
        )
        .await?;
    Ok(())
}

/// Ends the run if nothing is left in its frontier: `ok`, or `failed:` naming a target that
/// could not be fetched. Returns whether this call ended it.
pub async fn end_if_done(client: &Client, run: i64) -> Result<bool, StateError> {
    let ended = client
        .execute(
            "UPDATE cairn_runs SET ended = now(), outcome = COALESCE(
                 (SELECT 'failed: could not archive ' || url || ': ' || error
                  FROM cairn_frontier
                  WHERE run = $1 AND kind = 'target' AND error IS NOT NULL
                  ORDER BY id LIMIT 1),
                 'ok')
             WHERE id = $1 AND ended IS NULL AND NOT EXISTS (
                 SELECT 1 FROM cairn_frontier
                 WHERE run = $1 AND state IN ('queued', 'leased'))",
            &[&run],
        )
        .await?;
    Ok(ended == 1)
}

/// Every run of a crawl, oldest first.
pub async fn history(client: &Client, crawl: &str) -> Result<Vec<SharedRun>, StateError> {
    let rows = client
        .query(
            "SELECT id, to_char(started AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                    to_char(ended AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                    outcome, workers, pages, bytes, new_payloads, revisits, changed, on_change
             FROM cairn_runs WHERE crawl = $1 ORDER BY id",
            &[&crawl],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| SharedRun {
            id: row.get(0),
            started: row.get(1),
            ended: row.get(2),
            outcome: row.get(3),
            workers: i64::from(row.get::<_, i32>(4)),
            pages: row.get(5),
            bytes: row.get(6),
            new_payloads: row.get(7),
            revisits: row.get(8),
            changed: row.get(9),
            on_change: row.get(10),
        })
        .collect())
}
