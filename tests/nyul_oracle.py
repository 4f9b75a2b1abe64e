"""Independent exact oracle for dicom-remap's histogram standardization.

usage: /usr/bin/python3 nyul_oracle.py learn LANDMARKS.json MASK|- IMAGE...
       /usr/bin/python3 nyul_oracle.py apply LANDMARKS.json MASK|- INDIR OUTDIR MIN MAX

Written from the definition (TorchIO's histogram_standardization.py), not
from dicom-remap's code. Every IMAGE (a file or a directory of one series)
is read with pydicom; each sample's modality value is a fractions.Fraction
from the header's decimal strings; pixel padding is left out; with MASK,
samples below it are left out of the percentiles. Percentiles are numpy's
linear method, exactly: h = (N-1)p/100, x[floor h] + frac(h)(x[floor h + 1]
- x[floor h]).

learn: the landmarks are the mean over the images of (x - p1)*100/(p99 - p1)
for each percentile; compared with the file's to 1e-15 relative (the file
rounds to 20 digits). Also compared with numpy.percentile in float64.

apply: the image (all files of INDIR) gets its own percentiles; each sample
x takes segment k = #(inner landmarks p10..p90 <= x) of the 11 used ones
(25 and 75 left out), slope (L[k+1]-L[k])/(P[k+1]-P[k]) or 0 when
P[k+1]-P[k] < 1e-5, value L[k] + slope (x - P[k]); then MIN + value
(MAX-MIN)/100 rounded half up, clamped; padding is MIN. Every sample of
OUTDIR/<name>-normalized.dcm must equal it. Prints the sample count.
"""

import json
import math
import os
import sys
from fractions import Fraction

import numpy
import pydicom

from stored_samples import stored  # tests/, beside this script

PERCENTILES = [1, 10, 20, 25, 30, 40, 50, 60, 70, 75, 80, 90, 99]
USED = [0, 1, 2, 4, 5, 6, 7, 8, 10, 11, 12]




def files_of(path):
    if os.path.isdir(path):
        return sorted(os.path.join(path, f) for f in os.listdir(path) if not f.startswith("."))
    return [path]


def read(path):
    """Per file: (name, modality values or None for padding)."""
    out = []
    for f in files_of(path):
        ds = pydicom.dcmread(f)
        slope = Fraction(str(ds.get("RescaleSlope", "1")).strip())
        intercept = Fraction(str(ds.get("RescaleIntercept", "0")).strip())
        pad = ds.get("PixelPaddingValue")
        vals = [None if pad is not None and v == pad else v * slope + intercept for v in stored(ds)]
        out.append((f, vals))
    return out


def percentiles(values, mask):
    xs = sorted(v for v in values if v is not None and (mask is None or v >= mask))
    n = len(xs)
    out = []
    for p in PERCENTILES:
        h = Fraction(n - 1) * p / 100
        j = math.floor(h)
        f = h - j
        q = xs[j] if f == 0 else xs[j] + f * (xs[j + 1] - xs[j])
        out.append(q)
    # numpy's own, in float64, must agree closely
    np_q = numpy.percentile(numpy.array([float(x) for x in xs]), PERCENTILES)
    for a, b in zip(out, np_q):
        if abs(float(a) - b) > 1e-9 * max(1.0, abs(b)):
            sys.exit(f"nyul_oracle: exact percentile {float(a)} differs from numpy's {b}")
    return out


def landmarks_of(path):
    with open(path) as f:
        # The file's decimals, exactly (not through float).
        return json.load(f, parse_float=Fraction, parse_int=Fraction)["landmarks"]


def learn(lm_path, mask, images):
    rows = []
    for im in images:
        vals = [v for _, vs in read(im) for v in vs]
        rows.append(percentiles(vals, mask))
    mean = []
    for j in range(len(PERCENTILES)):
        mean.append(sum((r[j] - r[0]) * 100 / (r[-1] - r[0]) for r in rows) / len(rows))
    got = landmarks_of(lm_path)
    for a, b in zip(mean, got):
        if abs(a - b) > Fraction(1, 10**15) * max(1, abs(a)):
            sys.exit(f"nyul_oracle: landmark {b} (file) differs from {float(a)}")
    print(" ".join(str(float(x)) for x in mean))


def apply(lm_path, mask, indir, outdir, tmin, tmax):
    L = landmarks_of(lm_path)
    files = read(indir)
    P = percentiles([v for _, vs in files for v in vs], mask)
    p = [P[i] for i in USED]
    l = [L[i] for i in USED]
    slopes = []
    for k in range(len(p) - 1):
        d = p[k + 1] - p[k]
        slopes.append(Fraction(0) if d < Fraction(1, 100000) else (l[k + 1] - l[k]) / d)
    inner = p[1:-1]

    def value(x):
        k = sum(1 for b in inner if b <= x)
        return l[k] + slopes[k] * (x - p[k])

    def out(x):
        if x is None:
            return tmin
        o = math.floor(tmin + value(x) * (tmax - tmin) / 100 + Fraction(1, 2))
        return min(max(o, tmin), tmax)

    count = 0
    for f, vals in files:
        name = os.path.basename(f)
        base = name[:-4] if name.lower().endswith(".dcm") else name
        got = stored(pydicom.dcmread(os.path.join(outdir, base + "-normalized.dcm")))
        memo = {}
        for i, x in enumerate(vals):
            if x not in memo:
                memo[x] = out(x)
            if got[i] != memo[x]:
                sys.exit(f"nyul_oracle: {name} sample {i} ({x}): {got[i]}, want {memo[x]}")
            count += 1
    print(count)


def main():
    mode, lm = sys.argv[1], sys.argv[2]
    mask = None if sys.argv[3] == "-" else Fraction(sys.argv[3])
    if mode == "learn":
        learn(lm, mask, sys.argv[4:])
    else:
        apply(lm, mask, sys.argv[4], sys.argv[5], int(sys.argv[6]), int(sys.argv[7]))


main()
