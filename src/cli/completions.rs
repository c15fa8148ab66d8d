//! Shell completions and man pages, generated from the one clap definition: the bash script
//! patched for clap-rs/clap#6421, one man page per subcommand.

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

/// The root command as the man pages describe it (no `help` subcommand: it has no page).
fn man_command() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// A page whose footer names the program and version (not just `predict`).
fn man(cmd: clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(cmd).source(format!("mlp-train {}", env!("CARGO_PKG_VERSION")))
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
    let mut buf = Vec::new();
    man(cmd).render(&mut buf).map_err(|e| Error::io("-", e))?;
    Ok(buf)
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
        let man = man(cmd);
        let name = man.get_filename();
        let mut buf = Vec::new();
        man.render(&mut buf)
            .map_err(|e| Error::io(dir.join(&name), e))?;
        crate::cli::output::write_atomic(&dir.join(&name), &buf)?;
        written.push(name);
    }
    Ok(written)
}
