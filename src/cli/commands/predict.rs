//! `mlp-train predict` and `eval`: the model's outputs for each row of a file, the report
//! when the file has labels, the quality gates and --baseline.

use std::fmt::Write;
use std::io::IsTerminal;

use ndarray::Array2;

use super::column_notes;
use crate::cli::args::PredictArgs;
use crate::cli::output;
use crate::cli::train::Verdict;
use crate::data::encode::Unseen;
use crate::data::matrices::Targets;
use crate::data::modelfile::ModelFile;
use crate::data::prep::Task;
use crate::data::{self, LabelSpec, Labels as FrameLabels, LoadOptions, Source};
use crate::math::loss::softmax_rows;
use crate::math::model::Mlp;
use crate::show::html;
use crate::show::html::confusion;
use crate::show::report;
use crate::train::baseline::{Baseline, FileId, Identity};
use crate::train::diagnostics::{self, Diagnostics, Predictions};
use crate::train::gates;
use crate::train::limits;
use crate::train::metrics;
use crate::train::metrics::RegressionReport;
use crate::train::predict;
use crate::train::run::Evaluation;
use crate::train::run::{ignore_specs, label_kind};
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
    // The report's line on categories unseen in training, which the page shows too.
    let unseen_line = unseen.note().map(|n| format!("unseen categories: {n}"));
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
        if let Some(line) = &unseen_line {
            let _ = writeln!(report, "{line}");
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
            // The page says what the report says: weighted metrics, unseen categories.
            let weighted = match (&args.weight_column, &weights) {
                (Some(c), Some(w)) => Some((c.as_str(), &w[..])),
                _ => None,
            };
            let page = html::predict_page(
                &args.model,
                &mf,
                &args.data.to_string_lossy(),
                &diag,
                objective,
                weighted,
                &unseen_line.iter().cloned().collect::<Vec<_>>(),
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
