//! The sweep's table from its plan and the results on disk: the score (test, else cv, else
//! validation, else training metric), ranked best first, ties broken by the validation loss.

use std::path::Path;

use serde_json::Value;

use crate::show::sweep::{PointStatus, SweepRow, SweepTable};
use crate::sweep::files::{self, PointResult};
use crate::sweep::plan::SweepPlan;

/// Every point's result on disk (None: missing), in plan order.
pub fn collect(dir: &Path, plan: &SweepPlan, plan_id: &str) -> Vec<Option<PointResult>> {
    plan.points
        .iter()
        .map(|p| files::read_result(dir, plan_id, p.point, &p.values))
        .collect()
}

/// Where the score comes from, in the order of preference.
#[derive(Clone, Copy, PartialEq)]
enum Set {
    Test,
    Cv,
    Val,
    Train,
}

fn num(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

/// The ranked table.
pub fn table(plan: &SweepPlan, results: &[Option<PointResult>]) -> SweepTable {
    let oks: Vec<&Value> = results
        .iter()
        .flatten()
        .filter_map(|r| r.summary.as_ref())
        .collect();
    let regress = oks.iter().any(|s| s["task"] == "regress");
    let m = if regress { "rmse" } else { "accuracy" };
    let all = |f: &dyn Fn(&Value) -> bool| !oks.is_empty() && oks.iter().all(|s| f(s));
    let set = if all(&|s| num(s, &format!("test_{m}")).is_some()) {
        Set::Test
    } else if all(&|s| s.get("cv").is_some()) {
        Set::Cv
    } else if all(&|s| num(s, &format!("val_{m}")).is_some()) {
        Set::Val
    } else {
        Set::Train
    };
    let metric = match set {
        Set::Test => format!("test_{m}"),
        Set::Cv => format!("cv_mean_{m}"),
        Set::Val => format!("val_{m}"),
        Set::Train => format!("train_{m}"),
    };
    let folds = oks
        .iter()
        .find_map(|s| s.get("cv").and_then(|c| c["k"].as_u64()));
    let std_kind = (set == Set::Cv).then(|| {
        format!(
            "sample standard deviation over {} folds",
            folds.unwrap_or(0)
        )
    });
    let mut rows: Vec<SweepRow> = plan
        .points
        .iter()
        .zip(results)
        .map(|(p, r)| {
            let mut row = SweepRow {
                rank: None,
                point: p.point,
                status: PointStatus::Missing,
                score: None,
                score_std: None,
                val_loss: None,
                train_metric: None,
                fit_seconds: None,
                values: p.values.clone(),
                warnings: Vec::new(),
            };
            let Some(r) = r else { return row };
            if let Some(e) = &r.error {
                row.status = PointStatus::Failed(e.clone());
                return row;
            }
            let Some(s) = &r.summary else { return row };
            row.status = PointStatus::Ok;
            let cv = s.get("cv");
            row.score = match set {
                Set::Cv => cv.and_then(|c| num(c, "mean")),
                _ => num(s, &metric),
            };
            row.score_std = cv.and_then(|c| num(c, "std"));
            row.val_loss = match cv {
                Some(c) => num(c, "mean_loss"),
                None => num(s, "val_loss"),
            };
            row.train_metric = num(s, &format!("train_{m}"));
            row.fit_seconds = num(s, "seconds");
            row.warnings = s
                .get("warnings")
                .and_then(Value::as_array)
                .map(|w| {
                    w.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            row
        })
        .collect();
    let higher = !regress;
    // Best first: the score (NaN last), then the lower validation loss, then plan order.
    rows.sort_by(|a, b| {
        let key = |r: &SweepRow| match r.score.filter(|s| !s.is_nan()) {
            Some(s) if higher => (0, -s),
            Some(s) => (0, s),
            None => (1, 0.0),
        };
        let (ka, kb) = (key(a), key(b));
        ka.0.cmp(&kb.0)
            .then(ka.1.total_cmp(&kb.1))
            .then(
                a.val_loss
                    .unwrap_or(f64::INFINITY)
                    .total_cmp(&b.val_loss.unwrap_or(f64::INFINITY)),
            )
            .then(a.point.cmp(&b.point))
    });
    let mut rank = 0;
    for r in &mut rows {
        if r.score.is_some_and(|s| !s.is_nan()) {
            rank += 1;
            r.rank = Some(rank);
        }
    }
    SweepTable {
        metric,
        higher_is_better: higher,
        std_kind,
        train_metric: format!("train_{m}"),
        axes: plan.axes.clone(),
        rows,
    }
}
