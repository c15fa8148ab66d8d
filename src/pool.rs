//! A small persistent thread pool for `--threads N`: the calling thread plus N − 1 helpers,
//! created once per training run, that split each matrix product's output between them.
//!
//! How a [`Pool::run`] of `n` chunks goes:
//! - The caller publishes the job (a `&dyn Fn(usize)` on its own stack) and a new generation
//!   in one atomic word, `state = generation:32 | n:16 | next:16`, then wakes the helpers.
//! - Everyone, the caller included, claims chunks by a compare-and-swap on `next`, so each
//!   chunk runs exactly once. A helper that is slow to wake (descheduled, parked) simply
//!   claims nothing: the caller runs every chunk itself.
//! - The caller then waits only for chunks a helper has actually claimed (`done` counts the
//!   finished ones). This is not a barrier: nobody waits for a thread to *arrive*.
//! - An idle helper spins for [`Pool::SPIN`] and then parks (`thread::park`), so between
//!   training runs, and during long single-threaded stretches, it costs no CPU.
//!
//! No heap allocation per `run`: the job lives on the caller's stack, the helpers are created
//! in [`Pool::new`]. A panic inside a chunk is caught where it happens and resumed on the
//! caller once every claimed chunk has finished, so no helper can outlive the job it borrows.
//!
//! The product code ([`crate::linalg`]) finds the pool through a thread-local set by
//! [`Pool::install`] (the training loop installs its pool for the duration of training), so
//! that `Mlp::forward`/`backward` keep their signatures.

use std::cell::Cell;
use std::marker::PhantomData;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

/// One chunk of work: called with the chunk's index, from any of the pool's threads.
type Job<'a> = &'a (dyn Fn(usize) + Sync);

/// Most chunks one `run` can have (they are counted in 16 bits of the state word).
pub const MAX_CHUNKS: usize = 0xffff;

struct Shared {
    /// generation:32 | n:16 | next:16. `next ≥ n` means nothing is left to claim.
    state: AtomicU64,
    /// The current job: points at a `Job` on the stack of the caller of `run`.
    job: AtomicPtr<Job<'static>>,
    /// Chunks of the current generation finished by helpers.
    done: AtomicUsize,
    /// Set by `Drop`: helpers return.
    quit: AtomicBool,
    /// A panic payload caught in a helper, resumed by the caller.
    panic: Mutex<Option<Box<dyn std::any::Any + Send>>>,
    /// Set when `panic` holds something (so the caller checks without locking).
    panicked: AtomicBool,
    /// Statistics: chunks run by helpers, nanoseconds the caller spent waiting for them.
    helper_chunks: AtomicUsize,
    wait_ns: AtomicU64,
    spin: Duration,
}

/// The calling thread plus `threads − 1` parked-when-idle helpers.
///
/// Not `Sync`: one thread (the one that created it) drives it.
pub struct Pool {
    shared: Arc<Shared>,
    helpers: Vec<(JoinHandle<()>, Thread)>,
    /// True while a `run` is on the stack: a nested `run` (a chunk that itself asks the pool
    /// for help) runs its chunks inline.
    running: Cell<bool>,
    _not_sync: PhantomData<Cell<()>>,
}

#[inline]
fn pack(generation: u64, n: u64, next: u64) -> u64 {
    (generation << 32) | (n << 16) | next
}

#[inline]
fn unpack(s: u64) -> (u64, u64, u64) {
    (s >> 32, (s >> 16) & 0xffff, s & 0xffff)
}

impl Pool {
    /// How long an idle helper spins before it parks.
    pub const SPIN: Duration = Duration::from_micros(50);

    /// A pool of `threads` threads in all: the caller and `threads − 1` helpers
    /// (`threads` ≤ 1: no helper, every `run` is a plain loop on the caller).
    ///
    /// A helper the OS refuses to start is no error: the pool just has fewer threads.
    pub fn new(threads: usize) -> Pool {
        Pool::with_spin(threads, Pool::SPIN)
    }

    /// As [`Pool::new`], with the helpers' spin time before parking.
    pub fn with_spin(threads: usize, spin: Duration) -> Pool {
        let shared = Arc::new(Shared {
            state: AtomicU64::new(0),
            job: AtomicPtr::new(std::ptr::null_mut()),
            done: AtomicUsize::new(0),
            quit: AtomicBool::new(false),
            panic: Mutex::new(None),
            panicked: AtomicBool::new(false),
            helper_chunks: AtomicUsize::new(0),
            wait_ns: AtomicU64::new(0),
            spin,
        });
        let mut helpers = Vec::with_capacity(threads.saturating_sub(1));
        for k in 1..threads.max(1) {
            let sh = Arc::clone(&shared);
            let spawned = thread::Builder::new()
                .name(format!("mlp-train-{k}"))
                .spawn(move || helper_loop(&sh));
            match spawned {
                Ok(handle) => {
                    let t = handle.thread().clone();
                    helpers.push((handle, t));
                }
                Err(_) => break,
            }
        }
        Pool {
            shared,
            helpers,
            running: Cell::new(false),
            _not_sync: PhantomData,
        }
    }

    /// Threads that can work on a `run`: 1 + the helpers.
    pub fn threads(&self) -> usize {
        1 + self.helpers.len()
    }

    /// Chunks run by helpers so far (the rest ran on the caller).
    pub fn helper_chunks(&self) -> usize {
        self.shared.helper_chunks.load(Ordering::Relaxed)
    }

    /// Total time the caller spent waiting for chunks that helpers had claimed.
    pub fn wait(&self) -> Duration {
        Duration::from_nanos(self.shared.wait_ns.load(Ordering::Relaxed))
    }

    /// Runs `f(0)`, …, `f(n − 1)`, each exactly once, on the caller and the helpers; returns
    /// when all have finished. Chunks must not depend on each other's order. Allocates nothing.
    ///
    /// # Panics
    /// If a chunk panics, the first panic is resumed here after every other claimed chunk has
    /// finished. Also panics when `n` > [`MAX_CHUNKS`].
    pub fn run(&self, n: usize, f: &(dyn Fn(usize) + Sync)) {
        assert!(
            n <= MAX_CHUNKS,
            "Pool::run: {n} chunks, at most {MAX_CHUNKS}"
        );
        if self.helpers.is_empty() || n <= 1 || self.running.get() {
            (0..n).for_each(f);
            return;
        }
        self.running.set(true);
        let _reset = ResetOnDrop(&self.running);
        let sh = &*self.shared;

        // The job lives on this stack frame, which outlives every use of it: a helper reads
        // it only after claiming a chunk of this generation, and we do not return before
        // every claimed chunk has been reported in `done`.
        let job: Job<'_> = f;
        // SAFETY: only the lifetime is erased, see above.
        let job: Job<'static> = unsafe { std::mem::transmute::<Job<'_>, Job<'static>>(job) };
        sh.job.store(
            &job as *const Job<'static> as *mut Job<'static>,
            Ordering::Relaxed,
        );
        sh.done.store(0, Ordering::Relaxed);
        let generation = (unpack(sh.state.load(Ordering::Relaxed)).0 + 1) & 0xffff_ffff;
        // Release: a helper that sees this generation also sees `job` and `done` = 0.
        sh.state
            .store(pack(generation, n as u64, 0), Ordering::Release);
        for (_, t) in &self.helpers {
            t.unpark();
        }

        let mut mine = 0;
        let mut caught = None;
        loop {
            let s = sh.state.load(Ordering::Relaxed);
            let (_, _, i) = unpack(s);
            if i as usize >= n {
                break;
            }
            if sh
                .state
                .compare_exchange_weak(s, s + 1, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                mine += 1;
                if let Err(p) = catch_unwind(AssertUnwindSafe(|| f(i as usize))) {
                    caught.get_or_insert(p);
                }
            }
        }
        // Wait only for the chunks the helpers claimed and have not finished.
        if sh.done.load(Ordering::Acquire) + mine < n {
            let t0 = Instant::now();
            let mut spins = 0u32;
            while sh.done.load(Ordering::Acquire) + mine < n {
                spins += 1;
                if spins < 4096 {
                    std::hint::spin_loop();
                } else {
                    // A claimed chunk whose helper lost its core: give the core back.
                    thread::yield_now();
                }
            }
            let waited = u64::try_from(t0.elapsed().as_nanos()).unwrap_or(u64::MAX);
            sh.wait_ns.fetch_add(waited, Ordering::Relaxed);
        }
        if let Some(p) = caught {
            resume_unwind(p);
        }
        if sh.panicked.load(Ordering::Acquire) {
            let payload = sh.panic.lock().unwrap_or_else(|e| e.into_inner()).take();
            sh.panicked.store(false, Ordering::Relaxed);
            if let Some(p) = payload {
                resume_unwind(p);
            }
        }
    }

    /// Makes this pool the current thread's pool (see [`with_current`]) while `f` runs.
    pub fn install<R>(&self, f: impl FnOnce() -> R) -> R {
        let previous = CURRENT.with(|c| c.replace(Some(NonNull::from(self))));
        struct Restore(Option<NonNull<Pool>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                CURRENT.with(|c| c.set(self.0));
            }
        }
        let _restore = Restore(previous);
        f()
    }
}

/// A mutable slice cut into chunks of `size` elements that the chunks of a [`Pool::run`] can
/// take, each at most once, from a shared reference (no allocation, no lock).
pub struct Disjoint<'a, T> {
    ptr: *mut T,
    len: usize,
    size: usize,
    /// Bit i set: chunk i has been handed out.
    taken: AtomicU64,
    _slice: PhantomData<&'a mut [T]>,
}

// SAFETY: each chunk is handed out at most once (the `taken` bit), so two threads never get
// overlapping `&mut` slices; T: Send because the chunks go to other threads.
unsafe impl<T: Send> Sync for Disjoint<'_, T> {}

impl<'a, T> Disjoint<'a, T> {
    /// Chunks of `size` elements (the last one shorter). At most 64 chunks.
    pub fn new(slice: &'a mut [T], size: usize) -> Self {
        let size = size.max(1);
        assert!(
            slice.len().div_ceil(size) <= 64,
            "Disjoint: more than 64 chunks"
        );
        Disjoint {
            ptr: slice.as_mut_ptr(),
            len: slice.len(),
            size,
            taken: AtomicU64::new(0),
            _slice: PhantomData,
        }
    }

    /// Chunk `i`, or None when it is past the end.
    ///
    /// # Panics
    /// When chunk `i` was already taken.
    #[allow(clippy::mut_from_ref)]
    pub fn chunk(&self, i: usize) -> Option<&'a mut [T]> {
        let lo = i.checked_mul(self.size)?;
        if lo >= self.len {
            return None;
        }
        let bit = 1u64 << i;
        assert!(
            self.taken.fetch_or(bit, Ordering::AcqRel) & bit == 0,
            "Disjoint: chunk {i} taken twice"
        );
        let hi = (lo + self.size).min(self.len);
        // SAFETY: lo..hi lies inside the slice borrowed for 'a and, by the bit just claimed,
        // is handed out once only.
        Some(unsafe { std::slice::from_raw_parts_mut(self.ptr.add(lo), hi - lo) })
    }
}

struct ResetOnDrop<'a>(&'a Cell<bool>);
impl Drop for ResetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

thread_local! {
    static CURRENT: Cell<Option<NonNull<Pool>>> = const { Cell::new(None) };
}

/// Calls `f` with the pool installed on this thread by [`Pool::install`], if any.
pub fn with_current<R>(f: impl FnOnce(Option<&Pool>) -> R) -> R {
    let p = CURRENT.with(|c| c.get());
    // SAFETY: `install` keeps the pool borrowed for as long as the pointer is set, and the
    // pointer is thread-local (Pool is not Sync), so it is valid here.
    f(p.map(|p| unsafe { p.as_ref() }))
}

fn helper_loop(sh: &Shared) {
    let mut idle_since = Instant::now();
    loop {
        if sh.quit.load(Ordering::Acquire) {
            return;
        }
        let s = sh.state.load(Ordering::Acquire);
        let (_, n, i) = unpack(s);
        if i < n {
            if sh
                .state
                .compare_exchange_weak(s, s + 1, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                // The claim succeeded on this generation's word with a chunk left, so the
                // caller is still inside `run` (it returns only after `done` counts this
                // chunk) and `job` points at its live job.
                // SAFETY: as just said; the Acquire on `state` orders the read after the
                // caller's Release store that published `job`.
                let f: Job<'static> = unsafe { *sh.job.load(Ordering::Relaxed) };
                if let Err(p) = catch_unwind(AssertUnwindSafe(|| f(i as usize))) {
                    let mut slot = sh.panic.lock().unwrap_or_else(|e| e.into_inner());
                    slot.get_or_insert(p);
                    sh.panicked.store(true, Ordering::Release);
                }
                sh.helper_chunks.fetch_add(1, Ordering::Relaxed);
                sh.done.fetch_add(1, Ordering::Release);
                idle_since = Instant::now();
            }
            continue;
        }
        if idle_since.elapsed() < sh.spin {
            for _ in 0..64 {
                std::hint::spin_loop();
            }
        } else {
            // An `unpark` between the check above and this call leaves a token: no lost wake-up.
            thread::park();
            idle_since = Instant::now();
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.quit.store(true, Ordering::Release);
        for (handle, t) in self.helpers.drain(..) {
            t.unpark();
            let _ = handle.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chunk_runs_once() {
        for threads in 1..=3 {
            let pool = Pool::new(threads);
            for n in [0, 1, 2, 5, 64] {
                let hits: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
                for _ in 0..50 {
                    pool.run(n, &|i| {
                        hits[i].fetch_add(1, Ordering::Relaxed);
                    });
                }
                assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 50));
            }
        }
    }
}
