//! From a parsed CSV frame to training data: standardize features (and regression targets),
//! append the constant-1 bias feature, map class names to indices. Fitted once, saved in the model.

use ndarray::parallel::prelude::*;
use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis, Zip};

use crate::data::cores;
use crate::data::encode::{self, Encoding, Impute, Place, Raw, Unseen};
use crate::data::matrices::{Data, Targets};
use crate::data::{
    class_order, list, shown_str, Frame, LabelSpec, Labels as FrameLabels, LoadOptions,
};
use crate::math::linalg::tree_reduce;
use crate::{Error, Real, Result};

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

/// Rows that [`Standardizer::fit`] sums one after another before adding sums pairwise.
const FIT_BLOCK_ROWS: usize = 1024;

/// Σ over the rows of x of `add(sums, row)`: each block of FIT_BLOCK_ROWS rows summed row
/// after row, the blocks' sums added in a tree fixed by the number of rows, on the data
/// layer's cores when x is large.
fn column_sums<T: Real>(x: &Array2<T>, add: &(impl Fn(&mut [f64], &[T]) + Sync)) -> Vec<f64> {
    let cols = x.ncols();
    let big = x.len() >= PARALLEL_MIN_VALUES;
    let sum_rows = || {
        tree_reduce(
            x.view(),
            x.nrows(),
            FIT_BLOCK_ROWS,
            cores::count_for(big),
            &|x: ArrayView2<T>, at| x.split_at(Axis(0), at),
            &|_, block: ArrayView2<T>| {
                let mut sums = vec![0.0; cols];
                for row in block.outer_iter() {
                    match row.as_slice() {
                        Some(row) => add(&mut sums, row),
                        None => add(&mut sums, &row.to_vec()),
                    }
                }
                sums
            },
            &|mut a: Vec<f64>, b: Vec<f64>| {
                a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
                a
            },
        )
    };
    match cores::pool_for(big) {
        Some(pool) => pool.install(sum_rows),
        None => sum_rows(),
    }
}

/// Per-column mean and standard deviation; x ← (x − mean) / std. A constant column has std 1.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Standardizer {
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

impl Standardizer {
    /// Means and population standard deviations of the columns of x, in f64 (two passes:
    /// the means, then the squared deviations from them). Each pass sums blocks of
    /// 1024 rows (`FIT_BLOCK_ROWS`), row after row, and adds the blocks' sums pairwise in a tree
    /// fixed by the number of rows (`linalg::tree_reduce`), the blocks shared by the cores: the
    /// same bits on any number of cores, and for up to 1024 rows the plain row-after-row sums.
    pub fn fit<T: Real>(x: &Array2<T>) -> Self {
        let n = x.nrows().max(1) as f64;
        let mean: Vec<f64> = column_sums(x, &|acc, row| {
            acc.iter_mut().zip(row).for_each(|(a, &v)| *a += v.f64())
        })
        .into_iter()
        .map(|s| s / n)
        .collect();
        let var = column_sums(x, &|acc, row| {
            for ((a, &v), m) in acc.iter_mut().zip(row).zip(&mean) {
                *a += (v.f64() - m) * (v.f64() - m);
            }
        });
        Standardizer {
            mean,
            std: deviations(var, n),
        }
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

    /// [`Standardizer::fit`] with row i counting wᵢ times (`--weight-column`, as
    /// scikit-learn's `StandardScaler.fit(x, sample_weight=w)`): mean = Σᵢ wᵢ xᵢ / Σᵢ wᵢ,
    /// std² = Σᵢ wᵢ (xᵢ − mean)² / Σᵢ wᵢ, in f64, row after row. Integer weights give the
    /// statistics of the rows repeated (to rounding).
    pub fn fit_weighted<T: Real>(x: &Array2<T>, w: &[T]) -> Self {
        let total: f64 = w.iter().map(|v| v.f64()).sum();
        let total = if total > 0.0 { total } else { 1.0 };
        let cols = x.ncols();
        let mut mean = vec![0.0; cols];
        for (row, w_i) in x.outer_iter().zip(w) {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += w_i.f64() * v.f64();
            }
        }
        mean.iter_mut().for_each(|m| *m /= total);
        let mut var = vec![0.0; cols];
        for (row, w_i) in x.outer_iter().zip(w) {
            for ((a, v), m) in var.iter_mut().zip(row).zip(&mean) {
                *a += w_i.f64() * (v.f64() - m) * (v.f64() - m);
            }
        }
        Standardizer {
            mean,
            std: deviations(var, total),
        }
    }
}

/// The standard deviations √(Σ (x − mean)² / n) of summed squared deviations `var`; 1 for a
/// constant (or non-finite) column, so that standardizing it divides by nothing.
fn deviations(var: Vec<f64>, n: f64) -> Vec<f64> {
    var.into_iter()
        .map(|s| {
            let sd = (s / n).sqrt();
            if sd > 0.0 && sd.is_finite() {
                sd
            } else {
                1.0
            }
        })
        .collect()
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
    /// Categories and blanks (model format 2): how the file's columns (`encoding.columns`)
    /// become the inputs named in `features` (`colour=red`, `age_missing`). Absent: the
    /// feature columns are the inputs, as in format 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<Encoding>,
}

/// How the feature columns become inputs, as asked on the command line (`--categorical`,
/// `--impute`, `--missing-indicator`); the default asks nothing (numbers only, no blanks).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EncodeOptions {
    /// Columns one-hot encoded (read as text), by header name.
    pub categorical: Vec<String>,
    pub impute: Option<Impute>,
    /// A 0/1 `_missing` input per column with blanks in the training rows.
    pub missing_indicator: bool,
}

impl EncodeOptions {
    /// As the flags give them: `--categorical`'s column names (trimmed), `--impute`,
    /// `--missing-indicator`.
    pub fn from_flags(
        categorical: &[String],
        impute: Option<Impute>,
        missing_indicator: bool,
    ) -> Self {
        EncodeOptions {
            categorical: categorical.iter().map(|c| c.trim().to_string()).collect(),
            impute,
            missing_indicator,
        }
    }

    /// The flags that would fit `enc` again: its categorical columns, its imputation, whether
    /// it adds missing indicators.
    pub fn of(enc: &Encoding) -> Self {
        EncodeOptions {
            categorical: enc.categorical(),
            impute: enc.impute,
            missing_indicator: enc.columns.iter().any(|c| c.indicator),
        }
    }

    /// Each encoder asked for, in words that name its flag ("one-hot encodes `plan`
    /// (--categorical)"): what ONNX export lists when it refuses a model, from the flags
    /// before training and from a model file's [`Encoding`] alike.
    pub fn in_words(&self) -> Vec<String> {
        let mut words: Vec<String> = self
            .categorical
            .iter()
            .map(|c| format!("one-hot encodes `{c}` (--categorical)"))
            .collect();
        words.extend(
            self.impute
                .map(|i| format!("fills blanks (--impute {})", i.name())),
        );
        if self.missing_indicator {
            words.push("adds missing indicators (--missing-indicator)".into());
        }
        words
    }
}

/// Asks `opts` to read the `categorical` columns as text and, when the model imputes, blanks
/// as NaN: how a file is read for `--categorical`/`--impute` or for a model that has them.
pub fn read_encoded(opts: &mut LoadOptions, categorical: &[String], imputes: bool) {
    opts.missing = imputes;
    opts.text.extend(
        categorical
            .iter()
            .map(|c| (LabelSpec::Name(c.clone()), "--categorical")),
    );
}

impl EncodeOptions {
    /// True when nothing is asked: the model reads its columns as numbers, as in format 1.
    pub fn is_plain(&self) -> bool {
        self.categorical.is_empty() && self.impute.is_none()
    }
}

impl Prep {
    /// Fits the transformation on a training frame, its columns all numbers.
    pub fn fit<T: Real>(
        frame: &Frame<T>,
        task: Task,
        standardize: bool,
        standardize_targets: bool,
        bias: bool,
    ) -> Result<Self> {
        let plain = EncodeOptions::default();
        Self::fit_encoded(frame, task, standardize, standardize_targets, bias, &plain)
    }

    /// Fits the transformation on a training frame, categories and blanks as `enc` asks:
    /// the encoding first, then the standardization of the encoded inputs, the 0/1 inputs
    /// left as they are (mean 0, std 1), as scikit-learn's ColumnTransformer users scale only
    /// the number columns.
    pub fn fit_encoded<T: Real>(
        frame: &Frame<T>,
        task: Task,
        standardize: bool,
        standardize_targets: bool,
        bias: bool,
        enc: &EncodeOptions,
    ) -> Result<Self> {
        Self::fit_weighted(
            frame,
            task,
            standardize,
            standardize_targets,
            bias,
            enc,
            None,
        )
    }

    /// [`Self::fit_encoded`] with each training row weighing `w[i]` (--weight-column) in the
    /// standardizations, as in the loss, so that an integer weight k is k copies of its row.
    /// They are fitted on the encoded (imputed) inputs, as the unweighted ones are.
    pub fn fit_weighted<T: Real>(
        frame: &Frame<T>,
        task: Task,
        standardize: bool,
        standardize_targets: bool,
        bias: bool,
        enc: &EncodeOptions,
        w: Option<&[T]>,
    ) -> Result<Self> {
        let fit = |x: &Array2<T>| match w {
            Some(w) => Standardizer::fit_weighted(x, w),
            None => Standardizer::fit(x),
        };
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
            (FrameLabels::Targets(y), true) => Some(fit(y)),
            _ => None,
        };
        let (features, standardize, encoding) = if enc.is_plain() {
            let st = standardize.then(|| fit(&frame.x));
            (frame.feature_names.clone(), st, None)
        } else {
            let (names, raw) = raw_columns(frame, Some(&enc.categorical));
            let place = Place {
                source: &frame.source,
                lines: &frame.lines,
            };
            let encoding = encode::fit(&names, &raw, enc.impute, enc.missing_indicator, place)?;
            let st = if standardize {
                let (x, _) = encoding.apply(&names, &raw, frame.x.nrows(), false, place)?;
                let mut st = fit(&x);
                for ((m, s), binary) in st
                    .mean
                    .iter_mut()
                    .zip(st.std.iter_mut())
                    .zip(encoding.binary_inputs())
                {
                    if binary {
                        (*m, *s) = (0.0, 1.0);
                    }
                }
                Some(st)
            } else {
                None
            };
            (encoding.inputs(), st, Some(encoding))
        };
        Ok(Prep {
            task,
            features,
            labels: frame.label_names.clone(),
            classes,
            standardize,
            target_standardize,
            bias,
            encoding,
        })
    }

    /// The names of the file's columns the model reads as numbers, in file order: the
    /// feature columns (format 1), or the encoding's number columns. (Its categorical
    /// columns, read as text, are [`Self::categorical`].)
    pub fn number_columns(&self) -> Vec<String> {
        match &self.encoding {
            Some(e) => e.number_columns(),
            None => self.features.clone(),
        }
    }

    /// [`Self::number_columns`], then the `--weight-column` when there is one (read as a
    /// number with them, then taken out of the frame): the columns to ask a file for by name.
    pub fn number_columns_and(&self, weight_column: Option<&str>) -> Vec<String> {
        let mut columns = self.number_columns();
        columns.extend(weight_column.map(|c| c.trim().to_string()));
        columns
    }

    /// The columns the model reads as text (`--categorical`).
    pub fn categorical(&self) -> Vec<String> {
        self.encoding
            .as_ref()
            .map_or_else(Vec::new, Encoding::categorical)
    }

    /// True when the model fills blanks (`--impute`), so that a file is read with them.
    pub fn imputes(&self) -> bool {
        self.encoding.as_ref().is_some_and(|e| e.impute.is_some())
    }

    /// The frame's columns → the model's inputs before standardization (the frame's own
    /// matrix when there is no encoding), and the categories not seen in training met on
    /// the way; with `strict`, such a category is an error naming its line.
    pub fn encode<T: Real>(&self, frame: &Frame<T>, strict: bool) -> Result<(Array2<T>, Unseen)> {
        let Some(encoding) = &self.encoding else {
            return Ok((frame.x.clone(), Unseen::default()));
        };
        let (names, raw) = raw_columns(frame, None);
        let place = Place {
            source: &frame.source,
            lines: &frame.lines,
        };
        encoding.apply(&names, &raw, frame.x.nrows(), strict, place)
    }

    /// `encode`, taking the frame (its matrix moves, never copied, without an encoding);
    /// gives back the frame's labels and source.
    fn encode_owned<T: Real>(
        &self,
        frame: Frame<T>,
        strict: bool,
    ) -> Result<(Array2<T>, Unseen, Frame<T>)> {
        if self.encoding.is_none() {
            let mut frame = frame;
            let x = std::mem::take(&mut frame.x);
            return Ok((x, Unseen::default(), frame));
        }
        let (x, unseen) = self.encode(&frame, strict)?;
        Ok((x, unseen, frame))
    }

    /// The frame's inputs, encoded, standardized and with the bias column: what the model
    /// reads (labels not needed), and the unseen categories met.
    pub fn inputs_of<T: Real>(&self, frame: Frame<T>, strict: bool) -> Result<(Array2<T>, Unseen)> {
        let (x, unseen, _) = self.encode_owned(frame, strict)?;
        Ok((self.transform_x(x), unseen))
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
        self.transform_counted(frame, false).map(|(d, _)| d)
    }

    /// `transform`, which also counts the categories not seen in training (all-zero inputs),
    /// or with `strict` refuses them.
    pub fn transform_counted<T: Real>(
        &self,
        frame: Frame<T>,
        strict: bool,
    ) -> Result<(Data<T>, Unseen)> {
        let (x, unseen, frame) = self.encode_owned(frame, strict)?;
        let Frame { source, labels, .. } = frame;
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
        Ok((
            Data {
                x: self.transform_x(x),
                y,
                weights: None,
            },
            unseen,
        ))
    }
}

/// The frame's feature columns by name, as the encoder reads them: the numbers of `x` (NaN
/// for a blank) in file order, then the text columns in file order (those named in `text`
/// only, when given: a text column may be read for another purpose, `--keep`).
fn raw_columns<'f, T: Real>(
    frame: &'f Frame<T>,
    text: Option<&[String]>,
) -> (Vec<String>, Vec<Raw<'f, T>>) {
    let mut names = frame.feature_names.clone();
    let mut raw: Vec<Raw<T>> = frame.x.columns().into_iter().map(Raw::Numbers).collect();
    for c in &frame.text {
        if text.is_none_or(|t| t.contains(&c.name)) {
            names.push(c.name.clone());
            raw.push(Raw::Text(&c.values));
        }
    }
    (names, raw)
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
    // Exactly n more values (the budget counts those; `resize` alone may double the buffer).
    v.reserve_exact(n);
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
    use ndarray::{array, s};

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
    fn the_fit_sums_blocks_of_rows_in_a_fixed_tree() {
        // Two passes, row after row, over rows lo..hi: the sums of one block.
        fn block_sums(x: &Array2<f32>, lo: usize, hi: usize, mean: Option<&[f64]>) -> Vec<f64> {
            let mut sums = vec![0.0f64; x.ncols()];
            for row in x.slice(s![lo..hi, ..]).outer_iter() {
                for (j, (a, &v)) in sums.iter_mut().zip(row).enumerate() {
                    *a += match mean {
                        None => f64::from(v),
                        Some(m) => (f64::from(v) - m[j]) * (f64::from(v) - m[j]),
                    };
                }
            }
            sums
        }
        let add = |a: Vec<f64>, b: Vec<f64>| a.iter().zip(&b).map(|(a, b)| a + b).collect();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        // 1000 rows: one block, the plain row-after-row sums. 3000 rows: blocks A = 0..1024,
        // B = 1024..2048, C = 2048..3000, added as A + (B + C) (the tree halves at a block
        // boundary: 3 blocks → 1 + 2).
        for n in [1000, 3000] {
            let x = Array2::from_shape_fn((n, 50), |(i, j)| {
                ((i * 7919 + j * 104_729) % 1013) as f32 / 97.0 - 3.0 + j as f32
            });
            let tree = |mean: Option<&[f64]>| -> Vec<f64> {
                if n <= FIT_BLOCK_ROWS {
                    return block_sums(&x, 0, n, mean);
                }
                let (a, b, c) = (
                    block_sums(&x, 0, 1024, mean),
                    block_sums(&x, 1024, 2048, mean),
                    block_sums(&x, 2048, n, mean),
                );
                add(a, add(b, c))
            };
            let nf = n as f64;
            let mean: Vec<f64> = tree(None).iter().map(|s| s / nf).collect();
            let std: Vec<f64> = tree(Some(&mean)).iter().map(|s| (s / nf).sqrt()).collect();
            let st = Standardizer::fit(&x);
            assert_eq!(bits(&st.mean), bits(&mean), "{n} rows");
            assert_eq!(bits(&st.std), bits(&std), "{n} rows");
            // And the numbers are the columns' mean and deviation (a sum in f64 is exact to
            // ~1e-13 here).
            for (j, (&m, &sd)) in st.mean.iter().zip(&st.std).enumerate() {
                let col: Vec<f64> = x.column(j).iter().map(|&v| f64::from(v)).collect();
                let exact_m = col.iter().sum::<f64>() / nf;
                let exact_sd = (col.iter().map(|v| (v - exact_m).powi(2)).sum::<f64>() / nf).sqrt();
                assert!(
                    (m - exact_m).abs() < 1e-12 * (1.0 + exact_m.abs()),
                    "mean {j}"
                );
                assert!((sd - exact_sd).abs() < 1e-12 * exact_sd, "std {j}");
            }
            let mut y = x.clone();
            st.apply(y.view_mut());
            for ((i, j), &v) in y.indexed_iter() {
                let want = ((f64::from(x[[i, j]]) - mean[j]) / std[j]) as f32;
                assert_eq!(v.to_bits(), want.to_bits(), "row {i}, column {j}");
            }
        }
    }
}
