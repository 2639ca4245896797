//! SURT keys (Sort-friendly URI Reordering Transform), byte for byte as Python's `surt` package
//! (0.3.1) makes them with its default arguments, which pywb and cdxj-indexer use: so cairn's
//! index sorts like theirs and a URL is found under the key they would look it up by.
//!
//! `http://www.Example.com:80/Path/?b=2&a=1#x` becomes `com,example)/path?a=1&b=2`.
//!
//! `surt` parses a URL loosely (its `handyurl`), then applies Google's canonicalization (undo
//! percent-escapes, IDNA, IPv4 forms, dot segments, escape again) and the Internet Archive's
//! (lowercase, drop `www.`, default ports, session ids, a trailing slash and an empty query, sort
//! the query). The table in `tests/fixtures/surt/table.tsv`, written by
//! `scripts/surt-table.py`, holds thousands of URLs with the keys Python gives them.

mod host;

use std::borrow::Cow;
use std::fmt::Write;

use percent_encoding::percent_decode;

/// The SURT key of a URL.
///
/// Where Python's `surt` raises (an invalid or out-of-range port, a URL of only whitespace) the
/// key is the URL itself, as cdxj-indexer then keys it; an empty URL is `-`, and an ARC file's
/// `filedesc:` URL is kept as it is, as `surt` does.
pub fn surt(url: &str) -> String {
    if url.is_empty() {
        return "-".to_string();
    }
    if url.starts_with("filedesc") {
        return url.to_string();
    }
    let cleaned = clean(url);
    match Parsed::parse(&cleaned) {
        Some(parsed) => parsed.key(),
        None => url.to_string(),
    }
}

/// Trims ASCII whitespace from both ends and deletes tabs and line breaks anywhere, as
/// `handyurl.parse` does (spaces inside are kept, to be escaped).
fn clean(url: &str) -> Cow<'_, str> {
    let trimmed = url.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c'));
    if trimmed.contains(['\t', '\n', '\r']) {
        Cow::Owned(trimmed.replace(['\t', '\n', '\r'], ""))
    } else {
        Cow::Borrowed(trimmed)
    }
}

/// A URL split as `surt`'s `handyurl` splits it: RFC 3986 appendix B, with Python's urllib
/// reading the authority, and the fragment dropped.
struct Parsed<'a> {
    /// As written, `http` for a URL without one. The key shows it only for a URL without a
    /// host, in its case.
    scheme: &'a str,
    /// Not empty; still escaped and in any case.
    host: Option<&'a str>,
    port: Option<u16>,
    path: &'a str,
    /// Not empty: `?` alone is no query.
    query: Option<&'a str>,
}

impl<'a> Parsed<'a> {
    /// `None` where Python's `surt` raises.
    fn parse(url: &'a str) -> Option<Parsed<'a>> {
        if url.is_empty() {
            return None;
        }
        let (scheme, netloc, rest) = if has_scheme(url) {
            let url = collapse_repeated_http(url);
            let (scheme, rest) = url.split_once(':')?;
            match rest.strip_prefix("//") {
                Some(authority_on) => {
                    let (netloc, rest) = split_authority(authority_on);
                    (scheme, Some(netloc), rest)
                }
                None => (scheme, None, rest),
            }
        } else {
            // `example.com/x` is read as `http://example.com/x`.
            let (netloc, rest) = split_authority(url);
            ("http", Some(netloc), rest)
        };
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, Some(query).filter(|q| !q.is_empty())),
            None => (rest, None),
        };
        let (mut host, port) = match netloc {
            Some(netloc) => host_and_port(netloc)?,
            None => (None, None),
        };
        let mut path = path;
        if host.is_none() && scheme.starts_with("http") && !path.is_empty() {
            // `http:///example.com/a` and `http:example.com`: the host is the first segment.
            let trimmed = path.trim_start_matches('/');
            let end = trimmed.find('/').unwrap_or(trimmed.len());
            host = Some(&trimmed[..end]).filter(|h| !h.is_empty());
            path = if end < trimmed.len() {
                &trimmed[end..]
            } else {
                "/"
            };
        }
        Some(Parsed {
            scheme,
            host,
            port,
            path,
            query,
        })
    }

    fn key(&self) -> String {
        let mut key = String::with_capacity(self.path.len() + self.query.map_or(0, str::len) + 32);
        let query = self.query.and_then(canonical_query);
        let host = self
            .host
            .and_then(|h| host::canonical_host(h, self.scheme == "dns"));
        match host {
            Some(host) => {
                host::push_reversed(&mut key, &host);
                if let Some(port) = self.port.filter(|&p| p != default_port(self.scheme)) {
                    let _ = write!(key, ":{port}");
                }
                key.push(')');
                push_path(&mut key, self.path, true);
            }
            // A URL without a host keys as `scheme:path`; its path is not a directory path.
            None => {
                key.push_str(self.scheme);
                key.push(':');
                push_path(&mut key, self.path, false);
                if self.path.is_empty() && query.is_some() {
                    key.push('/');
                }
            }
        }
        if let Some(query) = query {
            key.push('?');
            key.push_str(&query);
        }
        key
    }
}

/// Whether a URL starts with a scheme (`[A-Za-z][A-Za-z0-9+.-]*:`). Anything of that shape
/// counts: `example.com:8080/x` has the scheme `example.com`, as in `surt`.
fn has_scheme(url: &str) -> bool {
    let Some((scheme, _)) = url.split_once(':') else {
        return false;
    };
    let mut bytes = scheme.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// `http://https://example.com/` is read as `https://example.com/` (an old crawler's bug that
/// `surt` undoes; only lowercase prefixes, as there).
fn collapse_repeated_http(mut url: &str) -> &str {
    let strip = |u: &'_ str| -> Option<usize> {
        ["http://", "https://"]
            .into_iter()
            .find(|p| u.starts_with(p))
            .map(str::len)
    };
    while let Some(len) = strip(url) {
        if strip(&url[len..]).is_none() {
            break;
        }
        url = &url[len..];
    }
    url
}

/// The authority (up to `/`, `?` or `#`) and what follows it.
fn split_authority(authority_on: &str) -> (&str, &str) {
    let end = authority_on
        .find(['/', '?', '#'])
        .unwrap_or(authority_on.len());
    authority_on.split_at(end)
}

/// Host and port as Python's `urllib` reads an authority: userinfo up to the last `@` is
/// dropped, a bracketed host (IPv6) loses its brackets, and a port must be digits up to 65535
/// (`None` otherwise, where `surt` raises). Port 0 counts as none.
fn host_and_port(netloc: &str) -> Option<(Option<&str>, Option<u16>)> {
    // `example.com:` has no port, nor has `example.com::`.
    let netloc = netloc.trim_end_matches(':');
    let hostinfo = netloc.rsplit_once('@').map_or(netloc, |(_, h)| h);
    let (host, port) = match hostinfo.split_once('[') {
        Some((_, bracketed)) => {
            let (host, after) = bracketed.split_once(']').unwrap_or((bracketed, ""));
            (host, after.split_once(':').map_or("", |(_, p)| p))
        }
        None => hostinfo.split_once(':').unwrap_or((hostinfo, "")),
    };
    let port = if port.is_empty() {
        None
    } else {
        Some(parse_port(port)?).filter(|&p| p != 0)
    };
    Some((Some(host).filter(|h| !h.is_empty()), port))
}

fn parse_port(digits: &str) -> Option<u16> {
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let significant = digits.trim_start_matches('0');
    if significant.len() > 5 {
        return None;
    }
    significant
        .parse::<u32>()
        .map_or(Some(0), |p| u16::try_from(p).ok())
}

/// Only `http` and `https` have a default port that the key leaves out.
fn default_port(scheme: &str) -> u16 {
    if scheme.eq_ignore_ascii_case("http") {
        80
    } else if scheme.eq_ignore_ascii_case("https") {
        443
    } else {
        0
    }
}

/// Appends the canonical path: escapes undone, dot segments and empty segments resolved (for a
/// URL with a host), escaped again and lowercased, ASP.NET session ids dropped, and a trailing
/// slash dropped (`/` alone stays).
fn push_path(key: &mut String, path: &str, has_host: bool) {
    let start = key.len();
    let path = unescape_repeatedly(path.as_bytes());
    if !has_host {
        push_escaped(key, &path);
    } else if needs_normalizing(&path) {
        for segment in normalized_segments(&path) {
            key.push('/');
            push_escaped(key, segment);
        }
        if key.len() == start {
            key.push('/');
        }
    } else if path.is_empty() {
        key.push('/');
    } else {
        push_escaped(key, &path);
    }
    strip_path_session_id(key, start);
    if key.len() - start > 1 && key.ends_with('/') {
        key.pop();
    }
}

/// Whether the path has segments that `normalized_segments` changes: `.`, `..`, or an empty
/// one before the last (`//`).
fn needs_normalizing(path: &[u8]) -> bool {
    let mut segments = path.split(|&b| b == b'/').skip(1).peekable();
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        if segment == b"." || segment == b".." || (segment.is_empty() && !last) {
            return true;
        }
    }
    false
}

/// The segments after resolving `.` and `..` (a `..` with nothing left to remove is kept) and
/// dropping empty segments but the last, which stands for a trailing slash: as Google's
/// canonicalizer, whose `/a/.` is `/a` (not `/a/`) and `/../a` stays.
fn normalized_segments(path: &[u8]) -> Vec<&[u8]> {
    let mut kept: Vec<&[u8]> = Vec::new();
    for segment in path.split(|&b| b == b'/').skip(1) {
        match segment {
            b"." => {}
            b".." if !kept.is_empty() => {
                kept.pop();
            }
            _ => kept.push(segment),
        }
    }
    let last = kept.pop();
    kept.retain(|s| !s.is_empty());
    kept.extend(last);
    kept
}

/// The length of a session segment at the start of a path rest, if one is there.
type SegmentRule = fn(&[u8]) -> Option<usize>;

/// Drops an ASP.NET cookieless session segment, `/(S(24 chars))/` or `/(24 chars)/`, from a path
/// that goes on to an `.aspx` page (the Internet Archive's two path rules, applied in turn, each
/// to the last such segment). `key[start..]` is the path, escaped and lowercased.
fn strip_path_session_id(key: &mut String, start: usize) {
    if !key[start..].contains(".aspx") {
        return;
    }
    let rules: [SegmentRule; 2] = [lettered_session_segment, bare_session_segment];
    for segment_len in rules {
        let path = &key.as_bytes()[start..];
        let found = path
            .iter()
            .enumerate()
            .rev()
            .filter(|&(_, &b)| b == b'/')
            .find_map(|(slash, _)| {
                let len = segment_len(&path[slash + 1..])?;
                aspx_follows(&path[slash + 1 + len..]).then_some((slash + 1, len))
            });
        if let Some((at, len)) = found {
            key.replace_range(start + at..start + at + len, "");
        }
    }
}

/// The length of `(S(24 alphanumerics))/` (one or more lettered ids) at the start of `s`.
fn lettered_session_segment(s: &[u8]) -> Option<usize> {
    if s.first() != Some(&b'(') {
        return None;
    }
    let mut at = 1;
    while s.get(at).is_some_and(u8::is_ascii_lowercase) {
        at += 1 + parenthesized_id(&s[at + 1..])?;
    }
    (at > 1 && s.get(at..at + 2) == Some(b")/")).then_some(at + 2)
}

/// The length of `(24 alphanumerics)/` at the start of `s`.
fn bare_session_segment(s: &[u8]) -> Option<usize> {
    let len = parenthesized_id(s)?;
    (s.get(len) == Some(&b'/')).then_some(len + 1)
}

/// The length of `(24 alphanumerics)` at the start of `s`.
fn parenthesized_id(s: &[u8]) -> Option<usize> {
    let shape = s.first() == Some(&b'(')
        && fixed_run(&s[1..], 24, u8::is_ascii_alphanumeric).is_some()
        && s.get(25) == Some(&b')');
    shape.then_some(26)
}

/// Whether a path rest matches `[^?]+\.aspx.*`: `.aspx` after at least one byte, before any `?`.
fn aspx_follows(rest: &[u8]) -> bool {
    let before_query = rest.split(|&b| b == b'?').next().unwrap_or(rest);
    before_query.len() > 1 && memchr::memmem::find(&before_query[1..], b".aspx").is_some()
}

/// The canonical query, if anything is left of it: escapes undone and done again, session ids
/// dropped, lowercased, and the arguments sorted by name, then value.
fn canonical_query(query: &str) -> Option<String> {
    let mut escaped = String::with_capacity(query.len());
    push_escaped(&mut escaped, &unescape_repeatedly(query.as_bytes()));
    strip_query_session_ids(&mut escaped);
    if escaped.is_empty() {
        return None;
    }
    // Sorted as Python sorts `(name,)` and `(name, value)` tuples: by name, then `a` before
    // `a=` before `a=1`.
    let mut args: Vec<(&str, Option<&str>)> = escaped
        .split('&')
        .map(|arg| match arg.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (arg, None),
        })
        .collect();
    args.sort_unstable();
    let mut sorted = String::with_capacity(escaped.len());
    for (i, (name, value)) in args.into_iter().enumerate() {
        if i > 0 {
            sorted.push('&');
        }
        sorted.push_str(name);
        if let Some(value) = value {
            sorted.push('=');
            sorted.push_str(value);
        }
    }
    Some(sorted)
}

/// The Internet Archive's query session-id rules, in its order: each drops the last match of
/// its pattern (anywhere, not only at an argument's start) and the `&` after it.
fn strip_query_session_ids(query: &mut String) {
    let alnum = |n: usize| move |s: &[u8]| fixed_run(s, n, u8::is_ascii_alphanumeric);
    strip_last_match(query, "jsessionid=", alnum(32));
    strip_last_match(query, "phpsessid=", alnum(32));
    strip_last_match(query, "sid=", alnum(32));
    strip_last_match(query, "aspsessionid", |s| {
        let name = fixed_run(s, 8, u8::is_ascii_alphabetic)?;
        (s.get(8) == Some(&b'=')).then_some(())?;
        fixed_run(&s[9..], 24, u8::is_ascii_alphabetic).map(|v| name + 1 + v)
    });
    strip_last_match(query, "cfid=", |s| {
        let id = s.iter().position(|&b| b == b'&').filter(|&n| n > 0)?;
        let token = s[id..].strip_prefix(b"&cftoken=")?;
        let len = token.iter().position(|&b| b == b'&').unwrap_or(token.len());
        (len > 0).then_some(id + "&cftoken=".len() + len)
    });
}

/// `Some(n)` if `s` starts with `n` bytes that all pass `ok`.
fn fixed_run(s: &[u8], n: usize, ok: fn(&u8) -> bool) -> Option<usize> {
    s.get(..n).filter(|run| run.iter().all(ok)).map(|_| n)
}

/// Drops the last `prefix` whose value (the length `value_len` gives) ends the query or is
/// followed by `&`, and that `&`.
fn strip_last_match(query: &mut String, prefix: &str, value_len: impl Fn(&[u8]) -> Option<usize>) {
    let bytes = query.as_bytes();
    let found = query.rmatch_indices(prefix).find_map(|(at, _)| {
        let value_at = at + prefix.len();
        let end = value_at + value_len(&bytes[value_at..])?;
        match bytes.get(end) {
            None => Some((at, end)),
            Some(b'&') => Some((at, end + 1)),
            Some(_) => None,
        }
    });
    if let Some((at, end)) = found {
        query.replace_range(at..end, "");
    }
}

/// Percent-escapes undone until none is left (`%2541` is `A`), as Google's canonicalizer does.
fn unescape_repeatedly(s: &[u8]) -> Cow<'_, [u8]> {
    let mut current = Cow::Borrowed(s);
    // Each pass undoes one level, so `%2525...25` would take a pass per level, quadratic in
    // a hostile URL's length; no real URL is escaped more than a few times over.
    for _ in 0..MAX_UNESCAPE_PASSES {
        let decoded: Cow<'_, [u8]> = percent_decode(&current).into();
        match decoded {
            Cow::Owned(decoded) => current = Cow::Owned(decoded),
            Cow::Borrowed(_) => return current,
        }
    }
    current
}

/// How many levels of percent-escaping are undone (Python's `surt` has no bound).
const MAX_UNESCAPE_PASSES: usize = 32;

/// Appends `bytes` with control bytes, space, `#`, `%`, DEL and non-ASCII percent-escaped, and
/// lowercased (`surt` lowercases host, path and query after escaping them, hex digits too).
fn push_escaped(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        if (0x21..0x7f).contains(&b) && b != b'#' && b != b'%' {
            out.push(b.to_ascii_lowercase() as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0xf)] as char);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::surt;

    #[test]
    fn matches_python_surt_defaults() {
        // Expected values printed by Python's `surt.surt()` 0.3.1.
        for (url, key) in [
            (
                "http://www.Example.com:80/Path?b=2&a=1#x",
                "com,example)/path?a=1&b=2",
            ),
            (
                "https://www.cna.com.tw/news/aopl/202303220008.aspx",
                "tw,com,cna)/news/aopl/202303220008.aspx",
            ),
            (
                "https://imgcdn.cna.com.tw/a.jpg",
                "tw,com,cna,imgcdn)/a.jpg",
            ),
            ("http://example.com", "com,example)/"),
            ("http://example.com:8080/x?", "com,example:8080)/x"),
            ("http://127.0.0.1:8080/", "1,0,0,127:8080)/"),
            ("http://[::1]:8080/x", "::1:8080)/x"),
            ("http://user:pw@example.com/", "com,example)/"),
            ("https://example.com:443/", "com,example)/"),
            ("https://example.com/a%2fb", "com,example)/a/b"),
            ("http://example.com/a b", "com,example)/a%20b"),
            (
                "https://www.cna.com.tw/tag/hysearchws.aspx?q=%E7%83%8F%E5%85%8B",
                "tw,com,cna)/tag/hysearchws.aspx?q=%e7%83%8f%e5%85%8b",
            ),
            ("https://www2.example.com/", "com,example)/"),
            ("dns:Example.com", "dns:example.com"),
            ("file:///_posts/A.md", "file:/_posts/a.md"),
            ("ftp://www.Example.com/x", "com,example)/x"),
            ("urn:X:y", "urn:x:y"),
            (
                "http://www.bl.uk/subjects/news-media/",
                "uk,bl)/subjects/news-media",
            ),
            ("http://example.com/a\t/b\n", "com,example)/a/b"),
            ("http://example.com:99999/", "http://example.com:99999/"),
            ("", "-"),
        ] {
            assert_eq!(surt(url), key, "{url}");
        }
    }

    /// Every line of the table `scripts/surt-table.py` writes with Python's `surt`.
    #[test]
    fn matches_python_surt_on_the_table() {
        let table = include_str!("../../tests/fixtures/surt/table.tsv");
        let mut rows = 0;
        let mut mismatches = Vec::new();
        for line in table.lines() {
            let (url, expected) = line.split_once('\t').expect("url<TAB>key");
            rows += 1;
            let got = surt(url);
            if got != expected {
                mismatches.push(format!(
                    "{url:?}\n   expected {expected:?}\n   got      {got:?}"
                ));
            }
        }
        assert!(rows > 2000, "the table has {rows} rows");
        assert!(
            mismatches.is_empty(),
            "{} of {rows} keys differ from Python's surt; the first:\n{}",
            mismatches.len(),
            mismatches[..mismatches.len().min(20)].join("\n")
        );
    }
}
