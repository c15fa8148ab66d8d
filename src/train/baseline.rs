//! `--baseline FILE --max-drop D`: compare a run's gated metric with a previous run's (its
//! `--json` summary, or a model file, which carries its metrics) — CI regression checking.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::data::prep::Task;
use crate::{Error, Result};

/// A previous run's results, as read from its file.
#[derive(Clone, Debug)]
pub struct Baseline {
    pub path: PathBuf,
    /// The metrics: the summary itself, or a model file's `metrics` object.
    metrics: Value,
}

/// The comparison, as `--json` reports it under `"baseline"`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct BaselineCheck {
    pub file: PathBuf,
    /// The key compared: `test_accuracy`, `val_r2`, `cv_accuracy`, `cv.mean_r2`…
    pub metric: String,
    pub baseline: f64,
    pub value: f64,
    /// baseline − value (positive when the run is worse).
    pub drop: f64,
    pub max_drop: f64,
    /// `pass` or `fail`.
    pub verdict: &'static str,
}

impl Baseline {
    /// Reads a `--json` summary (of a training or a `--cv` run) or a model file.
    pub fn load(path: &Path) -> Result<Self> {
        // A missing or unreadable baseline is a bad input (exit 3), like a data file.
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::data(path, format!("cannot read --baseline: {e}")))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| {
            Error::data(
                path,
                format!("--baseline needs a --json summary or a model file: {e}"),
            )
        })?;
        let metrics = if v.get("format").and_then(Value::as_str)
            == Some(crate::data::modelfile::FORMAT_NAME)
        {
            v.get("metrics").cloned().unwrap_or(Value::Null)
        } else {
            v
        };
        if !metrics.is_object() {
            return Err(Error::data(
                path,
                "--baseline needs a --json summary or a model file (found no metrics)",
            ));
        }
        Ok(Baseline {
            path: path.to_path_buf(),
            metrics,
        })
    }

    /// Compares `value`, the run's gated metric on `set` (`test`, `validation`, `training`,
    /// or `cv` for the mean over folds), with the baseline's same metric: accuracy for
    /// classification, R² for regression (both higher is better).
    pub fn compare(
        &self,
        task: Task,
        set: &str,
        value: f64,
        max_drop: f64,
    ) -> Result<(BaselineCheck, Option<Error>)> {
        let metric = match task {
            Task::Classify => "accuracy",
            Task::Regress => "r2",
        };
        let key = match (set, task) {
            ("cv", Task::Classify) => "cv_accuracy".to_string(),
            ("cv", Task::Regress) => "cv.mean_r2".to_string(),
            ("validation", _) => format!("val_{metric}"),
            ("training", _) => format!("train_{metric}"),
            (other, _) => format!("{other}_{metric}"),
        };
        let found = match key.split_once('.') {
            Some((a, b)) => self.metrics.get(a).and_then(|v| v.get(b)),
            None => self.metrics.get(&key),
        };
        let baseline = found.and_then(Value::as_f64).ok_or_else(|| {
            Error::data(
                &self.path,
                format!("--baseline has no `{key}` to compare with (make the baseline with the same flags: the same sets, --cv or not)"),
            )
        })?;
        let drop = baseline - value;
        // NaN is worse than anything.
        let pass = drop <= max_drop;
        let check = BaselineCheck {
            file: self.path.clone(),
            metric: key,
            baseline,
            value,
            drop,
            max_drop,
            verdict: if pass { "pass" } else { "fail" },
        };
        let error = (!pass).then(|| Error::Regressed {
            set: if set == "cv" {
                "cross-validation mean".into()
            } else {
                set.to_string()
            },
            measure: if task == Task::Classify {
                "accuracy"
            } else {
                "R²"
            },
            value,
            baseline,
            drop,
            max_drop,
            path: self.path.clone(),
        });
        Ok((check, error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn baseline(v: Value) -> Baseline {
        Baseline {
            path: "b.json".into(),
            metrics: v,
        }
    }

    #[test]
    fn a_drop_beyond_max_drop_fails_and_names_both_values() {
        let b = baseline(serde_json::json!({"test_accuracy": 0.96, "val_accuracy": 0.9}));
        let (c, e) = b.compare(Task::Classify, "test", 0.95, 0.02).unwrap();
        assert_eq!((c.verdict, c.metric.as_str()), ("pass", "test_accuracy"));
        assert!(e.is_none());
        let (c, e) = b.compare(Task::Classify, "test", 0.9, 0.02).unwrap();
        assert_eq!(c.verdict, "fail");
        assert!((c.drop - 0.06).abs() < 1e-12);
        let msg = e.unwrap().to_string();
        assert!(
            msg.contains("0.9") && msg.contains("0.96") && msg.contains("b.json"),
            "{msg}"
        );
        let (c, _) = b.compare(Task::Classify, "validation", 0.95, 0.0).unwrap();
        assert_eq!((c.verdict, c.baseline), ("pass", 0.9));
        let (c, _) = b.compare(Task::Classify, "test", f64::NAN, 1.0).unwrap();
        assert_eq!(c.verdict, "fail");
    }

    #[test]
    fn cv_regression_and_missing_keys() {
        let b = baseline(serde_json::json!({"cv": {"mean_r2": 0.7}, "cv_rmse": 3.0}));
        let (c, _) = b.compare(Task::Regress, "cv", 0.65, 0.1).unwrap();
        assert_eq!((c.verdict, c.metric.as_str()), ("pass", "cv.mean_r2"));
        let e = b.compare(Task::Regress, "test", 0.65, 0.1).unwrap_err();
        assert!(e.to_string().contains("test_r2"), "{e}");
    }
}
