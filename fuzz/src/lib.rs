//! A small mutation fuzzer that runs on the stable toolchain (cargo-fuzz needs nightly):
//! seeded mutations of a corpus (bit flips, byte insert/delete, splices, truncation and
//! dictionary tokens such as `nan`, `1e999`, `"`, `,,`, `\r\n`, a BOM), each input run under
//! `catch_unwind`; a panicking input is saved to `fuzz/artifacts/`. Inputs that produce an
//! outcome not seen before (the message with its numbers and quoted names blanked) join the
//! corpus, a cheap stand-in for coverage feedback.

use std::collections::HashSet;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Command-line options shared by the fuzz binaries.
#[derive(Debug, Clone)]
pub struct Options {
    /// Stop after this many inputs…
    pub iterations: Option<u64>,
    /// …or after this long, whichever comes first.
    pub seconds: f64,
    pub seed: u64,
    /// Extra corpus folders (every file in them is a seed input).
    pub corpus: Vec<PathBuf>,
    /// Where crashing inputs are written.
    pub artifacts: PathBuf,
    /// Largest input generated.
    pub max_len: usize,
    /// Replay these files once each (e.g. an artifact) instead of fuzzing.
    pub replay: Vec<PathBuf>,
}

impl Options {
    /// `--iterations N --seconds T --seed S --corpus DIR --artifacts DIR --max-len N [FILE…]`.
    pub fn from_args() -> Options {
        Options::from_args_without(&[])
    }

    /// `from_args`, leaving out the options in `own` and their values (a binary's own).
    pub fn from_args_without(own: &[&str]) -> Options {
        let mut o = Options {
            iterations: None,
            seconds: 60.0,
            seed: 0,
            corpus: Vec::new(),
            artifacts: Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts"),
            max_len: 16 * 1024,
            replay: Vec::new(),
        };
        let mut seconds = None;
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            if own.contains(&a.as_str()) {
                args.next();
                continue;
            }
            let mut value = |name: &str| {
                args.next()
                    .unwrap_or_else(|| usage(&format!("{name} needs a value")))
            };
            match a.as_str() {
                "--iterations" | "-n" => {
                    o.iterations = Some(value(&a).parse().unwrap_or_else(|_| usage("bad -n")));
                }
                "--seconds" | "-t" => {
                    seconds = Some(value(&a).parse().unwrap_or_else(|_| usage("bad -t")))
                }
                "--seed" => o.seed = value(&a).parse().unwrap_or_else(|_| usage("bad --seed")),
                "--corpus" => o.corpus.push(value(&a).into()),
                "--artifacts" => o.artifacts = value(&a).into(),
                "--max-len" => {
                    o.max_len = value(&a).parse().unwrap_or_else(|_| usage("bad --max-len"))
                }
                "-h" | "--help" => usage(""),
                f if !f.starts_with('-') => o.replay.push(f.into()),
                other => usage(&format!("unknown option {other}")),
            }
        }
        // -n alone runs exactly N inputs; neither runs for a minute.
        o.seconds = seconds.unwrap_or(if o.iterations.is_some() {
            f64::INFINITY
        } else {
            60.0
        });
        o
    }
}

fn usage(msg: &str) -> ! {
    if !msg.is_empty() {
        eprintln!("error: {msg}");
    }
    eprintln!(
        "usage: fuzz_csv|fuzz_model|fuzz_tables [--seconds T (60)] [--iterations N] [--seed S] \
         [--corpus DIR]... [--artifacts DIR] [--max-len BYTES] [FILE...  (replay)]"
    );
    std::process::exit(2)
}

/// The mutation choices: mlp-train's own seeded generator (rand_xoshiro's xoshiro256++).
pub struct Rng(mlp_train::math::rng::Rng);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(mlp_train::math::rng::seeded(seed))
    }
    pub fn next_u64(&mut self) -> u64 {
        rand::RngCore::next_u64(&mut self.0)
    }
    /// Uniform in 0..n (0 when n = 0).
    pub fn below(&mut self, n: usize) -> usize {
        rand::Rng::random_range(&mut self.0, 0..n.max(1))
    }
    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// Offsets and lengths of the runs of number-like bytes (digits, sign, dot, exponent).
fn number_runs(b: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let mut s = i;
            if s > 0 && b[s - 1] == b'-' {
                s -= 1;
            }
            while i < b.len() && matches!(b[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') {
                i += 1;
            }
            out.push((s, i - s));
        } else {
            i += 1;
        }
    }
    out
}

/// One to four stacked mutations of `input`.
pub fn mutate(
    rng: &mut Rng,
    input: &[u8],
    corpus: &[Vec<u8>],
    dict: &[&[u8]],
    max_len: usize,
) -> Vec<u8> {
    let mut b = input.to_vec();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let n = b.len();
        match rng.below(13) {
            // Flip one bit.
            0 if n > 0 => {
                let i = rng.below(n);
                b[i] ^= 1 << rng.below(8);
            }
            // Set a byte to anything.
            1 if n > 0 => {
                let i = rng.below(n);
                b[i] = rng.next_u64() as u8;
            }
            // Insert a byte.
            2 => {
                let i = rng.below(n + 1);
                b.insert(i, rng.next_u64() as u8);
            }
            // Delete a stretch.
            3 if n > 0 => {
                let i = rng.below(n);
                let len = 1 + rng.below(16.min(n - i));
                b.drain(i..i + len);
            }
            // Insert a dictionary token.
            4 | 5 => {
                let t = dict[rng.below(dict.len())];
                let i = rng.below(n + 1);
                b.splice(i..i, t.iter().copied());
            }
            // Replace a number by a dictionary token.
            6 | 7 => {
                let runs = number_runs(&b);
                if !runs.is_empty() {
                    let (s, len) = runs[rng.below(runs.len())];
                    let t = dict[rng.below(dict.len())];
                    b.splice(s..s + len, t.iter().copied());
                }
            }
            // Copy a stretch of the input elsewhere.
            8 if n > 0 => {
                let i = rng.below(n);
                let len = 1 + rng.below(64.min(n - i));
                let piece = b[i..i + len].to_vec();
                let j = rng.below(n + 1);
                b.splice(j..j, piece);
            }
            // Crossover: this input's head with another's tail.
            9 if !corpus.is_empty() => {
                let other = &corpus[rng.below(corpus.len())];
                let cut = rng.below(n + 1);
                let from = rng.below(other.len() + 1);
                b.truncate(cut);
                b.extend_from_slice(&other[from..]);
            }
            // Truncate.
            10 if n > 0 => b.truncate(rng.below(n)),
            // Duplicate or delete a whole line.
            11 => {
                let lines: Vec<usize> = std::iter::once(0)
                    .chain(
                        b.iter()
                            .enumerate()
                            .filter(|(_, &c)| c == b'\n')
                            .map(|(i, _)| i + 1),
                    )
                    .filter(|&i| i < n)
                    .collect();
                if !lines.is_empty() {
                    let s = lines[rng.below(lines.len())];
                    let e = b[s..]
                        .iter()
                        .position(|&c| c == b'\n')
                        .map_or(n, |p| s + p + 1);
                    if rng.chance(2) {
                        let line = b[s..e].to_vec();
                        b.splice(e..e, line);
                    } else {
                        b.drain(s..e);
                    }
                }
            }
            // Swap two bytes.
            _ if n > 1 => {
                let (i, j) = (rng.below(n), rng.below(n));
                b.swap(i, j);
            }
            _ => {}
        }
    }
    b.truncate(max_len);
    b
}

/// The outcome class of a message, so that messages from one template are one outcome:
/// everything from the first quote (`, ", '(') to the last (`, ", ')') becomes `…`, digits
/// become `#`, and the column of a `file:line:column:` place becomes `_`. Quoted text may hold
/// any byte of the input, so it is cut out whole rather than parsed.
pub fn outcome_class(msg: &str) -> String {
    let mut out = String::new();
    let mut last_digit = false;
    for c in msg.chars() {
        if c.is_ascii_digit() {
            if !last_digit {
                out.push('#');
            }
            last_digit = true;
        } else {
            out.push(c);
            last_digit = false;
        }
    }
    let cut = |s: String, open: &[char], close: &[char]| match (s.find(open), s.rfind(close)) {
        (Some(i), Some(j)) if i < j => format!("{}…{}", &s[..i], &s[j + 1..]),
        _ => s,
    };
    // `file:#:column: what` → `file:#:_: what` (a column name may hold any text, backticks
    // included, so it goes before the quoted values are cut out).
    if let Some(i) = out.find(":#:") {
        if let Some(j) = out[i + 3..].find(": ") {
            out.replace_range(i + 3..i + 3 + j, "_");
        }
    }
    let out = cut(out, &['`'], &['`']);
    cut(out, &['"', '('], &['"', ')'])
}

static PANIC_MESSAGE: Mutex<Option<String>> = Mutex::new(None);

/// Counts of one fuzzing run.
#[derive(Debug, Default)]
pub struct Stats {
    pub inputs: u64,
    pub bytes: u64,
    pub accepted: u64,
    pub outcomes: usize,
    pub corpus: usize,
    pub crashes: u64,
    pub distinct_crashes: usize,
    pub seconds: f64,
}

/// Runs `target` on the seeds, then on mutations until the iteration or time budget is
/// spent. `target` returns `Ok(outcome)` for an input it accepted, `Err(message)` for one it
/// refused cleanly; a panic is a crash. Returns the counts; prints progress to stderr.
pub fn fuzz(
    name: &str,
    opts: &Options,
    seeds: Vec<Vec<u8>>,
    dict: &[&[u8]],
    target: &dyn Fn(&[u8]) -> Result<String, String>,
) -> Stats {
    // Quiet panics: record the message and location instead of printing a backtrace.
    panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info.location().map(|l| l.to_string()).unwrap_or_default();
        *PANIC_MESSAGE.lock().unwrap_or_else(|p| p.into_inner()) = Some(format!("{msg} at {at}"));
    }));
    let mut corpus: Vec<Vec<u8>> = seeds;
    for dir in &opts.corpus {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                if let Ok(b) = std::fs::read(e.path()) {
                    corpus.push(b);
                }
            }
        }
    }
    let mut rng = Rng::new(opts.seed);
    let mut stats = Stats::default();
    let mut outcomes = HashSet::new();
    let mut crash_sites = HashSet::new();
    let start = Instant::now();
    let mut next_report = Duration::from_secs(10);
    let n_seeds = corpus.len();
    let replay = !opts.replay.is_empty();
    let replays: Vec<Vec<u8>> = opts
        .replay
        .iter()
        .map(|p| std::fs::read(p).unwrap_or_else(|e| usage(&format!("{}: {e}", p.display()))))
        .collect();
    let last_input = std::env::var_os("FUZZ_LAST").map(PathBuf::from);
    let mut i: u64 = 0;
    loop {
        let input = if replay {
            match replays.get(i as usize) {
                Some(b) => b.clone(),
                None => break,
            }
        } else if (i as usize) < n_seeds {
            corpus[i as usize].clone()
        } else {
            if opts.iterations.is_some_and(|n| i >= n)
                || start.elapsed().as_secs_f64() >= opts.seconds
            {
                break;
            }
            let parent = &corpus[rng.below(corpus.len())];
            mutate(&mut rng, parent, &corpus, dict, opts.max_len)
        };
        i += 1;
        stats.inputs += 1;
        // An abort (memory refused where it was not asked for) ends the process before an
        // artifact can be written: with FUZZ_LAST set, every input is written there first.
        if let Some(last) = &last_input {
            let _ = std::fs::write(last, &input);
        }
        stats.bytes += input.len() as u64;
        match panic::catch_unwind(AssertUnwindSafe(|| target(&input))) {
            Ok(result) => {
                let class = match &result {
                    Ok(o) => {
                        stats.accepted += 1;
                        format!("ok {o}")
                    }
                    Err(m) => outcome_class(m),
                };
                if std::env::var_os("FUZZ_SHOW_OUTCOMES").is_some() && !outcomes.contains(&class) {
                    eprintln!("new outcome: {class}");
                }
                // New outcomes join the corpus, and some accepted inputs: they reach deepest.
                let keep = outcomes.insert(class) || (result.is_ok() && rng.chance(8));
                if keep && corpus.len() < 20_000 && !replay {
                    corpus.push(input);
                }
            }
            Err(_) => {
                stats.crashes += 1;
                let msg = PANIC_MESSAGE
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take()
                    .unwrap_or_default();
                let site = msg.rsplit(" at ").next().unwrap_or("").to_string();
                if crash_sites.insert(site) {
                    let _ = std::fs::create_dir_all(&opts.artifacts);
                    let hash = fnv(&input);
                    let path = opts.artifacts.join(format!("{name}-{hash:016x}"));
                    let _ = std::fs::write(&path, &input);
                    let _ = std::fs::write(path.with_extension("txt"), &msg);
                    eprintln!("{name}: CRASH {msg}\n  input saved to {}", path.display());
                }
            }
        }
        if start.elapsed() >= next_report {
            next_report += Duration::from_secs(10);
            eprintln!(
                "{name}: {} inputs, {:.0}/s, {} outcomes, corpus {}, {} crashes",
                stats.inputs,
                stats.inputs as f64 / start.elapsed().as_secs_f64(),
                outcomes.len(),
                corpus.len(),
                stats.crashes
            );
        }
    }
    stats.outcomes = outcomes.len();
    stats.corpus = corpus.len();
    stats.distinct_crashes = crash_sites.len();
    stats.seconds = start.elapsed().as_secs_f64();
    stats
}

/// Prints the final counts (stdout) and returns the process exit code: 1 if anything crashed.
pub fn finish(name: &str, opts: &Options, s: &Stats) -> i32 {
    println!(
        "{name}: seed {} ran {} inputs ({:.1} MB) in {:.1} s ({:.0}/s): {} accepted, {} distinct outcomes, corpus {}, {} crashes ({} distinct){}",
        opts.seed,
        s.inputs,
        s.bytes as f64 / 1e6,
        s.seconds,
        s.inputs as f64 / s.seconds.max(1e-9),
        s.accepted,
        s.outcomes,
        s.corpus,
        s.crashes,
        s.distinct_crashes,
        if s.crashes > 0 {
            format!("; inputs in {}", opts.artifacts.display())
        } else {
            String::new()
        }
    );
    i32::from(s.crashes > 0)
}

/// FNV-1a, to name artifacts by content.
fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, &c| {
        (h ^ c as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// The repository's data/ folder.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("data")
}

/// Gzip of `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = e.write_all(bytes);
    e.finish().unwrap_or_default()
}
