//! Limits checked at the boundary, before any work: float flags that must compare with
//! something (no NaN, no ∞, in range), and the memory that sizes imply against what is free.
//
// Sizes are multiplied in u128 with checked arithmetic, so `--hidden 18446744073709551615`
// becomes a number of bytes to refuse, never an overflow, a panic or an allocator abort.

use std::fmt;

use crate::{Error, Result};

/// One end of the range a float flag must lie in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bound {
    /// `v >= x` (or `v <= x` at the top).
    Inclusive(f64),
    /// `v > x` (or `v < x` at the top).
    Exclusive(f64),
    /// No bound on this side (but still finite).
    Unbounded,
}

/// Checks a float flag: finite, and within `lo`..`hi`; the error names the flag, the range and
/// the value (`--max-loss must be a finite number >= 0, got NaN`). NaN fails every check.
pub fn real(flag: &'static str, v: f64, lo: Bound, hi: Bound) -> Result<f64> {
    let above = match lo {
        Bound::Inclusive(x) => v >= x,
        Bound::Exclusive(x) => v > x,
        Bound::Unbounded => true,
    };
    let below = match hi {
        Bound::Inclusive(x) => v <= x,
        Bound::Exclusive(x) => v < x,
        Bound::Unbounded => true,
    };
    if v.is_finite() && above && below {
        return Ok(v);
    }
    let expected = match (lo, hi) {
        (Bound::Unbounded, Bound::Unbounded) => "must be a finite number".to_string(),
        (lo, Bound::Unbounded) => format!("must be a finite number {}", side(lo, ">")),
        (Bound::Unbounded, hi) => format!("must be a finite number {}", side(hi, "<")),
        (lo, hi) => {
            let open = |b| matches!(b, Bound::Exclusive(_));
            let range = format!(
                "{}{}, {}{}",
                if open(lo) { "(" } else { "[" },
                value(lo),
                value(hi),
                if open(hi) { ")" } else { "]" }
            );
            // `--val-frac 20`, `--min-accuracy 95`: a percentage where a fraction is meant.
            if value(lo) == 0.0 && value(hi) == 1.0 && v > 1.0 && v <= 100.0 {
                format!("must be a fraction in {range}: {v}% is {}", v / 100.0)
            } else {
                format!("must be in {range}")
            }
        }
    };
    Err(Error::flag(flag, expected, v))
}

fn value(b: Bound) -> f64 {
    match b {
        Bound::Inclusive(x) | Bound::Exclusive(x) => x,
        Bound::Unbounded => f64::NAN,
    }
}

fn side(b: Bound, op: &str) -> String {
    match b {
        Bound::Inclusive(x) => format!("{op}= {x}"),
        Bound::Exclusive(x) => format!("{op} {x}"),
        Bound::Unbounded => String::new(),
    }
}

/// A number of bytes, printed the way `free -h` does (`1.5 GiB`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bytes(pub u128);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 7] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB"];
        if self.0 < 1024 {
            return write!(f, "{} bytes", self.0);
        }
        let mut v = self.0 as f64 / 1024.0;
        let mut unit = 0;
        while v >= 1024.0 && unit + 1 < UNITS.len() {
            v /= 1024.0;
            unit += 1;
        }
        write!(f, "{v:.1} {}", UNITS[unit])
    }
}

/// The memory a request implies, part by part (in u128: no product of two sizes overflows).
#[derive(Clone, Debug, Default)]
pub struct Need {
    parts: Vec<(&'static str, u128)>,
}

impl Need {
    /// An empty estimate.
    pub fn new() -> Self {
        Need::default()
    }

    /// Adds `elements` values of `elem_bytes` bytes each, under the name `what`.
    pub fn add(&mut self, what: &'static str, elements: u128, elem_bytes: usize) -> &mut Self {
        let bytes = elements.saturating_mul(elem_bytes as u128);
        match self.parts.iter_mut().find(|(w, _)| *w == what) {
            Some((_, b)) => *b = b.saturating_add(bytes),
            None => self.parts.push((what, bytes)),
        }
        self
    }

    /// All parts together.
    pub fn total(&self) -> Bytes {
        Bytes(
            self.parts
                .iter()
                .fold(0u128, |a, (_, b)| a.saturating_add(*b)),
        )
    }

    /// `W1 and W2 1.2 GiB, …` for the parts that are not negligible.
    fn detail(&self) -> String {
        let total = self.total().0.max(1);
        let shown: Vec<String> = self
            .parts
            .iter()
            .filter(|(_, b)| *b * 100 >= total || self.parts.len() == 1)
            .map(|(w, b)| format!("{w} {}", Bytes(*b)))
            .collect();
        shown.join(", ")
    }
}

/// `a × b` for sizes, without overflow.
pub fn times(a: usize, b: usize) -> u128 {
    (a as u128).saturating_mul(b as u128)
}

/// What one training run holds besides the data: the model (d, h, q) in `elem_bytes`-byte
/// floats, its gradients, momentum and best-weights copies, the caches and buffers of a batch
/// of `batch` rows, the evaluation's chunk of `eval_rows` rows and `out_rows` × q outputs,
/// and the saved model's JSON.
#[derive(Clone, Copy, Debug)]
pub struct TrainingShape {
    pub d: usize,
    pub h: usize,
    pub q: usize,
    pub batch: usize,
    pub eval_rows: usize,
    pub out_rows: usize,
    pub momentum: bool,
    pub keep_best: bool,
    pub save: bool,
    pub elem_bytes: usize,
    /// The threads of the products' pool (--threads; 1: the caller's thread, no pool).
    pub threads: usize,
    /// The constant input 1 is appended to the data (a column of `out_rows` values).
    pub bias: bool,
}

impl TrainingShape {
    /// The estimate, part by part.
    pub fn need(&self) -> Need {
        let s = *self;
        let weights = times(s.h, s.d).saturating_add(times(s.q, s.h));
        // Per row of a batch: Z, H, O (cache), ∂J/∂O, ∂J/∂H, ∂J/∂Z (grads), the evaluation
        // cache's Z, H, O, and the gathered x and y.
        let per_row = (s.h as u128)
            .saturating_mul(6)
            .saturating_add((s.q as u128).saturating_mul(4))
            .saturating_add(s.d as u128);
        let mut need = Need::new();
        need.add("W1 and W2", weights, s.elem_bytes).add(
            "∂J/∂W1 and ∂J/∂W2",
            weights,
            s.elem_bytes,
        );
        if s.momentum {
            need.add("momentum", weights, s.elem_bytes);
        }
        if s.keep_best {
            need.add("best weights (--patience)", weights, s.elem_bytes);
        }
        need.add(
            "caches for a batch",
            per_row.saturating_mul(s.batch.max(1) as u128),
            s.elem_bytes,
        );
        let eval = (s.h as u128)
            .saturating_mul(2)
            .saturating_add(s.q as u128)
            .saturating_mul(s.eval_rows.max(1) as u128)
            .saturating_add(times(s.out_rows, s.q));
        need.add("evaluation", eval, s.elem_bytes);
        if s.bias {
            need.add("the bias column", s.out_rows as u128, s.elem_bytes);
        }
        if s.threads > 1 {
            // Each thread of the pool: its stack, and the packing buffers the matrix products
            // keep per thread (the caller's thread has its own already: see product_scratch).
            need.add(
                "threads and their product buffers",
                s.threads as u128,
                THREAD_STACK_BYTES.saturating_add(product_scratch() as usize),
            );
        }
        if s.save {
            // An f64 copy of every weight, then its pretty JSON: about 42 bytes per weight
            // (17 significant digits, the indent, the comma; measured on a 2.4e7-weight file).
            need.add("the saved model", weights, 8 + 42);
        }
        need
    }
}

/// Rows evaluated at once when predicting or evaluating: up to 1024, fewer when a chunk's
/// Z, H and O would exceed 64 MiB (a very wide hidden layer).
pub fn chunk_rows(h: usize, q: usize, elem_bytes: usize) -> usize {
    let per_row = times(h, 2).saturating_add(q as u128) * elem_bytes.max(1) as u128;
    let rows = (64u128 << 20) / per_row.max(1);
    rows.clamp(1, 1024) as usize
}

/// Memory this process can still obtain, and where that figure comes from.
#[derive(Clone, Debug)]
pub struct Budget {
    /// None when nothing could be read (not Linux): only the address space limits a request.
    pub bytes: Option<u128>,
    /// `address-space limit (RLIMIT_AS) 4.0 GiB, 20.0 MiB in use`.
    pub source: String,
}

impl Budget {
    /// Reads /proc/meminfo (MemAvailable + SwapFree), the soft RLIMIT_AS and RLIMIT_DATA
    /// (from /proc/self/limits, minus what the process already maps) and the memory limit of
    /// the process's cgroup (a container's, minus its resident memory), and keeps the smallest.
    pub fn now() -> Budget {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let meminfo = read("/proc/meminfo");
        let status = read("/proc/self/status");
        let limits = read("/proc/self/limits");
        let cgroup = cgroup_limit(&read("/proc/self/cgroup"));
        Budget::from_proc(&meminfo, &status, &limits, cgroup)
    }

    /// As [`Budget::now`], from the texts of /proc/meminfo, /proc/self/status and
    /// /proc/self/limits, and the cgroup's (limit, resident) bytes when it has a limit.
    pub fn from_proc(
        meminfo: &str,
        status: &str,
        limits: &str,
        cgroup: Option<(u128, u128)>,
    ) -> Budget {
        let kib = |text: &str, key: &str| -> Option<u128> {
            let line = text.lines().find(|l| l.starts_with(key))?;
            let v: u128 = line[key.len()..].split_whitespace().next()?.parse().ok()?;
            Some(v * 1024)
        };
        let mut best: Option<(u128, String)> = None;
        let mut offer = |bytes: u128, source: String| {
            if best.as_ref().is_none_or(|(b, _)| bytes < *b) {
                best = Some((bytes, source));
            }
        };
        if let Some(avail) = kib(meminfo, "MemAvailable:") {
            let swap = kib(meminfo, "SwapFree:").unwrap_or(0);
            let source = if swap > 0 {
                format!(
                    "MemAvailable {} + SwapFree {} in /proc/meminfo",
                    Bytes(avail),
                    Bytes(swap)
                )
            } else {
                "MemAvailable in /proc/meminfo".to_string()
            };
            offer(avail + swap, source);
        }
        let soft = |name: &str| -> Option<u128> {
            let line = limits.lines().find(|l| l.starts_with(name))?;
            line[name.len()..].split_whitespace().next()?.parse().ok()
        };
        for (name, what, used_key) in [
            (
                "Max address space",
                "address-space limit (RLIMIT_AS)",
                "VmSize:",
            ),
            ("Max data size", "data-size limit (RLIMIT_DATA)", "VmData:"),
        ] {
            if let Some(limit) = soft(name) {
                let used = kib(status, used_key).unwrap_or(0);
                let room = limit.saturating_sub(used);
                offer(
                    room,
                    format!("{what} {}, {} already in use", Bytes(limit), Bytes(used)),
                );
            }
        }
        if let Some((limit, used)) = cgroup {
            offer(
                limit.saturating_sub(used),
                format!(
                    "cgroup memory limit {}, {} already resident in the group",
                    Bytes(limit),
                    Bytes(used)
                ),
            );
        }
        match best {
            Some((bytes, source)) => Budget {
                bytes: Some(bytes),
                source,
            },
            None => Budget {
                bytes: None,
                source: "the address space of this process".into(),
            },
        }
    }

    /// The largest request that can be tried: the budget, and never more than isize::MAX
    /// bytes (the most one allocation may ask for).
    pub fn cap(&self) -> u128 {
        let addressable = isize::MAX as u128;
        self.bytes.map_or(addressable, |b| b.min(addressable))
    }

    /// Ok when `need` fits; else the reason, as `needs 8.6 GiB of memory (…), but only
    /// 4.0 GiB is available (…)`.
    pub fn check(&self, what: &str, need: &Need) -> std::result::Result<(), String> {
        if need.total().0.saturating_add(WORKING_ROOM) <= self.cap() {
            return Ok(());
        }
        let mut need = need.clone();
        need.add("working room", WORKING_ROOM, 1);
        let total = need.total();
        let available = match self.bytes {
            Some(b) if b <= isize::MAX as u128 => {
                format!("but only {} is available ({})", Bytes(b), self.source)
            }
            _ => format!(
                "more than the {} one allocation can address",
                Bytes(isize::MAX as u128)
            ),
        };
        Err(format!(
            "{what} needs {total} of memory ({}), {available}",
            need.detail()
        ))
    }
}

/// The tightest memory limit among the process's cgroup and its ancestors, as (limit,
/// resident anonymous memory of that group): cgroup v2 `memory.max` with `anon` from
/// `memory.stat`, or v1 `memory.limit_in_bytes` with `total_rss`. Page cache is not counted:
/// the kernel reclaims it before it kills.
fn cgroup_limit(proc_self_cgroup: &str) -> Option<(u128, u128)> {
    let read = |p: &std::path::Path| std::fs::read_to_string(p).ok();
    let stat_value = |dir: &std::path::Path, key: &str| -> u128 {
        read(&dir.join("memory.stat"))
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
            })
            .unwrap_or(0)
    };
    let mut best: Option<(u128, u128)> = None;
    for line in proc_self_cgroup.lines() {
        let mut f = line.splitn(3, ':');
        let (_, controllers, path) = (f.next(), f.next()?, f.next()?);
        let (root, max_file, rss_key) = if controllers.is_empty() {
            ("/sys/fs/cgroup", "memory.max", "anon ")
        } else if controllers.split(',').any(|c| c == "memory") {
            (
                "/sys/fs/cgroup/memory",
                "memory.limit_in_bytes",
                "total_rss ",
            )
        } else {
            continue;
        };
        let root = std::path::Path::new(root);
        let mut dir = root.join(path.trim_start_matches('/'));
        loop {
            let limit = read(&dir.join(max_file)).and_then(|t| t.trim().parse::<u128>().ok());
            // v1 writes "no limit" as a huge page-rounded number.
            if let Some(limit) = limit.filter(|&l| l < 1 << 62) {
                let used = stat_value(&dir, rss_key);
                let room = limit.saturating_sub(used);
                if best.is_none_or(|(l, u)| room < l.saturating_sub(u)) {
                    best = Some((limit, used));
                }
            }
            if dir == root || !dir.pop() {
                break;
            }
        }
    }
    best
}

/// The address space of one thread's stack: Rust's default 2 MiB and its guard page.
pub const THREAD_STACK_BYTES: usize = (2 << 20) + 4096;

/// Room kept free beyond every estimate, for what is not worth counting one by one (messages,
/// the summary, small vectors, a few malloc pages): a request is refused unless this much
/// would remain, so that a run refused at one limit is never an abort at a slightly larger one.
pub const WORKING_ROOM: u128 = 8 << 20;

/// Bytes of address space this process maps now (VmSize), or None where /proc says nothing.
fn vm_size() -> Option<u128> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmSize:"))?;
    let kib: u128 = line["VmSize:".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// The packing buffers that each thread running the matrix products keeps for its life:
/// faer's x86 kernels allocate them (about twice the share of L3 cache they compute for the
/// CPU) on a thread's first large product, and an allocation there that fails aborts the
/// process. So their size is measured once, in a forked child (where failing costs nothing),
/// as the growth of VmSize across one product big enough to need them. When the child cannot
/// (or where there is no fork), twice the L3 cache (`/sys`) stands for it.
pub fn product_scratch() -> u128 {
    scratch().0
}

/// (bytes per thread, and whether this process's calling thread already holds them).
fn scratch() -> (u128, bool) {
    use std::sync::OnceLock;
    static SCRATCH: OnceLock<(u128, bool)> = OnceLock::new();
    *SCRATCH.get_or_init(|| {
        let bound = l3_cache().max(2 << 20).saturating_mul(2);
        let Some(bytes) = probe_scratch() else {
            return (bound, false);
        };
        // It fits: this thread takes its buffers now, while that is known to work, so that
        // VmSize counts them in every budget from here on.
        if Budget::now().cap() >= bytes.saturating_add(WORKING_ROOM) {
            warm();
            return (bytes, true);
        }
        (bytes, false)
    })
}

/// The size of the largest L3 cache /sys lists, or 32 MiB.
fn l3_cache() -> u128 {
    std::fs::read_dir("/sys/devices/system/cpu/cpu0/cache")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let level = std::fs::read_to_string(e.path().join("level")).ok()?;
            (level.trim() == "3").then_some(())?;
            let size = std::fs::read_to_string(e.path().join("size")).ok()?;
            let size = size.trim();
            let (digits, unit) = size.split_at(size.trim_end_matches(char::is_alphabetic).len());
            let v: u128 = digits.parse().ok()?;
            Some(match unit {
                "K" => v << 10,
                "M" => v << 20,
                "G" => v << 30,
                _ => v,
            })
        })
        .max()
        .unwrap_or(32 << 20)
}

/// Forks a child that runs [`warm`] and reports the growth of its VmSize through a pipe;
/// None when the child fails (the buffers do not fit) or cannot be started.
#[cfg(target_os = "linux")]
fn probe_scratch() -> Option<u128> {
    use std::io::Read;
    use std::os::fd::FromRawFd;
    let before = vm_size()?;
    let mut fds = [0; 2];
    // SAFETY: pipe writes two descriptors into the array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return None;
    }
    // SAFETY: the child only computes, reads /proc, writes to the pipe and _exits; glibc's
    // fork resets malloc's locks for it.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // The child: no core file, no message (an abort here only says "no").
        // SAFETY: plain system calls on this process's own resources.
        unsafe {
            let none = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &none);
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
            if null >= 0 {
                libc::dup2(null, 2);
            }
            libc::close(fds[0]);
        }
        warm();
        let grew = vm_size().map_or(0, |after| after.saturating_sub(before));
        let bytes = grew.to_le_bytes();
        // SAFETY: writes a valid buffer to the pipe, then ends the child at once.
        unsafe {
            libc::write(fds[1], bytes.as_ptr().cast(), bytes.len());
            libc::_exit(0);
        }
    }
    // SAFETY: the write end belongs to this process; closing it lets the read see the end.
    unsafe { libc::close(fds[1]) };
    // SAFETY: fds[0] is an open descriptor that nothing else owns.
    let mut pipe = unsafe { std::fs::File::from_raw_fd(fds[0]) };
    let mut buf = Vec::new();
    let read = pipe.read_to_end(&mut buf);
    if pid > 0 {
        let mut status = 0;
        // SAFETY: waits for the child forked above.
        unsafe { libc::waitpid(pid, &mut status, 0) };
    }
    let bytes: [u8; 16] = buf.try_into().ok()?;
    read.ok()?;
    Some(u128::from_le_bytes(bytes))
}

#[cfg(not(target_os = "linux"))]
fn probe_scratch() -> Option<u128> {
    None
}

/// One 256×256 product in f32 and one in f64: enough for the kernels' buffers.
fn warm() {
    warm_in::<f32>(256);
    warm_in::<f64>(256);
}

/// One n×n product in precision T, for [`warm`].
fn warm_in<T: crate::Real>(n: usize) {
    let a = ndarray::Array2::<T>::from_elem((n, n), T::of(0.5));
    let mut c = ndarray::Array2::<T>::zeros((n, n));
    crate::math::linalg::matmul(a.view(), a.view(), c.view_mut());
    std::hint::black_box(&c);
}

/// Address space a new thread needs to start, with room to spare: its stack (2 MiB, std's
/// default) and the alternate signal stack std maps inside the thread as it starts.
const THREAD_START_BYTES: usize = 3 << 20;

/// Refuses (exit 2) when the address-space limit leaves too little for the thread that
/// handles Ctrl-C to start. std maps that thread's alternate signal stack inside the new
/// thread, and a failure there aborts the process (`failed to allocate an alternative
/// stack`), which no caller can catch: so the room is mapped and released first, while the
/// process has no other thread (tests/rlimit.rs found the abort at one limit of its sweep).
pub fn room_for_the_signal_thread() -> Result<()> {
    #[cfg(unix)]
    {
        // SAFETY: an anonymous private mapping of THREAD_START_BYTES at an address the kernel
        // picks, never touched, unmapped at once; MAP_FAILED is checked.
        let ok = unsafe {
            let p = libc::mmap(
                std::ptr::null_mut(),
                THREAD_START_BYTES,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            );
            p != libc::MAP_FAILED && libc::munmap(p, THREAD_START_BYTES) == 0
        };
        if !ok {
            return Err(Error::Memory {
                flags: "starting".into(),
                msg: format!(
                    "the thread that handles Ctrl-C needs about {} MiB of address space, which the \
                     limit (ulimit -v, RLIMIT_AS) does not leave",
                    THREAD_START_BYTES >> 20
                ),
                advice: "raise the limit".into(),
            });
        }
    }
    Ok(())
}

/// Under a finite address-space limit (`ulimit -v`, `prlimit --as`), one malloc arena: glibc
/// reserves 64 MiB of address space for each further arena (one per thread that allocates,
/// up to 8 per core), which counts against the limit although it holds nothing, and whether
/// a thread gets one depends on timing, so the same run would fit or not from one try to the
/// next. Called first thing in `main`, before any thread starts.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes one rlimit struct, which `lim` is.
        let ok = unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut lim) } == 0;
        if ok && lim.rlim_cur != libc::RLIM_INFINITY {
            // SAFETY: mallopt takes a parameter and a value; M_ARENA_MAX is a valid parameter.
            unsafe { libc::mallopt(libc::M_ARENA_MAX, 1) };
        }
    }
}

/// `need`, and this thread's product buffers when it does not hold them yet (they were
/// measured first, so that the budget counts them either way).
fn with_scratch(need: &Need) -> Need {
    let mut need = need.clone();
    let (bytes, held) = scratch();
    if !held {
        need.add("the matrix products' buffers", bytes, 1);
    }
    need
}

/// Checks `need` against the memory available now; the error names the flags and says how
/// much is needed and how much there is (exit 2).
pub fn check_memory(flags: String, what: &str, need: &Need, advice: &str) -> Result<()> {
    let need = with_scratch(need);
    Budget::now()
        .check(what, &need)
        .map_err(|msg| Error::Memory {
            flags,
            msg,
            advice: advice.to_string(),
        })
}

/// Reads a model file, checked against the memory available before it is parsed: the file's
/// bytes are read (memory refused is an error), counted without parsing
/// ([`ModelSize`](crate::data::modelsize::ModelSize)), and parsed only when what parsing
/// holds and the model built from it fit; else exit 4, one line naming the file, what it
/// needs and what is available. Every model file goes through here.
pub fn load_model(path: &std::path::Path) -> Result<crate::data::modelfile::ModelFile> {
    load_model_with(path, 0, "")
}

/// [`load_model`] for a command that then holds `per_weight` more bytes for each weight
/// (copies of the model, named `what` in the message), counted in the same check.
pub fn load_model_with(
    path: &std::path::Path,
    per_weight: usize,
    what: &'static str,
) -> Result<crate::data::modelfile::ModelFile> {
    use crate::data::modelfile::ModelFile;
    use crate::data::modelsize::ModelSize;
    let bytes = ModelFile::read(path)?;
    if let Some(size) = ModelSize::of(&bytes) {
        let mut need = Need::new();
        for (what, b) in size.parts() {
            need.add(what, b, 1);
        }
        if per_weight > 0 {
            let weights = (size.w1.numbers as u128).saturating_add(size.w2.numbers as u128);
            need.add(what, weights, per_weight);
        }
        let need = with_scratch(&need);
        Budget::now()
            .check("loading this model", &need)
            .map_err(|msg| Error::Model {
                path: path.to_path_buf(),
                msg: format!("{msg}; use a machine or limit with more memory"),
            })?;
    }
    ModelFile::from_bytes(&bytes).map_err(|msg| Error::Model {
        path: path.to_path_buf(),
        msg,
    })
}

/// The cores this process may run on (1 when the OS does not say).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_refuses_nan_infinity_and_out_of_range() {
        use Bound::*;
        assert_eq!(
            real("--x", 0.5, Inclusive(0.0), Exclusive(1.0)).unwrap(),
            0.5
        );
        for v in [f64::NAN, f64::INFINITY, -1.0, 1.0] {
            let e = real("--x", v, Inclusive(0.0), Exclusive(1.0)).unwrap_err();
            assert!(
                e.to_string().starts_with("--x must be in [0, 1), got"),
                "{e}"
            );
        }
        // A percentage where a fraction is meant gets the fraction it meant.
        let e = real("--val-frac", 20.0, Inclusive(0.0), Exclusive(1.0)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--val-frac must be a fraction in [0, 1): 20% is 0.2, got 20"
        );
        let e = real("--x", 101.0, Inclusive(0.0), Inclusive(1.0)).unwrap_err();
        assert_eq!(e.to_string(), "--x must be in [0, 1], got 101");
        let e = real("--max-loss", f64::NAN, Inclusive(0.0), Unbounded).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--max-loss must be a finite number >= 0, got NaN"
        );
        let e = real("--min-r2", 2.0, Unbounded, Inclusive(1.0)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--min-r2 must be a finite number <= 1, got 2"
        );
        let e = real("--tol", 0.0, Exclusive(0.0), Unbounded).unwrap_err();
        assert_eq!(e.to_string(), "--tol must be a finite number > 0, got 0");
        assert!(real("--t", f64::NEG_INFINITY, Unbounded, Unbounded).is_err());
    }

    #[test]
    fn bytes_print_like_free_h() {
        assert_eq!(Bytes(512).to_string(), "512 bytes");
        assert_eq!(Bytes(1536).to_string(), "1.5 KiB");
        assert_eq!(Bytes(4 << 30).to_string(), "4.0 GiB");
    }

    #[test]
    fn sizes_at_u64_max_are_a_number_not_an_overflow() {
        let shape = TrainingShape {
            d: 5,
            h: usize::MAX,
            q: 3,
            batch: 32,
            eval_rows: 150,
            out_rows: 150,
            momentum: true,
            keep_best: true,
            save: true,
            elem_bytes: 4,
            threads: 2,
            bias: true,
        };
        let need = shape.need();
        assert!(need.total().0 > u64::MAX as u128);
        let budget = Budget::from_proc("MemAvailable: 1000 kB\n", "", "", None);
        let msg = budget.check("a 5×h×3 model", &need).unwrap_err();
        assert!(msg.contains("but only 1000.0 KiB is available"), "{msg}");
    }

    #[test]
    fn the_smallest_limit_wins() {
        let meminfo = "MemTotal: 100 kB\nMemAvailable: 8000000 kB\nSwapFree: 0 kB\n";
        let status = "VmSize:\t  20480 kB\nVmData:\t 1024 kB\n";
        let limits = "Limit Soft Hard Units\nMax data size unlimited unlimited bytes\n\
                      Max address space 4294967296 4294967296 bytes\n";
        let b = Budget::from_proc(meminfo, status, limits, None);
        assert_eq!(b.bytes, Some((4u128 << 30) - 20480 * 1024));
        assert!(b.source.contains("RLIMIT_AS"), "{}", b.source);
        let b = Budget::from_proc(meminfo, status, "", None);
        assert_eq!(b.bytes, Some(8000000 * 1024));
        let b = Budget::from_proc(meminfo, status, "", Some((2 << 30, 1 << 30)));
        assert_eq!(b.bytes, Some(1 << 30));
        assert!(
            b.source.contains("cgroup memory limit 2.0 GiB"),
            "{}",
            b.source
        );
        let none = Budget::from_proc("", "", "", None);
        assert_eq!(none.bytes, None);
        assert_eq!(none.cap(), isize::MAX as u128);
    }

    #[test]
    fn chunks_shrink_for_wide_layers_only() {
        assert_eq!(chunk_rows(32, 3, 4), 1024);
        assert_eq!(chunk_rows(100_000, 3, 4), 83);
        assert_eq!(chunk_rows(usize::MAX, 3, 8), 1);
    }
}
