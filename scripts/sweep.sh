#!/bin/sh
# Grid sweep for mlp-train: every λ × η × h combination runs in parallel on the local cores
# (xargs -P), each run's --json is kept, and one CSV table is printed best first.
#
# usage: scripts/sweep.sh [-j JOBS] [-o TABLE.csv] [-d RUNS_DIR] [-l "λ ..."] [-r "η ..."] [-H "h ..."] -- MLP-TRAIN-ARGS...
#   -j JOBS    parallel runs (default: the number of cores)
#   -o FILE    also write the table to FILE
#   -d DIR     keep each run's JSON in DIR (default: a temporary folder, removed afterwards)
#   -l, -r, -H space-separated values of --lambda, --lr and --hidden
# The score is the test accuracy, else the validation accuracy, else the training accuracy
# (higher first); for --task regress, the same order of RMSEs (lower first).
# MLP_TRAIN names the binary (default: mlp-train on PATH, else ./target/release/mlp-train).
#
# example: scripts/sweep.sh -l "0 1e-4 1e-3" -r "0.05 0.1" -H "16 64" -- --data data/digits.csv --val-frac 0.2 --epochs 30
set -eu

jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
out=""
runs=""
lambdas="0 0.0001 0.001 0.01"
lrs="0.05 0.1 0.2"
hiddens="16 32 64"
while [ $# -gt 0 ]; do
    case "$1" in
        -j) jobs=$2; shift 2 ;;
        -o) out=$2; shift 2 ;;
        -d) runs=$2; shift 2 ;;
        -l) lambdas=$2; shift 2 ;;
        -r) lrs=$2; shift 2 ;;
        -H) hiddens=$2; shift 2 ;;
        --) shift; break ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "sweep.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ $# -gt 0 ] || { echo "sweep.sh: give mlp-train's arguments after --, e.g. -- --data data/iris.csv" >&2; exit 2; }

if [ -n "${MLP_TRAIN:-}" ]; then bin=$MLP_TRAIN
elif command -v mlp-train >/dev/null 2>&1; then bin=mlp-train
else bin=./target/release/mlp-train
fi

cleanup=""
if [ -z "$runs" ]; then runs=$(mktemp -d); cleanup=$runs; fi
mkdir -p "$runs"
trap '[ -n "$cleanup" ] && rm -rf "$cleanup"' EXIT INT TERM

# One line per run: its number and its three values.
n=0
grid=$(for l in $lambdas; do for r in $lrs; do for h in $hiddens; do
    n=$((n + 1)); echo "$n $l $r $h"; done; done; done)

# Each run: mlp-train ARGS --lambda l --lr r --hidden h --json --quiet > runs/N.json
# (a failed run leaves N.err with its message and is reported, not fatal).
export bin runs
echo "$grid" | xargs -P "$jobs" -I RUN sh -c '
    spec=$0; set -f; set -- $spec "$@"; id=$1; l=$2; r=$3; h=$4; shift 4
    if ! "$bin" "$@" --lambda "$l" --lr "$r" --hidden "$h" --json --quiet >"$runs/$id.json" 2>"$runs/$id.err"; then
        echo "sweep.sh: run $id (lambda $l, lr $r, hidden $h) failed: $(cat "$runs/$id.err")" >&2
        rm -f "$runs/$id.json"
    fi
' RUN "$@"

# The table: every run's JSON → one CSV, best first (scripts/collect.sh).
if [ -n "$out" ]; then
    sh "$(dirname "$0")/collect.sh" "$runs" | tee "$out"
else
    sh "$(dirname "$0")/collect.sh" "$runs"
fi
