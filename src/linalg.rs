//! The matrix products the model needs, behind two small functions, so that the backend
//! (faer's kernels, single-threaded, no allocation) can change without touching model.rs.

use faer::{Accum, MatMut, MatRef, Par};
use ndarray::{ArrayView2, ArrayViewMut2};

use crate::Real;

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
#[inline]
fn gemm<T: Real>(a: ArrayView2<T>, b: ArrayView2<T>, mut c: ArrayViewMut2<T>, accumulate: bool) {
    assert!(
        a.ncols() == b.nrows() && c.nrows() == a.nrows() && c.ncols() == b.ncols(),
        "matmul shapes {:?}·{:?} → {:?}",
        a.dim(),
        b.dim(),
        c.dim()
    );
    let acc = if accumulate {
        Accum::Add
    } else {
        Accum::Replace
    };
    faer::linalg::matmul::matmul(
        mat_mut(&mut c),
        acc,
        mat_ref(&a),
        mat_ref(&b),
        T::one(),
        Par::Seq,
    );
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
    ndarray::Zip::from(&mut c)
        .and(&w)
        .for_each(|c, &w| *c = lambda * w);
    gemm(a, b, c, true);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

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
