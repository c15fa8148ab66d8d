# pandas.read_csv alone on the benchmark file, as PyTorch's baseline reads it (C engine, float32
# features): one read, timed without the interpreter's start-up and imports; prints JSON.
# run.sh interleaves these reads with mlp-train's CSV-load runs, so both sides meet the same
# state of the machine.
#   bench/.venv/bin/python bench/pandas_read.py --data bench/data/synth60k.csv
import argparse
import json
import os
import time

import numpy as np
import pandas as pd

D = 784


def read_float32(path):
    """The baseline's read: the C engine, the features straight into float32 (pandas' faster
    dtype here). torch_baseline.py reads the file with this same call."""
    return pd.read_csv(path, engine="c", dtype={f"p{j}": np.float32 for j in range(D)})


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "data", "synth60k.csv"))
    a = ap.parse_args()
    t = time.perf_counter()
    df = read_float32(a.data)
    dt = time.perf_counter() - t
    assert df.shape == (60000, D + 1), df.shape
    print(json.dumps({"file": a.data, "read_csv_c_float32_s": dt, "rows": len(df)}))
