"""TorchIO itself as the oracle of dicom-remap's histogram standardization.

usage: /usr/bin/python3 torchio_oracle.py HISTOGRAM_STANDARDIZATION_PY learn IMAGE...
       /usr/bin/python3 torchio_oracle.py HISTOGRAM_STANDARDIZATION_PY apply LANDMARKS.json INDIR OUTDIR MIN MAX

HISTOGRAM_STANDARDIZATION_PY is TorchIO's
src/torchio/transforms/preprocessing/intensity/histogram_standardization.py
from a checkout (not part of this repository). Its functions
_get_percentiles, _get_average_mapping, _standardize_cutoff and _normalize
and its constants are taken from the file as they are (its package
imports are not needed) and run with numpy and torch.

learn does what HistogramStandardization.train does with its defaults (no
mask: every voxel, here every non-padding sample; cutoff (0.01, 0.99)):
np.percentile of each image, then _get_average_mapping; it prints the
landmarks as JSON.

apply runs _normalize on the modality values of the series in INDIR
(pydicom: stored value * slope + intercept, float64) with the landmarks of
LANDMARKS.json and the non-padding mask, twice: as written (float32), and
with float64 in place of float32 ("TorchIO's float64 result"). Each result
is mapped as dicom-remap maps [0, 100] (MIN + v (MAX-MIN)/100, half up,
clamped) and compared with the non-padding samples of OUTDIR. It prints
"samples equal64 within1_64 equal32 within1_32" and exits 1 unless every
sample is within 1 of the float64 result and at least 99 % are equal.
"""

import ast
import json
import math
import os
import sys
from typing import Callable, Optional, Sequence, Tuple

import numpy as np
import pydicom
import torch

WANTED = {"_get_percentiles", "_get_average_mapping", "_standardize_cutoff", "_normalize"}


class _Float64(ast.NodeTransformer):
    def visit_Attribute(self, node):
        self.generic_visit(node)
        if node.attr == "float32":
            node.attr = "float64"
        return node


def load(path, float64):
    tree = ast.parse(open(path).read())
    body = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in WANTED:
            body.append(node)
        elif isinstance(node, ast.Assign) and any(getattr(t, "id", "") in ("DEFAULT_CUTOFF", "STANDARD_RANGE") for t in node.targets):
            body.append(node)
    module = ast.Module(body=body, type_ignores=[])
    if float64:
        module = _Float64().visit(module)
    ast.fix_missing_locations(module)
    ns = {"np": np, "torch": torch, "Optional": Optional, "Sequence": Sequence, "Callable": Callable, "Tuple": Tuple}
    exec(compile(module, path, "exec"), ns)
    missing = WANTED - ns.keys()
    if missing:
        sys.exit(f"torchio_oracle: {path} lacks {sorted(missing)}")
    return ns


def files_of(path):
    if os.path.isdir(path):
        return sorted(os.path.join(path, f) for f in os.listdir(path) if not f.startswith("."))
    return [path]


def read(path):
    """Modality values (float64) and the non-padding mask, of all files, and per file (name, count)."""
    values, masks, names = [], [], []
    for f in files_of(path):
        ds = pydicom.dcmread(f)
        stored = ds.pixel_array.astype(np.float64).reshape(-1)
        pad = ds.get("PixelPaddingValue")
        masks.append(np.ones_like(stored, bool) if pad is None else stored != pad)
        slope, intercept = float(ds.get("RescaleSlope", 1)), float(ds.get("RescaleIntercept", 0))
        values.append(stored * slope + intercept)
        names.append((f, stored.size))
    return np.concatenate(values), np.concatenate(masks), names


def main():
    ns32 = load(sys.argv[1], False)
    mode = sys.argv[2]
    if mode == "learn":
        cutoff = 100 * np.array(ns32["DEFAULT_CUTOFF"])
        percentiles = ns32["_get_percentiles"]((cutoff[0], cutoff[1]))
        database = []
        for image in sys.argv[3:]:
            values, mask, _ = read(image)
            database.append(np.percentile(values[mask], percentiles))
        mapping = ns32["_get_average_mapping"](np.vstack(database))
        print(json.dumps({"percentiles": percentiles.tolist(), "landmarks": mapping.tolist()}))
        return
    ns64 = load(sys.argv[1], True)
    with open(sys.argv[3]) as f:
        landmarks = np.array([float(x) for x in json.load(f)["landmarks"]])
    indir, outdir, tmin, tmax = sys.argv[4], sys.argv[5], int(sys.argv[6]), int(sys.argv[7])
    values, mask, names = read(indir)
    got = []
    for f, _ in names:
        name = os.path.basename(f)
        base = name[:-4] if name.lower().endswith(".dcm") else name
        got.append(pydicom.dcmread(os.path.join(outdir, base + "-normalized.dcm")).pixel_array.astype(np.int64).reshape(-1))
    got = np.concatenate(got)[mask]
    counts = []
    for ns in (ns64, ns32):
        out = ns["_normalize"](torch.as_tensor(values), landmarks, mask=mask).numpy().astype(np.float64)
        want = np.floor(tmin + out * (tmax - tmin) / 100 + 0.5)
        want = np.clip(want, tmin, tmax)[mask]
        diff = np.abs(got - want)
        counts += [int(np.sum(diff == 0)), int(np.sum(diff <= 1))]
    n = int(mask.sum())
    print(n, *counts)
    if counts[1] != n or counts[0] < 0.99 * n:
        sys.exit(1)


main()
