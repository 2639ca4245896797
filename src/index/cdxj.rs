//! One CDXJ line, typed: `SURT TIMESTAMP {json}`, the JSON fields in the order and the form
//! pywb and cdxj-indexer write them (`status`, `length` and `offset` as strings), read back
//! from strings or numbers, as other tools write either.

use std::{fmt, io};

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::surt::surt;
use crate::warc::record::parse_timestamp14;

/// One capture of the index: where a response, revisit, resource or metadata record lies, and
/// what replay needs to know of it without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// The SURT form of `url`, the index's sort key.
    pub urlkey: String,
    /// `YYYYMMDDhhmmss` (pywb takes fewer digits too).
    pub timestamp: String,
    /// Seconds since the epoch of `timestamp`.
    pub seconds: i64,
    pub url: String,
    /// The payload's media type, without parameters; `warc/revisit` for a revisit.
    pub mime: Option<String>,
    pub status: Option<u16>,
    pub digest: Option<String>,
    /// Bytes from `offset` to the end of the record's compressed member, or of its block.
    pub length: u64,
    pub offset: u64,
    /// The WARC file, by name, in the collection's WARC folder.
    pub filename: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LineError {
    #[error("expected SURT, timestamp and JSON separated by spaces")]
    Shape,
    #[error("timestamp {0:?} is not a date")]
    Timestamp(String),
    #[error("{0}")]
    Json(#[from] serde_json::Error),
}

/// The JSON part as written, fields in pywb's order.
#[derive(Serialize)]
struct Written<'a> {
    url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    mime: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<&'a str>,
    length: String,
    offset: String,
    filename: &'a str,
}

/// The JSON part as read: numbers as strings or numbers; a status of `-` is none.
#[derive(Deserialize)]
struct Read {
    url: String,
    #[serde(default)]
    mime: Option<String>,
    #[serde(default, deserialize_with = "optional_number")]
    status: Option<u16>,
    #[serde(default)]
    digest: Option<String>,
    #[serde(deserialize_with = "number")]
    length: u64,
    #[serde(deserialize_with = "number")]
    offset: u64,
    filename: String,
}

impl Capture {
    /// A capture of `url` at `timestamp` (14 digits), its SURT key and seconds computed.
    pub fn new(url: String, timestamp: String) -> Option<Capture> {
        let seconds = parse_timestamp14(&timestamp)?.unix_timestamp();
        Some(Capture {
            urlkey: surt(&url),
            timestamp,
            seconds,
            url,
            mime: None,
            status: None,
            digest: None,
            length: 0,
            offset: 0,
            filename: String::new(),
        })
    }

    pub fn is_revisit(&self) -> bool {
        self.mime.as_deref() == Some("warc/revisit")
    }

    /// The payload's sha256, when the digest is one (`sha256:` and hex, as cairn writes it).
    pub fn sha256(&self) -> Option<[u8; 32]> {
        let hex = self.digest.as_deref()?.strip_prefix("sha256:")?;
        let bytes = data_encoding::HEXLOWER_PERMISSIVE
            .decode(hex.as_bytes())
            .ok()?;
        bytes.try_into().ok()
    }

    pub fn to_line(&self) -> String {
        let fields = Written {
            url: &self.url,
            mime: self.mime.as_deref(),
            status: self.status.map(|s| s.to_string()),
            digest: self.digest.as_deref(),
            length: self.length.to_string(),
            offset: self.offset.to_string(),
            filename: &self.filename,
        };
        let mut line = format!("{} {} ", self.urlkey, self.timestamp).into_bytes();
        let mut json = serde_json::Serializer::with_formatter(&mut line, AsciiJson);
        fields.serialize(&mut json).expect("CDXJ fields serialize");
        String::from_utf8(line).expect("a key and JSON of UTF-8")
    }

    pub fn parse(line: &str) -> Result<Capture, LineError> {
        let (urlkey, rest) = line.split_once(' ').ok_or(LineError::Shape)?;
        let (timestamp, json) = rest.split_once(' ').ok_or(LineError::Shape)?;
        let seconds = parse_timestamp14(timestamp)
            .ok_or_else(|| LineError::Timestamp(timestamp.to_string()))?
            .unix_timestamp();
        let read: Read = serde_json::from_str(json)?;
        Ok(Capture {
            urlkey: urlkey.to_string(),
            timestamp: timestamp.to_string(),
            seconds,
            url: read.url,
            mime: read.mime,
            status: read.status,
            digest: read.digest,
            length: read.length,
            offset: read.offset,
            filename: read.filename,
        })
    }
}

/// serde_json's compact JSON with every character outside ASCII (and DEL) escaped as `\uXXXX`
/// (UTF-16, lowercase hex), as Python's `json.dumps` writes by default, so a `url` is written
/// byte for byte as cdxj-indexer writes it (`caf\u00e9`), and the index is ASCII.
struct AsciiJson;

impl serde_json::ser::Formatter for AsciiJson {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut plain_from = 0;
        for (at, c) in fragment.char_indices() {
            if c.is_ascii() && c != '\x7f' {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[plain_from..at])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            plain_from = at + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[plain_from..])
    }
}

/// A number as index writers give one: a JSON number, or a string of one, whose parse may
/// fail (a required field then fails, an optional one is none). Read straight from the JSON,
/// without the buffering an untagged enum costs: every index line read goes through here.
struct Number(Result<u64, std::num::ParseIntError>);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Number, D::Error> {
        struct NumberOrString;

        impl Visitor<'_> for NumberOrString {
            type Value = Number;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number, or a string of one")
            }

            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Number, E> {
                Ok(Number(Ok(n)))
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Number, E> {
                Ok(Number(s.trim().parse()))
            }
        }

        d.deserialize_any(NumberOrString)
    }
}

fn number<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Number::deserialize(d)?.0.map_err(de::Error::custom)
}

fn optional_number<'de, D: Deserializer<'de>, T: TryFrom<u64>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Ok(Option::<Number>::deserialize(d)?
        .and_then(|n| n.0.ok())
        .and_then(|n| T::try_from(n).ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_and_read_what_other_tools_write() {
        let line = r#"com,cna,www)/news/aopl/202303220008.aspx 20230322000800 {"url":"https://www.cna.com.tw/news/aopl/202303220008.aspx","mime":"text/html","status":"200","digest":"sha256:ab","length":"123","offset":"0","filename":"a.warc.zst"}"#;
        let capture = Capture::parse(line).unwrap();
        assert_eq!(
            (capture.status, capture.length, capture.offset),
            (Some(200), 123, 0)
        );
        assert_eq!(capture.to_line(), line);
        let numbers = r#"com,example)/ 2023 {"url":"https://example.com/","status":"-","length":5,"offset":7,"filename":"b.warc.gz"}"#;
        let capture = Capture::parse(numbers).unwrap();
        assert_eq!(
            (capture.status, capture.length, capture.offset),
            (None, 5, 7)
        );
        assert!(Capture::parse("com,example)/ 20231399000000 {}").is_err());
        assert!(Capture::parse("no-json-here").is_err());
    }

    #[test]
    fn numbers_are_json_numbers_or_strings_of_one() {
        let with = |fields: &str| {
            let line = format!(
                r#"com,example)/ 2023 {{"url":"https://example.com/",{fields},"filename":"f"}}"#
            );
            Capture::parse(&line)
                .ok()
                .map(|c| (c.status, c.length, c.offset))
        };
        assert_eq!(with(r#""length":" 12 ","offset":0"#), Some((None, 12, 0)));
        for status in ["null", r#""abc""#, "70000", r#""-1""#] {
            let fields = format!(r#""status":{status},"length":1,"offset":2"#);
            assert_eq!(with(&fields), Some((None, 1, 2)), "{status}");
        }
        assert_eq!(
            with(r#""status":" 404","length":1,"offset":2"#),
            Some((Some(404), 1, 2))
        );
        for bad in [
            r#""length":"x","offset":0"#,
            r#""length":-1,"offset":0"#,
            r#""length":1.5,"offset":0"#,
            r#""length":true,"offset":0"#,
            r#""length":null,"offset":0"#,
            r#""status":-1,"length":1,"offset":0"#,
            r#""status":2.0,"length":1,"offset":0"#,
            r#""offset":0"#,
        ] {
            assert_eq!(with(bad), None, "{bad}");
        }
    }

    #[test]
    fn json_is_ascii_as_python_writes_it() {
        let url = "http://example.com/caf\u{e9}/\u{1f600}?q=\"a\\b\"\t\u{7f}|";
        let mut capture = Capture::new(url.to_string(), "20230322000800".into()).unwrap();
        capture.filename = "f.warc.gz".into();
        let line = capture.to_line();
        // What `json.dumps` writes for this URL.
        let python = r#""url":"http://example.com/caf\u00e9/\ud83d\ude00?q=\"a\\b\"\t\u007f|""#;
        assert!(line.contains(python), "{line}");
        assert_eq!(Capture::parse(&line).unwrap(), capture);
    }
}
