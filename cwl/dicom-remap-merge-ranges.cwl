#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
id: dicom-remap-merge-ranges
label: dicom-remap --merge-ranges – one source range from many
doc: |
  Merges JSON range records (from dicom-remap --print-range) into the one
  range of the whole series: the reduce step of series mode.

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
  # One thread and a few KB of JSON records.
  ResourceRequirement:
    coresMin: 1
    coresMax: 1
    ramMin: 64

baseCommand: [dicom-remap, --merge-ranges]
inputs:
  ranges:
    type: File[]
    inputBinding:
      prefix: --
stdout: merged-range.json
outputs:
  merged:
    type: stdout

successCodes: [0]
permanentFailCodes: [2, 3]
temporaryFailCodes: [1]

s:license: https://spdx.org/licenses/MIT
s:codeRepository: https://github.com/dicom-remap/dicom-remap
s:version: 0.1.0
