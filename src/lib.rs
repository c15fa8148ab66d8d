//! mlp-train: the L2-regularized one-hidden-layer perceptron of Dive into Deep Learning
//! (section "forward and back-propagation"), every gradient written by hand.

pub mod activation;
pub mod baseline;
pub mod cli;
pub mod commands;
pub mod data;
pub mod diagnostics;
pub mod error;
pub mod explain;
pub mod gradcheck;
pub mod graph;
pub mod html;
pub mod interrupt;
pub mod limits;
pub mod linalg;
pub mod loss;
pub mod metrics;
pub mod model;
pub mod modelfile;
pub mod output;
pub mod plot;
pub mod prep;
pub mod real;
pub mod report;
pub mod rng;
pub mod run;
pub mod train;

pub use activation::Activation;
pub use error::{Error, Result};
pub use loss::{Loss, Target};
pub use model::{Cache, Grads, Init, Mlp, Objective};
pub use real::Real;
