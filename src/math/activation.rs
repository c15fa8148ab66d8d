//! The element-wise activation φ and its derivative φ', side by side in one table.
//! φ' is evaluated at the pre-activation z, as the seed writes ∂J/∂z = ∂J/∂h ⊙ φ'(z).

use ndarray::{ArrayView2, ArrayViewMut2};

use crate::math::linalg::{zip3_rows, zip_rows};
use crate::Real;

/// `body` with `$a` a constant equal to the activation `act`, one copy per activation: each
/// copy's closures are their own types, so a loop over them has no `match` per element (which
/// would keep it from being vectorized).
macro_rules! fixed {
    ($act:expr, $a:ident => $body:expr) => {
        match $act {
            Activation::Relu => {
                const $a: Activation = Activation::Relu;
                $body
            }
            Activation::Sigmoid => {
                const $a: Activation = Activation::Sigmoid;
                $body
            }
            Activation::Tanh => {
                const $a: Activation = Activation::Tanh;
                $body
            }
            Activation::Identity => {
                const $a: Activation = Activation::Identity;
                $body
            }
        }
    };
}

/// The hidden layer's activation φ (the CLI's `--activation` maps its names onto it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// max(0, z); φ'(0) = 0 (the kink belongs to the flat side, as in PyTorch).
    Relu,
    /// 1 / (1 + e^(−z)).
    Sigmoid,
    /// tanh z.
    Tanh,
    /// z (the network is then linear; useful for checking).
    Identity,
}

impl std::str::FromStr for Activation {
    type Err = String;

    /// One of [`Activation::NAMES`].
    fn from_str(s: &str) -> Result<Self, String> {
        Activation::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| unknown("activation", s, &Activation::NAMES))
    }
}

/// The message for a name that is none of `names`.
pub(crate) fn unknown(what: &str, s: &str, names: &[&str]) -> String {
    format!(
        "unknown {what} '{s}' (possible values: {})",
        names.join(", ")
    )
}

impl Activation {
    /// All activations, for tests and help texts.
    pub const ALL: [Activation; 4] = [
        Activation::Relu,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Identity,
    ];

    /// The names used on the command line and in model files, in the order of [`Self::ALL`].
    pub const NAMES: [&'static str; 4] = ["relu", "sigmoid", "tanh", "identity"];

    /// The name used on the command line and in model files.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Identity => "identity",
        }
    }

    /// φ(z) for one number.
    #[inline]
    pub fn phi<T: Real>(self, z: T) -> T {
        match self {
            // φ(z) = max(0, z)
            Activation::Relu => z.max(T::zero()),
            // φ(z) = 1 / (1 + e^(−z))
            Activation::Sigmoid => T::one() / (T::one() + (-z).exp()),
            // φ(z) = tanh z
            Activation::Tanh => z.tanh(),
            // φ(z) = z
            Activation::Identity => z,
        }
    }

    /// φ'(z) for one number, from the pre-activation z.
    #[inline]
    pub fn phi_prime<T: Real>(self, z: T) -> T {
        match self {
            // φ'(z) = 1 if z > 0 else 0   (φ'(0) = 0)
            Activation::Relu => {
                if z > T::zero() {
                    T::one()
                } else {
                    T::zero()
                }
            }
            // φ'(z) = φ(z)(1 − φ(z))
            Activation::Sigmoid => {
                let s = self.phi(z);
                s * (T::one() - s)
            }
            // φ'(z) = 1 − tanh² z
            Activation::Tanh => {
                let t = z.tanh();
                T::one() - t * t
            }
            // φ'(z) = 1
            Activation::Identity => T::one(),
        }
    }

    /// H = φ(Z), element-wise, written into `h` (same shape as `z`); by rows over the rayon
    /// pool when there is one.
    pub fn forward<T: Real>(self, z: ArrayView2<T>, h: ArrayViewMut2<T>) {
        fixed!(self, A => zip_rows(h, z, |h, z| *h = A.phi(z)));
    }

    /// dZ = dH ⊙ φ'(Z), element-wise, written into `d_z`; by rows like [`Self::forward`].
    pub fn backward<T: Real>(self, d_h: ArrayView2<T>, z: ArrayView2<T>, d_z: ArrayViewMut2<T>) {
        fixed!(self, A => zip3_rows(d_z, d_h, z, |d_z, d_h, z| *d_z = d_h * A.phi_prime(z)));
    }
}

impl std::fmt::Display for Activation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relu_derivative_at_the_kink_is_zero() {
        assert_eq!(Activation::Relu.phi_prime(0.0f64), 0.0);
        assert_eq!(Activation::Relu.phi_prime(1e-300f64), 1.0);
        assert_eq!(Activation::Relu.phi(-2.0f32), 0.0);
    }

    #[test]
    fn derivatives_match_central_differences() {
        for act in Activation::ALL {
            for &z in &[-3.0f64, -0.7, 0.3, 1.9] {
                let eps = 1e-6;
                let fd = (act.phi(z + eps) - act.phi(z - eps)) / (2.0 * eps);
                let an = act.phi_prime(z);
                assert!((fd - an).abs() < 1e-8, "{act} at {z}: fd {fd} vs {an}");
            }
        }
    }

    #[test]
    fn sigmoid_saturates_without_nan() {
        assert_eq!(Activation::Sigmoid.phi(-1e4f64), 0.0);
        assert_eq!(Activation::Sigmoid.phi(1e4f64), 1.0);
        assert_eq!(Activation::Sigmoid.phi_prime(1e4f32), 0.0);
    }
}
