//! mlp-train: the L2-regularized one-hidden-layer perceptron of Dive into Deep Learning
//! (section "forward and back-propagation"), every gradient written by hand.

pub mod error;
pub mod real;

pub use error::{Error, Result};
pub use real::Real;
