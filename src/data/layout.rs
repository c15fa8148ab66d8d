//! The header: names (Unicode-trimmed, unique, `field j` for an empty one), the role of each
//! column against `--label`/`--ignore`, the delimiter hint, a test file's features vs training's.

use std::collections::HashMap;
use std::path::Path;

use super::labels::resolve_labels;
use super::options::{LabelKind, LabelSpec, LoadOptions};
use super::shown::{list, shown, shown_str};
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
    let (label_cols, mut notes) = resolve_labels(name, &columns, opts).map_err(hint)?;
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
            let what = spec_shown(spec);
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
    let feature_names: Vec<String> = columns
        .iter()
        .zip(&roles)
        .filter(|(_, r)| **r == Role::Feature)
        .map(|(c, _)| c.clone())
        .collect();
    // Categorical columns alone are features enough (they become the model's inputs).
    let categorical = opts.text.iter().any(|(_, flag)| *flag == "--categorical");
    if feature_names.is_empty() && !categorical {
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
        text_names,
        kind: opts.kind,
        delimiter: opts.delimiter,
        missing: opts.missing,
        notes,
    })
}

/// Marks the columns of `opts.text` as text columns (numbered in file order); their names.
fn text_roles(
    name: &Path,
    columns: &[String],
    roles: &mut [Role],
    opts: &LoadOptions,
    notes: &mut Vec<String>,
) -> Result<Vec<String>> {
    if opts.text.is_empty() {
        return Ok(Vec::new());
    }
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
            Some(role) => *role = Role::Text(0),
            None => {}
        }
    }
    let mut text_names = Vec::new();
    for (role, column) in roles.iter_mut().zip(columns) {
        if let Role::Text(t) = role {
            *t = text_names.len();
            text_names.push(column.clone());
        }
    }
    Ok(text_names)
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

/// Feature columns must be `expected`, same names, same order.
pub(super) fn check_features(name: &Path, expected: &[String], found: &[String]) -> Result<()> {
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
