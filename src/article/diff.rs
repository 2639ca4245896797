//! What changed between two texts of an article: paragraphs added, removed or changed, and in
//! a changed paragraph (or title, or byline) the words, as NewsDiffs shows an edited story.
//!
//! Paragraphs are aligned first (a diff of the paragraph lists, `similar`'s patience
//! algorithm, so a paragraph added in the middle shifts nothing); paragraphs that replaced
//! others are then paired by how many words they share, and a pair is diffed by word. Words
//! are Unicode's word boundaries (UAX #29): runs of letters in Latin or Cyrillic text, each
//! character in Chinese and Japanese, whose text has no spaces between words, so an edit of
//! one character in a Chinese sentence marks that character, not the sentence.

use serde::Serialize;
use std::time::{Duration, Instant};

use similar::{Algorithm, DiffOp, capture_diff_slices_deadline};
use unicode_segmentation::UnicodeSegmentation;

use super::ArticleText;

/// Two paragraphs sharing less than this share of their words are one removed and one added,
/// not one changed.
const SAME_PARAGRAPH: f64 = 0.5;

/// A diff takes about this long at most: past it, what is left is compared coarsely (runs
/// removed and added whole), so a page built to be slow to compare answers anyway.
const DIFF_TIME: Duration = Duration::from_secs(2);

/// Paragraphs of one replaced run paired at most; past it, a run is removed and added whole
/// (pairing compares every paragraph with every other).
const MAX_PAIRED: usize = 64;

/// The differences between an older and a newer text of one article.
#[derive(Debug, Clone, Serialize)]
pub struct TextDiff {
    /// The title's words, when it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<Vec<Span>>,
    /// The byline's words, when it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub byline: Option<Vec<Span>>,
    /// Every paragraph of both texts, in reading order: the same, added, removed or changed.
    pub paragraphs: Vec<Paragraph>,
}

/// A paragraph of the older text, the newer, or both; positions count from 1, as a reader
/// counts paragraphs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "lowercase")]
pub enum Paragraph {
    Same {
        old: usize,
        new: usize,
        text: String,
    },
    Added {
        new: usize,
        text: String,
    },
    Removed {
        old: usize,
        text: String,
    },
    Changed {
        old: usize,
        new: usize,
        words: Vec<Span>,
    },
}

/// A run of words the same in both texts, only in the older or only in the newer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Span {
    pub kind: SpanKind,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SpanKind {
    Same,
    Removed,
    Added,
}

impl TextDiff {
    pub fn between(old: &ArticleText, new: &ArticleText) -> TextDiff {
        let deadline = Instant::now() + DIFF_TIME;
        TextDiff {
            title: changed_words(&old.title, &new.title, deadline),
            byline: changed_words(
                old.byline.as_deref().unwrap_or(""),
                new.byline.as_deref().unwrap_or(""),
                deadline,
            ),
            paragraphs: paragraphs(&old.paragraphs, &new.paragraphs, deadline),
        }
    }

    /// Whether the two texts differ at all.
    pub fn is_empty(&self) -> bool {
        self.title.is_none() && self.byline.is_none() && self.changes().next().is_none()
    }

    /// The paragraphs that are not the same in both.
    pub fn changes(&self) -> impl Iterator<Item = &Paragraph> {
        self.paragraphs
            .iter()
            .filter(|p| !matches!(p, Paragraph::Same { .. }))
    }

    /// Counts of paragraphs added, removed and changed.
    pub fn counts(&self) -> (usize, usize, usize) {
        self.changes()
            .fold((0, 0, 0), |(added, removed, changed), p| match p {
                Paragraph::Added { .. } => (added + 1, removed, changed),
                Paragraph::Removed { .. } => (added, removed + 1, changed),
                _ => (added, removed, changed + 1),
            })
    }
}

/// The text's tokens: words, and the spaces and punctuation between them, which together
/// give the text back.
pub fn tokens(text: &str) -> impl Iterator<Item = &str> {
    text.split_word_bounds()
}

/// Whether a token is a word (holds a letter or digit) rather than space or punctuation.
pub fn is_word(token: &str) -> bool {
    token.chars().any(char::is_alphanumeric)
}

/// The words of two versions of one line, `None` when they are the same.
fn changed_words(old: &str, new: &str, deadline: Instant) -> Option<Vec<Span>> {
    (old != new).then(|| words(old, new, deadline))
}

/// The word diff of two versions of one paragraph, coarser past `deadline`.
pub fn words(old: &str, new: &str, deadline: Instant) -> Vec<Span> {
    let old: Vec<&str> = tokens(old).collect();
    let new: Vec<&str> = tokens(new).collect();
    let mut spans = Spans::default();
    for op in capture_diff_slices_deadline(Algorithm::Patience, &old, &new, Some(deadline)) {
        match op {
            DiffOp::Equal { old_index, len, .. } => {
                spans.push(SpanKind::Same, &old[old_index..old_index + len]);
            }
            DiffOp::Delete {
                old_index, old_len, ..
            } => spans.push(SpanKind::Removed, &old[old_index..old_index + old_len]),
            DiffOp::Insert {
                new_index, new_len, ..
            } => spans.push(SpanKind::Added, &new[new_index..new_index + new_len]),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                spans.push(SpanKind::Removed, &old[old_index..old_index + old_len]);
                spans.push(SpanKind::Added, &new[new_index..new_index + new_len]);
            }
        }
    }
    spans.finish()
}

/// Spans as they are pushed, neighbours of a kind merged. A space alone between two changes
/// belongs to both: "four hours" to "five minutes" reads as one change, not two.
#[derive(Default)]
struct Spans(Vec<Span>);

impl Spans {
    fn push(&mut self, kind: SpanKind, tokens: &[&str]) {
        if tokens.is_empty() {
            return;
        }
        let text = tokens.concat();
        match self.0.last_mut() {
            Some(last) if last.kind == kind => last.text.push_str(&text),
            _ => self.0.push(Span { kind, text }),
        }
    }

    fn finish(self) -> Vec<Span> {
        let spans = self.0;
        let mut out = Vec::with_capacity(spans.len());
        let (mut removed, mut added) = (String::new(), String::new());
        for (at, span) in spans.iter().enumerate() {
            match span.kind {
                SpanKind::Removed => removed.push_str(&span.text),
                SpanKind::Added => added.push_str(&span.text),
                SpanKind::Same
                    if span.text.trim().is_empty()
                        && !(removed.is_empty() && added.is_empty())
                        && spans.get(at + 1).is_some_and(|s| s.kind != SpanKind::Same) =>
                {
                    // In both texts: the older reads it as much as the newer.
                    removed.push_str(&span.text);
                    added.push_str(&span.text);
                }
                SpanKind::Same => {
                    flush_change(&mut out, &mut removed, &mut added);
                    out.push(span.clone());
                }
            }
        }
        flush_change(&mut out, &mut removed, &mut added);
        out
    }
}

/// One run of changes as at most one removed and one added span.
fn flush_change(out: &mut Vec<Span>, removed: &mut String, added: &mut String) {
    for (kind, text) in [(SpanKind::Removed, removed), (SpanKind::Added, added)] {
        if !text.is_empty() {
            out.push(Span {
                kind,
                text: std::mem::take(text),
            });
        }
    }
}

/// Both paragraph lists in reading order, each paragraph marked.
fn paragraphs(old: &[String], new: &[String], deadline: Instant) -> Vec<Paragraph> {
    let mut out = Vec::new();
    for op in capture_diff_slices_deadline(Algorithm::Patience, old, new, Some(deadline)) {
        match op {
            DiffOp::Equal {
                old_index,
                new_index,
                len,
            } => out.extend((0..len).map(|i| Paragraph::Same {
                old: old_index + i + 1,
                new: new_index + i + 1,
                text: new[new_index + i].clone(),
            })),
            DiffOp::Delete {
                old_index, old_len, ..
            } => out.extend(removed(old, old_index..old_index + old_len)),
            DiffOp::Insert {
                new_index, new_len, ..
            } => out.extend(added(new, new_index..new_index + new_len)),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => out.extend(replaced(
                (old, old_index..old_index + old_len),
                (new, new_index..new_index + new_len),
                deadline,
            )),
        }
    }
    out
}

fn removed(old: &[String], range: std::ops::Range<usize>) -> impl Iterator<Item = Paragraph> {
    range.map(|i| Paragraph::Removed {
        old: i + 1,
        text: old[i].clone(),
    })
}

fn added(new: &[String], range: std::ops::Range<usize>) -> impl Iterator<Item = Paragraph> {
    range.map(|i| Paragraph::Added {
        new: i + 1,
        text: new[i].clone(),
    })
}

/// A run of old paragraphs replaced by a run of new ones: the pairs that share most words,
/// in order, are changed paragraphs; the rest were removed or added.
fn replaced(
    (old, olds): (&[String], std::ops::Range<usize>),
    (new, news): (&[String], std::ops::Range<usize>),
    deadline: Instant,
) -> Vec<Paragraph> {
    let pairs = if olds.len() <= MAX_PAIRED && news.len() <= MAX_PAIRED {
        pair_by_likeness(&old[olds.clone()], &new[news.clone()], deadline)
    } else {
        Vec::new()
    };
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    for (pi, pj) in pairs.into_iter().chain([(olds.len(), news.len())]) {
        out.extend(removed(old, olds.start + i..olds.start + pi));
        out.extend(added(new, news.start + j..news.start + pj));
        if pi < olds.len() {
            out.push(Paragraph::Changed {
                old: olds.start + pi + 1,
                new: news.start + pj + 1,
                words: words(&old[olds.start + pi], &new[news.start + pj], deadline),
            });
        }
        (i, j) = (pi + 1, pj + 1);
    }
    out
}

/// Pairs `(i, j)`, increasing in both, of paragraphs alike enough to be one paragraph
/// changed, chosen to share the most words in all (an alignment by dynamic programming).
fn pair_by_likeness(old: &[String], new: &[String], deadline: Instant) -> Vec<(usize, usize)> {
    let (n, m) = (old.len(), new.len());
    let likeness: Vec<Vec<f64>> = old
        .iter()
        .map(|o| new.iter().map(|p| likeness(o, p, deadline)).collect())
        .collect();
    // best[i][j]: the most likeness pairing old[i..] with new[j..] can reach.
    let mut best = vec![vec![0.0f64; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            let pair = if likeness[i][j] >= SAME_PARAGRAPH {
                likeness[i][j] + best[i + 1][j + 1]
            } else {
                0.0
            };
            best[i][j] = pair.max(best[i + 1][j]).max(best[i][j + 1]);
        }
    }
    let mut pairs = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if likeness[i][j] >= SAME_PARAGRAPH && best[i][j] == likeness[i][j] + best[i + 1][j + 1] {
            pairs.push((i, j));
            (i, j) = (i + 1, j + 1);
        } else if best[i][j] == best[i + 1][j] {
            i += 1;
        } else {
            j += 1;
        }
    }
    pairs
}

/// The share of two paragraphs' words that are the same: 1 for equal, 0 for nothing shared.
fn likeness(old: &str, new: &str, deadline: Instant) -> f64 {
    let old: Vec<&str> = tokens(old).filter(|t| is_word(t)).collect();
    let new: Vec<&str> = tokens(new).filter(|t| is_word(t)).collect();
    if old.is_empty() && new.is_empty() {
        return 1.0;
    }
    let shared: usize =
        capture_diff_slices_deadline(Algorithm::Patience, &old, &new, Some(deadline))
            .iter()
            .map(|op| match op {
                DiffOp::Equal { len, .. } => *len,
                _ => 0,
            })
            .sum();
    (2 * shared) as f64 / (old.len() + new.len()) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(title: &str, paragraphs: &[&str]) -> ArticleText {
        ArticleText::new(
            title.into(),
            None,
            None,
            paragraphs.iter().map(|p| p.to_string()).collect(),
        )
    }

    fn later() -> Instant {
        Instant::now() + DIFF_TIME
    }

    fn plain(spans: &[Span]) -> String {
        spans
            .iter()
            .map(|s| match s.kind {
                SpanKind::Same => s.text.clone(),
                SpanKind::Removed => format!("[-{}-]", s.text),
                SpanKind::Added => format!("{{+{}+}}", s.text),
            })
            .collect()
    }

    #[test]
    fn words_are_marked_where_they_changed() {
        assert_eq!(
            plain(&words(
                "They met for four hours on Tuesday.",
                "They met for five minutes on Tuesday.",
                later()
            )),
            "They met for [-four hours-]{+five minutes+} on Tuesday."
        );
        assert_eq!(
            plain(&words("A short note.", "A short, corrected note.", later())),
            "A short{+, corrected+} note."
        );
    }

    #[test]
    fn chinese_is_compared_character_by_character() {
        assert_eq!(
            plain(&words("會談似未有突破", "會談似有突破", later())),
            "會談似[-未-]有突破"
        );
        assert_eq!(
            plain(&words(
                "習蒲強調通過和談解決烏克蘭危機",
                "習蒲強調通過談判解決烏克蘭危機",
                later()
            )),
            "習蒲強調通過[-和-]談{+判+}解決烏克蘭危機"
        );
    }

    #[test]
    fn paragraphs_added_removed_and_changed_are_told_apart() {
        let old = text(
            "Talks end without a deal",
            &[
                "The leaders met on Tuesday and agreed on little, officials said.",
                "Both sides called the meeting frank.",
                "Markets were calm.",
            ],
        );
        let new = text(
            "Talks end without a deal, officials say",
            &[
                "The leaders met on Tuesday and agreed on very little, officials said.",
                "A spokesman declined to comment on the details of the talks.",
                "Both sides called the meeting frank.",
                "Correction: an earlier version misstated the day of the meeting.",
            ],
        );
        let diff = TextDiff::between(&old, &new);
        assert_eq!(
            plain(diff.title.as_ref().unwrap()),
            "Talks end without a deal{+, officials say+}"
        );
        assert!(diff.byline.is_none());
        let changes: Vec<&Paragraph> = diff.changes().collect();
        assert_eq!(changes.len(), 4, "{changes:#?}");
        assert!(
            matches!(changes[0], Paragraph::Changed { old: 1, new: 1, words } if plain(words).contains("{+very +}"))
        );
        assert!(
            matches!(changes[1], Paragraph::Added { new: 2, text } if text.starts_with("A spokesman"))
        );
        assert!(
            matches!(changes[2], Paragraph::Removed { old: 3, text } if text == "Markets were calm.")
        );
        assert!(
            matches!(changes[3], Paragraph::Added { new: 4, text } if text.starts_with("Correction:"))
        );
        assert_eq!(diff.counts(), (2, 1, 1));
        assert!(TextDiff::between(&old, &old).is_empty());
    }

    #[test]
    fn a_rewritten_paragraph_is_removed_and_added_not_changed() {
        let diff = TextDiff::between(
            &text("T", &["Markets were calm on the day."]),
            &text("T", &["Protesters gathered outside the venue all night."]),
        );
        let changes: Vec<&Paragraph> = diff.changes().collect();
        assert!(
            matches!(
                changes[..],
                [Paragraph::Removed { .. }, Paragraph::Added { .. }]
            ),
            "{changes:?}"
        );
    }
}
