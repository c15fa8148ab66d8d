//! The saved model: a versioned JSON file with the architecture, the preprocessing, the
//! hyperparameters, final metrics and the weights, whose floats round-trip exactly.

use std::path::Path;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::data::prep::{Prep, Task};
use crate::math::activation::Activation;
use crate::math::loss::Loss;
use crate::math::model::Mlp;
use crate::{Error, Real, Result};

/// The format this version writes. 2 added `prep.encoding` (categories and blanks); a
/// version-1 file (without it) is read as it always was.
pub const FORMAT_VERSION: u32 = 2;
/// The oldest format this version reads.
pub const OLDEST_FORMAT_VERSION: u32 = 1;
/// The `format` field, to recognise our files.
pub const FORMAT_NAME: &str = "mlp-train model";
/// The size of an ordinary input: a model must give finite outputs for every raw feature
/// with |x| ≤ this (see `ModelFile::check_bounds`); a larger input that overflows is found
/// at prediction, naming its row.
pub const ORDINARY_INPUT: f64 = 1e6;
/// Largest model file read, in bytes (a guard against loading something absurd).
pub const MAX_BYTES: u64 = 2 << 30;

/// The architecture: z = W1 x (W1: hidden × inputs), h = φ(z), o = W2 h (W2: outputs × hidden).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Architecture {
    /// d: model inputs, the features plus 1 when `bias` is on.
    pub inputs: usize,
    /// h: hidden units.
    pub hidden: usize,
    /// q: classes or targets.
    pub outputs: usize,
    pub activation: Activation,
    pub loss: Loss,
    /// The last input is the constant 1 (so W1's last column is the hidden bias).
    pub bias: bool,
}

/// A saved model. Weights are written as f64 numbers in shortest round-trip form (an f32
/// weight widens exactly to f64, so it reads back bit for bit).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelFile {
    pub format: String,
    pub format_version: u32,
    pub created_by: String,
    /// `f32` or `f64`: the precision it was trained in.
    pub precision: String,
    pub architecture: Architecture,
    pub prep: Prep,
    /// The training flags (λ, η, μ, B, epochs, seed, init…), for the record.
    pub hyperparameters: serde_json::Value,
    /// Final metrics of the run that wrote it.
    pub metrics: serde_json::Value,
    /// Epochs completed.
    pub epochs_run: usize,
    /// True when training was stopped by Ctrl-C/SIGTERM before the planned epochs.
    pub interrupted: bool,
    /// W1: `hidden` rows of `inputs` numbers.
    #[serde(deserialize_with = "crate::data::modelsize::weights")]
    pub w1: Vec<Vec<f64>>,
    /// W2: `outputs` rows of `hidden` numbers.
    #[serde(deserialize_with = "crate::data::modelsize::weights")]
    pub w2: Vec<Vec<f64>>,
    /// What the metrics were measured on — the data's content fingerprint, features,
    /// classes, task and split (`train::baseline::Identity`) — so that the file can serve as
    /// a `--baseline`. Absent in files written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<serde_json::Value>,
    /// `--weight-column` / `--class-weight` of the run that trained it (each class's weight
    /// included); absent when every row weighed 1, and in files written before weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weighting: Option<crate::data::weights::Weighting>,
}

fn rows<T: Real>(w: &Array2<T>) -> Vec<Vec<f64>> {
    w.outer_iter()
        .map(|r| r.iter().map(|v| v.f64()).collect())
        .collect()
}

impl ModelFile {
    /// Packs a trained model with its preprocessing and the record of how it was trained.
    pub fn new<T: Real>(
        m: &Mlp<T>,
        prep: &Prep,
        hyperparameters: serde_json::Value,
        metrics: serde_json::Value,
        epochs_run: usize,
        interrupted: bool,
    ) -> Self {
        let (d, h, q) = m.dims();
        ModelFile {
            format: FORMAT_NAME.into(),
            format_version: FORMAT_VERSION,
            created_by: format!("mlp-train {}", env!("CARGO_PKG_VERSION")),
            precision: T::NAME.into(),
            architecture: Architecture {
                inputs: d,
                hidden: h,
                outputs: q,
                activation: m.activation,
                loss: m.loss,
                bias: prep.bias,
            },
            prep: prep.clone(),
            hyperparameters,
            metrics,
            epochs_run,
            interrupted,
            w1: rows(&m.w1),
            w2: rows(&m.w2),
            identity: None,
            weighting: None,
        }
    }

    /// The JSON text (pretty, with a final newline).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a model serializes");
        s.push('\n');
        s
    }

    /// Reads and validates a model file (`train::limits::load_model` checks its memory first).
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = Self::read(path)?;
        Self::from_bytes(&bytes).map_err(|msg| Error::Model {
            path: path.to_path_buf(),
            msg,
        })
    }

    /// The bytes of a model file, up to [`MAX_BYTES`]; memory refused is an error, not an abort.
    pub fn read(path: &Path) -> Result<Vec<u8>> {
        use std::io::Read;
        let bad = |msg: String| Error::Model {
            path: path.to_path_buf(),
            msg,
        };
        let file = std::fs::File::open(path).map_err(|e| bad(format!("cannot open: {e}")))?;
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(bad("is a directory, not a model file".into()));
        }
        // The file's size, reserved at once: reading would otherwise double the buffer.
        let mut bytes = Vec::new();
        let size = file.metadata().map_or(0, |m| m.len().min(MAX_BYTES));
        if bytes.try_reserve_exact(size as usize + 1).is_err() {
            return Err(bad(format!(
                "cannot be read: its {size} bytes do not fit in the memory this process may use"
            )));
        }
        file.take(MAX_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| bad(format!("cannot read: {e}")))?;
        if bytes.len() as u64 > MAX_BYTES {
            return Err(bad(format!(
                "is larger than {MAX_BYTES} bytes; not a model file"
            )));
        }
        Ok(bytes)
    }

    /// Parses and validates model JSON; the error says what is wrong, without the path.
    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<Self, String> {
        // A UTF-8 byte-order mark is skipped (as the CSV reader does); UTF-16 is named.
        if let Some(what) = crate::data::foreign_encoding(bytes) {
            return Err(what.to_string());
        }
        let bytes = crate::data::without_utf8_bom(bytes);
        // First the envelope, so that a newer format gets a clear message rather than a
        // complaint about some field.
        #[derive(Deserialize)]
        struct Envelope {
            format: Option<String>,
            format_version: Option<serde_json::Value>,
        }
        let env: Envelope = serde_json::from_slice(bytes).map_err(|e| {
            if e.is_eof() {
                format!("is truncated or not JSON ({e})")
            } else {
                format!("is not a model file: invalid JSON ({e})")
            }
        })?;
        if env.format.as_deref() != Some(FORMAT_NAME) {
            return Err(format!(
                "is not an mlp-train model (its `format` field is {:?}, expected {FORMAT_NAME:?})",
                env.format.unwrap_or_default()
            ));
        }
        match env.format_version.as_ref().and_then(|v| v.as_u64()) {
            Some(v) if (OLDEST_FORMAT_VERSION as u64..=FORMAT_VERSION as u64).contains(&v) => {}
            Some(v) => {
                return Err(format!(
                "has format_version {v}, but this mlp-train {} reads only versions {OLDEST_FORMAT_VERSION} to {FORMAT_VERSION}; use a matching mlp-train",
                env!("CARGO_PKG_VERSION")
            ))
            }
            None => return Err("has no valid `format_version` field".into()),
        }
        let mut m: ModelFile = serde_json::from_slice(bytes).map_err(|e| {
            let e = e.to_string();
            if e.contains(crate::data::modelsize::OUT_OF_MEMORY) {
                format!("does not fit in the memory this process may use: {e}")
            } else {
                format!("is not a valid model: {e}")
            }
        })?;
        // Header names are read trimmed of Unicode whitespace (`data::layout`); a model
        // written before that (a name ending in a no-break space) matches its data again.
        for name in m.prep.features.iter_mut().chain(m.prep.labels.iter_mut()) {
            if name.trim() != name {
                *name = name.trim().to_string();
            }
        }
        m.validate()?;
        Ok(m)
    }

    /// Checks that the declared sizes agree with each other and with the weights.
    fn validate(&self) -> std::result::Result<(), String> {
        let a = &self.architecture;
        let p = &self.prep;
        let check = |what: &str, declared: usize, actual: usize| {
            if declared == actual {
                Ok(())
            } else {
                Err(format!(
                    "declares {what} = {declared} but has {actual}; the file is inconsistent"
                ))
            }
        };
        if a.inputs == 0 || a.hidden == 0 || a.outputs == 0 {
            return Err(
                "declares a zero dimension (inputs, hidden and outputs must be ≥ 1)".into(),
            );
        }
        check("inputs", a.inputs, p.features.len() + usize::from(p.bias))?;
        self.check_names()?;
        if let Some(e) = &p.encoding {
            if self.format_version < 2 {
                return Err("has prep.encoding, which format_version 1 does not have".into());
            }
            e.validate(&p.features)?;
        }
        check("bias", usize::from(a.bias), usize::from(p.bias))?;
        check("hidden (rows of w1)", a.hidden, self.w1.len())?;
        check("outputs (rows of w2)", a.outputs, self.w2.len())?;
        for (i, r) in self.w1.iter().enumerate() {
            check(&format!("inputs (length of w1 row {i})"), a.inputs, r.len())?;
        }
        for (i, r) in self.w2.iter().enumerate() {
            check(&format!("hidden (length of w2 row {i})"), a.hidden, r.len())?;
        }
        match (p.task, &p.classes) {
            (Task::Classify, Some(c)) => {
                check("outputs (classes)", a.outputs, c.len())?;
                // Labels are looked up by binary search in this order.
                if *c != crate::data::prep::sorted_classes(c) {
                    return Err(
                        "has a class list that is not sorted or has duplicates; the file is inconsistent"
                            .into(),
                    );
                }
                check("labels (label columns of a classifier)", 1, p.labels.len())?;
            }
            (Task::Classify, None) => return Err("is a classifier without a class list".into()),
            (Task::Regress, _) => check("outputs (targets)", a.outputs, p.labels.len())?,
        }
        if p.task == Task::Regress && a.loss == Loss::SoftmaxCe {
            return Err(
                "is a regression model with the softmax_ce loss, which needs classes".into(),
            );
        }
        for (name, st, columns) in [
            ("standardize", &p.standardize, &p.features),
            ("target_standardize", &p.target_standardize, &p.labels),
        ] {
            if let Some(st) = st {
                check(&format!("{name} means"), columns.len(), st.mean.len())?;
                check(&format!("{name} stds"), columns.len(), st.std.len())?;
            }
        }
        // Every number must be finite in the precision the model computes in: 1e300 is a
        // number in f64 but infinity in f32, and would turn every prediction into NaN.
        match self.precision.as_str() {
            "f32" | "f64" => {
                self.check_numbers_in(&self.precision.clone(), "the model's precision")
            }
            other => Err(format!(
                "has precision {other:?}; expected \"f32\" or \"f64\""
            )),
        }
    }

    /// Each feature and label name once: a data file's columns are selected by these names,
    /// so a repeated one (or a label that is also a feature) could never match any file.
    fn check_names(&self) -> std::result::Result<(), String> {
        let p = &self.prep;
        let fields = p
            .features
            .iter()
            .enumerate()
            .map(|(j, n)| (format!("prep.features[{j}]"), n))
            .chain(
                p.labels
                    .iter()
                    .enumerate()
                    .map(|(k, n)| (format!("prep.labels[{k}]"), n)),
            );
        let mut seen: std::collections::HashMap<&str, String> = Default::default();
        for (field, name) in fields {
            if name.is_empty() {
                return Err(format!("has an empty column name at {field}"));
            }
            if let Some(first) = seen.get(name.as_str()) {
                let what = if field.starts_with("prep.labels") && first.starts_with("prep.features")
                {
                    "its label is also one of its features"
                } else {
                    "a column name appears twice"
                };
                return Err(format!(
                    "has the column name {name:?} at both {first} and {field}: {what}; the file is inconsistent"
                ));
            }
            seen.insert(name.as_str(), field);
        }
        Ok(())
    }

    /// Checks that every weight, mean and std is finite (and every std > 0) once converted to
    /// `precision` (`f32` or `f64`); `whose` says whose precision that is, for the message
    /// (`the model's precision`, `the precision of this run (--precision)`).
    pub fn check_numbers_in(
        &self,
        precision: &str,
        whose: &str,
    ) -> std::result::Result<(), String> {
        let p = &self.prep;
        let f32 = precision == "f32";
        let fits = |v: f64| {
            if f32 {
                (v as f32).is_finite()
            } else {
                v.is_finite()
            }
        };
        // A std divides: zero or subnormal (1/std overflows) cannot standardize anything.
        let positive = |v: f64| {
            fits(v)
                && if f32 {
                    v as f32 >= f32::MIN_POSITIVE
                } else {
                    v >= f64::MIN_POSITIVE
                }
        };
        let overflow = |kind: String, field: String, v: f64| {
            if v.is_finite() {
                format!("has the {kind} {field} = {v:e}, which overflows {precision}, {whose}")
            } else {
                format!("has a non-finite {kind} {field} = {v}")
            }
        };
        let stats = [
            ("standardize", &p.standardize, &p.features),
            ("target_standardize", &p.target_standardize, &p.labels),
        ];
        for (name, st, columns) in stats {
            if let Some(st) = st {
                if let Some((k, v)) = st.mean.iter().enumerate().find(|(_, v)| !fits(**v)) {
                    let field = format!("prep.{name}.mean[{k}] (column {:?})", columns[k]);
                    return Err(overflow(format!("{name} mean"), field, *v));
                }
                if let Some((k, v)) = st.std.iter().enumerate().find(|(_, v)| !positive(**v)) {
                    return Err(format!(
                        "has a {name} std of {v:e} at prep.{name}.std[{k}] (column {:?}); each must be a finite normal number > 0 in {precision} (not zero or subnormal), {whose}",
                        columns[k]
                    ));
                }
            }
        }
        for (name, w) in [("w1", &self.w1), ("w2", &self.w2)] {
            for (i, row) in w.iter().enumerate() {
                if let Some((j, v)) = row.iter().enumerate().find(|(_, v)| !fits(**v)) {
                    return Err(overflow("weight".into(), format!("{name}[{i}][{j}]"), *v));
                }
            }
        }
        self.check_bounds(precision, whose)
    }

    /// Refuses a model that cannot give finite outputs for inputs of ordinary size: with every
    /// raw feature |x| ≤ [`ORDINARY_INPUT`], bounds each stage in f64, worst case (every sign
    /// aligned), and requires each to stay below the precision's largest finite number:
    /// the standardized input a_j = (R + |mean_j|) / std_j (R without standardization, 1 for
    /// the bias), each hidden unit's |z_i| ≤ Σ_j |W1_ij| a_j, |h_i| ≤ 1 for sigmoid and tanh
    /// (|z_i| otherwise), each output |o_k| ≤ Σ_i |W2_ki| |h_i|, and for standardized targets
    /// |o_k| std_k + |mean_k|. The message names the field of the largest term's larger factor.
    fn check_bounds(&self, precision: &str, whose: &str) -> std::result::Result<(), String> {
        let p = &self.prep;
        let a = &self.architecture;
        let max = if precision == "f32" {
            f32::MAX as f64
        } else {
            f64::MAX
        };
        let fits = |v: f64| v <= max; // false for inf and NaN
        let refuse = |stage: String, bound: f64, cause: &(String, f64)| {
            format!(
                "cannot give finite outputs: {stage} can reach {bound:.3e} for inputs of ordinary \
                 size (|x| ≤ {ORDINARY_INPUT:e}), beyond the largest {precision} number \
                 ({max:.3e}), {whose}; the cause is {} = {:e}",
                cause.0, cause.1
            )
        };
        // Each model input's bound and what makes it large.
        let mut inputs: Vec<(f64, (String, f64))> = Vec::with_capacity(a.inputs);
        for (j, column) in p.features.iter().enumerate() {
            inputs.push(match &p.standardize {
                Some(st) => {
                    let (m, s) = (st.mean[j], st.std[j]);
                    let cause = if m.abs() > ORDINARY_INPUT {
                        (format!("prep.standardize.mean[{j}] (column {column:?})"), m)
                    } else {
                        (format!("prep.standardize.std[{j}] (column {column:?})"), s)
                    };
                    let bound = (ORDINARY_INPUT + m.abs()) / s;
                    if !fits(bound) {
                        let stage = format!("the standardized column {column:?}");
                        return Err(refuse(stage, bound, &cause));
                    }
                    (bound, cause)
                }
                None => (
                    ORDINARY_INPUT,
                    (format!("column {column:?}"), ORDINARY_INPUT),
                ),
            });
        }
        if p.bias {
            inputs.push((1.0, ("the bias input".into(), 1.0)));
        }
        // Σ_j |w_j| b_j and the index of its largest term (a NaN term counts as the largest):
        // numbers only, so that a model of millions of hidden units costs no allocation per
        // unit; the field named in a refusal is worked out only then.
        let weighted = |w: &[f64], b: &dyn Fn(usize) -> f64| {
            let mut total = 0.0f64;
            let mut largest = (-1.0f64, 0usize);
            for (j, v) in w.iter().enumerate() {
                let term = v.abs() * b(j);
                total += term;
                if term.is_nan() || term > largest.0 {
                    largest = (if term.is_nan() { f64::INFINITY } else { term }, j);
                }
            }
            (total, largest.1)
        };
        let input_bound = |j: usize| inputs.get(j).map_or(f64::NAN, |x| x.0);
        let w1_at = |i: usize, j: usize| self.w1.get(i).and_then(|r| r.get(j)).copied();
        // The larger factor of W1's term (i, j): the weight, or what makes input j large.
        let cause_of_z = |i: usize, j: usize| match w1_at(i, j) {
            Some(v) if v.abs() >= input_bound(j) => (format!("w1[{i}][{j}]"), v),
            _ => inputs
                .get(j)
                .map_or((format!("w1[{i}][{j}]"), f64::NAN), |x| x.1.clone()),
        };
        let z_of = |i: usize| weighted(&self.w1[i], &input_bound);
        let bounded = matches!(a.activation, Activation::Sigmoid | Activation::Tanh);
        // |h_i|, kept when there is room for it (else worked out again for each output).
        let mut hidden: Vec<f64> = Vec::new();
        let keep = hidden.try_reserve_exact(self.w1.len()).is_ok();
        for i in 0..self.w1.len() {
            let (z, j) = z_of(i);
            if !fits(z) {
                let stage = format!("hidden unit {i}'s z = W1 x");
                return Err(refuse(stage, z, &cause_of_z(i, j)));
            }
            if keep {
                hidden.push(if bounded { 1.0 } else { z });
            }
        }
        let h_of = |i: usize| match hidden.get(i) {
            Some(&h) => h,
            None if bounded => 1.0,
            None => z_of(i).0,
        };
        for (k, row) in self.w2.iter().enumerate() {
            let (o, i) = weighted(row, &h_of);
            let v = row.get(i).copied().unwrap_or(f64::NAN);
            let cause = if bounded || v.abs() >= h_of(i) {
                (format!("w2[{k}][{i}]"), v)
            } else {
                cause_of_z(i, z_of(i).1)
            };
            if !fits(o) {
                return Err(refuse(format!("output {k}'s o = W2 h"), o, &cause));
            }
            if let (Task::Regress, Some(st)) = (p.task, &p.target_standardize) {
                let (m, s) = (st.mean[k], st.std[k]);
                let y = o * s + m.abs();
                if !fits(y) {
                    let column = &p.labels[k];
                    let cause = if m.abs() >= o * s {
                        (
                            format!("prep.target_standardize.mean[{k}] (column {column:?})"),
                            m,
                        )
                    } else if s >= o {
                        (
                            format!("prep.target_standardize.std[{k}] (column {column:?})"),
                            s,
                        )
                    } else {
                        cause
                    };
                    return Err(refuse(format!("the prediction of {column:?}"), y, &cause));
                }
            }
        }
        Ok(())
    }

    /// The weights as a model in precision T.
    pub fn mlp<T: Real>(&self) -> Mlp<T> {
        let a = &self.architecture;
        let mat = |w: &Vec<Vec<f64>>, r: usize, c: usize| {
            Array2::from_shape_fn((r, c), |(i, j)| T::of(w[i][j]))
        };
        Mlp {
            w1: mat(&self.w1, a.hidden, a.inputs),
            w2: mat(&self.w2, a.outputs, a.hidden),
            activation: a.activation,
            loss: a.loss,
        }
    }
}
