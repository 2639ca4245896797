//! Payloads stored with their HTTP/1.1 chunk framing (RFC 9112 section 7.1), as wget, warcprox
//! and Heritrix keep them, read with the framing undone: what a browser would have received.
//!
//! Written here rather than taken from a crate: `chunked_transfer`, the one `Read` decoder on
//! crates.io, fails on trailers and, on damage, fails having consumed the bytes, and hyper's
//! decoder is private to its async connection. Archived bodies need warcio's
//! `ChunkedDataReader` behaviour instead: where the framing stops making sense (a size line
//! that is no size, a chunk not followed by its CRLF) the rest is passed through as it is, and
//! a body cut short ends where it was cut, so a damaged record still replays. Streams: one
//! size line at a time in memory, whatever the payload's size.

use std::io::{self, BufRead, Read};

/// A size line longer than this is no size line: the body is taken as unframed from there.
/// (warcio gives up after 64 bytes; chunk extensions may be longer.)
const MAX_SIZE_LINE: usize = 4 << 10;

/// Whether a `Transfer-Encoding` value says the body is framed in chunks (`chunked`, or a
/// list that ends with it, as RFC 9112 section 6.1 requires of a response).
pub fn is_chunked(transfer_encoding: &str) -> bool {
    transfer_encoding
        .rsplit(',')
        .next()
        .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
}

/// A chunked body read de-chunked; see the module docs for damaged framing.
pub struct Dechunked<R> {
    inner: R,
    state: State,
    /// Bytes consumed from `inner` while parsing framing that turned out to be none, served
    /// before the rest of `inner` once the body is taken as unframed.
    pending: Vec<u8>,
    pending_at: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At a chunk-size line.
    Size,
    /// Inside a chunk, with this many of its bytes left.
    Data(u64),
    /// After a chunk's bytes, at the CRLF that ends it.
    DataEnd,
    /// After the last (zero-size) chunk: trailer fields, then the blank line.
    Trailers,
    /// The framing broke: `pending`, then the rest of `inner`, as they are.
    Unframed,
    Done,
}

impl<R: BufRead> Dechunked<R> {
    pub fn new(inner: R) -> Dechunked<R> {
        Dechunked {
            inner,
            state: State::Size,
            pending: Vec::new(),
            pending_at: 0,
        }
    }

    /// Reads framing until there are payload bytes to serve (or the end).
    fn advance(&mut self) -> io::Result<()> {
        loop {
            match self.state {
                State::Size => self.read_size_line()?,
                State::DataEnd => self.read_chunk_end()?,
                State::Trailers => self.read_trailers()?,
                State::Data(0) => self.state = State::DataEnd,
                State::Data(_) | State::Unframed | State::Done => return Ok(()),
            }
        }
    }

    fn read_size_line(&mut self) -> io::Result<()> {
        let mut line = Vec::new();
        (&mut self.inner)
            .take(MAX_SIZE_LINE as u64)
            .read_until(b'\n', &mut line)?;
        self.state = match (line.last(), chunk_size(&line)) {
            // A body cut off at a chunk boundary ends there.
            (None, _) => State::Done,
            (Some(b'\n'), Some(0)) => State::Trailers,
            (Some(b'\n'), Some(size)) => State::Data(size),
            _ => {
                self.pending = line;
                State::Unframed
            }
        };
        Ok(())
    }

    /// The CRLF (or a bare LF, as lenient readers accept) after a chunk's bytes.
    fn read_chunk_end(&mut self) -> io::Result<()> {
        let next = self.inner.fill_buf()?.first().copied();
        self.state = match next {
            None => State::Done,
            Some(b'\n') => {
                self.inner.consume(1);
                State::Size
            }
            Some(b'\r') => {
                self.inner.consume(1);
                if self.inner.fill_buf()?.first() == Some(&b'\n') {
                    self.inner.consume(1);
                    State::Size
                } else {
                    self.pending = b"\r".to_vec();
                    State::Unframed
                }
            }
            Some(_) => State::Unframed,
        };
        Ok(())
    }

    /// Trailer fields are metadata of the transfer, not payload: skipped, up to the blank line
    /// that ends the body (or the end of the record, for a writer that left it out).
    fn read_trailers(&mut self) -> io::Result<()> {
        loop {
            let mut line = Vec::new();
            (&mut self.inner)
                .take(MAX_SIZE_LINE as u64)
                .read_until(b'\n', &mut line)?;
            if line.is_empty() || line == b"\r\n" || line == b"\n" {
                self.state = State::Done;
                return Ok(());
            }
        }
    }
}

/// The size a chunk-size line gives: hex digits, then optional whitespace and extensions
/// (`1a;name=value`), then the line end; `None` for a line that is no such line.
fn chunk_size(line: &[u8]) -> Option<u64> {
    let line = line.strip_suffix(b"\n")?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let size = line.split(|&b| b == b';').next()?;
    let digits = size.trim_ascii();
    if digits.is_empty() || digits.len() > 15 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

impl<R: BufRead> BufRead for Dechunked<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.advance()?;
        match self.state {
            State::Unframed if self.pending_at < self.pending.len() => {
                Ok(&self.pending[self.pending_at..])
            }
            State::Unframed => self.inner.fill_buf(),
            State::Data(left) => {
                let available = self.inner.fill_buf()?;
                if available.is_empty() {
                    // Cut short inside a chunk: what there is, is the body.
                    self.state = State::Done;
                }
                let n = available
                    .len()
                    .min(usize::try_from(left).unwrap_or(usize::MAX));
                Ok(&available[..n])
            }
            _ => Ok(&[]),
        }
    }

    fn consume(&mut self, amt: usize) {
        match self.state {
            State::Unframed if self.pending_at < self.pending.len() => self.pending_at += amt,
            State::Unframed => self.inner.consume(amt),
            State::Data(left) => {
                self.inner.consume(amt);
                self.state = State::Data(left - amt as u64);
            }
            _ => {}
        }
    }
}

impl<R: BufRead> Read for Dechunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        crate::warc::codec::read_buffered(self, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dechunk(framed: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        Dechunked::new(framed).read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn framing_extensions_and_trailers_are_undone() {
        for (framed, body) in [
            (
                &b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"[..],
                &b"hello world"[..],
            ),
            (b"5;name=value\r\nhello\r\n0;last\r\n\r\n", b"hello"),
            (
                b"5 ; x\r\nhello\r\n0\r\nExpires: never\r\nX-Y: z\r\n\r\n",
                b"hello",
            ),
            (b"A\r\n0123456789\r\n0\r\n\r\n", b"0123456789"),
            (b"5\nhello\n0\n\n", b"hello"),
            (b"0\r\n\r\n", b""),
            (b"", b""),
        ] {
            assert_eq!(
                dechunk(framed),
                body,
                "{:?}",
                String::from_utf8_lossy(framed)
            );
        }
    }

    #[test]
    fn damage_is_served_as_it_is_never_an_error() {
        // No framing at all, as a tool that de-chunked but kept the header writes it.
        assert_eq!(dechunk(b"<html>hi</html>"), b"<html>hi</html>");
        // Framing that breaks halfway: the good chunks, then the rest as stored (warcio).
        assert_eq!(dechunk(b"3\r\nabc\r\nzz\r\nrest"), b"abczz\r\nrest");
        assert_eq!(dechunk(b"3\r\nabcXY"), b"abcXY");
        // Cut short inside a chunk, or before the last one: what there is.
        assert_eq!(dechunk(b"a\r\nabc"), b"abc");
        assert_eq!(dechunk(b"3\r\nabc\r\n"), b"abc");
        // A size line that never ends.
        let long = [b"1".repeat(MAX_SIZE_LINE + 10), b"\r\nx".to_vec()].concat();
        assert_eq!(dechunk(&long), long);
        assert_eq!(
            dechunk(b"ffffffffffffffffff\r\nx"),
            b"ffffffffffffffffff\r\nx"
        );
        assert!(is_chunked("Chunked") && is_chunked("gzip, chunked") && !is_chunked("gzip"));
    }

    #[test]
    fn streams_through_small_reads() {
        let framed = b"4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n";
        // A reader that hands out one byte at a time splits every line and chunk.
        let one_by_one = io::BufReader::with_capacity(1, &framed[..]);
        let mut out = Vec::new();
        Dechunked::new(one_by_one).read_to_end(&mut out).unwrap();
        assert_eq!(out, b"Wikipedia in\r\n\r\nchunks.");
    }
}
