//! Jekyll posts as crawl input: the front matter (parsed as YAML), its `from:` source article,
//! and the links and images in the body (Markdown or HTML), which are further seeds. The
//! rewriting of a post after its crawl lives in [`crate::export`].

use std::path::{Path, PathBuf};

use url::Url;

use crate::extract::{self, LinkKind};

#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a post: no front matter between --- lines at the top")]
    NoFrontMatter { path: PathBuf },
    #[error("{path}: front matter is not valid YAML: {detail}")]
    Yaml { path: PathBuf, detail: String },
    #[error("{path}: from: {value} is not an http(s) URL")]
    BadFrom { path: PathBuf, value: String },
}

/// `file:///`: the root of the mirror, against which a post's relative links resolve.
pub fn site_root() -> Url {
    Url::parse("file:///").expect("a constant, valid URL")
}

#[derive(Debug, Clone)]
pub struct Post {
    pub path: PathBuf,
    /// The whole file as read.
    pub text: String,
    /// Byte range of the YAML between the `---` lines.
    pub front_matter: std::ops::Range<usize>,
    /// Where the body starts (after the closing `---` line).
    pub body_start: usize,
    /// The source article, from `from:`.
    pub from: Option<Url>,
}

impl Post {
    pub fn read(path: &Path) -> Result<Post, PostError> {
        let bytes = std::fs::read(path).map_err(|source| PostError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Post::parse(path, text)
    }

    pub fn parse(path: &Path, text: String) -> Result<Post, PostError> {
        let no_front_matter = || PostError::NoFrontMatter {
            path: path.to_path_buf(),
        };
        let text_start = if text.starts_with('\u{feff}') { 3 } else { 0 };
        let rest = &text[text_start..];
        let first_line_end = rest.find('\n').ok_or_else(no_front_matter)?;
        if rest[..first_line_end].trim_end() != "---" {
            return Err(no_front_matter());
        }
        let yaml_start = text_start + first_line_end + 1;
        let mut pos = yaml_start;
        let yaml_end = loop {
            let line_end = text[pos..].find('\n').map_or(text.len(), |i| pos + i + 1);
            let line = text[pos..line_end].trim_end();
            if line == "---" || line == "..." {
                break pos;
            }
            if line_end >= text.len() {
                return Err(no_front_matter());
            }
            pos = line_end;
        };
        let body_start = text[yaml_end..]
            .find('\n')
            .map_or(text.len(), |i| yaml_end + i + 1);
        let yaml: serde_yaml_ng::Value = if text[yaml_start..yaml_end].trim().is_empty() {
            serde_yaml_ng::Value::Null
        } else {
            serde_yaml_ng::from_str(&text[yaml_start..yaml_end]).map_err(|e| PostError::Yaml {
                path: path.to_path_buf(),
                detail: e.to_string(),
            })?
        };
        if !matches!(
            yaml,
            serde_yaml_ng::Value::Null | serde_yaml_ng::Value::Mapping(_)
        ) {
            // Jekyll reads front matter as a hash; anything else cannot take cairn's keys.
            return Err(PostError::Yaml {
                path: path.to_path_buf(),
                detail: "not a mapping of keys to values".into(),
            });
        }
        let from = match yaml.get("from") {
            None | Some(serde_yaml_ng::Value::Null) => None,
            Some(value) => {
                let url = value
                    .as_str()
                    .and_then(|s| Url::parse(s.trim()).ok())
                    .filter(|u| matches!(u.scheme(), "http" | "https"));
                Some(url.ok_or_else(|| {
                    PostError::BadFrom {
                        path: path.to_path_buf(),
                        value: serde_yaml_ng::to_string(value)
                            .unwrap_or_default()
                            .trim()
                            .to_string(),
                    }
                })?)
            }
        };
        Ok(Post {
            path: path.to_path_buf(),
            front_matter: yaml_start..yaml_end,
            body_start,
            from,
            text,
        })
    }

    pub fn body(&self) -> &str {
        &self.text[self.body_start..]
    }

    /// The body as HTML: Markdown rendered (inline HTML passes through as it is).
    pub fn body_html(&self) -> String {
        let parser = pulldown_cmark::Parser::new(self.body());
        let mut html = String::new();
        pulldown_cmark::html::push_html(&mut html, parser);
        html
    }

    /// The absolute http(s) links and images of the body: pages and requisites to archive
    /// with the source article. Relative links point into the mirror itself and are left out.
    pub fn body_links(&self) -> Vec<extract::Link> {
        let base = site_root();
        let html = self.body_html();
        let page = extract::html(html.as_bytes(), Some("text/html; charset=utf-8"), &base);
        page.links
            .into_iter()
            .filter(|l| l.kind != LinkKind::Refresh)
            .collect()
    }

    /// The URI the post's own `resource` record carries: its path from the site root
    /// (`file:///_posts/2023-03-21-x.md`), never the local absolute path.
    pub fn record_uri(&self) -> String {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parent = self
            .path
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned());
        let path = match parent {
            Some(dir) if dir.starts_with('_') => format!("{dir}/{name}"),
            _ => name,
        };
        let mut url = site_root();
        url.set_path(&path);
        url.into()
    }
}

/// The posts of a folder (as Jekyll's `_posts`): Markdown and HTML files with front matter, by
/// name. Files without front matter are skipped, as Jekyll skips them.
pub fn posts_in(dir: &Path) -> Result<Vec<Post>, PostError> {
    let read_err = |source| PostError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(read_err)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .is_some_and(|e| matches!(e.to_str(), Some("md" | "markdown" | "html" | "htm")))
        })
        .collect();
    paths.sort();
    let mut posts = Vec::new();
    for path in paths {
        match Post::read(&path) {
            Ok(post) => posts.push(post),
            Err(PostError::NoFrontMatter { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(posts)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = crate::demo::SEED_POST;

    #[test]
    fn parses_the_seed_post() {
        let path = Path::new("site/_posts/2023-03-21-cna-xi-putin-talks.md");
        let post = Post::parse(path, SEED.into()).unwrap();
        assert_eq!(
            post.from.as_ref().map(Url::as_str),
            Some("https://www.cna.com.tw/news/aopl/202303220008.aspx")
        );
        assert!(post.body().starts_with("<!--1679434320000-->"));
        let links = post.body_links();
        let distinct = |kind| {
            let urls: std::collections::HashSet<&str> = links
                .iter()
                .filter(|l| l.kind == kind)
                .map(|l| l.url.as_str())
                .collect();
            urls.len()
        };
        let (images, pages) = (
            distinct(LinkKind::Requisite),
            distinct(LinkKind::Navigation),
        );
        assert_eq!(images, 16, "the carousel's lazy images");
        assert!(pages > 20, "{pages} linked pages");
        assert!(
            links
                .iter()
                .any(|l| l.url.as_str() == "https://www.cna.com.tw/news/aopl/202303220008.aspx")
        );
        assert_eq!(
            post.record_uri(),
            "file:///_posts/2023-03-21-cna-xi-putin-talks.md"
        );
    }

    #[test]
    fn rejects_what_is_not_a_post() {
        let p = Path::new("x.md");
        assert!(matches!(
            Post::parse(p, "# just markdown\n".into()),
            Err(PostError::NoFrontMatter { .. })
        ));
        assert!(matches!(
            Post::parse(p, "---\nfrom: [unclosed\n---\n".into()),
            Err(PostError::Yaml { .. })
        ));
        assert!(matches!(
            Post::parse(p, "---\nfrom: ftp://x/y\n---\nbody".into()),
            Err(PostError::BadFrom { .. })
        ));
        let no_from = Post::parse(p, "---\ntitle: x\n---\n[a](https://a.example/)".into()).unwrap();
        assert_eq!(no_from.from, None);
        assert_eq!(no_from.body_links().len(), 1);
    }
}
