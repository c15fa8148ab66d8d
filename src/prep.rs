//! From a parsed CSV frame to training data: standardize features (and regression targets),
//! append the constant-1 bias feature, map class names to indices. Fitted once, saved in the model.

use ndarray::{Array2, ArrayViewMut2};

use crate::data::{Frame, Labels as FrameLabels};
use crate::train::{Data, Labels};
use crate::{Error, Real, Result};

/// Classification or regression.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Predict one of q classes (softmax cross-entropy).
    Classify,
    /// Predict q real targets (half squared error).
    Regress,
}

/// Per-column mean and standard deviation; x ← (x − mean) / std. A constant column has std 1.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Standardizer {
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

impl Standardizer {
    /// Means and population standard deviations of the columns of x, in f64 (two passes).
    pub fn fit<T: Real>(x: &Array2<T>) -> Self {
        let n = x.nrows().max(1) as f64;
        let cols = x.ncols();
        let mut mean = vec![0.0; cols];
        for row in x.outer_iter() {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += v.f64();
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut var = vec![0.0; cols];
        for row in x.outer_iter() {
            for ((s, &v), m) in var.iter_mut().zip(row).zip(&mean) {
                let dv = v.f64() - m;
                *s += dv * dv;
            }
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

    /// x ← (x − mean) / std, in place.
    pub fn apply<T: Real>(&self, mut x: ArrayViewMut2<T>) {
        for mut row in x.outer_iter_mut() {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *v = T::of((v.f64() - m) / s);
            }
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
            (FrameLabels::Classes(names), Task::Classify) => {
                let classes = sorted_classes(names);
                if classes.len() < 2 {
                    return Err(Error::data(
                        &frame.source,
                        format!(
                            "the label column `{}` has a single class ({}); classification needs at least 2",
                            frame.label_names.join(","),
                            classes.first().map(String::as_str).unwrap_or("none")
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

    /// Standardizes the features in place and appends the bias column.
    pub fn transform_x<T: Real>(&self, mut x: Array2<T>) -> Array2<T> {
        if let Some(st) = &self.standardize {
            st.apply(x.view_mut());
        }
        if self.bias {
            let (n, d) = x.dim();
            let mut with_one = Array2::from_elem((n, d + 1), T::one());
            with_one.slice_mut(ndarray::s![.., ..d]).assign(&x);
            x = with_one;
        }
        x
    }

    /// Turns a frame into model-ready data. Labels are required; a class never seen in
    /// training is an error naming its line.
    pub fn transform<T: Real>(&self, frame: Frame<T>) -> Result<Data<T>> {
        let Frame {
            source,
            x,
            labels,
            label_lines,
            ..
        } = frame;
        let y = match labels {
            FrameLabels::Classes(names) => {
                let classes = self.classes.as_deref().unwrap_or(&[]);
                let mut idx = Vec::with_capacity(names.len());
                for (i, name) in names.iter().enumerate() {
                    match classes.binary_search_by(|c| class_order(c, name)) {
                        Ok(k) => idx.push(k),
                        Err(_) => {
                            return Err(Error::data_at(
                                &source,
                                label_lines.get(i).copied().unwrap_or(0),
                                self.labels.join(","),
                                format!(
                                    "label `{name}` was never seen in training (known: {})",
                                    classes.join(", ")
                                ),
                            ))
                        }
                    }
                }
                Labels::Classes(idx)
            }
            FrameLabels::Targets(mut y) => {
                if let Some(st) = &self.target_standardize {
                    st.apply(y.view_mut());
                }
                Labels::Values(y)
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

/// Class names sorted: numerically when every name is a number ("2" < "10"), else as text.
pub fn sorted_classes(names: &[String]) -> Vec<String> {
    let mut classes: Vec<String> = names.to_vec();
    classes.sort_by(|a, b| class_order(a, b));
    classes.dedup();
    classes
}

/// The order of class names: numbers first, by value; then text, lexicographically.
fn class_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y).then_with(|| a.cmp(b)),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
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
}
