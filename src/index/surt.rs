//! SURT keys (Sort-friendly URI Reordering Transform), canonicalized as Python's `surt` package
//! does by default, which pywb and cdxj-indexer use: so cairn's keys sort and match theirs.
//!
//! `http://www.Example.com:80/Path?b=2&a=1#x` becomes `com,example)/path?a=1&b=2`.

/// The SURT key of a URL. URLs without an authority (`urn:`, `dns:`, `mailto:`) are only
/// lowercased, and one with an empty authority (`file:///x`) keeps its scheme, as `surt` does.
pub fn surt(url: &str) -> String {
    let url = url.trim();
    let url = url.split_once('#').map_or(url, |(before, _)| before);
    let lower = url.to_ascii_lowercase();
    let Some((scheme, rest)) = lower.split_once("://").filter(|(scheme, _)| {
        !scheme.is_empty()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    }) else {
        return lower;
    };
    let default_port = match scheme {
        "http" => "80",
        "https" => "443",
        _ => "",
    };
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_query) = rest.split_at(split);
    if authority.is_empty() {
        return format!("{scheme}:{}", path_and_query(path_query));
    }
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let (host, port) = split_port(host_port);
    let port = port.filter(|p| *p != default_port);

    let mut key = surt_host(host);
    if let Some(port) = port {
        key.push(':');
        key.push_str(port);
    }
    key.push(')');
    key.push_str(&path_and_query(path_query));
    key
}

fn split_port(host_port: &str) -> (&str, Option<&str>) {
    if host_port.starts_with('[') {
        // An IPv6 literal: the port, if any, follows the closing bracket.
        return match host_port.rsplit_once("]:") {
            Some((host, port)) => (&host_port[..host.len() + 1], Some(port)),
            None => (host_port, None),
        };
    }
    match host_port.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            (host, Some(port))
        }
        Some((host, "")) => (host, None),
        _ => (host_port, None),
    }
}

/// `www.example.com` -> `com,example` (IPv4 addresses are reversed too, as `surt` does; IPv6
/// literals lose their brackets).
fn surt_host(host: &str) -> String {
    let host = host.trim_matches('.');
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.to_string();
    }
    let host = strip_www(host);
    let mut parts: Vec<&str> = host.split('.').filter(|p| !p.is_empty()).collect();
    parts.reverse();
    parts.join(",")
}

/// Drops a leading `www.`, `www2.`, ... as the IA canonicalizer does.
fn strip_www(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix("www") {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if let Some(after) = rest[digits..].strip_prefix('.')
            && !after.is_empty()
        {
            return after;
        }
    }
    host
}

/// The path (at least `/`) and the query with its arguments sorted; an empty query is dropped.
fn path_and_query(path_query: &str) -> String {
    let (path, query) = match path_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_query, None),
    };
    let mut out = if path.is_empty() {
        "/".to_string()
    } else {
        normalize_escapes(path)
    };
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        let query = normalize_escapes(query);
        let mut args: Vec<&str> = query.split('&').collect();
        args.sort_unstable();
        out.push('?');
        out.push_str(&args.join("&"));
    }
    out
}

/// Google's canonicalization, which `surt` applies: undo percent-escapes until none is left,
/// then escape control bytes, space, non-ASCII, `#` and `%` again (lowercase, as the key is).
fn normalize_escapes(s: &str) -> String {
    let mut bytes = s.as_bytes().to_vec();
    loop {
        let decoded: Vec<u8> = percent_decode(&bytes);
        if decoded == bytes {
            break;
        }
        bytes = decoded;
    }
    let mut out = String::with_capacity(bytes.len());
    for b in bytes {
        if b <= 0x20 || b >= 0x7f || b == b'#' || b == b'%' {
            out.push_str(&format!("%{b:02x}"));
        } else {
            out.push(b as char);
        }
    }
    out
}

fn percent_decode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
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
        ] {
            assert_eq!(surt(url), key, "{url}");
        }
    }
}
