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
