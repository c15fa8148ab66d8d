//! `mlp-train export`: a saved model in another format (ONNX), written by the rules of every
//! output (atomically, never over an input), and the same bytes for training's --export-onnx.

use std::io::IsTerminal;
use std::path::Path;

use crate::cli::args::{ExportArgs, ExportFormat};
use crate::cli::output::{Dest, Output, Plan, Transaction};
use crate::data::modelfile::ModelFile;
use crate::train::limits;
use crate::{Error, Result};

/// `mlp-train export --model m.json --format onnx --out m.onnx`.
pub fn export(args: &ExportArgs) -> Result<()> {
    let plan = Plan::new(
        &[("--out", Some(&args.out))],
        &[("--model", Some(&args.model))],
        &[],
    )?;
    let Some(out) = plan.get("--out") else {
        return Ok(());
    };
    not_a_terminal(out)?;
    // The file is built in memory: each weight's 4 or 8 bytes, copied once more into each
    // enclosing message (tensor, graph, model).
    let mf = limits::load_model_with(&args.model, 4 * 8, "the ONNX file's copies")?;
    let bytes = match args.format {
        ExportFormat::Onnx => onnx(&mf).map_err(|msg| Error::Model {
            path: args.model.clone(),
            msg,
        })?,
    };
    let mut outputs = Transaction::new();
    outputs.stage(out, bytes)?;
    outputs.commit()
}

/// The ONNX file of `mf`, or why it cannot be exported (a sentence for an error message).
pub fn onnx(mf: &ModelFile) -> std::result::Result<Vec<u8>, String> {
    crate::show::onnx::to_onnx(mf)
}

/// `--export-onnx FILE` at training: the trained model's ONNX file, or a refusal naming the
/// flag and what the model has that cannot be exported.
pub fn onnx_for_flag(mf: &ModelFile, out: &Path) -> Result<Vec<u8>> {
    onnx(mf).map_err(|msg| Error::flag("--export-onnx", msg, crate::error::shown_path(out)))
}

/// An ONNX file is binary: `-` (standard output) is refused when that is a terminal.
pub fn not_a_terminal(out: &Output) -> Result<()> {
    if out.dest == Dest::Stdout && std::io::stdout().is_terminal() {
        return Err(Error::flag(
            out.flag,
            "writes a binary file, not text for a terminal: give a FILE or redirect standard output",
            crate::error::shown_path(&out.given),
        ));
    }
    Ok(())
}
