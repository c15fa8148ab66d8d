//! `mlp-train gradcheck`: the backward pass's gradients against central finite
//! differences, on a file's rows or on random data.

use std::fmt::Write;

use ndarray::Array2;
use rand::Rng as _;

use super::columns_options;
use crate::cli::args::GradcheckArgs;
use crate::data::matrices::Targets;
use crate::data::prep::Prep;
use crate::data::{self, Source};
use crate::math::model::{Init, Mlp};
use crate::train::gradcheck;
use crate::train::limits;
use crate::{Error, Result};

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
