"""Writes images whose text uses the character sets of PS3.5 6.1, for the
character-set tests.

usage: /usr/bin/python3 charset_fixture.py CHARSET_DIR OUTDIR

pydicom's charset samples that hold no image (chrJapMulti, chrKoreanMulti,
chrSQEncoding, ...) are copied with a small image added, their text
elements left as the raw bytes of the sample. Sets no sample covers are
written from the examples of PS3.5 Annex H, I, J and K and from text that
Python's codecs encode: GB 2312 (ISO 2022 IR 58) with code extensions, GBK,
JIS X 0212 (ISO 2022 IR 159), and text in sequence items nested three deep,
in an item with its own Specific Character Set, in ST/LT with line breaks,
multi-valued, and in a private element after the Pixel Data.
"""

import glob
import os
import sys

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

SC = "1.2.840.10008.5.1.4.1.1.7"


def add_image(ds, seed):
    """Makes ds a small secondary-capture image, keeping its text as is."""
    ds.SOPClassUID = ds.get("SOPClassUID", SC) or SC
    ds.SOPInstanceUID = generate_uid(entropy_srcs=["chr", seed])
    if "SeriesInstanceUID" not in ds:
        ds.SeriesInstanceUID = generate_uid(entropy_srcs=["chr-series", seed])
    if "StudyInstanceUID" not in ds:
        ds.StudyInstanceUID = generate_uid(entropy_srcs=["chr-study", seed])
    ds.Modality = ds.get("Modality", "OT") or "OT"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = 4, 5
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation = 0
    ds.PixelData = (np.arange(20, dtype="<u2") * 97 % 4096).astype("<u2").tobytes()
    ds["PixelData"].VR = "OW"


def save(ds, path):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as(path, write_like_original=False)


def raw(tag, vr, value):
    """A data element holding value as raw bytes, written without encoding."""
    return pydicom.dataelem.DataElement(tag, vr, value)


def built(name, charset, elems, items=None, tail=None):
    ds = Dataset()
    ds.SpecificCharacterSet = charset
    for tag, vr, value in elems:
        ds.add(raw(tag, vr, value))
    if items:
        ds.add(raw(0x00081115, "SQ", Sequence(items)))  # Referenced Series Sequence
    add_image(ds, name)
    if tail:
        ds.add(raw(0x7FE10010, "LO", b"DICOM_REMAP TEST"))
        for tag, vr, value in tail:
            ds.add(raw(tag, vr, value))
    return ds


def item(charset, elems, nested=None):
    it = Dataset()
    if charset is not None:
        it.SpecificCharacterSet = charset
    for tag, vr, value in elems:
        it.add(raw(tag, vr, value))
    if nested:
        it.add(raw(0x00400555, "SQ", Sequence(nested)))  # Acquisition Context Sequence
    return it


def main():
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for path in sorted(glob.glob(os.path.join(src, "chr*.dcm"))):
        ds = pydicom.dcmread(path)
        if "PixelData" in ds:
            continue
        add_image(ds, os.path.basename(path))
        save(ds, os.path.join(out, os.path.basename(path)))

    PN, LO, SH, ST, LT, UT = 0x00100010, 0x00081030, 0x00080050, 0x00204000, 0x00324000, 0x00400400
    # PS3.5 K.2: GB 2312 as a code extension of ISO IR 6.
    gb = "Zhang^XiaoDong=\x1b$)A\xd5\xc5^\x1b$)A\xd0\xa1\xb6\xab=".encode("latin-1")
    save(built("chrGB2312", ["", "ISO 2022 IR 58"], [
        (PN, "PN", gb),
        (LO, "LO", b"\x1b$)A" + "头部平扫".encode("gb2312") + b"\\CT \x1b$)A" + "胸部".encode("gb2312")),
        (ST, "ST", b"line 1 \x1b$)A" + "第一行".encode("gb2312") + b"\r\nline 2 \x1b$)A" + "第二行".encode("gb2312")),
    ]), os.path.join(out, "chrGB2312.dcm"))
    # GBK, with characters outside GB 2312.
    save(built("chrGBK", "GBK", [
        (PN, "PN", "Zhu^Rongji=朱^镕基=".encode("gbk")),
        (LO, "LO", "龔鑫堃\\颢".encode("gbk")),
    ]), os.path.join(out, "chrGBK.dcm"))
    # GB18030, with a character outside GBK (four bytes).
    save(built("chrGB18030four", "GB18030", [
        (PN, "PN", "Wang^XiaoDong=王^小东𠀀=".encode("gb18030")),
        (LT, "LT", "多行\r\n文本\\反斜杠".encode("gb18030")),
    ]), os.path.join(out, "chrGB18030four.dcm"))
    # JIS X 0212 (ISO 2022 IR 159) beside JIS X 0208 and JIS X 0201.
    x0212 = "丂".encode("iso2022_jp_2").replace(b"\x1b(B", b"")
    save(built("chrJIS0212", ["ISO 2022 IR 13", "ISO 2022 IR 87", "ISO 2022 IR 159"], [
        (PN, "PN", b"\xd4\xcf\xc0\xde^\xc0\xdb\xb3=\x1b$B;3ED\x1b(J^" + x0212 + b"\x1b(J=\x1b$B$d$^$@\x1b(J"),
        (SH, "SH", b"\xb1\xb2\xb3"),
    ]), os.path.join(out, "chrJIS0212.dcm"))
    # Nested sequences: a Korean top level, an item in Japanese with its own
    # character set, an item that inherits, three levels deep, and a Korean
    # private element after the Pixel Data.
    korean = "\x1b$)C".encode() + "김희중".encode("euc_kr")
    japanese = b"\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B"
    save(built("chrNested", ["", "ISO 2022 IR 149"], [
        (PN, "PN", b"Kim^HeeJoong=" + korean + b"="),
        (UT, "UT", b"text\x1b$)C" + "한국어".encode("euc_kr") + b"\r\n\\ and more"),
    ], items=[
        item(["ISO 2022 IR 13", "ISO 2022 IR 87"], [(0x0008103E, "LO", japanese + b"\\\xd4\xcf\xc0\xde")], nested=[
            item(None, [(0x00080104, "LO", japanese)], nested=[
                item(None, [(0x00080104, "LO", b"\xb6\xc0\xb6\xc5\x1b$B4A;z\x1b(J")]),
            ]),
        ]),
        item(None, [(0x0008103E, "LO", korean)]),
    ], tail=[(0x7FE11001, "LO", korean)]), os.path.join(out, "chrNested.dcm"))


if __name__ == "__main__":
    main()
