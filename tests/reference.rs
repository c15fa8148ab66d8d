//! The hand-derived forward and backward passes against reference vectors computed
//! independently by PyTorch autograd in float64 (tests/reference/, copied from shared/reference/).

use mlp_train::{Activation, Cache, Grads, Loss, Mlp, Target, Weighted};
use ndarray::Array2;
use serde_json::Value;
use std::path::PathBuf;

/// Relative tolerance the issue asks for; the README of the references promises ~1e-12.
const TOL: f64 = 1e-10;

fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference")
}

fn load(name: &str) -> Value {
    let path = reference_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reference file {} is missing: {e}", path.display()));
    serde_json::from_str(&text).expect("reference JSON parses")
}

fn matrix(v: &Value) -> Array2<f64> {
    let rows = v.as_array().expect("a list of rows");
    let cols = rows[0].as_array().expect("a row").len();
    let flat: Vec<f64> = rows
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()))
        .collect();
    Array2::from_shape_vec((rows.len(), cols), flat).unwrap()
}

fn close(what: &str, got: f64, want: f64) {
    let err = (got - want).abs();
    assert!(
        err <= TOL * want.abs() + 1e-15,
        "{what}: got {got:.17e}, reference {want:.17e} (relative error {:.2e})",
        err / want.abs().max(1e-300)
    );
}

fn close_matrix(what: &str, got: ndarray::ArrayView2<f64>, want: &Array2<f64>) {
    assert_eq!(got.dim(), want.dim(), "{what}: shape");
    for ((i, j), &w) in want.indexed_iter() {
        close(&format!("{what}[{i},{j}]"), got[[i, j]], w);
    }
}

/// Runs every (activation, loss) case of one reference file; returns how many values matched.
fn check_file(name: &str) -> usize {
    let r = load(name);
    let x = matrix(&r["x"]);
    let y: Vec<usize> = r["y"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let y_reg = matrix(&r["y_regression"]);
    let lambda = r["lambda"].as_f64().unwrap();
    let lr = r["lr"].as_f64().unwrap();
    let cases = r["cases"].as_object().unwrap();
    assert_eq!(cases.len(), 6, "{name}: all 3 activations × 2 losses");
    let mut checked = 0;
    for (case_name, c) in cases {
        let activation = match c["activation"].as_str().unwrap() {
            "relu" => Activation::Relu,
            "sigmoid" => Activation::Sigmoid,
            "tanh" => Activation::Tanh,
            other => panic!("unknown activation {other}"),
        };
        let (loss, target) = match c["loss"].as_str().unwrap() {
            "softmax_ce" => (Loss::SoftmaxCe, Target::Classes(&y[..])),
            "half_squared" => (Loss::HalfSquared, Target::Values(y_reg.view())),
            other => panic!("unknown loss {other}"),
        };
        let mut m = Mlp {
            w1: matrix(&r["w1"]),
            w2: matrix(&r["w2"]),
            activation,
            loss,
        };
        let mut cache = Cache::for_model(&m, x.nrows());
        let mut grads = Grads::for_model(&m, x.nrows());
        m.forward(x.view(), &mut cache).unwrap();
        let obj = m
            .backward(x.view(), target, lambda, &cache, &mut grads)
            .unwrap();
        let (z, h, o) = cache.live();
        let at = |k: &str| format!("{name} {case_name} {k}");
        close_matrix(&at("z"), z, &matrix(&c["z"]));
        close_matrix(&at("h"), h, &matrix(&c["h"]));
        close_matrix(&at("o"), o, &matrix(&c["o"]));
        close(&at("L"), obj.l, c["L"].as_f64().unwrap());
        close(&at("s"), obj.s, c["s"].as_f64().unwrap());
        close(&at("J"), obj.j, c["J"].as_f64().unwrap());
        let (d_o, d_h, d_z) = grads.live();
        close_matrix(&at("d_o"), d_o, &matrix(&c["d_o"]));
        close_matrix(&at("d_w2"), grads.d_w2.view(), &matrix(&c["d_w2"]));
        close_matrix(&at("d_h"), d_h, &matrix(&c["d_h"]));
        close_matrix(&at("d_z"), d_z, &matrix(&c["d_z"]));
        close_matrix(&at("d_w1"), grads.d_w1.view(), &matrix(&c["d_w1"]));
        m.sgd_step(&grads, lr);
        close_matrix(
            &at("w1_after_step"),
            m.w1.view(),
            &matrix(&c["w1_after_step"]),
        );
        close_matrix(
            &at("w2_after_step"),
            m.w2.view(),
            &matrix(&c["w2_after_step"]),
        );
        checked += z.len() * 2 + o.len() * 2 + 3 + d_h.len() * 2;
        checked += grads.d_w1.len() * 2 + grads.d_w2.len() * 2;
    }
    checked
}

#[test]
fn small_reference_matches_autograd() {
    assert!(check_file("small.json") > 500);
}

#[test]
fn medium_reference_matches_autograd() {
    assert!(check_file("medium.json") > 2000);
}

#[test]
fn the_test_actually_detects_a_wrong_gradient() {
    // A gradient off by one part in 1e9 must be caught: the comparison is not vacuous.
    let result = std::panic::catch_unwind(|| close("probe", 1.0 + 1e-9, 1.0));
    assert!(result.is_err());
}

#[test]
fn copies_agree_with_the_shared_originals() {
    // The vectors were copied from ../shared/reference/; when that folder is present (it is
    // in CI), the copies must be byte-identical, so that they cannot drift.
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference");
    if !shared.exists() {
        eprintln!(
            "note: {} not present; comparing against the copies only",
            shared.display()
        );
        return;
    }
    for name in ["small.json", "medium.json"] {
        let a = std::fs::read(shared.join(name)).unwrap();
        let b = std::fs::read(reference_dir().join(name)).unwrap();
        assert!(
            a == b,
            "tests/reference/{name} differs from shared/reference/{name}"
        );
    }
}

/// Every case of `weighted.json` (B=9, d=6, h=5, q=4): L = Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ with per-row
/// sample weights, or wᵢ = class_weight[yᵢ] (PyTorch's `cross_entropy(weight=…)`), through
/// the same forward/backward as the unweighted files. Returns how many values matched.
fn check_weighted(name: &str) -> usize {
    let r = load(name);
    let x = matrix(&r["x"]);
    let y: Vec<usize> = r["y"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let y_reg = matrix(&r["y_regression"]);
    let vector = |v: &Value| -> ndarray::Array1<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let sample_weight = vector(&r["sample_weight"]);
    let class_weight = vector(&r["class_weight"]);
    let lambda = r["lambda"].as_f64().unwrap();
    let lr = r["lr"].as_f64().unwrap();
    let cases = r["cases"].as_object().unwrap();
    assert_eq!(cases.len(), 9, "{name}: 3 activations × 3 weightings");
    let mut checked = 0;
    for (case_name, c) in cases {
        let activation: Activation = c["activation"].as_str().unwrap().parse().unwrap();
        let loss: Loss = c["loss"].as_str().unwrap().parse().unwrap();
        // The weights are derived here, as training derives them, then checked against the
        // ones the case says it used.
        let w = match c["weights"].as_str().unwrap() {
            "sample" => sample_weight.clone(),
            "class" => y.iter().map(|&k| class_weight[k]).collect(),
            other => panic!("unknown weighting {other}"),
        };
        assert_eq!(w, vector(&c["w"]), "{case_name}: the weights used");
        let target = match loss {
            Loss::SoftmaxCe => Target::Classes(&y[..]),
            Loss::HalfSquared => Target::Values(y_reg.view()),
        };
        let target = Weighted::new(target, Some(w.view()));
        let mut m = Mlp {
            w1: matrix(&r["w1"]),
            w2: matrix(&r["w2"]),
            activation,
            loss,
        };
        let mut cache = Cache::for_model(&m, x.nrows());
        let mut grads = Grads::for_model(&m, x.nrows());
        m.forward(x.view(), &mut cache).unwrap();
        let obj = m
            .backward(x.view(), target, lambda, &cache, &mut grads)
            .unwrap();
        let at = |k: &str| format!("{name} {case_name} {k}");
        let (z, h, o) = cache.live();
        close_matrix(&at("z"), z, &matrix(&c["z"]));
        close_matrix(&at("h"), h, &matrix(&c["h"]));
        close_matrix(&at("o"), o, &matrix(&c["o"]));
        close(&at("L"), obj.l, c["L"].as_f64().unwrap());
        // value() (no gradient) measures the same weighted L.
        close(
            &at("L by value()"),
            loss.value(o, target),
            c["L"].as_f64().unwrap(),
        );
        close(&at("s"), obj.s, c["s"].as_f64().unwrap());
        close(&at("J"), obj.j, c["J"].as_f64().unwrap());
        let (d_o, d_h, d_z) = grads.live();
        close_matrix(&at("d_o"), d_o, &matrix(&c["d_o"]));
        close_matrix(&at("d_w2"), grads.d_w2.view(), &matrix(&c["d_w2"]));
        close_matrix(&at("d_h"), d_h, &matrix(&c["d_h"]));
        close_matrix(&at("d_z"), d_z, &matrix(&c["d_z"]));
        close_matrix(&at("d_w1"), grads.d_w1.view(), &matrix(&c["d_w1"]));
        checked += z.len() * 2 + o.len() * 2 + 4 + d_h.len() * 2;
        checked += grads.d_w1.len() + grads.d_w2.len();
        m.sgd_step(&grads, lr);
        close_matrix(
            &at("w1_after_step"),
            m.w1.view(),
            &matrix(&c["w1_after_step"]),
        );
        close_matrix(
            &at("w2_after_step"),
            m.w2.view(),
            &matrix(&c["w2_after_step"]),
        );
        checked += m.w1.len() + m.w2.len();
    }
    checked
}

#[test]
fn weighted_reference_matches_autograd() {
    assert!(check_weighted("weighted.json") > 1500);
}

#[test]
fn weighted_copy_agrees_with_the_shared_original() {
    let shared =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/weighted.json");
    if shared.exists() {
        let a = std::fs::read(shared).unwrap();
        let b = std::fs::read(reference_dir().join("weighted.json")).unwrap();
        assert!(
            a == b,
            "tests/reference/weighted.json differs from the shared original"
        );
    }
}

#[test]
fn equal_weights_are_the_unweighted_mean() {
    // With every wᵢ equal, Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ is the plain mean: the same L and ∂L/∂O as
    // the medium reference's, to rounding.
    let r = load("medium.json");
    let x = matrix(&r["x"]);
    let y: Vec<usize> = r["y"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let c = &r["cases"]["tanh/softmax_ce"];
    let m = Mlp {
        w1: matrix(&r["w1"]),
        w2: matrix(&r["w2"]),
        activation: Activation::Tanh,
        loss: Loss::SoftmaxCe,
    };
    let w = ndarray::Array1::from_elem(x.nrows(), 3.7);
    let mut cache = Cache::for_model(&m, x.nrows());
    let mut grads = Grads::for_model(&m, x.nrows());
    m.forward(x.view(), &mut cache).unwrap();
    let target = Weighted::new(Target::Classes(&y), Some(w.view()));
    let obj = m
        .backward(x.view(), target, 0.01, &cache, &mut grads)
        .unwrap();
    close("L", obj.l, c["L"].as_f64().unwrap());
    close_matrix("d_o", grads.live().0, &matrix(&c["d_o"]));
}
