//! `explain` against the library's own backward pass and central differences, the DOT graph
//! against the seed's Figure 3.6, and the SVG curves and sparkline against their promises.

use std::collections::{BTreeMap, BTreeSet};

use mlp_train::show::explain::render_text;
use mlp_train::show::graph::{self, GraphShapes};
use mlp_train::show::plot::{curves_svg, sparkline};
use mlp_train::train::explain::{explain, ExplainOptions, ExplainTarget, Value};
use mlp_train::train::sgd::{EpochStats, Metric};
use mlp_train::{Activation, Cache, Grads, Init, Loss, Mlp, Objective, Target};
use ndarray::{Array1, Array2};
use rand::{Rng as _, RngCore as _};

/// Relative error allowed between the analytic gradient and the central difference.
const FD_TOL: f64 = 1e-6;

/// The backward section's lines, in the seed's order.
const BACKWARD_LINES: [&str; 9] = [
    "∂J/∂L = 1",
    "∂J/∂s = 1",
    "∂J/∂o = ∂L/∂o",
    "∂s/∂W1 = λW1",
    "∂s/∂W2 = λW2",
    "∂J/∂W2 = ∂J/∂o hᵀ + λW2",
    "∂J/∂h = W2ᵀ ∂J/∂o",
    "∂J/∂z = ∂J/∂h ⊙ φ'(z)",
    "∂J/∂W1 = ∂J/∂z xᵀ + λW1",
];

struct Case {
    m: Mlp<f64>,
    x: Array1<f64>,
    y: ExplainTarget,
}

fn case(act: Activation, loss: Loss, d: usize, h: usize, q: usize, seed: u64) -> Case {
    let mut rng = mlp_train::math::rng::seeded(seed);
    let m = Mlp::<f64>::init(d, h, q, act, loss, Init::Xavier, rng.next_u64());
    let x = Array1::from_shape_simple_fn(d, || rng.random_range(-2.0..2.0));
    let y = match loss {
        Loss::SoftmaxCe => ExplainTarget::Class(rng.random_range(0..q), Some("setosa".into())),
        Loss::HalfSquared => {
            ExplainTarget::Values((0..q).map(|_| rng.random_range(-1.5..1.5)).collect())
        }
    };
    Case { m, x, y }
}

fn as_vector(v: &Value) -> Vec<f64> {
    match v {
        Value::Vector(v) => v.clone(),
        other => panic!("expected a vector, got {other:?}"),
    }
}

fn as_matrix(v: &Value) -> Array2<f64> {
    match v {
        Value::Matrix(rows) => {
            let c = rows.first().map_or(0, Vec::len);
            Array2::from_shape_vec((rows.len(), c), rows.concat()).unwrap()
        }
        other => panic!("expected a matrix, got {other:?}"),
    }
}

#[test]
fn explain_shows_the_librarys_backward_pass_and_it_agrees_with_finite_differences() {
    let mut cases = 0;
    for act in [Activation::Relu, Activation::Sigmoid, Activation::Tanh] {
        for loss in [Loss::SoftmaxCe, Loss::HalfSquared] {
            for lambda in [0.0, 0.01] {
                let c = case(act, loss, 5, 4, 3, 7 + cases);
                let e = explain(
                    &c.m,
                    c.x.view(),
                    c.y.clone(),
                    lambda,
                    &ExplainOptions::default(),
                )
                .unwrap();

                // The same numbers as a batch of one through forward/backward.
                let x2 = c.x.clone().insert_axis(ndarray::Axis(0));
                let mut cache = Cache::for_model(&c.m, 1);
                let mut grads = Grads::for_model(&c.m, 1);
                c.m.forward(x2.view(), &mut cache).unwrap();
                let classes;
                let values;
                let y = match &c.y {
                    ExplainTarget::Class(k, _) => {
                        classes = [*k];
                        Target::Classes(&classes)
                    }
                    ExplainTarget::Values(v) => {
                        values = Array2::from_shape_vec((1, v.len()), v.clone()).unwrap();
                        Target::Values(values.view())
                    }
                };
                let obj =
                    c.m.backward(x2.view(), y, lambda, &cache, &mut grads)
                        .unwrap();
                assert_eq!(e.objective, obj);
                let (z, h, o) = cache.live();
                let (d_o, d_h, d_z) = grads.live();
                let fwd: BTreeMap<&str, &Value> =
                    e.forward.iter().map(|s| (s.name, &s.value)).collect();
                assert_eq!(as_vector(fwd["z"]), z.row(0).to_vec());
                assert_eq!(as_vector(fwd["h"]), h.row(0).to_vec());
                assert_eq!(as_vector(fwd["o"]), o.row(0).to_vec());
                assert_eq!(*fwd["j"], Value::Scalar(obj.j));
                let names: Vec<&str> = e.backward.iter().map(|s| s.name).collect();
                assert_eq!(
                    names,
                    ["dj_l", "dj_s", "d_o", "ds_w1", "ds_w2", "d_w2", "d_h", "d_z", "d_w1"]
                );
                let bwd: BTreeMap<&str, &Value> =
                    e.backward.iter().map(|s| (s.name, &s.value)).collect();
                assert_eq!(as_vector(bwd["d_o"]), d_o.row(0).to_vec());
                assert_eq!(as_vector(bwd["d_h"]), d_h.row(0).to_vec());
                assert_eq!(as_vector(bwd["d_z"]), d_z.row(0).to_vec());
                assert_eq!(as_matrix(bwd["d_w2"]), grads.d_w2);
                assert_eq!(as_matrix(bwd["d_w1"]), grads.d_w1);
                assert_eq!(as_matrix(bwd["ds_w1"]), &c.m.w1 * lambda);
                assert_eq!(as_matrix(bwd["ds_w2"]), &c.m.w2 * lambda);
                let shapes: Vec<Vec<usize>> = e.backward.iter().map(|s| s.shape.clone()).collect();
                assert_eq!(
                    shapes,
                    [
                        vec![],
                        vec![],
                        vec![3],
                        vec![4, 5],
                        vec![3, 4],
                        vec![3, 4],
                        vec![4],
                        vec![4],
                        vec![4, 5]
                    ]
                );

                // Up to three entries each of ∂J/∂o, ∂J/∂W2, ∂J/∂W1, the largest first.
                let count = |n: &str| e.finite_differences.iter().filter(|f| f.name == n).count();
                assert_eq!(count("d_o"), 3, "{act} {loss:?} λ={lambda}");
                assert_eq!(count("d_w2"), 3, "{act} {loss:?} λ={lambda}");
                assert!(
                    (1..=3).contains(&count("d_w1")),
                    "{act} {loss:?} λ={lambda}"
                );
                for f in &e.finite_differences {
                    assert!(
                        f.rel_error < FD_TOL,
                        "{act} {loss:?} λ={lambda}: {}{:?} analytic {} numeric {} rel {:e}",
                        f.symbol,
                        f.index,
                        f.analytic,
                        f.numeric,
                        f.rel_error
                    );
                    let analytic = match f.name {
                        "d_o" => d_o[[0, f.index[0]]],
                        "d_w2" => grads.d_w2[[f.index[0], f.index[1]]],
                        _ => grads.d_w1[[f.index[0], f.index[1]]],
                    };
                    assert_eq!(f.analytic, analytic);
                }
                let w2_checked: Vec<f64> = e
                    .finite_differences
                    .iter()
                    .filter(|f| f.name == "d_w2")
                    .map(|f| f.analytic.abs())
                    .collect();
                let w2_max = grads.d_w2.iter().fold(0.0f64, |a, v| a.max(v.abs()));
                assert_eq!(w2_checked[0], w2_max);
                assert!(w2_checked.windows(2).all(|w| w[0] >= w[1]));

                // The JSON form exists and carries the same formulas.
                let json = serde_json::to_string(&e).unwrap();
                assert!(json.contains("∂J/∂o hᵀ + λW2"));
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 12);
}

#[test]
fn text_lists_the_backward_formulas_in_the_seeds_order() {
    let c = case(Activation::Tanh, Loss::SoftmaxCe, 4, 4, 3, 1);
    let opts = ExplainOptions::default();
    let e = explain(&c.m, c.x.view(), c.y.clone(), 0.01, &opts).unwrap();
    let text = render_text(&e, &opts);
    let forward = text.find("\nforward\n").expect("a forward section");
    let backward = text.find("\nbackward").expect("a backward section");
    let fd = text
        .find("\nfinite differences")
        .expect("a finite-differences section");
    assert!(forward < backward && backward < fd, "{text}");
    for line in [
        "z = W1 x  (4) = [",
        "h = φ(z), φ = tanh",
        "o = W2 h  (3) = [",
        "p = softmax(o)",
        "J = L + s = ",
    ] {
        let at = text
            .find(line)
            .unwrap_or_else(|| panic!("no {line:?} in\n{text}"));
        assert!(
            forward < at && at < backward,
            "{line:?} is not in the forward section"
        );
    }
    let mut last = backward;
    for line in BACKWARD_LINES {
        let at = text[backward..]
            .find(&format!("  {line}"))
            .map(|i| i + backward)
            .unwrap_or_else(|| panic!("no {line:?} in\n{text}"));
        assert!(at > last, "{line:?} is out of the seed's order in\n{text}");
        assert!(at < fd);
        last = at;
    }
    // The example line of the brief, verbatim up to the value.
    assert!(
        text.contains("∂J/∂W2 = ∂J/∂o hᵀ + λW2  (3×4) = [["),
        "{text}"
    );
    // Every finite difference is printed with its entry.
    assert_eq!(
        text[fd..].matches("analytic").count(),
        e.finite_differences.len()
    );
    assert!(text.contains("y = ") && text.contains("(setosa)"));
}

#[test]
fn large_values_are_summarized_by_shape_norm_and_corner() {
    let c = case(Activation::Relu, Loss::HalfSquared, 10, 16, 2, 3);
    let opts = ExplainOptions::default();
    let e = explain(&c.m, c.x.view(), c.y.clone(), 0.1, &opts).unwrap();
    let text = render_text(&e, &opts);
    // W1 is 16×10 > 6×8, z has 16 > 12 entries.
    assert!(
        text.contains("∂J/∂W1 = ∂J/∂z xᵀ + λW1  (16×10) = ‖·‖_F = "),
        "{text}"
    );
    assert!(
        text.contains("z = W1 x  (16) = [") && text.contains(", …, "),
        "{text}"
    );
    // W2 is 2×16: wider than 8, so summarized too; o has 2 entries, printed in full.
    assert!(text.contains("o = W2 h  (2) = ["));
    assert!(text.lines().all(|l| l.chars().count() < 160), "{text}");
}

#[test]
fn explain_refuses_what_does_not_fit_the_model() {
    let c = case(Activation::Sigmoid, Loss::SoftmaxCe, 3, 2, 2, 5);
    let opts = ExplainOptions::default();
    let bad_class = explain(&c.m, c.x.view(), ExplainTarget::Class(2, None), 0.0, &opts);
    assert!(bad_class.unwrap_err().to_string().contains("class 2"));
    let values = explain(
        &c.m,
        c.x.view(),
        ExplainTarget::Values(vec![0.0, 1.0]),
        0.0,
        &opts,
    );
    assert!(values.is_err());
    let short = Array1::zeros(2);
    let err = explain(&c.m, short.view(), c.y.clone(), 0.0, &opts).unwrap_err();
    assert!(err.to_string().contains("d = 3"), "{err}");
}

/// (nodes id → shape, edges) of the DOT text.
fn parse_dot(dot: &str) -> (BTreeMap<String, String>, Vec<(String, String)>) {
    let mut nodes = BTreeMap::new();
    let mut edges = Vec::new();
    for line in dot.lines().map(str::trim) {
        if let Some((a, b)) = line.trim_end_matches(';').split_once("->") {
            edges.push((a.trim().to_string(), b.trim().to_string()));
        } else if let Some((id, attrs)) = line.split_once(" [") {
            if id == "node" || id == "edge" {
                continue;
            }
            let shape = attrs
                .split_once("shape=")
                .and_then(|(_, rest)| rest.split([',', ']']).next())
                .expect("every node has a shape");
            assert!(
                nodes.insert(id.to_string(), shape.to_string()).is_none(),
                "{id} twice"
            );
        }
    }
    (nodes, edges)
}

#[test]
fn dot_is_the_seeds_figure() {
    let dot = graph::dot(None);
    assert!(dot.starts_with("digraph") && dot.contains("rankdir=LR"));
    let (nodes, edges) = parse_dot(&dot);
    // Ten nodes: data x, y; variables z, h, o, L, s, J; parameters W1, W2.
    let expected_nodes: BTreeMap<String, String> = [
        ("x", "circle"),
        ("y", "circle"),
        ("z", "box"),
        ("h", "box"),
        ("o", "box"),
        ("L", "box"),
        ("s", "box"),
        ("J", "box"),
        ("W1", "plaintext"),
        ("W2", "plaintext"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(nodes, expected_nodes);
    let expected_edges: BTreeSet<(String, String)> = [
        ("x", "z"),
        ("W1", "z"),
        ("z", "h"),
        ("h", "o"),
        ("W2", "o"),
        ("o", "L"),
        ("y", "L"),
        ("W1", "s"),
        ("W2", "s"),
        ("L", "J"),
        ("s", "J"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(edges.len(), 11);
    assert_eq!(
        edges.iter().cloned().collect::<BTreeSet<_>>(),
        expected_edges
    );
    for op in [
        "z = W1 x",
        "h = φ(z)",
        "o = W2 h",
        "L = ℓ(o, y)",
        "s = λ/2 (‖W1‖² + ‖W2‖²)",
        "J = L + s",
    ] {
        assert!(dot.contains(op), "no {op:?} in\n{dot}");
    }
    assert!(!dot.contains('×'), "no shapes without GraphShapes");
}

#[test]
fn dot_carries_the_shapes_when_given() {
    let dot = graph::dot(Some(GraphShapes {
        d: 5,
        h: 16,
        q: 3,
        batch: Some(32),
        bias: true,
        activation: Activation::Relu,
        loss: Loss::SoftmaxCe,
    }));
    let (nodes, edges) = parse_dot(&dot);
    assert_eq!((nodes.len(), edges.len()), (10, 11));
    for s in [
        "W1 (16×5)",
        "W2 (3×16)",
        "z = W1 x (16)",
        "h = φ(z) (16)",
        "o = W2 h (3)",
        "x\\n(5)",
        "relu",
        "softmax_ce",
        "B = 32",
        "4 features + 1",
    ] {
        assert!(dot.contains(s), "no {s:?} in\n{dot}");
    }
}

#[test]
fn render_svg_without_graphviz_says_how_to_install_it() {
    let err = graph::render_svg_with("mlp-train-test-no-such-dot-program", &graph::dot(None))
        .unwrap_err();
    assert!(err.contains("apt-get install graphviz"), "{err}");
    assert!(err.contains("brew install graphviz"), "{err}");
    // Where Graphviz is installed, the real thing must work; elsewhere this part is moot.
    match graph::render_svg(&graph::dot(None)) {
        Ok(svg) => {
            assert!(svg.contains("<svg"), "{svg}");
            check_xml(&svg);
        }
        Err(e) => assert!(e.contains("apt-get install graphviz"), "{e}"),
    }
}

fn stats(epoch: usize, j: f64, acc: f64, val: bool, rmse: bool) -> EpochStats {
    let metric = |v: f64| {
        if rmse {
            Metric::Rmse(v)
        } else {
            Metric::Accuracy(v)
        }
    };
    let obj = |l: f64| Objective {
        l,
        s: 0.05,
        j: l + 0.05,
    };
    EpochStats {
        epoch,
        lr: 0.1,
        train: obj(j - 0.05),
        train_metric: metric(acc),
        val: val.then(|| (obj(j), metric(acc * 0.9))),
        grad_norm_w1: 1.0,
        grad_norm_w2: 1.0,
        seconds: epoch as f64,
    }
}

/// A tiny XML check: tags balance and nest, the root is <svg>. Returns the texts of <text>.
fn check_xml(svg: &str) -> Vec<String> {
    let mut stack: Vec<String> = Vec::new();
    let mut texts = Vec::new();
    let mut rest = svg;
    let mut roots = 0;
    while let Some(open) = rest.find('<') {
        let content = &rest[..open];
        if stack.last().map(String::as_str) == Some("text") {
            texts.push(content.trim().to_string());
        }
        let close = rest[open..].find('>').expect("an unclosed tag") + open;
        let tag = &rest[open + 1..close];
        rest = &rest[close + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '/')
            .collect();
        if let Some(closing) = tag.strip_prefix('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(closing.trim()),
                "mismatched </{closing}>"
            );
        } else if !tag.ends_with('/') {
            if stack.is_empty() {
                roots += 1;
                assert_eq!(name, "svg");
            }
            stack.push(name);
        } else if stack.is_empty() {
            panic!("a self-closing <{name}/> outside the root");
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    assert_eq!(roots, 1);
    texts
}

/// Polylines (or paths) whose point list has at least `min` points.
fn curves_with_points(svg: &str, min: usize) -> usize {
    svg.split("points=\"")
        .skip(1)
        .filter(|s| {
            let pts = &s[..s.find('"').unwrap()];
            pts.split_whitespace().filter(|p| p.contains(',')).count() >= min
        })
        .count()
}

#[test]
fn curves_svg_is_well_formed_with_its_legend_and_curves() {
    let history: Vec<EpochStats> = (1..=20)
        .map(|e| stats(e, 2.0 / e as f64, 1.0 - 0.5 / e as f64, true, false))
        .collect();
    let svg = curves_svg(&history, "iris: relu, λ = 0.01 & <friends>").unwrap();
    let texts = check_xml(&svg);
    for label in [
        "J (train)",
        "L (train)",
        "s = λ/2 (‖W1‖² + ‖W2‖²)",
        "J (val)",
        "L (val)",
        "train accuracy",
        "val accuracy",
        "epoch",
        // L falls from 2 to 0.1, over a decade: a log axis, and it says so.
        "objective (log scale)",
        "accuracy",
        "iris: relu, λ = 0.01 &amp; &lt;friends&gt;",
    ] {
        assert!(
            texts.iter().any(|t| t == label),
            "no text {label:?} in {texts:?}"
        );
    }
    // Solid curves for J, L, s and train accuracy, each through all 20 epochs.
    assert!(curves_with_points(&svg, 20) >= 4, "{svg}");
}

#[test]
fn curves_svg_survives_one_epoch_nan_and_regression() {
    let one = [stats(1, 1.0, 0.5, false, false)];
    let svg = curves_svg(&one, "one epoch").unwrap();
    let texts = check_xml(&svg);
    assert!(texts.iter().any(|t| t == "train accuracy"));
    assert!(!texts.iter().any(|t| t == "val accuracy"));
    assert!(svg.contains("<circle"), "a lone epoch is drawn as a point");

    let mut history: Vec<EpochStats> = (1..=6)
        .map(|e| stats(e, 1.0 / e as f64, 0.3, true, true))
        .collect();
    history[2].train.j = f64::NAN;
    history[3].train.l = f64::INFINITY;
    history[4].val = None;
    let svg = curves_svg(&history, "diverging").unwrap();
    let texts = check_xml(&svg);
    for label in ["train RMSE", "val RMSE", "RMSE"] {
        assert!(
            texts.iter().any(|t| t == label),
            "no text {label:?} in {texts:?}"
        );
    }
    assert!(
        !svg.contains("NaN") && !svg.contains("inf"),
        "non-finite coordinates leaked"
    );

    let all_nan = [EpochStats {
        train: Objective {
            l: f64::NAN,
            s: f64::NAN,
            j: f64::NAN,
        },
        ..stats(1, 1.0, f64::NAN, false, false)
    }];
    check_xml(&curves_svg(&all_nan, "nothing finite").unwrap());
    assert!(curves_svg(&[], "empty").is_err());
}

fn height(c: char) -> usize {
    "▁▂▃▄▅▆▇█"
        .chars()
        .position(|g| g == c)
        .unwrap_or_else(|| panic!("not a bar: {c:?}"))
}

#[test]
fn sparkline_of_increasing_values_rises() {
    let up: Vec<f64> = (0..500).map(|i| (i as f64).sqrt()).collect();
    let line = sparkline(&up);
    let heights: Vec<usize> = line.chars().map(height).collect();
    assert_eq!(heights.len(), 60);
    assert!(heights.windows(2).all(|w| w[0] <= w[1]), "{line}");
    assert_eq!((heights[0], heights[59]), (0, 7), "{line}");

    let short = sparkline(&[3.0, 1.0, 2.0]);
    assert_eq!(short, "█▁▅");
    assert_eq!(sparkline(&[1.0, f64::NAN, 2.0]), "▁ █");
    assert_eq!(sparkline(&[]), "");
    assert_eq!(sparkline(&[4.0, 4.0]).chars().count(), 2);
}
