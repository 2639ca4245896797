//! What the offline copy was made of, kept beside it (`.cairn-offline.jsonl` in its folder), so
//! that after a crawl only the files whose capture changed are written again: each file's URL,
//! path and the payload it was made from, and for each page what its rewrite depended on (the
//! references it found nothing archived for, the sprites it took in). A page is written again
//! when its payload changed, when something it referenced is now archived, or when a sprite it
//! holds changed; a file is never written for a capture that only repeats the last one (a
//! revisit). Where a URL's file moved or went, or cairn's rewriting changed, the copy is
//! written whole.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The state file's name in the offline folder: no host starts with a dot, so no archived
/// URL's file can have it.
pub const STATE_FILE: &str = ".cairn-offline.jsonl";

/// How many of the state's lines one thread makes at a time, and how many such runs are made
/// before they are written.
const LINES_PER_RUN: usize = 512;
const RUNS_PER_WINDOW: usize = 32;

/// Which rewriting made the files: a copy made by another version is written whole.
const MADE_BY: &str = concat!("cairn ", env!("CARGO_PKG_VERSION"), " offline 1");

/// One file of the offline copy, as written.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Made {
    pub url: String,
    pub path: PathBuf,
    /// What the file was made from: the payload's digest and media type (a redirect: its
    /// target).
    pub from: String,
    /// References left pointing at the live web (a page or stylesheet's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unresolved: Vec<String>,
    /// SVG sprites put into the page, by path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sprites: Vec<PathBuf>,
    /// Where a redirect leads (a redirect has no file: its path is empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    made_by: String,
}

/// The offline copy's files as last written, by URL.
#[derive(Debug, Default)]
pub struct OfflineState {
    pub files: HashMap<String, Made>,
}

impl OfflineState {
    /// The state of the copy in `out_dir`; `None` if there is none, it does not read, or
    /// another version of cairn made it.
    pub fn read(out_dir: &Path) -> Option<OfflineState> {
        let file = fs::File::open(out_dir.join(STATE_FILE)).ok()?;
        let mut lines = io::BufReader::new(file).lines();
        let header: Header = serde_json::from_str(&lines.next()?.ok()?).ok()?;
        if header.made_by != MADE_BY {
            return None;
        }
        let mut files = HashMap::new();
        for line in lines {
            let made: Made = serde_json::from_str(&line.ok()?).ok()?;
            files.insert(made.url.clone(), made);
        }
        Some(OfflineState { files })
    }

    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let header = Header {
            made_by: MADE_BY.to_string(),
        };
        serde_json::to_writer(&mut *out, &header)?;
        out.write_all(b"\n")?;
        let mut files: Vec<&Made> = self.files.values().collect();
        files.sort_unstable_by(|a, b| a.url.cmp(&b.url));
        // Lines are made on every core, a run of them at a time, and written in order: one
        // thread serializing ten thousand files' lines was a stretch the crawl benchmark's
        // archive waited for with a core idle. A window of runs at a time is held, not the
        // whole file.
        for window in files.chunks(LINES_PER_RUN * RUNS_PER_WINDOW) {
            let runs: Vec<Vec<u8>> = window
                .par_chunks(LINES_PER_RUN)
                .map(|run| {
                    let mut bytes = Vec::new();
                    for made in run {
                        serde_json::to_writer(&mut bytes, made)?;
                        bytes.push(b'\n');
                    }
                    Ok(bytes)
                })
                .collect::<serde_json::Result<_>>()?;
            runs.iter().try_for_each(|bytes| out.write_all(bytes))?;
        }
        Ok(())
    }
}

/// What an update must write: `None` when the copy must be written whole (a URL's file moved or
/// went, a redirect leads elsewhere), else the URLs to write.
pub fn to_write(old: &OfflineState, new: &[Made], out_dir: &Path) -> Option<HashSet<String>> {
    let by_url: HashMap<&str, &Made> = new.iter().map(|m| (m.url.as_str(), m)).collect();
    // Every file the copy had keeps its path, and every redirect its target: other pages
    // point at them.
    for made in old.files.values() {
        let now = by_url.get(made.url.as_str())?;
        if now.path != made.path || now.location != made.location {
            return None;
        }
    }
    let added: HashSet<&str> = new
        .iter()
        .filter(|m| !old.files.contains_key(&m.url))
        .map(|m| m.url.as_str())
        .collect();
    let changed_paths: HashSet<&Path> = new
        .iter()
        .filter(|m| old.files.get(&m.url).is_none_or(|o| o.from != m.from))
        .map(|m| m.path.as_path())
        .collect();
    let mut write = HashSet::new();
    for made in new {
        let Some(before) = old.files.get(&made.url) else {
            write.insert(made.url.clone());
            continue;
        };
        let stale = before.from != made.from
            || before.unresolved.iter().any(|u| added.contains(u.as_str()))
            || before
                .sprites
                .iter()
                .any(|s| changed_paths.contains(s.as_path()))
            || (!made.path.as_os_str().is_empty() && !out_dir.join(&made.path).is_file());
        if stale {
            write.insert(made.url.clone());
        }
    }
    Some(write)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn made(url: &str, path: &str, from: &str, unresolved: &[&str]) -> Made {
        Made {
            url: url.into(),
            path: path.into(),
            from: from.into(),
            unresolved: unresolved.iter().map(|u| u.to_string()).collect(),
            sprites: Vec::new(),
            location: None,
        }
    }

    #[test]
    fn only_what_changed_or_now_resolves_is_written_again() {
        let dir = tempfile::tempdir().unwrap();
        for file in ["a.html", "b.css", "s.svg"] {
            fs::write(dir.path().join(file), "x").unwrap();
        }
        let mut page = made("https://h/a", "a.html", "d1", &["https://h/new"]);
        page.sprites = vec!["s.svg".into()];
        let old = OfflineState {
            files: [
                page.clone(),
                made("https://h/b", "b.css", "d2", &[]),
                made("https://h/s", "s.svg", "d3", &[]),
            ]
            .into_iter()
            .map(|m| (m.url.clone(), m))
            .collect(),
        };
        let unchanged: Vec<Made> = old.files.values().cloned().collect();
        assert_eq!(to_write(&old, &unchanged, dir.path()), Some(HashSet::new()));

        // A new capture of the stylesheet: only it.
        let mut new = unchanged.clone();
        new.iter_mut()
            .find(|m| m.url == "https://h/b")
            .unwrap()
            .from = "d9".into();
        let expected: HashSet<String> = ["https://h/b".to_string()].into();
        assert_eq!(to_write(&old, &new, dir.path()), Some(expected));

        // Something the page pointed at live is now archived: the page and the new file.
        let mut new = unchanged.clone();
        new.push(made("https://h/new", "new.html", "d4", &[]));
        let expected: HashSet<String> =
            ["https://h/a".to_string(), "https://h/new".to_string()].into();
        assert_eq!(to_write(&old, &new, dir.path()), Some(expected));

        // A sprite the page holds changed: the page too.
        let mut new = unchanged.clone();
        new.iter_mut()
            .find(|m| m.url == "https://h/s")
            .unwrap()
            .from = "d8".into();
        assert_eq!(to_write(&old, &new, dir.path()).unwrap().len(), 2);

        // A file removed from the copy is written again.
        fs::remove_file(dir.path().join("b.css")).unwrap();
        let expected: HashSet<String> = ["https://h/b".to_string()].into();
        assert_eq!(to_write(&old, &unchanged, dir.path()), Some(expected));

        // A file that moves, or goes: everything.
        let mut new = unchanged.clone();
        new.iter_mut()
            .find(|m| m.url == "https://h/b")
            .unwrap()
            .path = "b~2.css".into();
        assert_eq!(to_write(&old, &new, dir.path()), None);
        let gone: Vec<Made> = unchanged
            .iter()
            .filter(|m| m.url != "https://h/b")
            .cloned()
            .collect();
        assert_eq!(to_write(&old, &gone, dir.path()), None);
    }

    #[test]
    fn the_state_reads_back_and_another_version_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let state = OfflineState {
            files: [made("https://h/a", "a.html", "d1", &["https://h/x"])]
                .into_iter()
                .map(|m| (m.url.clone(), m))
                .collect(),
        };
        let mut text = Vec::new();
        state.write(&mut text).unwrap();
        fs::write(dir.path().join(STATE_FILE), &text).unwrap();
        let read = OfflineState::read(dir.path()).unwrap();
        assert_eq!(read.files, state.files);
        let other = String::from_utf8(text)
            .unwrap()
            .replace(MADE_BY, "cairn 0.0.1 offline 0");
        fs::write(dir.path().join(STATE_FILE), other).unwrap();
        assert!(OfflineState::read(dir.path()).is_none());
    }
}
