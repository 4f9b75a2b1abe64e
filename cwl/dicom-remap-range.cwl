#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
id: dicom-remap-range
label: dicom-remap --print-range – the source range of one DICOM image
doc: |
  Measures the extremes (or, with percentiles, the histogram and
  percentiles) of the modality values of a DICOM image (pixel padding left
  out) and writes them as a JSON range record, the first phase of series
  mode. As series mode, it skips a DICOM object that is not an image (SR,
  KO, PR, SEG, RTSTRUCT, PDF, ...) or a file that is not DICOM: the record
  then holds no range ("files": 0) and lists the file under "skipped" with
  the reason, and --merge-ranges keeps that list. Exit codes as
  dicom-remap: 3 for a rejected input (a broken DICOM file still fails).

$namespaces:
  s: https://schema.org/

hints:
  DockerRequirement:
    dockerPull: dicom-remap/dicom-remap:0.1.0
  SoftwareRequirement:
    packages:
      dicom-remap:
        version: ["0.1.0"]
        specs: ["https://github.com/dicom-remap/dicom-remap"]
  # One thread and a few MB: the image is scanned, not held.
  ResourceRequirement:
    coresMin: 1
    coresMax: 1
    ramMin: 64

requirements:
  # The file alone in a folder named after it: --print-range on a folder
  # skips what series mode skips (on a file it refuses a non-image).
  InitialWorkDirRequirement:
    listing:
      - entry: $(inputs.input)
        entryname: $(inputs.input.basename)/$(inputs.input.basename)

baseCommand: [dicom-remap, --print-range]
arguments:
  - position: 2
    prefix: --
    valueFrom: $(inputs.input.basename)
inputs:
  input:
    type: File
  percentiles:
    type: string?
    inputBinding:
      position: 1
      prefix: --percentiles=
      separate: false
  mask_below:
    type: string?
    inputBinding:
      position: 1
      prefix: --mask-below=
      separate: false
  percentile_method:
    type: string?
    inputBinding:
      position: 1
      prefix: --percentile-method=
      separate: false
stdout: range.json
outputs:
  range:
    type: stdout

successCodes: [0]
permanentFailCodes: [2, 3]
temporaryFailCodes: [1]

s:license: https://spdx.org/licenses/MIT
s:codeRepository: https://github.com/dicom-remap/dicom-remap
s:version: 0.1.0
