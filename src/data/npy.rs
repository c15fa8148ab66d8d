//! NumPy `.npy` (one 2-D array: columns `x0`, `x1`, …) and `.npz` (arrays `X` and `y` by
//! default) read as tables; each array's header checked against its bytes before it is read.

use std::path::Path;

use ndarray::{Array, ArrayD, Dimension, Ix1, Ix2, IxDyn, ShapeBuilder};
use ndarray_npy::npy::header::Header;
use ndarray_npy::ReadNpyExt;
use py_literal::Value as PyValue;

use super::frame::Frame;
use super::options::LoadOptions;
use super::rows::Value;
use super::shown::{list, shown_str};
use super::table::{push_row, read};
use crate::{Error, Real, Result};

/// One array's values, widened: floats to f64, signed integers and booleans to i64,
/// unsigned to u64, strings (`<U…`, `|S…`) as text.
enum Cells<D> {
    Float(Array<f64, D>),
    Int(Array<i64, D>),
    UInt(Array<u64, D>),
    Text(Array<String, D>),
}

impl<D: Dimension> Cells<D> {
    fn get<I: ndarray::NdIndex<D>>(&self, i: I) -> Value<'_> {
        match self {
            Cells::Float(a) => Value::Number(a[i]),
            Cells::Int(a) => Value::Int(a[i]),
            Cells::UInt(a) => Value::UInt(a[i]),
            Cells::Text(a) => Value::Text(&a[i]),
        }
    }

    fn shape(&self) -> &[usize] {
        match self {
            Cells::Float(a) => a.shape(),
            Cells::Int(a) => a.shape(),
            Cells::UInt(a) => a.shape(),
            Cells::Text(a) => a.shape(),
        }
    }

    fn into_dim<E: Dimension>(self) -> Option<Cells<E>> {
        Some(match self {
            Cells::Float(a) => Cells::Float(a.into_dimensionality().ok()?),
            Cells::Int(a) => Cells::Int(a.into_dimensionality().ok()?),
            Cells::UInt(a) => Cells::UInt(a.into_dimensionality().ok()?),
            Cells::Text(a) => Cells::Text(a.into_dimensionality().ok()?),
        })
    }
}

/// A `.npy` file: one 2-D array (rows × columns), its columns named `x0`, `x1`, …; as for a
/// CSV file, the label is the last column unless `--label` names another (`x0`, or `0`).
pub(super) fn load_npy<T: Real>(
    name: &Path,
    bytes: &[u8],
    fingerprint: String,
    opts: &LoadOptions,
) -> Result<Frame<T>> {
    let what = "the array";
    let cells = array(bytes).map_err(|msg| Error::data(name, format!("{what} {msg}")))?;
    let x = two_d(name, what, cells)?;
    let (n, d) = match x.shape() {
        &[n, d] => (n, d),
        _ => (0, 0),
    };
    let names: Vec<String> = (0..d).map(|j| format!("x{j}")).collect();
    read(name, &names, n, fingerprint, opts, |rows| {
        let mut text = Vec::new();
        for r in 0..n {
            push_row(rows, &mut text, |j| x.get((r, j)))?;
        }
        Ok(())
    })
}

/// A `.npz` file (a zip archive of `.npy` files, as `numpy.savez` writes): the 2-D array
/// `opts.npz.x` is the features (`x0`, `x1`, …), the 1-D array `opts.npz.y`, when there is
/// one, the label column (named after it); other arrays are not read. Without `y`, the file
/// has no label column (what predict reads); a training run is refused.
pub(super) fn load_npz<T: Real>(
    name: &Path,
    bytes: &[u8],
    fingerprint: String,
    opts: &LoadOptions,
) -> Result<Frame<T>> {
    let invalid = |e: zip::result::ZipError| {
        Error::data(
            name,
            format!("is not a valid .npz file (a zip archive): {e}"),
        )
    };
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(invalid)?;
    let arrays: Vec<String> = zip
        .file_names()
        .map(|f| f.strip_suffix(".npy").unwrap_or(f).to_string())
        .collect();
    let (x_name, y_name) = (opts.npz.x.as_str(), opts.npz.y.as_str());
    let mut member = |array: &str| -> Result<Option<Vec<u8>>> {
        let file = match zip.by_name(&format!("{array}.npy")) {
            Ok(f) => f,
            Err(zip::result::ZipError::FileNotFound) => return Ok(None),
            Err(e) => return Err(invalid(e)),
        };
        let mut input = super::source::Input {
            read: Box::new(file),
            what: "is not a valid .npz file (a zip archive)",
            eof: false,
            hash: Default::default(),
        };
        input.read_all(name).map(Some)
    };
    let Some(x_bytes) = member(x_name)? else {
        return Err(Error::data(
            name,
            format!(
                "has no array `{}` for the features; its arrays are: {} (choose with --npz-x)",
                shown_str(x_name),
                list(&arrays)
            ),
        ));
    };
    let y_bytes = member(y_name)?;
    let with_label = opts.labels.iter().any(|l| *l != super::LabelSpec::Absent);
    if y_bytes.is_none() && with_label && !opts.optional_label {
        return Err(Error::data(
            name,
            format!(
                "has no array `{}` for the labels; its arrays are: {} (choose with --npz-y)",
                shown_str(y_name),
                list(&arrays)
            ),
        ));
    }
    let at =
        |array: &str, msg: String| Error::data(name, format!("array `{}` {msg}", shown_str(array)));
    let x = array(&x_bytes).map_err(|m| at(x_name, m))?;
    drop(x_bytes);
    let x = two_d(name, &format!("array `{}`", shown_str(x_name)), x)?;
    let (n, d) = match x.shape() {
        &[n, d] => (n, d),
        _ => (0, 0),
    };
    let y = match y_bytes {
        None => None,
        Some(b) => {
            let y = array(&b).map_err(|m| at(y_name, m))?;
            Some(one_d(name, y_name, n, x_name, y)?)
        }
    };
    let mut names: Vec<String> = (0..d).map(|j| format!("x{j}")).collect();
    if y.is_some() {
        names.push(y_name.to_string());
    }
    read(name, &names, n, fingerprint, opts, |rows| {
        let mut text = Vec::new();
        for r in 0..n {
            push_row(rows, &mut text, |j| match &y {
                Some(y) if j == d => y.get(r),
                _ => x.get((r, j)),
            })?;
        }
        Ok(())
    })
}

/// The array as a table's features: 2-D, rows × columns.
fn two_d(name: &Path, what: &str, cells: Cells<IxDyn>) -> Result<Cells<Ix2>> {
    let shape = cells.shape().to_vec();
    cells.into_dim::<Ix2>().ok_or_else(|| {
        Error::data(
            name,
            format!(
                "{what} has shape {}; a table is a 2-D array (rows × columns)",
                shape_text(&shape)
            ),
        )
    })
}

/// The label array: 1-D (or one column), as many rows as the features.
fn one_d(
    name: &Path,
    y_name: &str,
    n: usize,
    x_name: &str,
    cells: Cells<IxDyn>,
) -> Result<Cells<Ix1>> {
    let shape = cells.shape().to_vec();
    let flat = match shape.as_slice() {
        [_] => cells.into_dim::<Ix1>(),
        [rows, 1] => {
            let rows = *rows;
            match cells {
                Cells::Float(a) => a.into_shape_with_order(rows).ok().map(Cells::Float),
                Cells::Int(a) => a.into_shape_with_order(rows).ok().map(Cells::Int),
                Cells::UInt(a) => a.into_shape_with_order(rows).ok().map(Cells::UInt),
                Cells::Text(a) => a.into_shape_with_order(rows).ok().map(Cells::Text),
            }
        }
        _ => None,
    };
    let Some(y) = flat else {
        return Err(Error::data(
            name,
            format!(
                "array `{}` has shape {}; the labels are a 1-D array, one per row",
                shown_str(y_name),
                shape_text(&shape)
            ),
        ));
    };
    if y.shape() != [n] {
        return Err(Error::data(
            name,
            format!(
                "array `{}` has {} rows and array `{}` has {}: one label per row",
                shown_str(x_name),
                n,
                shown_str(y_name),
                y.shape().first().copied().unwrap_or(0)
            ),
        ));
    }
    Ok(y)
}

/// `(150, 4)`, as NumPy writes a shape.
fn shape_text(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The element types read: the kind (`f` `i` `u` `b` `U` `S`) and the size in bytes.
struct Dtype {
    kind: u8,
    size: usize,
    descr: String,
}

/// What the descriptor `<f8` says, or why it is refused.
fn dtype(descr: &PyValue) -> std::result::Result<Dtype, String> {
    let PyValue::String(s) = descr else {
        return Err(format!(
            "has a structured dtype ({descr}); a table is one array of numbers or strings"
        ));
    };
    let body = s.trim_start_matches(['<', '>', '|', '=']);
    let kind = body.bytes().next().unwrap_or(b'?');
    let size: Option<usize> = body.get(1..).and_then(|n| n.parse().ok());
    let refuse = |why: &str| Err(format!("has dtype `{}`, {why}", shown_str(s)));
    match (kind, size) {
        (b'O', _) => refuse("Python objects, which only Python can read: save numbers or fixed-width strings (`astype(str)`)"),
        (b'f', Some(4 | 8)) | (b'i' | b'u', Some(1 | 2 | 4 | 8)) | (b'b', Some(1)) => Ok(Dtype {
            kind,
            size: size.unwrap_or(1),
            descr: s.clone(),
        }),
        (b'U', Some(n)) => Ok(Dtype { kind, size: n.saturating_mul(4), descr: s.clone() }),
        (b'S', Some(n)) => Ok(Dtype { kind, size: n, descr: s.clone() }),
        _ => refuse("which is not read: floats (f4, f8), integers, booleans or strings (U, S)"),
    }
}

/// Reads one `.npy` array from its bytes: the header, checked against what follows it
/// (the shape's bytes must be there, and nothing more) before anything is allocated.
/// The message (after `array …: `) says what is wrong.
fn array(bytes: &[u8]) -> std::result::Result<Cells<IxDyn>, String> {
    if !bytes.starts_with(b"\x93NUMPY") {
        return Err("is not a .npy array (no \\x93NUMPY signature)".into());
    }
    let truncated = |what: &str| format!("is truncated ({what}): {} bytes in all", bytes.len());
    let (len_at, len_bytes) = match bytes.get(6) {
        Some(1) => (8, 2),
        Some(2 | 3) => (8, 4),
        Some(v) => return Err(format!("has .npy format version {v}, not 1, 2 or 3")),
        None => return Err(truncated("in its header")),
    };
    let header_len = match bytes.get(len_at..len_at + len_bytes) {
        Some(&[a, b]) => usize::from(u16::from_le_bytes([a, b])),
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]) as usize,
        _ => return Err(truncated("in its header")),
    };
    let data_at = len_at + len_bytes + header_len;
    if bytes.len() < data_at {
        return Err(truncated("in its header"));
    }
    let mut reader = bytes;
    let header = Header::from_reader(&mut reader)
        .map_err(|e| format!("has a header that cannot be read: {e}"))?;
    let dtype = dtype(&header.type_descriptor)?;
    let count = header
        .shape
        .iter()
        .try_fold(1usize, |a, &s| a.checked_mul(s));
    let need = count.and_then(|c| c.checked_mul(dtype.size));
    let (Some(count), Some(need)) = (count, need) else {
        return Err(format!(
            "has a shape too large to be real: {}",
            shape_text(&header.shape)
        ));
    };
    let data = bytes.get(data_at..).unwrap_or(&[]);
    let shape_said = || {
        format!(
            "its header says {} of `{}`, {need} bytes",
            shape_text(&header.shape),
            dtype.descr
        )
    };
    if data.len() < need {
        return Err(format!(
            "is truncated: {}, and {} follow",
            shape_said(),
            data.len()
        ));
    }
    if data.len() > need {
        return Err(format!(
            "has {} bytes more than {}",
            data.len() - need,
            shape_said()
        ));
    }
    let shape = IxDyn(&header.shape).set_f(header.layout.is_fortran());
    fn read<A: ndarray_npy::ReadableElement>(
        bytes: &[u8],
    ) -> std::result::Result<ArrayD<A>, String> {
        ArrayD::<A>::read_npy(bytes).map_err(|e| format!("cannot be read: {e}"))
    }
    let widen_i = |a: ArrayD<i64>| Cells::Int(a);
    Ok(match (dtype.kind, dtype.size) {
        (b'f', 8) => Cells::Float(read::<f64>(bytes)?),
        (b'f', _) => Cells::Float(read::<f32>(bytes)?.mapv(f64::from)),
        (b'i', 8) => widen_i(read::<i64>(bytes)?),
        (b'i', 4) => widen_i(read::<i32>(bytes)?.mapv(i64::from)),
        (b'i', 2) => widen_i(read::<i16>(bytes)?.mapv(i64::from)),
        (b'i', _) => widen_i(read::<i8>(bytes)?.mapv(i64::from)),
        (b'u', 8) => Cells::UInt(read::<u64>(bytes)?),
        (b'u', 4) => Cells::UInt(read::<u32>(bytes)?.mapv(u64::from)),
        (b'u', 2) => Cells::UInt(read::<u16>(bytes)?.mapv(u64::from)),
        (b'u', _) => Cells::UInt(read::<u8>(bytes)?.mapv(u64::from)),
        (b'b', _) => widen_i(read::<bool>(bytes)?.mapv(i64::from)),
        // Strings: ndarray-npy reads no string dtype, so they are decoded here.
        (kind, _) => {
            let width = dtype.size;
            let big = dtype.descr.starts_with('>');
            let mut text = Vec::new();
            text.try_reserve_exact(count)
                .map_err(|_| "does not fit in the memory this process may use".to_string())?;
            for i in 0..count {
                let cell = data.get(i * width..(i + 1) * width).unwrap_or(&[]);
                text.push(string(kind, big, cell).ok_or_else(|| {
                    format!(
                        "has element {i} that is not valid {}",
                        if kind == b'U' { "UTF-32" } else { "UTF-8" }
                    )
                })?);
            }
            Cells::Text(
                Array::from_shape_vec(shape, text)
                    .map_err(|e| format!("has a shape that does not fit its data: {e}"))?,
            )
        }
    })
}

/// One fixed-width string element: UTF-32 code units (`U`) or bytes (`S`, read as UTF-8),
/// without the NULs that pad it.
fn string(kind: u8, big_endian: bool, cell: &[u8]) -> Option<String> {
    if kind == b'S' {
        let end = cell.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
        return std::str::from_utf8(cell.get(..end)?)
            .ok()
            .map(str::to_string);
    }
    let mut s = String::new();
    for unit in cell.chunks_exact(4) {
        let bytes = [unit[0], unit[1], unit[2], unit[3]];
        let u = if big_endian {
            u32::from_be_bytes(bytes)
        } else {
            u32::from_le_bytes(bytes)
        };
        s.push(char::from_u32(u)?);
    }
    Some(s.trim_end_matches('\0').to_string())
}
