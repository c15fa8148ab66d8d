//! The quality gates (--min-accuracy, --max-loss, --min-r2) measured on the run's gate set
//! (the test set, else the validation set, else the training set), and how they show numbers.

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
    /// The set checked: `test`, `validation`, `training`, `K-fold cross-validation mean`
    /// or `evaluated` (eval's --data).
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

    /// The measured value and the threshold as messages show them: `76.67 %` and `90.00 %`,
    /// `0.095655` and `0.5`, `0.8123` and `-1e308`. The value gets more digits only when it
    /// would otherwise print like the threshold it differs from.
    pub fn shown(&self) -> (String, String) {
        let threshold = match self.measure {
            "accuracy" => percent_exact(self.threshold),
            _ => flag_value(self.threshold),
        };
        let value = shown_distinct(self.measure, self.value, self.threshold);
        (value, threshold)
    }

    /// One line of the text summary:
    /// `gate --min-accuracy 90.00 %: validation accuracy 96.67 %, pass`.
    pub fn line(&self) -> String {
        let (value, threshold) = self.shown();
        let verdict = if self.passed() { "pass" } else { "FAIL" };
        format!(
            "gate {} {threshold}: {} {} {value}, {verdict}",
            self.gate, self.set, self.measure
        )
    }

    /// The exit-8 error of a failed gate.
    pub fn error(&self) -> Error {
        let (measured, threshold) = self.shown();
        Error::Gate {
            gate: self.gate,
            set: self.set.clone(),
            measure: self.measure,
            relation: if self.must_be == "at least" {
                "below"
            } else {
                "above"
            },
            shown: Box::new([measured, threshold]),
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
    let g = &args.gates;
    check_gates(
        set,
        g.min_accuracy,
        g.max_loss,
        g.min_r2,
        accuracy,
        loss,
        r2,
    )
}

/// [`gates`] from the thresholds themselves (eval takes them from its own flags).
pub fn check_gates(
    set: &str,
    min_accuracy: Option<f64>,
    max_loss: Option<f64>,
    min_r2: Option<f64>,
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
    if let Some(min) = min_accuracy {
        let a =
            accuracy.ok_or_else(|| Error::flag("--min-accuracy", "needs --task classify", min))?;
        out.push(gate("--min-accuracy", "accuracy", a, true, min));
    }
    if let Some(max) = max_loss {
        out.push(gate("--max-loss", "loss L", loss, false, max));
    }
    if let Some(min) = min_r2 {
        let r = r2.ok_or_else(|| Error::flag("--min-r2", "needs --task regress", min))?;
        out.push(gate("--min-r2", "R²", r, true, min));
    }
    Ok(out)
}

/// A measured value as the summary table shows it: accuracy `96.67 %`, R² `0.8123`, a loss
/// `0.095655`; in exponent form where the fixed form would run long (`-3.2000e300`) or
/// show a tiny value as zero.
pub fn shown(measure: &str, v: f64) -> String {
    match measure {
        "accuracy" => format!("{} %", fixed(100.0 * v, 2, 8)),
        "R²" | "r2" => fixed(v, 4, 9),
        _ => fixed(v, 6, 12),
    }
}

/// [`shown`], with more decimals when it would print like `other` although it differs
/// (a value of 0.89996 against a threshold of 0.9 is `89.996 %`, not `90.00 %`).
pub fn shown_distinct(measure: &str, v: f64, other: f64) -> String {
    let (scale, unit, decimals, width) = match measure {
        "accuracy" => (100.0, " %", 2, 8),
        "R²" | "r2" => (1.0, "", 4, 9),
        _ => (1.0, "", 6, 12),
    };
    let first = shown(measure, v);
    if v == other || v.is_nan() || other.is_nan() {
        return first;
    }
    for d in decimals..=17 {
        let a = fixed(scale * v, d, width + d - decimals);
        let b = fixed(scale * other, d, width + d - decimals);
        if a != b {
            return format!("{a}{unit}");
        }
    }
    first
}

/// `v` with `decimals` decimals when that fits in `width` characters and does not show a
/// nonzero value as zero; else in exponent form with as many digits as fit.
pub fn fixed(v: f64, decimals: usize, width: usize) -> String {
    let plain = format!("{v:.decimals$}");
    let vanishes = v != 0.0 && v.abs() < 0.5 * 10f64.powi(-(decimals as i32));
    if !v.is_finite() || (plain.len() <= width && !vanishes) {
        return plain;
    }
    for digits in (0..=decimals).rev() {
        let sci = format!("{v:.digits$e}");
        if sci.len() <= width {
            return sci;
        }
    }
    format!("{v:.0e}")
}

/// A flag's value as one would type it back: `0.5`, `10000`, `1e-30`, `-1e308` — the
/// shortest text that reads back as the same f64, in exponent form where plain decimals
/// would run long.
pub fn flag_value(x: f64) -> String {
    if x != 0.0 && x.is_finite() && !(1e-4..1e16).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// An accuracy threshold (a fraction) as a percentage that reads back as the value given:
/// 0.9 is `90.00 %`, 0.99999 is `99.999 %`; at least two decimals, at most eight.
pub fn percent_exact(x: f64) -> String {
    for d in 2..=8 {
        let s = format!("{:.d$}", 100.0 * x);
        // Within the rounding of the division: 99.90 / 100 is 0.9990000000000001.
        if s.parse::<f64>()
            .is_ok_and(|p| (p / 100.0 - x).abs() <= 4.0 * f64::EPSILON * x.abs())
        {
            return format!("{s} %");
        }
    }
    format!("{:.8} %", 100.0 * x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_show_as_the_table_does_and_never_run_long() {
        assert_eq!(shown("accuracy", 0.7666666666666667), "76.67 %");
        assert_eq!(shown("accuracy", 1.0), "100.00 %");
        assert_eq!(shown("R²", 0.81234567), "0.8123");
        assert_eq!(shown("R²", -3.2e300), "-3.20e300");
        assert_eq!(shown("loss L", 0.0956561), "0.095656");
        assert_eq!(shown("loss L", 3.5e-12), "3.500000e-12");
        assert_eq!(flag_value(-1e308), "-1e308");
        assert_eq!(flag_value(0.5), "0.5");
        assert_eq!(flag_value(1e-30), "1e-30");
        assert_eq!(percent_exact(0.9), "90.00 %");
        assert_eq!(percent_exact(0.999), "99.90 %");
        assert_eq!(percent_exact(0.99999), "99.999 %");
        assert_eq!(percent_exact(0.0), "0.00 %");
        for x in [0.1, 0.123456, 0.95, 1.0 / 3.0] {
            assert!(percent_exact(x).len() <= 13, "{}", percent_exact(x));
        }
        // A value that rounds onto the threshold gets the digits that tell them apart.
        assert_eq!(shown_distinct("accuracy", 0.89996, 0.9), "89.996 %");
        assert_eq!(shown_distinct("accuracy", 0.8, 0.9), "80.00 %");
        assert_eq!(shown_distinct("R²", 0.49999, 0.5), "0.49999");
        for v in [f64::MAX, f64::MIN, -1e-300, f64::NAN, f64::INFINITY] {
            for m in ["accuracy", "R²", "loss L"] {
                assert!(shown(m, v).len() <= 14, "{m} {v}: {}", shown(m, v));
            }
        }
    }

    #[test]
    fn a_gate_line_says_pass_or_fail_with_both_numbers() {
        let g = check_gates(
            "validation",
            Some(0.9),
            Some(0.5),
            None,
            Some(0.9666666666666667),
            0.7,
            None,
        )
        .unwrap();
        assert_eq!(
            g[0].line(),
            "gate --min-accuracy 90.00 %: validation accuracy 96.67 %, pass"
        );
        assert_eq!(
            g[1].line(),
            "gate --max-loss 0.5: validation loss L 0.700000, FAIL"
        );
        assert_eq!(
            g[1].error().to_string(),
            "quality gate failed: validation loss L is 0.700000, above --max-loss 0.5"
        );
    }
}
