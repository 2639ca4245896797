//! The CDXJ line parser on hostile index lines: a line that parses writes back as a line that
//! parses to the same entry, and the index readers built on it (replay's lookup keys, the
//! payload table for revisits) take any index text.
#![no_main]

use cairn::index::{Entry, stored_payloads};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for line in text.lines() {
        if let Some(entry) = Entry::parse(line) {
            let written = entry.to_line();
            assert_eq!(Entry::parse(&written).as_ref(), Some(&entry), "{written}");
        }
    }
    let _ = stored_payloads(text);
});
