//! The training matrices: a design matrix X (n,d) and its targets (class indices or an (n,q)
//! matrix of real values), as preprocessing leaves them for SGD, evaluation and prediction.

use ndarray::{Array1, Array2, Axis};

use crate::math::loss::{Target, Weighted};
use crate::Real;

/// The training targets of a whole dataset, owned: class indices, or a (n,q) matrix of real
/// values (standardized unless --no-standardize-targets). Not [`crate::data::Labels`], the
/// labels as read from the file; preprocessing (`prep.rs`) maps those onto these.
#[derive(Clone, Debug, PartialEq)]
pub enum Targets<T> {
    /// yᵢ ∈ {0, …, q−1}.
    Classes(Vec<usize>),
    /// Y (n,q).
    Values(Array2<T>),
}

/// A design matrix and its labels, ready for training (already standardized, bias appended).
#[derive(Clone, Debug)]
pub struct Data<T> {
    /// X (n,d).
    pub x: Array2<T>,
    /// y, n of them.
    pub y: Targets<T>,
    /// wᵢ > 0, n of them (`--weight-column` × `--class-weight`), or None: every row weighs 1.
    pub weights: Option<Array1<T>>,
}

impl<T: Real> Targets<T> {
    /// Number of samples.
    pub fn len(&self) -> usize {
        match self {
            Targets::Classes(y) => y.len(),
            Targets::Values(y) => y.nrows(),
        }
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A borrowed view for the loss functions.
    pub fn target(&self) -> Target<'_, T> {
        match self {
            Targets::Classes(y) => Target::Classes(y),
            Targets::Values(y) => Target::Values(y.view()),
        }
    }

    /// The targets of the given rows, in that order.
    pub fn select(&self, rows: &[usize]) -> Targets<T> {
        match self {
            Targets::Classes(y) => Targets::Classes(rows.iter().map(|&i| y[i]).collect()),
            Targets::Values(y) => Targets::Values(y.select(Axis(0), rows)),
        }
    }
}

impl<T: Real> Data<T> {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.x.nrows()
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.x.nrows() == 0
    }

    /// The given rows, in that order (a copy).
    pub fn select(&self, rows: &[usize]) -> Data<T> {
        Data {
            x: self.x.select(Axis(0), rows),
            y: self.y.select(rows),
            weights: self.weights.as_ref().map(|w| w.select(Axis(0), rows)),
        }
    }

    /// The labels with the weights, for the loss functions.
    pub fn weighted(&self) -> Weighted<'_, T> {
        Weighted::new(self.y.target(), self.weights.as_ref().map(|w| w.view()))
    }
}
