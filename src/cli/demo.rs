//! `cairn demo`: writes the bundled seed post into a small Jekyll-like folder, starts the
//! built-in fixture web, and runs `cairn archive` on the post through it.

use anyhow::{Context, Result};
use clap::Parser;

use super::{Cli, Command};
use crate::demo::{SEED_POST, SEED_POST_NAME, site};

pub fn run(cli: &Cli) -> Result<()> {
    let posts_dir = cli.archives.join("demo-site").join("_posts");
    std::fs::create_dir_all(&posts_dir)
        .with_context(|| format!("creating {}", posts_dir.display()))?;
    let post = posts_dir.join(SEED_POST_NAME);
    std::fs::write(&post, SEED_POST).with_context(|| format!("writing {}", post.display()))?;

    let fixture = site::start().context("starting the demo's fixture web on 127.0.0.1")?;
    eprintln!(
        "demo: serving {} from a built-in fixture on 127.0.0.1:{} (no internet needed)",
        site::ARTICLE,
        fixture.port
    );
    let mut argv: Vec<String> = vec![
        "cairn".into(),
        "--archives".into(),
        cli.archives.display().to_string(),
        "-c".into(),
        cli.collection.clone(),
        "archive".into(),
    ];
    argv.extend(fixture.args());
    argv.push(post.display().to_string());
    let archive_cli = Cli::try_parse_from(&argv).context("building the demo's archive command")?;
    let Command::Archive(args) = &archive_cli.command else {
        unreachable!("parsed an archive command");
    };
    super::archive::run(&archive_cli, args)?;

    let collection = cli.archives.join(&cli.collection);
    let absolute = |p: std::path::PathBuf| std::fs::canonicalize(&p).unwrap_or(p);
    let article =
        absolute(collection.join("offline/www.cna.com.tw/news/aopl/202303220008.aspx.html"));
    let rewritten = absolute(collection.join("posts").join(SEED_POST_NAME));
    println!(
        "Open the archived article, offline:  file://{}",
        article.display()
    );
    println!(
        "The post, rewritten to local copies:  {}",
        rewritten.display()
    );
    println!(
        "Check the WARC files:                 cairn verify {}",
        collection.join("warc").display()
    );
    println!(
        "Replay it:                            cairn --archives {} replay, then http://127.0.0.1:8080/{}/",
        cli.archives.display(),
        cli.collection
    );
    Ok(())
}
