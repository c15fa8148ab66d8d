//! The terminal side of training (binary only): an indicatif progress bar on stderr when it is
//! a terminal, one plain line per epoch otherwise, nothing with --quiet.

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mlp_train::report;
use mlp_train::train::{Control, EpochStats, Metric, Observer};

/// Progress on stderr.
pub struct Progress {
    epochs: usize,
    mode: Mode,
    last_metric: String,
    samples: u64,
    started: std::time::Instant,
}

enum Mode {
    Quiet,
    Lines,
    Bar(Option<ProgressBar>),
}

impl Progress {
    pub fn new(epochs: usize, quiet: bool) -> Self {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bar(None)
        } else {
            Mode::Lines
        };
        Progress {
            epochs,
            mode,
            last_metric: String::new(),
            samples: 0,
            started: std::time::Instant::now(),
        }
    }

    /// Removes the bar (before the summary is printed).
    pub fn finish(&mut self) {
        if let Mode::Bar(Some(bar)) = &self.mode {
            bar.finish_and_clear();
        }
    }
}

impl Observer for Progress {
    fn on_batch(&mut self, epoch: usize, batch: usize, batches: usize, rows: usize, l: f64) {
        self.samples += rows as u64;
        let Mode::Bar(bar) = &mut self.mode else {
            return;
        };
        let total = (self.epochs * batches) as u64;
        let bar = bar.get_or_insert_with(|| {
            let colors = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            let template = if colors {
                "{prefix:.bold} [{bar:30.cyan/blue}] {msg}  ETA {eta}"
            } else {
                "{prefix} [{bar:30}] {msg}  ETA {eta}"
            };
            let style = ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            b.set_style(style);
            b
        });
        bar.set_position(((epoch - 1) * batches + batch) as u64);
        if batch == batches || batch % 16 == 1 {
            bar.set_prefix(format!("epoch {epoch}/{}", self.epochs));
            let rate = self.samples as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!(
                "batch {batch}/{batches} L {l:.4}{}  {rate:.0} samples/s",
                self.last_metric
            ));
        }
    }

    fn on_epoch(&mut self, stats: &EpochStats) -> Control {
        match &self.mode {
            Mode::Quiet => {}
            Mode::Lines => {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "{}", report::epoch_line(stats, self.epochs));
            }
            Mode::Bar(_) => {
                self.last_metric = match stats.val.map(|v| v.1).unwrap_or(stats.train_metric) {
                    Metric::Accuracy(a) => format!(" acc {:.1}%", 100.0 * a),
                    Metric::Rmse(r) => format!(" rmse {r:.4}"),
                };
            }
        }
        Control::Continue
    }
}
