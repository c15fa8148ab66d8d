//! No heap allocation in a training step in steady state, proven with a counting allocator:
//! the step primitives allocate nothing, and a whole training run allocates per epoch, not
//! per minibatch.

use std::sync::atomic::AtomicBool;

use mlp_train::data::matrices::{Data, Targets};
use mlp_train::train::sgd::{self, Silent, TrainConfig};
use mlp_train::{Activation, Cache, Grads, Init, Loss, Mlp, Target};
use ndarray::Array2;
use rand::Rng as _;

mod counting;
use counting::{allocations, serial, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

fn dataset(n: usize, d: usize, q: usize) -> Data<f32> {
    let mut rng = mlp_train::math::rng::seeded(11);
    Data {
        x: Array2::from_shape_simple_fn((n, d), || rng.random_range(-1.0..1.0) as f32),
        y: Targets::Classes((0..n).map(|i| i % q).collect()),
        weights: None,
    }
}

#[test]
fn forward_backward_and_update_allocate_nothing() {
    let _guard = serial();
    let data = dataset(256, 784, 10);
    let mut m = Mlp::<f32>::init(784, 256, 10, Activation::Relu, Loss::SoftmaxCe, Init::He, 0);
    let mut cache = Cache::for_model(&m, 256);
    let mut grads = Grads::for_model(&m, 256);
    let Targets::Classes(y) = &data.y else {
        unreachable!()
    };
    // Warm-up: the first step may size buffers.
    m.forward(data.x.view(), &mut cache).unwrap();
    m.backward(data.x.view(), Target::Classes(y), 1e-4, &cache, &mut grads)
        .unwrap();
    // Windows of 20 steps; the least count is kept. A step that allocated would put ≥ 20 in
    // every window, while an allocation of the test harness's own threads (the process's
    // count is global), seen once under a loaded machine, lands in one window only.
    let mut counts = Vec::new();
    for _ in 0..3 {
        let before = allocations();
        for _ in 0..20 {
            m.forward(data.x.view(), &mut cache).unwrap();
            let obj = m
                .backward(data.x.view(), Target::Classes(y), 1e-4, &cache, &mut grads)
                .unwrap();
            assert!(obj.j.is_finite());
            m.sgd_step(&grads, 0.01);
        }
        counts.push(allocations() - before);
        if counts.last() == Some(&0) {
            break;
        }
    }
    assert_eq!(
        counts.iter().min(),
        Some(&0),
        "heap allocations in windows of 20 steady-state steps: {counts:?}"
    );
}

#[test]
fn a_training_run_allocates_per_epoch_not_per_batch() {
    let _guard = serial();
    // 2048 rows in minibatches of 16: 128 steps per epoch. If a step allocated even once,
    // each extra epoch would cost ≥ 128 allocations.
    let data = dataset(2048, 20, 4);
    let count = |epochs: usize, momentum: f64| {
        let mut m = Mlp::<f32>::init(
            20,
            16,
            4,
            Activation::Tanh,
            Loss::SoftmaxCe,
            Init::Xavier,
            1,
        );
        let cfg = TrainConfig {
            lambda: 1e-3,
            lr: 0.05,
            momentum,
            batch_size: 16,
            epochs,
            seed: 3,
            patience: None,
            target_scale: None,
            threads: 1,
        };
        let stop = AtomicBool::new(false);
        let before = allocations();
        sgd::train(&mut m, &cfg, &data, None, &mut Silent, &stop).unwrap();
        allocations() - before
    };
    for momentum in [0.0, 0.9] {
        // The least of three runs each, so that an allocation by the test harness's own
        // threads cannot count against the loop.
        let least = |epochs| (0..3).map(|_| count(epochs, momentum)).min().unwrap();
        let (one, five) = (least(1), least(5));
        let per_epoch = five.saturating_sub(one) as f64 / 4.0;
        assert!(
            per_epoch < 8.0,
            "μ={momentum}: {per_epoch} allocations per extra epoch (1 epoch: {one}, 5: {five})"
        );
    }
}
