//! Label columns: which ones (`--label`), how they are read (classes or real targets), class
//! names gathered per stretch, sorted numbers-first, and the warnings they deserve.

use std::collections::HashMap;
use std::path::Path;

use ndarray::Array2;

use super::options::{LabelSpec, LoadOptions};
use super::shown::{list, shown, shown_str};
use crate::{Error, Result};

/// The label columns of a file, row-aligned with `x`.
#[derive(Debug, Clone, PartialEq)]
pub enum Labels<T> {
    /// No label column was asked for, or an optional one was absent.
    None,
    /// One class index per row, into a table of names.
    Classes(Classes),
    /// (n, k): one column per target, in the order of `LoadOptions::labels`.
    Targets(Array2<T>),
}

/// Class labels as they are read: each distinct name once, and one index per row. Names that
/// are equal numbers (`2`, `2.0`, `2e0`) are one class, spelled as first seen.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Classes {
    /// The class names, sorted by [`class_order`] (numbers by value, then text).
    pub names: Vec<String>,
    /// The 1-based line on which each class first appears in the file.
    pub first_lines: Vec<u64>,
    /// One index into `names` per row.
    pub y: Vec<u32>,
}

impl Classes {
    /// The name of row `i`'s class.
    pub fn name_of(&self, i: usize) -> Option<&str> {
        let k = *self.y.get(i)?;
        self.names.get(k as usize).map(String::as_str)
    }

    /// The given rows (the same table of names).
    pub fn select(&self, rows: &[usize]) -> Classes {
        Classes {
            names: self.names.clone(),
            first_lines: self.first_lines.clone(),
            y: rows
                .iter()
                .filter_map(|&i| self.y.get(i).copied())
                .collect(),
        }
    }
}

/// A class name as a number, when it is one (finite; `-0` is `0`): such names are compared
/// by value.
pub fn class_number(name: &str) -> Option<f64> {
    match name.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Some(v + 0.0),
        _ => None,
    }
}

/// The order of class names: numbers first, by value (equal values are one class); then
/// text, lexicographically.
pub fn class_order(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (class_number(a), class_number(b)) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// Class names as they are met in one stretch of the file: each distinct one once.
#[derive(Debug, Default, PartialEq)]
pub(super) struct ClassTable {
    pub(super) names: Vec<String>,
    pub(super) first_lines: Vec<u64>,
    /// Every spelling met → its class.
    pub(super) by_text: HashMap<String, u32>,
    /// The value of a class that is a number (`class_number`, as bits) → its class.
    pub(super) by_number: HashMap<u64, u32>,
}

impl ClassTable {
    /// The class of `name`, first seen (if new) on `line`. None when there are more than
    /// u32::MAX classes.
    pub(super) fn intern(&mut self, name: &str, line: u64) -> Option<u32> {
        if let Some(&k) = self.by_text.get(name) {
            return Some(k);
        }
        let number = class_number(name).map(f64::to_bits);
        let k = match number.and_then(|bits| self.by_number.get(&bits)) {
            Some(&k) => k,
            None => {
                let k = u32::try_from(self.names.len()).ok()?;
                self.names.push(name.to_string());
                self.first_lines.push(line);
                if let Some(bits) = number {
                    self.by_number.insert(bits, k);
                }
                k
            }
        };
        self.by_text.insert(name.to_string(), k);
        Some(k)
    }
}

/// The class table of a whole file with its names sorted by `class_order`, and `y` renumbered.
pub(super) fn sorted(table: ClassTable, mut y: Vec<u32>) -> Classes {
    let ClassTable {
        names, first_lines, ..
    } = table;
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by(|&a, &b| class_order(&names[a], &names[b]));
    // rank[old] = new
    let mut rank = vec![0u32; names.len()];
    for (new, &old) in order.iter().enumerate() {
        rank[old] = new as u32;
    }
    for k in y.iter_mut() {
        *k = rank.get(*k as usize).copied().unwrap_or(0);
    }
    Classes {
        names: order.iter().map(|&i| names[i].clone()).collect(),
        first_lines: order.iter().map(|&i| first_lines[i]).collect(),
        y,
    }
}

/// A warning when a classification's label column looks like real numbers: a class that is
/// a non-integer number, or numbers only and so many classes that they average fewer than
/// 4 rows each.
pub(super) fn real_valued_warning(
    classes: &Classes,
    label_names: &[String],
    n: usize,
) -> Option<String> {
    let column = shown_str(&label_names.join(","));
    let q = classes.names.len();
    let fractional = classes
        .names
        .iter()
        .find(|c| class_number(c).is_some_and(|v| v.fract() != 0.0));
    let why = match fractional {
        Some(c) => format!("`{}` is not an integer", shown_str(c)),
        None if n >= 20 && q * 4 > n && classes.names.iter().all(|c| class_number(c).is_some()) => {
            format!("{q} distinct numbers in {n} rows")
        }
        None => return None,
    };
    Some(format!(
        "the label column `{column}` looks real-valued ({why}), yet it is read as {q} classes; \
         for regression, pass --task regress"
    ))
}

/// A class name: any non-empty UTF-8 text.
pub(super) fn class(field: &[u8]) -> std::result::Result<&str, String> {
    if field.is_empty() {
        return Err("empty label".to_string());
    }
    std::str::from_utf8(field).map_err(|_| format!("label `{}` is not valid UTF-8", shown(field)))
}

/// The label columns' 0-based positions in the order of `opts.labels`, or None when the
/// labels are optional and absent.
pub(super) fn resolve_labels(
    name: &Path,
    columns: &[String],
    opts: &LoadOptions,
) -> Result<Option<Vec<usize>>> {
    let specs: Vec<&LabelSpec> = opts
        .labels
        .iter()
        .filter(|s| **s != LabelSpec::Absent)
        .collect();
    if specs.is_empty() {
        return Ok(Some(Vec::new()));
    }
    if opts.optional_label {
        if let Some(expected) = opts.expected_features {
            if columns == expected {
                return Ok(None);
            }
        }
    }
    let mut found = Vec::with_capacity(specs.len());
    let mut missing = Vec::new();
    for spec in &specs {
        match spec {
            LabelSpec::Last => found.push(columns.len().saturating_sub(1)),
            LabelSpec::Name(label) => match columns.iter().position(|c| c == label.trim()) {
                Some(j) => found.push(j),
                None if opts.optional_label => missing.push(format!("`{}`", shown_str(label))),
                None => {
                    return Err(Error::data(
                        name,
                        format!(
                            "no column named `{}`; the columns are: {}",
                            shown_str(label),
                            list(columns)
                        ),
                    ))
                }
            },
            LabelSpec::Index(j) if *j < columns.len() => found.push(*j),
            LabelSpec::Index(j) if opts.optional_label => missing.push(format!("index {j}")),
            LabelSpec::Index(j) => {
                return Err(Error::data(
                    name,
                    format!(
                        "label index {j} is out of range: the file has {} columns (0..{})",
                        columns.len(),
                        columns.len().saturating_sub(1)
                    ),
                ))
            }
            LabelSpec::Absent => {}
        }
    }
    match (found.is_empty(), missing.is_empty()) {
        (_, true) => Ok(Some(found)),
        (true, false) => Ok(None),
        (false, false) => Err(Error::data(
            name,
            format!(
                "has some label columns but not {}; the columns are: {}",
                missing.join(", "),
                list(columns)
            ),
        )),
    }
}
