//! Tables that arrive whole and as values, not text (Parquet, .npy/.npz), read into the same
//! `Frame` the CSV reader gives for the same table: the same header layout, the same fields.

use std::path::Path;

use super::format::Format;
use super::frame::{finish, Frame};
use super::layout::layout;
use super::options::LoadOptions;
use super::rows::{Rows, Value};
use super::source::{out_of_memory, size, Input};
use crate::{Error, Real, Result};

/// Reads the table `format` says `input` holds (a format other than CSV): the whole input,
/// then its columns.
pub(super) fn load<T: Real>(
    name: &Path,
    mut input: Input,
    format: Format,
    opts: &LoadOptions,
) -> Result<Frame<T>> {
    let bytes = input.read_all(name)?;
    let fingerprint = input.fingerprint();
    drop(input);
    match format {
        Format::Npy => super::npy::load_npy(name, &bytes, fingerprint, opts),
        Format::Npz => super::npy::load_npz(name, &bytes, fingerprint, opts),
        Format::Parquet => parquet(name, bytes, fingerprint, opts),
        Format::Csv => Err(Error::data(name, "is CSV, not a table of values")),
    }
}

#[cfg(feature = "parquet")]
fn parquet<T: Real>(
    name: &Path,
    bytes: Vec<u8>,
    fingerprint: String,
    opts: &LoadOptions,
) -> Result<Frame<T>> {
    super::parquet::load(name, bytes, fingerprint, opts)
}

#[cfg(not(feature = "parquet"))]
fn parquet<T: Real>(
    name: &Path,
    _bytes: Vec<u8>,
    _fingerprint: String,
    _opts: &LoadOptions,
) -> Result<Frame<T>> {
    Err(Error::data(
        name,
        "is a Parquet file, and this build of mlp-train leaves Parquet out (built without the \
         `parquet` feature): rebuild with default features, or convert the file to CSV",
    ))
}

/// The frame of a table of `n` rows whose columns are `names`: the header layout as for a
/// CSV file with this header, then `fill` pushes every row (with `push_row`). The matrices
/// are reserved for `n` rows first: memory refused is an error naming the file, before
/// anything is read. Messages name rows (1-based, not counting the header) and columns.
pub(super) fn read<T: Real>(
    name: &Path,
    names: &[String],
    n: usize,
    fingerprint: String,
    opts: &LoadOptions,
    fill: impl FnOnce(&mut Rows<T>) -> Result<()>,
) -> Result<Frame<T>> {
    let run = || {
        // The names come from the format, never from a first row: --no-header does not apply.
        let opts = LoadOptions {
            no_header: false,
            ..opts.clone()
        };
        let header = csv::ByteRecord::from(names.to_vec());
        let mut layout = layout(name, &header, 1, &opts)?;
        // Advice for CSV files whose first line may be data; here the names are the format's.
        layout
            .notes
            .retain(|n| !n.contains("the first line looks like data"));
        let mut rows = Rows::new(name, &layout);
        reserve(&mut rows, name, n)?;
        fill(&mut rows)?;
        if rows.part.lines.is_empty() {
            return Err(Error::data(name, "has columns but no rows"));
        }
        let part = rows.part;
        finish(name, layout, part, fingerprint)
    };
    run().map_err(|e| at_row(name, e))
}

/// The line the next row is on, as the same table written as CSV has it (see `push_row`).
pub(super) fn next_line<T: Real>(rows: &Rows<T>) -> u64 {
    rows.part.lines.len() as u64 + 2
}

/// Adds the next row of the table: `value(j)` is column j's value.
pub(super) fn push_row<'v, T: Real>(
    rows: &mut Rows<T>,
    text: &mut Vec<u8>,
    value: impl FnMut(usize) -> Value<'v>,
) -> Result<()> {
    // Lines as the same table written as CSV has them (the header on line 1): what the
    // frame's rows and later messages (encoders, --keep) count in.
    let line = next_line(rows);
    rows.push_values(line, text, value)
}

/// Room for `n` rows, or an out-of-memory error saying how much was asked.
fn reserve<T: Real>(rows: &mut Rows<T>, name: &Path, n: usize) -> Result<()> {
    let (d, k) = (rows.layout.d, rows.layout.k);
    let values = n.saturating_mul(d.max(1));
    let bytes = values.saturating_mul(std::mem::size_of::<T>());
    let oom = || {
        out_of_memory(
            name,
            &format!("for {n} rows × {d} features ({})", size(bytes)),
        )
    };
    if bytes > isize::MAX as usize || rows.part.x.try_reserve_exact(n.saturating_mul(d)).is_err() {
        return Err(oom());
    }
    let labels = match rows.layout.kind {
        super::options::LabelKind::Classes if k > 0 => rows.part.y.try_reserve_exact(n).is_err(),
        super::options::LabelKind::Targets => rows
            .part
            .targets
            .try_reserve_exact(n.saturating_mul(k))
            .is_err(),
        _ => false,
    };
    if labels {
        return Err(oom());
    }
    Ok(())
}

/// A message at a line of the table (`path:line:column: …`) said with the row instead: a
/// Parquet or .npy file has rows, not lines (row r is line r + 1 of the same table as CSV).
fn at_row(name: &Path, e: Error) -> Error {
    match e {
        Error::DataAt {
            line, column, msg, ..
        } if line > 1 => Error::data(name, format!("row {}, column `{column}`: {msg}", line - 1)),
        Error::DataAt { column, msg, .. } => Error::data(name, format!("column `{column}`: {msg}")),
        e => e,
    }
}
