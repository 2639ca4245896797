//! `cairn.toml`: one `[[job]]` table per job, holding its `name`, `schedule` (crontab(5), 5
//! fields, or 6 with seconds), optional `timezone` and `collection`, and any `cairn archive`
//! option by its long name in snake_case, `targets` among them. The options are read by the
//! same [`ArchiveOptions`] the command line fills, so a key that is no option is an error, and
//! every error names the line it is on.

use std::ops::Range;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue, Deserializer};

use crate::archive::ArchiveOptions;
use crate::collection::CollectionName;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: {message}", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("no job named {0:?} in the configuration")]
    NoSuchJob(String),
    #[error("job {job:?}: the options given with it: {source}")]
    Overrides {
        job: String,
        source: serde_json::Error,
    },
}

/// One `[[job]]` of `cairn.toml`.
#[derive(Debug, Clone)]
pub struct Job {
    pub name: String,
    pub schedule: String,
    pub cron: Cron,
    pub timezone: Tz,
    pub collection: CollectionName,
    /// What the job archives, and how: `cairn archive`'s options.
    pub options: ArchiveOptions,
    /// Run after a run in which some pages' text changed, with their URLs.
    pub on_change: Option<OnChange>,
}

/// The command `on_change` names: a list of arguments, run as it is, or a string, run by
/// `sh -c` (where `"$@"` are the URLs). Either way the changed URLs follow as arguments and
/// come one per line on its standard input.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum OnChange {
    Shell(String),
    Argv(Vec<String>),
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

    /// The job's options with those a command line set put over them; `given` tells, by an
    /// option's name (its key in `cairn.toml`, its id in clap), whether the command line set it.
    pub fn options_with(
        &self,
        overrides: &ArchiveOptions,
        given: &dyn Fn(&str) -> bool,
    ) -> Result<ArchiveOptions, ConfigError> {
        let failed = |source| ConfigError::Overrides {
            job: self.name.clone(),
            source,
        };
        let as_map = |options: &ArchiveOptions| {
            let value = serde_json::to_value(options).map_err(failed)?;
            Ok(value.as_object().cloned().unwrap_or_default())
        };
        let mut merged = as_map(&self.options)?;
        for (key, value) in as_map(overrides)? {
            if given(&key) {
                merged.insert(key, value);
            }
        }
        serde_json::from_value(serde_json::Value::Object(merged)).map_err(failed)
    }
}

/// The keys of a job that are not archive options.
#[derive(Deserialize)]
struct JobKeys {
    name: Spanned<String>,
    schedule: Spanned<String>,
    timezone: Option<Spanned<String>>,
    collection: Option<Spanned<String>>,
    on_change: Option<Spanned<OnChange>>,
}

const JOB_KEYS: &[&str] = &["name", "schedule", "timezone", "collection", "on_change"];

/// Where `cairn.toml` is: the given path, or the current directory's.
pub fn config_path(given: Option<&Path>) -> PathBuf {
    given.map_or_else(|| PathBuf::from("cairn.toml"), Path::to_path_buf)
}

/// Reads and checks every job.
pub fn load(path: &Path) -> Result<Vec<Job>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text)
}

/// Checks every job of a configuration's text: unknown keys, bad values, schedules and time
/// zones are errors naming their line.
pub fn parse(path: &Path, text: &str) -> Result<Vec<Job>, ConfigError> {
    let at = |span: Option<Range<usize>>, message: String| ConfigError::Invalid {
        path: path.to_path_buf(),
        line: span.map_or(1, |s| line_of(text, s.start)),
        message,
    };
    let toml_error = |e: toml::de::Error| at(e.span(), e.message().to_string());
    let mut root = DeTable::parse(text).map_err(toml_error)?.into_inner();
    if let Some((key, _)) = root.iter().find(|(k, _)| k.get_ref() != "job") {
        let message = format!(
            "unknown key {:?} (cairn.toml holds [[job]] tables)",
            key.get_ref()
        );
        return Err(at(Some(key.span()), message));
    }
    let tables = match root.remove("job").map(Spanned::into_inner) {
        None => Vec::new(),
        Some(DeValue::Array(tables)) => tables.into_iter().collect(),
        Some(_) => return Err(at(None, "job must be an array of tables: [[job]]".into())),
    };
    let mut jobs: Vec<Job> = Vec::new();
    for table in tables {
        let span = table.span();
        let DeValue::Table(table) = table.into_inner() else {
            return Err(at(Some(span), "each job must be a [[job]] table".into()));
        };
        let name_span = table.get("name").map(Spanned::span);
        let job = job(table, span, &at, &toml_error)?;
        if jobs.iter().any(|j| j.name == job.name) {
            return Err(at(name_span, format!("two jobs are named {:?}", job.name)));
        }
        jobs.push(job);
    }
    Ok(jobs)
}

/// One job from its table.
fn job<'i>(
    mut table: DeTable<'i>,
    span: Range<usize>,
    at: &dyn Fn(Option<Range<usize>>, String) -> ConfigError,
    toml_error: &dyn Fn(toml::de::Error) -> ConfigError,
) -> Result<Job, ConfigError> {
    let mut keys = DeTable::new();
    for key in JOB_KEYS {
        if let Some((k, v)) = table.remove_entry(*key) {
            keys.insert(k, v);
        }
    }
    let targets_span = table.get("targets").map(Spanned::span);
    let from = |t: DeTable<'i>| Deserializer::from(Spanned::new(span.clone(), t));
    let keys = JobKeys::deserialize(from(keys)).map_err(toml_error)?;
    let options = ArchiveOptions::deserialize(from(table)).map_err(toml_error)?;
    let name_span = keys.name.span();
    let name = keys.name.into_inner();
    if options.targets.is_empty() {
        let message = format!("job {name:?} needs targets = [\"URL or post\", ...]");
        return Err(at(targets_span.or(Some(span)), message));
    }
    let cron = croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Optional)
        .build()
        .parse(keys.schedule.get_ref())
        .map_err(|e| {
            let message = format!("schedule {:?}: {e}", keys.schedule.get_ref());
            at(Some(keys.schedule.span()), message)
        })?;
    let timezone = match &keys.timezone {
        None => Tz::UTC,
        Some(tz) => tz.get_ref().parse().map_err(|_| {
            at(
                Some(tz.span()),
                format!("unknown time zone {:?}", tz.get_ref()),
            )
        })?,
    };
    let collection = match &keys.collection {
        None => name.parse(),
        Some(c) => c.get_ref().parse(),
    }
    .map_err(|e: crate::collection::CollectionError| {
        // The collection defaults to the job's name: a bad name is then the line to fix.
        let span = keys.collection.as_ref().map_or(name_span, Spanned::span);
        at(Some(span), e.to_string())
    })?;
    let on_change = keys.on_change.map(Spanned::into_inner);
    if let Some(OnChange::Argv(argv)) = &on_change
        && argv.is_empty()
    {
        return Err(at(
            Some(span),
            format!("job {name:?}: on_change needs a command"),
        ));
    }
    Ok(Job {
        name,
        schedule: keys.schedule.into_inner(),
        cron,
        timezone,
        collection,
        options,
        on_change,
    })
}

/// The line (1-based) of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let jobs = parse(Path::new("cairn.toml"), text).unwrap();
        let job = &jobs[0];
        assert_eq!(
            (job.name.as_str(), job.collection.as_str()),
            ("cna-ukraine", "cna")
        );
        assert_eq!(job.options.targets.len(), 2);
        assert_eq!(
            (job.options.depth, job.options.resolve.as_slice()),
            (1, ["www.cna.com.tw:443:127.0.0.1".to_string()].as_slice())
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
        )
        .unwrap();
        let t: DateTime<Utc> = "2026-11-26T21:30:00Z".parse().unwrap();
        assert_eq!(
            (every_second[0].next_after(t).unwrap() - t).num_seconds(),
            1
        );
    }

    fn error_of(text: &str) -> String {
        match parse(Path::new("cairn.toml"), text) {
            Ok(_) => panic!("{text:?} parsed"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn errors_name_the_line() {
        let job =
            "[[job]]\nname = \"a\"\ntargets = [\"https://a.example/\"]\nschedule = \"0 * * * *\"\n";
        for (extra, expected) in [
            (
                "frobnicate = 3\n",
                "cairn.toml:5: unknown field `frobnicate`",
            ),
            (
                "depth = \"deep\"\n",
                "cairn.toml:5: invalid type: string \"deep\"",
            ),
            (
                "timezone = \"Mars/Olympus\"\n",
                "cairn.toml:5: unknown time zone",
            ),
            (
                "collection = \"../up\"\n",
                "cairn.toml:5: \"../up\" is not a collection name",
            ),
            (
                "collection = \"/abs\"\n",
                "cairn.toml:5: \"/abs\" is not a collection name",
            ),
            (
                "collection = \"a/b\"\n",
                "cairn.toml:5: \"a/b\" is not a collection name",
            ),
            (
                "collection = \"..\"\n",
                "cairn.toml:5: \"..\" is not a collection name",
            ),
        ] {
            let err = error_of(&format!("{job}{extra}"));
            assert!(err.starts_with(expected), "{err}");
        }
        // Without `collection`, the job's name is the collection's, and is checked as one.
        let err = error_of(&job.replace("name = \"a\"", "name = \"../a\""));
        assert!(
            err.starts_with("cairn.toml:2: \"../a\" is not a collection name"),
            "{err}"
        );
        let bad_cron = "\n[[job]]\nname = \"a\"\ntargets = [\"https://a.example/\"]\nschedule = \"61 * * * *\"\n";
        let err = error_of(bad_cron);
        assert!(
            err.starts_with("cairn.toml:5: schedule \"61 * * * *\""),
            "{err}"
        );
        let err = error_of("[[job]]\nname = \"a\"\ntargets = [\n");
        assert!(err.starts_with("cairn.toml:"), "{err}");
        let err = error_of("[[job]]\nname = \"a\"\nschedule = \"0 * * * *\"\ntargets = []\n");
        assert!(
            err.starts_with("cairn.toml:4: job \"a\" needs targets"),
            "{err}"
        );
        let err = error_of(&format!("{job}{job}"));
        assert!(err.contains("two jobs are named \"a\""), "{err}");
    }

    #[test]
    fn command_line_options_go_over_the_jobs() {
        let text = "[[job]]\nname = \"a\"\ntargets = [\"https://a.example/\"]\nschedule = \"0 * * * *\"\ndepth = 3\nno_progress = true\n";
        let job = parse(Path::new("cairn.toml"), text).unwrap().remove(0);
        let overrides = ArchiveOptions {
            depth: 0,
            ..ArchiveOptions::default()
        };
        let merged = job.options_with(&overrides, &|key| key == "depth").unwrap();
        assert_eq!(merged.depth, 0);
        assert!(merged.no_progress, "options not given keep the job's value");
        assert_eq!(merged.targets, job.options.targets);
        let huge = ArchiveOptions {
            timeout: u64::MAX,
            ..ArchiveOptions::default()
        };
        let merged = job.options_with(&huge, &|key| key == "timeout").unwrap();
        assert_eq!(merged.timeout, u64::MAX);
        use std::os::unix::ffi::OsStrExt;
        let not_utf8 = ArchiveOptions {
            ca_cert: vec![std::ffi::OsStr::from_bytes(b"/tmp/\xff.pem").into()],
            ..ArchiveOptions::default()
        };
        let err = job
            .options_with(&not_utf8, &|key| key == "ca_cert")
            .unwrap_err();
        assert!(
            err.to_string().starts_with("job \"a\": the options given"),
            "{err}"
        );
    }
}
