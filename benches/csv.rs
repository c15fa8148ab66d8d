//! CSV loading through the library's own loader (`mlp_train::data::load`, f32, last column
//! the class label), timed alone: best and median of `--reps` loads of one file, page cache
//! warm. Prints one JSON object. Used by bench/run.sh:
//! `cargo bench --bench csv -- --data bench/data/synth60k.csv [--reps 5]`.

use std::time::Instant;

use mlp_train::data::{self, LabelKind, LabelSpec, LoadOptions, Source};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
            .unwrap_or_else(|| default.to_string())
    };
    let path = arg("--data", "bench/data/synth60k.csv");
    let reps: usize = arg("--reps", "5").parse().expect("--reps N");
    let bytes = std::fs::metadata(&path).expect("the data file").len() as f64;
    let opts = LoadOptions::new(vec![LabelSpec::Last], LabelKind::Classes);
    let src = Source::parse(&path);
    let mut times = Vec::new();
    let mut shape = (0, 0);
    for _ in 0..reps {
        let t0 = Instant::now();
        let frame = data::load::<f32>(&src, &opts).expect("the file loads");
        times.push(t0.elapsed().as_secs_f64());
        shape = frame.x.dim();
    }
    times.sort_by(f64::total_cmp);
    let (best, median) = (times[0], times[times.len() / 2]);
    let json = serde_json::json!({
        "file": path, "file_mb": bytes / 1e6, "rows": shape.0, "features": shape.1,
        "reps": reps, "best_s": best, "median_s": median,
        "best_mb_per_s": bytes / 1e6 / best, "median_mb_per_s": bytes / 1e6 / median,
        "threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
    });
    println!("{}", serde_json::to_string_pretty(&json).unwrap());
}
