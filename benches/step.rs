//! One SGD step (forward, backward, update) over a small grid of sizes, f32 and f64.
//! `cargo bench --bench step` (about a minute); the reference size of issue 5 is d784 h256 q10 B256.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mlp_train::{Activation, Cache, Grads, Init, Loss, Mlp, Real, Target};
use ndarray::Array2;
use rand::Rng as _;

/// (d, h, q, B)
const GRID: [(usize, usize, usize, usize); 4] = [
    (5, 32, 3, 32),   // iris-sized
    (65, 64, 10, 32), // digits-sized
    (784, 64, 10, 64),
    (784, 256, 10, 256), // the reference workload
];

fn step<T: Real>(c: &mut Criterion, name: &str) {
    let mut group = c.benchmark_group(format!("sgd_step_{name}"));
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    for (d, h, q, b) in GRID {
        let mut rng = mlp_train::math::rng::seeded(1);
        let x = Array2::from_shape_simple_fn((b, d), || T::of(rng.random_range(-1.0..1.0)));
        let y: Vec<usize> = (0..b).map(|i| i % q).collect();
        let mut m = Mlp::<T>::init(d, h, q, Activation::Relu, Loss::SoftmaxCe, Init::He, 0);
        let mut cache = Cache::for_model(&m, b);
        let mut grads = Grads::for_model(&m, b);
        let (lambda, lr) = (T::of(1e-4), T::of(0.01));
        group.throughput(Throughput::Elements(b as u64));
        group.bench_function(
            BenchmarkId::from_parameter(format!("d{d}_h{h}_q{q}_B{b}")),
            |bench| {
                bench.iter(|| {
                    m.forward(x.view(), &mut cache).unwrap();
                    let obj = m
                        .backward(x.view(), Target::Classes(&y), lambda, &cache, &mut grads)
                        .unwrap();
                    m.sgd_step(&grads, lr);
                    black_box(obj.j)
                })
            },
        );
    }
    group.finish();
}

fn steps(c: &mut Criterion) {
    step::<f32>(c, "f32");
    step::<f64>(c, "f64");
}

criterion_group!(benches, steps);
criterion_main!(benches);
