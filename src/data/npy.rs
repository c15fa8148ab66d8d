//! NumPy `.npy` (one 2-D array: columns `x0`, `x1`, …) and `.npz` (arrays `X` and `y` by
//! default) read as tables; each array's header checked against its bytes before it is read.

use std::path::Path;

use ndarray_npy::npy::header::Header;
use py_literal::Value as PyValue;

use super::frame::Frame;
use super::options::LoadOptions;
use super::rows::Value;
use super::shown::{list, shown_str};
use super::table::{push_row, read};
use crate::{Error, Real, Result};

/// One array, its numbers read in place from the file's bytes (ndarray-npy parses the
/// header; its readers allocate the whole array without asking, which under a memory limit
/// is an abort, so the values are decoded here, one at a time, as the table reads them);
/// strings (`<U…`, `|S…`) decoded once.
struct Cells<'a> {
    shape: Vec<usize>,
    fortran: bool,
    dtype: Dtype,
    data: &'a [u8],
    text: Vec<String>,
}

impl Cells<'_> {
    /// Row r, column c of a 2-D array (or element r of a 1-D one, c = 0).
    fn get(&self, r: usize, c: usize) -> Value<'_> {
        let i = match (self.shape.as_slice(), self.fortran) {
            ([_, d], false) => r * d + c,
            ([n, _], true) => c * n + r,
            _ => r,
        };
        if self.dtype.kind == b'U' || self.dtype.kind == b'S' {
            return self.text.get(i).map_or(Value::Missing, |s| Value::Text(s));
        }
        let size = self.dtype.size;
        let mut le = [0u8; 8];
        if let (Some(b), Some(to)) = (self.data.get(i * size..(i + 1) * size), le.get_mut(..size)) {
            to.copy_from_slice(b);
            if self.dtype.big_endian {
                to.reverse();
            }
        }
        let bits = u64::from_le_bytes(le);
        let shift = 64 - 8 * size as u32;
        match (self.dtype.kind, size) {
            (b'f', 4) => Value::Number(f64::from(f32::from_bits(bits as u32))),
            (b'f', _) => Value::Number(f64::from_bits(bits)),
            // Sign-extended from its width.
            (b'i', _) => Value::Int(((bits << shift) as i64) >> shift),
            _ => Value::UInt(bits),
        }
    }

    /// Rows: the first dimension.
    fn rows(&self) -> usize {
        self.shape.first().copied().unwrap_or(0)
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
    let x = array(bytes).map_err(|msg| Error::data(name, format!("{what} {msg}")))?;
    let (n, d) = two_d(name, what, &x)?;
    let names: Vec<String> = (0..d).map(|j| format!("x{j}")).collect();
    read(name, &names, n, fingerprint, opts, |rows| {
        let mut text = Vec::new();
        for r in 0..n {
            push_row(rows, &mut text, |j| x.get(r, j))?;
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
    // A member's bytes, read through the same growing, memory-checked buffer as any input
    // (the size the archive states is not trusted).
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
    let (n, d) = two_d(name, &format!("array `{}`", shown_str(x_name)), &x)?;
    let y = match &y_bytes {
        None => None,
        Some(b) => {
            let y = array(b).map_err(|m| at(y_name, m))?;
            one_d(name, y_name, n, x_name, &y)?;
            Some(y)
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
                Some(y) if j == d => y.get(r, 0),
                _ => x.get(r, j),
            })?;
        }
        Ok(())
    })
}

/// The array as a table's features: 2-D, rows × columns; its (rows, columns).
fn two_d(name: &Path, what: &str, cells: &Cells) -> Result<(usize, usize)> {
    match cells.shape.as_slice() {
        &[n, d] => Ok((n, d)),
        shape => Err(Error::data(
            name,
            format!(
                "{what} has shape {}; a table is a 2-D array (rows × columns)",
                shape_text(shape)
            ),
        )),
    }
}

/// The label array: 1-D (or one column), as many rows as the features.
fn one_d(name: &Path, y_name: &str, n: usize, x_name: &str, cells: &Cells) -> Result<()> {
    if !matches!(cells.shape.as_slice(), [_] | [_, 1]) {
        return Err(Error::data(
            name,
            format!(
                "array `{}` has shape {}; the labels are a 1-D array, one per row",
                shown_str(y_name),
                shape_text(&cells.shape)
            ),
        ));
    }
    if cells.rows() != n {
        return Err(Error::data(
            name,
            format!(
                "array `{}` has {} rows and array `{}` has {}: one label per row",
                shown_str(x_name),
                n,
                shown_str(y_name),
                cells.rows()
            ),
        ));
    }
    Ok(())
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

/// The element types read: the kind (`f` `i` `u` `b` `U` `S`), the size of one element in
/// bytes, the byte order.
struct Dtype {
    kind: u8,
    size: usize,
    big_endian: bool,
    descr: String,
}

/// What the descriptor `<f8` says, or why it is refused.
fn dtype(descr: &PyValue) -> std::result::Result<Dtype, String> {
    let PyValue::String(s) = descr else {
        return Err(format!(
            "has a structured dtype ({descr}); a table is one array of numbers or strings"
        ));
    };
    let big_endian = match s.as_bytes().first() {
        Some(b'>') => true,
        Some(b'=') => cfg!(target_endian = "big"),
        _ => false,
    };
    let body = s.trim_start_matches(['<', '>', '|', '=']);
    let kind = body.bytes().next().unwrap_or(b'?');
    let size: Option<usize> = body.get(1..).and_then(|n| n.parse().ok());
    let refuse = |why: &str| Err(format!("has dtype `{}`, {why}", shown_str(s)));
    let size = match (kind, size) {
        (b'O', _) => {
            return refuse(
                "Python objects, which only Python can read: save numbers or fixed-width \
                 strings (`astype(str)`)",
            )
        }
        (b'f', Some(n @ (4 | 8)))
        | (b'i' | b'u', Some(n @ (1 | 2 | 4 | 8)))
        | (b'b', Some(n @ 1)) => n,
        // Zero-width strings take no bytes, so a header could claim any number of them
        // from a file of a few bytes (and each would be a row in memory); NumPy itself
        // saves empty strings as `<U1`.
        (b'U' | b'S', Some(0)) => {
            return refuse(
                "strings of no characters, which hold no value: a width of 1 or more is read",
            )
        }
        (b'U', Some(n)) => n.saturating_mul(4),
        (b'S', Some(n)) => n,
        _ => {
            return refuse(
                "which is not read: floats (f4, f8), integers, booleans or strings (U, S)",
            )
        }
    };
    Ok(Dtype {
        kind,
        size,
        big_endian,
        descr: s.clone(),
    })
}

/// One `.npy` array in its bytes: the header, checked against what follows it (the shape's
/// bytes must be there, and nothing more) before anything is read. The message (after
/// `array …`) says what is wrong.
fn array(bytes: &[u8]) -> std::result::Result<Cells<'_>, String> {
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
    if dtype.kind == b'b' {
        if let Some(i) = data.iter().position(|&b| b > 1) {
            return Err(format!("has element {i} that is not a boolean (0 or 1)"));
        }
    }
    let mut text = Vec::new();
    if dtype.kind == b'U' || dtype.kind == b'S' {
        // Strings: ndarray-npy reads no string dtype, so they are decoded here.
        text.try_reserve_exact(count)
            .map_err(|_| "does not fit in the memory this process may use".to_string())?;
        for (i, cell) in data.chunks_exact(dtype.size.max(1)).take(count).enumerate() {
            text.push(string(dtype.kind, dtype.big_endian, cell).ok_or_else(|| {
                format!(
                    "has element {i} that is not valid {}",
                    if dtype.kind == b'U' {
                        "UTF-32"
                    } else {
                        "UTF-8"
                    }
                )
            })?);
        }
    }
    Ok(Cells {
        fortran: header.layout.is_fortran() && header.shape.len() > 1,
        shape: header.shape,
        dtype,
        data,
        text,
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
