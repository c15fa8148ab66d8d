#!/bin/sh
# Peak RSS of a training run on a ~100 MB CSV with and without --val-frac and the bias column
# (issue 10: peak within 1.25 × the f32 data + 50 MB). Usage: bench/memory.sh [BINARY]
# Needs GNU time (/usr/bin/time) and python3; writes bench/data/mem100.csv once.
set -eu
cd "$(dirname "$0")/.."
BIN=${1:-target/release/mlp-train}
ROWS=220000 DIM=64
CSV=bench/data/mem100.csv
mkdir -p bench/data
[ -f "$CSV" ] || python3 bench/gen_data.py --rows $ROWS --dim $DIM --out "$CSV"
DATA_MB=$(python3 -c "print(round($ROWS * $DIM * 4 / 1e6, 1))")
BOUND_MB=$(python3 -c "print(round(1.25 * $ROWS * $DIM * 4 / 1e6 + 50, 1))")
echo "file $(du -m "$CSV" | cut -f1) MB; f32 data $DATA_MB MB; bound $BOUND_MB MB"
for flags in "--no-bias" "" "--val-frac 0.2" "--val-frac 0.5"; do
    # shellcheck disable=SC2086
    /usr/bin/time -f "%M" -o /tmp/mlp-train-mem.$$ "$BIN" --data "$CSV" --epochs 1 --hidden 4 \
        --threads 1 --quiet $flags > /dev/null
    kb=$(tail -1 /tmp/mlp-train-mem.$$)
    printf '%-16s peak RSS %6.1f MB\n' "${flags:-(bias)}" "$(python3 -c "print($kb * 1024 / 1e6)")"
done
rm -f /tmp/mlp-train-mem.$$
