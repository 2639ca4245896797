//! `cairn history URL` and `cairn diff URL [FROM TO]`: a URL's captures and what changed in
//! its article text, printed for a reader (colours on a terminal, git's `--word-diff` marks
//! elsewhere) or as JSON.

use std::io::IsTerminal;

use anyhow::Result;

use super::Cli;
use crate::article::counted;
use crate::article::diff::{Paragraph, Span, SpanKind, TextDiff};
use crate::article::history::{Comparison, History, HistoryError, TextChange, readable_timestamp};
use crate::article::texts::Texts;
use crate::collection::Collection;

/// The collection, its index, its texts and the URL's history; texts made now are saved
/// when no other process holds the collection.
fn load(cli: &Cli, url: &str) -> Result<(Texts, History)> {
    let collection = cli.collection()?;
    let index = collection.index()?;
    let mut texts = Texts::load(&collection)?;
    let history = History::of(&collection, &index, &mut texts, &normalized(url))?;
    save(&collection, &mut texts)?;
    Ok((texts, history))
}

fn save(collection: &Collection, texts: &mut Texts) -> Result<()> {
    if let Some(lock) = collection.try_lock()? {
        texts.save(collection, &lock)?;
    }
    Ok(())
}

/// A URL as typed: `example.com/a` is `http://example.com/a`, as pywb and wget take it.
fn normalized(url: &str) -> String {
    if url.contains("://") || url.starts_with("urn:") {
        url.to_string()
    } else {
        format!("http://{url}")
    }
}

pub fn history(cli: &Cli, url: &str) -> Result<()> {
    let (_, history) = load(cli, url)?;
    if cli.json {
        out!("{}", serde_json::to_string_pretty(&history)?);
        return Ok(());
    }
    out!(
        "{}: {}, {} with an article text, which changed {}",
        history.url,
        counted(history.versions.len(), "capture"),
        history.with_text().count(),
        history.changes_said()
    );
    for v in &history.versions {
        let digest = match (&v.digest, v.revisit) {
            (_, true) => "revisit".to_string(),
            (Some(d), false) => short_digest(d),
            (None, false) => "-".to_string(),
        };
        let text = match v.text {
            TextChange::First => "first",
            TextChange::Changed => "CHANGED",
            TextChange::Unchanged => "same",
            TextChange::NoText => "no text",
            TextChange::Unreadable => "unreadable",
        };
        let status = v.status.map_or("-".to_string(), |s| s.to_string());
        out!(
            "{}  {status:>3}  {digest:<19}  {text:<10}  {}",
            readable_timestamp(&v.timestamp),
            v.title.as_deref().unwrap_or(&v.url)
        );
    }
    Ok(())
}

pub fn diff(cli: &Cli, url: &str, from: Option<&str>, to: Option<&str>) -> Result<()> {
    let (texts, history) = load(cli, url)?;
    let pair = match (from, to) {
        (Some(from), Some(to)) => Some((history.nearest(from)?, history.nearest(to)?)),
        (Some(from), None) => {
            let latest = history.with_text().last();
            Some((
                history.nearest(from)?,
                latest.ok_or_else(|| no_text(&history))?,
            ))
        }
        _ => history.last_change(),
    };
    let Some((from, to)) = pair else {
        let with_text = history.with_text().count();
        if cli.json {
            out!(
                "{}",
                serde_json::json!({"url": history.url, "diff": null, "captures_with_text": with_text})
            );
        } else {
            say!(
                "{}: the text is the same in all {with_text} captures that have one",
                history.url
            );
        }
        return Ok(());
    };
    let comparison =
        Comparison::between(&texts, &history.url, from, to).ok_or_else(|| no_text(&history))?;
    if cli.json {
        out!("{}", serde_json::to_string_pretty(&comparison)?);
    } else {
        print_comparison(&comparison, Marks::for_stdout())?;
    }
    Ok(())
}

fn no_text(history: &History) -> HistoryError {
    HistoryError::NoTextNear {
        url: history.url.clone(),
        timestamp: "any time".to_string(),
    }
}

pub(super) fn print_comparison(comparison: &Comparison, marks: Marks) -> Result<()> {
    let diff: &TextDiff = &comparison.diff;
    let (added, removed, changed) = diff.counts();
    out!(
        "{}\n{} -> {}: {} added, {removed} removed, {changed} changed{}",
        comparison.url,
        readable_timestamp(&comparison.from.timestamp),
        readable_timestamp(&comparison.to.timestamp),
        counted(added, "paragraph"),
        if diff.title.is_some() {
            ", title changed"
        } else {
            ""
        }
    );
    if let Some(title) = &diff.title {
        out!("title: {}", marks.spans(title));
    }
    if let Some(byline) = &diff.byline {
        out!("byline: {}", marks.spans(byline));
    }
    for paragraph in diff.changes() {
        let line = match paragraph {
            Paragraph::Added { new, text } => {
                format!("+ ¶{new} {}", marks.whole(SpanKind::Added, text))
            }
            Paragraph::Removed { old, text } => {
                format!("- ¶{old} {}", marks.whole(SpanKind::Removed, text))
            }
            Paragraph::Changed { new, words, .. } => format!("~ ¶{new} {}", marks.spans(words)),
            Paragraph::Same { .. } => continue,
        };
        out!("{line}");
    }
    if diff.is_empty() {
        out!("(the texts are the same)");
    }
    Ok(())
}

/// How removed and added words are shown: colours on a terminal (red struck through, green),
/// git's `--word-diff=plain` marks elsewhere (`[-old-]{+new+}`), which survive a pipe.
#[derive(Clone, Copy)]
pub(super) enum Marks {
    Colour,
    Plain,
}

impl Marks {
    pub(super) fn for_stdout() -> Marks {
        if std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
            Marks::Colour
        } else {
            Marks::Plain
        }
    }

    fn whole(self, kind: SpanKind, text: &str) -> String {
        match (self, kind) {
            (_, SpanKind::Same) => text.to_string(),
            (Marks::Colour, SpanKind::Removed) => format!("\x1b[31;9m{text}\x1b[0m"),
            (Marks::Colour, SpanKind::Added) => format!("\x1b[32m{text}\x1b[0m"),
            (Marks::Plain, SpanKind::Removed) => format!("[-{text}-]"),
            (Marks::Plain, SpanKind::Added) => format!("{{+{text}+}}"),
        }
    }

    fn spans(self, spans: &[Span]) -> String {
        spans.iter().map(|s| self.whole(s.kind, &s.text)).collect()
    }
}

/// `sha256:4f9c…` cut to what a reader compares by eye.
fn short_digest(digest: &str) -> String {
    digest.chars().take(19).collect()
}
