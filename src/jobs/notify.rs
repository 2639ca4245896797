//! A job's `on_change` command, run after a run in which pages' article texts changed: the
//! changed URLs as its arguments and one per line on its standard input, the job and its
//! collection in `CAIRN_JOB` and `CAIRN_COLLECTION`. What it did (its exit status, or why it
//! did not run or finish) goes into the run's record; it never fails the run, whose archive
//! is whole either way.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::Job;
use super::config::OnChange;

/// A notification that runs longer than this is killed: the job's lock is held meanwhile.
const TIMEOUT: Duration = Duration::from_secs(300);

/// Runs the command for the changed URLs; what it did, for the run's record.
pub fn notify(command: &OnChange, job: &Job, changed: &[String]) -> String {
    let mut process = match command {
        OnChange::Shell(script) => {
            let mut sh = Command::new("sh");
            sh.arg("-c").arg(script).arg("cairn-on-change");
            sh
        }
        OnChange::Argv(argv) => {
            let mut process = Command::new(&argv[0]);
            process.args(&argv[1..]);
            process
        }
    };
    process
        .args(changed)
        .env("CAIRN_JOB", &job.name)
        .env("CAIRN_COLLECTION", job.collection.as_str())
        .stdin(Stdio::piped())
        .stdout(Stdio::null());
    let mut child = match process.spawn() {
        Ok(child) => child,
        Err(error) => return format!("could not start: {error}"),
    };
    if let Some(mut stdin) = child.stdin.take() {
        // A command that reads none of it closes the pipe: that is no failure of its own.
        let _ = stdin.write_all(format!("{}\n", changed.join("\n")).as_bytes());
    }
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                return match status.code() {
                    Some(code) => format!("exit {code}"),
                    None => format!("ended by a signal ({status})"),
                };
            }
            Ok(None) if started.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return format!("killed after {} s", TIMEOUT.as_secs());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(error) => return format!("could not wait for it: {error}"),
        }
    }
}
