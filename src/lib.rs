//! mlp-train: the L2-regularized one-hidden-layer perceptron of Dive into Deep Learning
//! (section "forward and back-propagation"), every gradient written by hand.
//!
//! Five layers, each using only the ones before it: [`math`] (the chapter), [`data`] (CSV to
//! matrices, preprocessing, the model file), [`train`] (SGD, runs, cross-validation, metrics,
//! gates), [`show`] (explain, graph, plots, reports) and [`cli`] (clap, commands, progress,
//! outputs). Only [`cli`] prints; the binary's `main` parses, calls [`cli::dispatch::run`] and
//! maps errors to exit codes.

pub mod cli;
pub mod data;
pub mod error;
pub mod math;
pub mod show;
pub mod sweep;
pub mod train;

pub use error::{Error, Result};
pub use math::activation::Activation;
pub use math::loss::{Loss, Target, Weighted};
pub use math::model::{Cache, Grads, Init, Mlp, Objective};
pub use math::real::Real;
