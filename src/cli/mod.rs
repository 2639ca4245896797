//! The command line: clap definitions, and for each command the one library call it makes
//! and what it prints. Arguments become typed values here, before any I/O (a collection name
//! is checked as it is parsed); everything else is the library's.

/// A line on stdout (data) or stderr (what happened), written as an error rather than a
/// panic when the reader has gone (`cairn verify DIR | head`): `main` takes a broken pipe for
/// success.
macro_rules! out {
    ($($arg:tt)*) => {
        std::io::Write::write_fmt(&mut std::io::stdout(), format_args!("{}\n", format_args!($($arg)*)))?
    };
}
macro_rules! say {
    ($($arg:tt)*) => {
        std::io::Write::write_fmt(&mut std::io::stderr(), format_args!("{}\n", format_args!($($arg)*)))?
    };
}

mod archive;
mod articles;
mod jobs;
mod warcs;

use std::path::PathBuf;

use anyhow::Result;
use clap::{ArgMatches, Parser, Subcommand};

use crate::archive::ArchiveOptions;
use crate::collection::{Archives, Collection, CollectionName};
use crate::store::Store;

#[derive(Debug, Parser)]
#[command(
    name = "cairn",
    version,
    args_override_self = true,
    about = "Archive web pages to WARC, rewrite posts to render offline, replay without the live web"
)]
pub struct Cli {
    /// Folder holding the collections.
    #[arg(long, global = true, default_value = "archives", value_name = "DIR")]
    pub archives: PathBuf,
    /// Collection to work on.
    #[arg(
        short = 'c',
        long,
        global = true,
        default_value = "default",
        value_name = "NAME"
    )]
    pub collection: CollectionName,
    /// Print a machine-readable summary on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Archive URLs: each page, everything it needs to render, and the related pages it links
    /// to (within --depth and --scope), into the collection's WARC files; then index them,
    /// update the offline copy and rewrite the posts among the targets.
    Archive(Box<ArchiveOptions>),
    /// Scheduled crawl jobs from cairn.toml: list them, run one now, or show its history.
    Jobs {
        /// The job file (default: ./cairn.toml).
        #[arg(long, global = true, value_name = "PATH")]
        config: Option<PathBuf>,
        #[command(subcommand)]
        action: JobsAction,
    },
    /// Run the scheduler in the foreground: start due jobs until SIGINT or SIGTERM.
    Schedule {
        /// The job file (default: ./cairn.toml).
        #[arg(long, value_name = "PATH")]
        config: Option<PathBuf>,
        /// Jobs running at once.
        #[arg(long, default_value_t = 2, value_name = "N")]
        max_jobs: usize,
    },
    /// Replay the archives from a local server (pywb's URL scheme): /COLL/TIMESTAMP/URL.
    Replay {
        /// Address to listen on; keep it on loopback unless you mean to share the archive.
        #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
        bind: std::net::SocketAddr,
        /// Read the records of files the collections do not hold from this bucket
        /// (s3://BUCKET/PREFIX, where workers uploaded them; see `cairn index --store`).
        #[arg(long, value_name = "URL")]
        store: Option<String>,
    },
    /// The whole pipeline on the bundled seed post, with no internet: a built-in fixture serves
    /// its source article and images on 127.0.0.1, and cairn archives the post through it.
    Demo,
    /// Every capture of a URL: when, its status and payload digest, and whether its article
    /// text (title, byline, paragraphs) changed from the capture before.
    History {
        #[arg(value_name = "URL")]
        url: String,
    },
    /// What changed in a URL's article text between two captures, word by word (by character
    /// in Chinese and Japanese): by default the last two whose texts differ; FROM and TO
    /// are timestamps (YYYYMMDDhhmmss or fewer digits), each meaning the nearest capture.
    Diff {
        #[arg(value_name = "URL")]
        url: String,
        #[arg(value_name = "FROM")]
        from: Option<String>,
        #[arg(value_name = "TO")]
        to: Option<String>,
    },
    /// Re-read WARC files (gzip, zstd or plain, anyone's) and check every record's structure
    /// and digests. Folders are searched recursively.
    Verify {
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Mend interrupted files (FILE.open): keep every whole record, cut the torn tail,
        /// rename without .open.
        #[arg(long)]
        repair: bool,
    },
    /// Rebuild the collection's index.cdxj from its WARC files.
    Index {
        /// Also take in the index segments of the files in this bucket (s3://BUCKET/PREFIX)
        /// that are not here: what workers uploaded, its records then read from the bucket.
        #[arg(long, value_name = "URL")]
        store: Option<String>,
    },
    /// Add WACZ packages (from Browsertrix, ReplayWeb.page, py-wacz) or WARC files to the
    /// collection: each checked as `cairn verify` checks it, copied into its WARC folder
    /// under its own name, indexed where it lies; a package's pages join the collection's.
    Import {
        #[arg(required = true, value_name = "FILE")]
        paths: Vec<PathBuf>,
    },
    /// Convert WARC files to another compression, record by record: every record byte for
    /// byte as it was once decompressed, digests and record IDs unchanged. With no PATH, the
    /// collection's own files, its index rebuilt after.
    Recompress {
        /// The compression to convert to: gzip (what pywb, warcio and ReplayWeb.page read),
        /// zstd or none.
        #[arg(long, value_name = "CODEC")]
        to: crate::warc::Compression,
        /// WARC files, or folders searched recursively.
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Materialize the collection's offline copy (archives/COLL/offline): every archived page
    /// and what it needs, rewritten to open from file:// with no network.
    Export {
        /// Where to write it instead of archives/COLL/offline.
        #[arg(long, value_name = "DIR", conflicts_with = "wacz")]
        out: Option<PathBuf>,
        /// Write a WACZ package instead (for ReplayWeb.page, pywb, Browsertrix): the whole
        /// collection, or what the TARGETs need.
        #[arg(long, value_name = "FILE.wacz")]
        wacz: Option<PathBuf>,
        /// The package's title (default: the collection's name).
        #[arg(long, requires = "wacz")]
        title: Option<String>,
        /// URLs, posts or folders of posts: each page's latest capture, what it needs to
        /// render and the archived pages it links to (with --wacz).
        #[arg(value_name = "TARGET", requires = "wacz")]
        targets: Vec<String>,
        /// Read the records of files the collection does not hold from this bucket
        /// (s3://BUCKET/PREFIX; see `cairn index --store`).
        #[arg(long, value_name = "URL")]
        store: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum JobsAction {
    List,
    /// Run one job now (for cron or systemd timers); archive options given after the name
    /// override the job's.
    #[command(mut_arg("targets", |a| a.required(false)))]
    Run {
        name: String,
        #[command(flatten)]
        overrides: Box<ArchiveOptions>,
    },
    History {
        name: String,
    },
}

/// Options given together that cannot go together: a usage error, exit code 2 as for clap's
/// own, with its one line.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct UsageError(#[from] pub crate::archive::OptionsError);

impl Cli {
    fn archives(&self) -> Archives {
        Archives::new(&self.archives)
    }

    /// The collection, which must exist.
    fn collection(&self) -> Result<Collection> {
        Ok(self.archives().open(&self.collection)?)
    }

    /// The collection, which must exist, reading what it lacks from `store` if one is given.
    fn collection_with_store(&self, store: Option<&str>) -> Result<Collection> {
        let store = store.map(Store::open).transpose()?.map(std::sync::Arc::new);
        Ok(self.archives().with_store(store).open(&self.collection)?)
    }
}

/// Runs a parsed command; `matches` tell which options were given on the command line.
pub fn run(cli: Cli, matches: &ArgMatches) -> Result<()> {
    match &cli.command {
        Command::Archive(options) => archive::archive(&cli, options),
        Command::Demo => archive::demo(&cli),
        Command::History { url } => articles::history(&cli, url),
        Command::Diff { url, from, to } => {
            articles::diff(&cli, url, from.as_deref(), to.as_deref())
        }
        Command::Verify { paths, repair } => warcs::verify(&cli, paths, *repair),
        Command::Index { store } => warcs::index(&cli, store.as_deref()),
        Command::Import { paths } => warcs::import(&cli, paths),
        Command::Recompress { to, paths } => warcs::recompress(&cli, *to, paths),
        Command::Export {
            wacz: Some(wacz),
            title,
            targets,
            store,
            ..
        } => warcs::export_wacz(&cli, wacz, title.as_deref(), targets, store.as_deref()),
        Command::Export { out, store, .. } => warcs::export(&cli, out.as_deref(), store.as_deref()),
        Command::Replay { bind, store } => warcs::replay(&cli, *bind, store.as_deref()),
        Command::Jobs { config, action } => {
            let given = |id: &str| given_to_run(matches, id);
            jobs::jobs(&cli, config.as_deref(), action, &given)
        }
        Command::Schedule { config, max_jobs } => {
            jobs::schedule(&cli, config.as_deref(), *max_jobs)
        }
    }
}

/// Whether `jobs run` was given an option (by its id) on its command line.
fn given_to_run(matches: &ArgMatches, id: &str) -> bool {
    let Some(("jobs", jobs)) = matches.subcommand() else {
        return false;
    };
    let Some(("run", run)) = jobs.subcommand() else {
        return false;
    };
    run.try_get_raw(id).is_ok_and(|v| v.is_some())
        && run.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
}
