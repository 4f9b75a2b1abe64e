"""Compares the text of a dicom-remap output with its input, as pydicom reads
both, at every depth.

usage: /usr/bin/python3 check_text.py INPUT OUTPUT [INPUT OUTPUT ...]

Every text element (PN, LO, SH, ST, LT, UT, UC) of the input, top level and
in every sequence item, must be in the output at the same place with the
same decoded value, whatever character set each file declares. Sequences
the tool replaces or removes are skipped. Prints one line a pair; exits 1
on the first difference.

pydicom 2.3 keeps the escape sequence of ISO 2022 IR 58 (GB 2312) in the
decoded text, as if it were a G0 set; the standard designates it to G1
(PS3.5 K.2). Decoded here as later pydicom versions do: the escape
sequence is removed and delimiters reset the set.
"""

import sys
import warnings

import pydicom
import pydicom.charset

pydicom.charset.handled_encodings = tuple(e for e in pydicom.charset.handled_encodings if e != "iso_ir_58")

TEXT_VRS = {"PN", "LO", "SH", "ST", "LT", "UT", "UC"}
SKIP = {
    pydicom.tag.Tag(0x0008, 0x2111),  # Derivation Description, rewritten
    pydicom.tag.Tag(0x0028, 0x1055),  # Window Center & Width Explanation
    pydicom.tag.Tag(0x0028, 0x1054),  # Rescale Type
    pydicom.tag.Tag(0x0008, 0x2112),  # Source Image Sequence, rewritten
    pydicom.tag.Tag(0x0088, 0x0200),  # Icon Image Sequence, removed
    pydicom.tag.Tag(0x0028, 0x3010),  # VOI LUT Sequence, removed
    pydicom.tag.Tag(0x0028, 0x3000),  # Modality LUT Sequence, removed
}


def fail(msg):
    print("check_text: " + msg)
    sys.exit(1)


def compare(src, out, where, counts):
    for elem in src:
        if elem.tag in SKIP or elem.tag.group == 0x0002:
            continue
        here = "%s%s %s" % (where, elem.tag, elem.keyword)
        if elem.VR == "SQ":
            if elem.tag not in out:
                fail(here + " dropped")
            o = out[elem.tag].value
            if len(o) != len(elem.value):
                fail("%s: %d items became %d" % (here, len(elem.value), len(o)))
            for i, (a, b) in enumerate(zip(elem.value, o)):
                compare(a, b, "%s[%d] " % (here, i), counts)
            continue
        if elem.VR not in TEXT_VRS:
            continue
        if elem.tag not in out:
            fail(here + " dropped")
        a, b = elem.value, out[elem.tag].value
        a = [str(x) for x in a] if isinstance(a, pydicom.multival.MultiValue) else str(a)
        b = [str(x) for x in b] if isinstance(b, pydicom.multival.MultiValue) else str(b)
        if a != b:
            fail("%s: %r became %r" % (here, a, b))
        if any(ord(c) > 127 for c in "".join(a if isinstance(a, list) else [a])):
            counts[0] += 1
        if "\x1b" in str(a) or "\ufffd" in str(a):
            fail("%s: pydicom could not decode the input itself: %r" % (here, a))


def check(src_path, out_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a decoding warning is a failure
        src = pydicom.dcmread(src_path)
        out = pydicom.dcmread(out_path)
        src.decode()
        out.decode()
        counts = [0]
        compare(src, out, out_path + ": ", counts)
    print("ok %s: text identical, %d non-ASCII values, output character set %s"
          % (out_path, counts[0], out.get("SpecificCharacterSet")))


def main():
    args = sys.argv[1:]
    if not args or len(args) % 2:
        fail("usage: check_text.py INPUT OUTPUT [INPUT OUTPUT ...]")
    for i in range(0, len(args), 2):
        check(args[i], args[i + 1])


if __name__ == "__main__":
    main()
