//! The loss ℓ(o, y) of one sample and its gradient ∂ℓ/∂o, each next to the other.
//! Softmax cross-entropy is fused (log-sum-exp), so the pairing softmax + CE is assumed.

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut2, Axis};

use crate::math::linalg::{self, tree_sum};
use crate::Real;

/// Batches with fewer outputs (B·q) than this compute ∂L/∂O on one thread (one e^x each).
const GRADIENT_SPLIT_MIN: usize = 2048;

/// Rows of O per leaf of the tree that sums ℓ over the batch (see [`Loss::gradient`]).
const GRADIENT_BLOCK_ROWS: usize = 32;

/// The loss ℓ (the CLI's `--loss` maps its names onto it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
// The variants' texts are also `--help`'s (cli/values.rs checks): `[y]` is math, not a link.
#[allow(rustdoc::broken_intra_doc_links)]
pub enum Loss {
    /// ℓ(o, y) = −log softmax(o)[y]: classification, y a class index. The softmax lives
    /// inside the loss; o are the logits.
    SoftmaxCe,
    /// ℓ(o, y) = ½‖o − y‖²: regression with q real targets (for classes, y is one-hot).
    HalfSquared,
}

/// The labels of a batch: class indices (classification) or a (B,q) matrix of real targets.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a, T> {
    /// y_i ∈ {0, …, q−1}, one per row.
    Classes(&'a [usize]),
    /// Y (B,q), one row of q real targets per sample.
    Values(ArrayView2<'a, T>),
}

impl<T> Target<'_, T> {
    /// Number of samples B.
    pub fn len(&self) -> usize {
        match self {
            Target::Classes(y) => y.len(),
            Target::Values(y) => y.nrows(),
        }
    }

    /// True for an empty batch.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The labels of a batch and, optionally, a positive weight wᵢ per row (a sample's weight
/// times its class's): L becomes the weighted mean Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ (PyTorch's
/// `cross_entropy(weight=…)` for class weights). Without weights every wᵢ = 1: the seed's mean.
#[derive(Clone, Copy, Debug)]
pub struct Weighted<'a, T> {
    /// The labels.
    pub y: Target<'a, T>,
    /// wᵢ > 0, one per row; None for the plain mean.
    pub w: Option<ArrayView1<'a, T>>,
}

impl<'a, T> From<Target<'a, T>> for Weighted<'a, T> {
    /// The plain mean: no weights.
    fn from(y: Target<'a, T>) -> Self {
        Weighted { y, w: None }
    }
}

impl<'a, T: Real> Weighted<'a, T> {
    /// Labels `y` with weights `w` (None: unweighted).
    pub fn new(y: Target<'a, T>, w: Option<ArrayView1<'a, T>>) -> Self {
        Weighted { y, w }
    }

    /// Σᵢ wᵢ in f64 (B without weights): the denominator of L.
    pub fn total(&self) -> f64 {
        match &self.w {
            Some(w) => w.iter().map(|v| v.f64()).sum(),
            None => self.y.len() as f64,
        }
    }

    /// wᵢ (1 without weights).
    #[inline]
    pub fn weight(&self, i: usize) -> T {
        self.w.as_ref().map_or(T::one(), |w| w[i])
    }
}

impl std::str::FromStr for Loss {
    type Err = String;

    /// One of [`Loss::NAMES`] or [`Loss::ALIASES`].
    fn from_str(s: &str) -> Result<Self, String> {
        let names = Loss::NAMES.iter().zip(Loss::ALL);
        let aliases = Loss::ALIASES.iter().map(|(n, l)| (n, *l));
        names
            .chain(aliases)
            .find(|(n, _)| **n == s)
            .map(|(_, l)| l)
            .ok_or_else(|| crate::math::activation::unknown("loss", s, &Loss::NAMES))
    }
}

impl Loss {
    /// Both losses.
    pub const ALL: [Loss; 2] = [Loss::SoftmaxCe, Loss::HalfSquared];

    /// The names used on the command line, in the order of [`Self::ALL`].
    pub const NAMES: [&'static str; 2] = ["softmax-ce", "half-squared"];

    /// Other spellings the command line accepts (the model file's names among them).
    pub const ALIASES: [(&'static str, Loss); 4] = [
        ("softmax_ce", Loss::SoftmaxCe),
        ("cross-entropy", Loss::SoftmaxCe),
        ("half_squared", Loss::HalfSquared),
        ("squared", Loss::HalfSquared),
    ];

    /// The name used in model files and reference vectors.
    pub fn name(self) -> &'static str {
        match self {
            Loss::SoftmaxCe => "softmax_ce",
            Loss::HalfSquared => "half_squared",
        }
    }

    /// L = Σᵢ wᵢ ℓ(oᵢ, yᵢ) / Σᵢ wᵢ, the weighted mean loss of a batch, accumulated in f64;
    /// without weights (wᵢ = 1) the plain mean L = (1/B) Σᵢ ℓ(oᵢ, yᵢ), computed as before.
    pub fn value<'a, T: Real>(self, o: ArrayView2<T>, y: impl Into<Weighted<'a, T>>) -> f64 {
        let Weighted { y, w } = y.into();
        let b = o.nrows();
        let mut total = 0.0f64;
        for (i, o_i) in o.outer_iter().enumerate() {
            let l_i = match (self, y) {
                // ℓ = log Σⱼ e^(oⱼ) − o_y
                (Loss::SoftmaxCe, Target::Classes(y)) => {
                    (log_sum_exp_iter(o_i.iter().copied()) - o_i[y[i]]).f64()
                }
                (Loss::SoftmaxCe, Target::Values(_)) => f64::NAN,
                // ℓ = ½ Σⱼ (oⱼ − yⱼ)²
                (Loss::HalfSquared, _) => {
                    let mut sq = T::zero();
                    for (j, &o_ij) in o_i.iter().enumerate() {
                        let r = o_ij - target_at(y, i, j);
                        sq += r * r;
                    }
                    (T::of(0.5) * sq).f64()
                }
            };
            // Σᵢ wᵢ ℓᵢ
            total += match &w {
                Some(w) => w[i].f64() * l_i,
                None => l_i,
            };
        }
        match &w {
            Some(w) => total / w.iter().map(|v| v.f64()).sum::<f64>(),
            None => total / b as f64,
        }
    }

    /// ∂L/∂O for the batch's weighted mean L = Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ, written into `d_o` (B,q):
    /// row i is ∂ℓᵢ/∂oᵢ · wᵢ / Σₖ wₖ, **already divided** (by B without weights, wᵢ = 1);
    /// returns L as well, since it falls out of the same pass.
    pub fn gradient<'a, T: Real>(
        self,
        o: ArrayView2<T>,
        y: impl Into<Weighted<'a, T>>,
        d_o: ArrayViewMut2<T>,
    ) -> f64 {
        let weighted = y.into();
        let Weighted { y, w } = weighted;
        let b = o.nrows();
        // 1/B, or 1/Σw: each row's share of L is wᵢ/Σw.
        let total_w = weighted.total();
        let inv_b = T::one() / T::of(b as f64);
        let inv_w = 1.0 / total_w;
        let share = |i: usize| match &w {
            Some(w) => T::of(w[i].f64() * inv_w),
            None => inv_b,
        };
        // Rows are independent: blocks of rows on the rayon pool's threads (e^x is ~10 ns),
        // their ℓ summed in a tree fixed by B, so the same bits for every thread count.
        let parts = if o.len() >= GRADIENT_SPLIT_MIN {
            linalg::threads()
        } else {
            1
        };
        let rows = |first: usize, (o, mut d_o): (ArrayView2<T>, ArrayViewMut2<T>)| {
            let mut total = 0.0f64;
            for (k, (o_i, mut d_i)) in o.outer_iter().zip(d_o.axis_iter_mut(Axis(0))).enumerate() {
                let i = first + k;
                // wᵢ/Σw (1/B unweighted): the factor of ∂ℓᵢ/∂oᵢ in ∂L/∂oᵢ
                let c_i = share(i);
                let l_i = match (self, y) {
                    (Loss::SoftmaxCe, Target::Classes(y)) => {
                        // p = softmax(o) = e^(o − m) / Σⱼ e^(oⱼ − m), m = max o;   ∂ℓ/∂o = p − onehot(y)
                        let m = o_i.iter().copied().fold(T::neg_infinity(), T::max);
                        let mut sum = T::zero();
                        for (&o_ij, d) in o_i.iter().zip(d_i.iter_mut()) {
                            *d = (o_ij - m).exp();
                            sum += *d;
                        }
                        let scale = c_i / sum;
                        for d in d_i.iter_mut() {
                            *d *= scale;
                        }
                        d_i[y[i]] -= c_i;
                        // ℓ = log Σⱼ e^(oⱼ) − o_y = m + log Σⱼ e^(oⱼ − m) − o_y
                        (m + sum.ln() - o_i[y[i]]).f64()
                    }
                    (Loss::SoftmaxCe, Target::Values(_)) => {
                        d_i.fill(T::nan());
                        f64::NAN
                    }
                    (Loss::HalfSquared, _) => {
                        // ∂ℓ/∂o = o − y
                        let mut sq = T::zero();
                        for (j, (&o_ij, d)) in o_i.iter().zip(d_i.iter_mut()).enumerate() {
                            let r = o_ij - target_at(y, i, j);
                            sq += r * r;
                            *d = r * c_i;
                        }
                        (T::of(0.5) * sq).f64()
                    }
                };
                // Σᵢ wᵢ ℓᵢ
                total += match &w {
                    Some(w) => w[i].f64() * l_i,
                    None => l_i,
                };
            }
            total
        };
        let sum = tree_sum((o, d_o), b, GRADIENT_BLOCK_ROWS, parts, &split_rows, &rows);
        match w {
            Some(_) => sum / total_w,
            None => sum / b as f64,
        }
    }
}

/// Rows ..at and at.. of O and of ∂L/∂O.
#[allow(clippy::type_complexity)]
fn split_rows<'a, T>(
    (o, d_o): (ArrayView2<'a, T>, ArrayViewMut2<'a, T>),
    at: usize,
) -> (
    (ArrayView2<'a, T>, ArrayViewMut2<'a, T>),
    (ArrayView2<'a, T>, ArrayViewMut2<'a, T>),
) {
    let ((o0, o1), (d0, d1)) = (o.split_at(Axis(0), at), d_o.split_at(Axis(0), at));
    ((o0, d0), (o1, d1))
}

/// yᵢⱼ: the real target, or the one-hot entry for a class label.
#[inline]
fn target_at<T: Real>(y: Target<T>, i: usize, j: usize) -> T {
    match y {
        Target::Values(y) => y[[i, j]],
        Target::Classes(y) => {
            if y[i] == j {
                T::one()
            } else {
                T::zero()
            }
        }
    }
}

/// log Σⱼ e^(vⱼ), computed as m + log Σⱼ e^(vⱼ − m) with m = max v, so that logits of
/// ±1e4 give neither inf nor NaN.
pub fn log_sum_exp<T: Real>(v: &[T]) -> T {
    log_sum_exp_iter(v.iter().copied())
}

fn log_sum_exp_iter<T: Real, I: Iterator<Item = T> + Clone>(v: I) -> T {
    let m = v.clone().fold(T::neg_infinity(), T::max);
    if !m.is_finite() {
        return m;
    }
    m + v.map(|x| (x - m).exp()).sum::<T>().ln()
}

/// Row-wise softmax of logits, in place: the class probabilities.
pub fn softmax_rows<T: Real>(mut o: ArrayViewMut2<T>) {
    for mut row in o.axis_iter_mut(Axis(0)) {
        let m = row.iter().copied().fold(T::neg_infinity(), T::max);
        row.mapv_inplace(|x| (x - m).exp());
        let sum = row.sum();
        row.mapv_inplace(|p| p / sum);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};

    #[test]
    fn cross_entropy_is_stable_for_huge_logits() {
        let o = array![[1e4f64, -1e4, 0.0], [-1e4, -1e4, 1e4]];
        let y = [1usize, 2];
        let mut d_o = Array2::zeros((2, 3));
        let l = Loss::SoftmaxCe.gradient(o.view(), Target::Classes(&y), d_o.view_mut());
        assert!(l.is_finite() && d_o.iter().all(|v| v.is_finite()));
        // Row 0 puts all mass on class 0 but the label is 1: ℓ = 2e4. Row 1 is right: ℓ ≈ 0.
        assert!((l - 1e4).abs() < 1e-9, "L = {l}");
        assert!((d_o[[0, 0]] - 0.5).abs() < 1e-12 && (d_o[[0, 1]] + 0.5).abs() < 1e-12);
        let f32o = o.mapv(|v| v as f32);
        let l32 = Loss::SoftmaxCe.value(f32o.view(), Target::Classes(&y));
        assert!((l32 - 1e4).abs() < 1e-2);
    }

    #[test]
    fn value_and_gradient_agree_on_l() {
        let o = array![[0.3f64, -1.2, 2.0], [0.1, 0.2, -0.3]];
        let yv = array![[1.0f64, 0.0, -1.0], [0.5, 0.5, 0.5]];
        let mut d_o = Array2::zeros((2, 3));
        for (loss, y) in [
            (Loss::SoftmaxCe, Target::Classes(&[2usize, 0][..])),
            (Loss::HalfSquared, Target::Values(yv.view())),
        ] {
            let a = loss.value(o.view(), y);
            let b = loss.gradient(o.view(), y, d_o.view_mut());
            assert!((a - b).abs() < 1e-15, "{loss:?}: {a} vs {b}");
        }
    }

    #[test]
    fn softmax_rows_sum_to_one() {
        let mut o = array![[1000.0f32, 1000.0], [-5.0, 5.0]];
        softmax_rows(o.view_mut());
        assert!((o[[0, 0]] - 0.5).abs() < 1e-6);
        assert!((o.row(1).sum() - 1.0).abs() < 1e-6);
    }
}
