//! `--cv K`: stratified (classify) or plain (regress) K-fold cross-validation with the seed,
//! each fold fitting its own preprocessing on its K-1 training folds.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use crate::data::prep::Task;
use crate::train::options::{Precision, RunOptions};
use crate::train::run::{fit_and_train, load_input, Input};
use crate::train::sgd::Observer;
use crate::train::split::fold_of_rows;
use crate::{Error, Real, Result};

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
    /// The data file as given (`<stdin>` for `-`): shown escaped in text, lossily in JSON.
    pub data: PathBuf,
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
    /// What the folds were measured on (see `Identity`).
    #[serde(skip)]
    pub identity: Option<crate::train::baseline::Identity>,
    /// `--baseline`, read and checked against `identity` before the first fold.
    #[serde(skip)]
    pub baseline: Option<crate::train::baseline::Baseline>,
    /// Every warning of the run (the data's), for --json and the report.
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

pub(super) fn cv_in<T: Real>(
    args: &RunOptions,
    observer: &mut dyn Observer,
    stop: &AtomicBool,
) -> Result<CvRun> {
    let start = std::time::Instant::now();
    let input = load_input::<T>(args, observer)?;
    cv_on(args, input, observer, stop, start)
}

/// [`cv_command`] on data already loaded by [`load_input`], timed from `start`.
pub fn cv_on<T: Real>(
    args: &RunOptions,
    input: Input<T>,
    observer: &mut dyn Observer,
    stop: &AtomicBool,
    start: std::time::Instant,
) -> Result<CvRun> {
    let k = args.training.cv.unwrap_or(0);
    let Input {
        src,
        task,
        frame,
        all_classes,
        mut identity,
        baseline,
        weights,
        warnings,
        ..
    } = input;
    identity.split = Some(crate::train::run::split_of(args));
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
            frame.select(&tr),
            Some(frame.select(&te)),
            None,
            observer,
            stop,
            weights.fold(&tr, &te),
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
        data: src.display(),
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
        identity: Some(identity),
        baseline,
        warnings,
    })
}
