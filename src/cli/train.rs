//! The train command's flow: validate the options, plan the outputs against the inputs, run
//! the training or the cross-validation, then stage the model, log and plot for one commit.

use std::sync::atomic::AtomicBool;

use crate::cli::output::{Dest, Output, Plan, Transaction};
use crate::data::prep::{Prep, Task};
use crate::math::model::Mlp;
use crate::show::{plot, report};
use crate::train::baseline::BaselineCheck;
use crate::train::checks;
use crate::train::cv::{self, CvRun};
use crate::train::gates::{self, GateResult};
use crate::train::options::{Precision, RunOptions};
use crate::train::run::{self, TrainRun};
use crate::train::sgd::Observer;
use crate::{Error, Real, Result};

/// A finished run and its outputs, staged but not committed: the outputs rendered after the
/// verdict (the HTML page) are deferred in it (an interrupted run's sibling when they would
/// replace a file), to be staged into the same transaction; then one commit puts all in place.
pub struct Finished<R> {
    pub run: R,
    /// Staged outputs; --report and --summary-md deferred, rendered once the verdict is known.
    pub outputs: Transaction,
}

/// Runs `mlp-train --data …` in the precision the options ask for, and writes its outputs.
pub fn train_command(
    args: &RunOptions,
    observer: &mut dyn Observer,
    stop: &AtomicBool,
) -> Result<Finished<TrainRun>> {
    match args.training.precision {
        Precision::F32 => train_in::<f32>(args, observer, stop),
        Precision::F64 => train_in::<f64>(args, observer, stop),
    }
}

fn train_in<T: Real>(
    args: &RunOptions,
    observer: &mut dyn Observer,
    stop: &AtomicBool,
) -> Result<Finished<TrainRun>> {
    checks::validate(args)?;
    let plan = output_plan(args)?;
    let mut t = run::train::<T>(args, observer, stop)?;
    t.run.summary_to_stderr = plan.uses_stdout();
    let outputs = stage_outputs(&plan, &t.model, &t.prep, &mut t.run, t.previous_epochs)?;
    run::explain_first_row(&mut t, args.training.lambda)?;
    Ok(Finished {
        run: t.run,
        outputs,
    })
}

/// `--cv K`: the cross-validation of [`cv::cv_command`], its report page planned with the
/// other outputs.
pub fn cv_command(
    args: &RunOptions,
    observer: &mut dyn Observer,
    stop: &AtomicBool,
) -> Result<Finished<CvRun>> {
    checks::validate(args)?;
    let plan = output_plan(args)?;
    let cv = cv::cv_command(args, observer, stop)?;
    let mut outputs = Transaction::new();
    // The page and the Markdown summary, rendered by the caller once the verdict is known
    // (an interrupted run writes beside an existing file, never over it).
    for flag in ["--report", "--summary-md"] {
        if let Some(to) = plan
            .get(flag)
            .and_then(|planned| plan.destination(planned, cv.interrupted))
        {
            outputs.defer(to);
        }
    }
    Ok(Finished { run: cv, outputs })
}

/// The quality gates and the --baseline comparison of a finished run, measured before
/// anything is printed so that --json can report them.
pub struct Verdict {
    pub gates: Vec<GateResult>,
    /// The comparison with --baseline (read and checked against the run's data before the
    /// run, see `run::load_input`).
    pub compared: Option<BaselineCheck>,
}

impl Verdict {
    /// A training's verdict, on its gate set (test, else validation, else training).
    pub fn of_train(run: &TrainRun, opts: &RunOptions) -> Result<Self> {
        let (set, e) = gates::gate_set(run);
        let accuracy = run.classes.as_ref().map(|_| e.metric.value());
        let r2 = e.regression.as_ref().map(|r| r.r2);
        let gates = gates::gates(opts, set, accuracy, e.objective.l, r2)?;
        let compared = match &run.baseline {
            Some(b) => {
                let value = accuracy.or(r2).unwrap_or(f64::NAN);
                Some(b.compare(run.task, set, set, value, opts.gates.max_drop)?)
            }
            None => None,
        };
        Ok(Verdict { gates, compared })
    }

    /// A cross-validation's verdict, on the mean over the folds.
    pub fn of_cv(cv: &CvRun, opts: &RunOptions) -> Result<Self> {
        let set = format!("{}-fold cross-validation mean", cv.k);
        let accuracy = (cv.task == Task::Classify).then_some(cv.mean);
        let gates = gates::gates(opts, &set, accuracy, cv.mean_loss, cv.mean_r2)?;
        let compared = match &cv.baseline {
            Some(b) => {
                let value = accuracy.or(cv.mean_r2).unwrap_or(f64::NAN);
                Some(b.compare(cv.task, "cv", &set, value, opts.gates.max_drop)?)
            }
            None => None,
        };
        Ok(Verdict { gates, compared })
    }

    /// Adds `gates` and `baseline` to a --json summary.
    pub fn add_to_json(&self, v: &mut serde_json::Value) {
        v["gates"] = serde_json::json!(self.gates);
        v["baseline"] = serde_json::json!(self.compared);
    }

    /// The text summary's lines: one per gate and one for the baseline, pass or FAIL.
    pub fn text(&self) -> String {
        report::verdict_text(&self.gates, self.compared.as_ref())
    }

    /// Every failed gate and a regression against the baseline are the error (exit 8),
    /// all named when several failed.
    pub fn into_result(self) -> Result<()> {
        let mut failed: Vec<Error> = self
            .gates
            .iter()
            .filter(|g| !g.passed())
            .map(GateResult::error)
            .collect();
        if let Some(b) = self.compared.as_ref().filter(|b| !b.passed()) {
            failed.push(b.error());
        }
        match failed.len() {
            0 => Ok(()),
            1 => Err(failed.remove(0)),
            _ => Err(Error::Checks(failed)),
        }
    }
}

/// What an interrupted training says on stderr: the epochs run, what was saved, and which
/// existing files it left alone.
pub fn interrupted_note(run: &TrainRun) -> String {
    let saved = match &run.saved {
        Some(p) => format!(
            "; model saved to {} with \"interrupted\": true",
            crate::error::shown_path(p)
        ),
        None if run.outcome.samples == 0 => "; nothing written: no SGD step had run".to_string(),
        None => String::new(),
    };
    let kept: Vec<String> = run
        .kept
        .iter()
        .map(|p| crate::error::shown_path(p))
        .collect();
    let kept = if kept.is_empty() {
        String::new()
    } else {
        format!(
            "; kept {} (an interrupted run never replaces an existing file; it writes NAME.interrupted.EXT beside it)",
            kept.join(", ")
        )
    };
    format!(
        "mlp-train: interrupted after {} epoch(s){saved}{kept}",
        run.outcome.epochs_run
    )
}

/// The outputs of a training, planned and checked against the inputs before any work.
/// Continuing a model in place (`--init-from m.json --save m.json`) is allowed: the model is
/// read whole before training, and an interrupted run never replaces it.
pub fn output_plan(args: &RunOptions) -> Result<Plan> {
    let plan = Plan::new(
        &[
            ("--save", args.outputs.save.as_deref()),
            ("--log", args.outputs.log.as_deref()),
            ("--plot", args.outputs.plot.as_deref()),
            ("--report", args.outputs.report.as_deref()),
            ("--summary-md", args.outputs.summary_md.as_deref()),
            ("--export-onnx", args.outputs.export_onnx.as_deref()),
        ],
        &[
            ("--data", args.data.data.as_deref()),
            ("--test", args.data.test.as_deref()),
            ("--init-from", args.model.init_from.as_deref()),
            ("--baseline", args.gates.baseline.as_deref()),
        ],
        &[("--save", "--init-from")],
    )?;
    if let Some(plot) = plan.get("--plot") {
        check_plot_path(plot)?;
    }
    if let Some(onnx) = plan.get("--export-onnx") {
        crate::cli::export::not_a_terminal(onnx)?;
    }
    Ok(plan)
}

/// `--plot FILE` draws SVG only: a file name that promises another format (`curves.png`) is
/// refused rather than filled with SVG. Standard output (`-`), a device or a FIFO has no
/// format in its name and is taken as it is.
pub fn check_plot_path(out: &Output) -> Result<()> {
    let path = &out.given;
    let svg = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    if svg || !matches!(out.dest, Dest::File(_)) {
        Ok(())
    } else {
        Err(Error::flag(
            "--plot",
            "writes SVG only: give a FILE.svg name (convert it afterwards, e.g. `rsvg-convert -o curves.png curves.svg`)",
            crate::error::shown_path(path),
        ))
    }
}

/// Stages the model, the log and the plot, and defers the outputs rendered after the verdict
/// (the report page): nothing is in place before the caller commits the transaction. An
/// interrupted run stages nothing when no SGD step ran, and never replaces an existing file:
/// its outputs go to `NAME.interrupted.EXT` beside it (recorded in `run.kept`).
fn stage_outputs<T: Real>(
    plan: &Plan,
    model: &Mlp<T>,
    prep: &Prep,
    run: &mut TrainRun,
    previous_epochs: usize,
) -> Result<Transaction> {
    let interrupted = run.outcome.interrupted;
    let mut staged = Transaction::new();
    if interrupted && run.outcome.samples == 0 {
        return Ok(staged);
    }
    for planned in &plan.outputs {
        if interrupted && planned.keep_on_interrupt() {
            run.kept.push(planned.given.clone());
        }
        let Some(out) = plan.destination(planned, interrupted) else {
            continue;
        };
        match out.flag {
            "--save" => {
                let file = report::model_file(model, prep, run, previous_epochs, interrupted);
                staged.stage(&out, file.to_json().into_bytes())?;
                run.saved = Some(out.given.clone());
            }
            "--export-onnx" => {
                let file = report::model_file(model, prep, run, previous_epochs, interrupted);
                let bytes = crate::cli::export::onnx_for_flag(&file, &out.given)?;
                staged.stage(&out, bytes)?;
            }
            "--log" => staged.stage(&out, report::log_csv(run).into_bytes())?,
            "--plot" => {
                let title = format!("mlp-train on {}", run.data.display());
                let svg = plot::curves_svg(&run.outcome.history, &title)
                    .map_err(|e| Error::io(&out.given, std::io::Error::other(e)))?;
                staged.stage(&out, svg.into_bytes())?;
            }
            // The page (and any output rendered after the verdict) needs the finished run
            // and its gates: rendered by the caller, staged into this transaction.
            _ => staged.defer(out),
        }
    }
    Ok(staged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::Cli;
    use crate::data::modelfile::ModelFile;
    use crate::train::sgd::{self, Observer};
    use clap::Parser;
    use std::sync::atomic::AtomicBool;

    /// The run, its staged outputs committed.
    fn committed(f: Result<Finished<TrainRun>>) -> TrainRun {
        let f = f.unwrap();
        f.outputs.commit().unwrap();
        f.run
    }

    fn args(save: &std::path::Path) -> RunOptions {
        let iris = concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv");
        let save = save.to_str().unwrap();
        Cli::try_parse_from(["mlp-train", "--data", iris, "--save", save, "--epochs", "3"])
            .unwrap()
            .train
            .options()
    }

    #[test]
    fn a_stop_before_the_first_step_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("m.json");
        let run = committed(train_command(
            &args(&m),
            &mut sgd::Silent,
            &AtomicBool::new(true),
        ));
        assert!(run.outcome.interrupted && run.outcome.samples == 0);
        assert!(run.saved.is_none());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        // An existing model is left alone, and no sibling is written.
        std::fs::write(&m, b"good").unwrap();
        committed(train_command(
            &args(&m),
            &mut sgd::Silent,
            &AtomicBool::new(true),
        ));
        assert_eq!(std::fs::read(&m).unwrap(), b"good");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// Stops the loop after its first epoch, as a signal would.
    struct StopAfterOneEpoch<'a>(&'a AtomicBool);
    impl Observer for StopAfterOneEpoch<'_> {
        fn on_epoch(&mut self, _: &sgd::EpochStats) -> sgd::Control {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
            sgd::Control::Continue
        }
    }

    #[test]
    fn an_interrupted_run_writes_beside_an_existing_model() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("m.json");
        std::fs::write(&m, b"good").unwrap();
        let stop = AtomicBool::new(false);
        let run = committed(train_command(
            &args(&m),
            &mut StopAfterOneEpoch(&stop),
            &stop,
        ));
        assert!(run.outcome.interrupted);
        assert_eq!(run.outcome.epochs_run, 1);
        assert_eq!(std::fs::read(&m).unwrap(), b"good");
        assert_eq!(run.kept, std::slice::from_ref(&m));
        let sibling = dir.path().join("m.interrupted.json");
        assert_eq!(run.saved.as_deref(), Some(sibling.as_path()));
        let saved = ModelFile::load(&sibling).unwrap();
        assert_eq!(saved.epochs_run, 1);
        // The figures are the epoch's, without new passes over the data.
        assert_eq!(run.train.objective.l, run.outcome.history[0].train.l);
    }

    #[cfg(unix)]
    #[test]
    fn the_interrupt_note_shows_hostile_names_escaped_on_one_line() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let m = dir
            .path()
            .join(std::ffi::OsStr::from_bytes(b"m\n\xe9\xe2\x80\xae.json"));
        std::fs::write(&m, b"good").unwrap();
        let iris = concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv");
        let opts = Cli::try_parse_from([
            "mlp-train".as_ref(),
            "--data".as_ref(),
            std::ffi::OsStr::new(iris),
            "--save".as_ref(),
            m.as_os_str(),
        ])
        .unwrap()
        .train
        .options();
        let stop = AtomicBool::new(false);
        let run = committed(train_command(&opts, &mut StopAfterOneEpoch(&stop), &stop));
        let note = interrupted_note(&run);
        let d = dir.path().display();
        assert!(
            note.contains(&format!(
                "model saved to {d}/m\\n\\xe9\\u{{202e}}.interrupted.json with"
            )),
            "{note}"
        );
        assert!(
            note.contains(&format!("; kept {d}/m\\n\\xe9\\u{{202e}}.json (")),
            "{note}"
        );
        assert!(!note.contains(['\n', '\u{202e}']), "{note}");
    }
}
