//! What a TARGET names (a URL, a Jekyll post, or a folder of posts), and where the crawl
//! starts from it: a post's source article is a target, the pages its body links to come at
//! depth 1 (as the source's related news would), the images in it as requisites, and the post
//! itself is stored as a `resource` record.

use std::path::{Path, PathBuf};

use url::Url;

use crate::crawl::Resource;
use crate::extract::LinkKind;
use crate::frontier::{CandidateKind, Seed};
use crate::post::{Post, PostError, posts_in};

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error(
        "{target:?} is not a URL (expected http:// or https://...), a post or a folder of posts: {source}"
    )]
    NotATarget {
        target: String,
        source: url::ParseError,
    },
    #[error("{target:?}: only http and https URLs can be archived, not {scheme}:")]
    Scheme { target: String, scheme: String },
    #[error("{target:?} is not a URL: it has no host")]
    NoHost { target: String },
    #[error("{}: no posts (Markdown or HTML files with front matter) in this folder", dir.display())]
    NoPosts { dir: PathBuf },
    #[error(transparent)]
    Post(#[from] PostError),
}

/// What a TARGET names.
pub enum Input {
    Url(Url),
    Post(Box<Post>),
}

/// Every target, checked before anything is fetched.
pub fn parse_all(targets: &[String]) -> Result<Vec<Input>, TargetError> {
    let mut inputs = Vec::new();
    for target in targets {
        inputs.extend(parse(target)?);
    }
    Ok(inputs)
}

/// A target: a URL, a post file or a folder of posts, or a clear reason why it is none.
fn parse(target: &str) -> Result<Vec<Input>, TargetError> {
    let path = Path::new(target);
    let looks_like_url = target.contains("://") || target.starts_with("file:");
    if !looks_like_url && path.exists() {
        if path.is_dir() {
            let posts = posts_in(path)?;
            if posts.is_empty() {
                return Err(TargetError::NoPosts {
                    dir: path.to_path_buf(),
                });
            }
            return Ok(posts
                .into_iter()
                .map(|p| Input::Post(Box::new(p)))
                .collect());
        }
        return Ok(vec![Input::Post(Box::new(Post::read(path)?))]);
    }
    let url = Url::parse(target).map_err(|source| TargetError::NotATarget {
        target: target.to_string(),
        source,
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(TargetError::Scheme {
            target: target.to_string(),
            scheme: url.scheme().to_string(),
        });
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(TargetError::NoHost {
            target: target.to_string(),
        });
    }
    Ok(vec![Input::Url(url)])
}

/// Where the crawl starts, and the posts themselves as records.
pub fn seeds_and_resources(inputs: &[Input]) -> (Vec<Seed>, Vec<Resource>) {
    let mut seeds = Vec::new();
    let mut resources = Vec::new();
    for input in inputs {
        match input {
            Input::Url(url) => seeds.push(Seed {
                url: url.clone(),
                depth: 0,
                kind: CandidateKind::Target,
            }),
            Input::Post(post) => {
                seeds.extend(post_seeds(post));
                resources.push(post_resource(post));
            }
        }
    }
    (seeds, resources)
}

/// The URLs the targets name: URLs given, and the articles posts name in `from:`.
pub fn target_urls(inputs: &[Input]) -> std::collections::HashSet<String> {
    seeds_and_resources(inputs)
        .0
        .into_iter()
        .filter(|seed| seed.depth == 0 && seed.kind == CandidateKind::Target)
        .map(|seed| seed.url.to_string())
        .collect()
}

fn post_seeds(post: &Post) -> Vec<Seed> {
    let mut seeds: Vec<Seed> = post
        .from
        .iter()
        .map(|from| Seed {
            url: from.clone(),
            depth: 0,
            kind: CandidateKind::Target,
        })
        .collect();
    for link in post.body_links() {
        let (depth, kind) = match link.kind {
            LinkKind::Requisite => (0, CandidateKind::Requisite),
            _ => (1, CandidateKind::Target),
        };
        seeds.push(Seed {
            url: link.url,
            depth,
            kind,
        });
    }
    seeds
}

fn post_resource(post: &Post) -> Resource {
    let is_html = post
        .path
        .extension()
        .is_some_and(|e| e == "html" || e == "htm");
    Resource {
        target_uri: post.record_uri(),
        content_type: if is_html {
            "text/html; charset=utf-8"
        } else {
            "text/markdown; charset=utf-8"
        }
        .to_string(),
        block: post.text.as_bytes().to_vec(),
    }
}
