//! The terminal side of training: an indicatif progress bar on stderr when it is a terminal,
//! a bounded number of plain epoch lines otherwise, nothing with --quiet.

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::show::report;
use crate::train::sgd::{Control, EpochStats, Metric, Observer};

/// Off a terminal, at most about this many epoch lines (first, every k-th, last).
const MAX_LINES: usize = 20;

/// The width the bar is laid out for; `{wide_msg}` gives up its tail on narrower terminals.
const COLUMNS: usize = 80;

/// Progress on stderr.
pub struct Progress {
    epochs: usize,
    /// K with --cv: the observer sees K trainings one after another.
    folds: Option<usize>,
    fold: usize,
    mode: Mode,
    /// The previous epoch's metric, labelled: ` val acc 97.33% (ep 27)`.
    last_metric: String,
    /// Σ L·rows and Σ rows over the current epoch's minibatches so far.
    epoch_l: (f64, usize),
    samples: u64,
    /// The data's warnings, printed by the caller after [`Progress::finish`] whether the run
    /// succeeded or not.
    warnings: Vec<String>,
}

enum Mode {
    Quiet,
    /// Print epoch 1, every `every`-th epoch and the last one.
    Lines {
        every: usize,
        /// The last epoch's line when it was skipped: printed when training stops early
        /// (--patience, Ctrl-C, the next fold), so the last epoch run is always shown.
        pending: Option<String>,
    },
    Bar(Option<ProgressBar>),
}

/// Print every k-th epoch, k such that first + every k-th + last stay around `MAX_LINES`.
pub fn line_step(epochs: usize) -> usize {
    epochs.div_ceil(MAX_LINES).max(1)
}

/// A number in at most 11 characters (9 for |v| in 1e-99..1e100): 4 significant digits,
/// scientific when that would be long, or for a tiny value that would show as 0.
pub fn short(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        format!("{v}")
    } else if v.abs() >= 1e4 || v.abs() < 1e-3 {
        format!("{v:.3e}")
    } else {
        let decimals = (3 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
        format!("{v:.decimals$}")
    }
}

impl Progress {
    /// `folds` is K under --cv; `verbose` prints every epoch off a terminal.
    pub fn new(epochs: usize, folds: Option<usize>, quiet: bool, verbose: bool) -> Self {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bar(None)
        } else {
            Mode::Lines {
                every: if verbose { 1 } else { line_step(epochs) },
                pending: None,
            }
        };
        Progress {
            epochs,
            folds,
            fold: 1,
            mode,
            last_metric: String::new(),
            epoch_l: (0.0, 0),
            samples: 0,
            warnings: Vec::new(),
        }
    }

    /// The warnings reported so far, in order (taken: a second call returns none).
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// Removes the bar (before the summary is printed).
    pub fn finish(&mut self) {
        self.flush_pending();
        if let Mode::Bar(Some(bar)) = &self.mode {
            bar.finish_and_clear();
        }
    }

    /// Prints the skipped line of the last epoch run, if any.
    fn flush_pending(&mut self) {
        if let Mode::Lines { pending, .. } = &mut self.mode {
            if let Some(line) = pending.take() {
                let _ = writeln!(std::io::stderr().lock(), "{line}");
            }
        }
    }

    /// `fold k/K epoch e/E`, or `epoch e/E`.
    fn position(&self, epoch: usize) -> String {
        match self.folds {
            Some(k) => format!("fold {}/{k} epoch {epoch}/{}", self.fold, self.epochs),
            None => format!("epoch {epoch}/{}", self.epochs),
        }
    }

    /// The bar's template: the prefix at its widest, a bar filling what 80 columns leave
    /// beside a typical message, the message (its tail cut at the terminal's edge), the ETA.
    fn style(&self, colors: bool) -> ProgressStyle {
        let e = self.epochs;
        let widest = match self.folds {
            Some(k) => format!("fold {k}/{k} epoch {e}/{e}").len(),
            None => format!("epoch {e}/{e}").len(),
        };
        // " [", "] ", " ETA 59m" and a 39-column message: "mean L 0.1834, val acc 97.33% (ep 99)".
        let bar = COLUMNS.saturating_sub(widest + 4 + 8 + 39).min(30);
        let template = match (bar >= 5, colors) {
            (true, true) => {
                format!("{{prefix:.bold}} [{{bar:{bar}.cyan/blue}}] {{wide_msg}} ETA {{eta}}")
            }
            (true, false) => format!("{{prefix}} [{{bar:{bar}}}] {{wide_msg}} ETA {{eta}}"),
            // No room for a useful bar: `fold 2/5 epoch 1471/3000` says where we are.
            (false, true) => "{prefix:.bold} {wide_msg} ETA {eta}".to_string(),
            (false, false) => "{prefix} {wide_msg} ETA {eta}".to_string(),
        };
        ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ")
    }

    /// The message beside the bar: the running mean of this epoch's minibatch losses and
    /// the previous epoch's metric, each named. (No throughput: cut at a narrow terminal's
    /// edge it would read as another number; the summary reports samples/s.)
    fn message(&self) -> String {
        let (sum, rows) = self.epoch_l;
        format!(
            "mean L {}{}",
            short(sum / rows.max(1) as f64),
            self.last_metric
        )
    }

    fn draw(
        &mut self,
        (epoch, batch, batches): (usize, usize, usize),
        target: ProgressDrawTarget,
        colors: bool,
    ) {
        let runs = self.folds.unwrap_or(1);
        // Saturating: --epochs may be huge (the run then stops on other grounds).
        let total = runs.saturating_mul(self.epochs).saturating_mul(batches) as u64;
        let style = self.style(colors);
        let position = ((self.fold - 1).saturating_mul(self.epochs) + epoch - 1)
            .saturating_mul(batches)
            .saturating_add(batch) as u64;
        let prefix = self.position(epoch);
        let message = self.message();
        let Mode::Bar(bar) = &mut self.mode else {
            return;
        };
        let fresh = bar.is_none();
        let bar = bar.get_or_insert_with(|| {
            let b = ProgressBar::with_draw_target(Some(total), target);
            b.set_style(style);
            b
        });
        // Folds differ by a row or two, and so by a batch.
        bar.set_length(total);
        bar.set_position(position);
        if fresh || batch == batches || batch % 16 == 1 {
            bar.set_prefix(prefix);
            bar.set_message(message);
        }
    }
}

impl Observer for Progress {
    fn on_batch(&mut self, epoch: usize, batch: usize, batches: usize, rows: usize, l: f64) {
        if epoch == 1 && batch == 1 && self.samples > 0 && self.folds.is_some() {
            // The next fold's training starts (the last one may have stopped early).
            self.flush_pending();
            self.fold += 1;
            self.last_metric.clear();
        }
        if batch == 1 {
            self.epoch_l = (0.0, 0);
        }
        self.epoch_l.0 += l * rows as f64;
        self.epoch_l.1 += rows;
        self.samples += rows as u64;
        if matches!(self.mode, Mode::Bar(_)) {
            let colors = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            self.draw(
                (epoch, batch, batches),
                ProgressDrawTarget::stderr(),
                colors,
            );
        }
    }

    fn on_epoch(&mut self, stats: &EpochStats) -> Control {
        match &mut self.mode {
            Mode::Quiet => {}
            Mode::Lines { every, pending } => {
                let every = *every;
                let e = stats.epoch;
                let mut line = report::epoch_line(stats, self.epochs);
                if let Some(k) = self.folds {
                    line = format!("fold {}/{k} {line}", self.fold);
                }
                if e == 1 || e.is_multiple_of(every) || e == self.epochs {
                    if e == 1 && every > 1 {
                        line.push_str(&format!(
                            "  (then one line every {every} epochs and the last; --verbose for all)"
                        ));
                    }
                    *pending = None;
                    let _ = writeln!(std::io::stderr().lock(), "{line}");
                } else {
                    *pending = Some(line);
                }
            }
            Mode::Bar(_) => {
                let (set, metric) = match stats.val {
                    Some((_, m)) => ("val", m),
                    None => ("train", stats.train_metric),
                };
                let value = match metric {
                    Metric::Accuracy(a) => format!("acc {:.2}%", 100.0 * a),
                    Metric::Rmse(r) => format!("rmse {}", short(r)),
                };
                self.last_metric = format!(", {set} {value} (ep {})", stats.epoch);
            }
        }
        Control::Continue
    }

    fn on_warning(&mut self, warning: &str) {
        self.warnings.push(warning.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A terminal 80 columns wide that records every line indicatif draws.
    #[derive(Debug, Clone, Default)]
    struct Screen(Arc<Mutex<Vec<String>>>);

    impl indicatif::TermLike for Screen {
        fn width(&self) -> u16 {
            80
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.0.lock().unwrap().push(s.to_string());
            Ok(())
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            if !s.is_empty() {
                self.0.lock().unwrap().push(s.to_string());
            }
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn stats(epoch: usize, metric: Metric) -> EpochStats {
        let o = crate::Objective {
            l: 0.5,
            s: 0.01,
            j: 0.51,
        };
        EpochStats {
            epoch,
            lr: 0.1,
            train: o,
            train_metric: metric,
            val: Some((o, metric)),
            grad_norm_w1: 1.0,
            grad_norm_w2: 1.0,
            seconds: 1.0,
        }
    }

    /// Draws one bar state on an 80-column screen and returns the last line drawn.
    fn render(p: &mut Progress, epoch: usize, batch: usize, batches: usize) -> String {
        let screen = Screen::default();
        p.mode = Mode::Bar(None);
        p.draw(
            (epoch, batch, batches),
            ProgressDrawTarget::term_like(Box::new(screen.clone())),
            false,
        );
        if let Mode::Bar(Some(bar)) = &p.mode {
            bar.force_draw();
        }
        let lines = screen.0.lock().unwrap().clone();
        let text = lines
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .cloned()
            .unwrap_or_default();
        assert!(!text.contains('\x1b'), "drawn without colours: {text:?}");
        text
    }

    #[test]
    fn the_bar_fits_80_columns_and_says_what_its_numbers_are() {
        let mut p = Progress::new(100, None, true, false);
        p.mode = Mode::Bar(None);
        p.on_batch(1, 1, 5, 32, 2.0);
        p.on_batch(1, 2, 5, 32, 0.0);
        p.on_epoch(&stats(27, Metric::Accuracy(0.9733)));
        p.on_batch(28, 1, 5, 32, 0.25);
        p.on_batch(28, 2, 5, 32, 0.75);
        let line = render(&mut p, 28, 2, 5);
        assert!(
            line.chars().count() <= 80,
            "{} columns: {line}",
            line.chars().count()
        );
        assert!(line.starts_with("epoch 28/100 ["), "{line}");
        // The running mean of this epoch's two batches, not the last batch's 0.75.
        assert!(line.contains("mean L 0.5000"), "{line}");
        assert!(line.contains("val acc 97.33% (ep 27)"), "{line}");
        assert!(line.contains("ETA"), "{line}");
    }

    #[test]
    fn under_cv_the_bar_shows_fold_and_epoch_and_still_fits() {
        // A wide case: 10 folds of 100 epochs, regression with a huge RMSE.
        let mut p = Progress::new(100, Some(10), true, false);
        p.mode = Mode::Bar(None);
        for fold in 1..=10 {
            p.on_batch(1, 1, 3, 10, 1.0);
            if fold < 10 {
                p.on_epoch(&stats(1, Metric::Rmse(1.0)));
            }
        }
        assert_eq!(p.fold, 10);
        p.on_epoch(&stats(99, Metric::Rmse(123456.789)));
        p.on_batch(100, 1, 3, 10, 1.0e7);
        let line = render(&mut p, 100, 1, 3);
        let width = line.chars().count();
        assert!(width <= 80, "{width} columns: {line}");
        assert!(line.starts_with("fold 10/10 epoch 100/100 ["), "{line}");
        assert!(line.contains("mean L 1.000e7"), "{line}");
        assert!(line.contains("val rmse 1.235e5 (ep 99)"), "{line}");
        assert!(line.trim_end().ends_with("ETA 0s"), "{line}");
        // Wider still (1000 epochs): no room for a useful bar, so none; all else is there.
        let mut p = Progress::new(1000, Some(10), true, false);
        p.mode = Mode::Bar(None);
        p.fold = 10;
        p.on_epoch(&stats(999, Metric::Rmse(75.9602)));
        p.epoch_l = (0.0725, 1);
        let line = render(&mut p, 1000, 1, 3);
        let width = line.chars().count();
        assert!(width <= 80, "{width} columns: {line}");
        assert!(
            line.starts_with("fold 10/10 epoch 1000/1000 mean L 0.07250, val rmse 75.96 (ep 999) "),
            "{line}"
        );
        assert!(line.trim_end().ends_with("ETA 0s"), "{line}");
    }

    #[test]
    fn off_a_terminal_about_20_lines_whatever_the_epochs() {
        for epochs in [1, 5, 20, 21, 100, 1000, 12345] {
            let k = line_step(epochs);
            let shown = (1..=epochs)
                .filter(|&e| e == 1 || e % k == 0 || e == epochs)
                .count();
            assert!(shown <= MAX_LINES + 2, "{epochs} epochs: {shown} lines");
            assert!(
                shown >= epochs.min(MAX_LINES) / 2,
                "{epochs} epochs: {shown} lines"
            );
        }
        assert_eq!(line_step(20), 1);
        assert_eq!(line_step(100), 5);
    }

    #[test]
    fn short_numbers_stay_short() {
        assert_eq!(short(0.18345), "0.1835");
        assert_eq!(short(75.9602), "75.96");
        assert_eq!(short(0.07251), "0.07251");
        assert_eq!(short(0.0), "0");
        assert_eq!(short(1.4e18), "1.400e18");
        assert_eq!(short(-2.5e-7), "-2.500e-7");
        for v in [1e300, -1e-300, 9999.9, 0.001, f64::NAN] {
            assert!(short(v).len() <= 11, "{v}: {}", short(v));
        }
    }
}
