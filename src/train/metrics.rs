//! Quality measures of predictions against labels: accuracy, confusion matrix and per-class
//! precision/recall/F1 for classes; RMSE, MAE and R² for real targets.

use serde::Serialize;

/// Classification report.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ClassReport {
    pub accuracy: f64,
    /// `confusion[true][predicted]`, counts.
    pub confusion: Vec<Vec<u64>>,
    pub per_class: Vec<ClassScores>,
}

/// One class's scores (0 where undefined: no predictions or no samples of the class).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ClassScores {
    pub class: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: u64,
}

/// Regression report, over all targets pooled.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RegressionReport {
    pub rmse: f64,
    pub mae: f64,
    /// 1 − SS_res / SS_tot per target, averaged over targets.
    pub r2: f64,
}

/// Accuracy, confusion matrix and per-class scores of predicted vs true class indices.
pub fn classification(truth: &[usize], predicted: &[usize], classes: &[String]) -> ClassReport {
    let q = classes.len();
    let mut confusion = vec![vec![0u64; q]; q];
    for (&t, &p) in truth.iter().zip(predicted) {
        if t < q && p < q {
            confusion[t][p] += 1;
        }
    }
    let correct: u64 = (0..q).map(|k| confusion[k][k]).sum();
    let n = truth.len().max(1) as f64;
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let per_class = (0..q)
        .map(|k| {
            let tp = confusion[k][k];
            let predicted_k: u64 = (0..q).map(|t| confusion[t][k]).sum();
            let support: u64 = confusion[k].iter().sum();
            let precision = ratio(tp, predicted_k);
            let recall = ratio(tp, support);
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            ClassScores {
                class: classes[k].clone(),
                precision,
                recall,
                f1,
                support,
            }
        })
        .collect();
    ClassReport {
        accuracy: correct as f64 / n,
        confusion,
        per_class,
    }
}

/// RMSE, MAE and mean R² of predictions vs truth, both (n, q) row-major in the data's units.
pub fn regression(truth: &[f64], predicted: &[f64], q: usize) -> RegressionReport {
    let len = truth.len().min(predicted.len());
    let q = q.max(1);
    let n = len / q;
    let (mut sq, mut abs) = (0.0, 0.0);
    for (t, p) in truth.iter().zip(predicted) {
        sq += (t - p) * (t - p);
        abs += (t - p).abs();
    }
    let count = len.max(1) as f64;
    let mut r2_sum = 0.0;
    for j in 0..q {
        let col = |v: &[f64], i: usize| v[i * q + j];
        let mean = (0..n).map(|i| col(truth, i)).sum::<f64>() / n.max(1) as f64;
        let ss_tot: f64 = (0..n).map(|i| (col(truth, i) - mean).powi(2)).sum();
        let ss_res: f64 = (0..n)
            .map(|i| (col(truth, i) - col(predicted, i)).powi(2))
            .sum();
        r2_sum += if ss_tot > 0.0 {
            1.0 - ss_res / ss_tot
        } else {
            0.0
        };
    }
    RegressionReport {
        rmse: (sq / count).sqrt(),
        mae: abs / count,
        r2: r2_sum / q as f64,
    }
}

/// [`regression`] with row i counting wᵢ times (as scikit-learn's `sample_weight`): RMSE and
/// MAE are weighted means over the rows (each row's q targets pooled), R² uses the weighted
/// mean of each target and weighted sums of squares. Without weights, [`regression`] itself.
pub fn regression_weighted(
    truth: &[f64],
    predicted: &[f64],
    q: usize,
    w: Option<&[f64]>,
) -> RegressionReport {
    let Some(w) = w else {
        return regression(truth, predicted, q);
    };
    let q = q.max(1);
    let n = (truth.len().min(predicted.len()) / q).min(w.len());
    let total: f64 = w[..n].iter().sum();
    let (mut sq, mut abs) = (0.0, 0.0);
    for (i, &w_i) in w[..n].iter().enumerate() {
        for j in 0..q {
            let r = truth[i * q + j] - predicted[i * q + j];
            sq += w_i * r * r;
            abs += w_i * r.abs();
        }
    }
    let count = if total > 0.0 { total * q as f64 } else { 1.0 };
    let mut r2_sum = 0.0;
    for j in 0..q {
        let col = |v: &[f64], i: usize| v[i * q + j];
        // ȳ = Σ wᵢ yᵢ / Σ wᵢ;  R² = 1 − Σ wᵢ (yᵢ − ŷᵢ)² / Σ wᵢ (yᵢ − ȳ)²
        let mean = (0..n).map(|i| w[i] * col(truth, i)).sum::<f64>() / total.max(f64::MIN_POSITIVE);
        let ss_tot: f64 = (0..n).map(|i| w[i] * (col(truth, i) - mean).powi(2)).sum();
        let ss_res: f64 = (0..n)
            .map(|i| w[i] * (col(truth, i) - col(predicted, i)).powi(2))
            .sum();
        r2_sum += if ss_tot > 0.0 {
            1.0 - ss_res / ss_tot
        } else {
            0.0
        };
    }
    RegressionReport {
        rmse: (sq / count).sqrt(),
        mae: abs / count,
        r2: r2_sum / q as f64,
    }
}

/// Σᵢ wᵢ [predictedᵢ = truthᵢ] / Σᵢ wᵢ: accuracy with row i counting wᵢ times (scikit-learn's
/// `accuracy_score(…, sample_weight=w)`).
pub fn weighted_accuracy(truth: &[usize], predicted: &[usize], w: &[f64]) -> f64 {
    let total: f64 = w.iter().sum();
    let correct: f64 = truth
        .iter()
        .zip(predicted)
        .zip(w)
        .filter(|((t, p), _)| t == p)
        .map(|(_, w)| w)
        .sum();
    if total > 0.0 {
        correct / total
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_metrics_by_hand() {
        // Weights 2, 1, 1 on truth 1, 2, 3 and predictions 1, 2, 5: like row 0 twice.
        let r = regression_weighted(
            &[1.0, 2.0, 3.0],
            &[1.0, 2.0, 5.0],
            1,
            Some(&[2.0, 1.0, 1.0]),
        );
        let dup = regression(&[1.0, 1.0, 2.0, 3.0], &[1.0, 1.0, 2.0, 5.0], 1);
        assert!((r.rmse - dup.rmse).abs() < 1e-15 && (r.mae - dup.mae).abs() < 1e-15);
        assert!((r.r2 - dup.r2).abs() < 1e-15, "{} vs {}", r.r2, dup.r2);
        assert_eq!(
            weighted_accuracy(&[0, 1, 1], &[0, 0, 1], &[3.0, 1.0, 1.0]),
            0.8
        );
    }

    #[test]
    fn confusion_and_scores_by_hand() {
        // truth 0 0 1 1 2, predicted 0 1 1 1 0
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let r = classification(&[0, 0, 1, 1, 2], &[0, 1, 1, 1, 0], &names);
        assert_eq!(
            r.confusion,
            vec![vec![1, 1, 0], vec![0, 2, 0], vec![1, 0, 0]]
        );
        assert!((r.accuracy - 0.6).abs() < 1e-15);
        // class a: tp 1, predicted 2, support 2 → P = R = F1 = 0.5
        assert_eq!(
            (r.per_class[0].precision, r.per_class[0].recall),
            (0.5, 0.5)
        );
        // class b: tp 2, predicted 3, support 2 → P = 2/3, R = 1, F1 = 0.8
        assert!((r.per_class[1].f1 - 0.8).abs() < 1e-12);
        assert_eq!(r.per_class[2].f1, 0.0);
    }

    #[test]
    fn regression_by_hand() {
        let r = regression(&[1.0, 2.0, 3.0], &[1.0, 2.0, 5.0], 1);
        assert!((r.rmse - (4.0f64 / 3.0).sqrt()).abs() < 1e-15);
        assert!((r.mae - 2.0 / 3.0).abs() < 1e-15);
        // SS_tot = 2, SS_res = 4 → R² = −1
        assert!((r.r2 + 1.0).abs() < 1e-15);
    }
}
