//! ARC files, the Internet Archive's format before WARC (still in every large collection): each
//! record is one header line, `URL IP-address Archive-date Content-type Archive-length`, then
//! that many bytes, then a newline; the first record (`filedesc://`) describes the file. A
//! record's header line is read here into the WARC header it would have had, as warcio's
//! `arc2warc` does, so that verify, index and replay read ARC records as WARC ones.
//!
//! Version 2 lines carry more fields (`URL IP date type result-code checksum location offset
//! filename length`); both versions begin with URL, IP and date and end with the length.

use super::record::{Header, format_warc_date, parse_timestamp14};

/// The version line cairn gives an ARC record's header, so readers can tell it from a WARC one.
pub const ARC_VERSION: &str = "ARC/1.0";

/// Whether a header belongs to an ARC record.
pub fn is_arc(header: &Header) -> bool {
    header.version == ARC_VERSION
}

/// The WARC header an ARC header line stands for, or `None` if the line is not one.
pub fn header_from_line(line: &str) -> Option<Header> {
    let fields: Vec<&str> = line.split(' ').filter(|f| !f.is_empty()).collect();
    if fields.len() < 5 {
        return None;
    }
    let length: u64 = fields.last()?.parse().ok()?;
    // A URL with spaces in it (they occur) pushes the other fields right: then only the
    // version 1 layout, read from the right, is certain.
    let (url, ip, date, content_type) = if is_date(fields[2]) {
        (fields[0].to_string(), fields[1], fields[2], fields[3])
    } else {
        let n = fields.len();
        if !is_date(fields[n - 3]) {
            return None;
        }
        (
            fields[..n - 4].join("%20"),
            fields[n - 4],
            fields[n - 3],
            fields[n - 2],
        )
    };
    let date = format_warc_date(parse_timestamp14(date)?).replace(".000000Z", "Z");
    let mut header = Header::new(ARC_VERSION);
    if let Some(name) = url.strip_prefix("filedesc://") {
        header.push("WARC-Type", "warcinfo");
        header.push("WARC-Filename", name.to_string());
    } else {
        header.push("WARC-Type", "response");
        header.push("WARC-Target-URI", url.clone());
    }
    header.push("WARC-Date", date);
    header.push("WARC-IP-Address", ip.to_string());
    // An HTTP fetch stores the whole response, status line and headers first.
    let http = url.starts_with("http:") || url.starts_with("https:");
    let content_type = if http {
        "application/http; msgtype=response".to_string()
    } else {
        content_type.to_string()
    };
    header.push("Content-Type", content_type);
    header.push("Content-Length", length.to_string());
    Some(header)
}

/// `YYYYMMDDhhmmss`, or the 12-digit form of the earliest files.
fn is_date(field: &str) -> bool {
    (12..=14).contains(&field.len()) && field.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_1_and_2_lines_and_urls_with_spaces() {
        let h = header_from_line(
            "http://www.example.com:80/index.html 127.10.100.2 19961104142103 text/html 202",
        )
        .unwrap();
        assert_eq!(h.get("WARC-Type"), Some("response"));
        assert_eq!(h.target_uri(), Some("http://www.example.com:80/index.html"));
        assert_eq!(h.get("WARC-Date"), Some("1996-11-04T14:21:03Z"));
        assert!(h.holds_http());
        assert_eq!(h.content_length(), Some(202));

        let v2 = "http://a.example/x 10.0.0.1 20010101000000 image/gif 200 \
                  2CD3A3ED1D0D6E2BAE0D7ACCA5E4BAA1 - 1234 IA-001.arc 512";
        let h = header_from_line(v2).unwrap();
        assert_eq!(h.content_length(), Some(512));
        assert_eq!(h.target_uri(), Some("http://a.example/x"));

        let spaced = "http://a.example/a b.html 10.0.0.1 20010101000000 text/html 10";
        let h = header_from_line(spaced).unwrap();
        assert_eq!(h.target_uri(), Some("http://a.example/a%20b.html"));

        let desc = "filedesc://IA-001.arc 0.0.0.0 19960923142103 text/plain 76";
        let h = header_from_line(desc).unwrap();
        assert_eq!(h.get("WARC-Type"), Some("warcinfo"));

        let dns = "dns:www.example.com 10.0.0.1 20010101000000 text/dns 54";
        assert!(!header_from_line(dns).unwrap().holds_http());

        assert!(header_from_line("WARC/1.0").is_none());
        assert!(header_from_line("a b c d notanumber").is_none());
    }
}
