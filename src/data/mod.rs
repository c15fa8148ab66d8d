//! CSV, Parquet and NumPy files to matrices, split by job (reading, formats, records, rows,
//! numbers, labels, header layout, messages), the training matrices, preprocessing fitted on
//! the training set, the model file.

mod cores;
mod format;
mod frame;
mod labels;
mod layout;
mod npy;
mod numbers;
mod options;
#[cfg(feature = "parquet")]
mod parquet;
mod records;
mod rows;
mod shown;
mod source;
mod table;

pub mod encode;
pub mod matrices;
pub mod modelfile;
pub mod modelsize;
pub mod prep;
pub mod weights;

pub use format::Format;
pub use frame::*;
pub use labels::*;
pub use options::*;
pub use rows::RowLines;
pub use shown::*;
pub use source::*;

#[cfg(test)]
mod tests;
