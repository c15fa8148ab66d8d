//! `--threads N`: the split products of src/math/linalg.rs on a local rayon pool.
//! - Every product, and so every trained model, is the same bit for bit for 1, 2 and 3 threads
//!   (a split of C's rows or columns leaves each element's summation untouched).
//! - `for_each_part` runs every part exactly once, passes a part's panic to the caller, and
//!   the products make progress next to threads that spin on every core (bounded by a step
//!   count, never by a timing assertion).
//! - A 2-thread training step allocates nothing in steady state.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use mlp_train::data::matrices::{Data, Targets};
use mlp_train::math::linalg::{for_each_part, matmul, matmul_plus_scaled};
use mlp_train::train::sgd::{self, Silent, TrainConfig};
use mlp_train::{Activation, Cache, Grads, Init, Loss, Mlp, Real, Target};
use ndarray::Array2;
use rand::Rng as _;

mod counting;
use counting::{allocations, serial, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

fn random<T: Real>(rows: usize, cols: usize, seed: u64) -> Array2<T> {
    let mut rng = mlp_train::math::rng::seeded(seed);
    Array2::from_shape_simple_fn((rows, cols), || T::of(rng.random_range(-1.0..1.0)))
}

fn same_bits<T: Real>(a: &Array2<T>, b: &Array2<T>) -> bool {
    a.shape() == b.shape()
        && a.iter()
            .zip(b.iter())
            .all(|(x, y)| x.f64().to_bits() == y.f64().to_bits())
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

/// All four product forms of the model, 1 thread vs a pool of `threads`.
fn products_agree<T: Real>(threads: usize) {
    let pool = pool(threads);
    // (m, n, k): the reference step's five shapes, odd sizes, skinny ones, either split side.
    let shapes = [
        (256, 256, 784),
        (256, 10, 256),
        (10, 256, 256),
        (256, 256, 10),
        (256, 784, 256),
        (97, 131, 203),
        (300, 17, 120),
        (17, 300, 120),
        (1000, 1, 300),
        (33, 33, 33),
    ];
    for (s, &(m, n, k)) in shapes.iter().enumerate() {
        let seed = 100 * s as u64;
        let a = random::<T>(m, k, seed);
        let at = random::<T>(k, m, seed + 1);
        let b = random::<T>(k, n, seed + 2);
        let bt = random::<T>(n, k, seed + 3);
        let w = random::<T>(m, n, seed + 4);
        let lambda = T::of(1e-3);
        let run = |pooled: bool| {
            let mut outs = vec![Array2::<T>::zeros((m, n)); 4];
            let mut go = || {
                matmul(a.view(), b.view(), outs[0].view_mut());
                matmul(a.view(), bt.t(), outs[1].view_mut());
                matmul(at.t(), b.view(), outs[2].view_mut());
                matmul_plus_scaled(at.t(), b.view(), lambda, w.view(), outs[3].view_mut());
            };
            if pooled {
                pool.install(go);
            } else {
                go();
            }
            outs
        };
        let (one, many) = (run(false), run(true));
        for (form, (x, y)) in one.iter().zip(&many).enumerate() {
            assert!(
                same_bits(x, y),
                "{}: {m}×{n}×{k}, form {form}: 1 thread and {threads} differ",
                T::NAME
            );
        }
    }
}

#[test]
fn products_are_bit_identical_for_every_thread_count() {
    let _guard = serial();
    for threads in [2, 3] {
        products_agree::<f32>(threads);
        products_agree::<f64>(threads);
    }
}

/// The SGD update W ← W + α·D, split over a pool, gives the bits of the unsplit one; so does
/// the measured form training uses (W, ‖D‖², finiteness in one pass).
#[test]
fn the_split_update_is_bit_identical() {
    let _guard = serial();
    for threads in [2, 3] {
        for (rows, cols) in [(256, 784), (300, 301), (1, 70_000)] {
            let w = random::<f32>(rows, cols, 1);
            let d = random::<f32>(rows, cols, 2);
            let mut one = w.clone();
            mlp_train::math::linalg::scaled_add(one.view_mut(), -0.1, d.view());
            let mut many = w.clone();
            pool(threads)
                .install(|| mlp_train::math::linalg::scaled_add(many.view_mut(), -0.1, d.view()));
            assert!(same_bits(&one, &many), "{rows}×{cols}, {threads} threads");
            assert!(!same_bits(&one, &w));

            // The update training uses: the same W, and ‖D‖² and the new ‖W‖² as sum_sq_of
            // gives them (the latter is the next step's s), bit for bit.
            use mlp_train::math::linalg::{scaled_add_measured, sum_sq_of};
            let mut measured = w.clone();
            let got = scaled_add_measured(measured.view_mut(), -0.1, d.view());
            let mut measured_many = w.clone();
            let got_many = pool(threads)
                .install(|| scaled_add_measured(measured_many.view_mut(), -0.1, d.view()));
            assert!(same_bits(&one, &measured) && same_bits(&one, &measured_many));
            assert_eq!(got.d_sq.to_bits(), sum_sq_of(d.view()).to_bits());
            assert_eq!(got.w_sq.to_bits(), sum_sq_of(one.view()).to_bits());
            assert_ne!(got.w_sq.to_bits(), sum_sq_of(w.view()).to_bits());
            assert_eq!(got, got_many, "{rows}×{cols}, {threads} threads");
            assert!(got.finite);
        }
    }
}

fn dataset(n: usize, d: usize, q: usize) -> Data<f32> {
    let mut rng = mlp_train::math::rng::seeded(11);
    Data {
        x: Array2::from_shape_simple_fn((n, d), || rng.random_range(-1.0..1.0) as f32),
        y: Targets::Classes((0..n).map(|i| i % q).collect()),
        weights: None,
    }
}

fn config(threads: usize, epochs: usize) -> TrainConfig {
    TrainConfig {
        lambda: 1e-4,
        lr: 0.1,
        momentum: 0.0,
        batch_size: 128,
        epochs,
        seed: 5,
        patience: None,
        target_scale: None,
        threads,
    }
}

#[test]
fn training_gives_the_same_weights_for_1_2_and_3_threads() {
    let _guard = serial();
    // Large enough that every big product is split (m·n·k ≥ linalg::SPLIT_MIN_MACS); with
    // B = 256 the minibatch's gather (256 × 200 values) is split into parts too, and runs
    // beside the update of the step before at 2 and 3 threads.
    let data = dataset(1024, 200, 10);
    for batch_size in [128, 256] {
        let fit = |threads: usize| {
            let mut m =
                Mlp::<f32>::init(200, 128, 10, Activation::Relu, Loss::SoftmaxCe, Init::He, 3);
            let stop = AtomicBool::new(false);
            let cfg = TrainConfig {
                batch_size,
                ..config(threads, 3)
            };
            let out = sgd::train(&mut m, &cfg, &data, Some(&data), &mut Silent, &stop).unwrap();
            (m, out.history.last().unwrap().train.j)
        };
        let (m1, j1) = fit(1);
        for threads in [2, 3] {
            let (m, j) = fit(threads);
            assert!(
                same_bits(&m1.w1, &m.w1) && same_bits(&m1.w2, &m.w2),
                "B {batch_size}, {threads} threads"
            );
            assert_eq!(
                j1.to_bits(),
                j.to_bits(),
                "B {batch_size}, {threads} threads"
            );
        }
    }
}

/// Names of this process's threads (Linux; empty elsewhere).
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
                .map(|n| n.trim().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Records, at the first batch, whether the loop runs inside a rayon pool and which of the
/// pool's named threads exist.
#[derive(Default)]
struct Where {
    seen: bool,
    pool_index: Option<usize>,
    pool_threads: Vec<String>,
}

impl sgd::Observer for Where {
    fn on_batch(&mut self, _: usize, batch: usize, _: usize, _: usize, _: f64) {
        if batch == 1 && !self.seen {
            self.seen = true;
            self.pool_index = rayon::current_thread_index();
            self.pool_threads = thread_names()
                .into_iter()
                .filter(|n| n.starts_with("mlp-train-"))
                .collect();
        }
    }
}

/// `--threads 1` trains on the caller's thread and starts none; N ≥ 2 trains on a thread of
/// its own pool (threads named mlp-train-K).
#[test]
fn one_thread_starts_no_thread_and_n_threads_start_a_pool_of_n() {
    let _guard = serial();
    let data = dataset(512, 50, 10);
    for threads in [1, 2, 3] {
        let mut m = Mlp::<f32>::init(50, 32, 10, Activation::Relu, Loss::SoftmaxCe, Init::He, 3);
        let mut seen = Where::default();
        let stop = AtomicBool::new(false);
        // A pool dropped by an earlier test may still be winding down: its threads can only
        // disappear, never appear, while this one trains.
        let before: std::collections::BTreeSet<String> = thread_names()
            .into_iter()
            .filter(|n| n.starts_with("mlp-train-"))
            .collect();
        sgd::train(&mut m, &config(threads, 1), &data, None, &mut seen, &stop).unwrap();
        assert!(seen.seen);
        let during: std::collections::BTreeSet<String> = seen.pool_threads.into_iter().collect();
        if threads == 1 {
            assert_eq!(seen.pool_index, None, "1 thread: not inside a pool");
            assert!(during.is_subset(&before), "new threads: {during:?}");
        } else {
            assert!(
                seen.pool_index.is_some(),
                "{threads} threads: inside the pool"
            );
            // The loop's own thread is a running pool thread, so it has set its name (a pool
            // thread not yet scheduled may still carry its parent's).
            if std::path::Path::new("/proc/self/task").exists() {
                assert!(
                    during.iter().any(|n| n.starts_with("mlp-train-")),
                    "{during:?}"
                );
            }
        }
    }
}

/// The model files of `--threads 1`, `2` and `3` are byte-identical (as `cmp` compares them):
/// a model file holds what the model is, and the thread count is a setting of the run,
/// reported in `--json` instead.
#[test]
fn saved_models_from_1_2_and_3_threads_are_byte_identical() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    let data = format!("{}/data/digits.csv", env!("CARGO_MANIFEST_DIR"));
    let save = |threads: &str| {
        let path = dir.path().join(format!("m{threads}.json"));
        let out = Command::new(env!("CARGO_BIN_EXE_mlp-train"))
            .args([
                "--data",
                &data,
                "--hidden",
                "256",
                "--batch-size",
                "128",
                "--epochs",
                "2",
            ])
            .args(["--threads", threads, "--quiet", "--json", "--save"])
            .arg(&path)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success());
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        // --threads is capped at the cores (issue 10); --json reports the count used.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let used = threads.parse::<usize>().unwrap().min(cores);
        assert_eq!(summary["threads"], used, "--json reports threads");
        std::fs::read(&path).unwrap()
    };
    let one = save("1");
    assert!(
        !String::from_utf8_lossy(&one).contains("threads"),
        "the model file records no thread count"
    );
    for threads in ["2", "3"] {
        assert!(
            one == save(threads),
            "--threads 1 and {threads}: the model files differ"
        );
    }
}

#[test]
fn every_part_runs_exactly_once() {
    let _guard = serial();
    for threads in 1..=4 {
        let pool = pool(threads);
        for parts in [0, 1, 2, 3, 7, 64] {
            // Element i of part p is set to p + 1 by part p alone.
            let mut v = vec![0usize; parts * 3 + 1];
            let hits: Vec<AtomicUsize> = (0..parts.max(1)).map(|_| AtomicUsize::new(0)).collect();
            pool.install(|| {
                for_each_part(
                    &mut v[..],
                    parts,
                    &|s, k| s.split_at_mut((k * 3).min(s.len())),
                    &|i, s| {
                        hits[i].fetch_add(1, Ordering::Relaxed);
                        s.iter_mut().for_each(|x| *x += i + 1);
                    },
                )
            });
            assert!(
                hits.iter().all(|h| h.load(Ordering::Relaxed) == 1),
                "{parts} parts, {threads} threads"
            );
            let want: Vec<usize> = (0..v.len())
                .map(|j| (j / 3).min(parts.max(1) - 1) + 1)
                .collect();
            assert_eq!(v, want, "{parts} parts, {threads} threads");
        }
    }
}

/// A product inside a part (itself split over the pool) gives the same result.
#[test]
fn a_product_inside_a_part_gives_the_same_bits() {
    let _guard = serial();
    let pool = pool(2);
    let a = random::<f32>(256, 300, 1);
    let b = random::<f32>(300, 64, 2);
    let mut want = Array2::<f32>::zeros((256, 64));
    matmul(a.view(), b.view(), want.view_mut());
    let mut outs: Vec<Array2<f32>> = (0..4).map(|_| Array2::zeros((256, 64))).collect();
    pool.install(|| {
        for_each_part(&mut outs[..], 4, &|s, k| s.split_at_mut(k), &|_, c| {
            matmul(a.view(), b.view(), c[0].view_mut())
        })
    });
    for c in &outs {
        assert!(same_bits(c, &want));
    }
}

#[test]
fn a_panicking_part_reaches_the_caller_and_the_pool_stays_usable() {
    let _guard = serial();
    let pool = pool(2);
    let nothing = |_: (), _: usize| ((), ());
    for bad in 0..4 {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.install(|| {
                for_each_part((), 4, &nothing, &|i, ()| {
                    if i == bad {
                        panic!("part {i}");
                    }
                })
            })
        }));
        assert!(r.is_err(), "the panic of part {bad} is resumed");
        let count = AtomicUsize::new(0);
        pool.install(|| {
            for_each_part((), 4, &nothing, &|_, ()| {
                count.fetch_add(1, Ordering::Relaxed);
            })
        });
        assert_eq!(count.load(Ordering::Relaxed), 4);
    }
}

/// Threads that spin on every core (and one more) while the pool works: every product must
/// finish with the right result. What this guards against is a lost wake-up or a part that
/// nobody runs, which would hang the test (the harness's timeout catches it).
#[test]
fn the_products_make_progress_next_to_busy_neighbours() {
    let _guard = serial();
    let stop = Arc::new(AtomicBool::new(false));
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let spinners: Vec<_> = (0..cores + 1)
        .map(|_| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut x = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                    std::hint::black_box(x);
                }
            })
        })
        .collect();
    let a = random::<f32>(256, 200, 1);
    let b = random::<f32>(200, 128, 2);
    let mut want = Array2::<f32>::zeros((256, 128));
    matmul(a.view(), b.view(), want.view_mut());
    let pool = pool(2);
    let mut c = Array2::<f32>::zeros((256, 128));
    pool.install(|| {
        for step in 0..300 {
            c.fill(f32::NAN);
            matmul(a.view(), b.view(), c.view_mut());
            assert!(same_bits(&c, &want), "step {step}");
        }
    });
    stop.store(true, Ordering::Relaxed);
    for s in spinners {
        s.join().unwrap();
    }
}

#[test]
fn a_two_thread_step_allocates_nothing() {
    let _guard = serial();
    let data = dataset(256, 784, 10);
    let Targets::Classes(y) = &data.y else {
        unreachable!()
    };
    let mut m = Mlp::<f32>::init(784, 256, 10, Activation::Relu, Loss::SoftmaxCe, Init::He, 0);
    let mut cache = Cache::for_model(&m, 256);
    let mut grads = Grads::for_model(&m, 256);
    let pool = pool(2);
    let mut step = || {
        m.forward(data.x.view(), &mut cache).unwrap();
        let obj = m
            .backward(data.x.view(), Target::Classes(y), 1e-4, &cache, &mut grads)
            .unwrap();
        m.sgd_step(&grads, 0.01);
        obj.j
    };
    // The least of three windows, so that an allocation by the harness's own threads
    // cannot count against the step.
    let least = pool.install(|| {
        for _ in 0..3 {
            step();
        }
        (0..3)
            .map(|_| {
                let before = allocations();
                for _ in 0..20 {
                    assert!(step().is_finite());
                }
                allocations() - before
            })
            .min()
            .unwrap()
    });
    assert_eq!(
        least, 0,
        "heap allocations in 20 steady-state 2-thread steps"
    );
}
