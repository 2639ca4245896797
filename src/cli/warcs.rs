//! `cairn verify`, `cairn index`, `cairn export` and `cairn replay`: the collection's files,
//! checked, indexed, copied offline or served.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use super::Cli;
use crate::collection::{Archives, IndexStats};
use crate::store::Store;
use crate::warc::recompress::RecompressReport;
use crate::warc::repair::{RepairReport, repair};
use crate::warc::verify::{FileReport, verify_files};
use crate::warc::{Compression, find_warc_files};

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
    let mut failed = 0;
    // One file that cannot be mended is no reason to leave the others unmended.
    for path in paths {
        match repair(path) {
            Ok(report) => {
                if !cli.json {
                    print_repair(&report)?;
                }
                reports.push(report);
            }
            Err(e) => {
                say!("error: {e}");
                failed += 1;
            }
        }
    }
    if cli.json {
        out!("{}", serde_json::to_string_pretty(&reports)?);
    }
    let untouched = reports.iter().filter(|r| r.untouched.is_some()).count();
    if untouched + failed > 0 {
        bail!(
            "{} of {} file(s) left as they were",
            untouched + failed,
            paths.len()
        );
    }
    Ok(())
}

fn print_repair(report: &RepairReport) -> std::io::Result<()> {
    let path = report.path.display();
    match (&report.repaired, &report.untouched) {
        (_, Some(why)) => say!("left {path} untouched: {why}"),
        (None, None) => out!("removed {path}: an empty file"),
        (Some(repaired), None) if report.kept_records == 0 => out!(
            "finished {path} -> {}: an interrupted repair had named it already",
            repaired.display()
        ),
        (Some(repaired), None) => {
            let mut line = format!(
                "repaired {path} -> {}: kept {} records ({} bytes), dropped {} bytes",
                repaired.display(),
                report.kept_records,
                report.kept_bytes,
                report.dropped_bytes
            );
            if report.recompressed_records > 0 {
                line.push_str(&format!(
                    "; {} records of a torn shared member compressed again, one member each",
                    report.recompressed_records
                ));
            }
            out!("{line}");
        }
    }
    Ok(())
}

fn print_report(report: &FileReport) -> std::io::Result<()> {
    let path = report.path.display();
    for warning in &report.warnings {
        say!(
            "warning: {path}: offset {}: {}",
            warning.offset,
            warning.message
        );
    }
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
        let algorithms: Vec<&str> = report
            .unchecked_algorithms
            .iter()
            .map(String::as_str)
            .collect();
        line.push_str(&format!(
            ", {} unchecked (cairn does not compute {})",
            report.digests_unchecked,
            algorithms.join(", ")
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

pub fn index(cli: &Cli, store: Option<&str>) -> Result<()> {
    let (collection, stats) = match store {
        None => {
            let collection = cli.collection()?;
            let lock = collection.lock()?;
            let stats = collection.rebuild_index(&lock)?;
            (collection, stats)
        }
        Some(url) => {
            let store = Some(Arc::new(Store::open(url)?));
            let collection = cli.archives().with_store(store).create(&cli.collection)?;
            let lock = collection.lock()?;
            let stats = collection.rebuild_index_with_store(&lock)?;
            (collection, stats)
        }
    };
    let path = collection.index_path();
    if cli.json {
        out!(
            "{}",
            serde_json::json!({"index": path, "warc_files": stats.warc_files,
                "captures": stats.captures, "problems": stats.problems})
        );
    } else {
        say!(
            "indexed {} WARC file(s): {} capture(s) in {}",
            stats.warc_files,
            stats.captures,
            path.display()
        );
    }
    index_problems(&stats)
}

pub fn import(cli: &Cli, paths: &[PathBuf]) -> Result<()> {
    // What does not verify whole stays out: the collection holds what it can replay.
    let reports = verify_files(paths);
    for report in reports.iter().filter(|r| !r.ok()) {
        print_report(report)?;
    }
    let bad = reports.iter().filter(|r| !r.ok()).count();
    if bad > 0 {
        bail!(
            "{bad} of {} file(s) do not verify; nothing imported",
            paths.len()
        );
    }
    let collection = cli.archives().create(&cli.collection)?;
    let lock = collection.lock()?;
    for path in paths {
        let copy = collection.import(&lock, path)?;
        out!("imported {} -> {}", path.display(), copy.display());
    }
    let stats = collection.update_index(&lock, &Default::default())?;
    say!(
        "indexed {} capture(s) in {}",
        stats.captures,
        collection.index_path().display()
    );
    index_problems(&stats)
}

pub fn recompress(cli: &Cli, to: Compression, paths: &[PathBuf]) -> Result<()> {
    // The collection's files are converted under its lock, so no crawl writes meanwhile, and
    // indexed again after, the old files' names gone from it.
    let collection = paths.is_empty().then(|| cli.collection()).transpose()?;
    let lock = collection.as_ref().map(|c| c.lock()).transpose()?;
    let files = if let Some(collection) = &collection {
        collection.warc_files()?
    } else {
        find_warc_files(paths)
            .map_err(|(path, e)| anyhow::Error::new(e).context(path.display().to_string()))?
    };
    // A WACZ package's WARC files are gzip, as the format's readers want: it stays as it is.
    let (packages, files): (Vec<PathBuf>, Vec<PathBuf>) = files
        .into_iter()
        .partition(|f| crate::warc::wacz::is_wacz_name(&f.to_string_lossy()));
    for package in &packages {
        say!("{}: a WACZ package, left as it is", package.display());
    }
    if files.is_empty() {
        bail!("no WARC files to convert");
    }
    let mut reports = Vec::new();
    let mut failed = 0;
    // One file that cannot be converted is no reason to leave the others as they are.
    for file in &files {
        match crate::warc::recompress::recompress(file, to) {
            Ok(report) => {
                if !cli.json {
                    print_recompress(&report)?;
                }
                reports.push(report);
            }
            Err(e) => {
                say!("error: {e}");
                failed += 1;
            }
        }
    }
    let indexed = match (&collection, &lock) {
        (Some(collection), Some(lock)) => index_problems(&collection.rebuild_index(lock)?),
        _ => Ok(()),
    };
    if cli.json {
        out!("{}", serde_json::to_string_pretty(&reports)?);
    }
    if failed > 0 {
        if let Err(e) = indexed {
            say!("error: {e}");
        }
        bail!("{failed} of {} file(s) not converted", files.len());
    }
    indexed
}

fn print_recompress(report: &RecompressReport) -> std::io::Result<()> {
    let path = report.path.display();
    match &report.converted {
        None => say!(
            "{path}: {} records, already in that compression",
            report.records
        ),
        Some(converted) => out!(
            "converted {path} -> {}: {} records, {} -> {} bytes",
            converted.display(),
            report.records,
            report.bytes_before,
            report.bytes_after
        ),
    }
    Ok(())
}

/// Names every file the index could not take whole, and fails if there was one: an index
/// that silently lacks records is worse than none.
pub fn index_problems(stats: &IndexStats) -> Result<()> {
    for file in &stats.problems {
        let path = file.path.display();
        for (offset, message) in &file.damage {
            say!("error: {path}: offset {offset}: {message}");
        }
        for left_out in &file.unindexed {
            say!(
                "error: {path}: {} capture record(s) not indexed, the first at offset {}: {}",
                left_out.records,
                left_out.first_offset,
                left_out.why
            );
        }
    }
    if stats.complete() {
        return Ok(());
    }
    let records: usize = stats
        .problems
        .iter()
        .flat_map(|f| &f.unindexed)
        .map(|u| u.records)
        .sum();
    let damaged = stats
        .problems
        .iter()
        .filter(|f| !f.damage.is_empty())
        .count();
    bail!(
        "the index lacks records: {damaged} damaged file(s), {records} capture record(s) left \
         out; it holds everything else"
    )
}

pub fn export_wacz(
    cli: &Cli,
    wacz: &Path,
    title: Option<&str>,
    targets: &[String],
    store: Option<&str>,
) -> Result<()> {
    let collection = cli.collection_with_store(store)?;
    if !collection.has_index() {
        let lock = collection.lock()?;
        collection.rebuild_index_with_store(&lock)?;
    }
    let index = collection.index()?;
    let report = crate::export::wacz::export_wacz(&collection, &index, targets, title, wacz)?;
    if cli.json {
        out!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for url in &report.not_archived {
            say!("not archived: {url}");
        }
        for record in &report.skipped {
            say!("error: left out of the package, unreadable: {record}");
        }
        say!(
            "wrote {}: {} page(s), {} record(s), {} bytes",
            wacz.display(),
            report.pages,
            report.records,
            report.bytes
        );
    }
    if !report.skipped.is_empty() {
        bail!(
            "{} record(s) not in the package; it holds everything else",
            report.skipped.len()
        );
    }
    Ok(())
}

pub fn export(cli: &Cli, out: Option<&Path>, store: Option<&str>) -> Result<()> {
    let collection = cli.collection_with_store(store)?;
    let out = out.map_or_else(|| collection.offline_dir(), Path::to_path_buf);
    // The lock guards the collection's own files: the offline copy inside it, an index to
    // build. A copy elsewhere from an index already built needs none (the collection may be
    // read-only).
    let _lock = if out == collection.offline_dir() || !collection.has_index() {
        let lock = collection.lock()?;
        if !collection.has_index() {
            collection.rebuild_index_with_store(&lock)?;
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
        print_skipped(&report.skipped)?;
    }
    if !report.skipped.is_empty() {
        bail!(
            "{} capture(s) not in the offline copy; it holds everything else",
            report.skipped.len()
        );
    }
    Ok(())
}

/// Each capture the offline copy lacks, with why.
pub fn print_skipped(skipped: &[crate::export::Skipped]) -> std::io::Result<()> {
    for skip in skipped {
        say!("error: {}: {}", skip.url, skip.error);
    }
    Ok(())
}

pub fn replay(cli: &Cli, bind: SocketAddr, store: Option<&str>) -> Result<()> {
    // Replay never reads outside the archives folder: its real path, once.
    let root = std::fs::canonicalize(&cli.archives)
        .with_context(|| format!("archives folder {}", cli.archives.display()))?;
    let store = store.map(Store::open).transpose()?.map(Arc::new);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let archives = Archives::new(&root).with_store(store);
    // What was dropped into a collection's WARC folder (a WACZ from another tool) is served
    // from the start.
    for name in archives.collections_with_warcs() {
        let collection = archives.collection(&name);
        match collection.index_added_files() {
            Ok(Some(stats)) => {
                say!(
                    "indexed {name}: {} capture(s) in {} file(s)",
                    stats.captures,
                    stats.warc_files
                );
                if let Err(e) = index_problems(&stats) {
                    say!("error: {e}");
                }
            }
            Ok(None) => {}
            Err(e) => say!("error: {name}: {e}"),
        }
    }
    say!(
        "replaying {} at http://{bind}/ (Ctrl-C stops)",
        root.display()
    );
    runtime
        .block_on(crate::replay::serve_forever(archives, bind))
        .with_context(|| format!("serving on {bind}"))?;
    Ok(())
}
