//! A training run from plain options to a trained and evaluated model: validate the options,
//! load and split the data, fit the preprocessing, train, evaluate; and K-fold cross-validation.
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use crate::data::matrices::{Data, Targets};
use crate::data::modelfile::ModelFile;
use crate::data::prep::{Prep, Task};
use crate::data::weights::{self as weighting, Weighting};
use crate::data::{self, Frame, LabelKind, LabelSpec, Labels as FrameLabels, LoadOptions, Source};
use crate::math::loss::Loss;
use crate::math::model::{Mlp, Objective};
use crate::train::baseline::{Baseline, FileId, Identity, Split};
use crate::train::checks::{check_continuation, check_training_memory};
use crate::train::metrics::{self, RegressionReport};
use crate::train::options::RunOptions;
use crate::train::predict::{eval_cache, predict_values};
use crate::train::sgd::{self, Metric, Observer, Outcome, TrainConfig};
use crate::train::split::{split_frame, split_rows};
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
    /// The data file as given (`<stdin>` for `-`): shown escaped in text, lossily in JSON.
    pub data: PathBuf,
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
    /// `--weight-column` and `--class-weight`: what each row's wᵢ in L = Σ wᵢℓᵢ / Σ wᵢ was
    /// (absent from --json when every row weighs 1).
    #[serde(skip_serializing_if = "Weighting::is_none")]
    pub weighting: Weighting,
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
    /// What the metrics were measured on (the data's fingerprint, features, classes, split),
    /// for --json, the model file and --baseline; set by [`train`].
    #[serde(skip)]
    pub identity: Option<Identity>,
    /// `--baseline`, read and checked against `identity` before training.
    #[serde(skip)]
    pub baseline: Option<Baseline>,
    /// Every warning of the run (the data's), one sentence each: for --json, the report
    /// and a sweep's table, besides stderr.
    pub warnings: Vec<String>,
}

/// Parses `--label` values ([`LabelSpec::parse`]): a number is the column so named when the
/// header has one, else a 0-based index; anything else a header name.
pub fn label_specs(labels: &[String]) -> Vec<LabelSpec> {
    if labels.is_empty() {
        return vec![LabelSpec::Last];
    }
    labels.iter().map(|l| LabelSpec::parse(l)).collect()
}

/// Parses `--ignore` values, as `--label`'s ([`label_specs`]).
pub fn ignore_specs(columns: &[String]) -> Vec<LabelSpec> {
    if columns.is_empty() {
        return Vec::new();
    }
    label_specs(columns)
}

/// With --task left at its default (classify), a label column of non-integer numbers is
/// refused before training: it is almost surely a regression target (scikit-learn refuses
/// it too: `Unknown label type: continuous`). An explicit `--task classify` trains.
pub fn refuse_real_valued<T>(frame: &Frame<T>) -> Result<()> {
    let FrameLabels::Classes(classes) = &frame.labels else {
        return Ok(());
    };
    let fractional = classes
        .names
        .iter()
        .zip(&classes.first_lines)
        .find(|(c, _)| data::class_number(c).is_some_and(|v| v.fract() != 0.0));
    let Some((value, line)) = fractional else {
        return Ok(());
    };
    Err(Error::data(
        &frame.source,
        format!(
            "the label column `{}` holds non-integer numbers (`{}` on line {line}, {} distinct \
             values): for regression, pass --task regress; to read them as classes all the \
             same, pass --task classify",
            data::shown_str(&frame.label_names.join(",")),
            data::shown_str(value),
            classes.names.len()
        ),
    ))
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
    let input = load_input::<T>(args, observer)?;
    train_on(args, input, observer, stop)
}

/// [`train`] on data already loaded by [`load_input`] (a sweep reads its files once and
/// trains every point on them).
pub fn train_on<T: Real>(
    args: &RunOptions,
    input: Input<T>,
    observer: &mut dyn Observer,
    stop: &AtomicBool,
) -> Result<Trained<T>> {
    let Input {
        src,
        previous,
        task,
        frame,
        all_classes,
        test,
        mut identity,
        baseline,
        weights: mut sets,
        warnings,
    } = input;
    // A sweep loads once and trains each point with its own split.
    identity.split = Some(split_of(args));
    check_continuation::<T>(args, previous.as_ref(), task)?;

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
        sets.split(&tr, &va);
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
        sets,
    )?;
    let Fitted {
        model,
        prep,
        mut run,
    } = fitted;
    run.data = src.display();
    run.warnings = warnings;
    run.identity = Some(identity);
    run.baseline = baseline;
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

/// How `args` split the training file: `--val-frac`, the `--seed` that drew the split (none
/// without a split), `--cv K`.
pub fn split_of(args: &RunOptions) -> Split {
    let split = args.data.val_frac > 0.0 || args.training.cv.is_some();
    Split {
        val_frac: args.data.val_frac,
        seed: split.then_some(args.training.seed),
        cv: args.training.cv,
    }
}

/// The training file (and the test file, the model to continue), loaded and checked.
#[derive(Clone)]
pub struct Input<T> {
    pub src: Source,
    pub previous: Option<ModelFile>,
    pub task: Task,
    pub frame: Frame<T>,
    pub all_classes: Option<Vec<String>>,
    pub test: Option<Frame<T>>,
    /// What the run measures on (see [`Identity`]); its split is the loading run's, and
    /// [`train_on`] sets it from the options it trains with.
    pub identity: Identity,
    /// `--baseline`, already checked against `identity`.
    pub baseline: Option<Baseline>,
    /// `--weight-column`'s values, taken out of `frame` and `test` (None without the flag).
    pub weights: SetWeights<T>,
    /// The data file's warnings (also given to the observer as it was read), for --json,
    /// the report and a sweep's table.
    pub warnings: Vec<String>,
}

/// The `--weight-column` values of the training, validation and test rows (each None without
/// the flag), split as the frames are.
#[derive(Clone, Debug)]
pub struct SetWeights<T> {
    pub train: Option<ndarray::Array1<T>>,
    pub val: Option<ndarray::Array1<T>>,
    pub test: Option<ndarray::Array1<T>>,
}

impl<T: Real> SetWeights<T> {
    /// The training rows' weights split into rows `tr` (training) and `va` (validation).
    pub fn split(&mut self, tr: &[usize], va: &[usize]) {
        if let Some(w) = self.train.take() {
            self.train = Some(w.select(ndarray::Axis(0), tr));
            self.val = Some(w.select(ndarray::Axis(0), va));
        }
    }

    /// The training and validation weights of rows `tr` and `te` of the training file (a
    /// cross-validation fold; no test set).
    pub fn fold(&self, tr: &[usize], te: &[usize]) -> SetWeights<T> {
        let mut s = SetWeights {
            train: self.train.clone(),
            val: None,
            test: None,
        };
        s.split(tr, te);
        s
    }
}

/// Takes `--weight-column` out of `frame`'s features (None without the flag).
fn take_weights<T: Real>(
    args: &RunOptions,
    frame: &mut Frame<T>,
) -> Result<Option<ndarray::Array1<T>>> {
    args.data
        .weight_column
        .as_deref()
        .map(|c| weighting::take_column(frame, c, "--weight-column"))
        .transpose()
}

/// Reads the data (and --test) files, the --init-from model and the --baseline, which must
/// have measured the same data the same way (checked here, before any training). The data
/// file's warnings go to `observer` as soon as it is read, before any failure that may follow.
pub fn load_input<T: Real>(args: &RunOptions, observer: &mut dyn Observer) -> Result<Input<T>> {
    let src = Source::parse(args.data.data.as_deref().unwrap_or(Path::new("-")));
    if let Some(t) = &args.data.test {
        if Source::parse(t) == Source::Stdin && src == Source::Stdin {
            return Err(Error::flag(
                "--test",
                "cannot read standard input too: --data already reads it, and a stream can be \
                 read only once (give one of them as a file)",
                crate::error::shown_path(t),
            ));
        }
    }
    if let Some(c) = args
        .data
        .encode
        .categorical
        .iter()
        .find(|c| args.data.ignore.iter().any(|i| i.trim() == c.as_str()))
    {
        return Err(Error::flag(
            "--categorical",
            "names a column that --ignore skips too: give it to one of them",
            crate::data::shown_str(c),
        ));
    }
    let previous = match &args.model.init_from {
        Some(p) => Some(crate::train::limits::load_model(p)?),
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
    opts.features = ignore_specs(&args.data.features);
    opts.no_header = args.data.no_header;
    opts.npz = args.data.npz.clone();
    // --weight-column's column is read as a number with the features, then taken out
    // (take_weights below): --features and an --init-from model's columns must include it.
    let weight_column = args
        .data
        .weight_column
        .as_ref()
        .map(|c| c.trim().to_string());
    if let (Some(c), false) = (&weight_column, opts.features.is_empty()) {
        opts.features.extend(ignore_specs(std::slice::from_ref(c)));
    }
    // Read by name, so the frame's features are exactly these (the weight column last, then
    // taken out): nothing to compare with the model's afterwards.
    let expected: Option<Vec<String>> = previous
        .as_ref()
        .map(|m| m.prep.number_columns_and(weight_column.as_deref()));
    opts.expected_features = expected.as_deref();
    match &previous {
        Some(m) => data::prep::read_encoded(&mut opts, &m.prep.categorical(), m.prep.imputes()),
        None => {
            let enc = &args.data.encode;
            data::prep::read_encoded(&mut opts, &enc.categorical, enc.impute.is_some())
        }
    }
    let mut frame: Frame<T> = data::load(&src, &opts)?;
    if task == Task::Classify && !args.data.task_given && previous.is_none() {
        refuse_real_valued(&frame)?;
    }
    let warnings = std::mem::take(&mut frame.warnings);
    for w in &warnings {
        observer.on_warning(w);
    }
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
    // The weights are no feature: out of both files' columns before anything is named.
    let mut test = test;
    let weights = SetWeights {
        train: take_weights(args, &mut frame)?,
        val: None,
        test: match test.as_mut() {
            Some(t) => take_weights(args, t)?,
            None => None,
        },
    };
    let identity = Identity {
        command: "train".into(),
        task,
        data: FileId::of(&frame),
        test_data: test.as_ref().map(FileId::of),
        features: frame.feature_names.clone(),
        classes: match &previous {
            Some(m) => m.prep.classes.clone(),
            None => all_classes.clone(),
        },
        split: Some(split_of(args)),
    };
    let baseline = args
        .gates
        .baseline
        .as_deref()
        .map(Baseline::load)
        .transpose()?;
    if let Some(b) = &baseline {
        b.check_identity(&identity)?;
    }
    Ok(Input {
        src,
        previous,
        task,
        frame,
        all_classes,
        test,
        identity,
        baseline,
        weights,
        warnings,
    })
}

/// A trained model, its preprocessing and the record of the run.
pub(super) struct Fitted<T> {
    pub(super) model: Mlp<T>,
    pub(super) prep: Prep,
    pub(super) run: TrainRun,
}

/// Fits the preprocessing on `train_frame` (or reuses the previous model's), trains, and
/// evaluates on train, validation and test.
#[allow(clippy::too_many_arguments)]
pub(super) fn fit_and_train<T: Real>(
    args: &RunOptions,
    previous: Option<&ModelFile>,
    task: Task,
    all_classes: Option<Vec<String>>,
    train_frame: Frame<T>,
    val_frame: Option<Frame<T>>,
    test_frame: Option<Frame<T>>,
    observer: &mut dyn Observer,
    stop: &AtomicBool,
    weights: SetWeights<T>,
) -> Result<Fitted<T>> {
    let prep = match previous {
        Some(m) => m.prep.clone(),
        None => {
            // --weight-column: the standardizations weigh the rows as the loss does, so that
            // an integer weight k is k copies of its row from the first step on.
            let mut p = Prep::fit_weighted(
                &train_frame,
                task,
                !args.data.no_standardize,
                !args.data.no_standardize_targets,
                args.model.bias,
                &args.data.encode,
                weights.train.as_ref().and_then(|w| w.as_slice()),
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
    let mut train_data = prep.transform(train_frame)?;
    // Categories only in the validation or test rows are all zeros there, and noted.
    let mut counted = |f: Frame<T>, rows: &str| -> Result<Data<T>> {
        let (d, unseen) = prep.transform_counted(f, false)?;
        if let Some(note) = unseen.note() {
            observer.on_warning(&format!("{rows}: {note}"));
        }
        Ok(d)
    };
    let mut val_data = val_frame
        .map(|f| counted(f, "validation rows"))
        .transpose()?;
    let mut test_data = test_frame.map(|f| counted(f, "--test")).transpose()?;
    // wᵢ = sample weight × class weight; the class weights counted on the training rows.
    let class_weights = match (&args.data.class_weight, &train_data.y, &prep.classes) {
        (None, _, _) => None,
        (Some(spec), Targets::Classes(y), Some(classes)) => {
            Some(weighting::class_weights(spec, classes, y)?)
        }
        (Some(spec), _, _) => {
            return Err(Error::flag(
                "--class-weight",
                "weighs classes, so it needs --task classify",
                spec,
            ))
        }
    };
    let weighting_used = Weighting {
        weight_column: args.data.weight_column.clone(),
        class_weight: args.data.class_weight.as_ref().map(|c| c.to_string()),
        class_weights: class_weights.clone(),
    };
    let cw = class_weights.as_deref();
    train_data.weights = weighting::row_weights(weights.train, cw, &train_data.y);
    if let Some(v) = val_data.as_mut() {
        v.weights = weighting::row_weights(weights.val, cw, &v.y);
    }
    if let Some(t) = test_data.as_mut() {
        t.weights = weighting::row_weights(weights.test, cw, &t.y);
    }

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
    let mut outcome = outcome.map_err(|e| {
        crate::train::diagnostics::unstandardized_advice(
            e,
            prep.standardize.is_some(),
            prep.task != Task::Regress || prep.target_standardize.is_some(),
        )
    })?;
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
    // The weighting only when there is one: an unweighted run's record is as before.
    let mut hyperparameters = hyperparameters;
    if let Some(h) = hyperparameters.as_object_mut() {
        if let Some(c) = &weighting_used.weight_column {
            h.insert("weight_column".into(), c.as_str().into());
        }
        if let Some(c) = &weighting_used.class_weight {
            h.insert("class_weight".into(), c.as_str().into());
        }
    }
    let run = TrainRun {
        data: PathBuf::new(),
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
        weighting: weighting_used,
        diagnostics,
        kept: Vec::new(),
        summary_to_stderr: false,
        identity: None,
        baseline: None,
        warnings: Vec::new(),
    };
    Ok(Fitted { model, prep, run })
}

/// Final metrics of `model` on `data`; regression metrics in the data's own units.
pub(super) fn evaluate<T: Real>(
    model: &Mlp<T>,
    data: &Data<T>,
    prep: &Prep,
    config: &TrainConfig,
) -> Result<Evaluation> {
    let mut cache = eval_cache(model, data.len());
    let (objective, metric) = sgd::evaluate(model, data, config, &mut cache)?;
    let regression = match &data.y {
        Targets::Values(y) => {
            let mut pred = predict_values(model, data.x.view(), &mut cache)?;
            let mut truth = y.clone();
            if let Some(st) = &prep.target_standardize {
                st.invert(pred.view_mut());
                st.invert(truth.view_mut());
            }
            let f = |a: &ndarray::Array2<T>| a.iter().map(|v| v.f64()).collect::<Vec<_>>();
            let w: Option<Vec<f64>> = data
                .weights
                .as_ref()
                .map(|w| w.iter().map(|v| v.f64()).collect());
            Some(metrics::regression_weighted(
                &f(&truth),
                &f(&pred),
                y.ncols(),
                w.as_deref(),
            ))
        }
        Targets::Classes(_) => None,
    };
    Ok(Evaluation {
        rows: data.len(),
        objective,
        metric,
        regression,
    })
}
