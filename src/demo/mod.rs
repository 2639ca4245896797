//! `cairn demo`: the whole pipeline on the bundled seed post with no internet. A built-in
//! fixture serves the post's source article, its related pages and images over HTTPS on
//! 127.0.0.1 (under their real names, with a CA made at start), cairn archives the post through
//! it, writes the offline copy and the rewritten post, and says how to open them.
//!
//! The same fixture serves the integration tests, so what the demo shows is what is tested.

pub mod server;
pub mod site;

use std::path::PathBuf;

use crate::archive::{self, ArchiveError, ArchiveOptions, Resume, Summary};
use crate::collection::{Archives, CollectionName};
use crate::export::offline_path;

/// The real post the project starts from (`shared/seeds/`).
pub const SEED_POST: &str = include_str!("2023-03-21-cna-xi-putin-talks.md");
pub const SEED_POST_NAME: &str = "2023-03-21-cna-xi-putin-talks.md";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("starting the demo's fixture web on 127.0.0.1: {0}")]
    Fixture(std::io::Error),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
}

/// Where the demo left what it made.
#[derive(Debug)]
pub struct DemoReport {
    pub summary: Summary,
    /// The offline copy of the seed post's source article.
    pub article: PathBuf,
    /// The seed post, rewritten to point at the offline copy.
    pub post: PathBuf,
    pub warc_dir: PathBuf,
}

/// The seed post written out, and its source served from the built-in fixture.
pub struct Demo {
    fixture: server::HttpsFixture,
    post: PathBuf,
}

impl Demo {
    /// Writes the seed post into `archives/demo-site/_posts/` and starts the fixture web.
    pub fn start(archives: &Archives) -> Result<Demo, DemoError> {
        let posts_dir = archives.demo_posts();
        let post = posts_dir.join(SEED_POST_NAME);
        std::fs::create_dir_all(&posts_dir)
            .and_then(|()| std::fs::write(&post, SEED_POST))
            .map_err(|source| DemoError::Write {
                path: post.clone(),
                source,
            })?;
        let fixture = site::start().map_err(DemoError::Fixture)?;
        Ok(Demo { fixture, post })
    }

    /// Where the fixture listens on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.fixture.port
    }

    /// Archives the post through the fixture into the collection; the fixture stops after.
    pub fn archive(
        self,
        archives: &Archives,
        name: &CollectionName,
    ) -> Result<DemoReport, DemoError> {
        let options = ArchiveOptions {
            targets: vec![self.post.display().to_string()],
            ca_cert: vec![self.fixture.ca_pem.clone()],
            connect_to: self.fixture.connect_to(),
            ..ArchiveOptions::default()
        };
        let collection = archives.collection(name);
        let summary = archive::archive(&collection, &options, Resume::default())?;
        let article = url::Url::parse(site::ARTICLE).expect("the article's URL parses");
        Ok(DemoReport {
            summary,
            article: collection
                .offline_dir()
                .join(offline_path(&article, "text/html")),
            post: collection.posts_dir().join(SEED_POST_NAME),
            warc_dir: collection.warc_dir(),
        })
    }
}
