//! mlp-train: the L2-regularized one-hidden-layer perceptron of Dive into Deep Learning
//! (section "forward and back-propagation"), every gradient written by hand.

pub mod activation;
pub mod error;
pub mod linalg;
pub mod loss;
pub mod model;
pub mod real;
pub mod rng;

pub use activation::Activation;
pub use error::{Error, Result};
pub use loss::{Loss, Target};
pub use model::{Cache, Grads, Init, Mlp, Objective};
pub use real::Real;
