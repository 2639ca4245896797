//! Post parsing (front matter, `from:`, body links) and post rewriting on hostile posts: a post
//! either parses or gives an error, and rewriting its own output changes nothing more.
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
    let again = Post::parse(path, once.clone()).expect("a rewritten post parses");
    let (twice, _) = rewrite_post(&again, &rewrite).expect("a rewritten post rewrites");
    assert_eq!(once, twice, "rewriting is not idempotent");
});
