//! Post parsing (front matter, `from:`, body links) and post rewriting on hostile posts: a post
//! either parses or gives an error; a rewritten post parses; a second rewrite keeps every
//! reference the first made, and a third changes nothing more. (Not the second: a malformed
//! tag spanning lines, an attribute quote left open, is written back normalized by the HTML
//! rewriter, which can change how Markdown reads the lines after it.)
#![no_main]

use std::path::Path;

use cairn::export::{OfflineMap, PostRewrite, rewrite_post};
use cairn::post::Post;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let path = Path::new("_posts/2024-01-01-fuzz.md");
    let Ok(post) = Post::parse(path, text) else {
        return;
    };
    let links = post.body_links();
    let mut map = OfflineMap::new(Path::new("offline"));
    for (i, link) in links.iter().enumerate().filter(|(i, _)| i % 2 == 0) {
        map.add_file(&link.url, format!("site/{i}.html").into());
    }
    if let Some(from) = &post.from {
        map.add_file(from, "source/index.html".into());
    }
    let rewrite = PostRewrite {
        link_base: "/archives/default/offline",
        map: &map,
        archived_at: "2026-11-26T00:00:00Z",
        collection: "default",
    };
    let Ok((once, _)) = rewrite_post(&post, &rewrite) else {
        return;
    };
    let rewrite_again = |text: &str| {
        let post = Post::parse(path, text.to_string()).expect("a rewritten post parses");
        rewrite_post(&post, &rewrite)
            .expect("a rewritten post rewrites")
            .0
    };
    let twice = rewrite_again(&once);
    for reference in local_references(&once) {
        assert!(
            twice.contains(reference),
            "a second rewrite lost {reference}"
        );
    }
    assert_eq!(twice, rewrite_again(&twice), "rewriting does not settle");
});

/// The references into the offline tree a rewritten post holds.
fn local_references(text: &str) -> Vec<&str> {
    text.match_indices("/archives/default/offline/")
        .map(|(start, _)| {
            let rest = &text[start..];
            &rest[..rest.find(['"', ')', ' ', '\'', '>']).unwrap_or(rest.len())]
        })
        .collect()
}
