//! `mlp-train sweep`: a grid or random search over train flags: the axes, the plan file,
//! points run in-process or by an engine (`--point I`), their results, resume, the table.

pub mod axes;
pub mod files;
pub mod plan;
pub mod points;
pub mod table;
