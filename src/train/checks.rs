//! The options checked at the boundary, before any work: numbers in range, sizes against the
//! memory they imply, a continued model against the task and epochs; --threads capped at the cores.

use crate::data::modelfile::ModelFile;
use crate::data::prep::Task;
use crate::math::loss::Loss;
use crate::train::limits;
use crate::train::options::{Precision, RunOptions};
use crate::{Error, Real, Result};

/// Why `--patience` needs `--val-frac`, in the words both the library and the command
/// line's usage error use.
pub const PATIENCE_NEEDS: &str = "needs a validation set to watch: add --val-frac F above 0 \
(0.2 holds out 20% of the rows)";

/// Checks every numeric flag once, at the boundary, with the flag's name in the message:
/// floats through [`limits::real`] (finite, in range), sizes against the memory they imply
/// for the smallest data (checked again with the data's own d and rows before allocating).
pub fn validate(args: &RunOptions) -> Result<()> {
    use limits::Bound::{Exclusive, Inclusive, Unbounded};
    // The ONNX graph takes one float input: refused before training, not after it.
    if let Some(out) = &args.outputs.export_onnx {
        let cannot = args.data.encode.in_words();
        if !cannot.is_empty() {
            return Err(Error::flag(
                "--export-onnx",
                format!(
                    "cannot export to ONNX: the model {}; save it with --save instead",
                    cannot.join("; ")
                ),
                crate::error::shown_path(out),
            ));
        }
    }
    limits::real("--lambda", args.training.lambda, Inclusive(0.0), Unbounded)?;
    limits::real("--lr", args.training.lr, Exclusive(0.0), Unbounded)?;
    limits::real(
        "--momentum",
        args.training.momentum,
        Inclusive(0.0),
        Exclusive(1.0),
    )?;
    limits::real(
        "--val-frac",
        args.data.val_frac,
        Inclusive(0.0),
        Exclusive(1.0),
    )?;
    if let Some(a) = args.gates.min_accuracy {
        limits::real("--min-accuracy", a, Inclusive(0.0), Inclusive(1.0))?;
    }
    // L ≥ 0 for both losses: a negative gate could never pass.
    if let Some(l) = args.gates.max_loss {
        limits::real("--max-loss", l, Inclusive(0.0), Unbounded)?;
    }
    // R² ≤ 1: a gate above 1 could never pass.
    if let Some(r) = args.gates.min_r2 {
        limits::real("--min-r2", r, Unbounded, Inclusive(1.0))?;
    }
    for (flag, v) in [
        ("--batch-size", args.training.batch_size),
        ("--hidden", args.model.hidden),
        ("--epochs", args.training.epochs),
        ("--threads", args.training.threads),
    ] {
        if v == 0 {
            return Err(Error::flag(flag, "must be >= 1", v));
        }
    }
    let cores = limits::cores();
    if args.training.threads > cores {
        return Err(Error::flag(
            "--threads",
            format!("must be at most {cores}, the cores available (the command line caps it)"),
            args.training.threads,
        ));
    }
    // Before reading the data: the smallest model the flags allow (one feature, one output,
    // one row) must fit; this refuses --hidden 18446744073709551615 at once.
    check_training_memory(
        args,
        1 + usize::from(args.model.bias),
        args.model.hidden,
        1,
        1,
        true,
    )?;
    if args.training.patience == Some(0) {
        return Err(Error::flag("--patience", "must be >= 1", 0));
    }
    // clap refuses --patience without --val-frac; `--val-frac 0` would silently never stop.
    if args.training.patience.is_some() && args.data.val_frac == 0.0 {
        return Err(Error::FlagNeeds {
            flag: "--patience",
            msg: PATIENCE_NEEDS.to_string(),
        });
    }
    if args.data.task == Task::Regress && args.model.loss == Some(Loss::SoftmaxCe) {
        return Err(Error::flag(
            "--loss",
            "must be half-squared for --task regress (softmax-ce needs classes)",
            "softmax-ce",
        ));
    }
    if args.data.task == Task::Regress
        && args.gates.min_accuracy.is_some()
        && args.model.init_from.is_none()
    {
        return Err(Error::flag(
            "--min-accuracy",
            "needs --task classify (use --min-r2)",
            args.gates.min_accuracy.unwrap_or(0.0),
        ));
    }
    if args.data.task == Task::Classify
        && args.gates.min_r2.is_some()
        && args.model.init_from.is_none()
    {
        return Err(Error::flag(
            "--min-r2",
            "needs --task regress (use --min-accuracy)",
            args.gates.min_r2.unwrap_or(0.0),
        ));
    }
    limits::real(
        "--max-drop",
        args.gates.max_drop,
        limits::Bound::Inclusive(0.0),
        limits::Bound::Unbounded,
    )?;
    if args.training.cv.is_some_and(|k| k < 2) {
        return Err(Error::flag(
            "--cv",
            "must be >= 2",
            args.training.cv.unwrap_or(0),
        ));
    }
    if args.outputs.json && args.outputs.report.as_deref() == Some(std::path::Path::new("-")) {
        return Err(Error::flag(
            "--report",
            "cannot write to stdout with --json (both would go there); name a file",
            "-",
        ));
    }
    if args.data.task == Task::Classify && args.data.label.len() > 1 {
        return Err(Error::flag(
            "--label",
            "takes one column for --task classify",
            args.data.label.join(","),
        ));
    }
    Ok(())
}

/// Caps `--threads` at the cores available (more threads than cores only wait for each
/// other); returns the note to print when it did.
pub fn cap_threads(args: &mut RunOptions) -> Option<String> {
    let cores = limits::cores();
    (args.training.threads > cores).then(|| {
        let note = format!(
            "--threads {} is more than the {cores} core(s) available; using {cores}",
            args.training.threads
        );
        args.training.threads = cores;
        note
    })
}

/// Refuses a training whose model (d inputs, h hidden, q outputs) and buffers for `rows`
/// training rows would not fit in the memory available, before anything is allocated.
pub(super) fn check_training_memory(
    args: &RunOptions,
    d: usize,
    h: usize,
    q: usize,
    rows: usize,
    smallest: bool,
) -> Result<()> {
    let (elem_bytes, precision) = match args.training.precision {
        Precision::F32 => (4, "f32"),
        Precision::F64 => (8, "f64"),
    };
    let batch = args.training.batch_size.min(rows).max(1);
    let shape = limits::TrainingShape {
        d,
        h,
        q,
        batch,
        eval_rows: limits::chunk_rows(h, q, elem_bytes).min(rows),
        out_rows: rows,
        momentum: args.training.momentum > 0.0,
        keep_best: args.training.patience.is_some(),
        // --export-onnx builds the same model file first (its ONNX bytes are fewer).
        save: args.outputs.save.is_some() || args.outputs.export_onnx.is_some(),
        elem_bytes,
        threads: args.training.threads,
        // --init-from takes the model's; counted whenever it may be on.
        bias: args.model.bias || args.model.init_from.is_some(),
    };
    let what = if smallest {
        // The check before reading the data: the smallest model the flags allow.
        format!("even the smallest model (d={d}, h={h}, q=1, one row) in {precision}")
    } else {
        format!("a model of d={d}, h={h}, q={q} in {precision} with batches of {batch}")
    };
    let (flags, advice) = match &args.model.init_from {
        Some(p) => (
            format!(
                "--init-from {} with --batch-size {}",
                crate::error::shown_path(p),
                args.training.batch_size
            ),
            "lower --batch-size, or train a smaller model",
        ),
        None => (
            format!(
                "--hidden {h} with --batch-size {}",
                args.training.batch_size
            ),
            if precision == "f64" {
                "lower --hidden or --batch-size, or use --precision f32"
            } else {
                "lower --hidden or --batch-size"
            },
        ),
    };
    let mut need = shape.need();
    if args.outputs.report.is_some() {
        // The page's explained sample holds the model again, in f64 and in f32 (explaining it
        // is checked on its own, and left out of the page when it does not fit).
        let weights = limits::times(h, d).saturating_add(limits::times(q, h));
        need.add("the report's sample", weights, 8 + 4);
    }
    limits::check_memory(flags, &what, &need, advice)
}

/// With --init-from, what needs the model's task and count: the gates must suit its task,
/// and its `epochs_run` plus --epochs must be countable.
pub(super) fn check_continuation<T: Real>(
    args: &RunOptions,
    previous: Option<&ModelFile>,
    task: Task,
) -> Result<()> {
    let Some(m) = previous else { return Ok(()) };
    if task == Task::Regress {
        if let Some(a) = args.gates.min_accuracy {
            return Err(Error::flag(
                "--min-accuracy",
                "needs a classifier, but the --init-from model is a regression (use --min-r2)",
                a,
            ));
        }
    }
    if task == Task::Classify {
        if let Some(r) = args.gates.min_r2 {
            return Err(Error::flag(
                "--min-r2",
                "needs a regression, but the --init-from model is a classifier (use --min-accuracy)",
                r,
            ));
        }
    }
    // An f64 model continued in f32 must fit f32 too (1e300 would become infinity).
    m.check_numbers_in(T::NAME, "the precision of this run (--precision)")
        .map_err(|msg| Error::Model {
            path: args.model.init_from.clone().unwrap_or_default(),
            msg,
        })?;
    // s = λ/2 (‖W1‖² + ‖W2‖²) must be computable, or the first step would "diverge".
    let sum_sq =
        m.w1.iter()
            .chain(&m.w2)
            .flatten()
            .fold(T::zero(), |a, &v| a + T::of(v) * T::of(v));
    if !sum_sq.is_finite() {
        return Err(Error::Model {
            path: args.model.init_from.clone().unwrap_or_default(),
            msg: format!(
                "has weights so large that ‖W1‖² + ‖W2‖² overflows {}; it cannot be trained further",
                T::NAME
            ),
        });
    }
    if m.epochs_run.checked_add(args.training.epochs).is_none() {
        return Err(Error::Model {
            path: args.model.init_from.clone().unwrap_or_default(),
            msg: format!(
                "has epochs_run = {}, which --epochs {} more would overflow; the count is corrupt",
                m.epochs_run, args.training.epochs
            ),
        });
    }
    Ok(())
}
