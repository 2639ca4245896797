//! `cairn verify`, `cairn index`, `cairn export` and `cairn replay`: the collection's files,
//! checked, indexed, copied offline or served.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::Cli;
use crate::collection::Archives;
use crate::warc::find_warc_files;
use crate::warc::repair::repair;
use crate::warc::verify::{FileReport, verify_files};

pub fn verify(cli: &Cli, paths: &[PathBuf], mend: bool) -> Result<()> {
    if mend {
        return repair_files(cli, paths);
    }
    let files = find_warc_files(paths)
        .map_err(|(path, e)| anyhow::Error::new(e).context(path.display().to_string()))?;
    if files.is_empty() {
        let named: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        bail!("no WARC files found in {}", named.join(", "));
    }
    let reports = verify_files(&files);
    if cli.json {
        out!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        for report in &reports {
            print_report(report)?;
        }
    }
    let bad = reports.iter().filter(|r| !r.ok()).count();
    let defects: usize = reports.iter().map(|r| r.defects.len()).sum();
    let records: u64 = reports.iter().map(|r| r.records).sum();
    if bad > 0 {
        bail!("{defects} defect(s) in {bad} of {} file(s)", reports.len());
    }
    say!(
        "verified {} file(s), {records} record(s): no defects",
        reports.len()
    );
    Ok(())
}

fn repair_files(cli: &Cli, paths: &[PathBuf]) -> Result<()> {
    let mut reports = Vec::new();
    for path in paths {
        let report = repair(path)?;
        if !cli.json {
            out!(
                "repaired {} -> {}: kept {} records ({} bytes), dropped {} bytes",
                report.path.display(),
                report.repaired.display(),
                report.kept_records,
                report.kept_bytes,
                report.dropped_bytes
            );
        }
        reports.push(report);
    }
    if cli.json {
        out!("{}", serde_json::to_string_pretty(&reports)?);
    }
    Ok(())
}

fn print_report(report: &FileReport) -> std::io::Result<()> {
    let path = report.path.display();
    if !report.ok() {
        for defect in &report.defects {
            out!(
                "DEFECT {path}: offset {}: {}",
                defect.offset,
                defect.message
            );
        }
        return Ok(());
    }
    let types: Vec<String> = report
        .record_types
        .iter()
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    let mut line = format!(
        "ok {path}: {} records ({}), {} digests checked",
        report.records,
        types.join(", "),
        report.digests_checked
    );
    if report.digests_unchecked > 0 {
        line.push_str(&format!(
            ", {} in unsupported algorithms",
            report.digests_unchecked
        ));
    }
    if report.records_sharing_a_member > 0 {
        line.push_str(&format!(
            ", {} records share a compressed member (not readable alone)",
            report.records_sharing_a_member
        ));
    }
    out!("{line}");
    Ok(())
}

pub fn index(cli: &Cli) -> Result<()> {
    let collection = cli.collection()?;
    let lock = collection.lock()?;
    let stats = collection.rebuild_index(&lock)?;
    let path = collection.index_path();
    if cli.json {
        out!(
            "{}",
            serde_json::json!({"index": path, "warc_files": stats.warc_files, "captures": stats.captures})
        );
    } else {
        say!(
            "indexed {} WARC file(s): {} capture(s) in {}",
            stats.warc_files,
            stats.captures,
            path.display()
        );
    }
    Ok(())
}

pub fn export(cli: &Cli, out: Option<&Path>) -> Result<()> {
    let collection = cli.collection()?;
    let out = out.map_or_else(|| collection.offline_dir(), Path::to_path_buf);
    // The lock guards the collection's own files: the offline copy inside it, an index to
    // build. A copy elsewhere from an index already built needs none (the collection may be
    // read-only).
    let _lock = if out == collection.offline_dir() || !collection.has_index() {
        let lock = collection.lock()?;
        if !collection.has_index() {
            collection.rebuild_index(&lock)?;
        }
        Some(lock)
    } else {
        None
    };
    let index = collection.index()?;
    let (_, report) = crate::export::export(&collection, &index, &out)?;
    if cli.json {
        out!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        say!(
            "exported {} files ({} pages) to {}; {} references not archived",
            report.files,
            report.pages,
            out.display(),
            report.unresolved.len()
        );
        if report.unreadable_index_lines > 0 {
            say!(
                "{} line(s) of {} are no CDXJ captures and were left out",
                report.unreadable_index_lines,
                collection.index_path().display()
            );
        }
    }
    Ok(())
}

pub fn replay(cli: &Cli, bind: SocketAddr) -> Result<()> {
    // Replay never reads outside the archives folder: its real path, once.
    let root = std::fs::canonicalize(&cli.archives)
        .with_context(|| format!("archives folder {}", cli.archives.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    say!(
        "replaying {} at http://{bind}/ (Ctrl-C stops)",
        root.display()
    );
    runtime
        .block_on(crate::replay::serve_forever(Archives::new(root), bind))
        .with_context(|| format!("serving on {bind}"))?;
    Ok(())
}
