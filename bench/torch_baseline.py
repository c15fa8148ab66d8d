# PyTorch eager CPU baseline for issue 5: 784-256-10 ReLU MLP, no bias, softmax CE + lambda/2 L2, SGD lr 0.1, B=256, 3 epochs.
# Usage: bench/.venv/bin/python bench/torch_baseline.py [--data bench/data/synth60k.csv] [--threads 1,2]; prints JSON on stdout.
# --sustained-only [--steps 705]: no CSV, no training, no best-of calls: a warm-up and the
# ceiling's sustained loop alone at each thread count (bench/run.sh's step 2, beside training).
import argparse
import json
import os
import sys
import time

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from ceiling import products_ceiling, sustained_only  # the same clock as numpy_ceiling.py's
from pandas_read import read_float32  # the same float32 read as run.sh's fresh-process runs

D, H, Q = 784, 256, 10


def load(path, reps):
    size = os.path.getsize(path)
    t = time.perf_counter()
    df = pd.read_csv(path, engine="c")
    dt64 = time.perf_counter() - t
    del df
    # pandas' faster dtype here (float32, straight into the matrix PyTorch trains on), read
    # `reps` times: its median is the baseline of the CSV-load ratio (mlp-train's side is the
    # median of as many runs too).
    times32 = []
    for _ in range(max(reps, 1)):
        t = time.perf_counter()
        df32 = read_float32(path)
        times32.append(time.perf_counter() - t)
    dt32 = sorted(times32)[len(times32) // 2]
    # DataFrame.to_numpy() is column-major (strides (4, 4n)): every minibatch gather and the
    # first product would run on a transposed layout. C-contiguous rows give PyTorch its best setup.
    x = torch.from_numpy(np.ascontiguousarray(df32.iloc[:, :D].to_numpy(dtype=np.float32)))
    assert x.is_contiguous() and x.stride() == (D, 1)
    y = torch.from_numpy(df32["label"].to_numpy(dtype=np.int64, copy=True))
    info = {
        "file": path,
        "file_mb": size / 1e6,
        "read_csv_c_float64_s": dt64,
        "read_csv_c_float64_mb_per_s": size / 1e6 / dt64,
        "read_csv_c_float32_s": dt32,
        "read_csv_c_float32_runs_s": times32,
        "read_csv_c_float32_mb_per_s": size / 1e6 / dt32,
    }
    return x, y, info


def init(seed):
    g = torch.Generator().manual_seed(seed)
    w1 = (torch.randn(H, D, generator=g) * (2.0 / D) ** 0.5).float()
    w2 = (torch.randn(Q, H, generator=g) * (2.0 / H) ** 0.5).float()
    return w1, w2, g


def train_autograd(x, y, epochs, bs, lr, lam, seed):
    w1, w2, g = init(seed)
    l1 = torch.nn.Linear(D, H, bias=False)
    l2 = torch.nn.Linear(H, Q, bias=False)
    with torch.no_grad():
        l1.weight.copy_(w1)
        l2.weight.copy_(w2)
    model = torch.nn.Sequential(l1, torch.nn.ReLU(), l2)
    # SGD weight_decay adds lam*W to the gradient: exactly the gradient of lam/2 * ||W||^2.
    opt = torch.optim.SGD(model.parameters(), lr=lr, weight_decay=lam)
    n = x.shape[0]
    loss = None
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        for s in range(0, n, bs):
            idx = perm[s : s + bs]
            out = model(x[idx])
            loss = F.cross_entropy(out, y[idx])
            opt.zero_grad(set_to_none=False)
            loss.backward()
            opt.step()
    return float(loss)


@torch.no_grad()
def train_manual(x, y, epochs, bs, lr, lam, seed):
    """The same five products as mlp-train, hand-written gradients, in-place updates."""
    w1, w2, g = init(seed)
    n = x.shape[0]
    loss = None
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        for s in range(0, n, bs):
            idx = perm[s : s + bs]
            xb, yb = x[idx], y[idx]
            b = xb.shape[0]
            z = xb @ w1.T
            h = z.clamp_min(0.0)
            o = h @ w2.T
            p = torch.softmax(o, dim=1)
            loss = -torch.log(p[torch.arange(b), yb]).mean()
            p[torch.arange(b), yb] -= 1.0
            do = p.div_(b)
            dw2 = do.T @ h
            dz = (do @ w2).mul_(z > 0)
            dw1 = dz.T @ xb
            dw2.add_(w2, alpha=lam)
            dw1.add_(w1, alpha=lam)
            w2.add_(dw2, alpha=-lr)
            w1.add_(dw1, alpha=-lr)
    return float(loss)



def gemm_bench(reps=300, rounds=3, steps=705, only_sustained=False):
    """The ceiling with torch.mm (MKL on x86) on the step's five shapes (ceiling.py)."""
    B = 256
    g = torch.Generator().manual_seed(1)
    r = lambda *s: torch.rand(*s, generator=g) * 2 - 1
    x, w1, w2, h, do, dz = r(B, D), r(H, D), r(Q, H), r(B, H), r(B, Q), r(B, H)
    z, o, dw2, dh, dw1 = torch.empty(B, H), torch.empty(B, Q), torch.empty(Q, H), torch.empty(B, H), torch.empty(H, D)
    shapes = [
        ("Z=X·W1ᵀ", lambda: torch.mm(x, w1.T, out=z), B * H * D),
        ("O=H·W2ᵀ", lambda: torch.mm(h, w2.T, out=o), B * Q * H),
        ("dW2=dOᵀ·H", lambda: torch.mm(do.T, h, out=dw2), Q * H * B),
        ("dH=dO·W2", lambda: torch.mm(do, w2, out=dh), B * H * Q),
        ("dW1=dZᵀ·X", lambda: torch.mm(dz.T, x, out=dw1), H * D * B),
    ]
    if only_sustained:
        return sustained_only(shapes, steps)
    return products_ceiling(shapes, reps, rounds, steps)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(here, "data", "synth60k.csv"))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--lam", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reps", type=int, default=300, help="torch.mm calls per product for the ceiling")
    ap.add_argument("--csv-reps", type=int, default=5, help="float32 read_csv runs (their median is reported)")
    ap.add_argument("--sustained-only", action="store_true",
                    help="only the ceiling's warm-up and sustained loop (no CSV, no training, no best-of calls)")
    ap.add_argument("--steps", type=int, default=705,
                    help="with --sustained-only: the loop's steps (the training run's: 3 epochs of 60 000 at B 256)")
    a = ap.parse_args()
    if a.sustained_only:
        res = {"torch": torch.__version__, "torch_config_cpu_capability": torch.backends.cpu.get_cpu_capability(),
               "gemm": []}
        for nt in [int(t) for t in a.threads.split(",")]:
            torch.set_num_threads(nt)
            res["gemm"].append({"threads": nt, **gemm_bench(steps=a.steps, only_sustained=True)})
        json.dump(res, sys.stdout, indent=2)
        print()
        return
    x, y, info = load(a.data, a.csv_reps)
    res = {
        "x_layout": {"contiguous": x.is_contiguous(), "stride": list(x.stride())},
        "torch": torch.__version__,
        "torch_config_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "samples": int(x.shape[0]),
        "epochs": a.epochs,
        "batch": a.batch,
        "pandas": pd.__version__,
        "read_csv": info,
        "train": [],
    }
    res["gemm"] = []
    for nt in [int(t) for t in a.threads.split(",")]:
        torch.set_num_threads(nt)
        steps = a.epochs * -(-x.shape[0] // a.batch)
        res["gemm"].append({"threads": nt, **gemm_bench(a.reps, steps=steps)})
        for name, fn in (("autograd_nn_linear", train_autograd), ("manual_matmuls", train_manual)):
            fn(x[:2560], y[:2560], 1, a.batch, a.lr, a.lam, a.seed)  # warm-up
            t = time.perf_counter()
            loss = fn(x, y, a.epochs, a.batch, a.lr, a.lam, a.seed)
            dt = time.perf_counter() - t
            steps = a.epochs * -(-x.shape[0] // a.batch)
            res["train"].append(
                {
                    "threads": nt,
                    "variant": name,
                    "seconds": dt,
                    "samples_per_s": a.epochs * x.shape[0] / dt,
                    "ms_per_step": dt / steps * 1e3,
                    "final_batch_loss": loss,
                }
            )
            print(f"[torch] {name} threads={nt}: {a.epochs * x.shape[0] / dt:,.0f} samples/s", file=sys.stderr)
    json.dump(res, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
