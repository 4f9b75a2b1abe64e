"""A faithful port of the paper's normalize_scan.py, as a speed peer only.

Matelsky et al. 2018 describe `python normalize_scan.py [DICOM file] [min]
[max]`: read with pydicom, remap pixel_array linearly to [min, max] with
numpy, write <name>-normalized.dcm. Like the original it writes float64
bytes into the Pixel Data and divides by zero on a constant image: its
output is NOT valid DICOM. The benchmark times it; nothing else uses it.

usage: /usr/bin/python3 paper_normalize_scan.py INPUT OUTDIR MIN MAX
"""
import os
import sys

import numpy as np
import pydicom

infile, outdir = sys.argv[1], sys.argv[2]
lo, hi = float(sys.argv[3]), float(sys.argv[4])
ds = pydicom.dcmread(infile)
arr = ds.pixel_array
norm = (arr - np.min(arr)) / (np.max(arr) - np.min(arr)) * (hi - lo) + lo
ds.PixelData = norm.tobytes()
name = os.path.basename(infile).replace(".dcm", "")
ds.save_as(os.path.join(outdir, name + "-normalized.dcm"))
