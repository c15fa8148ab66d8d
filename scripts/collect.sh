#!/bin/sh
# Collects a folder of `mlp-train --json` outputs (one run each) into one CSV table, best
# first; used by sweep.sh and after a Slurm array (sweep.slurm) or GNU parallel --sshlogin.
#
# usage: scripts/collect.sh RUNS_DIR > table.csv
# The score is the test accuracy, else the validation accuracy, else the training accuracy
# (higher first); for --task regress, the same order of RMSEs (lower first).
set -eu
runs=${1:?usage: scripts/collect.sh RUNS_DIR}

# Flat JSON → CSV: pick the fields by name (the --json keys are documented and stable).
table=$(for f in "$runs"/*.json; do [ -s "$f" ] && cat "$f"; done | awk '
    function field(line, key,   m) {
        if (match(line, "\"" key "\":[^,}]*")) {
            m = substr(line, RSTART + length(key) + 3, RLENGTH - length(key) - 3)
            gsub(/"/, "", m); return (m == "null") ? "" : m
        }
        return ""
    }
    {
        regress = (field($0, "task") == "regress")
        m = regress ? "rmse" : "accuracy"
        tr = field($0, "train_" m); va = field($0, "val_" m); te = field($0, "test_" m)
        score = (te != "") ? te : (va != "") ? va : tr
        # sort key: higher is better for accuracy, lower for RMSE
        key = regress ? -score : score
        printf "%.12f,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", key, score, field($0, "lambda"), field($0, "lr"), \
            field($0, "hidden"), field($0, "epochs"), tr, va, te, field($0, "train_loss"), field($0, "seconds")
    }' | sort -t, -k1,1 -g -r | cut -d, -f2-)

echo "score,lambda,lr,hidden,epochs,train_metric,val_metric,test_metric,train_loss,seconds"
[ -z "$table" ] || printf '%s\n' "$table"
