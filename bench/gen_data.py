# Writes the synthetic benchmark CSVs (header p0..p{d-1},label; 10 classes; class means + Gaussian noise, fixed seed).
# Usage: python3 bench/gen_data.py [--rows 60000 --dim 784 --out bench/data/synth60k.csv] [--digits]  (numpy if importable, else stdlib)
import argparse
import os
import sys

CLASSES = 10


def write_numpy(path, rows, dim, seed, sep):
    import numpy as np

    rng = np.random.default_rng(seed)
    means = rng.normal(0.0, sep, size=(CLASSES, dim)).astype(np.float32)
    labels = rng.integers(0, CLASSES, size=rows)
    fmt = ",".join(["%.4g"] * dim) + ",%d"
    with open(path, "w", newline="\n") as f:
        f.write(",".join(f"p{j}" for j in range(dim)) + ",label\n")
        chunk = 2000
        for s in range(0, rows, chunk):
            y = labels[s : s + chunk]
            x = means[y] + rng.normal(0.0, 1.0, size=(len(y), dim)).astype(np.float32)
            f.write("".join(fmt % (*row, lab) + "\n" for row, lab in zip(x.tolist(), y.tolist())))


def write_stdlib(path, rows, dim, seed, sep):
    import random

    rng = random.Random(seed)
    means = [[rng.gauss(0.0, sep) for _ in range(dim)] for _ in range(CLASSES)]
    with open(path, "w", newline="\n") as f:
        f.write(",".join(f"p{j}" for j in range(dim)) + ",label\n")
        for _ in range(rows):
            y = rng.randrange(CLASSES)
            mu = means[y]
            f.write(",".join("%.4g" % (m + rng.gauss(0.0, 1.0)) for m in mu) + f",{y}\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=60000)
    ap.add_argument("--dim", type=int, default=784)
    ap.add_argument("--seed", type=int, default=20240605)
    ap.add_argument("--sep", type=float, default=0.1, help="std-dev of the class means (noise std-dev is 1)")
    ap.add_argument("--out", default=os.path.join(here, "data", "synth60k.csv"))
    ap.add_argument("--digits", action="store_true", help="also write data/synth_digits.csv (1797 x 64)")
    ap.add_argument("--stdlib", action="store_true", help="do not use numpy even if present")
    a = ap.parse_args()
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    try:
        if a.stdlib:
            raise ImportError
        import numpy  # noqa: F401

        writer = write_numpy
    except ImportError:
        writer = write_stdlib
    writer(a.out, a.rows, a.dim, a.seed, a.sep)
    print(f"wrote {a.out} ({os.path.getsize(a.out) / 1e6:.1f} MB, {writer.__name__})", file=sys.stderr)
    if a.digits:
        out = os.path.join(os.path.dirname(os.path.abspath(a.out)), "synth_digits.csv")
        writer(out, 1797, 64, a.seed + 1, 0.5)
        print(f"wrote {out} ({os.path.getsize(out) / 1e6:.2f} MB)", file=sys.stderr)


if __name__ == "__main__":
    main()
