//! A job's `on_change` command, run after a run in which pages' article texts changed: the
//! changed URLs as its arguments (as many as fit in [`MAX_ARGUMENT_BYTES`]) and all of them one
//! per line on its standard input, the job and its collection in `CAIRN_JOB` and
//! `CAIRN_COLLECTION`. What it did (its exit status, or why it did not run or finish) goes
//! into the run's record; it never fails the run, whose archive is whole either way.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::Job;
use super::config::OnChange;

/// A notification that runs longer than this is killed, with what it started: the job's lock
/// is held meanwhile.
const TIMEOUT: Duration = Duration::from_secs(300);

/// URLs given as arguments, at most, in bytes: far below the kernel's limit on a command
/// line, which a long list would pass (the command would then not start at all).
const MAX_ARGUMENT_BYTES: usize = 64 << 10;

/// Runs the command for the changed URLs; what it did, for the run's record.
pub fn notify(command: &OnChange, job: &Job, changed: &[String]) -> String {
    let mut process = match command {
        OnChange::Shell(script) => {
            let mut sh = Command::new("sh");
            sh.arg("-c").arg(script).arg("cairn-on-change");
            sh
        }
        OnChange::Argv(argv) => {
            let Some((program, args)) = argv.split_first() else {
                return "no command to run".to_string();
            };
            let mut process = Command::new(program);
            process.args(args);
            process
        }
    };
    process
        .args(fitting_arguments(changed))
        .env("CAIRN_JOB", &job.name)
        .env("CAIRN_COLLECTION", job.collection.as_str())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        // Its own process group: a timeout ends what it started too, not only `sh`.
        .process_group(0);
    let mut child = match process.spawn() {
        Ok(child) => child,
        Err(error) => return format!("could not start: {error}"),
    };
    // Written from a thread of its own: a command that never reads a long list would block
    // the write, and the timeout with it.
    let input = format!("{}\n", changed.join("\n"));
    let stdin = child.stdin.take();
    let feeder = std::thread::spawn(move || {
        if let Some(mut stdin) = stdin {
            // A command that reads none of it closes the pipe: that is no failure of its own.
            let _ = stdin.write_all(input.as_bytes());
        }
    });
    let outcome = wait(&mut child);
    let _ = feeder.join();
    outcome
}

/// The URLs that fit in [`MAX_ARGUMENT_BYTES`], in order.
fn fitting_arguments(changed: &[String]) -> &[String] {
    let mut bytes = 0;
    let fitting = changed
        .iter()
        .take_while(|url| {
            bytes += url.len() + 1;
            bytes <= MAX_ARGUMENT_BYTES
        })
        .count();
    &changed[..fitting]
}

/// Waits for the command, killing its process group after [`TIMEOUT`].
fn wait(child: &mut Child) -> String {
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                return match status.code() {
                    Some(code) => format!("exit {code}"),
                    None => format!("ended by a signal ({status})"),
                };
            }
            Ok(None) if started.elapsed() < TIMEOUT => {
                std::thread::sleep(Duration::from_millis(50));
            }
            waited => {
                kill_group(child);
                let _ = child.wait();
                return match waited {
                    Err(error) => format!("could not wait for it: {error}"),
                    _ => format!("killed after {} s", TIMEOUT.as_secs()),
                };
            }
        }
    }
}

/// Ends the command and everything it started (its process group, led by it).
fn kill_group(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_list_goes_whole_on_stdin_and_as_far_as_it_fits_as_arguments() {
        let urls: Vec<String> = (0..20_000)
            .map(|i| format!("https://news.example/story/{i:05}"))
            .collect();
        let fitting = fitting_arguments(&urls);
        assert!(fitting.len() < urls.len() && fitting.len() > 1000);
        let bytes: usize = fitting.iter().map(|u| u.len() + 1).sum();
        assert!(bytes <= MAX_ARGUMENT_BYTES);
        let dir = tempfile::tempdir().unwrap();
        let job = crate::jobs::config::parse(
            std::path::Path::new("cairn.toml"),
            "[[job]]\nname = \"n\"\ntargets = [\"https://news.example/\"]\nschedule = \"0 * * * *\"\n",
        )
        .unwrap()
        .remove(0);
        let out = dir.path().join("lines");
        // Reads nothing for a while, then counts the lines: the writer must not block it.
        let script = format!(
            "sleep 0.2; wc -l > {}; echo $# >> {}",
            out.display(),
            out.display()
        );
        assert_eq!(notify(&OnChange::Shell(script), &job, &urls), "exit 0");
        let counted = std::fs::read_to_string(&out).unwrap();
        let counts: Vec<&str> = counted.split_whitespace().collect();
        assert_eq!(counts, ["20000", &fitting.len().to_string()]);
        assert_eq!(
            notify(
                &OnChange::Argv(vec!["/nonexistent/cmd".into()]),
                &job,
                &urls
            )
            .split(':')
            .next(),
            Some("could not start")
        );
    }
}
