//! The WARC sink of a crawl: a thread of its own that turns exchanges into records, so a slow
//! disk holds fetching up only when the queue in between is full.

use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::thread::JoinHandle;

use time::OffsetDateTime;
use tokio::sync::mpsc;

use crate::fetch::{Exchange, Spool};
use crate::warc::digest::sha256_label;
use crate::warc::record::format_warc_date;
use crate::warc::{Block, NewRecord, ReadSeek, RecordType, WarcWriter, WriteError, WriterConfig};

/// A payload already stored, that a revisit record refers to.
#[derive(Debug, Clone)]
pub struct Original {
    /// Known for payloads stored in this crawl; the index of earlier crawls does not keep it
    /// (`WARC-Refers-To` is optional; the target URI and date identify the original).
    pub record_id: Option<String>,
    pub target_uri: String,
    pub date: OffsetDateTime,
}

/// What the sink writes for one fetch.
pub struct CaptureJob {
    pub exchange: Exchange,
    pub request_id: String,
    pub response_id: String,
    /// Set when the payload is already in the archive: a revisit record is written instead of
    /// the payload.
    pub revisit_of: Option<Original>,
    /// `application/warc-fields` describing the page: via, hops, outlinks.
    pub metadata: Option<Vec<u8>>,
}

pub enum Job {
    Capture(Box<CaptureJob>),
    /// A record built elsewhere (the archived post itself, say).
    Resource {
        target_uri: String,
        content_type: String,
        block: Vec<u8>,
    },
}

#[derive(Debug, Default)]
pub struct SinkReport {
    pub files: Vec<PathBuf>,
    pub records: u64,
    pub bytes: u64,
}

pub struct Sink {
    tx: mpsc::Sender<Job>,
    thread: JoinHandle<Result<SinkReport, WriteError>>,
}

impl Sink {
    pub fn start(config: WriterConfig) -> Result<Sink, WriteError> {
        let mut writer = WarcWriter::new(config)?;
        let (tx, mut rx) = mpsc::channel::<Job>(64);
        let thread = std::thread::Builder::new()
            .name("cairn-warc".into())
            .spawn(move || {
                let mut report = SinkReport::default();
                while let Some(job) = rx.blocking_recv() {
                    write_job(&mut writer, job, &mut report)?;
                    // Hand what is written to the OS whenever the queue runs dry: a crash
                    // then loses only records still in flight, never finished ones.
                    if rx.is_empty() {
                        writer.flush()?;
                    }
                }
                report.files = writer.close()?;
                Ok(report)
            })
            .map_err(WriteError::Block)?;
        Ok(Sink { tx, thread })
    }

    /// Queues a job; waits only while the queue is full. An error means the writer stopped
    /// (its own error is returned by [`Sink::finish`]).
    pub async fn send(&self, job: Job) -> Result<(), ()> {
        self.tx.send(job).await.map_err(|_| ())
    }

    /// Closes the channel, lets the writer finish and close its file.
    pub fn finish(self) -> Result<SinkReport, WriteError> {
        drop(self.tx);
        self.thread.join().unwrap_or_else(|_| {
            Err(WriteError::Block(io::Error::other(
                "WARC writer thread panicked",
            )))
        })
    }
}

fn write_job(writer: &mut WarcWriter, job: Job, report: &mut SinkReport) -> Result<(), WriteError> {
    let mut count = |w: crate::warc::Written| {
        report.records += 1;
        report.bytes += w.length;
    };
    match job {
        Job::Resource {
            target_uri,
            content_type,
            block,
        } => {
            let record = NewRecord::new(RecordType::Resource, Block::Bytes(&block))
                .target(&target_uri)
                .content_type(&content_type);
            count(writer.write(record)?);
        }
        Job::Capture(job) => {
            let CaptureJob {
                exchange,
                request_id,
                response_id,
                revisit_of,
                metadata,
            } = *job;
            let uri = exchange.url.as_str();
            let ip = exchange.ip.map(|ip| ip.to_string());
            let with_ip = |r| with_ip(r, ip.as_deref());
            let response = match &revisit_of {
                Some(original) => with_ip(
                    refers_to(
                        NewRecord::new(RecordType::Revisit, Block::Bytes(&exchange.response_head))
                            .field(
                                "WARC-Profile",
                                "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest",
                            )
                            .field("WARC-Refers-To-Target-URI", original.target_uri.clone())
                            .field("WARC-Refers-To-Date", format_warc_date(original.date)),
                        original,
                    )
                    .field(
                        "WARC-Payload-Digest",
                        sha256_label(&exchange.payload_sha256),
                    ),
                ),
                None => with_ip(NewRecord::new(RecordType::Response, Block::Bytes(&[]))),
            }
            .id(&response_id)
            .date(exchange.date)
            .target(uri)
            .content_type("application/http; msgtype=response");
            let mut response = match exchange.truncated {
                Some(reason) if revisit_of.is_none() => response.field("WARC-Truncated", reason),
                _ => response,
            };
            let mut stream = HeadThenBody::new(&exchange.response_head, &exchange.body)
                .map_err(WriteError::Block)?;
            if revisit_of.is_none() {
                let len = stream.len();
                response.block = Block::Stream {
                    reader: &mut stream,
                    len,
                };
                response.payload_sha256 = Some(exchange.payload_sha256);
            }
            count(writer.write(response)?);
            let request = with_ip(
                NewRecord::new(RecordType::Request, Block::Bytes(&exchange.request_head))
                    .id(&request_id)
                    .date(exchange.date)
                    .target(uri)
                    .content_type("application/http; msgtype=request")
                    .field("WARC-Concurrent-To", response_id.clone()),
            );
            count(writer.write(request)?);
            if let Some(fields) = metadata {
                let record = NewRecord::new(RecordType::Metadata, Block::Bytes(&fields))
                    .date(exchange.date)
                    .target(uri)
                    .content_type("application/warc-fields")
                    .field("WARC-Concurrent-To", response_id.clone());
                count(writer.write(record)?);
            }
        }
    }
    Ok(())
}

fn refers_to<'a>(record: NewRecord<'a>, original: &Original) -> NewRecord<'a> {
    match &original.record_id {
        Some(id) => record.field("WARC-Refers-To", id.clone()),
        None => record,
    }
}

fn with_ip<'a>(record: NewRecord<'a>, ip: Option<&str>) -> NewRecord<'a> {
    match ip {
        Some(ip) => record.field("WARC-IP-Address", ip),
        None => record,
    }
}

/// The response block as one seekable stream: the head from memory, then the body from memory
/// or its spool file.
struct HeadThenBody<'a> {
    head: &'a [u8],
    body: Box<dyn ReadSeek + 'a>,
    body_len: u64,
    pos: u64,
}

impl<'a> HeadThenBody<'a> {
    fn new(head: &'a [u8], spool: &'a Spool) -> io::Result<HeadThenBody<'a>> {
        let body: Box<dyn ReadSeek + 'a> = match spool {
            Spool::Memory(v) => Box::new(Cursor::new(&v[..])),
            Spool::File { file, .. } => Box::new(file.try_clone()?),
        };
        let mut stream = HeadThenBody {
            head,
            body,
            body_len: spool.len(),
            pos: 0,
        };
        stream.seek(SeekFrom::Start(0))?;
        Ok(stream)
    }

    fn len(&self) -> u64 {
        self.head.len() as u64 + self.body_len
    }
}

impl Read for HeadThenBody<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let head_len = self.head.len() as u64;
        let n = if self.pos < head_len {
            let from = self.pos as usize;
            let n = (self.head.len() - from).min(buf.len());
            buf[..n].copy_from_slice(&self.head[from..from + n]);
            n
        } else {
            let left = self.len() - self.pos;
            let want = buf.len().min(left.min(usize::MAX as u64) as usize);
            self.body.read(&mut buf[..want])?
        };
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for HeadThenBody<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let pos = match to {
            SeekFrom::Start(p) => p,
            SeekFrom::Current(d) => self.pos.saturating_add_signed(d),
            SeekFrom::End(d) => self.len().saturating_add_signed(d),
        };
        let head_len = self.head.len() as u64;
        self.body
            .seek(SeekFrom::Start(pos.saturating_sub(head_len)))?;
        self.pos = pos;
        Ok(pos)
    }
}
