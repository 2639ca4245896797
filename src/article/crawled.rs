//! A crawl's pages and their texts: each new page payload's text made and kept as the crawl
//! ends (under the collection's lock, with the index up to date), and the pages whose text
//! differs from their capture before, which a scheduled job reports.

use std::collections::HashSet;

use serde::Serialize;

use super::texts::{Texts, is_page};
use crate::collection::{Collection, CollectionError, CollectionLock, PageEntry};
use crate::index::{Capture, Index};
use crate::warc::record::timestamp14;

/// What the texts of a crawl's pages came to.
#[derive(Debug, Default, Serialize)]
pub struct TextsReport {
    /// Texts made now: page payloads the collection had no text for.
    pub made: usize,
    /// Pages whose text differs from the text of their capture before.
    pub changed: Vec<String>,
    /// Pages archived with a text for the first time.
    pub first: usize,
    /// Why no text could be made or kept, when none could.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

/// Makes and keeps the texts a crawl's pages call for, and tells which changed: the texts
/// of the targets (the articles a reader archives, to be compared later), and of every page
/// whose payload differs from its capture before (its text may have changed), with the
/// text of that capture. Other pages' texts wait until asked for (`cairn history`, replay):
/// a crawl of thousands of related pages spends no time on texts nobody may read, and a
/// page whose payload is the same has the same text.
pub fn texts_of_pages(
    collection: &Collection,
    lock: &CollectionLock,
    index: &Index,
    pages: &[PageEntry],
    targets: &HashSet<String>,
) -> Result<TextsReport, CollectionError> {
    let mut texts = Texts::load(collection)?;
    let wanted: Vec<(Capture, Vec<Capture>)> = pages
        .iter()
        .filter_map(|page| page_capture(index, page))
        .filter(|(capture, earlier)| {
            targets.contains(&capture.url)
                || earlier.first().is_some_and(|e| e.digest != capture.digest)
        })
        .collect();
    let now_and_before = wanted
        .iter()
        .flat_map(|(capture, earlier)| std::iter::once(capture).chain(earlier.first()));
    texts.fill(collection, index, now_and_before, warn_unreadable);
    let mut report = TextsReport::default();
    for (capture, earlier) in &wanted {
        let Some(Some(text)) = texts.get(capture) else {
            continue;
        };
        let now = text.digest().to_string();
        match previous_text(collection, index, &mut texts, earlier) {
            None => report.first += 1,
            Some(before) if before != now => report.changed.push(capture.url.clone()),
            Some(_) => {}
        }
    }
    report.changed.sort();
    report.changed.dedup();
    report.made = texts.save(collection, lock)?;
    Ok(report)
}

/// A page's capture in the index, and the URL's page captures before it, latest first.
fn page_capture(index: &Index, page: &PageEntry) -> Option<(Capture, Vec<Capture>)> {
    let stamp = timestamp14(&page.ts)?;
    let mut captures = index.captures_of(&page.url);
    let at = captures
        .iter()
        .rposition(|c| c.timestamp == stamp && c.url == page.url && is_page(c))?;
    let mut earlier: Vec<Capture> = captures.drain(..at).filter(is_page).collect();
    earlier.reverse();
    Some((captures.swap_remove(0), earlier))
}

/// The text digest of the latest of `earlier` that has a text, made now if it was never made.
fn previous_text(
    collection: &Collection,
    index: &Index,
    texts: &mut Texts,
    earlier: &[Capture],
) -> Option<String> {
    earlier.iter().find_map(|capture| {
        texts.fill(collection, index, [capture], warn_unreadable);
        texts
            .get(capture)?
            .as_ref()
            .map(|text| text.digest().to_string())
    })
}

fn warn_unreadable(capture: &Capture, error: &CollectionError) {
    tracing::warn!(
        url = %capture.url,
        timestamp = %capture.timestamp,
        %error,
        "reading a capture's text"
    );
}
