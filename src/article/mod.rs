//! Articles over time: the main text of a page (title, byline, date, paragraphs) as a reader
//! sees it, kept per payload in the collection ([`texts`]), each URL's captures told apart by
//! whether their text changed ([`history`]), and the words that changed between two of them
//! ([`diff`]).
//!
//! Extraction is Mozilla's Readability algorithm as the `dom_smoothie` crate ports it: the
//! algorithm Firefox's reader view runs on the whole web, checked against Readability.js's own
//! test pages, with JSON-LD and Open Graph metadata for the byline and date. Hand-written
//! heuristics would learn what it knows one site at a time; the Readability ports that came
//! before it (`readability`, `readability-rs`) follow arc90's older rules and read no
//! metadata. The text is a function of the payload alone, so it is keyed by the payload's
//! digest: a revisit shares its original's text, and any capture, a foreign WARC's included,
//! can have its text computed later.

pub mod crawled;
pub mod diff;
pub mod history;
pub mod texts;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::OnceLock;

use lol_html::{HtmlRewriter, Settings, element};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What wrote a text: a stored text made by another extractor is made again.
pub const EXTRACTOR: &str = "dom_smoothie/0.19";

/// Pages larger than this are not read for their text: a reader's article is far smaller, and
/// the Readability algorithm's work grows with the page.
pub const MAX_PAGE_BYTES: usize = 8 << 20;

/// Elements the extraction reads at most (Readability's own bound, for hostile pages).
const MAX_ELEMENTS: usize = 100_000;

/// Pages whose elements nest deeper than this are not read for their text: the extraction's
/// time grows with the square of the depth (1,000 levels took 0.27 s, 8,000 took 16 s), and
/// browsers flatten what nests deeper than 512 anyway (Chromium's parser limit), so no reader
/// saw such a page as written.
const MAX_NESTING: usize = 512;

/// A page's main text, as a reader sees it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArticleText {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byline: Option<String>,
    /// The publication date the page declares (JSON-LD, Open Graph), as written there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// The body's paragraphs, each with its whitespace collapsed.
    pub paragraphs: Vec<String>,
    /// [`ArticleText::digest`], made once.
    #[serde(skip)]
    digest: OnceLock<String>,
}

impl ArticleText {
    pub fn new(
        title: String,
        byline: Option<String>,
        published: Option<String>,
        paragraphs: Vec<String>,
    ) -> ArticleText {
        ArticleText {
            title,
            byline,
            published,
            paragraphs,
            digest: OnceLock::new(),
        }
    }

    /// The main text of an HTML document at `url`; `None` for a page with no article text
    /// to find (a frameset, an empty page), or one the extraction fails on.
    pub fn extract(html: &str, url: &str) -> Option<ArticleText> {
        // dom_smoothie 0.19 slices strings by byte offsets in places (an iframe title of
        // `中youtube.com` panics in `is_video_url`): a page written by a stranger must not
        // end a crawl, so a panic there is that page having no text.
        if nests_deeper_than(html, MAX_NESTING) {
            tracing::warn!(%url, "the page nests too deep to read its article text");
            return None;
        }
        let extracted = std::panic::catch_unwind(|| readability(html, url));
        extracted.unwrap_or_else(|_| {
            tracing::warn!(%url, "the article extraction failed on this page");
            None
        })
    }

    /// A digest of what a reader reads (title, byline and paragraphs): two captures whose
    /// pages differ only in markup, scripts or advertisements have the same.
    pub fn digest(&self) -> &str {
        self.digest.get_or_init(|| {
            let mut hash = Sha256::new();
            for part in std::iter::once(&self.title)
                .chain(self.byline.iter())
                .chain(self.paragraphs.iter())
            {
                hash.update(part.as_bytes());
                hash.update([0]);
            }
            format!(
                "sha256:{}",
                data_encoding::HEXLOWER.encode(&hash.finalize())
            )
        })
    }

    /// Words in the body: runs of letters and digits, and each CJK character on its own (a
    /// Chinese article has no spaces to count by).
    pub fn words(&self) -> usize {
        self.paragraphs
            .iter()
            .map(|p| diff::tokens(p).filter(|t| diff::is_word(t)).count())
            .sum()
    }
}

/// "1 paragraph", "3 paragraphs": a count and its noun, for summaries.
pub fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Two texts are equal when what a reader reads is, whether their digests were made or not.
impl PartialEq for ArticleText {
    fn eq(&self, other: &ArticleText) -> bool {
        (&self.title, &self.byline, &self.published, &self.paragraphs)
            == (
                &other.title,
                &other.byline,
                &other.published,
                &other.paragraphs,
            )
    }
}

impl Eq for ArticleText {}

/// Whether the page's elements nest deeper than `limit`, counting the elements a parser keeps
/// open until their end tag (`div`, `span`, `a`, ...): those whose end tag HTML lets a parser
/// imply (`p`, `li`, `td`, ...) and void elements open no level, so an article of unclosed
/// paragraphs reads as flat, as it parses.
fn nests_deeper_than(html: &str, limit: usize) -> bool {
    let depth = Rc::new(Cell::new(0usize));
    let deepest = Cell::new(0usize);
    {
        let settings = Settings::new().append_element_content_handler(element!("*", |el| {
            if !el.can_have_content() || IMPLIED_END.contains(&el.tag_name().as_str()) {
                return Ok(());
            }
            depth.set(depth.get() + 1);
            deepest.set(deepest.get().max(depth.get()));
            let closing = depth.clone();
            let closed: lol_html::EndTagHandler<'static> = Box::new(move |_| {
                closing.set(closing.get().saturating_sub(1));
                Ok(())
            });
            el.on_end_tag(closed)
        }));
        let mut reader = HtmlRewriter::new(settings, |_: &[u8]| {});
        // lol_html stops only on its memory limits: a page that hits them is not read either.
        if reader
            .write(html.as_bytes())
            .and_then(|()| reader.end())
            .is_err()
        {
            return true;
        }
    }
    deepest.get() > limit
}

/// Elements whose end tag a parser may imply (HTML, "optional tags"), and those a parser
/// closes by itself when their like opens (`option`, ruby annotations).
const IMPLIED_END: &[&str] = &[
    "html", "head", "body", "p", "li", "dt", "dd", "option", "optgroup", "rt", "rp", "rb", "rtc",
    "tr", "td", "th", "thead", "tbody", "tfoot", "colgroup", "caption",
];

/// The Readability algorithm's article, as an [`ArticleText`].
fn readability(html: &str, url: &str) -> Option<ArticleText> {
    let config = dom_smoothie::Config {
        max_elements_to_parse: MAX_ELEMENTS,
        text_mode: dom_smoothie::TextMode::Formatted,
        ..Default::default()
    };
    let mut readability = dom_smoothie::Readability::new(html, Some(url), Some(config)).ok()?;
    let article = readability.parse().ok()?;
    let paragraphs: Vec<String> = article
        .text_content
        .lines()
        .map(collapse_whitespace)
        .filter(|p| !p.is_empty())
        .collect();
    let title = collapse_whitespace(&article.title);
    if paragraphs.is_empty() && title.is_empty() {
        return None;
    }
    Some(ArticleText::new(
        title,
        article.byline.as_deref().map(collapse_whitespace),
        article.published_time.as_deref().map(collapse_whitespace),
        paragraphs,
    ))
}

/// Runs of whitespace (no-break spaces and ideographic spaces included) as one space, trimmed;
/// control characters left out (an archived `&#27;` would drive the terminal a diff prints to).
fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace()
        .map(|word| word.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEWS: &str = r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Talks end without a deal | World | The Daily</title>
<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle",
"headline":"Talks end without a deal","datePublished":"2023-03-22T00:08:00+08:00",
"author":{"@type":"Person","name":"Jane Reporter"}}</script></head>
<body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Talks end without a deal</h1>
<p>The two leaders met for four hours on Tuesday and&nbsp;agreed on little, officials said.</p>
<p>Both sides described the meeting as  frank and said further talks would follow within weeks.</p>
<p>Observers said the absence of a joint statement was telling, as earlier summits had ended with one.</p>
</article><aside class="related"><a href="/a">Related one</a><a href="/b">Related two</a></aside>
<footer>Copyright The Daily</footer></body></html>"#;

    #[test]
    fn an_article_gives_its_title_byline_date_and_paragraphs_without_the_page_around_it() {
        let text = ArticleText::extract(NEWS, "https://daily.example/world/talks").unwrap();
        assert_eq!(text.title, "Talks end without a deal");
        assert_eq!(text.byline.as_deref(), Some("Jane Reporter"));
        assert_eq!(text.published.as_deref(), Some("2023-03-22T00:08:00+08:00"));
        assert_eq!(text.paragraphs.len(), 3, "{:?}", text.paragraphs);
        assert_eq!(
            text.paragraphs[0],
            "The two leaders met for four hours on Tuesday and agreed on little, officials said."
        );
        assert!(
            text.paragraphs[1].contains("as frank and"),
            "{:?}",
            text.paragraphs[1]
        );
        let all = text.paragraphs.join("\n");
        for chrome in ["Home", "Related one", "Copyright"] {
            assert!(!all.contains(chrome), "{chrome} in {all}");
        }
    }

    #[test]
    fn the_text_digest_ignores_markup_and_notices_words() {
        let text = ArticleText::extract(NEWS, "https://daily.example/world/talks").unwrap();
        let restyled = NEWS.replace("<article>", "<article class=\"v2\" data-ad=\"slot-9\">");
        let same = ArticleText::extract(&restyled, "https://daily.example/world/talks").unwrap();
        assert_eq!(text.digest(), same.digest());
        let edited = NEWS.replace("four hours", "five hours");
        let other = ArticleText::extract(&edited, "https://daily.example/world/talks").unwrap();
        assert_ne!(text.digest(), other.digest());
    }

    #[test]
    fn a_page_the_extractor_panics_on_has_no_text_and_ends_nothing() {
        let html = "<title>Video</title><article><p>A paragraph of the article that is long enough to be read as one by the reader view.</p><iframe title=\"中youtube.com\" src=\"https://www.youtube.com/embed/x\"></iframe><p>Another paragraph of the article, as long, so that the article is read.</p></article>";
        let text = ArticleText::extract(html, "https://video.example/");
        if let Some(text) = text {
            assert_eq!(text.title, "Video");
        }
        let escape = ArticleText::extract(
            "<title>Bell\u{1b}[2J</title><article><p>Text \u{1b}]0;owned\u{7} with control characters in it, long enough to be an article paragraph.</p></article>",
            "https://esc.example/",
        )
        .unwrap();
        assert!(!format!("{escape:?}").contains('\u{1b}'), "{escape:?}");
    }

    #[test]
    fn hostile_nesting_is_read_without_overflowing_the_stack() {
        for depth in [600, 200_000] {
            let html = format!(
                "<title>Deep</title><article><p>{}Deep text, a sentence long enough to count as an article paragraph for the reader.{}</p></article>",
                "<div><span>".repeat(depth),
                "</span></div>".repeat(depth)
            );
            // On a thread with a test thread's small stack, as the crawl's rayon workers have.
            let text = std::thread::Builder::new()
                .stack_size(2 << 20)
                .spawn(move || ArticleText::extract(&html, "https://deep.example/"))
                .unwrap()
                .join()
                .expect("no overflow, no panic");
            assert!(text.is_none(), "{depth} levels are not read");
        }
        // Unclosed paragraphs and list items open no level, as they parse.
        let flat = format!(
            "<title>Flat</title><article>{}</article>",
            "<p>Some words of a paragraph, long enough to count as text for the reader view.<ul><li>one<li>two</ul>".repeat(2000)
        );
        assert!(ArticleText::extract(&flat, "https://flat.example/").is_some());
    }

    #[test]
    fn the_seed_article_reads_as_its_chinese_paragraphs() {
        let html = crate::demo::site::article_html();
        let text = ArticleText::extract(&html, crate::demo::site::ARTICLE).unwrap();
        assert!(
            text.title.contains("習蒲強調通過和談解決烏克蘭危機"),
            "{}",
            text.title
        );
        assert!(text.paragraphs.len() >= 3, "{:?}", text.paragraphs);
        assert!(text.words() > 200, "{}", text.words());
    }
}
