//! The host part of a SURT key: escapes undone, IDNA 2003 for Unicode names (as Python's `idna`
//! codec, which `surt` calls), the IPv4 forms that `inet_aton` reads made dotted quads, stray
//! dots dropped, escaped again, lowercased, and a leading `www.` (`www2.`, ...) dropped.
//!
//! Known differences, in hosts no real site has: a label that UTS 46 rejects but IDNA 2003
//! takes (one starting with a combining mark, a space or control in a right-to-left label, an
//! `xn--` label spelled in full-width letters) keeps its escaped UTF-8 here where Python
//! punycodes it; nameprep's Unicode 3.2 tables are UTS 46's current ones here.

use std::borrow::Cow;

use super::{push_escaped, unescape_repeatedly};

/// The canonical host, or `None` when nothing is left of it (`.`), and the key is then made
/// as for a URL without a host. `dns:` hosts keep their `www.`.
pub(super) fn canonical_host(host: &str, is_dns: bool) -> Option<String> {
    let mut bytes = unescape_repeatedly(host.as_bytes());
    if !bytes.is_ascii()
        && let Some(ascii) = idna_2003(&bytes)
    {
        bytes = Cow::Owned(ascii.into_bytes());
    }
    let bytes = collapse_double_dots(&bytes);
    let bytes = trim_dots(&bytes);
    let mut canonical = String::with_capacity(bytes.len());
    match ipv4(bytes) {
        Some(address) => canonical.push_str(&std::net::Ipv4Addr::from(address).to_string()),
        None => push_escaped(&mut canonical, bytes),
    }
    if !is_dns && let Some(rest) = strip_www(&canonical) {
        canonical.replace_range(..canonical.len() - rest, "");
    }
    (!canonical.is_empty()).then_some(canonical)
}

/// Appends `www.example.com` as `com,example,www` (IPv4 addresses are reversed too).
pub(super) fn push_reversed(key: &mut String, host: &str) {
    for (i, label) in host.rsplit('.').enumerate() {
        if i > 0 {
            key.push(',');
        }
        key.push_str(label);
    }
}

/// Google's canonicalizer replaces each `..` by `.`, once, left to right (so `a...b` keeps
/// two dots).
fn collapse_double_dots(host: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memmem::find(host, b"..").is_none() {
        return Cow::Borrowed(host);
    }
    let mut out = Vec::with_capacity(host.len());
    let mut rest = host;
    while let Some(at) = memchr::memmem::find(rest, b"..") {
        out.extend_from_slice(&rest[..=at]);
        rest = &rest[at + 2..];
    }
    out.extend_from_slice(rest);
    Cow::Owned(out)
}

fn trim_dots(host: &[u8]) -> &[u8] {
    let start = host.iter().position(|&b| b != b'.').unwrap_or(host.len());
    let end = host
        .iter()
        .rposition(|&b| b != b'.')
        .map_or(start, |i| i + 1);
    &host[start..end]
}

/// The length of what follows a leading `www.`, `www2.`, `www10.` ... (the Internet Archive's
/// `www\d*\.`), if there is one.
fn strip_www(host: &str) -> Option<usize> {
    let rest = host.strip_prefix("www")?;
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    rest.strip_prefix('.').map(str::len)
}

/// The address a host names as an IPv4 address in the forms `surt` converts: all digits (a
/// 32-bit number, taken modulo 2^32), or two to four dotted decimal parts starting with 1-9, or
/// dotted octal parts starting with 0, which the C library's `inet_aton` must then accept (as
/// `surt` asks `gethostbyname`). Hex (`0x7f.0.0.1`) is never converted.
fn ipv4(host: &[u8]) -> Option<u32> {
    if host.is_empty() {
        return None;
    }
    if host.iter().all(u8::is_ascii_digit) {
        let wrapped = host.iter().fold(0u32, |n, &d| {
            n.wrapping_mul(10).wrapping_add(u32::from(d - b'0'))
        });
        return Some(wrapped);
    }
    let octal = host[0] == b'0';
    let digit_ok = |b: &u8| {
        if octal {
            matches!(b, b'0'..=b'7')
        } else {
            b.is_ascii_digit()
        }
    };
    let mut parts = 0;
    for part in host.split(|&b| b == b'.') {
        parts += 1;
        if part.is_empty() || parts > 4 || !part.iter().all(digit_ok) {
            return None;
        }
    }
    inet_aton(host)
}

/// glibc's `inet_aton` on dotted digits: each part octal if it starts with 0, else decimal;
/// the last part fills the bytes the others leave (`1.2` is 1.0.0.2).
fn inet_aton(host: &[u8]) -> Option<u32> {
    let mut parts = [0u32; 4];
    let mut count = 0;
    for part in host.split(|&b| b == b'.') {
        let (digits, radix) = match part {
            [b'0', rest @ ..] if !rest.is_empty() => (rest, 8),
            _ => (part, 10),
        };
        let text = std::str::from_utf8(digits).ok()?;
        *parts.get_mut(count)? = u32::from_str_radix(text, radix).ok()?;
        count += 1;
    }
    let (init, last) = (&parts[..count - 1], parts[count - 1]);
    if init.iter().any(|&p| p > 0xff) || u64::from(last) >> (8 * (5 - count)) != 0 {
        return None;
    }
    let high = init
        .iter()
        .enumerate()
        .fold(0u32, |n, (i, &p)| n | p << (24 - 8 * i));
    Some(high | last)
}

/// The dots Python's `idna` codec splits labels at.
const IDNA_DOTS: [char; 4] = ['.', '\u{3002}', '\u{ff0e}', '\u{ff61}'];

/// Python's `host.decode('utf-8', 'ignore').encode('idna')` (IDNA 2003): labels in ASCII kept
/// as they are, others nameprepped and punycoded. `None` where Python raises (an empty or too
/// long label, a bidi violation) and `surt` keeps the bytes, to be percent-escaped.
fn idna_2003(host: &[u8]) -> Option<String> {
    let text: String = host.utf8_chunks().map(|chunk| chunk.valid()).collect();
    if text.is_ascii() {
        let mut labels = text.split('.').rev();
        let last_fits = labels.next().is_none_or(|l| l.len() < 64);
        return (last_fits && labels.all(|l| (1..64).contains(&l.len()))).then_some(text);
    }
    let (labels, trailing_dot) = match text.strip_suffix(IDNA_DOTS) {
        Some(before) => (before, true),
        None => (text.as_str(), false),
    };
    let mut ascii = String::with_capacity(text.len() + 8);
    for (i, label) in labels.split(IDNA_DOTS).enumerate() {
        if i > 0 {
            ascii.push('.');
        }
        ascii.push_str(&label_to_ascii(label)?);
    }
    if trailing_dot {
        ascii.push('.');
    }
    Some(ascii)
}

/// IDNA 2003 `ToASCII` of one label. The mapping and punycode are the `idna` crate's (UTS 46,
/// any ASCII allowed, as in Python), after the mappings where IDNA 2003 differs from it: `ß`
/// to `ss`, final `ς` to `σ`, and the characters nameprep maps to nothing (soft hyphen,
/// joiners, variation selectors, ...).
fn label_to_ascii(label: &str) -> Option<Cow<'_, str>> {
    let ascii = if label.is_ascii() {
        Cow::Borrowed(label)
    } else {
        let mut prepared = String::with_capacity(label.len() + 2);
        for c in label.chars().filter(|&c| !maps_to_nothing(c)) {
            match c {
                'ß' => prepared.push_str("ss"),
                'ς' => prepared.push('σ'),
                _ => prepared.push(c),
            }
        }
        if prepared.is_ascii() {
            // Nameprep left ASCII: taken as it is, even `xn--` (which UTS 46 would decode).
            prepared.make_ascii_lowercase();
            return (1..64)
                .contains(&prepared.len())
                .then_some(Cow::Owned(prepared));
        }
        if breaks_bidi_2003(&prepared) {
            return None;
        }
        let ascii = idna::domain_to_ascii_cow(prepared.as_bytes(), idna::AsciiDenyList::EMPTY);
        Cow::Owned(ascii.ok()?.into_owned())
    };
    (1..64).contains(&ascii.len()).then_some(ascii)
}

/// RFC 3454 table B.1: what nameprep deletes.
fn maps_to_nothing(c: char) -> bool {
    matches!(c,
        '\u{ad}' | '\u{34f}' | '\u{1806}' | '\u{180b}'..='\u{180d}' | '\u{200b}'..='\u{200d}'
        | '\u{2060}' | '\u{fe00}'..='\u{fe0f}' | '\u{feff}')
}

/// RFC 3491's bidi rule, stricter than UTS 46's: a label with a right-to-left character must
/// start and end with one and hold no left-to-right letter (`مثال123` fails).
fn breaks_bidi_2003(label: &str) -> bool {
    if !label.chars().any(is_rand_al) {
        return false;
    }
    let ends_rtl = label.chars().next().is_some_and(is_rand_al)
        && label.chars().next_back().is_some_and(is_rand_al);
    !ends_rtl
        || label
            .chars()
            .any(|c| c.is_alphabetic() && !in_rtl_blocks(c))
}

/// RFC 3454 table D.1: characters of bidi class R or AL (in Unicode 3.2).
fn is_rand_al(c: char) -> bool {
    matches!(u32::from(c),
        0x05BE | 0x05C0 | 0x05C3 | 0x05D0..=0x05EA | 0x05F0..=0x05F4 | 0x061B | 0x061F
        | 0x0621..=0x063A | 0x0640..=0x064A | 0x066D..=0x066F | 0x0671..=0x06D5 | 0x06DD
        | 0x06E5..=0x06E6 | 0x06FA..=0x06FE | 0x0700..=0x070D | 0x0710 | 0x0712..=0x072C
        | 0x0780..=0x07A5 | 0x07B1 | 0x200F | 0xFB1D | 0xFB1F..=0xFB28 | 0xFB2A..=0xFB36
        | 0xFB38..=0xFB3C | 0xFB3E | 0xFB40..=0xFB41 | 0xFB43..=0xFB44 | 0xFB46..=0xFBB1
        | 0xFBD3..=0xFD3D | 0xFD50..=0xFD8F | 0xFD92..=0xFDC7 | 0xFDF0..=0xFDFC
        | 0xFE70..=0xFE74 | 0xFE76..=0xFEFC)
}

/// The Hebrew, Arabic, Syriac, Thaana and N'Ko blocks and their presentation forms, whose
/// letters (and marks) are not left-to-right: table D.2 approximated as every other letter.
fn in_rtl_blocks(c: char) -> bool {
    matches!(u32::from(c), 0x0590..=0x08FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_forms_as_inet_aton_reads_them() {
        let dotted = |h: &str| ipv4(h.as_bytes()).map(|a| std::net::Ipv4Addr::from(a).to_string());
        assert_eq!(dotted("127.0.0.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(dotted("1.2").as_deref(), Some("1.0.0.2"));
        assert_eq!(dotted("1.2.3").as_deref(), Some("1.2.0.3"));
        assert_eq!(dotted("0177.0.0.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(dotted("10.010.0.1").as_deref(), Some("10.8.0.1"));
        assert_eq!(dotted("4294967297").as_deref(), Some("0.0.0.1"));
        assert_eq!(dotted("0123").as_deref(), Some("0.0.0.123"));
        assert_eq!(dotted("1.08.0.1"), None);
        assert_eq!(dotted("1.2.3.256"), None);
        assert_eq!(dotted("0.9.0.1"), None);
        assert_eq!(dotted("0x7f.0.0.1"), None);
        assert_eq!(dotted("1.2.3.4.5"), None);
    }
}
