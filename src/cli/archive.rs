//! `cairn archive` and `cairn demo`: one library call each, then the summary.

use anyhow::Result;

use super::Cli;
use crate::archive::{self, ArchiveOptions, Resume, Summary};
use crate::crawl::human_bytes;
use crate::demo::{Demo, site};

pub fn archive(cli: &Cli, options: &ArchiveOptions) -> Result<()> {
    options.wants_dictionary().map_err(super::UsageError)?;
    let mut options = options.clone();
    // The summary goes to stdout as JSON: no progress lines beside it.
    options.no_progress |= cli.json;
    let collection = cli.archives().collection(&cli.collection);
    let summary = archive::archive(&collection, &options, Resume::default())?;
    print_summary(cli, &summary)?;
    Ok(summary.check()?)
}

pub fn demo(cli: &Cli) -> Result<()> {
    let archives = cli.archives();
    let demo = Demo::start(&archives)?;
    say!(
        "demo: serving {} from a built-in fixture on 127.0.0.1:{} (no internet needed)",
        site::ARTICLE,
        demo.port()
    );
    let report = demo.archive(&archives, &cli.collection)?;
    print_summary(cli, &report.summary)?;
    report.summary.check()?;
    say!(
        "demo: the fixture now serves the article edited (headline, a paragraph, a correction); captured again:"
    );
    print_summary(cli, &report.recapture)?;
    report.recapture.check()?;
    if let Some(changes) = &report.changes {
        out!(
            "What changed in the article between its two captures (cairn diff {}):",
            site::ARTICLE
        );
        super::articles::print_comparison(changes, super::articles::Marks::for_stdout())?;
    }
    let absolute = |p: &std::path::Path| std::fs::canonicalize(p).unwrap_or(p.to_path_buf());
    out!(
        "Open the archived article, offline:  file://{}",
        absolute(&report.article).display()
    );
    out!(
        "The post, rewritten to local copies:  {}",
        absolute(&report.post).display()
    );
    out!(
        "Check the WARC files:                 cairn verify {}",
        report.warc_dir.display()
    );
    out!(
        "Replay it:                            cairn --archives {} replay, then http://127.0.0.1:8080/{}/",
        cli.archives.display(),
        cli.collection
    );
    out!(
        "Both versions, and what changed:      http://127.0.0.1:8080/{}/*/{}",
        cli.collection,
        site::ARTICLE
    );
    Ok(())
}

/// The summary of a run: JSON on stdout with `--json`, else what was archived, what failed,
/// the offline copy and the posts, on stderr.
pub(super) fn print_summary(cli: &Cli, summary: &Summary) -> Result<()> {
    if cli.json {
        out!("{}", serde_json::to_string_pretty(summary)?);
        return Ok(());
    }
    let crawl = &summary.crawl;
    let files: Vec<String> = crawl
        .warc_files
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    let written = if files.is_empty() {
        "with no WARC file written".to_string()
    } else {
        format!("into {}", files.join(", "))
    };
    say!(
        "archived {} pages and {} resources ({}, {} revisits) in {:.1} s {written}; {} errors",
        crawl.pages,
        crawl.resources,
        human_bytes(crawl.bytes),
        crawl.revisits,
        crawl.seconds,
        crawl.errors.len()
    );
    for failure in crawl.errors.iter().take(20) {
        say!("  {}: {}", failure.url, failure.error);
    }
    if crawl.errors.len() > 20 {
        say!("  ... and {} more (see --json)", crawl.errors.len() - 20);
    }
    // Damage in the collection's older files is not this run's failure, but is said.
    if let Err(lacking) = super::warcs::index_problems(&summary.index) {
        say!("warning: {lacking}");
    }
    let offline = &summary.offline;
    say!(
        "offline copy: {} files ({} pages) in {}, {} written",
        offline.files,
        offline.pages,
        offline.out_dir.display(),
        offline.written
    );
    let texts = &summary.texts;
    say!(
        "article texts: {} made, {} first captured, {} changed since their last capture",
        texts.made,
        texts.first,
        texts.changed.len()
    );
    for url in texts.changed.iter().take(20) {
        say!("  text changed: {url}");
    }
    if let Some(failed) = &texts.failed {
        say!("warning: the article texts were not kept: {failed}");
    }
    let phases = &summary.phases;
    say!(
        "took {:.2} s to crawl, {:.2} s to index, {:.2} s for the offline copy ({:.2} s for texts beside it), {:.2} s for posts",
        crawl.seconds,
        phases.index,
        phases.offline,
        phases.texts,
        phases.posts
    );
    super::warcs::print_skipped(&offline.skipped)?;
    for post in &summary.posts {
        say!(
            "post {} -> {} ({} references not archived, left as they were)",
            post.source.display(),
            post.written.display(),
            post.unresolved.len()
        );
        for url in post.unresolved.iter().take(10) {
            say!("  not archived: {url}");
        }
    }
    Ok(())
}
