//! HTTP heads as the records store them: the bytes the wire tap copied, with the one change
//! the stored body calls for, and the fallback rebuilt from hyper's parsed head when the tap
//! has nothing.
//!
//! hyper undoes chunked framing and the body is stored as it comes out, so a stored head must
//! not claim a framing its block does not have: `Transfer-Encoding` becomes
//! `X-Orig-Transfer-Encoding` (as browsertrix-crawler and Common Crawl write it), every other
//! byte stays.

use url::Url;

/// What a chunked response's `Transfer-Encoding` line is prefixed with once the body is stored
/// de-chunked.
const RENAMED: &[u8] = b"X-Orig-";

/// The head's lines, each with its line ending (CRLF, or a bare LF as some servers send).
fn lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    head.split_inclusive(|&b| b == b'\n')
}

/// A header line's field name, if the line is a header line.
fn field_name(line: &[u8]) -> Option<&[u8]> {
    let colon = memchr::memchr(b':', line)?;
    Some(&line[..colon])
}

/// The response head to store: as received, its `Transfer-Encoding` renamed.
pub fn stored_response_head(head: &[u8]) -> Vec<u8> {
    let mut stored = Vec::with_capacity(head.len() + RENAMED.len());
    for (i, line) in lines(head).enumerate() {
        if i > 0 && field_name(line).is_some_and(|n| n.eq_ignore_ascii_case(b"transfer-encoding")) {
            stored.extend_from_slice(RENAMED);
        }
        stored.extend_from_slice(line);
    }
    stored
}

/// The request head to store: as written, without `Proxy-Authorization`, so the proxy's
/// credentials never land in an archive.
pub fn stored_request_head(head: &[u8]) -> Vec<u8> {
    lines(head)
        .enumerate()
        .filter(|(i, line)| {
            *i == 0
                || !field_name(line).is_some_and(|n| n.eq_ignore_ascii_case(b"proxy-authorization"))
        })
        .flat_map(|(_, line)| line.iter().copied())
        .collect()
}

/// The status code and the header fields of a response head, in order, values as text.
pub fn parse_response_head(head: &[u8]) -> Option<(u16, Vec<(String, String)>)> {
    let mut fields = [httparse::EMPTY_HEADER; 100];
    let mut response = httparse::Response::new(&mut fields);
    match response.parse(head) {
        Ok(httparse::Status::Complete(_)) => Some((
            response.code?,
            response
                .headers
                .iter()
                .map(|f| (f.name.to_string(), header_text(f.value)))
                .collect(),
        )),
        _ => None,
    }
}

/// A header value as text: UTF-8 as it is; anything else (Latin-1 from older servers) with
/// its non-ASCII bytes percent-escaped, as browsers escape a `Location`, so no byte is lost to
/// a replacement character. The record keeps the bytes as sent either way.
fn header_text(value: &[u8]) -> String {
    match std::str::from_utf8(value) {
        Ok(text) => text.to_string(),
        Err(_) => percent_encoding::percent_encode(value, percent_encoding::CONTROLS).to_string(),
    }
}

pub fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// The request head as cairn asked hyper to write it (title-cased, in this order): the record
/// when the tap saw nothing.
pub fn rebuilt_request_head(url: &Url, headers: &[(String, String)]) -> Vec<u8> {
    let mut target = url.path().to_string();
    if let Some(query) = url.query() {
        target.push('?');
        target.push_str(query);
    }
    let mut head = format!("GET {target} HTTP/1.1\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// The response head from hyper's parse, when the tap saw nothing: version and reason phrase
/// as hyper kept them, names lowercased (hyper keeps no case), values as parsed.
pub fn rebuilt_response_head<B>(response: &hyper::Response<B>) -> Vec<u8> {
    let status = response.status();
    let version = match response.version() {
        hyper::Version::HTTP_10 => "HTTP/1.0",
        _ => "HTTP/1.1",
    };
    let reason = response
        .extensions()
        .get::<hyper::ext::ReasonPhrase>()
        .map(|r| r.as_bytes().to_vec())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("").as_bytes().to_vec());
    let mut head = format!("{version} {} ", status.as_u16()).into_bytes();
    head.extend_from_slice(&reason);
    head.extend_from_slice(b"\r\n");
    for (name, value) in response.headers() {
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    stored_response_head(&head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transfer_encoding_is_renamed_in_any_case_and_line_ending() {
        let head = b"HTTP/1.1 200 OK\r\ntransfer-Encoding:  chunked \r\nX-Transfer-Encoding: x\r\nA: Transfer-Encoding: y\r\n\r\n";
        assert_eq!(
            stored_response_head(head),
            b"HTTP/1.1 200 OK\r\nX-Orig-transfer-Encoding:  chunked \r\nX-Transfer-Encoding: x\r\nA: Transfer-Encoding: y\r\n\r\n"
        );
        assert_eq!(
            stored_response_head(b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n"),
            b"HTTP/1.1 200 OK\nX-Orig-Transfer-Encoding: chunked\n\n"
        );
    }

    #[test]
    fn proxy_credentials_are_left_out_of_the_request() {
        let head = b"GET http://a/ HTTP/1.1\r\nHost: a\r\nProxy-Authorization: Basic eDp5\r\nAccept: */*\r\n\r\n";
        assert_eq!(
            stored_request_head(head),
            b"GET http://a/ HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n"
        );
    }

    #[test]
    fn fields_keep_their_case_order_and_repetitions() {
        let head = b"HTTP/1.0 200 Fine\r\nX-CuStOm-Name: a\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Bad: \xff\r\n\r\n";
        let (status, fields) = parse_response_head(head).unwrap();
        assert_eq!(status, 200);
        let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["X-CuStOm-Name", "Set-Cookie", "Set-Cookie", "X-Bad"]
        );
        assert_eq!(fields[3].1, "%FF");
    }
}
