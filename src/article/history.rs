//! A URL's captures over time, each marked by whether its article text changed from the
//! capture before it that had one; and the choice of two versions to compare.

use serde::Serialize;

use super::ArticleText;
use super::diff::TextDiff;
use super::texts::{Texts, is_page};
use crate::collection::{Collection, CollectionError};
use crate::index::{Capture, Index};
use crate::warc::record::parse_timestamp14;

/// Every capture of one URL, oldest first.
#[derive(Debug, Serialize)]
pub struct History {
    pub url: String,
    pub versions: Vec<Version>,
}

/// One capture, and what its text was to the capture before it.
#[derive(Debug, Serialize)]
pub struct Version {
    pub timestamp: String,
    /// The URL as captured (`http://` and `https://www.` spellings of one page are one).
    pub url: String,
    pub status: Option<u16>,
    pub digest: Option<String>,
    /// Whether the capture is a revisit: the payload was the same as one stored before.
    pub revisit: bool,
    /// The article's title, when the capture has a text.
    pub title: Option<String>,
    /// The digest of the article text ([`ArticleText::digest`]), when the capture has one.
    pub text_digest: Option<String>,
    pub text: TextChange,
    #[serde(skip)]
    pub capture: Capture,
}

/// How a capture's text stands to the text before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TextChange {
    /// The first capture with a text.
    First,
    Changed,
    Unchanged,
    /// A capture with no article text: a redirect, an error, no page, or no article in it.
    NoText,
    /// A capture whose record could not be read.
    Unreadable,
}

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("{0} is not in the collection")]
    NotArchived(String),
    #[error("no capture of {url} near {timestamp} has an article text")]
    NoTextNear { url: String, timestamp: String },
    #[error("{0:?} is not a timestamp (YYYYMMDDhhmmss, or fewer digits)")]
    BadTimestamp(String),
    #[error(transparent)]
    Collection(#[from] CollectionError),
}

impl History {
    /// The captures of `url`, their texts read from `texts` or made now (and left in `texts`
    /// to be saved).
    pub fn of(
        collection: &Collection,
        index: &Index,
        texts: &mut Texts,
        url: &str,
    ) -> Result<History, HistoryError> {
        let captures = index.captures_of(url);
        if captures.is_empty() {
            return Err(HistoryError::NotArchived(url.to_string()));
        }
        let mut unreadable = std::sync::Mutex::new(Vec::new());
        texts.fill(
            collection,
            index,
            captures.iter().filter(|c| is_page(c)),
            |capture, error| {
                tracing::warn!(url = %capture.url, timestamp = %capture.timestamp, %error, "reading a capture's text");
                if let Ok(mut list) = unreadable.lock() {
                    list.push((capture.filename.clone(), capture.offset));
                }
            },
        );
        let unreadable = unreadable.get_mut().map(std::mem::take).unwrap_or_default();
        let mut previous: Option<String> = None;
        let versions = captures
            .into_iter()
            .map(|capture| {
                let text = is_page(&capture)
                    .then(|| texts.get(&capture))
                    .flatten()
                    .and_then(Option::as_ref);
                let text_digest = text.map(|t| t.digest().to_string());
                let change = match (&text_digest, &previous) {
                    _ if unreadable.contains(&(capture.filename.clone(), capture.offset)) => {
                        TextChange::Unreadable
                    }
                    (None, _) => TextChange::NoText,
                    (Some(_), None) => TextChange::First,
                    (Some(now), Some(before)) if now == before => TextChange::Unchanged,
                    (Some(_), Some(_)) => TextChange::Changed,
                };
                if text_digest.is_some() {
                    previous.clone_from(&text_digest);
                }
                Version {
                    timestamp: capture.timestamp.clone(),
                    url: capture.url.clone(),
                    status: capture.status,
                    digest: capture.digest.clone(),
                    revisit: capture.is_revisit(),
                    title: text.map(|t| t.title.clone()),
                    text_digest,
                    text: change,
                    capture,
                }
            })
            .collect();
        Ok(History {
            url: url.to_string(),
            versions,
        })
    }

    /// The versions with a text.
    pub fn with_text(&self) -> impl Iterator<Item = &Version> {
        self.versions.iter().filter(|v| v.text_digest.is_some())
    }

    /// How many times the text changed after its first capture.
    pub fn changes(&self) -> usize {
        self.versions
            .iter()
            .filter(|v| v.text == TextChange::Changed)
            .count()
    }

    /// How often the text changed, as a summary says it: "never", "1 time", "3 times".
    pub fn changes_said(&self) -> String {
        match self.changes() {
            0 => "never".to_string(),
            n => super::counted(n, "time"),
        }
    }

    /// The latest version whose text changed, and the version with a text before it: the
    /// two a reader compares first. `None` when the text never changed.
    pub fn last_change(&self) -> Option<(&Version, &Version)> {
        let with_text: Vec<&Version> = self.with_text().collect();
        let at = with_text
            .iter()
            .rposition(|v| v.text == TextChange::Changed)?;
        Some((with_text[at - 1], with_text[at]))
    }

    /// The version with a text nearest to a 1- to 14-digit timestamp (the later of two as
    /// near), as replay picks a capture.
    pub fn nearest(&self, timestamp: &str) -> Result<&Version, HistoryError> {
        let wanted = parse_timestamp14(timestamp)
            .filter(|_| (1..=14).contains(&timestamp.len()))
            .ok_or_else(|| HistoryError::BadTimestamp(timestamp.to_string()))?
            .unix_timestamp();
        self.with_text()
            .min_by_key(|v| {
                (
                    (v.capture.seconds - wanted).unsigned_abs(),
                    -v.capture.seconds,
                )
            })
            .ok_or_else(|| HistoryError::NoTextNear {
                url: self.url.clone(),
                timestamp: timestamp.to_string(),
            })
    }
}

/// `20230322000800` as `2023-03-22 00:08:00`, as a reader reads a time; other forms as they
/// are.
pub fn readable_timestamp(ts: &str) -> String {
    if ts.len() != 14 || !ts.bytes().all(|b| b.is_ascii_digit()) {
        return ts.to_string();
    }
    format!(
        "{}-{}-{} {}:{}:{}",
        &ts[0..4],
        &ts[4..6],
        &ts[6..8],
        &ts[8..10],
        &ts[10..12],
        &ts[12..14]
    )
}

/// Two versions of an article and what changed between them.
#[derive(Debug, Serialize)]
pub struct Comparison {
    pub url: String,
    pub from: Compared,
    pub to: Compared,
    pub diff: TextDiff,
}

/// One side of a comparison.
#[derive(Debug, Serialize)]
pub struct Compared {
    pub timestamp: String,
    pub text: ArticleText,
}

impl Comparison {
    /// Compares two versions that have texts in `texts`.
    pub fn between(texts: &Texts, url: &str, from: &Version, to: &Version) -> Option<Comparison> {
        let side = |v: &Version| -> Option<Compared> {
            Some(Compared {
                timestamp: v.timestamp.clone(),
                text: texts.get(&v.capture)?.clone()?,
            })
        };
        let (from, to) = (side(from)?, side(to)?);
        Some(Comparison {
            url: url.to_string(),
            diff: TextDiff::between(&from.text, &to.text),
            from,
            to,
        })
    }
}
