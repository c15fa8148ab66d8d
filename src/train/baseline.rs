//! `--baseline FILE --max-drop D`: compare a run's gated metric with a previous run's (its
//! `--json` summary, or a model file) — only when both measured the same data the same way.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::data::prep::Task;
use crate::error::shown_path;
use crate::train::gates::{flag_value, shown_distinct};
use crate::{Error, Result};

/// One data file as a run read it: its name (for messages), its content fingerprint
/// (`xxh3-128:…` of the bytes read, whatever the name) and its data rows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileId {
    pub file: String,
    pub fingerprint: String,
    pub rows: usize,
}

impl FileId {
    /// The identity of the file a frame was read from (every selection of its rows keeps it).
    pub fn of<T>(frame: &crate::data::Frame<T>) -> FileId {
        FileId {
            file: frame.source.to_string_lossy().into_owned(),
            fingerprint: frame.fingerprint.clone(),
            rows: frame.x.nrows(),
        }
    }
}

/// How a training set was split: `--val-frac`, the `--seed` that drew it (null without a
/// split: the seed then changes the model, not what it is measured on), `--cv K`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Split {
    pub val_frac: f64,
    pub seed: Option<u64>,
    pub cv: Option<usize>,
}

/// What a run's metrics were measured on, recorded in its `--json` summary and its model
/// file: two runs are compared only when these agree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    /// `train` (a training or a cross-validation) or `eval`.
    pub command: String,
    pub task: Task,
    /// The training file (`train`) or the evaluated file (`eval`).
    pub data: FileId,
    /// `--test`.
    pub test_data: Option<FileId>,
    /// Feature names (without the bias), in order.
    pub features: Vec<String>,
    /// Class names (classification).
    pub classes: Option<Vec<String>>,
    /// The split of the training file (`train` only).
    pub split: Option<Split>,
}

/// A previous run's results, as read from its file.
#[derive(Clone, Debug)]
pub struct Baseline {
    pub path: PathBuf,
    /// The metrics: the summary itself, or a model file's `metrics` object.
    metrics: Value,
    /// What they were measured on (None: made by a version that did not record it).
    identity: Option<Identity>,
    /// `a --json summary` or `a model file`, for messages.
    kind: &'static str,
}

/// The comparison, as `--json` reports it under `"baseline"`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct BaselineCheck {
    pub file: PathBuf,
    /// The key compared: `test_accuracy`, `val_r2`, `cv_accuracy`, `cv.mean_r2`, `accuracy`…
    pub metric: String,
    pub baseline: f64,
    pub value: f64,
    /// baseline − value (positive when the run is worse).
    pub drop: f64,
    pub max_drop: f64,
    /// `pass` or `fail`.
    pub verdict: &'static str,
    /// The set compared (`validation`, `test`, `3-fold cross-validation mean`, `evaluated`)
    /// and the measure (`accuracy`, `R²`), for messages.
    #[serde(skip)]
    pub set: String,
    #[serde(skip)]
    pub measure: &'static str,
}

impl BaselineCheck {
    /// True when the drop is within --max-drop.
    pub fn passed(&self) -> bool {
        self.verdict == "pass"
    }

    /// The run's value, the baseline's, the drop and --max-drop as messages show them.
    pub fn shown(&self) -> [String; 4] {
        let m = self.measure;
        [
            shown_distinct(m, self.value, self.baseline),
            shown_distinct(m, self.baseline, self.value),
            flag_value(round_shown(self.drop)),
            flag_value(self.max_drop),
        ]
    }

    /// One line of the text summary: `baseline good.json: validation accuracy 96.67 %,
    /// baseline 93.33 %, drop -0.0333 (--max-drop 0.02), pass`.
    pub fn line(&self) -> String {
        let [value, baseline, drop, max_drop] = self.shown();
        format!(
            "baseline {}: {} {} {value}, baseline {baseline}, drop {drop} (--max-drop {max_drop}), {}",
            shown_path(&self.file),
            self.set,
            self.measure,
            if self.passed() { "pass" } else { "FAIL" }
        )
    }

    /// The exit-8 error of a drop beyond --max-drop.
    pub fn error(&self) -> Error {
        Error::Regressed {
            set: self.set.clone(),
            measure: self.measure,
            path: self.file.clone(),
            shown: Box::new(self.shown()),
        }
    }
}

/// A drop as messages show it: four significant digits (0.0666667 → 0.06667), enough to tell
/// it from a --max-drop typed with fewer.
fn round_shown(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    format!("{x:.3e}").parse().unwrap_or(x)
}

impl Baseline {
    /// Reads a `--json` summary (of a training, a `--cv` run or an eval) or a model file.
    pub fn load(path: &Path) -> Result<Self> {
        // A missing or unreadable baseline is a bad input (exit 3), like a data file.
        let bytes = std::fs::read(path)
            .map_err(|e| Error::data(path, format!("cannot read --baseline: {e}")))?;
        if let Some(what) = crate::data::foreign_encoding(&bytes) {
            return Err(Error::data(path, format!("--baseline {what}")));
        }
        let v: Value =
            serde_json::from_slice(crate::data::without_utf8_bom(&bytes)).map_err(|e| {
                Error::data(
                    path,
                    format!("--baseline needs a --json summary or a model file: {e}"),
                )
            })?;
        let model =
            v.get("format").and_then(Value::as_str) == Some(crate::data::modelfile::FORMAT_NAME);
        let identity = match v.get("identity") {
            None | Some(Value::Null) => None,
            Some(i) => Some(Identity::deserialize(i).map_err(|e| {
                Error::data(path, format!("--baseline: `identity` is not valid: {e}"))
            })?),
        };
        let metrics = if model {
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
            identity,
            kind: if model {
                "a model file"
            } else {
                "a --json summary"
            },
        })
    }

    /// Refuses (exit 2) a baseline that measured something else than this run: other data
    /// (by content), another test file, features, classes, task or split; or one made by an
    /// older version, which did not record these.
    pub fn check_identity(&self, run: &Identity) -> Result<()> {
        let refuse = |msg: String| Error::Baseline {
            path: self.path.clone(),
            msg,
        };
        let Some(base) = &self.identity else {
            return Err(refuse(format!(
                "is {} made by an older mlp-train: it does not record what it was measured on \
                 (`identity`: the data's fingerprint, features, classes and split), so it cannot \
                 be compared safely; remake it with this version",
                self.kind
            )));
        };
        let file = |f: &FileId| {
            format!(
                "fingerprint {}, file {}, {} rows",
                f.fingerprint,
                crate::error::escaped(f.file.as_bytes(), crate::error::PATH_SHOWN),
                f.rows
            )
        };
        if base.command != run.command {
            return Err(refuse(format!(
                "is the summary of `mlp-train {}`, and this is `mlp-train {}`: compare a training \
                 with a training's summary or model file, an eval with an earlier eval's --json",
                base.command, run.command
            )));
        }
        if base.task != run.task {
            return Err(refuse(format!(
                "was made with --task {}, and this run is --task {}",
                base.task.name(),
                run.task.name()
            )));
        }
        if base.data.fingerprint != run.data.fingerprint {
            return Err(refuse(format!(
                "was made on other data ({}) than this run ({}); a baseline compares only runs on the same data",
                file(&base.data),
                file(&run.data)
            )));
        }
        if base.test_data.as_ref().map(|t| &t.fingerprint)
            != run.test_data.as_ref().map(|t| &t.fingerprint)
        {
            let shown = |t: &Option<FileId>| t.as_ref().map_or("none".to_string(), file);
            return Err(refuse(format!(
                "was made with another --test set ({}) than this run ({})",
                shown(&base.test_data),
                shown(&run.test_data)
            )));
        }
        if let Some(diff) = differ(&base.features, &run.features) {
            return Err(refuse(format!("was made with other features: {diff}")));
        }
        if base.classes != run.classes {
            let none = Vec::new();
            let diff = differ(
                base.classes.as_ref().unwrap_or(&none),
                run.classes.as_ref().unwrap_or(&none),
            )
            .unwrap_or_default();
            return Err(refuse(format!("was made with other classes: {diff}")));
        }
        if let (Some(a), Some(b)) = (&base.split, &run.split) {
            let opt = |v: Option<String>| v.unwrap_or_else(|| "none".into());
            let pairs = [
                ("--val-frac", flag_value(a.val_frac), flag_value(b.val_frac)),
                (
                    "--cv",
                    opt(a.cv.map(|k| k.to_string())),
                    opt(b.cv.map(|k| k.to_string())),
                ),
                (
                    "--seed (which draws the split)",
                    opt(a.seed.map(|s| s.to_string())),
                    opt(b.seed.map(|s| s.to_string())),
                ),
            ];
            if let Some((flag, x, y)) = pairs.iter().find(|(_, x, y)| x != y) {
                return Err(refuse(format!(
                    "was made with another split: its {flag} is {x}, this run's is {y}"
                )));
            }
        }
        Ok(())
    }

    /// Compares `value`, the run's gated metric on `set` (`test`, `validation`, `training`,
    /// `cv` for the mean over folds, or `eval`), with the baseline's same metric: accuracy
    /// for classification, R² for regression (both higher is better). `set_name` is the
    /// set as messages name it.
    pub fn compare(
        &self,
        task: Task,
        set: &str,
        set_name: &str,
        value: f64,
        max_drop: f64,
    ) -> Result<BaselineCheck> {
        let metric = match task {
            Task::Classify => "accuracy",
            Task::Regress => "r2",
        };
        let key = match (set, task) {
            ("cv", Task::Classify) => "cv_accuracy".to_string(),
            ("cv", Task::Regress) => "cv.mean_r2".to_string(),
            ("eval", _) => metric.to_string(),
            ("validation", _) => format!("val_{metric}"),
            ("training", _) => format!("train_{metric}"),
            (other, _) => format!("{other}_{metric}"),
        };
        let found = match key.split_once('.') {
            Some((a, b)) => self.metrics.get(a).and_then(|v| v.get(b)),
            None => self.metrics.get(&key),
        };
        let bad = |what: String| Error::data(&self.path, format!("--baseline: `{key}` {what}"));
        let baseline = match found {
            Some(Value::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
            None => return Err(bad(
                "is missing: make the baseline with the same flags (the same sets, --cv or not)"
                    .into(),
            )),
            Some(Value::Null) => {
                return Err(bad("is null: the baseline's run had no such set".into()))
            }
            Some(Value::String(s)) => {
                return Err(bad(format!(
                    "is a string ({}), not a number",
                    crate::error::escaped(s.as_bytes(), 40)
                )))
            }
            Some(Value::Bool(_)) => return Err(bad("is a boolean, not a number".into())),
            Some(Value::Array(_)) => return Err(bad("is an array, not a number".into())),
            Some(Value::Object(_)) => return Err(bad("is an object, not a number".into())),
        };
        let drop = baseline - value;
        // NaN is worse than anything.
        let pass = drop <= max_drop;
        Ok(BaselineCheck {
            file: self.path.clone(),
            metric: key,
            baseline,
            value,
            drop,
            max_drop,
            verdict: if pass { "pass" } else { "fail" },
            set: set_name.to_string(),
            measure: if task == Task::Classify {
                "accuracy"
            } else {
                "R²"
            },
        })
    }
}

/// The first difference between two name lists, as a message shows it; None when equal.
fn differ(base: &[String], run: &[String]) -> Option<String> {
    let show = |s: &str| crate::error::escaped(s.as_bytes(), 40);
    if base.len() != run.len() {
        return Some(format!(
            "it has {} ({}…), this run {} ({}…)",
            base.len(),
            base.iter()
                .take(3)
                .map(|s| show(s))
                .collect::<Vec<_>>()
                .join(", "),
            run.len(),
            run.iter()
                .take(3)
                .map(|s| show(s))
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    let i = base.iter().zip(run).position(|(a, b)| a != b)?;
    Some(format!(
        "its #{} is `{}`, this run's is `{}`",
        i + 1,
        show(&base[i]),
        show(&run[i])
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn baseline(v: Value) -> Baseline {
        Baseline {
            path: "b.json".into(),
            metrics: v,
            identity: None,
            kind: "a --json summary",
        }
    }

    #[test]
    fn a_drop_beyond_max_drop_fails_and_names_both_values() {
        let b = baseline(serde_json::json!({"test_accuracy": 0.96, "val_accuracy": 0.9}));
        let c = b
            .compare(Task::Classify, "test", "test", 0.95, 0.02)
            .unwrap();
        assert_eq!((c.verdict, c.metric.as_str()), ("pass", "test_accuracy"));
        let c = b
            .compare(Task::Classify, "test", "test", 0.9, 0.02)
            .unwrap();
        assert_eq!(c.verdict, "fail");
        assert!((c.drop - 0.06).abs() < 1e-12);
        let msg = c.error().to_string();
        assert_eq!(
            msg,
            "regression against the baseline: test accuracy is 90.00 %, 0.06 below the \
             baseline's 96.00 % (b.json), more than --max-drop 0.02"
        );
        let c = b
            .compare(Task::Classify, "validation", "validation", 0.95, 0.0)
            .unwrap();
        assert_eq!((c.verdict, c.baseline), ("pass", 0.9));
        let c = b
            .compare(Task::Classify, "test", "test", f64::NAN, 1.0)
            .unwrap();
        assert_eq!(c.verdict, "fail");
    }

    #[test]
    fn cv_regression_and_missing_or_wrong_keys() {
        let b = baseline(serde_json::json!({"cv": {"mean_r2": 0.7}, "cv_rmse": 3.0,
            "val_r2": "0.9", "train_r2": null}));
        let c = b.compare(Task::Regress, "cv", "cv", 0.65, 0.1).unwrap();
        assert_eq!((c.verdict, c.metric.as_str()), ("pass", "cv.mean_r2"));
        let e = b
            .compare(Task::Regress, "test", "test", 0.65, 0.1)
            .unwrap_err();
        assert!(e.to_string().contains("`test_r2` is missing"), "{e}");
        let e = b
            .compare(Task::Regress, "validation", "validation", 0.65, 0.1)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "b.json: --baseline: `val_r2` is a string (0.9), not a number"
        );
        let e = b
            .compare(Task::Regress, "training", "training", 0.65, 0.1)
            .unwrap_err();
        assert!(e.to_string().contains("`train_r2` is null"), "{e}");
    }
    fn identity() -> Identity {
        Identity {
            command: "train".into(),
            task: Task::Classify,
            data: FileId {
                file: "iris.csv".into(),
                fingerprint: "xxh3-128:1".into(),
                rows: 150,
            },
            test_data: None,
            features: vec!["a".into(), "b".into()],
            classes: Some(vec!["x".into(), "y".into()]),
            split: Some(Split {
                val_frac: 0.2,
                seed: Some(0),
                cv: None,
            }),
        }
    }

    #[test]
    fn only_the_same_identity_is_compared_and_a_difference_is_named() {
        let mut b = baseline(serde_json::json!({}));
        b.identity = Some(identity());
        b.check_identity(&identity()).unwrap();
        let refused = |edit: &dyn Fn(&mut Identity)| {
            let mut run = identity();
            edit(&mut run);
            let e = b.check_identity(&run).unwrap_err();
            assert_eq!(e.exit_code(), crate::error::exit::USAGE);
            e.to_string()
        };
        let m = refused(&|r| r.classes = Some(vec!["x".into(), "z".into()]));
        assert_eq!(
            m,
            "--baseline b.json was made with other classes: its #2 is `y`, this run's is `z`"
        );
        let m = refused(&|r| r.task = Task::Regress);
        assert!(
            m.contains("--task classify, and this run is --task regress"),
            "{m}"
        );
        let m = refused(&|r| r.command = "eval".into());
        assert!(
            m.contains("`mlp-train train`, and this is `mlp-train eval`"),
            "{m}"
        );
        let m = refused(&|r| r.features[1] = "c\n".into());
        assert!(m.ends_with("its #2 is `b`, this run's is `c\\n`"), "{m}");
        // The file's name alone does not matter: its content does.
        let mut run = identity();
        run.data.file = "renamed.csv".into();
        b.check_identity(&run).unwrap();
    }
}
