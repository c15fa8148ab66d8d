//! From a parsed CSV frame to training data: standardize features (and regression targets),
//! append the constant-1 bias feature, map class names to indices. Fitted once, saved in the model.

use ndarray::parallel::prelude::*;
use ndarray::{s, Array2, ArrayView1, ArrayViewMut1, ArrayViewMut2, Axis, Zip};
use rayon::prelude::*;

use crate::data::cores;
use crate::data::matrices::{Data, Targets};
use crate::data::{class_order, list, shown_str, Frame, Labels as FrameLabels};
use crate::{Error, Real, Result};

/// The fewest columns a core standardizes on its own (fewer are not worth a thread).
const MIN_COLUMNS: usize = 16;

/// Below this many values a matrix is standardized and given its ones column on one thread.
const PARALLEL_MIN_VALUES: usize = 1 << 16;

/// Rows per task when a matrix is standardized on all cores.
const ROWS_PER_TASK: usize = 256;

/// Classification or regression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Predict one of q classes (softmax cross-entropy).
    Classify,
    /// Predict q real targets (half squared error).
    Regress,
}

impl Task {
    /// Both tasks.
    pub const ALL: [Task; 2] = [Task::Classify, Task::Regress];

    /// The names used on the command line and in model files, in the order of [`Self::ALL`].
    pub const NAMES: [&'static str; 2] = ["classify", "regress"];

    /// The name used on the command line and in model files.
    pub fn name(self) -> &'static str {
        match self {
            Task::Classify => "classify",
            Task::Regress => "regress",
        }
    }
}

impl std::str::FromStr for Task {
    type Err = String;

    /// One of [`Task::NAMES`].
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let names = Task::NAMES.join(", ");
        Task::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| format!("unknown task '{s}' (possible values: {names})"))
    }
}

/// Per-column mean and standard deviation; x ← (x − mean) / std. A constant column has std 1.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Standardizer {
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

impl Standardizer {
    /// Means and population standard deviations of the columns of x, in f64 (two passes).
    /// The columns are cut into one block per core, each block summed row after row as one
    /// thread would: the same bits on any number of cores.
    pub fn fit<T: Real>(x: &Array2<T>) -> Self {
        let n = x.nrows().max(1) as f64;
        let cols = x.ncols();
        let mut mean = vec![0.0; cols];
        let mut var = vec![0.0; cols];
        let big = x.len() >= PARALLEL_MIN_VALUES;
        let block = cols.div_ceil(cores::count_for(big)).max(MIN_COLUMNS);
        let fit_block = |(k, (mean, var)): (usize, (&mut [f64], &mut [f64]))| {
            let x = x.slice(s![.., k * block..k * block + mean.len()]);
            let (mut mean, mut var) = (ArrayViewMut1::from(mean), ArrayViewMut1::from(var));
            for row in x.outer_iter() {
                Zip::from(&mut mean)
                    .and(row)
                    .for_each(|m, &v| *m += v.f64());
            }
            mean.mapv_inplace(|m| m / n);
            for row in x.outer_iter() {
                Zip::from(&mut var)
                    .and(row)
                    .and(&mean)
                    .for_each(|s, &v, &m| *s += (v.f64() - m) * (v.f64() - m));
            }
        };
        match cores::pool_for(big) {
            Some(pool) => pool.install(|| {
                mean.par_chunks_mut(block)
                    .zip(var.par_chunks_mut(block))
                    .enumerate()
                    .for_each(fit_block)
            }),
            None => mean
                .chunks_mut(block)
                .zip(var.chunks_mut(block))
                .enumerate()
                .for_each(fit_block),
        }
        let std = var
            .into_iter()
            .map(|s| {
                let sd = (s / n).sqrt();
                if sd > 0.0 && sd.is_finite() {
                    sd
                } else {
                    1.0
                }
            })
            .collect();
        Standardizer { mean, std }
    }

    /// x ← (x − mean) / std, in place, by blocks of rows on all cores.
    pub fn apply<T: Real>(&self, mut x: ArrayViewMut2<T>) {
        let apply_block = |mut block: ArrayViewMut2<T>| {
            let (mean, std) = (ArrayView1::from(&self.mean), ArrayView1::from(&self.std));
            for row in block.outer_iter_mut() {
                Zip::from(row)
                    .and(&mean)
                    .and(&std)
                    .for_each(|v, &m, &s| *v = standardized(*v, m, s));
            }
        };
        match cores::pool_for(x.len() >= PARALLEL_MIN_VALUES && x.nrows() > ROWS_PER_TASK) {
            Some(pool) => pool.install(|| {
                x.axis_chunks_iter_mut(Axis(0), ROWS_PER_TASK)
                    .into_par_iter()
                    .for_each(apply_block)
            }),
            _ => apply_block(x),
        }
    }

    /// x ← x·std + mean, in place (predictions back to the data's units).
    pub fn invert<T: Real>(&self, mut x: ArrayViewMut2<T>) {
        for mut row in x.outer_iter_mut() {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *v = T::of(v.f64() * s + m);
            }
        }
    }
}

/// (v − mean) / std, computed in f64 and rounded once to T: the one formula of `apply` and of
/// the ones column's pass.
#[inline]
fn standardized<T: Real>(v: T, mean: f64, std: f64) -> T {
    T::of((v.f64() - mean) / std)
}

/// Everything between the CSV and the matrices the model sees; saved with the model so that
/// prediction applies exactly the same transformation.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Prep {
    pub task: Task,
    /// Feature column names, in order (without the bias).
    pub features: Vec<String>,
    /// Label column name(s).
    pub labels: Vec<String>,
    /// Class names in index order (classification).
    pub classes: Option<Vec<String>>,
    /// Feature standardization fitted on the training set, if on.
    pub standardize: Option<Standardizer>,
    /// Target standardization (regression), if on.
    pub target_standardize: Option<Standardizer>,
    /// A constant-1 feature appended to every x, so that W1's last column acts as the
    /// hidden layer's bias.
    pub bias: bool,
}

impl Prep {
    /// Fits the transformation on a training frame.
    pub fn fit<T: Real>(
        frame: &Frame<T>,
        task: Task,
        standardize: bool,
        standardize_targets: bool,
        bias: bool,
    ) -> Result<Self> {
        let classes = match (&frame.labels, task) {
            (FrameLabels::Classes(table), Task::Classify) => {
                let classes = table.names.clone();
                if classes.len() < 2 {
                    return Err(Error::data(
                        &frame.source,
                        format!(
                            "the label column `{}` has a single class ({}); classification needs at least 2",
                            shown_str(&frame.label_names.join(",")),
                            classes.first().map_or("none".to_string(), |c| shown_str(c))
                        ),
                    ));
                }
                Some(classes)
            }
            (FrameLabels::Targets(_), Task::Regress) => None,
            _ => {
                return Err(Error::data(
                    &frame.source,
                    "internal: labels do not match the task",
                ))
            }
        };
        let target_standardize = match (&frame.labels, standardize_targets) {
            (FrameLabels::Targets(y), true) => Some(Standardizer::fit(y)),
            _ => None,
        };
        Ok(Prep {
            task,
            features: frame.feature_names.clone(),
            labels: frame.label_names.clone(),
            classes,
            standardize: standardize.then(|| Standardizer::fit(&frame.x)),
            target_standardize,
            bias,
        })
    }

    /// Number of model inputs d: the features, plus one for the bias.
    pub fn inputs(&self) -> usize {
        self.features.len() + usize::from(self.bias)
    }

    /// Number of model outputs q: classes, or targets.
    pub fn outputs(&self) -> usize {
        match &self.classes {
            Some(c) => c.len(),
            None => self.labels.len(),
        }
    }

    /// Standardizes the features in place and appends the bias column, in place too: the
    /// buffer grows by one value per row and the rows move back to make room, so the matrix
    /// is never held twice.
    pub fn transform_x<T: Real>(&self, mut x: Array2<T>) -> Array2<T> {
        match (&self.standardize, self.bias) {
            (st, true) => with_ones_column(x, st.as_ref()),
            (Some(st), false) => {
                st.apply(x.view_mut());
                x
            }
            (None, false) => x,
        }
    }

    /// Turns a frame into model-ready data. Labels are required; a class never seen in
    /// training is an error naming its line.
    pub fn transform<T: Real>(&self, frame: Frame<T>) -> Result<Data<T>> {
        let Frame {
            source, x, labels, ..
        } = frame;
        let y = match labels {
            FrameLabels::Classes(table) => {
                let classes = self.classes.as_deref().unwrap_or(&[]);
                // Each of the file's classes once: its index in the model's, or the line
                // where an unknown one first appears.
                let mut map = Vec::with_capacity(table.names.len());
                let mut unknown: Option<(u64, &str)> = None;
                for (name, &line) in table.names.iter().zip(&table.first_lines) {
                    match classes.binary_search_by(|c| class_order(c, name)) {
                        Ok(k) => map.push(k),
                        Err(_) => {
                            map.push(usize::MAX);
                            if unknown.is_none_or(|(l, _)| line < l) {
                                unknown = Some((line, name));
                            }
                        }
                    }
                }
                // Only classes that some row has matter (a selection keeps the whole table).
                if unknown.is_some() {
                    let mut used = vec![false; map.len()];
                    for &k in &table.y {
                        if let Some(u) = used.get_mut(k as usize) {
                            *u = true;
                        }
                    }
                    let first = table
                        .names
                        .iter()
                        .zip(&table.first_lines)
                        .zip(map.iter().zip(&used))
                        .filter(|(_, (&m, &u))| m == usize::MAX && u)
                        .map(|((name, &line), _)| (line, name.as_str()))
                        .min_by_key(|&(line, _)| line);
                    if let Some((line, name)) = first {
                        return Err(Error::data_at(
                            &source,
                            line,
                            shown_str(&self.labels.join(",")),
                            format!(
                                "label `{}` was never seen in training (known: {})",
                                shown_str(name),
                                list(classes)
                            ),
                        ));
                    }
                }
                let mut idx = Vec::new();
                idx.try_reserve_exact(table.y.len())
                    .map_err(|_| Error::data(&source, "out of memory for the class of each row"))?;
                idx.extend(
                    table
                        .y
                        .iter()
                        .map(|&k| map.get(k as usize).copied().unwrap_or(0)),
                );
                Targets::Classes(idx)
            }
            FrameLabels::Targets(mut y) => {
                if let Some(st) = &self.target_standardize {
                    st.apply(y.view_mut());
                }
                Targets::Values(y)
            }
            FrameLabels::None => {
                return Err(Error::data(&source, "the file has no label column"));
            }
        };
        Ok(Data {
            x: self.transform_x(x),
            y,
        })
    }
}

/// Class names sorted: numbers first by value ("2" < "10"; "2" and "2.0" are one class,
/// the first spelling kept), then text.
pub fn sorted_classes(names: &[String]) -> Vec<String> {
    let mut classes: Vec<String> = names.to_vec();
    classes.sort_by(|a, b| class_order(a, b));
    classes.dedup_by(|b, a| class_order(a, b) == std::cmp::Ordering::Equal);
    classes
}

/// x (n, d) → (n, d+1): each row standardized by `st` (when given) and followed by a 1, in
/// the same buffer, so that the matrix is never held twice. The buffer grows by n values (on
/// Linux a large buffer grows by remapping, not copying); each row then moves to its new
/// place, later rows before earlier ones, so that no row is overwritten before it has moved.
///
/// On several cores the rows are cut into ranges, one per core, each moved last row first.
/// Range t's rows land in [a(d+1), b(d+1)) of the grown buffer, which holds all of its own
/// rows but its first ⌈a/d⌉ (overwritten by range t−1): those few are copied aside before
/// the ranges start, so each range owns its part of the buffer alone.
fn with_ones_column<T: Real>(x: Array2<T>, st: Option<&Standardizer>) -> Array2<T> {
    let (n, d) = x.dim();
    let x = if x.is_standard_layout() {
        x
    } else {
        x.as_standard_layout().into_owned()
    };
    let (mut v, offset) = x.into_raw_vec_and_offset();
    // The matrix starts `offset` values into its buffer (0 for a loaded file).
    let off = offset.unwrap_or(0).min(v.len());
    v.drain(..off);
    v.truncate(n * d);
    v.resize(n * (d + 1), T::one());

    // Row i of x (its d values) → row i of the result (d+1 values, the last a 1).
    let put = |src: &[T], dst: &mut [T]| {
        let (row, one) = dst.split_at_mut(d.min(dst.len()));
        match st {
            Some(st) => {
                for ((y, &v), (m, s)) in row.iter_mut().zip(src).zip(st.mean.iter().zip(&st.std)) {
                    *y = standardized(v, *m, *s);
                }
            }
            None => row.copy_from_slice(src.get(..row.len()).unwrap_or(&[])),
        }
        one.fill(T::one());
    };
    // The rows [a, b), whose results fill `part` = [a(d+1), b(d+1)); their first rows come
    // from `early` (copied aside), the rest from `part` itself, last row first.
    let move_range = |a: usize, b: usize, early: &[T], part: &mut [T]| {
        let mut row = vec![T::zero(); d];
        let saved = early.len() / d.max(1);
        for i in (a..b).rev() {
            let src = if i - a < saved {
                early.get((i - a) * d..(i - a + 1) * d)
            } else {
                // Row i's values start at i·d in the whole buffer, i·d − a(d+1) in `part`.
                let at = i * d - a * (d + 1);
                part.get(at..at + d)
            };
            row.copy_from_slice(src.unwrap_or(&[]));
            let at = (i - a) * (d + 1);
            if let Some(dst) = part.get_mut(at..at + d + 1) {
                put(&row, dst);
            }
        }
    };

    let parts = cores::count_for(n * d >= PARALLEL_MIN_VALUES);
    let bounds: Vec<usize> = (0..=parts).map(|t| n * t / parts).collect();
    // The rows of a range starting at row a that the range before it overwrites: ⌈a/d⌉, and
    // one more to spare.
    let overwritten = |a: usize| a.div_ceil(d.max(1)) + 1;
    // Each range must be longer than that.
    let safe = bounds.windows(2).all(|w| w[1] - w[0] > overwritten(w[0]));
    match cores::pool_for(parts > 1 && safe) {
        Some(pool) => {
            // Those rows of each range (none for the first), copied before anything moves.
            let early: Vec<Vec<T>> = bounds
                .windows(2)
                .map(|w| {
                    let rows = if w[0] == 0 { 0 } else { overwritten(w[0]) };
                    v.get(w[0] * d..(w[0] + rows) * d).unwrap_or(&[]).to_vec()
                })
                .collect();
            let mut pieces = Vec::with_capacity(parts);
            let mut rest = v.as_mut_slice();
            for w in bounds.windows(2) {
                let (piece, tail) = rest.split_at_mut(((w[1] - w[0]) * (d + 1)).min(rest.len()));
                pieces.push((w[0], w[1], piece));
                rest = tail;
            }
            pool.install(|| {
                pieces
                    .into_par_iter()
                    .zip(early.par_iter())
                    .for_each(|((a, b, piece), early)| move_range(a, b, early, piece))
            });
        }
        _ => move_range(0, n, &[], &mut v),
    }
    // The length is n (d+1) by construction, so the shape always fits.
    Array2::from_shape_vec((n, d + 1), v).unwrap_or_else(|_| Array2::zeros((n, d + 1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn classes_sort_numerically_when_numbers_else_as_text() {
        let s = |v: &[&str]| sorted_classes(&v.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(s(&["10", "2", "1", "2"]), ["1", "2", "10"]);
        assert_eq!(
            s(&["virginica", "setosa", "versicolor"]),
            ["setosa", "versicolor", "virginica"]
        );
    }

    #[test]
    fn standardizer_centers_and_scales_and_leaves_constants_alone() {
        let x = array![[1.0f64, 5.0], [3.0, 5.0]];
        let st = Standardizer::fit(&x);
        assert_eq!(st.mean, [2.0, 5.0]);
        assert_eq!(st.std, [1.0, 1.0]);
        let mut y = x.clone();
        st.apply(y.view_mut());
        assert_eq!(y, array![[-1.0, 0.0], [1.0, 0.0]]);
        st.invert(y.view_mut());
        assert_eq!(y, x);
    }

    #[test]
    fn the_ones_column_in_place_equals_a_fresh_matrix() {
        // Small (one thread) and large (a range per core: rows copied aside) shapes, d = 1 too.
        for (n, d) in [
            (0, 3),
            (1, 1),
            (7, 3),
            (5000, 20),
            (1000, 70),
            (70_000, 1),
            (300, 800),
        ] {
            let x = Array2::from_shape_fn((n, d), |(i, j)| (i * 31 + j * 7) as f32 % 13.0 - 6.0);
            let st = Standardizer::fit(&x);
            for standardize in [false, true] {
                let want = Array2::from_shape_fn((n, d + 1), |(i, j)| match (j < d, standardize) {
                    (false, _) => 1.0,
                    (true, false) => x[[i, j]],
                    (true, true) => ((f64::from(x[[i, j]]) - st.mean[j]) / st.std[j]) as f32,
                });
                let got = with_ones_column(x.clone(), standardize.then_some(&st));
                assert_eq!(got, want, "n {n}, d {d}, standardize {standardize}");
            }
        }
        // A view that does not start at its buffer's start.
        let x = Array2::from_shape_fn((4, 3), |(i, j)| (i * 3 + j) as f64);
        let tail = x.slice_move(s![1.., ..]);
        let got = with_ones_column(tail, None);
        assert_eq!(
            got,
            array![
                [3.0, 4.0, 5.0, 1.0],
                [6.0, 7.0, 8.0, 1.0],
                [9.0, 10.0, 11.0, 1.0]
            ]
        );
    }

    #[test]
    fn standardizing_on_all_cores_gives_the_bits_of_one_thread() {
        // 50 columns: two blocks of columns on two cores; 2000 rows: several row tasks.
        let x = Array2::from_shape_fn((2000, 50), |(i, j)| {
            ((i * 7919 + j * 104_729) % 1013) as f32 / 97.0 - 3.0 + j as f32
        });
        // The two passes, row after row, as one thread does them.
        let n = 2000.0;
        let mut mean = vec![0.0f64; 50];
        for row in x.outer_iter() {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += f64::from(v);
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut var = vec![0.0f64; 50];
        for row in x.outer_iter() {
            for ((s, &v), m) in var.iter_mut().zip(row).zip(&mean) {
                *s += (f64::from(v) - m) * (f64::from(v) - m);
            }
        }
        let std: Vec<f64> = var.iter().map(|s| (s / n).sqrt()).collect();
        let st = Standardizer::fit(&x);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&st.mean), bits(&mean));
        assert_eq!(bits(&st.std), bits(&std));
        let mut y = x.clone();
        st.apply(y.view_mut());
        for ((i, j), &v) in y.indexed_iter() {
            let want = ((f64::from(x[[i, j]]) - mean[j]) / std[j]) as f32;
            assert_eq!(v.to_bits(), want.to_bits(), "row {i}, column {j}");
        }
    }
}
