# 50 fits of scikit-learn's MLPClassifier in one Python process, the same work as 50 runs of
# `mlp-train --data data/digits.csv --hidden 32 --epochs E --batch-size 32 --lr 0.1 --lambda 1e-4`:
# one hidden ReLU layer, softmax CE, plain SGD (momentum 0), constant learning rate, no early
# stopping, alpha = lambda * B (sklearn divides alpha by the batch size), standardized inputs
# (mlp-train standardizes by default; sklearn gets StandardScaler, fitted inside each fit's timing).
# Usage: bench/.venv/bin/python bench/sklearn_sweep.py [--data data/digits.csv] [--fits 50] [--epochs 50]; JSON on stdout.
import argparse
import json
import sys
import time
import warnings

t_start = time.perf_counter()
import numpy as np
import pandas as pd
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

t_import = time.perf_counter() - t_start

ap = argparse.ArgumentParser()
ap.add_argument("--data", default="data/digits.csv")
ap.add_argument("--fits", type=int, default=50)
ap.add_argument("--epochs", type=int, default=50)
ap.add_argument("--hidden", type=int, default=32)
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--lr", type=float, default=0.1)
ap.add_argument("--lam", type=float, default=1e-4)
a = ap.parse_args()

warnings.simplefilter("ignore", ConvergenceWarning)
t0 = time.perf_counter()
df = pd.read_csv(a.data)
x = df.iloc[:, :-1].to_numpy(dtype=np.float64)
y = df.iloc[:, -1].to_numpy()
t_load = time.perf_counter() - t0

accs = []
t0 = time.perf_counter()
for seed in range(a.fits):
    xs = StandardScaler().fit_transform(x)
    clf = MLPClassifier(
        hidden_layer_sizes=(a.hidden,), activation="relu", solver="sgd", alpha=a.lam * a.batch,
        batch_size=a.batch, learning_rate="constant", learning_rate_init=a.lr, momentum=0.0,
        nesterovs_momentum=False, max_iter=a.epochs, shuffle=True, random_state=seed, tol=0.0,
        n_iter_no_change=a.epochs + 1, early_stopping=False,
    )
    clf.fit(xs, y)
    accs.append(clf.score(xs, y))
t_fits = time.perf_counter() - t0
json.dump({
    "sklearn": sklearn.__version__, "fits": a.fits, "epochs": a.epochs, "hidden": a.hidden,
    "batch": a.batch, "import_s": t_import, "load_s": t_load, "fits_s": t_fits,
    "total_s": time.perf_counter() - t_start, "per_fit_ms": t_fits / a.fits * 1e3,
    "mean_train_accuracy": float(np.mean(accs)),
}, sys.stdout, indent=2)
print()
