# Reads one bench/run.sh results directory and prints the issue-5 table (markdown) on stdout;
# also writes summary.json there. Standard library only.
import json
import re
import statistics
import sys
from pathlib import Path

out = Path(sys.argv[1])
N, D, H, Q, B, EPOCHS = 60000, 784, 256, 10, 256, 3
FLOP_PER_SAMPLE = 4 * D * H + 6 * H * Q


def time_v(name):
    t = (out / f"{name}.time").read_text()
    wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", t).group(1).split(":")
    wall = sum(float(p) * 60 ** i for i, p in enumerate(reversed(wall)))
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
    return wall, rss_kb * 1024


def foreign(name):
    return float((out / f"{name}.foreign").read_text())


def js(name):
    return json.loads((out / f"{name}.out").read_text())


rows, summary = [], {}


def row(target, ours, theirs, ratio, goal, met, note=""):
    rows.append((target, ours, theirs, ratio, goal, "yes" if met else "**no**", note))


prod = js("products")
torch = js("torch")
csv = js("csv")
torch_train = {}
for r in torch["train"]:
    torch_train.setdefault(r["threads"], []).append(r)
torch_gemm = {g["threads"]: g for g in torch["gemm"]}
torch_load_s = torch["read_csv"]["read_csv_c_float32_s"]

for t in (1, 2):
    runs = []
    for r in (1, 2, 3):
        j = js(f"train_t{t}_r{r}")
        wall, rss = time_v(f"train_t{t}_r{r}")
        runs.append((j["samples_per_second"], j["seconds"], wall, rss, foreign(f"train_t{t}_r{r}")))
    sps = statistics.median(r[0] for r in runs)
    wall = statistics.median(r[2] for r in runs)
    rss = max(r[3] for r in runs)
    fmax = max(r[4] for r in runs)
    best_torch = max(torch_train[t], key=lambda r: r["samples_per_s"])
    tsps = best_torch["samples_per_s"]
    row(f"training samples/s, {t}T (training only)", f"{sps:,.0f}", f"{tsps:,.0f} ({best_torch['variant']})",
        f"{sps / tsps:.2f}×", "≥ 1.5×", sps / tsps >= 1.5, f"foreign ≤ {fmax:.2f}/{foreign('torch'):.2f} cores")
    torch_whole = torch_load_s + best_torch["seconds"]
    row(f"whole command, {t}T (CSV + training)", f"{wall:.2f} s", f"{torch_whole:.2f} s (read_csv f32 + train)",
        f"{torch_whole / wall:.2f}×", "≥ 1.5×", torch_whole / wall >= 1.5, "torch: interpreter and imports not counted")
    run = next(r for r in prod["runs"] if r["threads"] == t)
    best_gemm = max(run["products_best_gflops"], torch_gemm[t]["products_best_gflops"])
    achieved = sps * FLOP_PER_SAMPLE / 1e9
    row(f"GFLOP/s achieved vs best GEMM, {t}T", f"{achieved:.1f}", f"{best_gemm:.1f} (faer {run['products_best_gflops']:.1f}, torch {torch_gemm[t]['products_best_gflops']:.1f})",
        f"{achieved / best_gemm:.0%}", "≥ 65%", achieved / best_gemm >= 0.65,
        f"step alone (no gather): {run['step_median_gflops']:.1f} GFLOP/s")
    summary[f"t{t}"] = {"samples_per_s": sps, "torch_samples_per_s": tsps, "wall_s": wall,
                        "torch_whole_s": torch_whole, "gflops": achieved, "best_gemm_gflops": best_gemm,
                        "rss_bytes": rss}

pandas_mbs = max(torch["read_csv"]["read_csv_c_float64_mb_per_s"], torch["read_csv"]["read_csv_c_float32_mb_per_s"])
row("CSV load MB/s vs pandas.read_csv (C engine)", f"{csv['median_mb_per_s']:.0f} ({csv['threads']} threads)",
    f"{pandas_mbs:.0f} (best of float64/float32 dtypes)", f"{csv['median_mb_per_s'] / pandas_mbs:.2f}×", "≥ 2×",
    csv["median_mb_per_s"] / pandas_mbs >= 2, f"{csv['file_mb']:.0f} MB file, page cache warm")

bound = 1.25 * N * D * 4 + 50e6
rss = summary["t1"]["rss_bytes"]
row("peak RSS, training on the 60k file (1T)", f"{rss / 1e6:.0f} MB", f"bound {bound / 1e6:.0f} MB (1.25 × {N * D * 4 / 1e6:.0f} MB + 50 MB)",
    f"{rss / bound:.2f}× bound", "≤ 1×", rss <= bound)

iris = json.loads((out / "iris.json").read_text())["results"][0]
row("iris, 100 epochs, end to end (hyperfine)", f"{iris['mean'] * 1e3:.1f} ± {iris['stddev'] * 1e3:.1f} ms", "",
    f"median {iris['median'] * 1e3:.1f} ms", "well under 50 ms", iris["median"] < 0.025)

sweep_wall, _ = time_v("sweep_rust")
sk = js("sweep_sklearn")
sk_total = sk["total_s"]
row("50-fit sweep on digits, 50 epochs", f"{sweep_wall:.2f} s (50 processes)", f"{sk_total:.2f} s (sklearn, 1 process; fits alone {sk['fits_s']:.2f} s)",
    f"{sk_total / sweep_wall:.1f}×", "faster", sweep_wall < sk_total)

print(f"results: {out}\n")
print("| target | mlp-train | baseline | ratio | goal | met | note |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
(out / "summary.json").write_text(json.dumps(summary, indent=2))
