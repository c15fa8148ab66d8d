//! Fuzzes the model loader: `ModelFile::from_bytes` on mutations of real saved models
//! (trained shapes from data/, written as `--save` writes them). What it accepts must be
//! usable: the weights become a model in f32 and f64 that runs forward on the data's shape,
//! and the file saves and re-loads to the same value.
//!
//! cargo run --release --bin fuzz_model -- --seconds 180

use mlp_train::data::modelfile::ModelFile;
use mlp_train::data::prep::{Prep, Task};
use mlp_train::data::{self, LabelKind, LabelSpec, LoadOptions, Source};
use mlp_train::math::model::{Cache, Init, Mlp};
use mlp_train::{Activation, Loss};
use mlp_train_fuzz::{data_dir, finish, fuzz, Options};

const DICT: &[&[u8]] = &[
    b"1e308",
    b"-1e308",
    b"1e999",
    b"99999999999",
    b"18446744073709551615",
    b"18446744073709551616",
    b"4294967296",
    b"-1",
    b"0",
    b"-0",
    b"1e-320",
    b"null",
    b"true",
    b"[]",
    b"{}",
    b"[[",
    b"]]",
    b"\"",
    b"\"\"",
    b",",
    b":",
    b"NaN",
    b"Infinity",
    b"\\u0000",
    b"\\ud800",
    b"\"format_version\": 2",
    b"\"hidden\": 0",
    b"\"f32\"",
    b"\"regress\"",
    b"\"classify\"",
    b"\"softmax_ce\"",
    b"\"half_squared\"",
    b"\"relu\"",
    b"\xEF\xBB\xBF",
    b"\xff",
    b"\n",
    b" ",
];

fn use_model<T: mlp_train::Real>(mf: &ModelFile) {
    let m: Mlp<T> = mf.mlp();
    let (d, h, q) = m.dims();
    assert_eq!(
        (d, h, q),
        (
            mf.architecture.inputs,
            mf.architecture.hidden,
            mf.architecture.outputs
        )
    );
    assert_eq!(mf.prep.inputs(), d, "prep and weights agree on d");
    assert_eq!(mf.prep.outputs(), q, "prep and weights agree on q");
    let x = ndarray::Array2::<T>::zeros((3, mf.prep.features.len()));
    let x = mf.prep.transform_x(x);
    let mut cache = Cache::for_model(&m, 3);
    m.forward(x.view(), &mut cache)
        .expect("a loaded model runs forward");
}

fn target(input: &[u8]) -> Result<String, String> {
    let mf = ModelFile::from_bytes(input)?;
    use_model::<f32>(&mf);
    use_model::<f64>(&mf);
    let again = ModelFile::from_bytes(mf.to_json().as_bytes()).expect("a loaded model re-loads");
    assert_eq!(again, mf, "save → load round-trips");
    Ok(format!("{:?}", mf.prep.task))
}

/// A model of the shapes a real run on `file` gives, as `--save` writes it.
fn saved_model(file: &str, task: Task, hidden: usize, bias: bool) -> Option<Vec<u8>> {
    let kind = if task == Task::Classify {
        LabelKind::Classes
    } else {
        LabelKind::Targets
    };
    let opts = LoadOptions::new(vec![LabelSpec::Last], kind);
    let frame = data::load::<f64>(&Source::Path(data_dir().join(file)), &opts).ok()?;
    let prep = Prep::fit(&frame, task, true, true, bias).ok()?;
    let loss = if task == Task::Classify {
        Loss::SoftmaxCe
    } else {
        Loss::HalfSquared
    };
    let m: Mlp<f64> = Mlp::init(
        prep.inputs(),
        hidden,
        prep.outputs(),
        Activation::Relu,
        loss,
        Init::He,
        1,
    );
    let hp = serde_json::json!({"hidden": hidden, "lambda": 0.0001, "lr": 0.1, "seed": 1});
    let metrics = serde_json::json!({"train_loss": 0.25, "train_accuracy": 0.9});
    Some(
        ModelFile::new(&m, &prep, hp, metrics, 3, false)
            .to_json()
            .into_bytes(),
    )
}

fn main() {
    let opts = Options::from_args();
    let mut seeds: Vec<Vec<u8>> = [
        ("iris.csv", Task::Classify, 4, true),
        ("xor.csv", Task::Classify, 3, false),
        ("regression.csv", Task::Regress, 2, true),
        ("spirals.csv", Task::Classify, 8, true),
    ]
    .into_iter()
    .filter_map(|(f, t, h, b)| saved_model(f, t, h, b))
    .collect();
    // Compact JSON too, so that mutations see numbers without the pretty layout.
    let compact: Vec<Vec<u8>> = seeds
        .iter()
        .filter_map(|s| serde_json::from_slice::<serde_json::Value>(s).ok())
        .map(|v| v.to_string().into_bytes())
        .collect();
    seeds.extend(compact);
    if seeds.is_empty() {
        eprintln!("fuzz_model: no seed model (is data/ there?)");
        std::process::exit(2);
    }
    let stats = fuzz("fuzz_model", &opts, seeds, DICT, &target);
    std::process::exit(finish("fuzz_model", &opts, &stats));
}
