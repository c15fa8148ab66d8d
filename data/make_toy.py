#!/usr/bin/env python3
"""Write the toy sets spirals.csv and xor.csv. Standard library only, fixed seed: the output is
the same on every run and machine.

    python3 data/make_toy.py [OUT_DIR]        # OUT_DIR defaults to the folder of this script

spirals.csv  two interleaved spirals, 400 points, columns x1,x2,label (0/1).
             Arm k (k = 0, 1) is r = t, angle t + k*pi, t uniform in [T0, T0 + 2*pi*TURNS],
             plus Gaussian noise, all divided by the largest t (radii up to about 1).
             Each arm makes whole turns, so every ray from the origin crosses both classes
             equally often: a ReLU network without biases is positively homogeneous
             (f(a*x) = a*f(x) for a > 0), gives one sign along a whole ray and so stays near
             50%; with biases it can separate the arms.
xor.csv      200 noisy points around the corners (+-1, +-1), columns x1,x2,label, where label
             is 1 when x1 and x2 have opposite signs (XOR of the two signs).
"""

import csv
import math
import os
import random
import sys

SEED = 20240601
SPIRAL_POINTS = 400  # per file, half per class
T0 = math.pi / 2  # start away from the origin, where the arms meet
TURNS = 1
SPIRAL_NOISE = 0.25  # standard deviation, in units of t (the arms are pi apart radially)
XOR_POINTS = 200
XOR_NOISE = 0.35


def spirals(rng):
    t_max = T0 + 2 * math.pi * TURNS
    rows = []
    for i in range(SPIRAL_POINTS):
        label = i % 2
        t = rng.uniform(T0, t_max)
        angle = t + label * math.pi
        x1 = (t * math.cos(angle) + rng.gauss(0, SPIRAL_NOISE)) / t_max
        x2 = (t * math.sin(angle) + rng.gauss(0, SPIRAL_NOISE)) / t_max
        rows.append((f"{x1:.5f}", f"{x2:.5f}", label))
    return rows


def xor(rng):
    rows = []
    for i in range(XOR_POINTS):
        s1 = 1 if i % 2 == 0 else -1
        s2 = 1 if (i // 2) % 2 == 0 else -1
        x1 = s1 + rng.gauss(0, XOR_NOISE)
        x2 = s2 + rng.gauss(0, XOR_NOISE)
        rows.append((f"{x1:.5f}", f"{x2:.5f}", int(s1 != s2)))
    return rows


def write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["x1", "x2", "label"])
        w.writerows(rows)
    print(f"{path}: {len(rows)} rows x 3 columns")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    write(os.path.join(out, "spirals.csv"), spirals(random.Random(SEED)))
    write(os.path.join(out, "xor.csv"), xor(random.Random(SEED + 1)))


if __name__ == "__main__":
    main()
