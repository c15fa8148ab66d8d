//! dW1 = dZᵀX + λW1 at the reference size (B 256, 784 → 256, f32, one thread) by
//! math::outer's kernel and by faer, in alternating rounds; prints JSON (best and median µs).
//!   cargo bench --bench outer [-- --reps 400 --rounds 5 --b 256 --d 784 --h 256]

use std::time::Instant;

use mlp_train::math::linalg::matmul_plus_scaled;
use mlp_train::math::rng::Rng;
use ndarray::Array2;
use rand::Rng as _;

fn rand(rows: usize, cols: usize, rng: &mut Rng) -> Array2<f32> {
    Array2::from_shape_simple_fn((rows, cols), || rng.random_range(-1.0..1.0f32))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: usize| -> usize {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map_or(default, |v| v.parse().expect("a number"))
    };
    let (reps, rounds) = (arg("--reps", 400), arg("--rounds", 5));
    let (b, d, h) = (arg("--b", 256), arg("--d", 784), arg("--h", 256));
    if let Ok(v) = std::env::var("MLP_TRAIN_SIMD") {
        mlp_train::math::simd::set(v.parse().expect("MLP_TRAIN_SIMD is `auto` or `avx2`"));
    }
    let mut rng = mlp_train::math::rng::seeded(7);
    let (x, d_z, w1) = (
        rand(b, d, &mut rng),
        rand(b, h, &mut rng),
        rand(h, d, &mut rng),
    );
    let mut d_w1 = Array2::<f32>::zeros((h, d));
    let mut times: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut bits: [Array2<f32>; 2] = [d_w1.clone(), d_w1.clone()];
    for _ in 0..rounds {
        for (way, on) in [true, false].into_iter().enumerate() {
            mlp_train::math::outer::set_enabled(on);
            for _ in 0..reps {
                let t = Instant::now();
                matmul_plus_scaled(d_z.t(), x.view(), 1e-4, w1.view(), d_w1.view_mut());
                times[way].push(t.elapsed().as_secs_f64() * 1e6);
            }
            bits[way].assign(&d_w1);
        }
    }
    mlp_train::math::outer::set_enabled(true);
    let stats = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        serde_json::json!({"best_us": v[0], "median_us": v[v.len() / 2]})
    };
    let [mut ours, mut faer] = times;
    println!(
        "{}",
        serde_json::json!({
            "shape": {"B": b, "d": d, "h": h},
            "kernel": format!("{:?}", mlp_train::math::outer::kernel()),
            "outer": stats(&mut ours),
            "faer": stats(&mut faer),
            "same_bits": bits[0] == bits[1],
        })
    );
}
