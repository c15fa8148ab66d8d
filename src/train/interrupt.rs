//! Ctrl-C and SIGTERM: the training loop stops cooperatively at its next minibatch (or slice
//! of a large one's products); in every other phase the process exits at once.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

/// Set by a signal; the training loop polls it between minibatches.
pub static STOP: AtomicBool = AtomicBool::new(false);

/// No loop polls STOP: a signal must end the process itself.
const IDLE: u8 = 0;
/// A training loop polls STOP.
const POLLING: u8 = 1;
/// A signal arrived.
const STOPPING: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(IDLE);

/// What the signal handler must do with a signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnSignal {
    /// A training loop will see STOP within one minibatch: let it finish its work.
    LetTheLoopStop,
    /// Nothing polls STOP (loading, evaluating, staging outputs, a second signal): exit now,
    /// after a commit of the outputs in progress, removing the temporaries of one not begun
    /// (`output::stop_writes`).
    ExitNow,
}

/// Set by a command whose loops stop together (a sweep): a signal repeated within
/// [`SAME_STOP`] of the first is that same stop, not a second one (GNU `timeout` signals the
/// process, then its process group); a later one still exits at once.
pub static COALESCE: AtomicBool = AtomicBool::new(false);

/// See [`COALESCE`].
pub const SAME_STOP: std::time::Duration = std::time::Duration::from_millis(500);

static FIRST_STOP: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Called by the signal handler (of the binary): records the stop and says what to do.
pub fn on_signal() -> OnSignal {
    if COALESCE.load(Ordering::SeqCst)
        && STATE.load(Ordering::SeqCst) == STOPPING
        && FIRST_STOP.get().is_some_and(|t| t.elapsed() < SAME_STOP)
    {
        return OnSignal::LetTheLoopStop;
    }
    let cooperative = STATE
        .compare_exchange(POLLING, STOPPING, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok();
    if cooperative {
        let _ = FIRST_STOP.set(std::time::Instant::now());
    }
    STOP.store(true, Ordering::SeqCst);
    if cooperative {
        OnSignal::LetTheLoopStop
    } else {
        STATE.store(STOPPING, Ordering::SeqCst);
        OnSignal::ExitNow
    }
}

/// Runs `f`, a loop that polls [`STOP`], as the one phase in which a signal stops
/// cooperatively. Returns its result and whether a signal arrived during it.
pub fn polling<R>(f: impl FnOnce() -> R) -> (R, bool) {
    let entered = STATE
        .compare_exchange(IDLE, POLLING, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok();
    let r = f();
    let stopped = if entered {
        STATE
            .compare_exchange(POLLING, IDLE, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
    } else {
        STATE.load(Ordering::SeqCst) == STOPPING
    };
    (r, stopped)
}
