#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
id: dicom-remap-slice
label: dicom-remap on one file of a series – the remap step of dicom-remap-series.cwl
doc: |
  Remaps one file of a series with the series' merged source range, as
  series mode remaps it (`dicom-remap --source-range-from=RANGE DIR OUTDIR
  MIN MAX` on a folder holding the file alone, named after it): the same
  bytes as series mode on the whole folder. A DICOM object that is not an
  image (SR, KO, PR, SEG, RTSTRUCT, PDF, ...) or a file that is not DICOM is
  skipped as series mode skips it: no output (null), exit 0. Exit codes as
  dicom-remap: 3 for a rejected input (a broken DICOM file still fails).

$namespaces:
  edam: http://edamontology.org/
  s: https://schema.org/

requirements:
  # The file alone in a folder named after it: series mode on that folder,
  # which skips what is not an image (the single-file form refuses it) and
  # names the picture after the folder, as the single-file form names it
  # after the file.
  InitialWorkDirRequirement:
    listing:
      - entry: $(inputs.input)
        entryname: $(inputs.input.basename)/$(inputs.input.basename)

hints:
  DockerRequirement:
    dockerPull: dicom-remap/dicom-remap:0.1.0
  SoftwareRequirement:
    packages:
      dicom-remap:
        version: ["0.1.0"]
        specs: ["https://github.com/dicom-remap/dicom-remap"]
  # One thread and one file, as dicom-remap.cwl.
  ResourceRequirement:
    coresMin: 1
    coresMax: 1
    ramMin: 128

baseCommand: [dicom-remap, --quiet]
arguments:
  - prefix: --output-dir=
    separate: false
    valueFrom: $(runtime.outdir)/remapped
  - position: 2
    prefix: --
    valueFrom: $(inputs.input.basename)

inputs:
  input:
    type: File
    label: One file of the series (an image, or an object series mode skips)
  min:
    type: int
    inputBinding:
      position: 1
      prefix: --min=
      separate: false
  max:
    type: int
    inputBinding:
      position: 1
      prefix: --max=
      separate: false
  source_range:
    type: File
    label: The series' source range (JSON from --merge-ranges)
    inputBinding:
      position: 1
      prefix: --source-range-from=
      separate: false
  qc:
    type: boolean?
    label: Draw the quality-control picture of the file (PNG); give true or nothing
    doc: |
      The file before and after, with the series' range marked, in
      <file name>-qc.png: the bytes of `dicom-remap --qc
      --source-range-from=RANGE FILE`. Any value, false too, asks for the
      picture (CWL without JavaScript cannot tell false from true here):
      dicom-remap-series.cwl runs this step for pictures only when its qc
      is true.
    inputBinding:
      position: 1
      prefix: --qc-file=
      separate: false
      valueFrom: $(runtime.outdir)/remapped/$(inputs.input.basename)-qc.png

outputs:
  normalized:
    type: File?
    label: The remapped image (null for a skipped object)
    format: edam:format_3548
    outputBinding:
      glob: remapped/*-normalized.dcm
  qc_picture:
    type: File?
    label: Quality-control picture (when qc is set and the file is an image)
    format: edam:format_3603
    outputBinding:
      glob: remapped/*-qc.png

successCodes: [0]
permanentFailCodes: [2, 3]
temporaryFailCodes: [1]

s:license: https://spdx.org/licenses/MIT
s:codeRepository: https://github.com/dicom-remap/dicom-remap
s:version: 0.1.0
