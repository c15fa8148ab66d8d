//! Tables for the format tests: a shipped CSV file split into columns, and the same table
//! written as Parquet by the parquet crate's own writer (tests/formats.rs, readme_tables.rs).
#![allow(dead_code)]

use ndarray::Array2;

use super::common::data;

/// A shipped CSV file, split (none has quotes): header names and rows of fields.
pub struct Csv {
    pub names: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

pub fn read_csv(name: &str) -> Csv {
    parse_csv(&std::fs::read_to_string(data(name)).unwrap())
}

/// CSV text without quotes, split.
pub fn parse_csv(text: &str) -> Csv {
    let mut lines = text.lines();
    let split = |l: &str| {
        l.split(',')
            .map(|f| f.trim().to_string())
            .collect::<Vec<_>>()
    };
    let names = split(lines.next().unwrap());
    let rows = lines.filter(|l| !l.is_empty()).map(split).collect();
    Csv { names, rows }
}

impl Csv {
    pub fn column(&self, j: usize) -> Vec<&str> {
        self.rows.iter().map(|r| r[j].as_str()).collect()
    }

    /// The same file with other header names.
    pub fn renamed(&self, names: &[String]) -> String {
        let mut out = names.join(",") + "\n";
        for r in &self.rows {
            out += &(r.join(",") + "\n");
        }
        out
    }

    /// The columns as numbers, rows × columns (blank: NaN).
    pub fn numbers(&self, cols: std::ops::Range<usize>) -> Array2<f64> {
        let n = self.rows.len();
        let d = cols.len();
        Array2::from_shape_fn((n, d), |(i, j)| {
            self.rows[i][cols.start + j].parse().unwrap_or(f64::NAN)
        })
    }
}

/// What a column holds: integers, reals, or text (blanks aside).
#[derive(PartialEq, Clone, Copy, Debug)]
pub enum Kind {
    Int,
    Float,
    Text,
}

pub fn kind(values: &[&str]) -> Kind {
    let given: Vec<&&str> = values.iter().filter(|v| !v.is_empty()).collect();
    if given.iter().all(|v| v.parse::<i64>().is_ok()) {
        Kind::Int
    } else if given.iter().all(|v| v.parse::<f64>().is_ok()) {
        Kind::Float
    } else {
        Kind::Text
    }
}

/// `x0`, `x1`, …: the names a NumPy table's columns get.
pub fn x_names(d: usize) -> Vec<String> {
    (0..d).map(|j| format!("x{j}")).collect()
}

#[cfg(feature = "parquet")]
pub mod parquet_files {
    use std::path::Path;
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use parquet::arrow::ArrowWriter;
    use parquet::basic::{Compression, ZstdLevel};
    use parquet::file::properties::WriterProperties;

    use super::{kind, Csv, Kind};

    /// Writes `csv` as Parquet with the parquet crate's own writer: integer columns as
    /// int64, real ones as float64, text as strings; blanks as nulls.
    pub fn write(csv: &Csv, path: &Path, zstd: bool) {
        let mut fields = Vec::new();
        let mut arrays: Vec<ArrayRef> = Vec::new();
        for (j, name) in csv.names.iter().enumerate() {
            let col = csv.column(j);
            let some = |v: &&str| !v.is_empty();
            let (t, a): (DataType, ArrayRef) = match kind(&col) {
                Kind::Int => (
                    DataType::Int64,
                    Arc::new(Int64Array::from(
                        col.iter()
                            .map(|v| some(v).then(|| v.parse::<i64>().unwrap()))
                            .collect::<Vec<_>>(),
                    )),
                ),
                Kind::Float => (
                    DataType::Float64,
                    Arc::new(Float64Array::from(
                        col.iter()
                            .map(|v| some(v).then(|| v.parse::<f64>().unwrap()))
                            .collect::<Vec<_>>(),
                    )),
                ),
                Kind::Text => (
                    DataType::Utf8,
                    Arc::new(StringArray::from(
                        col.iter()
                            .map(|v| some(v).then_some(*v))
                            .collect::<Vec<_>>(),
                    )),
                ),
            };
            fields.push(Field::new(name, t, true));
            arrays.push(a);
        }
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
        let compression = match zstd {
            true => Compression::ZSTD(ZstdLevel::default()),
            false => Compression::SNAPPY,
        };
        let props = WriterProperties::builder()
            .set_compression(compression)
            .set_max_row_group_row_count(Some(100))
            .build();
        let file = std::fs::File::create(path).unwrap();
        let mut w = ArrowWriter::try_new(file, schema, Some(props)).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }
}
