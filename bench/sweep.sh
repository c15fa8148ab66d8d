#!/bin/sh
# The in-process sweep (issue 19) against one process per point: a 12-point digits grid
# (λ × η × h), `mlp-train sweep -j 2` (data read once, points in threads) vs one `mlp-train`
# process per point, 2 at a time (xargs -P2), the same flags; prints both wall clocks and the
# ratio from one run of each. Usage: bench/sweep.sh [BINARY]   (EPOCHS=30 by default)
set -eu
cd "$(dirname "$0")/.."
BIN=${1:-target/release/mlp-train}
EPOCHS=${EPOCHS:-30}
DATA=data/digits.csv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }

start=$(now)
"$BIN" sweep --runs "$tmp/runs" -j 2 --quiet --data "$DATA" --val-frac 0.2 --epochs "$EPOCHS" \
    --grid lambda=0,1e-4,1e-3 --grid lr=0.05,0.1 --grid hidden=16,32 > "$tmp/table.csv" 2> "$tmp/err"
in_process=$(echo "$(now) - $start" | bc)

# The same 12 points, one process each (the values are fixed words: no quoting at stake).
for l in 0 1e-4 1e-3; do for r in 0.05 0.1; do for h in 16 32; do
    echo "--lambda $l --lr $r --hidden $h"
done; done; done > "$tmp/points"
start=$(now)
# xargs -L1 appends each line's words after the fixed arguments: "$@" in the inner shell.
BIN=$BIN DATA=$DATA EPOCHS=$EPOCHS xargs -P2 -L1 sh -c \
    'exec "$BIN" --data "$DATA" --val-frac 0.2 --epochs "$EPOCHS" --json --quiet "$@" > /dev/null' sh \
    < "$tmp/points"
per_process=$(echo "$(now) - $start" | bc)

rows=$(($(wc -l < "$tmp/table.csv") - 1))
printf 'digits grid, %d points, %s epochs, 2 at a time\n' "$rows" "$EPOCHS"
printf 'in process (sweep -j 2)       %8.3f s\n' "$in_process"
printf 'one process per point (xargs) %8.3f s\n' "$per_process"
printf 'ratio (per process / in process) %.2fx\n' "$(echo "$per_process / $in_process" | bc -l)"
