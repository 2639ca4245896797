//! Keeping `index.cdxj` up to date in time proportional to what changed: `index.files` names
//! each WARC file the index holds, with its size and modification time, so that after a crawl
//! only the files the index lacks are read, and their captures merged into the sorted index
//! (two sorted runs, one pass), rather than every WARC of the collection read again. Where
//! the index does not hold exactly the other files as they are now (a file changed, gone, or
//! an index older than `index.files`), the index is rebuilt whole.

use std::collections::HashMap;
use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// What the index knows of one WARC file: enough to tell the file was not changed since.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    size: u64,
    modified_nanos: u128,
}

impl FileStamp {
    pub fn of(path: &Path) -> io::Result<FileStamp> {
        let meta = fs::metadata(path)?;
        let modified_nanos = meta
            .modified()?
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Ok(FileStamp {
            size: meta.len(),
            modified_nanos,
        })
    }
}

/// The files an index holds, by file name.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct IndexedFiles {
    files: HashMap<String, FileStamp>,
}

const HEADER: &str = "# cairn: the WARC files index.cdxj holds (name, size, modified ns)";

impl IndexedFiles {
    /// The stamps of `paths` as they are now.
    pub fn of(paths: &[PathBuf]) -> io::Result<IndexedFiles> {
        let mut files = HashMap::new();
        for path in paths {
            files.insert(file_name(path), FileStamp::of(path)?);
        }
        Ok(IndexedFiles { files })
    }

    /// Reads `index.files`; `None` if it is missing or does not parse (the index is then
    /// rebuilt, which writes a new one).
    pub fn read(path: &Path) -> Option<IndexedFiles> {
        let text = fs::read_to_string(path).ok()?;
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            return None;
        }
        let mut files = HashMap::new();
        for line in lines {
            let mut fields = line.rsplitn(3, ' ');
            let modified_nanos = fields.next()?.parse().ok()?;
            let size = fields.next()?.parse().ok()?;
            let name = fields.next()?.to_string();
            files.insert(
                name,
                FileStamp {
                    size,
                    modified_nanos,
                },
            );
        }
        Some(IndexedFiles { files })
    }

    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{HEADER}")?;
        let mut names: Vec<&String> = self.files.keys().collect();
        names.sort();
        for name in names {
            let stamp = self.files[name];
            writeln!(out, "{name} {} {}", stamp.size, stamp.modified_nanos)?;
        }
        Ok(())
    }

    /// Of the collection's closed WARC files as they are now (`current`), the ones this index
    /// lacks; `None` if it holds a file that is gone or changed, when only a rebuild is right.
    pub fn missing_from<'p>(&self, current: &'p [PathBuf]) -> Option<Vec<&'p PathBuf>> {
        let mut missing = Vec::new();
        let mut held = 0;
        for path in current {
            match self.files.get(&file_name(path)) {
                Some(stamp) if FileStamp::of(path).ok()? == *stamp => held += 1,
                Some(_) => return None,
                None => missing.push(path),
            }
        }
        (held == self.files.len()).then_some(missing)
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Writes the lines of the sorted index at `old` merged with `new` (sorted): one pass over
/// each, the order byte for byte the one a whole rebuild sorts into. Returns how many lines
/// were written.
pub fn merge_sorted(old: &Path, new: &[String], out: &mut dyn Write) -> io::Result<usize> {
    let mut old = BufReader::with_capacity(1 << 20, fs::File::open(old)?);
    let mut new = new.iter().peekable();
    let mut line = String::new();
    let mut written = 0;
    loop {
        line.clear();
        if old.read_line(&mut line)? == 0 {
            break;
        }
        let current = line.trim_end_matches(['\n', '\r']);
        if current.is_empty() {
            continue;
        }
        while let Some(next) = new.next_if(|n| n.as_str() < current) {
            writeln!(out, "{next}")?;
            written += 1;
        }
        writeln!(out, "{current}")?;
        written += 1;
    }
    for next in new {
        writeln!(out, "{next}")?;
        written += 1;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merge_orders_lines_as_a_sort_of_all_of_them_would() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("index.cdxj");
        fs::write(&old, "a 1\nc 1\nc 3\n\ne 1\n").unwrap();
        let new = ["b 1", "c 2", "c 3", "f 1"].map(String::from);
        let mut out = Vec::new();
        let written = merge_sorted(&old, &new, &mut out).unwrap();
        let mut expected: Vec<&str> = vec!["a 1", "c 1", "c 3", "e 1", "b 1", "c 2", "c 3", "f 1"];
        expected.sort();
        assert_eq!(String::from_utf8(out).unwrap(), expected.join("\n") + "\n");
        assert_eq!(written, 8);
    }

    #[test]
    fn stamps_tell_which_files_an_index_lacks_and_when_it_is_stale() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a b.warc.gz");
        let b = dir.path().join("b.warc.gz");
        fs::write(&a, "x").unwrap();
        let held = IndexedFiles::of(std::slice::from_ref(&a)).unwrap();
        let mut text = Vec::new();
        held.write(&mut text).unwrap();
        let state = dir.path().join("index.files");
        fs::write(&state, &text).unwrap();
        let read = IndexedFiles::read(&state).unwrap();
        assert_eq!(read, held);

        fs::write(&b, "y").unwrap();
        let both = [a.clone(), b.clone()];
        assert_eq!(read.missing_from(&both), Some(vec![&b]));
        // A file the index holds that changed, or is gone: rebuild.
        fs::write(&a, "xx").unwrap();
        assert_eq!(read.missing_from(&both), None);
        assert_eq!(read.missing_from(std::slice::from_ref(&b)), None);
        assert!(IndexedFiles::read(&dir.path().join("none")).is_none());
    }
}
