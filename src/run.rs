//! The `train` command from flags to a trained, evaluated and saved model: validate the flags,
//! load and split the data, fit the preprocessing, train, evaluate, write outputs.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use ndarray::Axis;

use crate::cli::{Precision, TrainArgs};
use crate::data::{self, Frame, LabelKind, LabelSpec, Labels as FrameLabels, LoadOptions, Source};
use crate::loss::Loss;
use crate::metrics::{self, RegressionReport};
use crate::model::{Cache, Mlp, Objective};
use crate::modelfile::ModelFile;
use crate::output;
use crate::prep::{sorted_classes, Prep, Task};
use crate::report;
use crate::rng::Rng;
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
        return Err(Error::flag("--lambda", "must be a finite number >= 0", args.lambda));
    }
    if !(finite(args.lr) && args.lr > 0.0) {
        return Err(Error::flag("--lr", "must be a finite number > 0", args.lr));
    }
    if !(0.0..1.0).contains(&args.momentum) {
        return Err(Error::flag("--momentum", "must be in [0, 1)", args.momentum));
    }
    if !(0.0..1.0).contains(&args.val_frac) {
        return Err(Error::flag("--val-frac", "must be in [0, 1)", args.val_frac));
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
    if args.task == Task::Classify && args.label.len() > 1 {
        return Err(Error::flag(
            "--label",
            "takes one column for --task classify",
            args.label.join(","),
        ));
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
    for (path, flag) in [(&args.save, "--save"), (&args.log, "--log")] {
        if let Some(p) = path {
            output::check_writable(p, flag)?;
        }
    }
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

    // Validation split (stratified by class), before anything is fitted.
    let (train_frame, val_frame) = if args.val_frac > 0.0 {
        let (tr, va) = split_rows(&frame, args.val_frac, args.seed);
        if tr.is_empty() || va.is_empty() {
            return Err(Error::flag(
                "--val-frac",
                format!("leaves an empty training or validation set with {} rows", frame.x.nrows()),
                args.val_frac,
            ));
        }
        (select_frame(&frame, &tr), Some(select_frame(&frame, &va)))
    } else {
        (frame, None)
    };

    let prep = match &previous {
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
    let n_features = train_frame.feature_names.len();
    let train_data = prep.transform(train_frame)?;
    let val_data = val_frame.map(|f| prep.transform(f)).transpose()?;
    let test_data = match &args.test {
        Some(t) => {
            let mut topts = opts.clone();
            topts.expected_features = Some(&prep.features);
            topts.labels = prep.labels.iter().cloned().map(LabelSpec::Name).collect();
            Some(prep.transform(data::load::<T>(&Source::parse(t), &topts)?)?)
        }
        None => None,
    };
    debug_assert_eq!(n_features + usize::from(prep.bias), prep.inputs());

    let mut model: Mlp<T> = match &previous {
        Some(m) => m.mlp(),
        None => {
            let loss = args.loss.unwrap_or(match task {
                Task::Classify => Loss::SoftmaxCe,
                Task::Regress => Loss::HalfSquared,
            });
            let (d, q) = (prep.inputs(), prep.outputs());
            Mlp::init(d, args.hidden, q, args.activation, loss, args.init, args.seed)
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
        "threads": args.threads,
        "init_from": args.init_from,
    });
    let previous_epochs = previous.as_ref().map_or(0, |m| m.epochs_run);
    let mut run = TrainRun {
        data: src.to_string(),
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
    if let Some(path) = &args.save {
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
    Ok(run)
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
    let n = frame.x.nrows();
    let mut rng = Rng::new(seed ^ 0x5641_4c5f_5350_4c54);
    let groups: Vec<Vec<usize>> = match &frame.labels {
        FrameLabels::Classes(names) => {
            let classes = sorted_classes(names);
            let index: std::collections::HashMap<&str, usize> =
                classes.iter().enumerate().map(|(k, c)| (c.as_str(), k)).collect();
            let mut g = vec![Vec::new(); classes.len()];
            for (i, name) in names.iter().enumerate() {
                g[index[name.as_str()]].push(i);
            }
            g
        }
        _ => vec![(0..n).collect()],
    };
    let (mut tr, mut va) = (Vec::new(), Vec::new());
    for mut g in groups {
        rng.shuffle(&mut g);
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
