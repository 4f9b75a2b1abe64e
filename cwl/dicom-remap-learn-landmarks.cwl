#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
id: dicom-remap-learn-landmarks
label: dicom-remap --learn-landmarks – histogram-standardization landmarks of a training set
doc: |
  Learns the landmarks of histogram standardization (Nyúl and Udupa, as
  TorchIO's HistogramStandardization.train) from training images: each
  input is a DICOM file (one image) or a directory whose series are one
  image each. Writes landmarks.json, the bytes of `dicom-remap
  --learn-landmarks landmarks.json INPUT...` run beside the inputs: the
  inputs are staged into the working directory and named by their base
  names, which the file records, so give them distinct names. Feed the
  file to dicom-remap-dir.cwl's (or dicom-remap.cwl's) landmarks input;
  dicom-remap-standardize.cwl does both. Exit codes as dicom-remap: 3 for
  a rejected input (an image whose 1st and 99th percentiles are equal).

$namespaces:
  edam: http://edamontology.org/
  s: https://schema.org/

requirements:
  # The inputs beside the command, so that the file names them as the
  # command line does (a staged path would differ between engines and
  # runs, and so would the landmarks file's SHA-256 that every
  # standardized output names).
  InitialWorkDirRequirement:
    listing: $(inputs.images)

hints:
  DockerRequirement:
    dockerPull: dicom-remap/dicom-remap:0.1.0
  SoftwareRequirement:
    packages:
      dicom-remap:
        version: ["0.1.0"]
        specs: ["https://github.com/dicom-remap/dicom-remap"]
  # One file at a time; each file's histogram (at most 65536 counts) is
  # kept until its series is merged: 40 MB peak RSS on a 300-slice series
  # (docs/performance.md).
  ResourceRequirement:
    coresMin: $(inputs.workers)
    coresMax: $(inputs.workers)
    ramMin: 256

baseCommand: [dicom-remap, --learn-landmarks=landmarks.json]
inputs:
  images:
    type:
      type: array
      items: [File, Directory]
      inputBinding:
        valueFrom: $(self.basename)
    label: Training images, a DICOM file or a series directory each
    inputBinding:
      position: 2
      prefix: --
  mask_below:
    type: string?
    label: Leave samples below this modality value out of the landmarks
    inputBinding:
      position: 1
      prefix: --mask-below=
      separate: false
  workers:
    type: int
    default: 1
    label: Files read at once (the cores reserved)
    inputBinding:
      position: 1
      prefix: --workers=
      separate: false

outputs:
  landmarks:
    type: File
    format: edam:format_3464
    outputBinding:
      glob: landmarks.json

successCodes: [0]
permanentFailCodes: [2, 3]
temporaryFailCodes: [1]

s:license: https://spdx.org/licenses/MIT
s:codeRepository: https://github.com/dicom-remap/dicom-remap
s:version: 0.1.0
