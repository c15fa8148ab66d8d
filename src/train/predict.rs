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

/// Every output of `o` (the model's O for the rows of `x`, as `x` went in, widened to f64)
/// must be finite, and so must the prediction in the data's units for standardized targets
/// (O × std + mean): a model that loads can still overflow on a row whose values are far
/// beyond what it was trained on. The error names the row's line in `data` and the feature
/// whose model input is largest in size there.
pub fn check_outputs<T: Real>(
    o: ndarray::ArrayView2<f64>,
    x: ArrayView2<T>,
    prep: &crate::data::prep::Prep,
    lines: &crate::data::RowLines,
    data: &std::path::Path,
) -> Result<()> {
    let st = prep.target_standardize.as_ref();
    let bad = o.outer_iter().enumerate().find_map(|(i, row)| {
        row.iter().enumerate().find_map(|(k, &v)| {
            let y = st.map_or(v, |st| v * st.std[k] + st.mean[k]);
            (!y.is_finite()).then_some((i, y))
        })
    });
    let Some((i, v)) = bad else {
        return Ok(());
    };
    let largest = x
        .row(i)
        .iter()
        .take(prep.features.len())
        .enumerate()
        .max_by(|a, b| a.1.f64().abs().total_cmp(&b.1.f64().abs()))
        .map(|(j, v)| (prep.features[j].as_str(), v.f64()));
    let (column, why) = match largest {
        Some((name, v)) => (
            name.to_string(),
            format!("its largest model input, column `{name}`, is {v:e} once prepared"),
        ),
        None => ("row".to_string(), "no feature is large".to_string()),
    };
    Err(crate::Error::data_at(
        data,
        lines.line(i).unwrap_or(0),
        column,
        format!(
            "the model's output for this row is {v}, not a finite number: {why}; the row's \
             values are too large for this model (trained on values of another scale?)"
        ),
    ))
}
