//! `cairn verify`: re-reads a WARC file and checks its structure and every digest it can
//! (sha1, sha256, sha512, in base32 or hex), naming the offset of each defect.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::digest::{BlockDigester, DigestFieldError, ExpectedDigest};
use super::error::ReadError;
use super::reader::WarcReader;
use super::record::{Header, RecordType, parse_warc_date};

#[derive(Debug, Clone, Serialize)]
pub struct Defect {
    pub offset: u64,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub path: PathBuf,
    pub compression: Option<&'static str>,
    pub records: u64,
    pub record_types: BTreeMap<String, u64>,
    pub digests_checked: u64,
    /// Digests in an algorithm cairn does not compute (md5, say).
    pub digests_unchecked: u64,
    /// Records that share a gzip member with the next one: readable, but not alone.
    pub records_sharing_a_member: u64,
    pub defects: Vec<Defect>,
}

impl FileReport {
    pub fn ok(&self) -> bool {
        self.defects.is_empty()
    }
}

/// Verifies files on every core, one file per core, reports in the order given.
pub fn verify_files(paths: &[PathBuf]) -> Vec<FileReport> {
    use rayon::prelude::*;
    paths.par_iter().map(|p| verify_file(p)).collect()
}

/// Reads the whole file. Structural damage (truncation, corrupt compression, a wrong
/// Content-Length) ends the check, since nothing after it can be trusted to be where it seems;
/// digest and field defects are collected and the check goes on.
pub fn verify_file(path: &Path) -> FileReport {
    let mut report = FileReport {
        path: path.to_path_buf(),
        compression: None,
        records: 0,
        record_types: BTreeMap::new(),
        digests_checked: 0,
        digests_unchecked: 0,
        records_sharing_a_member: 0,
        defects: Vec::new(),
    };
    if let Err(err) = check_records(path, &mut report) {
        report.defects.push(Defect {
            offset: err.offset().unwrap_or(0),
            message: defect_text(&err),
        });
    } else if report.records == 0 {
        report.defects.push(Defect {
            offset: 0,
            message: "no records: a WARC file holds at least one".into(),
        });
    }
    report
}

/// The defect without the offset, which the report carries on its own.
fn defect_text(err: &ReadError) -> String {
    let text = err.to_string();
    match text.split_once(": ") {
        Some((head, rest)) if head.starts_with("offset ") => rest.to_string(),
        _ => text,
    }
}

fn check_records(path: &Path, report: &mut FileReport) -> Result<(), ReadError> {
    let mut reader = WarcReader::open(path)?;
    report.compression = Some(reader.compression().name());
    while let Some(mut record) = reader.next_record()? {
        let offset = record.offset;
        report.records += 1;
        let kind = record
            .header
            .record_type()
            .map(|t| t.to_string())
            .unwrap_or_else(|| "(none)".into());
        *report.record_types.entry(kind).or_default() += 1;
        for message in field_defects(&record.header) {
            report.defects.push(Defect { offset, message });
        }
        let mut checks = DigestChecks::for_header(&record.header, report);
        let mut block = record.block();
        loop {
            let chunk = block.fill_buf().map_err(|e| ReadError::io(offset, e))?;
            if chunk.is_empty() {
                break;
            }
            checks.update(chunk);
            let n = chunk.len();
            block.consume(n);
        }
        for message in checks.finish() {
            report.defects.push(Defect { offset, message });
        }
        let span = reader.finish_record()?;
        if span.length.is_none() && reader.compression() != super::Compression::None {
            report.records_sharing_a_member += 1;
        }
    }
    Ok(())
}

/// The mandatory fields of WARC/1.1 section 5, present and well-formed.
fn field_defects(header: &Header) -> Vec<String> {
    let mut defects = Vec::new();
    if !matches!(header.version.as_str(), "WARC/1.0" | "WARC/1.1") {
        defects.push(format!("unsupported version {:?}", header.version));
    }
    for name in ["WARC-Record-ID", "WARC-Type", "WARC-Date"] {
        if header.get(name).is_none() {
            defects.push(format!("missing {name}"));
        }
    }
    if let Some(date) = header.get("WARC-Date")
        && parse_warc_date(date).is_none()
    {
        defects.push(format!("unreadable WARC-Date {date:?}"));
    }
    if let Some(RecordType::Response | RecordType::Request | RecordType::Revisit) =
        header.record_type()
        && header.target_uri().is_none()
    {
        defects.push("missing WARC-Target-URI".into());
    }
    defects
}

/// The digests a record names, computed while its block streams past.
struct DigestChecks {
    block: Option<(String, ExpectedDigest, BlockDigester)>,
    payload: Option<(String, ExpectedDigest, BlockDigester)>,
    malformed: Vec<String>,
}

impl DigestChecks {
    fn for_header(header: &Header, report: &mut FileReport) -> DigestChecks {
        let http = header.holds_http();
        // A revisit's payload digest names the original's payload, which it does not hold.
        let has_payload = !matches!(header.record_type(), Some(RecordType::Revisit));
        let mut malformed = Vec::new();
        let mut expect = |field: &str, wanted: bool| {
            let value = header.get(field).filter(|_| wanted)?;
            match ExpectedDigest::parse(value) {
                Ok(expected) => {
                    report.digests_checked += 1;
                    let digester = BlockDigester::new(expected.algorithm, http);
                    Some((field.to_string(), expected, digester))
                }
                Err(DigestFieldError::Unsupported(_)) => {
                    report.digests_unchecked += 1;
                    None
                }
                Err(DigestFieldError::Malformed(v)) => {
                    malformed.push(format!("{field} is malformed: {v:?}"));
                    None
                }
            }
        };
        let block = expect("WARC-Block-Digest", true);
        let payload = expect("WARC-Payload-Digest", has_payload);
        DigestChecks {
            block,
            payload,
            malformed,
        }
    }

    fn update(&mut self, chunk: &[u8]) {
        for (_, _, digester) in [&mut self.block, &mut self.payload].into_iter().flatten() {
            digester.update(chunk);
        }
    }

    fn finish(self) -> Vec<String> {
        let mut defects = self.malformed;
        if let Some((field, expected, digester)) = self.block
            && digester.finish().0 != expected.value
        {
            defects.push(format!("{field} does not match the block"));
        }
        if let Some((field, expected, digester)) = self.payload {
            match digester.finish().1 {
                Some(actual) if actual == expected.value => {}
                Some(_) => defects.push(format!("{field} does not match the payload")),
                None => defects.push(format!("{field} given, but the HTTP header never ends")),
            }
        }
        defects
    }
}
