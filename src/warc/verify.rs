//! `cairn verify`: re-reads a WARC file and checks its structure and every digest it can
//! (sha1, sha256, sha512, in base32 or hex), naming the offset of each defect.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::codec::Compression;
use super::digest::{BlockDigester, DigestFieldError, ExpectedDigest};
use super::error::ReadError;
use super::reader::{WarcReader, next_whole_record};
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
    /// Digests in an algorithm cairn does not compute (md5, say), and those algorithms.
    pub digests_unchecked: u64,
    pub unchecked_algorithms: std::collections::BTreeSet<String>,
    /// Records that share a gzip member with the next one: readable, but not alone.
    pub records_sharing_a_member: u64,
    pub defects: Vec<Defect>,
    /// What readers accept but the format does not ask for (warcio and FastWARC warn too).
    pub warnings: Vec<Defect>,
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

/// Reads the whole file, reporting every defect: digest and field defects as the records go
/// by, and structural damage (truncation, corrupt compression, a wrong Content-Length) with the
/// offset where reading resumed, at the next record that reads whole, if any does.
pub fn verify_file(path: &Path) -> FileReport {
    if super::wacz::is_wacz_name(&path.to_string_lossy()) {
        return verify_package(path);
    }
    let mut report = FileReport::new(path);
    let mut from = 0;
    while let Err(err) = check_records(path, from, &mut report) {
        let offset = err.offset().unwrap_or(from);
        let mut message = err.detail();
        let resumed = match (&err, report.compression_kind()) {
            (ReadError::NotWarc { .. }, _) | (_, None) => None,
            (_, Some(compression)) => next_whole_record(path, compression, offset).ok().flatten(),
        };
        if let Some(next) = resumed {
            message.push_str(&format!(" (reading resumed at offset {next})"));
        }
        report.defects.push(Defect { offset, message });
        match resumed {
            Some(next) if next > from => from = next,
            _ => break,
        }
    }
    if report.records == 0 && report.defects.is_empty() {
        report.warnings.push(Defect {
            offset: 0,
            message: "no records: the file is empty".into(),
        });
    }
    report
}

/// A WACZ package: its fixity (each listed file's size and sha256, the manifest's digest),
/// its index (each line's record where it says), then every record of the WARC files it
/// stores, at offsets in the package.
fn verify_package(path: &Path) -> FileReport {
    use super::wacz::{entry_reader, fixity_problems, warc_entries};
    let mut report = FileReport::new(path);
    let defect = |offset, message| Defect { offset, message };
    let (problems, entries) = match (fixity_problems(path), warc_entries(path)) {
        (Ok(problems), Ok(entries)) => (problems, entries),
        (Err(e), _) | (_, Err(e)) => {
            report.defects.push(defect(0, e.to_string()));
            return report;
        }
    };
    report
        .defects
        .extend(problems.into_iter().map(|p| defect(0, p)));
    // The package's index is CDXJ, which the index module reads.
    let index = crate::index::package::package_index_problems(path);
    report
        .defects
        .extend(index.into_iter().map(|p| defect(0, p)));
    if entries.is_empty() {
        report
            .defects
            .push(defect(0, "no WARC file in archive/".into()));
    }
    for entry in entries {
        if !entry.stored {
            let message = format!(
                "{}: compressed inside the zip, which WACZ forbids",
                entry.name
            );
            report.defects.push(defect(entry.start, message));
            continue;
        }
        let checked = entry_reader(path, &entry).and_then(|mut reader| {
            report.compression = Some(reader.compression().name());
            check_each_record(&mut reader, &mut report)
        });
        if let Err(e) = checked {
            let offset = e.offset().unwrap_or(entry.start);
            report
                .defects
                .push(defect(offset, format!("{}: {}", entry.name, e.detail())));
        }
    }
    report
}

impl FileReport {
    fn new(path: &Path) -> FileReport {
        FileReport {
            path: path.to_path_buf(),
            compression: None,
            records: 0,
            record_types: BTreeMap::new(),
            digests_checked: 0,
            digests_unchecked: 0,
            unchecked_algorithms: Default::default(),
            records_sharing_a_member: 0,
            defects: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn compression_kind(&self) -> Option<Compression> {
        self.compression.and_then(|name| name.parse().ok())
    }
}

/// Checks the records from `from` (0, or where reading resumed after damage) to the end.
fn check_records(path: &Path, from: u64, report: &mut FileReport) -> Result<(), ReadError> {
    let mut reader = if from == 0 {
        WarcReader::open(path)?
    } else {
        WarcReader::open_at(path, from)?
    };
    report.compression = Some(reader.compression().name());
    let result = check_each_record(&mut reader, report);
    report
        .warnings
        .extend(reader.take_warnings().into_iter().map(|w| Defect {
            offset: w.offset,
            message: w.message,
        }));
    result
}

fn check_each_record<R: std::io::Read>(
    reader: &mut WarcReader<R>,
    report: &mut FileReport,
) -> Result<(), ReadError> {
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
        if span.length.is_none() && reader.compression() != Compression::None {
            report.records_sharing_a_member += 1;
        }
    }
    Ok(())
}

/// The mandatory fields of WARC/1.1 section 5, present and well-formed.
fn field_defects(header: &Header) -> Vec<String> {
    let mut defects = Vec::new();
    if super::arc::is_arc(header) {
        // Its header line was read whole, or it would be no record.
        return defects;
    }
    // 0.17 and 0.18 are the drafts Heritrix 1 wrote, still in old collections (warcio reads
    // them too).
    if !matches!(
        header.version.as_str(),
        "WARC/1.0" | "WARC/1.1" | "WARC/0.17" | "WARC/0.18"
    ) {
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
                Err(DigestFieldError::Unsupported(algorithm)) => {
                    report.digests_unchecked += 1;
                    report
                        .unchecked_algorithms
                        .insert(algorithm.to_ascii_lowercase());
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
