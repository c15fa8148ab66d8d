//! The seed's model: Mlp { w1, w2 }, forward() storing Cache { z, h, o }, backward() storing
//! Grads { d_o, d_w2, d_h, d_z, d_w1 }, one line per formula of the chapter.
//
// Shapes, once:  B batch, d inputs, h hidden, q outputs (classes or targets).
//   x: (B,d)   w1: (h,d)   z, h: (B,h)   w2: (q,h)   o: (B,q)     out×in, as the seed writes W.
// Per sample the seed writes z = W1 x; a batch stacks samples as rows, so Z = X W1ᵀ.

use ndarray::{s, Array2, ArrayView2, ArrayViewMut2};
use ndarray_rand::rand_distr::Uniform;
use ndarray_rand::RandomExt;

use crate::math::activation::Activation;
use crate::math::linalg::{matmul, matmul_plus_scaled};
use crate::math::loss::{Loss, Weighted};
use crate::{Error, Real, Result};

/// The one-hidden-layer perceptron, without bias terms, exactly as the seed:
/// z = W1 x, h = φ(z), o = W2 h.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp<T> {
    /// W1 (h,d): input → hidden.
    pub w1: Array2<T>,
    /// W2 (q,h): hidden → output.
    pub w2: Array2<T>,
    /// φ, applied element-wise to z.
    pub activation: Activation,
    /// ℓ, applied to o and the label.
    pub loss: Loss,
}

/// Weight initialization, drawn from a seeded [`crate::math::rng::Rng`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Init {
    /// Xavier/Glorot uniform: U(±√(6/(fan_in + fan_out))). Suits tanh and sigmoid.
    Xavier,
    /// He (Kaiming) uniform: U(±√(6/fan_in)). Suits ReLU.
    He,
}

impl Init {
    /// Both schemes.
    pub const ALL: [Init; 2] = [Init::Xavier, Init::He];

    /// The names used on the command line and in model files, in the order of [`Self::ALL`].
    pub const NAMES: [&'static str; 2] = ["xavier", "he"];

    /// The name used on the command line and in model files.
    pub fn name(self) -> &'static str {
        match self {
            Init::Xavier => "xavier",
            Init::He => "he",
        }
    }
}

impl std::str::FromStr for Init {
    type Err = String;

    /// One of [`Init::NAMES`].
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Init::ALL
            .into_iter()
            .find(|i| i.name() == s)
            .ok_or_else(|| crate::math::activation::unknown("init", s, &Init::NAMES))
    }
}

/// The three parts of the objective for a batch: J = L + s.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Objective {
    /// L, the mean loss over the batch.
    pub l: f64,
    /// s = λ/2 (‖W1‖²_F + ‖W2‖²_F), the L2 penalty.
    pub s: f64,
    /// J = L + s.
    pub j: f64,
}

/// What one SGD step measured while it updated the weights.
#[derive(Clone, Copy, Debug)]
pub struct Update {
    /// ‖∂J/∂W1‖²_F of the gradient applied, in f64.
    pub d_w1_sq: f64,
    /// ‖∂J/∂W2‖²_F of the gradient applied, in f64.
    pub d_w2_sq: f64,
    /// ‖W1‖²_F and ‖W2‖²_F after the step, in f64: the same bits as [`Mlp::regularizer`]
    /// sums, so that [`Mlp::penalty`] of them is the next step's s.
    pub w1_sq: f64,
    pub w2_sq: f64,
    /// True when every weight is finite after the step.
    pub finite: bool,
}

/// What forward() stores for backward(): z, h, o of the last batch.
/// Buffers are allocated for `capacity` rows once and reused; only the first `rows` are live.
#[derive(Clone, Debug)]
pub struct Cache<T> {
    /// Z = X W1ᵀ (B,h), the pre-activations.
    pub z: Array2<T>,
    /// H = φ(Z) (B,h), the hidden layer.
    pub h: Array2<T>,
    /// O = H W2ᵀ (B,q), the outputs (logits for softmax-ce).
    pub o: Array2<T>,
    rows: usize,
    filled_by: Option<Stamp>,
}

/// What backward() stores: the gradient of J with respect to every variable and parameter.
#[derive(Clone, Debug)]
pub struct Grads<T> {
    /// ∂J/∂O (B,q), already divided by B.
    pub d_o: Array2<T>,
    /// ∂J/∂W2 (q,h).
    pub d_w2: Array2<T>,
    /// ∂J/∂H (B,h).
    pub d_h: Array2<T>,
    /// ∂J/∂Z (B,h).
    pub d_z: Array2<T>,
    /// ∂J/∂W1 (h,d).
    pub d_w1: Array2<T>,
    rows: usize,
}

/// Identifies the batch and the model a cache was filled from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    x: usize,
    x_dim: (usize, usize),
    w1: usize,
    w2: usize,
}

impl<T: Real> Mlp<T> {
    /// A model with all-zero weights of the given sizes.
    pub fn zeros(d: usize, h: usize, q: usize, activation: Activation, loss: Loss) -> Self {
        Mlp {
            w1: Array2::zeros((h, d)),
            w2: Array2::zeros((q, h)),
            activation,
            loss,
        }
    }

    /// A model with weights drawn by `init` from a generator seeded with `seed`.
    /// The numbers are drawn in f64 (W1 row by row, then W2) and rounded to T, so f32 and
    /// f64 models from one seed agree to f32 precision, on every machine.
    pub fn init(
        d: usize,
        h: usize,
        q: usize,
        activation: Activation,
        loss: Loss,
        init: Init,
        seed: u64,
    ) -> Self {
        let mut rng = crate::math::rng::seeded(seed);
        let mut draw = |rows: usize, fan_in: usize, fan_out: usize| {
            let a = match init {
                Init::Xavier => (6.0 / (fan_in + fan_out) as f64).sqrt(),
                Init::He => (6.0 / fan_in as f64).sqrt(),
            };
            // U(−a, a) is refused only for a = ∞, i.e. fan_in = 0: an empty matrix.
            match Uniform::new(-a, a) {
                Ok(u) => Array2::<f64>::random_using((rows, fan_in), u, &mut rng).mapv(T::of),
                Err(_) => Array2::zeros((rows, fan_in)),
            }
        };
        let w1 = draw(h, d, h);
        let w2 = draw(q, h, q);
        Mlp {
            w1,
            w2,
            activation,
            loss,
        }
    }

    /// (d, h, q): inputs, hidden units, outputs.
    pub fn dims(&self) -> (usize, usize, usize) {
        (self.w1.ncols(), self.w1.nrows(), self.w2.nrows())
    }

    /// s = λ/2 (‖W1‖²_F + ‖W2‖²_F), accumulated in f64.
    pub fn regularizer(&self, lambda: f64) -> f64 {
        let sq = |w: &Array2<T>| crate::math::linalg::sum_sq_of(w.view());
        Self::penalty(lambda, sq(&self.w1), sq(&self.w2))
    }

    /// s = λ/2 (‖W1‖²_F + ‖W2‖²_F) from the two squared norms (as [`Update`] measures them).
    pub fn penalty(lambda: f64, w1_sq: f64, w2_sq: f64) -> f64 {
        0.5 * lambda * (w1_sq + w2_sq)
    }

    /// Forward pass over a batch x (B,d): computes and stores z, h, o in `cache`.
    pub fn forward(&self, x: ArrayView2<T>, cache: &mut Cache<T>) -> Result<()> {
        let (d, h, q) = self.dims();
        if x.ncols() != d {
            return Err(Error::Shape(format!(
                "the batch has {} columns but W1 expects d = {d}",
                x.ncols()
            )));
        }
        let b = x.nrows();
        cache.fit(b, h, q);
        let (mut z, mut h, mut o) = cache.live_mut();

        // z = W1 x          batch: Z = X W1ᵀ                           (B,h)
        matmul(x, self.w1.t(), z.view_mut());
        // h = φ(z)          batch: H = φ(Z)                            (B,h)
        self.activation.forward(z.view(), h.view_mut());
        // o = W2 h          batch: O = H W2ᵀ                           (B,q)
        matmul(h.view(), self.w2.t(), o.view_mut());

        cache.filled_by = Some(Stamp::of(&x, self));
        Ok(())
    }

    /// Backward pass: computes and stores, in the seed's order, the gradients of
    /// J = L + s for the batch (x, y) whose forward pass filled `cache`. `y` is a
    /// [`crate::Target`] (L the mean loss) or a [`Weighted`] one (L = Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ: the
    /// weights live in ∂L/∂O alone, the five lines below are the same).
    /// Returns the objective's parts for this batch (before the update).
    pub fn backward<'y>(
        &self,
        x: ArrayView2<T>,
        y: impl Into<Weighted<'y, T>>,
        lambda: T,
        cache: &Cache<T>,
        grads: &mut Grads<T>,
    ) -> Result<Objective> {
        let s = self.regularizer(lambda.f64());
        self.backward_given_s(x, y, lambda, s, cache, grads)
    }

    /// [`Mlp::backward`] with s = λ/2 (‖W1‖² + ‖W2‖²) already known: the training loop takes
    /// it from the last update's pass ([`Update`]), which saves a pass over the weights.
    pub fn backward_given_s<'y>(
        &self,
        x: ArrayView2<T>,
        y: impl Into<Weighted<'y, T>>,
        lambda: T,
        s: f64,
        cache: &Cache<T>,
        grads: &mut Grads<T>,
    ) -> Result<Objective> {
        cache.check(&x, self)?;
        let y = y.into();
        check_rows(&y, x.nrows())?;
        let (d, h_dim, q) = self.dims();
        grads.fit(x.nrows(), d, h_dim, q);
        let (z, h, o) = cache.live();
        let (mut d_o, d_w2, mut d_h, mut d_z, d_w1) = grads.live_mut();

        // ∂J/∂o = ∂L/∂o              batch: dO = ∂L/∂O, divided by B      (B,q)
        let l = self.loss.gradient(o, y, d_o.view_mut());
        // ∂J/∂W2 = ∂J/∂o hᵀ + λW2    batch: dW2 = dOᵀ H + λW2             (q,h)
        matmul_plus_scaled(d_o.t(), h, lambda, self.w2.view(), d_w2);
        // ∂J/∂h = W2ᵀ ∂J/∂o          batch: dH = dO W2                    (B,h)
        matmul(d_o.view(), self.w2.view(), d_h.view_mut());
        // ∂J/∂z = ∂J/∂h ⊙ φ'(z)      batch: dZ = dH ⊙ φ'(Z)               (B,h)
        self.activation.backward(d_h.view(), z, d_z.view_mut());
        // ∂J/∂W1 = ∂J/∂z xᵀ + λW1    batch: dW1 = dZᵀ X + λW1             (h,d)
        matmul_plus_scaled(d_z.t(), x, lambda, self.w1.view(), d_w1);

        Ok(Objective { l, s, j: l + s })
    }

    /// The objective J = L + s on a batch, by a forward pass (no gradients).
    pub fn objective<'y>(
        &self,
        x: ArrayView2<T>,
        y: impl Into<Weighted<'y, T>>,
        lambda: f64,
        cache: &mut Cache<T>,
    ) -> Result<Objective> {
        let y = y.into();
        check_rows(&y, x.nrows())?;
        self.forward(x, cache)?;
        let l = self.loss.value(cache.live().2, y);
        let s = self.regularizer(lambda);
        Ok(Objective { l, s, j: l + s })
    }

    /// Plain minibatch SGD: W ← W − η ∂J/∂W for both weight matrices. Returns what the same
    /// pass measures on the way: ‖∂J/∂W1‖², ‖∂J/∂W2‖² and whether every new weight is finite.
    pub fn sgd_step(&mut self, grads: &Grads<T>, lr: T) -> Update {
        use crate::math::linalg::scaled_add_measured;
        let one = scaled_add_measured(self.w1.view_mut(), -lr, grads.d_w1.view());
        let two = scaled_add_measured(self.w2.view_mut(), -lr, grads.d_w2.view());
        Update {
            d_w1_sq: one.d_sq,
            d_w2_sq: two.d_sq,
            w1_sq: one.w_sq,
            w2_sq: two.w_sq,
            finite: one.finite && two.finite,
        }
    }

    /// True when every weight is a finite number.
    pub fn is_finite(&self) -> bool {
        [&self.w1, &self.w2].iter().all(|w| match w.as_slice() {
            Some(s) => crate::math::linalg::all_finite(s),
            None => w.iter().all(|v| v.is_finite()),
        })
    }
}

/// Refuses labels (or weights) whose count is not the batch's B.
fn check_rows<T>(y: &Weighted<T>, b: usize) -> Result<()> {
    if y.y.len() != b {
        return Err(Error::Shape(format!(
            "{} labels for a batch of {b} rows",
            y.y.len()
        )));
    }
    match &y.w {
        Some(w) if w.len() != b => Err(Error::Shape(format!(
            "{} weights for a batch of {b} rows",
            w.len()
        ))),
        _ => Ok(()),
    }
}

impl Stamp {
    fn of<T: Real>(x: &ArrayView2<T>, m: &Mlp<T>) -> Self {
        Stamp {
            x: x.as_ptr() as usize,
            x_dim: x.dim(),
            w1: m.w1.as_ptr() as usize,
            w2: m.w2.as_ptr() as usize,
        }
    }
}

impl<T: Real> Cache<T> {
    /// Buffers for batches of up to `capacity` rows of a model with h hidden units and q outputs.
    pub fn new(capacity: usize, h: usize, q: usize) -> Self {
        Cache {
            z: Array2::zeros((capacity, h)),
            h: Array2::zeros((capacity, h)),
            o: Array2::zeros((capacity, q)),
            rows: 0,
            filled_by: None,
        }
    }

    /// Makes room for a batch of b rows; allocates only when b exceeds the capacity.
    fn fit(&mut self, b: usize, h: usize, q: usize) {
        if b > self.z.nrows() || self.z.ncols() != h || self.o.ncols() != q {
            *self = Cache::new(b, h, q);
        }
        self.rows = b;
        self.filled_by = None;
    }

    /// (z, h, o) of the last forward pass, each with B rows.
    pub fn live(&self) -> (ArrayView2<'_, T>, ArrayView2<'_, T>, ArrayView2<'_, T>) {
        let b = self.rows;
        (
            self.z.slice(s![..b, ..]),
            self.h.slice(s![..b, ..]),
            self.o.slice(s![..b, ..]),
        )
    }

    fn live_mut(
        &mut self,
    ) -> (
        ArrayViewMut2<'_, T>,
        ArrayViewMut2<'_, T>,
        ArrayViewMut2<'_, T>,
    ) {
        let b = self.rows;
        (
            self.z.slice_mut(s![..b, ..]),
            self.h.slice_mut(s![..b, ..]),
            self.o.slice_mut(s![..b, ..]),
        )
    }

    /// Refuses a cache that forward() did not fill from this batch and this model.
    fn check(&self, x: &ArrayView2<T>, m: &Mlp<T>) -> Result<()> {
        match self.filled_by {
            None => Err(Error::StaleCache("the cache is empty".into())),
            Some(st) if st.w1 != m.w1.as_ptr() as usize || st.w2 != m.w2.as_ptr() as usize => Err(
                Error::StaleCache("the cache was filled by another model".into()),
            ),
            Some(st) if st.x != x.as_ptr() as usize || st.x_dim != x.dim() => Err(
                Error::StaleCache("the cache was filled from another batch".into()),
            ),
            Some(_) => Ok(()),
        }
    }
}

impl<T: Real> Grads<T> {
    /// Buffers for the gradients of a (d,h,q) model and batches of up to `capacity` rows.
    pub fn new(capacity: usize, d: usize, h: usize, q: usize) -> Self {
        Grads {
            d_o: Array2::zeros((capacity, q)),
            d_w2: Array2::zeros((q, h)),
            d_h: Array2::zeros((capacity, h)),
            d_z: Array2::zeros((capacity, h)),
            d_w1: Array2::zeros((h, d)),
            rows: 0,
        }
    }

    /// Buffers shaped for this model, for batches of up to `capacity` rows.
    pub fn for_model(m: &Mlp<T>, capacity: usize) -> Self {
        let (d, h, q) = m.dims();
        Grads::new(capacity, d, h, q)
    }

    /// Makes room for a batch of b rows of a (d,h,q) model; allocates only when the batch
    /// exceeds the capacity or the model's shape differs from the buffers'.
    fn fit(&mut self, b: usize, d: usize, h: usize, q: usize) {
        if b > self.d_o.nrows() || self.d_w1.dim() != (h, d) || self.d_w2.dim() != (q, h) {
            *self = Grads::new(b, d, h, q);
        }
        self.rows = b;
    }

    /// ∂J/∂O, ∂J/∂H, ∂J/∂Z of the last backward pass, each with B rows.
    pub fn live(&self) -> (ArrayView2<'_, T>, ArrayView2<'_, T>, ArrayView2<'_, T>) {
        let b = self.rows;
        (
            self.d_o.slice(s![..b, ..]),
            self.d_h.slice(s![..b, ..]),
            self.d_z.slice(s![..b, ..]),
        )
    }

    #[allow(clippy::type_complexity)]
    fn live_mut(
        &mut self,
    ) -> (
        ArrayViewMut2<'_, T>,
        ArrayViewMut2<'_, T>,
        ArrayViewMut2<'_, T>,
        ArrayViewMut2<'_, T>,
        ArrayViewMut2<'_, T>,
    ) {
        let b = self.rows;
        (
            self.d_o.slice_mut(s![..b, ..]),
            self.d_w2.view_mut(),
            self.d_h.slice_mut(s![..b, ..]),
            self.d_z.slice_mut(s![..b, ..]),
            self.d_w1.view_mut(),
        )
    }
}

impl<T: Real> Cache<T> {
    /// Buffers shaped for this model, for batches of up to `capacity` rows.
    pub fn for_model(m: &Mlp<T>, capacity: usize) -> Self {
        let (_, h, q) = m.dims();
        Cache::new(capacity, h, q)
    }
}
