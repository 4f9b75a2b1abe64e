"""Stored sample values of a native DICOM data set, for the test oracles.

Each sample is read in the syntax's byte order, masked to BitsStored and
sign-extended when PixelRepresentation is 1: what dicom-remap calls stored
values, read independently of it.
"""

import struct

def stored(ds):
    bits, stored_bits = ds.BitsAllocated, ds.BitsStored
    signed = ds.PixelRepresentation == 1
    fmt = {8: "B", 16: "H", 32: "I"}[bits]
    raw = ds.PixelData
    n = len(raw) // (bits // 8)
    order = "<" if ds.file_meta.TransferSyntaxUID != "1.2.840.10008.1.2.2" else ">"
    mask = (1 << stored_bits) - 1
    out = []
    for (x,) in struct.iter_unpack(order + fmt, raw[: n * (bits // 8)]):
        x &= mask
        if signed and x & (1 << (stored_bits - 1)):
            x -= 1 << stored_bits
        out.append(x)
    return out
