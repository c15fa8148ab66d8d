//! The float type every matrix holds: f32 for speed, f64 for gradient checks.
//! One trait, so that the model, the losses and the training loop are written once.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

use ndarray::{LinalgScalar, ScalarOperand};
use num_traits::{Float, FromPrimitive, ToPrimitive};

/// A floating-point scalar the whole library is generic over (implemented for `f32` and `f64`).
pub trait Real:
    LinalgScalar
    + Float
    + FromPrimitive
    + ToPrimitive
    + ScalarOperand
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
    + Default
    + Debug
    + Display
    + Send
    + Sync
    + std::str::FromStr
    + faer::traits::ComplexField
    + 'static
{
    /// `"f32"` or `"f64"`, as the `--precision` flag spells it.
    const NAME: &'static str;
    /// Converts from f64 (rounding to nearest for f32).
    fn of(v: f64) -> Self;
    /// Widens to f64 (exact for both types).
    fn f64(self) -> f64;
}

impl Real for f32 {
    const NAME: &'static str = "f32";
    #[inline]
    fn of(v: f64) -> Self {
        v as f32
    }
    #[inline]
    fn f64(self) -> f64 {
        self as f64
    }
}

impl Real for f64 {
    const NAME: &'static str = "f64";
    #[inline]
    fn of(v: f64) -> Self {
        v
    }
    #[inline]
    fn f64(self) -> f64 {
        self
    }
}
