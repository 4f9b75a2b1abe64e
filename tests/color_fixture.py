"""Makes colour inputs and their independent references with pydicom.

usage: /usr/bin/python3 color_fixture.py KIND SOURCE INPUT REFERENCE

KIND is one of
  palette8   SOURCE's 8-bit gray values as indices into pydicom's hotiron
             palette (256 8-bit entries, packed);
  palette16  SOURCE's 16-bit values as indices into a generated palette of
             4096 16-bit entries whose first mapped value is 100;
  ybr        SOURCE's RGB converted to uncompressed YBR_FULL (planar 0);
  ybr-planar the same with planar configuration 1;
  ybr422     an existing uncompressed YBR_FULL_422 file (SOURCE) as it is.
INPUT is written (not for ybr422) and REFERENCE gets the RGB values that
pydicom's apply_color_lut or convert_color_space gives, as native RGB.
"""

import os
import sys

import numpy as np
import pydicom
from pydicom.pixel_data_handlers.util import apply_color_lut, convert_color_space

PALETTES = os.path.join(os.path.dirname(pydicom.__file__), "data", "palettes")


def write_reference(ds, rgb, path):
    ref = ds.copy()
    ref.file_meta = ds.file_meta.copy()
    ref.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    ref.PhotometricInterpretation = "RGB"
    ref.SamplesPerPixel = 3
    ref.PlanarConfiguration = 0
    bits = 8 if rgb.dtype == np.uint8 else 16
    ref.BitsAllocated = ref.BitsStored = bits
    ref.HighBit = bits - 1
    ref.PixelRepresentation = 0
    for kw in list(ref.dir()):
        if "Palette" in kw:
            delattr(ref, kw)
    ref.PixelData = np.ascontiguousarray(rgb).astype("<u%d" % (bits // 8)).tobytes()
    ref.is_little_endian, ref.is_implicit_VR = True, False
    ref.save_as(path, write_like_original=False)


def main():
    kind, source, inp, refpath = sys.argv[1:5]
    ds = pydicom.dcmread(source)
    if kind.startswith("palette"):
        ds.PhotometricInterpretation = "PALETTE COLOR"
        if kind == "palette8":
            pal = pydicom.dcmread(os.path.join(PALETTES, "hotiron.dcm"))
            tables = [(list(pal[0x00281101 + k].value), pal[0x00281201 + k].value) for k in range(3)]
        else:
            n, first = 4096, 100
            i = np.arange(n, dtype=np.int64)
            tables = [([n, first, 16], t.astype("<u2").tobytes())
                      for t in ((i * 16) & 0xFFFF, 65535 - i * 16, (i * 37) % 65536)]
        for k, (desc, data) in enumerate(tables):
            ds.add_new(0x00281101 + k, "US", desc)
            ds.add_new(0x00281201 + k, "OW", data)
        for kw in ("RescaleSlope", "RescaleIntercept", "WindowCenter", "WindowWidth"):
            if kw in ds:
                delattr(ds, kw)
        ds.save_as(inp)
        ds = pydicom.dcmread(inp)
        rgb = apply_color_lut(ds.pixel_array, ds)
    elif kind in ("ybr", "ybr-planar"):
        rgb_in = ds.pixel_array
        ybr = convert_color_space(rgb_in, "RGB", "YBR_FULL")
        ds.PhotometricInterpretation = "YBR_FULL"
        planar = 1 if kind == "ybr-planar" else 0
        ds.PlanarConfiguration = planar
        data = ybr.transpose(2, 0, 1) if planar else ybr
        ds.PixelData = np.ascontiguousarray(data).astype(np.uint8).tobytes()
        ds.save_as(inp)
        ds = pydicom.dcmread(inp)
        rgb = convert_color_space(ds.pixel_array, "YBR_FULL", "RGB")
    elif kind == "ybr422":
        rgb = convert_color_space(ds.pixel_array, "YBR_FULL", "RGB")
    else:
        sys.exit("unknown kind " + kind)
    write_reference(ds, rgb, refpath)


if __name__ == "__main__":
    main()
