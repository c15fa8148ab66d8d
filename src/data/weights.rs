//! Sample and class weights: `--weight-column` taken out of a frame's features (each value
//! checked finite and > 0, errors at path:line:column) and `--class-weight` resolved per class.

use std::path::{Path, PathBuf};

use ndarray::{Array1, Axis};

use crate::data::matrices::Targets;
use crate::data::{class_order, list, shown_str, Frame};
use crate::{Error, Real, Result};

/// `--class-weight`: how much each class's rows count in L = Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ.
#[derive(Clone, Debug, PartialEq)]
pub enum ClassWeight {
    /// wₖ = n / (q · nₖ), nₖ the training rows of class k (scikit-learn's "balanced").
    Balanced,
    /// `cat=2,dog=0.5`: the classes named get these weights, the others 1.
    List(Vec<(String, f64)>),
    /// `@FILE`: the same list in a file, one `class=weight` per line or comma-separated.
    File(PathBuf),
}

impl std::fmt::Display for ClassWeight {
    /// The flag's value as given (for reports and the model file).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClassWeight::Balanced => f.write_str("balanced"),
            ClassWeight::List(l) => {
                let items: Vec<String> = l.iter().map(|(c, w)| format!("{c}={w}")).collect();
                f.write_str(&items.join(","))
            }
            ClassWeight::File(p) => write!(f, "@{}", p.display()),
        }
    }
}

impl std::str::FromStr for ClassWeight {
    type Err = String;

    /// `balanced`, `@FILE`, or `class=weight[,class=weight…]`.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "balanced" => Ok(ClassWeight::Balanced),
            _ => match s.strip_prefix('@') {
                Some("") => Err("`@` must be followed by a file name".into()),
                Some(path) => Ok(ClassWeight::File(PathBuf::from(path))),
                None => parse_list(s).map(ClassWeight::List),
            },
        }
    }
}

/// `cat=2,dog=0.5` (commas or line ends between items; blank items and `#` comment lines
/// skipped): each weight a finite number > 0, each class named once.
fn parse_list(s: &str) -> std::result::Result<Vec<(String, f64)>, String> {
    let mut out: Vec<(String, f64)> = Vec::new();
    let items = s
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(|l| l.split(','))
        .map(str::trim)
        .filter(|i| !i.is_empty());
    for item in items {
        let Some((class, w)) = item.rsplit_once('=') else {
            return Err(format!(
                "expected `balanced`, `@FILE` or `class=weight[,class=weight…]`, got `{}`",
                shown_str(item)
            ));
        };
        let class = class.trim();
        let w: f64 = w
            .trim()
            .parse()
            .map_err(|_| format!("`{}`: the weight is not a number", shown_str(item)))?;
        if !(w.is_finite() && w > 0.0) {
            return Err(format!(
                "`{}`: a class weight must be a finite number > 0",
                shown_str(item)
            ));
        }
        if out.iter().any(|(c, _)| class_order(c, class).is_eq()) {
            return Err(format!("class `{}` is given twice", shown_str(class)));
        }
        out.push((class.to_string(), w));
    }
    if out.is_empty() {
        return Err("the list of class weights is empty".into());
    }
    Ok(out)
}

/// What a run weighted its rows by, recorded in `--json`, the report and the model file.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Weighting {
    /// `--weight-column`: the column of per-row weights (not a feature).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_column: Option<String>,
    /// `--class-weight` as given (`balanced`, a list, `@FILE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_weight: Option<String>,
    /// The weight of each class, in the model's class order (wᵢ = sample weight × this).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_weights: Option<Vec<f64>>,
}

impl Weighting {
    /// True when every row weighs 1 (the seed's plain mean).
    pub fn is_none(&self) -> bool {
        self.weight_column.is_none() && self.class_weight.is_none()
    }

    /// One line for people: `column w × class weight balanced (a 0.667, b 1, c 2)`.
    pub fn describe(&self, classes: Option<&[String]>) -> String {
        let mut parts = Vec::new();
        if let Some(c) = &self.weight_column {
            parts.push(format!("column `{}`", shown_str(c)));
        }
        if let Some(spec) = &self.class_weight {
            let mut p = format!("class weight {}", shown_str(spec));
            if let (Some(w), Some(names)) = (&self.class_weights, classes) {
                let each: Vec<String> = names
                    .iter()
                    .zip(w)
                    .take(12)
                    .map(|(n, w)| format!("{} {}", shown_str(n), (w * 1000.0).round() / 1000.0))
                    .collect();
                let more = if names.len() > 12 { ", …" } else { "" };
                p.push_str(&format!(" ({}{more})", each.join(", ")));
            }
            parts.push(p);
        }
        parts.join(" × ")
    }
}

/// Takes the feature column named `name` out of `frame` (out of `x` and `feature_names`) and
/// returns it: the weights of the rows, each a finite number > 0 (else an error at its
/// path:line:column). `flag` names the option in messages.
pub fn take_column<T: Real>(frame: &mut Frame<T>, name: &str, flag: &str) -> Result<Array1<T>> {
    let Some(j) = frame.feature_names.iter().position(|n| n == name) else {
        return Err(Error::data(
            &frame.source,
            format!(
                "{flag}: no feature column named `{}`; the feature columns are: {}",
                shown_str(name),
                list(&frame.feature_names)
            ),
        ));
    };
    let column: Array1<T> = frame.x.column(j).to_owned();
    if let Some((i, &w)) = column
        .iter()
        .enumerate()
        .find(|(_, w)| !(w.is_finite() && **w > T::zero()))
    {
        return Err(Error::data_at(
            &frame.source,
            frame.lines.line(i).unwrap_or(0),
            name,
            format!("a weight ({flag}) must be a finite number > 0, got {w}"),
        ));
    }
    let keep: Vec<usize> = (0..frame.x.ncols()).filter(|&k| k != j).collect();
    frame.x = frame.x.select(Axis(1), &keep);
    frame.feature_names.remove(j);
    Ok(column)
}

/// The weight of each of `classes` (the model's, in order), given the class index of each
/// training row `y`. Balanced: wₖ = n / (q · nₖ), as scikit-learn's `compute_class_weight`.
pub fn class_weights(spec: &ClassWeight, classes: &[String], y: &[usize]) -> Result<Vec<f64>> {
    const FLAG: &str = "--class-weight";
    let q = classes.len();
    match spec {
        ClassWeight::Balanced => {
            let mut n_k = vec![0usize; q];
            for &k in y {
                if let Some(c) = n_k.get_mut(k) {
                    *c += 1;
                }
            }
            let n = y.len() as f64;
            classes
                .iter()
                .zip(&n_k)
                .map(|(c, &nk)| match nk {
                    0 => Err(Error::flag(
                        FLAG,
                        format!(
                            "balanced needs every class among the training rows, but class `{}` has none",
                            shown_str(c)
                        ),
                        "balanced",
                    )),
                    // wₖ = n / (q · nₖ)
                    _ => Ok(n / (q as f64 * nk as f64)),
                })
                .collect()
        }
        ClassWeight::List(list_) => by_name(list_, classes),
        ClassWeight::File(path) => {
            let text = read_list(path)?;
            let list_ = parse_list(&text).map_err(|e| {
                Error::flag(FLAG, e, format!("@{}", crate::error::shown_path(path)))
            })?;
            by_name(&list_, classes)
        }
    }
}

/// The list's weights by class; classes not named weigh 1, a name that is no class is refused.
fn by_name(given: &[(String, f64)], classes: &[String]) -> Result<Vec<f64>> {
    let mut w = vec![1.0; classes.len()];
    for (name, v) in given {
        match classes.iter().position(|c| class_order(c, name).is_eq()) {
            Some(k) => w[k] = *v,
            None => {
                return Err(Error::flag(
                    "--class-weight",
                    format!(
                        "names a class the data does not have (classes: {})",
                        list(classes)
                    ),
                    shown_str(name),
                ))
            }
        }
    }
    Ok(w)
}

/// The text of `@FILE` (at most 1 MiB: a list of class weights, not a data file).
fn read_list(path: &Path) -> Result<String> {
    use std::io::Read;
    let shown = || format!("@{}", crate::error::shown_path(path));
    let file = std::fs::File::open(path).map_err(|e| {
        Error::flag(
            "--class-weight",
            format!("cannot read the file ({e})"),
            shown(),
        )
    })?;
    let mut text = String::new();
    file.take(1 << 20).read_to_string(&mut text).map_err(|e| {
        Error::flag(
            "--class-weight",
            format!("cannot read the file ({e})"),
            shown(),
        )
    })?;
    Ok(text)
}

/// wᵢ = (sample weight of row i, or 1) × (weight of its class, or 1); None when neither is
/// given, so that an unweighted run takes the seed's path unchanged.
pub fn row_weights<T: Real>(
    sample: Option<Array1<T>>,
    class: Option<&[f64]>,
    y: &Targets<T>,
) -> Option<Array1<T>> {
    match (sample, class, y) {
        (s, Some(c), Targets::Classes(y)) => Some(
            y.iter()
                .enumerate()
                .map(|(i, &k)| {
                    let s_i = s.as_ref().map_or(1.0, |s| s[i].f64());
                    T::of(s_i * c.get(k).copied().unwrap_or(1.0))
                })
                .collect(),
        ),
        (s, _, _) => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_values_parse() {
        assert_eq!("balanced".parse(), Ok(ClassWeight::Balanced));
        assert_eq!(
            "cat=2, dog = 0.5".parse(),
            Ok(ClassWeight::List(vec![
                ("cat".into(), 2.0),
                ("dog".into(), 0.5)
            ]))
        );
        assert_eq!("@w.txt".parse(), Ok(ClassWeight::File("w.txt".into())));
        for bad in [
            "cat", "cat=0", "cat=-1", "cat=inf", "cat=x", "a=1,a=2", "", "@",
        ] {
            assert!(bad.parse::<ClassWeight>().is_err(), "{bad}");
        }
        // A class name may itself contain `=`: the last one splits.
        assert_eq!(
            "a=b=3".parse(),
            Ok(ClassWeight::List(vec![("a=b".into(), 3.0)]))
        );
    }

    #[test]
    fn balanced_is_n_over_q_n_k() {
        // 6 rows: 3 of class 0, 2 of class 1, 1 of class 2 → 6/(3·3), 6/(3·2), 6/(3·1).
        let classes: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let w = class_weights(&ClassWeight::Balanced, &classes, &[0, 1, 0, 2, 1, 0]).unwrap();
        assert_eq!(w, vec![6.0 / 9.0, 1.0, 2.0]);
        let e = class_weights(&ClassWeight::Balanced, &classes, &[0, 1]).unwrap_err();
        assert!(e.to_string().contains("class `c` has none"), "{e}");
    }

    #[test]
    fn a_list_names_classes_the_others_weigh_one() {
        let classes: Vec<String> = ["2", "10", "cat"].map(String::from).to_vec();
        let spec: ClassWeight = "cat=3,2.0=0.5".parse().unwrap();
        assert_eq!(
            class_weights(&spec, &classes, &[]).unwrap(),
            vec![0.5, 1.0, 3.0]
        );
        let spec: ClassWeight = "dog=3".parse().unwrap();
        let e = class_weights(&spec, &classes, &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--class-weight names a class the data does not have (classes: 2, 10, cat), got dog"
        );
    }

    #[test]
    fn row_weights_multiply_sample_and_class() {
        let y = Targets::<f64>::Classes(vec![0, 1, 1]);
        let s = Array1::from(vec![2.0, 3.0, 0.5]);
        let w = row_weights(Some(s.clone()), Some(&[1.5, 4.0]), &y).unwrap();
        assert_eq!(w.to_vec(), vec![3.0, 12.0, 2.0]);
        assert_eq!(row_weights(Some(s.clone()), None, &y), Some(s));
        assert_eq!(row_weights::<f64>(None, None, &y), None);
    }
}
