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
