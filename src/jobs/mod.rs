//! Scheduled crawl jobs: `cairn.toml` job definitions, their state and history (behind the
//! [`store::JobStore`] interface; SQLite in `archives/cairn.sqlite` by default), and the
//! scheduler that starts due jobs.
//!
//! A job is a list of targets, a crontab(5) schedule (5 fields, or 6 with seconds) in an
//! optional time zone, a collection, and any `cairn archive` option keyed by its long name in
//! snake_case. Running a job is running `cairn archive` with those options; re-crawls store
//! unchanged payloads as revisits.

pub mod store;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// One `[[job]]` of `cairn.toml`.
#[derive(Debug, Clone)]
pub struct Job {
    pub name: String,
    pub targets: Vec<String>,
    pub schedule: String,
    pub cron: Cron,
    pub timezone: Tz,
    pub collection: String,
    /// `cairn archive` options, as command-line words (`--depth`, `1`, ...).
    pub archive_args: Vec<String>,
}

impl Job {
    /// The first time the schedule fires strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = after.with_timezone(&self.timezone);
        self.cron
            .find_next_occurrence(&local, false)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }
}

#[derive(Debug, Deserialize)]
struct RawConfig {
    #[serde(default)]
    job: Vec<toml::Table>,
}

/// Where `cairn.toml` is: the given path, or the current directory's.
pub fn config_path(given: Option<&Path>) -> PathBuf {
    given.map_or_else(|| PathBuf::from("cairn.toml"), Path::to_path_buf)
}

/// Reads and checks every job: unknown keys, bad schedules and time zones are errors naming
/// the line they are on.
pub fn load(path: &Path, archive_options: &[String]) -> Result<Vec<Job>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text, archive_options)
}

pub fn parse(path: &Path, text: &str, archive_options: &[String]) -> Result<Vec<Job>, ConfigError> {
    let invalid = |line: usize, message: String| ConfigError::Invalid {
        path: path.to_path_buf(),
        line,
        message,
    };
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |span| {
            text[..span.start.min(text.len())].lines().count().max(1)
        });
        invalid(line, e.message().to_string())
    })?;
    let job_lines = job_header_lines(text);
    let mut jobs = Vec::new();
    for (i, table) in raw.job.into_iter().enumerate() {
        let header = job_lines.get(i).copied().unwrap_or(1);
        let line_of = |key: &str| key_line(text, header, key);
        let string = |key: &str| -> Result<Option<String>, ConfigError> {
            match table.get(key) {
                None => Ok(None),
                Some(toml::Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(invalid(line_of(key), format!("{key} must be a string"))),
            }
        };
        let name = string("name")?.ok_or_else(|| invalid(header, "a job needs a name".into()))?;
        if jobs.iter().any(|j: &Job| j.name == name) {
            return Err(invalid(
                line_of("name"),
                format!("two jobs are named {name:?}"),
            ));
        }
        let targets = match table.get("targets") {
            Some(toml::Value::Array(items)) if !items.is_empty() => items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| invalid(line_of("targets"), "targets must be strings".into()))?,
            _ => {
                return Err(invalid(
                    line_of("targets"),
                    format!("job {name:?} needs targets = [\"URL or post\", ...]"),
                ));
            }
        };
        let schedule = string("schedule")?.ok_or_else(|| {
            invalid(
                header,
                format!("job {name:?} needs a schedule (crontab syntax)"),
            )
        })?;
        let cron = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Optional)
            .build()
            .parse(&schedule)
            .map_err(|e| invalid(line_of("schedule"), format!("schedule {schedule:?}: {e}")))?;
        let timezone = match string("timezone")? {
            None => Tz::UTC,
            Some(tz) => tz
                .parse()
                .map_err(|_| invalid(line_of("timezone"), format!("unknown time zone {tz:?}")))?,
        };
        let collection = string("collection")?.unwrap_or_else(|| name.clone());
        let mut archive_args = Vec::new();
        for (key, value) in &table {
            if matches!(
                key.as_str(),
                "name" | "targets" | "schedule" | "timezone" | "collection"
            ) {
                continue;
            }
            let flag = key.replace('_', "-");
            if !archive_options.contains(&flag) {
                return Err(invalid(
                    line_of(key),
                    format!("unknown key {key:?} (not a cairn archive option)"),
                ));
            }
            match value {
                toml::Value::Boolean(true) => archive_args.push(format!("--{flag}")),
                toml::Value::Boolean(false) => {}
                toml::Value::Array(items) => {
                    for item in items {
                        archive_args.push(format!("--{flag}"));
                        archive_args.push(scalar(item).ok_or_else(|| {
                            invalid(
                                line_of(key),
                                format!("{key}: items must be strings or numbers"),
                            )
                        })?);
                    }
                }
                other => {
                    archive_args.push(format!("--{flag}"));
                    archive_args.push(scalar(other).ok_or_else(|| {
                        invalid(
                            line_of(key),
                            format!("{key}: expected a string, number or boolean"),
                        )
                    })?);
                }
            }
        }
        jobs.push(Job {
            name,
            targets,
            schedule,
            cron,
            timezone,
            collection,
            archive_args,
        });
    }
    Ok(jobs)
}

fn scalar(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        _ => None,
    }
}

/// Line numbers (1-based) of each `[[job]]` header, in order.
fn job_header_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("[[job]]"))
        .map(|(i, _)| i + 1)
        .collect()
}

/// The line of `key = ...` in the job whose header is on `header`.
fn key_line(text: &str, header: usize, key: &str) -> usize {
    text.lines()
        .enumerate()
        .skip(header)
        .take_while(|(_, l)| !l.trim_start().starts_with("[["))
        .find(|(_, l)| {
            let l = l.trim_start();
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map_or(header, |(i, _)| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> Vec<String> {
        [
            "depth",
            "resolve",
            "connect-to",
            "ca-cert",
            "no-progress",
            "delay",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    #[test]
    fn parses_the_design_example() {
        let text = r#"
[[job]]
name = "cna-ukraine"
targets = ["https://www.cna.com.tw/news/aopl/202303220008.aspx", "_posts/"]
schedule = "0 */6 * * *"      # crontab(5) syntax
timezone = "Asia/Taipei"
collection = "cna"
depth = 1
resolve = ["www.cna.com.tw:443:127.0.0.1"]
"#;
        let jobs = parse(Path::new("cairn.toml"), text, &options()).unwrap();
        let job = &jobs[0];
        assert_eq!(
            (job.name.as_str(), job.collection.as_str()),
            ("cna-ukraine", "cna")
        );
        assert_eq!(
            job.archive_args,
            ["--depth", "1", "--resolve", "www.cna.com.tw:443:127.0.0.1"]
        );
        // 06:00 in Taipei is 22:00 UTC the day before.
        let after: DateTime<Utc> = "2026-11-26T21:30:00Z".parse().unwrap();
        assert_eq!(
            job.next_after(after).unwrap().to_rfc3339(),
            "2026-11-26T22:00:00+00:00"
        );
        let every_second = parse(
            Path::new("x"),
            "[[job]]\nname = \"s\"\ntargets = [\"https://a.example/\"]\nschedule = \"* * * * * *\"\n",
            &options(),
        )
        .unwrap();
        let t: DateTime<Utc> = "2026-11-26T21:30:00Z".parse().unwrap();
        assert_eq!(
            (every_second[0].next_after(t).unwrap() - t).num_seconds(),
            1
        );
    }

    fn error_of(text: &str) -> String {
        match parse(Path::new("cairn.toml"), text, &options()) {
            Ok(_) => panic!("{text:?} parsed"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn errors_name_the_line() {
        let bad_key = "[[job]]\nname = \"a\"\ntargets = [\"https://a.example/\"]\nschedule = \"0 * * * *\"\nfrobnicate = 3\n";
        let err = error_of(bad_key);
        assert!(
            err.starts_with("cairn.toml:5: unknown key \"frobnicate\""),
            "{err}"
        );
        let bad_cron = "\n[[job]]\nname = \"a\"\ntargets = [\"https://a.example/\"]\nschedule = \"61 * * * *\"\n";
        let err = error_of(bad_cron);
        assert!(
            err.starts_with("cairn.toml:5: schedule \"61 * * * *\""),
            "{err}"
        );
        let bad_toml = "[[job]]\nname = \"a\"\ntargets = [\n";
        let err = error_of(bad_toml);
        assert!(err.starts_with("cairn.toml:"), "{err}");
        let bad_tz = "[[job]]\nname = \"a\"\ntargets = [\"x\"]\nschedule = \"0 * * * *\"\ntimezone = \"Mars/Olympus\"\n";
        let err = error_of(bad_tz);
        assert!(err.starts_with("cairn.toml:5: unknown time zone"), "{err}");
    }
}
