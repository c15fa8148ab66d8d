//! What a run shows: the human summary table, the one-line-per-epoch progress text, the
//! `--json` object and the `--log` CSV. Pure functions from results to text; no printing.

use std::fmt::Write;

use serde_json::{json, Value};

use crate::prep::Task;
use crate::run::{CvRun, Evaluation, TrainRun};
use crate::train::{EpochStats, Metric};

/// Version of the `--json` and `--log` field layout; bumped when a field changes meaning or
/// disappears (new fields may be added without a bump).
pub const SCHEMA_VERSION: u32 = 1;

/// The `--log` CSV columns, in order; `METRIC` stands for `accuracy` (classify) or `rmse`
/// (regress).
pub const LOG_COLUMNS: [&str; 12] = [
    "epoch",
    "lr",
    "train_L",
    "train_s",
    "train_J",
    "train_METRIC",
    "val_L",
    "val_J",
    "val_METRIC",
    "grad_norm_w1",
    "grad_norm_w2",
    "seconds",
];

fn metric_name(task: Task) -> &'static str {
    match task {
        Task::Classify => "accuracy",
        Task::Regress => "rmse",
    }
}

/// One plain progress line for an epoch (stderr, when it is not a terminal).
pub fn epoch_line(s: &EpochStats, epochs: usize) -> String {
    let mut line = format!(
        "epoch {:>width$}/{epochs}  L {:.6}  s {:.6}  J {:.6}  {}",
        s.epoch,
        s.train.l,
        s.train.s,
        s.train.j,
        metric_text(s.train_metric),
        width = epochs.to_string().len()
    );
    if let Some((o, m)) = s.val {
        let _ = write!(line, "  val J {:.6}  val {}", o.j, metric_text(m));
    }
    let _ = write!(line, "  {:.2}s", s.seconds);
    line
}

fn metric_text(m: Metric) -> String {
    match m {
        Metric::Accuracy(a) => format!("acc {:.2}%", 100.0 * a),
        Metric::Rmse(r) => format!("rmse {r:.6}"),
    }
}

/// The summary table printed on stdout after training.
pub fn summary_text(run: &TrainRun) -> String {
    let mut out = String::new();
    let (d, h, q) = run.dims;
    let o = &run.outcome;
    let what = match &run.classes {
        Some(c) => format!("{} classes", c.len()),
        None => format!("{} target{}", q, if q == 1 { "" } else { "s" }),
    };
    let _ = writeln!(
        out,
        "{}: {} rows × {} features{} → {what}",
        run.data,
        run.train.rows + run.val.as_ref().map_or(0, |v| v.rows),
        run.features.len(),
        if run.bias { " (+1 bias input)" } else { "" },
    );
    let _ = writeln!(
        out,
        "model {d}→{h}→{q}, {}, {}, {}; λ {} η {} μ {} B {}",
        run.activation,
        run.loss,
        run.precision,
        run.config.lambda,
        run.config.lr,
        run.config.momentum,
        run.config.batch_size
    );
    let stopped = if o.interrupted {
        " (interrupted)".to_string()
    } else if let Some(b) = o.best_epoch {
        format!(" (early stopping: best epoch {b} restored)")
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "{} epochs in {:.3} s ({:.0} samples/s){stopped}",
        o.epochs_run,
        o.seconds,
        samples_per_second(run)
    );
    let regress = run.task == Task::Regress;
    if regress {
        let _ = writeln!(
            out,
            "{:<6} {:>5} {:>12} {:>12} {:>12} {:>12} {:>12} {:>9}",
            "", "rows", "L", "s", "J", "RMSE", "MAE", "R²"
        );
    } else {
        let _ = writeln!(
            out,
            "{:<6} {:>5} {:>12} {:>12} {:>12} {:>9}",
            "", "rows", "L", "s", "J", "accuracy"
        );
    }
    for (name, e) in evaluations(run) {
        let ob = e.objective;
        match (&e.regression, e.metric) {
            (Some(r), _) => {
                let _ = writeln!(
                    out,
                    "{name:<6} {:>5} {:>12.6} {:>12.6} {:>12.6} {:>12.6} {:>12.6} {:>9.4}",
                    e.rows, ob.l, ob.s, ob.j, r.rmse, r.mae, r.r2
                );
            }
            (None, m) => {
                let _ = writeln!(
                    out,
                    "{name:<6} {:>5} {:>12.6} {:>12.6} {:>12.6} {:>8.2}%",
                    e.rows,
                    ob.l,
                    ob.s,
                    ob.j,
                    100.0 * m.value()
                );
            }
        }
    }
    if let Some(p) = &run.saved {
        let _ = writeln!(out, "model saved to {}", p.display());
    }
    out
}

fn evaluations(run: &TrainRun) -> Vec<(&'static str, &Evaluation)> {
    let mut v = vec![("train", &run.train)];
    if let Some(e) = &run.val {
        v.push(("val", e));
    }
    if let Some(e) = &run.test {
        v.push(("test", e));
    }
    v
}

fn samples_per_second(run: &TrainRun) -> f64 {
    let o = &run.outcome;
    if o.seconds > 0.0 {
        o.samples as f64 / o.seconds
    } else {
        0.0
    }
}

/// The final metrics as stored in the model file and the JSON summary: for each of train,
/// val and test: `<set>_loss` (L), `<set>_reg` (s), `<set>_objective` (J) and
/// `<set>_accuracy` or `<set>_rmse`, `<set>_mae`, `<set>_r2` (null when the set is absent).
pub fn metrics_json(run: &TrainRun) -> Value {
    let mut m = serde_json::Map::new();
    let sets = [
        ("train", Some(&run.train)),
        ("val", run.val.as_ref()),
        ("test", run.test.as_ref()),
    ];
    for (set, e) in sets {
        let e = e.map(|e| (e.objective, e.metric, e.regression.clone()));
        m.insert(format!("{set}_loss"), json!(e.as_ref().map(|e| e.0.l)));
        m.insert(format!("{set}_reg"), json!(e.as_ref().map(|e| e.0.s)));
        m.insert(format!("{set}_objective"), json!(e.as_ref().map(|e| e.0.j)));
        match run.task {
            Task::Classify => {
                m.insert(
                    format!("{set}_accuracy"),
                    json!(e.as_ref().map(|e| e.1.value())),
                );
            }
            Task::Regress => {
                let r = e.as_ref().and_then(|e| e.2.clone());
                m.insert(format!("{set}_rmse"), json!(r.as_ref().map(|r| r.rmse)));
                m.insert(format!("{set}_mae"), json!(r.as_ref().map(|r| r.mae)));
                m.insert(format!("{set}_r2"), json!(r.as_ref().map(|r| r.r2)));
            }
        }
    }
    Value::Object(m)
}

/// The `--json` object: schema version, data, every hyperparameter and the results.
pub fn summary_json(run: &TrainRun) -> Value {
    let o = &run.outcome;
    let (d, _, q) = run.dims;
    let mut v = json!({
        "schema_version": SCHEMA_VERSION,
        "tool": format!("mlp-train {}", env!("CARGO_PKG_VERSION")),
        "data": run.data,
        "task": run.task,
        "inputs": d,
        "outputs": q,
        "features": run.features.len(),
        "classes": run.classes,
        "hyperparameters": run.hyperparameters,
        // A setting of the run, not of the model (the model file does not record it).
        "threads": run.config.threads,
        "epochs": o.epochs_run,
        "best_epoch": o.best_epoch,
        "interrupted": o.interrupted,
        "seconds": o.seconds,
        "samples_per_second": samples_per_second(run),
        "model": run.saved,
    });
    if let (Value::Object(dst), Value::Object(src)) = (&mut v, metrics_json(run)) {
        dst.extend(src);
    }
    v
}

/// The `--log` CSV: a header of [`LOG_COLUMNS`], then one row per epoch. Empty fields where
/// there is no validation set.
pub fn log_csv(run: &TrainRun) -> String {
    let mut out = LOG_COLUMNS
        .join(",")
        .replace("METRIC", metric_name(run.task));
    out.push('\n');
    for s in &run.outcome.history {
        let (val_l, val_j, val_m) = match s.val {
            Some((o, m)) => (o.l.to_string(), o.j.to_string(), m.value().to_string()),
            None => Default::default(),
        };
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            s.epoch,
            s.lr,
            s.train.l,
            s.train.s,
            s.train.j,
            s.train_metric.value(),
            val_l,
            val_j,
            val_m,
            s.grad_norm_w1,
            s.grad_norm_w2,
            s.seconds
        );
    }
    out
}

/// The `--cv` table: one line per fold, then mean ± standard deviation.
pub fn cv_text(cv: &CvRun) -> String {
    let mut out = String::new();
    let name = metric_name(cv.task);
    let pct = cv.task == Task::Classify;
    let show = |v: f64| {
        if pct {
            format!("{:.2}%", 100.0 * v)
        } else {
            format!("{v:.6}")
        }
    };
    let _ = writeln!(
        out,
        "{}: {}-fold cross-validation ({})",
        cv.data,
        cv.k,
        if pct { "stratified" } else { "plain" }
    );
    for f in &cv.folds {
        let _ = write!(
            out,
            "fold {:>2}/{}  rows {:>5}  L {:.6}  {name} {}",
            f.fold,
            cv.k,
            f.rows,
            f.loss,
            show(f.metric)
        );
        if let Some(r2) = f.r2 {
            let _ = write!(out, "  R² {r2:.4}");
        }
        out.push('\n');
    }
    let _ = write!(
        out,
        "mean {name} {} ± {} (standard deviation over folds)  mean L {:.6}",
        show(cv.mean),
        show(cv.std),
        cv.mean_loss
    );
    if let Some(r2) = cv.mean_r2 {
        let _ = write!(out, "  mean R² {r2:.4}");
    }
    let _ = writeln!(
        out,
        "\n{:.3} s{}",
        cv.seconds,
        if cv.interrupted { " (interrupted)" } else { "" }
    );
    out
}

/// The `--cv --json` object.
pub fn cv_json(cv: &CvRun) -> Value {
    let name = metric_name(cv.task);
    json!({
        "schema_version": SCHEMA_VERSION,
        "tool": format!("mlp-train {}", env!("CARGO_PKG_VERSION")),
        "data": cv.data,
        "task": cv.task,
        "hyperparameters": cv.hyperparameters,
        "threads": cv.threads,
        "cv": {
            "k": cv.k,
            "metric": name,
            "folds": cv.folds,
            "mean": cv.mean,
            "std": cv.std,
            "mean_loss": cv.mean_loss,
            "mean_r2": cv.mean_r2,
        },
        format!("cv_{name}"): cv.mean,
        "interrupted": cv.interrupted,
        "seconds": cv.seconds,
    })
}
