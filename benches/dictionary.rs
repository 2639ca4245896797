//! What a zstd dictionary saves on text records (everything but images and payloads compressed
//! already), against gzip and plain zstd. Run by `scripts/bench-dictionary`:
//!
//! ```text
//! cargo bench --bench dictionary -- measure WARC_DIR...
//! cargo bench --bench dictionary -- reencode TRAIN_WARC_DIR WARC_DIR
//! ```
//!
//! `measure` sums, per folder, the compressed lengths of the text records as written (a cairn
//! crawl's files, whatever their compression) and the dictionary frames. `reencode` takes the
//! records of WARC_DIR and compresses each again as cairn's writer does (gzip, zstd, and zstd
//! with dictionaries of 64, 112 and 256 KiB trained on TRAIN_WARC_DIR's text records, the
//! samples `--zstd-dictionary` takes), so every column holds the very same records.

use std::io::Read;
use std::path::{Path, PathBuf};

use cairn::collection::dictionary::{is_text_record, text_samples};
use cairn::content::is_packed;
use cairn::warc::codec::{BodyIn, RecordEncoder};
use cairn::warc::dictionary::train;
use cairn::warc::reader::http_header_field;
use cairn::warc::{Compression, WarcReader, find_warc_files};

/// One record, decompressed: its header, its block and how much of that is the HTTP head.
struct Record {
    header: Vec<u8>,
    block: Vec<u8>,
    head_len: usize,
    text: bool,
    packed: bool,
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.first().map(String::as_str) {
        Some("measure") => args[1..].iter().for_each(|dir| measure(Path::new(dir))),
        Some("reencode") if args.len() == 3 => reencode(Path::new(&args[1]), Path::new(&args[2])),
        _ => eprintln!("usage: dictionary measure WARC_DIR... | reencode TRAIN_DIR WARC_DIR"),
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    find_warc_files(&[dir.to_path_buf()]).expect("a folder of WARC files")
}

/// Prints `DIR text_bytes all_bytes dictionary_frame_bytes` for the files as written.
fn measure(dir: &Path) {
    let (mut text, mut all, mut frames) = (0u64, 0u64, 0u64);
    for file in files(dir) {
        let bytes = std::fs::read(&file).unwrap();
        if bytes.starts_with(&0x184D_2A5Du32.to_le_bytes()) {
            frames += 8 + u64::from(u32::from_le_bytes(bytes[4..8].try_into().unwrap()));
        }
        let mut reader = WarcReader::open(&file).unwrap();
        while let Some(mut record) = reader.next_record().unwrap() {
            let mut block = Vec::new();
            (&mut record.block())
                .take(4096)
                .read_to_end(&mut block)
                .unwrap();
            let is_text = is_text_record(&record.header, &block);
            drop(record);
            let length = reader.finish_record().unwrap().length.unwrap_or(0);
            all += length;
            text += if is_text { length } else { 0 };
        }
    }
    println!("{} {text} {all} {frames}", dir.display());
}

fn read_records(dir: &Path) -> Vec<Record> {
    let mut records = Vec::new();
    for file in files(dir) {
        let mut reader = WarcReader::open(&file).unwrap();
        while let Some(mut record) = reader.next_record().unwrap() {
            let header = record.header.to_bytes();
            let mut block = Vec::new();
            record.block().read_to_end(&mut block).unwrap();
            let http = record.header.holds_http();
            let head_len = memchr::memmem::find(&block, b"\r\n\r\n")
                .filter(|_| http)
                .map_or(0, |end| end + 4);
            let head = &block[..head_len];
            let packed = is_packed(
                http_header_field(head, "content-type").as_deref(),
                http_header_field(head, "content-encoding").as_deref(),
            );
            let text = is_text_record(&record.header, &block);
            records.push(Record {
                header,
                block,
                head_len,
                text,
                packed,
            });
        }
    }
    records
}

/// Compressed bytes of the text records, and of all, each record compressed alone.
fn compressed(records: &[Record], encoder: &mut RecordEncoder) -> (u64, u64) {
    let (mut text, mut all) = (0u64, 0u64);
    for record in records {
        let mut out = Vec::new();
        let body = BodyIn::memory(&record.block, b"", record.head_len as u64);
        encoder
            .encode(&mut out, &record.header, body, b"\r\n\r\n", record.packed)
            .unwrap();
        all += out.len() as u64;
        text += if record.text { out.len() as u64 } else { 0 };
    }
    (text, all)
}

fn reencode(train_dir: &Path, dir: &Path) {
    let records = read_records(dir);
    let samples = text_samples(&files(train_dir));
    let texts = records.iter().filter(|r| r.text).count();
    let raw: u64 = records
        .iter()
        .filter(|r| r.text)
        .map(|r| (r.header.len() + r.block.len() + 4) as u64)
        .sum();
    println!(
        "{} records ({texts} text, {raw} bytes uncompressed); dictionaries trained on {} samples",
        records.len(),
        samples.len()
    );
    let (gzip, gzip_all) = compressed(
        &records,
        &mut RecordEncoder::new(Compression::Gzip).unwrap(),
    );
    let mut rows = vec![("gzip".to_string(), gzip, gzip_all, 0)];
    let (zstd, zstd_all) = compressed(
        &records,
        &mut RecordEncoder::new(Compression::Zstd).unwrap(),
    );
    rows.push(("zstd".to_string(), zstd, zstd_all, 0));
    for kib in [64, 112, 256] {
        let started = std::time::Instant::now();
        let dictionary = train(&samples, kib << 10).unwrap();
        let seconds = started.elapsed().as_secs_f64();
        let mut encoder = RecordEncoder::with_dictionary(dictionary).unwrap();
        let frame = encoder.file_start().len() as u64;
        let (text, all) = compressed(&records, &mut encoder);
        rows.push((
            format!("zstd + {kib} KiB dictionary ({seconds:.1} s to train)"),
            text,
            all,
            frame,
        ));
    }
    println!(
        "{:<44}{:>12}{:>9}{:>14}{:>12}",
        "compression", "text bytes", "/ gzip", "all records", "dict frame"
    );
    for (name, text, all, frame) in rows {
        let ratio = text as f64 / gzip as f64;
        println!("{name:<44}{text:>12}{ratio:>9.2}{all:>14}{frame:>12}");
    }
}
