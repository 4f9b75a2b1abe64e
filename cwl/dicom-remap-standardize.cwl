#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: Workflow
id: dicom-remap-standardize
label: dicom-remap histogram standardization – learn on a training set, apply to test series
doc: |
  The two phases of histogram standardization (Nyúl and Udupa, as
  TorchIO's HistogramStandardization) as one pipeline: learn the
  landmarks from the training images (dicom-remap-learn-landmarks.cwl, one
  job), then standardize each test series with them (dicom-remap-dir.cwl,
  one job per series). The landmarks file is the bytes of `dicom-remap
  --learn-landmarks landmarks.json TRAIN...` run beside the training
  inputs, and each series' outputs the bytes of `dicom-remap --landmarks
  landmarks.json SERIESDIR OUTDIR MIN MAX`. Give the training inputs, and
  the test series directories, distinct names.

$namespaces:
  edam: http://edamontology.org/
  s: https://schema.org/

requirements:
  ScatterFeatureRequirement: {}

inputs:
  training:
    type:
      type: array
      items: [File, Directory]
    label: Training images, a DICOM file or a series directory each
  series:
    type: Directory[]
    label: Test series to standardize, one directory each
  min:
    type: int
  max:
    type: int
  mask_below:
    type: string?
    label: Leave samples below this modality value out, in learning and in applying

steps:
  learn:
    run: dicom-remap-learn-landmarks.cwl
    in:
      images: training
      mask_below: mask_below
    out: [landmarks]
  standardize:
    run: dicom-remap-dir.cwl
    scatter: input
    in:
      input: series
      min: min
      max: max
      landmarks: learn/landmarks
      mask_below: mask_below
    out: [normalized, provenance]

outputs:
  landmarks:
    type: File
    format: edam:format_3464
    outputSource: learn/landmarks
  normalized:
    type: Directory[]
    outputSource: standardize/normalized
  provenance:
    type: File[]
    format: edam:format_3464
    outputSource: standardize/provenance

s:license: https://spdx.org/licenses/MIT
s:codeRepository: https://github.com/dicom-remap/dicom-remap
s:version: 0.1.0
