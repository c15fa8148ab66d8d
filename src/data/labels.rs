//! Label columns: which ones (`--label`), how they are read (classes or real targets), class
//! names gathered per stretch, sorted numbers-first, and the warnings they deserve.

use std::collections::HashMap;
use std::path::Path;

use ndarray::Array2;

use super::options::{LabelSpec, LoadOptions};
use super::shown::{did_you_mean, list, shown, shown_str};
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

/// A class name as a number, when it is one (finite; `-0` is `0`): used to judge whether
/// a label column looks real-valued. Classes are compared by [`Decimal`], exactly.
pub fn class_number(name: &str) -> Option<f64> {
    Decimal::parse(name)?;
    match name.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Some(v + 0.0),
        _ => None,
    }
}

/// A class name that is a decimal number (`12`, `-3.50`, `2e0`, `.5`), as its exact value:
/// the sign, the significant digits and a power of ten, so that `2`, `2.0` and `20e-1` are
/// one class and `18446744073709551616` and `18446744073709551617` are two (an f64 would
/// make them one). The value is `0.digits × 10^exp`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Decimal {
    /// −1, 0 or 1.
    sign: i8,
    /// The significant digits, without leading or trailing zeros (empty for zero).
    digits: Vec<u8>,
    /// The power of ten of `0.digits`.
    exp: i64,
}

impl Decimal {
    /// The number a class name spells, in the grammar of Rust's f64 (`[+-]digits[.digits]
    /// [e[+-]digits]`, trimmed), without `inf` and `nan`; None for any other text.
    pub(super) fn parse(name: &str) -> Option<Decimal> {
        let t = name.trim().as_bytes();
        let (negative, t) = match t.first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let mantissa_end = t
            .iter()
            .position(|&b| b == b'e' || b == b'E')
            .unwrap_or(t.len());
        let (mantissa, exponent) = t.split_at(mantissa_end);
        let (int, frac) = match mantissa.iter().position(|&b| b == b'.') {
            Some(dot) => (&mantissa[..dot], &mantissa[dot + 1..]),
            None => (mantissa, &[][..]),
        };
        let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
        if int.len() + frac.len() == 0 || !digits(int) || !digits(frac) {
            return None;
        }
        let mut exp: i64 = match exponent {
            [] => 0,
            [_, rest @ ..] => {
                let (neg, rest) = match rest.first() {
                    Some(b'-') => (true, &rest[1..]),
                    Some(b'+') => (false, &rest[1..]),
                    _ => (false, rest),
                };
                if rest.is_empty() || !digits(rest) {
                    return None;
                }
                // Saturates: 1e99999999999999999999 is still a (huge) number.
                let e = rest.iter().fold(0i64, |e, &d| {
                    e.saturating_mul(10).saturating_add(i64::from(d - b'0'))
                });
                if neg {
                    -e
                } else {
                    e
                }
            }
        };
        // 0.digits × 10^exp, with digits = int ++ frac.
        exp = exp.saturating_add(int.len() as i64);
        let mut all: Vec<u8> = int.iter().chain(frac).copied().collect();
        let lead = all.iter().take_while(|&&b| b == b'0').count();
        all.drain(..lead);
        exp = exp.saturating_sub(lead as i64);
        while all.last() == Some(&b'0') {
            all.pop();
        }
        if all.is_empty() {
            return Some(Decimal {
                sign: 0,
                digits: all,
                exp: 0,
            });
        }
        Some(Decimal {
            sign: if negative { -1 } else { 1 },
            digits: all,
            exp,
        })
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let magnitude = || {
            self.exp
                .cmp(&other.exp)
                .then_with(|| self.digits.cmp(&other.digits))
        };
        match self.sign.cmp(&other.sign) {
            std::cmp::Ordering::Equal if self.sign >= 0 => magnitude(),
            std::cmp::Ordering::Equal => magnitude().reverse(),
            unequal => unequal,
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The order of class names: numbers first, by exact value (equal values are one class);
/// then text, lexicographically.
pub fn class_order(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (Decimal::parse(a), Decimal::parse(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
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
    /// The exact value of a class that is a number ([`Decimal`]) → its class.
    pub(super) by_number: HashMap<Decimal, u32>,
}

impl ClassTable {
    /// The class of `name`, first seen (if new) on `line`. None when there are more than
    /// u32::MAX classes.
    pub(super) fn intern(&mut self, name: &str, line: u64) -> Option<u32> {
        if let Some(&k) = self.by_text.get(name) {
            return Some(k);
        }
        let number = Decimal::parse(name);
        let k = match number.as_ref().and_then(|v| self.by_number.get(v)) {
            Some(&k) => k,
            None => {
                let k = u32::try_from(self.names.len()).ok()?;
                self.names.push(name.to_string());
                self.first_lines.push(line);
                if let Some(v) = number {
                    self.by_number.insert(v, k);
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
/// labels are optional and absent; with the notes of [`LabelSpec::find`].
pub(super) fn resolve_labels(
    name: &Path,
    columns: &[String],
    opts: &LoadOptions,
) -> Result<(Option<Vec<usize>>, Vec<String>)> {
    let specs: Vec<&LabelSpec> = opts
        .labels
        .iter()
        .filter(|s| **s != LabelSpec::Absent)
        .collect();
    if specs.is_empty() {
        return Ok((Some(Vec::new()), Vec::new()));
    }
    if opts.optional_label {
        if let Some(expected) = opts.expected_features {
            if columns == expected {
                return Ok((None, Vec::new()));
            }
        }
    }
    let mut found = Vec::with_capacity(specs.len());
    let mut missing = Vec::new();
    let mut notes = Vec::new();
    for spec in &specs {
        let (j, note) = spec.find(columns, "--label");
        notes.extend(note);
        if let Some(j) = j {
            found.push(j);
            continue;
        }
        let (what, error) = match spec {
            LabelSpec::Name(label) => (
                format!("`{}`", shown_str(label)),
                format!(
                    "no column named `{}`{}; the columns are: {}",
                    shown_str(label),
                    did_you_mean(label, columns),
                    list(columns)
                ),
            ),
            LabelSpec::Index(j) | LabelSpec::NameOrIndex(_, j) => (
                format!("index {j}"),
                format!(
                    "label index {j} is out of range{}: the file has {} columns (0..{})",
                    if matches!(spec, LabelSpec::NameOrIndex(..)) {
                        format!(" (and no column is named `{j}`)")
                    } else {
                        String::new()
                    },
                    columns.len(),
                    columns.len().saturating_sub(1),
                ),
            ),
            LabelSpec::Last | LabelSpec::Absent => continue,
        };
        if opts.optional_label {
            missing.push(what);
        } else {
            return Err(Error::data(name, error));
        }
    }
    match (found.is_empty(), missing.is_empty()) {
        (_, true) => Ok((Some(found), notes)),
        (true, false) => Ok((None, notes)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn decimal_class_names_compare_by_exact_value() {
        let same = [
            ("2", "2.0"),
            ("2", "2e0"),
            ("2", "20e-1"),
            ("2", "+02"),
            ("0", "-0"),
            ("0", "0.000e5"),
            ("0.5", ".5"),
            ("-1.50", "-15e-1"),
            ("18446744073709551616", "18446744073709551616.000"),
        ];
        for (a, b) in same {
            assert_eq!(class_order(a, b), Ordering::Equal, "{a} = {b}");
            assert_eq!(Decimal::parse(a), Decimal::parse(b), "{a} = {b}");
        }
        // Ascending: beyond 2^53 too, where f64 makes neighbours equal.
        let ascending = [
            "-18446744073709551617",
            "-18446744073709551616",
            "-2",
            "-0.5",
            "0",
            "1e-400",
            "0.5",
            "9",
            "10",
            "9007199254740993",
            "18446744073709551616",
            "18446744073709551617",
            "1e400",
            "a",
            "b",
        ];
        for (i, a) in ascending.iter().enumerate() {
            for (j, b) in ascending.iter().enumerate() {
                assert_eq!(class_order(a, b), i.cmp(&j), "{a} vs {b}");
            }
        }
        for text in [
            "", ".", "e5", "1e", "1e+", "--1", "+-1", "1.2.3", "inf", "NaN", "0x10", "1 2",
        ] {
            assert_eq!(Decimal::parse(text), None, "{text:?}");
        }
        // What Rust reads as a finite f64 is a number here too.
        for text in ["1.", ".5", "1E5", "-0.0e-0", " 7 "] {
            assert!(text.trim().parse::<f64>().is_ok() && Decimal::parse(text).is_some());
        }
    }

    #[test]
    fn classes_are_one_per_exact_value() {
        let mut t = ClassTable::default();
        let k: Vec<_> = [
            "18446744073709551616",
            "18446744073709551617",
            "1.8446744073709551616e19",
        ]
        .iter()
        .map(|n| t.intern(n, 1).unwrap())
        .collect();
        assert_eq!(k, [0, 1, 0]);
        assert_eq!(t.names, ["18446744073709551616", "18446744073709551617"]);
    }
}
