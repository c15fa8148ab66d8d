//! Minibatch SGD over a dataset: seeded shuffle each epoch, gather, forward, backward, update,
//! with per-epoch statistics reported through an observer (the library never prints).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use ndarray::{Array2, ArrayView2};
use rand::seq::SliceRandom;

use crate::data::matrices::{Data, Targets};
use crate::error::Blowup;
use crate::math::loss::{Target, Weighted};
use crate::math::model::{Cache, Grads, Mlp, Objective, Update};
use crate::{Error, Real, Result};

/// How to train. The field names are the flags' names.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TrainConfig {
    /// λ, the L2 coefficient in J = L + λ/2 (‖W1‖² + ‖W2‖²).
    pub lambda: f64,
    /// η, the learning rate.
    pub lr: f64,
    /// μ, heavy-ball momentum (0 = plain SGD, as the seed).
    pub momentum: f64,
    /// B, samples per minibatch (the last one of an epoch may be smaller).
    pub batch_size: usize,
    /// Passes over the training set.
    pub epochs: usize,
    /// Seed of the shuffle (the weights' seed is the model's business).
    pub seed: u64,
    /// Stop after this many epochs without a better validation loss, and restore the best weights.
    pub patience: Option<usize>,
    /// For regression with standardized targets: each target's std, so that RMSE is reported
    /// in the data's own units.
    #[serde(skip)]
    pub target_scale: Option<Vec<f64>>,
    /// Threads for the matrix products (`--threads`): 1 runs everything on the calling
    /// thread and starts none; N ≥ 2 splits each large product over a local rayon pool of N
    /// threads, created for this call (the training loop runs on one of them, the others
    /// look for work between jobs instead of sleeping: [`crate::math::linalg::awake`]).
    /// The model is the same, bit for bit, for every value.
    pub threads: usize,
}

/// Accuracy for classification, RMSE for regression.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Fraction of correct predictions (argmax of o).
    Accuracy(f64),
    /// Root-mean-square error over all targets, in the data's units.
    Rmse(f64),
}

impl Metric {
    /// The number inside.
    pub fn value(self) -> f64 {
        match self {
            Metric::Accuracy(v) | Metric::Rmse(v) => v,
        }
    }
}

/// One line of the training log.
#[derive(Clone, Debug, serde::Serialize)]
pub struct EpochStats {
    /// 1-based epoch number.
    pub epoch: usize,
    /// The learning rate used in this epoch.
    pub lr: f64,
    /// L, s, J on the training set: running means over the epoch's minibatches
    /// (each batch evaluated just before its update), weighted by batch size.
    pub train: Objective,
    /// Training accuracy or RMSE, measured the same way as `train`.
    pub train_metric: Metric,
    /// L, s, J and metric on the validation set after the epoch, when there is one.
    pub val: Option<(Objective, Metric)>,
    /// Mean over the epoch's minibatches of ‖∂J/∂W1‖_F.
    pub grad_norm_w1: f64,
    /// Mean over the epoch's minibatches of ‖∂J/∂W2‖_F.
    pub grad_norm_w2: f64,
    /// Wall-clock seconds since training started.
    pub seconds: f64,
}

/// What the observer tells the loop after each epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Continue,
    Stop,
}

/// Receives progress; the CLI draws bars and log lines from it. `Send`, because with
/// `--threads N` ≥ 2 the loop that calls it runs on a thread of its rayon pool.
pub trait Observer: Send {
    /// After every minibatch: epoch (1-based), batch (1-based) of `batches`, the batch's
    /// rows and its L.
    fn on_batch(&mut self, _epoch: usize, _batch: usize, _batches: usize, _rows: usize, _l: f64) {}
    /// After every epoch.
    fn on_epoch(&mut self, _stats: &EpochStats) -> Control {
        Control::Continue
    }
    /// Something that looked wrong in the data without being an error, as soon as it is
    /// known (before a failure that may follow).
    fn on_warning(&mut self, _warning: &str) {}
}

/// An observer that ignores everything.
pub struct Silent;
impl Observer for Silent {}

/// What training did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Outcome {
    /// One entry per epoch run.
    pub history: Vec<EpochStats>,
    /// Epochs completed (an interrupted epoch is not counted).
    pub epochs_run: usize,
    /// With --patience: the epoch whose weights were restored.
    pub best_epoch: Option<usize>,
    /// True when stopped by the `stop` flag (Ctrl-C) before the planned epochs ran.
    pub interrupted: bool,
    /// Samples processed (n × epochs for a full run).
    pub samples: u64,
    /// Seconds spent in the training loop.
    pub seconds: f64,
}

/// Training has diverged when a minibatch's J exceeds `BLOW_UP × max(J₀, 1)`, J₀ being the
/// J of the run's first minibatch (at the starting weights), even while J stays finite. Six
/// orders of magnitude: SGD's noise and a loss that rises before it falls stay far below it.
pub const BLOW_UP: f64 = 1e6;

/// A minibatch gathered from shuffled rows into buffers that are reused every step.
struct Batch<T> {
    x: Array2<T>,
    classes: Vec<usize>,
    values: Array2<T>,
    /// wᵢ of the gathered rows (empty when the data are unweighted).
    w: ndarray::Array1<T>,
    rows: usize,
}

impl<T: Real> Batch<T> {
    fn new(capacity: usize, d: usize, y: &Targets<T>, weighted: bool) -> Self {
        let q = match y {
            Targets::Classes(_) => 0,
            Targets::Values(v) => v.ncols(),
        };
        Batch {
            x: Array2::zeros((capacity, d)),
            classes: Vec::with_capacity(capacity),
            values: Array2::zeros((capacity, q)),
            w: ndarray::Array1::zeros(if weighted { capacity } else { 0 }),
            rows: 0,
        }
    }

    /// Copies rows `idx` of `data` into the buffers (no allocation). The rows of x are
    /// copied in parts by the current rayon pool's threads when there is one. Then asks for
    /// the rows `next` of x (the next minibatch's), which arrive while this one is trained on.
    fn gather(&mut self, data: &Data<T>, idx: &[usize], next: &[usize]) {
        self.rows = idx.len();
        let d = self.x.ncols();
        match (data.x.as_slice(), self.x.as_slice_mut()) {
            (Some(src), Some(dst)) if d > 0 => {
                let dst = &mut dst[..idx.len() * d];
                let threads = crate::math::linalg::threads();
                if threads > 1 && idx.len() * d >= 1 << 15 {
                    // Each part copies its own rows: (the rows' indices, their destination).
                    // Parts of 32 rows or more, four a thread at most: a thread that is free
                    // early (the gather runs beside the update) takes some of the rest.
                    let parts = idx.len().div_ceil(32).clamp(threads, 4 * threads);
                    let per = idx.len().div_ceil(parts);
                    crate::math::linalg::for_each_part(
                        (idx, dst),
                        parts,
                        &|(idx, dst), k| {
                            let rows = (k * per).min(idx.len());
                            let (i0, i1) = idx.split_at(rows);
                            let (d0, d1) = dst.split_at_mut(rows * d);
                            ((i0, d0), (i1, d1))
                        },
                        &|_, (idx, dst)| copy_rows(src, d, idx, dst),
                    );
                } else {
                    copy_rows(src, d, idx, dst);
                }
            }
            _ => {
                for (k, &i) in idx.iter().enumerate() {
                    self.x.row_mut(k).assign(&data.x.row(i));
                }
            }
        }
        match &data.y {
            Targets::Classes(y) => {
                self.classes.clear();
                self.classes.extend(idx.iter().map(|&i| y[i]));
            }
            Targets::Values(y) => {
                for (k, &i) in idx.iter().enumerate() {
                    self.values.row_mut(k).assign(&y.row(i));
                }
            }
        }
        if let Some(w) = &data.weights {
            for (k, &i) in idx.iter().enumerate() {
                self.w[k] = w[i];
            }
        }
        // Rows out of L1 when the step that copies them comes: the copy waited on them
        // (5 % of a digits step, B = 32, 32 hidden units).
        if let (Some(src), true) = (data.x.as_slice(), d > 0 && next.len() * d < 1 << 15) {
            for &i in next {
                prefetch(&src[i * d..(i + 1) * d]);
            }
        }
    }

    fn x(&self) -> ArrayView2<'_, T> {
        self.x.slice(ndarray::s![..self.rows, ..])
    }

    fn target(&self, classify: bool, weighted: bool) -> Weighted<'_, T> {
        let y = if classify {
            Target::Classes(&self.classes)
        } else {
            Target::Values(self.values.slice(ndarray::s![..self.rows, ..]))
        };
        Weighted::new(y, weighted.then(|| self.w.slice(ndarray::s![..self.rows])))
    }
}

/// dst's rows = src's rows `idx` (row-major, d columns). Four rows at a time, in turns of
/// 256 bytes: the rows of a large X are far apart in memory, and four streams of reads in
/// flight go faster than one row after another (B = 256 rows of 784 f32 out of 60,000:
/// 165-172 µs → 117 µs on one core), and the next four rows are prefetched ([`prefetch`]).
#[inline]
fn copy_rows<T: Copy>(src: &[T], d: usize, idx: &[usize], dst: &mut [T]) {
    const ROWS: usize = 4;
    let step = (256 / std::mem::size_of::<T>().max(1)).max(1);
    if d <= 2 * step {
        // Short rows (digits: 65 f32): one copy each, not a turn of 256 bytes and a tail.
        for (row, &i) in dst.chunks_exact_mut(d).zip(idx) {
            copy_short(&src[i * d..(i + 1) * d], row);
        }
        return;
    }
    let mut groups = dst.chunks_exact_mut(ROWS * d);
    for (g, (group, ij)) in (&mut groups).zip(idx.chunks_exact(ROWS)).enumerate() {
        // The next group's rows on their way from memory while this group is copied.
        let next = idx.get((g + 1) * ROWS..(g + 2) * ROWS).unwrap_or(&[]);
        for &i in next {
            prefetch(&src[i * d..(i + 1) * d]);
        }
        let rows: [&[T]; ROWS] = std::array::from_fn(|r| &src[ij[r] * d..(ij[r] + 1) * d]);
        for c in (0..d).step_by(step) {
            let e = (c + step).min(d);
            for (r, row) in rows.iter().enumerate() {
                group[r * d + c..r * d + e].copy_from_slice(&row[c..e]);
            }
        }
    }
    let done = idx.len() / ROWS * ROWS;
    for (row, &i) in groups
        .into_remainder()
        .chunks_exact_mut(d)
        .zip(&idx[done..])
    {
        row.copy_from_slice(&src[i * d..(i + 1) * d]);
    }
}

/// dst = src for a short row, in pieces of 64 bytes (the last one overlapping the one before
/// it), each of a size the compiler knows and copies inline: a call of memcpy for each row of
/// 65 f32 was 5 % of a digits step (B = 32, 32 hidden units).
#[inline(always)]
fn copy_short<T: Copy>(src: &[T], dst: &mut [T]) {
    let n = (64 / std::mem::size_of::<T>().max(1)).max(1);
    let len = src.len().min(dst.len());
    if len < n {
        return dst[..len].copy_from_slice(&src[..len]);
    }
    let mut at = 0;
    while at + n <= len {
        dst[at..at + n].copy_from_slice(&src[at..at + n]);
        at += n;
    }
    if at < len {
        dst[len - n..len].copy_from_slice(&src[len - n..len]);
    }
}

/// Asks for every cache line of `row` ahead of its use (x86-64; elsewhere nothing): copying B
/// = 256 rows of 784 f32 out of 60,000 with the next four rows prefetched takes 74-82 µs
/// instead of 101 µs on one core (AMD EPYC Zen 4, 60,000 × 784, best of two runs of every
/// batch of an epoch).
#[inline]
fn prefetch<T>(row: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let bytes = std::mem::size_of_val(row);
        let p = row.as_ptr().cast::<i8>();
        for at in (0..bytes).step_by(64) {
            // SAFETY: `at` is inside `row`; a prefetch reads nothing and cannot fault.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.add(at)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = row;
}

/// Heavy-ball momentum state: v ← μv + ∂J/∂W, W ← W − ηv (as PyTorch's SGD). With μ = 0 the
/// update is exactly the seed's W ← W − η ∂J/∂W.
struct Momentum<T> {
    v1: Array2<T>,
    v2: Array2<T>,
}

/// Trains `model` in place on `train` by minibatch SGD, evaluating on `val` after each epoch.
/// Checks `stop` between minibatches, and within a large one between slices of its
/// products (dropping that minibatch's step). On divergence (J of a minibatch, or a weight after its
/// update, not finite; or J above [`BLOW_UP`] times its start) returns [`Error::Diverged`] naming that epoch and minibatch; the
/// model is then not to be used (the caller saves nothing).
///
/// With `cfg.threads` ≥ 2 the loop runs inside a local rayon pool of that many threads, built
/// for this call, whose threads share each large product (see [`crate::math::linalg`]).
pub fn train<T: Real>(
    model: &mut Mlp<T>,
    cfg: &TrainConfig,
    train: &Data<T>,
    val: Option<&Data<T>>,
    observer: &mut dyn Observer,
    stop: &AtomicBool,
) -> Result<Outcome> {
    if cfg.threads <= 1 {
        return train_loop(model, cfg, train, val, observer, stop);
    }
    // A pool the OS refuses to start is no error: train on this thread alone.
    match rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads)
        .thread_name(|k| format!("mlp-train-{k}"))
        .build()
    {
        Ok(pool) => pool.install(|| {
            crate::math::linalg::awake(|| train_loop(model, cfg, train, val, observer, stop))
        }),
        Err(_) => train_loop(model, cfg, train, val, observer, stop),
    }
}

fn train_loop<T: Real>(
    model: &mut Mlp<T>,
    cfg: &TrainConfig,
    train: &Data<T>,
    val: Option<&Data<T>>,
    observer: &mut dyn Observer,
    stop: &AtomicBool,
) -> Result<Outcome> {
    let n = train.len();
    let (d, _, _) = model.dims();
    if train.x.ncols() != d {
        return Err(Error::Shape(format!(
            "the data has {} input columns but the model expects {d}",
            train.x.ncols()
        )));
    }
    let b_max = cfg.batch_size.min(n).max(1);
    let batches = n.div_ceil(b_max);
    let classify = matches!(train.y, Targets::Classes(_));
    let lambda = T::of(cfg.lambda);
    let lr = T::of(cfg.lr);
    let mu = T::of(cfg.momentum);
    // The step of s = λ/2 ‖W‖² alone, W ← W − ηλW (heavy ball: v ← μv + λW), grows W
    // whenever ηλ ≥ 2 (1 + μ): then a divergence is the L2 term's, whatever L does.
    let l2_step = cfg.lr * cfg.lambda >= 2.0 * (1.0 + cfg.momentum);
    // What a divergence is blamed on, given the first minibatch's objective (or this one's).
    let cause = |first: Objective| {
        if l2_step {
            Blowup::L2Step {
                s_led: first.s > first.l || first.s.is_nan(),
            }
        } else {
            Blowup::Loss
        }
    };

    let mut cache = Cache::for_model(model, b_max);
    let mut grads = Grads::for_model(model, b_max);
    // One minibatch that holds every row (full-batch gradient descent): the rows are used
    // where they are, neither shuffled nor copied (the mean gradient over all rows does not
    // depend on their order; a copy would hold X twice).
    let whole = b_max == n;
    let weighted = train.weights.is_some();
    let mut batch = Batch::new(if whole { 0 } else { b_max }, d, &train.y, weighted);
    // The epoch's means weigh each minibatch by its Σwᵢ (its B when unweighted): over the
    // epoch they are the weighted means Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ.
    let nf = train.weighted().total();
    let mut momentum = (cfg.momentum > 0.0).then(|| Momentum {
        v1: Array2::zeros(model.w1.dim()),
        v2: Array2::zeros(model.w2.dim()),
    });
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = crate::math::rng::seeded(cfg.seed);
    let mut eval_cache = Cache::for_model(model, b_max);

    let start = Instant::now();
    let mut outcome = Outcome {
        history: Vec::new(),
        epochs_run: 0,
        best_epoch: None,
        interrupted: false,
        samples: 0,
        seconds: 0.0,
    };
    let mut best: Option<(f64, usize, Mlp<T>)> = None;
    // The first minibatch's objective, at the starting weights: J is the yardstick of
    // BLOW_UP; L against s says which term was off from the start.
    let mut first: Option<Objective> = None;

    'epochs: for epoch in 1..=cfg.epochs {
        if !whole {
            order.shuffle(&mut rng);
        }
        let (mut sum_l, mut sum_s, mut sum_metric) = (0.0f64, 0.0f64, 0.0f64);
        let (mut norm1, mut norm2) = (0.0f64, 0.0f64);
        // s = λ/2 (‖W1‖² + ‖W2‖²) of the weights as the last step left them, from the
        // squared norms its update measured (the same bits as Mlp::regularizer gives); None at
        // the start of an epoch (the weights may have been restored since).
        let mut s_known: Option<f64> = None;
        for (k, idx) in order.chunks(b_max).enumerate() {
            // The next minibatch's rows, in this epoch's order (none after the last), and the
            // one after it.
            let rows = |k: usize| {
                let rows = order.get(k * b_max..).unwrap_or(&[]);
                &rows[..rows.len().min(b_max)]
            };
            let (next, after) = (rows(k + 1), rows(k + 2));
            if stop.load(Ordering::Relaxed) {
                outcome.interrupted = true;
                break 'epochs;
            }
            let (x, y) = if whole {
                (train.x.view(), train.weighted())
            } else {
                // Every later step's rows were gathered beside the update of the step before.
                if k == 0 {
                    batch.gather(train, idx, next);
                }
                (batch.x(), batch.target(classify, weighted))
            };
            // A signal during a large minibatch stops its products within a slice
            // (`linalg::stoppable`): the unfinished step is then dropped, the weights left
            // as the previous minibatch made them.
            let obj = crate::math::linalg::stoppable(stop, || {
                model.forward(x, &mut cache)?;
                match s_known.take() {
                    Some(s) => model.backward_given_s(x, y, lambda, s, &cache, &mut grads),
                    None => model.backward(x, y, lambda, &cache, &mut grads),
                }
            })?;
            if stop.load(Ordering::Relaxed) {
                outcome.interrupted = true;
                break 'epochs;
            }
            if !obj.j.is_finite() {
                return Err(Error::Diverged {
                    epoch,
                    batch: k + 1,
                    what: if obj.s.is_finite() {
                        "J is not finite"
                    } else {
                        "s = λ/2 (‖W1‖² + ‖W2‖²) is not finite"
                    }
                    .into(),
                    lr: cfg.lr,
                    lambda: cfg.lambda,
                    cause: cause(first.unwrap_or(obj)),
                });
            }
            // A blow-up that stays finite is a divergence too (s ≈ 1e18 with R² 0 is not a
            // result): J of a minibatch above BLOW_UP × max(J of the run's first minibatch, 1).
            let start = *first.get_or_insert(obj);
            let j_first = start.j;
            if obj.j > BLOW_UP * j_first.max(1.0) {
                return Err(Error::Diverged {
                    epoch,
                    batch: k + 1,
                    what: format!(
                        "J = {:.3e} grew more than {BLOW_UP:.0e} times over its start {j_first:.3e} (L {:.3e}, s {:.3e})",
                        obj.j, obj.l, obj.s
                    ),
                    lr: cfg.lr,
                    lambda: cfg.lambda,
                    cause: cause(start),
                });
            }
            let b = y.total();
            sum_l += obj.l * b;
            sum_s += obj.s * b;
            sum_metric += batch_metric(cache.live().2, y, cfg.target_scale.as_deref()) * b;
            let mut step = || match momentum.as_mut() {
                None => model.sgd_step(&grads, lr),
                Some(m) => {
                    // v ← μv + ∂J/∂W;  W ← W − ηv
                    m.v1.zip_mut_with(&grads.d_w1, |v, &g| *v = mu * *v + g);
                    m.v2.zip_mut_with(&grads.d_w2, |v, &g| *v = mu * *v + g);
                    model.w1.scaled_add(-lr, &m.v1);
                    model.w2.scaled_add(-lr, &m.v2);
                    let sq = |d: &Array2<T>| crate::math::linalg::sum_sq_of(d.view());
                    Update {
                        d_w1_sq: sq(&grads.d_w1),
                        d_w2_sq: sq(&grads.d_w2),
                        w1_sq: sq(&model.w1),
                        w2_sq: sq(&model.w2),
                        finite: model.is_finite(),
                    }
                }
            };
            // The next minibatch's rows are gathered while the weights are updated: the copy
            // waits on memory (its rows are cold), the update on the cache, and at two
            // threads one core can do much of the one while the other does the other. (The
            // last step of an epoch has no next one; full-batch training has one step.)
            let update = if next.is_empty() {
                step()
            } else {
                crate::math::linalg::both(step, || batch.gather(train, next, after)).0
            };
            s_known = Some(Mlp::<T>::penalty(lambda.f64(), update.w1_sq, update.w2_sq));
            norm1 += update.d_w1_sq.sqrt();
            norm2 += update.d_w2_sq.sqrt();
            // A finite J with a huge step can still overflow a weight: catch it at this batch
            // (O(weights), against O(B × weights) for the forward and backward passes).
            if !update.finite {
                return Err(Error::Diverged {
                    epoch,
                    batch: k + 1,
                    what: "a weight is not finite".into(),
                    lr: cfg.lr,
                    lambda: cfg.lambda,
                    cause: cause(first.unwrap_or(obj)),
                });
            }
            outcome.samples += idx.len() as u64;
            observer.on_batch(epoch, k + 1, batches, idx.len(), obj.l);
        }
        let (l, s) = (sum_l / nf, sum_s / nf);
        let train_metric = if classify {
            Metric::Accuracy(sum_metric / nf)
        } else {
            Metric::Rmse((sum_metric / nf).sqrt())
        };
        let val_stats = match val {
            Some(v) if !v.is_empty() => Some(evaluate(model, v, cfg, &mut eval_cache)?),
            _ => None,
        };
        let stats = EpochStats {
            epoch,
            lr: cfg.lr,
            train: Objective { l, s, j: l + s },
            train_metric,
            val: val_stats,
            grad_norm_w1: norm1 / batches as f64,
            grad_norm_w2: norm2 / batches as f64,
            seconds: start.elapsed().as_secs_f64(),
        };
        outcome.epochs_run = epoch;
        let control = observer.on_epoch(&stats);
        outcome.history.push(stats);

        if let (Some(patience), Some((vo, _))) = (cfg.patience, val_stats) {
            let improved = best.as_ref().is_none_or(|(l, _, _)| vo.l < *l);
            if improved {
                best = Some((vo.l, epoch, model.clone()));
            } else if best.as_ref().is_some_and(|(_, e, _)| epoch - e >= patience) {
                break;
            }
        }
        if control == Control::Stop {
            outcome.interrupted = true;
            break;
        }
    }
    if let Some((_, epoch, weights)) = best {
        *model = weights;
        outcome.best_epoch = Some(epoch);
    }
    outcome.seconds = start.elapsed().as_secs_f64();
    Ok(outcome)
}

/// L, s, J and the metric of `model` on a whole dataset, in batches of the cache's capacity.
pub fn evaluate<T: Real>(
    model: &Mlp<T>,
    data: &Data<T>,
    cfg: &TrainConfig,
    cache: &mut Cache<T>,
) -> Result<(Objective, Metric)> {
    let n = data.len();
    let chunk = cache.z.nrows().max(1);
    let classify = matches!(data.y, Targets::Classes(_));
    let (mut sum_l, mut sum_metric) = (0.0, 0.0);
    for start in (0..n).step_by(chunk) {
        let end = (start + chunk).min(n);
        let x = data.x.slice(ndarray::s![start..end, ..]);
        let y = match &data.y {
            Targets::Classes(y) => Target::Classes(&y[start..end]),
            Targets::Values(y) => Target::Values(y.slice(ndarray::s![start..end, ..])),
        };
        let w = data
            .weights
            .as_ref()
            .map(|w| w.slice(ndarray::s![start..end]));
        let y = Weighted::new(y, w);
        model.forward(x, cache)?;
        let o = cache.live().2;
        let b = y.total();
        sum_l += model.loss.value(o, y) * b;
        sum_metric += batch_metric(o, y, cfg.target_scale.as_deref()) * b;
    }
    let nf = match &data.weights {
        Some(_) => data.weighted().total(),
        None => n.max(1) as f64,
    };
    let l = sum_l / nf;
    let s = model.regularizer(cfg.lambda);
    let metric = if classify {
        Metric::Accuracy(sum_metric / nf)
    } else {
        Metric::Rmse((sum_metric / nf).sqrt())
    };
    Ok((Objective { l, s, j: l + s }, metric))
}

/// For classes: the fraction of rows whose argmax of o is the label. For values: the squared
/// error averaged over the rows and the q targets (an MSE, whose epoch mean's square root is
/// the RMSE), each target first rescaled by `scale` to the data's units. With weights, each
/// row counts wᵢ times: Σᵢ wᵢ [correctᵢ] / Σᵢ wᵢ, as scikit-learn's `score(…, sample_weight)`
/// (unweighted, wᵢ = 1 and 1·r·r = r·r: the same bits as an unweighted sum).
fn batch_metric<T: Real>(o: ArrayView2<T>, y: Weighted<T>, scale: Option<&[f64]>) -> f64 {
    let b = match &y.w {
        Some(_) => y.total(),
        None => o.nrows().max(1) as f64,
    };
    let w_i = |i: usize| y.weight(i).f64();
    let weighted = y.w.is_some();
    match y.y {
        Target::Classes(y) => {
            let correct: f64 = match o.as_slice() {
                // Unweighted, row-major O (the usual case): rows as slices, no per-row view.
                Some(s) if o.ncols() > 0 && !weighted => correct(s, o.ncols(), y) as f64,
                _ => o
                    .outer_iter()
                    .zip(y)
                    .enumerate()
                    .filter(|(_, (row, &label))| argmax(row.iter().copied()) == label)
                    .map(|(i, _)| w_i(i))
                    .sum(),
            };
            correct / b
        }
        Target::Values(y) => {
            let q = o.ncols().max(1) as f64;
            let mut sq = 0.0;
            for (i, (o_i, y_i)) in o.outer_iter().zip(y.outer_iter()).enumerate() {
                let w = w_i(i);
                for (j, (&a, &t)) in o_i.iter().zip(y_i.iter()).enumerate() {
                    let r = (a - t).f64() * scale.map_or(1.0, |s| s[j]);
                    sq += w * r * r;
                }
            }
            sq / (b * q)
        }
    }
}

/// How many rows of the row-major O (q columns) have their [`argmax`] at their label; rows of
/// f32 short enough for two AVX2 registers there ([`crate::math::rows::argmax`], the same
/// index): one serial chain of compares per row was 3 % of a digits step (B = 32, h = 32).
fn correct<T: Real>(o: &[T], q: usize, y: &[usize]) -> usize {
    #[cfg(target_arch = "x86_64")]
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>()
        && q <= crate::math::rows::SHORT
        && crate::math::vexp::avx2_fma()
    {
        // SAFETY: T is f32 (same TypeId), so the slice is a slice of f32.
        let o = unsafe { std::slice::from_raw_parts(o.as_ptr().cast::<f32>(), o.len()) };
        // SAFETY: the CPU has AVX2 and FMA, checked just above.
        return unsafe { correct_avx2(o, q, y) };
    }
    o.chunks_exact(q)
        .zip(y)
        .filter(|(row, &label)| argmax(row.iter().copied()) == label)
        .count()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn correct_avx2(o: &[f32], q: usize, y: &[usize]) -> usize {
    let mut n = 0;
    for (row, &label) in o.chunks_exact(q).zip(y) {
        // SAFETY: AVX2 and FMA (the caller checked), a row of q ≤ SHORT values.
        n += usize::from(unsafe { crate::math::rows::argmax(row) } == label);
    }
    n
}

/// Index of the largest value (the first one on ties; NaN never wins).
pub fn argmax<T: Real>(v: impl Iterator<Item = T>) -> usize {
    let mut best = (0, T::neg_infinity());
    for (i, x) in v.enumerate() {
        if x > best.1 {
            best = (i, x);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Activation, Init, Loss};

    #[test]
    fn copy_rows_copies_the_rows_asked_for_in_their_order() {
        fn check<T: Copy + PartialEq + std::fmt::Debug>(of: impl Fn(usize) -> T) {
            for d in [1, 3, 63, 64, 65, 200] {
                let n = 11;
                let src: Vec<T> = (0..n * d).map(&of).collect();
                for len in 0..10 {
                    let idx: Vec<usize> = (0..len).map(|k| (k * 7 + 3) % n).collect();
                    let mut dst: Vec<T> = (0..len * d).map(|_| of(usize::MAX / 2)).collect();
                    copy_rows(&src, d, &idx, &mut dst);
                    let want: Vec<T> = idx
                        .iter()
                        .flat_map(|&i| src[i * d..(i + 1) * d].to_vec())
                        .collect();
                    assert_eq!(dst, want, "d = {d}, {len} rows");
                }
            }
        }
        check(|i| i as f32);
        check(|i| i as f64);
    }

    fn config(lr: f64, epochs: usize) -> TrainConfig {
        TrainConfig {
            lambda: 0.0,
            lr,
            momentum: 0.0,
            batch_size: 4,
            epochs,
            seed: 1,
            patience: None,
            target_scale: None,
            threads: 1,
        }
    }

    fn data(scale: f64) -> Data<f64> {
        let x = Array2::from_shape_fn((8, 3), |(i, j)| scale * ((i * 3 + j) as f64 % 5.0 - 2.0));
        let y = Array2::from_shape_fn((8, 1), |(i, _)| i as f64);
        Data {
            x,
            y: Targets::Values(y),
            weights: None,
        }
    }

    fn run(lr: f64, scale: f64, epochs: usize) -> Result<Outcome> {
        run_with(Activation::Tanh, lr, scale, epochs)
    }

    fn run_with(activation: Activation, lr: f64, scale: f64, epochs: usize) -> Result<Outcome> {
        let mut m: Mlp<f64> = Mlp::init(3, 4, 1, activation, Loss::HalfSquared, Init::Xavier, 3);
        train(
            &mut m,
            &config(lr, epochs),
            &data(scale),
            None,
            &mut Silent,
            &AtomicBool::new(false),
        )
    }

    #[test]
    fn one_minibatch_of_every_row_is_full_batch_gradient_descent() {
        // B ≥ n: each epoch is one step of W ← W − η ∂J/∂W over all rows, in file order
        // (neither shuffled nor copied), the same bits as forward/backward/sgd_step by hand.
        let d = data(1.0);
        let mut cfg = config(0.05, 3);
        cfg.lambda = 0.01;
        for b in [8, 100] {
            cfg.batch_size = b;
            let start: Mlp<f64> = Mlp::init(
                3,
                4,
                1,
                Activation::Relu,
                Loss::HalfSquared,
                Init::Xavier,
                3,
            );
            let mut trained = start.clone();
            let o = train(
                &mut trained,
                &cfg,
                &d,
                None,
                &mut Silent,
                &AtomicBool::new(false),
            )
            .unwrap();
            assert_eq!(o.samples, 3 * 8);
            let mut by_hand = start.clone();
            let mut cache = Cache::for_model(&by_hand, 8);
            let mut grads = Grads::for_model(&by_hand, 8);
            for _ in 0..3 {
                by_hand.forward(d.x.view(), &mut cache).unwrap();
                by_hand
                    .backward(d.x.view(), d.y.target(), 0.01, &cache, &mut grads)
                    .unwrap();
                by_hand.sgd_step(&grads, 0.05);
            }
            assert_eq!(trained.w1, by_hand.w1, "B = {b}");
            assert_eq!(trained.w2, by_hand.w2, "B = {b}");
            assert_ne!(trained.w1, start.w1);
        }
    }

    #[test]
    fn a_finite_blow_up_is_a_divergence_at_its_minibatch() {
        // J of the first minibatch is a few units; an η of 1e4 sends it past 1e6 × that
        // while every number stays finite.
        let e = run(1e4, 1.0, 50).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, Error::Diverged { .. }), "{msg}");
        assert!(
            msg.contains("grew more than 1e6 times over its start"),
            "{msg}"
        );
        // A sane η trains on.
        let o = run(0.01, 1.0, 50).unwrap();
        assert_eq!(o.epochs_run, 50);
        assert!(o.history.iter().all(|s| s.train.j.is_finite()));
    }

    #[test]
    fn a_weight_that_overflows_in_one_step_is_named() {
        // Inputs of 1e100 through identity: J ≈ 1e200 is finite, ∂J/∂W2 ≈ 1e200, and one
        // step of η = 1e200 overflows W2 before a second minibatch could measure anything.
        let e = run_with(Activation::Identity, 1e200, 1e100, 1).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("epoch 1, batch 1: a weight is not finite"),
            "{msg}"
        );
    }
}
