//! Showing a model and a run: `explain` (one sample through the chapter's formulas), the
//! computational graph, plots, the text/JSON/CSV reports, the self-contained HTML page, and
//! the model as an ONNX graph.

pub mod explain;
pub mod graph;
pub mod html;
pub mod onnx;
pub mod plot;
pub mod report;
pub mod sweep;
