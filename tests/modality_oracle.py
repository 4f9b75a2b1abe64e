"""Independent exact oracle for dicom-remap in modality units (series mode).

usage: /usr/bin/python3 modality_oracle.py INDIR OUTDIR MIN MAX [PLO:PHI|-] [MASK|-] [nearest-rank|linear]

Reads every file of INDIR (one series) with pydicom, takes each sample's
modality value m = v * RescaleSlope + RescaleIntercept as a
fractions.Fraction from the header's decimal strings (or, for a file with a
Modality LUT Sequence, pydicom's own apply_modality_lut; an enhanced
multi-frame image frame by frame, each frame's transform taken from its
per-frame functional group, else the shared one, as a Modality LUT Sequence
in the Pixel Value Transformation item or directly in the group, or a
rescale), chooses the source
range over all slices (extremes of the non-padding samples at or above MASK,
or the modality values of rank max(1, ceil(p/100 * N)), or with linear
numpy's x[floor h] + frac(h)(x[floor h + 1] - x[floor h]), h = (N-1)p/100,
also checked against numpy.percentile in float64), maps every sample
with out = MIN + (m - lo)(MAX - MIN)/(hi - lo), halves up, clamped, and
compares with OUTDIR/<name>-normalized.dcm sample by sample. Prints the
range as "lo hi" (exact decimals as Fractions) and exits 1 on a mismatch.
"""

import math
import os
import sys
from fractions import Fraction

import numpy as np
import pydicom
from pydicom.dataset import Dataset

from stored_samples import stored  # tests/, beside this script
from pydicom.pixel_data_handlers.util import apply_modality_lut




def decimal(text):
    return Fraction(str(text).strip())


def modality(vals, ds, slope, intercept):
    """The modality values of vals under ds's Modality LUT (pydicom's
    apply_modality_lut), else its rescale as exact Fractions."""
    if ds.get("ModalityLUTSequence"):
        lut = apply_modality_lut(np.array(vals, dtype=np.int64), ds)
        return [Fraction(int(m)) for m in lut]
    return [v * slope + intercept for v in vals]


def frame_transforms(ds):
    """For an image with functional groups, one data set a frame holding
    that frame's Modality LUT module; None for other images."""
    shared = ds.get("SharedFunctionalGroupsSequence")
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if shared is None and per_frame is None:
        return None

    def of_group(item):
        t = Dataset()
        t.is_little_endian = ds.is_little_endian
        if "ModalityLUTSequence" in item:
            t.ModalityLUTSequence = item.ModalityLUTSequence
        elif "PixelValueTransformationSequence" in item:
            pvt = item.PixelValueTransformationSequence[0]
            if "ModalityLUTSequence" in pvt:
                t.ModalityLUTSequence = pvt.ModalityLUTSequence
            else:
                t.RescaleSlope, t.RescaleIntercept = pvt.RescaleSlope, pvt.RescaleIntercept
        else:
            return None
        return t

    fallback = (of_group(shared[0]) if shared else None) or ds
    frames = int(ds.get("NumberOfFrames", 1))
    out = []
    for f in range(frames):
        t = of_group(per_frame[f]) if per_frame is not None and f < len(per_frame) else None
        out.append(t or fallback)
    return out


def main():
    indir, outdir, lo_t, hi_t = sys.argv[1:5]
    tmin, tmax = int(lo_t), int(hi_t)
    pct = sys.argv[5] if len(sys.argv) > 5 and sys.argv[5] != "-" else None
    mask = decimal(sys.argv[6]) if len(sys.argv) > 6 and sys.argv[6] != "-" else None
    linear = len(sys.argv) > 7 and sys.argv[7] == "linear"
    files = sorted(f for f in os.listdir(indir) if not f.startswith("."))
    slices = []
    for name in files:
        ds = pydicom.dcmread(os.path.join(indir, name))
        slope = decimal(ds.get("RescaleSlope", "1"))
        intercept = decimal(ds.get("RescaleIntercept", "0"))
        pad = ds.get("PixelPaddingValue")
        vals = stored(ds)
        transforms = frame_transforms(ds)
        if transforms is None:
            mods = modality(vals, ds, slope, intercept)
        else:
            per = len(vals) // len(transforms)
            mods = []
            for f, t in enumerate(transforms):
                mods += modality(vals[f * per:(f + 1) * per], t,
                                 decimal(t.get("RescaleSlope", "1")), decimal(t.get("RescaleIntercept", "0")))
        slices.append((name, vals, mods, pad))
    counts = {}
    for _, vals, mods, pad in slices:
        for v, m in zip(vals, mods):
            if pad is not None and v == pad:
                continue
            if mask is not None and m < mask:
                continue
            counts[m] = counts.get(m, 0) + 1
    keys = sorted(counts)
    total = sum(counts.values())

    def rank_of(rank):
        seen = 0
        for k in keys:
            seen += counts[k]
            if seen >= rank:
                return k
        raise SystemExit("rank beyond samples")

    def linear_quantile(p):
        h = (total - 1) * p / 100
        j = math.floor(h)
        lo = rank_of(j + 1)
        q = lo if h == j else lo + (h - j) * (rank_of(j + 2) - lo)
        import numpy

        xs = numpy.repeat(numpy.array([float(k) for k in keys]), [counts[k] for k in keys])
        ref = numpy.percentile(xs, float(p))
        if abs(float(q) - ref) > 1e-9 * max(1.0, abs(ref)):
            raise SystemExit(f"exact {float(q)} differs from numpy.percentile {ref}")
        return q

    def quantile(p):
        if linear:
            return linear_quantile(p)
        rank = max(1, math.ceil(p / 100 * total))
        seen = 0
        for k in keys:
            seen += counts[k]
            if seen >= rank:
                return k
        raise SystemExit("rank beyond samples")

    if pct:
        plo, phi = (Fraction(x) for x in pct.split(":"))
        lo, hi = quantile(plo), quantile(phi)
    else:
        lo, hi = keys[0], keys[-1]

    def remap(m):
        if m <= lo:
            return tmin
        if m >= hi:
            return tmax
        return tmin + math.floor((m - lo) * (tmax - tmin) / (hi - lo) + Fraction(1, 2))

    for name, vals, mods, pad in slices:
        out = pydicom.dcmread(os.path.join(outdir, name + "-normalized.dcm"))
        got = stored(out)
        for i, v in enumerate(vals):
            want = tmin if pad is not None and v == pad else remap(mods[i])
            if got[i] != want:
                print(f"modality_oracle: {name} sample {i} (stored {v}, modality value {mods[i]}): {got[i]}, want {want}")
                sys.exit(1)
    print(lo, hi)


main()
