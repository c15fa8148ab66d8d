//! The loss ℓ(o, y) of one sample and its gradient ∂ℓ/∂o, each next to the other.
//! Softmax cross-entropy is fused (log-sum-exp), so the pairing softmax + CE is assumed.

use std::any::TypeId;

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis};

use crate::math::linalg::{self, tree_sum};
use crate::math::rows;
use crate::math::vexp::exp_in_place;
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
                (Loss::SoftmaxCe, Target::Classes(y)) => (log_sum_exp_row(o_i) - o_i[y[i]]).f64(),
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
            if let (Loss::SoftmaxCe, Target::Classes(y)) = (self, y) {
                return softmax_ce_rows(o, d_o, &y[first..first + o.nrows()], first, &share, w);
            }
            let mut total = 0.0f64;
            for (k, (o_i, mut d_i)) in o.outer_iter().zip(d_o.axis_iter_mut(Axis(0))).enumerate() {
                let i = first + k;
                // wᵢ/Σw (1/B unweighted): the factor of ∂ℓᵢ/∂oᵢ in ∂L/∂oᵢ
                let c_i = share(i);
                let l_i = match (self, y) {
                    (Loss::SoftmaxCe, Target::Classes(_)) => unreachable!("softmax_ce_rows"),
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

/// ℓ and ∂ℓ/∂o of softmax cross-entropy for a block of rows of O (from row `first` of the
/// batch), each row's ∂ℓ/∂o times its share wᵢ/Σw of L (1/B unweighted):
/// p = softmax(o) = e^(o − m) / Σⱼ e^(oⱼ − m), m = max o;  ∂ℓ/∂o = p − onehot(y);
/// ℓ = log Σⱼ e^(oⱼ) − o_y = m + log Σⱼ e^(oⱼ − m) − o_y. Returns Σ wᵢ ℓᵢ over the rows
/// (Σ ℓᵢ unweighted), in f64.
/// The exponentials of the whole block go through one vectorized pass ([`exp_in_place`]),
/// each row's sum in the fixed order of [`sum_fixed`]: the bits of [`log_sum_exp_row`].
fn softmax_ce_rows<T: Real>(
    o: ArrayView2<T>,
    mut d_o: ArrayViewMut2<T>,
    y: &[usize],
    first: usize,
    share: &impl Fn(usize) -> T,
    w: Option<ArrayView1<T>>,
) -> f64 {
    let q = o.ncols();
    if let (Some(o), Some(d), true) = (o.as_slice(), d_o.as_slice_mut(), q > 0) {
        let rows = SoftmaxCeRows {
            o,
            d,
            q,
            y,
            first,
            share,
            w,
        };
        return rows.run();
    }
    // d = o − m, row by row
    for (o_i, mut d_i) in o.outer_iter().zip(d_o.outer_iter_mut()) {
        let m = row_max(o_i);
        d_i.zip_mut_with(&o_i, |d, &o| *d = o - m);
    }
    // d = e^(o − m), the whole block at once when it is contiguous
    match d_o.as_slice_mut() {
        Some(d) => exp_in_place(d),
        None => d_o.outer_iter_mut().for_each(exp_row),
    }
    let mut total = 0.0f64;
    let rows = o.outer_iter().zip(d_o.outer_iter_mut()).zip(y);
    for (k, ((o_i, mut d_i), &y_i)) in rows.enumerate() {
        let c_i = share(first + k);
        let sum = sum_fixed(d_i.view());
        let scale = c_i / sum;
        d_i.mapv_inplace(|d| d * scale);
        d_i[y_i] -= c_i;
        let l_i = (row_max(o_i) + sum.ln() - o_i[y_i]).f64();
        // Σᵢ wᵢ ℓᵢ
        total += match &w {
            Some(w) => w[first + k].f64() * l_i,
            None => l_i,
        };
    }
    total
}

/// A block of rows of [`softmax_ce_rows`] as plain slices (no per-row views): O and ∂L/∂O
/// row-major with q columns, the rows' classes, the first row's index in the batch, the shares
/// wᵢ/Σw and the weights.
struct SoftmaxCeRows<'a, T, S> {
    o: &'a [T],
    d: &'a mut [T],
    q: usize,
    y: &'a [usize],
    first: usize,
    share: &'a S,
    w: Option<ArrayView1<'a, T>>,
}

impl<T: Real, S: Fn(usize) -> T> SoftmaxCeRows<'_, T, S> {
    /// [`Self::steps`] on the AVX2/FMA build when the CPU has both (each step an IEEE
    /// operation, so the same bits on every build).
    fn run(self) -> f64 {
        #[cfg(target_arch = "x86_64")]
        if crate::math::vexp::avx2_fma() {
            // SAFETY: the CPU has AVX2 and FMA, checked just above.
            return unsafe { self.steps_avx2_fma() };
        }
        // SAFETY: `avx2_fma` false asks nothing of the CPU.
        unsafe { self.steps(false) }
    }

    /// # Safety
    /// The CPU must have AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn steps_avx2_fma(self) -> f64 {
        // SAFETY: the caller's.
        unsafe { self.steps(true) }
    }

    /// The steps of [`softmax_ce_rows`], [`GRADIENT_BLOCK_ROWS`] rows at a time: m = max oᵢ of
    /// each row (kept for ℓ), d = o − m, d = e^d for the rows at once, then per row Σ e^(o − m)
    /// in the order of [`sum_fixed`], ∂ℓ/∂o and ℓ. Each row's max and Σ are [`lanes_max`] and
    /// [`sum_lanes`], or, on the AVX2/FMA build for rows of f32 short enough for two
    /// registers, the same reductions there ([`rows`]: the same values).
    ///
    /// # Safety
    /// With `avx2_fma`, the CPU must have AVX2 and FMA.
    #[inline(always)]
    unsafe fn steps(self, avx2_fma: bool) -> f64 {
        let Self {
            o,
            d,
            q,
            y,
            first,
            share,
            w,
        } = self;
        let registers = avx2_fma && TypeId::of::<T>() == TypeId::of::<f32>() && q <= rows::SHORT;
        // SAFETY (used only when `registers`): T is f32 (same TypeId), so the slice is a slice of f32.
        let f32s =
            |v: &[T]| unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<f32>(), v.len()) };
        let max = |v: &[T]| {
            #[cfg(target_arch = "x86_64")]
            if registers {
                // SAFETY: AVX2 and FMA (the caller's), rows of q ≤ SHORT.
                return T::of(unsafe { rows::max(f32s(v)) } as f64);
            }
            lanes_max(v)
        };
        let sum = |v: &[T]| {
            #[cfg(target_arch = "x86_64")]
            if registers {
                // SAFETY: as for max.
                return T::of(unsafe { rows::sum(f32s(v)) } as f64);
            }
            sum_lanes(v)
        };
        let mut total = 0.0f64;
        let rows = o.chunks(GRADIENT_BLOCK_ROWS * q);
        let blocks = rows.zip(d.chunks_mut(GRADIENT_BLOCK_ROWS * q));
        for (k0, (o, d)) in blocks
            .enumerate()
            .map(|(b, od)| (b * GRADIENT_BLOCK_ROWS, od))
        {
            // m = max oᵢ, d = o − m, row by row
            let mut m = [T::zero(); GRADIENT_BLOCK_ROWS];
            for ((m, o_i), d_i) in m
                .iter_mut()
                .zip(o.chunks_exact(q))
                .zip(d.chunks_exact_mut(q))
            {
                *m = max(o_i);
                d_i.iter_mut().zip(o_i).for_each(|(d, &o)| *d = o - *m);
            }
            // d = e^(o − m)
            exp_in_place(d);
            let rows = o
                .chunks_exact(q)
                .zip(d.chunks_exact_mut(q))
                .zip(&m)
                .zip(&y[k0..]);
            for (k, (((o_i, d_i), &m_i), &y_i)) in rows.enumerate() {
                let i = first + k0 + k;
                let c_i = share(i);
                let sum = sum(d_i);
                // ∂ℓ/∂o = p − onehot(y), p = e^(o − m) / Σ: times wᵢ/Σw
                let scale = c_i / sum;
                d_i.iter_mut().for_each(|d| *d *= scale);
                d_i[y_i] -= c_i;
                // ℓ = m + log Σⱼ e^(oⱼ − m) − o_y
                let l_i = (m_i + sum.ln() - o_i[y_i]).f64();
                // Σᵢ wᵢ ℓᵢ
                total += match &w {
                    Some(w) => w[i].f64() * l_i,
                    None => l_i,
                };
            }
        }
        total
    }
}

/// max v as [`row_max`] (the same value: max picks one of its operands, NaN ignored, and the
/// sign a zero maximum may take changes neither o − m nor ℓ), in eight running maxima, which
/// vectorize, instead of one serial chain.
#[inline(always)]
pub(crate) fn lanes_max<T: Real>(v: &[T]) -> T {
    let mut acc = [T::neg_infinity(); 8];
    for c in v.chunks(8) {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a = a.max(x);
        }
    }
    let pair = |a: T, b: T| a.max(b);
    pair(
        pair(pair(acc[0], acc[4]), pair(acc[1], acc[5])),
        pair(pair(acc[2], acc[6]), pair(acc[3], acc[7])),
    )
}

/// Σ v of a slice in the order of [`sum_fixed`].
#[inline(always)]
fn sum_lanes<T: Real>(v: &[T]) -> T {
    let mut acc = [T::zero(); 8];
    add_lanes(&mut acc, v);
    lanes_sum(acc)
}

/// max v (NaN ignored, as `f32::max` does; −∞ for an empty row).
#[inline]
fn row_max<T: Real>(v: ArrayView1<T>) -> T {
    v.iter().copied().fold(T::neg_infinity(), T::max)
}

/// v ← e^v for one row, contiguous or not (the same bits either way).
fn exp_row<T: Real>(mut v: ArrayViewMut1<T>) {
    match v.as_slice_mut() {
        Some(s) => exp_in_place(s),
        None => v
            .iter_mut()
            .for_each(|x| exp_in_place(std::slice::from_mut(x))),
    }
}

/// Σ v in an order fixed by its length alone: v[j] into running sum j mod 8, the eight sums
/// then added in a fixed tree (a serial chain of additions is several times slower, and the
/// compiler may not reorder it).
#[inline]
fn sum_fixed<T: Real>(v: ArrayView1<T>) -> T {
    let mut acc = [T::zero(); 8];
    match v.as_slice() {
        Some(s) => add_lanes(&mut acc, s),
        None => v.iter().enumerate().for_each(|(j, &x)| acc[j % 8] += x),
    }
    lanes_sum(acc)
}

/// acc[j mod 8] += v[j], in the order of j.
#[inline(always)]
fn add_lanes<T: Real>(acc: &mut [T; 8], v: &[T]) {
    for c in v.chunks(8) {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += x;
        }
    }
}

/// The eight running sums of [`sum_fixed`] added in their one fixed order.
#[inline(always)]
fn lanes_sum<T: Real>(acc: [T; 8]) -> T {
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

/// log Σⱼ e^(vⱼ), computed as m + log Σⱼ e^(vⱼ − m) with m = max v, so that logits of
/// ±1e4 give neither inf nor NaN.
pub fn log_sum_exp<T: Real>(v: &[T]) -> T {
    log_sum_exp_row(ArrayView1::from(v))
}

/// [`log_sum_exp`] of one row, with the exponentials and the sum of [`softmax_ce_rows`]
/// (through a buffer on the stack, 64 values at a time: no allocation).
fn log_sum_exp_row<T: Real>(v: ArrayView1<T>) -> T {
    const CHUNK: usize = 64;
    let m = row_max(v);
    if !m.is_finite() {
        return m;
    }
    let mut acc = [T::zero(); 8];
    let mut buf = [T::zero(); CHUNK];
    let mut values = v.iter();
    loop {
        let mut k = 0;
        for (b, &x) in buf.iter_mut().zip(&mut values) {
            *b = x - m;
            k += 1;
        }
        exp_in_place(&mut buf[..k]);
        // CHUNK is a multiple of 8: value j still goes into running sum j mod 8.
        add_lanes(&mut acc, &buf[..k]);
        if k < CHUNK {
            break;
        }
    }
    m + lanes_sum(acc).ln()
}

/// Row-wise softmax of logits, in place: the class probabilities.
pub fn softmax_rows<T: Real>(mut o: ArrayViewMut2<T>) {
    for mut row in o.axis_iter_mut(Axis(0)) {
        let m = row_max(row.view());
        row.mapv_inplace(|x| x - m);
        exp_row(row.view_mut());
        let sum = sum_fixed(row.view());
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
    fn f32_softmax_ce_matches_f64_and_value_has_the_gradients_bits() {
        // 40 rows of 13 logits (a block and a remainder of rows, a row longer than 8 lanes).
        let o64 = Array2::from_shape_fn((40, 13), |(i, j)| {
            ((i * 13 + j) as f64 * 0.731).sin() * (1.0 + i as f64)
        });
        let y: Vec<usize> = (0..40).map(|i| (i * 7) % 13).collect();
        let o32 = o64.mapv(|v| v as f32);
        let (mut d32, mut d64) = (Array2::<f32>::zeros((40, 13)), Array2::zeros((40, 13)));
        let l32 = Loss::SoftmaxCe.gradient(o32.view(), Target::Classes(&y), d32.view_mut());
        let l64 = Loss::SoftmaxCe.gradient(
            o32.mapv(|v| v as f64).view(),
            Target::Classes(&y),
            d64.view_mut(),
        );
        assert!((l32 - l64).abs() < 1e-6 * l64.abs(), "L {l32} vs {l64}");
        for (a, b) in d32.iter().zip(&d64) {
            assert!((*a as f64 - b).abs() < 1e-8, "{a} vs {b}");
        }
        // A layout without contiguous rows (O and dO as transposed views) takes the other
        // path: the same bits.
        let o_t = o32.t().to_owned();
        let mut d_t = Array2::<f32>::zeros((13, 40));
        let l_t =
            Loss::SoftmaxCe.gradient(o_t.t(), Target::Classes(&y), d_t.view_mut().reversed_axes());
        assert_eq!(l_t.to_bits(), l32.to_bits());
        assert!(d_t
            .t()
            .iter()
            .zip(&d32)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        // value() sums each row in the gradient's order: the same L, bit for bit.
        let v32 = Loss::SoftmaxCe.value(o32.view(), Target::Classes(&y));
        assert_eq!(v32.to_bits(), l32.to_bits());
        // Rows of p sum to 1 (less the 1/B at the label): each row of dO sums to 0.
        for row in d32.rows() {
            assert!(row.iter().map(|&v| v as f64).sum::<f64>().abs() < 1e-8);
        }
        // A long row (more than one buffer of log_sum_exp_row) and a transposed layout give
        // the bits of the contiguous path.
        let long: Vec<f32> = (0..200).map(|j| (j as f32 * 0.37).cos() * 9.0).collect();
        let mut as_rows = Array2::from_shape_vec((1, 200), long.clone()).unwrap();
        let lse = log_sum_exp(&long);
        let exact = {
            let m = long.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
            m + long.iter().map(|&v| (v as f64 - m).exp()).sum::<f64>().ln()
        };
        assert!((lse as f64 - exact).abs() < 1e-5, "{lse} vs {exact}");
        // Column 0 of a (200, 2) array, as a row: a stride of 2.
        let mut wide = Array2::<f32>::zeros((200, 2));
        wide.column_mut(0).assign(&ArrayView1::from(&long[..]));
        let mut strided = wide.slice_mut(ndarray::s![.., 0..1]).reversed_axes();
        assert!(strided.row(0).as_slice().is_none());
        softmax_rows(as_rows.view_mut());
        softmax_rows(strided.view_mut());
        assert!(as_rows
            .iter()
            .zip(&strided)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        assert!((as_rows.sum() - 1.0).abs() < 1e-5);
    }

    #[test]
    fn softmax_rows_sum_to_one() {
        let mut o = array![[1000.0f32, 1000.0], [-5.0, 5.0]];
        softmax_rows(o.view_mut());
        assert!((o[[0, 0]] - 0.5).abs() < 1e-6);
        assert!((o.row(1).sum() - 1.0).abs() < 1e-6);
    }
}
