//! The report's [`Page`] from a training run, a cross-validation or a prediction: which facts,
//! tables, charts and sections each shows, with numbers formatted once here.

use std::ffi::{OsStr, OsString};
use std::path::Path;

use super::{num, Chart, Classes, Gate, Graph, Page, Regression, Series, Stroke, Table};
use crate::data::modelfile::ModelFile;
use crate::data::prep::Task;
use crate::math::model::Objective;
use crate::show::explain;
use crate::show::report::{self, Stopping};
use crate::train::cv::CvRun;
use crate::train::diagnostics::{Diagnostics, Predictions, Sample};
use crate::train::explain::ExplainOptions;
use crate::train::gates;
use crate::train::limits;
use crate::train::metrics;
use crate::train::options::RunOptions;
use crate::train::run::{Evaluation, TrainRun};
use crate::train::sgd::Metric;

const J_COLOR: &str = "#1f77b4";
const L_COLOR: &str = "#d62728";
/// s is context beside J and L: a muted tone on its own (muted) axis.
const S_COLOR: &str = "#7b8794";
const TRAIN_COLOR: &str = "#1f77b4";
const VAL_COLOR: &str = "#ff7f0e";

/// The command line of this process, shell-quoted so that pasting it reruns the run, and the
/// folder it ran in (quoted the same way, as `cd` takes it).
#[derive(Clone, Debug, PartialEq)]
pub struct Invocation {
    pub argv: String,
    pub cwd: String,
}

impl Invocation {
    /// This process's argv and working directory, byte for byte: a file name that is not
    /// UTF-8 shows as `$'x\xff.csv'`, which the shell reads back as the same name.
    pub fn current() -> Self {
        let args: Vec<OsString> = std::env::args_os().collect();
        Invocation {
            argv: quote_os(&args),
            cwd: std::env::current_dir()
                .map(|p| shell_word(p.as_os_str()))
                .unwrap_or_else(|_| "the same folder".into()),
        }
    }
}

/// Words quoted for a POSIX shell (`'it'\''s'`), joined by spaces.
pub fn quote(words: &[String]) -> String {
    let words: Vec<&OsStr> = words.iter().map(OsStr::new).collect();
    quote_os(&words)
}

/// Words that may not be UTF-8, each as [`shell_word`] quotes it, joined by spaces.
pub fn quote_os<S: AsRef<OsStr>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| shell_word(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One word as a shell reads it back, on one line and with nothing invisible: plain UTF-8
/// text as shlex quotes it (`iris.csv`, `'my data.csv'`); a word holding bytes that are not
/// UTF-8, control characters or bidi controls in the ANSI-C form of bash, zsh and ksh
/// (`$'x\xff.csv'`, `$'a\nb'`, U+202E as `$'\xe2\x80\xaegnp.exe'`). Hand-written:
/// shell-quote's Bash form spells every non-ASCII byte as `\xHH` (`caf\xc3\xa9`), and shlex
/// keeps the raw bytes.
pub fn shell_word(word: &OsStr) -> String {
    let bytes = word.as_encoded_bytes();
    if let Ok(text) = std::str::from_utf8(bytes) {
        if !text.chars().any(|c| c.is_control() || bidi_or_separator(c)) {
            if let Ok(q) = shlex::try_quote(text) {
                return q.into_owned();
            }
        }
    }
    let mut out = String::from("$'");
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\'' => out.push_str("\\'"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                // Byte by byte, two hex digits each (so that a hex digit after the escape is
                // not read into it), whatever the shell's locale.
                c if c.is_control() || bidi_or_separator(c) => {
                    for b in c.encode_utf8(&mut [0; 4]).bytes() {
                        out.push_str(&format!("\\x{b:02x}"));
                    }
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('\'');
    out
}

/// Bidi overrides, isolates and marks, and the line and paragraph separators: invisible
/// characters that change how the text around them reads.
fn bidi_or_separator(c: char) -> bool {
    matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The page of `mlp-train --data … --report FILE.html`.
pub fn train_page(run: &TrainRun, args: &RunOptions, inv: &Invocation) -> Page {
    let (d, h, q) = run.dims;
    let o = &run.outcome;
    let c = &run.config;
    let mut facts = vec![(
        "data".to_string(),
        format!(
            "{} ({} rows)",
            run.data.display(),
            run.train.rows + run.val.as_ref().map_or(0, |v| v.rows)
        ),
    )];
    if let (Some(t), Some(e)) = (&args.data.test, &run.test) {
        facts.push((
            "test data".into(),
            format!("{} ({} rows)", t.display(), e.rows),
        ));
    }
    if let Some(v) = &run.val {
        facts.push((
            "validation".into(),
            format!(
                "{} rows held out (--val-frac {})",
                v.rows,
                num(args.data.val_frac)
            ),
        ));
    }
    let targets = run.diagnostics.as_ref().map_or(&[][..], |d| &d.outputs[..]);
    facts.extend(data_facts(
        &run.features,
        run.classes.as_deref(),
        run.task,
        targets,
        q,
    ));
    facts.extend(model_facts(
        (d, h, q),
        run.bias,
        run.activation,
        run.loss,
        run.precision,
    ));
    let hp = &run.hyperparameters;
    let text = |k: &str| match &hp[k] {
        serde_json::Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    facts.push(("init".into(), text("init")));
    facts.push(("seed".into(), args.training.seed.to_string()));
    facts.push(("λ (L2)".into(), num(c.lambda)));
    facts.push(("η (learning rate)".into(), num(c.lr)));
    facts.push(("μ (momentum)".into(), num(c.momentum)));
    facts.push(("B (batch size)".into(), c.batch_size.to_string()));
    let mut epochs = format!("{} of {}", o.epochs_run, c.epochs);
    match report::stopping(o, c.epochs, c.patience) {
        Stopping::Fired { best, patience, .. } => epochs.push_str(&format!(
            " (early stopping: no better validation L in {patience} epochs; best epoch {best} \
             restored)"
        )),
        Stopping::Restored { best } => epochs.push_str(&format!(
            " (patience never ran out; best validation L at epoch {best}, restored)"
        )),
        Stopping::Last | Stopping::Off => {}
    }
    if o.interrupted {
        epochs.push_str(" (interrupted)");
    }
    facts.push(("epochs run".into(), epochs));
    if let Some(p) = c.patience {
        facts.push(("patience".into(), p.to_string()));
    }
    if !run.weighting.is_none() {
        facts.push((
            "weights wᵢ (L = Σ wᵢℓᵢ / Σ wᵢ)".into(),
            run.weighting.describe(run.classes.as_deref()),
        ));
    }
    facts.push((
        "standardize".into(),
        format!(
            "features {}{}",
            yes_no(hp["standardize"] == true),
            if run.task == Task::Regress {
                format!(", targets {}", yes_no(hp["standardize_targets"] == true))
            } else {
                String::new()
            }
        ),
    ));
    facts.push(("threads".into(), c.threads.to_string()));
    if let Some(p) = &args.model.init_from {
        facts.push(("continued from".into(), p.display().to_string()));
    }
    facts.push(("wall time".into(), format!("{:.3} s", o.seconds)));
    let per_s = if o.seconds > 0.0 {
        o.samples as f64 / o.seconds
    } else {
        0.0
    };
    facts.push(("samples/s".into(), format!("{per_s:.0}")));
    if let Some(p) = &run.saved {
        facts.push(("model saved to".into(), p.display().to_string()));
    }
    facts.push(("mlp-train".into(), env!("CARGO_PKG_VERSION").into()));

    // Every warning of the run (the data's) in the box at the top, as on stderr.
    let mut notes = run.warnings.clone();
    if o.interrupted {
        notes.push(format!(
            "Training was interrupted after {} epoch(s): the numbers are those of the model at \
             that point.",
            o.epochs_run
        ));
    }
    if !run.train.objective.j.is_finite() {
        notes.push("J is not finite: training diverged; try a smaller --lr.".into());
    }

    let regress = run.task == Task::Regress;
    let mut sets = vec![("train", &run.train)];
    sets.extend(run.val.as_ref().map(|e| ("validation", e)));
    sets.extend(run.test.as_ref().map(|e| ("test", e)));
    let metrics = metrics_table(&sets, regress, hp["standardize_targets"] == true);

    let (gate_set, e) = gates::gate_set(run);
    let gates = gates(
        args,
        &format!("the {gate_set} set"),
        (!regress).then(|| e.metric.value()),
        e.objective.l,
        e.regression.as_ref().map(|r| r.r2),
    );

    let mut page = Page {
        title: format!("Training report: {}", run.data.display()),
        subtitle: format!(
            "{} {d}→{h}→{q} MLP, {} epochs, {}",
            if regress {
                "regression"
            } else {
                "classification"
            },
            o.epochs_run,
            summary_metric(e, regress, gate_set)
        ),
        notes,
        facts,
        command: Some((inv.argv.clone(), inv.cwd.clone())),
        metrics: Some(metrics),
        gates,
        charts: curves(run),
        graph: Some(Graph {
            d,
            h,
            q,
            bias: run.bias,
            batch: Some(c.batch_size),
            activation: run.activation.into(),
            loss: run.loss.into(),
        }),
        ..Page::default()
    };
    if let Some(diag) = &run.diagnostics {
        add_predictions(&mut page, diag, run.classes.as_deref());
        page.explanation = diag.sample.as_ref().map(|s| {
            explanation(
                s,
                &run.data.to_string_lossy(),
                "the trained model",
                run.saved.as_deref(),
                false,
            )
        });
    }
    fit(&mut page);
    page
}

/// The page of `mlp-train --cv K --report FILE.html`.
pub fn cv_page(cv: &CvRun, args: &RunOptions, inv: &Invocation) -> Page {
    let classify = cv.task == Task::Classify;
    let rows: usize = cv.folds.iter().map(|f| f.rows).sum();
    let mut facts = vec![
        (
            "data".to_string(),
            format!("{} ({rows} rows)", cv.data.display()),
        ),
        (
            "cross-validation".into(),
            format!(
                "{} folds, {}, seed {}",
                cv.k,
                if classify {
                    "stratified by class"
                } else {
                    "plain"
                },
                args.training.seed
            ),
        ),
    ];
    let sample = cv.diagnostics.as_ref().and_then(|d| d.sample.as_ref());
    if let Some(s) = sample {
        let (d, h, q) = s.model.dims();
        let classes = match &cv.diagnostics {
            Some(Diagnostics {
                predictions: Predictions::Classes { .. },
                outputs,
                ..
            }) => Some(outputs.clone()),
            _ => None,
        };
        let targets = cv.diagnostics.as_ref().map_or(&[][..], |d| &d.outputs[..]);
        facts.extend(data_facts(&[], classes.as_deref(), cv.task, targets, q));
        facts.extend(model_facts(
            (d, h, q),
            args.model.bias,
            s.model.activation.name(),
            s.model.loss.name(),
            if args.training.precision == crate::train::options::Precision::F32 {
                "f32"
            } else {
                "f64"
            },
        ));
    }
    facts.push(("seed".into(), args.training.seed.to_string()));
    facts.push(("λ (L2)".into(), num(args.training.lambda)));
    facts.push(("η (learning rate)".into(), num(args.training.lr)));
    facts.push(("μ (momentum)".into(), num(args.training.momentum)));
    facts.push((
        "B (batch size)".into(),
        args.training.batch_size.to_string(),
    ));
    facts.push(("epochs per fold".into(), args.training.epochs.to_string()));
    facts.push(("wall time".into(), format!("{:.3} s", cv.seconds)));
    facts.push(("mlp-train".into(), env!("CARGO_PKG_VERSION").into()));

    let name = if classify { "accuracy" } else { "RMSE" };
    let show = |v: f64| {
        if classify {
            format!("{:.2}%", 100.0 * v)
        } else {
            num(v)
        }
    };
    let mut head: Vec<String> = ["fold", "rows", "L", name].map(String::from).to_vec();
    if !classify {
        head.push("R²".into());
    }
    let mut rows_t: Vec<Vec<String>> = cv
        .folds
        .iter()
        .map(|f| {
            let mut r = vec![
                format!("{}/{}", f.fold, cv.k),
                f.rows.to_string(),
                num(f.loss),
                show(f.metric),
            ];
            if let Some(r2) = f.r2 {
                r.push(format!("{r2:.4}"));
            }
            r
        })
        .collect();
    let mut mean = vec![
        "mean".to_string(),
        rows.to_string(),
        num(cv.mean_loss),
        format!("{} ± {}", show(cv.mean), show(cv.std)),
    ];
    if let Some(r2) = cv.mean_r2 {
        mean.push(format!("{r2:.4}"));
    }
    rows_t.push(mean);

    let mut notes = cv.warnings.clone();
    if cv.interrupted {
        notes.push(format!(
            "Cross-validation was interrupted: {} of {} folds ran.",
            cv.folds.len(),
            cv.k
        ));
    }
    let set = format!("the {}-fold cross-validation mean", cv.k);
    let mut page = Page {
        title: format!("Cross-validation report: {}", cv.data.display()),
        subtitle: format!(
            "{}-fold cross-validation: {name} {} ± {} ({})",
            cv.k,
            show(cv.mean),
            show(cv.std),
            report::spread_words(&show(report::population_std(cv)))
        ),
        notes,
        facts,
        command: Some((inv.argv.clone(), inv.cwd.clone())),
        gates: gates(
            args,
            &set,
            classify.then_some(cv.mean),
            cv.mean_loss,
            cv.mean_r2,
        ),
        folds: Some(Table { head, rows: rows_t }),
        ..Page::default()
    };
    if let Some(diag) = &cv.diagnostics {
        let classes = match diag.predictions {
            Predictions::Classes { .. } => Some(diag.outputs.clone()),
            _ => None,
        };
        add_predictions(&mut page, diag, classes.as_deref());
        if let Some(s) = &diag.sample {
            let (d, h, q) = s.model.dims();
            page.graph = Some(Graph {
                d,
                h,
                q,
                bias: args.model.bias,
                batch: Some(args.training.batch_size),
                activation: s.model.activation.name().into(),
                loss: s.model.loss.name().into(),
            });
            page.explanation = Some(explanation(
                s,
                &cv.data.to_string_lossy(),
                "fold 1's model",
                None,
                true,
            ));
        }
    }
    fit(&mut page);
    page
}

/// What an evaluation weighs its rows by (`--weight-column COL`): the column's name and each
/// row's weight. The metrics are then weighted as in the text report (the confusion matrix
/// keeps counting rows).
pub type RowWeights<'a> = Option<(&'a str, &'a [f64])>;

/// The page of `mlp-train predict --model M --data F --report FILE.html` (F has labels):
/// `notes` (unseen categories, …) at its top, the metrics weighted by `weights` when given.
#[allow(clippy::too_many_arguments)]
pub fn predict_page(
    model_path: &Path,
    mf: &ModelFile,
    data: &str,
    diag: &Diagnostics,
    objective: Option<Objective>,
    weights: RowWeights,
    notes: &[String],
    inv: &Invocation,
) -> Page {
    let a = &mf.architecture;
    let prep = &mf.prep;
    let regress = prep.task == Task::Regress;
    let rows = diag.predictions.rows();
    let mut facts = vec![
        ("model".to_string(), model_path.display().to_string()),
        ("data".to_string(), format!("{data} ({rows} rows)")),
    ];
    facts.extend(data_facts(
        &prep.features,
        prep.classes.as_deref(),
        prep.task,
        &prep.labels,
        a.outputs,
    ));
    facts.extend(model_facts(
        (a.inputs, a.hidden, a.outputs),
        a.bias,
        a.activation.name(),
        a.loss.name(),
        &mf.precision,
    ));
    let hp = &mf.hyperparameters;
    for (key, label) in [
        ("seed", "seed"),
        ("lambda", "λ (L2)"),
        ("lr", "η (learning rate)"),
        ("momentum", "μ (momentum)"),
        ("batch_size", "B (batch size)"),
    ] {
        if !hp[key].is_null() {
            facts.push((label.into(), hp[key].to_string()));
        }
    }
    facts.push((
        "epochs trained".into(),
        format!(
            "{}{}",
            mf.epochs_run,
            if mf.interrupted { " (interrupted)" } else { "" }
        ),
    ));
    facts.push(("trained by".into(), mf.created_by.clone()));

    let mut page = Page {
        title: format!("Evaluation report: {data}"),
        subtitle: format!(
            "model {} ({}→{}→{}) on {rows} labelled rows",
            model_path.display(),
            a.inputs,
            a.hidden,
            a.outputs
        ),
        facts,
        command: Some((inv.argv.clone(), inv.cwd.clone())),
        graph: Some(Graph {
            d: a.inputs,
            h: a.hidden,
            q: a.outputs,
            bias: a.bias,
            batch: None,
            activation: a.activation.name().into(),
            loss: a.loss.name().into(),
        }),
        notes: notes.to_vec(),
        ..Page::default()
    };
    // `weighted by column `w``, after a metric's name.
    let by = weights
        .map(|(c, _)| format!(" (weighted by column `{c}`)"))
        .unwrap_or_default();
    if let Some(ob) = objective {
        let mut head: Vec<String> = ["set", "rows", "L", "s", "J"].map(String::from).to_vec();
        let mut row = vec![
            data.to_string(),
            rows.to_string(),
            num(ob.l),
            num(ob.s),
            num(ob.j),
        ];
        match &diag.predictions {
            Predictions::Classes { truth, predicted } => {
                head.push(format!("accuracy{by}"));
                let accuracy = match weights {
                    Some((_, w)) => metrics::weighted_accuracy(truth, predicted, w),
                    None => {
                        let names = prep.classes.clone().unwrap_or_default();
                        metrics::classification(truth, predicted, &names).accuracy
                    }
                };
                row.push(format!("{:.2}%", 100.0 * accuracy));
            }
            Predictions::Values {
                actual,
                predicted,
                q,
            } => {
                head.extend(["RMSE", "MAE", "R²"].map(|m| format!("{m}{by}")));
                let w = weights.map(|(_, w)| w);
                let r = metrics::regression_weighted(actual, predicted, *q, w);
                row.extend([num(r.rmse), num(r.mae), format!("{:.4}", r.r2)]);
            }
        }
        if regress && prep.target_standardize.is_some() {
            head[2] = "L (standardized)".into();
        }
        page.metrics = Some(Table {
            head,
            rows: vec![row],
        });
    }
    add_predictions(&mut page, diag, prep.classes.as_deref());
    page.explanation = Some(match &diag.sample {
        Some(s) => explanation(s, data, "the saved model", Some(model_path), false),
        None => ("(no sample: the data has no rows)".into(), String::new()),
    });
    fit(&mut page);
    page
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// Features, and classes or targets.
fn data_facts(
    features: &[String],
    classes: Option<&[String]>,
    task: Task,
    targets: &[String],
    q: usize,
) -> Vec<(String, String)> {
    let mut f = Vec::new();
    if !features.is_empty() {
        f.push((
            "features".into(),
            format!("{}: {}", features.len(), list(features, 16)),
        ));
    }
    match (task, classes) {
        (Task::Classify, Some(c)) => {
            f.push(("classes".into(), format!("{}: {}", c.len(), list(c, 16))));
        }
        _ if targets.is_empty() => f.push(("targets".into(), q.to_string())),
        _ => f.push((
            "targets".into(),
            format!("{}: {}", targets.len(), list(targets, 16)),
        )),
    }
    f
}

/// Up to `n` names, then how many more.
fn list(names: &[String], n: usize) -> String {
    let mut s = names
        .iter()
        .take(n)
        .map(|s| cut(s))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > n {
        s.push_str(&format!(", … ({} more)", names.len() - n));
    }
    s
}

fn model_facts(
    (d, h, q): (usize, usize, usize),
    bias: bool,
    activation: &str,
    loss: &str,
    precision: &str,
) -> Vec<(String, String)> {
    vec![
        (
            "model d→h→q".into(),
            format!(
                "{d}→{h}→{q}{}",
                if bias {
                    " (d counts the constant-1 bias input)"
                } else {
                    ""
                }
            ),
        ),
        ("φ (activation)".into(), activation.into()),
        ("ℓ (loss)".into(), loss.into()),
        ("precision".into(), precision.into()),
    ]
}

fn summary_metric(e: &Evaluation, regress: bool, set: &str) -> String {
    match (&e.regression, e.metric) {
        (Some(r), _) if regress => format!("{set} RMSE {} R² {:.4}", num(r.rmse), r.r2),
        (_, m) => format!("{set} accuracy {:.2}%", 100.0 * m.value()),
    }
}

fn metrics_table(sets: &[(&str, &Evaluation)], regress: bool, standardized: bool) -> Table {
    let mut head: Vec<String> = ["set", "rows", "L", "s", "J"].map(String::from).to_vec();
    if regress {
        if standardized {
            head[2] = "L (standardized)".into();
        }
        head.extend(["RMSE", "MAE", "R²"].map(String::from));
    } else {
        head.push("accuracy".into());
    }
    let rows = sets
        .iter()
        .map(|(name, e)| {
            let ob = e.objective;
            let mut r = vec![
                name.to_string(),
                e.rows.to_string(),
                num(ob.l),
                num(ob.s),
                num(ob.j),
            ];
            match (&e.regression, e.metric) {
                (Some(g), _) => r.extend([num(g.rmse), num(g.mae), format!("{:.4}", g.r2)]),
                (None, m) => r.push(format!("{:.2}%", 100.0 * m.value())),
            }
            r
        })
        .collect();
    Table { head, rows }
}

/// Each gate asked for, with its verdict: `gates::gates`, the same verdicts as the exit code.
fn gates(
    args: &RunOptions,
    set: &str,
    accuracy: Option<f64>,
    loss: f64,
    r2: Option<f64>,
) -> Vec<Gate> {
    // A gate that does not fit the task was refused before training; none is left to show.
    let results = gates::gates(args, set, accuracy, loss, r2).unwrap_or_default();
    results
        .into_iter()
        .map(|g| {
            let (measured, wanted) = match g.gate {
                "--min-accuracy" => (
                    format!("{:.2}%", 100.0 * g.value),
                    format!("≥ {:.2}%", 100.0 * g.threshold),
                ),
                "--min-r2" => (format!("{:.4}", g.value), format!("≥ {}", num(g.threshold))),
                _ => (num(g.value), format!("≤ {}", num(g.threshold))),
            };
            Gate {
                flag: format!("{} {}", g.gate, num(g.threshold)),
                measure: format!("{} on {set}", g.measure),
                measured,
                wanted,
                pass: g.passed(),
            }
        })
        .collect()
}

/// J, L (left axis) and s (right axis) per epoch; the train and validation metric.
fn curves(run: &TrainRun) -> Vec<Chart> {
    let hist = &run.outcome.history;
    if hist.is_empty() {
        return Vec::new();
    }
    // At most about CURVE_POINTS epochs a curve, evenly spaced, the last one always: a page
    // grows with the chart's width, not with --epochs.
    let stride = hist.len().div_ceil(CURVE_POINTS).max(1);
    let pts = |f: &dyn Fn(&crate::train::sgd::EpochStats) -> f64| -> Vec<(f64, f64)> {
        hist.iter()
            .enumerate()
            .filter(|(i, _)| i % stride == 0 || i + 1 == hist.len())
            .map(|(_, e)| (e.epoch as f64, f(e)))
            .collect()
    };
    let has_val = hist.iter().any(|e| e.val.is_some());
    let val =
        |f: &dyn Fn(&Objective) -> f64| pts(&|e| e.val.as_ref().map_or(f64::NAN, |v| f(&v.0)));
    let line = |name: &str, points, color, dashed, right| Series {
        name: name.into(),
        points,
        color,
        dashed,
        right,
        stroke: Stroke::Line,
    };
    // J = L + s lies on L when s is small: J is a wide pale band under L's line, so that
    // both show (and both legend entries mean something).
    let halo = |s: Series| Series {
        stroke: Stroke::Halo,
        ..s
    };
    let mut objective = vec![
        halo(line("J train", pts(&|e| e.train.j), J_COLOR, false, false)),
        line("L train", pts(&|e| e.train.l), L_COLOR, false, false),
    ];
    if has_val {
        objective.push(halo(line("J val", val(&|o| o.j), J_COLOR, true, false)));
        objective.push(line("L val", val(&|o| o.l), L_COLOR, true, false));
    }
    let log_y = super::log_worthy(objective.iter().flat_map(|s| s.points.iter().map(|p| p.1)));
    objective.push(Series {
        stroke: Stroke::Faint,
        ..line("s", pts(&|e| e.train.s), S_COLOR, false, true)
    });
    let c = &run.config;
    let marker = match report::stopping(&run.outcome, c.epochs, c.patience) {
        Stopping::Fired { best, .. } | Stopping::Restored { best } => {
            Some((best as f64, format!("best epoch {best} (restored)")))
        }
        Stopping::Last | Stopping::Off => None,
    };
    let accuracy = matches!(hist[0].train_metric, Metric::Accuracy(_));
    let metric_name = if accuracy { "accuracy" } else { "RMSE" };
    let mut metric = vec![line(
        &format!("train {metric_name}"),
        pts(&|e| e.train_metric.value()),
        TRAIN_COLOR,
        false,
        false,
    )];
    if has_val {
        metric.push(line(
            &format!("validation {metric_name}"),
            pts(&|e| e.val.as_ref().map_or(f64::NAN, |v| v.1.value())),
            VAL_COLOR,
            true,
            false,
        ));
    }
    // Zoomed to the data within 0..1, as the --plot SVG: 98 % against 100 % shows.
    let metric_range =
        accuracy.then(|| zoomed(metric.iter().flat_map(|s| s.points.iter().map(|p| p.1))));
    vec![
        Chart {
            title: "J = L + s per epoch (training: running mean over the epoch's minibatches; \
                    s on its own scale, right)"
                .into(),
            series: objective,
            y_label: "J, L".into(),
            right_label: Some("s = λ/2 (‖W1‖² + ‖W2‖²)".into()),
            marker: marker.clone(),
            y_range: None,
            log_y,
        },
        Chart {
            title: format!(
                "{metric_name} per epoch{}",
                if accuracy { "" } else { " (data's units)" }
            ),
            y_label: metric_name.into(),
            right_label: None,
            marker,
            y_range: metric_range,
            series: metric,
            log_y: false,
        },
    ]
}

/// The accuracy axis: the data's finite range padded by 5 % of its span (at least 0.01),
/// within 0..1.
fn zoomed(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return (0.0, 1.0);
    }
    let pad = (0.05 * (hi - lo)).max(0.01);
    ((lo - pad).max(0.0), (hi + pad).min(1.0))
}

/// The confusion matrix or the scatter, from the predictions.
fn add_predictions(page: &mut Page, diag: &Diagnostics, classes: Option<&[String]>) {
    let rows = diag.predictions.rows();
    let set = format!("{} ({rows} rows)", diag.set);
    match &diag.predictions {
        Predictions::Classes { truth, predicted } => {
            let names: Vec<String> = match classes {
                Some(c) => c.to_vec(),
                None => diag.outputs.clone(),
            };
            let mut r = metrics::classification(truth, predicted, &names);
            for s in &mut r.per_class {
                s.class = cut(&s.class);
            }
            page.classes = Some(Classes {
                set,
                names: names.iter().map(|n| cut(n)).collect(),
                confusion: r.confusion,
                accuracy: r.accuracy,
                per_class: r.per_class,
            });
        }
        Predictions::Values {
            actual,
            predicted,
            q,
        } => {
            let q = (*q).max(1);
            let r = metrics::regression(actual, predicted, q);
            let points = (0..q)
                .map(|j| {
                    actual
                        .iter()
                        .zip(predicted)
                        .skip(j)
                        .step_by(q)
                        .map(|(a, p)| (*a, *p))
                        .collect()
                })
                .collect();
            let mut targets: Vec<String> = diag.outputs.iter().map(|t| cut(t)).collect();
            targets.resize_with(q, || "target".into());
            page.regression = Some(Regression {
                set,
                targets,
                points,
                rmse: r.rmse,
                mae: r.mae,
                r2: r.r2,
            });
        }
    }
}

/// `explain`'s text for the sample, and a sentence saying where it comes from.
fn explanation(
    s: &Sample,
    data: &str,
    whose: &str,
    model: Option<&Path>,
    cv: bool,
) -> (String, String) {
    let opts = ExplainOptions::default();
    // Explaining copies the weights about ten times over in f64 (as `explain` budgets them):
    // a model too wide for that is left unexplained here, with the reason, never an abort.
    let (d, h, q) = s.model.dims();
    let weights = limits::times(h, d).saturating_add(limits::times(q, h));
    let mut need = limits::Need::new();
    need.add(
        "the model, its copies and gradients",
        weights.saturating_mul(10),
        8,
    );
    let fits = limits::Budget::now().check("explaining it", &need);
    let text = match fits.and_then(|()| s.explain(&opts).map_err(|e| e.to_string())) {
        Ok(e) => explain::render_text(&e, &opts),
        Err(e) => format!("(cannot explain the sample: {e})"),
    };
    // A line quotes the sample's label: cut like every label, so that the page stays small.
    let text: String = text
        .lines()
        .map(|l| {
            let n = l.chars().count();
            if n <= EXPLAIN_LINE_CHARS {
                format!("{l}\n")
            } else {
                let head: String = l.chars().take(EXPLAIN_LINE_CHARS - 16).collect();
                format!("{head}… ({n} characters)\n")
            }
        })
        .collect();
    // λ, φ, ℓ and the precision come from the model file.
    let words = [
        "mlp-train",
        "explain",
        "--model",
        &model.map_or("MODEL".into(), |p| p.display().to_string()),
        "--data",
        data,
        "--row",
        "0",
    ]
    .map(String::from);
    let origin = if cv {
        // A cross-validation saves no model: `explain` cannot replay fold 1's.
        let train = ["mlp-train", "--data", data, "--save", "model.json"].map(String::from);
        let explain = [
            "mlp-train",
            "explain",
            "--model",
            "model.json",
            "--data",
            data,
            "--row",
            "0",
        ]
        .map(String::from);
        format!(
            "The first data row of {data} through {whose}, forward then backward in the \
             chapter's order. Cross-validation saves no model, so this one cannot be explained \
             again; `{}` then `{}` explain a model trained on the whole file.",
            quote(&train),
            quote(&explain)
        )
    } else if model.is_none() {
        format!(
            "The first data row of {data} through {whose}, forward then backward in the \
             chapter's order, as `{}` prints it for the model saved with --save MODEL.",
            quote(&words)
        )
    } else {
        format!(
            "The first data row of {data} through {whose}, forward then backward in the \
             chapter's order, as `{}` prints it.",
            quote(&words)
        )
    };
    (text, origin)
}

/// The most characters of a line of the explained sample.
pub const EXPLAIN_LINE_CHARS: usize = 240;

/// The most epochs a training curve draws (evenly spaced beyond).
pub const CURVE_POINTS: usize = 2000;

/// The most characters of a label (a class, feature or target name) shown in the page.
pub const LABEL_CHARS: usize = 64;

/// A label as the page shows it: whole up to [`LABEL_CHARS`] characters; longer, its first
/// 48 characters, `…` and its full length (`aaaa… (1048576 characters)`), so that a page
/// grows with the number of classes, never with the length of their names.
pub fn cut(label: &str) -> String {
    let n = label.chars().count();
    if n <= LABEL_CHARS {
        return label.to_string();
    }
    let head: String = label.chars().take(48).collect();
    format!("{head}… ({n} characters)")
}

/// An upper bound of the rendered page's bytes: every string as escaped (6 bytes a character
/// at worst), the sections' markup, the charts' points, the confusion matrix as drawn (or its
/// summary beyond [`super::confusion::DRAWN`] classes).
pub fn page_bytes(page: &Page) -> u128 {
    let text = |s: &str| 6 * s.len() as u128 + 16;
    let table = |t: &Table| {
        t.head.iter().map(|h| text(h)).sum::<u128>()
            + t.rows.iter().flatten().map(|c| text(c) + 10).sum::<u128>()
    };
    let mut b: u128 = 32 << 10;
    b += text(&page.title) * 2 + text(&page.subtitle);
    b += page.notes.iter().map(|n| text(n)).sum::<u128>();
    b += page
        .facts
        .iter()
        .map(|(k, v)| text(k) + text(v) + 20)
        .sum::<u128>();
    if let Some((a, c)) = &page.command {
        b += text(a) + text(c) + 300;
    }
    b += page.metrics.as_ref().map_or(0, table) + page.folds.as_ref().map_or(0, table);
    b += page.gates.len() as u128 * 400;
    for c in &page.charts {
        b += 8 << 10;
        for s in &c.series {
            b += text(&s.name) + 40 * s.points.len() as u128;
        }
    }
    if let Some(c) = &page.classes {
        let q = c.names.len() as u128;
        let names: u128 = c.names.iter().map(|n| text(n)).sum();
        b += if c.names.len() <= super::confusion::DRAWN {
            // Each cell names its true and predicted class in its title.
            q * q * 220 + names * (2 * q + 3)
        } else {
            names * 2 + q * 160 + super::confusion::TOP as u128 * 400
        };
    }
    if let Some(r) = &page.regression {
        for (t, pts) in r.targets.iter().zip(&r.points) {
            b += 2 * (text(t) + (16 << 10)) + 2 * 60 * pts.len().min(3000) as u128;
        }
    }
    if page.graph.is_some() {
        b += 64 << 10;
    }
    if let Some((t, o)) = &page.explanation {
        b += text(t) + text(o);
    }
    b
}

/// Makes the page fit in the memory available before it is rendered: when [`page_bytes`]
/// (the page twice: as built and as rendered) does not fit, the bulkiest sections are left
/// out, one at a time, each with a note saying so.
fn fit(page: &mut Page) {
    let room = || limits::Budget::now().cap();
    let fits = |p: &Page| {
        page_bytes(p)
            .saturating_mul(2)
            .saturating_add(limits::WORKING_ROOM)
            <= room()
    };
    let what = [
        "the sample explained",
        "the confusion matrix",
        "the scatter plots",
        "the training curves",
    ];
    for (k, section) in what.iter().enumerate() {
        if fits(page) {
            return;
        }
        let had = match k {
            0 => page.explanation.take().is_some(),
            1 => page.classes.take().is_some(),
            2 => page.regression.take().is_some(),
            _ => !std::mem::take(&mut page.charts).is_empty(),
        };
        if had {
            page.notes.push(format!(
                "Left out: {section}, which would not fit in the memory this process may use."
            ));
        }
    }
}

#[cfg(test)]
mod words_tests {
    use super::zoomed;

    #[test]
    fn the_accuracy_axis_zooms_to_the_data() {
        let (lo, hi) = zoomed([0.98, 0.99, 1.0].into_iter());
        assert!((0.96..0.98).contains(&lo) && hi == 1.0, "({lo}, {hi})");
        let (lo, hi) = zoomed([0.3, f64::NAN, 0.9].into_iter());
        assert!(
            (lo - 0.27).abs() < 1e-12 && (hi - 0.93).abs() < 1e-12,
            "({lo}, {hi})"
        );
        assert_eq!(zoomed(std::iter::empty()), (0.0, 1.0));
    }
}
