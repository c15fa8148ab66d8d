#!/usr/bin/env python3
"""Write churn.csv: a small synthetic customer table as real CSVs come, for the worked example
of categories, blanks, weights and a string label. Standard library only, fixed seed: the
output is the same on every run and machine.

    python3 data/make_churn.py [OUT_DIR]      # OUT_DIR defaults to the folder of this script

churn.csv  300 customers, columns:
  id             c0001 ... c0300, an identifier (not a feature: --ignore it)
  plan           basic / plus / pro (text: --categorical); 3% blank
  region         north / south / east / west (text: --categorical)
  age            years, 18..80; 8% blank
  monthly_spend  currency units, 2 decimals; 6% written NA
  tenure_months  whole months, 1..72
  weight         a positive sampling weight, 0.5..2 (--weight-column; not a feature)
  churn          the label: `left` or `stayed`
The label is drawn from a logistic model of the complete values: customers on the basic plan,
in the south, young, spending little and recently joined leave more often. The blanks are
then punched in completely at random (MCAR), so that imputation is unbiased here.
"""

import csv
import math
import os
import random
import sys

SEED = 20261207
ROWS = 300
PLANS = ["basic", "plus", "pro"]
REGIONS = ["north", "south", "east", "west"]


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    rng = random.Random(SEED)
    rows = []
    for i in range(ROWS):
        plan = rng.choices(PLANS, weights=[5, 3, 2])[0]
        region = rng.choice(REGIONS)
        age = rng.randint(18, 80)
        spend = round(rng.lognormvariate(3.3, 0.5), 2)
        tenure = rng.randint(1, 72)
        weight = round(rng.uniform(0.5, 2.0), 2)
        z = (
            1.2 * (plan == "basic")
            - 1.0 * (plan == "pro")
            + 0.9 * (region == "south")
            - 0.04 * (age - 45)
            - 0.03 * (spend - 30)
            - 0.05 * (tenure - 36)
        )
        churn = "left" if rng.random() < 1 / (1 + math.exp(-z)) else "stayed"
        if rng.random() < 0.03:
            plan = ""
        age_s = "" if rng.random() < 0.08 else str(age)
        spend_s = "NA" if rng.random() < 0.06 else f"{spend:.2f}"
        rows.append([f"c{i + 1:04d}", plan, region, age_s, spend_s, str(tenure), f"{weight:.2f}", churn])
    path = os.path.join(out_dir, "churn.csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "plan", "region", "age", "monthly_spend", "tenure_months", "weight", "churn"])
        w.writerows(rows)
    left = sum(r[-1] == "left" for r in rows)
    print(f"{path}: {len(rows)} rows x 8 columns ({left} left, {len(rows) - left} stayed)")


if __name__ == "__main__":
    main()
