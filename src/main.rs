//! The `cairn` binary: parse arguments, run, and turn an error into one `error:` line and an
//! exit code (0 success, 1 error, 2 wrong usage).

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match cairn::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
    match cairn::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let _ = writeln!(io::stderr(), "error: {}", one_line(&err));
            ExitCode::from(1)
        }
    }
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
