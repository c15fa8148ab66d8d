//! The data layer's threads: a small file is read and standardized on the caller's thread
//! (no thread started: sweeps run one process per core), a large one on a pool of one per core.

use std::path::Path;

use mlp_train::data::prep::{Prep, Task};
use mlp_train::data::{self, LabelKind, LabelSpec, LoadOptions, Source};

/// Names of this process's threads that belong to the data layer's pool (Linux).
fn data_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
                .filter(|n| n.starts_with("mlp-train-data"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn a_small_file_starts_no_thread_and_a_large_one_a_pool() {
    if !Path::new("/proc/self/task").exists() {
        eprintln!("SKIPPED: no /proc/self/task to count threads in");
        return;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let opts = LoadOptions::new(vec![LabelSpec::Last], LabelKind::Classes);
    let iris = Source::parse(concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv"));
    let frame = data::load::<f32>(&iris, &opts).unwrap();
    let prep = Prep::fit(&frame, Task::Classify, true, true, true).unwrap();
    let d = prep.transform(frame).unwrap();
    assert_eq!(d.x.ncols(), 5);
    assert_eq!(data_threads(), 0, "iris started the data layer's threads");

    // 4 MB of rows: more than one stretch, and a matrix worth standardizing on every core.
    let mut text = String::from("a,b,c,d,label\n");
    for i in 0..200_000 {
        text.push_str(&format!(
            "{}.25,{}.5,-{}.75,{},{}\n",
            i % 97,
            i % 13,
            i % 7,
            i,
            i % 3
        ));
    }
    let frame = data::parse::<f32>(Path::new("big.csv"), text.as_bytes(), &opts).unwrap();
    assert_eq!(frame.x.dim(), (200_000, 4));
    assert_eq!(frame.x[[199_999, 3]], 199_999.0);
    let prep = Prep::fit(&frame, Task::Classify, true, true, true).unwrap();
    prep.transform(frame).unwrap();
    if cores >= 2 {
        assert_eq!(data_threads(), cores.min(8), "one thread per core");
    } else {
        eprintln!("SKIPPED: one core, so the data layer starts no pool");
    }
}
