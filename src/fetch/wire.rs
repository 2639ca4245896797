//! The wire tap: each connection the fetcher opens is wrapped, above TLS and below hyper's
//! HTTP parser, in a [`Tapped`] stream that copies the request head hyper writes and the
//! response head it reads back, as gowarc's dialer and warcio's `capture_http` tee theirs.
//! So the records keep the status line (version, reason phrase) and the header lines (names
//! in their case, order, repetitions, values byte for byte) exactly as they crossed the wire.
//!
//! Only heads are kept. A connection carries its exchanges one after another (HTTP/1.1
//! keep-alive, never pipelined): writing a request starts a new exchange, reading copies
//! bytes until the final response head is complete, and nothing more is copied (the body
//! least of all) until the next request is written. Interim heads (`100 Continue`,
//! `103 Early Hints`) are parsed past and dropped: the record holds the one response it
//! describes, as wget's WARC writer does (hyper skips them the same way).
//!
//! hyper-util sets a clone of the connection's [`Wire`] (its `Connected::extra`) into each
//! response's extensions, after hyper parsed the final head and before the connection can
//! carry another request; [`Wire`]'s `Clone` takes the heads at that moment, so a response
//! carries the heads of its own exchange however soon the connection is reused.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Longer heads are not kept: hyper refuses a response head past about 400 KiB anyway.
const MAX_HEAD: usize = 1 << 20;

/// As many header lines as hyper accepts by default; a head with more fails in hyper too.
const MAX_FIELDS: usize = 100;

/// The heads of one exchange, as they crossed the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Heads {
    /// The request line and header lines as written, through the blank line.
    pub request: Vec<u8>,
    /// The final response's status line and header lines as read, through the blank line.
    pub response: Vec<u8>,
    /// Interim (1xx) heads read before the final one and left out.
    pub interim: usize,
}

/// What the tap has seen of the exchange in progress on one connection.
#[derive(Debug, Default)]
struct Recorder {
    request: Vec<u8>,
    request_complete: bool,
    /// What was read since the response head in progress began.
    response: Vec<u8>,
    /// Set when the final head is complete (or cannot be): nothing more is copied until the
    /// next request.
    response_complete: bool,
    /// Interim heads parsed past, for the log.
    interim: usize,
}

impl Recorder {
    fn wrote(&mut self, bytes: &[u8]) {
        // The server answers only what was asked: a write after reading began is the next
        // request on this connection.
        if self.response_complete || !self.response.is_empty() {
            *self = Recorder::default();
        }
        if self.request_complete {
            return;
        }
        let room = MAX_HEAD.saturating_sub(self.request.len());
        self.request
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
        if let Some(end) = memchr::memmem::find(&self.request, b"\r\n\r\n") {
            self.request.truncate(end + 4);
            self.request_complete = true;
        }
    }

    fn read(&mut self, bytes: &[u8]) {
        if self.response_complete {
            return;
        }
        let room = MAX_HEAD.saturating_sub(self.response.len());
        self.response
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
        loop {
            match parse_head(&self.response) {
                Head::Partial if self.response.len() >= MAX_HEAD => {
                    self.response.clear();
                    self.response_complete = true;
                }
                Head::Partial => {}
                Head::Interim(len) => {
                    self.response.drain(..len);
                    self.interim += 1;
                    continue;
                }
                Head::Final(len) => {
                    self.response.truncate(len);
                    self.response_complete = true;
                }
                Head::Invalid => {
                    self.response.clear();
                    self.response_complete = true;
                }
            }
            return;
        }
    }

    /// The heads of the exchange, once its final response head is complete.
    fn heads(&self) -> Option<Heads> {
        let response = without_leading_newlines(&self.response);
        (self.response_complete && !response.is_empty()).then(|| Heads {
            request: self.request.clone(),
            response: response.to_vec(),
            interim: self.interim,
        })
    }
}

/// Where a response head ends, if it has.
#[derive(Debug, PartialEq, Eq)]
enum Head {
    Partial,
    /// A 1xx head other than `101 Switching Protocols`, this many bytes long; the response
    /// itself follows.
    Interim(usize),
    Final(usize),
    Invalid,
}

/// Parses with httparse, hyper's own parser, so the tap ends a head where hyper does (a bare
/// LF ends lines for both).
fn parse_head(bytes: &[u8]) -> Head {
    let mut fields = [httparse::EMPTY_HEADER; MAX_FIELDS];
    let mut response = httparse::Response::new(&mut fields);
    match response.parse(bytes) {
        Ok(httparse::Status::Partial) => Head::Partial,
        Ok(httparse::Status::Complete(len)) => match response.code {
            Some(100 | 102..=199) => Head::Interim(len),
            _ => Head::Final(len),
        },
        Err(_) => Head::Invalid,
    }
}

/// A head without the empty lines some servers send after the previous body: httparse (and
/// so hyper) skips them, and a record must start with its status line.
fn without_leading_newlines(head: &[u8]) -> &[u8] {
    let start = head
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(head.len());
    &head[start..]
}

/// A connection's tap, as the responses read from it carry it in their extensions.
#[derive(Debug)]
pub struct Wire {
    recorder: Arc<Mutex<Recorder>>,
    /// The address connected to: the server's, or the proxy's.
    pub remote: Option<SocketAddr>,
    heads: Option<Heads>,
}

impl Wire {
    /// The heads of this response's exchange; `None` when the tap saw no complete head.
    pub fn heads(&self) -> Option<&Heads> {
        self.heads.as_ref()
    }
}

/// Takes the heads of the exchange in progress: hyper-util clones a connection's `Wire` into
/// each response as its head is parsed, while the connection is still the response's own (see
/// the module docs).
impl Clone for Wire {
    fn clone(&self) -> Wire {
        Wire {
            recorder: self.recorder.clone(),
            remote: self.remote,
            heads: lock(&self.recorder).heads(),
        }
    }
}

/// A recorder whose writer panicked still holds whole bytes; its heads are as good as any.
fn lock(recorder: &Mutex<Recorder>) -> MutexGuard<'_, Recorder> {
    recorder
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A stream whose heads are copied as they pass.
pub struct Tapped<S> {
    inner: S,
    recorder: Arc<Mutex<Recorder>>,
}

impl<S> Tapped<S> {
    /// Taps `inner` (a TCP or TLS stream); the [`Wire`] is what the connection hands hyper.
    pub fn new(inner: S, remote: Option<SocketAddr>) -> (Tapped<S>, Wire) {
        let recorder = Arc::new(Mutex::new(Recorder::default()));
        let wire = Wire {
            recorder: recorder.clone(),
            remote,
            heads: None,
        };
        (Tapped { inner, recorder }, wire)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tapped<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            lock(&this.recorder).read(&buf.filled()[before..]);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tapped<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            lock(&this.recorder).wrote(&buf[..n]);
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = polled {
            let mut recorder = lock(&this.recorder);
            let mut left = n;
            for buf in bufs {
                let take = left.min(buf.len());
                recorder.wrote(&buf[..take]);
                left -= take;
                if left == 0 {
                    break;
                }
            }
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds a recorder the way a connection would, in pieces of `step` bytes.
    fn exchange(recorder: &mut Recorder, request: &[u8], response: &[u8], step: usize) {
        for piece in request.chunks(step) {
            recorder.wrote(piece);
        }
        for piece in response.chunks(step) {
            recorder.read(piece);
        }
    }

    #[test]
    fn the_final_head_is_kept_whatever_the_reads_and_the_body_is_not() {
        let request = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        let head = b"HTTP/1.0 200 Fine\r\nX-CuStOm-Name: v  \r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n";
        for step in [1, 3, 7, 4096] {
            let mut recorder = Recorder::default();
            exchange(
                &mut recorder,
                request,
                &[&head[..], b"body bytes"].concat(),
                step,
            );
            let heads = recorder.heads().unwrap();
            assert_eq!(heads.request, request, "step {step}");
            assert_eq!(heads.response, head, "step {step}");
            assert_eq!(
                recorder.response.len(),
                head.len(),
                "no body kept, step {step}"
            );
        }
    }

    #[test]
    fn interim_heads_are_parsed_past() {
        let final_head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
        let wire = [
            b"HTTP/1.1 100 Continue\r\n\r\n".as_slice(),
            b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n",
            final_head,
            b"ok",
        ]
        .concat();
        for step in [1, 5, 4096] {
            let mut recorder = Recorder::default();
            exchange(&mut recorder, b"GET / HTTP/1.1\r\n\r\n", &wire, step);
            let heads = recorder.heads().unwrap();
            assert_eq!(heads.response, final_head, "step {step}");
            assert_eq!(heads.interim, 2);
        }
    }

    #[test]
    fn each_exchange_on_a_kept_alive_connection_has_its_own_heads() {
        let mut recorder = Recorder::default();
        let first = b"HTTP/1.1 200 OK\r\nX-First: 1\r\nContent-Length: 3\r\n\r\n";
        exchange(
            &mut recorder,
            b"GET /1 HTTP/1.1\r\n\r\n",
            &[&first[..], b"one"].concat(),
            5,
        );
        assert_eq!(recorder.heads().unwrap().response, first);
        let second = b"HTTP/1.1 404 Gone Away\r\nx-SECOND: 2\r\nContent-Length: 0\r\n\r\n";
        exchange(&mut recorder, b"GET /2 HTTP/1.1\r\n\r\n", second, 5);
        let heads = recorder.heads().unwrap();
        assert_eq!(heads.request, b"GET /2 HTTP/1.1\r\n\r\n");
        assert_eq!(heads.response, second);
    }

    #[test]
    fn bare_line_feeds_and_leading_empty_lines() {
        let mut recorder = Recorder::default();
        exchange(
            &mut recorder,
            b"GET / HTTP/1.1\r\n\r\n",
            b"\r\nHTTP/1.1 200 OK\nA: b\n\nbody",
            2,
        );
        assert_eq!(
            recorder.heads().unwrap().response,
            b"HTTP/1.1 200 OK\nA: b\n\n"
        );
    }

    #[test]
    fn no_heads_before_the_final_head_is_whole_or_when_it_is_garbage() {
        let mut recorder = Recorder::default();
        exchange(
            &mut recorder,
            b"GET / HTTP/1.1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: b\r\n",
            4096,
        );
        assert_eq!(recorder.heads(), None);
        let mut recorder = Recorder::default();
        exchange(
            &mut recorder,
            b"GET / HTTP/1.1\r\n\r\n",
            b"SSH-2.0-OpenSSH\r\n\r\n",
            4096,
        );
        assert_eq!(recorder.heads(), None);
        assert!(recorder.response.is_empty());
    }
}
