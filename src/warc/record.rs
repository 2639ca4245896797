//! The record model shared by the reader and the writer: record types, the ordered header, WARC
//! dates and record IDs.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The WARC/1.1 record types (section 6), plus whatever else a foreign file names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RecordType {
    Warcinfo,
    Response,
    Resource,
    Request,
    Metadata,
    Revisit,
    Conversion,
    Continuation,
    Other(String),
}

impl RecordType {
    pub fn parse(s: &str) -> RecordType {
        match s.to_ascii_lowercase().as_str() {
            "warcinfo" => RecordType::Warcinfo,
            "response" => RecordType::Response,
            "resource" => RecordType::Resource,
            "request" => RecordType::Request,
            "metadata" => RecordType::Metadata,
            "revisit" => RecordType::Revisit,
            "conversion" => RecordType::Conversion,
            "continuation" => RecordType::Continuation,
            _ => RecordType::Other(s.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            RecordType::Warcinfo => "warcinfo",
            RecordType::Response => "response",
            RecordType::Resource => "resource",
            RecordType::Request => "request",
            RecordType::Metadata => "metadata",
            RecordType::Revisit => "revisit",
            RecordType::Conversion => "conversion",
            RecordType::Continuation => "continuation",
            RecordType::Other(s) => s,
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A record's header: the version line and the named fields in the order they were written.
///
/// An ordered list, never a map: the same record must always serialize to the same bytes, and
/// a foreign record is reported with its fields as they stood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// `WARC/1.0` or `WARC/1.1`.
    pub version: String,
    pub fields: Vec<(String, String)>,
}

impl Header {
    pub fn new(version: &str) -> Header {
        Header {
            version: version.to_string(),
            fields: Vec::new(),
        }
    }

    /// The first value of a field, by case-insensitive name (WARC field names are
    /// case-insensitive, section 4).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        self.fields.push((name.to_string(), value.into()));
    }

    pub fn record_type(&self) -> Option<RecordType> {
        self.get("WARC-Type").map(RecordType::parse)
    }

    pub fn content_length(&self) -> Option<u64> {
        self.get("Content-Length")?.trim().parse().ok()
    }

    /// Whether the block is an HTTP message (`Content-Type: application/http`), whose payload
    /// starts after the HTTP header's blank line.
    pub fn holds_http(&self) -> bool {
        self.get("Content-Type").is_some_and(is_http_content_type)
    }

    /// `WARC-Target-URI`, without the angle brackets WARC/1.0 writers such as wget put around it.
    pub fn target_uri(&self) -> Option<&str> {
        let uri = self.get("WARC-Target-URI")?.trim();
        Some(
            uri.strip_prefix('<')
                .and_then(|u| u.strip_suffix('>'))
                .unwrap_or(uri),
        )
    }

    /// The serialized header, up to and including the blank line that ends it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.fields.len() * 48);
        out.extend_from_slice(self.version.as_bytes());
        out.extend_from_slice(b"\r\n");
        for (name, value) in &self.fields {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}

/// `WARC-Date` with sub-second precision, as WARC/1.1 section 5.4 allows:
/// `2023-03-22T00:08:00.123456Z`.
pub fn format_warc_date(date: OffsetDateTime) -> String {
    let d = date.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        d.year(),
        u8::from(d.month()),
        d.day(),
        d.hour(),
        d.minute(),
        d.second(),
        d.microsecond()
    )
}

/// Parses a `WARC-Date` in any precision WARC/1.0 or 1.1 writers use.
pub fn parse_warc_date(value: &str) -> Option<OffsetDateTime> {
    let value = value.trim();
    if let Ok(d) = OffsetDateTime::parse(value, &Rfc3339) {
        return Some(d);
    }
    // Dates without seconds or with only a date part are legal W3C-DTF forms (section 5.4).
    let padded = match value.len() {
        10 => format!("{value}T00:00:00Z"),
        17 => format!("{}:00Z", value.get(..16)?),
        _ => return None,
    };
    OffsetDateTime::parse(&padded, &Rfc3339).ok()
}

/// The 14-digit timestamp CDX(J) and pywb URLs use (`YYYYMMDDhhmmss`), from a `WARC-Date`.
pub fn timestamp14(value: &str) -> Option<String> {
    parse_warc_date(value).map(timestamp14_of)
}

/// The time a CDX(J) timestamp names: 14 digits, or fewer as pywb takes them (`2023` is
/// 2023-01-01 00:00:00): a missing month or day is the first, missing time digits are zero.
pub fn parse_timestamp14(ts: &str) -> Option<OffsetDateTime> {
    if ts.is_empty() || ts.len() > 14 || !ts.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut padded = format!("{ts:0<14}").into_bytes();
    if ts.len() <= 4 {
        padded[4..8].copy_from_slice(b"0101");
    } else if ts.len() <= 6 {
        padded[6..8].copy_from_slice(b"01");
    }
    let padded = String::from_utf8(padded).ok()?;
    let n = |r: std::ops::Range<usize>| padded.get(r)?.parse::<u32>().ok();
    let date = time::Date::from_calendar_date(
        n(0..4)? as i32,
        time::Month::try_from(n(4..6)? as u8).ok()?,
        n(6..8)? as u8,
    )
    .ok()?;
    let t = time::Time::from_hms(n(8..10)? as u8, n(10..12)? as u8, n(12..14)? as u8).ok()?;
    Some(date.with_time(t).assume_utc())
}

pub fn timestamp14_of(date: OffsetDateTime) -> String {
    let d = date.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        d.year(),
        u8::from(d.month()),
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    )
}

/// The one test of whether a `Content-Type` names an HTTP message block (`application/http;
/// msgtype=response`), for the writer, the reader and the indexer alike.
pub fn is_http_content_type(content_type: &str) -> bool {
    content_type
        .trim_start()
        .get(..16)
        .is_some_and(|t| t.eq_ignore_ascii_case("application/http"))
}

/// Where `WARC-Date`s come from: the system clock, or in tests a clock that ticks by a fixed
/// step from a fixed start, so that records compare byte for byte and no test waits for a new
/// second.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> OffsetDateTime + Send + Sync>);

impl Clock {
    pub fn system() -> Clock {
        Clock(Arc::new(OffsetDateTime::now_utc))
    }

    /// `start`, then `start + step`, `start + 2 * step`, ... on each call.
    pub fn ticking(start: OffsetDateTime, step: time::Duration) -> Clock {
        let ticks = AtomicU64::new(0);
        Clock(Arc::new(move || {
            let n = ticks.fetch_add(1, Ordering::Relaxed);
            start + step * n.min(i32::MAX as u64) as i32
        }))
    }

    pub fn now(&self) -> OffsetDateTime {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}

/// Where `WARC-Record-ID`s come from: random UUID URNs (section 5.2), or in tests a sequence.
#[derive(Clone)]
pub struct RecordIds(Arc<dyn Fn() -> String + Send + Sync>);

impl RecordIds {
    pub fn random() -> RecordIds {
        RecordIds(Arc::new(|| format!("<urn:uuid:{}>", uuid::Uuid::new_v4())))
    }

    /// `<urn:uuid:00000000-0000-4000-8000-000000000001>`, then `...002`, ...
    pub fn sequential() -> RecordIds {
        let n = AtomicU64::new(0);
        RecordIds(Arc::new(move || {
            let n = n.fetch_add(1, Ordering::Relaxed) + 1;
            format!("<urn:uuid:00000000-0000-4000-8000-{n:012}>")
        }))
    }

    pub fn next(&self) -> String {
        (self.0)()
    }
}

impl Default for RecordIds {
    fn default() -> RecordIds {
        RecordIds::random()
    }
}

impl fmt::Debug for RecordIds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecordIds")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_with_microseconds() {
        let d = parse_warc_date("2023-03-22T00:08:00.123456Z").unwrap();
        assert_eq!(format_warc_date(d), "2023-03-22T00:08:00.123456Z");
        assert_eq!(
            timestamp14("2023-03-22T00:08:00Z").as_deref(),
            Some("20230322000800")
        );
        assert_eq!(timestamp14("2023-03-22").as_deref(), Some("20230322000000"));
        assert_eq!(timestamp14("yesterday"), None);
        // Found by fuzzing: a 17-byte value with a character across byte 16 panicked.
        assert_eq!(parse_warc_date("2023-03-22T00:\u{8a62}"), None);
    }

    #[test]
    fn injected_clocks_tick_and_ids_count() {
        let start = time::macros::datetime!(2023-03-22 00:08:00 UTC);
        let clock = Clock::ticking(start, time::Duration::seconds(1));
        assert_eq!(
            (clock.now(), clock.clone().now()),
            (start, start + time::Duration::seconds(1))
        );
        let ids = RecordIds::sequential();
        assert_eq!(
            ids.next(),
            "<urn:uuid:00000000-0000-4000-8000-000000000001>"
        );
        assert!(is_http_content_type("Application/HTTP; msgtype=response"));
        assert!(!is_http_content_type("text/html"));
    }

    #[test]
    fn header_lookup_is_case_insensitive_and_strips_brackets() {
        let mut h = Header::new("WARC/1.0");
        h.push("WARC-Target-URI", "<http://example.com/>");
        h.push("content-length", "12");
        assert_eq!(h.target_uri(), Some("http://example.com/"));
        assert_eq!(h.content_length(), Some(12));
    }
}
