//! The rewrite of an archived post: every reference to something archived points into the
//! offline copy (under `--link-base`), the original kept beside it, and the front matter notes
//! when and where the post was archived. Running it on its own output changes nothing more.

use std::path::Path;

use url::Url;

use super::paths::relative_reference;
use super::{ExportError, OfflineMap};
use crate::post::Post;
use crate::rewrite::{HtmlOptions, rewrite_html};

/// How a rewritten post points into the offline tree.
pub struct PostRewrite<'a> {
    /// Prefix of every rewritten reference: `/archives/COLL/offline` by default.
    pub link_base: &'a str,
    pub map: &'a OfflineMap,
    /// When and where, for the front matter.
    pub archived_at: &'a str,
    pub collection: &'a str,
}

/// The post with every reference to an archived resource pointing into the offline tree (the
/// original kept beside it as `data-cairn-original`), and its front matter noting when and
/// where it was archived. Running it on its own output changes nothing more.
pub fn rewrite_post(
    post: &Post,
    rewrite: &PostRewrite<'_>,
) -> Result<(String, Vec<String>), ExportError> {
    let link_base = rewrite.link_base.trim_end_matches('/');
    let to_local = |url: &Url| {
        rewrite.map.file_for(url).map(|path| {
            let encoded = relative_reference(Path::new(""), path);
            format!("{link_base}/{encoded}")
        })
    };
    let base = post.from.clone().unwrap_or_else(crate::post::site_root);
    let options = HtmlOptions {
        base,
        map: &to_local,
        keep_original: true,
        promote_lazy: true,
        banner: None,
        client: None,
        fence: false,
        sprites: None,
    };
    // Markdown links keep their Markdown form (a renderer may treat a line differently once it
    // holds HTML); inline and block HTML goes through the HTML rewriter.
    let (body, mut unresolved) = rewrite_markdown_links(post.body(), &to_local);
    let (bytes, left) =
        rewrite_html(body.as_bytes(), encoding_rs::UTF_8, &options).map_err(|source| {
            ExportError::Rewrite {
                path: post.path.clone(),
                source,
            }
        })?;
    unresolved.extend(left);
    let body = String::from_utf8_lossy(&bytes).into_owned();

    let front = &post.text[post.front_matter.clone()];
    let kept: Vec<&str> = front
        .lines()
        .filter(|l| !l.starts_with("cairn_archived_at:") && !l.starts_with("cairn_collection:"))
        .collect();
    let mut out = String::with_capacity(post.text.len() + body.len() / 4);
    out.push_str("---\n");
    for line in kept {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&format!("cairn_archived_at: {}\n", rewrite.archived_at));
    out.push_str(&format!("cairn_collection: {}\n", rewrite.collection));
    out.push_str("---\n");
    // A value spread over lines under one of cairn's keys would be cut in two above: check
    // that the new front matter reads, rather than hand Jekyll a post it cannot build.
    Post::parse(&post.path, out.clone()).map_err(|source| ExportError::FrontMatter {
        path: post.path.clone(),
        source,
    })?;
    out.push_str(&body);
    let mut left: Vec<String> = unresolved.into_iter().map(String::from).collect();
    left.sort();
    left.dedup();
    Ok((out, left))
}

/// Points Markdown links and images `[text](https://...)` at their local copies, keeping the
/// original in a comment right after (`<!-- cairn-original: URL -->`), which every renderer
/// drops. Code spans and relative links are left as written; a link rewritten before carries a
/// local URL and is left alone, so a second run changes nothing.
fn rewrite_markdown_links(
    markdown: &str,
    to_local: &dyn Fn(&Url) -> Option<String>,
) -> (String, Vec<Url>) {
    use pulldown_cmark::{Event, Parser, Tag};
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut unresolved = Vec::new();
    for (event, range) in Parser::new(markdown).into_offset_iter() {
        let (Event::Start(Tag::Link { dest_url, .. }) | Event::Start(Tag::Image { dest_url, .. })) =
            event
        else {
            continue;
        };
        let Ok(mut url) = Url::parse(&dest_url) else {
            continue;
        };
        if !matches!(url.scheme(), "http" | "https") {
            continue;
        }
        let fragment = url.fragment().map(str::to_string);
        url.set_fragment(None);
        let Some(mut local) = to_local(&url) else {
            unresolved.push(url);
            continue;
        };
        if let Some(f) = fragment {
            local = format!("{local}#{f}");
        }
        let source = &markdown[range.clone()];
        let Some(at) = source.rfind(&format!("({dest_url}")) else {
            continue;
        };
        let start = range.start + at + 1;
        edits.push((start..start + dest_url.len(), local));
        let comment = format!("<!-- cairn-original: {dest_url} -->");
        if !markdown[range.end..].starts_with(&comment) {
            edits.push((range.end..range.end, comment));
        }
    }
    let mut out = String::with_capacity(markdown.len() + edits.len() * 64);
    let mut last = 0;
    for (range, text) in edits {
        if range.start < last {
            continue;
        }
        out.push_str(&markdown[last..range.start]);
        out.push_str(&text);
        last = range.end;
    }
    out.push_str(&markdown[last..]);
    (out, unresolved)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn markdown_links_point_local_keep_their_form_and_stay_put_on_a_second_run() {
        let md = "[標題](https://a.example/x#top)\n------\n![pic](https://a.example/p.jpg) `[c](https://a.example/c)` [rel](/local) [gone](https://b.example/)";
        let local =
            |u: &Url| (u.host_str() == Some("a.example")).then(|| format!("/off{}", u.path()));
        let (once, unresolved) = rewrite_markdown_links(md, &local);
        assert!(
            once.starts_with(
                "[標題](/off/x#top)<!-- cairn-original: https://a.example/x#top -->\n------"
            ),
            "{once}"
        );
        assert!(
            once.contains("![pic](/off/p.jpg)<!-- cairn-original: https://a.example/p.jpg -->"),
            "{once}"
        );
        assert!(
            once.contains("`[c](https://a.example/c)`") && once.contains("[rel](/local)"),
            "{once}"
        );
        assert_eq!(unresolved.len(), 1);
        let (twice, _) = rewrite_markdown_links(&once, &local);
        assert_eq!(once, twice);
    }

    fn post_rewrite(map: &OfflineMap) -> PostRewrite<'_> {
        PostRewrite {
            link_base: "/off",
            map,
            archived_at: "2026-11-26T00:00:00Z",
            collection: "default",
        }
    }

    /// Found by fuzzing: front matter that is not a mapping, and cairn's own keys with a value
    /// spread over lines, gave posts whose front matter no longer parsed.
    #[test]
    fn a_rewritten_post_always_parses_and_a_second_rewrite_changes_nothing() {
        let path = Path::new("_posts/p.md");
        let mut map = OfflineMap::new(Path::new("offline"));
        map.add_file(
            &Url::parse("https://a.example/x").unwrap(),
            "a/x.html".into(),
        );
        for scalar in ["---\nN\n---", "---\nNA \n---\ndiv>\n", "---\n- a\n---\n"] {
            let err = Post::parse(path, scalar.into()).unwrap_err();
            assert!(err.to_string().contains("not a mapping"), "{err}");
        }
        let split = "---\ncairn_archived_at: |\n  a\n  b\n---\nbody\n";
        let post = Post::parse(path, split.into()).unwrap();
        let err = rewrite_post(&post, &post_rewrite(&map)).unwrap_err();
        assert!(err.to_string().contains("left as it was"), "{err}");
        for text in [
            "---\n---",
            "---\ntitle: x\n---",
            "---\ntitle: x\ncairn_collection: old\n---\n[a](https://a.example/x) <img src=https://a.example/x>\n",
            "---\n---\n<a href=\"http:.\" src>",
        ] {
            let post = Post::parse(path, text.into()).unwrap();
            let (once, _) = rewrite_post(&post, &post_rewrite(&map)).unwrap();
            let post = Post::parse(path, once.clone()).unwrap();
            let (twice, _) = rewrite_post(&post, &post_rewrite(&map)).unwrap();
            assert_eq!(once, twice, "{text:?}");
        }
    }
}
