//! What a crawl shows while it runs: a live line on a terminal (indicatif), one plain line per
//! fetch otherwise, or nothing (`--no-progress`, `--json`). Everything goes to stderr.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::{Failure, Summary};
use crate::fetch::Exchange;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A live status line (stderr is a terminal).
    Bar,
    /// A log line per fetch (stderr is a file or a pipe).
    Lines,
    Quiet,
}

pub struct Progress {
    mode: ProgressMode,
    bar: Option<ProgressBar>,
    started: Instant,
}

impl Progress {
    pub fn new(mode: ProgressMode) -> Progress {
        let bar = (mode == ProgressMode::Bar).then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress {
            mode,
            bar,
            started: Instant::now(),
        }
    }

    pub fn fetched(&self, exchange: &Exchange) {
        if self.mode == ProgressMode::Lines {
            log_line(format_args!(
                "{} {} ({}{})",
                exchange.status,
                exchange.url,
                human_bytes(exchange.body.len()),
                exchange
                    .truncated
                    .map(|t| format!(", truncated: {t}"))
                    .unwrap_or_default()
            ));
        }
    }

    pub fn failed(&self, failure: &Failure) {
        let line = format!("failed {}: {}", failure.url, failure.error);
        match (&self.bar, self.mode) {
            (Some(bar), _) => bar.println(line),
            (None, ProgressMode::Lines) => log_line(format_args!("{line}")),
            _ => {}
        }
    }

    pub fn update(&self, summary: &Summary, queued: usize) {
        if let Some(bar) = &self.bar {
            let secs = self.started.elapsed().as_secs_f64().max(0.001);
            bar.set_message(format!(
                "{} pages, {} resources, {} ({}/s), {} errors, {queued} queued",
                summary.pages,
                summary.resources,
                human_bytes(summary.bytes),
                human_bytes((summary.bytes as f64 / secs) as u64),
                summary.errors.len()
            ));
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A line on stderr; a closed stderr (`cairn archive ... 2>&1 | head`) only ends the lines.
fn log_line(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}
