//! The matrix products the model needs, behind two small functions, so that the backend
//! (faer's kernels, single-threaded, no allocation) can change without touching model.rs.
//!
//! With `--threads N` ≥ 2 the training loop installs a [`Pool`] on its thread (see
//! [`Pool::install`]); every product large enough is then split into N chunks of its output,
//! rows of C when C has at least as many rows as columns and columns otherwise, each chunk a
//! single-threaded faer product on one of the pool's threads. Each element of C is still
//! computed by one kernel call over the whole inner dimension, so the result is the same,
//! bit for bit, for every thread count (checked in tests/threads.rs).

use faer::{Accum, MatMut, MatRef, Par};
use ndarray::{s, ArrayView2, ArrayViewMut2};

use crate::pool::{self, Pool};
use crate::Real;

/// Products with fewer multiply-adds (m·n·k) than this are never split: waking a helper costs
/// more than it saves.
pub const SPLIT_MIN_MACS: usize = 1 << 18;

/// Chunk boundaries are multiples of this many rows or columns (a whole number of SIMD
/// registers of f32, so that no chunk starts in the middle of a microkernel tile).
const ALIGN: usize = 16;

/// A read-only faer view of an ndarray view (any strides).
#[inline]
fn mat_ref<'a, T: Real>(a: &ArrayView2<'a, T>) -> MatRef<'a, T> {
    let s = a.strides();
    // SAFETY: the pointer, shape and element strides come from a live ndarray view that
    // outlives 'a; faer reads only inside that shape.
    unsafe { MatRef::from_raw_parts(a.as_ptr(), a.nrows(), a.ncols(), s[0], s[1]) }
}

/// A writable faer view of an ndarray view (any strides).
#[inline]
fn mat_mut<'a, T: Real>(c: &'a mut ArrayViewMut2<'_, T>) -> MatMut<'a, T> {
    let (rows, cols) = c.dim();
    let s = [c.strides()[0], c.strides()[1]];
    // SAFETY: as above; the &mut borrow of the view makes the access exclusive.
    unsafe { MatMut::from_raw_parts_mut(c.as_mut_ptr(), rows, cols, s[0], s[1]) }
}

/// C = A·B, or C = A·B + C when `accumulate`. A and B may be transposed views (`w.t()`).
/// Split over the current pool when there is one (see the module's comment).
#[inline]
fn gemm<T: Real>(a: ArrayView2<T>, b: ArrayView2<T>, c: ArrayViewMut2<T>, accumulate: bool) {
    assert!(
        a.ncols() == b.nrows() && c.nrows() == a.nrows() && c.ncols() == b.ncols(),
        "matmul shapes {:?}·{:?} → {:?}",
        a.dim(),
        b.dim(),
        c.dim()
    );
    let (m, n, k) = (c.nrows(), c.ncols(), a.ncols());
    if m * n * k < SPLIT_MIN_MACS {
        return gemm_seq(a, b, c, accumulate);
    }
    pool::with_current(|p| match p {
        Some(p) if p.threads() > 1 => gemm_split(p, a, b, c, accumulate),
        _ => gemm_seq(a, b, c, accumulate),
    })
}

/// One single-threaded faer product (no allocation).
#[inline]
fn gemm_seq<T: Real>(
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    mut c: ArrayViewMut2<T>,
    accumulate: bool,
) {
    gemm_faer(a, b, mat_mut(&mut c), accumulate);
}

/// The chunk boundaries of `len` rows or columns cut into (at most) `parts` aligned pieces.
#[inline]
fn bounds(len: usize, parts: usize, i: usize) -> (usize, usize) {
    let step = len.div_ceil(parts).next_multiple_of(ALIGN);
    ((i * step).min(len), ((i + 1) * step).min(len))
}

/// C's pointer, shared by the chunks, each of which writes a disjoint block of C.
struct SharedOut<T>(*mut T);
// SAFETY: the chunks of `gemm_split` write disjoint blocks of C through this pointer, and the
// pool's `run` returns only after all of them are done (a happens-before edge to the caller).
unsafe impl<T: Send> Sync for SharedOut<T> {}

/// C split into the pool's thread count of chunks along its longer side.
fn gemm_split<T: Real>(
    pool: &Pool,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    mut c: ArrayViewMut2<T>,
    accumulate: bool,
) {
    let (m, n) = c.dim();
    let by_rows = m >= n;
    let len = if by_rows { m } else { n };
    let parts = pool.threads().min(len.div_ceil(ALIGN));
    let (rs, cs) = (c.strides()[0], c.strides()[1]);
    let out = SharedOut(c.as_mut_ptr());
    let out = &out;
    pool.run(parts, &|i| {
        let (lo, hi) = bounds(len, parts, i);
        if lo >= hi {
            return;
        }
        // SAFETY: rows (or columns) lo..hi of C, disjoint from every other chunk's; C is
        // exclusively borrowed by this call for the whole `run`.
        unsafe {
            if by_rows {
                let ci =
                    MatMut::from_raw_parts_mut(out.0.offset(lo as isize * rs), hi - lo, n, rs, cs);
                gemm_faer(a.slice(s![lo..hi, ..]), b.view(), ci, accumulate);
            } else {
                let ci =
                    MatMut::from_raw_parts_mut(out.0.offset(lo as isize * cs), m, hi - lo, rs, cs);
                gemm_faer(a.view(), b.slice(s![.., lo..hi]), ci, accumulate);
            }
        }
    });
}

#[inline]
fn gemm_faer<T: Real>(a: ArrayView2<T>, b: ArrayView2<T>, c: MatMut<'_, T>, accumulate: bool) {
    let acc = if accumulate {
        Accum::Add
    } else {
        Accum::Replace
    };
    faer::linalg::matmul::matmul(c, acc, mat_ref(&a), mat_ref(&b), T::one(), Par::Seq);
}

/// C = A·B. A and B may be transposed views (`w.t()`); C is overwritten.
#[inline]
pub fn matmul<T: Real>(a: ArrayView2<T>, b: ArrayView2<T>, c: ArrayViewMut2<T>) {
    gemm(a, b, c, false);
}

/// C = A·B + λ·W: the weight gradients' "product plus L2 term" in one call.
#[inline]
pub fn matmul_plus_scaled<T: Real>(
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    lambda: T,
    w: ArrayView2<T>,
    mut c: ArrayViewMut2<T>,
) {
    match (c.as_slice_mut(), w.as_slice()) {
        (Some(c), Some(w)) => c.iter_mut().zip(w).for_each(|(c, &w)| *c = lambda * w),
        _ => ndarray::Zip::from(&mut c)
            .and(&w)
            .for_each(|c, &w| *c = lambda * w),
    }
    gemm(a, b, c, true);
}

/// Σ v², accumulated in f64 in eight interleaved partial sums (so that the compiler can keep
/// them in SIMD registers: one serial chain of dependent additions is several times slower).
/// The order is fixed, so the result depends only on the values (the AVX2 build of the same
/// loop, picked at run time, gives the same bits: vectorizing keeps each partial sum's order).
pub fn sum_sq<T: Real>(v: &[T]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { sum_sq_avx2(v) };
    }
    sum_sq_portable(v)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sum_sq_avx2<T: Real>(v: &[T]) -> f64 {
    sum_sq_portable(v)
}

#[inline(always)]
fn sum_sq_portable<T: Real>(v: &[T]) -> f64 {
    let mut acc = [0.0f64; 8];
    let chunks = v.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            let x = x.f64();
            *a += x * x;
        }
    }
    for (a, &x) in acc.iter_mut().zip(rest) {
        let x = x.f64();
        *a += x * x;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

/// Σ a², over any layout (a contiguous array takes the fast path of [`sum_sq`]).
pub fn sum_sq_of<T: Real>(a: ArrayView2<T>) -> f64 {
    match a.as_slice() {
        Some(s) => sum_sq(s),
        None => a
            .rows()
            .into_iter()
            .map(|r| match r.as_slice() {
                Some(s) => sum_sq(s),
                None => r.iter().map(|&v| v.f64() * v.f64()).sum(),
            })
            .sum(),
    }
}

/// True when every value is finite; a branch-free test per block of 64 values.
pub fn all_finite<T: Real>(v: &[T]) -> bool {
    v.chunks(64)
        .all(|c| c.iter().fold(true, |ok, &x| ok & x.is_finite()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn sum_sq_is_the_same_on_every_code_path() {
        let v: Vec<f32> = (0..1003).map(|i| (i as f32 * 0.37).sin() * 3.0).collect();
        let slow: f64 = v.iter().map(|&x| x as f64 * x as f64).sum();
        assert_eq!(sum_sq(&v).to_bits(), sum_sq_portable(&v).to_bits());
        assert!((sum_sq(&v) - slow).abs() < 1e-9 * slow);
        assert!(all_finite(&v) && !all_finite(&[1.0, f32::NAN]) && !all_finite(&[f64::INFINITY]));
    }

    #[test]
    fn products_match_ndarray_for_every_layout() {
        let a = Array2::from_shape_fn((7, 5), |(i, j)| (i * 5 + j) as f64 * 0.1 - 1.0);
        let b = Array2::from_shape_fn((5, 3), |(i, j)| (i as f64 - j as f64) * 0.3);
        let mut c = Array2::zeros((7, 3));
        matmul(a.view(), b.view(), c.view_mut());
        assert!((&c - &a.dot(&b)).iter().all(|v| v.abs() < 1e-12));
        // Transposed operands, as the backward pass uses them.
        let bt = b.t().to_owned();
        matmul(a.view(), bt.t(), c.view_mut());
        assert!((&c - &a.dot(&b)).iter().all(|v| v.abs() < 1e-12));
        let at = a.t().to_owned();
        let w = Array2::from_elem((7, 3), 2.0);
        matmul_plus_scaled(at.t(), b.view(), 0.5, w.view(), c.view_mut());
        assert!((&c - &(a.dot(&b) + 1.0)).iter().all(|v| v.abs() < 1e-12));
        // f32 through the same code.
        let a32 = a.mapv(|v| v as f32);
        let b32 = b.mapv(|v| v as f32);
        let mut c32 = Array2::<f32>::zeros((7, 3));
        matmul(a32.view(), b32.view(), c32.view_mut());
        assert!((&c32 - &a32.dot(&b32)).iter().all(|v| v.abs() < 1e-5));
    }
}
