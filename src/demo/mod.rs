//! `cairn demo`: the whole pipeline on the bundled seed post with no internet. A built-in
//! fixture serves the post's source article, its related pages and images over HTTPS on
//! 127.0.0.1 (under their real names, with a CA made at start), cairn archives the post through
//! it, writes the offline copy and the rewritten post, and says how to open them. Then the
//! fixture publishes an edited article, cairn captures it again, and the demo shows what
//! changed between the two captures.
//!
//! The same fixture serves the integration tests, so what the demo shows is what is tested.

pub mod server;
pub mod site;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::archive::{self, ArchiveError, ArchiveOptions, Resume, Summary};
use crate::article::history::{Comparison, History, HistoryError};
use crate::article::texts::Texts;
use crate::collection::{Archives, Collection, CollectionError, CollectionName};
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
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error(transparent)]
    Collection(#[from] CollectionError),
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
    /// The re-capture of the article once the fixture published its edit.
    pub recapture: Summary,
    /// What changed in the article between its two captures.
    pub changes: Option<Comparison>,
}

/// The seed post written out, and its source served from the built-in fixture.
pub struct Demo {
    fixture: server::HttpsFixture,
    post: PathBuf,
    /// Set when the fixture serves the edited article.
    edited: Arc<AtomicBool>,
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
        let edited = Arc::new(AtomicBool::new(false));
        let fixture = site::start_editions(edited.clone()).map_err(DemoError::Fixture)?;
        Ok(Demo {
            fixture,
            post,
            edited,
        })
    }

    /// Where the fixture listens on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.fixture.port
    }

    /// Archives the post through the fixture into the collection; then, the article edited,
    /// captures it again and compares the two. The fixture stops after.
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
        self.edited.store(true, Ordering::SeqCst);
        // Captures are told apart by their 14-digit timestamps, as in every CDXJ index: the
        // second capture waits for the next second.
        let into_second = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        std::thread::sleep(std::time::Duration::from_nanos(
            u64::from(1_000_000_000 - into_second) + 10_000_000,
        ));
        let again = ArchiveOptions {
            targets: vec![site::ARTICLE.to_string()],
            depth: 0,
            ..options
        };
        let recapture = archive::archive(&collection, &again, Resume::default())?;
        let article = url::Url::parse(site::ARTICLE).expect("the article's URL parses");
        Ok(DemoReport {
            summary,
            article: collection
                .offline_dir()
                .join(offline_path(&article, "text/html")),
            post: collection.posts_dir().join(SEED_POST_NAME),
            warc_dir: collection.warc_dir(),
            recapture,
            changes: last_change(&collection, site::ARTICLE)?,
        })
    }
}

/// What changed in the URL's text the last time it changed.
fn last_change(collection: &Collection, url: &str) -> Result<Option<Comparison>, DemoError> {
    let index = collection.index()?;
    let mut texts = Texts::load(collection)?;
    let history = History::of(collection, &index, &mut texts, url)?;
    Ok(history
        .last_change()
        .and_then(|(from, to)| Comparison::between(&texts, url, from, to)))
}
