//! Record scanning: line ends and quotes as the CSV reader sees them, counting lines, cutting
//! blocks at record ends into stretches, and the error for a quote that never closes.

use std::path::Path;

use super::layout::Layout;
use super::shown::shown_str;
use crate::{Error, Result};

/// Where a quote opened and never closed (its line, and its field's 0-based index), if
/// `bytes` (whole records, starting on one on `first_line`) end inside quotes.
#[cold]
pub(super) fn unterminated_quote(bytes: &[u8], first_line: u64, delim: u8) -> Option<(u64, usize)> {
    // No quote at all: nothing to look for.
    memchr::memchr(b'"', bytes)?;
    let (mut state, mut line, mut field) = (Quote::Start, first_line, 0usize);
    let mut opened = (first_line, 0usize);
    let mut prev = 0u8;
    for &b in bytes {
        if prev == b'\n' || prev == b'\r' && b != b'\n' {
            line += 1;
        }
        let was = state;
        state = state.step(b, delim);
        if was == Quote::Start && state == Quote::Quoted {
            opened = (line, field);
        }
        if state != Quote::Quoted {
            if b == delim {
                field += 1;
            } else if b == b'\n' || b == b'\r' {
                field = 0;
            }
        }
        prev = b;
    }
    (state == Quote::Quoted).then_some(opened)
}

/// The error for a quote that never closes.
#[cold]
pub(super) fn unterminated_error(
    name: &Path,
    line: u64,
    field: usize,
    layout: Option<&Layout>,
) -> Error {
    let column = match layout.and_then(|l| l.columns.get(field)) {
        Some(c) => shown_str(c),
        None => format!("field {}", field + 1),
    };
    Error::data_at(
        name,
        line,
        column,
        "a quoted field opens here and is never closed (a `\"` is missing): it runs to the end of the file",
    )
}

/// How many line ends (`\n`, `\r\n`, or a lone `\r`, as the CSV reader takes them): the
/// lines that `bytes` moves on by. A `\r` at the very end counts (slices never end between
/// the two bytes of a `\r\n`).
pub(super) fn count_lines(bytes: &[u8]) -> u64 {
    // memchr's SIMD search, line end to line end: a few bytes a cycle, however long the lines.
    let lf = memchr::memchr_iter(b'\n', bytes).count() as u64;
    if memchr::memchr(b'\r', bytes).is_none() {
        return lf;
    }
    let lone_cr = memchr::memchr_iter(b'\r', bytes)
        .filter(|&i| bytes.get(i + 1) != Some(&b'\n'))
        .count() as u64;
    lf + lone_cr
}

/// Just past the last record end (`\n`, or a `\r` followed by something other than `\n`)
/// in `bytes[from..to]`; `bytes` beyond `to` is looked at for the byte after a `\r`.
#[inline]
pub(super) fn last_end(bytes: &[u8], from: usize, to: usize) -> Option<usize> {
    let text = bytes.get(from..to)?;
    let mut upto = text.len();
    while let Some(i) = text
        .get(..upto)?
        .iter()
        .rposition(|&b| b == b'\n' || b == b'\r')
    {
        let at = from + i;
        if bytes.get(at) == Some(&b'\n') {
            return Some(at + 1);
        }
        match bytes.get(at + 1) {
            Some(&c) if c != b'\n' => return Some(at + 1),
            _ => upto = i,
        }
    }
    None
}

/// Whether the byte at `at` ends a record, given what follows it (outside quotes).
#[inline]
pub(super) fn ends_record(bytes: &[u8], at: usize) -> bool {
    match bytes.get(at) {
        Some(b'\n') => true,
        Some(b'\r') => matches!(bytes.get(at + 1), Some(&c) if c != b'\n'),
        _ => false,
    }
}

/// Counts lines incrementally through a chunk: the line on which a position is.
pub(super) struct LineCounter {
    pub(super) pos: usize,
    pub(super) line: u64,
}

impl LineCounter {
    /// Counting from position 0, which is on `line`.
    pub(super) fn new(line: u64) -> Self {
        LineCounter { pos: 0, line }
    }

    /// The line of `pos` (never before the last position asked for, nor between a `\r`
    /// and its `\n`).
    pub(super) fn at(&mut self, chunk: &[u8], pos: usize) -> u64 {
        if pos > self.pos {
            self.line += count_lines(chunk.get(self.pos..pos).unwrap_or(&[]));
            self.pos = pos;
        }
        self.line
    }
}

/// Cuts `bytes` (whole records, starting on a record) at record ends into at most `pieces`
/// stretches of about the same size.
pub(super) fn split_records(bytes: &[u8], pieces: usize, delim: u8) -> Vec<(usize, usize)> {
    let mut cuts = Vec::with_capacity(pieces.min(64));
    let mut scan = Scan::new(delim);
    let mut from = 0;
    for t in 1..pieces {
        let target = (bytes.len() / pieces).saturating_mul(t);
        if target <= scan.pos {
            continue;
        }
        scan.advance(bytes.get(..target).unwrap_or(bytes));
        match scan.next_cut(bytes) {
            Some(to) if to < bytes.len() => {
                cuts.push((from, to));
                from = to;
            }
            _ => break,
        }
    }
    cuts.push((from, bytes.len()));
    cuts
}

/// Where a CSV reader is within a record, as far as quotes go: what decides whether a
/// '\n' ends a record. The same rules as `csv_core` (RFC 4180 with `""` inside quotes): a
/// `"` opens a quoted field only at the start of a field, and is literal elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Quote {
    /// At the start of a field (or record).
    Start,
    /// In an unquoted field.
    Field,
    /// In a quoted field: '\n', ',' and '\r' are text.
    Quoted,
    /// Just after a `"` in a quoted field: another `"` is a literal one, and the field goes
    /// on quoted; anything else closes the quotes.
    Closing,
}

impl Quote {
    /// The state after byte `b`, fields being separated by `delim`.
    #[inline]
    pub(super) fn step(self, b: u8, delim: u8) -> Quote {
        match (self, b) {
            (Quote::Quoted, b'"') => Quote::Closing,
            (Quote::Quoted, _) => Quote::Quoted,
            (Quote::Start | Quote::Closing, b'"') => Quote::Quoted,
            (_, b'\r' | b'\n') => Quote::Start,
            (_, b) if b == delim => Quote::Start,
            _ => Quote::Field,
        }
    }
}

/// A scan of a buffer that starts on a record, for the last record end seen.
pub(super) struct Scan {
    pub(super) state: Quote,
    /// How far the buffer has been scanned; `state` is the state there.
    pub(super) pos: usize,
    /// Just past the last record end seen (0: none yet).
    pub(super) cut: usize,
    /// The byte between fields.
    pub(super) delim: u8,
}

impl Scan {
    pub(super) fn new(delim: u8) -> Scan {
        Scan {
            state: Quote::Start,
            pos: 0,
            cut: 0,
            delim,
        }
    }

    /// Scans `bytes[self.pos..]`. A `\r` at the very end is not taken as a record end yet
    /// (a `\n` may follow).
    pub(super) fn advance(&mut self, bytes: &[u8]) {
        let Some(rest) = bytes.get(self.pos..) else {
            return;
        };
        let delim = self.delim;
        let base = self.pos;
        self.pos = bytes.len();
        if matches!(self.state, Quote::Start | Quote::Field) && memchr::memchr(b'"', rest).is_none()
        {
            // No quote ahead: every line end ends a record.
            if let Some(cut) = last_end(bytes, base, bytes.len()) {
                self.cut = cut;
            }
            if let Some(&b) = rest.last() {
                self.state = Quote::Field.step(b, delim);
            }
            return;
        }
        let mut i = 0;
        while let Some(tail) = rest.get(i..) {
            let Some(&b) = tail.first() else {
                break;
            };
            match self.state {
                Quote::Quoted => match memchr::memchr(b'"', tail) {
                    Some(k) => {
                        self.state = Quote::Closing;
                        i += k + 1;
                    }
                    None => break,
                },
                Quote::Closing => {
                    self.state = Quote::Closing.step(b, delim);
                    if ends_record(bytes, base + i) {
                        self.cut = base + i + 1;
                    }
                    i += 1;
                }
                Quote::Start | Quote::Field => {
                    // Up to the next quote, every line end ends a record.
                    let k = memchr::memchr(b'"', tail).unwrap_or(tail.len());
                    let text = tail.get(..k).unwrap_or(&[]);
                    if let Some(cut) = last_end(bytes, base + i, base + i + k) {
                        self.cut = cut;
                    }
                    if let Some(&c) = text.last() {
                        self.state = Quote::Field.step(c, delim);
                    }
                    i += k;
                    if i < rest.len() {
                        self.state = self.state.step(b'"', delim);
                        i += 1;
                    }
                }
            }
        }
    }

    /// Scans on from `self.pos` to the first record end; returns the position just past it.
    pub(super) fn next_cut(&mut self, bytes: &[u8]) -> Option<usize> {
        let rest = bytes.get(self.pos..)?;
        for &b in rest {
            self.state = self.state.step(b, self.delim);
            let at = self.pos;
            self.pos += 1;
            if self.state != Quote::Quoted && ends_record(bytes, at) {
                self.cut = self.pos;
                return Some(self.pos);
            }
        }
        None
    }
}

pub(super) fn csv_reader(bytes: &[u8], delim: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delim)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(bytes)
}

/// Reads the next non-blank record of `chunk` into `rec`; returns the line it starts on,
/// counted by `lines` (which starts on the line `chunk` starts on).
pub(super) fn next_record(
    rdr: &mut csv::Reader<&[u8]>,
    rec: &mut csv::ByteRecord,
    chunk: &[u8],
    lines: &mut LineCounter,
    name: &Path,
) -> Result<Option<u64>> {
    // The reader's position before a record is where the previous one ended, which may be
    // before a '\n' or blank lines that it skips; the line is counted past those.
    let before = usize::try_from(rdr.position().byte()).unwrap_or(usize::MAX);
    let start = before
        + chunk
            .get(before..)
            .unwrap_or(&[])
            .iter()
            .take_while(|&&b| b == b'\n' || b == b'\r')
            .count();
    let line = lines.at(chunk, start);
    let more = rdr.read_byte_record(rec).map_err(|e| {
        Error::data_at(
            name,
            line,
            "?",
            format!("cannot be parsed as CSV: {}", shown_str(&e.to_string())),
        )
    })?;
    Ok(more.then_some(line))
}
