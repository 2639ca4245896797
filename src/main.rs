//! The `cairn` binary: parse arguments, start logging, run, and turn an error into one
//! `error:` line and an exit code (0 success, 1 error, 2 wrong usage).

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let matches = match cairn::cli::Cli::command().try_get_matches() {
        Ok(matches) => matches,
        Err(err) => err.exit(),
    };
    let cli = match cairn::cli::Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
    start_logging();
    quiet_extractor_panics();
    match cairn::cli::run(cli, &matches) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) if err.downcast_ref::<cairn::cli::UsageError>().is_some() => {
            let _ = writeln!(io::stderr(), "error: {}", one_line(&err));
            ExitCode::from(2)
        }
        Err(err) => {
            let _ = writeln!(io::stderr(), "error: {}", one_line(&err));
            ExitCode::from(1)
        }
    }
}

/// Diagnostics (a job started, a replay request that failed) go to stderr, at the level
/// `CAIRN_LOG` names (`info` when unset); colour only on a terminal, and never with
/// `NO_COLOR`.
fn start_logging() {
    let level = std::env::var("CAIRN_LOG")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(tracing::level_filters::LevelFilter::INFO);
    let colour = io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_writer(io::stderr)
        .with_max_level(level)
        .with_target(false)
        .without_time()
        .with_ansi(colour)
        .init();
}

/// A panic inside the article extractor (`dom_smoothie`, on a page it cannot take) is caught
/// by the library, which gives the page no text and says so in a warning line: Rust's own
/// panic message would read as cairn failing. Any other panic prints as Rust prints it.
fn quiet_extractor_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info
            .location()
            .is_some_and(|at| at.file().contains("dom_smoothie"))
        {
            return;
        }
        default(info);
    }));
}

/// The error and its causes on one line, each cause once: many errors already quote their
/// source in their own message.
fn one_line(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&cause);
        }
    }
    text.replace('\n', " ")
}

/// `cairn index --json | head` is not a failure.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
