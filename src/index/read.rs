//! The read side of a collection's index, the one way cairn reads `index.cdxj`: every capture
//! sorted as the file is (SURT key, then time) and found by binary search; the nearest capture
//! to a time, the latest of each URL, and for a revisit the capture that stores its payload.

use std::collections::HashMap;

use super::cdxj::Capture;
use super::surt::surt;

#[derive(Debug, Default)]
pub struct Index {
    captures: Vec<Capture>,
    /// Each payload digest, to the first capture that stores it (a revisit stores none).
    stored: HashMap<String, usize>,
    /// Lines that are not CDXJ captures, left out.
    unreadable_lines: usize,
}

impl Index {
    /// The index in CDXJ text; lines that do not parse are counted and left out.
    pub fn parse(text: &str) -> Index {
        let mut captures = Vec::new();
        let mut unreadable_lines = 0;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match Capture::parse(line) {
                Ok(capture) => captures.push(capture),
                Err(_) => unreadable_lines += 1,
            }
        }
        let mut index = Index::from_captures(captures);
        index.unreadable_lines = unreadable_lines;
        index
    }

    pub fn from_captures(mut captures: Vec<Capture>) -> Index {
        // Already sorted when read from a file cairn wrote: the sort only checks.
        captures.sort_by(|a, b| (&a.urlkey, a.seconds).cmp(&(&b.urlkey, b.seconds)));
        let mut stored = HashMap::new();
        for (i, capture) in captures.iter().enumerate() {
            if let (false, Some(digest)) = (capture.is_revisit(), &capture.digest) {
                stored.entry(digest.clone()).or_insert(i);
            }
        }
        Index {
            captures,
            stored,
            unreadable_lines: 0,
        }
    }

    pub fn captures(&self) -> &[Capture] {
        &self.captures
    }

    pub fn len(&self) -> usize {
        self.captures.len()
    }

    pub fn is_empty(&self) -> bool {
        self.captures.is_empty()
    }

    pub fn unreadable_lines(&self) -> usize {
        self.unreadable_lines
    }

    /// Every capture of a URL (by its SURT key, so `http://` and `https://www.` forms of one
    /// URL are one), oldest first.
    pub fn captures_of(&self, url: &str) -> &[Capture] {
        self.captures_of_key(&surt(url))
    }

    fn captures_of_key(&self, key: &str) -> &[Capture] {
        let start = self.captures.partition_point(|c| c.urlkey.as_str() < key);
        let len = self.captures[start..].partition_point(|c| c.urlkey == key);
        &self.captures[start..start + len]
    }

    /// The capture of a URL nearest to a time (seconds since the epoch), as [`Index::closest`]
    /// orders them.
    pub fn nearest(&self, url: &str, seconds: i64) -> Option<&Capture> {
        self.closest(url, seconds).into_iter().next()
    }

    /// The captures that may answer for a URL, in the order replay tries them: nearest to a
    /// time (seconds since the epoch) first; of equally near ones the URL exactly as asked
    /// (scheme included) before another spelling of its SURT key, then one that is no 3xx (a
    /// redirect, or a 304 with nothing to show), then the older. Only captures of the URL's
    /// scheme answer for it, `http` and `https` being one (a wget `metadata://gnu.org/...`
    /// record shares its SURT key with `http://gnu.org/...`).
    pub fn closest(&self, url: &str, seconds: i64) -> Vec<&Capture> {
        let wanted = comparable(url);
        let family = scheme_family(url);
        let mut candidates: Vec<&Capture> = self
            .captures_of(url)
            .iter()
            .filter(|c| scheme_family(&c.url) == family)
            .collect();
        candidates.sort_by_cached_key(|c| {
            (
                (c.seconds - seconds).unsigned_abs(),
                comparable(&c.url) != wanted,
                c.status.is_some_and(|s| (300..400).contains(&s)),
                c.seconds,
            )
        });
        candidates
    }

    /// The latest capture of each URL that has a payload to show (a revisit whose original
    /// the collection lacks is passed over for an older capture); of two captured in the same
    /// second, the one the index lists last.
    pub fn latest_per_url(&self) -> Vec<&Capture> {
        let mut latest: HashMap<&str, &Capture> = HashMap::new();
        for capture in self
            .captures
            .iter()
            .filter(|c| self.payload_of(c).is_some())
        {
            let newer = latest
                .get(capture.url.as_str())
                .is_none_or(|l| capture.seconds >= l.seconds);
            if newer {
                latest.insert(&capture.url, capture);
            }
        }
        let mut out: Vec<&Capture> = latest.into_values().collect();
        out.sort_by(|a, b| a.url.cmp(&b.url));
        out
    }

    /// The capture whose record holds this capture's payload: itself, or for a revisit a
    /// capture that stored the same digest, of the same URL if there is one (the nearest in
    /// time, as pywb resolves revisits within the URL's captures), else the first in the
    /// collection; `None` when the collection holds no such. Other tools de-duplicate even
    /// empty payloads, so a revisit of a redirect resolved to any other URL would answer with
    /// a stranger's headers.
    pub fn payload_of<'a>(&'a self, capture: &'a Capture) -> Option<&'a Capture> {
        if !capture.is_revisit() {
            return Some(capture);
        }
        let digest = capture.digest.as_deref()?;
        let same_url = self
            .captures_of_key(&capture.urlkey)
            .iter()
            .filter(|c| !c.is_revisit() && c.digest.as_deref() == Some(digest))
            .min_by_key(|c| (c.seconds - capture.seconds).unsigned_abs());
        same_url.or_else(|| Some(&self.captures[*self.stored.get(digest)?]))
    }

    /// The first capture storing each payload the collection holds.
    pub fn stored_payloads(&self) -> impl Iterator<Item = &Capture> {
        self.stored.values().map(|&i| &self.captures[i])
    }
}

/// A URL as the replay router spells one it is asked for, to tell the exact URL among the
/// spellings of one SURT key.
fn comparable(url: &str) -> String {
    url::Url::parse(url.trim()).map_or_else(|_| url.trim().to_string(), String::from)
}

/// A URL's scheme, lowercased, with `https` counted as `http`.
fn scheme_family(url: &str) -> String {
    let scheme = url
        .split_once(':')
        .map_or("", |(scheme, _)| scheme)
        .trim()
        .to_ascii_lowercase();
    if scheme == "https" {
        "http".to_string()
    } else {
        scheme
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture(url: &str, ts: &str, mime: &str, digest: &str, offset: u64) -> Capture {
        let mut c = Capture::new(url.into(), ts.into()).unwrap();
        c.mime = Some(mime.into());
        c.digest = Some(digest.into());
        c.offset = offset;
        c.filename = "a.warc.zst".into();
        c
    }

    #[test]
    fn nearest_latest_and_revisits_resolved() {
        let index = Index::from_captures(vec![
            capture(
                "https://a.example/p",
                "20230322000900",
                "warc/revisit",
                "sha256:1",
                30,
            ),
            capture(
                "https://a.example/p",
                "20230322000800",
                "text/html",
                "sha256:1",
                10,
            ),
            capture(
                "https://a.example/q",
                "20230101000000",
                "image/png",
                "sha256:2",
                20,
            ),
        ]);
        assert_eq!(index.captures_of("http://a.example/p").len(), 2);
        let seconds = |ts| {
            crate::warc::record::parse_timestamp14(ts)
                .unwrap()
                .unix_timestamp()
        };
        let near = index
            .nearest("https://a.example/p", seconds("2023"))
            .unwrap();
        assert_eq!(near.offset, 10);
        let latest = index.latest_per_url();
        assert_eq!(latest.len(), 2);
        let revisit = latest.iter().find(|c| c.url.ends_with("/p")).unwrap();
        assert!(revisit.is_revisit());
        assert_eq!(index.payload_of(revisit).unwrap().offset, 10);
        assert_eq!(index.stored_payloads().count(), 2);
        let orphan = Index::from_captures(vec![
            capture(
                "https://a.example/r",
                "20230101000000",
                "image/png",
                "sha256:3",
                40,
            ),
            capture(
                "https://a.example/r",
                "20230102000000",
                "warc/revisit",
                "sha256:9",
                50,
            ),
        ]);
        assert_eq!(
            orphan.latest_per_url()[0].offset,
            40,
            "the revisit has no original"
        );
        let unparsed = Index::parse("garbage\n\n");
        assert_eq!((unparsed.len(), unparsed.unreadable_lines()), (0, 1));
    }

    #[test]
    fn the_exact_url_then_no_redirect_answers_first() {
        let with_status = |url: &str, status: u16, offset: u64| {
            let mut c = capture(url, "20200101000000", "text/html", "sha1:X", offset);
            c.status = Some(status);
            c
        };
        let index = Index::from_captures(vec![
            with_status("http://example.com/", 301, 1),
            with_status("https://example.com/", 200, 2),
            with_status("https://www.example.com/", 302, 3),
            with_status("metadata://example.com/", 200, 4),
        ]);
        let at = |url| -> Vec<u64> {
            let seconds = index.captures()[0].seconds;
            index
                .closest(url, seconds)
                .iter()
                .map(|c| c.offset)
                .collect()
        };
        assert_eq!(at("http://example.com/"), [1, 2, 3]);
        assert_eq!(at("https://example.com"), [2, 1, 3]);
        assert_eq!(at("https://www.example.com/"), [3, 2, 1]);
        assert_eq!(
            at("http://example.com/?"),
            [2, 1, 3],
            "no exact URL: no redirect first"
        );
        assert_eq!(
            at("metadata://example.com/"),
            [4],
            "another scheme is another URL"
        );
        // A revisit resolves within its own URL first, then anywhere in the collection.
        let index = Index::from_captures(vec![
            capture(
                "http://a.example/",
                "20200101000000",
                "text/html",
                "sha1:E",
                1,
            ),
            capture(
                "http://b.example/",
                "20200101000000",
                "text/html",
                "sha1:E",
                2,
            ),
            capture(
                "http://b.example/",
                "20200102000000",
                "warc/revisit",
                "sha1:E",
                3,
            ),
            capture(
                "http://c.example/",
                "20200102000000",
                "warc/revisit",
                "sha1:E",
                4,
            ),
        ]);
        let revisit = |offset| {
            index
                .captures()
                .iter()
                .find(|c| c.offset == offset)
                .unwrap()
        };
        assert_eq!(index.payload_of(revisit(3)).unwrap().offset, 2);
        assert_eq!(index.payload_of(revisit(4)).unwrap().offset, 1);
    }
}
