//! Categories and blanks: one-hot encoding of text columns (sorted categories), imputation of
//! blanks (mean, median or zero; the most frequent category) and 0/1 missing indicators.
//!
//! Fitted on the training rows only and saved in the model (`Prep::encoding`), in a form an
//! exporter can read without this code: per column its name, its sorted categories (a
//! categorical column), the value a blank becomes, and whether it has a `_missing` indicator.
//! The model's inputs are, as a scikit-learn ColumnTransformer of a number pipeline and a
//! categorical one lays them out: the number columns as themselves, in file order; then each
//! categorical column as one 0/1 input `column=category` per category; then one
//! `column_missing` input per column with an indicator (`SimpleImputer(add_indicator=True)`
//! puts them last too). A category never seen in training encodes as all zeros
//! (`OneHotEncoder(handle_unknown="ignore")`).

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::{Array2, ArrayView1};

use super::rows::RowLines;
use super::shown::{list, shown_str};
use crate::{Error, Real, Result};

/// The field values that mean "no value" (besides an empty or all-blank field), exactly:
/// pandas' most common spellings. Anything else in a number column is an error; in a
/// categorical column it is a category.
pub const MISSING_TOKENS: [&str; 6] = ["NA", "N/A", "NaN", "nan", "NULL", "null"];

/// True for a field that holds no value: empty (after trimming) or one of [`MISSING_TOKENS`].
pub fn is_missing(field: &str) -> bool {
    let f = field.trim();
    f.is_empty() || MISSING_TOKENS.contains(&f)
}

/// How blanks in number columns are filled (`--impute`). Blanks in a categorical column are
/// filled with its most frequent training category whatever the strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Impute {
    /// The mean of the column's values in the training rows.
    Mean,
    /// Their median (the mean of the two middle ones for an even count).
    Median,
    /// 0.
    Zero,
}

impl Impute {
    pub const ALL: [Impute; 3] = [Impute::Mean, Impute::Median, Impute::Zero];
    pub const NAMES: [&'static str; 3] = ["mean", "median", "zero"];

    pub fn name(self) -> &'static str {
        match self {
            Impute::Mean => "mean",
            Impute::Median => "median",
            Impute::Zero => "zero",
        }
    }
}

impl std::str::FromStr for Impute {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Impute::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown strategy '{s}' (possible values: {})",
                    Impute::NAMES.join(", ")
                )
            })
    }
}

/// What a blank becomes: a number (number column) or a category (categorical column).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Fill {
    Number(f64),
    Category(String),
}

/// One column of the file as the model reads it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Column {
    /// The header name.
    pub name: String,
    /// A categorical column: its categories, sorted (byte order), one input `name=category`
    /// each. Absent for a number column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<String>>,
    /// What a blank becomes (with `--impute`); absent: a blank is an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill: Option<Fill>,
    /// A 0/1 input `name_missing` (1 where the field was blank), after all the others.
    #[serde(default)]
    pub indicator: bool,
}

/// The columns of the file the model reads and how they become its inputs.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Encoding {
    /// The number columns in file order, then the categorical ones in file order (the
    /// order of the model's inputs).
    pub columns: Vec<Column>,
    /// The strategy the fills of the number columns came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impute: Option<Impute>,
}

/// One column of the rows as read, before encoding.
#[derive(Clone, Copy, Debug)]
pub enum Raw<'a, T> {
    /// Numbers; NaN for a blank.
    Numbers(ArrayView1<'a, T>),
    /// Text fields, one per row; blank as [`is_missing`] says.
    Text(&'a [String]),
}

/// Where the rows came from, for messages: the file and the line of each row.
#[derive(Clone, Copy)]
pub struct Place<'a> {
    pub source: &'a Path,
    pub lines: &'a RowLines,
}

impl Place<'_> {
    fn at(&self, row: usize, column: &str, msg: String) -> Error {
        match self.lines.line(row) {
            Some(line) => Error::data_at(self.source, line, shown_str(column), msg),
            None => Error::data(self.source, msg),
        }
    }
}

/// Categories never seen in training, met while encoding: counted, by column and category.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Unseen {
    /// Rows with at least one.
    pub rows: usize,
    /// column → category → rows.
    pub columns: BTreeMap<String, BTreeMap<String, usize>>,
}

impl Unseen {
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// `3 rows had a category not seen in training (colour: purple ×2, teal ×1); they are
    /// encoded as all zeros in that column`, None when there were none.
    pub fn note(&self) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let mut parts = Vec::new();
        for (column, cats) in &self.columns {
            let mut cats: Vec<(&String, &usize)> = cats.iter().collect();
            cats.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let shown: Vec<String> = cats
                .iter()
                .take(5)
                .map(|(c, k)| format!("{} ×{k}", shown_str(c)))
                .collect();
            let more = if cats.len() > 5 {
                format!(", and {} more", cats.len() - 5)
            } else {
                String::new()
            };
            parts.push(format!("{}: {}{more}", shown_str(column), shown.join(", ")));
        }
        let rows = match self.rows {
            1 => "1 row had".to_string(),
            n => format!("{n} rows had"),
        };
        Some(format!(
            "{rows} a category not seen in training ({}); encoded as all zeros in that \
             column's inputs (--strict makes it an error)",
            parts.join("; ")
        ))
    }
}

/// The columns `raw` of the training rows → an encoding; `categorical` names the columns
/// read as text. Without `impute`, a blank in a categorical column is an error (the parser
/// refuses one in a number column).
pub fn fit<T: Real>(
    names: &[String],
    raw: &[Raw<T>],
    impute: Option<Impute>,
    indicators: bool,
    place: Place,
) -> Result<Encoding> {
    let mut columns = Vec::with_capacity(names.len());
    for (name, col) in names.iter().zip(raw) {
        let column = match col {
            Raw::Numbers(v) => {
                let values: Vec<f64> = v.iter().map(|x| x.f64()).filter(|x| !x.is_nan()).collect();
                let blanks = values.len() < v.len();
                if values.is_empty() && impute.is_some() {
                    return Err(Error::data(
                        place.source,
                        format!(
                            "column `{}` is blank in every training row: there is nothing to \
                             impute it from (--ignore it)",
                            shown_str(name)
                        ),
                    ));
                }
                Column {
                    name: name.clone(),
                    categories: None,
                    fill: impute.map(|s| Fill::Number(statistic(s, values))),
                    indicator: indicators && blanks,
                }
            }
            Raw::Text(fields) => {
                let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
                let mut blanks = false;
                for (i, f) in fields.iter().enumerate() {
                    if is_missing(f) {
                        if impute.is_none() {
                            return Err(place.at(i, name, blank_message(name, f)));
                        }
                        blanks = true;
                    } else {
                        *counts.entry(f.trim()).or_default() += 1;
                    }
                }
                // The most frequent; the first in sorted order among ties (scikit-learn's).
                let most = counts
                    .iter()
                    .fold(None::<(&str, usize)>, |best, (&c, &k)| match best {
                        Some((_, bk)) if bk >= k => best,
                        _ => Some((c, k)),
                    });
                let Some((most, _)) = most else {
                    return Err(Error::data(
                        place.source,
                        format!(
                            "categorical column `{}` is blank in every training row: it has \
                             no category (--ignore it)",
                            shown_str(name)
                        ),
                    ));
                };
                Column {
                    name: name.clone(),
                    fill: impute.map(|_| Fill::Category(most.to_string())),
                    categories: Some(counts.keys().map(|c| c.to_string()).collect()),
                    indicator: indicators && blanks,
                }
            }
        };
        columns.push(column);
    }
    Ok(Encoding { columns, impute })
}

/// The error for a blank field where blanks are refused.
pub fn blank_message(column: &str, field: &str) -> String {
    let what = if field.trim().is_empty() {
        "empty field".to_string()
    } else {
        format!("`{}`", shown_str(field.trim()))
    };
    format!(
        "{what} is a missing value in column `{}`: pass --impute mean|median|zero to fill \
         blanks (fitted on the training rows), or remove the row",
        shown_str(column)
    )
}

/// The statistic of a column's values (blanks left out); at least one value.
fn statistic(strategy: Impute, mut values: Vec<f64>) -> f64 {
    let n = values.len();
    match strategy {
        Impute::Zero => 0.0,
        Impute::Mean => values.iter().sum::<f64>() / n.max(1) as f64,
        Impute::Median if n == 0 => 0.0,
        Impute::Median => {
            // The middle value (and, for an even count, the largest below it) in O(n).
            let (below, &mut mid, _) = values.select_nth_unstable_by(n / 2, f64::total_cmp);
            match n % 2 {
                0 => (below.iter().copied().fold(f64::MIN, f64::max) + mid) / 2.0,
                _ => mid,
            }
        }
    }
}

impl Encoding {
    /// Checks a loaded encoding: its inputs are `features`, its columns unique, its
    /// categories sorted and unique (they are looked up by binary search), its fills of the
    /// column's kind and finite.
    pub fn validate(&self, features: &[String]) -> std::result::Result<(), String> {
        let bad = |what: String| Err(format!("{what}; the file is inconsistent"));
        if self.columns.is_empty() {
            return bad("has a prep.encoding without columns".into());
        }
        let mut seen = std::collections::HashSet::new();
        for c in &self.columns {
            if !seen.insert(c.name.as_str()) {
                return bad(format!("has the encoded column {:?} twice", c.name));
            }
            if let Some(cats) = &c.categories {
                if cats.is_empty() || cats.windows(2).any(|w| w[0] >= w[1]) {
                    return bad(format!(
                        "has categories of column {:?} that are empty, not sorted or repeated",
                        c.name
                    ));
                }
            }
            match (&c.categories, &c.fill) {
                (_, None) | (Some(_), Some(Fill::Category(_))) => {}
                (None, Some(Fill::Number(v))) if v.is_finite() => {}
                _ => {
                    return bad(format!(
                        "has a fill of column {:?} of the wrong kind",
                        c.name
                    ))
                }
            }
        }
        if self.inputs() != features {
            return bad("has prep.features that are not the inputs of its prep.encoding".into());
        }
        Ok(())
    }

    /// The number columns' names.
    pub fn number_columns(&self) -> Vec<String> {
        self.columns
            .iter()
            .filter(|c| c.categories.is_none())
            .map(|c| c.name.clone())
            .collect()
    }

    /// The categorical columns' names.
    pub fn categorical(&self) -> Vec<String> {
        self.columns
            .iter()
            .filter(|c| c.categories.is_some())
            .map(|c| c.name.clone())
            .collect()
    }

    /// The model's input names: `age`, `colour=red`, …, then `age_missing`, ….
    pub fn inputs(&self) -> Vec<String> {
        let mut names = Vec::new();
        for c in &self.columns {
            match &c.categories {
                None => names.push(c.name.clone()),
                Some(cats) => names.extend(cats.iter().map(|k| format!("{}={k}", c.name))),
            }
        }
        names.extend(self.indicator_names());
        names
    }

    fn indicator_names(&self) -> impl Iterator<Item = String> + '_ {
        self.columns
            .iter()
            .filter(|c| c.indicator)
            .map(|c| format!("{}_missing", c.name))
    }

    /// For each input, whether it is a 0/1 input (one-hot or indicator), left unstandardized.
    pub fn binary_inputs(&self) -> Vec<bool> {
        let mut out = Vec::new();
        for c in &self.columns {
            match &c.categories {
                None => out.push(false),
                Some(cats) => out.extend(cats.iter().map(|_| true)),
            }
        }
        out.extend(self.indicator_names().map(|_| true));
        out
    }

    /// The rows `raw` (columns named `names`, n rows) → the model's inputs (n, inputs), before
    /// standardization. A category not seen in training is all zeros, counted in the
    /// returned [`Unseen`], or with `strict` an error naming its line. Written row by row
    /// (each output row once, in order), the first error in file order reported.
    pub fn apply<T: Real>(
        &self,
        names: &[String],
        raw: &[Raw<T>],
        n: usize,
        strict: bool,
        place: Place,
    ) -> Result<(Array2<T>, Unseen)> {
        // Each column: its raw values, where its inputs start, where its indicator is.
        let width = self.inputs().len();
        let mut plan = Vec::with_capacity(self.columns.len());
        let (mut at, mut indicator_at) = (0, width - self.indicator_names().count());
        for c in &self.columns {
            let Some(j) = names.iter().position(|m| *m == c.name) else {
                return Err(Error::data(
                    place.source,
                    format!(
                        "has no column `{}`, which the model reads; the columns are: {}",
                        shown_str(&c.name),
                        list(names)
                    ),
                ));
            };
            let col = match (&c.categories, raw.get(j).copied()) {
                (None, Some(col @ Raw::Numbers(_))) | (Some(_), Some(col @ Raw::Text(_))) => col,
                _ => {
                    return Err(Error::data(
                        place.source,
                        format!(
                            "internal: column `{}` was not read as the model reads it",
                            shown_str(&c.name)
                        ),
                    ))
                }
            };
            plan.push((c, col, at, c.indicator.then_some(indicator_at)));
            at += c.categories.as_ref().map_or(1, Vec::len);
            indicator_at += usize::from(c.indicator);
        }
        let mut x = zeros::<T>(n, width).ok_or_else(|| {
            Error::data(
                place.source,
                format!(
                    "its {n} rows encoded as {width} inputs do not fit in the memory this \
                     process may use (a categorical column of many categories, such as an \
                     identifier, is better --ignore'd)"
                ),
            )
        })?;
        let mut unseen = Unseen::default();
        for (i, mut out) in x.outer_iter_mut().enumerate() {
            let mut new_category = false;
            for &(c, col, at, indicator) in &plan {
                let blank = match col {
                    Raw::Numbers(v) => {
                        let value = v.get(i).copied().unwrap_or_else(T::zero);
                        let blank = value.is_nan();
                        let value = match (&c.fill, blank) {
                            (_, false) => value,
                            (Some(Fill::Number(f)), true) => T::of(*f),
                            _ => return Err(place.at(i, &c.name, blank_message(&c.name, ""))),
                        };
                        if let Some(slot) = out.get_mut(at) {
                            *slot = value;
                        }
                        blank
                    }
                    Raw::Text(fields) => {
                        let f = fields.get(i).map_or("", String::as_str);
                        let blank = is_missing(f);
                        let category = match (&c.fill, blank) {
                            (_, false) => f.trim(),
                            (Some(Fill::Category(k)), true) => k.as_str(),
                            _ => return Err(place.at(i, &c.name, blank_message(&c.name, f))),
                        };
                        let cats = c.categories.as_deref().unwrap_or(&[]);
                        match cats.binary_search_by(|k| k.as_str().cmp(category)) {
                            Ok(k) => {
                                if let Some(slot) = out.get_mut(at + k) {
                                    *slot = T::one();
                                }
                            }
                            Err(_) if strict => {
                                return Err(place.at(
                                    i,
                                    &c.name,
                                    format!(
                                        "category `{}` was never seen in training (known: {}); \
                                         without --strict it would be encoded as all zeros",
                                        shown_str(category),
                                        list(cats)
                                    ),
                                ))
                            }
                            Err(_) => {
                                *unseen
                                    .columns
                                    .entry(c.name.clone())
                                    .or_default()
                                    .entry(category.to_string())
                                    .or_default() += 1;
                                new_category = true;
                            }
                        }
                        blank
                    }
                };
                if let (true, Some(k)) = (blank, indicator) {
                    if let Some(slot) = out.get_mut(k) {
                        *slot = T::one();
                    }
                }
            }
            unseen.rows += usize::from(new_category);
        }
        Ok((x, unseen))
    }
}

/// An (n, width) matrix of zeros, or None when memory is refused (never an abort).
fn zeros<T: Real>(n: usize, width: usize) -> Option<Array2<T>> {
    let len = n.checked_mul(width)?;
    let mut v = Vec::new();
    v.try_reserve_exact(len).ok()?;
    v.resize(len, T::zero());
    Array2::from_shape_vec((n, width), v).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array1};

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn lines(n: usize) -> RowLines {
        let mut l = RowLines::default();
        for i in 0..n {
            l.push(i as u64 + 2).unwrap();
        }
        l
    }

    #[test]
    fn one_hot_in_file_order_with_sorted_categories_and_indicators_last() {
        let names = strings(&["age", "colour"]);
        let age: Array1<f64> = array![30.0, f64::NAN, 50.0, 10.0];
        let colour = strings(&["red", "blue", "", "red"]);
        let raw = [Raw::Numbers(age.view()), Raw::Text(&colour)];
        let l = lines(4);
        let place = Place {
            source: Path::new("t.csv"),
            lines: &l,
        };
        let enc = fit(&names, &raw, Some(Impute::Median), true, place).unwrap();
        assert_eq!(
            enc.inputs(),
            [
                "age",
                "colour=blue",
                "colour=red",
                "age_missing",
                "colour_missing"
            ]
        );
        assert_eq!(enc.binary_inputs(), [false, true, true, true, true]);
        // Median of 30, 50, 10; most frequent colour red.
        assert_eq!(enc.columns[0].fill, Some(Fill::Number(30.0)));
        assert_eq!(enc.columns[1].fill, Some(Fill::Category("red".into())));
        let (x, unseen) = enc.apply(&names, &raw, 4, false, place).unwrap();
        assert_eq!(
            x,
            array![
                [30.0, 0.0, 1.0, 0.0, 0.0],
                [30.0, 1.0, 0.0, 1.0, 0.0],
                [50.0, 0.0, 1.0, 0.0, 1.0],
                [10.0, 0.0, 1.0, 0.0, 0.0]
            ]
        );
        assert!(unseen.is_empty());
    }

    #[test]
    fn statistics_leave_blanks_out() {
        assert_eq!(statistic(Impute::Mean, vec![1.0, 2.0, 6.0]), 3.0);
        assert_eq!(statistic(Impute::Median, vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(statistic(Impute::Median, vec![7.0]), 7.0);
        // As the sorted middle, for odd and even counts with repeats.
        for n in 1..40usize {
            let v: Vec<f64> = (0..n).map(|i| ((i * 37) % 11) as f64 - 3.5).collect();
            let mut sorted = v.clone();
            sorted.sort_by(f64::total_cmp);
            let want = match n % 2 {
                0 => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
                _ => sorted[n / 2],
            };
            assert_eq!(statistic(Impute::Median, v), want, "n {n}");
        }
        assert_eq!(statistic(Impute::Zero, vec![7.0]), 0.0);
    }

    #[test]
    fn ties_for_most_frequent_take_the_first_sorted() {
        let names = strings(&["c"]);
        let c = strings(&["b", "a", "NA", "b", "a"]);
        let l = lines(5);
        let place = Place {
            source: Path::new("t.csv"),
            lines: &l,
        };
        let enc = fit::<f64>(&names, &[Raw::Text(&c)], Some(Impute::Zero), false, place).unwrap();
        assert_eq!(enc.columns[0].fill, Some(Fill::Category("a".into())));
        assert!(!enc.columns[0].indicator);
    }

    #[test]
    fn unseen_categories_are_zero_and_counted_or_an_error_with_strict() {
        let names = strings(&["colour"]);
        let train = strings(&["red", "blue"]);
        let l = lines(4);
        let place = Place {
            source: Path::new("t.csv"),
            lines: &l,
        };
        let enc = fit::<f32>(&names, &[Raw::Text(&train)], None, false, place).unwrap();
        let test = strings(&["purple", "red", "purple", "teal"]);
        let (x, unseen) = enc
            .apply::<f32>(&names, &[Raw::Text(&test)], 4, false, place)
            .unwrap();
        assert_eq!(x, array![[0.0, 0.0], [0.0, 1.0], [0.0, 0.0], [0.0, 0.0]]);
        assert_eq!(unseen.rows, 3);
        assert_eq!(
            unseen.note().unwrap(),
            "3 rows had a category not seen in training (colour: purple ×2, teal ×1); \
             encoded as all zeros in that column's inputs (--strict makes it an error)"
        );
        let e = enc
            .apply::<f32>(&names, &[Raw::Text(&test)], 4, true, place)
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("t.csv:2:colour: category `purple`"),
            "{e}"
        );
        // A blank without --impute names its line.
        let blank = strings(&["red", " "]);
        let e = fit::<f32>(&names, &[Raw::Text(&blank)], None, false, place).unwrap_err();
        assert!(
            e.to_string().starts_with("t.csv:3:colour: empty field"),
            "{e}"
        );
    }

    #[test]
    fn the_stored_form_round_trips_through_json() {
        let enc = Encoding {
            columns: vec![
                Column {
                    name: "age".into(),
                    categories: None,
                    fill: Some(Fill::Number(41.5)),
                    indicator: true,
                },
                Column {
                    name: "colour".into(),
                    categories: Some(strings(&["blue", "red"])),
                    fill: Some(Fill::Category("red".into())),
                    indicator: false,
                },
            ],
            impute: Some(Impute::Median),
        };
        let text = serde_json::to_string(&enc).unwrap();
        assert!(text.contains(r#""fill":41.5"#), "{text}");
        assert!(text.contains(r#""fill":"red""#), "{text}");
        let back: Encoding = serde_json::from_str(&text).unwrap();
        assert_eq!(back, enc);
    }
}
