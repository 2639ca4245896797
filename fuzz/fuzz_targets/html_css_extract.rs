//! The HTML and CSS link extractors and rewriters on hostile documents: whatever the bytes,
//! extraction ends with links (http(s) URLs only) and rewriting ends with a document or an
//! error. The first byte picks the declared charset, so every decoding path is explored.
#![no_main]

use cairn::content::ContentKind;
use cairn::extract;
use cairn::rewrite::{HtmlOptions, rewrite_css, rewrite_document, rewrite_html};
use libfuzzer_sys::fuzz_target;
use url::Url;

const CONTENT_TYPES: &[Option<&str>] = &[
    None,
    Some("text/html"),
    Some("text/html; charset=utf-8"),
    Some("text/html; charset=windows-1252"),
    Some("text/html; charset=shift_jis"),
    Some("text/html; charset=utf-16le"),
    Some("text/html; charset=big5"),
    Some("text/html; charset=bogus"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let content_type = CONTENT_TYPES[pick as usize % CONTENT_TYPES.len()];
    let base = Url::parse("https://news.example.com/a/b/page.html?x=1").unwrap();

    let page = extract::html(body, content_type, &base);
    for link in &page.links {
        assert!(
            matches!(link.url.scheme(), "http" | "https"),
            "{}",
            link.url
        );
    }
    let text = String::from_utf8_lossy(body);
    for link in extract::css(&text, &base) {
        assert!(
            matches!(link.url.scheme(), "http" | "https"),
            "{}",
            link.url
        );
    }
    let _ = extract::srcset_urls(&text);

    let map = |url: &Url| (url.host_str() == Some("news.example.com")).then(|| "local/x".into());
    let encoding = extract::html_encoding(body, content_type);
    // Every sprite a `<use>` names is the input itself: inlined, rewritten as the page is.
    let sprite = |_: &Url| Some(std::sync::Arc::from(text.as_ref()));
    let options = HtmlOptions {
        base: base.clone(),
        map: &map,
        keep_original: pick & 0x80 != 0,
        promote_lazy: pick & 0x40 != 0,
        banner: Some("<div>archived</div>".into()),
        client: Some("<script src=/c.js></script>".into()),
        fence: pick & 0x20 != 0,
        sprites: Some(&sprite),
    };
    let _ = rewrite_html(body, encoding, &options);
    for kind in [ContentKind::Html, ContentKind::Css] {
        let _ = rewrite_document(
            kind,
            &mut &body[..],
            &mut Vec::new(),
            content_type,
            &options,
        );
    }
    let _ = rewrite_css(&text, &|r| base.join(r).ok().and_then(|u| map(&u)));
});
