#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
id: dicom-remap-dir
label: dicom-remap on a directory – series mode in one step
doc: |
  Remaps every DICOM file under a directory with one map per series (the
  extremes over all files of the series), keeps relative paths, and writes a
  provenance record. All outputs or none. Exit codes as dicom-remap.

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
  ResourceRequirement:
    coresMin: 1
    ramMin: 1024

baseCommand: [dicom-remap, --quiet]
arguments:
  - prefix: --output-dir=
    separate: false
    valueFrom: $(runtime.outdir)/normalized
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
  per_file:
    type: boolean?
    label: Map each file on its own (the paper's behaviour)
    inputBinding:
      position: 1
      prefix: --per-file

outputs:
  normalized:
    type: Directory
    outputBinding:
      glob: normalized
  provenance:
    type: File
    format: edam:format_3464
    outputBinding:
      glob: normalized/dicom-remap-provenance.json

successCodes: [0]
permanentFailCodes: [2, 3]
temporaryFailCodes: [1]

s:license: https://spdx.org/licenses/MIT
s:codeRepository: https://github.com/dicom-remap/dicom-remap
s:version: 0.1.0
