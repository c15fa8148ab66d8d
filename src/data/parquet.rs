//! Parquet files read as tables (the `parquet` feature): numbers and booleans as numbers,
//! strings (plain or dictionary-encoded) as text, nulls as blanks; other types refused.

use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type,
    UInt64Type, UInt8Type,
};
use arrow_array::Array;
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;

use super::frame::Frame;
use super::layout::Role;
use super::options::LoadOptions;
use super::rows::{Dense, Value};
use super::shown::shown_str;
use super::table::{next_line, push_row, read};
use crate::{Error, Real, Result};

/// Rows decoded at a time: the decoded columns in memory are one batch of them.
const BATCH_ROWS: usize = 8192;

/// One column of a decoded batch: the value of each row.
type Getter<'b> = Box<dyn Fn(usize) -> Value<'b> + 'b>;

/// Reads a Parquet file (its whole bytes): every top-level column is a column of the table,
/// by its name; the columns skipped with `--ignore` are not decoded at all.
pub(super) fn load<T: Real>(
    name: &Path,
    bytes: Vec<u8>,
    fingerprint: String,
    opts: &LoadOptions,
) -> Result<Frame<T>> {
    let invalid =
        |e: &dyn std::fmt::Display| Error::data(name, format!("is not a valid Parquet file: {e}"));
    if !bytes.ends_with(b"PAR1") {
        return Err(Error::data(
            name,
            format!(
                "starts like a Parquet file (PAR1) but does not end like one: truncated? ({} \
                 bytes)",
                bytes.len()
            ),
        ));
    }
    // The metadata is decoded without asking for memory (an abort when refused): the room
    // it takes, measured at 4 to 5 times its encoded size (the footer's length, before
    // `PAR1`), is asked for first, twice over, and given back.
    let footer = bytes
        .len()
        .checked_sub(8)
        .and_then(|at| bytes.get(at..at + 4))
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
    let room = footer.saturating_mul(8).saturating_add(1 << 20);
    if Vec::<u8>::new().try_reserve_exact(room).is_err() {
        return Err(super::source::out_of_memory(
            name,
            &format!(
                "before reading its metadata ({} of it, {} to decode)",
                super::source::size(footer),
                super::source::size(room)
            ),
        ));
    }
    // The reader is not known to be free of panics on hostile files: one is an error naming
    // the file, as every other problem with it.
    let bytes = bytes::Bytes::from(bytes);
    let builder = std::panic::catch_unwind(|| ParquetRecordBatchReaderBuilder::try_new(bytes))
        .map_err(|_| invalid(&"its metadata cannot be read"))?
        .map_err(|e| invalid(&e))?
        .with_batch_size(BATCH_ROWS);
    let rows_said = builder.metadata().file_metadata().num_rows();
    let n = usize::try_from(rows_said).map_err(|_| invalid(&format!("{rows_said} rows")))?;
    let largest_group = builder
        .metadata()
        .row_groups()
        .iter()
        .map(|g| usize::try_from(g.total_byte_size()).unwrap_or(usize::MAX))
        .max()
        .unwrap_or(0);
    let fields = builder.schema().fields().clone();
    let names: Vec<String> = fields.iter().map(|f| f.name().clone()).collect();
    let parquet_schema = builder.parquet_schema().clone();
    read(name, &names, n, fingerprint, opts, |rows| {
        let roles = rows.layout.roles.clone();
        // Only the columns this run reads are decoded; a type that is not read is refused
        // unless the column is skipped.
        let wanted: Vec<usize> = (0..names.len())
            .filter(|&j| roles.get(j) != Some(&Role::Ignored))
            .collect();
        for &j in &wanted {
            if let Some(f) = fields.get(j).filter(|f| !readable(f.data_type())) {
                return Err(Error::data(
                    name,
                    format!(
                        "column `{}` has type {}, which is not read: numbers, booleans and \
                         strings are; pass --ignore {} to skip it",
                        shown_str(f.name()),
                        f.data_type(),
                        shown_str(f.name())
                    ),
                ));
            }
        }
        // The decoder's own buffers are allocated without asking (an abort when refused):
        // the room they need, about twice the largest row group's uncompressed size and a
        // batch of values, is asked for first and given back, so that a memory limit is
        // met here, as an error, rather than in the decoder.
        let room = largest_group
            .saturating_mul(2)
            .saturating_add(BATCH_ROWS.saturating_mul(wanted.len()).saturating_mul(16))
            .saturating_add(1 << 20);
        if Vec::<u8>::new().try_reserve_exact(room).is_err() {
            return Err(super::source::out_of_memory(
                name,
                &format!(
                    "before decoding ({} for the decoder's buffers)",
                    super::source::size(room)
                ),
            ));
        }
        let mask = ProjectionMask::roots(&parquet_schema, wanted.iter().copied());
        let reader = builder
            .with_projection(mask)
            .build()
            .map_err(|e| invalid(&e))?;
        let mut text = Vec::new();
        let mut read_rows = 0usize;
        let mut reader = reader;
        loop {
            let next = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.next()))
                .map_err(|_| invalid(&"a page cannot be decoded"))?;
            let Some(batch) = next else { break };
            let batch = batch.map_err(|e| invalid(&e))?;
            let getters: Vec<Getter> = batch
                .columns()
                .iter()
                .map(|c| getter(c.as_ref()))
                .collect::<Option<_>>()
                .ok_or_else(|| invalid(&"a column's values are not of its declared type"))?;
            // Column j of the table is the batch's p-th (the ignored ones are not there).
            let mut at = vec![None; names.len()];
            for (p, &j) in wanted.iter().enumerate() {
                if let Some(slot) = at.get_mut(j) {
                    *slot = getters.get(p);
                }
            }
            // Number columns without nulls are copied whole into x when every feature is
            // one; else (or for a value that needs its text) row by row.
            let dense: Vec<Option<Dense>> = (0..names.len())
                .map(|j| {
                    let p = wanted.iter().position(|&w| w == j)?;
                    dense(batch.columns().get(p)?.as_ref())
                })
                .collect();
            let m = batch.num_rows();
            let value = |j: usize, r: usize| match at.get(j) {
                Some(Some(get)) => get(r),
                _ => Value::Missing,
            };
            if !rows.push_dense(next_line(rows), m, &dense, &mut text, value)? {
                for r in 0..m {
                    push_row(rows, &mut text, |j| value(j, r))?;
                }
            }
            read_rows += batch.num_rows();
        }
        if read_rows != n {
            return Err(invalid(&format!(
                "its metadata says {n} rows and {read_rows} were read"
            )));
        }
        Ok(())
    })
}

/// A number column without nulls, as a slice (see `Rows::push_dense`).
fn dense(a: &dyn Array) -> Option<Dense<'_>> {
    if a.null_count() > 0 {
        return None;
    }
    Some(match a.data_type() {
        DataType::Float64 => Dense::F64(a.as_primitive_opt::<Float64Type>()?.values()),
        DataType::Float32 => Dense::F32(a.as_primitive_opt::<Float32Type>()?.values()),
        DataType::Int64 => Dense::I64(a.as_primitive_opt::<Int64Type>()?.values()),
        _ => return None,
    })
}

/// The types read: integers, floats, booleans, strings and dictionary-encoded strings.
fn readable(t: &DataType) -> bool {
    use DataType::*;
    match t {
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 | Float32 | Float64
        | Boolean | Utf8 | LargeUtf8 | Utf8View => true,
        Dictionary(_, v) => matches!(**v, Utf8 | LargeUtf8 | Utf8View),
        _ => false,
    }
}

/// Each row's value of one decoded column (None when the array is not of its type).
fn getter(a: &dyn Array) -> Option<Getter<'_>> {
    macro_rules! prim {
        ($t:ty, $v:expr) => {{
            let p = a.as_primitive_opt::<$t>()?;
            let get: Getter = Box::new(move |r| $v(p.value(r)));
            get
        }};
    }
    let get: Getter = match a.data_type() {
        DataType::Int8 => prim!(Int8Type, |v| Value::Int(i64::from(v))),
        DataType::Int16 => prim!(Int16Type, |v| Value::Int(i64::from(v))),
        DataType::Int32 => prim!(Int32Type, |v| Value::Int(i64::from(v))),
        DataType::Int64 => prim!(Int64Type, Value::Int),
        DataType::UInt8 => prim!(UInt8Type, |v| Value::UInt(u64::from(v))),
        DataType::UInt16 => prim!(UInt16Type, |v| Value::UInt(u64::from(v))),
        DataType::UInt32 => prim!(UInt32Type, |v| Value::UInt(u64::from(v))),
        DataType::UInt64 => prim!(UInt64Type, Value::UInt),
        DataType::Float32 => prim!(Float32Type, |v| Value::Number(f64::from(v))),
        DataType::Float64 => prim!(Float64Type, Value::Number),
        DataType::Boolean => {
            let b = a.as_boolean_opt()?;
            Box::new(move |r| Value::Int(i64::from(b.value(r))))
        }
        DataType::Utf8 => {
            let s = a.as_string_opt::<i32>()?;
            Box::new(move |r| Value::Text(s.value(r)))
        }
        DataType::LargeUtf8 => {
            let s = a.as_string_opt::<i64>()?;
            Box::new(move |r| Value::Text(s.value(r)))
        }
        DataType::Utf8View => {
            let s = a.as_string_view_opt()?;
            Box::new(move |r| Value::Text(s.value(r)))
        }
        DataType::Dictionary(_, _) => {
            let d = a.as_any_dictionary_opt()?;
            let keys = d.normalized_keys();
            let values = getter(d.values().as_ref())?;
            let len = d.values().len();
            Box::new(move |r| match keys.get(r) {
                Some(&k) if k < len => values(k),
                _ => Value::Missing,
            })
        }
        _ => return None,
    };
    if a.null_count() == 0 {
        return Some(get);
    }
    Some(Box::new(move |r| match a.is_null(r) {
        true => Value::Missing,
        false => get(r),
    }))
}
