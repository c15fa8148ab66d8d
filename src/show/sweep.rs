//! A sweep's results as plain data: one row per grid point, best first, and the metric that
//! ranks them. `sweep` fills it; the CSV/JSON table and the HTML page are rendered from it.

use serde::Serialize;

/// What became of one point of a sweep.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PointStatus {
    /// Trained (and evaluated) to the end.
    Ok,
    /// Failed: the one-line error, as the run alone would have printed it.
    Failed(String),
    /// Not run (yet): interrupted before it started, or left to another engine.
    Missing,
}

/// One grid point's row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SweepRow {
    /// 1 for the best; None for a point without a score (failed, missing).
    pub rank: Option<usize>,
    /// The point's index in the plan (0-based, as `--point I` takes it).
    pub point: usize,
    pub status: PointStatus,
    /// The ranking metric's value ([`SweepTable::metric`]).
    pub score: Option<f64>,
    /// Under --cv: the standard deviation over folds of the score (see
    /// [`SweepTable::std_kind`]); else None.
    pub score_std: Option<f64>,
    /// L on the validation set (the mean over folds under --cv): breaks ties in the score.
    pub val_loss: Option<f64>,
    /// The training set's metric (accuracy, or RMSE for regression).
    pub train_metric: Option<f64>,
    /// Wall-clock seconds of the point's training.
    pub fit_seconds: Option<f64>,
    /// The point's value of each axis, as it would be typed after the flag, in the order of
    /// [`SweepTable::axes`].
    pub values: Vec<String>,
    /// The point's warnings (the data's: a real-valued label…), one sentence each.
    pub warnings: Vec<String>,
}

/// A sweep's table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SweepTable {
    /// The ranking metric, named: `val_accuracy`, `cv_mean_accuracy`, `test_accuracy`,
    /// `train_accuracy`, `val_rmse`, `cv_mean_rmse` …
    pub metric: String,
    /// True for accuracy and R², false for RMSE and losses.
    pub higher_is_better: bool,
    /// Which standard deviation `score_std` is (e.g. `population std over 5 folds`), under
    /// --cv; else None.
    pub std_kind: Option<String>,
    /// The training metric's name: `train_accuracy` or `train_rmse`.
    pub train_metric: String,
    /// The axes, as flag names without the dashes (`lambda`, `lr`, `hidden`, …).
    pub axes: Vec<String>,
    /// Ranked rows best first, then the points without a score in plan order.
    pub rows: Vec<SweepRow>,
}

impl PointStatus {
    /// `ok`, `failed` or `missing`.
    pub fn name(&self) -> &'static str {
        match self {
            PointStatus::Ok => "ok",
            PointStatus::Failed(_) => "failed",
            PointStatus::Missing => "missing",
        }
    }
}

/// A number as the table gives it: the shortest text that reads back as the same f64,
/// whatever the locale; empty when absent.
fn cell(v: Option<f64>) -> String {
    v.map(|x| format!("{x}")).unwrap_or_default()
}

impl SweepTable {
    /// The table as CSV: `rank`, the score under its metric's name, its `_std` (under --cv),
    /// `val_loss`, the training metric (`train_metric` when it is the score's), `fit_seconds`,
    /// one column per axis, `point`, `status`, `error`, `warnings` (joined by ` | `); best
    /// first.
    pub fn csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = vec![
            "rank".to_string(),
            self.metric.clone(),
            format!("{}_std", self.metric),
            "val_loss".into(),
            // Scored on the training set, the score is the training metric: one name per column.
            if self.train_metric == self.metric {
                "train_metric".into()
            } else {
                self.train_metric.clone()
            },
            "fit_seconds".into(),
        ];
        header.extend(self.axes.iter().cloned());
        header.extend([
            "point".into(),
            "status".into(),
            "error".into(),
            "warnings".into(),
        ]);
        let _ = w.write_record(&header);
        for r in &self.rows {
            let mut rec = vec![
                r.rank.map(|k| k.to_string()).unwrap_or_default(),
                cell(r.score),
                cell(r.score_std),
                cell(r.val_loss),
                cell(r.train_metric),
                cell(r.fit_seconds),
            ];
            rec.extend(r.values.iter().cloned());
            rec.push(r.point.to_string());
            rec.push(r.status.name().into());
            rec.push(match &r.status {
                PointStatus::Failed(e) => e.clone(),
                _ => String::new(),
            });
            rec.push(r.warnings.join(" | "));
            let _ = w.write_record(&rec);
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// The table as one JSON object: the metric and how to read it, then the rows best first,
    /// each with its axes' values by name.
    pub fn json(&self) -> serde_json::Value {
        use serde_json::json;
        let rows: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|r| {
                let values: serde_json::Map<String, serde_json::Value> = self
                    .axes
                    .iter()
                    .cloned()
                    .zip(r.values.iter().map(|v| json!(v)))
                    .collect();
                json!({
                    "rank": r.rank,
                    "point": r.point,
                    "status": r.status.name(),
                    "error": match &r.status {
                        PointStatus::Failed(e) => Some(e),
                        _ => None,
                    },
                    "score": r.score,
                    "score_std": r.score_std,
                    "val_loss": r.val_loss,
                    "train_metric": r.train_metric,
                    "fit_seconds": r.fit_seconds,
                    "values": values,
                    "warnings": r.warnings,
                })
            })
            .collect();
        json!({
            "schema_version": 1,
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "std_kind": self.std_kind,
            "train_metric": self.train_metric,
            "axes": self.axes,
            "rows": rows,
        })
    }
}
