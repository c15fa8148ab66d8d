#!/usr/bin/env bash
# Loading one table as CSV, Parquet and .npy: mlp-train's whole process (read, then one epoch
# of a 1-unit model: what run.sh's "CSV loading, the whole process" times) vs pandas.read_csv,
# pandas.read_parquet and numpy.load alone (timed inside Python, without start-up or imports).
# Best of REPS runs each, interleaved; prints the times and the ratios of one run.
#   bench/formats.sh                      # 20000 × 784 (gen_data.py, fixed seed), REPS=3
#   ROWS=60000 REPS=5 bench/formats.sh
# Python: bench/.venv (bench/setup_venv.sh, plus `pip install pyarrow`), else
# target/formats-venv (.ci/run), else python3; it needs numpy, pandas and pyarrow.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-20000}
DIM=${DIM:-784}
REPS=${REPS:-3}
PY=python3
for p in bench/.venv/bin/python target/formats-venv/bin/python; do
  if [ -x "$p" ] && "$p" -c 'import numpy, pandas, pyarrow' 2>/dev/null; then PY=$p; break; fi
done
"$PY" -c 'import numpy, pandas, pyarrow' || {
  echo "bench/formats.sh: $PY lacks numpy, pandas or pyarrow (bench/setup_venv.sh, then bench/.venv/bin/pip install pyarrow)" >&2
  exit 1
}
BIN=${BIN:-target/release/mlp-train}
[ -x "$BIN" ] || cargo build --release -q
mkdir -p bench/data
base=bench/data/formats_${ROWS}x${DIM}
if [ ! -s "$base.csv" ]; then
  echo "generating $base.csv (bench/gen_data.py, fixed seed)..." >&2
  "$PY" bench/gen_data.py --rows "$ROWS" --dim "$DIM" --out "$base.csv"
fi
if [ ! -s "$base.npy" ] || [ ! -s "$base.parquet" ]; then
  # The same table: Parquet as pyarrow reads the CSV (float64 features, int64 label); .npy as
  # one float64 array, the label its last column.
  "$PY" - "$base" <<'PYEOF'
import sys
import numpy as np
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
base = sys.argv[1]
t = pcsv.read_csv(base + ".csv")
pq.write_table(t, base + ".parquet")
np.save(base + ".npy", np.column_stack([c.to_numpy().astype(np.float64) for c in t.columns]))
PYEOF
fi
ls -l "$base".{csv,parquet,npy} >&2

# Seconds of the best of $REPS runs of a command.
best() {
  local b=""
  for ((r = 1; r <= REPS; r++)); do
    local s e
    s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N)
    b=$(echo "$s $e $b" | awk '{t = $2 - $1; if ($3 == "" || t < $3) print t; else print $3}')
  done
  echo "$b"
}
ours() { "$BIN" --data "$1" --hidden 1 --epochs 1 --batch-size "$ROWS" --quiet; }
python_best() {
  "$PY" - "$1" "$2" "$REPS" <<'PYEOF'
import sys, time
import numpy as np
import pandas as pd
how, path, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
read = {"csv": pd.read_csv, "parquet": pd.read_parquet, "npy": np.load}[how]
best = None
for _ in range(reps):
    t = time.perf_counter()
    read(path)
    dt = time.perf_counter() - t
    best = dt if best is None else min(best, dt)
print(f"{best:.4f}")
PYEOF
}
csv=$(best ours "$base.csv"); pcsv=$(python_best csv "$base.csv")
pqt=$(best ours "$base.parquet"); ppq=$(python_best parquet "$base.parquet")
npy=$(best ours "$base.npy"); pnpy=$(python_best npy "$base.npy")
echo "table ${ROWS} × $((DIM + 1)), best of $REPS; mlp-train: the whole process; Python: the read alone"
awk -v c="$csv" -v pc="$pcsv" -v q="$pqt" -v pq="$ppq" -v n="$npy" -v pn="$pnpy" 'BEGIN {
  printf "%-8s %12s %12s %14s %16s\n", "format", "mlp-train s", "python s", "mlp-train/py", "vs mlp-train CSV"
  printf "%-8s %12.3f %12.3f %14.2f %16.2f   (pandas.read_csv)\n", "CSV", c, pc, c / pc, 1
  printf "%-8s %12.3f %12.3f %14.2f %16.2f   (pandas.read_parquet)\n", "Parquet", q, pq, q / pq, q / c
  printf "%-8s %12.3f %12.3f %14.2f %16.2f   (numpy.load)\n", ".npy", n, pn, n / pn, n / c
}'
