//! The WARC sink of a crawl: a thread of its own that turns exchanges into records, so a slow
//! disk holds fetching up only when the queue in between is full. The queue is bounded by the
//! bytes it holds, not by its jobs: a burst of small images queues without holding the crawl.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

use time::OffsetDateTime;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use crate::content::is_packed;
use crate::fetch::{Exchange, Spool};
use crate::index::WrittenIndex;
use crate::state::payloads::{Outbox, StoredPayload};
use crate::warc::digest::sha256_label;
use crate::warc::reader::read_record_header;
use crate::warc::record::{format_warc_date, timestamp14};
use crate::warc::{Block, NewRecord, RecordType, WarcWriter, WriteError, WriterConfig, Written};

/// A payload already stored, that a revisit record refers to by its record ID, target URI
/// and `WARC-Date` exactly as written (WARC/1.1 section 6.7.2), so that a reader looking the
/// original up by URI and date finds it.
#[derive(Debug, Clone)]
pub struct Original {
    pub record_id: Option<String>,
    pub target_uri: String,
    /// The original's `WARC-Date`, as written.
    pub date: String,
    /// Where an earlier crawl stored it: the index keeps neither its record ID nor its date
    /// below the second, so both are read from the record itself when a revisit needs them.
    pub stored_at: Option<(PathBuf, u64)>,
}

impl Original {
    /// A payload stored in this crawl, by the response record that holds it.
    pub fn stored_now(record_id: String, target_uri: String, date: OffsetDateTime) -> Original {
        Original {
            record_id: Some(record_id),
            target_uri,
            date: format_warc_date(date),
            stored_at: None,
        }
    }

    /// The original's own record ID and date, read from its record if they are not known
    /// yet. A record that no longer reads leaves what the index said.
    fn resolved(&self) -> Original {
        let mut original = self.clone();
        let Some((file, offset)) = &self.stored_at else {
            return original;
        };
        if self.record_id.is_some() {
            return original;
        }
        let header = match read_record_header(file, *offset) {
            Ok(header) => header,
            Err(e) => {
                tracing::warn!(
                    original = %self.target_uri,
                    "revisit names its original by URI and index date only: {e}"
                );
                return original;
            }
        };
        // The record must be the one the index named (an index gone stale could point
        // elsewhere): the same URI, at the same second.
        let uri = header.target_uri().unwrap_or("");
        let same_second = header.get("WARC-Date").and_then(timestamp14)
            == self.date.get(..19).map(|d| d.replace(['-', 'T', ':'], ""));
        if uri.replace(' ', "%20") != self.target_uri || !same_second {
            tracing::warn!(original = %self.target_uri, "the index names another record");
            return original;
        }
        original.target_uri = uri.to_string();
        original.record_id = header.get("WARC-Record-ID").map(str::to_string);
        if let Some(date) = header.get("WARC-Date") {
            original.date = date.to_string();
        }
        original
    }
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
    /// The index lines of what was written.
    pub index: WrittenIndex,
    /// Payloads stored since the last flush, for the outbox.
    stored: Vec<StoredPayload>,
}

impl Job {
    /// What the job leaves the writer to write: its body (in memory or spooled) and a KiB
    /// for its heads and metadata, so that no job weighs nothing.
    fn weight(&self) -> u64 {
        let held = match self {
            Job::Capture(job) => {
                job.exchange.body.len()
                    + job.exchange.response_head.len() as u64
                    + job.metadata.as_ref().map_or(0, |m| m.len() as u64)
            }
            Job::Resource { block, .. } => block.len() as u64,
        };
        held + 1024
    }
}

/// The most the queue to the writer holds, in bytes of jobs ([`Job::weight`]); a job larger
/// than this goes alone. A bound of 64 jobs held the crawl benchmark's coordinator whenever
/// the writer fell a few images behind, and the crawl left both cores about 12% idle: 512
/// jobs took it from 1.81 s to 1.57 s, this bound from 2.00 s to 1.86 s in a slower hour
/// (medians of four and six interleaved runs), both cores busy.
const QUEUE_BYTES: u64 = 16 << 20;

/// A job in the queue, holding its share of [`QUEUE_BYTES`] until it is written.
struct Queued {
    job: Job,
    _share: OwnedSemaphorePermit,
}

pub struct Sink {
    tx: mpsc::UnboundedSender<Queued>,
    room: Arc<Semaphore>,
    thread: JoinHandle<Result<SinkReport, WriteError>>,
}

impl Sink {
    /// Starts the writer thread. With an outbox, every payload stored as a response is put
    /// there once its record is flushed to the file (see [`crate::state::payloads`]).
    pub fn start(config: WriterConfig, outbox: Option<Outbox>) -> Result<Sink, WriteError> {
        let mut writer = WarcWriter::new(config)?;
        let (tx, mut rx) = mpsc::unbounded_channel::<Queued>();
        let thread = std::thread::Builder::new()
            .name("cairn-warc".into())
            .spawn(move || {
                let mut report = SinkReport::default();
                let mut originals = Originals::default();
                while let Some(queued) = rx.blocking_recv() {
                    write_job(&mut writer, queued.job, &mut originals, &mut report)?;
                    // Hand what is written to the OS whenever the queue runs dry: a crash
                    // then loses only records still in flight, never finished ones.
                    if rx.is_empty() {
                        writer.flush()?;
                        report.post_stored(outbox.as_ref());
                    }
                }
                report.files = writer.close()?;
                report.post_stored(outbox.as_ref());
                Ok(report)
            })
            .map_err(WriteError::Block)?;
        let room = Arc::new(Semaphore::new(QUEUE_BYTES as usize));
        Ok(Sink { tx, room, thread })
    }

    /// Queues a job; waits only while the queue is full. An error means the writer stopped
    /// (its own error is returned by [`Sink::finish`]).
    pub async fn send(&self, job: Job) -> Result<(), ()> {
        // At most QUEUE_BYTES, which fits in a u32.
        let share = job.weight().min(QUEUE_BYTES) as u32;
        // The sink never closes its semaphore.
        let share = self
            .room
            .clone()
            .acquire_many_owned(share)
            .await
            .map_err(|_| ())?;
        self.tx.send(Queued { job, _share: share }).map_err(|_| ())
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

/// Counts what the writer wrote, and indexes it.
impl SinkReport {
    /// Hands the payloads stored since the last flush to the outbox, if there is one.
    fn post_stored(&mut self, outbox: Option<&Outbox>) {
        let Some(outbox) = outbox else {
            self.stored.clear();
            return;
        };
        if !self.stored.is_empty()
            && let Ok(mut out) = outbox.lock()
        {
            out.append(&mut self.stored);
        }
    }

    fn count(&mut self, written: Written, http_head: Option<&[u8]>) {
        self.records += 1;
        self.bytes += written.length;
        self.index.add(&written, http_head);
    }
}

/// The originals earlier crawls stored, as read from their records: each read once a crawl,
/// however many revisits name it (a re-crawl of an unchanged site names every one).
#[derive(Default)]
struct Originals(std::collections::HashMap<(PathBuf, u64), Original>);

impl Originals {
    fn resolve(&mut self, original: &Original) -> Original {
        match &original.stored_at {
            Some(at) if original.record_id.is_none() => self
                .0
                .entry(at.clone())
                .or_insert_with(|| original.resolved())
                .clone(),
            _ => original.clone(),
        }
    }
}

fn write_job(
    writer: &mut WarcWriter,
    job: Job,
    originals: &mut Originals,
    report: &mut SinkReport,
) -> Result<(), WriteError> {
    match job {
        Job::Resource {
            target_uri,
            content_type,
            block,
        } => {
            let record = NewRecord::new(RecordType::Resource, Block::Bytes(&block))
                .target(&target_uri)
                .content_type(&content_type);
            report.count(writer.write(record)?, None);
        }
        Job::Capture(job) => write_capture(writer, *job, originals, report)?,
    }
    Ok(())
}

/// A fetch's records: the response (or a revisit), the request, and the page's metadata.
fn write_capture(
    writer: &mut WarcWriter,
    job: CaptureJob,
    originals: &mut Originals,
    report: &mut SinkReport,
) -> Result<(), WriteError> {
    let CaptureJob {
        exchange,
        request_id,
        response_id,
        revisit_of,
        metadata,
    } = job;
    let uri = exchange.url.as_str();
    let ip = exchange.ip.map(|ip| ip.to_string());
    let mut spooled;
    let response = match revisit_of.as_ref().map(|o| originals.resolve(o)) {
        Some(original) => with_ip(revisit_record(&exchange, &original), ip.as_deref()),
        None => {
            let head = &exchange.response_head;
            let block = match &exchange.body {
                Spool::Memory(body) => Block::Parts(head, body),
                Spool::File { file, len } => {
                    spooled = HeadThenBody::new(head, file, *len).map_err(WriteError::Block)?;
                    Block::Stream {
                        len: spooled.len(),
                        reader: &mut spooled,
                    }
                }
            };
            response_record(&exchange, block, ip.as_deref())
        }
    }
    .id(&response_id)
    .date(exchange.date)
    .target(uri)
    .content_type("application/http; msgtype=response");
    let written = writer.write(response)?;
    // What later captures may refer to: a whole, non-empty payload stored here.
    if revisit_of.is_none() && !exchange.body.is_empty() && exchange.truncated.is_none() {
        report.stored.push(StoredPayload {
            sha256: exchange.payload_sha256,
            record_id: response_id.clone(),
            target_uri: uri.to_string(),
            date: format_warc_date(exchange.date),
            file: written.filename.clone(),
            offset: written.offset,
        });
    }
    report.count(written, Some(&exchange.response_head));
    let request = with_ip(
        NewRecord::new(RecordType::Request, Block::Bytes(&exchange.request_head)),
        ip.as_deref(),
    )
    .id(&request_id)
    .date(exchange.date)
    .target(uri)
    .content_type("application/http; msgtype=request")
    .field("WARC-Concurrent-To", response_id.clone());
    report.count(writer.write(request)?, None);
    if let Some(fields) = metadata {
        let record = NewRecord::new(RecordType::Metadata, Block::Bytes(&fields))
            .date(exchange.date)
            .target(uri)
            .content_type("application/warc-fields")
            .field("WARC-Concurrent-To", response_id);
        report.count(writer.write(record)?, None);
    }
    Ok(())
}

/// The whole response (`block`: its HTTP header, then the body from memory or its spool
/// file); its payload digest is the one the fetcher computed as the body arrived.
fn response_record<'a>(exchange: &Exchange, block: Block<'a>, ip: Option<&str>) -> NewRecord<'a> {
    let mut record = with_ip(NewRecord::new(RecordType::Response, block), ip);
    record.payload_sha256 = Some(exchange.payload_sha256);
    record.packed = is_packed(exchange.content_type(), exchange.header("content-encoding"));
    match exchange.truncated {
        Some(reason) => record.field("WARC-Truncated", reason),
        None => record,
    }
}

/// A response whose payload is stored already: its HTTP header only, naming the original.
fn revisit_record<'a>(exchange: &'a Exchange, original: &Original) -> NewRecord<'a> {
    let record = NewRecord::new(RecordType::Revisit, Block::Bytes(&exchange.response_head))
        .field(
            "WARC-Profile",
            "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest",
        )
        .field("WARC-Refers-To-Target-URI", original.target_uri.clone())
        .field("WARC-Refers-To-Date", original.date.clone());
    refers_to(record, original).field(
        "WARC-Payload-Digest",
        sha256_label(&exchange.payload_sha256),
    )
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

/// The response block of a spooled body as one seekable stream: the head from memory, then
/// the body from its spool file.
struct HeadThenBody<'a> {
    head: &'a [u8],
    body: File,
    body_len: u64,
    pos: u64,
}

impl<'a> HeadThenBody<'a> {
    fn new(head: &'a [u8], spool: &File, body_len: u64) -> io::Result<HeadThenBody<'a>> {
        let mut stream = HeadThenBody {
            head,
            body: spool.try_clone()?,
            body_len,
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

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;
    use crate::fetch::Spool;
    use crate::warc::{Clock, Compression, RecordIds};

    fn label(bytes: &[u8]) -> String {
        sha256_label(&Sha256::digest(bytes))
    }

    /// A page's capture job, with the body and the heads it holds.
    fn page_capture(date: time::OffsetDateTime) -> (CaptureJob, Vec<u8>, Vec<u8>, Vec<u8>) {
        let body = b"<title>x</title>".to_vec();
        let response_head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n".to_vec();
        let request_head = b"GET /x HTTP/1.1\r\nHost: a.example\r\n\r\n".to_vec();
        let exchange = Exchange {
            url: url::Url::parse("https://a.example/x").unwrap(),
            date,
            ip: Some("192.0.2.1".parse().unwrap()),
            request_head: request_head.clone(),
            status: 200,
            response_head: response_head.clone(),
            headers: vec![("content-type".into(), "text/html".into())],
            payload_sha256: Sha256::digest(&body).into(),
            body: Spool::Memory(body.clone()),
            truncated: None,
        };
        let job = CaptureJob {
            exchange,
            request_id: "<urn:uuid:req>".into(),
            response_id: "<urn:uuid:resp>".into(),
            revisit_of: None,
            metadata: Some(b"hops: \r\n".to_vec()),
        };
        (job, body, response_head, request_head)
    }

    /// An exchange becomes its response, request and metadata records, exactly these bytes.
    #[test]
    fn an_exchange_maps_to_these_records_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = WriterConfig::new(dir.path(), "t", Compression::None);
        let date = time::macros::datetime!(2023-03-22 00:08:00.5 UTC);
        config.clock = Clock::ticking(date, time::Duration::seconds(1));
        config.ids = RecordIds::sequential();
        let mut writer = WarcWriter::new(config).unwrap();
        let (job, body, response_head, request_head) = page_capture(date);
        let mut report = SinkReport::default();
        write_job(
            &mut writer,
            Job::Capture(Box::new(job)),
            &mut Originals::default(),
            &mut report,
        )
        .unwrap();
        let file = writer.close().unwrap().remove(0);
        let text = String::from_utf8(std::fs::read(file).unwrap()).unwrap();
        let block = [response_head.as_slice(), &body].concat();
        let response = [
            "WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:resp>\r\n",
            "WARC-Date: 2023-03-22T00:08:00.500000Z\r\nWARC-Target-URI: https://a.example/x\r\n",
            "WARC-IP-Address: 192.0.2.1\r\nContent-Type: application/http; msgtype=response\r\n",
            &format!("WARC-Block-Digest: {}\r\n", label(&block)),
            &format!("WARC-Payload-Digest: {}\r\n", label(&body)),
            &format!("Content-Length: {}\r\n\r\n", block.len()),
            std::str::from_utf8(&block).unwrap(),
            "\r\n\r\n",
        ]
        .concat();
        let request = [
            "WARC/1.1\r\nWARC-Type: request\r\nWARC-Record-ID: <urn:uuid:req>\r\n",
            "WARC-Date: 2023-03-22T00:08:00.500000Z\r\nWARC-Target-URI: https://a.example/x\r\n",
            "WARC-IP-Address: 192.0.2.1\r\nWARC-Concurrent-To: <urn:uuid:resp>\r\n",
            "Content-Type: application/http; msgtype=request\r\n",
            &format!("WARC-Block-Digest: {}\r\n", label(&request_head)),
            &format!("WARC-Payload-Digest: {}\r\n", label(b"")),
            &format!("Content-Length: {}\r\n\r\n", request_head.len()),
            std::str::from_utf8(&request_head).unwrap(),
            "\r\n\r\n",
        ]
        .concat();
        let metadata = [
            "WARC/1.1\r\nWARC-Type: metadata\r\n",
            "WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000002>\r\n",
            "WARC-Date: 2023-03-22T00:08:00.500000Z\r\nWARC-Target-URI: https://a.example/x\r\n",
            "WARC-Concurrent-To: <urn:uuid:resp>\r\nContent-Type: application/warc-fields\r\n",
            &format!("WARC-Block-Digest: {}\r\n", label(b"hops: \r\n")),
            "Content-Length: 8\r\n\r\nhops: \r\n\r\n\r\n",
        ]
        .concat();
        let records = text
            .split_once("WARC/1.1\r\nWARC-Type: response")
            .unwrap()
            .1;
        assert_eq!(
            format!("WARC/1.1\r\nWARC-Type: response{records}"),
            [response, request, metadata].concat()
        );
        assert_eq!(report.records, 3);
    }

    /// The queue is bounded by bytes: a job larger than all of it still goes (alone, never
    /// waiting for room that cannot come), and every job is written, in the order sent.
    #[test]
    fn a_job_larger_than_the_queue_goes_alone_and_all_are_written_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let sink =
            Sink::start(WriterConfig::new(dir.path(), "t", Compression::None), None).unwrap();
        let sizes = [
            10,
            QUEUE_BYTES as usize + 1,
            10,
            QUEUE_BYTES as usize / 2,
            10,
        ];
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            for (n, size) in sizes.iter().enumerate() {
                let job = Job::Resource {
                    target_uri: format!("https://a.example/{n}"),
                    content_type: "application/octet-stream".into(),
                    block: vec![b'x'; *size],
                };
                sink.send(job).await.unwrap();
            }
        });
        let report = sink.finish().unwrap();
        assert_eq!(report.records, sizes.len() as u64);
        let text = std::fs::read(&report.files[0]).unwrap();
        let text = String::from_utf8_lossy(&text);
        let order: Vec<usize> = (0..sizes.len())
            .map(|n| text.find(&format!("https://a.example/{n}\r\n")).unwrap())
            .collect();
        assert!(order.is_sorted(), "{order:?}");
    }
}
