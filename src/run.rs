//! The `train` command from flags to a trained, evaluated and saved model: validate the flags,
//! load and split the data, fit the preprocessing, train, evaluate, write outputs.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use ndarray::Axis;
use rand::seq::SliceRandom;

use crate::cli::{Precision, TrainArgs};
use crate::data::{self, Frame, LabelKind, LabelSpec, Labels as FrameLabels, LoadOptions, Source};
use crate::loss::Loss;
use crate::metrics::{self, RegressionReport};
use crate::model::{Cache, Mlp, Objective};
use crate::modelfile::ModelFile;
use crate::output;
use crate::prep::{sorted_classes, Prep, Task};
use crate::report;
use crate::train::{self, Data, Labels, Metric, Observer, Outcome, TrainConfig};
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
}

/// Checks every numeric flag once, at the boundary, with the flag's name in the message.
pub fn validate(args: &TrainArgs) -> Result<()> {
    let finite = |v: f64| v.is_finite();
    if !(finite(args.lambda) && args.lambda >= 0.0) {
        return Err(Error::flag(
            "--lambda",
            "must be a finite number >= 0",
            args.lambda,
        ));
    }
    if !(finite(args.lr) && args.lr > 0.0) {
        return Err(Error::flag("--lr", "must be a finite number > 0", args.lr));
    }
    if !(0.0..1.0).contains(&args.momentum) {
        return Err(Error::flag(
            "--momentum",
            "must be in [0, 1)",
            args.momentum,
        ));
    }
    if !(0.0..1.0).contains(&args.val_frac) {
        return Err(Error::flag(
            "--val-frac",
            "must be in [0, 1)",
            args.val_frac,
        ));
    }
    for (flag, v) in [
        ("--batch-size", args.batch_size),
        ("--hidden", args.hidden),
        ("--epochs", args.epochs),
        ("--threads", args.threads),
    ] {
        if v == 0 {
            return Err(Error::flag(flag, "must be >= 1", v));
        }
    }
    if args.patience == Some(0) {
        return Err(Error::flag("--patience", "must be >= 1", 0));
    }
    if args.task == Task::Regress && args.loss == Some(Loss::SoftmaxCe) {
        return Err(Error::flag(
            "--loss",
            "must be half-squared for --task regress (softmax-ce needs classes)",
            "softmax-ce",
        ));
    }
    if let Some(a) = args.min_accuracy {
        if !(0.0..=1.0).contains(&a) {
            return Err(Error::flag("--min-accuracy", "must be in [0, 1]", a));
        }
    }
    if args.task == Task::Regress && args.min_accuracy.is_some() && args.init_from.is_none() {
        return Err(Error::flag(
            "--min-accuracy",
            "needs --task classify (use --min-r2)",
            args.min_accuracy.unwrap_or(0.0),
        ));
    }
    if args.task == Task::Classify && args.min_r2.is_some() && args.init_from.is_none() {
        return Err(Error::flag(
            "--min-r2",
            "needs --task regress (use --min-accuracy)",
            args.min_r2.unwrap_or(0.0),
        ));
    }
    if args.cv.is_some_and(|k| k < 2) {
        return Err(Error::flag("--cv", "must be >= 2", args.cv.unwrap_or(0)));
    }
    if args.task == Task::Classify && args.label.len() > 1 {
        return Err(Error::flag(
            "--label",
            "takes one column for --task classify",
            args.label.join(","),
        ));
    }
    Ok(())
}

/// The set the quality gates look at, and its name: test, else validation, else training.
pub fn gate_set(run: &TrainRun) -> (&'static str, &Evaluation) {
    match (&run.test, &run.val) {
        (Some(t), _) => ("test", t),
        (None, Some(v)) => ("validation", v),
        (None, None) => ("training", &run.train),
    }
}

/// Checks --min-accuracy, --max-loss and --min-r2; the first failure is the error.
pub fn check_gates(
    args: &TrainArgs,
    set: &str,
    accuracy: Option<f64>,
    loss: f64,
    r2: Option<f64>,
) -> Result<()> {
    let fail = |gate, measure, measured, relation, threshold| Error::Gate {
        gate,
        set: set.to_string(),
        measure,
        measured,
        relation,
        threshold,
    };
    if let Some(min) = args.min_accuracy {
        match accuracy {
            Some(a) if a >= min => {}
            Some(a) => return Err(fail("--min-accuracy", "accuracy", a, "below", min)),
            None => {
                return Err(Error::flag("--min-accuracy", "needs --task classify", min));
            }
        }
    }
    if let Some(max) = args.max_loss {
        if loss.is_nan() || loss > max {
            return Err(fail("--max-loss", "loss L", loss, "above", max));
        }
    }
    if let Some(min) = args.min_r2 {
        match r2 {
            Some(r) if r >= min => {}
            Some(r) => return Err(fail("--min-r2", "R²", r, "below", min)),
            None => return Err(Error::flag("--min-r2", "needs --task regress", min)),
        }
    }
    Ok(())
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

/// The label kind a task reads.
pub fn label_kind(task: Task) -> LabelKind {
    match task {
        Task::Classify => LabelKind::Classes,
        Task::Regress => LabelKind::Targets,
    }
}

/// Runs `mlp-train --data …` in the precision the flags ask for.
pub fn train_command(
    args: &TrainArgs,
    observer: &mut dyn Observer,
    stop: &AtomicBool,
) -> Result<TrainRun> {
    match args.precision {
        Precision::F32 => train_in::<f32>(args, observer, stop),
        Precision::F64 => train_in::<f64>(args, observer, stop),
    }
}

fn train_in<T: Real>(
    args: &TrainArgs,
    observer: &mut dyn Observer,
    stop: &AtomicBool,
) -> Result<TrainRun> {
    validate(args)?;
    for (path, flag) in [
        (&args.save, "--save"),
        (&args.log, "--log"),
        (&args.plot, "--plot"),
    ] {
        if let Some(p) = path {
            output::check_writable(p, flag)?;
        }
    }
    let input = load_input::<T>(args)?;
    let Input {
        src,
        previous,
        task,
        frame,
        all_classes,
        test,
    } = input;

    // Validation split (stratified by class), before anything is fitted.
    let (train_frame, val_frame) = if args.val_frac > 0.0 {
        let (tr, va) = split_rows(&frame, args.val_frac, args.seed);
        if tr.is_empty() || va.is_empty() {
            return Err(Error::flag(
                "--val-frac",
                format!(
                    "leaves an empty training or validation set with {} rows",
                    frame.x.nrows()
                ),
                args.val_frac,
            ));
        }
        (select_frame(&frame, &tr), Some(select_frame(&frame, &va)))
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
    if let Some(path) = &args.save {
        let previous_epochs = previous.as_ref().map_or(0, |m| m.epochs_run);
        let file = ModelFile::new(
            &model,
            &prep,
            run.hyperparameters.clone(),
            report::metrics_json(&run),
            previous_epochs + run.outcome.epochs_run,
            run.outcome.interrupted,
        );
        file.save(path)?;
        run.saved = Some(path.clone());
    }
    if let Some(path) = &args.log {
        output::write_atomic(path, report::log_csv(&run).as_bytes())?;
    }
    if let Some(path) = &args.plot {
        let title = format!("mlp-train on {}", run.data);
        let svg = crate::plot::curves_svg(&run.outcome.history, &title)
            .map_err(|e| Error::io(path, std::io::Error::other(e)))?;
        output::write_atomic(path, svg.as_bytes())?;
    }
    Ok(run)
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

fn load_input<T: Real>(args: &TrainArgs) -> Result<Input<T>> {
    let previous = match &args.init_from {
        Some(p) => Some(ModelFile::load(p)?),
        None => None,
    };
    let task = previous.as_ref().map_or(args.task, |m| m.prep.task);
    let src = Source::parse(args.data.as_deref().unwrap_or("-"));
    let specs = match &previous {
        Some(m) => m.prep.labels.iter().cloned().map(LabelSpec::Name).collect(),
        None => label_specs(&args.label),
    };
    let mut opts = LoadOptions::new(specs, label_kind(task));
    let expected = previous.as_ref().map(|m| m.prep.features.clone());
    opts.expected_features = expected.as_deref();
    let frame: Frame<T> = data::load(&src, &opts)?;
    let all_classes = match &frame.labels {
        FrameLabels::Classes(names) => Some(sorted_classes(names)),
        _ => None,
    };
    let test = match &args.test {
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
    args: &TrainArgs,
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
                !args.no_standardize,
                !args.no_standardize_targets,
                args.bias_on(),
            )?;
            if p.classes.is_some() {
                p.classes = all_classes;
            }
            p
        }
    };
    let train_data = prep.transform(train_frame)?;
    let val_data = val_frame.map(|f| prep.transform(f)).transpose()?;
    let test_data = test_frame.map(|f| prep.transform(f)).transpose()?;

    let mut model: Mlp<T> = match previous {
        Some(m) => m.mlp(),
        None => {
            let loss = args.loss.unwrap_or(match task {
                Task::Classify => Loss::SoftmaxCe,
                Task::Regress => Loss::HalfSquared,
            });
            let (d, q) = (prep.inputs(), prep.outputs());
            Mlp::init(
                d,
                args.hidden,
                q,
                args.activation,
                loss,
                args.init,
                args.seed,
            )
        }
    };
    let config = TrainConfig {
        lambda: args.lambda,
        lr: args.lr,
        momentum: args.momentum,
        batch_size: args.batch_size,
        epochs: args.epochs,
        // The shuffle gets its own stream, so that changing the data order does not change
        // the initial weights and vice versa.
        seed: args.seed ^ 0x5348_5546_464c_4531,
        patience: args.patience,
        target_scale: prep.target_standardize.as_ref().map(|s| s.std.clone()),
        threads: args.threads,
    };
    let outcome = train::train(
        &mut model,
        &config,
        &train_data,
        val_data.as_ref(),
        observer,
        stop,
    )?;

    let train_eval = evaluate(&model, &train_data, &prep, &config)?;
    let val_eval = val_data
        .as_ref()
        .map(|v| evaluate(&model, v, &prep, &config))
        .transpose()?;
    let test_eval = test_data
        .as_ref()
        .map(|v| evaluate(&model, v, &prep, &config))
        .transpose()?;

    let (d, h, q) = model.dims();
    let hyperparameters = serde_json::json!({
        "hidden": h,
        "activation": model.activation.name(),
        "loss": model.loss.name(),
        "init": args.init,
        "bias": prep.bias,
        "standardize": prep.standardize.is_some(),
        "standardize_targets": prep.target_standardize.is_some(),
        "lambda": args.lambda,
        "lr": args.lr,
        "momentum": args.momentum,
        "batch_size": args.batch_size,
        "epochs": args.epochs,
        "patience": args.patience,
        "seed": args.seed,
        "precision": T::NAME,
        "val_frac": args.val_frac,
        "cv": args.cv,
        "threads": args.threads,
        "init_from": args.init_from,
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
}

/// `--cv K`: stratified (classify) or plain (regress) K-fold cross-validation with the seed.
/// Each fold fits its own standardization on its K−1 training folds.
pub fn cv_command(
    args: &TrainArgs,
    observer: &mut dyn Observer,
    stop: &AtomicBool,
) -> Result<CvRun> {
    match args.precision {
        Precision::F32 => cv_in::<f32>(args, observer, stop),
        Precision::F64 => cv_in::<f64>(args, observer, stop),
    }
}

fn cv_in<T: Real>(
    args: &TrainArgs,
    observer: &mut dyn Observer,
    stop: &AtomicBool,
) -> Result<CvRun> {
    validate(args)?;
    let k = args.cv.unwrap_or(0);
    let start = std::time::Instant::now();
    let Input {
        src,
        task,
        frame,
        all_classes,
        ..
    } = load_input::<T>(args)?;
    let n = frame.x.nrows();
    if k < 2 || k > n {
        return Err(Error::flag(
            "--cv",
            format!("must be between 2 and the number of rows ({n})"),
            k,
        ));
    }
    let assignment = fold_of_rows(&frame, k, args.seed);
    let mut folds = Vec::with_capacity(k);
    let mut hyperparameters = serde_json::Value::Null;
    let mut interrupted = false;
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
        let run = fitted.run;
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
    })
}

/// The fold (0..k) of every row: per class (or overall) a seeded shuffle dealt round-robin,
/// so that each fold has each class in proportion.
fn fold_of_rows<T: Real>(frame: &Frame<T>, k: usize, seed: u64) -> Vec<usize> {
    let mut rng = crate::rng::seeded(seed ^ 0x4356_5f46_4f4c_4453);
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
        FrameLabels::Classes(names) => {
            let classes = sorted_classes(names);
            let index: std::collections::HashMap<&str, usize> = classes
                .iter()
                .enumerate()
                .map(|(k, c)| (c.as_str(), k))
                .collect();
            let mut g = vec![Vec::new(); classes.len()];
            for (i, name) in names.iter().enumerate() {
                g[index[name.as_str()]].push(i);
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
    let mut cache = Cache::for_model(model, 1024.min(data.len().max(1)));
    let (objective, metric) = train::evaluate(model, data, config, &mut cache)?;
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
    let mut rng = crate::rng::seeded(seed ^ 0x5641_4c5f_5350_4c54);
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
            FrameLabels::Classes(c) => {
                FrameLabels::Classes(rows.iter().map(|&i| c[i].clone()).collect())
            }
            FrameLabels::Targets(y) => FrameLabels::Targets(y.select(Axis(0), rows)),
        },
        label_lines: rows.iter().map(|&i| frame.label_lines[i]).collect(),
    }
}
