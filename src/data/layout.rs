//! The header: names (Unicode-trimmed, unique, `field j` for an empty one), the role of each
//! column against `--label`/`--ignore`, the delimiter hint, a test file's features vs training's.

use std::collections::HashMap;
use std::path::Path;

use super::labels::resolve_labels;
use super::options::{LabelKind, LabelSpec, LoadOptions};
use super::shown::{did_you_mean, list, shown, shown_str};
use crate::{Error, Result};

/// What a column of the file becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Feature,
    /// Skipped (`--ignore`).
    Ignored,
    /// The k-th label column (k indexes `LoadOptions::labels` after dropping `Absent`).
    Label(usize),
    /// The t-th text column (`LoadOptions::text`, in file order): kept verbatim, not a number.
    Text(usize),
    /// A feature whose text is also kept as the t-th text column (`predict --keep` of a
    /// column the model uses).
    FeatureText(usize),
}

impl Role {
    /// Whether the column's numbers go into `x`.
    pub(super) fn is_feature(self) -> bool {
        matches!(self, Role::Feature | Role::FeatureText(_))
    }
}

/// What the header says: names, and the role of each column.
pub(super) struct Layout {
    /// Header names, `field j` (1-based) for an empty one.
    pub(super) columns: Vec<String>,
    pub(super) roles: Vec<Role>,
    /// Names of the feature columns, in file order.
    pub(super) feature_names: Vec<String>,
    /// Names of the label columns, in the order of `LoadOptions::labels`.
    pub(super) label_names: Vec<String>,
    /// Names of the text columns (`LoadOptions::text`), in file order.
    pub(super) text_names: Vec<String>,
    /// Where each feature of `x` comes from: `order[i]` is the file-order feature read
    /// into column i (None: file order). Set when `expected_features` or `features` asks
    /// for another order.
    pub(super) order: Option<Vec<usize>>,
    /// d: the number of feature columns.
    pub(super) d: usize,
    /// k: the number of label columns read (0 when absent or not asked for).
    pub(super) k: usize,
    pub(super) kind: LabelKind,
    /// The byte between fields.
    pub(super) delimiter: u8,
    /// Blank feature fields are read as NaN (`LoadOptions::missing`).
    pub(super) missing: bool,
    /// What the command line meant, where it could mean two things (`--ignore 1` on a header
    /// with a column named `1`): warnings for the frame.
    pub(super) notes: Vec<String>,
}

/// The header record → names and the role of each column, checked against `opts`.
pub(super) fn layout(
    name: &Path,
    rec: &csv::ByteRecord,
    header_line: u64,
    opts: &LoadOptions,
) -> Result<Layout> {
    let (columns, unnamed) = if opts.no_header {
        let n = rec.len();
        (
            (1..=n).map(|j| format!("field {j}")).collect(),
            vec![true; n],
        )
    } else {
        header_names(name, rec, header_line)?
    };
    let looks_like_data = !opts.no_header
        && rec
            .iter()
            .all(|f| super::numbers::number::<f64>(f.trim_ascii()).is_ok());
    check_unique(name, &columns, &unnamed, header_line).map_err(|e| match e {
        Error::DataAt {
            path,
            line,
            column,
            msg,
        } if looks_like_data => Error::DataAt {
            msg: format!(
                "{msg}; the first line looks like data: if the file has no header, pass \
                 --no-header"
            ),
            path,
            line,
            column,
        },
        e => e,
    })?;
    let mut header_notes = Vec::new();
    if looks_like_data {
        header_notes.push(format!(
            "{}: the first line looks like data (every field is a number); if the file has no \
             header, pass --no-header",
            name.display()
        ));
    }
    let hint = |e: Error| match e {
        Error::Data { path, msg } => Error::Data {
            msg: format!("{msg}{}", delimiter_hint(&columns, opts.delimiter)),
            path,
        },
        e => e,
    };

    // Which columns are labels, in the order asked for; None when optional and absent.
    let (label_cols, mut notes) = resolve_labels(name, &columns, opts).map_err(hint)?;
    notes.splice(0..0, header_notes);
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
        if *spec == LabelSpec::Absent {
            continue;
        }
        let (j, note) = spec.find(&columns, "--ignore");
        notes.extend(note);
        let Some(j) = j else {
            let what = match spec {
                LabelSpec::Name(n) => format!("{}{}", spec_shown(spec), did_you_mean(n, &columns)),
                _ => spec_shown(spec),
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
    let text_names = text_roles(name, &columns, &mut roles, opts, &mut notes).map_err(hint)?;
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
    // The features asked for (the model's, or --features), in the order asked: their columns.
    let wanted = match opts.expected_features {
        Some(expected) => {
            Some(model_features(name, expected, &columns, &mut roles, &mut notes).map_err(hint)?)
        }
        None if !opts.features.is_empty() => Some(
            chosen_features(name, &opts.features, &columns, &mut roles, &mut notes)
                .map_err(hint)?,
        ),
        None => None,
    };
    let file_features: Vec<usize> = (0..columns.len())
        .filter(|&j| roles.get(j).is_some_and(|r| r.is_feature()))
        .collect();
    let feature_names: Vec<String> = file_features
        .iter()
        .filter_map(|&j| columns.get(j).cloned())
        .collect();
    let order = wanted.filter(|w| *w != file_features).map(|w| {
        w.iter()
            .filter_map(|j| file_features.iter().position(|f| f == j))
            .collect()
    });
    // Categorical columns alone are features enough (they become the model's inputs).
    let categorical = opts.text.iter().any(|(_, flag)| *flag == "--categorical");
    if feature_names.is_empty() && !categorical {
        return Err(hint(Error::data(
            name,
            format!(
                "has no feature columns: every column ({}) is a label{}",
                list(&columns),
                if opts.ignore.is_empty() && opts.text.is_empty() {
                    ""
                } else {
                    " or ignored"
                }
            ),
        )));
    }
    Ok(Layout {
        d: feature_names.len(),
        k: label_names.len(),
        columns,
        roles,
        feature_names,
        label_names,
        text_names,
        order,
        kind: opts.kind,
        delimiter: opts.delimiter,
        missing: opts.missing,
        notes,
    })
}

/// Marks the columns of `opts.text` as text columns, numbered in the order first named;
/// their names.
fn text_roles(
    name: &Path,
    columns: &[String],
    roles: &mut [Role],
    opts: &LoadOptions,
    notes: &mut Vec<String>,
) -> Result<Vec<String>> {
    let mut text_names = Vec::new();
    for (spec, flag) in &opts.text {
        let (j, note) = spec.find(columns, flag);
        notes.extend(note);
        let Some(j) = j else {
            return Err(Error::data(
                name,
                format!(
                    "{flag}: no column {}; the columns are: {}",
                    spec_shown(spec),
                    list(columns)
                ),
            ));
        };
        match roles.get_mut(j) {
            Some(Role::Label(_)) => {
                return Err(Error::data(
                    name,
                    format!(
                        "column `{}` is the label, and {flag} names it too",
                        shown_str(columns.get(j).map_or("", String::as_str))
                    ),
                ))
            }
            Some(role @ (Role::Feature | Role::Ignored)) => {
                *role = Role::Text(text_names.len());
                text_names.push(columns.get(j).cloned().unwrap_or_default());
            }
            _ => {} // already text
        }
    }
    Ok(text_names)
}

/// The model's feature columns, found by name wherever they are in the file: their
/// positions, in the model's order. Every other column that would be a feature is skipped,
/// and named once in a note; a column the model needs and the file lacks is an error, as is
/// one that --ignore skips or that is the label.
fn model_features(
    name: &Path,
    expected: &[String],
    columns: &[String],
    roles: &mut [Role],
    notes: &mut Vec<String>,
) -> Result<Vec<usize>> {
    let mut wanted = Vec::with_capacity(expected.len());
    let mut missing = Vec::new();
    for e in expected {
        match columns.iter().position(|c| c == e) {
            Some(j) => wanted.push(j),
            None => missing.push(e.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(Error::data(
            name,
            format!(
                "the model's feature column{} {} {} not in the file; the columns are: {}",
                if missing.len() == 1 { "" } else { "s" },
                list(&missing),
                if missing.len() == 1 { "is" } else { "are" },
                list(columns)
            ),
        ));
    }
    for &j in &wanted {
        let column = shown_str(columns.get(j).map_or("", String::as_str));
        match roles.get(j).copied() {
            Some(Role::Label(_)) => {
                return Err(Error::data(
                    name,
                    format!("column `{column}` is a feature of the model, not a label"),
                ))
            }
            Some(Role::Ignored) => {
                return Err(Error::data(
                    name,
                    format!(
                        "--ignore names `{column}`, a feature column of the model: the model \
                         needs it"
                    ),
                ))
            }
            Some(Role::Text(t)) => roles[j] = Role::FeatureText(t),
            _ => {}
        }
    }
    let mut extra = Vec::new();
    for (j, role) in roles.iter_mut().enumerate() {
        if *role == Role::Feature && !wanted.contains(&j) {
            *role = Role::Ignored;
            extra.extend(columns.get(j).cloned());
        }
    }
    if !extra.is_empty() {
        notes.push(format!(
            "{}: the model does not use column{} {}: ignored",
            name.display(),
            if extra.len() == 1 { "" } else { "s" },
            list(&extra)
        ));
    }
    Ok(wanted)
}

/// The columns of `--features`, in the order given (each once): their positions. Every
/// other column that would be a feature is skipped; a text column stays text (an encoder's).
fn chosen_features(
    name: &Path,
    specs: &[LabelSpec],
    columns: &[String],
    roles: &mut [Role],
    notes: &mut Vec<String>,
) -> Result<Vec<usize>> {
    let mut wanted = Vec::with_capacity(specs.len());
    let mut chosen = vec![false; columns.len()];
    for spec in specs {
        let (j, note) = spec.find(columns, "--features");
        notes.extend(note);
        let Some(j) = j else {
            return Err(Error::data(
                name,
                format!(
                    "--features: no column {}; the columns are: {}",
                    spec_shown(spec),
                    list(columns)
                ),
            ));
        };
        let column = shown_str(columns.get(j).map_or("", String::as_str));
        match roles.get(j) {
            Some(Role::Label(_)) => {
                return Err(Error::data(
                    name,
                    format!("column `{column}` is the label, and --features names it too"),
                ))
            }
            Some(Role::Ignored) => {
                return Err(Error::data(
                    name,
                    format!("column `{column}` is named by both --features and --ignore"),
                ))
            }
            _ => {}
        }
        if let Some(c) = chosen.get_mut(j) {
            if !*c && roles.get(j) == Some(&Role::Feature) {
                wanted.push(j);
            }
            *c = true;
        }
    }
    for (role, c) in roles.iter_mut().zip(&chosen) {
        if *role == Role::Feature && !c {
            *role = Role::Ignored;
        }
    }
    Ok(wanted)
}

/// A column spec as a message names it: `` `colour` `` or `index 3 (nor one so named)`.
pub(super) fn spec_shown(spec: &LabelSpec) -> String {
    match spec {
        LabelSpec::Index(j) | LabelSpec::NameOrIndex(_, j) => {
            format!("index {j} (nor one so named)")
        }
        LabelSpec::Name(n) => format!("`{}`", shown_str(n)),
        _ => "it".to_string(),
    }
}

/// When the header came out as one column whose name holds another usual delimiter, the
/// advice to name it: `; the header is one column …: pass --delimiter ';'`. Empty otherwise.
pub(super) fn delimiter_hint(columns: &[String], delim: u8) -> String {
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

/// The header's names, trimmed, `field j` (1-based) for an empty one; and which were empty.
pub(super) fn header_names(
    name: &Path,
    rec: &csv::ByteRecord,
    line: u64,
) -> Result<(Vec<String>, Vec<bool>)> {
    let mut columns = Vec::with_capacity(rec.len());
    let mut unnamed = Vec::with_capacity(rec.len());
    for (j, field) in rec.iter().enumerate() {
        // Trimmed of Unicode whitespace (a no-break space from a spreadsheet too), as the
        // names of --label, --ignore and a model file are.
        let text = std::str::from_utf8(field)
            .map_err(|_| {
                let msg = format!("the header name `{}` is not valid UTF-8", shown(field));
                Error::data_at(name, line, format!("field {}", j + 1), msg)
            })?
            .trim();
        unnamed.push(text.is_empty());
        columns.push(if text.is_empty() {
            format!("field {}", j + 1)
        } else {
            text.to_string()
        });
    }
    Ok((columns, unnamed))
}

pub(super) fn check_unique(
    name: &Path,
    columns: &[String],
    unnamed: &[bool],
    line: u64,
) -> Result<()> {
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
