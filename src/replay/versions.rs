//! The versions of one URL, as a reader watching an article wants them:
//!
//! - `/COLL/*/URL` (pywb's capture query): the captures as a calendar of months, each day
//!   with captures a link, and a timeline marking each capture whose article text changed,
//!   with a form to compare any two;
//! - `/COLL/diff/FROM/TO/URL` and `/COLL/diff/side/FROM/TO/URL`: what changed between the
//!   captures nearest to two times, inline or side by side;
//! - the note the replay banner carries: "3 versions, text changed 2 h ago".
//!
//! Plain server-rendered HTML and CSS, no script and no external asset, so the pages work
//! with JavaScript off and under the server's own fence. Texts the collection lacks are made
//! when a page asks for them and appended to `texts.jsonl` when no other process holds the
//! collection; replay holds only the texts' digests, so its memory does not grow with them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use time::{Date, Month, OffsetDateTime, Weekday};

use super::Loaded;
use super::capture::archive_path;
use super::pages::{escape, html_page, plain};
use crate::article::counted;
use crate::article::diff::{Paragraph, Span, SpanKind, TextDiff};
use crate::article::history::{
    Comparison, History, HistoryError, TextChange, Version, readable_timestamp,
};
use crate::article::texts::{Texts, is_page};
use crate::warc::record::parse_timestamp14;

/// How a comparison is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Inline,
    SideBySide,
}

const STYLE: &str = "
h1{font-size:1.5em;margin-bottom:.2em}.url{color:#555;word-break:break-all;margin-top:0}
.months{display:flex;flex-wrap:wrap;gap:1em;margin:1em 0}
.month{border-collapse:collapse;font-size:13px}.month caption{font-weight:bold;padding:.2em}
.month td,.month th{width:2em;height:2em;text-align:center;padding:0}
.month td.has a{display:block;line-height:2em;background:#dbe8f6;border-radius:50%;text-decoration:none;color:#123}
.month td.changed a{background:#f5b94a;color:#000}
.timeline{border-collapse:collapse;width:100%}.timeline td,.timeline th{padding:.3em .5em;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
.mark{font-size:12px;padding:.1em .5em;border-radius:.8em;background:#eee;white-space:nowrap}
.mark.changed{background:#f5b94a}.mark.first{background:#cfe3c8}
del{background:#fdd;color:#900;text-decoration:line-through}ins{background:#dfd;color:#060;text-decoration:none}
p.added{border-left:4px solid #4a4;padding-left:.6em}p.removed{border-left:4px solid #c44;padding-left:.6em}
p.changed{border-left:4px solid #f5b94a;padding-left:.6em}p.same{color:#444}
.side{border-collapse:collapse;width:100%;table-layout:fixed}.side td{vertical-align:top;padding:.3em .6em;border-bottom:1px solid #eee}
.side th{text-align:left}.legend{color:#555;font-size:13px}nav a{margin-right:1em}
";

/// `/COLL/*/URL`: every capture of the URL, as a calendar and a timeline.
pub fn calendar(loaded: &Loaded, url: &str) -> Response {
    let collection = loaded.collection.name().as_str();
    let (history, _) = match loaded.history(url) {
        Ok(read) => read,
        Err(error) => return history_error(&error),
    };
    let title = history
        .with_text()
        .last()
        .and_then(|v| v.title.clone())
        .unwrap_or_else(|| history.url.clone());
    let mut body = String::new();
    let _ = write!(
        body,
        "<nav><a href=\"/{c}/\">{c}</a></nav><h1>{}</h1><p class=url>{}</p><p>{} from {} to {}; the article text changed {}.</p>",
        escape(&title),
        escape(&history.url),
        counted(history.versions.len(), "capture"),
        readable_timestamp(&history.versions[0].timestamp),
        readable_timestamp(&history.versions[history.versions.len() - 1].timestamp),
        history.changes_said(),
        c = escape(collection),
    );
    body.push_str(&months(collection, &history));
    body.push_str(&timeline(collection, &history));
    html_page(
        &format!("Versions of {title}"),
        &format!("<style>{STYLE}</style>{body}"),
    )
}

/// The captures of one day.
struct Day<'h> {
    count: usize,
    changed: bool,
    first: &'h Version,
}

/// A calendar of the months with captures: each day with captures links to its first, and
/// is marked when one of them changed the text.
fn months(collection: &str, history: &History) -> String {
    let mut days: BTreeMap<Date, Day<'_>> = BTreeMap::new();
    for version in &history.versions {
        let Some(date) = parse_timestamp14(&version.timestamp).map(|t| t.date()) else {
            continue;
        };
        let day = days.entry(date).or_insert(Day {
            count: 0,
            changed: false,
            first: version,
        });
        day.count += 1;
        day.changed |= version.text == TextChange::Changed;
    }
    let months: BTreeSet<(i32, Month)> = days.keys().map(|d| (d.year(), d.month())).collect();
    let mut out = String::from("<div class=months>");
    for (year, month) in months {
        out.push_str(&month_table(collection, year, month, &days));
    }
    out.push_str("</div><p class=legend>Blue: captured that day. Orange: the article text changed that day.</p>");
    out
}

/// One month's table, Monday first.
fn month_table(
    collection: &str,
    year: i32,
    month: Month,
    days: &BTreeMap<Date, Day<'_>>,
) -> String {
    let mut out = format!(
        "<table class=month><caption>{month} {year}</caption><tr><th>Mo</th><th>Tu</th><th>We</th><th>Th</th><th>Fr</th><th>Sa</th><th>Su</th></tr><tr>"
    );
    let Ok(first) = Date::from_calendar_date(year, month, 1) else {
        return String::new();
    };
    out.push_str(&"<td></td>".repeat(first.weekday().number_days_from_monday() as usize));
    for day in 1..=month.length(year) {
        let Ok(date) = Date::from_calendar_date(year, month, day) else {
            continue;
        };
        if date.weekday() == Weekday::Monday && day > 1 {
            out.push_str("</tr><tr>");
        }
        let _ = match days.get(&date) {
            Some(captured) => write!(
                out,
                "<td class=\"has{}\"><a href=\"{}\" title=\"{} captures{}\">{day}</a></td>",
                if captured.changed { " changed" } else { "" },
                escape(&archive_path(
                    collection,
                    &captured.first.timestamp,
                    &captured.first.url
                )),
                captured.count,
                if captured.changed {
                    ", text changed"
                } else {
                    ""
                }
            ),
            None => write!(out, "<td>{day}</td>"),
        };
    }
    out.push_str("</tr></table>");
    out
}

/// Every capture in a table, with what its text did and a form comparing any two.
fn timeline(collection: &str, history: &History) -> String {
    let (from, to) = history
        .last_change()
        .map(|(a, b)| (a.timestamp.clone(), b.timestamp.clone()))
        .unwrap_or_default();
    let mut previous_text: Option<&Version> = None;
    let mut rows = String::new();
    for version in &history.versions {
        let has_text = version.text_digest.is_some();
        let radio = |name: &str, checked: bool| {
            if has_text {
                format!(
                    "<input type=radio name={name} value=\"{}\"{} aria-label=\"{name} {}\">",
                    version.timestamp,
                    if checked { " checked" } else { "" },
                    version.timestamp
                )
            } else {
                String::new()
            }
        };
        let mark = match version.text {
            TextChange::First => "<span class=\"mark first\">first text</span>".to_string(),
            TextChange::Changed => format!(
                "<span class=\"mark changed\">text changed</span> <a href=\"{}\">what changed</a>",
                escape(&diff_href(
                    collection,
                    Layout::Inline,
                    previous_text.map_or("", |v| &v.timestamp),
                    &version.timestamp,
                    &history.url
                ))
            ),
            TextChange::Unchanged => "<span class=mark>same text</span>".to_string(),
            TextChange::NoText => "<span class=mark>no article text</span>".to_string(),
            TextChange::Unreadable => "<span class=mark>unreadable</span>".to_string(),
        };
        let _ = write!(
            rows,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{mark}</td><td>{}</td></tr>",
            if version.text == TextChange::Changed {
                "changed"
            } else {
                ""
            },
            radio("from", version.timestamp == from),
            radio("to", version.timestamp == to),
            escape(&archive_path(collection, &version.timestamp, &version.url)),
            readable_timestamp(&version.timestamp),
            version.status.map_or("-".to_string(), |s| s.to_string()),
            if version.revisit { "revisit" } else { "stored" },
            escape(version.title.as_deref().unwrap_or("")),
        );
        if has_text {
            previous_text = Some(version);
        }
    }
    format!(
        "<h2>Timeline</h2><form action=\"/{c}/diff\" method=get><input type=hidden name=url value=\"{u}\">\
         <table class=timeline><tr><th>From</th><th>To</th><th>Captured (UTC)</th><th>Status</th><th>Payload</th><th>Text</th><th>Title</th></tr>{rows}</table>\
         <p><button>Compare the chosen versions</button> <label><input type=checkbox name=view value=side> side by side</label></p></form>",
        c = escape(collection),
        u = escape(&history.url),
    )
}

/// `/COLL/diff[/side]/FROM/TO/URL`: what changed between the captures with a text nearest to
/// FROM and TO.
pub fn comparison(loaded: &Loaded, layout: Layout, from: &str, to: &str, url: &str) -> Response {
    let collection = loaded.collection.name().as_str();
    let (history, texts) = match loaded.history(url) {
        Ok(read) => read,
        Err(error) => return history_error(&error),
    };
    let (older, newer) = match (history.nearest(from), history.nearest(to)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(error), _) | (_, Err(error)) => return history_error(&error),
    };
    let Some(comparison) = Comparison::between(&texts, &history.url, older, newer) else {
        return plain(StatusCode::NOT_FOUND, "no article text to compare");
    };
    let diff = &comparison.diff;
    let (added, removed, changed) = diff.counts();
    let other_layout = match layout {
        Layout::Inline => ("side by side", Layout::SideBySide),
        Layout::SideBySide => ("inline", Layout::Inline),
    };
    let mut body = format!(
        "<nav><a href=\"/{c}/\">{c}</a><a href=\"{all}\">all versions</a><a href=\"{other}\">{other_name}</a></nav>\
         <h1>{title}</h1><p class=url>{u}</p>\
         <p>From <a href=\"{a_href}\">{a}</a> to <a href=\"{b_href}\">{b}</a>: {summary}</p>",
        c = escape(collection),
        all = escape(&format!("/{collection}/*/{}", history.url)),
        other = escape(&diff_href(
            collection,
            other_layout.1,
            &older.timestamp,
            &newer.timestamp,
            &history.url
        )),
        other_name = other_layout.0,
        title = escape(&comparison.to.text.title),
        u = escape(&history.url),
        a_href = escape(&archive_path(collection, &older.timestamp, &older.url)),
        a = readable_timestamp(&older.timestamp),
        b_href = escape(&archive_path(collection, &newer.timestamp, &newer.url)),
        b = readable_timestamp(&newer.timestamp),
        summary = if diff.is_empty() {
            "the texts are the same.".to_string()
        } else {
            format!(
                "{} added, {removed} removed, {changed} changed{}.",
                counted(added, "paragraph"),
                if diff.title.is_some() {
                    ", the title changed"
                } else {
                    ""
                }
            )
        },
    );
    for (name, spans) in [("Title", &diff.title), ("Byline", &diff.byline)] {
        if let Some(spans) = spans {
            let _ = write!(
                body,
                "<p class=changed><b>{name}:</b> {}</p>",
                marked(spans)
            );
        }
    }
    body.push_str(&match layout {
        Layout::Inline => inline(diff),
        Layout::SideBySide => side_by_side(diff),
    });
    html_page(
        &format!("What changed: {}", comparison.to.text.title),
        &format!("<style>{STYLE}</style>{body}"),
    )
}

/// Both texts as one, removed words struck through and added words underlined.
fn inline(diff: &TextDiff) -> String {
    let mut out = String::from("<article class=inline>");
    for paragraph in &diff.paragraphs {
        let _ = match paragraph {
            Paragraph::Same { text, .. } => write!(out, "<p class=same>{}</p>", escape(text)),
            Paragraph::Added { text, .. } => {
                write!(out, "<p class=added><ins>{}</ins></p>", escape(text))
            }
            Paragraph::Removed { text, .. } => {
                write!(out, "<p class=removed><del>{}</del></p>", escape(text))
            }
            Paragraph::Changed { words, .. } => {
                write!(out, "<p class=changed>{}</p>", marked(words))
            }
        };
    }
    out.push_str("</article>");
    out
}

/// The older text on the left, the newer on the right, paragraph beside paragraph.
fn side_by_side(diff: &TextDiff) -> String {
    let mut out = String::from("<table class=side><tr><th>Before</th><th>After</th></tr>");
    for paragraph in &diff.paragraphs {
        let (old, new) = match paragraph {
            Paragraph::Same { text, .. } => (escape(text), escape(text)),
            Paragraph::Added { text, .. } => {
                (String::new(), format!("<ins>{}</ins>", escape(text)))
            }
            Paragraph::Removed { text, .. } => {
                (format!("<del>{}</del>", escape(text)), String::new())
            }
            Paragraph::Changed { words, .. } => (
                side_of(words, SpanKind::Added),
                side_of(words, SpanKind::Removed),
            ),
        };
        let _ = write!(out, "<tr><td>{old}</td><td>{new}</td></tr>");
    }
    out.push_str("</table>");
    out
}

/// One side of a changed paragraph: every span but those of `left_out`.
fn side_of(spans: &[Span], left_out: SpanKind) -> String {
    let kept: Vec<Span> = spans
        .iter()
        .filter(|s| s.kind != left_out)
        .cloned()
        .collect();
    marked(&kept)
}

fn marked(spans: &[Span]) -> String {
    spans
        .iter()
        .map(|s| match s.kind {
            SpanKind::Same => escape(&s.text),
            SpanKind::Removed => format!("<del>{}</del>", escape(&s.text)),
            SpanKind::Added => format!("<ins>{}</ins>", escape(&s.text)),
        })
        .collect()
}

/// `/COLL/diff?url=..&from=..&to=..[&view=side]`, what the timeline's form sends: a
/// redirect to the comparison's own address.
pub fn comparison_form(collection: &str, query: Option<&str>) -> Response {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let (Some(url), Some(from), Some(to)) = (get("url"), get("from"), get("to")) else {
        return plain(
            StatusCode::BAD_REQUEST,
            "choose two versions to compare (from and to)",
        );
    };
    let layout = if get("view") == Some("side") {
        Layout::SideBySide
    } else {
        Layout::Inline
    };
    let digits = |t: &str| (1..=14).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit());
    // Serialized as a URL, so it goes into `Location` whatever characters it was sent with.
    let url = url::Url::parse(url).map(String::from);
    let (true, true, Ok(url)) = (digits(from), digits(to), url) else {
        return plain(
            StatusCode::BAD_REQUEST,
            "from and to are timestamps, url an absolute URL",
        );
    };
    let location = diff_href(collection, layout, from, to, &url);
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

/// The banner's note on a URL's versions: "3 versions, text changed 2 h ago" from the texts
/// known now (the banner makes none), or "3 versions"; `None` for a URL captured once.
pub fn banner_note(loaded: &Loaded, url: &str, now: OffsetDateTime) -> Option<String> {
    let captures = loaded.index.captures_of(url);
    if captures.len() < 2 {
        return None;
    }
    let versions = format!("{} versions", captures.len());
    // A versions page learning digests holds them a moment: the page goes without the change.
    let Ok(digests) = loaded.digests.try_lock() else {
        return Some(versions);
    };
    let mut last_change = None;
    let mut previous: Option<&str> = None;
    for capture in captures.iter().filter(|c| is_page(c)) {
        let Some(Some(digest)) = digests.get(capture) else {
            continue;
        };
        if previous.is_some_and(|p| p != digest) {
            last_change = Some(capture.seconds);
        }
        previous = Some(digest);
    }
    Some(match last_change {
        Some(seconds) => format!(
            "{versions}, text changed {}",
            ago(now.unix_timestamp() - seconds)
        ),
        None => versions,
    })
}

/// "2 h ago", as a reader glances at it.
fn ago(seconds: i64) -> String {
    match seconds {
        s if s < 60 => "just now".to_string(),
        s if s < 3600 => format!("{} min ago", s / 60),
        s if s < 48 * 3600 => format!("{} h ago", s / 3600),
        s if s < 60 * 86400 => format!("{} days ago", s / 86400),
        s if s < 730 * 86400 => format!("{} months ago", s / (30 * 86400)),
        s => format!("{} years ago", s / (365 * 86400)),
    }
}

pub fn versions_href(collection: &str, url: &str) -> String {
    format!("/{collection}/*/{url}")
}

fn diff_href(collection: &str, layout: Layout, from: &str, to: &str, url: &str) -> String {
    let side = match layout {
        Layout::Inline => "",
        Layout::SideBySide => "side/",
    };
    format!("/{collection}/diff/{side}{from}/{to}/{url}")
}

fn history_error(error: &HistoryError) -> Response {
    match error {
        HistoryError::Collection(error) => {
            tracing::error!(%error, "reading a URL's versions");
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the captures could not be read",
            )
        }
        HistoryError::BadTimestamp(_) => plain(StatusCode::BAD_REQUEST, &error.to_string()),
        _ => plain(StatusCode::NOT_FOUND, &error.to_string()),
    }
}

impl Loaded {
    /// The URL's history and its captures' texts: read from `texts.jsonl`, those missing made
    /// now and kept there when no other process holds the collection (else made again next
    /// time), their digests kept in memory for the banner.
    fn history(&self, url: &str) -> Result<(History, Texts), HistoryError> {
        let captures = self.index.captures_of(url);
        let mut texts = Texts::load_for(&self.collection, &captures)?;
        let history = History::of(&self.collection, &self.index, &mut texts, url)?;
        match self.collection.try_lock() {
            Ok(Some(lock)) => {
                if let Err(error) = texts.save(&self.collection, &lock) {
                    tracing::warn!(%error, "keeping the article texts");
                }
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "keeping the article texts"),
        }
        self.digests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .learn(&texts);
        Ok((history, texts))
    }
}
