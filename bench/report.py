# Reads one bench/run.sh results directory and prints the table of issues 5 and 12 (markdown)
# on stdout; with --write (run.sh's call) also writes summary.json there, so that re-reading a
# committed results directory leaves it as it was. Standard library only.
#
#   python3 bench/report.py bench/results/<run> [--write]
#
# The ceiling at T threads is the step's five products alone on the same shapes (B = 256) at T
# threads, by the fastest of three BLAS on this machine: torch.mm (MKL), numpy.matmul (OpenBLAS,
# each kernel set tried) and mlp-train's own products (benches/products.rs: faer, math::outer). Best-of: B / (sum of
# the five best times) samples/s; sustained: the five looped for as many steps as training
# takes. The verdict of issue 24 is the paired row: in each round of run.sh's step 2, every
# candidate's sustained ceiling is timed right before the training run it divides
# (paired_<candidate>_tT_rR), the round's ratio is that run's samples/s over the fastest of
# them, and the row gives the median ratio over the rounds. The best-of and sustained ceilings
# of steps 1, 5 and 5b, timed minutes apart from training (this VM drifts by 10-15 % over tens
# of minutes), are shown beside it as information: mlp-train's median training samples/s as a
# share of each. Results without paired files (before 20261207-20) get those rows only.
import argparse
import json
import re
import statistics
from pathlib import Path

ap = argparse.ArgumentParser(description="Prints the table of one bench/run.sh results directory.")
ap.add_argument("results", type=Path, help="a bench/results/<run> directory")
ap.add_argument("--write", action="store_true", help="also write its summary.json (run.sh's call)")
cli = ap.parse_args()
write = cli.write
out = cli.results
N, D, H, Q, B, EPOCHS = 60000, 784, 256, 10, 256, 3
SUSTAINED_STEPS = EPOCHS * -(-N // B)
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


def middle(xs, key=None):
    """The middle one of xs, in the order of `key` (the upper of the two middle ones for an even
    count): a run that happened, not an average of two."""
    xs = sorted(xs, key=key)
    return xs[len(xs) // 2]


rows, summary = [], {}


def row(target, ours, theirs, ratio, goal, met, note=""):
    rows.append((target, ours, theirs, ratio, goal, "—" if met is None else "yes" if met else "**no**", note))


def numpy_label(j, kernels):
    arch = "/".join(b.get("architecture") or "?" for b in j["blas"]) or "?"
    how = "its own pick" if kernels == "auto" else f"OPENBLAS_CORETYPE={kernels}"
    return f"numpy.matmul, OpenBLAS {arch} ({how})"


prod = js("products")
torch = js("torch")
csv = js("csv")
torch_train = {}
for r in torch["train"]:
    torch_train.setdefault(r["threads"], []).append(r)
torch_gemm = {g["threads"]: g for g in torch["gemm"]}
torch_load_s = torch["read_csv"]["read_csv_c_float32_s"]
# numpy's OpenBLAS ceilings (results before 20261207-14 have none), one file per kernel set.
numpy_gemm = {}
for p in sorted(out.glob("numpy_*.out")):
    j = js(p.stem)
    for g in j["gemm"]:
        numpy_gemm.setdefault(g["threads"], []).append((numpy_label(j, p.stem[len("numpy_"):]), g))


def ceilings(t, run):
    """[(source, best-of samples/s, sustained samples/s, best-of GFLOP/s)] at t threads: torch.mm,
    each numpy kernel set, mlp-train's own products alone (faer, and math::outer for dW)."""
    g = torch_gemm[t]
    c = [("torch.mm, MKL", g["ceiling_samples_per_s"], g.get("sustained_samples_per_s"), g["products_best_gflops"])]
    c += [(name, n["ceiling_samples_per_s"], n["sustained_samples_per_s"], n["products_best_gflops"])
          for name, n in numpy_gemm.get(t, [])]
    c.append(("mlp-train's products (benches/products.rs: faer, dW by math::outer)", B / (run["products_best_sum_us"] * 1e-6),
              run.get("products_sustained_samples_per_s"), run["products_best_gflops"]))
    return c


def listed(cs, i):
    return "; ".join(f"{c[0]} {c[i]:,.0f}" for c in cs if c[i])


def paired(t):
    """The rounds of run.sh's step 2 at t threads that have paired ceilings:
    [(round, training samples/s, [(candidate, sustained samples/s)], worst foreign load)]."""
    rounds = []
    for k, name in enumerate(runs_of(t), 1):
        suffix = f"_t{t}_r{k}"
        cands, worst = [], foreign(name)
        for p in sorted(out.glob(f"paired_*{suffix}.out")):
            which = p.stem[len("paired_"):-len(suffix)]
            j = js(p.stem)
            if which == "torch":
                cands.append(("torch.mm, MKL", j["gemm"][0]["sustained_samples_per_s"]))
            elif which == "products":
                cands.append(("mlp-train's products", j["runs"][0]["products_sustained_samples_per_s"]))
            else:
                cands.append((numpy_label(j, which[len("numpy_"):]), j["gemm"][0]["sustained_samples_per_s"]))
            worst = max(worst, foreign(p.stem))
        if cands:
            rounds.append((k, js(name)["samples_per_second"], cands, worst))
    return rounds

def runs_of(t):
    k = 1
    while (out / f"train_t{t}_r{k}.out").exists():
        yield f"train_t{t}_r{k}"
        k += 1


for t in (1, 2):
    runs = []
    for name in runs_of(t):
        j = js(name)
        wall, rss = time_v(name)
        runs.append((j["samples_per_second"], j["seconds"], wall, rss, foreign(name)))
    sps = statistics.median(r[0] for r in runs)
    wall = statistics.median(r[2] for r in runs)
    rss = max(r[3] for r in runs)
    fmax = max(r[4] for r in runs)
    run = next(r for r in prod["runs"] if r["threads"] == t)
    cs = ceilings(t, run)
    top = max(cs, key=lambda c: c[1])
    ceiling = top[1]
    faer_alone = cs[-1][1]
    # Issue 24's verdict: each round's training run over the fastest sustained ceiling timed
    # right before it (run.sh's step 2), the median of the rounds' ratios.
    pairs = paired(t)
    paired_summary = None
    if pairs:
        ratios = [(sps_r / max(c[1] for c in cands), k, sps_r, max(cands, key=lambda c: c[1]), f)
                  for k, sps_r, cands, f in pairs]
        mid = statistics.median(r[0] for r in ratios)
        row(f"training vs the sustained ceiling measured beside it, {t}T",
            f"{statistics.median(r[2] for r in ratios):,.0f} (median of the rounds' runs)",
            f"each round's fastest sustained ceiling (the five products × {SUSTAINED_STEPS} steps), timed right before its training run",
            f"{mid:.0%} (median of {len(ratios)} rounds)", "≥ 90% (issue 24)", mid >= 0.9,
            "; ".join(f"r{k} {q:.0%} = {sps_r:,.0f} / {top_r[1]:,.0f} ({top_r[0]})" for q, k, sps_r, top_r, _ in ratios)
            + f"; foreign ≤ {max(r[4] for r in ratios):.2f} cores")
        paired_summary = {"median_share": mid, "rounds": [
            {"round": k, "samples_per_s": sps_r, "share": q, "ceiling_source": top_r[0],
             "ceiling_samples_per_s": top_r[1], "candidates": {c[0]: c[1] for c in cands}}
            for (q, k, sps_r, top_r, _), (_, _, cands, _) in zip(ratios, pairs)]}
    # Without paired rounds (results before 20261207-20) the rows below were the verdicts.
    verdict = (lambda met: None) if pairs else (lambda met: met)
    row(f"training samples/s vs the ceiling, best-of, timed minutes apart, {t}T", f"{sps:,.0f}",
        f"ceiling {ceiling:,.0f} ({top[0]}, best of {torch_gemm[t]['reps']})", f"{sps / ceiling:.0%}",
        "(information)" if pairs else "≥ 90%", verdict(sps / ceiling >= 0.9),
        f"{len(runs)} runs, foreign ≤ {fmax:.2f}/{foreign('torch'):.2f} cores; all: {listed(cs, 1)}")
    # The sustained ceiling (issue 24): the five products looped for as many steps as the
    # training run takes, timed whole (results before 20261207 have none).
    sus = [c for c in cs if c[2]]
    sustained = None
    if sus:
        stop = max(sus, key=lambda c: c[2])
        sustained = stop[2]
        row(f"training samples/s vs the sustained ceiling, timed minutes apart, {t}T", f"{sps:,.0f}",
            f"sustained ceiling {sustained:,.0f} ({stop[0]}, the five products × {torch_gemm[t]['sustained_steps']} steps)",
            f"{sps / sustained:.0%}", "(information)" if pairs else "≥ 90% (issue 24)", verdict(sps / sustained >= 0.9),
            f"best-of ceiling {ceiling:,.0f} ({sps / ceiling:.0%}); all sustained: {listed(cs, 2)}")
    best_torch = max(torch_train[t], key=lambda r: r["samples_per_s"])
    tsps = best_torch["samples_per_s"]
    row(f"training samples/s vs PyTorch, {t}T (training only)", f"{sps:,.0f}", f"{tsps:,.0f} ({best_torch['variant']}, C-contiguous X)",
        f"{sps / tsps:.2f}×", "≥ 1.5× (issue 5)", sps / tsps >= 1.5, "")
    torch_whole = torch_load_s + best_torch["seconds"]
    row(f"whole command, {t}T (CSV + training)", f"{wall:.2f} s", f"{torch_whole:.2f} s (read_csv f32 + train)",
        f"{torch_whole / wall:.2f}×", "≥ 1.5× (issue 5)", torch_whole / wall >= 1.5, "torch: interpreter and imports not counted")
    achieved = sps * FLOP_PER_SAMPLE / 1e9
    summary[f"t{t}"] = {"samples_per_s": sps, "ceiling_samples_per_s": ceiling, "ceiling_source": top[0],
                        "ceilings": [{"source": c[0], "best_of_samples_per_s": c[1], "sustained_samples_per_s": c[2]}
                                     for c in cs],
                        "share_of_ceiling": sps / ceiling,
                        "torch_samples_per_s": tsps, "wall_s": wall, "torch_whole_s": torch_whole, "gflops": achieved,
                        "ceiling_gflops": top[3],
                        "faer_products_alone_samples_per_s": faer_alone, "rss_bytes": rss,
                        "sustained_ceiling_samples_per_s": sustained,
                        "share_of_sustained_ceiling": sps / sustained if sustained else None,
                        "paired_sustained": paired_summary}

# Small models (issue 24): digits 65→h→10, B 32, 300 epochs, 1 thread, against their FLOP
# floor: 4dh + 6hq FLOP per sample at the best large-GEMM rate of this run (the fastest of the
# ceilings' five products at 1 thread, best of REPS calls each), goal ≥ 25 % of it.
rate_src, _, _, large_gflops = max(ceilings(1, next(r for r in prod["runs"] if r["threads"] == 1)), key=lambda c: c[3])
large_rate = large_gflops * 1e9
for h in (32, 64):
    names = sorted(p.stem for p in out.glob(f"small_h{h}_r*.out"))
    if not names:
        continue
    small = [(js(n)["samples_per_second"], foreign(n)) for n in names]
    d, q = js(names[0])["inputs"], js(names[0])["outputs"]
    sps = statistics.median(r[0] for r in small)
    floor = large_rate / (4 * d * h + 6 * h * q)
    row(f"small model: digits {d}→{h}→{q}, B 32, 1T, vs its FLOP floor", f"{sps:,.0f} samples/s",
        f"floor {floor:,.0f} ({4 * d * h + 6 * h * q:,} FLOP/sample at {large_rate / 1e9:.1f} GFLOP/s, {rate_src} best, 1T)",
        f"{sps / floor:.0%}", "≥ 25% (issue 24)", sps / floor >= 0.25,
        f"median of {len(small)} runs ({', '.join(f'{r[0]:,.0f}' for r in sorted(small))}); foreign ≤ {max(r[1] for r in small):.2f} cores")
    summary[f"small_h{h}"] = {"samples_per_s": sps, "floor_samples_per_s": floor, "share_of_floor": sps / floor}

# Growth (issue 24): samples/s flat within 10 % from n = 10^3 to 6·10^4 rows (180 000 samples
# each, 1 thread), and peak RSS = the f32 data + ~15 MB. Each size's figure is its middle run
# (run.sh times RUNS rounds of the sizes in turns; results before 20261207-2338 have one run each,
# growth_n<n>.out).
growth = []
for n in (1000, 6000, 60000):
    names = sorted(p.stem for p in out.glob(f"growth_n{n}_r*.out")) or \
        ([f"growth_n{n}"] if (out / f"growth_n{n}.out").exists() else [])
    if not names:
        continue
    runs = [(js(m)["samples_per_second"], time_v(m)[1], foreign(m)) for m in names]
    sps, rss, _ = middle(runs, key=lambda r: r[0])
    growth.append((n, sps, rss, max(r[2] for r in runs), sorted(r[0] for r in runs)))
if len(growth) > 1:
    rates = [g[1] for g in growth]
    spread = min(rates) / max(rates)
    row("growth: samples/s from n = 10³ to 6·10⁴ rows (1T, 180 000 samples each)",
        ", ".join(f"n {g[0]:,}: {g[1]:,.0f}" for g in growth), "the fastest of them", f"{spread:.2f}× (slowest/fastest)",
        "≥ 0.90×", spread >= 0.9,
        f"middle of {len(growth[0][4])} runs each ("
        + "; ".join(f"n {g[0]:,}: " + ", ".join(f"{v:,.0f}" for v in g[4]) for g in growth) + "); "
        + "peak RSS − f32 data: " + ", ".join(f"{(g[2] - g[0] * D * 4) / 1e6:.0f} MB" for g in growth)
        + f" (goal ~15 MB); foreign ≤ {max(g[3] for g in growth):.2f} cores")
    summary["growth"] = [{"rows": g[0], "samples_per_s": g[1], "rss_bytes": g[2], "runs_samples_per_s": g[4]}
                         for g in growth]

# Two --threads 2 runs side by side on two cores: the threads linalg::awake keeps looking for
# work must yield the core to the other run's (a busy spin halved both runs: 499ceaf).
if (out / "pair.out").exists():
    pair = sorted([js("pair")["samples_per_second"], json.loads((out / "pair_b.json").read_text())["samples_per_second"]])
    one = summary["t1"]["samples_per_s"]
    row("two --threads 2 runs side by side (4 threads, 2 cores)", f"{pair[0]:,.0f} and {pair[1]:,.0f} samples/s",
        f"1 thread alone {one:,.0f}", f"{pair[0] / one:.2f}× (the slower)", "(information)", None,
        f"foreign ≤ {foreign('pair'):.2f} cores")
    summary["side_by_side_samples_per_s"] = pair

read_csv = torch["read_csv"]
# Both sides as medians of CSV_REPS runs, taken in turns (pandas_r1 after csv_whole_r1, …) so
# that both meet the same state of the machine: pandas.read_csv with its faster dtype (float32,
# bench/pandas_read.py), and mlp-train's whole CSV-load process. Older results: the reads in
# torch_baseline.py, and csv_whole.
pandas_times = sorted(js(p.stem)["read_csv_c_float32_s"] for p in out.glob("pandas_r*.out"))
pandas_times = pandas_times or read_csv.get("read_csv_c_float32_runs_s") or [read_csv["read_csv_c_float32_s"]]
pandas_s = middle(pandas_times)
pandas_runs = len(pandas_times)
whole = sorted(p.stem for p in out.glob("csv_whole_r*.time")) or ["csv_whole"]
csv_runs = sorted((time_v(name) + (foreign(name),) for name in whole), key=lambda r: r[0])
csv_wall, csv_rss, csv_foreign = middle(csv_runs, key=lambda r: r[0])
row("CSV load: the whole process vs pandas.read_csv alone", f"{csv_wall:.2f} s (`--hidden 1 --epochs 1 --batch-size 60000`, median of {len(csv_runs)})",
    f"{pandas_s:.2f} s (C engine, float32, median of {pandas_runs})", f"{pandas_s / csv_wall:.2f}×", "≥ 2×",
    pandas_s / csv_wall >= 2, f"{csv['file_mb']:.0f} MB file, page cache warm; runs {', '.join(f'{r[0]:.2f}' for r in csv_runs)} s against {', '.join(f'{t:.2f}' for t in sorted(pandas_times))} s; foreign ≤ {max(r[2] for r in csv_runs):.2f} cores")
warm = read_csv.get("read_csv_c_float32_runs_s")
if warm and list(out.glob("pandas_r*.out")):
    warm_s = middle(warm)
    row("CSV load vs pandas.read_csv repeated in one Python process", f"{csv_wall:.2f} s (as above)",
        f"{warm_s:.2f} s (median of {len(warm)} reads in one process, after a float64 read: allocator warm)", f"{warm_s / csv_wall:.2f}×",
        "(information)", None, "torch_baseline.py's reads: " + ", ".join(f"{t:.2f}" for t in warm) + " s")
pandas_mbs = max(read_csv["read_csv_c_float64_mb_per_s"], read_csv["read_csv_c_float32_mb_per_s"])
row("CSV loader alone, MB/s vs pandas.read_csv", f"{csv['median_mb_per_s']:.0f} ({csv['threads']} threads)",
    f"{pandas_mbs:.0f}", f"{csv['median_mb_per_s'] / pandas_mbs:.2f}×", "(information)", None,
    f"median of {csv['reps']} loads (benches/csv.rs)")
summary["csv"] = {"whole_process_s": csv_wall, "whole_process_runs_s": [r[0] for r in csv_runs],
                  "pandas_read_csv_s": pandas_s, "pandas_read_csv_runs_s": sorted(pandas_times),
                  "ratio": pandas_s / csv_wall, "rss_bytes": csv_rss}

bound = 1.25 * N * D * 4 + 50e6
for label, rss in (("training on the 60k file (1T)", summary["t1"]["rss_bytes"]),
                   ("training on the 60k file (2T)", summary["t2"]["rss_bytes"])):
    row(f"peak RSS, {label}", f"{rss / 1e6:.0f} MB", f"bound {bound / 1e6:.0f} MB (1.25 × {N * D * 4 / 1e6:.0f} MB + 50 MB)",
        f"{rss / bound:.2f}× bound", "≤ 1×", rss <= bound)
# With --batch-size 60000 the minibatch buffer is a second copy of X: not the training bound.
row("peak RSS, the CSV-load process (B = 60000)", f"{csv_rss / 1e6:.0f} MB", f"X alone {N * D * 4 / 1e6:.0f} MB (f32)",
    f"{csv_rss / (N * D * 4):.2f}× X", "(information)", None, "one minibatch of every row: trained in place, no copy")

if (out / "iris.json").exists():
    iris = json.loads((out / "iris.json").read_text())["results"][0]
    row("iris, 100 epochs, end to end (hyperfine)", f"{iris['mean'] * 1e3:.1f} ± {iris['stddev'] * 1e3:.1f} ms", "",
        f"median {iris['median'] * 1e3:.1f} ms", "well under 50 ms", iris["median"] < 0.025)
else:
    row("iris, 100 epochs, end to end (hyperfine)", "not measured", "", "", "well under 50 ms", None,
        "hyperfine was not installed")

sweep_wall, _ = time_v("sweep_rust")
sk = js("sweep_sklearn")
sk_total = sk["total_s"]
row("50-fit sweep on digits, 50 epochs", f"{sweep_wall:.2f} s (50 processes)", f"{sk_total:.2f} s (sklearn, 1 process; fits alone {sk['fits_s']:.2f} s)",
    f"{sk_total / sweep_wall:.1f}×", "faster", sweep_wall < sk_total)

print(f"results: {out}\n")
machine = out / "machine.txt"
if machine.exists():
    for line in machine.read_text().splitlines():
        print(f"- {line}")
if prod.get("kernels"):
    print(f"- kernels (benches/products.rs): {prod['kernels']}")
print()
print("| target | mlp-train | baseline | ratio | goal | met | note |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
if write:
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
