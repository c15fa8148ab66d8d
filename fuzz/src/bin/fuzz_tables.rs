//! Fuzzes the Parquet, .npy and .npz readers through the entry point the binary uses for a
//! table in memory, `mlp_train::data::parse` (it sniffs the format from the first bytes), with
//! several label specs (two per input), in f32 and f64, `--impute`-style missing values
//! allowed on a third of the inputs. Seeds: the heads of data/*.csv written in-process by the
//! writers tests/formats.rs uses (the parquet crate's ArrowWriter: snappy, zstd, uncompressed,
//! with and without dictionaries, with nulls; ndarray-npy: .npy of f4, f8, i8, bool, Fortran
//! order; .npz plain and deflated, and with a string `y` written by hand).
//!
//! The process runs under an address-space limit (`--memory-mb`, default 4096), so that a
//! hostile header claiming a huge shape meets a refusal as it would under a real budget: an
//! allocation made without asking is then an abort, which is a bug.
//!
//! cargo run --release --bin fuzz_tables -- --seconds 300

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use mlp_train::data::{self, Frame, LabelKind, LabelSpec, Labels, LoadOptions};
use mlp_train_fuzz::{data_dir, finish, fuzz, Options};
use ndarray::{Array1, Array2, ShapeBuilder};
use ndarray_npy::{NpzWriter, WriteNpyExt};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

const NAME: &str = "fuzz.table";

const DICT: &[&[u8]] = &[
    b"PAR1",
    b"\x93NUMPY",
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"\x00\x00\x00\x00",
    b"\xff\xff\xff\xff",
    b"\xff\xff\xff\x7f",
    b"\x00\x00\x00\x80",
    b"\xff\xff\xff\xff\xff\xff\xff\xff",
    b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01",
    b"\x15\x00",
    b"\x19\x0c",
    b"4294967296",
    b"18446744073709551615",
    b"99999999999",
    b"1000000000",
    b"0",
    b"-1",
    b"(0, 3)",
    b"(1000000000, 0)",
    b"(0,)",
    b"()",
    b"True",
    b"False",
    b"'<f8'",
    b"'>f4'",
    b"'<i8'",
    b"'|b1'",
    b"'<U0'",
    b"'<U999999999'",
    b"'|S3'",
    b"'|O'",
    b"'<c16'",
    b"[('a', '<f8')]",
    b"'fortran_order'",
    b"'shape'",
    b"'descr'",
    b"X.npy",
    b"y.npy",
    b"\x00\x00\xc0\x7f",
    b"\x00\x00\x80\x7f",
    b"\x00\x00\x00\x00\x00\x00\xf0\x7f",
    b"\x00\x00\x00\x00\x00\x00\xf8\x7f",
    b"\x1b[31m",
    b"\xe2\x80\xae",
    b"species",
    b"y",
    b"x0",
    b"\n",
];

/// What a successful read promises.
fn check<T: mlp_train::Real>(f: &Frame<T>, opts: &LoadOptions) -> String {
    let (n, d) = f.x.dim();
    assert!(n > 0, "a table with no rows accepted");
    assert_eq!(f.lines.len(), n, "one line number per row");
    assert_eq!(f.feature_names.len(), d, "one name per feature column");
    if opts.missing {
        assert!(
            f.x.iter().all(|v| v.is_finite() || v.is_nan()),
            "only finite or missing features"
        );
    } else {
        assert!(f.x.iter().all(|v| v.is_finite()), "only finite features");
    }
    for t in &f.text {
        assert_eq!(t.values.len(), n, "one text value per row");
    }
    let kind = match &f.labels {
        Labels::None => "none",
        Labels::Classes(c) => {
            assert_eq!(c.y.len(), n);
            assert_eq!(f.label_names.len(), 1);
            assert!(c.names.iter().all(|s| !s.is_empty()), "no empty class name");
            assert!(
                c.y.iter().all(|&k| (k as usize) < c.names.len()),
                "class indices in range"
            );
            "classes"
        }
        Labels::Targets(t) => {
            assert_eq!(t.dim(), (n, f.label_names.len()));
            assert!(t.iter().all(|v| v.is_finite()), "only finite targets");
            "targets"
        }
    };
    format!("{kind} d={}", d.min(3))
}

/// A message names the file, is one line without control characters, under 4 KB.
fn check_message(e: &mlp_train::Error) -> String {
    let m = e.to_string();
    assert!(m.starts_with(NAME), "a message without the file: {m}");
    assert!(
        !m.chars().any(|c| c.is_control()),
        "a control character in a message: {m:?}"
    );
    assert!(m.len() < 4096, "a message of {} bytes", m.len());
    m
}

fn target(input: &[u8]) -> Result<String, String> {
    let name = Path::new(NAME);
    let specs: Vec<(Vec<LabelSpec>, LabelKind, bool)> = vec![
        (vec![LabelSpec::Last], LabelKind::Classes, false),
        (vec![LabelSpec::Last], LabelKind::Targets, false),
        (
            vec![LabelSpec::Name("species".into())],
            LabelKind::Classes,
            true,
        ),
        (vec![LabelSpec::Name("y".into())], LabelKind::Classes, false),
        (
            vec![LabelSpec::NameOrIndex("0".into(), 0)],
            LabelKind::Targets,
            false,
        ),
        (
            vec![LabelSpec::Name("x1".into()), LabelSpec::Index(0)],
            LabelKind::Targets,
            true,
        ),
        (vec![LabelSpec::Absent], LabelKind::Classes, false),
    ];
    let h = input
        .iter()
        .fold(0usize, |h, &c| h.wrapping_mul(31).wrapping_add(c as usize));
    let other = 1 + h % (specs.len() - 1);
    let missing = h / 7 % 3 == 0;
    let mut first = None;
    for (k, (labels, kind, optional)) in specs.into_iter().enumerate() {
        if k != 0 && k != other {
            continue;
        }
        let mut opts = LoadOptions::new(labels, kind);
        opts.optional_label = optional;
        opts.missing = missing;
        let r32 = data::parse::<f32>(name, input, &opts);
        let r64 = data::parse::<f64>(name, input, &opts);
        let outcome = match (&r32, &r64) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.feature_names, b.feature_names, "f32 and f64 agree");
                assert_eq!(a.lines, b.lines, "f32 and f64 agree");
                check(a, &opts);
                Ok(check(b, &opts))
            }
            (Err(a), Err(b)) => {
                check_message(b);
                Err(check_message(a))
            }
            // f32 may overflow where f64 does not: only that difference is allowed.
            (Err(a), Ok(b)) => {
                let m = check_message(a);
                check(b, &opts);
                assert!(
                    m.contains("finite") || m.contains("range"),
                    "f32 alone refused: {m}"
                );
                Err(m)
            }
            (Ok(_), Err(b)) => panic!("f64 refused what f32 read: {b}"),
        };
        first.get_or_insert(outcome);
    }
    // The .npy header parser's syntax errors quote the header and point into it: one
    // outcome, not one per header (else the corpus fills with broken headers).
    first
        .unwrap_or_else(|| Err("no spec".into()))
        .map_err(|m| match m.find("syntax error") {
            Some(i) => m[..i].to_string(),
            None => m,
        })
}

/// A CSV head (no quotes in data/), split.
struct Csv {
    names: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Csv {
    fn column(&self, j: usize) -> Vec<&str> {
        self.rows
            .iter()
            .map(|r| r.get(j).map_or("", |s| s.as_str()))
            .collect()
    }
    fn numeric(&self, j: usize) -> bool {
        self.column(j)
            .iter()
            .all(|v| v.is_empty() || v.parse::<f64>().is_ok())
    }
    /// The numeric columns, as a matrix (blank: NaN), and their count.
    fn numbers(&self) -> Array2<f64> {
        let cols: Vec<usize> = (0..self.names.len()).filter(|&j| self.numeric(j)).collect();
        Array2::from_shape_fn((self.rows.len(), cols.len()), |(i, j)| {
            self.rows[i][cols[j]].parse().unwrap_or(f64::NAN)
        })
    }
}

fn head(path: &Path, lines: usize) -> Csv {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut it = text.lines();
    let split = |l: &str| {
        l.split(',')
            .map(|f| f.trim().to_string())
            .collect::<Vec<_>>()
    };
    let names = it.next().map(split).unwrap_or_default();
    let rows = it
        .filter(|l| !l.is_empty())
        .take(lines)
        .map(split)
        .collect();
    Csv { names, rows }
}

/// `csv` as Parquet, as tests/common/tables.rs writes it (int64, float64, strings; blanks as
/// nulls), with this codec and dictionary choice.
fn parquet(csv: &Csv, compression: Compression, dictionary: bool) -> Option<Vec<u8>> {
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (j, name) in csv.names.iter().enumerate() {
        let col = csv.column(j);
        let given = |v: &&str| !v.is_empty();
        let (t, a): (DataType, ArrayRef) = if col
            .iter()
            .filter(|v| !v.is_empty())
            .all(|v| v.parse::<i64>().is_ok())
        {
            (
                DataType::Int64,
                Arc::new(Int64Array::from(
                    col.iter()
                        .map(|v| v.parse::<i64>().ok())
                        .collect::<Vec<_>>(),
                )),
            )
        } else if csv.numeric(j) {
            (
                DataType::Float64,
                Arc::new(Float64Array::from(
                    col.iter()
                        .map(|v| v.parse::<f64>().ok())
                        .collect::<Vec<_>>(),
                )),
            )
        } else {
            (
                DataType::Utf8,
                Arc::new(StringArray::from(
                    col.iter()
                        .map(|v| given(v).then_some(*v))
                        .collect::<Vec<_>>(),
                )),
            )
        };
        fields.push(Field::new(name, t, true));
        arrays.push(a);
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays).ok()?;
    let props = WriterProperties::builder()
        .set_compression(compression)
        .set_dictionary_enabled(dictionary)
        .set_max_row_group_row_count(Some(4))
        .build();
    let mut out = Vec::new();
    let mut w = ArrowWriter::try_new(&mut out, schema, Some(props)).ok()?;
    w.write(&batch).ok()?;
    w.close().ok()?;
    Some(out)
}

fn npy<A: ndarray_npy::WritableElement, D: ndarray::Dimension>(
    a: &ndarray::Array<A, D>,
) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = a.write_npy(&mut out);
    out
}

/// A .npy of strings as NumPy writes them (`<U…`, UTF-32, NUL-padded), by hand.
fn npy_strings(values: &[&str]) -> Vec<u8> {
    let width = values
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut data = Vec::new();
    for s in values {
        let mut units: Vec<u32> = s.chars().map(|c| c as u32).collect();
        units.resize(width, 0);
        data.extend(units.iter().flat_map(|u| u.to_le_bytes()));
    }
    let mut header = format!(
        "{{'descr': '<U{width}', 'fortran_order': False, 'shape': ({},), }}",
        values.len()
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

/// A zip of these members, stored or deflated (zip, as tests/formats.rs writes it).
fn zip_of(members: &[(&str, &[u8])], deflate: bool) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let method = match deflate {
        true => zip::CompressionMethod::Deflated,
        false => zip::CompressionMethod::Stored,
    };
    let opts = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, bytes) in members {
        let _ = z.start_file(*name, opts);
        let _ = z.write_all(bytes);
    }
    z.finish().map(|c| c.into_inner()).unwrap_or_default()
}

fn seeds(max_len: usize) -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(data_dir())
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    names.sort();
    for path in names {
        if path.extension().is_none_or(|e| e != "csv") {
            continue;
        }
        let csv = head(&path, 6);
        // Parquet: every codec, with and without dictionaries; a copy with nulls.
        for (c, dict) in [
            (Compression::SNAPPY, true),
            (Compression::ZSTD(ZstdLevel::default()), true),
            (Compression::UNCOMPRESSED, false),
            (Compression::UNCOMPRESSED, true),
        ] {
            seeds.extend(parquet(&csv, c, dict));
        }
        let mut holes = Csv {
            names: csv.names.clone(),
            rows: csv.rows.clone(),
        };
        for (i, row) in holes.rows.iter_mut().enumerate() {
            let w = row.len().max(1);
            if let Some(v) = row.get_mut((i * 3 + 1) % w) {
                v.clear();
            }
        }
        seeds.extend(parquet(&holes, Compression::SNAPPY, true));
        // .npy: the numeric columns in f8, f4, i8, bool, Fortran order.
        let x = csv.numbers();
        if x.ncols() == 0 {
            continue;
        }
        seeds.push(npy(&x));
        seeds.push(npy(&x.mapv(|v| v as f32)));
        seeds.push(npy(&x.mapv(|v| v.round() as i64)));
        seeds.push(npy(&x.mapv(|v| v > 1.0)));
        let mut fortran = Array2::<f64>::zeros(x.dim().f());
        fortran.assign(&x);
        seeds.push(npy(&fortran));
        // .npz: X and a y (the last CSV column: numbers, or strings), plain and deflated.
        let last = csv.names.len().saturating_sub(1);
        let features = if csv.numeric(last) {
            x.slice(ndarray::s![.., ..x.ncols() - 1]).to_owned()
        } else {
            x.clone()
        };
        if features.ncols() == 0 {
            continue;
        }
        if csv.numeric(last) {
            let y: Array1<i64> = csv
                .column(last)
                .iter()
                .map(|v| v.parse::<f64>().unwrap_or(0.0) as i64)
                .collect();
            for compressed in [false, true] {
                let mut z = if compressed {
                    NpzWriter::new_compressed(std::io::Cursor::new(Vec::new()))
                } else {
                    NpzWriter::new(std::io::Cursor::new(Vec::new()))
                };
                let _ = z.add_array("X", &features);
                let _ = z.add_array("y", &y);
                if let Ok(c) = z.finish() {
                    seeds.push(c.into_inner());
                }
            }
        } else {
            let y = npy_strings(&csv.column(last));
            let xb = npy(&features);
            for deflate in [false, true] {
                seeds.push(zip_of(&[("X.npy", &xb), ("y.npy", &y)], deflate));
            }
        }
    }
    seeds.retain(|s| s.len() <= max_len);
    seeds
}

/// Caps the address space, so that memory is refused as under a real budget.
fn limit_memory(mb: u64) {
    let bytes = mb.saturating_mul(1 << 20);
    let lim = libc::rlimit {
        rlim_cur: bytes,
        rlim_max: bytes,
    };
    // SAFETY: setrlimit reads the struct given; no memory is handed over.
    if unsafe { libc::setrlimit(libc::RLIMIT_AS, &lim) } != 0 {
        eprintln!("fuzz_tables: could not limit the address space to {mb} MB");
    }
}

fn main() {
    // `--memory-mb N` is taken out before the shared options are read.
    let mut memory_mb = 4096;
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--memory-mb") {
        memory_mb = args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or(4096);
    }
    let opts = Options::from_args_without(&["--memory-mb"]);
    let seeds = seeds(opts.max_len);
    eprintln!(
        "fuzz_tables: {} seeds, memory limit {memory_mb} MB",
        seeds.len()
    );
    limit_memory(memory_mb);
    let stats = fuzz("fuzz_tables", &opts, seeds, DICT, &target);
    std::process::exit(finish("fuzz_tables", &opts, &stats));
}
