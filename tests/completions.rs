//! Shell completion and man pages where users meet them: the bash script sourced in a real
//! bash and asked to complete, every man page referenced by another one generated and rendered.

mod common;

use std::process::Command;

use common::{ok_stdout, run};

/// Sources `mlp-train completions bash` in a real bash, completes the last word of `words`,
/// and returns the candidates (one per line).
fn complete_in_bash(words: &[&str]) -> Option<Vec<String>> {
    if Command::new("bash").arg("--version").output().is_err() {
        eprintln!("SKIPPED: bash is not installed (the CI's .ci/run installs it)");
        return None;
    }
    let script = ok_stdout(&run(&["completions", "bash"]));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mlp-train.bash");
    std::fs::write(&path, script).unwrap();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let cword = words.len() - 1;
    let prev = if cword > 0 { words[cword - 1] } else { "" };
    // The function's name is whatever `complete -p` says is registered for mlp-train.
    let program = format!(
        r#"source '{script}'
f=$(complete -p mlp-train | sed -E 's/.*-F ([^ ]+).*/\1/')
COMP_WORDS=({words})
COMP_CWORD={cword}
COMP_LINE="${{COMP_WORDS[*]}}"
COMP_POINT=${{#COMP_LINE}}
"$f" mlp-train '{cur}' '{prev}'
printf '%s\n' "${{COMPREPLY[@]}}"
"#,
        script = path.display(),
        words = quoted.join(" "),
        cur = words[cword],
    );
    let out = Command::new("bash")
        .arg("--norc")
        .arg("-c")
        .arg(program)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bash failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

#[test]
fn bash_completes_an_option_after_a_subcommand() {
    // clap-rs/clap#6421: nothing completed after a subcommand of a hyphenated binary.
    let Some(got) = complete_in_bash(&["mlp-train", "predict", "--pro"]) else {
        return;
    };
    assert_eq!(got, ["--proba"], "predict --pro<TAB>");
    let got = complete_in_bash(&["mlp-train", "gradcheck", "--qu"]).unwrap();
    assert_eq!(got, ["--quiet"], "gradcheck --qu<TAB>");
    // The alias reaches the same options.
    let got = complete_in_bash(&["mlp-train", "eval", "--mod"]).unwrap();
    assert_eq!(got, ["--model"], "eval --mod<TAB>");
}

#[test]
fn bash_completes_the_pages_of_man() {
    // `mlp-train man <TAB>`: the subcommands that have a page.
    let Some(mut got) = complete_in_bash(&["mlp-train", "man", ""]) else {
        return;
    };
    got.retain(|w| !w.starts_with('-'));
    got.sort();
    let mut pages = vec![
        "completions",
        "eval",
        "explain",
        "export",
        "gradcheck",
        "graph",
        "man",
        "predict",
        "sweep",
        "train",
    ];
    pages.sort();
    assert_eq!(got, pages, "man <TAB>");
    let got = complete_in_bash(&["mlp-train", "man", "pr"]).unwrap();
    assert_eq!(got, ["predict"], "man pr<TAB>");
}

#[test]
fn bash_completes_top_level_options_and_values() {
    let Some(got) = complete_in_bash(&["mlp-train", "--lamb"]) else {
        return;
    };
    assert_eq!(got, ["--lambda"]);
    let got = complete_in_bash(&["mlp-train", "--activation", "s"]).unwrap();
    assert_eq!(got, ["sigmoid"]);
}

/// Every `mlp-train-…(1)` the pages mention.
fn references(page: &str) -> Vec<String> {
    let mut refs = Vec::new();
    let text = page.replace("\\-", "-");
    let mut rest = text.as_str();
    while let Some(i) = rest.find("mlp-train-") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .unwrap_or(tail.len());
        if tail[end..].starts_with("(1)") {
            refs.push(tail[..end].to_string());
        }
        rest = &tail[end..];
    }
    refs.sort();
    refs.dedup();
    refs
}

#[test]
fn every_referenced_man_page_exists_and_renders() {
    let main = ok_stdout(&run(&["man"]));
    let refs = references(&main);
    assert!(
        refs.contains(&"mlp-train-predict".to_string()),
        "the main page names mlp-train-predict(1): {refs:?}"
    );
    assert!(!refs.contains(&"mlp-train-help".to_string()), "{refs:?}");
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["man", "--dir", dir.path().to_str().unwrap()]);
    ok_stdout(&out);
    let man_ok = Command::new("man").arg("--version").output().is_ok();
    if !man_ok {
        eprintln!("SKIPPED rendering: man is not installed (the CI's .ci/run installs man-db)");
    }
    for r in std::iter::once("mlp-train".to_string()).chain(refs) {
        let sub = r.strip_prefix("mlp-train-");
        // The page printed for the subcommand is the one written into the folder.
        let printed = match sub {
            Some(s) => ok_stdout(&run(&["man", s])),
            None => main.clone(),
        };
        let file = dir.path().join(format!("{r}.1"));
        let written = std::fs::read_to_string(&file).unwrap_or_else(|_| panic!("{r}.1 written"));
        assert_eq!(printed, written, "{r}");
        assert!(
            printed.contains(&format!(".TH {r} 1")),
            "{r}: title line\n{printed}"
        );
        if man_ok {
            let out = Command::new("man")
                .arg("-l")
                .arg(&file)
                .env("MANPAGER", "cat")
                .env("MANWIDTH", "80")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "man -l {r}.1");
            assert!(
                text.contains("NAME") && text.contains("OPTIONS"),
                "{r}: {text}"
            );
        }
    }
    // eval is a subcommand of its own (it prints the report alone), with its own page; an
    // unknown name is a flag error.
    assert!(ok_stdout(&run(&["man", "eval"])).contains(".TH mlp-train-eval 1"));
    let out = run(&["man", "bogus"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stderr(&out).contains("predict"));
}
