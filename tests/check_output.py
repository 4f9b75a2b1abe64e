"""Independent check of one dicom-remap output, with pydicom and numpy.

usage: /usr/bin/python3 check_output.py [--reference REF [--tolerance N]] INPUT OUTPUT MIN MAX [SRC_LO SRC_HI]

With SRC_LO SRC_HI the map uses that source range (series mode), values
outside it clamped, instead of the file's own extremes.

With --reference, the input's stored values are taken from REF, a native
file that holds them decoded by an independent decoder (dcmtk, GDCM,
pydicom) or the synthetic source of a lossless encoding: compressed and
colour-converted inputs are checked against it. --tolerance allows output
samples to differ from the expected ones by up to N, for references whose
decoder rounds differently (pydicom's floating-point YBR conversion).

Reads both files with pydicom, decodes the stored values from the raw Pixel
Data bytes itself (byte order, BitsStored mask, sign), recomputes the
documented map with exact Python integers, and compares every sample. Also
checks the derived-image header. Prints one summary line; exits 1 with the
reason on any mismatch.
"""

import sys

import numpy as np
import pydicom

TEXT_VRS = {"PN", "LO", "SH", "ST", "LT", "UT", "UC"}
CHANGED = {
    pydicom.tag.Tag(0x0008, 0x2111),  # Derivation Description
    pydicom.tag.Tag(0x0028, 0x1055),  # Window Center & Width Explanation
    pydicom.tag.Tag(0x0028, 0x1054),  # Rescale Type
}


def fail(msg):
    print("check_output: " + msg)
    sys.exit(1)


def stored_values(ds):
    """Stored sample values, in file order, as Python ints in an int64 array."""
    ba, bs = ds.BitsAllocated, ds.BitsStored
    signed = ds.PixelRepresentation == 1
    order = "<" if ds.is_little_endian else ">"
    dtype = {8: "u1", 16: "u2", 32: "u4"}[ba]
    n = ds.Rows * ds.Columns * int(ds.get("NumberOfFrames", 1) or 1) * ds.SamplesPerPixel
    raw = np.frombuffer(ds.PixelData, dtype=order + dtype, count=n).astype(np.int64)
    raw &= (1 << bs) - 1
    if signed:
        raw = np.where(raw & (1 << (bs - 1)), raw - (1 << bs), raw)
    return raw


def interleaved(ds, values):
    """Values with a pixel's samples together, as decoded outputs hold them."""
    if ds.SamplesPerPixel == 3 and ds.get("PlanarConfiguration", 0) == 1:
        frames = values.reshape(-1, 3, ds.Rows * ds.Columns)
        return frames.transpose(0, 2, 1).reshape(-1)
    return values


def padding(ds):
    if "PixelPaddingValue" not in ds or not ds.PhotometricInterpretation.startswith("MONOCHROME"):
        return None

    def value(elem):
        v = int(elem.value) & 0xFFFF
        if ds.PixelRepresentation == 1 and v & 0x8000:
            v -= 0x10000
        return v

    lo = value(ds["PixelPaddingValue"])
    hi = value(ds["PixelPaddingRangeLimit"]) if "PixelPaddingRangeLimit" in ds else lo
    return min(lo, hi), max(lo, hi)


def expected(values, pad, lo, hi, source=None):
    mask = np.zeros(values.shape, dtype=bool)
    if pad is not None:
        mask = (values >= pad[0]) & (values <= pad[1])
    data = values[~mask]
    out = np.full(values.shape, lo, dtype=np.int64)
    if data.size == 0 and source is None:
        return out, None
    smin, smax = source if source is not None else (int(data.min()), int(data.max()))
    if smin == smax:
        return out, (smin, smax)
    table = {}
    den = smax - smin
    for u in np.unique(data).tolist():
        c = min(max(u, smin), smax)  # clamp to the source range
        num = (c - smin) * (hi - lo)
        table[u] = lo + (2 * num + den) // (2 * den)  # round half up, exact
    uniq, inverse = np.unique(values, return_inverse=True)
    mapped = np.array([table.get(u, lo) for u in uniq.tolist()], dtype=np.int64)
    out = mapped[inverse].reshape(values.shape)
    out[mask] = lo
    return out, (smin, smax)


def main():
    args = sys.argv[1:]
    ref_path, tolerance = None, 0
    if args[:1] == ["--reference"]:
        ref_path, args = args[1], args[2:]
    if args[:1] == ["--tolerance"]:
        tolerance, args = int(args[1]), args[2:]
    src_path, out_path, lo, hi = args[0], args[1], int(args[2]), int(args[3])
    source = (int(args[4]), int(args[5])) if len(args) > 5 else None
    src = pydicom.dcmread(src_path, force=True)
    out = pydicom.dcmread(out_path)
    ref = pydicom.dcmread(ref_path, force=True) if ref_path else src

    if out.file_meta.TransferSyntaxUID != "1.2.840.10008.1.2.1":
        fail("output transfer syntax %s" % out.file_meta.TransferSyntaxUID)
    if ref_path:
        if out.PhotometricInterpretation != ref.PhotometricInterpretation or out.SamplesPerPixel != ref.SamplesPerPixel:
            fail("photometric %s/%d, reference %s/%d" % (out.PhotometricInterpretation, out.SamplesPerPixel,
                                                         ref.PhotometricInterpretation, ref.SamplesPerPixel))
        if out.SamplesPerPixel == 3 and out.PlanarConfiguration != 0:
            fail("decoded colour is not interleaved")
    values = stored_values(ref)
    if ref_path:
        values = interleaved(ref, values)
    want, srange = expected(values, padding(src), lo, hi, source)
    got = stored_values(out)
    if got.shape != want.shape:
        fail("shape %s, want %s" % (got.shape, want.shape))
    bad = np.nonzero(np.abs(got - want) > tolerance)[0]
    if bad.size:
        i = int(bad[0])
        fail("%d samples differ; first at %d: %d, want %d" % (bad.size, i, got[i], want[i]))
    if out.HighBit != out.BitsStored - 1 or out.BitsAllocated != ref.BitsAllocated:
        fail("bits: allocated %d stored %d high %d" % (out.BitsAllocated, out.BitsStored, out.HighBit))
    # pydicom's own decoder must agree with ours on the output.
    if out.SamplesPerPixel == 1:
        arr = out.pixel_array.astype(np.int64).reshape(-1)
        if not np.array_equal(arr, got):
            fail("pydicom pixel_array disagrees with the expected values")

    # A data set without SOP UIDs is read with the file meta's (with a warning).
    src_sop = src.get("SOPInstanceUID") or src.file_meta.MediaStorageSOPInstanceUID
    src_class = src.get("SOPClassUID") or src.file_meta.MediaStorageSOPClassUID
    if out.SOPClassUID != src_class:
        fail("SOP Class UID %s, the input's is %s" % (out.get("SOPClassUID"), src_class))
    if out.SOPInstanceUID == src_sop or not out.SOPInstanceUID.startswith("2.25."):
        fail("SOP Instance UID not new: %s" % out.SOPInstanceUID)
    if out.file_meta.MediaStorageSOPInstanceUID != out.SOPInstanceUID:
        fail("file meta SOP instance differs from the dataset's")
    if "SeriesInstanceUID" in src and out.SeriesInstanceUID == src.SeriesInstanceUID:
        fail("series UID not new")
    if out.ImageType[0] != "DERIVED":
        fail("image type %s" % out.ImageType)
    ref = out.SourceImageSequence[0]
    if ref.ReferencedSOPInstanceUID != src_sop:
        fail("source image sequence does not reference the input")
    for kw in ("VOILUTSequence", "IconImageSequence", "ModalityLUTSequence", "RealWorldValueMappingSequence"):
        if kw in out:
            fail("%s kept" % kw)
    if "RescaleSlope" in out and (float(out.RescaleSlope) != 1 or float(out.RescaleIntercept) != 0):
        fail("rescale %s/%s" % (out.RescaleSlope, out.RescaleIntercept))
    if "WindowCenter" in out:
        c, w = float(out.WindowCenter), float(out.WindowWidth)
        if c - 0.5 - (w - 1) / 2 != lo or c - 0.5 + (w - 1) / 2 != hi:
            fail("window %s/%s does not cover [%d, %d]" % (c, w, lo, hi))
    if "SmallestImagePixelValue" in out and out.SmallestImagePixelValue != int(want.min()):
        fail("smallest pixel value %s, want %d" % (out.SmallestImagePixelValue, want.min()))
    if "LargestImagePixelValue" in out and out.LargestImagePixelValue != int(want.max()):
        fail("largest pixel value %s, want %d" % (out.LargestImagePixelValue, want.max()))
    if "SpecificCharacterSet" in src and src.SpecificCharacterSet not in ("", "ISO_IR 6"):
        if out.SpecificCharacterSet != "ISO_IR 192":
            fail("specific character set %s" % out.SpecificCharacterSet)

    # Text must re-read identically (pydicom decodes each file in its own
    # character set); private tags must survive.
    for elem in src:
        if elem.tag in CHANGED or elem.tag.group == 0x0002:
            continue
        if elem.VR in TEXT_VRS or elem.tag.is_private:
            if elem.tag not in out:
                fail("%s %s dropped" % (elem.tag, elem.keyword))
            if elem.VR in TEXT_VRS and str(out[elem.tag].value) != str(elem.value):
                fail("%s %s: %r became %r" % (elem.tag, elem.keyword, str(elem.value), str(out[elem.tag].value)))

    print("ok %s: %d samples, source %s -> [%d, %d], bits stored %d, signed %d"
          % (out_path, want.size, srange, lo, hi, out.BitsStored, out.PixelRepresentation))


if __name__ == "__main__":
    main()
