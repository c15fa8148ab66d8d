//! The subcommands other than training (predict, gradcheck, explain, graph): each takes its
//! parsed flags and returns the text to print, so that main.rs only prints.

use std::fmt::Write;
use std::io::IsTerminal;

use ndarray::Array2;
use rand::Rng as _;

use crate::cli::args::{
    ExplainArgs, GradcheckArgs, GraphArgs, GraphEngine, GraphFormat, PredictArgs,
};
use crate::cli::output;
use crate::cli::train::Verdict;
use crate::data::encode::Unseen;
use crate::data::matrices::Targets;
use crate::data::modelfile::ModelFile;
use crate::data::prep::{Prep, Task};
use crate::data::{self, LabelSpec, Labels as FrameLabels, LoadOptions, Source};
use crate::math::loss::softmax_rows;
use crate::math::model::{Init, Mlp};
use crate::show::graph::GraphShapes;
use crate::show::html;
use crate::show::html::confusion;
use crate::show::report;
use crate::train::baseline::{Baseline, FileId, Identity};
use crate::train::diagnostics::{self, Diagnostics, Predictions};
use crate::train::explain::ExplainOptions;
use crate::train::gates;
use crate::train::gradcheck;
use crate::train::limits;
use crate::train::metrics;
use crate::train::metrics::RegressionReport;
use crate::train::predict;
use crate::train::run::Evaluation;
use crate::train::run::{ignore_specs, label_kind, label_specs};
use crate::train::sgd::argmax;
use crate::{Error, Real, Result};

/// What `predict` prints: predictions and report go to stdout or stderr depending on --out.
pub struct PredictOutput {
    pub stdout: String,
    pub stderr: String,
    /// Notes on how the columns were chosen (`--ignore 1` taking the column named `1`), for
    /// stderr before anything else.
    pub notes: Vec<String>,
    /// The quality gates and --baseline (exit 8 when one failed), after the outputs.
    pub verdict: Result<()>,
}

/// `mlp-train predict` (and `eval`, `report_only`): one CSV row per input, and a report when
/// the labels are present. Where each goes:
/// - predictions: to --out when given (`-` is stdout), else to stdout unless --json or eval;
/// - report: to stderr when the predictions take stdout, else to stdout.
pub fn predict(args: &PredictArgs, report_only: bool) -> Result<PredictOutput> {
    check_gate_flags(args)?;
    let plan = output::Plan::new(
        &[
            ("--out", args.out.as_deref()),
            ("--report", args.report.as_deref()),
            ("--summary-md", args.summary_md.as_deref()),
        ],
        &[
            ("--model", Some(&args.model)),
            ("--data", Some(&args.data)),
            ("--baseline", args.baseline.as_deref()),
        ],
        &[],
    )?;
    // --report: the explained sample (f64 and f32) and L, s, J (f64) copy the model again.
    let mf = match args.report {
        Some(_) => limits::load_model_with(&args.model, 8 + 4 + 8, "the report's copies")?,
        None => limits::load_model(&args.model)?,
    };
    let baseline = args.baseline.as_deref().map(Baseline::load).transpose()?;
    if args.proba && mf.prep.task == Task::Regress {
        return Err(Error::flag(
            "--proba",
            "needs a classification model (a regression model predicts values, not class probabilities)",
            format!("the regression model {}", crate::error::shown_path(&args.model)),
        ));
    }
    // `--report -`: the page takes stdout, so the predictions need --out and the text report
    // goes to stderr; --json (which also wants stdout) cannot be had with it.
    let page_on_stdout = plan
        .get("--report")
        .is_some_and(|o| o.dest == output::Dest::Stdout);
    if page_on_stdout && args.json {
        return Err(Error::flag(
            "--report",
            "- writes the page to stdout, where --json also goes: write the page to a file",
            "-",
        ));
    }
    if page_on_stdout && args.out.is_none() && !report_only {
        return Err(Error::flag(
            "--report",
            "- writes the page to stdout, where the predictions go: add --out FILE",
            "-",
        ));
    }
    let prep = &mf.prep;
    // Predict in the precision the model was trained in, so that an f32 model's predictions
    // are exactly those it was evaluated with.
    let (mut o, truth, sample, evaluated, notes, kept, unseen, weights) =
        match mf.precision.as_str() {
            "f32" => outputs::<f32>(&mf, args)?,
            _ => outputs::<f64>(&mf, args)?,
        };

    // What was evaluated: a --baseline must have evaluated the same (checked before the
    // report is made).
    let identity = Identity {
        command: "eval".into(),
        task: prep.task,
        data: evaluated,
        test_data: None,
        features: prep.features.clone(),
        classes: prep.classes.clone(),
        split: None,
    };
    if let Some(b) = &baseline {
        b.check_identity(&identity)?;
    }
    // L, s, J on the labelled rows, from O before softmax (L in standardized target units
    // for regression, as in training): for --report, --json and the gates.
    let objective = truth.as_ref().map(|t| {
        let m = mf.mlp::<f64>();
        let lambda = mf.hyperparameters["lambda"].as_f64().unwrap_or(0.0);
        let w = weights.as_ref().map(|w| ndarray::ArrayView1::from(&w[..]));
        let y = crate::math::loss::Weighted::new(t.target(), w);
        let (l, s) = (m.loss.value(o.view(), y), m.regularizer(lambda));
        crate::math::model::Objective { l, s, j: l + s }
    });
    let mut predictions = None;
    let mut csv = String::new();
    let mut report = String::new();
    // The predictions are data: exact class names (CSV-quoted) in a file or a pipe. On a
    // terminal, a person reads them: names there are escaped as every message escapes
    // them (`\x1b]0;…`), so that a label from a shared file cannot drive the terminal.
    let csv_on_stdout = match plan.get("--out") {
        Some(o) => o.dest == output::Dest::Stdout,
        None => args.out.is_none() && !report_only && !args.json,
    };
    let on_terminal = csv_on_stdout && std::io::stdout().is_terminal();
    let field = |name: &str| {
        if on_terminal {
            csv_field(&data::shown_whole(name))
        } else {
            csv_field(name)
        }
    };
    // --keep: the kept columns' names, then each row's fields, first on every line.
    let kept_prefix = |row: Option<usize>| -> String {
        let mut p = String::new();
        for c in &kept {
            let v = match row {
                None => c.name.as_str(),
                Some(i) => c.values.get(i).map_or("", String::as_str),
            };
            p.push_str(&field(v));
            p.push(',');
        }
        p
    };
    // The gated metric and, for --summary-md, the metric table's row.
    let mut measured: Option<(f64, Option<RegressionReport>)> = None;
    match (&prep.classes, prep.task) {
        (Some(classes), Task::Classify) => {
            softmax_rows(o.view_mut());
            let predicted: Vec<usize> = o.outer_iter().map(|r| argmax(r.iter().copied())).collect();
            let _ = write!(
                csv,
                "{}{}",
                kept_prefix(None),
                field(&prep.labels.join(","))
            );
            if args.proba {
                for c in classes {
                    let _ = write!(csv, ",{}", field(&format!("p_{c}")));
                }
            }
            csv.push('\n');
            for (i, (row, &k)) in o.outer_iter().zip(&predicted).enumerate() {
                csv.push_str(&kept_prefix(Some(i)));
                csv.push_str(&field(&classes[k]));
                if args.proba {
                    for p in row {
                        let _ = write!(csv, ",{p}");
                    }
                }
                csv.push('\n');
            }
            if let Some(Targets::Classes(t)) = &truth {
                predictions = Some(Predictions::Classes {
                    truth: t.clone(),
                    predicted: predicted.clone(),
                });
                // The confusion matrix is classes × classes: budgeted before it is made (and,
                // for --json, its text), so that a file of thousands of classes is refused,
                // never an abort.
                let q = classes.len();
                let mut need = limits::Need::new();
                need.add("the confusion matrix", limits::times(q, q), 8);
                if args.json {
                    need.add("its JSON text", limits::times(q, q), 21);
                }
                limits::check_memory(
                    format!("a model of {q} classes"),
                    "the report",
                    &need,
                    "evaluate with a model of fewer classes",
                )?;
                let mut r = metrics::classification(t, &predicted, classes);
                // --weight-column: the accuracy (gated, reported) weighted as scikit-learn's
                // score(…, sample_weight); the confusion matrix keeps counting rows.
                if let Some(w) = &weights {
                    r.accuracy = metrics::weighted_accuracy(t, &predicted, w);
                }
                measured = Some((r.accuracy, None));
                report = if args.json {
                    serde_json::to_value(&r).unwrap_or_default().to_string()
                } else {
                    let text = class_report_text(&r, classes);
                    match &args.weight_column {
                        // The count beside the weighted accuracy is of rows, unweighted.
                        Some(c) if weights.is_some() => text.replacen(
                            "% (",
                            &format!("% weighted by column `{}` (rows: ", data::shown_str(c)),
                            1,
                        ),
                        _ => text,
                    }
                };
            }
        }
        _ => {
            if let Some(st) = &prep.target_standardize {
                st.invert(o.view_mut());
            }
            let header: Vec<String> = prep.labels.iter().map(|l| field(l)).collect();
            let _ = writeln!(csv, "{}{}", kept_prefix(None), header.join(","));
            for (i, row) in o.outer_iter().enumerate() {
                let cells: Vec<String> = row.iter().map(|v| v.to_string()).collect();
                let _ = writeln!(csv, "{}{}", kept_prefix(Some(i)), cells.join(","));
            }
            if let Some(Targets::Values(mut y)) = truth {
                if let Some(st) = &prep.target_standardize {
                    st.invert(y.view_mut());
                }
                let flat = |a: &Array2<f64>| a.iter().copied().collect::<Vec<_>>();
                let r = metrics::regression_weighted(
                    &flat(&y),
                    &flat(&o),
                    y.ncols(),
                    weights.as_deref(),
                );
                predictions = Some(Predictions::Values {
                    actual: flat(&y),
                    predicted: flat(&o),
                    q: y.ncols(),
                });
                measured = Some((r.rmse, Some(r.clone())));
                report = if args.json {
                    serde_json::to_value(&r).unwrap_or_default().to_string()
                } else {
                    format!(
                        "rows {}  RMSE {:.6}  MAE {:.6}  R² {:.4}\n",
                        y.nrows(),
                        r.rmse,
                        r.mae,
                        r.r2
                    )
                };
            }
        }
    }
    if report.is_empty() && (report_only || (args.json && args.out.is_none())) {
        let asked = if report_only {
            "eval"
        } else {
            "predict --json"
        };
        return Err(Error::data(
            Source::parse(&args.data).display(),
            format!(
                "has no label column {}, so {asked} has no report to print (predict --out FILE writes the predictions)",
                prep.labels.join(",")
            ),
        ));
    }
    let verdict = eval_verdict(
        args,
        &identity,
        &prep.labels.join(","),
        baseline.as_ref(),
        objective,
        &measured,
    )?;
    if args.json && !report.is_empty() {
        report = data::json_safe(eval_json(
            args,
            &mf,
            &identity,
            objective,
            &report,
            &verdict,
            (&unseen, &notes),
        ));
    } else if !report.is_empty() {
        if let Some(ob) = objective {
            report = with_objective(&report, ob, prep.target_standardize.is_some());
        }
        if let Some(note) = unseen.note() {
            let _ = writeln!(report, "unseen categories: {note}");
        }
        report.push_str(&verdict.text());
    }
    let page = match &args.report {
        Some(_) => {
            let Some(predictions) = predictions else {
                return Err(Error::FlagNeeds {
                    flag: "--report",
                    msg: format!(
                        "needs the label column {}, which {} lacks (the page compares each \
                         prediction with its label; without --report, predict writes the \
                         predictions alone)",
                        prep.labels.join(","),
                        Source::parse(&args.data)
                    ),
                });
            };
            let diag = Diagnostics {
                set: args.data.to_string_lossy().into_owned(),
                predictions,
                outputs: prep.classes.clone().unwrap_or_else(|| prep.labels.clone()),
                sample,
            };
            let inv = html::Invocation::current();
            let page = html::predict_page(
                &args.model,
                &mf,
                &args.data.to_string_lossy(),
                &diag,
                objective,
                &inv,
            );
            Some(html::render(&page))
        }
        None => None,
    };
    // The predictions and the page change together, or neither does.
    let mut outputs = output::Transaction::new();
    let csv = match plan.get("--out") {
        Some(out) => {
            outputs.stage(out, csv.into_bytes())?;
            String::new()
        }
        None => csv,
    };
    if let (Some(page), Some(to)) = (page, plan.get("--report")) {
        outputs.stage(to, page.into_bytes())?;
    }
    if let Some(to) = plan.get("--summary-md") {
        let md = eval_md(args, &identity, objective, &measured, &verdict);
        outputs.stage(to, md.into_bytes())?;
    }
    outputs.commit()?;
    let verdict = verdict.into_result();
    Ok(if plan.uses_stdout() {
        // The predictions or the page took stdout: the report goes to stderr.
        PredictOutput {
            stdout: String::new(),
            stderr: report,
            notes: notes.clone(),
            verdict,
        }
    } else if args.out.is_some() || report_only || args.json {
        PredictOutput {
            stdout: report,
            stderr: String::new(),
            notes: notes.clone(),
            verdict,
        }
    } else {
        PredictOutput {
            stdout: csv,
            stderr: report,
            notes: notes.clone(),
            verdict,
        }
    })
}

/// The model's outputs O for every row of `data` (widened to f64), and the labels when the
/// file has them.
/// With --report, also the file's first row for the page's explained sample.
/// And the evaluated file's identity (name, content fingerprint, rows).
type Outputs = (
    Array2<f64>,
    Option<Targets<f64>>,
    Option<diagnostics::Sample>,
    FileId,
    Vec<String>,
    Vec<data::TextColumn>,
    Unseen,
    Option<Vec<f64>>,
);

fn outputs<T: Real>(mf: &ModelFile, args: &PredictArgs) -> Result<Outputs> {
    let prep = &mf.prep;
    let model: Mlp<T> = mf.mlp();
    let mut opts = LoadOptions::new(
        prep.labels.iter().cloned().map(LabelSpec::Name).collect(),
        label_kind(prep.task),
    );
    // The model's columns by name; with --weight-column that column too, taken out below.
    let columns = prep.number_columns_and(args.weight_column.as_deref());
    opts.expected_features = Some(&columns);
    opts.optional_label = true;
    opts.delimiter = args.delimiter.byte();
    opts.ignore = ignore_specs(&args.ignore);
    opts.no_header = args.no_header;
    opts.npz = args.npz.names();
    // --keep first: its columns are then the frame's first text columns, in its order; the
    // model's categorical columns after them.
    opts.text = ignore_specs(&args.keep)
        .into_iter()
        .map(|spec| (spec, "--keep"))
        .collect();
    let categorical = prep.categorical();
    data::prep::read_encoded(&mut opts, &categorical, prep.imputes());
    let mut frame = data::load::<T>(&Source::parse(&args.data), &opts)?;
    let weights = match &args.weight_column {
        Some(c) => {
            let w = data::weights::take_column(&mut frame, c, "--weight-column")?;
            Some(w.iter().map(|v| v.f64()).collect::<Vec<f64>>())
        }
        None => None,
    };
    // The kept columns: all the text columns but the categorical ones --keep did not name.
    let kept: Vec<data::TextColumn> = frame
        .text
        .iter()
        .filter(|c| !categorical.contains(&c.name) || args.keep.iter().any(|k| k.trim() == c.name))
        .cloned()
        .collect();
    let (lines, source) = (frame.lines.clone(), frame.source.clone());
    // The column choices of --ignore are noted (the label is the model's, by name); what the
    // data's values look like is training's concern.
    let mut notes = column_notes(&frame);
    let evaluated = FileId::of(&frame);
    let sample = match (&args.report, &frame.labels) {
        (Some(_), FrameLabels::Classes(_) | FrameLabels::Targets(_)) => {
            let lambda = mf.hyperparameters["lambda"].as_f64().unwrap_or(0.0);
            let file = Some(args.model.display().to_string());
            (frame.x.nrows() > 0)
                .then(|| diagnostics::sample(&model, prep, &frame, 0, lambda, file))
                .transpose()?
        }
        _ => None,
    };
    let (x, truth, unseen) = match frame.labels {
        FrameLabels::None => {
            let (x, unseen) = prep.inputs_of(frame, args.strict)?;
            (x, None, unseen)
        }
        _ => {
            let (d, unseen) = prep.transform_counted(frame, args.strict)?;
            (d.x, Some(d.y), unseen)
        }
    };
    notes.extend(unseen.note());
    let o = predict::predict(&model, x.view())?.mapv(|v| v.f64());
    predict::check_outputs(o.view(), x.view(), prep, &lines, &source)?;
    let truth = truth.map(|y| match y {
        Targets::Classes(c) => Targets::Classes(c),
        Targets::Values(v) => Targets::Values(v.mapv(|t| t.f64())),
    });
    Ok((o, truth, sample, evaluated, notes, kept, unseen, weights))
}

/// The gates' thresholds, checked like training's before any work: an accuracy in [0, 1],
/// a loss ≥ 0 and an R² ≤ 1 (any other could never pass), a drop ≥ 0.
fn check_gate_flags(args: &PredictArgs) -> Result<()> {
    use limits::Bound::{Inclusive, Unbounded};
    if let Some(a) = args.min_accuracy {
        limits::real("--min-accuracy", a, Inclusive(0.0), Inclusive(1.0))?;
    }
    if let Some(l) = args.max_loss {
        limits::real("--max-loss", l, Inclusive(0.0), Unbounded)?;
    }
    if let Some(r) = args.min_r2 {
        limits::real("--min-r2", r, Unbounded, Inclusive(1.0))?;
    }
    limits::real("--max-drop", args.max_drop, Inclusive(0.0), Unbounded)?;
    Ok(())
}

/// Eval's quality gates and --baseline, on the evaluated file (`measured`: the accuracy, or
/// the RMSE with the regression report; None without the label column).
fn eval_verdict(
    args: &PredictArgs,
    identity: &Identity,
    labels: &str,
    baseline: Option<&Baseline>,
    objective: Option<crate::math::model::Objective>,
    measured: &Option<(f64, Option<RegressionReport>)>,
) -> Result<Verdict> {
    let num = |v: Option<f64>| v.map(|x| x.to_string());
    let asked = [
        ("--min-accuracy", num(args.min_accuracy)),
        ("--max-loss", num(args.max_loss)),
        ("--min-r2", num(args.min_r2)),
        (
            "--baseline",
            baseline.map(|b| crate::error::shown_path(&b.path)),
        ),
    ];
    let (Some((metric, regression)), Some(objective)) = (measured, objective) else {
        return match asked.into_iter().find_map(|(f, v)| Some((f, v?))) {
            Some((flag, _)) => Err(Error::FlagNeeds {
                flag,
                msg: format!(
                    "needs the label column {}, which {} lacks (a gate measures the \
                     predictions against the labels)",
                    labels,
                    Source::parse(&args.data)
                ),
            }),
            None => Ok(Verdict {
                gates: Vec::new(),
                compared: None,
            }),
        };
    };
    let classify = identity.task == Task::Classify;
    let accuracy = classify.then_some(*metric);
    let r2 = regression.as_ref().map(|r| r.r2);
    let gates = gates::check_gates(
        "evaluated",
        args.min_accuracy,
        args.max_loss,
        args.min_r2,
        accuracy,
        objective.l,
        r2,
    )?;
    let compared = match baseline {
        Some(b) => {
            let value = accuracy.or(r2).unwrap_or(f64::NAN);
            Some(b.compare(identity.task, "eval", "evaluated", value, args.max_drop)?)
        }
        None => None,
    };
    Ok(Verdict { gates, compared })
}

/// Eval's `--json` object: the report's fields, and the schema version, the rows, L, s, J,
/// the model's identity and the evaluated data's, the gates and the baseline, the unseen
/// categories and the warnings.
fn eval_json(
    args: &PredictArgs,
    mf: &ModelFile,
    identity: &Identity,
    objective: Option<crate::math::model::Objective>,
    report: &str,
    verdict: &Verdict,
    (unseen, warnings): (&Unseen, &[String]),
) -> String {
    let mut v: serde_json::Value = serde_json::from_str(report).unwrap_or_default();
    let o = objective.unwrap_or(crate::math::model::Objective {
        l: f64::NAN,
        s: f64::NAN,
        j: f64::NAN,
    });
    let extra = serde_json::json!({
        "schema_version": crate::show::report::SCHEMA_VERSION,
        "tool": format!("mlp-train {}", env!("CARGO_PKG_VERSION")),
        "data": identity.data.file,
        "rows": identity.data.rows,
        "loss": o.l,
        "reg": o.s,
        "objective": o.j,
        "model": {
            "file": crate::show::report::json_path(&args.model),
            "identity": mf.identity,
        },
        "identity": identity,
        // Categories never seen in training (all-zero inputs): rows, and per column and
        // category the rows that had it.
        "unseen_categories": unseen,
        // The notes of the run (columns the model does not use…), as on stderr.
        "warnings": warnings,
    });
    if let (serde_json::Value::Object(dst), serde_json::Value::Object(src)) = (&mut v, extra) {
        dst.extend(src);
        // Loss and accuracy are weighted means by this column (absent when unweighted).
        if let Some(c) = &args.weight_column {
            dst.insert("weight_column".into(), c.as_str().into());
        }
    }
    verdict.add_to_json(&mut v);
    format!("{v}\n")
}

/// Eval's `--summary-md`: the model, the evaluated data, its metric row, the verdict.
fn eval_md(
    args: &PredictArgs,
    identity: &Identity,
    objective: Option<crate::math::model::Objective>,
    measured: &Option<(f64, Option<RegressionReport>)>,
    verdict: &Verdict,
) -> String {
    let table = match (objective, measured) {
        (Some(objective), Some((metric, regression))) => {
            let e = Evaluation {
                rows: identity.data.rows,
                objective,
                metric: match regression {
                    Some(r) => crate::train::sgd::Metric::Rmse(r.rmse),
                    None => crate::train::sgd::Metric::Accuracy(*metric),
                },
                regression: regression.clone(),
            };
            report::md_table(identity.task, &[("evaluated", &e)])
        }
        _ => String::new(),
    };
    let title = format!("mlp-train eval on {}", identity.data.file);
    let model = crate::show::report::json_path(&args.model);
    report::summary_md(
        &title,
        Some(identity),
        Some(&model),
        &table,
        &verdict.gates,
        verdict.compared.as_ref(),
        false,
    )
}

/// Quotes a CSV field when it needs it.
/// The text report with L, s and J under its first line (the metric), as training's
/// summary shows them: `L 0.083  s 0.00175  J 0.085`, L said to be in standardized units
/// when the targets were.
fn with_objective(report: &str, ob: crate::math::model::Objective, standardized: bool) -> String {
    let (first, rest) = report.split_once('\n').unwrap_or((report, ""));
    let cell = |v: f64| crate::show::report::cell(v, 12);
    let units = if standardized {
        "  (L in standardized target units)"
    } else {
        ""
    };
    format!(
        "{first}\nL {}  s {}  J {}{units}\n{rest}",
        cell(ob.l),
        cell(ob.s),
        cell(ob.j)
    )
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The confusion matrix and per-class scores for a terminal: class names escaped and cut
/// as every message shows data values ([`data::shown_str`]).
fn class_report_text(r: &metrics::ClassReport, classes: &[String]) -> String {
    let classes: Vec<String> = classes.iter().map(|c| data::shown_str(c)).collect();
    let mut out = String::new();
    let n: u64 = r.confusion.iter().flatten().sum();
    let correct: u64 = (0..classes.len()).map(|k| r.confusion[k][k]).sum();
    let _ = writeln!(out, "accuracy {:.2}% ({correct}/{n})", 100.0 * r.accuracy);
    let w = classes
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(5)
        .max(9);
    if classes.len() > confusion::DRAWN {
        // A matrix of thousands of columns helps no one on a terminal: the largest errors,
        // as the page lists them.
        let errs = confusion::top_confusions(&r.confusion);
        let _ = writeln!(
            out,
            "confusion matrix: {} classes, too many to print; the {} most frequent confusions (--json has the whole matrix):",
            classes.len(),
            errs.len()
        );
        for (v, t, p) in errs {
            let _ = writeln!(
                out,
                "  {v:>9}  true {} predicted {}",
                classes[t], classes[p]
            );
        }
    } else {
        let _ = writeln!(
            out,
            "confusion matrix (rows: true class, columns: predicted)"
        );
        let _ = write!(out, "{:<w$}", "");
        for c in &classes {
            let _ = write!(out, " {c:>w$}");
        }
        out.push('\n');
        for (c, row) in classes.iter().zip(&r.confusion) {
            let _ = write!(out, "{c:<w$}");
            for v in row {
                let _ = write!(out, " {v:>w$}");
            }
            out.push('\n');
        }
    }
    let _ = writeln!(
        out,
        "{:<w$} {:>9} {:>9} {:>9} {:>9}",
        "class", "precision", "recall", "f1", "support"
    );
    for s in &r.per_class {
        let _ = writeln!(
            out,
            "{:<w$} {:>9.4} {:>9.4} {:>9.4} {:>9}",
            data::shown_str(&s.class),
            s.precision,
            s.recall,
            s.f1,
            s.support
        );
    }
    out
}

/// `mlp-train gradcheck`: the report text, and the verdict against --tol.
pub fn gradcheck(args: &GradcheckArgs) -> Result<(String, Result<()>)> {
    for (flag, v) in [
        ("--batch", args.batch),
        ("--hidden", args.hidden),
        ("-d", args.d),
        ("--q", args.q),
    ] {
        if v == 0 {
            return Err(Error::flag(flag, "must be >= 1", v));
        }
    }
    use limits::Bound::{Exclusive, Inclusive, Unbounded};
    limits::real("--eps", args.eps, Exclusive(0.0), Unbounded)?;
    limits::real("--lambda", args.lambda, Inclusive(0.0), Unbounded)?;
    // A relative error is ≥ 0: a tolerance of 0 or less could never pass.
    limits::real("--tol", args.tol, Exclusive(0.0), Unbounded)?;
    match &args.data {
        None => gradcheck_memory(args, args.batch, args.d, args.q)?,
        // d, q and the rows are known once the file is read: the smallest first.
        Some(_) => gradcheck_memory(args, 1, 2, 1)?,
    }
    let mut rng = crate::math::rng::seeded(args.seed ^ 0x4752_4144);
    let (x, y, q): (Array2<f64>, Targets<f64>, usize) = match &args.data {
        Some(path) => {
            let opts = columns_options(&args.label, args.task, &args.columns);
            let frame = data::load::<f64>(&Source::parse(path), &opts)?;
            let prep = Prep::fit(&frame, args.task, true, true, true)?;
            let d = prep.transform(frame)?;
            let b = args.batch.min(d.len());
            gradcheck_memory(args, b, d.x.ncols(), prep.outputs())?;
            let rows: Vec<usize> = (0..b).collect();
            let part = d.select(&rows);
            (part.x, part.y, prep.outputs())
        }
        None => {
            let x =
                Array2::from_shape_simple_fn((args.batch, args.d), || rng.random_range(-2.0..2.0));
            let y = match args.loss {
                crate::math::loss::Loss::SoftmaxCe => Targets::Classes(
                    (0..args.batch)
                        .map(|_| rng.random_range(0..args.q))
                        .collect(),
                ),
                crate::math::loss::Loss::HalfSquared => {
                    Targets::Values(Array2::from_shape_simple_fn((args.batch, args.q), || {
                        rng.random_range(-1.0..1.0)
                    }))
                }
            };
            (x, y, args.q)
        }
    };
    let loss = match (&y, args.loss) {
        (Targets::Values(_), _) => crate::math::loss::Loss::HalfSquared,
        (_, l) => l,
    };
    let model = Mlp::<f64>::init(
        x.ncols(),
        args.hidden,
        q,
        args.activation,
        loss,
        Init::Xavier,
        args.seed,
    );
    // --weighted: wᵢ ~ U(0.5, 2.5), drawn after the batch so that the batch is the same.
    let weights: Option<ndarray::Array1<f64>> = args
        .weighted
        .then(|| (0..x.nrows()).map(|_| rng.random_range(0.5..2.5)).collect());
    let target = crate::math::loss::Weighted::new(y.target(), weights.as_ref().map(|w| w.view()));
    let opts = gradcheck::Options {
        lambda: args.lambda,
        eps: args.eps,
        max_entries: 400,
        seed: args.seed,
    };
    let report = gradcheck::check(&model, x.view(), target, &opts)?;
    let verdict = gradcheck::verdict(&report, args.tol);
    let text = if args.json {
        let v = serde_json::json!({
            "batch": x.nrows(), "d": x.ncols(), "h": args.hidden, "q": q,
            "activation": args.activation.name(), "loss": loss.name(),
            "lambda": args.lambda, "eps": args.eps, "tol": args.tol,
            "floor": gradcheck::FLOOR,
            "weights": weights.as_ref().map(|w| w.to_vec()),
            "ok": verdict.is_ok(),
            "matrices": report,
        });
        format!("{v}\n")
    } else {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "gradient check: B={} d={} h={} q={} {} {} λ={} ε={:e}",
            x.nrows(),
            x.ncols(),
            args.hidden,
            q,
            args.activation,
            loss.name(),
            args.lambda,
            args.eps
        );
        if let Some(w) = &weights {
            let shown: Vec<String> = w.iter().map(|v| format!("{v:.3}")).collect();
            let _ = writeln!(
                t,
                "weighted: L = Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ, w = [{}]",
                shown.join(", ")
            );
        }
        let _ = writeln!(
            t,
            "relative error = |analytic − numeric| / max(|analytic|, |numeric|, {:e})",
            gradcheck::FLOOR
        );
        let _ = writeln!(
            t,
            "{:<6} {:>8} {:>8} {:>8} {:>15} {:>9} {:>22} {:>22}",
            "matrix",
            "shape",
            "checked",
            "at kink",
            "max rel. error",
            "where",
            "analytic",
            "numeric"
        );
        for r in &report {
            let _ = writeln!(
                t,
                "{:<6} {:>8} {:>8} {:>8} {:>15.3e} {:>9} {:>22.15e} {:>22.15e}",
                r.name,
                format!("{}×{}", r.shape.0, r.shape.1),
                r.checked,
                r.skipped_at_kink,
                r.max_rel_error,
                format!("[{},{}]", r.worst.0, r.worst.1),
                r.analytic,
                r.numeric
            );
        }
        match &verdict {
            Ok(()) => {
                let _ = writeln!(t, "ok: every error is below the tolerance {:e}", args.tol);
            }
            Err(e) => {
                let _ = writeln!(t, "FAILED: {e}");
            }
        }
        t
    };
    Ok((text, verdict))
}

/// Refuses a gradient check whose batch (b rows of d inputs, q outputs) and model with
/// --hidden units would not fit in memory (f64): the model, a perturbed copy and the
/// gradients, and per row the caches, the gradients and the perturbed copies of z, h, o.
fn gradcheck_memory(args: &GradcheckArgs, b: usize, d: usize, q: usize) -> Result<()> {
    let h = args.hidden;
    let weights = limits::times(h, d).saturating_add(limits::times(q, h));
    let per_row = (h as u128)
        .saturating_mul(9)
        .saturating_add((q as u128).saturating_mul(6))
        .saturating_add(d as u128);
    let mut need = limits::Need::new();
    need.add(
        "W1 and W2, a perturbed copy and the gradients",
        weights.saturating_mul(3),
        8,
    )
    .add(
        "the batch, its caches and gradients",
        per_row.saturating_mul(b as u128),
        8,
    );
    let flags = match &args.data {
        None => format!("-d {d}, --hidden {h}, --q {q} and --batch {b}"),
        Some(_) => format!("--hidden {h} and --batch {} with --data", args.batch),
    };
    limits::check_memory(
        flags,
        &format!("a gradient check of d={d}, h={h}, q={q}, B={b} in f64"),
        &need,
        "lower the sizes (a check needs only a few rows and units)",
    )
}

/// Refuses to explain a (d, h, q) model whose copies would not fit in memory: the model, a
/// perturbed copy, its gradients, and the printed W1, W2, ∂s/∂W and ∂J/∂W as f64 (as JSON,
/// about 30 bytes each more).
fn explain_memory(args: &ExplainArgs, d: usize, h: usize, q: usize) -> Result<()> {
    let weights = limits::times(h, d).saturating_add(limits::times(q, h));
    let mut need = limits::Need::new();
    need.add(
        "the model, its copies and gradients",
        weights.saturating_mul(10),
        8,
    );
    if args.json {
        need.add("the JSON text", weights.saturating_mul(6), 30);
    }
    let flags = match &args.model {
        Some(p) => format!("--model {}", crate::error::shown_path(p)),
        None => format!("--hidden {h}"),
    };
    limits::check_memory(
        flags,
        &format!("explaining a model of d={d}, h={h}, q={q}"),
        &need,
        "explain a smaller model (--hidden)",
    )
}

/// `mlp-train explain`: one row of a CSV through the chapter's formulas.
/// The text (or JSON) and the notes on how the columns were chosen, for stderr.
pub fn explain(args: &ExplainArgs) -> Result<(String, Vec<String>)> {
    use limits::Bound::{Inclusive, Unbounded};
    limits::real("--lambda", args.lambda, Inclusive(0.0), Unbounded)?;
    if args.hidden == 0 {
        return Err(Error::flag("--hidden", "must be >= 1", 0));
    }
    if args.model.is_none() {
        // Before reading the data: the smallest model these flags allow.
        explain_memory(args, 1 + usize::from(!args.no_bias), args.hidden, 1)?;
    }
    let src = Source::parse(&args.data);
    fn data_options<'a>(mut opts: LoadOptions<'a>, args: &ExplainArgs) -> LoadOptions<'a> {
        opts.delimiter = args.delimiter.byte();
        opts.ignore = ignore_specs(&args.ignore);
        opts.features = ignore_specs(&args.features);
        opts.no_header = args.no_header;
        opts.npz = args.npz.names();
        opts
    }
    // With --model, λ is the model's (clap refuses --lambda and the other model flags
    // beside it), as are φ, ℓ, h, the bias, the preprocessing and the precision: an f32
    // model's data is read and standardized in f32, as in training. The data is read once
    // (it may be standard input).
    let mut notes = Vec::new();
    // The model's weighting and this row's --weight-column value, when it was trained weighted.
    let mut row_weight: Option<(data::weights::Weighting, Option<f64>)> = None;
    let sample = match &args.model {
        Some(path) => {
            let mf = limits::load_model(path)?;
            let a = &mf.architecture;
            explain_memory(args, a.inputs, a.hidden, a.outputs)?;
            let lambda = mf
                .hyperparameters
                .get("lambda")
                .and_then(serde_json::Value::as_f64)
                .filter(|l| l.is_finite() && *l >= 0.0)
                .ok_or_else(|| Error::Model {
                    path: path.clone(),
                    msg: "hyperparameters.lambda is missing or not a number >= 0".into(),
                })?;
            let mut opts = data_options(
                LoadOptions::new(
                    mf.prep
                        .labels
                        .iter()
                        .cloned()
                        .map(LabelSpec::Name)
                        .collect(),
                    label_kind(mf.prep.task),
                ),
                args,
            );
            // The model's columns by name; for a model trained with --weight-column, that
            // column too when the file has it (the row's wᵢ is then shown). A file (not a
            // pipe, which cannot be read twice) without it is read again without it.
            data::prep::read_encoded(&mut opts, &mf.prep.categorical(), mf.prep.imputes());
            let columns = mf.prep.number_columns();
            let weight_column = mf.weighting.as_ref().and_then(|w| w.weight_column.clone());
            let with_weight = mf.prep.number_columns_and(weight_column.as_deref());
            let sample_of = |expected: &[String], notes: &mut Vec<String>| {
                let mut opts = opts.clone();
                opts.expected_features = Some(expected);
                let file = Some(path.display().to_string());
                match mf.precision.as_str() {
                    "f32" => file_sample::<f32>(&mf, &src, &opts, args.row, lambda, file, notes),
                    _ => file_sample::<f64>(&mf, &src, &opts, args.row, lambda, file, notes),
                }
            };
            let (s, w) = match (&weight_column, sample_of(&with_weight, &mut notes)) {
                (Some(_), Err(Error::Data { .. })) if !matches!(src, Source::Stdin) => {
                    sample_of(&columns, &mut notes)?
                }
                (_, r) => r?,
            };
            row_weight = mf.weighting.as_ref().map(|m| (m.clone(), w));
            s
        }
        None => {
            let opts = data_options(
                LoadOptions::new(label_specs(&args.label), label_kind(args.task)),
                args,
            );
            let frame = data::load::<f64>(&src, &opts)?;
            notes = column_notes(&frame);
            let prep = Prep::fit(&frame, args.task, true, true, !args.no_bias)?;
            explain_memory(args, prep.inputs(), args.hidden, prep.outputs())?;
            let loss = match args.task {
                Task::Classify => crate::math::loss::Loss::SoftmaxCe,
                Task::Regress => crate::math::loss::Loss::HalfSquared,
            };
            let m = Mlp::init(
                prep.inputs(),
                args.hidden,
                prep.outputs(),
                args.activation,
                loss,
                Init::Xavier,
                args.seed,
            );
            check_row(args.row, &frame, &src)?;
            diagnostics::sample(&m, &prep, &frame, args.row, args.lambda, None)?
        }
    };
    let eopts = ExplainOptions::default();
    let e = sample.explain(&eopts)?;
    let weight = row_weight.map(|(m, s)| explained_weight(&e, &m, s));
    let text = if args.json {
        let mut v = serde_json::to_value(&e).unwrap_or_default();
        if let (Some(w), Some(obj)) = (&weight, v.as_object_mut()) {
            obj.insert("weight".into(), serde_json::json!(w));
        }
        let json = serde_json::to_string_pretty(&v).unwrap_or_default();
        format!("{}\n", data::json_safe(json))
    } else {
        let mut t = crate::show::explain::render_text(&e, &eopts);
        if let Some(w) = &weight {
            t.push_str(&w.text());
        }
        t
    };
    Ok((text, notes))
}

/// What the explained row weighs in the weighted loss L = Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ of a model trained
/// with --weight-column / --class-weight, and its weighted ∂ℓ/∂o.
#[derive(serde::Serialize)]
struct ExplainedWeight {
    /// The row's --weight-column value (None: the file lacks the column, or no such flag).
    sample: Option<f64>,
    /// The weight of the row's class (--class-weight).
    class: Option<f64>,
    /// wᵢ = sample × class (a missing factor is 1).
    w: f64,
    /// wᵢ · ∂ℓ/∂o: the row's term of Σᵢ wᵢ ∂ℓᵢ/∂oᵢ, which a minibatch divides by its Σw.
    weighted_d_o: Vec<f64>,
}

impl ExplainedWeight {
    fn text(&self) -> String {
        let mut t = String::from("\nweight (the model was trained on L = Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ)\n");
        let part = |v: Option<f64>, what: &str| v.map(|v| format!("{v} ({what})"));
        let parts: Vec<String> = [
            part(self.sample, "weight column"),
            part(self.class, "class weight"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let _ = writeln!(t, "  w = {} = {}", parts.join(" × "), self.w);
        let d: Vec<String> = self
            .weighted_d_o
            .iter()
            .map(|v| format!("{v:.6}"))
            .collect();
        let _ = writeln!(t, "  w ∂ℓ/∂o = [{}]", d.join(", "));
        let _ = writeln!(
            t,
            "  in a minibatch this row's ∂L/∂o is w ∂ℓ/∂o / Σw; alone (B = 1, as above) w/Σw = 1"
        );
        t
    }
}

fn explained_weight(
    e: &crate::train::explain::Explanation,
    m: &data::weights::Weighting,
    sample: Option<f64>,
) -> ExplainedWeight {
    use crate::train::explain::{ExplainTarget, Value};
    let class = match (&m.class_weights, &e.y) {
        (Some(c), ExplainTarget::Class(k, _)) => c.get(*k).copied(),
        _ => None,
    };
    let w = sample.unwrap_or(1.0) * class.unwrap_or(1.0);
    let d_o = e
        .backward
        .iter()
        .find(|s| s.name == "d_o")
        .and_then(|s| match &s.value {
            Value::Vector(v) => Some(v.iter().map(|d| w * d).collect()),
            _ => None,
        })
        .unwrap_or_default();
    ExplainedWeight {
        sample,
        class,
        w,
        weighted_d_o: d_o,
    }
}

/// The data's notes on how --label and --ignore chose their columns (a number naming a
/// column takes it before the column at that index).
fn column_notes<T>(frame: &data::Frame<T>) -> Vec<String> {
    frame
        .warnings
        .iter()
        .filter(|w| is_column_note(w))
        .cloned()
        .collect()
}

/// Whether a frame's warning is about the choice of columns (a flag's number taken as a
/// name, columns the model does not use, a header that looks like data), which predict,
/// eval and explain show; the others (a real-valued label) are training's concern.
fn is_column_note(w: &str) -> bool {
    w.starts_with("--")
        || w.contains(": the model does not use column")
        || w.contains(": the first line looks like data")
}

/// The `LoadOptions` of a --data file for gradcheck and graph: training's data flags.
fn columns_options(
    label: &[String],
    task: Task,
    columns: &crate::cli::args::DataColumns,
) -> LoadOptions<'static> {
    let mut opts = LoadOptions::new(label_specs(label), label_kind(task));
    opts.delimiter = columns.delimiter.byte();
    opts.ignore = ignore_specs(&columns.ignore);
    opts.features = ignore_specs(&columns.features);
    opts.no_header = columns.no_header;
    opts.npz = columns.npz.names();
    opts
}

/// Row `row` of the data file through the saved model, read in the model's precision `T`.
fn file_sample<T: Real>(
    mf: &ModelFile,
    src: &Source,
    opts: &LoadOptions,
    row: usize,
    lambda: f64,
    file: Option<String>,
    notes: &mut Vec<String>,
) -> Result<(diagnostics::Sample, Option<f64>)> {
    let mut frame = data::load::<T>(src, opts)?;
    *notes = column_notes(&frame);
    check_row(row, &frame, src)?;
    // The model's --weight-column, when the file has it: out of the features, its value kept.
    // The columns were read by the model's names (`opts.expected_features`), so what is left
    // is the model's features.
    let column = mf
        .weighting
        .as_ref()
        .and_then(|w| w.weight_column.as_deref());
    let mut weight = None;
    if let Some(c) = column {
        if frame.feature_names.iter().any(|n| n == c) {
            let w = data::weights::take_column(&mut frame, c, "the model's --weight-column")?;
            weight = Some(w[row].f64());
        }
    }
    let s = diagnostics::sample(&mf.mlp::<T>(), &mf.prep, &frame, row, lambda, file)?;
    Ok((s, weight))
}

/// `--row` must name a data row of the file.
fn check_row<T: Real>(row: usize, frame: &data::Frame<T>, src: &Source) -> Result<()> {
    let n = frame.x.nrows();
    if row >= n {
        return Err(Error::flag(
            "--row",
            format!("must be below {n}, the number of data rows in {src}"),
            row,
        ));
    }
    Ok(())
}

/// `mlp-train graph`: the computation graph as DOT, or SVG through Graphviz.
pub fn graph(args: &GraphArgs) -> Result<String> {
    let shapes = match (&args.model, &args.data) {
        (Some(path), _) => {
            let mf = limits::load_model(path)?;
            let a = &mf.architecture;
            Some(GraphShapes {
                d: a.inputs,
                h: a.hidden,
                q: a.outputs,
                batch: None,
                bias: a.bias,
                activation: a.activation,
                loss: a.loss,
            })
        }
        (None, Some(file)) => {
            if args.hidden == 0 {
                return Err(Error::flag("--hidden", "must be >= 1", 0));
            }
            // The shapes a training with the same model flags would give.
            let opts = columns_options(&args.label, args.task, &args.columns);
            let frame = data::load::<f64>(&Source::parse(file), &opts)?;
            let prep = Prep::fit(&frame, args.task, true, true, !args.no_bias)?;
            let loss = args.loss.unwrap_or(match args.task {
                Task::Classify => crate::math::loss::Loss::SoftmaxCe,
                Task::Regress => crate::math::loss::Loss::HalfSquared,
            });
            Some(GraphShapes {
                d: prep.inputs(),
                h: args.hidden,
                q: prep.outputs(),
                batch: Some(args.batch_size),
                bias: !args.no_bias,
                activation: args.activation,
                loss,
            })
        }
        (None, None) => None,
    };
    match (args.format, args.engine) {
        (GraphFormat::Dot, _) => Ok(crate::show::graph::dot(shapes)),
        (GraphFormat::Svg, GraphEngine::Builtin) => Ok(crate::show::graph::builtin_svg(shapes)),
        (GraphFormat::Svg, GraphEngine::Dot) => {
            crate::show::graph::render_svg(&crate::show::graph::dot(shapes))
                .map_err(Error::External)
        }
    }
}
