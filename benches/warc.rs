//! WARC write and read throughput, and file sizes, for zstd, gzip and no compression, on a
//! generated crawl of a news site: per article page a request, the HTML response (the seed
//! post's text in a news-site template), four images, and the page's metadata; every fifty
//! pages a stylesheet and a script. Images are random bytes, as incompressible as JPEG data.
//!
//! Run by `scripts/bench-warc`, which then times `cairn index` against cdxj-indexer on the
//! files this leaves behind:
//!
//! ```text
//! cargo bench --bench warc -- OUT_DIR [MEGABYTES]
//! ```
//!
//! Leaves `OUT_DIR/{zstd,gzip,none}/bench/warc/*.warc*`: collections named `bench`.

use std::fs;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Instant;

use cairn::warc::{
    Block, Compression, NewRecord, RecordType, WarcReader, WarcWriter, WriterConfig,
};

const SEED: &str = cairn::demo::SEED_POST;

/// A small xorshift generator: the mix is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n + 8);
        while out.len() < n {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(n);
        out
    }
}

struct Capture {
    kind: RecordType,
    url: String,
    content_type: &'static str,
    block: Vec<u8>,
}

fn http_response(content_type: &str, body: &[u8], rng: &mut Rng) -> Vec<u8> {
    let head = format!(
        "HTTP/1.1 200 OK\r\nDate: Wed, 22 Mar 2023 00:{:02}:{:02} GMT\r\nServer: nginx\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: max-age=300\r\n\
         ETag: \"{:x}\"\r\nVary: Accept-Encoding\r\nX-Frame-Options: SAMEORIGIN\r\n\r\n",
        rng.below(60),
        rng.below(60),
        body.len(),
        rng.next()
    );
    [head.as_bytes(), body].concat()
}

fn http_request(url: &str) -> Vec<u8> {
    let (host, path) = url
        .trim_start_matches("https://")
        .split_once('/')
        .unwrap_or(("www.cna.com.tw", ""));
    format!(
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: Mozilla/5.0 (compatible; cairn/0.1)\r\n\
         Accept: */*\r\nAccept-Encoding: identity\r\nConnection: keep-alive\r\n\r\n"
    )
    .into_bytes()
}

/// An article page: navigation, the post's text with this page's number woven in, related
/// links and the lazy image carousel, as the CNA page the seed post comes from has them.
fn article_html(n: u64, rng: &mut Rng) -> Vec<u8> {
    // The seed post's body: everything after its front matter.
    let body = SEED.splitn(3, "---\n").nth(2).unwrap_or(SEED);
    let mut html = String::with_capacity(160_000);
    html.push_str("<!DOCTYPE html><html lang=\"zh-Hant-TW\"><head><meta charset=\"utf-8\">");
    html.push_str(&format!(
        "<title>新聞 {n} | 中央社 CNA</title><link rel=\"stylesheet\" href=\"/css/main.css?v={}\">",
        n / 50
    ));
    html.push_str("<script src=\"/js/app.js\" defer></script></head><body><header><nav><ul>");
    for section in [
        "aipl", "aopl", "acn", "afe", "ait", "ahel", "asoc", "aloc", "acul", "aspt",
    ] {
        for k in 0..8 {
            html.push_str(&format!(
                "<li class=\"menu-item\"><a href=\"https://www.cna.com.tw/list/{section}.aspx?page={k}\">{section} {k}</a></li>"
            ));
        }
    }
    html.push_str("</ul></nav></header><main><article class=\"centralContent\">");
    html.push_str(&format!(
        "<h1><span>習蒲會談 第{n}則</span></h1><div class=\"paragraph\">"
    ));
    // The article text, rotated so pages differ.
    let paragraphs: Vec<&str> = body.split("</p>").collect();
    let start = rng.below(paragraphs.len() as u64) as usize;
    for i in 0..paragraphs.len() {
        html.push_str(paragraphs[(start + i) % paragraphs.len()]);
        html.push_str("</p>\n");
    }
    html.push_str("</div></article><aside class=\"related\">");
    for k in 0..20 {
        html.push_str(&format!(
            "<a class=\"discursive\" href=\"https://www.cna.com.tw/news/aopl/2023032{}{:04}.aspx\"><span>相關新聞 {k}</span></a>",
            rng.below(10),
            rng.below(10_000)
        ));
    }
    // The lazy-loaded carousel and its markup, as on the CNA page.
    for k in 0..16 {
        html.push_str(&format!(
            "<div class=\"item topicItem\"><a href=\"https://www.cna.com.tw/news/ahel/2023032{k:02}{:04}.aspx\"><div class=\"topNewsGroup\"><div class=\"picWrap\"><img class=\"owl-lazy\" data-src=\"https://imgcdn.cna.com.tw/www/webphotos/WebCover/420/20230321/{n}_{k}.jpg\" data-srcset=\"https://imgcdn.cna.com.tw/www/webphotos/WebCover/420/20230321/{n}_{k}.jpg\" alt=\"焦點新聞 {k}\" referrerpolicy=\"no-referrer\"></div><span>焦點新聞 第{k}則</span></div></a></div>",
            rng.below(10_000)
        ));
    }
    // Inline page state, as news sites embed it.
    html.push_str("<script type=\"application/ld+json\">{\"@context\":\"https://schema.org\",\"@type\":\"NewsArticle\",\"itemListElement\":[");
    for k in 0..300 {
        html.push_str(&format!(
            "{{\"@type\":\"ListItem\",\"position\":{k},\"url\":\"https://www.cna.com.tw/news/aopl/202303{:06}.aspx\",\"name\":\"新聞標題 {}\"}},",
            rng.below(1_000_000),
            rng.below(100_000)
        ));
    }
    html.push_str("{}]}</script>");
    html.push_str("</aside><footer><script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}</script></footer></body></html>");
    html.into_bytes()
}

fn stylesheet(rng: &mut Rng) -> Vec<u8> {
    let mut css = String::new();
    for i in 0..1200 {
        css.push_str(&format!(
            ".c{i} .item-{} > a:hover{{color:#{:06x};margin:{}px {}px;background:url(/img/bg{}.png) no-repeat}}\n",
            rng.below(100),
            rng.below(0xffffff),
            rng.below(20),
            rng.below(20),
            rng.below(30)
        ));
    }
    css.into_bytes()
}

fn script(rng: &mut Rng) -> Vec<u8> {
    let mut js = String::new();
    for i in 0..1500 {
        js.push_str(&format!(
            "function handler{i}(e){{var t=document.querySelectorAll('.owl-lazy[data-src]');for(var k=0;k<t.length;k++){{t[k].setAttribute('src',t[k].getAttribute('data-src'))}}return {};}}\n",
            rng.below(1000)
        ));
    }
    js.into_bytes()
}

/// The captures of page `n`, in crawl order.
fn page(n: u64, rng: &mut Rng) -> Vec<Capture> {
    let url = format!("https://www.cna.com.tw/news/aopl/202303{:06}.aspx", n);
    let mut captures = Vec::new();
    let mut fetch = |url: String, content_type: &'static str, body: Vec<u8>, rng: &mut Rng| {
        captures.push(Capture {
            kind: RecordType::Request,
            url: url.clone(),
            content_type: "application/http; msgtype=request",
            block: http_request(&url),
        });
        captures.push(Capture {
            kind: RecordType::Response,
            url,
            content_type: "application/http; msgtype=response",
            block: http_response(content_type, &body, rng),
        });
    };
    let html = article_html(n, rng);
    fetch(url.clone(), "text/html; charset=utf-8", html, rng);
    if n.is_multiple_of(50) {
        let css = stylesheet(rng);
        fetch(
            format!("https://www.cna.com.tw/css/main.css?v={}", n / 50),
            "text/css",
            css,
            rng,
        );
        let js = script(rng);
        fetch(
            format!("https://www.cna.com.tw/js/app.js?v={}", n / 50),
            "application/javascript",
            js,
            rng,
        );
    }
    let mut outlinks = String::new();
    for i in 0..4 {
        let image =
            format!("https://imgcdn.cna.com.tw/www/webphotos/WebCover/420/20230321/{n}_{i}.jpg");
        outlinks.push_str(&format!("outlink: {image} E img/@data-src\r\n"));
        let size = 15_000 + rng.below(75_000) as usize;
        let bytes = rng.bytes(size);
        fetch(image, "image/jpeg", bytes, rng);
    }
    captures.push(Capture {
        kind: RecordType::Metadata,
        url,
        content_type: "application/warc-fields",
        block: format!("via: https://www.cna.com.tw/\r\nhops: L\r\n{outlinks}").into_bytes(),
    });
    captures
}

/// The whole crawl, generated once so that every compression writes the same records.
fn crawl(total_bytes: u64) -> Vec<Capture> {
    let mut rng = Rng(0x2023_0322_0008);
    let mut all = Vec::new();
    let mut size = 0;
    let mut n = 0;
    while size < total_bytes {
        for capture in page(n, &mut rng) {
            size += capture.block.len() as u64;
            all.push(capture);
        }
        n += 1;
    }
    all
}

fn write(dir: &Path, compression: Compression, captures: &[Capture]) -> (f64, Vec<PathBuf>) {
    let mut config = WriterConfig::new(dir, "bench", compression);
    config.max_file_size = 100_000_000;
    let mut writer = WarcWriter::new(config).unwrap();
    let started = Instant::now();
    for c in captures {
        let record = NewRecord::new(c.kind.clone(), Block::Bytes(&c.block))
            .target(&c.url)
            .content_type(c.content_type);
        writer.write(record).unwrap();
    }
    let files = writer.close().unwrap();
    (started.elapsed().as_secs_f64(), files)
}

/// Reads every record and its whole block back; returns seconds and records read.
fn read(files: &[PathBuf]) -> (f64, u64) {
    let started = Instant::now();
    let mut records = 0;
    for file in files {
        let mut reader = WarcReader::open(file).unwrap();
        while let Some(mut record) = reader.next_record().unwrap() {
            let mut block = record.block();
            loop {
                let n = block.fill_buf().unwrap().len();
                if n == 0 {
                    break;
                }
                block.consume(n);
            }
            records += 1;
        }
    }
    (started.elapsed().as_secs_f64(), records)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let out = PathBuf::from(args.first().expect("usage: warc OUT_DIR [MEGABYTES]"));
    let megabytes: u64 = args.get(1).map_or(1000, |m| m.parse().expect("MEGABYTES"));
    let captures = crawl(megabytes * 1_000_000);
    let payload: u64 = captures.iter().map(|c| c.block.len() as u64).sum();
    let mb = payload as f64 / 1e6;
    println!(
        "page mix: {} records, {mb:.0} MB of record blocks ({} pages)",
        captures.len(),
        captures
            .iter()
            .filter(|c| c.url.ends_with(".aspx") && c.kind == RecordType::Metadata)
            .count()
    );
    println!(
        "{:<6} {:>10} {:>12} {:>12} {:>9}",
        "codec", "size MB", "write MB/s", "read MB/s", "records"
    );
    let mut sizes = Vec::new();
    for compression in [Compression::Zstd, Compression::Gzip, Compression::None] {
        let dir = out.join(compression.name()).join("bench/warc");
        let _ = fs::remove_dir_all(&dir);
        let (write_secs, files) = write(&dir, compression, &captures);
        let (read_secs, records) = read(&files);
        let size: u64 = files.iter().map(|f| fs::metadata(f).unwrap().len()).sum();
        sizes.push(size as f64);
        println!(
            "{:<6} {:>10.1} {:>12.0} {:>12.0} {:>9}",
            compression.name(),
            size as f64 / 1e6,
            mb / write_secs,
            mb / read_secs,
            records
        );
    }
    println!("zstd/gzip size ratio: {:.3}", sizes[0] / sizes[1]);
    let images: u64 = captures
        .iter()
        .filter(|c| c.url.ends_with(".jpg") && c.kind == RecordType::Response)
        .map(|c| c.block.len() as u64)
        .sum();
    println!(
        "images (incompressible) are {:.0}% of record bytes",
        100.0 * images as f64 / payload as f64
    );
}
