//! WACZ packages read as containers of WARC files: a `.wacz` in a collection's WARC folder is
//! indexed and replayed where it lies, as pywb and ReplayWeb.page read one. Its WARC entries
//! are stored uncompressed in the zip (the format asks it), so a record at offset `o` of an
//! entry is at `start + o` of the package: the index names the package and that offset, and
//! every reader of the collection reads it as it reads a WARC file. Also the package's own
//! fixity: each file `datapackage.json` lists, by its `sha256:` and size, and the manifest by
//! `datapackage-digest.json`.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{Compression, ReadError, WarcReader};

/// Whether a file name is a WACZ package's.
pub fn is_wacz_name(name: &str) -> bool {
    name.ends_with(".wacz")
}

/// Whether a file starts as a zip does (a local file header).
pub fn is_zip_prefix(prefix: &[u8]) -> bool {
    prefix.starts_with(b"PK\x03\x04")
}

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: not a zip file as WACZ packages are ({source})", path.display())]
    Zip {
        path: PathBuf,
        source: zip::result::ZipError,
    },
}

/// One WARC file inside a package: its name, and where its bytes lie in the package.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub start: u64,
    pub len: u64,
    /// Stored as it is; a deflated entry cannot be read by offset.
    pub stored: bool,
}

/// The WARC files of a package's `archive/` folder.
pub fn warc_entries(path: &Path) -> Result<Vec<Entry>, PackageError> {
    let mut zip = open(path)?;
    let zip_err = |source| PackageError::Zip {
        path: path.to_path_buf(),
        source,
    };
    let mut entries = Vec::new();
    for i in 0..zip.len() {
        let file = zip.by_index_raw(i).map_err(zip_err)?;
        let Ok(name) = file.name().map(|n| n.to_string()) else {
            continue;
        };
        let is_warc = name.starts_with("archive/") && super::is_warc_name(&name);
        let Some(start) = file.data_start().filter(|_| is_warc) else {
            continue;
        };
        entries.push(Entry {
            name,
            start,
            len: file.compressed_size(),
            stored: file.compression() == zip::CompressionMethod::Stored,
        });
    }
    Ok(entries)
}

/// A reader of one WARC file a package stores, its offsets the package's.
pub fn entry_reader(path: &Path, entry: &Entry) -> Result<WarcReader<io::Take<File>>, ReadError> {
    use std::io::Seek;
    use std::os::unix::fs::FileExt;
    let io_err = |e| ReadError::io(entry.start, e);
    let mut file = File::open(path).map_err(io_err)?;
    let mut prefix = [0u8; 8];
    let n = file.read_at(&mut prefix, entry.start).map_err(io_err)?;
    let compression = Compression::sniff(&prefix[..n]).ok_or_else(|| ReadError::Malformed {
        offset: entry.start,
        detail: format!("{} is no WARC file", entry.name),
    })?;
    file.seek(io::SeekFrom::Start(entry.start))
        .map_err(io_err)?;
    WarcReader::new_at(file.take(entry.len), compression, entry.start)
}

fn open(path: &Path) -> Result<zip::ZipArchive<File>, PackageError> {
    let file = File::open(path).map_err(|source| PackageError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    zip::ZipArchive::new(file).map_err(|source| PackageError::Zip {
        path: path.to_path_buf(),
        source,
    })
}

/// What checking a package's fixity found wrong: nothing, for a whole package.
pub fn fixity_problems(path: &Path) -> Result<Vec<String>, PackageError> {
    let mut zip = open(path)?;
    let mut problems = Vec::new();
    let Some(manifest) = read_entry(&mut zip, "datapackage.json") else {
        return Ok(vec!["no datapackage.json".into()]);
    };
    let hash_of_manifest = format!("sha256:{}", hex(&Sha256::digest(&manifest)));
    let digest = read_entry(&mut zip, "datapackage-digest.json");
    match digest.map(|d| serde_json::from_slice::<serde_json::Value>(&d)) {
        Some(Ok(digest)) if digest["hash"].as_str() == Some(hash_of_manifest.as_str()) => {}
        Some(Ok(_)) => problems.push("datapackage-digest.json: the manifest's hash differs".into()),
        Some(Err(e)) => problems.push(format!("datapackage-digest.json: {e}")),
        None => {}
    }
    let manifest: serde_json::Value = match serde_json::from_slice(&manifest) {
        Ok(manifest) => manifest,
        Err(e) => return Ok(vec![format!("datapackage.json: {e}")]),
    };
    let resources = manifest["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if resources.is_empty() {
        problems.push("datapackage.json lists no resources".into());
    }
    for resource in resources {
        let name = resource["path"].as_str().unwrap_or_default();
        problems.extend(resource_problem(&mut zip, name, &resource));
    }
    Ok(problems)
}

/// What is wrong with one listed file: missing, or another size or hash than listed.
fn resource_problem(
    zip: &mut zip::ZipArchive<File>,
    name: &str,
    listed: &serde_json::Value,
) -> Option<String> {
    let Ok(mut file) = zip.by_name(name) else {
        return Some(format!(
            "{name}: listed in datapackage.json, not in the package"
        ));
    };
    let mut hashing = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                hashing.update(&buffer[..n]);
                bytes += n as u64;
            }
            Err(e) => return Some(format!("{name}: {e}")),
        }
    }
    let hash = format!("sha256:{}", hex(&hashing.finalize()));
    if listed["bytes"]
        .as_u64()
        .is_some_and(|listed| listed != bytes)
    {
        return Some(format!(
            "{name}: {bytes} bytes, listed as {}",
            listed["bytes"]
        ));
    }
    match listed["hash"].as_str() {
        Some(listed) if listed.starts_with("sha256:") && listed != hash => Some(format!(
            "{name}: its sha256 differs from the listed {listed}"
        )),
        _ => None,
    }
}

fn read_entry(zip: &mut zip::ZipArchive<File>, name: &str) -> Option<Vec<u8>> {
    let mut file = zip.by_name(name).ok()?;
    let mut bytes = Vec::new();
    (&mut file).take(64 << 20).read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
