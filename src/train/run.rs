//! A training run from plain options to a trained and evaluated model: validate the options,
//! load and split the data, fit the preprocessing, train, evaluate; and K-fold cross-validation.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use ndarray::{Array2, Axis};
use rand::seq::SliceRandom;

use crate::data::matrices::{Data, Labels};
use crate::data::modelfile::ModelFile;
use crate::data::prep::{Prep, Task};
use crate::data::{self, Frame, LabelKind, LabelSpec, Labels as FrameLabels, LoadOptions, Source};
use crate::math::loss::Loss;
use crate::math::model::{Cache, Mlp, Objective};
use crate::train::limits;
use crate::train::metrics::{self, RegressionReport};
use crate::train::options::{Precision, RunOptions};
use crate::train::sgd::{self, Metric, Observer, Outcome, TrainConfig};
use crate::{Error, Real, Result};

/// Metrics of the final model on one dataset.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Evaluation {
    /// Rows evaluated.
    pub rows: usize,
    /// L, s, J (L in standardized target units for regression).
    pub objective: Objective,
    /// Accuracy, or RMSE in the data's units.
    pub metric: Metric,
    /// RMSE, MAE, R² in the data's units (regression).
    pub regression: Option<RegressionReport>,
}

/// Everything a report needs about one training run.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TrainRun {
    pub data: String,
    pub task: Task,
    pub precision: &'static str,
    /// Feature names (without the bias).
    pub features: Vec<String>,
    /// Class names (classification).
    pub classes: Option<Vec<String>>,
    /// (d, h, q) of the model, d including the bias input.
    pub dims: (usize, usize, usize),
    pub activation: &'static str,
    pub loss: &'static str,
    pub bias: bool,
    pub config: TrainConfig,
    pub hyperparameters: serde_json::Value,
    pub outcome: Outcome,
    pub train: Evaluation,
    pub val: Option<Evaluation>,
    pub test: Option<Evaluation>,
    pub saved: Option<PathBuf>,
    /// With --report: predictions on the gate set and the first row, for the HTML page.
    #[serde(skip)]
    pub diagnostics: Option<crate::train::diagnostics::Diagnostics>,
    /// Existing files an interrupted run did not replace (it wrote their `.interrupted`
    /// siblings instead, when it wrote anything).
    #[serde(skip)]
    pub kept: Vec<PathBuf>,
    /// True when an output goes to standard output: the summary then goes to stderr.
    #[serde(skip)]
    pub summary_to_stderr: bool,
    /// What looked wrong in the data without being an error; printed on stderr.
    pub warnings: Vec<String>,
}

/// Checks every numeric flag once, at the boundary, with the flag's name in the message:
/// floats through [`limits::real`] (finite, in range), sizes against the memory they imply
/// for the smallest data (checked again with the data's own d and rows before allocating).
pub fn validate(args: &RunOptions) -> Result<()> {
    use limits::Bound::{Exclusive, Inclusive, Unbounded};
    limits::real("--lambda", args.training.lambda, Inclusive(0.0), Unbounded)?;
    limits::real("--lr", args.training.lr, Exclusive(0.0), Unbounded)?;
    limits::real(
        "--momentum",
        args.training.momentum,
        Inclusive(0.0),
        Exclusive(1.0),
    )?;
    limits::real(
        "--val-frac",
        args.data.val_frac,
        Inclusive(0.0),
        Exclusive(1.0),
    )?;
    if let Some(a) = args.gates.min_accuracy {
        limits::real("--min-accuracy", a, Inclusive(0.0), Inclusive(1.0))?;
    }
    // L ≥ 0 for both losses: a negative gate could never pass.
    if let Some(l) = args.gates.max_loss {
        limits::real("--max-loss", l, Inclusive(0.0), Unbounded)?;
    }
    // R² ≤ 1: a gate above 1 could never pass.
    if let Some(r) = args.gates.min_r2 {
        limits::real("--min-r2", r, Unbounded, Inclusive(1.0))?;
    }
    for (flag, v) in [
        ("--batch-size", args.training.batch_size),
        ("--hidden", args.model.hidden),
        ("--epochs", args.training.epochs),
        ("--threads", args.training.threads),
    ] {
        if v == 0 {
            return Err(Error::flag(flag, "must be >= 1", v));
        }
    }
    let cores = limits::cores();
    if args.training.threads > cores {
        return Err(Error::flag(
            "--threads",
            format!("must be at most {cores}, the cores available (the command line caps it)"),
            args.training.threads,
        ));
    }
    // Before reading the data: the smallest model the flags allow (one feature, one output,
    // one row) must fit; this refuses --hidden 18446744073709551615 at once.
    check_training_memory(
        args,
        1 + usize::from(args.model.bias),
        args.model.hidden,
        1,
        1,
        true,
    )?;
    if args.training.patience == Some(0) {
        return Err(Error::flag("--patience", "must be >= 1", 0));
    }
    if args.data.task == Task::Regress && args.model.loss == Some(Loss::SoftmaxCe) {
        return Err(Error::flag(
            "--loss",
            "must be half-squared for --task regress (softmax-ce needs classes)",
            "softmax-ce",
        ));
    }
    if args.data.task == Task::Regress
        && args.gates.min_accuracy.is_some()
        && args.model.init_from.is_none()
    {
        return Err(Error::flag(
            "--min-accuracy",
            "needs --task classify (use --min-r2)",
            args.gates.min_accuracy.unwrap_or(0.0),
        ));
    }
    if args.data.task == Task::Classify
        && args.gates.min_r2.is_some()
        && args.model.init_from.is_none()
    {
        return Err(Error::flag(
            "--min-r2",
            "needs --task regress (use --min-accuracy)",
            args.gates.min_r2.unwrap_or(0.0),
        ));
    }
    if !(args.gates.max_drop.is_finite() && args.gates.max_drop >= 0.0) {
        return Err(Error::flag(
            "--max-drop",
            "must be a finite number >= 0",
            args.gates.max_drop,
        ));
    }
    if args.training.cv.is_some_and(|k| k < 2) {
        return Err(Error::flag(
            "--cv",
            "must be >= 2",
            args.training.cv.unwrap_or(0),
        ));
    }
    if args.outputs.json && args.outputs.report.as_deref() == Some(std::path::Path::new("-")) {
        return Err(Error::flag(
            "--report",
            "cannot write to stdout with --json (both would go there); name a file",
            "-",
        ));
    }
    if args.data.task == Task::Classify && args.data.label.len() > 1 {
        return Err(Error::flag(
            "--label",
            "takes one column for --task classify",
            args.data.label.join(","),
        ));
    }
    Ok(())
}

/// Caps `--threads` at the cores available (more threads than cores only wait for each
/// other); returns the note to print when it did.
pub fn cap_threads(args: &mut RunOptions) -> Option<String> {
    let cores = limits::cores();
    (args.training.threads > cores).then(|| {
        let note = format!(
            "--threads {} is more than the {cores} core(s) available; using {cores}",
            args.training.threads
        );
        args.training.threads = cores;
        note
    })
}

/// Refuses a training whose model (d inputs, h hidden, q outputs) and buffers for `rows`
/// training rows would not fit in the memory available, before anything is allocated.
fn check_training_memory(
    args: &RunOptions,
    d: usize,
    h: usize,
    q: usize,
    rows: usize,
    smallest: bool,
) -> Result<()> {
    let (elem_bytes, precision) = match args.training.precision {
        Precision::F32 => (4, "f32"),
        Precision::F64 => (8, "f64"),
    };
    let batch = args.training.batch_size.min(rows).max(1);
    let shape = limits::TrainingShape {
        d,
        h,
        q,
        batch,
        eval_rows: limits::chunk_rows(h, q, elem_bytes).min(rows),
        out_rows: rows,
        momentum: args.training.momentum > 0.0,
        keep_best: args.training.patience.is_some(),
        save: args.outputs.save.is_some(),
        elem_bytes,
    };
    let what = if smallest {
        // The check before reading the data: the smallest model the flags allow.
        format!("even the smallest model (d={d}, h={h}, q=1, one row) in {precision}")
    } else {
        format!("a model of d={d}, h={h}, q={q} in {precision} with batches of {batch}")
    };
    let (flags, advice) = match &args.model.init_from {
        Some(p) => (
            format!(
                "--init-from {} with --batch-size {}",
                p.display(),
                args.training.batch_size
            ),
            "lower --batch-size, or train a smaller model",
        ),
        None => (
            format!(
                "--hidden {h} with --batch-size {}",
                args.training.batch_size
            ),
            if precision == "f64" {
                "lower --hidden or --batch-size, or use --precision f32"
            } else {
                "lower --hidden or --batch-size"
            },
        ),
    };
    limits::check_memory(flags, &what, &shape.need(), advice)
}

/// The set the quality gates look at, and its name: test, else validation, else training.
pub fn gate_set(run: &TrainRun) -> (&'static str, &Evaluation) {
    match (&run.test, &run.val) {
        (Some(t), _) => ("test", t),
        (None, Some(v)) => ("validation", v),
        (None, None) => ("training", &run.train),
    }
}

/// One quality gate as checked: what `--json` reports under `"gates"`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct GateResult {
    /// The flag: `--min-accuracy`, `--max-loss` or `--min-r2`.
    pub gate: &'static str,
    /// The set checked: `test`, `validation`, `training` or `K-fold cross-validation mean`.
    pub set: String,
    /// `accuracy`, `loss L` or `R²`.
    pub measure: &'static str,
    /// `at least` or `at most`.
    pub must_be: &'static str,
    pub threshold: f64,
    pub value: f64,
    /// `pass` or `fail`.
    pub verdict: &'static str,
}

impl GateResult {
    /// True when the gate passed.
    pub fn passed(&self) -> bool {
        self.verdict == "pass"
    }

    /// The exit-8 error of a failed gate.
    pub fn error(&self) -> Error {
        Error::Gate {
            gate: self.gate,
            set: self.set.clone(),
            measure: self.measure,
            measured: self.value,
            relation: if self.must_be == "at least" {
                "below"
            } else {
                "above"
            },
            threshold: self.threshold,
        }
    }
}

/// Every gate asked for (--min-accuracy, --max-loss, --min-r2), checked on `set`, in that
/// order. A gate that does not apply to the task is a flag error.
pub fn gates(
    args: &RunOptions,
    set: &str,
    accuracy: Option<f64>,
    loss: f64,
    r2: Option<f64>,
) -> Result<Vec<GateResult>> {
    let gate = |gate, measure, value: f64, at_least: bool, threshold: f64| {
        // NaN passes no gate.
        let ok = if at_least {
            value >= threshold
        } else {
            value <= threshold
        };
        GateResult {
            gate,
            set: set.to_string(),
            measure,
            must_be: if at_least { "at least" } else { "at most" },
            threshold,
            value,
            verdict: if ok { "pass" } else { "fail" },
        }
    };
    let mut out = Vec::new();
    if let Some(min) = args.gates.min_accuracy {
        let a =
            accuracy.ok_or_else(|| Error::flag("--min-accuracy", "needs --task classify", min))?;
        out.push(gate("--min-accuracy", "accuracy", a, true, min));
    }
    if let Some(max) = args.gates.max_loss {
        out.push(gate("--max-loss", "loss L", loss, false, max));
    }
    if let Some(min) = args.gates.min_r2 {
        let r = r2.ok_or_else(|| Error::flag("--min-r2", "needs --task regress", min))?;
        out.push(gate("--min-r2", "R²", r, true, min));
    }
    Ok(out)
}

/// Parses `--label` values: a number is a 0-based index, anything else a header name.
pub fn label_specs(labels: &[String]) -> Vec<LabelSpec> {
    if labels.is_empty() {
        return vec![LabelSpec::Last];
    }
    labels
        .iter()
        .map(|l| match l.trim().parse::<usize>() {
            Ok(i) => LabelSpec::Index(i),
            Err(_) => LabelSpec::Name(l.trim().to_string()),
        })
        .collect()
}

/// Parses `--ignore` values: a number is a 0-based index, anything else a header name.
pub fn ignore_specs(columns: &[String]) -> Vec<LabelSpec> {
    if columns.is_empty() {
        return Vec::new();
    }
    label_specs(columns)
}

/// The label kind a task reads.
pub fn label_kind(task: Task) -> LabelKind {
    match task {
        Task::Classify => LabelKind::Classes,
        Task::Regress => LabelKind::Targets,
    }
}

/// A trained model with its preprocessing and its report, before any output is written.
pub struct Trained<T> {
    pub model: Mlp<T>,
    pub prep: Prep,
    pub run: TrainRun,
    /// With --report: the data file's first row, to explain once the model is saved.
    pub first_row: Option<Frame<T>>,
    /// Epochs the --init-from model had run before this run.
    pub previous_epochs: usize,
}

/// Loads and splits the data, fits the preprocessing, trains and evaluates, in the precision
/// `T`; the caller has validated the options and planned the outputs, and writes them.
pub fn train<T: Real>(
    args: &RunOptions,
    observer: &mut dyn Observer,
    stop: &AtomicBool,
) -> Result<Trained<T>> {
    let input = load_input::<T>(args)?;
    let Input {
        src,
        previous,
        task,
        mut frame,
        all_classes,
        test,
    } = input;
    check_continuation::<T>(args, previous.as_ref(), task)?;
    let warnings = std::mem::take(&mut frame.warnings);

    // The report explains the file's first row, whichever set it falls in.
    let first_row = args
        .outputs
        .report
        .as_ref()
        .and_then(|_| crate::train::diagnostics::first_row(&frame));
    // Validation split (stratified by class), before anything is fitted.
    let (train_frame, val_frame) = if args.data.val_frac > 0.0 {
        let (tr, va) = split_rows(&frame, args.data.val_frac, args.training.seed);
        if tr.is_empty() || va.is_empty() {
            return Err(Error::flag(
                "--val-frac",
                format!(
                    "leaves an empty training or validation set with {} rows",
                    frame.x.nrows()
                ),
                args.data.val_frac,
            ));
        }
        let (train, val) = split_frame(frame, &tr, &va);
        (train, Some(val))
    } else {
        (frame, None)
    };
    let fitted = fit_and_train(
        args,
        previous.as_ref(),
        task,
        all_classes,
        train_frame,
        val_frame,
        test,
        observer,
        stop,
    )?;
    let Fitted {
        model,
        prep,
        mut run,
    } = fitted;
    run.data = src.to_string();
    run.warnings = warnings;
    let previous_epochs = previous.as_ref().map_or(0, |m| m.epochs_run);
    Ok(Trained {
        model,
        prep,
        run,
        first_row,
        previous_epochs,
    })
}

/// With --report, the file's first row explained by the trained model: after the outputs
/// are written, so that the page names the model file as it was saved.
pub fn explain_first_row<T: Real>(t: &mut Trained<T>, lambda: f64) -> Result<()> {
    if let (Some(d), Some(row)) = (t.run.diagnostics.as_mut(), t.first_row.as_ref()) {
        let file = match &t.run.saved {
            Some(p) => p.display().to_string(),
            None => "(trained in this run, not saved)".to_string(),
        };
        d.sample = Some(crate::train::diagnostics::sample(
            &t.model,
            &t.prep,
            row,
            0,
            lambda,
            Some(file),
        )?);
    }
    Ok(())
}

/// With --init-from, what needs the model's task and count: the gates must suit its task,
/// and its `epochs_run` plus --epochs must be countable.
fn check_continuation<T: Real>(
    args: &RunOptions,
    previous: Option<&ModelFile>,
    task: Task,
) -> Result<()> {
    let Some(m) = previous else { return Ok(()) };
    if task == Task::Regress {
        if let Some(a) = args.gates.min_accuracy {
            return Err(Error::flag(
                "--min-accuracy",
                "needs a classifier, but the --init-from model is a regression (use --min-r2)",
                a,
            ));
        }
    }
    if task == Task::Classify {
        if let Some(r) = args.gates.min_r2 {
            return Err(Error::flag(
                "--min-r2",
                "needs a regression, but the --init-from model is a classifier (use --min-accuracy)",
                r,
            ));
        }
    }
    // An f64 model continued in f32 must fit f32 too (1e300 would become infinity).
    m.check_numbers_in(T::NAME, "the precision of this run (--precision)")
        .map_err(|msg| Error::Model {
            path: args.model.init_from.clone().unwrap_or_default(),
            msg,
        })?;
    // s = λ/2 (‖W1‖² + ‖W2‖²) must be computable, or the first step would "diverge".
    let sum_sq =
        m.w1.iter()
            .chain(&m.w2)
            .flatten()
            .fold(T::zero(), |a, &v| a + T::of(v) * T::of(v));
    if !sum_sq.is_finite() {
        return Err(Error::Model {
            path: args.model.init_from.clone().unwrap_or_default(),
            msg: format!(
                "has weights so large that ‖W1‖² + ‖W2‖² overflows {}; it cannot be trained further",
                T::NAME
            ),
        });
    }
    if m.epochs_run.checked_add(args.training.epochs).is_none() {
        return Err(Error::Model {
            path: args.model.init_from.clone().unwrap_or_default(),
            msg: format!(
                "has epochs_run = {}, which --epochs {} more would overflow; the count is corrupt",
                m.epochs_run, args.training.epochs
            ),
        });
    }
    Ok(())
}

/// The training file (and the test file, the model to continue), loaded and checked.
struct Input<T> {
    src: Source,
    previous: Option<ModelFile>,
    task: Task,
    frame: Frame<T>,
    all_classes: Option<Vec<String>>,
    test: Option<Frame<T>>,
}

fn load_input<T: Real>(args: &RunOptions) -> Result<Input<T>> {
    let src = Source::parse(args.data.data.as_deref().unwrap_or("-"));
    if let Some(t) = &args.data.test {
        if Source::parse(t) == Source::Stdin && src == Source::Stdin {
            return Err(Error::flag(
                "--test",
                "cannot read standard input too: --data already reads it, and a stream can be \
                 read only once (give one of them as a file)",
                t,
            ));
        }
    }
    let previous = match &args.model.init_from {
        Some(p) => Some(ModelFile::load(p)?),
        None => None,
    };
    let task = previous.as_ref().map_or(args.data.task, |m| m.prep.task);
    let specs = match &previous {
        Some(m) => m.prep.labels.iter().cloned().map(LabelSpec::Name).collect(),
        None => label_specs(&args.data.label),
    };
    let mut opts = LoadOptions::new(specs, label_kind(task));
    opts.delimiter = args.data.delimiter.byte();
    opts.ignore = ignore_specs(&args.data.ignore);
    let expected = previous.as_ref().map(|m| m.prep.features.clone());
    opts.expected_features = expected.as_deref();
    let frame: Frame<T> = data::load(&src, &opts)?;
    let all_classes = match &frame.labels {
        FrameLabels::Classes(table) => Some(table.names.clone()),
        _ => None,
    };
    let test = match &args.data.test {
        Some(t) => {
            let mut topts = opts.clone();
            topts.expected_features = Some(&frame.feature_names);
            topts.labels = frame
                .label_names
                .iter()
                .cloned()
                .map(LabelSpec::Name)
                .collect();
            Some(data::load::<T>(&Source::parse(t), &topts)?)
        }
        None => None,
    };
    Ok(Input {
        src,
        previous,
        task,
        frame,
        all_classes,
        test,
    })
}

/// A trained model, its preprocessing and the record of the run.
struct Fitted<T> {
    model: Mlp<T>,
    prep: Prep,
    run: TrainRun,
}

/// Fits the preprocessing on `train_frame` (or reuses the previous model's), trains, and
/// evaluates on train, validation and test.
#[allow(clippy::too_many_arguments)]
fn fit_and_train<T: Real>(
    args: &RunOptions,
    previous: Option<&ModelFile>,
    task: Task,
    all_classes: Option<Vec<String>>,
    train_frame: Frame<T>,
    val_frame: Option<Frame<T>>,
    test_frame: Option<Frame<T>>,
    observer: &mut dyn Observer,
    stop: &AtomicBool,
) -> Result<Fitted<T>> {
    let prep = match previous {
        Some(m) => m.prep.clone(),
        None => {
            let mut p = Prep::fit(
                &train_frame,
                task,
                !args.data.no_standardize,
                !args.data.no_standardize_targets,
                args.model.bias,
            )?;
            if p.classes.is_some() {
                p.classes = all_classes;
            }
            p
        }
    };
    // Now that d, q and the rows are known: the model and its buffers must fit.
    let h = previous.map_or(args.model.hidden, |m| m.architecture.hidden);
    check_training_memory(
        args,
        prep.inputs(),
        h,
        prep.outputs(),
        train_frame.x.nrows(),
        false,
    )?;
    let train_data = prep.transform(train_frame)?;
    let val_data = val_frame.map(|f| prep.transform(f)).transpose()?;
    let test_data = test_frame.map(|f| prep.transform(f)).transpose()?;

    let mut model: Mlp<T> = match previous {
        Some(m) => m.mlp(),
        None => {
            let loss = args.model.loss.unwrap_or(match task {
                Task::Classify => Loss::SoftmaxCe,
                Task::Regress => Loss::HalfSquared,
            });
            let (d, q) = (prep.inputs(), prep.outputs());
            Mlp::init(
                d,
                args.model.hidden,
                q,
                args.model.activation,
                loss,
                args.model.init,
                args.training.seed,
            )
        }
    };
    let config = TrainConfig {
        lambda: args.training.lambda,
        lr: args.training.lr,
        momentum: args.training.momentum,
        batch_size: args.training.batch_size,
        epochs: args.training.epochs,
        // The shuffle gets its own stream, so that changing the data order does not change
        // the initial weights and vice versa.
        seed: args.training.seed ^ 0x5348_5546_464c_4531,
        patience: args.training.patience,
        target_scale: prep.target_standardize.as_ref().map(|s| s.std.clone()),
        threads: args.training.threads,
    };
    // The one phase in which a signal stops cooperatively (at the next minibatch); in any
    // other the binary's handler exits at once.
    let (outcome, signalled) = crate::train::interrupt::polling(|| {
        sgd::train(
            &mut model,
            &config,
            &train_data,
            val_data.as_ref(),
            observer,
            stop,
        )
    });
    let mut outcome = outcome?;
    outcome.interrupted |= signalled;

    // An interrupted run must stop within a moment: no new passes over the data when an
    // epoch completed; its figures (running means on train, as in the log; the epoch's
    // validation pass) stand for the model, and the test set is not evaluated.
    let last = outcome
        .best_epoch
        .or(outcome.history.last().map(|s| s.epoch));
    let quick = last
        .filter(|_| outcome.interrupted)
        .and_then(|e| outcome.history.get(e - 1));
    let (train_eval, val_eval, test_eval) = match quick {
        Some(stats) => {
            let from = |rows, (objective, metric)| Evaluation {
                rows,
                objective,
                metric,
                regression: None,
            };
            (
                from(train_data.len(), (stats.train, stats.train_metric)),
                stats
                    .val
                    .zip(val_data.as_ref())
                    .map(|(v, data)| from(data.len(), v)),
                None,
            )
        }
        None => (
            evaluate(&model, &train_data, &prep, &config)?,
            val_data
                .as_ref()
                .map(|v| evaluate(&model, v, &prep, &config))
                .transpose()?,
            test_data
                .as_ref()
                .filter(|_| !outcome.interrupted)
                .map(|v| evaluate(&model, v, &prep, &config))
                .transpose()?,
        ),
    };

    // The report's confusion matrix or scatter is on the set the gates look at.
    let diagnostics = match (&args.outputs.report, &test_data, &val_data) {
        (None, _, _) => None,
        (Some(_), Some(t), _) => Some(crate::train::diagnostics::on_set(
            &model, t, &prep, "test set",
        )?),
        (Some(_), None, Some(v)) => Some(crate::train::diagnostics::on_set(
            &model,
            v,
            &prep,
            if args.training.cv.is_some() {
                "held-out folds, pooled"
            } else {
                "validation set"
            },
        )?),
        (Some(_), None, None) => Some(crate::train::diagnostics::on_set(
            &model,
            &train_data,
            &prep,
            "training set",
        )?),
    };
    let (d, h, q) = model.dims();
    let hyperparameters = serde_json::json!({
        "hidden": h,
        "activation": model.activation.name(),
        "loss": model.loss.name(),
        "init": args.model.init,
        "bias": prep.bias,
        "standardize": prep.standardize.is_some(),
        "standardize_targets": prep.target_standardize.is_some(),
        "lambda": args.training.lambda,
        "lr": args.training.lr,
        "momentum": args.training.momentum,
        "batch_size": args.training.batch_size,
        "epochs": args.training.epochs,
        "patience": args.training.patience,
        "seed": args.training.seed,
        "precision": T::NAME,
        "val_frac": args.data.val_frac,
        "cv": args.training.cv,
        // No "threads": the model is the same for every thread count, and so is its file.
        "init_from": args.model.init_from,
    });
    let run = TrainRun {
        data: String::new(),
        task,
        precision: T::NAME,
        features: prep.features.clone(),
        classes: prep.classes.clone(),
        dims: (d, h, q),
        activation: model.activation.name(),
        loss: model.loss.name(),
        bias: prep.bias,
        config,
        hyperparameters,
        outcome,
        train: train_eval,
        val: val_eval,
        test: test_eval,
        saved: None,
        diagnostics,
        kept: Vec::new(),
        summary_to_stderr: false,
        warnings: Vec::new(),
    };
    Ok(Fitted { model, prep, run })
}

/// One fold of a cross-validation: its held-out rows' metrics.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Fold {
    pub fold: usize,
    pub rows: usize,
    /// L on the held-out fold.
    pub loss: f64,
    /// Accuracy (classify) or RMSE in the data's units (regress) on the held-out fold.
    pub metric: f64,
    /// R² on the held-out fold (regress).
    pub r2: Option<f64>,
}

/// The outcome of `--cv K`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CvRun {
    pub data: String,
    pub task: Task,
    pub k: usize,
    pub folds: Vec<Fold>,
    /// Mean and sample standard deviation of the folds' metric.
    pub mean: f64,
    pub std: f64,
    /// Mean of the folds' L.
    pub mean_loss: f64,
    /// Mean of the folds' R² (regress).
    pub mean_r2: Option<f64>,
    pub hyperparameters: serde_json::Value,
    pub interrupted: bool,
    pub seconds: f64,
    /// `--threads`, a setting of the run (reported in --json, never in a model file).
    pub threads: usize,
    /// With --report: the held-out folds' predictions pooled, and fold 1's model on row 0.
    #[serde(skip)]
    pub diagnostics: Option<crate::train::diagnostics::Diagnostics>,
    /// What looked wrong in the data without being an error; printed on stderr.
    pub warnings: Vec<String>,
}

/// `--cv K`: stratified (classify) or plain (regress) K-fold cross-validation with the seed.
/// Each fold fits its own standardization on its K−1 training folds.
pub fn cv_command(
    args: &RunOptions,
    observer: &mut dyn Observer,
    stop: &AtomicBool,
) -> Result<CvRun> {
    match args.training.precision {
        Precision::F32 => cv_in::<f32>(args, observer, stop),
        Precision::F64 => cv_in::<f64>(args, observer, stop),
    }
}

fn cv_in<T: Real>(
    args: &RunOptions,
    observer: &mut dyn Observer,
    stop: &AtomicBool,
) -> Result<CvRun> {
    let k = args.training.cv.unwrap_or(0);
    let start = std::time::Instant::now();
    let Input {
        src,
        task,
        mut frame,
        all_classes,
        ..
    } = load_input::<T>(args)?;
    let warnings = std::mem::take(&mut frame.warnings);
    let n = frame.x.nrows();
    if k < 2 || k > n {
        return Err(Error::flag(
            "--cv",
            format!("must be between 2 and the number of rows ({n})"),
            k,
        ));
    }
    let assignment = fold_of_rows(&frame, k, args.training.seed);
    let mut folds = Vec::with_capacity(k);
    let mut hyperparameters = serde_json::Value::Null;
    let mut interrupted = false;
    let mut diagnostics: Option<crate::train::diagnostics::Diagnostics> = None;
    for f in 0..k {
        let (tr, te): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| assignment[i] != f);
        if tr.is_empty() || te.is_empty() {
            continue;
        }
        let fitted = fit_and_train(
            args,
            None,
            task,
            all_classes.clone(),
            select_frame(&frame, &tr),
            Some(select_frame(&frame, &te)),
            None,
            observer,
            stop,
        )?;
        let mut run = fitted.run;
        // Out-of-fold predictions pooled over the folds; row 0 explained by the first model.
        match (&mut diagnostics, run.diagnostics.take()) {
            (Some(all), Some(d)) => all.predictions.extend(d.predictions),
            (None, Some(mut d)) => {
                if frame.x.nrows() > 0 {
                    let s = crate::train::diagnostics::sample(
                        &fitted.model,
                        &fitted.prep,
                        &frame,
                        0,
                        args.training.lambda,
                        Some("(fold 1 of the cross-validation, not saved)".to_string()),
                    )?;
                    d.sample = Some(s);
                }
                diagnostics = Some(d);
            }
            _ => {}
        }
        hyperparameters = run.hyperparameters.clone();
        let held_out = run
            .val
            .as_ref()
            .expect("the held-out fold is the validation set");
        folds.push(Fold {
            fold: f + 1,
            rows: held_out.rows,
            loss: held_out.objective.l,
            metric: held_out.metric.value(),
            r2: held_out.regression.as_ref().map(|r| r.r2),
        });
        if run.outcome.interrupted {
            interrupted = true;
            break;
        }
    }
    let m = folds.len().max(1) as f64;
    let mean = folds.iter().map(|f| f.metric).sum::<f64>() / m;
    let var = folds.iter().map(|f| (f.metric - mean).powi(2)).sum::<f64>() / (m - 1.0).max(1.0);
    let mean_loss = folds.iter().map(|f| f.loss).sum::<f64>() / m;
    let mean_r2 =
        (task == Task::Regress).then(|| folds.iter().filter_map(|f| f.r2).sum::<f64>() / m);
    Ok(CvRun {
        data: src.to_string(),
        task,
        k,
        folds,
        mean,
        std: var.sqrt(),
        mean_loss,
        mean_r2,
        hyperparameters,
        interrupted,
        seconds: start.elapsed().as_secs_f64(),
        threads: args.training.threads,
        diagnostics,
        warnings,
    })
}

/// The fold (0..k) of every row: per class (or overall) a seeded shuffle dealt round-robin,
/// so that each fold has each class in proportion.
fn fold_of_rows<T: Real>(frame: &Frame<T>, k: usize, seed: u64) -> Vec<usize> {
    let mut rng = crate::math::rng::seeded(seed ^ 0x4356_5f46_4f4c_4453);
    let mut fold = vec![0; frame.x.nrows()];
    let mut next = 0;
    for mut g in groups(frame) {
        g.shuffle(&mut rng);
        for i in g {
            fold[i] = next % k;
            next += 1;
        }
    }
    fold
}

/// Row indices grouped by class (one group for regression).
fn groups<T: Real>(frame: &Frame<T>) -> Vec<Vec<usize>> {
    match &frame.labels {
        FrameLabels::Classes(table) => {
            let mut g = vec![Vec::new(); table.names.len()];
            for (i, &k) in table.y.iter().enumerate() {
                if let Some(group) = g.get_mut(k as usize) {
                    group.push(i);
                }
            }
            g
        }
        _ => vec![(0..frame.x.nrows()).collect()],
    }
}

/// Final metrics of `model` on `data`; regression metrics in the data's own units.
fn evaluate<T: Real>(
    model: &Mlp<T>,
    data: &Data<T>,
    prep: &Prep,
    config: &TrainConfig,
) -> Result<Evaluation> {
    let (_, h, q) = model.dims();
    let rows = limits::chunk_rows(h, q, std::mem::size_of::<T>());
    let mut cache = Cache::for_model(model, rows.min(data.len().max(1)));
    let (objective, metric) = sgd::evaluate(model, data, config, &mut cache)?;
    let regression = match &data.y {
        Labels::Values(y) => {
            let mut pred = predict_values(model, data.x.view(), &mut cache)?;
            let mut truth = y.clone();
            if let Some(st) = &prep.target_standardize {
                st.invert(pred.view_mut());
                st.invert(truth.view_mut());
            }
            let f = |a: &ndarray::Array2<T>| a.iter().map(|v| v.f64()).collect::<Vec<_>>();
            Some(metrics::regression(&f(&truth), &f(&pred), y.ncols()))
        }
        Labels::Classes(_) => None,
    };
    Ok(Evaluation {
        rows: data.len(),
        objective,
        metric,
        regression,
    })
}

/// O for every row of x, computed in chunks through the cache.
pub fn predict_values<T: Real>(
    model: &Mlp<T>,
    x: ndarray::ArrayView2<T>,
    cache: &mut Cache<T>,
) -> Result<ndarray::Array2<T>> {
    let (_, _, q) = model.dims();
    let n = x.nrows();
    let mut out = ndarray::Array2::zeros((n, q));
    let chunk = cache.z.nrows().max(1);
    for start in (0..n).step_by(chunk) {
        let end = (start + chunk).min(n);
        model.forward(x.slice(ndarray::s![start..end, ..]), cache)?;
        out.slice_mut(ndarray::s![start..end, ..])
            .assign(&cache.live().2);
    }
    Ok(out)
}

/// Row indices for training and validation: per class (or overall, for regression) a seeded
/// shuffle, then round(frac × count) rows to validation, never a class's last row.
fn split_rows<T: Real>(frame: &Frame<T>, frac: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut rng = crate::math::rng::seeded(seed ^ 0x5641_4c5f_5350_4c54);
    let groups = groups(frame);
    let (mut tr, mut va) = (Vec::new(), Vec::new());
    for mut g in groups {
        g.shuffle(&mut rng);
        let k = ((frac * g.len() as f64).round() as usize).min(g.len().saturating_sub(1));
        va.extend_from_slice(&g[..k]);
        tr.extend_from_slice(&g[k..]);
    }
    tr.sort_unstable();
    va.sort_unstable();
    (tr, va)
}

/// The given rows of a frame (a copy).
fn select_frame<T: Real>(frame: &Frame<T>, rows: &[usize]) -> Frame<T> {
    Frame {
        source: frame.source.clone(),
        feature_names: frame.feature_names.clone(),
        label_names: frame.label_names.clone(),
        x: frame.x.select(Axis(0), rows),
        labels: match &frame.labels {
            FrameLabels::None => FrameLabels::None,
            FrameLabels::Classes(c) => FrameLabels::Classes(c.select(rows)),
            FrameLabels::Targets(y) => FrameLabels::Targets(y.select(Axis(0), rows)),
        },
        lines: frame.lines.select(rows),
        warnings: Vec::new(),
    }
}

/// A frame cut into training rows `tr` and validation rows `va` (both ascending, together
/// every row once). The validation rows are copied out; the training rows then move up in
/// the frame's own buffer, which shrinks: the matrix is never held twice.
fn split_frame<T: Real>(frame: Frame<T>, tr: &[usize], va: &[usize]) -> (Frame<T>, Frame<T>) {
    let val = select_frame(&frame, va);
    let Frame {
        source,
        feature_names,
        label_names,
        x,
        labels,
        lines,
        warnings,
    } = frame;
    let lines = lines.select(tr);
    let x = keep_rows(x, tr);
    let labels = match labels {
        FrameLabels::None => FrameLabels::None,
        FrameLabels::Classes(c) => FrameLabels::Classes(c.select(tr)),
        FrameLabels::Targets(y) => FrameLabels::Targets(keep_rows(y, tr)),
    };
    let train = Frame {
        source,
        feature_names,
        label_names,
        x,
        labels,
        lines,
        warnings,
    };
    (train, val)
}

/// The rows `keep` (ascending) of `a`, moved up in place; the buffer is then shrunk.
fn keep_rows<T: Real>(a: Array2<T>, keep: &[usize]) -> Array2<T> {
    let (n, d) = a.dim();
    if !a.is_standard_layout() {
        return a.select(Axis(0), keep);
    }
    let (mut v, offset) = a.into_raw_vec_and_offset();
    // The matrix starts `offset` values into its buffer (0 for a loaded file).
    let off = offset.unwrap_or(0).min(v.len());
    v.drain(..off);
    v.truncate(n * d);
    let mut m = 0;
    for &i in keep.iter().filter(|&&i| i < n) {
        // i >= m: rows only ever move up.
        v.copy_within(i * d..i * d + d, m * d);
        m += 1;
    }
    v.truncate(m * d);
    v.shrink_to_fit();
    // m d values by construction: the shape always fits.
    Array2::from_shape_vec((m, d), v).unwrap_or_else(|_| Array2::zeros((m, d)))
}
