//! The collection's side index of article texts, `texts.jsonl`: one line per page payload, by
//! its digest, with what extracted it and the text (`null` for a page with none). A line is
//! appended when a crawl stores a new page payload, and when `cairn history` or `cairn diff`
//! first reads an older capture or a foreign WARC's; a text made by another extractor than
//! this build's is made again, and the newer line wins. Each line carries its text's digest
//! too, so a reader that only tells whether texts changed (replay's banner) holds the digests
//! of a large collection without its texts ([`TextDigests`]).

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{ArticleText, EXTRACTOR, MAX_PAGE_BYTES};
use crate::collection::{Collection, CollectionError, CollectionLock};
use crate::content::{ContentKind, decode_content};
use crate::extract::charset::html_encoding;
use crate::index::{Capture, Index};

/// One line of `texts.jsonl`.
#[derive(Debug, Serialize, Deserialize)]
struct Line {
    digest: String,
    extractor: String,
    /// [`ArticleText::digest`] of `text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text_digest: Option<String>,
    text: Option<ArticleText>,
}

/// Each line of `texts.jsonl` from this build's extractor, in order, parsed one at a time (a
/// reader keeping only digests never holds every text); lines that do not parse are left out
/// (a line cut short by a full disk, say), to be made again.
fn each_line(collection: &Collection, mut take: impl FnMut(Line)) -> Result<(), CollectionError> {
    for line in collection.texts()?.split(|&b| b == b'\n') {
        if let Ok(line) = serde_json::from_slice::<Line>(line)
            && line.extractor == EXTRACTOR
        {
            take(line);
        }
    }
    Ok(())
}

/// The text digests of a collection's payloads, without the texts: `None` for a payload
/// whose page has no article text.
#[derive(Debug, Default)]
pub struct TextDigests(HashMap<String, Option<String>>);

impl TextDigests {
    pub fn load(collection: &Collection) -> Result<TextDigests, CollectionError> {
        let mut digests = HashMap::new();
        each_line(collection, |line| {
            let text_digest = line
                .text_digest
                .or_else(|| line.text.as_ref().map(|t| t.digest().to_string()));
            digests.insert(line.digest, text_digest);
        })?;
        Ok(TextDigests(digests))
    }

    /// The text digest of a capture's payload: `None` when its text was never made.
    pub fn get(&self, capture: &Capture) -> Option<Option<&str>> {
        self.0.get(capture.digest.as_deref()?).map(Option::as_deref)
    }

    /// Takes in the digests of the texts `texts` knows.
    pub fn learn(&mut self, texts: &Texts) {
        for (digest, text) in &texts.known {
            self.0
                .entry(digest.clone())
                .or_insert_with(|| text.as_ref().map(|t| t.digest().to_string()));
        }
    }
}

/// The texts known for a collection's payloads, and those made since they were read.
#[derive(Debug, Default)]
pub struct Texts {
    known: HashMap<String, Option<ArticleText>>,
    fresh: Vec<String>,
}

impl Texts {
    /// The texts `texts.jsonl` holds from this build's extractor.
    pub fn load(collection: &Collection) -> Result<Texts, CollectionError> {
        let mut known = HashMap::new();
        each_line(collection, |line| {
            known.insert(line.digest, line.text);
        })?;
        Ok(Texts {
            known,
            fresh: Vec::new(),
        })
    }

    /// The texts `texts.jsonl` holds for the payloads of these captures, and no other.
    pub fn load_for<'c>(
        collection: &Collection,
        captures: impl IntoIterator<Item = &'c Capture>,
    ) -> Result<Texts, CollectionError> {
        let wanted: HashSet<&str> = captures
            .into_iter()
            .filter_map(|c| c.digest.as_deref())
            .collect();
        let mut known = HashMap::new();
        each_line(collection, |line| {
            if wanted.contains(line.digest.as_str()) {
                known.insert(line.digest, line.text);
            }
        })?;
        Ok(Texts {
            known,
            fresh: Vec::new(),
        })
    }

    /// The stored text of a capture's payload: `None` when it was never made, `Some(None)`
    /// for a page without article text.
    pub fn get(&self, capture: &Capture) -> Option<&Option<ArticleText>> {
        self.known.get(capture.digest.as_deref()?)
    }

    /// The captures among these whose payloads have no text yet, each payload once.
    pub fn missing<'c>(&self, captures: impl IntoIterator<Item = &'c Capture>) -> Vec<Capture> {
        let mut missing: Vec<Capture> = captures
            .into_iter()
            .filter(|c| c.digest.is_some() && self.get(c).is_none())
            .cloned()
            .collect();
        missing.sort_by(|a, b| a.digest.cmp(&b.digest));
        missing.dedup_by(|a, b| a.digest == b.digest);
        missing
    }

    /// Makes the texts the captures' payloads lack, on every core. A capture that cannot be
    /// read is skipped and reported by `unreadable`.
    pub fn fill<'c>(
        &mut self,
        collection: &Collection,
        index: &Index,
        captures: impl IntoIterator<Item = &'c Capture>,
        unreadable: impl Fn(&Capture, &CollectionError) + Sync,
    ) {
        let missing = self.missing(captures);
        let made = make(collection, index, &missing, unreadable);
        self.insert(made);
    }

    /// Takes in texts [`make`] made.
    pub fn insert(&mut self, made: Vec<Made>) {
        for (digest, text) in made {
            let line = Line {
                digest,
                extractor: EXTRACTOR.to_string(),
                text_digest: text.as_ref().map(|t| t.digest().to_string()),
                text,
            };
            let mut json = serde_json::to_string(&line).expect("a text serializes");
            json.push('\n');
            self.fresh.push(json);
            self.known.insert(line.digest, line.text);
        }
    }

    /// Appends the texts made since loading to `texts.jsonl`; how many.
    pub fn save(
        &mut self,
        collection: &Collection,
        lock: &CollectionLock,
    ) -> Result<usize, CollectionError> {
        let count = self.fresh.len();
        collection.append_texts(lock, &self.fresh.concat())?;
        self.fresh.clear();
        Ok(count)
    }
}

/// A text made for a payload digest.
pub type Made = (String, Option<ArticleText>);

/// Reads the captures' texts from their records, on every core, each capture that cannot be
/// read reported by `unreadable` and left out.
pub fn make(
    collection: &Collection,
    index: &Index,
    captures: &[Capture],
    unreadable: impl Fn(&Capture, &CollectionError) + Sync,
) -> Vec<Made> {
    captures
        .par_iter()
        .filter_map(|capture| match read_text(collection, index, capture) {
            Ok(text) => Some((capture.digest.clone()?, text)),
            Err(error) => {
                unreadable(capture, &error);
                None
            }
        })
        .collect()
}

/// Whether a capture may be an article: a page answered with success (a revisit is judged by
/// its original, which the index lists as `warc/revisit`).
pub fn is_page(capture: &Capture) -> bool {
    let html = match capture.mime.as_deref() {
        Some("warc/revisit") | None => true,
        declared => ContentKind::declared(declared).is_none_or(|k| k == ContentKind::Html),
    };
    html && capture.status.is_none_or(|s| (200..300).contains(&s))
}

/// The article text of a capture, read from its record now; `None` for a capture that is no
/// HTML page answered with success, or that holds no article.
pub fn read_text(
    collection: &Collection,
    index: &Index,
    capture: &Capture,
) -> Result<Option<ArticleText>, CollectionError> {
    let (head, payload) = collection.read_capture(index, capture, MAX_PAGE_BYTES as u64)?;
    if payload.cut || !head.status().is_none_or(|s| (200..300).contains(&s)) {
        return Ok(None);
    }
    let body = decode_content(
        payload.bytes.as_slice(),
        head.encoding.as_deref(),
        MAX_PAGE_BYTES as u64,
    )
    .unwrap_or_default();
    let content_type = head.content_type();
    if ContentKind::of(content_type.as_deref(), &body) != ContentKind::Html {
        return Ok(None);
    }
    let encoding = html_encoding(&body, content_type.as_deref());
    let (html, _, _) = encoding.decode(&body);
    Ok(ArticleText::extract(&html, &capture.url))
}
