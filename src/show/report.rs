//! What a run shows: the human summary table, the one-line-per-epoch progress text, the
//! `--json` object and the `--log` CSV. Pure functions from results to text; no printing.

use std::fmt::Write;
use std::path::Path;

use serde_json::{json, Value};

use crate::data::prep::Task;
use crate::error::shown_path;
use crate::train::baseline::{BaselineCheck, Identity};
use crate::train::cv::CvRun;
use crate::train::gates::GateResult;
use crate::train::run::{Evaluation, TrainRun};
use crate::train::sgd::{EpochStats, Metric};

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
        shown_path(&run.data),
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
    } else {
        match stopping(o, run.config.epochs, run.config.patience) {
            Stopping::Fired {
                best,
                stopped,
                patience,
            } => format!(
                " (early stopping at epoch {stopped}: no better val L in {patience} epochs; \
                 best epoch {best} restored)"
            ),
            Stopping::Restored { best } => {
                format!(" (patience never ran out; best val L at epoch {best}, restored)")
            }
            Stopping::Last | Stopping::Off => String::new(),
        }
    };
    let _ = writeln!(
        out,
        "{} epochs in {:.3} s ({:.0} samples/s){stopped}",
        o.epochs_run,
        o.seconds,
        samples_per_second(run)
    );
    if !run.weighting.is_none() {
        let _ = writeln!(
            out,
            "rows weighted by {}: L and the metrics are weighted means",
            run.weighting.describe(run.classes.as_deref())
        );
    }
    out.push_str(&table(run.task, &evaluations(run)));
    if run.task == Task::Regress && run.hyperparameters["standardize_targets"] == true {
        out.push_str(STANDARDIZED_NOTE);
    }
    if let Some(p) = &run.saved {
        let _ = writeln!(out, "model saved to {}", shown_path(p));
    }
    out
}

/// Under a regression's table when the targets were standardized: L (so J) is not in the
/// target's units, RMSE and MAE are.
pub const STANDARDIZED_NOTE: &str =
    "L, s, J: L in standardized target units ((y − mean) / std); RMSE, MAE in the target's units\n";

/// How a run with --patience ended, for the words that describe it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopping {
    /// No --patience (or no validation set): nothing was restored.
    Off,
    /// Patience ran out: training stopped before the planned epochs, the best epoch's
    /// weights were restored.
    Fired {
        best: usize,
        stopped: usize,
        patience: usize,
    },
    /// All planned epochs ran, yet the best validation L came earlier: its weights were
    /// restored all the same.
    Restored { best: usize },
    /// The best epoch was the last one: the final weights are the best.
    Last,
}

/// What --patience did in `o`, a run planned for `epochs` epochs.
pub fn stopping(
    o: &crate::train::sgd::Outcome,
    epochs: usize,
    patience: Option<usize>,
) -> Stopping {
    let (Some(best), Some(patience)) = (o.best_epoch, patience) else {
        return Stopping::Off;
    };
    let last = o.history.last().map_or(0, |s| s.epoch);
    if best >= last {
        Stopping::Last
    } else if !o.interrupted && o.epochs_run < epochs {
        Stopping::Fired {
            best,
            stopped: o.epochs_run,
            patience,
        }
    } else {
        Stopping::Restored { best }
    }
}

/// Width of the L, s, J, RMSE and MAE columns.
const CELL: usize = 12;

/// `v` in at most `width` characters: 6 decimals when they fit and show it, else scientific
/// notation (1.4e18 prints as `1.447228e18`, not as 26 digits that push the row out of line;
/// 3.5e-12 as `3.500000e-12`, not as 0.000000).
pub fn cell(v: f64, width: usize) -> String {
    let fixed = format!("{v:.6}");
    // A tiny value is not shown as 0.000000 (or -0.000000).
    let vanishes = v != 0.0 && v.abs() < 5e-7;
    if fixed.len() <= width && !vanishes {
        return fixed;
    }
    for digits in (0..=6).rev() {
        let sci = format!("{v:.digits$e}");
        if sci.len() <= width {
            return sci;
        }
    }
    format!("{v:e}")
}

/// The summary table: one row per set, columns as wide as the widest value, so that a
/// million rows or a value of 1e18 keeps every column aligned under its header.
pub fn table(task: Task, sets: &[(&str, &Evaluation)]) -> String {
    let regress = task == Task::Regress;
    let rows_w = sets
        .iter()
        .map(|(_, e)| e.rows.to_string().len())
        .chain([5])
        .max()
        .unwrap_or(5);
    let mut out = String::new();
    let mut header = format!("{:<6} {:>rows_w$}", "", "rows");
    let mut names = vec!["L", "s", "J"];
    if regress {
        names.extend(["RMSE", "MAE"]);
    }
    for n in &names {
        let _ = write!(header, " {n:>CELL$}");
    }
    let _ = write!(header, " {:>9}", if regress { "R²" } else { "accuracy" });
    let _ = writeln!(out, "{}", header.trim_end());
    for (name, e) in sets {
        let ob = e.objective;
        let mut line = format!("{name:<6} {:>rows_w$}", e.rows);
        let mut values = vec![ob.l, ob.s, ob.j];
        if let Some(r) = &e.regression {
            values.extend([r.rmse, r.mae]);
        }
        for v in values {
            let _ = write!(line, " {:>CELL$}", cell(v, CELL));
        }
        let last = match &e.regression {
            // R² is unbounded below: a wild model's -1e9 falls back to scientific notation.
            Some(r) if format!("{:.4}", r.r2).len() > 9 => cell(r.r2, 9),
            Some(r) => format!("{:.4}", r.r2),
            None => format!("{:.2}%", 100.0 * e.metric.value()),
        };
        let _ = writeln!(line, " {last:>9}");
        out.push_str(&line);
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

/// The model file of a trained run: its weights and preprocessing, hyperparameters, metrics,
/// epochs (with those of the model it continued) and what it was measured on (`identity`, so
/// that the file can serve as a --baseline). The one place `--save` and a sweep's
/// `--save-models` make it, so a point's model is the run's byte for byte.
pub fn model_file<T: crate::Real>(
    model: &crate::math::model::Mlp<T>,
    prep: &crate::data::prep::Prep,
    run: &TrainRun,
    previous_epochs: usize,
    interrupted: bool,
) -> crate::data::modelfile::ModelFile {
    let file = crate::data::modelfile::ModelFile::new(
        model,
        prep,
        run.hyperparameters.clone(),
        metrics_json(run),
        // Checked before training (see `check_continuation`): cannot overflow.
        previous_epochs.saturating_add(run.outcome.epochs_run),
        interrupted,
    );
    crate::data::modelfile::ModelFile {
        identity: run.identity.as_ref().map(|i| serde_json::json!(i)),
        weighting: (!run.weighting.is_none()).then(|| run.weighting.clone()),
        ..file
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

/// A file name as the JSON reports give it: the name itself when it is UTF-8 (JSON escapes
/// a newline or a control character in it), else with each byte that is not UTF-8 replaced
/// by U+FFFD, so that the object stays valid JSON (the text lines show such a name escaped
/// byte for byte, `caf\xe9.csv`, with [`shown_path`]).
pub fn json_path(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The `--json` object: schema version, data, every hyperparameter and the results.
pub fn summary_json(run: &TrainRun) -> Value {
    let o = &run.outcome;
    let (d, _, q) = run.dims;
    let mut v = json!({
        "schema_version": SCHEMA_VERSION,
        "tool": format!("mlp-train {}", env!("CARGO_PKG_VERSION")),
        "data": json_path(&run.data),
        "task": run.task,
        "inputs": d,
        "outputs": q,
        "features": run.features.len(),
        "classes": run.classes,
        "hyperparameters": with_threads(&run.hyperparameters, run.config.threads),
        // A setting of the run, not of the model (the model file does not record it).
        "threads": run.config.threads,
        "epochs": o.epochs_run,
        "best_epoch": o.best_epoch,
        "interrupted": o.interrupted,
        "seconds": o.seconds,
        "samples_per_second": samples_per_second(run),
        "model": run.saved.as_deref().map(json_path),
        // What the metrics were measured on: --baseline compares only equal identities.
        "identity": run.identity,
        "warnings": run.warnings,
    });
    if let (Value::Object(dst), Value::Object(src)) = (&mut v, metrics_json(run)) {
        dst.extend(src);
        // What each row weighed in L and the metrics (absent when every row weighed 1).
        if !run.weighting.is_none() {
            dst.insert("weighting".into(), json!(run.weighting));
        }
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
        shown_path(&cv.data),
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
        "mean {name} {} ± {} ({})  mean L {:.6}",
        show(cv.mean),
        show(cv.std),
        spread_words(&show(population_std(cv))),
        cv.mean_loss
    );
    if let Some(r2) = cv.mean_r2 {
        let _ = write!(out, "  mean R² {r2:.4}");
    }
    let _ = writeln!(
        out,
        "\n{} folds in {:.3} s{}",
        cv.folds.len(),
        cv.seconds,
        if cv.interrupted { " (interrupted)" } else { "" }
    );
    out
}

/// The folds' standard deviation with n in the denominator (scikit-learn's
/// `std_test_score`), beside the sample one (n − 1) that `cv.std` holds.
pub fn population_std(cv: &CvRun) -> f64 {
    let n = cv.folds.len() as f64;
    if n < 1.0 {
        return f64::NAN;
    }
    let mean = cv.folds.iter().map(|f| f.metric).sum::<f64>() / n;
    (cv.folds
        .iter()
        .map(|f| (f.metric - mean).powi(2))
        .sum::<f64>()
        / n)
        .sqrt()
}

/// What the ± means: the sample standard deviation over the folds (n − 1), with the n one
/// (`population`, already formatted) that scikit-learn reports.
pub fn spread_words(population: &str) -> String {
    format!(
        "± is the folds' sample standard deviation, n − 1; with n, as scikit-learn's \
         std_test_score: {population}"
    )
}

/// The hyperparameters as `--json` reports them: schema 1 listed `threads` among them, so it
/// stays there (a field is never removed without a schema bump), although the model file,
/// which holds what the model is, no longer records it.
fn with_threads(hyperparameters: &Value, threads: usize) -> Value {
    let mut h = hyperparameters.clone();
    if let Value::Object(m) = &mut h {
        m.insert("threads".into(), json!(threads));
    }
    h
}

/// The `--cv --json` object.
pub fn cv_json(cv: &CvRun) -> Value {
    let name = metric_name(cv.task);
    json!({
        "schema_version": SCHEMA_VERSION,
        "tool": format!("mlp-train {}", env!("CARGO_PKG_VERSION")),
        "data": json_path(&cv.data),
        "task": cv.task,
        "hyperparameters": with_threads(&cv.hyperparameters, cv.threads),
        "threads": cv.threads,
        "cv": {
            "k": cv.k,
            "metric": name,
            "folds": cv.folds,
            "mean": cv.mean,
            "std": cv.std,
            "std_population": population_std(cv),
            "mean_loss": cv.mean_loss,
            "mean_r2": cv.mean_r2,
        },
        format!("cv_{name}"): cv.mean,
        "warnings": cv.warnings,
        "interrupted": cv.interrupted,
        "seconds": cv.seconds,
        "identity": cv.identity,
    })
}

/// The Markdown summary of a training (see [`summary_md`]).
pub fn train_md(run: &TrainRun, gates: &[GateResult], baseline: Option<&BaselineCheck>) -> String {
    let title = format!("mlp-train on {}", json_path(&run.data));
    let table = md_table(run.task, &evaluations(run));
    let interrupted = run.outcome.interrupted;
    summary_md(
        &title,
        run.identity.as_ref(),
        None,
        &table,
        gates,
        baseline,
        interrupted,
    )
}

/// The Markdown summary of a cross-validation (see [`summary_md`]).
pub fn cv_md(cv: &CvRun, gates: &[GateResult], baseline: Option<&BaselineCheck>) -> String {
    let title = format!("mlp-train --cv {} on {}", cv.k, json_path(&cv.data));
    let table = md_cv_table(cv);
    summary_md(
        &title,
        cv.identity.as_ref(),
        None,
        &table,
        gates,
        baseline,
        cv.interrupted,
    )
}

/// The verdict's lines of the text summary, one per gate and one for the baseline:
/// `gate --min-accuracy 90.00 %: validation accuracy 96.67 %, pass`.
pub fn verdict_text(gates: &[GateResult], baseline: Option<&BaselineCheck>) -> String {
    let mut out = String::new();
    for g in gates {
        let _ = writeln!(out, "{}", g.line());
    }
    if let Some(b) = baseline {
        let _ = writeln!(out, "{}", b.line());
    }
    out
}

/// Text for Markdown, never at the start of a line: escaped to one line like every message
/// (control characters, bidi overrides), then each character that means something inside a
/// GitHub Markdown line backslash-escaped, so that a file named `a|b*c`, `<img>` or `$x$`
/// shows as itself and never as a table cell, emphasis, HTML or math.
pub fn md_text(s: &str) -> String {
    let one_line = crate::error::escaped(s.as_bytes(), crate::error::PATH_SHOWN);
    let mut out = String::with_capacity(one_line.len());
    for c in one_line.chars() {
        if "\\`*_[]<>|#!~&$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The Markdown metric table of a training: the same sets and cells as [`table`].
pub fn md_table(task: Task, sets: &[(&str, &Evaluation)]) -> String {
    let regress = task == Task::Regress;
    let mut out = String::from("| set | rows | L | s | J |");
    out.push_str(if regress {
        " RMSE | MAE | R² |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    } else {
        " accuracy |\n| --- | ---: | ---: | ---: | ---: | ---: |\n"
    });
    for (name, e) in sets {
        let ob = e.objective;
        let mut line = format!("| {} | {} |", md_text(name), e.rows);
        let mut values = vec![ob.l, ob.s, ob.j];
        if let Some(r) = &e.regression {
            values.extend([r.rmse, r.mae]);
        }
        for v in values {
            let _ = write!(line, " {} |", cell(v, CELL));
        }
        let last = match &e.regression {
            Some(r) => crate::train::gates::shown("R²", r.r2),
            None => crate::train::gates::shown("accuracy", e.metric.value()),
        };
        let _ = writeln!(line, " {last} |");
        out.push_str(&line);
    }
    out
}

/// The Markdown table of a cross-validation: one row per fold, then the mean ± std.
pub fn md_cv_table(cv: &CvRun) -> String {
    let regress = cv.task == Task::Regress;
    let name = if regress { "RMSE" } else { "accuracy" };
    let show = |v: f64| {
        if regress {
            cell(v, CELL)
        } else {
            crate::train::gates::shown("accuracy", v)
        }
    };
    let mut out = format!("| fold | rows | L | {name} |");
    out.push_str(if regress {
        " R² |\n| ---: | ---: | ---: | ---: | ---: |\n"
    } else {
        "\n| ---: | ---: | ---: | ---: |\n"
    });
    for f in &cv.folds {
        let _ = write!(
            out,
            "| {}/{} | {} | {} | {} |",
            f.fold,
            cv.k,
            f.rows,
            cell(f.loss, CELL),
            show(f.metric)
        );
        if let Some(r2) = f.r2 {
            let _ = write!(out, " {} |", crate::train::gates::shown("R²", r2));
        }
        out.push('\n');
    }
    let _ = write!(
        out,
        "| mean | | {} | {} ± {} |",
        cell(cv.mean_loss, CELL),
        show(cv.mean),
        show(cv.std)
    );
    if let Some(r2) = cv.mean_r2 {
        let _ = write!(out, " {} |", crate::train::gates::shown("R²", r2));
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "\n{}.",
        spread_words(&show(population_std(cv))).replacen('±', "The ±", 1)
    );
    out
}

/// One data file of an identity, for Markdown: `iris.csv` — 150 rows, `xxh3-128:…`.
fn md_file(f: &crate::train::baseline::FileId) -> String {
    format!(
        "{} — {} rows, fingerprint `{}`",
        md_text(&f.file),
        f.rows,
        md_text(&f.fingerprint).replace('\\', "")
    )
}

/// A short Markdown summary for CI pages (GitHub's `$GITHUB_STEP_SUMMARY`): a heading with
/// the overall verdict, what was measured (`identity`, and `model` for eval), the metric
/// table, then each gate and the baseline with ✅ or ❌.
pub fn summary_md(
    title: &str,
    identity: Option<&Identity>,
    model: Option<&str>,
    table_md: &str,
    gates: &[GateResult],
    baseline: Option<&BaselineCheck>,
    interrupted: bool,
) -> String {
    let checked = !gates.is_empty() || baseline.is_some();
    let passed = gates.iter().all(GateResult::passed) && baseline.is_none_or(|b| b.passed());
    let verdict = match (interrupted, checked, passed) {
        (true, _, _) => "⚠️ interrupted",
        (false, false, _) => "no gates",
        (false, true, true) => "✅ passed",
        (false, true, false) => "❌ failed",
    };
    let mut out = format!("### {} — {verdict}\n\n", md_text(title));
    if let Some(id) = identity {
        let _ = writeln!(out, "- data: {}", md_file(&id.data));
        if let Some(t) = &id.test_data {
            let _ = writeln!(out, "- test: {}", md_file(t));
        }
        if let Some(m) = model {
            let _ = writeln!(out, "- model: {}", md_text(m));
        }
        let _ = write!(
            out,
            "- task: {}, {} features",
            id.task.name(),
            id.features.len()
        );
        if let Some(c) = &id.classes {
            let _ = write!(out, ", {} classes", c.len());
        }
        out.push('\n');
        if let Some(sp) = &id.split {
            let split = match (sp.cv, sp.val_frac > 0.0) {
                (Some(k), _) => format!("{k}-fold cross-validation"),
                (None, true) => format!("validation fraction {}", sp.val_frac),
                (None, false) => "none (trained on every row)".into(),
            };
            let seed = sp.seed.map(|s| format!(", seed {s}")).unwrap_or_default();
            let _ = writeln!(out, "- split: {split}{seed}");
        }
        out.push('\n');
    }
    out.push_str(table_md);
    if checked {
        out.push_str(
            "\n| check | on | required | measured | |\n| --- | --- | --- | --- | :---: |\n",
        );
        let mark = |ok: bool| if ok { "✅" } else { "❌" };
        for g in gates {
            let (value, threshold) = g.shown();
            let relation = if g.must_be == "at least" {
                "≥"
            } else {
                "≤"
            };
            let _ = writeln!(
                out,
                "| `{}` | {} {} | {relation} {threshold} | {value} | {} |",
                g.gate,
                md_text(&g.set),
                md_text(g.measure),
                mark(g.passed())
            );
        }
        if let Some(b) = baseline {
            let [value, base, drop, max_drop] = b.shown();
            let _ = writeln!(
                out,
                "| baseline {} | {} {} | at most {max_drop} below {base} | {value} (drop {drop}) | {} |",
                md_text(&b.file.to_string_lossy()),
                md_text(&b.set),
                md_text(b.measure),
                mark(b.passed())
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::model::Objective;
    use crate::train::metrics::RegressionReport;
    use crate::train::sgd::Metric;

    fn eval(rows: usize, v: f64, regression: bool) -> Evaluation {
        Evaluation {
            rows,
            objective: Objective {
                l: v,
                s: v * 1e3,
                j: v * 1e3 + v,
            },
            metric: Metric::Accuracy(0.5),
            regression: regression.then_some(RegressionReport {
                rmse: v,
                mae: v / 2.0,
                r2: -v,
            }),
        }
    }

    /// Every line of a table is as long as its header, and each column's right edge is in
    /// the same place (the byte index of the spaces that separate columns agree).
    fn assert_aligned(table: &str) {
        let lines: Vec<&str> = table.lines().collect();
        let width = lines[0].chars().count();
        let edges = |l: &str| -> Vec<usize> {
            let c: Vec<char> = l.chars().collect();
            (1..c.len())
                .filter(|&i| c[i] == ' ' && c[i - 1] != ' ')
                .collect()
        };
        for l in &lines {
            assert_eq!(l.chars().count(), width, "\n{table}");
            // Each data cell ends where the header's cell ends.
            for e in edges(lines[0]).iter().skip(1) {
                assert!(
                    l.chars().nth(*e) == Some(' '),
                    "column edge {e} broken:\n{table}"
                );
            }
        }
    }

    #[test]
    fn the_table_stays_aligned_for_a_million_rows_and_huge_values() {
        for regression in [false, true] {
            let task = if regression {
                Task::Regress
            } else {
                Task::Classify
            };
            let a = eval(1_000_000, 1.447227888229224e18, regression);
            let b = eval(7, 0.25, regression);
            let c = eval(123_456_789, -3.5e-12, regression);
            let t = table(task, &[("train", &a), ("val", &b), ("test", &c)]);
            assert_aligned(&t);
            assert!(t.contains("1000000"), "{t}");
            assert!(t.contains("1.447228e18"), "{t}");
            assert!(t.contains("0.250000"), "{t}");
        }
    }

    #[test]
    fn cells_fit_their_width() {
        assert_eq!(cell(0.095655, 12), "0.095655");
        assert_eq!(cell(1447227888229224448.0, 12), "1.447228e18");
        assert_eq!(cell(-1447227888229224448.0, 12), "-1.447228e18");
        assert_eq!(cell(-1.0e9, 9), "-1.0000e9");
        assert_eq!(cell(-3.5e-12, 12), "-3.50000e-12");
        assert_eq!(cell(0.0, 12), "0.000000");
        for v in [
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            -1e-300,
            f64::NAN,
            f64::INFINITY,
        ] {
            assert!(cell(v, 12).len() <= 12, "{v}: {}", cell(v, 12));
        }
    }
}
