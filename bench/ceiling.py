# The ceiling's clock, shared by torch_baseline.py (torch.mm) and numpy_ceiling.py (numpy.matmul):
# the step's five products timed alone, best-of calls and a sustained loop, or (sustained_only,
# for bench/run.sh's paired measurements) a warm-up and the sustained loop alone. Standard library only.
import time

B = 256
# Warm-up of a sustained-only measurement (bench/run.sh's step 2, beside each training run):
# this many steps of the five products, untimed, before the timed loop; benches/products.rs's
# --sustained-only does the same number.
WARMUP_STEPS = 20


def products_ceiling(shapes, reps=300, rounds=3, steps=705):
    """The ceiling: the step's five products alone, `shapes` = [(name, f, macs)] with f() one
    product into a preallocated output, best of `reps` calls each, at the thread count set by
    the caller. The calls come in `rounds` rounds that go over the five products in turn, so
    that one bad stretch (once, all 300 calls of one product ran at the 1-thread time on 2
    threads) cannot void a product's best. No implementation of this algorithm beats
    B / (sum of the five best times) samples/s without faster kernels."""
    times = {name: [] for name, _, _ in shapes}
    for _ in range(rounds):
        for name, f, _ in shapes:
            for _ in range(max(reps // rounds // 10, 1)):
                f()
            for _ in range(max(reps // rounds, 1)):
                t = time.perf_counter()
                f()
                times[name].append(time.perf_counter() - t)
    # The sustained ceiling: the five products one after the other for as many steps as the
    # training run takes (3 epochs of 60 000 rows at B = 256: 705 steps), timed as a whole,
    # so that what a long loop loses (clock, caches, the VM's slow stretches) counts as it
    # does in training. Compare sustained with sustained, and keep the best-of beside it.
    sustained = sustained_loop(shapes, steps)
    out, total_best, flops = [], 0.0, 0.0
    for name, f, macs in shapes:
        ts = sorted(times[name])
        out.append({"product": name, "best_us": ts[0] * 1e6, "median_us": ts[len(ts) // 2] * 1e6,
                    "best_gflops": 2 * macs / ts[0] / 1e9})
        total_best += ts[0]
        flops += 2 * macs
    return {"reps": reps, "rounds": rounds, "products": out, "products_best_sum_us": total_best * 1e6,
            "products_best_gflops": flops / total_best / 1e9,
            "ceiling_samples_per_s": B / total_best,
            **sustained_keys(shapes, steps, sustained)}


def sustained_loop(shapes, steps):
    """Seconds for `steps` steps of the five products, one after the other, timed whole."""
    t = time.perf_counter()
    for _ in range(steps):
        for _, f, _ in shapes:
            f()
    return time.perf_counter() - t


def sustained_keys(shapes, steps, seconds):
    flops = sum(2 * macs for _, _, macs in shapes)
    return {"sustained_steps": steps, "sustained_step_us": seconds / steps * 1e6,
            "sustained_gflops": flops * steps / seconds / 1e9,
            "sustained_samples_per_s": B * steps / seconds}


def sustained_only(shapes, steps=705, warmup=WARMUP_STEPS):
    """The sustained ceiling alone (--sustained-only): `warmup` untimed steps of the five
    products, then the timed loop of `steps`; the same keys as products_ceiling's sustained."""
    sustained_loop(shapes, warmup)
    return {"warmup_steps": warmup, **sustained_keys(shapes, steps, sustained_loop(shapes, steps))}
