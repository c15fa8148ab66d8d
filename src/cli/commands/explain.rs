//! `mlp-train explain`: one sample through the forward and backward passes, every
//! intermediate shown beside the formula that made it.

use std::fmt::Write;

use super::column_notes;
use crate::cli::args::ExplainArgs;
use crate::data::modelfile::ModelFile;
use crate::data::prep::{Prep, Task};
use crate::data::{self, LabelSpec, LoadOptions, Source};
use crate::math::model::{Init, Mlp};
use crate::train::diagnostics::{self};
use crate::train::explain::ExplainOptions;
use crate::train::limits;
use crate::train::run::{ignore_specs, label_kind, label_specs};
use crate::{Error, Real, Result};

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
            let mut opts = data_options(
                LoadOptions::new(label_specs(&args.label), label_kind(args.task)),
                args,
            );
            // Categories and blanks as training reads them, fitted on the file's rows.
            let enc = args.encode();
            data::prep::read_encoded(&mut opts, &enc.categorical, enc.impute.is_some());
            let frame = data::load::<f64>(&src, &opts)?;
            notes = column_notes(&frame);
            let prep = Prep::fit_encoded(&frame, args.task, true, true, !args.no_bias, &enc)?;
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
