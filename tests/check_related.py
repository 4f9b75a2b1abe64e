"""Checks the linked copies of a --related link run with pydicom.

usage: /usr/bin/python3 check_related.py INPUT OUTDIR

For each related[] entry of OUTDIR's provenance record, the copy must be
the source with exactly these changes: its SOP Instance UID (data set and
file meta) and Series Instance UID those of the record, every Referenced
SOP Instance UID of a normalized image (any depth) the derived image's, and
every Series Instance UID inside a sequence that names a normalized series
the new series (when every instance the item lists is normalized), and likewise for references to other linked objects. The
file meta's implementation class and version name may name the writer.
Then every reference is checked both ways: no linked copy references a
source image or object that has a derived copy, every reference to a new
UID names an output, and a series named beside instance references is the
series of those instances.
"""

import json
import os
import sys

import pydicom
from pydicom.sequence import Sequence

REF_SOP = 0x00081155
SERIES = 0x0020000E


def walk(ds, fn, depth=0):
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value:
                walk(item, fn, depth + 1)
        else:
            fn(ds, elem, depth)


def all_linked(ds, sops):
    """Whether every instance an item references, at any depth, is
    normalized or linked: only then does the series it names change."""
    ok = [True]

    def visit(_, elem, __):
        if elem.tag == REF_SOP and any(v not in sops for v in values(elem)):
            ok[0] = False

    walk(ds, visit)
    return ok[0]


def values(elem):
    v = elem.value
    if isinstance(v, (list, pydicom.multival.MultiValue)):
        return [str(x) for x in v]
    return [str(v)] if v not in (None, "") else []


def main():
    inp, out = sys.argv[1], sys.argv[2]
    with open(os.path.join(out, "dicom-remap-provenance.json")) as f:
        rec = json.load(f)
    sops, series = {}, {}
    for s in rec["series"]:
        series[s["source_series_uid"]] = s["new_series_uid"]
        for fr in s["files"]:
            sops[fr["sop_instance_uid_old_new"][0]] = fr["sop_instance_uid_old_new"][1]
    # Linked objects reference each other's copies.
    for r in rec["related"]:
        sops[r["sop_instance_uid_old_new"][0]] = r["sop_instance_uid_old_new"][1]
        series[r["series_instance_uid_old_new"][0]] = r["series_instance_uid_old_new"][1]
    outputs = {}  # new SOP Instance UID -> Series Instance UID of the output
    for f in [fr for s in rec["series"] for fr in s["files"]] + rec["related"]:
        ds = pydicom.dcmread(os.path.join(out, f["output"]), stop_before_pixels=True)
        outputs[ds.SOPInstanceUID] = ds.SeriesInstanceUID
    either = set(sops) | set(sops.values())
    problems = []
    for r in rec["related"]:
        name = r["input"]
        src = pydicom.dcmread(os.path.join(inp, name))
        dst = pydicom.dcmread(os.path.join(out, r["output"]))
        # The source, changed as the record says it should be.
        want = pydicom.dcmread(os.path.join(inp, name))

        def change(ds, elem, depth):
            if elem.tag == REF_SOP:
                elem.value = [sops.get(v, v) for v in values(elem)] if elem.VM > 1 else sops.get(str(elem.value), elem.value)
            elif elem.tag == SERIES and depth > 0 and all_linked(ds, either):  # instances may be changed already
                elem.value = series.get(str(elem.value), elem.value)

        walk(want, change)
        want.SOPInstanceUID, want.SeriesInstanceUID = r["sop_instance_uid_old_new"][1], r["series_instance_uid_old_new"][1]
        want.file_meta.MediaStorageSOPInstanceUID = r["sop_instance_uid_old_new"][1]
        # The group length follows the new values (checked by dcmdump +E).
        for kw in ("FileMetaInformationGroupLength", "ImplementationClassUID", "ImplementationVersionName"):
            if kw in dst.file_meta:
                setattr(want.file_meta, kw, getattr(dst.file_meta, kw))
        if src.SOPInstanceUID != r["sop_instance_uid_old_new"][0] or src.SeriesInstanceUID != r["series_instance_uid_old_new"][0]:
            problems.append("%s: the record's old UIDs are not the source's" % name)
        for elem in want:
            if elem.tag not in dst:
                problems.append("%s: %s lost" % (name, elem.name))
            elif dst[elem.tag] != elem:
                problems.append("%s: %s is %r, want %r" % (name, elem.name, dst[elem.tag].value, elem.value))
        for elem in dst:
            if elem.tag not in want:
                problems.append("%s: %s added" % (name, elem.name))
        if want.file_meta != dst.file_meta:
            problems.append("%s: file meta %s, want %s" % (name, dst.file_meta, want.file_meta))
        if "PixelData" in src and src.PixelData != dst.PixelData:
            problems.append("%s: pixel data changed" % name)
        # Both ways: no reference to a normalized source image is left, and
        # each reference to a new UID names an output image.
        count = [0]

        def check(ds, elem, depth):
            if elem.tag == REF_SOP:
                for v in values(elem):
                    if v in sops:
                        problems.append("%s: still references the source image %s" % (name, v))
                    if v in outputs:
                        count[0] += 1
            elif elem.tag == SERIES and depth > 0:
                v = str(elem.value)
                if v in series and all_linked(ds, outputs):
                    problems.append("%s: still references the source series %s" % (name, v))
                if v in series.values():
                    count[0] += 1
                    # The instances named beside a series belong to it.
                    def member(_, e, __):
                        for u in values(e) if e.tag == REF_SOP else []:
                            if u in outputs and outputs[u] != v:
                                problems.append("%s: %s listed under series %s, but is in %s" % (name, u, v, outputs[u]))
                    walk(ds, member)

        walk(dst, check)
        if count[0] != r["references_rewritten"] or count[0] == 0:
            problems.append("%s: %d references to the new UIDs, the record says %d" % (name, count[0], r["references_rewritten"]))
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print("ok: %d linked objects" % len(rec["related"]))


if __name__ == "__main__":
    main()
