//! CSV files (plain or gzipped, a path or stdin) → a feature matrix `x` (n,d) and its labels.
//! Every malformed byte is reported as `path:line:column: what`, with the header's column name.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use ndarray::Array2;

use crate::{Error, Real, Result};

/// Where a CSV file comes from: a path, or standard input when the command line says `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Path(PathBuf),
    Stdin,
}

impl Source {
    /// `-` is standard input; anything else is a path.
    pub fn parse(s: &str) -> Source {
        if s == "-" {
            Source::Stdin
        } else {
            Source::Path(PathBuf::from(s))
        }
    }

    /// The name used in messages: the path as given, or `<stdin>`.
    pub fn display(&self) -> PathBuf {
        match self {
            Source::Path(p) => p.clone(),
            Source::Stdin => PathBuf::from("<stdin>"),
        }
    }
}

impl std::str::FromStr for Source {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(Source::parse(s))
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.display().display())
    }
}

/// The byte between fields, as `--delimiter` gives it: `,` `;` `|`, `tab` or `\t`, or any
/// other single ASCII byte that is not a quote or a line end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiter(pub u8);

impl Delimiter {
    pub fn byte(self) -> u8 {
        self.0
    }
}

impl Default for Delimiter {
    fn default() -> Self {
        Delimiter(b',')
    }
}

impl std::str::FromStr for Delimiter {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "tab" | "\\t" | "\t" => Ok(Delimiter(b'\t')),
            _ => match s.as_bytes() {
                [b'"' | b'\n' | b'\r'] => Err(format!(
                    "`{}` cannot separate fields (it is a quote or a line end)",
                    shown_str(s)
                )),
                &[b] if b.is_ascii() => Ok(Delimiter(b)),
                _ => Err(format!(
                    "expected one ASCII byte such as `,` `;` `|` or `tab`, got `{}`",
                    shown_str(s)
                )),
            },
        }
    }
}

impl fmt::Display for Delimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            b'\t' => write!(f, "tab"),
            b => write!(f, "{}", b as char),
        }
    }
}

/// Which column holds a label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelSpec {
    /// The last column of the header.
    Last,
    /// The column with this header name.
    Name(String),
    /// The column at this 0-based position.
    Index(usize),
    /// No label column (predict).
    Absent,
}

/// How label fields are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelKind {
    /// Classification: one label column, each field a class name (any non-empty string).
    Classes,
    /// Regression: one or more label columns, each field a finite number.
    Targets,
}

/// What to read from a file besides the features.
#[derive(Debug, Clone)]
pub struct LoadOptions<'a> {
    /// One entry for classify, one or more for regress; empty (or only `Absent`) means no label.
    pub labels: Vec<LabelSpec>,
    pub kind: LabelKind,
    /// When set, the feature columns must be exactly these names in this order.
    pub expected_features: Option<&'a [String]>,
    /// The label column(s) may be missing from the header; `labels` is then `Labels::None`.
    /// A `Name` not in the header or an `Index` past its end means absent; with
    /// `expected_features` set, a header equal to the features alone also means absent.
    pub optional_label: bool,
    /// The byte between fields: `,` unless `--delimiter` says otherwise.
    pub delimiter: u8,
    /// Columns skipped altogether (ID or text columns), by name or 0-based index.
    pub ignore: Vec<LabelSpec>,
}

impl LoadOptions<'_> {
    /// Labels required, features whatever the file has.
    pub fn new(labels: Vec<LabelSpec>, kind: LabelKind) -> Self {
        LoadOptions {
            labels,
            kind,
            expected_features: None,
            optional_label: false,
            delimiter: b',',
            ignore: Vec::new(),
        }
    }
}

/// The label columns of a file, row-aligned with `x`.
#[derive(Debug, Clone, PartialEq)]
pub enum Labels<T> {
    /// No label column was asked for, or an optional one was absent.
    None,
    /// One class index per row, into a table of names.
    Classes(Classes),
    /// (n, k): one column per target, in the order of `LoadOptions::labels`.
    Targets(Array2<T>),
}

/// Class labels as they are read: each distinct name once, and one index per row. Names that
/// are equal numbers (`2`, `2.0`, `2e0`) are one class, spelled as first seen.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Classes {
    /// The class names, sorted by [`class_order`] (numbers by value, then text).
    pub names: Vec<String>,
    /// The 1-based line on which each class first appears in the file.
    pub first_lines: Vec<u64>,
    /// One index into `names` per row.
    pub y: Vec<u32>,
}

impl Classes {
    /// The name of row `i`'s class.
    pub fn name_of(&self, i: usize) -> Option<&str> {
        let k = *self.y.get(i)?;
        self.names.get(k as usize).map(String::as_str)
    }

    /// The given rows (the same table of names).
    pub fn select(&self, rows: &[usize]) -> Classes {
        Classes {
            names: self.names.clone(),
            first_lines: self.first_lines.clone(),
            y: rows
                .iter()
                .filter_map(|&i| self.y.get(i).copied())
                .collect(),
        }
    }
}

/// A class name as a number, when it is one (finite; `-0` is `0`): such names are compared
/// by value.
pub fn class_number(name: &str) -> Option<f64> {
    match name.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Some(v + 0.0),
        _ => None,
    }
}

/// The order of class names: numbers first, by value (equal values are one class); then
/// text, lexicographically.
pub fn class_order(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (class_number(a), class_number(b)) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// The 1-based line on which each row starts, kept compactly: rows mostly follow each other
/// a line apart, so only the rows where that is not so are stored (a few bytes per file,
/// not per row).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RowLines {
    /// How many rows.
    n: usize,
    /// (row, line) for the first row and every row not on the line after its predecessor's.
    jumps: Vec<(usize, u64)>,
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
    fn last(&self) -> Option<u64> {
        self.line(self.n.checked_sub(1)?)
    }

    /// Adds a row starting on `line`.
    fn push(&mut self, line: u64) -> std::result::Result<(), std::collections::TryReserveError> {
        if self.last().map(|l| l + 1) != Some(line) {
            self.jumps.try_reserve(1)?;
            self.jumps.push((self.n, line));
        }
        self.n += 1;
        Ok(())
    }

    /// Appends the rows of `other`, which come after these.
    fn append(
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
}

/// Reads and parses one CSV file, a block at a time: the file's text is never held whole,
/// only the growing matrix and a few blocks of text (see `BLOCK_BYTES`).
pub fn load<T: Real>(src: &Source, opts: &LoadOptions) -> Result<Frame<T>> {
    load_with(src, opts, BLOCK_BYTES, None)
}

/// `load` reading `block` bytes at a time, each block cut into `threads` stretches (None:
/// one per core, for a block of a few MB).
fn load_with<T: Real>(
    src: &Source,
    opts: &LoadOptions,
    block: usize,
    threads: Option<usize>,
) -> Result<Frame<T>> {
    let input = open(src)?;
    parse_stream(&src.display(), input, opts, block, threads)
}

/// The whole file (or stdin), gunzipped when it starts with the gzip magic bytes 1f 8b.
pub fn read_bytes(src: &Source) -> Result<Vec<u8>> {
    let name = src.display();
    let mut input = open(src)?;
    let mut bytes = Vec::new();
    while !input.eof {
        let want = bytes.len() + BLOCK_BYTES;
        input.fill(&name, &mut bytes, want)?;
    }
    Ok(bytes)
}

/// Decompresses `bytes` when they start with the gzip magic 1f 8b; returns them as they are
/// otherwise. Concatenated gzip members (as `cat a.gz b.gz` makes) are all decoded.
pub fn gunzip_if_gzip(name: &Path, bytes: Vec<u8>) -> Result<Vec<u8>> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    // The size in the gzip trailer is not trusted: the buffer grows as data arrives, and
    // memory refused is an error, not an abort.
    let mut input = Input {
        read: Box::new(flate2::read::MultiGzDecoder::new(bytes.as_slice())),
        what: "is not a valid gzip file",
        eof: false,
    };
    let mut out = Vec::new();
    while !input.eof {
        let want = out.len().saturating_add(BLOCK_BYTES);
        input.fill(name, &mut out, want)?;
    }
    Ok(out)
}

/// The bytes of a file, stdin or a slice, read a block at a time; gunzipped on the fly when
/// `open` saw the gzip magic.
struct Input<'a> {
    read: Box<dyn Read + 'a>,
    /// What a failed read means: `cannot be read`, or `is not a valid gzip file`.
    what: &'static str,
    eof: bool,
}

impl Input<'_> {
    /// Reads until `buf` holds `want` bytes or the input ends (`self.eof`).
    fn fill(&mut self, name: &Path, buf: &mut Vec<u8>, want: usize) -> Result<()> {
        let mut filled = buf.len();
        let outcome = loop {
            if self.eof || filled >= want {
                break Ok(());
            }
            if filled == buf.len() {
                // Room for the next read, zeroed once, a few MB at a time (`want` may be
                // huge: it is how much is wanted, not how much there is). Refused memory
                // is an error that says how far the reading got, never an abort.
                let room = want.min(filled.saturating_add(BLOCK_BYTES));
                if buf.try_reserve(room - filled).is_err() {
                    buf.truncate(filled);
                    return Err(out_of_memory(
                        name,
                        &format!("after reading {}", size(filled)),
                    ));
                }
                buf.resize(room, 0);
            }
            let Some(room) = buf.get_mut(filled..) else {
                break Ok(());
            };
            match self.read.read(room) {
                Ok(0) => {
                    self.eof = true;
                    break Ok(());
                }
                Ok(n) => filled += n.min(room.len()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => break Err(Error::data(name, format!("{}: {e}", self.what))),
            }
        };
        buf.truncate(filled);
        outcome
    }
}

/// Opens a file or stdin, and looks at its first two bytes (without losing them) for the
/// gzip magic 1f 8b: gzip is recognized by content, whatever the name.
fn open(src: &Source) -> Result<Input<'static>> {
    let name = src.display();
    // Input files are data errors (exit code 3), whatever the OS says about them.
    let unreadable = |e: std::io::Error| Error::data(&name, format!("cannot be read: {e}"));
    let mut read: Box<dyn Read> = match src {
        Source::Path(path) => {
            match std::fs::metadata(path) {
                Ok(m) if m.is_dir() => {
                    return Err(Error::data(&name, "is a directory, not a CSV file"))
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(Error::data(&name, "no such file"))
                }
                _ => {}
            }
            Box::new(std::fs::File::open(path).map_err(unreadable)?)
        }
        Source::Stdin => Box::new(std::io::stdin().lock()),
    };
    let mut head = Vec::with_capacity(2);
    (&mut read)
        .take(2)
        .read_to_end(&mut head)
        .map_err(unreadable)?;
    let gzip = head == [0x1f, 0x8b];
    let read = std::io::Cursor::new(head).chain(read);
    Ok(if gzip {
        Input {
            read: Box::new(flate2::read::MultiGzDecoder::new(read)),
            what: "is not a valid gzip file",
            eof: false,
        }
    } else {
        Input {
            read: Box::new(read),
            what: "cannot be read",
            eof: false,
        }
    })
}

/// What a column of the file becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Feature,
    /// Skipped (`--ignore`).
    Ignored,
    /// The k-th label column (k indexes `LoadOptions::labels` after dropping `Absent`).
    Label(usize),
}

/// What the header says: names, and the role of each column.
struct Layout {
    /// Header names, `field j` (1-based) for an empty one.
    columns: Vec<String>,
    roles: Vec<Role>,
    /// Names of the feature columns, in file order.
    feature_names: Vec<String>,
    /// Names of the label columns, in the order of `LoadOptions::labels`.
    label_names: Vec<String>,
    /// d: the number of feature columns.
    d: usize,
    /// k: the number of label columns read (0 when absent or not asked for).
    k: usize,
    kind: LabelKind,
    /// The byte between fields.
    delimiter: u8,
}

/// Class names as they are met in one stretch of the file: each distinct one once.
#[derive(Debug, Default, PartialEq)]
struct ClassTable {
    names: Vec<String>,
    first_lines: Vec<u64>,
    /// Every spelling met → its class.
    by_text: HashMap<String, u32>,
    /// The value of a class that is a number (`class_number`, as bits) → its class.
    by_number: HashMap<u64, u32>,
}

impl ClassTable {
    /// The class of `name`, first seen (if new) on `line`. None when there are more than
    /// u32::MAX classes.
    fn intern(&mut self, name: &str, line: u64) -> Option<u32> {
        if let Some(&k) = self.by_text.get(name) {
            return Some(k);
        }
        let number = class_number(name).map(f64::to_bits);
        let k = match number.and_then(|bits| self.by_number.get(&bits)) {
            Some(&k) => k,
            None => {
                let k = u32::try_from(self.names.len()).ok()?;
                self.names.push(name.to_string());
                self.first_lines.push(line);
                if let Some(bits) = number {
                    self.by_number.insert(bits, k);
                }
                k
            }
        };
        self.by_text.insert(name.to_string(), k);
        Some(k)
    }
}

/// The rows of one stretch of the file.
#[derive(Debug, Default, PartialEq)]
struct Part<T> {
    x: Vec<T>,
    classes: ClassTable,
    /// One index into `classes` per row (classification).
    y: Vec<u32>,
    targets: Vec<T>,
    lines: RowLines,
}

impl<T: Copy> Part<T> {
    /// Appends `p`, which comes right after `self` in the file; false when out of memory.
    fn append(&mut self, p: Part<T>) -> bool {
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
        grow(&mut self.targets, &p.targets) && self.lines.append(&p.lines).is_ok()
    }
}

/// An out-of-memory error (exit code 3) naming the file and how far the reading got.
#[cold]
fn out_of_memory(name: &Path, how_far: &str) -> Error {
    Error::data(
        name,
        format!(
            "out of memory {how_far}: the data does not fit in the memory this process may use"
        ),
    )
}

/// A byte count for messages: `12.3 MiB`.
fn size(bytes: usize) -> String {
    match bytes {
        b if b < 1 << 20 => format!("{b} bytes"),
        b => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
    }
}

/// The longest header record read before giving up: a file with no line end (`/dev/zero`)
/// is not a CSV file, whatever its size.
const HEADER_MAX_BYTES: usize = 64 << 20;

/// How many bytes `load` reads at a time. The text in memory is about two blocks (the one
/// being parsed and the next one being read) plus the longest record, whatever the file's
/// size; the matrix itself grows in place (a large Vec is grown by `mremap` on Linux, so
/// it is never held twice).
const BLOCK_BYTES: usize = 4 << 20;

/// Below this many bytes of rows, one thread parses a block.
const PARALLEL_MIN_BYTES: usize = 1 << 20;

/// Parses CSV bytes (already gunzipped); `name` is used in messages only. Never panics.
///
/// The same block-by-block parser as `load` (the bytes are read a block at a time), so the
/// two cannot disagree. Each block is cut at record ends into one stretch per core, which
/// are parsed in parallel.
pub fn parse<T: Real>(name: &Path, bytes: &[u8], opts: &LoadOptions) -> Result<Frame<T>> {
    parse_with(name, bytes, opts, None)
}

/// `parse` cutting each block into `threads` stretches (None: one per core, for a few MB up).
fn parse_with<T: Real>(
    name: &Path,
    bytes: &[u8],
    opts: &LoadOptions,
    threads: Option<usize>,
) -> Result<Frame<T>> {
    parse_blocks(name, bytes, opts, BLOCK_BYTES, threads)
}

/// `parse` reading `block` bytes at a time.
fn parse_blocks<T: Real>(
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
    };
    parse_stream(name, input, opts, block, threads)
}

/// The parser behind `load` and `parse`: reads `input` a block at a time, cuts each block
/// after its last record end (a '\n' outside quotes), parses the header from the first
/// block, then the rows of each block (in parallel stretches) while the next block is read,
/// appending them to one matrix. Line numbers count every '\n' before a record, blank lines
/// and quoted newlines included, across blocks; the first error in the file is reported.
fn parse_stream<T: Real>(
    name: &Path,
    mut input: Input,
    opts: &LoadOptions,
    block: usize,
    threads: Option<usize>,
) -> Result<Frame<T>> {
    let block = block.max(1);
    let delim = opts.delimiter;
    let mut buf = Vec::new();
    input.fill(name, &mut buf, block.max(3))?;
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
    let mut start = usize::try_from(rdr.position().byte())
        .unwrap_or(usize::MAX)
        .min(end);
    // Never between the '\r' and '\n' of a line end: the rows start on the next line.
    if start > 0 && head.get(start - 1) == Some(&b'\r') && head.get(start) == Some(&b'\n') {
        start += 1;
    }
    line += count_lines(buf.get(..start).unwrap_or(&[]));
    drop(rdr);

    let cores = match threads {
        Some(t) => t.max(1),
        None => std::thread::available_parallelism().map_or(1, |n| n.get().min(8)),
    };
    let mut all = Part::<T>::default();
    let mut pending: Vec<Part<T>> = Vec::new();
    let (mut cur, mut next) = (buf, Vec::new());
    let (mut start, mut end) = (start, end);
    let oom_after = |all: &Part<T>, pending: &[Part<T>]| {
        let rows = all.lines.len() + pending.iter().map(|p| p.lines.len()).sum::<usize>();
        out_of_memory(name, &format!("after {rows} rows"))
    };
    loop {
        let rows = cur.get(start..end).unwrap_or(&[]);
        let carry = cur.get(end..).unwrap_or(&[]);
        let last = input.eof;
        let pieces = match threads {
            None if rows.len() < PARALLEL_MIN_BYTES => 1,
            _ => cores,
        };
        let cuts = split_records(rows, pieces, delim);
        let layout = &layout;
        let (parts, read) = std::thread::scope(|s| {
            // A thread the OS refuses is no error: that stretch is parsed right here (Err).
            // So is a lone stretch with nothing to read meanwhile (a small file).
            let inline = last && cuts.len() == 1;
            let mut workers = Vec::with_capacity(cuts.len());
            for (i, &(from, to)) in cuts.iter().enumerate() {
                let piece = rows.get(from..to).unwrap_or(&[]);
                let first_line = line;
                // Only the file's last stretch can end inside quotes.
                let check_quotes = last && i + 1 == cuts.len();
                let job = move || {
                    let parsed = parse_rows::<T>(name, piece, first_line, layout);
                    if !check_quotes {
                        return parsed;
                    }
                    match unterminated_quote(piece, first_line, layout.delimiter) {
                        None => parsed,
                        Some((at, field)) => match parsed {
                            Err(e @ Error::DataAt { line, .. }) if line < at => Err(e),
                            _ => Err(unterminated_error(name, at, field, Some(layout))),
                        },
                    }
                };
                workers.push(if inline {
                    Err(job())
                } else {
                    std::thread::Builder::new()
                        .spawn_scoped(s, job)
                        .map_err(|_| job())
                });
                line += count_lines(piece);
            }
            // Meanwhile: the rows of the previous block join the matrix, and the next block
            // is read, starting with what followed this block's last record end.
            let mut joined = true;
            for p in pending.drain(..) {
                joined &= all.append(p);
            }
            let read = if !joined {
                Err(oom_after(&all, &[]))
            } else if last {
                Ok(0)
            } else {
                next.clear();
                if next.try_reserve(carry.len()).is_err() {
                    Err(oom_after(&all, &[]))
                } else {
                    next.extend_from_slice(carry);
                    read_block(name, &mut input, &mut next, block, delim)
                }
            };
            let parts: Vec<Result<Part<T>>> = workers
                .into_iter()
                .map(|w| match w {
                    Ok(thread) => thread
                        .join()
                        .unwrap_or_else(|p| std::panic::resume_unwind(p)),
                    Err(done) => done,
                })
                .collect();
            (parts, read)
        });
        // In file order: this block's rows, then what reading the next one found.
        for part in parts {
            pending.push(part?);
        }
        if last {
            break;
        }
        end = read?;
        start = 0;
        std::mem::swap(&mut cur, &mut next);
    }
    drop((cur, next));
    for p in pending {
        if !all.append(p) {
            return Err(oom_after(&all, &[]));
        }
    }

    let n = all.lines.len();
    if n == 0 {
        return Err(Error::data(name, "has a header but no data rows"));
    }
    all.x.shrink_to_fit();
    let shape_error = |e: ndarray::ShapeError| Error::Shape(format!("{}: {e}", name.display()));
    let x = Array2::from_shape_vec((n, layout.d), all.x).map_err(shape_error)?;
    let mut warnings = Vec::new();
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
    Ok(Frame {
        source: name.to_path_buf(),
        feature_names: layout.feature_names,
        label_names: layout.label_names,
        x,
        labels,
        lines: all.lines,
        warnings,
    })
}

/// The class table of a whole file with its names sorted by `class_order`, and `y` renumbered.
fn sorted(table: ClassTable, mut y: Vec<u32>) -> Classes {
    let ClassTable {
        names, first_lines, ..
    } = table;
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by(|&a, &b| class_order(&names[a], &names[b]));
    // rank[old] = new
    let mut rank = vec![0u32; names.len()];
    for (new, &old) in order.iter().enumerate() {
        rank[old] = new as u32;
    }
    for k in y.iter_mut() {
        *k = rank.get(*k as usize).copied().unwrap_or(0);
    }
    Classes {
        names: order.iter().map(|&i| names[i].clone()).collect(),
        first_lines: order.iter().map(|&i| first_lines[i]).collect(),
        y,
    }
}

/// A warning when a classification's label column looks like real numbers: a class that is
/// a non-integer number, or numbers only and so many classes that they average fewer than
/// 4 rows each.
fn real_valued_warning(classes: &Classes, label_names: &[String], n: usize) -> Option<String> {
    let column = shown_str(&label_names.join(","));
    let q = classes.names.len();
    let fractional = classes
        .names
        .iter()
        .find(|c| class_number(c).is_some_and(|v| v.fract() != 0.0));
    let why = match fractional {
        Some(c) => format!("`{}` is not an integer", shown_str(c)),
        None if n >= 20 && q * 4 > n && classes.names.iter().all(|c| class_number(c).is_some()) => {
            format!("{q} distinct numbers in {n} rows")
        }
        None => return None,
    };
    Some(format!(
        "the label column `{column}` looks real-valued ({why}), yet it is read as {q} classes; \
         for regression, pass --task regress"
    ))
}

/// Where a quote opened and never closed (its line, and its field's 0-based index), if
/// `bytes` (whole records, starting on one on `first_line`) end inside quotes.
#[cold]
fn unterminated_quote(bytes: &[u8], first_line: u64, delim: u8) -> Option<(u64, usize)> {
    if !bytes.contains(&b'"') {
        return None;
    }
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
fn unterminated_error(name: &Path, line: u64, field: usize, layout: Option<&Layout>) -> Error {
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

/// Reads the next block into `buf` (which already holds the previous block's carry): at
/// least `block` more bytes, then on until a record end; returns where the last record
/// ends (everything, at the end of the input).
fn read_block(
    name: &Path,
    input: &mut Input,
    buf: &mut Vec<u8>,
    block: usize,
    delim: u8,
) -> Result<usize> {
    let mut scan = Scan::new(delim);
    loop {
        let want = buf.len().saturating_add(block);
        input.fill(name, buf, want)?;
        if input.eof {
            return Ok(buf.len());
        }
        scan.advance(buf);
        if scan.cut > 0 {
            return Ok(scan.cut);
        }
    }
}

/// How many line ends (`\n`, `\r\n`, or a lone `\r`, as the CSV reader takes them): the
/// lines that `bytes` moves on by. A `\r` at the very end counts (slices never end between
/// the two bytes of a `\r\n`).
fn count_lines(bytes: &[u8]) -> u64 {
    // Counted in chunks so that the compiler vectorizes the byte comparisons.
    let count = |byte: u8| -> u64 {
        bytes
            .chunks(1 << 12)
            .map(|c| c.iter().map(|&b| u32::from(b == byte)).sum::<u32>() as u64)
            .sum()
    };
    let (lf, cr) = (count(b'\n'), count(b'\r'));
    if cr == 0 {
        return lf;
    }
    let pairs: u64 = bytes
        .iter()
        .zip(bytes.get(1..).unwrap_or(&[]))
        .map(|(&a, &b)| u64::from(a == b'\r' && b == b'\n'))
        .sum();
    lf + cr - pairs
}

/// Just past the last record end (`\n`, or a `\r` followed by something other than `\n`)
/// in `bytes[from..to]`; `bytes` beyond `to` is looked at for the byte after a `\r`.
#[inline]
fn last_end(bytes: &[u8], from: usize, to: usize) -> Option<usize> {
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
fn ends_record(bytes: &[u8], at: usize) -> bool {
    match bytes.get(at) {
        Some(b'\n') => true,
        Some(b'\r') => matches!(bytes.get(at + 1), Some(&c) if c != b'\n'),
        _ => false,
    }
}

/// Counts lines incrementally through a chunk: the line on which a position is.
struct LineCounter {
    pos: usize,
    line: u64,
}

impl LineCounter {
    /// Counting from position 0, which is on `line`.
    fn new(line: u64) -> Self {
        LineCounter { pos: 0, line }
    }

    /// The line of `pos` (never before the last position asked for, nor between a `\r`
    /// and its `\n`).
    fn at(&mut self, chunk: &[u8], pos: usize) -> u64 {
        if pos > self.pos {
            self.line += count_lines(chunk.get(self.pos..pos).unwrap_or(&[]));
            self.pos = pos;
        }
        self.line
    }
}

/// Cuts `bytes` (whole records, starting on a record) at record ends into at most `pieces`
/// stretches of about the same size.
fn split_records(bytes: &[u8], pieces: usize, delim: u8) -> Vec<(usize, usize)> {
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
enum Quote {
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
    fn step(self, b: u8, delim: u8) -> Quote {
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
struct Scan {
    state: Quote,
    /// How far the buffer has been scanned; `state` is the state there.
    pos: usize,
    /// Just past the last record end seen (0: none yet).
    cut: usize,
    /// The byte between fields.
    delim: u8,
}

impl Scan {
    fn new(delim: u8) -> Scan {
        Scan {
            state: Quote::Start,
            pos: 0,
            cut: 0,
            delim,
        }
    }

    /// Scans `bytes[self.pos..]`. A `\r` at the very end is not taken as a record end yet
    /// (a `\n` may follow).
    fn advance(&mut self, bytes: &[u8]) {
        let Some(rest) = bytes.get(self.pos..) else {
            return;
        };
        let delim = self.delim;
        let base = self.pos;
        self.pos = bytes.len();
        if matches!(self.state, Quote::Start | Quote::Field) && !rest.contains(&b'"') {
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
                Quote::Quoted => match tail.iter().position(|&c| c == b'"') {
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
                    let k = tail.iter().position(|&c| c == b'"').unwrap_or(tail.len());
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
    fn next_cut(&mut self, bytes: &[u8]) -> Option<usize> {
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

/// The header record → names and the role of each column, checked against `opts`.
fn layout(
    name: &Path,
    rec: &csv::ByteRecord,
    header_line: u64,
    opts: &LoadOptions,
) -> Result<Layout> {
    let (columns, unnamed) = header_names(name, rec, header_line)?;
    check_unique(name, &columns, &unnamed, header_line)?;
    let hint = |e: Error| match e {
        Error::Data { path, msg } => Error::Data {
            msg: format!("{msg}{}", delimiter_hint(&columns, opts.delimiter)),
            path,
        },
        e => e,
    };

    // Which columns are labels, in the order asked for; None when optional and absent.
    let label_cols = resolve_labels(name, &columns, opts).map_err(hint)?;
    let mut roles = vec![Role::Feature; columns.len()];
    let mut label_names = Vec::new();
    for (k, &j) in label_cols.iter().flatten().enumerate() {
        if let (Some(role), Some(column)) = (roles.get_mut(j), columns.get(j)) {
            if *role != Role::Feature {
                return Err(Error::data(
                    name,
                    format!("column `{}` is given twice as a label", shown_str(column)),
                ));
            }
            *role = Role::Label(k);
            label_names.push(column.clone());
        }
    }
    for spec in &opts.ignore {
        let j = match spec {
            LabelSpec::Name(n) => columns.iter().position(|c| c == n.trim()),
            LabelSpec::Index(j) => Some(*j).filter(|&j| j < columns.len()),
            LabelSpec::Last => columns.len().checked_sub(1),
            LabelSpec::Absent => continue,
        };
        let Some(j) = j else {
            let what = match spec {
                LabelSpec::Index(j) => format!("index {j}"),
                LabelSpec::Name(n) => format!("`{}`", shown_str(n)),
                _ => "it".to_string(),
            };
            return Err(hint(Error::data(
                name,
                format!(
                    "--ignore: no column {what}; the columns are: {}",
                    list(&columns)
                ),
            )));
        };
        match roles.get_mut(j) {
            Some(Role::Label(_)) => {
                return Err(Error::data(
                    name,
                    format!(
                        "column `{}` is the label, and --ignore names it too",
                        shown_str(columns.get(j).map_or("", String::as_str))
                    ),
                ))
            }
            Some(role) => *role = Role::Ignored,
            None => {}
        }
    }
    if opts.kind == LabelKind::Classes && label_names.len() > 1 {
        return Err(Error::data(
            name,
            format!(
                "classification takes one label column, got {}: {}",
                label_names.len(),
                list(&label_names)
            ),
        ));
    }
    let feature_names: Vec<String> = columns
        .iter()
        .zip(&roles)
        .filter(|(_, r)| **r == Role::Feature)
        .map(|(c, _)| c.clone())
        .collect();
    if feature_names.is_empty() {
        return Err(hint(Error::data(
            name,
            format!(
                "has no feature columns: every column ({}) is a label{}",
                list(&columns),
                if opts.ignore.is_empty() {
                    ""
                } else {
                    " or ignored"
                }
            ),
        )));
    }
    if let Some(expected) = opts.expected_features {
        check_features(name, expected, &feature_names).map_err(hint)?;
    }
    Ok(Layout {
        d: feature_names.len(),
        k: label_names.len(),
        columns,
        roles,
        feature_names,
        label_names,
        kind: opts.kind,
        delimiter: opts.delimiter,
    })
}

/// When the header came out as one column whose name holds another usual delimiter, the
/// advice to name it: `; the header is one column …: pass --delimiter ';'`. Empty otherwise.
fn delimiter_hint(columns: &[String], delim: u8) -> String {
    let [only] = columns else {
        return String::new();
    };
    let seen = [b'\t', b';', b'|', b',']
        .into_iter()
        .filter(|&c| c != delim)
        .max_by_key(|&c| only.bytes().filter(|&b| b == c).count())
        .filter(|&c| only.as_bytes().contains(&c));
    match seen {
        Some(c) => {
            let (shown_c, flag) = match c {
                b'\t' => ("a tab", "--delimiter tab".to_string()),
                c => ("", format!("--delimiter '{}'", c as char)),
            };
            let what = if shown_c.is_empty() {
                format!("`{}`", c as char)
            } else {
                shown_c.to_string()
            };
            format!(
                " (the header is read as one column, `{}`, which contains {what}: if the file \
                 is separated by {what}, pass {flag})",
                shown_str(only)
            )
        }
        None => String::new(),
    }
}

fn csv_reader(bytes: &[u8], delim: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delim)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(bytes)
}

/// The header's names, trimmed, `field j` (1-based) for an empty one; and which were empty.
fn header_names(name: &Path, rec: &csv::ByteRecord, line: u64) -> Result<(Vec<String>, Vec<bool>)> {
    let mut columns = Vec::with_capacity(rec.len());
    let mut unnamed = Vec::with_capacity(rec.len());
    for (j, field) in rec.iter().enumerate() {
        let text = std::str::from_utf8(field.trim_ascii()).map_err(|_| {
            let msg = format!("the header name `{}` is not valid UTF-8", shown(field));
            Error::data_at(name, line, format!("field {}", j + 1), msg)
        })?;
        unnamed.push(text.is_empty());
        columns.push(if text.is_empty() {
            format!("field {}", j + 1)
        } else {
            text.to_string()
        });
    }
    Ok((columns, unnamed))
}

fn check_unique(name: &Path, columns: &[String], unnamed: &[bool], line: u64) -> Result<()> {
    let mut first_seen: HashMap<&str, usize> = HashMap::with_capacity(columns.len());
    for (j, (column, &unnamed)) in columns.iter().zip(unnamed).enumerate() {
        if unnamed {
            continue; // `field j` names are unique by construction
        }
        if let Some(&i) = first_seen.get(column.as_str()) {
            let column = shown_str(column);
            let msg = format!(
                "column `{column}` appears twice in the header (fields {} and {})",
                i + 1,
                j + 1
            );
            return Err(Error::data_at(name, line, column, msg));
        }
        first_seen.insert(column.as_str(), j);
    }
    Ok(())
}

/// Parses the records of `chunk` (whole records, the first on line `first_line`) into one
/// part.
fn parse_rows<T: Real>(
    name: &Path,
    chunk: &[u8],
    first_line: u64,
    layout: &Layout,
) -> Result<Part<T>> {
    if chunk.contains(&b'"') {
        parse_rows_csv(name, chunk, first_line, layout)
    } else {
        parse_rows_plain(name, chunk, first_line, layout)
    }
}

/// `parse_rows` by the `csv` crate's reader, quotes and all.
fn parse_rows_csv<T: Real>(
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
fn parse_rows_plain<T: Real>(
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

/// Where the field that starts at `at` ends: at the next delimiter, '\r' or '\n', or the end.
#[inline]
fn field_end(chunk: &[u8], at: usize, delim: u8) -> usize {
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
fn fast_field<T: Real>(chunk: &[u8], at: usize) -> Option<(T, usize)> {
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

/// The rows of a chunk as they are parsed.
struct Rows<'a, T> {
    name: &'a Path,
    layout: &'a Layout,
    part: Part<T>,
    /// One row's targets, in the order of the labels asked for.
    row_targets: Vec<T>,
}

impl<'a, T: Real> Rows<'a, T> {
    fn new(name: &'a Path, layout: &'a Layout) -> Self {
        Rows {
            name,
            layout,
            part: Part::default(),
            row_targets: vec![T::zero(); layout.k],
        }
    }

    fn at(&self, line: u64, j: usize, msg: String) -> Error {
        let column = match self.layout.columns.get(j) {
            Some(c) => shown_str(c),
            None => format!("field {}", j + 1),
        };
        Error::data_at(self.name, line, column, msg)
    }

    /// Adds the record on `line`, of `len` fields.
    #[inline]
    fn push<'f>(
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
    fn room(&mut self, line: u64) -> Result<()> {
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
    fn oom(&self, line: u64) -> Error {
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
    fn push_plain(&mut self, chunk: &[u8], start: usize, line: u64) -> Result<usize> {
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

    /// Adds field `j` of a record, as the header says: a feature, a target or a class.
    fn push_field(&mut self, j: usize, field: &[u8], line: u64) -> std::result::Result<(), String> {
        let field = field.trim_ascii();
        let layout = self.layout;
        let Some(role) = layout.roles.get(j) else {
            return Ok(());
        };
        match (*role, layout.kind) {
            (Role::Ignored, _) => Ok(()),
            (Role::Feature, _) => number::<T>(field).map(|v| self.part.x.push(v)),
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
    fn plain_error(
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
    fn reserve(&mut self, here: usize, len: usize) {
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

/// Reads the next non-blank record of `chunk` into `rec`; returns the line it starts on,
/// counted by `lines` (which starts on the line `chunk` starts on).
fn next_record(
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

/// A finite number in the whole of `s`, correctly rounded to T (the same value as
/// `str::parse`), by the `lexical-core` crate (Eisel-Lemire, with a fallback for hard cases).
/// None for anything else (spaces, inf, nan, overflow, garbage), which `number` then reads
/// the slow way to say what is wrong.
#[inline]
fn fast_decimal<T: Real>(s: &[u8]) -> Option<T> {
    let v = if std::mem::size_of::<T>() == 4 {
        T::of(f64::from(lexical_core::parse::<f32>(s).ok()?))
    } else {
        T::of(lexical_core::parse::<f64>(s).ok()?)
    };
    v.is_finite().then_some(v)
}

/// A finite number, parsed straight into T (f32 data never passes through an f64 matrix).
#[inline]
fn number<T: Real>(field: &[u8]) -> std::result::Result<T, String> {
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

/// A class name: any non-empty UTF-8 text.
fn class(field: &[u8]) -> std::result::Result<&str, String> {
    if field.is_empty() {
        return Err("empty label".to_string());
    }
    std::str::from_utf8(field).map_err(|_| format!("label `{}` is not valid UTF-8", shown(field)))
}

/// The label columns' 0-based positions in the order of `opts.labels`, or None when the
/// labels are optional and absent.
fn resolve_labels(
    name: &Path,
    columns: &[String],
    opts: &LoadOptions,
) -> Result<Option<Vec<usize>>> {
    let specs: Vec<&LabelSpec> = opts
        .labels
        .iter()
        .filter(|s| **s != LabelSpec::Absent)
        .collect();
    if specs.is_empty() {
        return Ok(Some(Vec::new()));
    }
    if opts.optional_label {
        if let Some(expected) = opts.expected_features {
            if columns == expected {
                return Ok(None);
            }
        }
    }
    let mut found = Vec::with_capacity(specs.len());
    let mut missing = Vec::new();
    for spec in &specs {
        match spec {
            LabelSpec::Last => found.push(columns.len().saturating_sub(1)),
            LabelSpec::Name(label) => match columns.iter().position(|c| c == label.trim()) {
                Some(j) => found.push(j),
                None if opts.optional_label => missing.push(format!("`{}`", shown_str(label))),
                None => {
                    return Err(Error::data(
                        name,
                        format!(
                            "no column named `{}`; the columns are: {}",
                            shown_str(label),
                            list(columns)
                        ),
                    ))
                }
            },
            LabelSpec::Index(j) if *j < columns.len() => found.push(*j),
            LabelSpec::Index(j) if opts.optional_label => missing.push(format!("index {j}")),
            LabelSpec::Index(j) => {
                return Err(Error::data(
                    name,
                    format!(
                        "label index {j} is out of range: the file has {} columns (0..{})",
                        columns.len(),
                        columns.len().saturating_sub(1)
                    ),
                ))
            }
            LabelSpec::Absent => {}
        }
    }
    match (found.is_empty(), missing.is_empty()) {
        (_, true) => Ok(Some(found)),
        (true, false) => Ok(None),
        (false, false) => Err(Error::data(
            name,
            format!(
                "has some label columns but not {}; the columns are: {}",
                missing.join(", "),
                list(columns)
            ),
        )),
    }
}

/// Feature columns must be `expected`, same names, same order.
fn check_features(name: &Path, expected: &[String], found: &[String]) -> Result<()> {
    if expected == found {
        return Ok(());
    }
    let missing: Vec<String> = expected
        .iter()
        .filter(|e| !found.contains(e))
        .cloned()
        .collect();
    let extra: Vec<String> = found
        .iter()
        .filter(|f| !expected.contains(f))
        .cloned()
        .collect();
    let mut what = Vec::new();
    if !missing.is_empty() {
        what.push(format!("missing {}", list(&missing)));
    }
    if !extra.is_empty() {
        what.push(format!("not expected {}", list(&extra)));
    }
    if what.is_empty() {
        what.push(format!(
            "out of order: expected {}; the file has {}",
            list(expected),
            list(found)
        ));
    }
    Err(Error::data(
        name,
        format!(
            "the feature columns do not match the {} expected ones: {}",
            expected.len(),
            what.join("; ")
        ),
    ))
}

/// `a, b, c`, cut after 12 names: `a, b, … and 772 more`; each name as `shown` renders it.
pub fn list(names: &[String]) -> String {
    const SHOWN: usize = 12;
    let mut s = names
        .iter()
        .take(SHOWN)
        .map(|n| shown_str(n))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        s.push_str(&format!(", … and {} more", names.len() - SHOWN));
    }
    s
}

/// How many characters of an untrusted value a message shows before cutting it with `…`.
const SHOWN_CHARS: usize = 40;

/// Untrusted bytes (a field, a header name, a class name) as shown in a one-line message:
/// the one place that renders data into messages. Control characters are escaped (`\n`,
/// `\r`, `\t`, `\0`, `\x1b`, `\u{85}`), as are bidirectional overrides and bytes that are
/// not UTF-8 (`\xff`); after 40 characters the rest is cut with `…`. Reads at most a few
/// hundred bytes, whatever the value's length.
pub fn shown(bytes: &[u8]) -> String {
    let head = bytes.get(..SHOWN_CHARS * 4 + 4).unwrap_or(bytes);
    let mut out = String::new();
    let mut chars = 0;
    let mut cut = false;
    'chunks: for chunk in head.utf8_chunks() {
        for c in chunk.valid().chars() {
            if chars == SHOWN_CHARS {
                cut = true;
                break 'chunks;
            }
            chars += 1;
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\0' => out.push_str("\\0"),
                c if (c as u32) < 0x80 && c.is_control() => {
                    out.push_str(&format!("\\x{:02x}", c as u32))
                }
                c if c.is_control()
                    || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
                {
                    out.push_str(&format!("\\u{{{:x}}}", c as u32))
                }
                c => out.push(c),
            }
        }
        for &b in chunk.invalid() {
            if chars == SHOWN_CHARS {
                cut = true;
                break 'chunks;
            }
            chars += 1;
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    if cut || head.len() < bytes.len() {
        out.push('…');
    }
    out
}

/// A name or value already in a `String`, as `shown` renders it.
pub fn shown_str(text: &str) -> String {
    shown(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn classify() -> LoadOptions<'static> {
        LoadOptions::new(vec![LabelSpec::Last], LabelKind::Classes)
    }

    fn regress(labels: &[&str]) -> LoadOptions<'static> {
        let specs = labels
            .iter()
            .map(|l| LabelSpec::Name(l.to_string()))
            .collect();
        LoadOptions::new(specs, LabelKind::Targets)
    }

    fn ok<T: Real>(text: &[u8], opts: &LoadOptions) -> Frame<T> {
        parse::<T>(Path::new("t.csv"), text, opts).unwrap()
    }

    fn err(text: &[u8], opts: &LoadOptions) -> String {
        parse::<f64>(Path::new("t.csv"), text, opts)
            .unwrap_err()
            .to_string()
    }

    /// Each row's class name.
    fn row_classes<T>(f: &Frame<T>) -> Vec<String> {
        match &f.labels {
            Labels::Classes(c) => (0..c.y.len())
                .map(|i| c.name_of(i).unwrap_or("?").to_string())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Each row's line.
    fn all_lines<T>(f: &Frame<T>) -> Vec<u64> {
        (0..f.lines.len())
            .map(|i| f.lines.line(i).unwrap_or(0))
            .collect()
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn reads_features_and_class_labels() {
        let f = ok::<f64>(b"a,b,kind\n1,2,cat\n3.5,-4e1,dog\n", &classify());
        assert_eq!(f.feature_names, names(&["a", "b"]));
        assert_eq!(f.label_names, names(&["kind"]));
        assert_eq!(f.x, ndarray::array![[1.0, 2.0], [3.5, -40.0]]);
        assert_eq!(row_classes(&f), (names(&["cat", "dog"])));
        assert_eq!(all_lines(&f), vec![2, 3]);
        assert_eq!(f.source, PathBuf::from("t.csv"));
    }

    #[test]
    fn bom_crlf_and_spaces_just_work() {
        let text = b"\xEF\xBB\xBF a , b ,kind\r\n 1 ,2, x \r\n3,4,\"y z\"\r\n";
        let f = ok::<f32>(text, &classify());
        assert_eq!(f.feature_names, names(&["a", "b"]));
        assert_eq!(f.x, ndarray::array![[1.0f32, 2.0], [3.0, 4.0]]);
        assert_eq!(row_classes(&f), (names(&["x", "y z"])));
        assert_eq!(all_lines(&f), vec![2, 3]);
        // No trailing newline, and a quoted label holding the delimiter.
        let f = ok::<f64>(b"a,kind\r\n1,\"x,y\"", &classify());
        assert_eq!(row_classes(&f), (names(&["x,y"])));
    }

    #[test]
    fn line_numbers_count_blank_lines_and_quoted_newlines() {
        let text = b"a,kind\n\n1,x\n\r\n\r\n2,\"multi\nline\"\n3,y\n\n4,oops\n";
        let f = ok::<f64>(&text[..text.len() - 7], &classify());
        assert_eq!(all_lines(&f), vec![3, 6, 8]);
        let text = b"a,kind\n\n1,x\n\r\n\r\n2,\"multi\nline\"\n3,y\n\nz,oops\n";
        assert_eq!(err(text, &classify()), "t.csv:10:a: `z` is not a number");
        let text = b"a,kind\r\n\r\n1,x\r\n\r\n\r\nq,y\r\n";
        assert_eq!(err(text, &classify()), "t.csv:6:a: `q` is not a number");
    }

    #[test]
    fn labels_by_name_index_and_absent() {
        let text = b"a,kind,b\n1,x,2\n";
        let by_name = LoadOptions::new(vec![LabelSpec::Name("kind".into())], LabelKind::Classes);
        let by_index = LoadOptions::new(vec![LabelSpec::Index(1)], LabelKind::Classes);
        for opts in [by_name, by_index] {
            let f = ok::<f64>(text, &opts);
            assert_eq!(f.feature_names, names(&["a", "b"]));
            assert_eq!(f.x, ndarray::array![[1.0, 2.0]]);
            assert_eq!(row_classes(&f), (names(&["x"])));
        }
        for labels in [vec![], vec![LabelSpec::Absent]] {
            let f = ok::<f64>(b"a,b\n1,2\n", &LoadOptions::new(labels, LabelKind::Classes));
            assert_eq!(f.labels, Labels::None);
            assert!(f.label_names.is_empty());
            assert_eq!(f.x, ndarray::array![[1.0, 2.0]]);
        }
    }

    #[test]
    fn several_regression_targets_in_the_order_asked() {
        let text = b"y2,a,y1,b\n10,1,20,2\n30,3,40,4\n";
        let f = ok::<f64>(text, &regress(&["y1", "y2"]));
        assert_eq!(f.feature_names, names(&["a", "b"]));
        assert_eq!(f.label_names, names(&["y1", "y2"]));
        assert_eq!(f.x, ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
        assert_eq!(
            f.labels,
            Labels::Targets(ndarray::array![[20.0, 10.0], [40.0, 30.0]])
        );
        assert_eq!(
            err(b"a,y\n1,2\n3,x\n", &regress(&["y"])),
            "t.csv:3:y: `x` is not a number"
        );
    }

    #[test]
    fn f32_is_parsed_directly_and_f64_keeps_precision() {
        let text = b"a,y\n0.1,1e39\n";
        let opts = LoadOptions::new(vec![], LabelKind::Targets);
        let f32s = ok::<f32>(b"a\n0.1\n16777217\n", &opts);
        assert_eq!(f32s.x[[0, 0]], 0.1f32);
        assert_eq!(f32s.x[[1, 0]], 16777216.0f32);
        let f64s = ok::<f64>(b"a\n0.1\n16777217\n", &opts);
        assert_eq!(f64s.x[[0, 0]], 0.1f64);
        assert_eq!(f64s.x[[1, 0]], 16777217.0f64);
        // 1e39 fits an f64 but not an f32.
        let f = ok::<f64>(text, &regress(&["y"]));
        assert_eq!(f.labels, Labels::Targets(ndarray::array![[1e39]]));
        let e = parse::<f32>(Path::new("t.csv"), text, &regress(&["y"])).unwrap_err();
        assert_eq!(e.to_string(), "t.csv:2:y: `1e39` is out of range for f32");
    }

    #[test]
    fn bad_numbers_name_line_and_column() {
        let o = classify();
        let cases: [(&[u8], &str); 7] = [
            (
                b"a,b,c\n1,2,x\n1,abc,x\n",
                "t.csv:3:b: `abc` is not a number",
            ),
            (
                b"a,b,c\n1,nan,x\n",
                "t.csv:2:b: `nan` is not a finite number",
            ),
            (
                b"a,b,c\n-inf,1,x\n",
                "t.csv:2:a: `-inf` is not a finite number",
            ),
            (b"a,b,c\n1,  ,x\n", "t.csv:2:b: empty field"),
            (
                b"a,,c\n1,2,x\n3,1.2.3,x\n",
                "t.csv:3:field 2: `1.2.3` is not a number",
            ),
            (
                b"a,b,c\n1,\xff\xfe,x\n",
                "t.csv:2:b: `\\xff\\xfe` is not valid UTF-8",
            ),
            (b"a,b,c\n1,2,\n", "t.csv:2:c: empty label"),
        ];
        for (text, want) in cases {
            assert_eq!(err(text, &o), want);
        }
        assert_eq!(
            err(b"a,b,c\n1,2,\xc3\n", &o),
            "t.csv:2:c: label `\\xc3` is not valid UTF-8"
        );
        assert_eq!(
            err(b"a,\xc3,c\n1,2,x\n", &o),
            "t.csv:1:field 2: the header name `\\xc3` is not valid UTF-8"
        );
        let long = format!("a,c\n{},x\n", "9".repeat(30) + &"z".repeat(30));
        let want = format!(
            "t.csv:2:a: `{}…` is not a number",
            "9".repeat(30) + &"z".repeat(10)
        );
        assert_eq!(err(long.as_bytes(), &o), want);
    }

    #[test]
    fn whole_file_errors() {
        let o = classify();
        assert_eq!(err(b"", &o), "t.csv: is empty");
        assert_eq!(err(b"\xEF\xBB\xBF", &o), "t.csv: is empty");
        assert_eq!(err(b"\n\r\n\n", &o), "t.csv: is empty");
        assert_eq!(err(b"a,b\n", &o), "t.csv: has a header but no data rows");
        assert_eq!(
            err(b"a,b\r\n\r\n", &o),
            "t.csv: has a header but no data rows"
        );
        assert_eq!(
            err(b"a,b,c,d,e\n1,2,3,4,x\n\n\n\n1,2,3,4,x\n1,2,x\n", &o),
            "t.csv:7:d: line 7 has 3 fields, the header has 5"
        );
        assert_eq!(
            err(b"a,b,c\n1,2,3,x\n", &o),
            "t.csv:2:field 4: line 2 has 4 fields, the header has 3"
        );
        assert_eq!(
            err(b"a,b,a,c\n1,2,3,x\n", &o),
            "t.csv:1:a: column `a` appears twice in the header (fields 1 and 3)"
        );
        assert_eq!(
            err(b"kind\nx\n", &o),
            "t.csv: has no feature columns: every column (kind) is a label"
        );
    }

    #[test]
    fn label_columns_that_are_not_there() {
        let by_name = LoadOptions::new(vec![LabelSpec::Name("kind".into())], LabelKind::Classes);
        assert_eq!(
            err(b"a,b,c\n1,2,3\n", &by_name),
            "t.csv: no column named `kind`; the columns are: a, b, c"
        );
        let by_index = LoadOptions::new(vec![LabelSpec::Index(9)], LabelKind::Classes);
        assert_eq!(
            err(b"a,b,c,d,e\n1,2,3,4,5\n", &by_index),
            "t.csv: label index 9 is out of range: the file has 5 columns (0..4)"
        );
        let twice = LoadOptions::new(
            vec![LabelSpec::Index(1), LabelSpec::Name("b".into())],
            LabelKind::Targets,
        );
        assert_eq!(
            err(b"a,b\n1,2\n", &twice),
            "t.csv: column `b` is given twice as a label"
        );
        let two = LoadOptions::new(
            vec![LabelSpec::Index(1), LabelSpec::Index(2)],
            LabelKind::Classes,
        );
        assert_eq!(
            err(b"a,b,c\n1,2,3\n", &two),
            "t.csv: classification takes one label column, got 2: b, c"
        );
        let many: Vec<String> = (0..20).map(|i| format!("p{i}")).collect();
        let text = format!("{}\n{}\n", many.join(","), vec!["0"; 20].join(","));
        assert_eq!(
            err(text.as_bytes(), &by_name),
            "t.csv: no column named `kind`; the columns are: \
             p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, p11, … and 8 more"
        );
    }

    #[test]
    fn expected_features_must_match_in_name_and_order() {
        let want = names(&["a", "b", "c"]);
        let o = LoadOptions {
            expected_features: Some(&want),
            ..classify()
        };
        assert_eq!(ok::<f64>(b"a,b,c,y\n1,2,3,x\n", &o).feature_names, want);
        assert_eq!(
            err(b"a,c,y\n1,3,x\n", &o),
            "t.csv: the feature columns do not match the 3 expected ones: missing b"
        );
        assert_eq!(
            err(b"a,b,c,d,e,y\n1,2,3,4,5,x\n", &o),
            "t.csv: the feature columns do not match the 3 expected ones: not expected d, e"
        );
        assert_eq!(
            err(b"a,B,c,y\n1,2,3,x\n", &o),
            "t.csv: the feature columns do not match the 3 expected ones: missing b; not expected B"
        );
        assert_eq!(
            err(b"b,a,c,y\n2,1,3,x\n", &o),
            "t.csv: the feature columns do not match the 3 expected ones: \
             out of order: expected a, b, c; the file has b, a, c"
        );
    }

    #[test]
    fn optional_labels_for_predict() {
        let want = names(&["a", "b"]);
        for spec in [
            LabelSpec::Last,
            LabelSpec::Name("y".into()),
            LabelSpec::Index(2),
        ] {
            let o = LoadOptions {
                labels: vec![spec],
                kind: LabelKind::Classes,
                expected_features: Some(&want),
                optional_label: true,
                delimiter: b',',
                ignore: Vec::new(),
            };
            let with = ok::<f64>(b"a,b,y\n1,2,x\n", &o);
            assert_eq!(row_classes(&with), (names(&["x"])));
            assert_eq!(with.label_names, names(&["y"]));
            let without = ok::<f64>(b"a,b\n1,2\n", &o);
            assert_eq!(without.labels, Labels::None);
            assert!(without.label_names.is_empty());
            assert_eq!(without.x, ndarray::array![[1.0, 2.0]]);
        }
        // Several targets: all or none.
        let o = LoadOptions {
            optional_label: true,
            ..regress(&["y1", "y2"])
        };
        assert_eq!(ok::<f64>(b"a,b\n1,2\n", &o).labels, Labels::None);
        assert_eq!(
            err(b"a,y1\n1,2\n", &o),
            "t.csv: has some label columns but not `y2`; the columns are: a, y1"
        );
    }

    #[test]
    fn parallel_stretches_give_the_same_frame_and_the_first_error() {
        let mut text = String::from("a,b,kind\r\n");
        for i in 0..1000 {
            text.push_str(&format!("{i},{}.5,k{}\r\n", i * 2, i % 3));
            if i % 97 == 0 {
                text.push_str("\r\n");
            }
        }
        let one =
            parse_with::<f32>(Path::new("t.csv"), text.as_bytes(), &classify(), Some(1)).unwrap();
        assert_eq!(one.x.dim(), (1000, 2));
        assert_eq!(one.x[[999, 1]], 1998.5);
        assert_eq!(one.lines.line(999).unwrap_or(0), 1000 + 11 + 1);
        for threads in 2..6 {
            let many = parse_with::<f32>(
                Path::new("t.csv"),
                text.as_bytes(),
                &classify(),
                Some(threads),
            );
            assert_eq!(many.unwrap(), one);
        }
        // Two bad fields: whichever stretch finds them, the first in the file is reported.
        let bad = text
            .replacen("500,1000.5", "500,x", 1)
            .replacen("900,", "y,", 1);
        for threads in 1..6 {
            let e = parse_with::<f64>(
                Path::new("t.csv"),
                bad.as_bytes(),
                &classify(),
                Some(threads),
            );
            assert_eq!(
                e.unwrap_err().to_string(),
                "t.csv:508:b: `x` is not a number"
            );
        }
        // Big enough for `parse` itself to use every core.
        let big = text
            .repeat(PARALLEL_MIN_BYTES / text.len() + 1)
            .replace("a,b,kind\r\n", "");
        let big = format!("a,b,kind\n{big}");
        let f = parse::<f64>(Path::new("t.csv"), big.as_bytes(), &classify()).unwrap();
        let f1 =
            parse_with::<f64>(Path::new("t.csv"), big.as_bytes(), &classify(), Some(1)).unwrap();
        assert_eq!(f, f1);
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn gzip_is_read_transparently_whatever_the_extension() {
        let dir = tempfile::tempdir().unwrap();
        let text = b"a,b,kind\n1,2,x\n3,4,y\n";
        for file in ["t.csv.gz", "t.csv"] {
            let path = dir.path().join(file);
            std::fs::write(&path, gzip(text)).unwrap();
            let src = Source::Path(path.clone());
            assert_eq!(read_bytes(&src).unwrap(), text);
            let f = load::<f32>(&src, &classify()).unwrap();
            assert_eq!(f.x, ndarray::array![[1.0f32, 2.0], [3.0, 4.0]]);
            assert_eq!(f.source, path);
        }
        // Two concatenated members, as `cat a.gz b.gz` makes.
        let mut two = gzip(b"a,kind\n1,x\n");
        two.extend(gzip(b"2,y\n"));
        let f = parse::<f64>(
            Path::new("t"),
            &gunzip_if_gzip(Path::new("t"), two).unwrap(),
            &classify(),
        )
        .unwrap();
        assert_eq!(all_lines(&f), vec![2, 3]);
    }

    #[test]
    fn corrupt_gzip_is_an_error() {
        let name = Path::new("t.csv.gz");
        let e = gunzip_if_gzip(name, b"\x1f\x8bnot gzip at all".to_vec()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("t.csv.gz: is not a valid gzip file: "),
            "{e}"
        );
        let mut cut = gzip(&b"a,b\n1,2\n".repeat(100));
        cut.truncate(cut.len() / 2);
        let e = gunzip_if_gzip(name, cut).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("t.csv.gz: is not a valid gzip file: "),
            "{e}"
        );
        assert_eq!(e.exit_code(), crate::error::exit::DATA);
    }

    #[test]
    fn missing_files_and_directories() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_bytes(&Source::Path(dir.path().to_path_buf())).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{}: is a directory, not a CSV file", dir.path().display())
        );
        let gone = dir.path().join("gone.csv");
        let e = load::<f64>(&Source::Path(gone.clone()), &classify()).unwrap_err();
        assert_eq!(e.to_string(), format!("{}: no such file", gone.display()));
        assert_eq!(e.exit_code(), crate::error::exit::DATA);
    }

    #[test]
    fn source_from_the_command_line() {
        assert_eq!(Source::parse("-"), Source::Stdin);
        assert_eq!(Source::Stdin.display(), PathBuf::from("<stdin>"));
        assert_eq!(
            Source::parse("d/x.csv"),
            Source::Path(PathBuf::from("d/x.csv"))
        );
        assert_eq!(Source::parse("d/x.csv").to_string(), "d/x.csv");
    }

    #[test]
    fn the_shipped_datasets_load() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
        let load_last = |file: &str, kind| {
            load::<f32>(
                &Source::Path(root.join(file)),
                &LoadOptions::new(vec![LabelSpec::Last], kind),
            )
            .unwrap()
        };
        let iris = load_last("iris.csv", LabelKind::Classes);
        assert_eq!(iris.x.dim(), (150, 4));
        assert_eq!(iris.label_names, names(&["species"]));
        let digits = load_last("digits.csv", LabelKind::Classes);
        assert_eq!(digits.x.dim(), (1797, 64));
        let diabetes = load_last("regression.csv", LabelKind::Targets);
        assert_eq!(diabetes.x.dim(), (442, 10));
        for (file, n) in [("spirals.csv", 400), ("xor.csv", 200)] {
            assert_eq!(load_last(file, LabelKind::Classes).x.dim(), (n, 2));
        }
    }

    /// Every way of reading `bytes`: `parse` with blocks of many sizes and several threads,
    /// and `load` of it as a file, plain and gzipped; each must give what `parse` gives.
    fn read_every_way(bytes: &[u8], opts: &LoadOptions) -> std::result::Result<Frame<f64>, String> {
        let name = Path::new("t.csv");
        let want = parse::<f64>(name, bytes, opts).map_err(|e| e.to_string());
        let same = |got: Result<Frame<f64>>, how: &str| match (&want, got) {
            (Ok(a), Ok(b)) => assert_eq!(a, &b, "{how}"),
            (Err(a), Err(b)) => assert_eq!(a, &b.to_string(), "{how}"),
            (a, b) => panic!("{how}: parse gives {a:?}, this gives {b:?}"),
        };
        for block in [1, 2, 3, 5, 7, 11, 64, 1000] {
            for threads in [None, Some(1), Some(2), Some(3)] {
                let got = parse_blocks::<f64>(name, bytes, opts, block, threads);
                same(got, &format!("block {block}, threads {threads:?}"));
            }
        }
        // The same, read from a file: the messages name the file's path instead of t.csv.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let same_file = |got: Result<Frame<f64>>, how: &str| {
            let got = got
                .map(|mut f| {
                    assert_eq!(f.source, path, "{how}");
                    f.source = PathBuf::from("t.csv");
                    f
                })
                .map_err(|e| {
                    let m = e.to_string();
                    m.replacen(&path.display().to_string(), "t.csv", 1)
                });
            assert_eq!(want, got, "{how}");
        };
        for gz in [false, true] {
            std::fs::write(&path, if gz { gzip(bytes) } else { bytes.to_vec() }).unwrap();
            let src = Source::Path(path.clone());
            same_file(load::<f64>(&src, opts), &format!("load, gzip {gz}"));
            for block in [1, 7, 13] {
                for threads in [None, Some(2)] {
                    let got = load_with::<f64>(&src, opts, block, threads);
                    same_file(
                        got,
                        &format!("load gzip {gz}, block {block}, threads {threads:?}"),
                    );
                }
            }
        }
        want
    }

    #[test]
    fn blocks_of_any_size_give_the_frame_parse_gives() {
        let o = classify();
        // Quoted fields holding newlines, commas and doubled quotes, wherever blocks end.
        let text = b"a,b,kind\r\n1,2,\"x\ny,\"\"z\"\"\r\n\"\"\"\n3,4,\"q\n\nq\"\n5,6,\"a,b\"\n\n7,8,plain\r\n";
        let f = read_every_way(text, &o).unwrap();
        assert_eq!(
            f.x,
            ndarray::array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]
        );
        assert_eq!(
            row_classes(&f),
            (names(&["x\ny,\"z\"\r\n\"", "q\n\nq", "a,b", "plain"]))
        );
        assert_eq!(all_lines(&f), vec![2, 5, 8, 10]);
        // BOM, CRLF, blank lines before the header and among the rows, no final newline.
        let text = b"\xEF\xBB\xBF\r\n\n\r\na,kind\r\n\r\n1,x\r\n\r\n\r\n2,y\r\n3,z";
        let f = read_every_way(text, &o).unwrap();
        assert_eq!(all_lines(&f), vec![6, 9, 10]);
        assert_eq!(row_classes(&f), (names(&["x", "y", "z"])));
        // A header longer than a block, a quoted newline in it.
        let text = b"\"long name\nof a\",\"second, long, name\",kind\n1,2,x\n";
        let f = read_every_way(text, &o).unwrap();
        assert_eq!(
            f.feature_names,
            names(&["long name\nof a", "second, long, name"])
        );
        assert_eq!(all_lines(&f), vec![3]);
        // Quotes that are text (inside an unquoted field) and text after closing quotes.
        let text = b"a,kind\n1,x\"y\n2,\"p\"q\n3,\"\"\n4,r\"\n\"\n";
        let f = read_every_way(text, &o);
        assert_eq!(f.unwrap_err(), "t.csv:4:kind: empty label");
        let text = b"a,kind\n1,x\"y\n2,\"p\"q\n4,r\"\n";
        let f = read_every_way(text, &o).unwrap();
        assert_eq!(row_classes(&f), (names(&["x\"y", "pq", "r\""])));
        // Lone CRs end records too (without moving the line on).
        let f = read_every_way(b"a,kind\r1,x\r2,y\r\r\n3,z\n", &o).unwrap();
        // A lone '\r' ends a line as it ends a record (before, such files said line 1).
        assert_eq!(all_lines(&f), vec![2, 3, 5]);
        // A quote that never closes is an error at the line where it opened (before, the
        // rest of the file became one class name).
        assert_eq!(
            read_every_way(b"a,kind\n1,\"x\n2,y\n3,z\n", &o).unwrap_err(),
            "t.csv:2:kind: a quoted field opens here and is never closed (a `\"` is missing): it runs to the end of the file"
        );
        // Regression targets and no label.
        let f = read_every_way(b"y2,a,y1\n1,2,3\n\n4,5,6", &regress(&["y1", "y2"])).unwrap();
        assert_eq!(
            f.labels,
            Labels::Targets(ndarray::array![[3.0, 1.0], [6.0, 4.0]])
        );
        read_every_way(
            b"a,b\n1,2\n3,4\n",
            &LoadOptions::new(vec![], LabelKind::Targets),
        )
        .unwrap();
    }

    #[test]
    fn errors_are_the_same_whatever_the_blocks() {
        let o = classify();
        let cases: [(&[u8], &str); 9] = [
            (b"", "t.csv: is empty"),
            (b"\xEF\xBB\xBF\n\r\n\n\r\r", "t.csv: is empty"),
            (b"\n\na,b\r\n\r\n", "t.csv: has a header but no data rows"),
            // Ragged rows after the first block.
            (
                b"a,b,kind\n1,2,x\n3,4,y\n5,6,z\n7,8,w\n9,10,v,extra\n",
                "t.csv:6:field 4: line 6 has 4 fields, the header has 3",
            ),
            (
                b"a,b,kind\n1,2,x\n3,4,y\n5,6,z\n\n\n7,8\n",
                "t.csv:7:kind: line 7 has 2 fields, the header has 3",
            ),
            // At the very last line, with and without a final newline.
            (
                b"a,b,kind\n1,2,x\n3,4,y\n5,6,z\n7,q,w",
                "t.csv:5:b: `q` is not a number",
            ),
            (
                b"a,b,kind\n1,2,x\n3,4,y\n5,6,z\n7,8,\n",
                "t.csv:5:kind: empty label",
            ),
            // Two errors: the first in the file wins, wherever the blocks end.
            (
                b"a,b,kind\n1,2,\"x\n\"\n3,4,y\n5,no,z\n\n7,8,w\n9,nan,v\n",
                "t.csv:5:b: `no` is not a number",
            ),
            (
                b"a,a,kind\n1,2,x\n",
                "t.csv:1:a: column `a` appears twice in the header (fields 1 and 2)",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(read_every_way(text, &o).unwrap_err(), want);
        }
    }

    #[test]
    fn big_files_stream_in_parallel_blocks() {
        let mut text = String::from("a,b,kind\r\n");
        for i in 0..30_000 {
            text.push_str(&format!("{i},{}.25,\"k,{}\"\r\n", i * 3, i % 4));
            if i % 1000 == 7 {
                text.push_str("\r\n");
            }
        }
        let o = classify();
        let whole =
            parse_blocks::<f32>(Path::new("t.csv"), text.as_bytes(), &o, usize::MAX, Some(1));
        let whole = whole.unwrap();
        assert_eq!(whole.x.dim(), (30_000, 2));
        assert_eq!(*all_lines(&whole).last().unwrap(), 30_000 + 30 + 1);
        for (block, threads) in [
            (4096, Some(3)),
            (50_000, None),
            (1 << 20, Some(2)),
            (777, Some(8)),
        ] {
            let f = parse_blocks::<f32>(Path::new("t.csv"), text.as_bytes(), &o, block, threads);
            assert_eq!(f.unwrap(), whole, "block {block}");
        }
        let bad = text
            .replacen("29000,87000.25", "29000,x", 1)
            .replacen("29500,", "y,", 1);
        for block in [4096, 1 << 16] {
            let e = parse_blocks::<f32>(Path::new("t.csv"), bad.as_bytes(), &o, block, Some(2));
            assert_eq!(
                e.unwrap_err().to_string(),
                "t.csv:29031:b: `x` is not a number"
            );
        }
    }

    #[test]
    fn a_gzip_file_corrupt_after_good_blocks_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv.gz");
        let mut text = String::from("a,kind\n");
        for i in 0..20_000 {
            text.push_str(&format!("{i},k{}\n", i * 7919 % 13));
        }
        let mut gz = gzip(text.as_bytes());
        gz.truncate(gz.len() * 3 / 4);
        std::fs::write(&path, &gz).unwrap();
        for block in [100, 4096, BLOCK_BYTES] {
            let e = load_with::<f64>(&Source::Path(path.clone()), &classify(), block, None);
            let e = e.unwrap_err();
            assert!(
                e.to_string().contains(": is not a valid gzip file: "),
                "{e}"
            );
            assert_eq!(e.exit_code(), crate::error::exit::DATA);
        }
    }

    #[test]
    fn row_lines_are_compact_and_exact() {
        let lines = [2u64, 3, 4, 7, 8, 10, 11, 12, 13];
        let mut a = RowLines::default();
        for &l in &lines[..4] {
            a.push(l).unwrap();
        }
        let mut b = RowLines::default();
        for &l in &lines[4..] {
            b.push(l).unwrap();
        }
        a.append(&b).unwrap();
        assert_eq!(a.len(), lines.len());
        let got: Vec<u64> = (0..a.len()).filter_map(|i| a.line(i)).collect();
        assert_eq!(got, lines);
        assert_eq!(a.line(lines.len()), None);
        // Three runs: 2-4, 7-8, 10-13.
        assert_eq!(a.jumps, vec![(0, 2), (3, 7), (5, 10)]);
        let s = a.select(&[1, 4, 5, 8]);
        let got: Vec<u64> = (0..s.len()).filter_map(|i| s.line(i)).collect();
        assert_eq!(got, [3, 8, 10, 13]);
    }

    #[test]
    fn untrusted_bytes_are_shown_on_one_short_line() {
        assert_eq!(shown(b"a\nb\r\t\0\x1b[1m\x7f"), r"a\nb\r\t\0\x1b[1m\x7f");
        assert_eq!(shown("\u{202e}é\u{85}".as_bytes()), r"\u{202e}é\u{85}");
        assert_eq!(shown(b"\xff\xfeok"), r"\xff\xfeok");
        let long = "é".repeat(10_000);
        assert_eq!(shown(long.as_bytes()), format!("{}…", "é".repeat(40)));
        assert_eq!(shown(&[b'x'; 40]), "x".repeat(40));
        assert_eq!(shown(&[b'x'; 41]), format!("{}…", "x".repeat(40)));
    }

    #[test]
    fn delimiters_from_the_command_line() {
        let d = |s: &str| s.parse::<Delimiter>().map(Delimiter::byte);
        assert_eq!(d(","), Ok(b','));
        assert_eq!(d(";"), Ok(b';'));
        assert_eq!(d("tab"), Ok(b'\t'));
        assert_eq!(d("\\t"), Ok(b'\t'));
        assert_eq!(d("\t"), Ok(b'\t'));
        assert_eq!(d("|"), Ok(b'|'));
        assert!(d("\"").is_err() && d("\n").is_err() && d(";;").is_err() && d("é").is_err());
    }

    #[test]
    fn classes_are_interned_in_class_order() {
        let f = ok::<f64>(b"a,y\n1,b\n2,10\n3,2\n4,2.0\n5,a\n6,1e1\n", &classify());
        let Labels::Classes(c) = &f.labels else {
            panic!("classes")
        };
        assert_eq!(c.names, names(&["2", "10", "a", "b"]));
        assert_eq!(c.first_lines, [4, 3, 6, 2]);
        assert_eq!(c.y, [3, 1, 0, 0, 2, 1]);
        assert!(f.warnings.is_empty());
        let f = ok::<f64>(b"a,y\n1,0.5\n2,1\n", &classify());
        assert_eq!(f.warnings.len(), 1);
        assert!(
            f.warnings[0].contains("`0.5` is not an integer"),
            "{:?}",
            f.warnings
        );
    }

    mod props {
        use super::super::*;
        use super::all_lines;
        use proptest::prelude::*;

        fn configs() -> Vec<LoadOptions<'static>> {
            vec![
                LoadOptions::new(vec![LabelSpec::Last], LabelKind::Classes),
                LoadOptions::new(
                    vec![LabelSpec::Name("b".into()), LabelSpec::Index(0)],
                    LabelKind::Targets,
                ),
                LoadOptions {
                    optional_label: true,
                    ..LoadOptions::new(vec![LabelSpec::Name("c".into())], LabelKind::Classes)
                },
                LoadOptions::new(vec![], LabelKind::Targets),
            ]
        }

        /// Parses with every configuration, in both precisions; checks the shapes of what parses.
        fn parse_all(bytes: &[u8]) {
            for opts in configs() {
                if let Ok(f) = parse::<f32>(Path::new("p"), bytes, &opts) {
                    assert_eq!(f.x.nrows(), all_lines(&f).len());
                    assert_eq!(f.x.ncols(), f.feature_names.len());
                    assert!(f.x.iter().all(|v| v.is_finite()));
                    match &f.labels {
                        Labels::Classes(c) => assert_eq!(c.y.len(), f.x.nrows()),
                        Labels::Targets(t) => {
                            assert_eq!(t.dim(), (f.x.nrows(), f.label_names.len()))
                        }
                        Labels::None => {}
                    }
                }
                let one = parse_with::<f64>(Path::new("p"), bytes, &opts, Some(1));
                let three = parse_with::<f64>(Path::new("p"), bytes, &opts, Some(3));
                match (one, three) {
                    (Ok(a), Ok(b)) => assert_eq!(a, b),
                    (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                    (a, b) => panic!("1 thread: {a:?}\n3 threads: {b:?}"),
                }
            }
        }

        /// Read in blocks of `block` bytes cut into `threads` stretches, `bytes` give what
        /// `parse` gives, with every configuration.
        fn same_in_blocks(bytes: &[u8], block: usize, threads: usize) {
            for opts in configs() {
                let whole = parse::<f64>(Path::new("p"), bytes, &opts);
                let blocks =
                    parse_blocks::<f64>(Path::new("p"), bytes, &opts, block, Some(threads));
                match (whole, blocks) {
                    (Ok(a), Ok(b)) => assert_eq!(a, b),
                    (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                    (a, b) => panic!("parse: {a:?}\nblocks of {block}: {b:?}"),
                }
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 700, ..ProptestConfig::default() })]

            #[test]
            fn the_plain_reader_agrees_with_the_csv_crate(
                header in "[abc,]{1,6}",
                chunk in proptest::collection::vec(
                    prop_oneof![
                        Just(b','), Just(b'\n'), Just(b'\r'), Just(b' '), Just(b'.'),
                        Just(b'1'), Just(b'x'), any::<u8>().prop_filter("no quote", |b| *b != b'"'),
                    ],
                    0..120,
                ),
                first_line in 1u64..1000,
            ) {
                let name = Path::new("p");
                for opts in configs() {
                    let mut rdr = csv_reader(header.as_bytes(), b',');
                    let mut rec = csv::ByteRecord::new();
                    prop_assert!(rdr.read_byte_record(&mut rec).unwrap());
                    let Ok(layout) = layout(name, &rec, 1, &opts) else {
                        continue;
                    };
                    let csv = parse_rows_csv::<f64>(name, &chunk, first_line, &layout);
                    let plain = parse_rows_plain::<f64>(name, &chunk, first_line, &layout);
                    match (csv, plain) {
                        (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
                        (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
                        (a, b) => prop_assert!(false, "csv: {:?}\nplain: {:?}", a, b),
                    }
                }
            }

            #[test]
            fn tiny_blocks_agree_with_parse(
                text in "(\u{feff})?[\r\n]{0,3}([abc ,\"]{0,6}\r?\n){0,2}([0-9 ,.\"\r\nxk]{0,12}(\r?\n|\r)?){0,10}",
                block in 1usize..24,
                threads in 1usize..5,
            ) {
                same_in_blocks(text.as_bytes(), block, threads);
            }

            #[test]
            fn tiny_blocks_agree_with_parse_on_any_bytes(
                bytes in proptest::collection::vec(
                    prop_oneof![Just(b'"'), Just(b','), Just(b'\n'), Just(b'\r'), Just(b'1'), any::<u8>()],
                    0..200,
                ),
                block in 1usize..40,
                threads in 1usize..5,
            ) {
                same_in_blocks(&bytes, block, threads);
            }

            #[test]
            fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
                parse_all(&bytes);
                let mut gz = vec![0x1f, 0x8b];
                gz.extend_from_slice(&bytes);
                if let Ok(plain) = gunzip_if_gzip(Path::new("p"), gz) {
                    parse_all(&plain);
                }
            }

            #[test]
            fn almost_csv_never_panics(
                text in "(\u{feff})?([abc ,\"]{0,6}\r?\n){0,2}([0-9 ,.eE+\\-\"xnaif]{0,12}(\r?\n|\r)?){0,8}"
            ) {
                parse_all(text.as_bytes());
            }

            #[test]
            fn the_fast_path_agrees_with_std(text in "[+-]?[0-9]{0,12}(\\.[0-9]{0,12})?") {
                let std32 = text.parse::<f32>().ok();
                let std64 = text.parse::<f64>().ok();
                if let Some(v) = fast_decimal::<f32>(text.as_bytes()) {
                    prop_assert_eq!(Some(v.to_bits()), std32.map(f32::to_bits));
                }
                if let Some(v) = fast_decimal::<f64>(text.as_bytes()) {
                    prop_assert_eq!(Some(v.to_bits()), std64.map(f64::to_bits));
                }
                prop_assert_eq!(number::<f32>(text.as_bytes()).ok().map(f32::to_bits), std32.map(f32::to_bits));
                prop_assert_eq!(number::<f64>(text.as_bytes()).ok().map(f64::to_bits), std64.map(f64::to_bits));
            }

            #[test]
            fn the_crate_agrees_with_std_with_exponents(
                text in "[+-]?[0-9]{0,20}(\\.[0-9]{0,20})?([eE][+-]?[0-9]{1,3})?"
            ) {
                // Every finite value std reads, the fast paths read to the same bits (f32
                // straight from the text, never through f64); everything else is refused.
                let std32 = text.parse::<f32>().ok().filter(|v| v.is_finite());
                let std64 = text.parse::<f64>().ok().filter(|v| v.is_finite());
                prop_assert_eq!(fast_decimal::<f32>(text.as_bytes()).map(f32::to_bits), std32.map(f32::to_bits));
                prop_assert_eq!(fast_decimal::<f64>(text.as_bytes()).map(f64::to_bits), std64.map(f64::to_bits));
                let field = format!("{text},7");
                prop_assert_eq!(
                    fast_field::<f32>(field.as_bytes(), 0).map(|(v, end)| (v.to_bits(), end)),
                    std32.map(|v| (v.to_bits(), text.len()))
                );
                prop_assert_eq!(
                    fast_field::<f64>(field.as_bytes(), 0).map(|(v, end)| (v.to_bits(), end)),
                    std64.map(|v| (v.to_bits(), text.len()))
                );
            }

            #[test]
            fn well_formed_rows_parse_back(rows in proptest::collection::vec((-1e6f64..1e6, -1e6f64..1e6, 0u8..3), 1..20)) {
                let mut text = String::from("a,b,c\n");
                for (a, b, c) in &rows {
                    text.push_str(&format!("{a},{b},k{c}\n"));
                }
                let opts = LoadOptions::new(vec![LabelSpec::Last], LabelKind::Classes);
                let f = parse::<f64>(Path::new("p"), text.as_bytes(), &opts).unwrap();
                for (i, (a, b, c)) in rows.iter().enumerate() {
                    prop_assert_eq!(f.x[[i, 0]], *a);
                    prop_assert_eq!(f.x[[i, 1]], *b);
                    prop_assert_eq!(all_lines(&f)[i], i as u64 + 2);
                    match &f.labels {
                        Labels::Classes(cl) => prop_assert_eq!(cl.name_of(i).unwrap_or("?"), &format!("k{c}")),
                        _ => prop_assert!(false),
                    }
                }
            }
        }
    }
}
