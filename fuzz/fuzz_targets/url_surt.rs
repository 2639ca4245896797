//! URL canonicalization and SURT keys on hostile URLs: the canonical form is a fixed point,
//! a SURT key is never built from the fragment (unless the URL is kept whole as its key), and
//! the address checks and timestamp parser take anything.
#![no_main]

use cairn::frontier::{canonical, registrable_domain};
use cairn::index::surt::surt;
use libfuzzer_sys::fuzz_target;
use url::Url;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let key = surt(text);
    // A URL that Python's `surt` gives up on (an invalid port, `filedesc:`) is its own key,
    // fragment and all, as cdxj-indexer keys it.
    if key != text
        && let Some((before, _)) = text.split_once('#')
    {
        let other = surt(&format!("{before}#another fragment"));
        assert_eq!(key, other, "the fragment changed the key");
    }
    let _ = cairn::warc::record::parse_timestamp14(text);
    let _ = cairn::warc::record::parse_warc_date(text);
    let _ = registrable_domain(text);

    let base = Url::parse("https://news.example.com/a/b/page.html").unwrap();
    let Some(url) = cairn::extract::resolve(&base, text) else {
        return;
    };
    let once = canonical(&url);
    let again = canonical(&Url::parse(&once).expect("a canonical URL parses"));
    assert_eq!(once, again, "canonical form is not a fixed point");
    let _ = surt(url.as_str());
    if let Some(host) = url.host_str() {
        let _ = registrable_domain(host);
    }
});
