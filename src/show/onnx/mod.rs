//! ONNX export: the whole predictor of a saved model — standardization, z = W1 x + b, φ,
//! o = W2 h, softmax or the targets' de-standardization — as one ONNX graph (opset 17).

mod graph;
mod proto;

use crate::data::modelfile::ModelFile;
use crate::data::prep::Prep;

/// The ONNX operator set of the default domain the graph uses (Gemm, Softmax, ArgMax,
/// Gather, Cast, Sub, Div, Mul, Add, Relu, Sigmoid, Tanh, Identity).
pub const OPSET: i64 = 17;

/// The ONNX IR version written: 8 is the one of opset 17 (ONNX 1.12 and later read it).
pub const IR_VERSION: i64 = 8;

/// The ONNX file of the model `mf`, or why it cannot be exported (see [`exportable`]).
pub fn to_onnx(mf: &ModelFile) -> std::result::Result<Vec<u8>, String> {
    exportable(&mf.prep)?;
    Ok(graph::predictor(mf).into_bytes())
}

/// Walks the model's preprocessing and names every step the exported graph cannot
/// reproduce yet: `cannot export to ONNX: the model …`. Each new kind of preprocessing step
/// (an encoder of categories, an imputation) is added here, as an error until the graph
/// builds it.
pub fn exportable(prep: &Prep) -> std::result::Result<(), String> {
    let mut cannot: Vec<String> = Vec::new();
    if prep.features.is_empty() {
        cannot.push("has no feature column (only the bias input)".into());
    }
    match cannot.is_empty() {
        true => Ok(()),
        false => Err(format!(
            "cannot export to ONNX: the model {}",
            cannot.join("; ")
        )),
    }
}
