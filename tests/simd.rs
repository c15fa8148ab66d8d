//! `MLP_TRAIN_SIMD`: the products capped at their AVX2+FMA build (what bench/run.sh's SIMD=avx2
//! measures on an AVX-512 CPU) train the same model, bit for bit; a bad value is exit 2.

use assert_cmd::Command;

fn train_f64(simd: &str, out: &std::path::Path) -> serde_json::Value {
    train(simd, &["--precision", "f64", "--hidden", "32"], out)
}

fn train(simd: &str, args: &[&str], out: &std::path::Path) -> serde_json::Value {
    Command::cargo_bin("mlp-train")
        .unwrap()
        .env("MLP_TRAIN_SIMD", simd)
        .args(["--data", "data/digits.csv", "--epochs", "3"])
        .args(args)
        .args(["--seed", "4", "-q", "--save"])
        .arg(out)
        .assert()
        .success();
    serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap()
}

fn weights(model: &serde_json::Value) -> Vec<f64> {
    let mut all = vec![];
    for w in ["w1", "w2"] {
        let rows = model[w]
            .as_array()
            .unwrap_or_else(|| panic!("no {w} in {model}"));
        for r in rows {
            all.extend(r.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()));
        }
    }
    all
}

#[test]
fn capped_at_avx2_the_model_is_the_same_to_the_bit() {
    let dir = tempfile::tempdir().unwrap();
    let auto = weights(&train_f64("auto", &dir.path().join("auto.json")));
    let avx2 = weights(&train_f64("avx2", &dir.path().join("avx2.json")));
    // faer's AVX2 and AVX-512 kernels sum each element over k in the same order, with FMAs:
    // the same bits (measured on an AVX-512 Zen 4 in f32 and f64), so a model trained on an
    // AVX2-only CPU is the one trained here. Any difference is a wrong product.
    same_bits(&auto, &avx2, 2000);
}

/// The two models' weights are as many (more than `least`) and the same, bit for bit.
fn same_bits(auto: &[f64], avx2: &[f64], least: usize) {
    assert_eq!(auto.len(), avx2.len());
    assert!(auto.len() > least, "{} weights", auto.len());
    let differ = auto
        .iter()
        .zip(avx2)
        .filter(|(a, b)| a.to_bits() != b.to_bits())
        .count();
    assert_eq!(differ, 0, "{differ} of {} weights differ", auto.len());
}

/// In f32 with 128 hidden units and B 64, dW1 = dZᵀX (128 × 65 × 64 multiply-adds) goes to
/// math::outer's kernels, AVX-512 or AVX2: the same chain of FMAs, the same model.
#[test]
fn capped_at_avx2_the_f32_model_with_our_kernel_is_the_same_to_the_bit() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--precision",
        "f32",
        "--hidden",
        "128",
        "--batch-size",
        "64",
    ];
    let auto = weights(&train("auto", &args, &dir.path().join("auto.json")));
    let avx2 = weights(&train("avx2", &args, &dir.path().join("avx2.json")));
    same_bits(&auto, &avx2, 8000);
}

#[test]
fn a_bad_value_is_refused_naming_the_variable() {
    let out = Command::cargo_bin("mlp-train")
        .unwrap()
        .env("MLP_TRAIN_SIMD", "avx512")
        .args(["--data", "data/iris.csv", "--epochs", "1"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        err.contains("MLP_TRAIN_SIMD") && err.contains("avx2") && err.contains("avx512"),
        "{err}"
    );
    assert!(out.get_output().stdout.is_empty());
}
