//! The CDXJ line parser on hostile index lines: a line that parses writes back as a line that
//! parses to the same capture, and the index reader built on it (nearest capture, latest per
//! URL, revisits resolved to their payload) takes any index text, its captures sorted.
#![no_main]

use cairn::index::{Capture, Index};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for line in text.lines() {
        if let Ok(capture) = Capture::parse(line) {
            let written = capture.to_line();
            assert_eq!(
                Capture::parse(&written).ok().as_ref(),
                Some(&capture),
                "{written}"
            );
        }
    }
    let index = Index::parse(text);
    // Held in memory, every line listed parses again, in the index's order.
    let captures: Vec<Capture> = index.captures().collect();
    assert_eq!(captures.len(), index.len());
    assert!(
        captures
            .windows(2)
            .all(|w| (&w[0].urlkey, w[0].seconds) <= (&w[1].urlkey, w[1].seconds))
    );
    for capture in index.latest_per_url() {
        let _ = index.payload_of(&capture);
        let _ = index.nearest(&capture.url, capture.seconds);
    }
    let _ = index.stored_payloads().count();
});
