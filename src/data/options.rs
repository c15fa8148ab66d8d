//! What to read from a CSV file besides the features: which columns hold labels, how they
//! are read, which columns are skipped, the delimiter, and the features a test file must have.

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
    /// A number given on the command line (`--label 0`, `--ignore 1`): the column with this
    /// header name when there is one (the name wins), else the column at this position.
    NameOrIndex(String, usize),
}

impl LabelSpec {
    /// A `--label`/`--ignore` value: a number is a name or else a 0-based index, anything
    /// else a header name; trimmed of Unicode whitespace, as header names are.
    pub fn parse(value: &str) -> LabelSpec {
        let value = value.trim();
        match value.parse::<usize>() {
            Ok(i) => LabelSpec::NameOrIndex(value.to_string(), i),
            Err(_) => LabelSpec::Name(value.to_string()),
        }
    }

    /// The 0-based position of the column this spec selects among `columns` (None when
    /// there is none, or for `Absent`), and, when a number names one column and indexes
    /// another, a note for `flag` saying which was taken: the one so named.
    pub fn find(&self, columns: &[String], flag: &str) -> (Option<usize>, Option<String>) {
        let named = |n: &str| columns.iter().position(|c| c.as_str() == n.trim());
        match self {
            LabelSpec::Last => (columns.len().checked_sub(1), None),
            LabelSpec::Name(n) => (named(n), None),
            LabelSpec::Index(j) => (Some(*j).filter(|&j| j < columns.len()), None),
            LabelSpec::Absent => (None, None),
            LabelSpec::NameOrIndex(n, j) => match named(n) {
                Some(k) if k != *j && *j < columns.len() => {
                    use super::shown::shown_str as shown;
                    let note = format!(
                        "{flag} {}: took the column named `{}` (index {k}), not the column at \
                         index {j} (`{}`): a header name wins over a position; to take that \
                         one, give its name",
                        shown(n),
                        shown(n),
                        shown(&columns[*j])
                    );
                    (Some(k), Some(note))
                }
                Some(k) => (Some(k), None),
                None => (Some(*j).filter(|&j| j < columns.len()), None),
            },
        }
    }
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
    /// When set, the feature columns are these (a model's), found by name wherever they are
    /// in the file and read in this order; other columns are skipped (named in a warning);
    /// one missing is an error.
    pub expected_features: Option<&'a [String]>,
    /// The label column(s) may be missing from the header; `labels` is then `Labels::None`.
    /// A `Name` not in the header or an `Index` past its end means absent; with
    /// `expected_features` set, a header equal to the features alone also means absent.
    pub optional_label: bool,
    /// The byte between fields: `,` unless `--delimiter` says otherwise.
    pub delimiter: u8,
    /// Columns skipped altogether (ID or text columns), by name or 0-based index.
    pub ignore: Vec<LabelSpec>,
    /// Columns read as text (`Frame::text`, in the order first named here) instead of numbers,
    /// each with the flag that asked for it (for messages). Each column is read once however
    /// often it is named; a column also in `ignore` is read as text all the same; a feature of
    /// `expected_features` is read as both. None asked: no cost to the parser.
    pub text: Vec<(LabelSpec, &'static str)>,
    /// `--features`: the feature columns, in this order (empty: every column that is not a
    /// label, ignored or text). Ignored when `expected_features` is set.
    pub features: Vec<LabelSpec>,
    /// `--no-header`: the first record is data; the columns are named `field 1`, `field 2`, …
    /// (1-based, as messages name unnamed columns), so `--label 4` is the fifth column.
    pub no_header: bool,
    /// Blank feature fields (empty, or one of `encode::MISSING_TOKENS`) are read as NaN, for
    /// imputation (`--impute`), instead of being refused.
    pub missing: bool,
    /// Which arrays of a `.npz` file are the features and the label (`--npz-x`, `--npz-y`).
    pub npz: NpzNames,
}

/// The arrays of a `.npz` file read as a table: `x` (2-D, rows × features, read as columns
/// `x0`, `x1`, …) and `y` (1-D, one label per row, read as a last column named after it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpzNames {
    pub x: String,
    pub y: String,
}

impl Default for NpzNames {
    /// `X` and `y`, as scikit-learn names them.
    fn default() -> Self {
        NpzNames {
            x: "X".to_string(),
            y: "y".to_string(),
        }
    }
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
            text: Vec::new(),
            features: Vec::new(),
            no_header: false,
            missing: false,
            npz: NpzNames::default(),
        }
    }
}
