//! The five matrix products of one training step, alone, at the reference size of issue 5
//! (B=256, d=784, h=256, q=10, f32), single-threaded and split over a local 2-thread rayon pool, and
//! the whole step (forward + backward + update, without the minibatch gather) the same ways.
//! Prints one JSON object: µs per product (best and median of many), GFLOP/s, and the best
//! achievable GFLOP/s for the step's products (209.4 MFLOP over the sum of the best times).
//!
//! `cargo bench --bench products [-- --threads 1,2 --reps 200]` (used by bench/run.sh).
//!
//! `-- --sustained-only --threads T`: only the sustained loop (after `WARMUP_STEPS` untimed
//! steps, as bench/ceiling.py's), with the same JSON keys; bench/run.sh's step 2 times it
//! right before each training run.

use std::hint::black_box;
use std::time::Instant;

use mlp_train::math::linalg::{matmul, matmul_plus_scaled};
use mlp_train::math::rng::Rng;
use mlp_train::{Activation, Cache, Grads, Init, Loss, Mlp, Target};
use ndarray::Array2;
use rand::Rng as _;

const B: usize = 256;
const D: usize = 784;
const H: usize = 256;
const Q: usize = 10;
/// Steps of the reference training run (3 epochs of 60 000 rows at B = 256).
const SUSTAINED_STEPS: usize = 705;
/// Untimed steps before a `--sustained-only` loop (bench/ceiling.py's `WARMUP_STEPS`).
const WARMUP_STEPS: usize = 20;

/// The operands and outputs of the step's five products.
struct Five {
    x: Array2<f32>,
    w1: Array2<f32>,
    w2: Array2<f32>,
    h: Array2<f32>,
    d_o: Array2<f32>,
    d_z: Array2<f32>,
    z: Array2<f32>,
    o: Array2<f32>,
    d_h: Array2<f32>,
    d_w1: Array2<f32>,
    d_w2: Array2<f32>,
}

impl Five {
    /// Product `p` of the five, in the order of a step.
    fn product(&mut self, p: usize) {
        match p {
            0 => matmul(self.x.view(), self.w1.t(), self.z.view_mut()),
            1 => matmul(self.h.view(), self.w2.t(), self.o.view_mut()),
            2 => matmul_plus_scaled(
                self.d_o.t(),
                self.h.view(),
                1e-4,
                self.w2.view(),
                self.d_w2.view_mut(),
            ),
            3 => matmul(self.d_o.view(), self.w2.view(), self.d_h.view_mut()),
            _ => matmul_plus_scaled(
                self.d_z.t(),
                self.x.view(),
                1e-4,
                self.w1.view(),
                self.d_w1.view_mut(),
            ),
        }
    }

    /// Seconds for `steps` steps of the five products one after the other, timed whole.
    fn sustained(&mut self, steps: usize) -> f64 {
        let t0 = Instant::now();
        for _ in 0..steps {
            for p in 0..5 {
                self.product(p);
            }
        }
        t0.elapsed().as_secs_f64()
    }
}

/// As `train` does: 1 thread starts no pool; N ≥ 2 run inside a local pool of N whose other
/// threads are kept looking for work between jobs (`linalg::awake`, as in training: a
/// sleeping thread takes 10-40 µs to wake on a VM, which the ceiling must not pay when
/// training does not).
fn on_threads<R: Send>(t: usize, run: impl FnOnce() -> R + Send) -> R {
    if t <= 1 {
        run()
    } else {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .unwrap()
            .install(|| mlp_train::math::linalg::awake(run))
    }
}

fn rand(rows: usize, cols: usize, rng: &mut Rng) -> Array2<f32> {
    Array2::from_shape_simple_fn((rows, cols), || rng.random_range(-1.0..1.0) as f32)
}

/// (best, median) seconds of `reps` calls of f, after a few warm-up calls.
fn time(reps: usize, mut f: impl FnMut()) -> (f64, f64) {
    for _ in 0..reps.div_ceil(10) {
        f();
    }
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let t0 = Instant::now();
            f();
            t0.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    (t[0], t[t.len() / 2])
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
            .unwrap_or_else(|| default.to_string())
    };
    let threads: Vec<usize> = arg("--threads", "1,2")
        .split(',')
        .map(|t| t.parse().expect("--threads 1,2"))
        .collect();
    let reps: usize = arg("--reps", "200").parse().expect("--reps N");
    // As the binary reads it (cli::dispatch): bench/run.sh's SIMD=avx2 sets it.
    if let Ok(v) = std::env::var("MLP_TRAIN_SIMD") {
        let simd = v.parse().expect("MLP_TRAIN_SIMD is `auto` or `avx2`");
        mlp_train::math::simd::set(simd);
    }

    let mut rng = mlp_train::math::rng::seeded(7);
    let mut five = Five {
        x: rand(B, D, &mut rng),
        w1: rand(H, D, &mut rng),
        w2: rand(Q, H, &mut rng),
        h: rand(B, H, &mut rng),
        d_o: rand(B, Q, &mut rng),
        d_z: rand(B, H, &mut rng),
        z: Array2::zeros((B, H)),
        o: Array2::zeros((B, Q)),
        d_h: Array2::zeros((B, H)),
        d_w1: Array2::zeros((H, D)),
        d_w2: Array2::zeros((Q, H)),
    };
    if args.iter().any(|a| a == "--sustained-only") {
        let runs: Vec<_> = threads
            .iter()
            .map(|&t| {
                on_threads(t, || {
                    five.sustained(WARMUP_STEPS);
                    let sustained = five.sustained(SUSTAINED_STEPS) / SUSTAINED_STEPS as f64;
                    serde_json::json!({
                        "threads": t,
                        "products_sustained_us": sustained * 1e6,
                        "products_sustained_samples_per_s": B as f64 / sustained,
                    })
                })
            })
            .collect();
        let summary = serde_json::json!({
            "sustained_steps": SUSTAINED_STEPS,
            "warmup_steps": WARMUP_STEPS,
            "kernels": mlp_train::math::linalg::kernel_path(),
            "runs": runs,
        });
        println!("{}", serde_json::to_string_pretty(&summary).unwrap());
        return;
    }
    let y: Vec<usize> = (0..B).map(|i| i % Q).collect();
    let mut model = Mlp::<f32>::init(D, H, Q, Activation::Relu, Loss::SoftmaxCe, Init::He, 0);
    let mut cache = Cache::for_model(&model, B);
    let mut grads = Grads::for_model(&model, B);

    let flops = |m: usize, n: usize, k: usize| 2.0 * (m * n * k) as f64;
    let names = [
        "Z=X·W1ᵀ",
        "O=H·W2ᵀ",
        "dW2=dOᵀ·H+λW2",
        "dH=dO·W2",
        "dW1=dZᵀ·X+λW1",
    ];
    let sizes = [(B, H, D), (B, Q, H), (Q, H, B), (B, H, Q), (H, D, B)];
    let step_flops: f64 = sizes.iter().map(|&(m, n, k)| flops(m, n, k)).sum();

    let mut out = Vec::new();
    for &t in &threads {
        let run = || {
            let mut products = Vec::new();
            let mut best_sum = 0.0;
            let mut median_sum = 0.0;
            for (p, (&name, &(m, n, k))) in names.iter().zip(&sizes).enumerate() {
                let (best, median) = time(reps, || five.product(p));
                best_sum += best;
                median_sum += median;
                products.push(serde_json::json!({
                    "product": name, "m": m, "n": n, "k": k,
                    "best_us": best * 1e6, "median_us": median * 1e6,
                    "best_gflops": flops(m, n, k) / best / 1e9,
                }));
            }
            // Sustained: the five products one after the other for as many steps as the
            // reference training run takes (3 epochs of 60 000 rows: 705 steps), timed whole.
            let sustained = five.sustained(SUSTAINED_STEPS) / SUSTAINED_STEPS as f64;
            let (step_best, step_median) = time(reps, || {
                model.forward(five.x.view(), &mut cache).unwrap();
                let obj = model
                    .backward(five.x.view(), Target::Classes(&y), 1e-4, &cache, &mut grads)
                    .unwrap();
                model.sgd_step(&grads, 1e-3);
                black_box(obj.j);
            });
            serde_json::json!({
                "threads": t,
                "products": products,
                "products_best_sum_us": best_sum * 1e6,
                "products_median_sum_us": median_sum * 1e6,
                "products_best_gflops": step_flops / best_sum / 1e9,
                "products_median_gflops": step_flops / median_sum / 1e9,
                "products_sustained_us": sustained * 1e6,
                "products_sustained_samples_per_s": B as f64 / sustained,
                "step_best_us": step_best * 1e6,
                "step_median_us": step_median * 1e6,
                "step_median_gflops": step_flops / step_median / 1e9,
                "step_median_samples_per_s": B as f64 / step_median,
            })
        };
        out.push(on_threads(t, run));
    }
    // dW1 = dZᵀ·X two ways, call by call in turns, 1 thread: as linalg computes it (a
    // column-major left operand into a row-major dW1), and transposed, dW1ᵀ = Xᵀ·dZ into the
    // column-major view dW1ᵀ (the AVX2 note: faer is slowest on the first).
    let dw1_ways = {
        use faer_ext::IntoFaer;
        let Five { x, d_z, d_w1, .. } = &mut five;
        let mut other = Array2::<f32>::zeros((H, D));
        let (mut as_is, mut transposed) = (Vec::new(), Vec::new());
        let warm = reps.div_ceil(10);
        for i in 0..reps + warm {
            let mut one = |way: usize| {
                let t0 = Instant::now();
                if way == 0 {
                    matmul(d_z.t(), x.view(), d_w1.view_mut());
                } else {
                    let c: faer::MatMut<'_, f32> = other.view_mut().reversed_axes().into_faer();
                    let (a, b): (faer::MatRef<'_, f32>, faer::MatRef<'_, f32>) =
                        (x.t().into_faer(), d_z.view().into_faer());
                    faer::linalg::matmul::matmul(
                        c,
                        faer::Accum::Replace,
                        a,
                        b,
                        1.0,
                        faer::Par::Seq,
                    );
                }
                t0.elapsed().as_secs_f64()
            };
            let (a, b) = if i % 2 == 0 {
                let a = one(0);
                (a, one(1))
            } else {
                let b = one(1);
                (one(0), b)
            };
            if i >= warm {
                as_is.push(a);
                transposed.push(b);
            }
        }
        let stats = |mut t: Vec<f64>| {
            t.sort_by(f64::total_cmp);
            serde_json::json!({"best_us": t[0] * 1e6, "median_us": t[t.len() / 2] * 1e6})
        };
        let same_bits = d_w1
            .iter()
            .zip(&other)
            .all(|(a, b)| a.to_bits() == b.to_bits());
        let max_diff = d_w1
            .iter()
            .zip(&other)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        serde_json::json!({
            "dZt_X_into_dW1": stats(as_is),
            "Xt_dZ_into_dW1t": stats(transposed),
            "same_bits": same_bits,
            "max_abs_diff": max_diff,
        })
    };
    let summary = serde_json::json!({
        "dw1_ways": dw1_ways,
        "shape": {"B": B, "d": D, "h": H, "q": Q, "dtype": "f32"},
        "step_mflop": step_flops / 1e6,
        "flop_per_sample": step_flops / B as f64,
        "reps": reps,
        "sustained_steps": SUSTAINED_STEPS,
        "kernels": mlp_train::math::linalg::kernel_path(),
        "runs": out,
    });
    println!("{}", serde_json::to_string_pretty(&summary).unwrap());
}
