//! The rows of one stretch of the file: records → features and labels, by the `csv` crate's
//! reader where there are quotes and by a plain split elsewhere, into one part of the matrix.

use std::path::Path;

use super::labels::{class, ClassTable};
use super::layout::{Layout, Role};
use super::numbers::{fast_field, field_end, missing_value, number};
use super::options::LabelKind;
use super::records::{csv_reader, next_record, LineCounter};
use super::shown::{shown, shown_str};
use super::source::{out_of_memory, size};
use crate::{Error, Real, Result};

/// One value of a table that is not text (Parquet, .npy): what `Rows::push_values` reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Value<'a> {
    /// A null (Parquet), read as an empty CSV field.
    Missing,
    /// A float; NaN is read as an empty field, ±inf as `inf` (refused, as in CSV).
    Number(f64),
    Int(i64),
    UInt(u64),
    Text(&'a str),
}

/// A column of a table's values with no nulls, one per row of a batch (`Rows::push_dense`).
#[derive(Debug, Clone, Copy)]
#[cfg(feature = "parquet")]
pub(super) enum Dense<'a> {
    F64(&'a [f64]),
    F32(&'a [f32]),
    I64(&'a [i64]),
}

#[cfg(feature = "parquet")]
impl Dense<'_> {
    fn len(&self) -> usize {
        match self {
            Dense::F64(v) => v.len(),
            Dense::F32(v) => v.len(),
            Dense::I64(v) => v.len(),
        }
    }
}

/// The rows of one stretch of the file.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Part<T> {
    pub(super) x: Vec<T>,
    pub(super) classes: ClassTable,
    /// One index into `classes` per row (classification).
    pub(super) y: Vec<u32>,
    pub(super) targets: Vec<T>,
    pub(super) lines: RowLines,
    /// One list per text column (`Layout::text_names`), one value per row; empty when the
    /// file has no text column.
    pub(super) text: Vec<Vec<String>>,
}

impl<T: Copy> Part<T> {
    /// Appends `p`, which comes right after `self` in the file; false when out of memory.
    pub(super) fn append(&mut self, p: Part<T>) -> bool {
        fn grow<U: Copy>(v: &mut Vec<U>, more: &[U]) -> bool {
            if v.try_reserve(more.len()).is_err() {
                return false;
            }
            v.extend_from_slice(more);
            true
        }
        if !grow(&mut self.x, &p.x) {
            return false;
        }
        drop(p.x);
        if !p.y.is_empty() {
            // Each class of `p` becomes one of ours (by name, or a new one).
            let mut map = Vec::with_capacity(p.classes.names.len());
            for (name, &line) in p.classes.names.iter().zip(&p.classes.first_lines) {
                match self.classes.intern(name, line) {
                    Some(k) => map.push(k),
                    None => return false,
                }
            }
            if self.y.try_reserve(p.y.len()).is_err() {
                return false;
            }
            self.y.extend(
                p.y.iter()
                    .map(|&k| map.get(k as usize).copied().unwrap_or(0)),
            );
        }
        if self.text.len() < p.text.len() {
            self.text.resize_with(p.text.len(), Vec::new);
        }
        for (mine, more) in self.text.iter_mut().zip(p.text) {
            if mine.try_reserve(more.len()).is_err() {
                return false;
            }
            mine.extend(more);
        }
        grow(&mut self.targets, &p.targets) && self.lines.append(&p.lines).is_ok()
    }
}

/// Parses the records of `chunk` (whole records, the first on line `first_line`) into one
/// part.
pub(super) fn parse_rows<T: Real>(
    name: &Path,
    chunk: &[u8],
    first_line: u64,
    layout: &Layout,
) -> Result<Part<T>> {
    if memchr::memchr(b'"', chunk).is_some() {
        parse_rows_csv(name, chunk, first_line, layout)
    } else {
        parse_rows_plain(name, chunk, first_line, layout)
    }
}

/// `parse_rows` by the `csv` crate's reader, quotes and all.
pub(super) fn parse_rows_csv<T: Real>(
    name: &Path,
    chunk: &[u8],
    first_line: u64,
    layout: &Layout,
) -> Result<Part<T>> {
    let mut rows = Rows::new(name, layout);
    let mut rdr = csv_reader(chunk, layout.delimiter);
    let mut rec = csv::ByteRecord::new();
    let mut lines = LineCounter::new(first_line);
    while let Some(line) = next_record(&mut rdr, &mut rec, chunk, &mut lines, name)? {
        rows.push(line, rec.len(), rec.iter())?;
        if rows.part.lines.len() == 1 {
            let here = usize::try_from(rdr.position().byte()).unwrap_or(chunk.len());
            rows.reserve(here, chunk.len());
        }
    }
    Ok(rows.part)
}

/// `parse_rows` for a chunk without a `"`, where CSV is simple: a record ends at each '\r',
/// '\n' or "\r\n", empty records (blank lines) are skipped, and fields end at each
/// delimiter. The same records and fields as the `csv` crate's reader (a property test
/// checks), at a fraction of the cost.
pub(super) fn parse_rows_plain<T: Real>(
    name: &Path,
    chunk: &[u8],
    first_line: u64,
    layout: &Layout,
) -> Result<Part<T>> {
    let mut rows = Rows::new(name, layout);
    let mut line = first_line;
    let mut at = 0;
    while let Some(&b) = chunk.get(at) {
        match b {
            b'\n' => {
                line += 1;
                at += 1;
            }
            b'\r' => {
                // A lone '\r' ends a line too; in "\r\n" the '\n' counts it.
                if chunk.get(at + 1) != Some(&b'\n') {
                    line += 1;
                }
                at += 1;
            }
            _ => {
                at = rows.push_plain(chunk, at, line)?;
                if rows.part.lines.len() == 1 {
                    rows.reserve(at, chunk.len());
                }
            }
        }
    }
    Ok(rows.part)
}

/// The rows of a chunk as they are parsed.
pub(super) struct Rows<'a, T> {
    pub(super) name: &'a Path,
    pub(super) layout: &'a Layout,
    pub(super) part: Part<T>,
    /// One row's targets, in the order of the labels asked for.
    pub(super) row_targets: Vec<T>,
}

impl<'a, T: Real> Rows<'a, T> {
    pub(super) fn new(name: &'a Path, layout: &'a Layout) -> Self {
        Rows {
            name,
            layout,
            part: Part {
                text: vec![Vec::new(); layout.text_names.len()],
                ..Part::default()
            },
            row_targets: vec![T::zero(); layout.k],
        }
    }

    pub(super) fn at(&self, line: u64, j: usize, msg: String) -> Error {
        let column = match self.layout.columns.get(j) {
            Some(c) => shown_str(c),
            None => format!("field {}", j + 1),
        };
        Error::data_at(self.name, line, column, msg)
    }

    /// Adds the record on `line`, of `len` fields.
    #[inline]
    pub(super) fn push<'f>(
        &mut self,
        line: u64,
        len: usize,
        fields: impl Iterator<Item = &'f [u8]>,
    ) -> Result<()> {
        let layout = self.layout;
        let ncols = layout.columns.len();
        if len != ncols {
            let msg = format!("line {line} has {len} fields, the header has {ncols}");
            return Err(self.at(line, len.min(ncols), msg));
        }
        self.room(line)?;
        for (j, field) in fields.enumerate() {
            if let Err(msg) = self.push_field(j, field, line) {
                return Err(self.at(line, j, msg));
            }
        }
        self.part.targets.extend_from_slice(&self.row_targets);
        self.part.lines.push(line).map_err(|_| self.oom(line))?;
        Ok(())
    }

    /// Makes room for one more row, or says how far the reading got.
    #[inline]
    pub(super) fn room(&mut self, line: u64) -> Result<()> {
        let part = &mut self.part;
        let (d, k) = (self.layout.d, self.layout.k);
        let short = |len: usize, cap: usize, want: usize| cap - len < want;
        if short(part.x.len(), part.x.capacity(), d) && part.x.try_reserve(d).is_err()
            || short(part.y.len(), part.y.capacity(), 1) && part.y.try_reserve(1).is_err()
            || short(part.targets.len(), part.targets.capacity(), k)
                && part.targets.try_reserve(k).is_err()
        {
            return Err(self.oom(line));
        }
        Ok(())
    }

    #[cold]
    pub(super) fn oom(&self, line: u64) -> Error {
        out_of_memory(
            self.name,
            &format!(
                "at line {line}, holding {} of rows",
                size(self.part.x.len() * std::mem::size_of::<T>())
            ),
        )
    }

    /// Adds the record of a chunk without quotes that starts at `start` on `line`; returns
    /// where it ends (its '\r' or '\n', or the end of the chunk). Fields are split and parsed
    /// in one pass; on any error the record's fields are counted, since a record of the wrong
    /// length is reported as such first, as `push` does.
    #[inline]
    pub(super) fn push_plain(&mut self, chunk: &[u8], start: usize, line: u64) -> Result<usize> {
        let layout = self.layout;
        let ncols = layout.columns.len();
        let delim = layout.delimiter;
        let (mut at, mut end) = (start, start);
        self.room(line)?;
        for (j, role) in layout.roles.iter().enumerate() {
            let fast = match role {
                // The fast path knows only commas.
                Role::Feature if delim == b',' => fast_field::<T>(chunk, at),
                _ => None,
            };
            let parsed = if let Some((v, to)) = fast {
                end = to;
                self.part.x.push(v);
                Ok(())
            } else {
                end = field_end(chunk, at, delim);
                self.push_field(j, chunk.get(at..end).unwrap_or(&[]), line)
            };
            let more = chunk.get(end) == Some(&delim);
            if parsed.is_err() || more != (j + 1 < ncols) {
                return Err(self.plain_error(chunk, start, line, j, parsed.err()));
            }
            at = end + 1;
        }
        self.part.targets.extend_from_slice(&self.row_targets);
        self.part.lines.push(line).map_err(|_| self.oom(line))?;
        Ok(end)
    }

    /// Adds the row on `line` of a table that arrives as values (Parquet, .npy): `value(j)`
    /// is column j's. A finite number of a feature column goes straight into `x` when that
    /// gives the value its CSV field would (always in f64; in f32 unless rounding the f64 to
    /// f32 could differ from rounding the decimal, see `f32_same_as_text`);
    /// anything else is written as its CSV field (`text` is the buffer) and read as the CSV
    /// reader reads it, so that the two readers cannot disagree.
    pub(super) fn push_values<'v>(
        &mut self,
        line: u64,
        text: &mut Vec<u8>,
        mut value: impl FnMut(usize) -> Value<'v>,
    ) -> Result<()> {
        let layout = self.layout;
        self.room(line)?;
        let f64_data = std::mem::size_of::<T>() == 8;
        for (j, &role) in layout.roles.iter().enumerate() {
            let v = value(j);
            if role == Role::Feature {
                let direct = match v {
                    Value::Number(v) if (f64_data && v.is_finite()) || f32_same_as_text(v) => {
                        Some(v)
                    }
                    Value::Int(i)
                        if i.unsigned_abs() <= 1 << 24
                            || f64_data && i.unsigned_abs() <= 1 << 53 =>
                    {
                        Some(i as f64)
                    }
                    _ => None,
                };
                if let Some(v) = direct {
                    self.part.x.push(T::of(v));
                    continue;
                }
            }
            if let Err(msg) = self.push_field_value(j, v, text, line) {
                return Err(self.at(line, j, msg));
            }
        }
        self.part.targets.extend_from_slice(&self.row_targets);
        self.part.lines.push(line).map_err(|_| self.oom(line))?;
        Ok(())
    }

    /// Adds `m` rows (from `first_line` on) of a table whose feature columns are all
    /// `dense` (`dense[j]`: column j's m values, no nulls), copied column by column into `x`
    /// instead of value by value; the other columns go through `value(j, r)` as in
    /// `push_values`. Returns false, having added nothing, when a feature column is not
    /// dense or one of its values would not go straight into `x` (then `push_values` reads
    /// these rows).
    #[cfg(feature = "parquet")]
    pub(super) fn push_dense<'v>(
        &mut self,
        first_line: u64,
        m: usize,
        dense: &[Option<Dense<'_>>],
        text: &mut Vec<u8>,
        mut value: impl FnMut(usize, usize) -> Value<'v>,
    ) -> Result<bool> {
        let layout = self.layout;
        let d = layout.d;
        let f64_data = std::mem::size_of::<T>() == 8;
        let features: Vec<(usize, Dense)> = layout
            .roles
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_feature())
            .map_while(|(j, &r)| match (r, dense.get(j).copied().flatten()) {
                (Role::Feature, Some(c)) if c.len() == m => Some((j, c)),
                _ => None,
            })
            .collect();
        if features.len() != d {
            return Ok(false);
        }
        let base = self.part.x.len();
        let Some(len) = m.checked_mul(d).and_then(|n| n.checked_add(base)) else {
            return Err(self.oom(first_line));
        };
        let k = layout.k;
        if self.part.x.try_reserve(len - base).is_err()
            || self.part.y.try_reserve(m).is_err()
            || self.part.targets.try_reserve(m.saturating_mul(k)).is_err()
        {
            return Err(self.oom(first_line));
        }
        self.part.x.resize(len, T::zero());
        let rows = self.part.x.get_mut(base..).unwrap_or(&mut []);
        let direct = |v: f64| (f64_data && v.is_finite()) || f32_same_as_text(v);
        let mut all = true;
        for (k, (_, column)) in features.iter().enumerate() {
            let cells = rows.iter_mut().skip(k).step_by(d.max(1));
            all &= match column {
                Dense::F64(v) => cells.zip(v.iter()).all(|(x, &v)| {
                    *x = T::of(v);
                    direct(v)
                }),
                Dense::F32(v) => cells.zip(v.iter()).all(|(x, &v)| {
                    *x = T::of(f64::from(v));
                    direct(f64::from(v))
                }),
                Dense::I64(v) => cells.zip(v.iter()).all(|(x, &i)| {
                    *x = T::of(i as f64);
                    i.unsigned_abs() <= 1 << 24 || f64_data && i.unsigned_abs() <= 1 << 53
                }),
            };
            if !all {
                break;
            }
        }
        if !all {
            self.part.x.truncate(base);
            return Ok(false);
        }
        for r in 0..m {
            let line = first_line + r as u64;
            for (j, &role) in layout.roles.iter().enumerate() {
                if matches!(role, Role::Feature | Role::Ignored) {
                    continue;
                }
                let v = value(j, r);
                if let Err(msg) = self.push_field_value(j, v, text, line) {
                    self.part.x.truncate(base);
                    return Err(self.at(line, j, msg));
                }
            }
            self.part.targets.extend_from_slice(&self.row_targets);
            self.part.lines.push(line).map_err(|_| self.oom(line))?;
        }
        Ok(true)
    }

    /// Column j's value, written as its CSV field and read as one.
    fn push_field_value(
        &mut self,
        j: usize,
        v: Value,
        text: &mut Vec<u8>,
        line: u64,
    ) -> std::result::Result<(), String> {
        use std::io::Write;
        text.clear();
        let _ = match v {
            // NaN is how pandas and NumPy write a missing number: a blank, as in CSV.
            Value::Missing => Ok(()),
            Value::Number(v) if v.is_nan() => Ok(()),
            Value::Number(v) => write!(text, "{v}"),
            Value::Int(i) => write!(text, "{i}"),
            Value::UInt(u) => write!(text, "{u}"),
            Value::Text(s) => text.write_all(s.as_bytes()),
        };
        self.push_field(j, text, line).map_err(|msg| match v {
            Value::Missing => msg.replacen("empty field", "null", 1),
            _ => msg,
        })
    }

    /// Adds field `j` of a record, as the header says: a feature, a target or a class.
    pub(super) fn push_field(
        &mut self,
        j: usize,
        field: &[u8],
        line: u64,
    ) -> std::result::Result<(), String> {
        match self.layout.roles.get(j) {
            Some(&role) => self.push_field_as(role, j, field.trim_ascii(), line),
            None => Ok(()),
        }
    }

    /// The t-th text column's field of this row.
    fn push_text(&mut self, t: usize, field: &[u8]) -> std::result::Result<(), String> {
        let text = std::str::from_utf8(field)
            .map_err(|_| format!("`{}` is not valid UTF-8", shown(field)))?;
        if let Some(values) = self.part.text.get_mut(t) {
            values
                .try_reserve(1)
                .map_err(|_| "out of memory".to_string())?;
            values.push(text.to_string());
        }
        Ok(())
    }

    /// Adds field `j` (trimmed) of a record as a column of role `role`.
    #[inline]
    fn push_field_as(
        &mut self,
        role: Role,
        j: usize,
        field: &[u8],
        line: u64,
    ) -> std::result::Result<(), String> {
        let layout = self.layout;
        match (role, layout.kind) {
            (Role::Ignored, _) => Ok(()),
            (Role::Feature, _) => match number::<T>(field) {
                Ok(v) => {
                    self.part.x.push(v);
                    Ok(())
                }
                Err(e) => match missing_value(field) {
                    true if layout.missing => {
                        self.part.x.push(T::of(f64::NAN));
                        Ok(())
                    }
                    true => Err(format!(
                        "{e}: a missing value, refused unless --impute mean|median|zero fills it"
                    )),
                    false => Err(text_hint(e, layout.columns.get(j))),
                },
            },
            (Role::Text(t), _) => self.push_text(t, field),
            (Role::FeatureText(t), _) => {
                self.push_field_as(Role::Feature, j, field, line)?;
                self.push_text(t, field)
            }
            (Role::Label(t), LabelKind::Targets) => number::<T>(field).map(|v| {
                if let Some(slot) = self.row_targets.get_mut(t) {
                    *slot = v;
                }
            }),
            (Role::Label(_), LabelKind::Classes) => {
                let name = class(field)?;
                let k = self
                    .part
                    .classes
                    .intern(name, line)
                    .ok_or_else(|| "more than 4294967295 classes".to_string())?;
                self.part.y.push(k);
                Ok(())
            }
        }
    }

    /// The error in the record at `start`, whose field `j` could not be read (`msg`) or was
    /// not followed by what the header says: the record's length if wrong, else `msg`.
    #[cold]
    pub(super) fn plain_error(
        &self,
        chunk: &[u8],
        start: usize,
        line: u64,
        j: usize,
        msg: Option<String>,
    ) -> Error {
        let ncols = self.layout.columns.len();
        let rest = chunk.get(start..).unwrap_or(&[]);
        let record = rest
            .split(|&c| c == b'\r' || c == b'\n')
            .next()
            .unwrap_or(&[]);
        let delim = self.layout.delimiter;
        let len = 1 + record.iter().filter(|&&c| c == delim).count();
        match msg {
            Some(msg) if len == ncols => self.at(line, j, msg),
            _ => {
                let msg = format!("line {line} has {len} fields, the header has {ncols}");
                self.at(line, len.min(ncols), msg)
            }
        }
    }

    /// After the first row, which ended `here` bytes into a chunk of `len`: reserves for the
    /// rest from the size of this first row, bounded by the bytes left (a value takes at least
    /// 2 bytes): no size written in the file is trusted.
    pub(super) fn reserve(&mut self, here: usize, len: usize) {
        let d = self.layout.d;
        let left = len.saturating_sub(here);
        let rows = left / here.max(1) + 1;
        // A hint only: when it is refused, rows are added as memory allows.
        let _ = self
            .part
            .x
            .try_reserve(rows.saturating_mul(d).min(left / 2 + d));
        if self.layout.kind == LabelKind::Classes && self.layout.k > 0 {
            let _ = self.part.y.try_reserve(rows.min(left / 2 + 1));
        }
    }
}

/// Whether rounding `v` to f32 gives what rounding the decimal it was read from gives (the
/// CSV reader parses f32 data straight from the decimal). Rounding twice (decimal → f64 →
/// f32) can only differ from rounding once when an f32 rounding boundary, a midpoint between
/// two adjacent f32 values, lies between the decimal and `v`, or at `v`. Every such midpoint
/// of normal f32 values is an f64 (25 significant bits), so one strictly between would be
/// nearer the decimal than `v`, which is the nearest f64: only `v` exactly on a midpoint
/// (its 29 bits below f32 precision `100…0`) is in doubt. Zero is exact; subnormal and
/// out-of-range values are left to the text path too.
pub(super) fn f32_same_as_text(v: f64) -> bool {
    const BELOW_F32: u64 = (1 << 29) - 1;
    let a = v.abs();
    a == 0.0
        || (f64::from(f32::MIN_POSITIVE)..f64::from(f32::MAX)).contains(&a)
            && v.to_bits() & BELOW_F32 != 1 << 28
}

/// A feature field that is text (`orange is not a number`): the message, with the two ways
/// out for a text column named: skip it, or one-hot encode it.
#[cold]
fn text_hint(msg: String, column: Option<&String>) -> String {
    let Some(column) = column.filter(|_| msg.ends_with(" is not a number")) else {
        return msg;
    };
    let word = match shlex::try_quote(column) {
        Ok(q) => shown_str(&q),
        Err(_) => shown_str(column),
    };
    format!(
        "{msg}; if `{}` is a text column, pass --ignore {word} to skip it or --categorical \
         {word} to one-hot encode it",
        shown_str(column)
    )
}

/// The 1-based line on which each row starts, kept compactly: rows mostly follow each other
/// a line apart, so only the rows where that is not so are stored (a few bytes per file,
/// not per row).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RowLines {
    /// How many rows.
    pub(super) n: usize,
    /// (row, line) for the first row and every row not on the line after its predecessor's.
    pub(super) jumps: Vec<(usize, u64)>,
}

impl RowLines {
    /// Rows counted.
    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The line on which row `i` starts (None past the end).
    pub fn line(&self, i: usize) -> Option<u64> {
        if i >= self.n {
            return None;
        }
        let k = self.jumps.partition_point(|&(r, _)| r <= i);
        let &(r, l) = self.jumps.get(k.checked_sub(1)?)?;
        Some(l + (i - r) as u64)
    }

    /// The line of the last row.
    pub(super) fn last(&self) -> Option<u64> {
        self.line(self.n.checked_sub(1)?)
    }

    /// Adds a row starting on `line`.
    pub(super) fn push(
        &mut self,
        line: u64,
    ) -> std::result::Result<(), std::collections::TryReserveError> {
        if self.last().map(|l| l + 1) != Some(line) {
            self.jumps.try_reserve(1)?;
            self.jumps.push((self.n, line));
        }
        self.n += 1;
        Ok(())
    }

    /// Appends the rows of `other`, which come after these.
    pub(super) fn append(
        &mut self,
        other: &RowLines,
    ) -> std::result::Result<(), std::collections::TryReserveError> {
        for (k, &(r, l)) in other.jumps.iter().enumerate() {
            let end = other.jumps.get(k + 1).map_or(other.n, |&(r2, _)| r2);
            self.push(l)?;
            // The rest of this run follows line by line.
            self.n += end - r - 1;
        }
        Ok(())
    }

    /// The lines of the given rows.
    pub fn select(&self, rows: &[usize]) -> RowLines {
        let mut out = RowLines::default();
        for &i in rows {
            if let Some(l) = self.line(i) {
                let _ = out.push(l);
            }
        }
        out
    }
}
