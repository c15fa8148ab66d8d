//! Shell completions and man pages, generated from the one clap definition: the bash script
//! patched for clap-rs/clap#6421, one man page per subcommand with examples and exit codes.

use std::path::Path;

use clap::CommandFactory;

use crate::cli::args::Cli;
use crate::{Error, Result};

/// The completion script for `shell`.
///
/// clap_complete ≤ 4.6.11 (the newest on crates.io) names the bash case arms of a hyphenated
/// binary's subcommands `mlp__subcmd__train__subcmd__predict` while the loop that walks the
/// words sets `cmd="mlp__train__subcmd__predict"`, so nothing completes after a subcommand
/// (clap-rs/clap#6421, fixed upstream by #6428 but not yet released). The arms are renamed
/// to what the loop sets; once a fixed release is used the replacement finds nothing.
pub fn script(shell: clap_complete::Shell) -> String {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "mlp-train", &mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    match shell {
        clap_complete::Shell::Bash => text.replace("mlp__subcmd__train__", "mlp__train__"),
        _ => text,
    }
}

/// The subcommands that have a page, as `mlp-train man SUBCOMMAND` takes them (and the shell
/// completes them); a test keeps the list equal to the subcommands.
pub const PAGES: [&str; 10] = [
    "train",
    "predict",
    "eval",
    "gradcheck",
    "explain",
    "graph",
    "completions",
    "man",
    "sweep",
    "export",
];

/// The root command as the man pages describe it (no `help` subcommand: it has no page).
fn man_command() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// A page whose footer names the program and version (not just `predict`). `--help`'s
/// epilogue (examples, exit codes) is left out: the page has its own sections for them.
fn man(cmd: clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(cmd.after_help(None::<&'static str>))
        .source(format!("mlp-train {}", env!("CARGO_PKG_VERSION")))
}

/// The page of `cmd` (the root, or the subcommand `sub`): clap_mangen's sections, then
/// EXAMPLES, EXIT STATUS and SEE ALSO before VERSION.
fn render(cmd: clap::Command, sub: Option<&str>) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    man(cmd).render(&mut buf)?;
    let page = String::from_utf8_lossy(&buf).into_owned();
    let extra = crate::cli::examples::man_sections(sub, &PAGES);
    let at = page.find("\n.SH VERSION\n").map_or(page.len(), |i| i + 1);
    Ok(format!("{}{extra}{}", &page[..at], &page[at..]).into_bytes())
}

/// The man page of `page` (a subcommand's name or alias), or the main page.
pub fn man_page(page: Option<&str>) -> Result<Vec<u8>> {
    let root = man_command();
    let cmd = match page {
        None => root,
        Some(name) => root.find_subcommand(name).cloned().ok_or_else(|| {
            let names: Vec<&str> = root.get_subcommands().map(|s| s.get_name()).collect();
            Error::flag(
                "man SUBCOMMAND",
                format!("must be one of {}", names.join(", ")),
                name,
            )
        })?,
    };
    render(cmd, page).map_err(|e| Error::io("-", e))
}

/// Writes mlp-train.1 and mlp-train-SUBCOMMAND.1 for every subcommand into `dir`
/// (atomically, each), and returns the file names written.
pub fn write_man_pages(dir: &Path) -> Result<Vec<String>> {
    if !dir.is_dir() {
        return Err(Error::flag(
            "--dir",
            "must be an existing folder",
            dir.display(),
        ));
    }
    let root = man_command();
    let mut pages = vec![root.clone()];
    pages.extend(root.get_subcommands().cloned());
    let mut written = Vec::new();
    for cmd in pages {
        let name = man(cmd.clone()).get_filename();
        let sub = (cmd.get_name() != root.get_name()).then(|| cmd.get_name().to_string());
        let buf = render(cmd, sub.as_deref()).map_err(|e| Error::io(dir.join(&name), e))?;
        crate::cli::output::write_atomic(&dir.join(&name), &buf)?;
        written.push(name);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `man SUBCOMMAND` takes (and completes) exactly the subcommands that have a page.
    #[test]
    fn pages_are_the_subcommands() {
        let root = man_command();
        let names: Vec<&str> = root.get_subcommands().map(|s| s.get_name()).collect();
        assert_eq!(names, PAGES);
    }
}
