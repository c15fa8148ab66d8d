//! The matrix products the model needs, behind two small functions, so that the backend
//! (today ndarray's general_mat_mul over matrixmultiply) can change without touching model.rs.

use ndarray::{linalg::general_mat_mul, ArrayView2, ArrayViewMut2};

use crate::Real;

/// C = A·B. A and B may be transposed views (`w.t()`); C is overwritten.
#[inline]
pub fn matmul<T: Real>(a: ArrayView2<T>, b: ArrayView2<T>, mut c: ArrayViewMut2<T>) {
    general_mat_mul(T::one(), &a, &b, T::zero(), &mut c);
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
    c.assign(&w);
    general_mat_mul(T::one(), &a, &b, lambda, &mut c);
}
