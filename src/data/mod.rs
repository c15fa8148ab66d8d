//! CSV to matrices: reading (plain, gzip, streaming), records, numbers, labels and layout;
//! preprocessing fitted on the training set; the model file.

mod frame;
pub mod matrices;
pub mod modelfile;
pub mod prep;

pub use frame::*;
