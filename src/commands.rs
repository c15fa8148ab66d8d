//! The subcommands other than training (predict, gradcheck, explain, graph): each takes its
//! parsed flags and returns the text to print, so that main.rs only prints.

use std::fmt::Write;

use ndarray::Array2;
use rand::Rng as _;

use crate::cli::{ExplainArgs, GradcheckArgs, GraphArgs, GraphFormat, PredictArgs};
use crate::data::{self, LabelSpec, Labels as FrameLabels, LoadOptions, Source};
use crate::explain::{ExplainOptions, ExplainTarget};
use crate::gradcheck;
use crate::graph::GraphShapes;
use crate::loss::{softmax_rows, Target};
use crate::metrics;
use crate::model::{Cache, Init, Mlp};
use crate::modelfile::ModelFile;
use crate::output;
use crate::prep::{Prep, Task};
use crate::run::{label_kind, label_specs, predict_values};
use crate::train::{argmax, Labels};
use crate::{Error, Real, Result};

/// What `predict` prints: predictions and report go to stdout or stderr depending on --out.
pub struct PredictOutput {
    pub stdout: String,
    pub stderr: String,
}

/// `mlp-train predict`: one CSV row per input, and a report when the labels are present.
pub fn predict(args: &PredictArgs) -> Result<PredictOutput> {
    let mf = ModelFile::load(&args.model)?;
    if let Some(out) = &args.out {
        output::check_writable(out, "--out")?;
    }
    let prep = &mf.prep;
    // Predict in the precision the model was trained in, so that an f32 model's predictions
    // are exactly those it was evaluated with.
    let (mut o, truth) = match mf.precision.as_str() {
        "f32" => outputs::<f32>(&mf, &args.data)?,
        _ => outputs::<f64>(&mf, &args.data)?,
    };

    let mut csv = String::new();
    let mut report = String::new();
    match (&prep.classes, prep.task) {
        (Some(classes), Task::Classify) => {
            softmax_rows(o.view_mut());
            let predicted: Vec<usize> = o.outer_iter().map(|r| argmax(r.iter().copied())).collect();
            let _ = write!(csv, "{}", csv_field(&prep.labels.join(",")));
            if args.proba {
                for c in classes {
                    let _ = write!(csv, ",{}", csv_field(&format!("p_{c}")));
                }
            }
            csv.push('\n');
            for (row, &k) in o.outer_iter().zip(&predicted) {
                csv.push_str(&csv_field(&classes[k]));
                if args.proba {
                    for p in row {
                        let _ = write!(csv, ",{p}");
                    }
                }
                csv.push('\n');
            }
            if let Some(Labels::Classes(t)) = &truth {
                let r = metrics::classification(t, &predicted, classes);
                report = if args.json {
                    format!("{}\n", serde_json::to_string(&r).unwrap_or_default())
                } else {
                    class_report_text(&r, classes)
                };
            }
        }
        _ => {
            if let Some(st) = &prep.target_standardize {
                st.invert(o.view_mut());
            }
            let header: Vec<String> = prep.labels.iter().map(|l| csv_field(l)).collect();
            let _ = writeln!(csv, "{}", header.join(","));
            for row in o.outer_iter() {
                let cells: Vec<String> = row.iter().map(|v| v.to_string()).collect();
                let _ = writeln!(csv, "{}", cells.join(","));
            }
            if let Some(Labels::Values(mut y)) = truth {
                if let Some(st) = &prep.target_standardize {
                    st.invert(y.view_mut());
                }
                let flat = |a: &Array2<f64>| a.iter().copied().collect::<Vec<_>>();
                let r = metrics::regression(&flat(&y), &flat(&o), y.ncols());
                report = if args.json {
                    format!("{}\n", serde_json::to_string(&r).unwrap_or_default())
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
    match &args.out {
        Some(path) => {
            output::write_atomic(path, csv.as_bytes())?;
            Ok(PredictOutput {
                stdout: report,
                stderr: String::new(),
            })
        }
        None => Ok(PredictOutput {
            stdout: csv,
            stderr: report,
        }),
    }
}

/// The model's outputs O for every row of `data` (widened to f64), and the labels when the
/// file has them.
fn outputs<T: Real>(mf: &ModelFile, data: &str) -> Result<(Array2<f64>, Option<Labels<f64>>)> {
    let prep = &mf.prep;
    let model: Mlp<T> = mf.mlp();
    let mut opts = LoadOptions::new(
        prep.labels.iter().cloned().map(LabelSpec::Name).collect(),
        label_kind(prep.task),
    );
    opts.expected_features = Some(&prep.features);
    opts.optional_label = true;
    let frame = data::load::<T>(&Source::parse(data), &opts)?;
    let (x, truth) = match frame.labels {
        FrameLabels::None => (prep.transform_x(frame.x), None),
        _ => {
            let d = prep.transform(frame)?;
            (d.x, Some(d.y))
        }
    };
    let mut cache = Cache::for_model(&model, 1024.min(x.nrows().max(1)));
    let o = predict_values(&model, x.view(), &mut cache)?.mapv(|v| v.f64());
    let truth = truth.map(|y| match y {
        Labels::Classes(c) => Labels::Classes(c),
        Labels::Values(v) => Labels::Values(v.mapv(|t| t.f64())),
    });
    Ok((o, truth))
}

/// Quotes a CSV field when it needs it.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn class_report_text(r: &metrics::ClassReport, classes: &[String]) -> String {
    let mut out = String::new();
    let n: u64 = r.confusion.iter().flatten().sum();
    let correct: u64 = (0..classes.len()).map(|k| r.confusion[k][k]).sum();
    let _ = writeln!(out, "accuracy {:.2}% ({correct}/{n})", 100.0 * r.accuracy);
    let w = classes.iter().map(|c| c.len()).max().unwrap_or(5).max(9);
    let _ = writeln!(
        out,
        "confusion matrix (rows: true class, columns: predicted)"
    );
    let _ = write!(out, "{:<w$}", "");
    for c in classes {
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
    let _ = writeln!(
        out,
        "{:<w$} {:>9} {:>9} {:>9} {:>9}",
        "class", "precision", "recall", "f1", "support"
    );
    for s in &r.per_class {
        let _ = writeln!(
            out,
            "{:<w$} {:>9.4} {:>9.4} {:>9.4} {:>9}",
            s.class, s.precision, s.recall, s.f1, s.support
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
        ("-q", args.q),
    ] {
        if v == 0 {
            return Err(Error::flag(flag, "must be >= 1", v));
        }
    }
    if !(args.eps.is_finite() && args.eps > 0.0) {
        return Err(Error::flag(
            "--eps",
            "must be a finite number > 0",
            args.eps,
        ));
    }
    if !(args.lambda.is_finite() && args.lambda >= 0.0) {
        return Err(Error::flag(
            "--lambda",
            "must be a finite number >= 0",
            args.lambda,
        ));
    }
    let mut rng = crate::rng::seeded(args.seed ^ 0x4752_4144);
    let (x, y, q): (Array2<f64>, Labels<f64>, usize) = match &args.data {
        Some(path) => {
            let opts = LoadOptions::new(label_specs(&args.label), label_kind(args.task));
            let frame = data::load::<f64>(&Source::parse(path), &opts)?;
            let prep = Prep::fit(&frame, args.task, true, true, true)?;
            let d = prep.transform(frame)?;
            let b = args.batch.min(d.len());
            let rows: Vec<usize> = (0..b).collect();
            let part = d.select(&rows);
            (part.x, part.y, prep.outputs())
        }
        None => {
            let x =
                Array2::from_shape_simple_fn((args.batch, args.d), || rng.random_range(-2.0..2.0));
            let y = match args.loss {
                crate::loss::Loss::SoftmaxCe => Labels::Classes(
                    (0..args.batch)
                        .map(|_| rng.random_range(0..args.q))
                        .collect(),
                ),
                crate::loss::Loss::HalfSquared => {
                    Labels::Values(Array2::from_shape_simple_fn((args.batch, args.q), || {
                        rng.random_range(-1.0..1.0)
                    }))
                }
            };
            (x, y, args.q)
        }
    };
    let loss = match (&y, args.loss) {
        (Labels::Values(_), _) => crate::loss::Loss::HalfSquared,
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
    let target: Target<f64> = y.target();
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

/// `mlp-train explain`: one row of a CSV through the chapter's formulas.
pub fn explain(args: &ExplainArgs) -> Result<String> {
    if !(args.lambda.is_finite() && args.lambda >= 0.0) {
        return Err(Error::flag(
            "--lambda",
            "must be a finite number >= 0",
            args.lambda,
        ));
    }
    if args.hidden == 0 {
        return Err(Error::flag("--hidden", "must be >= 1", 0));
    }
    let src = Source::parse(&args.data);
    let (model, prep) = match &args.model {
        Some(path) => {
            let mf = ModelFile::load(path)?;
            (mf.mlp::<f64>(), mf.prep)
        }
        None => {
            let opts = LoadOptions::new(label_specs(&args.label), label_kind(args.task));
            let frame = data::load::<f64>(&src, &opts)?;
            let prep = Prep::fit(&frame, args.task, true, true, !args.no_bias)?;
            let loss = match args.task {
                Task::Classify => crate::loss::Loss::SoftmaxCe,
                Task::Regress => crate::loss::Loss::HalfSquared,
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
            (m, prep)
        }
    };
    let mut opts = LoadOptions::new(
        prep.labels.iter().cloned().map(LabelSpec::Name).collect(),
        label_kind(prep.task),
    );
    opts.expected_features = Some(&prep.features);
    let frame = data::load::<f64>(&src, &opts)?;
    let n = frame.x.nrows();
    if args.row >= n {
        return Err(Error::flag(
            "--row",
            format!("must be below {n}, the number of data rows in {src}"),
            args.row,
        ));
    }
    let class_name = match &frame.labels {
        FrameLabels::Classes(c) => Some(c[args.row].clone()),
        _ => None,
    };
    let rows = [args.row];
    let one = crate::data::Frame {
        x: frame.x.select(ndarray::Axis(0), &rows),
        labels: match frame.labels {
            FrameLabels::Classes(c) => FrameLabels::Classes(vec![c[args.row].clone()]),
            FrameLabels::Targets(t) => FrameLabels::Targets(t.select(ndarray::Axis(0), &rows)),
            FrameLabels::None => FrameLabels::None,
        },
        label_lines: vec![frame.label_lines[args.row]],
        ..frame
    };
    let d = prep.transform(one)?;
    let y = match d.y {
        Labels::Classes(c) => ExplainTarget::Class(c[0], class_name),
        Labels::Values(v) => ExplainTarget::Values(v.row(0).to_vec()),
    };
    let eopts = ExplainOptions::default();
    let e = crate::explain::explain(&model, d.x.row(0), y, args.lambda, &eopts)?;
    Ok(if args.json {
        format!("{}\n", serde_json::to_string_pretty(&e).unwrap_or_default())
    } else {
        crate::explain::render_text(&e, &eopts)
    })
}

/// `mlp-train graph`: the computation graph as DOT, or SVG through Graphviz.
pub fn graph(args: &GraphArgs) -> Result<String> {
    let shapes = match (&args.model, &args.data) {
        (Some(path), _) => {
            let mf = ModelFile::load(path)?;
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
            let opts = LoadOptions::new(vec![LabelSpec::Last], label_kind(Task::Classify));
            let frame = data::load::<f64>(&Source::parse(file), &opts)?;
            let prep = Prep::fit(&frame, Task::Classify, true, true, true)?;
            Some(GraphShapes {
                d: prep.inputs(),
                h: 32,
                q: prep.outputs(),
                batch: Some(32), // the default --batch-size
                bias: true,
                activation: crate::activation::Activation::Relu,
                loss: crate::loss::Loss::SoftmaxCe,
            })
        }
        (None, None) => None,
    };
    let dot = crate::graph::dot(shapes);
    match args.format {
        GraphFormat::Dot => Ok(dot),
        GraphFormat::Svg => crate::graph::render_svg(&dot).map_err(Error::External),
    }
}
