//! The command line, declared once with clap's derive: `--help`, the man page and the shell
//! completions are all generated from these doc comments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::data::prep::Task;
use crate::math::activation::Activation;
use crate::math::loss::Loss;
use crate::math::model::Init;
pub use crate::train::options::Precision;
use crate::train::options::{
    DataOptions, GateOptions, ModelOptions, OutputOptions, RunOptions, TrainingOptions,
};

/// Train the L2-regularized one-hidden-layer perceptron of Dive into Deep Learning, with every
/// gradient written out by hand.
///
/// The model, exactly as the chapter on forward and back-propagation derives it:
///
///   z = W1 x    h = φ(z)    o = W2 h    L = ℓ(o, y)    s = λ/2 (‖W1‖² + ‖W2‖²)    J = L + s
///
/// trained by minibatch SGD, W ← W − η ∂J/∂W, with ∂J/∂W averaged over the minibatch.
///
/// Without a subcommand, mlp-train trains: `mlp-train --data iris.csv --lambda 0.01`.
#[derive(Parser, Debug)]
#[command(
    name = "mlp-train",
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    // A repeated flag's last value wins (`--epochs 20 … --epochs 30` trains 30), so that a
    // wrapper can pass defaults and let its user override them. Propagates to subcommands.
    args_override_self = true,
    // Examples, then the exit codes (src/cli/examples.rs, shared with the man pages).
    after_help = crate::cli::examples::main_help()
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub train: TrainArgs,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train a model (the default when no subcommand is given).
    #[command(after_help = crate::cli::examples::sub_help("train"))]
    Train(Box<TrainArgs>),
    /// Predict with a saved model (and report the metrics when the file has the labels).
    ///
    /// When the file has the label column, also report accuracy, the confusion matrix and
    /// per-class precision/recall/F1 (or RMSE/MAE/R²). Predictions go to stdout and the report to stderr; with --out FILE the report goes to
    /// stdout; with --json stdout carries only the JSON report (predictions only with --out).
    #[command(after_help = crate::cli::examples::sub_help("predict"))]
    Predict(PredictArgs),
    /// Like predict, but print only the report (the --data file needs its label column).
    ///
    /// Accuracy, the confusion matrix and per-class precision/recall/F1 (or RMSE/MAE/R²);
    /// predictions are written only with --out.
    #[command(
        after_help = crate::cli::examples::sub_help("eval"),
        // predict's --data says the label column may be absent; eval needs it.
        mut_arg("data", |a| a.help(EVAL_DATA_HELP).long_help(None::<&str>))
    )]
    Eval(PredictArgs),
    /// Compare the hand-written gradients with central finite differences, in f64.
    #[command(after_help = crate::cli::examples::sub_help("gradcheck"))]
    Gradcheck(GradcheckArgs),
    /// Walk one sample through the chapter's formulas, printing every value.
    #[command(after_help = crate::cli::examples::sub_help("explain"))]
    Explain(ExplainArgs),
    /// Print the chapter's computation graph (Figure 3.6) as Graphviz DOT or SVG.
    #[command(after_help = crate::cli::examples::sub_help("graph"))]
    Graph(GraphArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    ///
    /// `mlp-train completions bash > /etc/bash_completion.d/mlp-train` (system-wide; for your
    /// user, see the examples below).
    #[command(after_help = crate::cli::examples::sub_help("completions"))]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
        /// Print nothing but errors and the script asked for (accepted as by every command;
        /// the script is all it prints).
        #[arg(long, short)]
        quiet: bool,
    },
    /// Print a man page, or write every page into a folder for man to find.
    ///
    /// The pages are roff: `mlp-train man > mlp-train.1`, `mlp-train man predict >
    /// mlp-train-predict.1`, or every page into a folder: `mlp-train man --dir man/`.
    ///
    /// Where to put them: a `man1` folder on man's search path, e.g. `mkdir -p
    /// ~/.local/share/man/man1 && mlp-train man --dir ~/.local/share/man/man1`, then `man
    /// mlp-train` or `man mlp-train-predict`. man-db searches ~/.local/share/man when
    /// ~/.local/bin is on $PATH; otherwise add `export MANPATH="$HOME/.local/share/man:"` to
    /// your shell's profile (the trailing colon keeps the system's pages). System-wide:
    /// /usr/local/share/man/man1 (then `mandb` as root).
    #[command(after_help = crate::cli::examples::sub_help("man"))]
    Man(ManArgs),
    /// Search a grid (or random points) of train flags, in this process or on an engine.
    ///
    /// `mlp-train sweep --grid lambda=0,1e-4,1e-3 --grid lr=0.05,0.1 --runs DIR --data
    /// iris.csv --val-frac 0.2`: every other train flag is shared by all points. The data is
    /// read once; the plan (DIR/plan.json), one result per point (DIR/points/NNNN.json) and,
    /// with --save-models, one model per point (DIR/models/NNNN.json) are written in DIR;
    /// --report FILE.html writes the sweep's page (the table, the score against each axis, a
    /// heatmap over two axes).
    /// Running the same command again runs only the missing (or failed) points; `sweep --runs
    /// DIR` alone resumes the plan in DIR and prints its table. The table (CSV, or JSON with
    /// --json) goes to stdout, best first, and a `best:` line on stderr gives the command that
    /// reruns the best point alone. Exit 0 when every point ran, 9 when some failed, 10 when
    /// all failed; on SIGINT/SIGTERM/SIGHUP the finished points are kept, the partial table
    /// printed, and the exit code is 130/143/129.
    #[command(after_help = crate::cli::examples::sub_help("sweep"))]
    Sweep(Box<SweepArgs>),
    /// Export a saved model for other runtimes (ONNX).
    ///
    /// `mlp-train export --model m.json --format onnx --out m.onnx` writes the whole predictor (standardization, both layers, softmax or
    /// the targets' de-standardization) as one ONNX graph, opset 17, in the model's
    /// precision. Input `X` (N, features in the model's order); outputs `label` and
    /// `probabilities` (classify) or `predictions` (regress).
    #[command(after_help = crate::cli::examples::sub_help("export"))]
    Export(ExportArgs),
}

/// Options of `mlp-train man`.
#[derive(Args, Debug, Clone)]
pub struct ManArgs {
    /// The subcommand whose page to print (mlp-train-SUBCOMMAND(1)) [default: the main page].
    #[arg(value_name = "SUBCOMMAND", conflicts_with = "dir",
          value_parser = crate::cli::completions::PAGES, hide_possible_values = true)]
    pub page: Option<String>,
    /// Write every page (mlp-train.1 and one mlp-train-SUBCOMMAND.1 per subcommand) into
    /// this existing folder, instead of printing one: a `man1` folder on man's path, such as
    /// ~/.local/share/man/man1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Print nothing but errors and the pages asked for (no `wrote FILE` lines with --dir).
    #[arg(long, short)]
    pub quiet: bool,
}

/// Training options.
#[derive(Args, Debug, Clone)]
pub struct TrainArgs {
    /// Training data: a CSV file with a header row, or a Parquet, .npy or .npz file (`-`
    /// reads standard input; the format, and gzip, are known from the content whatever the
    /// name; see --npz-x for NumPy's column names).
    #[arg(long, value_name = "FILE", required = true, help_heading = "Data")]
    pub data: Option<PathBuf>,

    /// The label column, by header name or 0-based index [default: the last column].
    /// For --task regress, several may be given (`--label a,b` or repeated): one output each.
    #[arg(long, value_name = "COL", value_delimiter = ',', help_heading = "Data")]
    pub label: Vec<String>,

    /// Classification (labels are class names: integers or strings, sorted into indices) or
    /// regression (labels are real numbers) [default: classify; a label column of
    /// non-integer numbers is then refused: give --task regress, or --task classify to force].
    #[arg(long, value_enum, help_heading = "Data")]
    pub task: Option<Task>,

    /// A held-out test file with the same columns; its metrics are reported after training.
    #[arg(long, value_name = "FILE", help_heading = "Data")]
    pub test: Option<PathBuf>,

    /// The byte between fields: `,` (the default), `;`, `tab` (or `\t`), `|`, or any other
    /// single ASCII byte. Use it for semicolon- or tab-separated files.
    #[arg(long, value_name = "C", default_value = ",", help_heading = "Data")]
    pub delimiter: crate::data::Delimiter,

    /// Columns to skip, by header name or 0-based index (`--ignore id,comment`): ID or text
    /// columns that are neither features nor the label. Give the same to predict and explain.
    #[arg(long, value_name = "COL", value_delimiter = ',', help_heading = "Data")]
    pub ignore: Vec<String>,

    /// Fraction of the training rows held out for validation (stratified by class for
    /// classification), evaluated after every epoch. 0 turns validation off.
    #[arg(long, value_name = "F", default_value_t = 0.0, help_heading = "Data")]
    pub val_frac: f64,

    /// Do not standardize features to mean 0, std 1 (by default the training set's mean and
    /// std are computed, stored in the model and reapplied at prediction).
    #[arg(long, help_heading = "Data")]
    pub no_standardize: bool,

    /// Regression: do not standardize the targets (by default they are, and predictions are
    /// mapped back, so a target in the hundreds needs no special learning rate).
    #[arg(long, help_heading = "Data")]
    pub no_standardize_targets: bool,

    /// Append a constant-1 input feature, so that W1's last column acts as the hidden
    /// layer's bias while every formula stays the chapter's (on by default). Without it a
    /// ReLU model cannot separate points on one ray from the origin: two spirals stay ~50%.
    #[arg(long, overrides_with = "no_bias", help_heading = "Model")]
    pub bias: bool,

    /// No bias feature: the chapter's model verbatim.
    #[arg(long, overrides_with = "bias", help_heading = "Model")]
    pub no_bias: bool,

    /// h, the number of hidden units.
    #[arg(long, value_name = "N", default_value_t = 32, help_heading = "Model")]
    pub hidden: usize,

    /// φ, the hidden activation.
    #[arg(long, value_enum, default_value_t = Activation::Relu, help_heading = "Model")]
    pub activation: Activation,

    /// ℓ, the loss [default: softmax-ce for classify, half-squared for regress].
    /// half-squared on classes uses one-hot targets.
    #[arg(long, value_enum, help_heading = "Model")]
    pub loss: Option<Loss>,

    /// Weight initialization: xavier U(±√(6/(fan_in+fan_out))) or he U(±√(6/fan_in)).
    #[arg(long, value_enum, default_value_t = Init::Xavier, help_heading = "Model")]
    pub init: Init,

    /// Continue training from a saved model: its architecture, preprocessing, label columns
    /// and weights are reused (the flags that would change them, --label included, are
    /// refused).
    #[arg(long, value_name = "MODEL", help_heading = "Model",
          conflicts_with_all = ["hidden", "activation", "loss", "init", "bias", "no_bias", "no_standardize", "no_standardize_targets", "task", "label"])]
    pub init_from: Option<PathBuf>,

    /// λ, the L2 coefficient: J = L + λ/2 (‖W1‖² + ‖W2‖²), entering each step once as λW.
    /// scikit-learn's MLP divides its `alpha` by the batch size: its α is this λ·B.
    #[arg(
        long,
        value_name = "λ",
        default_value_t = 1e-4,
        allow_hyphen_values = true,
        help_heading = "Training"
    )]
    pub lambda: f64,

    /// η, the learning rate of W ← W − η ∂J/∂W.
    #[arg(
        long,
        value_name = "η",
        default_value_t = 0.1,
        allow_hyphen_values = true,
        help_heading = "Training"
    )]
    pub lr: f64,

    /// μ, heavy-ball momentum in [0, 1): v ← μv + ∂J/∂W, W ← W − ηv. 0 is plain SGD.
    #[arg(
        long,
        value_name = "μ",
        default_value_t = 0.0,
        allow_hyphen_values = true,
        help_heading = "Training"
    )]
    pub momentum: f64,

    /// B, samples per minibatch; the last batch of an epoch keeps the remainder. B at least
    /// the number of rows is full-batch gradient descent, on the rows where they are (no
    /// shuffle, no copy).
    #[arg(
        long,
        value_name = "B",
        default_value_t = 32,
        help_heading = "Training"
    )]
    pub batch_size: usize,

    /// Passes over the training set.
    #[arg(
        long,
        value_name = "E",
        default_value_t = 100,
        help_heading = "Training"
    )]
    pub epochs: usize,

    /// Early stopping: stop after K epochs without a lower validation loss and restore the
    /// best weights. Needs --val-frac.
    #[arg(
        long,
        value_name = "K",
        requires = "val_frac",
        help_heading = "Training"
    )]
    pub patience: Option<usize>,

    /// Seed of the weights, the shuffles and the validation split. The same seed gives the
    /// same model file, byte for byte.
    #[arg(long, value_name = "S", default_value_t = 0, help_heading = "Training")]
    pub seed: u64,

    /// Float precision of the computation.
    #[arg(long, value_enum, default_value_t = Precision::F32, help_heading = "Training")]
    pub precision: Precision,

    /// Threads for the matrix products (1 is best when running one process per core).
    /// With N ≥ 2 all N stay awake while training (they look for work between products rather
    /// than sleep, yielding the core to other programs). More than the cores available is
    /// capped to their number, with a note on stderr.
    #[arg(long, value_name = "N", default_value_t = 1, help_heading = "Training")]
    pub threads: usize,

    /// K-fold cross-validation instead of one training: stratified by class (classify) or
    /// plain (regress), seeded; prints each fold's held-out metric and the mean ± standard
    /// deviation. Each fold fits its own standardization on its training folds.
    #[arg(long, value_name = "K", help_heading = "Training",
          conflicts_with_all = ["val_frac", "patience", "save", "init_from", "test", "log", "plot"])]
    pub cv: Option<usize>,

    /// Quality gate for CI: exit 8 when the accuracy is below X (0..1). Checked on the test
    /// set when there is one, else on the validation set, else on the training set (with
    /// --cv, on the mean over folds). Everything asked for is still written.
    #[arg(long, value_name = "X", help_heading = "Quality gates")]
    pub min_accuracy: Option<f64>,

    /// Quality gate: exit 8 when the loss L is above X (same set as --min-accuracy).
    #[arg(long, value_name = "X", help_heading = "Quality gates")]
    pub max_loss: Option<f64>,

    /// Quality gate for regression: exit 8 when R² is below X (same set as --min-accuracy).
    #[arg(long, value_name = "X", help_heading = "Quality gates")]
    pub min_r2: Option<f64>,

    /// Save the trained model as JSON. A file is written atomically (a temporary file renamed
    /// over it; through a symlink to its target, keeping the target's permissions); a device
    /// or FIFO is written in place; `-` is standard output (the summary then goes to stderr).
    /// It may not name an input or another output's file, except --init-from's (continuing in
    /// place). Interrupted by Ctrl-C/SIGTERM after at least one SGD step, the model is saved
    /// with "interrupted": true, but never over an existing file: then to
    /// NAME.interrupted.EXT beside it (the same rule holds for --log and --plot).
    #[arg(long, value_name = "MODEL", help_heading = "Output")]
    pub save: Option<PathBuf>,

    /// Write one CSV row per epoch: epoch, lr, L, s, J, metrics, ‖∂J/∂W1‖, ‖∂J/∂W2‖, seconds.
    /// Written like --save (`-` is standard output).
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub log: Option<PathBuf>,

    /// Draw the training curves (J, L, s and the metric per epoch) into this SVG file.
    /// Written like --save (`-` is standard output).
    #[arg(long, value_name = "FILE.svg", help_heading = "Output")]
    pub plot: Option<PathBuf>,

    /// Write a self-contained HTML report (header, metric table, gates, curves, confusion
    /// matrix or predicted-against-actual scatter, computation graph, one sample explained;
    /// with --cv, the folds). `-` writes it to stdout and the summary to stderr.
    #[arg(long, value_name = "FILE.html", help_heading = "Output")]
    pub report: Option<PathBuf>,

    /// Print one JSON object with the results and every hyperparameter on stdout, instead
    /// of the table.
    #[arg(long, help_heading = "Output")]
    pub json: bool,

    /// Print nothing but errors, warnings (the data's, a capped --threads) and the outputs
    /// asked for (--save, --log, --plot, --report, --summary-md, --json): no progress bar, no
    /// per-epoch lines, no summary, no notes; the exit status tells (0, 6 diverged, 8 a gate
    /// failed). The same rule holds for every command, as `rg -q`.
    #[arg(long, short, conflicts_with = "verbose", help_heading = "Output")]
    pub quiet: bool,

    /// When stderr is not a terminal, print a line for every epoch (by default the first,
    /// the last and every k-th, at most about 20 lines; --log keeps every epoch in a file).
    #[arg(long, short, help_heading = "Output")]
    pub verbose: bool,

    /// CI regression check: a previous run's `--json` summary (or a model file saved by
    /// --save, which carries its metrics). Exit 8 when the gated metric — accuracy
    /// (classify) or R² (regress), on the same set as the gates (test, else validation, else
    /// training; the mean over folds with --cv) — is below the baseline's by more than
    /// --max-drop.
    #[arg(long, value_name = "FILE", help_heading = "Quality gates")]
    pub baseline: Option<PathBuf>,

    /// With --baseline: the largest drop tolerated, in the metric's units (0.02 is two
    /// points of accuracy).
    #[arg(
        long,
        value_name = "D",
        default_value_t = 0.0,
        requires = "baseline",
        help_heading = "Quality gates"
    )]
    pub max_drop: f64,

    /// Write a short Markdown summary for CI pages: the data (with its content
    /// fingerprint), the metric table, each gate and the baseline marked ✅ or ❌. Written
    /// after the verdict is known, also when a gate fails; `-` is standard output. On GitHub
    /// Actions: `--summary-md "$GITHUB_STEP_SUMMARY"` (that file is the step's own, so the
    /// summary replaces it rather than appending). It may not name an input.
    #[arg(long, value_name = "FILE.md", help_heading = "Output")]
    pub summary_md: Option<PathBuf>,

    /// Also export the trained model as ONNX (as `mlp-train export --format onnx` would from
    /// the --save file), written like --save, with the run's other outputs.
    #[arg(
        long,
        value_name = "FILE.onnx",
        help_heading = "Output",
        conflicts_with = "cv"
    )]
    pub export_onnx: Option<PathBuf>,
    /// The feature columns, by header name or 0-based index, in this order (`--features
    /// a,b,c`); every other column is skipped. The inverse of --ignore (not both).
    #[arg(
        long,
        value_name = "COL",
        value_delimiter = ',',
        help_heading = "Data",
        conflicts_with = "ignore"
    )]
    pub features: Vec<String>,

    /// The file has no header: its first line is data, and its columns are named `field 1`,
    /// `field 2`, … (1-based); --label, --ignore and --features then take 0-based indices.
    #[arg(long, help_heading = "Data")]
    pub no_header: bool,

    /// Which arrays of a .npz --data/--test file are read.
    #[command(flatten, next_help_heading = "Data")]
    pub npz: NpzArgs,

    /// Text columns to one-hot encode, by header name (`--categorical colour,city`): one 0/1
    /// input `colour=red` per category seen in the training rows (sorted), not standardized.
    /// The model keeps the category lists, so predict, eval and explain encode the same way
    /// with no flag; a category unseen in training is all zeros there (counted in a note),
    /// or an error with their --strict. Not with --init-from (the model keeps its own).
    #[arg(
        long,
        value_name = "COL",
        value_delimiter = ',',
        conflicts_with = "init_from",
        help_heading = "Data"
    )]
    pub categorical: Vec<String>,

    /// Fill blanks instead of refusing them: an empty field or NA, N/A, NaN, nan, NULL, null
    /// becomes the column's mean, median or 0, computed on the training rows only (after the
    /// validation split) and kept in the model for predict, eval and explain. A blank in a
    /// --categorical column becomes its most frequent training category. Without it every
    /// blank is an error naming its line. Not with --init-from (the model keeps its own).
    #[arg(
        long,
        value_enum,
        value_name = "HOW",
        conflicts_with = "init_from",
        help_heading = "Data"
    )]
    pub impute: Option<crate::data::encode::Impute>,

    /// With --impute: add one 0/1 input `COL_missing` per column that has blanks in the
    /// training rows (1 where the field was blank), after the other inputs, so that the model
    /// can tell an imputed value from a real one.
    #[arg(long, requires = "impute", help_heading = "Data")]
    pub missing_indicator: bool,
    /// Weigh each row by the number in column COL (a header name): the loss becomes the
    /// weighted mean L = Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ over each minibatch, and the validation and test
    /// metrics are weighted too (accuracy Σᵢ wᵢ [correctᵢ] / Σᵢ wᵢ). The column is not a
    /// feature. Every weight must be a finite number > 0 (a blank, 0 or a negative value is
    /// an error naming its line). Use it when rows stand for several observations, or to
    /// correct a sample's bias; an integer weight k trains like k copies of the row.
    #[arg(long, value_name = "COL", help_heading = "Data")]
    pub weight_column: Option<String>,

    /// Weigh each class's rows (classification): `balanced` gives class k the weight
    /// n / (q · nₖ) (nₖ its training rows, as scikit-learn), so that rare classes count as
    /// much as common ones; `cat=2,dog=0.5` weighs the classes named (the others 1);
    /// `@FILE` reads such a list from a file (`class=weight`, one per line or
    /// comma-separated, `#` comments). Multiplies --weight-column's weights.
    #[arg(long, value_name = "balanced|LIST|@FILE", help_heading = "Data")]
    pub class_weight: Option<crate::data::weights::ClassWeight>,
}

/// `eval --data`: predict's, but the label column is needed.
const EVAL_DATA_HELP: &str = "Rows to evaluate: a CSV with the model's feature columns and its \
label column (or a Parquet, .npy or .npz file, known by its content). `-` reads standard input.";

/// Options of `mlp-train predict`.
#[derive(Args, Debug, Clone)]
pub struct PredictArgs {
    /// A model saved by `mlp-train --save`.
    #[arg(long, value_name = "MODEL")]
    pub model: PathBuf,

    /// Rows to predict: a CSV with the model's feature columns (the label column may be
    /// absent; when present, the report compares against it), or a Parquet, .npy or .npz
    /// file, known by its content. `-` reads standard input.
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,

    /// The byte between fields: `,` (the default), `;`, `tab` (or `\t`), `|`, or any other
    /// single ASCII byte.
    #[arg(long, value_name = "C", default_value = ",")]
    pub delimiter: crate::data::Delimiter,

    /// Columns to skip, by header name or 0-based index (as given to training).
    #[arg(long, value_name = "COL", value_delimiter = ',')]
    pub ignore: Vec<String>,

    /// Write the predictions here (atomically, through symlinks; a device or FIFO is written
    /// in place; `-` is standard output, the report then goes to stderr) instead of standard
    /// output; the report then goes to standard output. It may not be --model or --data.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Add one column of probability per class after the predicted label.
    #[arg(long)]
    pub proba: bool,

    /// Print the report as JSON on standard output (predictions then only with --out).
    #[arg(long)]
    pub json: bool,

    /// Write a self-contained HTML report (needs the label column in --data): metrics,
    /// confusion matrix or predicted-against-actual scatter, computation graph, one sample
    /// explained. `-` writes it to stdout (then --out is required).
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,

    /// Quality gate for CI: exit 8 when the accuracy on --data is below X (0..1). Like
    /// training's; the report and every output asked for are still written.
    #[arg(long, value_name = "X", help_heading = "Quality gates")]
    pub min_accuracy: Option<f64>,

    /// Quality gate: exit 8 when the loss L on --data is above X (L in standardized target
    /// units for regression, as in training).
    #[arg(long, value_name = "X", help_heading = "Quality gates")]
    pub max_loss: Option<f64>,

    /// Quality gate for regression: exit 8 when R² on --data is below X.
    #[arg(long, value_name = "X", help_heading = "Quality gates")]
    pub min_r2: Option<f64>,

    /// Print nothing but errors and the outputs asked for (the predictions, --out, --json,
    /// --report, --summary-md): no report on the terminal, no notes; the exit status tells
    /// (0, or 8 when a gate failed).
    #[arg(long, short)]
    pub quiet: bool,

    /// CI regression check: an earlier `eval --json` of the same --data (same content, by
    /// fingerprint). Exit 8 when the accuracy (classify) or R² (regress) is below the
    /// baseline's by more than --max-drop; exit 2 when the baseline measured other data.
    #[arg(long, value_name = "FILE", help_heading = "Quality gates")]
    pub baseline: Option<PathBuf>,

    /// With --baseline: the largest drop tolerated, in the metric's units (0.02 is two
    /// points of accuracy).
    #[arg(
        long,
        value_name = "D",
        default_value_t = 0.0,
        requires = "baseline",
        help_heading = "Quality gates"
    )]
    pub max_drop: f64,

    /// Write a short Markdown summary for CI pages (`$GITHUB_STEP_SUMMARY`): the model, the
    /// data, the metrics, each gate and the baseline marked ✅ or ❌. `-` is standard output.
    #[arg(long, value_name = "FILE.md")]
    pub summary_md: Option<PathBuf>,

    /// Copy these columns (by header name or 0-based index) into the predictions, first, in
    /// this order, their text as in the file (`--keep id`): to join the predictions back.
    /// Any column: one the model uses or not, text or numbers.
    #[arg(long, value_name = "COL", value_delimiter = ',')]
    pub keep: Vec<String>,

    /// The file has no header (columns `field 1`, `field 2`, …); the model's features must
    /// then be named so too (a model trained with --no-header).
    #[arg(long)]
    pub no_header: bool,

    /// Which arrays of a .npz --data file are read.
    #[command(flatten)]
    pub npz: NpzArgs,
    /// A category of a categorical column never seen in training is an error (exit 3,
    /// naming its line and column) instead of an all-zero encoding counted in a note.
    #[arg(long)]
    pub strict: bool,
    /// Weigh each row of the --data file by the number in column COL (not a feature of the
    /// model): the loss, accuracy (Σᵢ wᵢ [correctᵢ] / Σᵢ wᵢ) and gates are then weighted, as
    /// scikit-learn's `score(X, y, sample_weight)`. Each weight a finite number > 0.
    #[arg(long, value_name = "COL")]
    pub weight_column: Option<String>,
}

/// Options of `mlp-train gradcheck`.
#[derive(Args, Debug, Clone)]
pub struct GradcheckArgs {
    /// Take the batch from this CSV (standardized, bias appended) instead of random numbers.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Label column of --data.
    #[arg(long, value_name = "COL", value_delimiter = ',')]
    pub label: Vec<String>,
    /// Task of --data.
    #[arg(long, value_enum, default_value_t = Task::Classify)]
    pub task: Task,
    /// d, inputs of a random batch.
    #[arg(short, long, value_name = "INPUTS", default_value_t = 5)]
    pub d: usize,
    /// h, hidden units.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub hidden: usize,
    /// q, outputs of a random batch (long form only: `-q` is --quiet, as everywhere else).
    #[arg(long, value_name = "OUTPUTS", default_value_t = 3)]
    pub q: usize,
    /// B, rows of the batch (with --data: the first B rows).
    #[arg(long, value_name = "ROWS", default_value_t = 8)]
    pub batch: usize,
    #[arg(long, value_enum, default_value_t = Activation::Tanh)]
    pub activation: Activation,
    #[arg(long, value_enum, default_value_t = Loss::SoftmaxCe)]
    pub loss: Loss,
    /// λ of the objective.
    #[arg(long, value_name = "λ", default_value_t = 0.01)]
    pub lambda: f64,
    /// Seed of the weights and the random batch.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Finite-difference step ε.
    #[arg(long, default_value_t = crate::train::gradcheck::DEFAULT_EPS)]
    pub eps: f64,
    /// Fail (exit 7) when a max relative error |a − n| / max(|a|, |n|, 1e-4) exceeds this.
    #[arg(long, default_value_t = crate::train::gradcheck::DEFAULT_TOL)]
    pub tol: f64,
    /// Check the weighted loss L = Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ (`--weight-column`, `--class-weight`),
    /// each row's wᵢ drawn from U(0.5, 2.5) with the seed.
    #[arg(long)]
    pub weighted: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Print nothing but errors and the outputs asked for (--json): nothing on success; the
    /// exit status tells (0, or 7 with its one-line error).
    #[arg(long, short)]
    pub quiet: bool,
    /// The data flags of training, for --data.
    #[command(flatten)]
    pub columns: DataColumns,
}

/// The flags that choose the columns of a --data file, as training takes them (gradcheck
/// and graph).
#[derive(Args, Debug, Clone, Default)]
pub struct DataColumns {
    /// Columns of --data to skip, by header name or 0-based index.
    #[arg(long, value_name = "COL", value_delimiter = ',', requires = "data")]
    pub ignore: Vec<String>,
    /// The feature columns of --data, in this order (not with --ignore).
    #[arg(
        long,
        value_name = "COL",
        value_delimiter = ',',
        requires = "data",
        conflicts_with = "ignore"
    )]
    pub features: Vec<String>,
    /// The byte between fields of --data: `,` (the default), `;`, `tab`, `|`, ….
    #[arg(long, value_name = "C", default_value = ",")]
    pub delimiter: crate::data::Delimiter,
    /// --data has no header (columns `field 1`, `field 2`, …).
    #[arg(long, requires = "data")]
    pub no_header: bool,

    /// Which arrays of a .npz --data file are read.
    #[command(flatten)]
    pub npz: NpzArgs,
}

/// `--npz-x`, `--npz-y`: which arrays of a .npz file are the table (wherever --data is read).
#[derive(Args, Debug, Clone, PartialEq, Eq)]
pub struct NpzArgs {
    /// The array of a .npz file holding the features: 2-D, one row per sample, read as the
    /// columns `x0`, `x1`, … (the file is .npz by its content, whatever its name). Change it
    /// when the arrays were saved under other names (`np.savez(f, data=…, target=…)`).
    #[arg(long, value_name = "NAME", default_value = "X")]
    pub npz_x: String,

    /// The array of a .npz file holding the labels: 1-D, one per row of --npz-x, read as a
    /// last column named after the array (so `--label y`, the default last column, takes
    /// it). A file without it has no label column (predict); training refuses it.
    #[arg(long, value_name = "NAME", default_value = "y")]
    pub npz_y: String,
}

impl Default for NpzArgs {
    fn default() -> Self {
        NpzArgs {
            npz_x: "X".to_string(),
            npz_y: "y".to_string(),
        }
    }
}

impl NpzArgs {
    /// The arrays, as the data layer takes them.
    pub fn names(&self) -> crate::data::NpzNames {
        crate::data::NpzNames {
            x: self.npz_x.clone(),
            y: self.npz_y.clone(),
        }
    }
}

/// Options of `mlp-train explain`.
#[derive(Args, Debug, Clone)]
pub struct ExplainArgs {
    /// The CSV to take the sample from.
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,

    /// The byte between fields: `,` (the default), `;`, `tab` (or `\t`), `|`, or any other
    /// single ASCII byte.
    #[arg(long, value_name = "C", default_value = ",")]
    pub delimiter: crate::data::Delimiter,

    /// Columns to skip, by header name or 0-based index (as given to training).
    #[arg(long, value_name = "COL", value_delimiter = ',')]
    pub ignore: Vec<String>,

    /// 0-based data row (not counting the header).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub row: usize,
    /// Explain this saved model, with its own λ, φ, ℓ, h, bias, labels and preprocessing
    /// (the flags that would change them are refused beside it); without it, a freshly
    /// initialized model from --seed and the flags below.
    #[arg(long, value_name = "MODEL",
          conflicts_with_all = ["label", "task", "hidden", "activation", "lambda", "seed", "no_bias"])]
    pub model: Option<PathBuf>,
    /// Label column (not with --model: the model names its own).
    #[arg(long, value_name = "COL", value_delimiter = ',')]
    pub label: Vec<String>,
    /// Task of the fresh model (not with --model).
    #[arg(long, value_enum, default_value_t = Task::Classify)]
    pub task: Task,
    /// h of the fresh model (not with --model).
    #[arg(long, default_value_t = 4)]
    pub hidden: usize,
    /// φ of the fresh model (not with --model).
    #[arg(long, value_enum, default_value_t = Activation::Relu)]
    pub activation: Activation,
    /// λ of the objective (not with --model: the model's own λ is used).
    #[arg(long, value_name = "λ", default_value_t = 0.01)]
    pub lambda: f64,
    /// Seed of the fresh model's weights (not with --model).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// No bias feature (not with --model).
    #[arg(long)]
    pub no_bias: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Print nothing but errors and the explanation asked for (no notes on stderr).
    #[arg(long, short)]
    pub quiet: bool,
    /// The file has no header (columns `field 1`, `field 2`, …).
    #[arg(long)]
    pub no_header: bool,

    /// Which arrays of a .npz --data file are read.
    #[command(flatten)]
    pub npz: NpzArgs,
    /// The feature columns, in this order (not with --model, which knows its own; not with
    /// --ignore).
    #[arg(long, value_name = "COL", value_delimiter = ',', conflicts_with_all = ["model", "ignore"])]
    pub features: Vec<String>,
    /// Text columns to one-hot encode, as in training (`--categorical plan,region`): one 0/1
    /// input `plan=pro` per category of the file (not with --model, which keeps its own).
    #[arg(
        long,
        value_name = "COL",
        value_delimiter = ',',
        conflicts_with = "model"
    )]
    pub categorical: Vec<String>,
    /// Fill blanks as in training: the column's mean, median or 0 over the file's rows, a
    /// blank category its most frequent one (not with --model, which keeps its own).
    #[arg(long, value_enum, value_name = "HOW", conflicts_with = "model")]
    pub impute: Option<crate::data::encode::Impute>,
    /// With --impute: one 0/1 input `COL_missing` per column with blanks in the file.
    #[arg(long, requires = "impute")]
    pub missing_indicator: bool,
}

impl ExplainArgs {
    /// How the fresh model's inputs are encoded (--categorical, --impute,
    /// --missing-indicator).
    pub fn encode(&self) -> crate::data::prep::EncodeOptions {
        crate::data::prep::EncodeOptions::from_flags(
            &self.categorical,
            self.impute,
            self.missing_indicator,
        )
    }
}

/// Options of `mlp-train graph`.
#[derive(Args, Debug, Clone)]
pub struct GraphArgs {
    /// Annotate with the shapes of this saved model.
    #[arg(long, value_name = "MODEL", conflicts_with = "data")]
    pub model: Option<PathBuf>,
    /// Annotate with the shapes a model trained on this CSV would have (default settings).
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// dot (Graphviz source) or svg (drawn by --engine).
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
    /// Print nothing but errors and the graph asked for.
    #[arg(long, short)]
    pub quiet: bool,
    /// Who draws --format svg: builtin (the drawing of the HTML report; nothing to install)
    /// or dot (Graphviz's `dot -Tsvg`, which must be on PATH).
    #[arg(long, value_enum, default_value_t = GraphEngine::Builtin)]
    pub engine: GraphEngine,
    /// The label column of --data, by header name or 0-based index [default: the last].
    #[arg(long, value_name = "COL", value_delimiter = ',', requires = "data")]
    pub label: Vec<String>,
    /// The task the model of --data would have (sets q and the default ℓ).
    #[arg(long, value_enum, default_value_t = Task::Classify, requires = "data")]
    pub task: Task,
    /// h, hidden units of the model of --data (as training's --hidden).
    #[arg(long, value_name = "N", default_value_t = 32, requires = "data")]
    pub hidden: usize,
    /// φ of the model of --data.
    #[arg(long, value_enum, default_value_t = Activation::Relu, requires = "data")]
    pub activation: Activation,
    /// ℓ of the model of --data [default: softmax-ce for classify, half-squared for regress].
    #[arg(long, value_enum, requires = "data")]
    pub loss: Option<Loss>,
    /// B, the minibatch size printed on the graph of --data.
    #[arg(long, value_name = "B", default_value_t = 32, requires = "data")]
    pub batch_size: usize,
    /// No bias input in the model of --data.
    #[arg(long, requires = "data")]
    pub no_bias: bool,
    /// The data flags of training, for --data.
    #[command(flatten)]
    pub columns: DataColumns,
}

/// Who draws `mlp-train graph --format svg`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphEngine {
    /// The built-in drawing (the HTML report's).
    Builtin,
    /// Graphviz's `dot -Tsvg`.
    Dot,
}

/// Output format of `mlp-train graph`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Dot,
    Svg,
}

impl TrainArgs {
    /// Whether the constant-1 bias feature is on (`--bias` default, `--no-bias` off).
    pub fn bias_on(&self) -> bool {
        !self.no_bias
    }

    /// The plain options a run takes, grouped like the help headings.
    pub fn options(&self) -> RunOptions {
        RunOptions {
            data: DataOptions {
                data: self.data.clone(),
                label: self.label.clone(),
                task: self.task.unwrap_or(Task::Classify),
                test: self.test.clone(),
                delimiter: self.delimiter,
                ignore: self.ignore.clone(),
                val_frac: self.val_frac,
                no_standardize: self.no_standardize,
                no_standardize_targets: self.no_standardize_targets,
                task_given: self.task.is_some(),
                features: self.features.clone(),
                no_header: self.no_header,
                npz: self.npz.names(),
                encode: crate::data::prep::EncodeOptions::from_flags(
                    &self.categorical,
                    self.impute,
                    self.missing_indicator,
                ),
                weight_column: self.weight_column.clone(),
                class_weight: self.class_weight.clone(),
            },
            model: ModelOptions {
                bias: self.bias_on(),
                hidden: self.hidden,
                activation: self.activation,
                loss: self.loss,
                init: self.init,
                init_from: self.init_from.clone(),
            },
            training: TrainingOptions {
                lambda: self.lambda,
                lr: self.lr,
                momentum: self.momentum,
                batch_size: self.batch_size,
                epochs: self.epochs,
                patience: self.patience,
                seed: self.seed,
                precision: self.precision,
                threads: self.threads,
                cv: self.cv,
            },
            gates: GateOptions {
                min_accuracy: self.min_accuracy,
                max_loss: self.max_loss,
                min_r2: self.min_r2,
                baseline: self.baseline.clone(),
                max_drop: self.max_drop,
            },
            outputs: OutputOptions {
                save: self.save.clone(),
                log: self.log.clone(),
                plot: self.plot.clone(),
                report: self.report.clone(),
                json: self.json,
                summary_md: self.summary_md.clone(),
                export_onnx: self.export_onnx.clone(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn training_needs_no_subcommand() {
        let cli =
            Cli::try_parse_from(["mlp-train", "--data", "x.csv", "--lambda", "0.01"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.train.lambda, 0.01);
        assert!(cli.train.bias_on());
        let cli = Cli::try_parse_from(["mlp-train", "--data", "x.csv", "--no-bias"]).unwrap();
        assert!(!cli.train.bias_on());
    }

    #[test]
    fn conflicts_are_declared() {
        let e = Cli::try_parse_from([
            "mlp-train",
            "--data",
            "x.csv",
            "--init-from",
            "m.json",
            "--hidden",
            "3",
        ])
        .unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::ArgumentConflict);
        let e =
            Cli::try_parse_from(["mlp-train", "--data", "x.csv", "--patience", "3"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::MissingRequiredArgument);
    }
}

/// Options of `mlp-train sweep` (beside every train flag, shared by all points).
#[derive(Args, Debug, Clone)]
#[command(mut_arg("data", |a| a.required(false)))]
pub struct SweepArgs {
    /// An axis: a train flag and its values, repeated for more axes (the grid is their
    /// product). Values: a list `lr=0.05,0.1`; whole numbers `seed=0..4`; `a..b:N` for N
    /// evenly spaced (`momentum=0..0.9:4`); `a..b:logN` for N log-spaced
    /// (`lr=1e-3..1e-1:log5`); `a..b:xK` multiplying by K (`hidden=16..128:x2`); `a..b:+K`
    /// adding K. Any train flag that takes a value may be an axis, except the data's
    /// (--data, --test, --label, --task, --delimiter, --ignore, --init-from) and the outputs.
    #[arg(long, value_name = "FLAG=VALUES", help_heading = "Sweep")]
    pub grid: Vec<String>,

    /// The sweep's folder: its plan, results and models. Created if needed; a folder with
    /// another sweep's plan is refused (naming what differs).
    #[arg(long, value_name = "DIR", required = true, help_heading = "Sweep")]
    pub runs: PathBuf,

    /// Draw N points at random instead of the whole grid: uniform over a list, uniform in an
    /// `a..b:N` range, log-uniform in an `a..b:logN` range (whole numbers when both bounds
    /// are).
    #[arg(long, value_name = "N", help_heading = "Sweep")]
    pub samples: Option<usize>,

    /// Seed of --samples' draws (independent of --seed, which may itself be an axis).
    #[arg(
        long,
        value_name = "S",
        default_value_t = 0,
        requires = "samples",
        help_heading = "Sweep"
    )]
    pub sweep_seed: u64,

    /// Points trained at a time, in this process, over the data loaded once (each point
    /// with its own --threads, 1 by default) [default: the cores available].
    #[arg(long, short = 'j', value_name = "N", help_heading = "Sweep")]
    pub jobs: Option<usize>,

    /// Keep each point's model, as DIR/models/NNNN.json (NNNN the point).
    #[arg(long, help_heading = "Sweep")]
    pub save_models: bool,

    /// Write the table to FILE (atomically; never over an input or the plan) instead of
    /// standard output.
    #[arg(long = "out", short = 'o', value_name = "FILE", help_heading = "Sweep")]
    pub out: Option<PathBuf>,

    /// Train the best point again on all the data (no validation split, no --cv) and save
    /// its model to MODEL.
    #[arg(long, value_name = "MODEL", help_heading = "Sweep")]
    pub refit: Option<PathBuf>,

    /// Run only point I of the plan in --runs DIR (reading the data itself, refused if its
    /// content differs from the plan's) and record its result: what an engine runs.
    #[arg(long, value_name = "I", help_heading = "Sweep engines",
          conflicts_with_all = ["grid", "samples", "print_jobs", "slurm", "refit", "out"])]
    pub point: Option<usize>,

    /// Plan, then print one command per missing point (`mlp-train sweep --runs DIR --point
    /// I`, DIR shell-quoted) for GNU parallel or any job runner, and run nothing.
    #[arg(long, help_heading = "Sweep engines", conflicts_with = "slurm")]
    pub print_jobs: bool,

    /// Plan, then submit the missing points as one Slurm job array (`sbatch --wait`, the
    /// script and the logs in DIR), wait for it, and print the table.
    #[arg(long, help_heading = "Sweep engines")]
    pub slurm: bool,

    #[command(flatten)]
    pub train: TrainArgs,
}

/// Options of `mlp-train export`.
#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    /// A model saved by `mlp-train --save`.
    #[arg(long, value_name = "MODEL")]
    pub model: PathBuf,

    /// The format to write.
    #[arg(long, value_enum, default_value_t = ExportFormat::Onnx)]
    pub format: ExportFormat,

    /// Where to write it: a file (written atomically, through symlinks; a device or FIFO in
    /// place), or `-` for standard output when that is not a terminal. It may not be --model.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,

    /// Print nothing but errors and the file asked for (export prints nothing else anyway).
    #[arg(long, short)]
    pub quiet: bool,
}

/// Formats of `mlp-train export`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// ONNX (opset 17), for ONNX Runtime and the other ONNX runtimes.
    Onnx,
}
