//! Index lookups in-process, without the HTTP around them: the time to read a collection's
//! index, 1,000 `nearest` lookups (three rounds), and the two whole scans export and archive
//! make (`latest_per_url`, `stored_payloads`).
//!
//! Run by `scripts/bench-index-memory` on the index it writes:
//!
//! ```text
//! cargo bench --bench index -- ARCHIVES COLLECTION URLS_FILE
//! ```

use std::time::Instant;

use cairn::collection::Archives;

fn main() {
    // `cargo bench` adds `--bench` to the arguments given.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [archives, name, urls] = &args[..] else {
        eprintln!("usage: cargo bench --bench index -- ARCHIVES COLLECTION URLS_FILE");
        std::process::exit(2);
    };
    let urls = std::fs::read_to_string(urls).expect("the URLs file reads");
    let urls: Vec<&str> = urls.split_whitespace().take(1000).collect();
    let collection = Archives::new(archives).collection(&name.parse().expect("a collection name"));

    let began = Instant::now();
    let index = collection.index().expect("the index reads");
    let load = began.elapsed().as_secs_f64();
    println!(
        "in-process: index read in {load:.2} s, {} captures",
        index.len()
    );
    // 2019-01-01, a time no capture has: every lookup weighs the URL's captures.
    let seconds = 1_546_300_800;
    for round in 1..=3 {
        let began = Instant::now();
        let found = urls
            .iter()
            .filter(|url| index.nearest(url, seconds).is_some())
            .count();
        let per = began.elapsed().as_secs_f64() / urls.len() as f64;
        println!(
            "  round {round}: {} nearest lookups, {:.1} us each ({found} found)",
            urls.len(),
            per * 1e6
        );
    }
    let began = Instant::now();
    let latest = index.latest_per_url().len();
    let scan = began.elapsed().as_secs_f64();
    println!("  latest_per_url: {latest} URLs in {scan:.2} s");
    let began = Instant::now();
    let stored = index.stored_payloads().count();
    let scan = began.elapsed().as_secs_f64();
    println!("  stored_payloads: {stored} payloads in {scan:.2} s");
}
