//! Taking other tools' archives into a collection (`cairn import`): a WACZ package (from
//! Browsertrix, ReplayWeb.page, py-wacz or `cairn export --wacz`) or a WARC file is copied
//! into the WARC folder under its own name, never over a file there, and indexed where it lies
//! (a package's stored WARC files are read in place, see [`crate::warc::wacz`]); a package's
//! pages join the collection's.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::{Collection, CollectionError, CollectionLock, PageEntry, io_err};
use crate::warc::wacz::is_wacz_name;
use crate::warc::{is_archive_name, writer::OPEN_SUFFIX};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Collection(#[from] CollectionError),
    #[error("{}: not named as a WACZ, WARC or ARC file", .0.display())]
    NotArchive(PathBuf),
    #[error("{}: the collection has a file of that name already; rename the copy to import", .0.display())]
    NameTaken(PathBuf),
}

impl Collection {
    /// Copies `path` into the WARC folder (created new, synced) and adds a package's pages;
    /// the index is the caller's to bring up to date. Returns where the copy lies.
    pub fn import(&self, lock: &CollectionLock, path: &Path) -> Result<PathBuf, ImportError> {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name
            .filter(|n| is_archive_name(n) && !n.ends_with(OPEN_SUFFIX))
            .ok_or_else(|| ImportError::NotArchive(path.to_path_buf()))?;
        self.create_dirs()?;
        let target = self.warc_dir().join(&name);
        let mut out = match File::options().write(true).create_new(true).open(&target) {
            Ok(out) => out,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(ImportError::NameTaken(target));
            }
            Err(e) => return Err(io_err(&target)(e).into()),
        };
        let copied = File::open(path)
            .and_then(|mut from| io::copy(&mut from, &mut out))
            .and_then(|_| out.sync_all());
        if let Err(e) = copied {
            drop(out);
            // Only the partial copy goes: the original is where it was.
            let _ = fs::remove_file(&target);
            return Err(io_err(path)(e).into());
        }
        if is_wacz_name(&name) {
            self.append_pages(lock, &package_pages(&target))?;
        }
        Ok(target)
    }
}

/// The pages a package lists in `pages/pages.jsonl` (its header line and lines that are no
/// page left out).
fn package_pages(path: &Path) -> Vec<PageEntry> {
    let text = File::open(path)
        .ok()
        .and_then(|file| zip::ZipArchive::new(file).ok())
        .and_then(|mut zip| {
            let mut file = zip.by_name("pages/pages.jsonl").ok()?;
            let mut text = String::new();
            (&mut file).take(64 << 20).read_to_string(&mut text).ok()?;
            Some(text)
        })
        .unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|page| {
            Some(PageEntry {
                url: page["url"].as_str()?.to_string(),
                ts: page["ts"].as_str()?.to_string(),
                title: page["title"].as_str().map(str::to_string),
                status: 200,
            })
        })
        .collect()
}
