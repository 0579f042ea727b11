//! Progress of a run: a bar on a terminal, a log line every few seconds otherwise.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Progress on a terminal (a bar) or in logs (a line every few seconds).
pub(super) struct Meter {
    bar: Option<ProgressBar>,
    last_log: Instant,
    started: Instant,
}

impl Meter {
    pub(super) fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{prefix:>8} [{bar:30}] {percent:>3}% {msg} eta {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar
        });
        Meter {
            bar,
            last_log: Instant::now(),
            started: Instant::now(),
        }
    }

    pub(super) fn show(&mut self, phase: &str, done: u64, total: u64, msg: String) {
        match &self.bar {
            Some(bar) => {
                bar.set_prefix(phase.to_owned());
                bar.set_length(total);
                bar.set_position(done);
                bar.set_message(msg);
            }
            None if self.last_log.elapsed() >= Duration::from_secs(5) || done == total => {
                self.last_log = Instant::now();
                tracing::info!(
                    phase,
                    done,
                    total,
                    elapsed_s = self.started.elapsed().as_secs(),
                    "{msg}"
                );
            }
            None => {}
        }
    }

    pub(super) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
