//! mlp-train's entry point: parse the flags, hand them to the cli layer, and map every error
//! to one `mlp-train: error:` line and a documented exit code.

use std::io::ErrorKind::BrokenPipe;
use std::io::IsTerminal;
use std::process::ExitCode;

use mlp_train::cli::dispatch;
use mlp_train::cli::streams::{error_line, say, Failure};
use mlp_train::cli::usage;
use mlp_train::error::exit;
use mlp_train::train::interrupt::{self, OnSignal};

fn main() -> ExitCode {
    mlp_train::train::limits::tune_allocator();
    if let Err(e) = mlp_train::train::limits::room_for_the_signal_thread() {
        say(&error_line(&e));
        return code(e.exit_code());
    }
    handle_signals();
    if usage::is_bare() {
        // `mlp-train` alone: the short help on stderr, exit 2 (as `rg` does).
        say(usage::short_help(std::io::stderr().is_terminal()).trim_end());
        return code(mlp_train::error::exit::USAGE);
    }
    let cli = match usage::parse_args() {
        Ok(cli) => cli,
        Err(e) => return code(usage::clap_error(e)),
    };
    match dispatch::run(cli) {
        Ok(c) => code(c),
        // A closed pipe under the human summary (`mlp-train … | head -c1`) is not an error; on a
        // data output (`--save - | head -c1`) it is (`Output::write` says so, exit 5).
        Err(Failure::Lib(mlp_train::Error::Io { source, .. })) if source.kind() == BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(Failure::Io(e)) if e.kind() == BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Lib(e)) => {
            say(&error_line(&e));
            code(e.exit_code())
        }
        Err(Failure::Io(e)) => {
            say(&format!("mlp-train: error: writing the output: {e}"));
            code(exit::IO)
        }
    }
}

fn code(c: i32) -> ExitCode {
    ExitCode::from(c as u8)
}

/// SIGINT, SIGTERM (and SIGHUP): while a training loop runs, the first one lets it finish its
/// minibatch, then the run is evaluated and written by the rule of an interrupted run (see
/// `run::train_command`) and exits 130. In every other phase (loading, a stalled stdin,
/// evaluating, predicting, staging the outputs, a second signal) the process exits 130 at
/// once: a commit in progress finishes first (all its renames), the temporaries of outputs
/// still being staged are removed, so the old set of files stays or the whole new one is in
/// place, and no partial or temporary file is left.
fn handle_signals() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    // The thread is waited for until it runs: std maps its alternate signal stack as it
    // starts, and a failure there aborts the process; started before anything else is
    // allocated (`limits::room_for_the_signal_thread` checked the room), it cannot meet a
    // limit that the main thread's allocations filled meanwhile.
    let (started, running) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let _ = started.send(());
            for _ in signals.forever() {
                if interrupt::on_signal() == OnSignal::ExitNow {
                    let _no_more_writes = mlp_train::cli::output::stop_writes();
                    // Raw write: the main thread may hold stderr's lock (a progress bar), whose
                    // line is erased first on a terminal.
                    // SAFETY: isatty only inspects file descriptor 2.
                    let msg: &[u8] = if unsafe { libc::isatty(2) } == 1 {
                        b"\r\x1b[2Kmlp-train: interrupted\n"
                    } else {
                        b"mlp-train: interrupted\n"
                    };
                    // SAFETY: writes a valid buffer to file descriptor 2.
                    let _ = unsafe { libc::write(2, msg.as_ptr().cast(), msg.len()) };
                    std::process::exit(exit::INTERRUPTED);
                }
            }
        });
    if spawned.is_ok() {
        let _ = running.recv();
    }
}
