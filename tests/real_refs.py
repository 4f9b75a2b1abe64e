"""Writes the images that real objects reference, so that a run links them.

usage: /usr/bin/python3 real_refs.py CT OUTDIR OBJECT...

For every Referenced SOP Instance UID of an image (not of a report or
presentation state) of each OBJECT (at any depth), OUTDIR
gets a copy of the CT file with that SOP Instance UID, in the series that
the reference is listed under (the nearest enclosing Series Instance UID),
else in a series of its own, and in the object's study.
"""

import os
import sys

import pydicom

REF_SOP = 0x00081155
REF_CLASS = 0x00081150
SERIES = 0x0020000E


def image_class(uid):
    """Whether a referenced SOP class may be an image (reports,
    presentation states and documents are not)."""
    return not any(uid.startswith("1.2.840.10008.5.1.4.1.1." + p) for p in ("88.", "11.", "104."))


def refs(ds, series, found):
    here = str(ds[SERIES].value) if SERIES in ds else series
    for elem in ds:
        if elem.tag == REF_SOP:
            if not image_class(str(ds.get(REF_CLASS).value if REF_CLASS in ds else "")):
                continue  # a predecessor report, say: not an image
            for v in (elem.value if elem.VM > 1 else [elem.value]):
                found.setdefault(str(v), here)
        elif elem.VR == "SQ":
            for item in elem.value:
                refs(item, here, found)


def main():
    ct, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    n = 0
    for path in sys.argv[3:]:
        obj = pydicom.dcmread(path)
        found = {}
        for elem in obj:  # the object's own series is not a reference
            if elem.VR == "SQ":
                for item in elem.value:
                    refs(item, None, found)
        for uid, series in sorted(found.items()):
            n += 1
            ds = pydicom.dcmread(ct)
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid
            ds.SeriesInstanceUID = series or "1.2.826.0.1.3680043.10.544.%d" % n
            ds.StudyInstanceUID = obj.StudyInstanceUID
            ds.InstanceNumber = n
            ds.save_as(os.path.join(out, "IM%04d" % n))
    print(n)


if __name__ == "__main__":
    main()
