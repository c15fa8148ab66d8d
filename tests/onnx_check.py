#!/usr/bin/env python3
"""Checks mlp-train's ONNX export with code no one here wrote: ONNX's own checker
(full_check, with strict shape inference) and ONNX Runtime's predictions on a CSV, against
mlp-train predict's (--proba for a classifier) on the same rows.

usage: onnx_check.py [--rtol R] MODEL.onnx DATA.csv PREDICTIONS.csv [MODEL DATA PREDICTIONS ...]

Each output value must agree within R relative (default 1e-6): |onnx - mlp| <= R * max(|onnx|,
|mlp|), and every predicted label must be the same. Prints one line per model; exits 1 on the
first disagreement, naming the file, row and column.
"""
import csv
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort

OPSET = 17


def fail(msg):
    print(f"onnx_check: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def check(model_path, data_path, pred_path, rtol):
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    opsets = {o.domain: o.version for o in model.opset_import}
    if opsets.get("", None) != OPSET:
        fail(f"{model_path}: opset {opsets}, expected {{'': {OPSET}}}")
    meta = {p.key: p.value for p in model.metadata_props}
    features = json.loads(meta["mlp-train:features"])
    task = meta["mlp-train:task"]
    precision = meta["mlp-train:precision"]
    dtype = np.float32 if precision == "f32" else np.float64
    elem = model.graph.input[0].type.tensor_type.elem_type
    want_elem = onnx.TensorProto.FLOAT if precision == "f32" else onnx.TensorProto.DOUBLE
    if elem != want_elem:
        fail(f"{model_path}: input type {elem}, expected {want_elem} for a {precision} model")

    header, rows = read_csv(data_path)
    cols = [header.index(name) for name in features]
    x = np.array([[r[c] for c in cols] for r in rows]).astype(dtype)
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    got = dict(zip([o.name for o in session.get_outputs()], session.run(None, {"X": x})))

    pred_header, pred_rows = read_csv(pred_path)
    if len(pred_rows) != len(rows):
        fail(f"{pred_path}: {len(pred_rows)} rows, {data_path} has {len(rows)}")
    if task == "classify":
        classes = json.loads(meta["mlp-train:classes"])
        if pred_header[1:] != [f"p_{c}" for c in classes]:
            fail(f"{pred_path}: header {pred_header}, expected the label and p_ columns (predict --proba)")
        want = np.array([[float(v) for v in r[1:]] for r in pred_rows])
        values = got["probabilities"]
        labels = list(got["label"])
        for i, r in enumerate(pred_rows):
            if labels[i] != r[0]:
                fail(f"{data_path}: row {i + 1}: ONNX Runtime predicts {labels[i]!r}, mlp-train {r[0]!r}")
        if list(np.argmax(values, axis=1)) != [classes.index(r[0]) for r in pred_rows]:
            fail(f"{data_path}: the argmax of the probabilities differs from mlp-train's label")
    else:
        want = np.array([[float(v) for v in r] for r in pred_rows])
        values = got["predictions"]
    if values.dtype != dtype:
        fail(f"{model_path}: outputs are {values.dtype}, expected {dtype.__name__}")
    if values.shape != want.shape:
        fail(f"{model_path}: outputs of shape {values.shape}, mlp-train's {want.shape}")
    values = values.astype(np.float64)
    scale = np.maximum(np.abs(values), np.abs(want))
    diff = np.abs(values - want)
    rel = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
    worst = np.unravel_index(np.argmax(rel), rel.shape)
    print(
        f"onnx_check: {data_path} with {model_path} ({task}, {precision}): {len(rows)} rows, "
        f"max relative difference {rel[worst]:.3g} (row {worst[0] + 1}, column "
        f"{pred_header[worst[1] + (1 if task == 'classify' else 0)]})"
        + (", labels agree" if task == "classify" else "")
    )
    if rel[worst] > rtol:
        fail(
            f"{data_path}: row {worst[0] + 1}, column {pred_header[worst[1] + (1 if task == 'classify' else 0)]}: "
            f"ONNX Runtime {values[worst]!r}, mlp-train {want[worst]!r}: relative difference "
            f"{rel[worst]:.3g} > {rtol}"
        )


def main(argv):
    rtol = 1e-6
    if argv[:1] == ["--rtol"]:
        rtol = float(argv[1])
        argv = argv[2:]
    if not argv or len(argv) % 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    for i in range(0, len(argv), 3):
        check(*argv[i : i + 3], rtol)


if __name__ == "__main__":
    main(sys.argv[1:])
