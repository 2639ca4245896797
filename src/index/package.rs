//! A WACZ package's own index checked against its WARC files (`cairn verify FILE.wacz`): every
//! line parses, names a WARC file the package stores, and its offset starts a record of that
//! URL at that time. wabac.js and pywb trust the index they are given; a line that points
//! elsewhere replays another capture, or none.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use super::cdxj::Capture;
use crate::warc::reader::read_record_header;
use crate::warc::record::timestamp14;
use crate::warc::wacz::warc_entries;

/// Problems past this many are counted, not listed.
const MAX_LISTED: usize = 20;

/// What is wrong with the index a package holds: nothing, for a whole one.
pub fn package_index_problems(path: &Path) -> Vec<String> {
    let entries = match warc_entries(path) {
        Ok(entries) => entries,
        Err(e) => return vec![e.to_string()],
    };
    let lines = match index_lines(path) {
        Ok(lines) if lines.is_empty() => return vec!["no index lines in indexes/".into()],
        Ok(lines) => lines,
        Err(e) => return vec![format!("indexes/: {e}")],
    };
    let mut problems = Vec::new();
    for (name, line) in &lines {
        let problem = match Capture::parse(line) {
            Ok(capture) => line_problem(path, &entries, &capture),
            Err(e) => Some(format!("{e}")),
        };
        if let Some(problem) = problem {
            problems.push(format!("{name}: {problem}: {}", shorten(line)));
        }
    }
    if problems.len() > MAX_LISTED {
        let more = problems.len() - MAX_LISTED;
        problems.truncate(MAX_LISTED);
        problems.push(format!("and {more} more index lines like these"));
    }
    problems
}

/// Whether a line's record is where it says, of its URL and time.
fn line_problem(
    path: &Path,
    entries: &[crate::warc::wacz::Entry],
    capture: &Capture,
) -> Option<String> {
    let wanted = format!("archive/{}", capture.filename);
    let Some(entry) = entries.iter().find(|e| e.name == wanted) else {
        return Some(format!("the package has no {wanted}"));
    };
    if capture.offset >= entry.len {
        return Some(format!(
            "offset {} is past the end of {wanted}",
            capture.offset
        ));
    }
    let header = match read_record_header(path, entry.start + capture.offset) {
        Ok(header) => header,
        Err(e) => return Some(format!("no record at offset {}: {e}", capture.offset)),
    };
    let uri = header.target_uri().unwrap_or_default();
    let date = header.get("WARC-Date").and_then(timestamp14);
    let same_time = date
        .as_ref()
        .is_some_and(|d| d.starts_with(&capture.timestamp));
    if uri.replace(' ', "%20") != capture.url.replace(' ', "%20") || !same_time {
        return Some(format!(
            "the record at offset {} is {uri} at {}",
            capture.offset,
            date.unwrap_or_default()
        ));
    }
    None
}

/// Every line of the package's CDXJ files (`.cdx`, `.cdxj`, gzip or not), with its file's
/// name; a ZipNum summary (`.idx`) is no index of records.
fn index_lines(path: &Path) -> Result<Vec<(String, String)>, Box<dyn std::error::Error>> {
    let mut zip = zip::ZipArchive::new(File::open(path)?)?;
    let names: Vec<String> = zip
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.to_string()))
        .filter(|n| n.starts_with("indexes/"))
        .filter(|n| {
            [".cdx", ".cdxj", ".cdx.gz", ".cdxj.gz"]
                .iter()
                .any(|e| n.ends_with(e))
        })
        .collect();
    let mut lines = Vec::new();
    for name in names {
        let file = zip.by_name(&name)?;
        let text: Box<dyn Read> = if name.ends_with(".gz") {
            Box::new(flate2::read::MultiGzDecoder::new(file))
        } else {
            Box::new(file)
        };
        for line in BufReader::new(text).lines() {
            let line = line?;
            if !line.trim().is_empty() && !line.starts_with("!meta") {
                lines.push((name.clone(), line));
            }
        }
    }
    Ok(lines)
}

fn shorten(line: &str) -> String {
    match line.char_indices().nth(120) {
        Some((at, _)) => format!("{}...", &line[..at]),
        None => line.to_string(),
    }
}
