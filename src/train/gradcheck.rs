//! Central finite differences in f64 against the hand-written backward pass, for every
//! stored gradient (∂J/∂o, ∂J/∂W2, ∂J/∂h, ∂J/∂z, ∂J/∂W1); used by tests and `mlp-train gradcheck`.
//
// For an entry w of a matrix, numeric = (J(w + ε) − J(w − ε)) / 2ε, and the error reported is
//     |analytic − numeric| / max(|analytic|, |numeric|, FLOOR)
// The floor keeps entries whose true gradient is ~0 (a dead ReLU unit) from dividing
// round-off noise (~1e-16·J/ε) by itself; above the floor the error is purely relative.

use ndarray::{Array2, ArrayView2};
use rand::seq::SliceRandom;

use crate::math::activation::Activation;
use crate::math::linalg::matmul;
use crate::math::loss::Weighted;
use crate::math::model::{Cache, Grads, Mlp};
use crate::math::rng::Rng;
use crate::{Error, Result};

/// The denominator's floor in the relative error (see the module comment).
pub const FLOOR: f64 = 1e-4;
/// Default step ε: small enough that the O(ε²) truncation error is ~1e-10, large enough that
/// round-off (~1e-16·J/ε) stays below it.
pub const DEFAULT_EPS: f64 = 1e-5;
/// Default tolerance on the maximum relative error.
pub const DEFAULT_TOL: f64 = 1e-6;

/// Options of a gradient check.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// λ of the objective.
    pub lambda: f64,
    /// Finite-difference step ε.
    pub eps: f64,
    /// At most this many entries per matrix (chosen at random, seeded) are checked.
    pub max_entries: usize,
    /// Seed for choosing the entries.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            lambda: 0.0,
            eps: DEFAULT_EPS,
            max_entries: 400,
            seed: 0,
        }
    }
}

/// The outcome for one matrix.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MatrixCheck {
    /// `d_o`, `d_w2`, `d_h`, `d_z` or `d_w1`.
    pub name: &'static str,
    /// Shape of the matrix (rows, columns).
    pub shape: (usize, usize),
    /// Entries compared.
    pub checked: usize,
    /// Entries skipped because ±ε would cross ReLU's kink (the derivative does not exist there).
    pub skipped_at_kink: usize,
    /// The largest relative error found.
    pub max_rel_error: f64,
    /// Where it was, with the two values.
    pub worst: (usize, usize),
    pub analytic: f64,
    pub numeric: f64,
}

/// Compares every gradient of `m.backward` on (x, y) with central differences; `y` a
/// [`crate::Target`] (the mean loss) or [`Weighted`] (L = Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ, whose weights
/// the finite differences of J see as they are).
pub fn check<'a>(
    m: &Mlp<f64>,
    x: ArrayView2<f64>,
    y: impl Into<Weighted<'a, f64>>,
    opts: &Options,
) -> Result<Vec<MatrixCheck>> {
    let y: Weighted<f64> = y.into();
    let b = x.nrows();
    let mut cache = Cache::for_model(m, b);
    let mut grads = Grads::for_model(m, b);
    m.forward(x, &mut cache)?;
    m.backward(x, y, opts.lambda, &cache, &mut grads)?;
    let (z, h, _) = cache.live();
    let (z, h) = (z.to_owned(), h.to_owned());
    let (d_o, d_h, d_z) = grads.live();
    let s = m.regularizer(opts.lambda);
    let mut rng = crate::math::rng::seeded(opts.seed);
    let eps = opts.eps;
    let relu = m.activation == Activation::Relu;

    // J as a function of O, of H and of Z (s does not depend on them).
    let j_of_o = |o: &Array2<f64>| m.loss.value(o.view(), y) + s;
    let j_of_h = |h: &Array2<f64>| {
        let mut o = Array2::zeros((b, m.w2.nrows()));
        matmul(h.view(), m.w2.t(), o.view_mut());
        j_of_o(&o)
    };
    let j_of_z = |z: &Array2<f64>| j_of_h(&z.mapv(|v| m.activation.phi(v)));
    // J as a function of the weights, by a full forward pass.
    let j_of_model = |mm: &Mlp<f64>| -> Result<f64> {
        let mut c = Cache::for_model(mm, b);
        Ok(mm.objective(x, y, opts.lambda, &mut c)?.j)
    };

    let mut out = Vec::new();
    let o_base = cache.live().2.to_owned();
    out.push(compare(
        "d_o",
        d_o,
        &mut rng,
        opts,
        |_, _| false,
        |i, j, delta| {
            let mut o = o_base.clone();
            o[[i, j]] += delta;
            Ok(j_of_o(&o))
        },
    )?);
    out.push(compare(
        "d_w2",
        grads.d_w2.view(),
        &mut rng,
        opts,
        |_, _| false,
        |i, j, delta| {
            let mut mm = m.clone();
            mm.w2[[i, j]] += delta;
            j_of_model(&mm)
        },
    )?);
    out.push(compare(
        "d_h",
        d_h,
        &mut rng,
        opts,
        |_, _| false,
        |i, j, delta| {
            let mut hh = h.clone();
            hh[[i, j]] += delta;
            Ok(j_of_h(&hh))
        },
    )?);
    // Perturbing z[i,j] by ±ε crosses ReLU's kink when |z[i,j]| < ε.
    let z_kink = |i: usize, j: usize| relu && z[[i, j]].abs() < eps;
    out.push(compare(
        "d_z",
        d_z,
        &mut rng,
        opts,
        z_kink,
        |i, j, delta| {
            let mut zz = z.clone();
            zz[[i, j]] += delta;
            Ok(j_of_z(&zz))
        },
    )?);
    // Perturbing W1[i,j] by ±ε moves z[r,i] by ±ε·x[r,j]: a kink crossing when |z| < ε|x|.
    let w1_kink =
        |i: usize, j: usize| relu && (0..b).any(|r| z[[r, i]].abs() < eps * x[[r, j]].abs());
    out.push(compare(
        "d_w1",
        grads.d_w1.view(),
        &mut rng,
        opts,
        w1_kink,
        |i, j, delta| {
            let mut mm = m.clone();
            mm.w1[[i, j]] += delta;
            j_of_model(&mm)
        },
    )?);
    Ok(out)
}

/// The largest error of a report, and where; an error when it exceeds `tol`.
pub fn verdict(report: &[MatrixCheck], tol: f64) -> Result<()> {
    match report
        .iter()
        .max_by(|a, b| a.max_rel_error.total_cmp(&b.max_rel_error))
    {
        Some(worst) if worst.max_rel_error > tol || worst.max_rel_error.is_nan() => {
            Err(Error::GradCheck {
                matrix: worst.name.to_string(),
                worst: worst.max_rel_error,
                tol,
            })
        }
        _ => Ok(()),
    }
}

/// Compares `analytic` with central differences of `j_at(i, j, ±ε)` on up to
/// `max_entries` entries, skipping those where `at_kink(i, j)`.
fn compare(
    name: &'static str,
    analytic: ArrayView2<f64>,
    rng: &mut Rng,
    opts: &Options,
    at_kink: impl Fn(usize, usize) -> bool,
    j_at: impl Fn(usize, usize, f64) -> Result<f64>,
) -> Result<MatrixCheck> {
    let (rows, cols) = analytic.dim();
    let mut entries: Vec<(usize, usize)> = (0..rows)
        .flat_map(|i| (0..cols).map(move |j| (i, j)))
        .collect();
    if entries.len() > opts.max_entries {
        entries.shuffle(rng);
        entries.truncate(opts.max_entries);
    }
    let mut report = MatrixCheck {
        name,
        shape: (rows, cols),
        checked: 0,
        skipped_at_kink: 0,
        max_rel_error: 0.0,
        worst: (0, 0),
        analytic: 0.0,
        numeric: 0.0,
    };
    for (i, j) in entries {
        if at_kink(i, j) {
            report.skipped_at_kink += 1;
            continue;
        }
        let numeric = (j_at(i, j, opts.eps)? - j_at(i, j, -opts.eps)?) / (2.0 * opts.eps);
        let a = analytic[[i, j]];
        let err = (a - numeric).abs() / a.abs().max(numeric.abs()).max(FLOOR);
        report.checked += 1;
        if err > report.max_rel_error || err.is_nan() {
            report.max_rel_error = err;
            report.worst = (i, j);
            report.analytic = a;
            report.numeric = numeric;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn a_wrong_gradient_is_caught() {
        // J(w) = w², so ∂J/∂w = 2w; claiming 2w·(1 + 1e-5) must fail a 1e-6 tolerance.
        let w = 0.7;
        let wrong = array![[2.0 * w * (1.0 + 1e-5)]];
        let r = compare(
            "probe",
            wrong.view(),
            &mut crate::math::rng::seeded(0),
            &Options::default(),
            |_, _| false,
            |_, _, d| Ok((w + d) * (w + d)),
        )
        .unwrap();
        assert!((r.max_rel_error - 1e-5).abs() < 1e-7, "{}", r.max_rel_error);
        assert!(verdict(&[r], DEFAULT_TOL).is_err());
    }
}
