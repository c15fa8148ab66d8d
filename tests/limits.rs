//! Sizes and values that compare with nothing (issue 10), on the real binary: sizes that imply
//! more memory than there is are a usage error (exit 2), never a panic (101) or an abort (134).
//
// Every case that could allocate runs under `prlimit --as=4G`, so that a regression fails the
// test instead of taking the machine down; without prlimit those cases say loudly they skipped.

mod common;

use std::process::{Command, Output, Stdio};

use common::{assert_error, data, ok_stdout, run, stderr};

const USAGE: i32 = 2;
const MODEL: i32 = 4;
const U64_MAX: &str = "18446744073709551615";
/// The address-space limit of the children: well above what every legitimate case here needs.
const LIMIT: &str = "--as=4294967296";

/// Runs mlp-train under `prlimit --as=4G`; None (after saying so on stderr) without prlimit.
fn run_limited(args: &[&str]) -> Option<Output> {
    let probe = Command::new("prlimit").arg("--version").output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!(
            "SKIPPED: `prlimit` (util-linux) is not installed; the memory cases of tests/limits.rs \
             need it to run safely under an address-space limit"
        );
        return None;
    }
    let out = Command::new("prlimit")
        .args([LIMIT, "--", env!("CARGO_BIN_EXE_mlp-train")])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("prlimit runs");
    Some(out)
}

/// Asserts a refused size: exit 2, one line naming every needle and the memory figures.
fn refused(args: &[&str], needles: &[&str]) {
    let Some(out) = run_limited(args) else { return };
    assert_ne!(out.status.code(), Some(134), "an abort:\n{}", stderr(&out));
    let mut all = vec!["needs", "of memory", "available"];
    all.extend(needles);
    assert_error(&out, USAGE, &all);
}

#[test]
fn sizes_at_u64_max_are_usage_errors_not_panics() {
    let iris = data("iris.csv");
    refused(
        &["--data", &iris, "--hidden", U64_MAX, "-q"],
        &["--hidden", U64_MAX, "EiB"],
    );
    refused(&["gradcheck", "--batch", U64_MAX], &["--batch", U64_MAX]);
    refused(&["gradcheck", "-d", U64_MAX], &["-d", U64_MAX]);
    refused(&["gradcheck", "--hidden", U64_MAX], &["--hidden", U64_MAX]);
    // q is `--q` (issue 11: `-q` is --quiet, as everywhere else).
    refused(&["gradcheck", "--q", U64_MAX], &["--q", U64_MAX]);
    refused(
        &["gradcheck", "--data", &iris, "--hidden", U64_MAX],
        &["--hidden", U64_MAX],
    );
    refused(
        &["explain", "--data", &iris, "--hidden", U64_MAX],
        &["--hidden", U64_MAX],
    );
}

#[test]
fn sizes_beyond_the_memory_limit_are_refused_before_allocating() {
    let iris = data("iris.csv");
    // W1 is only 5 × 10⁷ floats, but the batch caches need 7 GiB: known after the data.
    refused(
        &["--data", &iris, "--hidden", "10000000", "-q"],
        &[
            "--hidden 10000000",
            "--batch-size 32",
            "d=5",
            "q=3",
            "RLIMIT_AS",
            "GiB",
        ],
    );
    // The same in cross-validation, where each fold checks again.
    refused(
        &["--data", &iris, "--hidden", "10000000", "--cv", "3", "-q"],
        &["--hidden 10000000"],
    );
    refused(
        &["gradcheck", "-d", "100000", "--hidden", "100000"],
        &["-d 100000", "--hidden 100000", "GiB"],
    );
    refused(
        &["explain", "--data", &iris, "--hidden", "1000000000000"],
        &["--hidden 1000000000000", "TiB"],
    );
    // Not a number clap accepts for a size: a usage error, never an abort.
    let Some(out) = run_limited(&["explain", "--data", &iris, "--hidden", "1e12"]) else {
        return;
    };
    assert_error(&out, USAGE, &["--hidden", "1e12"]);
}

#[test]
fn a_wide_model_that_fits_still_trains_under_the_limit() {
    // 10⁵ hidden units: about 0.3 GiB with its buffers; evaluation runs in smaller chunks.
    let iris = data("iris.csv");
    let args = [
        "--data", &iris, "--hidden", "100000", "--epochs", "1", "-q", "--json",
    ];
    let Some(out) = run_limited(&args) else {
        return;
    };
    let v: serde_json::Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
    assert_eq!(v["hyperparameters"]["hidden"], 100000);
    assert_eq!(v["epochs"], 1);
    assert!(v["train_accuracy"].as_f64().unwrap() > 0.0);
}

#[test]
fn threads_above_the_cores_are_capped_with_a_note() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let iris = data("iris.csv");
    for threads in [U64_MAX, "1000000000"] {
        let args = [
            "--data",
            &iris,
            "--epochs",
            "2",
            "--threads",
            threads,
            "-q",
            "--json",
        ];
        let Some(out) = run_limited(&args) else {
            return;
        };
        let v: serde_json::Value = serde_json::from_str(&ok_stdout(&out)).unwrap();
        assert_eq!(
            v["hyperparameters"]["threads"], cores,
            "the capped count is recorded"
        );
        let err = stderr(&out);
        assert_eq!(
            err.trim_end(),
            format!(
                "mlp-train: note: --threads {threads} is more than the {cores} core(s) \
                 available; using {cores}"
            )
        );
    }
    // At or below the core count: no note.
    let out = run(&["--data", &iris, "--epochs", "1", "--threads", "1", "-q"]);
    ok_stdout(&out);
    assert_eq!(stderr(&out), "");
}

#[test]
fn thresholds_that_compare_with_nothing_are_refused() {
    let iris = data("iris.csv");
    let reg = data("regression.csv");
    let train = |extra: &[&str], data: &str, needles: &[&str]| {
        let mut args = vec!["--data", data, "--epochs", "1", "-q"];
        args.extend(extra);
        assert_error(&run(&args), USAGE, needles);
    };
    for v in ["nan", "inf", "-1"] {
        train(&["--max-loss", v], &iris, &["--max-loss", ">= 0"]);
        train(&["--min-accuracy", v], &iris, &["--min-accuracy", "[0, 1]"]);
    }
    for v in ["nan", "inf", "-inf", "1.5"] {
        // `--flag=-inf`: clap takes a lone `-inf` for a flag.
        let arg = format!("--min-r2={v}");
        train(&["--task", "regress", &arg], &reg, &["--min-r2", "<= 1"]);
    }
    for (flag, v) in [
        ("--tol", "nan"),
        ("--tol", "-1"),
        ("--tol", "0"),
        ("--tol", "inf"),
    ] {
        let out = run(&["gradcheck", flag, v]);
        assert_error(&out, USAGE, &[flag, "finite number > 0"]);
    }
    for v in ["nan", "inf", "0"] {
        assert_error(&run(&["gradcheck", "--eps", v]), USAGE, &["--eps"]);
    }
    for v in ["nan", "-inf", "-1"] {
        let arg = format!("--lambda={v}");
        assert_error(&run(&["gradcheck", &arg]), USAGE, &["--lambda"]);
        let out = run(&["explain", "--data", &iris, &arg]);
        assert_error(&out, USAGE, &["--lambda"]);
    }
    // Meaningful thresholds still work, and still gate.
    ok_stdout(&run(&[
        "--data",
        &iris,
        "--epochs",
        "1",
        "-q",
        "--max-loss",
        "100",
    ]));
    let out = run(&["--data", &iris, "--epochs", "1", "-q", "--max-loss", "0"]);
    assert_error(&out, 8, &["--max-loss", "loss L"]);
    let out = run(&[
        "--data", &reg, "--task", "regress", "--epochs", "1", "-q", "--min-r2", "-5",
    ]);
    ok_stdout(&out);
    ok_stdout(&run(&["gradcheck", "--tol", "1e-3"]));
}

/// A scratch folder with an iris model trained for a few epochs.
struct Models {
    dir: tempfile::TempDir,
    good: serde_json::Value,
}

impl Models {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("good.json");
        let out = run(&[
            "--data",
            &data("iris.csv"),
            "--epochs",
            "3",
            "-q",
            "--save",
            path.to_str().unwrap(),
        ]);
        ok_stdout(&out);
        let good = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        Models { dir, good }
    }

    /// The good model with `edit` applied, written as `name`.
    fn edited(&self, name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
        let mut v = self.good.clone();
        edit(&mut v);
        let path = self.dir.path().join(name);
        std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
        path.display().to_string()
    }

    fn saved(&self) -> String {
        self.dir.path().join("out.json").display().to_string()
    }
}

/// predict, explain and --init-from all refuse `model` with exit 4 naming it and `needles`;
/// nothing is written.
fn bad_model(m: &Models, model: &str, needles: &[&str]) {
    let iris = data("iris.csv");
    let mut all = vec![model];
    all.extend(needles);
    assert_error(
        &run(&["predict", "--model", model, "--data", &iris]),
        MODEL,
        &all,
    );
    assert_error(
        &run(&["explain", "--model", model, "--data", &iris]),
        MODEL,
        &all,
    );
    let saved = m.saved();
    let out = run(&[
        "--data",
        &iris,
        "--init-from",
        model,
        "-q",
        "--save",
        &saved,
    ]);
    assert_error(&out, MODEL, &all);
    assert!(
        !std::path::Path::new(&saved).exists(),
        "a model was written"
    );
}

#[test]
fn model_values_that_overflow_the_models_precision_are_model_errors() {
    let m = Models::new();
    assert_eq!(m.good["precision"], "f32");
    let w = m.edited("w1.json", |v| v["w1"][1][2] = 1e300.into());
    bad_model(&m, &w, &["w1[1][2]", "1e300", "overflows f32"]);
    let w = m.edited("w2.json", |v| v["w2"][0][3] = (-1e39).into());
    bad_model(&m, &w, &["w2[0][3]", "overflows f32"]);
    let mean = m.edited("mean.json", |v| {
        v["prep"]["standardize"]["mean"][0] = 1e300.into()
    });
    bad_model(
        &m,
        &mean,
        &["prep.standardize.mean[0]", "sepal_length", "overflows f32"],
    );
    let std = m.edited("std.json", |v| {
        v["prep"]["standardize"]["std"][1] = 1e300.into()
    });
    bad_model(&m, &std, &["prep.standardize.std[1]", "sepal_width", "f32"]);
    // 1e-50 is > 0 in f64 but 0 in f32: standardizing would divide by zero.
    let tiny = m.edited("tiny.json", |v| {
        v["prep"]["standardize"]["std"][1] = 1e-50.into()
    });
    bad_model(&m, &tiny, &["prep.standardize.std[1]", "> 0 in f32"]);
    let prec = m.edited("prec.json", |v| v["precision"] = "f16".into());
    bad_model(&m, &prec, &["precision", "f16"]);

    // In f64 the same weight is a number: predict works, and --init-from in f32 (the default)
    // refuses it naming --precision; in f64 its ‖W‖² overflows, so it cannot be trained.
    let w64 = m.edited("w64.json", |v| {
        v["precision"] = "f64".into();
        v["w1"][1][2] = 1e300.into();
    });
    let iris = data("iris.csv");
    ok_stdout(&run(&["predict", "--model", &w64, "--data", &iris]));
    let out = run(&["--data", &iris, "--init-from", &w64, "-q"]);
    assert_error(
        &out,
        MODEL,
        &[&w64, "w1[1][2]", "overflows f32", "--precision"],
    );
    let out = run(&[
        "--data",
        &iris,
        "--init-from",
        &w64,
        "-q",
        "--precision",
        "f64",
    ]);
    assert_error(&out, MODEL, &[&w64, "‖W1‖² + ‖W2‖²", "overflows f64"]);
}

#[test]
fn epochs_run_that_would_overflow_is_a_model_error() {
    let m = Models::new();
    let iris = data("iris.csv");
    let max = m.edited("max.json", |v| v["epochs_run"] = u64::MAX.into());
    let saved = m.saved();
    let out = run(&[
        "--data",
        &iris,
        "--init-from",
        &max,
        "--epochs",
        "1",
        "-q",
        "--save",
        &saved,
    ]);
    assert_error(&out, MODEL, &[&max, "epochs_run", U64_MAX, "overflow"]);
    assert!(!std::path::Path::new(&saved).exists());
    // Just below the edge the count still adds up exactly.
    let near = m.edited("near.json", |v| v["epochs_run"] = (u64::MAX - 2).into());
    let out = run(&[
        "--data",
        &iris,
        "--init-from",
        &near,
        "--epochs",
        "2",
        "-q",
        "--save",
        &saved,
    ]);
    ok_stdout(&out);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(v["epochs_run"], u64::MAX);
}

#[test]
fn init_from_refuses_the_flags_it_would_ignore() {
    let m = Models::new();
    let good = m.edited("good2.json", |_| {});
    let iris = data("iris.csv");
    let out = run(&[
        "--data",
        &iris,
        "--init-from",
        &good,
        "--label",
        "species",
        "-q",
    ]);
    assert_error(&out, USAGE, &["--init-from", "--label"]);
    // A classifier cannot be gated on R², nor a regression on accuracy: said before training.
    let out = run(&[
        "--data",
        &iris,
        "--init-from",
        &good,
        "--min-r2",
        "0.5",
        "-q",
    ]);
    assert_error(&out, USAGE, &["--min-r2", "--init-from", "classifier"]);
}

#[test]
fn explain_with_a_model_refuses_the_flags_of_a_fresh_one() {
    let m = Models::new();
    let good = m.edited("good3.json", |_| {});
    let iris = data("iris.csv");
    for extra in [
        ["--label", "species"],
        ["--task", "regress"],
        ["--hidden", "8"],
        ["--activation", "tanh"],
        ["--seed", "3"],
    ] {
        let mut args = vec!["explain", "--model", &good, "--data", &iris];
        args.extend(extra);
        assert_error(&run(&args), USAGE, &["--model", extra[0]]);
    }
    let out = run(&["explain", "--model", &good, "--data", &iris, "--no-bias"]);
    assert_error(&out, USAGE, &["--model", "--no-bias"]);
    // Issue 11: λ is the model's too (the one it was trained with), so --lambda is refused.
    let out = run(&[
        "explain", "--model", &good, "--data", &iris, "--lambda", "0.1",
    ]);
    assert_error(&out, USAGE, &["--model", "--lambda"]);
}
