#!/bin/sh
# Collects a folder of `mlp-train --json` outputs (one run each) into one CSV table, best
# first; the last step of every sweep engine: sweep.sh, GNU parallel, a Slurm array.
#
# usage: scripts/collect.sh RUNS_DIR > table.csv
# The score is the cross-validation mean (--cv), else the test accuracy, else the validation
# accuracy, else the training accuracy (higher first); for --task regress, the same order of
# RMSEs (lower first). Equal scores are ordered by λ, η, h. The last column names the run's
# file. Files that are not a complete --json summary, or are one of an interrupted run, are
# skipped with a warning; a folder without any result is an error (exit 1).
set -eu
[ $# -eq 1 ] || { echo "usage: scripts/collect.sh RUNS_DIR > table.csv" >&2; exit 2; }
runs=$1
[ -d "$runs" ] || { echo "collect.sh: $runs: no such folder" >&2; exit 2; }
set -- "$runs"/*.json
[ -e "$1" ] || { echo "collect.sh: $runs: no results (*.json) in this folder" >&2; exit 1; }

# One summary per file (mlp-train prints it on one line; the whole file is read either way).
# Flat fields are picked by name: the --json keys are documented and stable.
table=$(awk '
    function field(key,   m) {
        if (!match(doc, "\"" key "\":[^,}]*")) return ""
        m = substr(doc, RSTART + length(key) + 3, RLENGTH - length(key) - 3)
        gsub(/"/, "", m); return (m == "null") ? "" : m
    }
    function row(   regress, m, tr, va, te, cv, score, key, name) {
        sub(/[ \t\r\n]+$/, "", doc)
        if (doc !~ /^\{/ || doc !~ /\}$/ || doc !~ /"schema_version":1[,}]/ || doc !~ /"hyperparameters":\{/) {
            print "collect.sh: " file ": not a complete mlp-train --json summary, skipped" > "/dev/stderr"
            return
        }
        if (doc ~ /"interrupted":true/) {
            print "collect.sh: " file ": an interrupted run, skipped" > "/dev/stderr"
            return
        }
        regress = (field("task") == "regress")
        m = regress ? "rmse" : "accuracy"
        tr = field("train_" m); va = field("val_" m); te = field("test_" m); cv = field("cv_" m)
        score = (cv != "") ? cv : (te != "") ? te : (va != "") ? va : tr
        # sort key: higher is better for accuracy, lower for RMSE
        key = regress ? -score : score
        name = file; sub(/^.*\//, "", name); sub(/\.json$/, "", name)
        printf "%.17e,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", key, score, field("lambda"), field("lr"), \
            field("hidden"), field("epochs"), tr, va, te, field("train_loss"), field("seconds"), cv, name
    }
    FNR == 1 && NR > 1 { row() }
    FNR == 1 { doc = ""; file = FILENAME }
    { doc = doc $0 }
    END { if (NR > 0) row() }
' "$@" | sort -t, -k1,1gr -k3,3g -k4,4g -k5,5g -k13,13 | cut -d, -f2-)

[ -n "$table" ] || { echo "collect.sh: $runs: no complete results in this folder" >&2; exit 1; }
echo "score,lambda,lr,hidden,epochs,train_metric,val_metric,test_metric,train_loss,seconds,cv_metric,run"
printf '%s\n' "$table"
