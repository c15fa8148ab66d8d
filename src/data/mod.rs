//! CSV to matrices, split by job (reading, records, rows, numbers, labels, header layout,
//! messages), the training matrices, preprocessing fitted on the training set, the model file.

mod cores;
mod frame;
mod labels;
mod layout;
mod numbers;
mod options;
mod records;
mod rows;
mod shown;
mod source;

pub mod encode;
pub mod matrices;
pub mod modelfile;
pub mod modelsize;
pub mod prep;
pub mod weights;

pub use frame::*;
pub use labels::*;
pub use options::*;
pub use rows::RowLines;
pub use shown::*;
pub use source::*;

#[cfg(test)]
mod tests;
