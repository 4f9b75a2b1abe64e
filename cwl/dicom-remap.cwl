#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
id: dicom-remap
label: dicom-remap – linearly remap DICOM pixel intensities
doc: |
  Linearly remaps the modality values (stored value x rescale slope +
  intercept, exact) of a DICOM image to the integer
  range [min, max] and writes <name>-normalized.dcm, a valid derived DICOM
  image (new SOP Instance and Series UIDs, Explicit VR Little Endian).
  Exact integer arithmetic, halves rounded up: the same input and arguments
  give the same bytes natively, in Docker and under any CWL runner.

  Exit codes: 0 success; 1 I/O or internal failure; 2 usage (min >= max, or a
  range this input's pixel format cannot store); 3 input rejected (not DICOM,
  corrupt or unsupported; permanent, do not retry).

  The input has no declared format: DICOM files arrive from PACS exports and
  scanners without one, and a runner would refuse those files before the
  tool could say why. The tool checks its input itself (exit 3).

$namespaces:
  edam: http://edamontology.org/
  s: https://schema.org/

hints:
  DockerRequirement:
    dockerPull: dicom-remap/dicom-remap:0.1.0
  SoftwareRequirement:
    packages:
      dicom-remap:
        version: ["0.1.0"]
        specs: ["https://github.com/dicom-remap/dicom-remap"]
  # One thread; peak RSS measured at most 16 MB (README, Performance), as
  # pixel data beyond 4 MiB is streamed. 128 MiB leaves room for inputs
  # held whole (deflated ones). A scheduler need not reserve more.
  ResourceRequirement:
    coresMin: 1
    coresMax: 1
    ramMin: 128

baseCommand: dicom-remap
arguments:
  - prefix: --output-dir=
    separate: false
    valueFrom: $(runtime.outdir)

inputs:
  input:
    type: File
    label: Input DICOM image
    doc: MONOCHROME1/2, RGB, YBR or palette colour, 8, 16 or 32 bits; native, RLE, JPEG, JPEG-LS, JPEG 2000 or HTJ2K. Only read.
    inputBinding:
      position: 2
      prefix: --
  min:
    type: int
    label: Target minimum (may be negative)
    inputBinding:
      position: 1
      prefix: --min=
      separate: false
  max:
    type: int
    label: Target maximum
    inputBinding:
      position: 1
      prefix: --max=
      separate: false
  source_range:
    type: File?
    label: Source range (JSON from --print-range or --merge-ranges)
    doc: |
      Map this source range (modality values) instead of the image's own
      extremes; values outside are clamped. dicom-remap-series.cwl passes the range of the
      whole series here.
    inputBinding:
      position: 1
      prefix: --source-range-from=
      separate: false
  percentiles:
    type: string?
    label: Source range from percentiles PLO:PHI (e.g. 0.5:99.5)
    doc: |
      [Q(PLO), Q(PHI)] of the non-padding samples instead of their extremes;
      values outside are clamped. Not with source_range.
    inputBinding:
      position: 1
      prefix: --percentiles=
      separate: false
  mask_below:
    type: string?
    label: Leave samples below this modality value (e.g. -500 HU) out of the range
    doc: |
      They are still mapped (clamped). Composes with percentiles. Not with
      source_range.
    inputBinding:
      position: 1
      prefix: --mask-below=
      separate: false
  percentile_method:
    type:
      - "null"
      - type: enum
        symbols: [nearest-rank, linear]
    label: How percentiles are read from the sorted samples
    doc: |
      nearest-rank (the default) or linear, numpy's default as TorchIO,
      MONAI and nnU-Net use it; exact either way.
    inputBinding:
      position: 1
      prefix: --percentile-method=
      separate: false
  window:
    type: string?
    label: CT window preset (brain, subdural, stroke, lung, mediastinum, soft-tissue, liver, bone, ...)
    doc: |
      Exactly the source range (L-W/2):(L+W/2) in HU of the named window
      (README's table). CT only: other modalities fail with exit 2.
    inputBinding:
      position: 1
      prefix: --window=
      separate: false
  landmarks:
    type: File?
    label: Histogram-standardization landmarks (from dicom-remap --learn-landmarks)
    doc: |
      Nyul and Udupa's method as TorchIO's HistogramStandardization: the
      image's own landmarks mapped piecewise linearly onto these, then
      [0, 100] onto [min, max]. Not with source_range or percentiles.
    inputBinding:
      position: 1
      prefix: --landmarks=
      separate: false
  qc:
    type: boolean?
    label: Also write a quality-control picture (PNG)
    doc: |
      Before and after, the input and output histograms and the mapping
      line, in <name>-qc.png; no patient data, the same bytes everywhere.
    inputBinding:
      position: 1
      prefix: --qc

outputs:
  normalized:
    type: File
    label: Remapped DICOM image
    format: edam:format_3548
    outputBinding:
      glob: "*-normalized.dcm"
  qc_picture:
    type: File?
    label: Quality-control picture (when qc is set)
    format: edam:format_3603
    outputBinding:
      glob: "*-qc.png"

successCodes: [0]
permanentFailCodes: [2, 3]
temporaryFailCodes: [1]

s:author:
  - s:name: dicom-remap developers
s:license: https://spdx.org/licenses/MIT
s:codeRepository: https://github.com/dicom-remap/dicom-remap
s:version: 0.1.0
s:citation: https://doi.org/10.1007/s10278-018-0089-4
