//! CSV files (plain or gzipped, a path or stdin) → a feature matrix `x` (n,d) and its labels;
//! Parquet and NumPy files are sent on to `table`, by their first bytes. Every malformed byte
//! is reported as `path:line:column: what`, with the header's column name.

use std::path::{Path, PathBuf};

use ndarray::{Array2, Axis};

use super::cores;
use super::format::Format;
use super::labels::{real_valued_warning, sorted, Labels};
use super::layout::{layout, Layout};
use super::options::{LabelKind, LoadOptions};
use super::records::{
    count_lines, csv_reader, next_record, split_records, unterminated_error, unterminated_quote,
    LineCounter, Scan,
};
use super::rows::{parse_rows, Part, RowLines};
use super::source::{open, out_of_memory, read_block, size, Input, Source, BLOCK_BYTES};
use crate::{Error, Real, Result};

/// A stretch of a block's rows (`from..to`, whole records) and the lines it moves on by.
struct Stretch {
    from: usize,
    to: usize,
    lines: u64,
}

/// A column read as text (`LoadOptions::text`): its header name and its fields, verbatim
/// (trimmed of ASCII spaces, as every field is), one per row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TextColumn {
    pub name: String,
    pub values: Vec<String>,
}

/// A parsed CSV file.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame<T> {
    /// The file's name, for messages (`<stdin>` for standard input).
    pub source: PathBuf,
    /// Header names of the feature columns, in file order (`field 3` for an empty name).
    pub feature_names: Vec<String>,
    /// Header names of the label columns, in the order of `LoadOptions::labels`.
    pub label_names: Vec<String>,
    /// (n, d), features in file order, label columns removed.
    pub x: Array2<T>,
    pub labels: Labels<T>,
    /// The 1-based line of the file on which each row starts.
    pub lines: RowLines,
    /// What looked wrong without being an error (a real-valued label column in a
    /// classification run), one sentence each; the command line prints them on stderr.
    pub warnings: Vec<String>,
    /// The whole file's content fingerprint (`xxh3-128:…`, see `source::fingerprint_text`),
    /// kept by every selection of its rows: it names the file, not the rows.
    pub fingerprint: String,
    /// The columns read as text (`LoadOptions::text`, in the order first named there),
    /// row-aligned with `x`;
    /// not in `x` nor `feature_names`. Empty unless asked for.
    pub text: Vec<TextColumn>,
}

impl<T: Real> Frame<T> {
    /// A frame of numbers only, no warnings, no text columns: the one place a frame is built
    /// (every reader starts here, then adds its warnings and text columns).
    pub fn numeric(
        source: PathBuf,
        feature_names: Vec<String>,
        label_names: Vec<String>,
        x: Array2<T>,
        labels: Labels<T>,
        lines: RowLines,
        fingerprint: String,
    ) -> Frame<T> {
        Frame {
            source,
            feature_names,
            label_names,
            x,
            labels,
            lines,
            warnings: Vec::new(),
            fingerprint,
            text: Vec::new(),
        }
    }

    /// The given rows, in the given order (a copy; the warnings stay with the whole file).
    pub fn select(&self, rows: &[usize]) -> Frame<T> {
        Frame {
            source: self.source.clone(),
            feature_names: self.feature_names.clone(),
            label_names: self.label_names.clone(),
            x: self.x.select(Axis(0), rows),
            labels: match &self.labels {
                Labels::None => Labels::None,
                Labels::Classes(c) => Labels::Classes(c.select(rows)),
                Labels::Targets(y) => Labels::Targets(y.select(Axis(0), rows)),
            },
            lines: self.lines.select(rows),
            warnings: Vec::new(),
            fingerprint: self.fingerprint.clone(),
            text: self
                .text
                .iter()
                .map(|c| TextColumn {
                    name: c.name.clone(),
                    values: rows
                        .iter()
                        .filter_map(|&i| c.values.get(i).cloned())
                        .collect(),
                })
                .collect(),
        }
    }
}

/// Reads and parses one CSV file, a block at a time: the file's text is never held whole,
/// only the growing matrix and a few blocks of text (see `BLOCK_BYTES`).
pub fn load<T: Real>(src: &Source, opts: &LoadOptions) -> Result<Frame<T>> {
    load_with(src, opts, BLOCK_BYTES, None)
}

/// `load` reading `block` bytes at a time, each block cut into `threads` stretches (None:
/// one per core, for a block of a few MB).
pub(super) fn load_with<T: Real>(
    src: &Source,
    opts: &LoadOptions,
    block: usize,
    threads: Option<usize>,
) -> Result<Frame<T>> {
    let input = open(src)?;
    read_table(&src.display(), input, opts, block, threads)
}

/// Reads the table in `input`, as its first bytes say: Parquet, .npy or .npz (see
/// `table`), or else CSV.
fn read_table<T: Real>(
    name: &Path,
    mut input: Input,
    opts: &LoadOptions,
    block: usize,
    threads: Option<usize>,
) -> Result<Frame<T>> {
    match input.sniff(name)? {
        Format::Csv => parse_stream(name, input, opts, block, threads),
        format => super::table::load(name, input, format, opts),
    }
}

/// The longest header record read before giving up: a file with no line end (`/dev/zero`)
/// is not a CSV file, whatever its size.
pub(super) const HEADER_MAX_BYTES: usize = 64 << 20;

/// Below this many bytes of rows, one thread parses a block.
pub(super) const PARALLEL_MIN_BYTES: usize = 1 << 20;

/// Stretches a block is cut into per thread of the pool: enough that the threads finish a
/// block together, few enough that each stretch is long.
const STRETCHES_PER_CORE: usize = 4;

/// Parses CSV bytes (already gunzipped); `name` is used in messages only. Never panics.
///
/// The same block-by-block parser as `load` (the bytes are read a block at a time), so the
/// two cannot disagree. Each block is cut at record ends into one stretch per core, which
/// are parsed in parallel.
pub fn parse<T: Real>(name: &Path, bytes: &[u8], opts: &LoadOptions) -> Result<Frame<T>> {
    parse_with(name, bytes, opts, None)
}

/// `parse` cutting each block into `threads` stretches (None: one per core, for a few MB up).
pub(super) fn parse_with<T: Real>(
    name: &Path,
    bytes: &[u8],
    opts: &LoadOptions,
    threads: Option<usize>,
) -> Result<Frame<T>> {
    parse_blocks(name, bytes, opts, BLOCK_BYTES, threads)
}

/// `parse` reading `block` bytes at a time.
pub(super) fn parse_blocks<T: Real>(
    name: &Path,
    bytes: &[u8],
    opts: &LoadOptions,
    block: usize,
    threads: Option<usize>,
) -> Result<Frame<T>> {
    let input = Input {
        read: Box::new(bytes),
        what: "cannot be read",
        eof: false,
        hash: Default::default(),
    };
    read_table(name, input, opts, block, threads)
}

/// The parser behind `load` and `parse`: reads `input` a block at a time, cuts each block
/// after its last record end (a '\n' outside quotes), parses the header from the first
/// block, then the rows of each block (in parallel stretches) while the next block is read,
/// appending them to one matrix. Line numbers count every '\n' before a record, blank lines
/// and quoted newlines included, across blocks; the first error in the file is reported.
pub(super) fn parse_stream<T: Real>(
    name: &Path,
    mut input: Input,
    opts: &LoadOptions,
    block: usize,
    threads: Option<usize>,
) -> Result<Frame<T>> {
    let block = block.max(1);
    let delim = opts.delimiter;
    let mut buf = Vec::new();
    // The first 64 bytes at least, whatever the block: what `foreign_encoding` looks at.
    input.fill(name, &mut buf, block.max(64))?;
    if let Some(what) = super::source::foreign_encoding(&buf) {
        return Err(Error::data(name, what));
    }
    if buf.starts_with(b"\xEF\xBB\xBF") {
        buf.drain(..3);
    }

    // Blank lines before the header are dropped (as the CSV reader would skip them), then
    // the buffer grows until it holds the whole header record.
    let mut line = 1u64; // the line on which buf[0] is
    let mut scan = Scan::new(delim);
    loop {
        let mut blank = buf
            .iter()
            .take_while(|&&b| b == b'\n' || b == b'\r')
            .count();
        if blank == buf.len() && buf.last() == Some(&b'\r') && !input.eof {
            // A '\n' may follow: "\r\n" is one line end, so the '\r' waits for it.
            blank -= 1;
        }
        if blank > 0 {
            line += count_lines(buf.get(..blank).unwrap_or(&[]));
            buf.drain(..blank);
            scan = Scan::new(delim);
        }
        if !buf.is_empty() {
            scan.advance(&buf);
            if scan.cut > 0 || input.eof {
                break;
            }
            if buf.len() >= HEADER_MAX_BYTES {
                return Err(Error::data_at(
                    name,
                    line,
                    "header",
                    format!(
                        "the header record is longer than {} (no line end): is this a CSV file?",
                        size(HEADER_MAX_BYTES)
                    ),
                ));
            }
        } else if input.eof {
            return Err(Error::data(name, "is empty"));
        }
        let want = buf
            .len()
            .saturating_add(block)
            .min(HEADER_MAX_BYTES.max(buf.len() + 1));
        input.fill(name, &mut buf, want)?;
    }
    let end = if input.eof { buf.len() } else { scan.cut };

    let head = buf.get(..end).unwrap_or(&[]);
    let mut rdr = csv_reader(head, delim);
    let mut rec = csv::ByteRecord::new();
    let mut lines = LineCounter::new(line);
    let header_line = match next_record(&mut rdr, &mut rec, head, &mut lines, name)? {
        Some(line) => line,
        None => return Err(Error::data(name, "is empty")),
    };
    if input.eof {
        // The whole file is here: a quote opened in the header and never closed swallows
        // everything after it (one in the rows is found with them).
        if let Some((at_line, field)) = unterminated_quote(head, line, delim) {
            if at_line == header_line {
                return Err(unterminated_error(name, at_line, field, None));
            }
        }
    }
    let layout = layout(name, &rec, header_line, opts)?;
    // --no-header: the rows start with the first record (blank lines before it are gone).
    let mut start = match opts.no_header {
        true => 0,
        false => usize::try_from(rdr.position().byte())
            .unwrap_or(usize::MAX)
            .min(end),
    };
    // Never between the '\r' and '\n' of a line end: the rows start on the next line.
    if start > 0 && head.get(start - 1) == Some(&b'\r') && head.get(start) == Some(&b'\n') {
        start += 1;
    }
    line += count_lines(buf.get(..start).unwrap_or(&[]));
    drop(rdr);

    // Each block is cut into a few stretches per core, parsed as tasks of the data layer's
    // pool while this thread appends the previous block's rows and reads the next block; a
    // block waits only for its last stretch. `plan` cuts a block into its stretches and
    // counts the lines of each, for the next block while this one is parsed, so that the
    // pool starts on a block at once. A small file is one stretch, parsed on this thread
    // (the pool is never started for it).
    let plan = |rows: &[u8]| -> Vec<Stretch> {
        let pieces = match threads {
            Some(t) => t.max(1),
            None => cores::pool_for(rows.len() >= PARALLEL_MIN_BYTES)
                .map_or(1, |p| p.current_num_threads() * STRETCHES_PER_CORE),
        };
        split_records(rows, pieces, delim)
            .into_iter()
            .map(|(from, to)| Stretch {
                from,
                to,
                lines: count_lines(rows.get(from..to).unwrap_or(&[])),
            })
            .collect()
    };
    let mut all = Part::<T>::default();
    let mut pending: Vec<Part<T>> = Vec::new();
    let (mut cur, mut next) = (buf, Vec::new());
    let (mut start, mut end) = (start, end);
    let mut stretches_now = plan(cur.get(start..end).unwrap_or(&[]));
    let oom_after = |all: &Part<T>| out_of_memory(name, &format!("after {} rows", all.lines.len()));
    loop {
        let rows = cur.get(start..end).unwrap_or(&[]);
        let carry = cur.get(end..).unwrap_or(&[]);
        let last = input.eof;
        let layout = &layout;
        let count = stretches_now.len();
        let mut parts: Vec<Option<Result<Part<T>>>> = (0..count).map(|_| None).collect();
        let mut jobs = Vec::with_capacity(count);
        for (i, (stretch, slot)) in stretches_now.iter().zip(parts.iter_mut()).enumerate() {
            let piece = rows.get(stretch.from..stretch.to).unwrap_or(&[]);
            let first_line = line;
            // Only the file's last stretch can end inside quotes.
            let check_quotes = last && i + 1 == count;
            jobs.push(move || {
                let parsed = parse_rows::<T>(name, piece, first_line, layout);
                *slot = Some(if !check_quotes {
                    parsed
                } else {
                    match unterminated_quote(piece, first_line, layout.delimiter) {
                        None => parsed,
                        Some((at, field)) => match parsed {
                            Err(e @ Error::DataAt { line, .. }) if line < at => Err(e),
                            _ => Err(unterminated_error(name, at, field, Some(layout))),
                        },
                    }
                });
            });
            line += stretch.lines;
        }
        // Meanwhile: the rows of the previous block join the matrix, and the next block is
        // read (starting with what followed this block's last record end) and planned.
        let mut read: Result<(usize, Vec<Stretch>)> = Ok((0, Vec::new()));
        let mut read_next = || {
            let mut joined = true;
            for p in pending.drain(..) {
                joined &= all.append(p);
            }
            read = if !joined {
                Err(oom_after(&all))
            } else if last {
                Ok((0, Vec::new()))
            } else {
                next.clear();
                if next.try_reserve(carry.len()).is_err() {
                    Err(oom_after(&all))
                } else {
                    next.extend_from_slice(carry);
                    read_block(name, &mut input, &mut next, block, delim)
                        .map(|end| (end, plan(next.get(..end).unwrap_or(&[]))))
                }
            };
        };
        match cores::pool_for(jobs.len() > 1 || !last) {
            Some(pool) => pool.in_place_scope(|s| {
                for mut job in jobs {
                    s.spawn(move |_| job());
                }
                read_next();
            }),
            // One core, or a lone stretch with nothing to read meanwhile (a small file).
            _ => {
                for mut job in jobs {
                    job();
                }
                read_next();
            }
        }
        // In file order: this block's rows, then what reading the next one found.
        for part in parts {
            pending.push(part.unwrap_or_else(|| Ok(Part::default()))?);
        }
        // The previous block's rows were joined meanwhile, on the last block too: memory
        // refused there is this error (else the matrix would lack rows its lines count).
        let (next_end, next_stretches) = read?;
        if last {
            break;
        }
        (end, stretches_now) = (next_end, next_stretches);
        start = 0;
        std::mem::swap(&mut cur, &mut next);
    }
    drop((cur, next));
    for p in pending {
        if !all.append(p) {
            return Err(oom_after(&all));
        }
    }

    finish(name, layout, all, input.fingerprint())
}

/// The frame of a whole file's rows, read as `layout` says (every reader ends here).
pub(super) fn finish<T: Real>(
    name: &Path,
    layout: Layout,
    mut all: Part<T>,
    fingerprint: String,
) -> Result<Frame<T>> {
    let n = all.lines.len();
    if n == 0 {
        return Err(Error::data(name, "has a header but no data rows"));
    }
    all.x.shrink_to_fit();
    let shape_error = |e: ndarray::ShapeError| Error::Shape(format!("{}: {e}", name.display()));
    let mut x = Array2::from_shape_vec((n, layout.d), all.x).map_err(shape_error)?;
    let mut feature_names = layout.feature_names;
    if let Some(order) = &layout.order {
        // The features asked for in another order than the file's (a model's): one copy.
        x = x.select(Axis(1), order);
        feature_names = order
            .iter()
            .filter_map(|&i| feature_names.get(i).cloned())
            .collect();
    }
    let mut warnings = layout.notes;
    let labels = match (layout.k, layout.kind) {
        (0, _) => Labels::None,
        (_, LabelKind::Classes) => {
            let classes = sorted(all.classes, all.y);
            if let Some(w) = real_valued_warning(&classes, &layout.label_names, n) {
                warnings.push(w);
            }
            Labels::Classes(classes)
        }
        (k, LabelKind::Targets) => {
            Labels::Targets(Array2::from_shape_vec((n, k), all.targets).map_err(shape_error)?)
        }
    };
    let mut frame = Frame::numeric(
        name.to_path_buf(),
        feature_names,
        layout.label_names,
        x,
        labels,
        all.lines,
        fingerprint,
    );
    frame.warnings = warnings;
    let mut values = all.text.into_iter();
    frame.text = layout
        .text_names
        .into_iter()
        .map(|name| TextColumn {
            name,
            values: values.next().unwrap_or_default(),
        })
        .collect();
    Ok(frame)
}
