# A second, independent ceiling: the step's five products with numpy.matmul (the OpenBLAS that
# numpy's wheel bundles), at 1 and 2 threads; prints JSON on stdout, as torch_baseline.py's "gemm".
# MKL (torch.mm) is not every CPU's fastest BLAS: on AMD CPUs OpenBLAS's Zen kernels may beat it.
# Usage: bench/.venv/bin/python bench/numpy_ceiling.py [--threads 1,2] [--reps 300] [--steps 705]
#        [--sustained-only]   (warm-up + the sustained loop alone: bench/run.sh's step 2, beside training)
import argparse
import json

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from ceiling import B, products_ceiling, sustained_only

D, H, Q = 784, 256, 10


def gemm_bench(reps, steps, only_sustained=False):
    """numpy.matmul into preallocated C-contiguous outputs; transposed operands as views (.T),
    which numpy hands to BLAS as transposes, not copies."""
    rng = np.random.default_rng(1)
    r = lambda *s: (rng.random(s, dtype=np.float32) * 2 - 1)
    x, w1, w2, h, do, dz = r(B, D), r(H, D), r(Q, H), r(B, H), r(B, Q), r(B, H)
    z, o, dw2, dh, dw1 = (np.empty(s, dtype=np.float32) for s in ((B, H), (B, Q), (Q, H), (B, H), (H, D)))
    shapes = [
        ("Z=X·W1ᵀ", lambda: np.matmul(x, w1.T, out=z), B * H * D),
        ("O=H·W2ᵀ", lambda: np.matmul(h, w2.T, out=o), B * Q * H),
        ("dW2=dOᵀ·H", lambda: np.matmul(do.T, h, out=dw2), Q * H * B),
        ("dH=dO·W2", lambda: np.matmul(do, w2, out=dh), B * H * Q),
        ("dW1=dZᵀ·X", lambda: np.matmul(dz.T, x, out=dw1), H * D * B),
    ]
    if only_sustained:
        return sustained_only(shapes, steps)
    return products_ceiling(shapes, reps, steps=steps)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--reps", type=int, default=300)
    ap.add_argument("--steps", type=int, default=705, help="the sustained loop's steps (a training run's)")
    ap.add_argument("--sustained-only", action="store_true",
                    help="skip the best-of calls: a warm-up and the sustained loop alone")
    a = ap.parse_args()
    blas = [{k: i.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for i in threadpool_info() if i.get("user_api") == "blas"]
    res = {"numpy": np.__version__, "blas": blas, "gemm": []}
    for nt in [int(t) for t in a.threads.split(",")]:
        with threadpool_limits(limits=nt, user_api="blas"):
            res["gemm"].append({"threads": nt, **gemm_bench(a.reps, a.steps, a.sustained_only)})
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
