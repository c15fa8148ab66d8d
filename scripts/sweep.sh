#!/bin/sh
# Grid sweep for mlp-train: the λ × η × h grid, written once, runs on the local cores (xargs -P),
# or is printed as one shell command per run (for GNU parallel), or goes to Slurm as a job array.
#
# usage: scripts/sweep.sh [OPTIONS] -- MLP-TRAIN-ARGS...
#   -l, -r, -H "v ..."  the values of --lambda, --lr and --hidden (space-separated)
#   -d DIR        keep each run's JSON in DIR, named l<λ>_r<η>_h<h>.json (default: a temporary
#                 folder removed afterwards; runs/ with --print-jobs and --slurm)
#   -o FILE       also write the table to FILE
#   -j JOBS       parallel runs on this machine (default: the number of cores)
#   --print-jobs  print one shell command per run still to do, and nothing else
#   --slurm       submit the runs still to do as one Slurm job array (scripts/sweep.slurm, array
#                 size computed), wait for it (sbatch --wait), then print the table;
#                 sbatch's SBATCH_* variables choose partition, time limit, account
#   -h, --help    this text
#
# Resume: a grid point whose DIR/<name>.json is a complete result of the same point is not run
# again, so re-running a sweep that lost runs runs only those. DIR remembers the mlp-train
# arguments (DIR/sweep.args) and refuses a sweep with other ones.
#
# The table (scripts/collect.sh on DIR) is printed best first: the score is the CV mean, else
# the test, validation or training accuracy (higher first), or for --task regress the same
# order of RMSEs (lower first). A failed run is reported on stderr with its message; when every
# run fails, sweep.sh exits 1.
# MLP_TRAIN names the binary (default: mlp-train on PATH, else ./target/release/mlp-train).
#
# example: scripts/sweep.sh -l "0 1e-4 1e-3" -r "0.05 0.1" -H "16 64" -- --data data/digits.csv --val-frac 0.2 --epochs 30
set -eu

here=$(dirname "$0")
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
out=""
runs=""
mode=local
lambdas="0 0.0001 0.001 0.01"
lrs="0.05 0.1 0.2"
hiddens="16 32 64"

die() { echo "sweep.sh: $1" >&2; exit "${2:-2}"; }
need() { [ $# -ge 2 ] || die "$1 needs a value (see --help)"; }

while [ $# -gt 0 ]; do
    case "$1" in
        -j) need "$@"; jobs=$2; shift 2 ;;
        -o) need "$@"; out=$2; shift 2 ;;
        -d) need "$@"; runs=$2; shift 2 ;;
        -l) need "$@"; lambdas=$2; shift 2 ;;
        -r) need "$@"; lrs=$2; shift 2 ;;
        -H) need "$@"; hiddens=$2; shift 2 ;;
        --print-jobs) mode=print; shift ;;
        --slurm) mode=slurm; shift ;;
        --) shift; break ;;
        -h|--help) sed -n '2,/^set -eu$/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done
[ $# -gt 0 ] || die "give mlp-train's arguments after --, e.g. -- --data data/iris.csv"
if [ -n "$out" ] && { [ -L "$out" ] || { [ -e "$out" ] && [ ! -f "$out" ]; }; }; then
    die "-o $out is a symlink or not a regular file; the table replaces only regular files"
fi
case "$jobs" in ''|*[!0-9]*|0) die "-j wants a positive number of jobs, got '$jobs'" ;; esac
for a in "$@"; do
    case "$a" in
        --lambda|--lambda=*|--lr|--lr=*|--hidden|--hidden=*)
            die "${a%%=*} is the grid's (-l, -r, -H), not an mlp-train argument after --" ;;
    esac
done
# Grid values become file names and command words: numbers only.
set -f # grid values are words, never file patterns
for v in $lambdas $lrs; do
    case "$v" in *[!0-9.eE+-]*|'') die "-l and -r want numbers, got '$v'" ;; esac
done
for v in $hiddens; do
    case "$v" in *[!0-9]*|'') die "-H wants whole numbers, got '$v'" ;; esac
done
words() { [ $# -gt 0 ]; }
# shellcheck disable=SC2086 # split into words on purpose
if ! words $lambdas || ! words $lrs || ! words $hiddens; then
    die "-l, -r and -H each need at least one value"
fi
set +f

if [ -n "${MLP_TRAIN:-}" ]; then bin=$MLP_TRAIN
elif command -v mlp-train >/dev/null 2>&1; then bin=mlp-train
else bin=./target/release/mlp-train
fi
# The runs of --print-jobs may go to other hosts; the others start here, so the binary must be here.
if [ "$mode" != print ] && ! command -v "$bin" >/dev/null 2>&1; then
    die "no mlp-train binary: $bin is not there (build with cargo build --release, or set MLP_TRAIN)" 1
fi

cleanup=""
if [ -z "$runs" ]; then
    if [ "$mode" = local ]; then runs=$(mktemp -d); cleanup=$runs; else runs=runs; fi
fi
trap '[ -z "$cleanup" ] || rm -rf "$cleanup"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -p "$runs"

# A word as the shell reads it back: bare when safe, else in single quotes.
quote() {
    case "$1" in
        '' | *[!A-Za-z0-9_./=:,+@%^-]*) printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")" ;;
        *) printf '%s' "$1" ;;
    esac
}
args=""
for a in "$@"; do args="$args $(quote "$a")"; done
args=${args# }

# The folder belongs to one sweep: the same mlp-train arguments (the grid may grow).
if [ -f "$runs/sweep.args" ]; then
    [ "$(cat "$runs/sweep.args")" = "$args" ] \
        || die "$runs holds a sweep with other mlp-train arguments ($(cat "$runs/sweep.args")); give another -d or remove it"
else
    printf '%s\n' "$args" >"$runs/sweep.args"
fi

# A complete result of point (λ, η, h): a whole --json summary with those values, of a run
# that was not interrupted.
has_result() {
    [ -s "$1" ] && awk -v l="$2" -v r="$3" -v h="$4" '
        function field(key,   m) {
            if (!match(doc, "\"" key "\":[^,}]*")) return ""
            return substr(doc, RSTART + length(key) + 3, RLENGTH - length(key) - 3)
        }
        { doc = doc $0 }
        END {
            sub(/[ \t\r\n]+$/, "", doc)
            ok = doc ~ /^\{/ && doc ~ /\}$/ && doc ~ /"schema_version":1[,}]/ && doc ~ /"hyperparameters":\{/ && doc !~ /"interrupted":true/
            exit !(ok && field("lambda") + 0 == l + 0 && field("lr") + 0 == r + 0 && field("hidden") + 0 == h + 0)
        }' "$1"
}

# One shell command per grid point still to do. Each writes NAME.part and renames it to
# NAME.json only when mlp-train succeeded, so a killed run never leaves a result that looks whole.
qbin=$(quote "$bin")
qruns=$(quote "$runs")
todo=""
seen=" "
total=0
for l in $lambdas; do for r in $lrs; do for h in $hiddens; do
    name=l${l}_r${r}_h${h}
    case "$seen" in *" $name "*) continue ;; esac
    seen="$seen$name "
    total=$((total + 1))
    has_result "$runs/$name.json" "$l" "$r" "$h" && continue
    todo="$todo$name $l $r $h
"
done; done; done
ntodo=$(printf '%s' "$todo" | grep -c . || true)
jobs_text=$(printf '%s' "$todo" | while read -r name l r h; do
    p="$qruns/$name"
    echo "mkdir -p $qruns && $qbin $args --lambda $l --lr $r --hidden $h --json --quiet >$p.part 2>$p.err && mv $p.part $p.json"
done)

if [ "$mode" = print ]; then
    [ -z "$jobs_text" ] || printf '%s\n' "$jobs_text"
    exit 0
fi
[ "$ntodo" -eq "$total" ] || echo "sweep.sh: $((total - ntodo)) of $total grid points already done in $runs, running $ntodo" >&2

if [ "$ntodo" -gt 0 ]; then
    if [ "$mode" = slurm ]; then
        command -v sbatch >/dev/null 2>&1 || die "--slurm needs sbatch on PATH" 1
        list=$(mktemp "$runs/jobs.XXXXXX")
        printf '%s\n' "$jobs_text" >"$list"
        # The log folder exists before sbatch: Slurm opens --output before the script runs.
        sbatch --wait --job-name=mlp-train-sweep --array=0-$((ntodo - 1)) \
            --output="$runs/slurm-%A_%a.log" "$here/sweep.slurm" "$list" >&2 \
            || echo "sweep.sh: sbatch exited $? (a task failed, or the array was not submitted: see above)" >&2
        rm -f "$list"
    else
        printf '%s\n' "$jobs_text" | tr '\n' '\0' | xargs -0 -n 1 -P "$jobs" sh -c || true
    fi
fi

# Every run of this call that left no result: its message, then a count.
failed=0
first=""
for name in $(printf '%s' "$todo" | cut -d' ' -f1); do
    [ ! -f "$runs/$name.json" ] || continue
    failed=$((failed + 1))
    if [ -s "$runs/$name.err" ]; then msg=$(tail -n 1 "$runs/$name.err"); else msg="no result (the run was lost or killed)"; fi
    [ -n "$first" ] || first="run $name failed: $msg"
    [ "$failed" -gt 5 ] || echo "sweep.sh: run $name failed: $msg" >&2
done
if [ "$failed" -gt 0 ]; then
    [ "$failed" -le 5 ] || echo "sweep.sh: ... and $((failed - 5)) more" >&2
    if [ "$failed" -eq "$ntodo" ]; then
        echo "sweep.sh: every run failed ($failed of $ntodo); the first: ${first#run * failed: }" >&2
        ls "$runs"/*.json >/dev/null 2>&1 || exit 1
        status=1
    else
        echo "sweep.sh: $failed of $ntodo runs failed; re-running the same command retries only those" >&2
        status=0
    fi
else
    status=0
fi

# The table: every run's JSON in the folder → one CSV, best first (scripts/collect.sh).
if [ -n "$out" ]; then
    sh "$here/collect.sh" "$runs" >"$out.part" && mv "$out.part" "$out" && cat "$out"
else
    sh "$here/collect.sh" "$runs"
fi
exit $status
