//! The model loader takes arbitrary bytes without panicking (issue 4): property tests of
//! `ModelFile::from_bytes` on random bytes and on valid model JSON mutated byte-wise and
//! field-wise (numbers replaced by 1e308, 99999999999, u64::MAX…). Whatever it accepts must
//! also be usable: the weights become a model that runs a forward pass.

use mlp_train::data::modelfile::ModelFile;
use mlp_train::data::prep::{Prep, Standardizer, Task};
use mlp_train::math::activation::Activation;
use mlp_train::math::loss::Loss;
use mlp_train::math::model::{Cache, Init, Mlp};
use proptest::prelude::*;

/// A valid saved model: a small classifier, or a regressor with standardized targets.
fn valid_model(classify: bool) -> String {
    let features: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    let prep = Prep {
        task: if classify {
            Task::Classify
        } else {
            Task::Regress
        },
        features: features.clone(),
        labels: if classify {
            vec!["y".into()]
        } else {
            vec!["y1".into(), "y2".into()]
        },
        classes: classify.then(|| vec!["1".into(), "2".into(), "10".into()]),
        standardize: Some(Standardizer {
            mean: vec![0.5, -1.0, 2.0],
            std: vec![1.0, 0.25, 3.0],
        }),
        target_standardize: (!classify).then(|| Standardizer {
            mean: vec![10.0, -3.0],
            std: vec![2.0, 0.5],
        }),
        bias: true,
        encoding: None,
    };
    let (loss, q) = if classify {
        (Loss::SoftmaxCe, 3)
    } else {
        (Loss::HalfSquared, 2)
    };
    let m: Mlp<f64> = Mlp::init(4, 5, q, Activation::Tanh, loss, Init::Xavier, 7);
    let hp = serde_json::json!({"lambda": 0.01, "lr": 0.1, "hidden": 5});
    let metrics = serde_json::json!({"train_loss": 0.5});
    ModelFile::new(&m, &prep, hp, metrics, 3, false).to_json()
}

/// What a successful load promises: a model that runs, with matching shapes.
fn check_accepted(bytes: &[u8]) {
    if let Ok(mf) = ModelFile::from_bytes(bytes) {
        let model: Mlp<f64> = mf.mlp();
        let (d, h, q) = model.dims();
        assert_eq!(
            (d, h, q),
            (
                mf.architecture.inputs,
                mf.architecture.hidden,
                mf.architecture.outputs
            )
        );
        assert!(model.is_finite());
        let x = ndarray::Array2::<f64>::zeros((2, d));
        let mut cache = Cache::for_model(&model, 2);
        model
            .forward(x.view(), &mut cache)
            .expect("forward on a loaded model");
        // And it saves back to something that loads.
        ModelFile::from_bytes(mf.to_json().as_bytes()).expect("a loaded model re-loads");
    }
}

/// Values that break naive loaders.
const INTERESTING: &[&str] = &[
    "1e308",
    "-1e308",
    "1e999",
    "-1e999",
    "99999999999",
    "18446744073709551615",
    "18446744073709551616",
    "4294967296",
    "9007199254740993",
    "0",
    "-1",
    "-0",
    "0.5",
    "1e-320",
    "NaN",
    "Infinity",
    "null",
    "true",
    "\"\"",
    "\"x\"",
    "\"f32\"",
    "\"relu\"",
    "\"regress\"",
    "[]",
    "[[]]",
    "[0]",
    "{}",
];

/// One byte-level edit of a text.
#[derive(Clone, Debug)]
enum ByteEdit {
    Flip {
        at: usize,
        bit: u8,
    },
    Insert {
        at: usize,
        byte: u8,
    },
    Delete {
        at: usize,
        len: usize,
    },
    Truncate {
        at: usize,
    },
    /// Replace the k-th number of the text by an interesting value.
    Number {
        k: usize,
        value: usize,
    },
    /// Copy a stretch of the text elsewhere.
    Splice {
        from: usize,
        len: usize,
        to: usize,
    },
}

fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    let at = any::<usize>();
    prop_oneof![
        (at, 0u8..8).prop_map(|(at, bit)| ByteEdit::Flip { at, bit }),
        (
            at,
            prop_oneof![
                Just(b'"'),
                Just(b','),
                Just(b'['),
                Just(b']'),
                Just(b'{'),
                Just(b'}'),
                Just(b':'),
                Just(b'-'),
                Just(b'9'),
                Just(b'e'),
                Just(0xffu8),
                any::<u8>()
            ]
        )
            .prop_map(|(at, byte)| ByteEdit::Insert { at, byte }),
        (at, 1usize..40).prop_map(|(at, len)| ByteEdit::Delete { at, len }),
        at.prop_map(|at| ByteEdit::Truncate { at }),
        (any::<usize>(), 0..INTERESTING.len()).prop_map(|(k, value)| ByteEdit::Number { k, value }),
        (at, 1usize..200, at).prop_map(|(from, len, to)| ByteEdit::Splice { from, len, to }),
    ]
}

/// Byte offsets and lengths of the numbers in a JSON text.
fn numbers(text: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        if c == b'-' || c.is_ascii_digit() {
            let start = i;
            i += 1;
            while i < text.len()
                && matches!(text[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
            {
                i += 1;
            }
            out.push((start, i - start));
        } else {
            i += 1;
        }
    }
    out
}

fn apply(mut b: Vec<u8>, e: &ByteEdit) -> Vec<u8> {
    let n = b.len().max(1);
    match *e {
        ByteEdit::Flip { at, bit } => {
            if !b.is_empty() {
                let i = at % b.len();
                b[i] ^= 1 << bit;
            }
        }
        ByteEdit::Insert { at, byte } => b.insert(at % (b.len() + 1), byte),
        ByteEdit::Delete { at, len } => {
            let i = at % n;
            let j = (i + len).min(b.len());
            if i < j {
                b.drain(i..j);
            }
        }
        ByteEdit::Truncate { at } => b.truncate(at % n),
        ByteEdit::Number { k, value } => {
            let nums = numbers(&b);
            if !nums.is_empty() {
                let (start, len) = nums[k % nums.len()];
                b.splice(start..start + len, INTERESTING[value].bytes());
            }
        }
        ByteEdit::Splice { from, len, to } => {
            let i = from % n;
            let j = (i + len).min(b.len());
            if i < j {
                let piece: Vec<u8> = b[i..j].to_vec();
                let t = to % (b.len() + 1);
                b.splice(t..t, piece);
            }
        }
    }
    b
}

/// One field-level edit of the model's JSON tree.
#[derive(Clone, Debug)]
enum FieldEdit {
    /// Set the k-th node (in a depth-first walk) to an interesting value.
    Set { k: usize, value: usize },
    /// Remove the k-th node from its parent.
    Remove { k: usize },
    /// Append a copy of the k-th array's last element.
    Grow { k: usize },
}

fn field_edit() -> impl Strategy<Value = FieldEdit> {
    prop_oneof![
        (any::<usize>(), 0..INTERESTING.len()).prop_map(|(k, value)| FieldEdit::Set { k, value }),
        any::<usize>().prop_map(|k| FieldEdit::Remove { k }),
        any::<usize>().prop_map(|k| FieldEdit::Grow { k }),
    ]
}

/// JSON pointers of every node below the root.
fn pointers(v: &serde_json::Value, here: String, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (key, child) in m {
                let p = format!("{here}/{}", key.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(child, p, out);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                let p = format!("{here}/{i}");
                out.push(p.clone());
                pointers(child, p, out);
            }
        }
        _ => {}
    }
}

fn apply_field(v: &mut serde_json::Value, e: &FieldEdit) {
    let mut all = Vec::new();
    pointers(v, String::new(), &mut all);
    if all.is_empty() {
        return;
    }
    match *e {
        FieldEdit::Set { k, value } => {
            let p = &all[k % all.len()];
            // NaN and Infinity are not JSON: put them in as text later; here a number.
            let new: serde_json::Value = serde_json::from_str(INTERESTING[value])
                .unwrap_or_else(|_| serde_json::json!(1e308));
            if let Some(node) = v.pointer_mut(p) {
                *node = new;
            }
        }
        FieldEdit::Remove { k } => {
            let p = &all[k % all.len()];
            let (parent, last) = p.rsplit_once('/').unwrap();
            match v.pointer_mut(parent) {
                Some(serde_json::Value::Object(m)) => {
                    m.remove(&last.replace("~1", "/").replace("~0", "~"));
                }
                Some(serde_json::Value::Array(a)) => {
                    if let Ok(i) = last.parse::<usize>() {
                        if i < a.len() {
                            a.remove(i);
                        }
                    }
                }
                _ => {}
            }
        }
        FieldEdit::Grow { k } => {
            let arrays: Vec<&String> = all
                .iter()
                .filter(|p| v.pointer(p).is_some_and(|n| n.is_array()))
                .collect();
            if let Some(p) = arrays.get(k % arrays.len().max(1)).map(|p| p.to_string()) {
                if let Some(serde_json::Value::Array(a)) = v.pointer_mut(&p) {
                    if let Some(last) = a.last().cloned() {
                        a.push(last);
                    }
                }
            }
        }
    }
}

#[test]
fn the_valid_models_load() {
    for classify in [true, false] {
        let text = valid_model(classify);
        ModelFile::from_bytes(text.as_bytes()).unwrap();
        check_accepted(text.as_bytes());
    }
}

#[test]
fn absurd_dimensions_are_refused_without_allocating() {
    let text = valid_model(true);
    for (field, value) in [
        ("hidden", "99999999999"),
        ("inputs", "18446744073709551615"),
        ("outputs", "4294967296"),
        ("hidden", "1e308"),
        ("hidden", "0"),
    ] {
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["architecture"][field] = serde_json::from_str(value).unwrap();
        let e = ModelFile::from_bytes(v.to_string().as_bytes()).unwrap_err();
        assert!(!e.is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        check_accepted(&bytes);
    }

    #[test]
    fn json_shaped_bytes_never_panic(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("{".to_string()), Just("}".to_string()), Just("[".to_string()),
                Just("]".to_string()), Just(",".to_string()), Just(":".to_string()),
                Just("\"format\"".to_string()), Just("\"mlp-train model\"".to_string()),
                Just("\"format_version\"".to_string()), Just("1".to_string()),
                Just("\"w1\"".to_string()), Just("\"architecture\"".to_string()),
                (0..INTERESTING.len()).prop_map(|i| INTERESTING[i].to_string()),
            ],
            0..60,
        )
    ) {
        check_accepted(parts.concat().as_bytes());
    }

    #[test]
    fn byte_mutations_of_a_valid_model_never_panic(
        classify in any::<bool>(),
        edits in proptest::collection::vec(byte_edit(), 1..6),
    ) {
        let mut b = valid_model(classify).into_bytes();
        for e in &edits {
            b = apply(b, e);
        }
        check_accepted(&b);
    }

    #[test]
    fn field_mutations_of_a_valid_model_never_panic(
        classify in any::<bool>(),
        edits in proptest::collection::vec(field_edit(), 1..4),
        nan in any::<bool>(),
    ) {
        let mut v: serde_json::Value = serde_json::from_str(&valid_model(classify)).unwrap();
        for e in &edits {
            apply_field(&mut v, e);
        }
        let mut text = serde_json::to_string_pretty(&v).unwrap();
        if nan {
            // The non-JSON spellings of non-finite numbers, in place of a first weight.
            text = text.replacen("1e308", "NaN", 1);
        }
        check_accepted(text.as_bytes());
    }
}
