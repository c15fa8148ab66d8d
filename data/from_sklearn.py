#!/usr/bin/env python3
"""Write iris.csv, digits.csv and regression.csv from the data files that ship inside scikit-learn.

Standard library only: scikit-learn is located, not imported, so numpy is not needed.

    pip install scikit-learn            # or: pip download --no-deps scikit-learn; unzip the wheel
    python3 data/from_sklearn.py [SKLEARN_DATA_DIR] [OUT_DIR]

SKLEARN_DATA_DIR defaults to <site-packages>/sklearn/datasets/data of the installed package,
OUT_DIR to the folder of this script.
"""

import csv
import gzip
import importlib.util
import os
import sys


def sklearn_data_dir():
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("scikit-learn is not installed; pass its sklearn/datasets/data folder as the first argument")
    return os.path.join(list(spec.submodule_search_locations)[0], "datasets", "data")


def write(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    print(f"{path}: {len(rows)} rows x {len(header)} columns")


def iris(src, out):
    # First line: n_samples, n_features, then the class names; then 4 features and a 0/1/2 target.
    with open(os.path.join(src, "iris.csv"), newline="") as f:
        r = csv.reader(f)
        first = next(r)
        n, d, names = int(first[0]), int(first[1]), first[2:]
        rows = [row[:d] + [names[int(row[d])]] for row in r]
    assert len(rows) == n == 150, len(rows)
    header = ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"]
    write(os.path.join(out, "iris.csv"), header, rows)


def digits(src, out):
    # No header: 64 pixel counts 0..16, then the digit 0..9.
    with gzip.open(os.path.join(src, "digits.csv.gz"), "rt", newline="") as f:
        rows = [[str(int(float(v))) for v in row] for row in csv.reader(f)]
    assert len(rows) == 1797 and all(len(row) == 65 for row in rows)
    header = [f"p{i}" for i in range(64)] + ["digit"]
    write(os.path.join(out, "digits.csv"), header, rows)


def diabetes(src, out):
    # The raw (unscaled) features, space-separated, and the target one value a line.
    with gzip.open(os.path.join(src, "diabetes_data_raw.csv.gz"), "rt") as f:
        x = [line.split() for line in f if line.strip()]
    with gzip.open(os.path.join(src, "diabetes_target.csv.gz"), "rt") as f:
        y = [line.strip() for line in f if line.strip()]
    assert len(x) == len(y) == 442 and all(len(row) == 10 for row in x)
    # Targets are stored as 1.51e+02 and so on: they are integers.
    y = [str(int(round(float(v)))) for v in y]
    header = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6", "progression"]
    write(os.path.join(out, "regression.csv"), header, [row + [t] for row, t in zip(x, y)])


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else sklearn_data_dir()
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.abspath(__file__))
    iris(src, out)
    digits(src, out)
    diabetes(src, out)


if __name__ == "__main__":
    main()
