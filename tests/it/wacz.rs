//! WACZ packages: `cairn export --wacz` of the seed article holds exactly what it needs, every
//! record byte for byte as the collection holds it, in the layout WACZ 1.1.1 specifies; py-wacz
//! validates it and pywb replays the article and every image from it.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};
use url::Url;

use crate::archive::{archive_ok, expected_captures, target, warc_files};
use crate::peers::{Pywb, fetch};
use crate::site;
use crate::support::{cairn, requires, run_ok, stdout, tool};

/// `cairn export --wacz PACKAGE` of the collection in `archives`; targets are the caller's
/// to add.
pub fn export_wacz(archives: &Path, package: &Path) -> std::process::Command {
    let mut export = cairn();
    export
        .arg("--archives")
        .arg(archives)
        .args(["export", "--wacz"])
        .arg(package);
    export
}

/// Each entry of a zip: its bytes and whether it is stored uncompressed.
pub fn entries(path: &Path) -> BTreeMap<String, (Vec<u8>, bool)> {
    let mut zip = zip::ZipArchive::new(fs::File::open(path).unwrap()).unwrap();
    let mut entries = BTreeMap::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        let stored = entry.compression() == zip::CompressionMethod::Stored;
        entries.insert(entry.name().unwrap().to_string(), (bytes, stored));
    }
    entries
}

/// The members of a gzip file, each decompressed on its own.
fn gzip_members(mut bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut members = Vec::new();
    while !bytes.is_empty() {
        let mut member = flate2::bufread::GzDecoder::new(bytes);
        let mut out = Vec::new();
        member.read_to_end(&mut out).unwrap();
        bytes = member.into_inner();
        members.push(out);
    }
    members
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn the_article_s_package_holds_what_it_needs_byte_for_byte_and_pywb_replays_it() {
    if !requires(&["zstd", "wacz", "wb-manager", "wayback"]) {
        return;
    }
    let fixture = site::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let archives = dir.path().join("archives");
    archive_ok(&archives, &fixture, &["--no-progress"], &[site::ARTICLE]);
    let package = dir.path().join("article.wacz");
    let out = run_ok(export_wacz(&archives, &package).arg(site::ARTICLE));
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    run_ok(tool("wacz").args(["validate", "-f"]).arg(&package));

    // The layout WACZ 1.1.1 names; the WARC and the gzip index stored, so ranges reach them.
    let files = entries(&package);
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "archive/data.warc.gz",
            "datapackage-digest.json",
            "datapackage.json",
            "indexes/index.cdx.gz",
            "indexes/index.idx",
            "pages/pages.jsonl"
        ]
    );
    assert!(files["archive/data.warc.gz"].1 && files["indexes/index.cdx.gz"].1);

    // The manifest lists every other file with its digest and size; the digest file its own.
    let manifest: serde_json::Value = serde_json::from_slice(&files["datapackage.json"].0).unwrap();
    assert_eq!(manifest["profile"], "data-package");
    assert_eq!(manifest["wacz_version"], "1.1.1");
    assert_eq!(manifest["mainPageUrl"], site::ARTICLE);
    assert!(manifest["software"].as_str().unwrap().starts_with("cairn "));
    let resources = manifest["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 4);
    for resource in resources {
        let (bytes, _) = &files[resource["path"].as_str().unwrap()];
        assert_eq!(resource["hash"], sha256(bytes).as_str(), "{resource}");
        assert_eq!(resource["bytes"], bytes.len(), "{resource}");
    }
    let digest: serde_json::Value =
        serde_json::from_slice(&files["datapackage-digest.json"].0).unwrap();
    assert_eq!(digest["path"], "datapackage.json");
    assert_eq!(
        digest["hash"],
        sha256(&files["datapackage.json"].0).as_str()
    );

    // pages.jsonl: its header, then the article with its title and time.
    let pages = String::from_utf8(files["pages/pages.jsonl"].0.clone()).unwrap();
    let pages: Vec<serde_json::Value> = pages
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(pages[0]["format"], "json-pages-1.0");
    let article = pages.iter().find(|p| p["url"] == site::ARTICLE).unwrap();
    assert!(
        article["title"]
            .as_str()
            .unwrap()
            .contains("習蒲強調通過和談"),
        "{article}"
    );
    assert_eq!(manifest["mainPageDate"], article["ts"]);
    // The related news archived with it are pages too; no target went unarchived.
    assert!(
        said.contains(&format!("{} page(s)", pages.len() - 1)),
        "{said}"
    );
    assert!(!said.contains("not archived"), "{said}");

    // The index: the summary's blocks are the gzip members of index.cdx.gz, and its lines
    // name exactly what the article needs (its requisites, the related news with theirs).
    let idx = String::from_utf8(files["indexes/index.idx"].0.clone()).unwrap();
    assert!(
        idx.starts_with("!meta 0 {\"format\": \"cdxj-gzip-1.0\""),
        "{idx}"
    );
    let cdx = &files["indexes/index.cdx.gz"].0;
    let blocks = gzip_members(cdx);
    assert_eq!(blocks.len(), idx.lines().count() - 1);
    let lines: Vec<String> = blocks
        .iter()
        .flat_map(|b| {
            String::from_utf8(b.clone())
                .unwrap()
                .lines()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted, "sorted");
    let urls: BTreeSet<String> = lines
        .iter()
        .map(|l| {
            let json: serde_json::Value = serde_json::from_str(&l[l.find('{').unwrap()..]).unwrap();
            assert_eq!(json["filename"], "data.warc.gz");
            json["url"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(urls, expected_captures(), "what the article needs, no more");

    // Every record is one the collection holds, byte for byte, in a gzip member of its own.
    let mut collection = Vec::new();
    for file in warc_files(&archives, "default") {
        collection.extend(run_ok(tool("zstd").arg("-dc").arg(&file)).stdout);
    }
    let records = gzip_members(&files["archive/data.warc.gz"].0);
    assert_eq!(records.len(), lines.len());
    for record in &records {
        assert!(record.starts_with(b"WARC/1.1\r\n"));
        assert!(
            memchr::memmem::find(&collection, record).is_some(),
            "{}",
            String::from_utf8_lossy(&record[..200])
        );
    }

    // pywb, given the package, replays the article and every image as they were served.
    let pywb = Pywb::start_adding(
        &dir.path().join("pywb"),
        &["--unpack-wacz"],
        std::slice::from_ref(&package),
    );
    for url in urls.iter().map(|u| Url::parse(u).unwrap()) {
        let (_, _, body) = site::answer(url.host_str().unwrap(), &target(&url));
        let (status, _, replayed) = fetch(&pywb.origin, &format!("/default/2id_/{url}"));
        assert_eq!(status, 200, "{url}");
        assert_eq!(replayed, body, "{url}");
    }

    // cairn imports its own package into another collection: its pages join, and it
    // replays from the package where it lies.
    let other = dir.path().join("other");
    run_ok(
        cairn()
            .arg("--archives")
            .arg(&other)
            .arg("import")
            .arg(&package),
    );
    let listed = fs::read_to_string(other.join("default/pages.jsonl")).unwrap();
    assert!(listed.contains(site::ARTICLE), "{listed}");
    let replay = crate::replay::ReplayServer::start(&other);
    let (_, _, article) = site::answer(
        "www.cna.com.tw",
        &target(&Url::parse(site::ARTICLE).unwrap()),
    );
    let (status, _, replayed) = replay.get(&format!("/default/2id_/{}", site::ARTICLE));
    assert_eq!((status, replayed), (200, article));

    // A second package under the same name is refused; the first stays as it was.
    let before = fs::read(dir.path().join("article.wacz")).unwrap();
    let again = export_wacz(&archives, &dir.path().join("article.wacz"))
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(stdout(&again).is_empty());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    assert_eq!(fs::read(dir.path().join("article.wacz")).unwrap(), before);
}

/// The URLs a package's index names.
fn package_urls(package: &Path) -> BTreeSet<String> {
    let files = entries(package);
    gzip_members(&files["indexes/index.cdx.gz"].0)
        .iter()
        .flat_map(|block| {
            String::from_utf8(block.clone())
                .unwrap()
                .lines()
                .map(|l| {
                    let json: serde_json::Value =
                        serde_json::from_str(&l[l.find('{').unwrap()..]).unwrap();
                    json["url"].as_str().unwrap().to_string()
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn a_post_s_package_holds_the_post_and_the_collection_s_holds_every_capture() {
    if !requires(&["wacz"]) {
        return;
    }
    let fixture = site::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let archives = dir.path().join("archives");
    let post = crate::offline::site_with_seed_post(dir.path());
    archive_ok(
        &archives,
        &fixture,
        &["--no-progress"],
        &[post.to_str().unwrap()],
    );
    let export = |package: &Path, targets: &[&Path]| {
        run_ok(export_wacz(&archives, package).args(targets));
        run_ok(tool("wacz").args(["validate", "-f"]).arg(package));
        package_urls(package)
    };

    // The post: its from: article with what that needs, and the post itself as stored.
    let of_post = export(&dir.path().join("post.wacz"), &[&post]);
    let collection: BTreeSet<String> = crate::archive::index_entries(&archives, "default")
        .into_iter()
        .map(|c| c.url)
        .collect();
    assert!(of_post.contains(site::ARTICLE));
    assert!(
        of_post.iter().all(|u| collection.contains(u)),
        "{of_post:?}"
    );
    assert!(
        of_post
            .iter()
            .any(|u| u.ends_with("2023-03-21-cna-xi-putin-talks.md")),
        "the post's own record: {of_post:?}"
    );

    // No target: every capture of the collection.
    let whole = export(&dir.path().join("all.wacz"), &[]);
    assert_eq!(whole, collection);
    assert!(
        whole.len() > of_post.len(),
        "robots.txt at least is no post's"
    );
}

#[test]
fn a_package_py_wacz_wrote_imports_verifies_and_replays_in_cairn() {
    if !requires(&["python:warcio", "wacz"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let warc = crate::foreign::warcio_file(dir.path(), true);
    let package = dir.path().join("py-wacz.wacz");
    run_ok(tool("wacz").args(["create", "-o"]).arg(&package).arg(&warc));
    let archives = dir.path().join("archives");
    let out = run_ok(
        cairn()
            .arg("--archives")
            .arg(&archives)
            .arg("import")
            .arg(&package),
    );
    assert!(stdout(&out).contains("imported"), "{}", stdout(&out));
    let copy = archives.join("default/warc/py-wacz.wacz");
    assert_eq!(fs::read(&copy).unwrap(), fs::read(&package).unwrap());
    run_ok(cairn().arg("verify").arg(&copy));

    // Replayed where it lies, from the package's own bytes.
    let replay = crate::replay::ReplayServer::start(&archives);
    let (status, _, page) = replay.get("/default/2id_/http://example.com/a");
    assert_eq!(status, 200);
    assert_eq!(
        page,
        "<html><title>héllo</title><img src='/i.png'></html>".as_bytes()
    );
    let (status, _, image) = replay.get("/default/2id_/http://example.com/i.png");
    assert_eq!(status, 200);
    assert_eq!(
        image,
        (0..=255u8).cycle().take(256 * 40).collect::<Vec<_>>()
    );

    // Dropped into another collection's WARC folder, with no index: `cairn replay` indexes it
    // as it starts, and serves it.
    let dropped = archives.join("dropped/warc");
    fs::create_dir_all(&dropped).unwrap();
    fs::copy(&package, dropped.join("py-wacz.wacz")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = cairn()
        .arg("--archives")
        .arg(&archives)
        .args(["replay", "--bind", &format!("127.0.0.1:{port}")])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed().as_secs() < 30,
            "cairn replay never listened"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let url = format!("http://127.0.0.1:{port}/dropped/2id_/http://example.com/a");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (status, served) = runtime.block_on(async {
        let client = crate::support::http_client().no_proxy().build().unwrap();
        let response = client.get(&url).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.bytes().await.unwrap().to_vec())
    });
    server.kill().unwrap();
    let output = server.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("indexed dropped:"), "{said}");
    assert_eq!((status, served), (200, page.clone()));

    // recompress leaves a package as it is: its readers want gzip.
    let left = cairn()
        .arg("--archives")
        .arg(&archives)
        .args(["recompress", "--to", "zstd"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&left.stderr).contains("a WACZ package, left as it is"));
    assert_eq!(fs::read(&copy).unwrap(), fs::read(&package).unwrap());

    // The same name again is refused, the copy untouched; a damaged package is not taken.
    let again = cairn()
        .arg("--archives")
        .arg(&archives)
        .arg("import")
        .arg(&package)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("has a file of that name"));
    let mut damaged = fs::read(&package).unwrap();
    let at = memchr::memmem::find(&damaged, b"h\xc3\xa9llo").unwrap_or(damaged.len() / 2);
    damaged[at] ^= 0x20;
    let broken = dir.path().join("broken.wacz");
    fs::write(&broken, damaged).unwrap();
    let refused = cairn()
        .arg("--archives")
        .arg(&archives)
        .arg("import")
        .arg(&broken)
        .output()
        .unwrap();
    assert!(!refused.status.success(), "{}", stdout(&refused));
    assert!(!archives.join("default/warc/broken.wacz").exists());
}

/// Rewrites a package with its index's first two lines' offsets swapped, every hash in its
/// manifest made to match: only reading the index against the records can tell.
const SWAP_OFFSETS: &str = r#"
import gzip, hashlib, json, re, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
z = zipfile.ZipFile(src)
files = {i.filename: z.read(i.filename) for i in z.infolist()}
lines = gzip.decompress(files["indexes/index.cdx.gz"]).decode().splitlines()
offsets = [re.search(r'"offset":"(\d+)"', l).group(1) for l in lines[:2]]
lines[0] = lines[0].replace('"offset":"%s"' % offsets[0], '"offset":"%s"' % offsets[1])
lines[1] = lines[1].replace('"offset":"%s"' % offsets[1], '"offset":"%s"' % offsets[0])
files["indexes/index.cdx.gz"] = gzip.compress(("\n".join(lines) + "\n").encode())
manifest = json.loads(files["datapackage.json"])
for r in manifest["resources"]:
    r["hash"] = "sha256:" + hashlib.sha256(files[r["path"]]).hexdigest()
    r["bytes"] = len(files[r["path"]])
files["datapackage.json"] = json.dumps(manifest).encode()
digest = {"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(files["datapackage.json"]).hexdigest()}
files["datapackage-digest.json"] = json.dumps(digest).encode()
with zipfile.ZipFile(dst, "w") as out:
    for name, data in files.items():
        out.writestr(name, data, zipfile.ZIP_STORED)
"#;

#[test]
fn verify_checks_a_package_s_hashes_index_and_records() {
    if !requires(&["wacz", "python3"]) {
        return;
    }
    let fixture = site::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let archives = dir.path().join("archives");
    archive_ok(
        &archives,
        &fixture,
        &["--no-progress", "--depth", "0"],
        &[site::ARTICLE],
    );
    let package = dir.path().join("article.wacz");
    run_ok(&mut export_wacz(&archives, &package));
    let ok = run_ok(cairn().arg("verify").arg(&package));
    assert!(String::from_utf8_lossy(&ok.stderr).contains("no defects"));

    // A record damaged in the collection: the package holds the rest, and says which not.
    let image = crate::archive::index_entries(&archives, "default")
        .into_iter()
        .find(|c| c.mime.as_deref() == Some("image/jpeg"))
        .unwrap();
    let warc = archives.join("default/warc").join(&image.filename);
    let mut bytes = fs::read(&warc).unwrap();
    bytes[(image.offset + image.length / 2) as usize] ^= 0xff;
    fs::write(&warc, bytes).unwrap();
    let partial = dir.path().join("partial.wacz");
    let out = export_wacz(&archives, &partial).output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains(&format!(
            "left out of the package, unreadable: {}",
            image.url
        )),
        "{said}"
    );
    assert!(said.contains("1 record(s) not in the package"), "{said}");
    run_ok(cairn().arg("verify").arg(&partial));

    let swapped = dir.path().join("swapped.wacz");
    run_ok(
        tool("python3")
            .args(["-c", SWAP_OFFSETS])
            .arg(&package)
            .arg(&swapped),
    );
    // py-wacz's validator passes it: it checks hashes, not where the index points.
    run_ok(tool("wacz").args(["validate", "-f"]).arg(&swapped));
    let out = cairn().arg("verify").arg(&swapped).output().unwrap();
    assert!(!out.status.success());
    let report = stdout(&out);
    assert_eq!(report.matches("DEFECT").count(), 2, "{report}");
    assert!(
        report.contains("indexes/index.cdx.gz: the record at offset"),
        "{report}"
    );
}
