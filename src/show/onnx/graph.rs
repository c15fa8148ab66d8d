//! The predictor as ONNX nodes: input X (N, d) in the model's precision; outputs `label` and
//! `probabilities` for a classifier, `predictions` for a regression, each computed as predict does.

use crate::data::modelfile::ModelFile;
use crate::data::prep::Task;
use crate::math::activation::Activation;
use crate::show::onnx::proto::{self, DataType, Dim, Msg, Values};
use crate::show::onnx::{IR_VERSION, OPSET};

/// The graph's nodes and initializers, added in order.
#[derive(Default)]
struct Graph {
    nodes: Vec<Msg>,
    initializers: Vec<Msg>,
}

impl Graph {
    /// One node: `inputs` → op → `output`, named after its output.
    fn op(&mut self, op: &str, inputs: &[&str], output: &str, attrs: &[(&str, i64)]) {
        self.nodes
            .push(proto::node(op, output, inputs, &[output], attrs));
    }

    /// A constant tensor, named `name`.
    fn constant(&mut self, name: &str, dims: &[usize], values: Values) {
        self.initializers.push(proto::tensor(name, dims, values));
    }
}

/// The ModelProto of `mf`: B rows of X (N, d), d the features (the bias input is not an
/// input: W1's last column is Gemm's C).
///
/// Where predict computes in f64 whatever the model's precision — the standardization
/// (x − mean) / std rounded once to T, the softmax of O widened to f64, and o · std + mean
/// for standardized targets — an f32 graph Casts to DOUBLE for those steps and back, so
/// that only the matrix products (f32, in the runtime's own order of summation) differ.
pub fn predictor(mf: &ModelFile) -> Msg {
    let p = &mf.prep;
    let a = &mf.architecture;
    let f32 = mf.precision == "f32";
    let t = if f32 {
        DataType::Float
    } else {
        DataType::Double
    };
    fn weights(f32: bool, v: &[f64]) -> Values<'_> {
        if f32 {
            Values::F32(v)
        } else {
            Values::F64(v)
        }
    }
    let (d, h, q) = (p.features.len(), a.hidden, a.outputs);
    let mut g = Graph::default();

    // x ← (x − mean) / std, in f64 as Standardizer::apply, rounded once to T.
    let mut x = "X";
    if let Some(st) = &p.standardize {
        g.constant("mean", &[d], Values::F64(&st.mean));
        g.constant("std", &[d], Values::F64(&st.std));
        if f32 {
            g.op("Cast", &["X"], "x_f64", &[("to", DataType::Double as i64)]);
            g.op("Sub", &["x_f64", "mean"], "x_centred", &[]);
            g.op("Div", &["x_centred", "std"], "x_standardized_f64", &[]);
            g.op(
                "Cast",
                &["x_standardized_f64"],
                "x_standardized",
                &[("to", t as i64)],
            );
        } else {
            g.op("Sub", &["X", "mean"], "x_centred", &[]);
            g.op("Div", &["x_centred", "std"], "x_standardized", &[]);
        }
        x = "x_standardized";
    }

    // z = W1 x: Gemm(X, W1ᵀ) with W1's bias column as C, (N, d) · (h, d)ᵀ + (h) → (N, h).
    let w1: Vec<f64> = mf.w1.iter().flat_map(|r| r[..d].iter().copied()).collect();
    g.constant("W1", &[h, d], weights(f32, &w1));
    if a.bias {
        let b1: Vec<f64> = mf.w1.iter().map(|r| r[d]).collect();
        g.constant("b1", &[h], weights(f32, &b1));
        g.op("Gemm", &[x, "W1", "b1"], "z", &[("transB", 1)]);
    } else {
        g.op("Gemm", &[x, "W1"], "z", &[("transB", 1)]);
    }

    // h = φ(z)
    let phi = match a.activation {
        Activation::Relu => "Relu",
        Activation::Sigmoid => "Sigmoid",
        Activation::Tanh => "Tanh",
        Activation::Identity => "Identity",
    };
    match a.activation {
        // ONNX Runtime's f32 Sigmoid and Tanh are fast approximations (2-4e-6 relative on the
        // probabilities of digits.csv and spirals.csv, measured), where predict's φ is the
        // C library's. The sigmoid is spelled out as predict computes it, 1 / (1 + e^(−z))
        // in f32 with e^(−z) correctly rounded (as the C library's expf, nearly always);
        // tanh is computed in f64 and rounded once (the C library's tanhf is within an ulp
        // or two of that: a difference no graph can remove).
        Activation::Sigmoid if f32 => {
            g.constant("one", &[], Values::F32(&[1.0]));
            g.op("Neg", &["z"], "minus_z", &[]);
            g.op(
                "Cast",
                &["minus_z"],
                "minus_z_f64",
                &[("to", DataType::Double as i64)],
            );
            g.op("Exp", &["minus_z_f64"], "exp_minus_z_f64", &[]);
            g.op(
                "Cast",
                &["exp_minus_z_f64"],
                "exp_minus_z",
                &[("to", t as i64)],
            );
            g.op("Add", &["one", "exp_minus_z"], "one_plus_exp_minus_z", &[]);
            g.op("Div", &["one", "one_plus_exp_minus_z"], "h", &[]);
        }
        Activation::Tanh if f32 => {
            g.op("Cast", &["z"], "z_f64", &[("to", DataType::Double as i64)]);
            g.op(phi, &["z_f64"], "h_f64", &[]);
            g.op("Cast", &["h_f64"], "h", &[("to", t as i64)]);
        }
        _ => g.op(phi, &["z"], "h", &[]),
    }

    // o = W2 h: Gemm(H, W2ᵀ), (N, h) · (q, h)ᵀ → (N, q).
    let w2: Vec<f64> = mf.w2.iter().flatten().copied().collect();
    g.constant("W2", &[q, h], weights(f32, &w2));
    g.op("Gemm", &["h", "W2"], "o", &[("transB", 1)]);

    let n = Dim::Param("N");
    let mut outputs = Vec::new();
    match (&p.classes, p.task) {
        (Some(classes), Task::Classify) => {
            // p = softmax(o) in f64, as predict; the label is classes[argmax p].
            let p64 = if f32 {
                g.op("Cast", &["o"], "o_f64", &[("to", DataType::Double as i64)]);
                g.op("Softmax", &["o_f64"], "probabilities_f64", &[("axis", 1)]);
                g.op(
                    "Cast",
                    &["probabilities_f64"],
                    "probabilities",
                    &[("to", t as i64)],
                );
                "probabilities_f64"
            } else {
                g.op("Softmax", &["o"], "probabilities", &[("axis", 1)]);
                "probabilities"
            };
            g.op(
                "ArgMax",
                &[p64],
                "class_index",
                &[("axis", 1), ("keepdims", 0)],
            );
            g.constant("classes", &[q], Values::Strings(classes));
            g.op(
                "Gather",
                &["classes", "class_index"],
                "label",
                &[("axis", 0)],
            );
            outputs.push(proto::value_info(
                "label",
                DataType::String,
                &[Dim::Param("N")],
            ));
            outputs.push(proto::value_info("probabilities", t, &[n, Dim::Value(q)]));
        }
        _ => {
            // y = o · std + mean for standardized targets, in f64 as Standardizer::invert.
            match &p.target_standardize {
                Some(st) => {
                    g.constant("target_std", &[q], Values::F64(&st.std));
                    g.constant("target_mean", &[q], Values::F64(&st.mean));
                    let o = if f32 {
                        g.op("Cast", &["o"], "o_f64", &[("to", DataType::Double as i64)]);
                        "o_f64"
                    } else {
                        "o"
                    };
                    let y = if f32 {
                        "predictions_f64"
                    } else {
                        "predictions"
                    };
                    g.op("Mul", &[o, "target_std"], "o_scaled", &[]);
                    g.op("Add", &["o_scaled", "target_mean"], y, &[]);
                    if f32 {
                        g.op("Cast", &[y], "predictions", &[("to", t as i64)]);
                    }
                }
                None => g.op("Identity", &["o"], "predictions", &[]),
            }
            outputs.push(proto::value_info("predictions", t, &[n, Dim::Value(q)]));
        }
    }

    let input = proto::value_info("X", t, &[Dim::Param("N"), Dim::Value(d)]);
    let doc = format!(
        "mlp-train's one-hidden-layer perceptron: z = W1 x{}, h = {}(z), o = W2 h; X holds the \
         feature columns {} in that order",
        if a.bias { " + b" } else { "" },
        a.activation,
        json(&p.features),
    );
    let graph = proto::graph(
        "mlp-train",
        &doc,
        &g.nodes,
        &g.initializers,
        &[input],
        &outputs,
    );
    let mut metadata = vec![
        ("mlp-train:task", p.task.name().to_string()),
        ("mlp-train:features", json(&p.features)),
        ("mlp-train:labels", json(&p.labels)),
        ("mlp-train:precision", mf.precision.clone()),
        ("mlp-train:activation", a.activation.name().to_string()),
    ];
    if let Some(classes) = &p.classes {
        metadata.push(("mlp-train:classes", json(classes)));
    }
    let producer = ("mlp-train", env!("CARGO_PKG_VERSION"));
    proto::model(IR_VERSION, OPSET, producer, &doc, &graph, &metadata)
}

/// Names as a JSON array (how the metadata lists them).
fn json(names: &[String]) -> String {
    serde_json::to_string(names).unwrap_or_default()
}
