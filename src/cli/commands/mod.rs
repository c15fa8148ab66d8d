//! The subcommands other than training (predict and eval, gradcheck, explain, graph), a file
//! each: each takes its parsed flags and returns the text to print, so that main.rs only prints.

mod explain;
mod gradcheck;
mod graph;
mod predict;

pub use explain::explain;
pub use gradcheck::gradcheck;
pub use graph::graph;
pub use predict::{predict, PredictOutput};

use crate::data::prep::Task;
use crate::data::{self, LoadOptions};
use crate::train::run::{ignore_specs, label_kind, label_specs};

/// The data's notes on how --label and --ignore chose their columns (a number naming a
/// column takes it before the column at that index).
fn column_notes<T>(frame: &data::Frame<T>) -> Vec<String> {
    frame
        .warnings
        .iter()
        .filter(|w| is_column_note(w))
        .cloned()
        .collect()
}

/// Whether a frame's warning is about the choice of columns (a flag's number taken as a
/// name, columns the model does not use, a header that looks like data), which predict,
/// eval and explain show; the others (a real-valued label) are training's concern.
fn is_column_note(w: &str) -> bool {
    w.starts_with("--")
        || w.contains(": the model does not use column")
        || w.contains(": the first line looks like data")
}

/// The `LoadOptions` of a --data file for gradcheck and graph: training's data flags.
fn columns_options(
    label: &[String],
    task: Task,
    columns: &crate::cli::args::DataColumns,
) -> LoadOptions<'static> {
    let mut opts = LoadOptions::new(label_specs(label), label_kind(task));
    opts.delimiter = columns.delimiter.byte();
    opts.ignore = ignore_specs(&columns.ignore);
    opts.features = ignore_specs(&columns.features);
    opts.no_header = columns.no_header;
    opts.npz = columns.npz.names();
    opts
}
