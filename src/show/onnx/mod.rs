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

/// The largest ONNX file a protobuf reader takes, less room for everything but the weights.
const MAX_PROTOBUF_BYTES: u128 = (2 << 30) - (16 << 20);

/// The ONNX file of the model `mf`, or why it cannot be exported (see [`exportable`]).
pub fn to_onnx(mf: &ModelFile) -> std::result::Result<Vec<u8>, String> {
    exportable(&mf.prep)?;
    // A protobuf message is at most 2 GiB (ONNX's larger models keep their weights in
    // "external data" files, not written here).
    let a = &mf.architecture;
    let weights =
        (a.hidden as u128) * (a.inputs as u128) + (a.outputs as u128) * (a.hidden as u128);
    let bytes = weights * if mf.precision == "f32" { 4 } else { 8 };
    if bytes >= MAX_PROTOBUF_BYTES {
        return Err(format!(
            "cannot export to ONNX: its weights take {bytes} bytes, more than an ONNX file \
             holds ({MAX_PROTOBUF_BYTES}: 2 GiB less room for the rest; ONNX's external data \
             files are not written)"
        ));
    }
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
    // The encoders of real tables (src/data/encode.rs) take text and blanks, which the
    // graph's one float input cannot carry yet.
    if let Some(enc) = &prep.encoding {
        cannot.extend(crate::data::prep::EncodeOptions::of(enc).in_words());
    }
    match cannot.is_empty() {
        true => Ok(()),
        false => Err(format!(
            "cannot export to ONNX: the model {}",
            cannot.join("; ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::modelfile::Architecture;
    use crate::data::prep::Task;
    use crate::{Activation, Loss};

    fn model(features: usize, hidden: usize, w1: Vec<Vec<f64>>) -> ModelFile {
        ModelFile {
            format: "mlp-train model".into(),
            format_version: 1,
            created_by: String::new(),
            precision: "f32".into(),
            architecture: Architecture {
                inputs: features + 1,
                hidden,
                outputs: 1,
                activation: Activation::Relu,
                loss: Loss::HalfSquared,
                bias: true,
            },
            prep: Prep {
                task: Task::Regress,
                features: (0..features.min(4)).map(|j| format!("x{j}")).collect(),
                labels: vec!["y".into()],
                classes: None,
                standardize: None,
                target_standardize: None,
                bias: true,
                encoding: None,
            },
            hyperparameters: serde_json::Value::Null,
            metrics: serde_json::Value::Null,
            epochs_run: 0,
            interrupted: false,
            w2: vec![vec![0.5; hidden.min(4)]],
            w1,
            identity: None,
            weighting: None,
        }
    }

    #[test]
    fn a_model_without_features_is_refused_by_name() {
        let e = to_onnx(&model(0, 1, vec![vec![1.0]])).unwrap_err();
        assert_eq!(
            e,
            "cannot export to ONNX: the model has no feature column (only the bias input)"
        );
        assert!(to_onnx(&model(2, 1, vec![vec![1.0, 2.0, 3.0]])).is_ok());
    }

    #[test]
    fn weights_beyond_what_a_protobuf_holds_are_refused_before_anything_is_built() {
        // 2^16 hidden units × (2^13 + 1 inputs + 1 output) × 4 bytes > 2 GiB; the weights
        // are not even there (the sizes alone refuse it).
        let mut m = model(4, 1 << 16, Vec::new());
        m.architecture.inputs = (1 << 13) + 1;
        let e = to_onnx(&m).unwrap_err();
        assert!(
            e.starts_with("cannot export to ONNX: its weights take 2148007936 bytes, more than an ONNX file holds"),
            "{e}"
        );
    }
}
