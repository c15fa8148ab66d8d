//! The model's outputs O for many rows, in chunks whose caches fit in memory
//! (`limits::chunk_rows`): what evaluation, `predict` and the report's diagnostics share.

use ndarray::{s, Array2, ArrayView2};

use crate::math::model::{Cache, Mlp};
use crate::train::limits;
use crate::{Real, Result};

/// A cache for evaluating `n` rows: at most `limits::chunk_rows` of them at a time, so that a
/// very wide hidden layer evaluates in bounded memory.
pub fn eval_cache<T: Real>(model: &Mlp<T>, n: usize) -> Cache<T> {
    let (_, h, q) = model.dims();
    let rows = limits::chunk_rows(h, q, std::mem::size_of::<T>());
    Cache::for_model(model, rows.min(n.max(1)))
}

/// O for every row of x, computed in chunks through the cache.
pub fn predict_values<T: Real>(
    model: &Mlp<T>,
    x: ArrayView2<T>,
    cache: &mut Cache<T>,
) -> Result<Array2<T>> {
    let (_, _, q) = model.dims();
    let n = x.nrows();
    let mut out = Array2::zeros((n, q));
    let chunk = cache.z.nrows().max(1);
    for start in (0..n).step_by(chunk) {
        let end = (start + chunk).min(n);
        model.forward(x.slice(s![start..end, ..]), cache)?;
        out.slice_mut(s![start..end, ..]).assign(&cache.live().2);
    }
    Ok(out)
}

/// O for every row of x, through a cache of its own ([`eval_cache`]).
pub fn predict<T: Real>(model: &Mlp<T>, x: ArrayView2<T>) -> Result<Array2<T>> {
    let mut cache = eval_cache(model, x.nrows());
    predict_values(model, x, &mut cache)
}
