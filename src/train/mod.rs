//! Training: minibatch SGD, a run from options to a trained and evaluated model,
//! cross-validation, metrics, the gradient check and the gates (limits, baseline, interrupts).

pub mod baseline;
pub mod checks;
pub mod cv;
pub mod diagnostics;
pub mod explain;
pub mod gates;
pub mod gradcheck;
pub mod interrupt;
pub mod limits;
pub mod metrics;
pub mod options;
pub mod predict;
pub mod run;
pub mod sgd;
pub mod split;
