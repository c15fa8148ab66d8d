//! Splitting a frame's rows: the stratified validation split, K folds dealt round-robin per
//! class, and the frames of given rows.

use ndarray::{Array2, Axis};
use rand::seq::SliceRandom;

use crate::data::{Frame, Labels as FrameLabels, TextColumn};
use crate::Real;

/// The fold (0..k) of every row: per class (or overall) a seeded shuffle dealt round-robin,
/// so that each fold has each class in proportion.
pub(super) fn fold_of_rows<T: Real>(frame: &Frame<T>, k: usize, seed: u64) -> Vec<usize> {
    let mut rng = crate::math::rng::seeded(seed ^ 0x4356_5f46_4f4c_4453);
    let mut fold = vec![0; frame.x.nrows()];
    let mut next = 0;
    for mut g in groups(frame) {
        g.shuffle(&mut rng);
        for i in g {
            fold[i] = next % k;
            next += 1;
        }
    }
    fold
}

/// Row indices grouped by class (one group for regression).
pub(super) fn groups<T: Real>(frame: &Frame<T>) -> Vec<Vec<usize>> {
    match &frame.labels {
        FrameLabels::Classes(table) => {
            let mut g = vec![Vec::new(); table.names.len()];
            for (i, &k) in table.y.iter().enumerate() {
                if let Some(group) = g.get_mut(k as usize) {
                    group.push(i);
                }
            }
            g
        }
        _ => vec![(0..frame.x.nrows()).collect()],
    }
}

/// Row indices for training and validation: per class (or overall, for regression) a seeded
/// shuffle, then round(frac × count) rows to validation, never a class's last row.
pub(super) fn split_rows<T: Real>(
    frame: &Frame<T>,
    frac: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    let mut rng = crate::math::rng::seeded(seed ^ 0x5641_4c5f_5350_4c54);
    let groups = groups(frame);
    let (mut tr, mut va) = (Vec::new(), Vec::new());
    for mut g in groups {
        g.shuffle(&mut rng);
        let k = ((frac * g.len() as f64).round() as usize).min(g.len().saturating_sub(1));
        va.extend_from_slice(&g[..k]);
        tr.extend_from_slice(&g[k..]);
    }
    tr.sort_unstable();
    va.sort_unstable();
    (tr, va)
}

/// A frame cut into training rows `tr` and validation rows `va` (both ascending, together
/// every row once). The validation rows are copied out; the training rows then move up in
/// the frame's own buffer, which shrinks: the matrix is never held twice.
pub(super) fn split_frame<T: Real>(
    frame: Frame<T>,
    tr: &[usize],
    va: &[usize],
) -> (Frame<T>, Frame<T>) {
    let val = frame.select(va);
    let Frame {
        source,
        feature_names,
        label_names,
        x,
        labels,
        lines,
        warnings,
        fingerprint,
        text,
    } = frame;
    let lines = lines.select(tr);
    let x = keep_rows(x, tr);
    let labels = match labels {
        FrameLabels::None => FrameLabels::None,
        FrameLabels::Classes(c) => FrameLabels::Classes(c.select(tr)),
        FrameLabels::Targets(y) => FrameLabels::Targets(keep_rows(y, tr)),
    };
    let train = Frame {
        source,
        feature_names,
        label_names,
        x,
        labels,
        lines,
        warnings,
        fingerprint,
        text: text
            .into_iter()
            .map(|c| TextColumn {
                name: c.name,
                values: tr
                    .iter()
                    .filter_map(|&i| c.values.get(i).cloned())
                    .collect(),
            })
            .collect(),
    };
    (train, val)
}

/// The rows `keep` (ascending) of `a`, moved up in place; the buffer is then shrunk.
pub(super) fn keep_rows<T: Real>(a: Array2<T>, keep: &[usize]) -> Array2<T> {
    let (n, d) = a.dim();
    if !a.is_standard_layout() {
        return a.select(Axis(0), keep);
    }
    let (mut v, offset) = a.into_raw_vec_and_offset();
    // The matrix starts `offset` values into its buffer (0 for a loaded file).
    let off = offset.unwrap_or(0).min(v.len());
    v.drain(..off);
    v.truncate(n * d);
    let mut m = 0;
    for &i in keep.iter().filter(|&&i| i < n) {
        // i >= m: rows only ever move up.
        v.copy_within(i * d..i * d + d, m * d);
        m += 1;
    }
    v.truncate(m * d);
    v.shrink_to_fit();
    // m d values by construction: the shape always fits.
    Array2::from_shape_vec((m, d), v).unwrap_or_else(|_| Array2::zeros((m, d)))
}
