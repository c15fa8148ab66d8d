//! One sample through the chapter's formulas, forward then backward in the chapter's order,
//! each value taken from Mlp::forward/backward (B = 1), plus a few finite differences.
//
// Shapes, once:  d inputs, h hidden, q outputs;  x, z, h, o are vectors (one sample);
//   W1 (h,d), W2 (q,h), out×in as the chapter writes them.  With B = 1, ∂J/∂o is not divided by
//   anything, so every value printed here is the chapter's per-sample value.

use ndarray::{Array2, ArrayView1, ArrayView2};

use crate::math::activation::Activation;
use crate::math::loss::{softmax_rows, Loss, Target};
use crate::math::model::{Cache, Grads, Mlp, Objective};
use crate::train::gradcheck::{DEFAULT_EPS, FLOOR};
use crate::{Error, Real, Result};

/// The label of the one sample being explained.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExplainTarget {
    /// A class index in 0..q, with its name when the data has one.
    Class(usize, Option<String>),
    /// q real targets (already scaled as the model sees them).
    Values(Vec<f64>),
}

/// How much to compute and how to print it.
#[derive(Clone, Debug)]
pub struct ExplainOptions {
    /// Finite-difference step ε.
    pub eps: f64,
    /// At most this many entries of ∂J/∂o, ∂J/∂W2 and ∂J/∂W1 each are checked by finite
    /// differences (those with the largest |analytic| value).
    pub fd_entries: usize,
    /// Vectors with at most this many entries are printed in full.
    pub max_vector: usize,
    /// Matrices with at most this many (rows, columns) are printed in full.
    pub max_matrix: (usize, usize),
    /// Significant digits of the printed numbers.
    pub digits: usize,
}

impl Default for ExplainOptions {
    fn default() -> Self {
        ExplainOptions {
            eps: DEFAULT_EPS,
            fd_entries: 3,
            max_vector: 12,
            max_matrix: (6, 8),
            digits: 6,
        }
    }
}

/// A value of the explanation: J is a scalar, z a vector, W1 a matrix.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Value {
    Scalar(f64),
    Vector(Vec<f64>),
    Matrix(Vec<Vec<f64>>),
}

/// One line of the chapter: `symbol = formula`, its shape and its value.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Step {
    /// A plain name for programs: `z`, `d_o`, `d_w2`, `ds_w1`, ...
    pub name: &'static str,
    /// The chapter's symbol: `z`, `∂J/∂W2`, ...
    pub symbol: &'static str,
    /// The right-hand side, as the chapter writes it: `∂J/∂o hᵀ + λW2`; empty for data.
    pub formula: String,
    /// `[]` for a scalar, `[n]` for a vector, `[rows, columns]` for a matrix.
    pub shape: Vec<usize>,
    pub value: Value,
}

/// One entry checked by central differences.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct FdCheck {
    /// `d_o`, `d_w2` or `d_w1`.
    pub name: &'static str,
    /// `∂J/∂o`, `∂J/∂W2` or `∂J/∂W1`.
    pub symbol: &'static str,
    /// `[j]` for ∂J/∂o, `[row, column]` for a matrix.
    pub index: Vec<usize>,
    /// From the backward pass.
    pub analytic: f64,
    /// (J(w + ε) − J(w − ε)) / 2ε.
    pub numeric: f64,
    /// |analytic − numeric| / max(|analytic|, |numeric|, FLOOR).
    pub rel_error: f64,
}

/// The model's prediction for the sample.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Prediction {
    /// argmax o, for softmax cross-entropy (and for half-squared with a class label).
    pub class: Option<usize>,
    /// softmax(o), for softmax cross-entropy.
    pub probabilities: Option<Vec<f64>>,
    /// o itself, for half-squared (the predicted targets).
    pub values: Option<Vec<f64>>,
}

/// Where the sample and the model come from, and what was done to the row before x.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Provenance {
    /// The saved model explained (its λ, φ, ℓ are used), or none for a fresh one.
    pub model: Option<String>,
    /// The precision the model was trained in (`f32` or `f64`), in which the forward and
    /// backward values are computed (the finite differences always run in f64).
    pub precision: Option<String>,
    /// The data file and 0-based row.
    pub data: String,
    pub row: usize,
    /// The features as read from the file, before standardization (and without the bias).
    pub raw_x: Vec<f64>,
    /// The targets as read from the file, when they were standardized (regression).
    pub raw_y: Option<Vec<f64>>,
    /// x was (raw − mean) / std with the training set's mean and std.
    pub standardized_x: bool,
    /// y was (raw − mean) / std (regression).
    pub standardized_y: bool,
    /// A constant 1 was appended to x.
    pub bias: bool,
    /// The class names in index order (classification), so that the prediction is named too.
    #[serde(skip)]
    pub classes: Vec<String>,
    /// The targets' (mean, std) when they were standardized: ŷ in the target's units is
    /// ŷ × std + mean.
    pub target_scale: Option<(Vec<f64>, Vec<f64>)>,
    /// The names of raw x's entries (`age`, `colour=red`, `age_missing`), as the model
    /// names its inputs; empty when unknown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<String>,
}

/// Everything `explain` computed, in the chapter's order; serialize it for `--json`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Explanation {
    /// The sample's file and row, the raw values, the model file (set by the caller).
    pub source: Provenance,
    pub activation: Activation,
    pub loss: Loss,
    pub lambda: f64,
    /// (d, h, q).
    pub dims: (usize, usize, usize),
    /// The label y.
    pub y: ExplainTarget,
    /// W1 and W2, as used.
    pub parameters: Vec<Step>,
    /// x, z, h, o, (p), L, s, J.
    pub forward: Vec<Step>,
    pub prediction: Prediction,
    pub objective: Objective,
    /// ∂J/∂L, ∂J/∂s, ∂J/∂o, ∂s/∂W1, ∂s/∂W2, ∂J/∂W2, ∂J/∂h, ∂J/∂z, ∂J/∂W1.
    pub backward: Vec<Step>,
    /// Step ε of the finite differences.
    pub eps: f64,
    pub finite_differences: Vec<FdCheck>,
}

/// Runs one sample `x` (already standardized, with the bias 1 appended if the model has it)
/// with label `y` through `m.forward` and `m.backward` as a batch of one, in the model's own
/// precision T (an f32 model's values are those its training computed), and lays the values
/// out in the chapter's order, with central-difference checks of a few entries (always in
/// f64, on the weights widened exactly: differences of f32 sums would be noise).
pub fn explain<T: Real>(
    m: &Mlp<T>,
    x: ArrayView1<T>,
    y: ExplainTarget,
    lambda: f64,
    opts: &ExplainOptions,
) -> Result<Explanation> {
    let (d, h_dim, q) = m.dims();
    if x.len() != d {
        return Err(Error::Shape(format!(
            "the sample has {} values but W1 expects d = {d}",
            x.len()
        )));
    }
    let classes: Vec<usize>;
    let values: Array2<T>;
    let values64: Array2<f64>;
    let (target, target64) = match (&y, m.loss) {
        (ExplainTarget::Class(c, _), _) if *c >= q => {
            return Err(Error::Shape(format!(
                "class {c} is out of range for q = {q} outputs"
            )))
        }
        (ExplainTarget::Class(c, _), _) => {
            classes = vec![*c];
            (Target::Classes(&classes), Target::Classes(&classes))
        }
        (ExplainTarget::Values(_), Loss::SoftmaxCe) => {
            return Err(Error::Shape(
                "softmax cross-entropy needs a class label, not real targets".into(),
            ))
        }
        (ExplainTarget::Values(v), Loss::HalfSquared) => {
            if v.len() != q {
                return Err(Error::Shape(format!(
                    "{} targets for q = {q} outputs",
                    v.len()
                )));
            }
            values64 = Array2::from_shape_vec((1, q), v.clone()).expect("1×q");
            values = values64.mapv(T::of);
            (
                Target::Values(values.view()),
                Target::Values(values64.view()),
            )
        }
    };

    let x2 = Array2::from_shape_vec((1, d), x.to_vec()).expect("1×d");
    let mut cache = Cache::for_model(m, 1);
    let mut grads = Grads::for_model(m, 1);
    m.forward(x2.view(), &mut cache)?;
    let obj = m.backward(x2.view(), target, T::of(lambda), &cache, &mut grads)?;
    // From here on every value is shown (and differenced) in f64, into which T widens exactly.
    let wide = |a: ArrayView2<T>| a.mapv(|v| v.f64());
    let (z, h, o) = cache.live();
    let (z, h, o) = (wide(z), wide(h), wide(o));
    let (d_o, d_h, d_z) = grads.live();
    let (d_o, d_h, d_z) = (wide(d_o), wide(d_h), wide(d_z));
    let (z, h, o, d_o, d_h, d_z) = (
        z.view(),
        h.view(),
        o.view(),
        d_o.view(),
        d_h.view(),
        d_z.view(),
    );
    let d_w2 = wide(grads.d_w2.view());
    let d_w1 = wide(grads.d_w1.view());
    let x = x.mapv(|v| v.f64());
    let x = x.view();
    let x2 = x2.mapv(|v| v.f64());
    let m = &Mlp {
        w1: wide(m.w1.view()),
        w2: wide(m.w2.view()),
        activation: m.activation,
        loss: m.loss,
    };
    let target = target64;

    let parameters = vec![
        step("w1", "W1", "", matrix(m.w1.view())),
        step("w2", "W2", "", matrix(m.w2.view())),
    ];

    let phi = format!("φ(z), φ = {}", m.activation.name());
    let mut forward = vec![
        step("x", "x", "", vector(x)),
        step("z", "z", "W1 x", vector(z.row(0))),
        step("h", "h", &phi, vector(h.row(0))),
        step("o", "o", "W2 h", vector(o.row(0))),
    ];
    let o_row = o.row(0).to_vec();
    let argmax = argmax(&o_row);
    let prediction = match m.loss {
        Loss::SoftmaxCe => {
            let mut p = o.to_owned();
            softmax_rows(p.view_mut());
            forward.push(step("p", "p", "softmax(o)", vector(p.row(0))));
            Prediction {
                class: argmax,
                probabilities: Some(p.row(0).to_vec()),
                values: None,
            }
        }
        Loss::HalfSquared => Prediction {
            class: match y {
                ExplainTarget::Class(..) => argmax,
                ExplainTarget::Values(_) => None,
            },
            probabilities: None,
            values: Some(o_row.clone()),
        },
    };
    let l_formula = match m.loss {
        Loss::SoftmaxCe => "ℓ(o, y) = −log p_y",
        Loss::HalfSquared => "ℓ(o, y) = ½‖o − y‖²",
    };
    forward.extend([
        step("l", "L", l_formula, Value::Scalar(obj.l)),
        step("s", "s", "λ/2 (‖W1‖²_F + ‖W2‖²_F)", Value::Scalar(obj.s)),
        step("j", "J", "L + s", Value::Scalar(obj.j)),
    ]);

    let d_o_formula = match (m.loss, &y) {
        (Loss::SoftmaxCe, _) => "∂L/∂o = p − onehot(y)",
        (Loss::HalfSquared, ExplainTarget::Class(..)) => "∂L/∂o = o − onehot(y)",
        (Loss::HalfSquared, ExplainTarget::Values(_)) => "∂L/∂o = o − y",
    };
    let backward = vec![
        // ∂J/∂L = 1, ∂J/∂s = 1: J = L + s.
        step("dj_l", "∂J/∂L", "1", Value::Scalar(1.0)),
        step("dj_s", "∂J/∂s", "1", Value::Scalar(1.0)),
        // ∂J/∂o = prod(∂J/∂L, ∂L/∂o) = ∂L/∂o
        step("d_o", "∂J/∂o", d_o_formula, vector(d_o.row(0))),
        // ∂s/∂W1 = λW1, ∂s/∂W2 = λW2
        step("ds_w1", "∂s/∂W1", "λW1", matrix((&m.w1 * lambda).view())),
        step("ds_w2", "∂s/∂W2", "λW2", matrix((&m.w2 * lambda).view())),
        // The rest are what backward() stored.
        step("d_w2", "∂J/∂W2", "∂J/∂o hᵀ + λW2", matrix(d_w2.view())),
        step("d_h", "∂J/∂h", "W2ᵀ ∂J/∂o", vector(d_h.row(0))),
        step("d_z", "∂J/∂z", "∂J/∂h ⊙ φ'(z)", vector(d_z.row(0))),
        step("d_w1", "∂J/∂W1", "∂J/∂z xᵀ + λW1", matrix(d_w1.view())),
    ];

    // Finite differences on the largest entries of ∂J/∂o, ∂J/∂W2, ∂J/∂W1, all in f64: the
    // analytic side is backward() again on the widened weights (for an f64 model, the very
    // values shown above), so the check tests the formulas, not f32's rounding.
    let eps = opts.eps;
    let mut cache64 = Cache::for_model(m, 1);
    let mut grads64 = Grads::for_model(m, 1);
    m.forward(x2.view(), &mut cache64)?;
    let obj64 = m.backward(x2.view(), target, lambda, &cache64, &mut grads64)?;
    let (z, _, o) = cache64.live();
    let (d_o, _, _) = grads64.live();
    let (d_w2, d_w1) = (&grads64.d_w2, &grads64.d_w1);
    let j_of_model = |mm: &Mlp<f64>| -> Result<f64> {
        let mut c = Cache::for_model(mm, 1);
        Ok(mm.objective(x2.view(), target, lambda, &mut c)?.j)
    };
    let mut fd = Vec::new();
    for (i, j) in largest(d_o, opts.fd_entries, |_, _| false) {
        let j_at = |delta: f64| {
            let mut oo = o.to_owned();
            oo[[i, j]] += delta;
            m.loss.value(oo.view(), target) + obj64.s
        };
        let numeric = (j_at(eps) - j_at(-eps)) / (2.0 * eps);
        fd.push(fd_check("d_o", "∂J/∂o", vec![j], d_o[[i, j]], numeric));
    }
    // ∂J/∂W2 and ∂J/∂W1: J of the model with one weight moved by ±ε. Perturbing W1[i,j] by
    // ±ε moves z[i] by ±ε·x[j]: with ReLU, skip entries that would cross the kink, where the
    // derivative does not exist.
    let relu = m.activation == Activation::Relu;
    let kink = |i: usize, j: usize| relu && z[[0, i]].abs() < eps * x[j].abs();
    let mut check_weight = |name: &'static str,
                            symbol: &'static str,
                            grad: &Array2<f64>,
                            weight: fn(&mut Mlp<f64>) -> &mut Array2<f64>,
                            skip: &dyn Fn(usize, usize) -> bool|
     -> Result<()> {
        for (i, j) in largest(grad.view(), opts.fd_entries, skip) {
            let j_at = |delta: f64| {
                let mut mm = m.clone();
                weight(&mut mm)[[i, j]] += delta;
                j_of_model(&mm)
            };
            let numeric = (j_at(eps)? - j_at(-eps)?) / (2.0 * eps);
            fd.push(fd_check(name, symbol, vec![i, j], grad[[i, j]], numeric));
        }
        Ok(())
    };
    check_weight("d_w2", "∂J/∂W2", d_w2, |mm| &mut mm.w2, &|_, _| false)?;
    check_weight("d_w1", "∂J/∂W1", d_w1, |mm| &mut mm.w1, &kink)?;

    Ok(Explanation {
        source: Provenance::default(),
        activation: m.activation,
        loss: m.loss,
        lambda,
        dims: (d, h_dim, q),
        y,
        parameters,
        forward,
        prediction,
        objective: obj,
        backward,
        eps,
        finite_differences: fd,
    })
}

/// One named value with its formula and shape.
pub(crate) fn step(name: &'static str, symbol: &'static str, formula: &str, value: Value) -> Step {
    let shape = match &value {
        Value::Scalar(_) => vec![],
        Value::Vector(v) => vec![v.len()],
        Value::Matrix(rows) => vec![rows.len(), rows.first().map_or(0, Vec::len)],
    };
    Step {
        name,
        symbol,
        formula: formula.to_string(),
        shape,
        value,
    }
}

fn vector(v: ArrayView1<f64>) -> Value {
    Value::Vector(v.to_vec())
}

fn matrix(m: ArrayView2<f64>) -> Value {
    Value::Matrix(m.outer_iter().map(|r| r.to_vec()).collect())
}

fn fd_check(
    name: &'static str,
    symbol: &'static str,
    index: Vec<usize>,
    analytic: f64,
    numeric: f64,
) -> FdCheck {
    let rel_error = (analytic - numeric).abs() / analytic.abs().max(numeric.abs()).max(FLOOR);
    FdCheck {
        name,
        symbol,
        index,
        analytic,
        numeric,
        rel_error,
    }
}

/// The index of the largest finite entry (the first one on ties).
fn argmax(v: &[f64]) -> Option<usize> {
    v.iter()
        .enumerate()
        .filter(|(_, x)| x.is_finite())
        .fold(None, |best: Option<(usize, f64)>, (i, &x)| match best {
            Some((_, b)) if b >= x => best,
            _ => Some((i, x)),
        })
        .map(|(i, _)| i)
}

/// Up to `n` entries of `a` with the largest |value| (row-major order on ties), skipping
/// those where `skip(i, j)`.
fn largest(
    a: ArrayView2<f64>,
    n: usize,
    skip: impl Fn(usize, usize) -> bool,
) -> Vec<(usize, usize)> {
    let mut entries: Vec<(usize, usize)> = a
        .indexed_iter()
        .map(|(ij, _)| ij)
        .filter(|&(i, j)| !skip(i, j))
        .collect();
    // A stable sort keeps row-major order among equal magnitudes: deterministic.
    entries.sort_by(|&p, &r| a[r].abs().total_cmp(&a[p].abs()));
    entries.truncate(n);
    entries
}
