"""Writes the shipped CSV tables as Parquet (pyarrow) and .npy/.npz (NumPy) for tests/formats.rs.

Usage: formats_check.py DATA_DIR OUT_DIR. Prints one line per file written: the file, the CSV
holding the same table (a shipped one, or a copy whose header names the columns as a NumPy
table's: x0, x1, ..., and y for a .npz label), and the training flags; the Rust test trains
on both and compares the model files.
"""

import os
import shlex
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

data, out = sys.argv[1], sys.argv[2]
churn_flags = "--epochs 20 --ignore id --weight-column weight --categorical plan,region --impute median"


def emit(path, csv, flags):
    print(shlex.join([path, csv]) + " " + flags)


def renamed(name, header):
    """A copy of data/NAME with another header line; the rows are the same bytes."""
    with open(os.path.join(data, name)) as f:
        lines = f.read().splitlines(keepends=True)
    path = os.path.join(out, "renamed_" + name)
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        f.writelines(lines[1:])
    return path


# Parquet, as pyarrow reads the CSV (int64, double, string; blanks as nulls), snappy.
for name, flags in [
    ("iris.csv", "--epochs 30"),
    ("regression.csv", "--epochs 20 --task regress"),
    ("churn.csv", churn_flags),
]:
    table = pcsv.read_csv(os.path.join(data, name))
    path = os.path.join(out, name.replace(".csv", ".parquet"))
    pq.write_table(table, path)
    emit(path, os.path.join(data, name), flags)

# Dictionary-encoded strings, zstd, small row groups.
table = pcsv.read_csv(os.path.join(data, "iris.csv"))
i = table.column_names.index("species")
table = table.set_column(i, "species", pc.dictionary_encode(table.column("species")))
path = os.path.join(out, "iris_dict.parquet")
pq.write_table(table, path, compression="zstd", row_group_size=40)
emit(path, os.path.join(data, "iris.csv"), "--epochs 30")

# One 2-D .npy (float64), C and Fortran order: columns x0..x10, the label last.
reg = np.loadtxt(os.path.join(data, "regression.csv"), delimiter=",", skiprows=1)
reg_csv = renamed("regression.csv", [f"x{j}" for j in range(reg.shape[1])])
for suffix, array in [("", reg), ("_fortran", np.asfortranarray(reg))]:
    path = os.path.join(out, f"regression{suffix}.npy")
    np.save(path, array)
    emit(path, reg_csv, "--epochs 20 --task regress")

# .npz: X (float64) and y (unicode strings), plain and compressed.
iris = pcsv.read_csv(os.path.join(data, "iris.csv"))
X = np.column_stack([iris.column(j).to_numpy() for j in range(4)])
y = np.array(iris.column("species").to_pylist())  # dtype <U10
iris_csv = renamed("iris.csv", ["x0", "x1", "x2", "x3", "y"])
path = os.path.join(out, "iris.npz")
np.savez(path, X=X, y=y)
emit(path, iris_csv, "--epochs 30")
path = os.path.join(out, "iris_compressed.npz")
np.savez_compressed(path, X=X, y=y)
emit(path, iris_csv, "--epochs 30")

# .npz of integers: X int64, y int64.
digits = np.loadtxt(os.path.join(data, "digits.csv"), delimiter=",", skiprows=1, dtype=np.int64)
digits_csv = renamed("digits.csv", [f"x{j}" for j in range(64)] + ["y"])
path = os.path.join(out, "digits.npz")
np.savez(path, X=digits[:, :64], y=digits[:, 64])
emit(path, digits_csv, "--epochs 3 --precision f64")
