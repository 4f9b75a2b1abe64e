#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
id: dicom-remap-dir
label: dicom-remap on a directory – series mode in one step
doc: |
  Remaps every DICOM file under a directory with one map per series (the
  extremes over all files of the series), keeps relative paths, and writes a
  provenance record. All outputs or none. Exit codes as dicom-remap.
  The outputs go to <input directory name>-normalized/.

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
  # --workers files at once, one per core: exactly the cores reserved.
  # Each worker holds one file (read whole up to 4 MiB, streamed beyond):
  # measured 33 MB peak RSS with 1 worker and 41 MB with 2 (README,
  # Performance), so 256 MiB covers up to 8 workers with room to spare.
  # Without JavaScript (which this project avoids) ramMin cannot be
  # computed from workers: for more than 8, raise it with the engine's
  # overrides.
  ResourceRequirement:
    coresMin: $(inputs.workers)
    coresMax: $(inputs.workers)
    ramMin: 256

baseCommand: [dicom-remap, --quiet]
arguments:
  - prefix: --output-dir=
    separate: false
    valueFrom: $(runtime.outdir)/$(inputs.input.basename)-normalized
inputs:
  input:
    type: Directory
    label: A directory of DICOM files (a series, or several)
    inputBinding:
      position: 2
      prefix: --
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
  workers:
    type: int
    default: 1
    label: Files processed at once (the cores reserved)
    doc: |
      One by default, so that a cluster runs one job per series on one
      core; a series on a host of its own may use more.
    inputBinding:
      position: 1
      prefix: --workers=
      separate: false
  per_file:
    type: boolean?
    label: Map each file on its own (the paper's behaviour)
    inputBinding:
      position: 1
      prefix: --per-file
  qc:
    type: boolean?
    label: Also write a quality-control picture per series (PNG)
    doc: |
      Before and after (first, middle and last files), the input and output
      histograms of the whole series and the mapping line, in
      dicom-remap-qc.png (dicom-remap-qc-N.png for series N of several); no
      patient data, the same bytes everywhere.
    inputBinding:
      position: 1
      prefix: --qc
  landmarks:
    type: File?
    label: Histogram-standardization landmarks (from dicom-remap-learn-landmarks.cwl)
    doc: |
      Each series' own landmarks (over all its files) mapped piecewise
      linearly onto these, then [0, 100] onto [min, max], as `dicom-remap
      --landmarks FILE DIR OUTDIR MIN MAX`.
    inputBinding:
      position: 1
      prefix: --landmarks=
      separate: false
  mask_below:
    type: string?
    label: Leave samples below this modality value out of the series' landmarks
    doc: With landmarks, give the value they were learnt with.
    inputBinding:
      position: 1
      prefix: --mask-below=
      separate: false
  related:
    type:
      - "null"
      - type: enum
        symbols: [skip, link]
    label: Objects that are not images (SEG, RTSTRUCT, PR, KO, SR)
    doc: |
      skip (the default) lists them in the record; link also writes a copy
      of each one that references a normalized image, its references
      rewritten to the normalized images.
    inputBinding:
      position: 1
      prefix: --related=
      separate: false

outputs:
  normalized:
    type: Directory
    outputBinding:
      glob: $(inputs.input.basename)-normalized
  provenance:
    type: File
    format: edam:format_3464
    outputBinding:
      glob: $(inputs.input.basename)-normalized/dicom-remap-provenance.json
  qc_pictures:
    type: File[]
    label: Quality-control pictures (when qc is set), one per series
    format: edam:format_3603
    outputBinding:
      glob: $(inputs.input.basename)-normalized/dicom-remap-qc*.png

successCodes: [0]
permanentFailCodes: [2, 3]
temporaryFailCodes: [1]

s:license: https://spdx.org/licenses/MIT
s:codeRepository: https://github.com/dicom-remap/dicom-remap
s:version: 0.1.0
