//! The backward pass proven three more ways: central differences on random shapes for every
//! activation × loss × λ, one SGD step worked by hand, and the ln q loss of an untrained net.

use mlp_train::math::rng::Rng;
use mlp_train::train::gradcheck::{self, Options};
use mlp_train::{Activation, Cache, Error, Grads, Init, Loss, Mlp, Target};
use ndarray::{array, Array2};
use rand::{Rng as _, RngCore as _};

fn random_matrix(rng: &mut Rng, rows: usize, cols: usize, scale: f64) -> Array2<f64> {
    Array2::from_shape_simple_fn((rows, cols), || rng.random_range(-scale..scale))
}

#[test]
fn finite_differences_agree_for_every_activation_loss_and_lambda() {
    let mut rng = mlp_train::math::rng::seeded(42);
    let shapes = [(1, 1, 1, 2), (5, 3, 4, 3), (8, 7, 5, 4), (16, 10, 12, 6)];
    let mut cases = 0;
    for &(b, d, h, q) in &shapes {
        for act in Activation::ALL {
            for loss in [Loss::SoftmaxCe, Loss::HalfSquared] {
                for lambda in [0.0, 0.1] {
                    let seed = rng.next_u64();
                    let m = Mlp::<f64>::init(d, h, q, act, loss, Init::Xavier, seed);
                    let x = random_matrix(&mut rng, b, d, 2.0);
                    let classes: Vec<usize> = (0..b).map(|_| rng.random_range(0..q)).collect();
                    let values = random_matrix(&mut rng, b, q, 1.5);
                    let y = match loss {
                        Loss::SoftmaxCe => Target::Classes(&classes),
                        Loss::HalfSquared => Target::Values(values.view()),
                    };
                    let opts = Options {
                        lambda,
                        ..Options::default()
                    };
                    let report = gradcheck::check(&m, x.view(), y, &opts).unwrap();
                    assert_eq!(report.len(), 5);
                    for r in &report {
                        assert!(r.checked > 0 || r.skipped_at_kink > 0, "{r:?}");
                        assert!(
                            r.max_rel_error < 1e-6,
                            "{act} {loss:?} λ={lambda} shape {:?}: {} max relative error {:e} at {:?} (analytic {}, numeric {})",
                            (b, d, h, q), r.name, r.max_rel_error, r.worst, r.analytic, r.numeric
                        );
                    }
                    gradcheck::verdict(&report, 1e-6).unwrap();
                    cases += 1;
                }
            }
        }
    }
    assert_eq!(cases, 4 * 4 * 2 * 2);
}

#[test]
fn one_sgd_step_worked_by_hand() {
    // d = 2, h = 2, q = 2, ReLU, softmax-ce, λ = 0.1, η = 0.5, one sample x = (1, 2), y = 0.
    //   W1 = [[0.5, −0.25], [0.25, 0.5]]      W2 = [[1, 0.4], [−1, 0.8]]
    //   z = W1 x = (0.5 − 0.5, 0.25 + 1) = (0, 1.25)        (z₁ sits on the kink: φ'(0) = 0)
    //   h = relu(z) = (0, 1.25)
    //   o = W2 h = (0.4·1.25, 0.8·1.25) = (0.5, 1.0)
    //   p = softmax(o) = (1/(1+e^0.5), e^0.5/(1+e^0.5)) = (0.37754066879815, 0.62245933120185)
    //   L = −log p₀ = log(1 + e^0.5) = 0.97407698418011
    //   s = 0.1/2 · (0.25+0.0625+0.0625+0.25 + 1+0.16+1+0.64) = 0.05 · 3.425 = 0.17125
    //   J = L + s = 1.14532698418011
    //   ∂J/∂o = p − onehot(0) = (−g, g), g = 0.62245933120185
    //   ∂J/∂W2 = ∂J/∂o hᵀ + λW2 = [[0 + 0.1, −1.25g + 0.04], [0 − 0.1, 1.25g + 0.08]]
    //          = [[0.1, −0.73807416400232], [−0.1, 0.85807416400232]]
    //   ∂J/∂h = W2ᵀ ∂J/∂o = (1·(−g) + (−1)·g, 0.4·(−g) + 0.8·g) = (−2g, 0.4g)
    //          = (−1.24491866240371, 0.24898373248074)
    //   ∂J/∂z = ∂J/∂h ⊙ φ'(z) = (−2g·0, 0.4g·1) = (0, 0.24898373248074)
    //   ∂J/∂W1 = ∂J/∂z xᵀ + λW1 = [[0 + 0.05, 0 − 0.025], [0.4g + 0.025, 0.8g + 0.05]]
    //          = [[0.05, −0.025], [0.27398373248074, 0.54796746496148]]
    //   W1 − η ∂J/∂W1 = [[0.475, −0.2375], [0.11300813375963, 0.22601626751926]]
    //   W2 − η ∂J/∂W2 = [[0.95, 0.76903708200116], [−0.95, 0.37096291799884]]
    let mut m = Mlp {
        w1: array![[0.5, -0.25], [0.25, 0.5]],
        w2: array![[1.0, 0.4], [-1.0, 0.8]],
        activation: Activation::Relu,
        loss: Loss::SoftmaxCe,
    };
    let x = array![[1.0, 2.0]];
    let y = [0usize];
    let mut cache = Cache::for_model(&m, 1);
    let mut grads = Grads::for_model(&m, 1);
    m.forward(x.view(), &mut cache).unwrap();
    let obj = m
        .backward(x.view(), Target::Classes(&y), 0.1, &cache, &mut grads)
        .unwrap();
    let near = |got: f64, want: f64| assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    let (z, h, o) = cache.live();
    near(z[[0, 0]], 0.0);
    near(z[[0, 1]], 1.25);
    near(h[[0, 1]], 1.25);
    near(o[[0, 0]], 0.5);
    near(o[[0, 1]], 1.0);
    near(obj.l, 0.97407698418011);
    near(obj.s, 0.17125);
    near(obj.j, 1.14532698418011);
    let (d_o, d_h, d_z) = grads.live();
    near(d_o[[0, 0]], -0.62245933120185);
    near(d_o[[0, 1]], 0.62245933120185);
    near(grads.d_w2[[0, 0]], 0.1);
    near(grads.d_w2[[0, 1]], -0.73807416400232);
    near(grads.d_w2[[1, 0]], -0.1);
    near(grads.d_w2[[1, 1]], 0.85807416400232);
    near(d_h[[0, 0]], -1.24491866240371);
    near(d_h[[0, 1]], 0.24898373248074);
    near(d_z[[0, 0]], 0.0);
    near(d_z[[0, 1]], 0.24898373248074);
    near(grads.d_w1[[0, 0]], 0.05);
    near(grads.d_w1[[0, 1]], -0.025);
    near(grads.d_w1[[1, 0]], 0.27398373248074);
    near(grads.d_w1[[1, 1]], 0.54796746496148);
    m.sgd_step(&grads, 0.5);
    near(m.w1[[0, 0]], 0.475);
    near(m.w1[[0, 1]], -0.2375);
    near(m.w1[[1, 0]], 0.11300813375963);
    near(m.w1[[1, 1]], 0.22601626751926);
    near(m.w2[[0, 0]], 0.95);
    near(m.w2[[0, 1]], 0.76903708200116);
    near(m.w2[[1, 0]], -0.95);
    near(m.w2[[1, 1]], 0.37096291799884);
}

#[test]
fn ten_classes_with_tiny_weights_start_at_ln_10() {
    // With W ≈ 0 every logit is ≈ 0, softmax is uniform, and L = −log(1/10) = ln 10.
    let mut rng = mlp_train::math::rng::seeded(5);
    let mut m = Mlp::<f64>::init(
        20,
        16,
        10,
        Activation::Tanh,
        Loss::SoftmaxCe,
        Init::Xavier,
        1,
    );
    m.w1 *= 1e-4;
    m.w2 *= 1e-4;
    let x = random_matrix(&mut rng, 64, 20, 1.0);
    let y: Vec<usize> = (0..64).map(|i| i % 10).collect();
    let mut cache = Cache::for_model(&m, 64);
    let obj = m
        .objective(x.view(), Target::Classes(&y), 0.0, &mut cache)
        .unwrap();
    assert!(
        (obj.l - 10f64.ln()).abs() < 1e-6,
        "L = {} vs ln 10 = {}",
        obj.l,
        10f64.ln()
    );
    // And the same in f32, through the same code.
    let m32 = Mlp {
        w1: m.w1.mapv(|v| v as f32),
        w2: m.w2.mapv(|v| v as f32),
        activation: m.activation,
        loss: m.loss,
    };
    let x32 = x.mapv(|v| v as f32);
    let mut c32 = Cache::for_model(&m32, 64);
    let o32 = m32
        .objective(x32.view(), Target::Classes(&y), 0.0, &mut c32)
        .unwrap();
    assert!((o32.l - 10f64.ln()).abs() < 1e-5, "f32 L = {}", o32.l);
}

#[test]
fn f32_and_f64_share_one_code_path_and_agree() {
    let mut rng = mlp_train::math::rng::seeded(9);
    for act in Activation::ALL {
        let m64 = Mlp::<f64>::init(6, 5, 3, act, Loss::SoftmaxCe, Init::He, 3);
        let m32 = Mlp::<f32>::init(6, 5, 3, act, Loss::SoftmaxCe, Init::He, 3);
        // The same seed gives the same weights, to f32 rounding.
        for (a, b) in m64.w1.iter().zip(m32.w1.iter()) {
            assert_eq!(*a as f32, *b);
        }
        let x = random_matrix(&mut rng, 9, 6, 1.0);
        let y: Vec<usize> = (0..9).map(|i| i % 3).collect();
        let (mut c64, mut g64) = (Cache::for_model(&m64, 9), Grads::for_model(&m64, 9));
        let (mut c32, mut g32) = (Cache::for_model(&m32, 9), Grads::for_model(&m32, 9));
        m64.forward(x.view(), &mut c64).unwrap();
        let x32 = x.mapv(|v| v as f32);
        m32.forward(x32.view(), &mut c32).unwrap();
        let o64 = m64
            .backward(x.view(), Target::Classes(&y), 0.01, &c64, &mut g64)
            .unwrap();
        let o32 = m32
            .backward(x32.view(), Target::Classes(&y), 0.01, &c32, &mut g32)
            .unwrap();
        assert!((o64.j - o32.j).abs() < 1e-5 * o64.j.abs().max(1.0));
        for (a, b) in g64.d_w1.iter().zip(g32.d_w1.iter()) {
            assert!((a - *b as f64).abs() < 1e-5, "{act}: {a} vs {b}");
        }
    }
}

#[test]
fn backward_refuses_a_cache_from_another_batch_or_model() {
    let m = Mlp::<f64>::init(3, 4, 2, Activation::Relu, Loss::SoftmaxCe, Init::He, 0);
    let other = Mlp::<f64>::init(3, 4, 2, Activation::Relu, Loss::SoftmaxCe, Init::He, 1);
    let x = array![[1.0, 2.0, 3.0], [0.0, -1.0, 1.0]];
    let x2 = x.clone();
    let y = [0usize, 1];
    let mut cache = Cache::for_model(&m, 2);
    let mut grads = Grads::for_model(&m, 2);
    let empty = m.backward(x.view(), Target::Classes(&y), 0.0, &cache, &mut grads);
    assert!(matches!(empty, Err(Error::StaleCache(_))), "{empty:?}");
    m.forward(x.view(), &mut cache).unwrap();
    let wrong_batch = m.backward(x2.view(), Target::Classes(&y), 0.0, &cache, &mut grads);
    assert!(matches!(wrong_batch, Err(Error::StaleCache(ref s)) if s.contains("another batch")));
    let wrong_model = other.backward(x.view(), Target::Classes(&y), 0.0, &cache, &mut grads);
    assert!(matches!(wrong_model, Err(Error::StaleCache(ref s)) if s.contains("another model")));
    assert!(m
        .backward(x.view(), Target::Classes(&y), 0.0, &cache, &mut grads)
        .is_ok());
}

#[test]
fn lambda_enters_once_per_step_not_once_per_sample() {
    // With zero loss gradient (half-squared, y = o), ∂J/∂W = λW exactly, whatever B is.
    let m = Mlp::<f64>::init(
        3,
        4,
        2,
        Activation::Tanh,
        Loss::HalfSquared,
        Init::Xavier,
        2,
    );
    let mut rng = mlp_train::math::rng::seeded(1);
    for b in [1, 7, 32] {
        let x = random_matrix(&mut rng, b, 3, 1.0);
        let mut cache = Cache::for_model(&m, b);
        let mut grads = Grads::for_model(&m, b);
        m.forward(x.view(), &mut cache).unwrap();
        let y = cache.live().2.to_owned();
        m.backward(x.view(), Target::Values(y.view()), 0.3, &cache, &mut grads)
            .unwrap();
        for (g, w) in grads.d_w1.iter().zip(m.w1.iter()) {
            assert!((g - 0.3 * w).abs() < 1e-15);
        }
    }
}

#[test]
fn buffers_sized_for_another_model_are_resized_not_a_panic() {
    // Grads and Cache made for a (3,4,2) model, then used with a (5,6,3) one.
    let small = Mlp::<f64>::init(3, 4, 2, Activation::Relu, Loss::SoftmaxCe, Init::He, 0);
    let big = Mlp::<f64>::init(5, 6, 3, Activation::Relu, Loss::SoftmaxCe, Init::He, 0);
    let mut cache = Cache::for_model(&small, 2);
    let mut grads = Grads::for_model(&small, 2);
    let x = Array2::from_elem((4, 5), 0.5);
    let y = [0usize, 1, 2, 0];
    big.forward(x.view(), &mut cache).unwrap();
    let obj = big
        .backward(x.view(), Target::Classes(&y), 0.1, &cache, &mut grads)
        .unwrap();
    assert!(obj.j.is_finite());
    assert_eq!(grads.d_w1.dim(), (6, 5));
    assert_eq!(grads.d_w2.dim(), (3, 6));
}
