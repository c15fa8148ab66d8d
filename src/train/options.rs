//! What a run needs from the command line, as plain data grouped like `--help`'s headings
//! (data, model, training, quality gates, outputs): the CLI builds these from its flags.

use std::path::PathBuf;

use crate::data::prep::Task;
use crate::data::Delimiter;
use crate::{Activation, Init, Loss};

/// Float precision of the matrices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 32-bit floats: half the memory, about twice the speed.
    F32,
    /// 64-bit floats: for checking against references.
    F64,
}

impl Precision {
    /// Both precisions.
    pub const ALL: [Precision; 2] = [Precision::F32, Precision::F64];

    /// The names used on the command line and in reports, in the order of [`Self::ALL`].
    pub const NAMES: [&'static str; 2] = ["f32", "f64"];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        }
    }
}

impl std::str::FromStr for Precision {
    type Err = String;

    /// One of [`Precision::NAMES`].
    fn from_str(s: &str) -> Result<Self, String> {
        let names = Precision::NAMES.join(", ");
        Precision::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| format!("unknown precision '{s}' (possible values: {names})"))
    }
}

/// The data: files, columns, the validation split, preprocessing.
#[derive(Clone, Debug)]
pub struct DataOptions {
    /// The training CSV (`-` or None: standard input).
    pub data: Option<PathBuf>,
    pub label: Vec<String>,
    pub task: Task,
    /// The held-out test CSV (`-`: standard input).
    pub test: Option<PathBuf>,
    pub delimiter: Delimiter,
    pub ignore: Vec<String>,
    pub val_frac: f64,
    pub no_standardize: bool,
    pub no_standardize_targets: bool,
    /// Whether --task was given (a default classify refuses a real-valued label).
    pub task_given: bool,
    /// `--features`: the feature columns, in order (empty: all but label and --ignore).
    pub features: Vec<String>,
    /// `--no-header`.
    pub no_header: bool,
    /// `--npz-x`, `--npz-y`: the arrays of a .npz file read as the table.
    pub npz: crate::data::NpzNames,
    /// `--categorical`, `--impute`, `--missing-indicator`.
    pub encode: crate::data::prep::EncodeOptions,
    /// `--weight-column`: per-row weights wᵢ > 0 (the column is then no feature).
    pub weight_column: Option<String>,
    /// `--class-weight`: each class's rows weigh this much (balanced, a list, a file).
    pub class_weight: Option<crate::data::weights::ClassWeight>,
}

/// The model: its shape and where its weights start.
#[derive(Clone, Debug)]
pub struct ModelOptions {
    /// The constant-1 input feature.
    pub bias: bool,
    pub hidden: usize,
    pub activation: Activation,
    /// None: the task's loss.
    pub loss: Option<Loss>,
    pub init: Init,
    pub init_from: Option<PathBuf>,
}

/// Minibatch SGD and the run around it.
#[derive(Clone, Debug)]
pub struct TrainingOptions {
    pub lambda: f64,
    pub lr: f64,
    pub momentum: f64,
    pub batch_size: usize,
    pub epochs: usize,
    pub patience: Option<usize>,
    pub seed: u64,
    pub precision: Precision,
    pub threads: usize,
    /// K-fold cross-validation instead of one training.
    pub cv: Option<usize>,
}

/// The quality gates a run must pass.
#[derive(Clone, Debug, Default)]
pub struct GateOptions {
    pub min_accuracy: Option<f64>,
    pub max_loss: Option<f64>,
    pub min_r2: Option<f64>,
    pub baseline: Option<PathBuf>,
    pub max_drop: f64,
}

/// The outputs asked for (the CLI plans and writes them; a run only needs to know which).
#[derive(Clone, Debug, Default)]
pub struct OutputOptions {
    pub save: Option<PathBuf>,
    pub log: Option<PathBuf>,
    pub plot: Option<PathBuf>,
    pub report: Option<PathBuf>,
    pub json: bool,
    /// `--summary-md`: a Markdown summary for CI pages (written by the CLI with the report).
    pub summary_md: Option<PathBuf>,
    /// `--export-onnx`: the trained model as ONNX (written by the CLI with --save's rule).
    pub export_onnx: Option<PathBuf>,
}

/// Everything a training or cross-validation run is told.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub data: DataOptions,
    pub model: ModelOptions,
    pub training: TrainingOptions,
    pub gates: GateOptions,
    pub outputs: OutputOptions,
}
