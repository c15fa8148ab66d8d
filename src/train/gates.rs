//! The quality gates (--min-accuracy, --max-loss, --min-r2) measured on the run's gate set:
//! the test set, else the validation set, else the training set.

use crate::train::options::RunOptions;
use crate::train::run::{Evaluation, TrainRun};
use crate::{Error, Result};

/// The set the quality gates look at, and its name: test, else validation, else training.
pub fn gate_set(run: &TrainRun) -> (&'static str, &Evaluation) {
    match (&run.test, &run.val) {
        (Some(t), _) => ("test", t),
        (None, Some(v)) => ("validation", v),
        (None, None) => ("training", &run.train),
    }
}

/// One quality gate as checked: what `--json` reports under `"gates"`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct GateResult {
    /// The flag: `--min-accuracy`, `--max-loss` or `--min-r2`.
    pub gate: &'static str,
    /// The set checked: `test`, `validation`, `training` or `K-fold cross-validation mean`.
    pub set: String,
    /// `accuracy`, `loss L` or `R²`.
    pub measure: &'static str,
    /// `at least` or `at most`.
    pub must_be: &'static str,
    pub threshold: f64,
    pub value: f64,
    /// `pass` or `fail`.
    pub verdict: &'static str,
}

impl GateResult {
    /// True when the gate passed.
    pub fn passed(&self) -> bool {
        self.verdict == "pass"
    }

    /// The exit-8 error of a failed gate.
    pub fn error(&self) -> Error {
        Error::Gate {
            gate: self.gate,
            set: self.set.clone(),
            measure: self.measure,
            measured: self.value,
            relation: if self.must_be == "at least" {
                "below"
            } else {
                "above"
            },
            threshold: self.threshold,
        }
    }
}

/// Every gate asked for (--min-accuracy, --max-loss, --min-r2), checked on `set`, in that
/// order. A gate that does not apply to the task is a flag error.
pub fn gates(
    args: &RunOptions,
    set: &str,
    accuracy: Option<f64>,
    loss: f64,
    r2: Option<f64>,
) -> Result<Vec<GateResult>> {
    let gate = |gate, measure, value: f64, at_least: bool, threshold: f64| {
        // NaN passes no gate.
        let ok = if at_least {
            value >= threshold
        } else {
            value <= threshold
        };
        GateResult {
            gate,
            set: set.to_string(),
            measure,
            must_be: if at_least { "at least" } else { "at most" },
            threshold,
            value,
            verdict: if ok { "pass" } else { "fail" },
        }
    };
    let mut out = Vec::new();
    if let Some(min) = args.gates.min_accuracy {
        let a =
            accuracy.ok_or_else(|| Error::flag("--min-accuracy", "needs --task classify", min))?;
        out.push(gate("--min-accuracy", "accuracy", a, true, min));
    }
    if let Some(max) = args.gates.max_loss {
        out.push(gate("--max-loss", "loss L", loss, false, max));
    }
    if let Some(min) = args.gates.min_r2 {
        let r = r2.ok_or_else(|| Error::flag("--min-r2", "needs --task regress", min))?;
        out.push(gate("--min-r2", "R²", r, true, min));
    }
    Ok(out)
}
