//! The read side of a collection's index, the one way cairn reads `index.cdxj`: every capture
//! sorted as the file is (SURT key, then time) and found by binary search; the nearest capture
//! to a time, the latest of each URL, and for a revisit the capture that stores its payload.
//!
//! The index is kept compact, whatever the number of captures (issue 15): past a few tens of
//! megabytes its text stays in the file, a line read when a lookup reaches it (the page cache
//! keeps what is asked often), and memory holds only where each line that parses starts, in sort order, and one entry per
//! stored payload (a hash of its digest and the line of the first capture storing it): 24
//! bytes a capture at most. A line becomes a [`Capture`] only when a lookup or a scan reaches
//! it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::Path;

use memchr::memchr;
use rayon::prelude::*;

use super::cdxj::Capture;
use super::surt::surt;
use crate::warc::record::parse_timestamp14;

#[derive(Default)]
pub struct Index {
    text: Text,
    /// Where each line that parses starts in `text`, sorted by SURT key then time; lines of
    /// equal key and time in the order of the file (for a file cairn wrote, byte order).
    starts: Vec<u64>,
    /// Each payload digest the index stores, as its hash and the position (in `starts`) of
    /// the first capture storing it (a revisit stores none), sorted. Two digests that share a
    /// hash have an entry each, told apart by reading their lines.
    stored: Vec<(u64, usize)>,
    /// Lines that are not CDXJ captures, left out.
    unreadable_lines: usize,
}

/// The index's text: a large sorted file (as cairn writes them) stays on disk, each line read
/// when a lookup reaches it (a binary search reads about twenty, from the page cache); a small
/// file, text given as such, or a file out of order (sorting reads every key many times), is
/// held in memory.
enum Text {
    /// Read through `pread`, not mapped: a mapping faults, killing the process, when another
    /// tool truncates the file in place (`cdxj-indexer ... > index.cdxj` while `cairn replay`
    /// runs); a read then comes back short, and its lines are passed over.
    File {
        file: File,
        len: u64,
    },
    Memory(Box<[u8]>),
}

/// An index file up to this size (about 100,000 captures) is read whole into memory: a scan
/// of every capture (the offline copy's plan, `latest_per_url`) then costs no read per line,
/// which on disk made a re-crawl's plan of 20,000 captures take 0.8 s (issue 15).
const IN_MEMORY_MAX: u64 = 32 << 20;

impl Default for Text {
    fn default() -> Text {
        Text::Memory(Box::default())
    }
}

impl Text {
    fn len(&self) -> u64 {
        match self {
            Text::File { len, .. } => *len,
            Text::Memory(bytes) => bytes.len() as u64,
        }
    }

    /// The line starting at `start`, without its line ending; `None` if the file no longer
    /// reaches it (cut short since it was read).
    fn line_at(&self, start: u64) -> Option<Cow<'_, [u8]>> {
        match self {
            Text::Memory(bytes) => Some(Cow::Borrowed(line_at(bytes, start))),
            Text::File { file, len } => read_line_at(file, start, *len).map(Cow::Owned),
        }
    }
}

/// The line of a file starting at `start` (before `len`), read in growing pieces until its
/// end; what a read error or a file cut short leaves is what was read, and nothing is `None`.
fn read_line_at(file: &File, start: u64, len: u64) -> Option<Vec<u8>> {
    let mut line = Vec::new();
    let mut piece = vec![0; 512];
    let mut at = start;
    while at < len {
        let want = piece.len().min((len - at) as usize);
        let n = match file.read_at(&mut piece[..want], at) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some(end) = memchr(b'\n', &piece[..n]) {
            line.extend_from_slice(&piece[..end]);
            break;
        }
        line.extend_from_slice(&piece[..n]);
        at += n as u64;
        piece.resize(piece.len() * 2, 0);
    }
    if at == start && line.is_empty() {
        return None;
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Some(line)
}

// The text may be hundreds of megabytes: what it holds is enough to tell one index from another.
impl fmt::Debug for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Index")
            .field("bytes", &self.text.len())
            .field("captures", &self.starts.len())
            .field("stored_payloads", &self.stored.len())
            .field("unreadable_lines", &self.unreadable_lines)
            .finish()
    }
}

impl Index {
    /// The index in `path`: scanned once through a buffer, kept on disk if it is sorted (see
    /// [`Text`]), so memory holds only the line positions and the digest table whatever the
    /// file's size. A missing file is the caller's to tell (`NotFound`).
    pub fn open(path: &Path) -> io::Result<Index> {
        Index::open_holding(path, IN_MEMORY_MAX)
    }

    /// As [`Index::open`], holding a file of at most `in_memory_max` bytes in memory.
    fn open_holding(path: &Path, in_memory_max: u64) -> io::Result<Index> {
        let mut file = File::open(path)?;
        if file.metadata()?.len() <= in_memory_max {
            let mut bytes = Vec::new();
            io::Read::read_to_end(&mut file, &mut bytes)?;
            return Ok(Index::from_text(Text::Memory(bytes.into())));
        }
        let scan = Scan::of_reader(io::BufReader::with_capacity(1 << 20, &file))?;
        if !scan.in_order {
            return Ok(Index::from_text(Text::Memory(std::fs::read(path)?.into())));
        }
        let len = scan.scanned;
        Ok(Index::from_scan(Text::File { file, len }, scan))
    }

    /// The index in CDXJ text; lines that do not parse are counted and left out.
    pub fn parse(text: &str) -> Index {
        Index::from_text(Text::Memory(text.as_bytes().into()))
    }

    /// The index of these captures, as their lines would make it (a capture whose line does
    /// not read back, say one with a timestamp that is no date, counts as unreadable).
    pub fn from_captures(captures: Vec<Capture>) -> Index {
        let lines: Vec<String> = captures.iter().map(Capture::to_line).collect();
        Index::parse(&lines.join("\n"))
    }

    /// An index held in memory, sorted here if its lines are not.
    fn from_text(text: Text) -> Index {
        let mut scan = match &text {
            Text::Memory(bytes) => Scan::of(bytes),
            Text::File { .. } => unreachable!("a file is scanned as it is read"),
        };
        // Files cairn writes are sorted: only another tool's, or one edited by hand, is not.
        if let (false, Text::Memory(bytes)) = (scan.in_order, &text) {
            sort_lines(bytes, &mut scan.starts, &mut scan.stored);
        }
        Index::from_scan(text, scan)
    }

    fn from_scan(text: Text, scan: Scan) -> Index {
        let Scan {
            mut starts,
            mut stored,
            unreadable_lines,
            ..
        } = scan;
        starts.shrink_to_fit();
        first_of_each_digest(&text, &starts, &mut stored);
        Index {
            text,
            starts,
            stored,
            unreadable_lines,
        }
    }

    /// Every capture, in the index's order, each parsed as it is reached.
    pub fn captures(&self) -> impl Iterator<Item = Capture> + '_ {
        (0..self.starts.len()).filter_map(|at| self.capture_at(at))
    }

    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    pub fn unreadable_lines(&self) -> usize {
        self.unreadable_lines
    }

    /// Every capture of a URL (by its SURT key, so `http://` and `https://www.` forms of one
    /// URL are one), oldest first.
    pub fn captures_of(&self, url: &str) -> Vec<Capture> {
        self.parsed(self.captures_of_key(&surt(url))).collect()
    }

    /// The positions of a SURT key's captures: two binary searches over the line starts.
    fn captures_of_key(&self, key: &str) -> Range<usize> {
        let key = key.as_bytes();
        let start = self
            .starts
            .partition_point(|&s| self.key_cmp(s, key).is_lt());
        let len = self.starts[start..].partition_point(|&s| self.key_cmp(s, key).is_eq());
        start..start + len
    }

    /// The capture of a URL nearest to a time (seconds since the epoch), as [`Index::closest`]
    /// orders them.
    pub fn nearest(&self, url: &str, seconds: i64) -> Option<Capture> {
        self.closest(url, seconds).into_iter().next()
    }

    /// The captures that may answer for a URL, in the order replay tries them: nearest to a
    /// time (seconds since the epoch) first; of equally near ones the URL exactly as asked
    /// (scheme included) before another spelling of its SURT key, then one that is no 3xx (a
    /// redirect, or a 304 with nothing to show), then the older. Only captures of the URL's
    /// scheme answer for it, `http` and `https` being one (a wget `metadata://gnu.org/...`
    /// record shares its SURT key with `http://gnu.org/...`).
    pub fn closest(&self, url: &str, seconds: i64) -> Vec<Capture> {
        let wanted = comparable(url);
        let family = scheme_family(url);
        let mut candidates: Vec<Capture> = self
            .captures_of(url)
            .into_iter()
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
    /// second, the one the index lists last. Sorted by URL.
    pub fn latest_per_url(&self) -> Vec<Capture> {
        // Each URL's latest by its time and position only: the captures are parsed again at
        // the end, so the scan holds no capture it will not return. Parsing is most of the
        // work (it stood between a crawl and its offline copy), so it runs on every core.
        let latest = (0..self.starts.len())
            .into_par_iter()
            .fold(
                HashMap::new,
                |mut latest: HashMap<String, (i64, usize)>, at| {
                    if let Some(capture) = self.capture_at(at).filter(|c| self.has_payload(c)) {
                        keep_later(&mut latest, capture.url, (capture.seconds, at));
                    }
                    latest
                },
            )
            .reduce(HashMap::new, |mut one, other| {
                for (url, when) in other {
                    keep_later(&mut one, url, when);
                }
                one
            });
        let mut by_url: Vec<(String, usize)> =
            latest.into_iter().map(|(url, (_, at))| (url, at)).collect();
        by_url.sort_unstable();
        by_url
            .into_par_iter()
            .filter_map(|(_, at)| self.capture_at(at))
            .collect()
    }

    /// The capture whose record holds this capture's payload: itself (borrowed), or for a
    /// revisit a capture that stored the same digest, of the same URL if there is one (the
    /// nearest in time, as pywb resolves revisits within the URL's captures), else the first
    /// in the collection; `None` when the collection holds no such. Other tools de-duplicate
    /// even empty payloads, so a revisit of a redirect resolved to any other URL would answer
    /// with a stranger's headers.
    pub fn payload_of<'a>(&self, capture: &'a Capture) -> Option<Cow<'a, Capture>> {
        if !capture.is_revisit() {
            return Some(Cow::Borrowed(capture));
        }
        let digest = capture.digest.as_deref()?;
        let same_url = self
            .parsed(self.captures_of_key(&capture.urlkey))
            .filter(|c| !c.is_revisit() && c.digest.as_deref() == Some(digest))
            .min_by_key(|c| (c.seconds - capture.seconds).unsigned_abs());
        same_url
            .or_else(|| self.first_storing(digest))
            .map(Cow::Owned)
    }

    /// Whether [`Index::payload_of`] finds one, without reading the URL's other captures: a
    /// capture of the same URL storing the digest is one the digest table has too.
    fn has_payload(&self, capture: &Capture) -> bool {
        !capture.is_revisit()
            || capture
                .digest
                .as_deref()
                .is_some_and(|digest| self.first_storing(digest).is_some())
    }

    /// The first capture storing each payload the collection holds.
    pub fn stored_payloads(&self) -> impl Iterator<Item = Capture> + '_ {
        self.stored
            .iter()
            .filter_map(|&(_, at)| self.capture_at(at))
    }

    /// The first capture storing a digest: the table's entries of its hash, each read to
    /// check that it is this digest and not another of the same hash.
    fn first_storing(&self, digest: &str) -> Option<Capture> {
        self.first_storing_hashed(digest_hash(digest), digest)
    }

    fn first_storing_hashed(&self, hash: u64, digest: &str) -> Option<Capture> {
        let from = self.stored.partition_point(|&(h, _)| h < hash);
        self.stored[from..]
            .iter()
            .take_while(|&&(h, _)| h == hash)
            .filter_map(|&(_, at)| self.capture_at(at))
            .find(|c| c.digest.as_deref() == Some(digest))
    }

    fn parsed(&self, positions: Range<usize>) -> impl Iterator<Item = Capture> + '_ {
        positions.filter_map(|at| self.capture_at(at))
    }

    /// The capture at a position. Every line listed parsed when the index was read; one that
    /// no longer does (a mapped file another tool rewrote in place) is passed over.
    fn capture_at(&self, at: usize) -> Option<Capture> {
        let line = self.text.line_at(self.starts[at])?;
        Capture::parse(std::str::from_utf8(&line).ok()?).ok()
    }

    /// Whether the SURT key of the line at `start` sorts before `key` (`Less`), is it, or
    /// after it. A line the file no longer reaches was at its end, so it sorts after all.
    fn key_cmp(&self, start: u64, key: &[u8]) -> std::cmp::Ordering {
        self.text
            .line_at(start)
            .map_or(std::cmp::Ordering::Greater, |line| key_of(&line).cmp(key))
    }
}

/// Keeps `when` (a capture's seconds and position) for `url` if it is later than the one kept:
/// of two in the same second, the one the index lists last.
fn keep_later(latest: &mut HashMap<String, (i64, usize)>, url: String, when: (i64, usize)) {
    match latest.get_mut(url.as_str()) {
        Some(kept) => *kept = (*kept).max(when),
        None => {
            latest.insert(url, when);
        }
    }
}

/// What one pass over the text finds.
#[derive(Default)]
struct Scan {
    starts: Vec<u64>,
    /// `(digest hash, position)` of every capture storing a payload, in file order.
    stored: Vec<(u64, usize)>,
    unreadable_lines: usize,
    /// Whether the lines that parse come sorted, as cairn writes them.
    in_order: bool,
    /// The SURT key and seconds of the last line that parsed.
    last: Option<(Vec<u8>, i64)>,
    /// Bytes scanned: the text's length.
    scanned: u64,
}

impl Scan {
    /// Every line parsed once, to know it reads, where it sorts and what it stores; nothing of
    /// it is kept but where it starts. Blank lines are no captures and not counted.
    fn of(text: &[u8]) -> Scan {
        let mut scan = Scan::new();
        for (start, line) in lines(text) {
            scan.add(start as u64, line);
        }
        scan.scanned = text.len() as u64;
        scan
    }

    /// As [`Scan::of`], reading the text a buffer at a time.
    fn of_reader(mut text: impl io::BufRead) -> io::Result<Scan> {
        let mut scan = Scan::new();
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = text.read_until(b'\n', &mut line)?;
            if n == 0 {
                return Ok(scan);
            }
            let content = line.strip_suffix(b"\n").unwrap_or(&line);
            scan.add(scan.scanned, content.strip_suffix(b"\r").unwrap_or(content));
            scan.scanned += n as u64;
        }
    }

    fn new() -> Scan {
        Scan {
            in_order: true,
            ..Scan::default()
        }
    }

    fn add(&mut self, start: u64, line: &[u8]) {
        let Ok(line) = std::str::from_utf8(line) else {
            self.unreadable_lines += 1;
            return;
        };
        if line.trim().is_empty() {
            return;
        }
        let Ok(capture) = Capture::parse(line) else {
            self.unreadable_lines += 1;
            return;
        };
        let key = key_of(line.as_bytes());
        let sorts_by = (key, capture.seconds);
        self.in_order &= self
            .last
            .as_ref()
            .is_none_or(|(last_key, last_seconds)| (&last_key[..], *last_seconds) <= sorts_by);
        match &mut self.last {
            Some((last_key, last_seconds)) => {
                last_key.clear();
                last_key.extend_from_slice(key);
                *last_seconds = capture.seconds;
            }
            None => self.last = Some((key.to_vec(), capture.seconds)),
        }
        if let (false, Some(digest)) = (capture.is_revisit(), &capture.digest) {
            self.stored.push((digest_hash(digest), self.starts.len()));
        }
        self.starts.push(start);
    }
}

/// Sorts the lines by SURT key then time, lines of equal ones kept in file order, and points
/// the digest entries at the lines' new positions.
fn sort_lines(text: &[u8], starts: &mut Vec<u64>, stored: &mut [(u64, usize)]) {
    let mut order: Vec<usize> = (0..starts.len()).collect();
    // Stable: equal keys keep their order.
    order.sort_by_cached_key(|&at| sort_key(line_at(text, starts[at])));
    let mut moved_to = vec![0; order.len()];
    for (new, &old) in order.iter().enumerate() {
        moved_to[old] = new;
    }
    *starts = order.iter().map(|&old| starts[old]).collect();
    for entry in stored {
        entry.1 = moved_to[entry.1];
    }
}

/// A line's SURT key and the seconds of its timestamp, as [`Capture::parse`] reads them.
fn sort_key(line: &[u8]) -> (&[u8], i64) {
    let mut fields = line.splitn(3, |&b| b == b' ');
    let key = fields.next().unwrap_or_default();
    let seconds = fields
        .next()
        .and_then(|ts| std::str::from_utf8(ts).ok())
        .and_then(parse_timestamp14)
        .map_or(0, |t| t.unix_timestamp());
    (key, seconds)
}

/// Keeps, of the digest entries, the first capture of each digest: sorted by hash then
/// position, an entry whose hash the one before shares is another capture of the same
/// digest (left out) unless its digest differs from every entry kept for that hash.
fn first_of_each_digest(text: &Text, starts: &[u64], stored: &mut Vec<(u64, usize)>) {
    stored.sort_unstable();
    let digest_at = |at: usize| {
        let line = text.line_at(starts[at])?;
        Capture::parse(std::str::from_utf8(&line).ok()?)
            .ok()?
            .digest
    };
    let mut kept = 0;
    let mut run = 0;
    for next in 0..stored.len() {
        let (hash, at) = stored[next];
        if kept > 0 && stored[kept - 1].0 == hash {
            let digest = digest_at(at);
            if stored[run..kept]
                .iter()
                .any(|&(_, other)| digest_at(other) == digest)
            {
                continue;
            }
        } else {
            run = kept;
        }
        stored[kept] = (hash, at);
        kept += 1;
    }
    stored.truncate(kept);
    stored.shrink_to_fit();
}

fn digest_hash(digest: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    digest.hash(&mut hasher);
    hasher.finish()
}

/// Each line of the text and where it starts, split as `str::lines` splits (at `\n`, a `\r`
/// before it dropped).
fn lines(text: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let start = at;
        let rest = text.get(start..).filter(|rest| !rest.is_empty())?;
        let line = match memchr(b'\n', rest) {
            Some(end) => {
                at = start + end + 1;
                rest[..end].strip_suffix(b"\r").unwrap_or(&rest[..end])
            }
            None => {
                at = text.len();
                rest
            }
        };
        Some((start, line))
    })
}

/// The line starting at `start`, without its line ending.
fn line_at(text: &[u8], start: u64) -> &[u8] {
    let rest = text.get(start as usize..).unwrap_or_default();
    match memchr(b'\n', rest) {
        Some(end) => rest[..end].strip_suffix(b"\r").unwrap_or(&rest[..end]),
        None => rest,
    }
}

/// A line's SURT key: what comes before its first space.
fn key_of(line: &[u8]) -> &[u8] {
    memchr(b' ', line).map_or(line, |end| &line[..end])
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
            let seconds = index.captures().next().unwrap().seconds;
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
        let revisit = |offset| index.captures().find(|c| c.offset == offset).unwrap();
        assert_eq!(index.payload_of(&revisit(3)).unwrap().offset, 2);
        assert_eq!(index.payload_of(&revisit(4)).unwrap().offset, 1);
    }

    /// The lines of these captures, in the order given.
    fn text_of(captures: &[Capture]) -> String {
        captures.iter().map(|c| c.to_line() + "\n").collect()
    }

    fn offsets(captures: impl IntoIterator<Item = Capture>) -> Vec<u64> {
        captures.into_iter().map(|c| c.offset).collect()
    }

    #[test]
    fn lines_out_of_order_sort_by_key_then_time_equal_ones_in_file_order() {
        let text = text_of(&[
            capture(
                "http://b.example/",
                "20200102000000",
                "text/html",
                "sha1:1",
                1,
            ),
            capture(
                "http://a.example/x",
                "20200101000000",
                "text/html",
                "sha1:2",
                2,
            ),
            capture(
                "http://b.example/",
                "20200101000000",
                "text/html",
                "sha1:3",
                3,
            ),
            // The same key and second as the line before: after it, as in the file.
            capture("https://b.example/", "2020", "text/html", "sha1:4", 4),
            capture(
                "http://a.example/",
                "20210101000000",
                "text/html",
                "sha1:5",
                5,
            ),
        ]);
        let index = Index::parse(&text);
        assert_eq!(offsets(index.captures()), [5, 2, 3, 4, 1]);
        assert_eq!(offsets(index.captures_of("http://b.example/")), [3, 4, 1]);
        // The file read reads as the text does.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.cdxj");
        std::fs::write(&path, &text).unwrap();
        let opened = Index::open(&path).unwrap();
        assert_eq!(
            opened.captures().collect::<Vec<_>>(),
            index.captures().collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_revisit_resolves_to_the_first_storing_capture_in_index_order() {
        let index = Index::parse(&text_of(&[
            capture(
                "http://c.example/",
                "20200101000000",
                "text/html",
                "sha1:E",
                1,
            ),
            capture(
                "http://a.example/",
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
        ]));
        let revisit = index.captures_of("http://b.example/").remove(0);
        assert_eq!(index.payload_of(&revisit).unwrap().offset, 2);
        assert_eq!(offsets(index.stored_payloads()), [2]);
        let original = index.captures_of("http://c.example/").remove(0);
        assert!(matches!(
            index.payload_of(&original),
            Some(Cow::Borrowed(c)) if std::ptr::eq(c, &original)
        ));
    }

    #[test]
    fn binary_search_finds_every_key_and_nothing_between() {
        let mut captures = Vec::new();
        for host in 0..40 {
            for path in ["", "a", "ab", "b"] {
                for day in 1..=3 {
                    let offset = captures.len() as u64;
                    captures.push(capture(
                        &format!("http://h{host:02}.example/{path}"),
                        &format!("202001{day:02}000000"),
                        "text/html",
                        &format!("sha1:{offset}"),
                        offset,
                    ));
                }
            }
        }
        let index = Index::from_captures(captures.clone());
        assert_eq!(index.len(), captures.len());
        for c in &captures {
            let found = index.captures_of(&c.url);
            assert_eq!(found.len(), 3, "{}", c.url);
            assert!(found.iter().all(|f| f.url == c.url));
            assert!(found.windows(2).all(|w| w[0].seconds < w[1].seconds));
        }
        for absent in [
            "http://h00.example/aa",
            "http://h20.example/ac",
            "http://a.example/",
            "http://h39.example/c",
            "http://z.example/",
        ] {
            assert!(index.captures_of(absent).is_empty(), "{absent}");
            assert!(index.nearest(absent, 0).is_none(), "{absent}");
        }
        let seconds = crate::warc::record::parse_timestamp14("20200102060000")
            .unwrap()
            .unix_timestamp();
        let near = index.nearest("http://h07.example/ab", seconds).unwrap();
        assert_eq!(
            (near.url.as_str(), &near.timestamp[..8]),
            ("http://h07.example/ab", "20200102")
        );
        assert_eq!(index.stored_payloads().count(), captures.len());
    }

    #[test]
    fn digests_sharing_a_hash_are_told_apart_by_their_lines() {
        let mut index = Index::parse(&text_of(&[
            capture(
                "http://a.example/",
                "20200101000000",
                "text/html",
                "sha1:B",
                1,
            ),
            capture(
                "http://b.example/",
                "20200101000000",
                "text/html",
                "sha1:A",
                2,
            ),
            capture(
                "http://c.example/",
                "20200101000000",
                "text/html",
                "sha1:A",
                3,
            ),
            capture(
                "http://d.example/",
                "20200101000000",
                "text/html",
                "sha1:B",
                4,
            ),
        ]));
        assert_eq!(offsets(index.stored_payloads()).len(), 2);
        // Every capture given one hash, as if the two digests collided.
        let hash = digest_hash("sha1:A");
        let mut table: Vec<(u64, usize)> = (0..index.len()).rev().map(|at| (hash, at)).collect();
        first_of_each_digest(&index.text, &index.starts, &mut table);
        assert_eq!(
            table,
            [(hash, 0), (hash, 1)],
            "the first of each, neither lost"
        );
        index.stored = table;
        assert_eq!(
            index.first_storing_hashed(hash, "sha1:A").unwrap().offset,
            2
        );
        assert_eq!(
            index.first_storing_hashed(hash, "sha1:B").unwrap().offset,
            1
        );
        assert!(index.first_storing_hashed(hash, "sha1:C").is_none());
        assert_eq!(offsets(index.stored_payloads()), [1, 2]);
    }

    #[test]
    fn unreadable_lines_are_counted_and_left_out() {
        let good = |offset: u64| {
            capture(
                "http://a.example/",
                "20200101000000",
                "text/html",
                "sha1:A",
                offset,
            )
            .to_line()
        };
        let mut text = b"garbage\n\n  \t\r\n".to_vec();
        text.extend(good(1).bytes().chain(*b"\r\n"));
        text.extend(br#"com,example)/ 20231399000000 {"url":"http://example.com/","length":1,"offset":1,"filename":"f"}"#);
        text.push(b'\n');
        // Not UTF-8: that line alone is lost.
        text.extend(b"com,example)/ 2023 {\"url\":\"http://example.com/\xff\",\"length\":1,\"offset\":1,\"filename\":\"f\"}\n");
        // The last line, without a line ending.
        text.extend(good(2).bytes());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.cdxj");
        std::fs::write(&path, &text).unwrap();
        for held_in_memory in [0, IN_MEMORY_MAX] {
            let index = Index::open_holding(&path, held_in_memory).unwrap();
            assert_eq!((index.len(), index.unreadable_lines()), (2, 3));
            assert_eq!(offsets(index.captures()), [1, 2]);
            assert_eq!(offsets(index.captures_of("https://a.example")), [1, 2]);
        }
    }

    #[test]
    fn a_sorted_file_is_read_a_line_at_a_time_and_one_cut_short_costs_only_its_lines() {
        let mut captures = Vec::new();
        for host in 0..50 {
            // Lines longer than a first read, CRLF endings: each read whole.
            let path = "p".repeat(host * 20);
            let offset = captures.len() as u64;
            let digest = format!("sha1:{offset}");
            captures.push(capture(
                &format!("http://h{host:02}.example/{path}"),
                "20200101000000",
                "text/html",
                &digest,
                offset,
            ));
        }
        let text: String = captures.iter().map(|c| c.to_line() + "\r\n").collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.cdxj");
        std::fs::write(&path, &text).unwrap();
        let small = Index::open(&path).unwrap();
        assert!(matches!(small.text, Text::Memory(_)), "held in memory");
        assert_eq!(small.captures().collect::<Vec<_>>(), captures);
        let index = Index::open_holding(&path, 0).unwrap();
        assert!(matches!(index.text, Text::File { .. }), "kept on disk");
        assert_eq!(index.captures().collect::<Vec<_>>(), captures);
        for c in &captures {
            assert_eq!(index.captures_of(&c.url), vec![c.clone()]);
            assert_eq!(
                index.first_storing(c.digest.as_deref().unwrap()).as_ref(),
                Some(c)
            );
        }

        // Truncated in place by another tool while open: the lines gone are passed over.
        let kept = captures.len() / 2;
        let cut: usize = text.split_inclusive('\n').take(kept).map(str::len).sum();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(cut as u64)
            .unwrap();
        assert_eq!(index.captures().count(), kept);
        assert!(index.captures_of(&captures[kept].url).is_empty());
        assert_eq!(
            index.captures_of(&captures[0].url),
            vec![captures[0].clone()]
        );

        // A file out of order is held and sorted in memory.
        let reversed: String = text.split_inclusive('\n').rev().collect();
        std::fs::write(&path, reversed).unwrap();
        let index = Index::open_holding(&path, 0).unwrap();
        assert!(matches!(index.text, Text::Memory(_)));
        assert_eq!(index.captures().collect::<Vec<_>>(), captures);
    }

    #[test]
    fn an_empty_index_is_empty_and_a_missing_one_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.cdxj");
        assert_eq!(
            Index::open(&path).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        for text in ["", "\n\n", " \r\n"] {
            std::fs::write(&path, text).unwrap();
            let index = Index::open(&path).unwrap();
            assert!(
                index.is_empty() && index.unreadable_lines() == 0,
                "{text:?}"
            );
            assert!(index.captures_of("http://a.example/").is_empty());
            assert!(index.nearest("http://a.example/", 0).is_none());
            assert!(index.latest_per_url().is_empty());
            assert_eq!(index.stored_payloads().count(), 0);
        }
        assert!(Index::default().is_empty() && Index::parse("").is_empty());
    }
}
