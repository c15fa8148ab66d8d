//! The data layer's threads: one rayon pool with a thread per core (at most 8), built on first
//! use, that reads CSV blocks and standardizes; the matrix products use --threads (train::sgd).

use std::sync::OnceLock;

/// The most threads the data layer uses, however many cores there are.
const MAX_CORES: usize = 8;

static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();

/// The pool; None on one core or when the OS refuses threads (the caller then does the work
/// on its own thread, with the same result: no error). When it refuses some (each thread's
/// stack counts against an address-space limit), the pool has half as many, down to two.
fn pool() -> Option<&'static rayon::ThreadPool> {
    POOL.get_or_init(|| {
        let mut threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_CORES);
        while threads >= 2 {
            let built = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|k| format!("mlp-train-data-{k}"))
                .build();
            if let Ok(pool) = built {
                return Some(pool);
            }
            threads /= 2;
        }
        None
    })
    .as_ref()
}

/// The pool for work that is `big` enough to share; None, without starting the pool, for
/// small work (a small file or matrix never starts a thread).
pub(crate) fn pool_for(big: bool) -> Option<&'static rayon::ThreadPool> {
    if big {
        pool()
    } else {
        None
    }
}

/// How many threads the data layer works with on `big` work (1 without a pool).
pub(crate) fn count_for(big: bool) -> usize {
    pool_for(big).map_or(1, |p| p.current_num_threads())
}
