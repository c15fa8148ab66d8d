//! Numbers in fields: a finite decimal read straight into T (lexical-core), the fast path that
//! finds a field's end in the same pass, and the slow path that says what is wrong.

use super::shown::{shown, shown_str};
use crate::Real;

/// Where the field that starts at `at` ends: at the next delimiter, '\r' or '\n', or the end.
#[inline]
pub(super) fn field_end(chunk: &[u8], at: usize, delim: u8) -> usize {
    let rest = chunk.get(at..).unwrap_or(&[]);
    at + rest
        .iter()
        .position(|&c| c == delim || c == b'\r' || c == b'\n')
        .unwrap_or(rest.len())
}

/// A field that is a finite number as `fast_decimal` reads it (no spaces, no quotes), read
/// where it starts, at `at`, in the same pass that finds its end: the value and the end.
/// None for anything else, which `field_end` and `number` then read.
#[inline(always)]
pub(super) fn fast_field<T: Real>(chunk: &[u8], at: usize) -> Option<(T, usize)> {
    let rest = chunk.get(at..)?;
    let (v, n) = if std::mem::size_of::<T>() == 4 {
        let (v, n) = lexical_core::parse_partial::<f32>(rest).ok()?;
        (T::of(f64::from(v)), n)
    } else {
        let (v, n) = lexical_core::parse_partial::<f64>(rest).ok()?;
        (T::of(v), n)
    };
    match rest.get(n) {
        None | Some(b',' | b'\r' | b'\n') if v.is_finite() => Some((v, at + n)),
        _ => None,
    }
}

/// A finite number in the whole of `s`, correctly rounded to T (the same value as
/// `str::parse`), by the `lexical-core` crate (Eisel-Lemire, with a fallback for hard cases).
/// None for anything else (spaces, inf, nan, overflow, garbage), which `number` then reads
/// the slow way to say what is wrong.
#[inline]
pub(super) fn fast_decimal<T: Real>(s: &[u8]) -> Option<T> {
    let v = if std::mem::size_of::<T>() == 4 {
        T::of(f64::from(lexical_core::parse::<f32>(s).ok()?))
    } else {
        T::of(lexical_core::parse::<f64>(s).ok()?)
    };
    v.is_finite().then_some(v)
}

/// A finite number, parsed straight into T (f32 data never passes through an f64 matrix).
#[inline]
pub(super) fn number<T: Real>(field: &[u8]) -> std::result::Result<T, String> {
    if let Some(v) = fast_decimal(field) {
        return Ok(v);
    }
    if field.is_empty() {
        return Err("empty field".to_string());
    }
    let text =
        std::str::from_utf8(field).map_err(|_| format!("`{}` is not valid UTF-8", shown(field)))?;
    match text.parse::<T>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => match text.parse::<f64>() {
            Ok(wide) if wide.is_finite() => Err(format!(
                "`{}` is out of range for {}",
                shown_str(text),
                T::NAME
            )),
            _ => Err(format!("`{}` is not a finite number", shown_str(text))),
        },
        Err(_) => Err(format!("`{}` is not a number", shown_str(text))),
    }
}

/// A field (already trimmed) that holds no value: empty, or one of `encode::MISSING_TOKENS`.
#[cold]
pub(super) fn missing_value(field: &[u8]) -> bool {
    std::str::from_utf8(field).is_ok_and(super::encode::is_missing)
}
