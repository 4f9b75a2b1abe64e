#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: Workflow
id: dicom-remap-series
label: dicom-remap series – one mapping for a whole series, scattered
doc: |
  Remaps every slice of a series with ONE linear map, from the extremes (or
  the percentiles) of the modality values over all slices, as `dicom-remap DIR OUTDIR MIN MAX` does in one process, but
  as steps a cluster engine (Toil, Arvados, CBRAIN) can spread over hosts:
  measure each slice (scatter), merge the ranges (reduce), remap each slice
  with the merged range (scatter). The outputs are byte-identical to the
  single-process series mode. Give the slices of one series: the listing of
  a study export's series folder will do, as series mode skips what is not
  an image (SR, KO, PR, SEG, RTSTRUCT, PDF, ..., and files that are not
  DICOM): such a file gives no output, and the merged range record
  (source_range) lists it under "skipped" with the reason. A broken DICOM
  file still fails the run.

$namespaces:
  edam: http://edamontology.org/
  s: https://schema.org/

requirements:
  ScatterFeatureRequirement: {}
  StepInputExpressionRequirement: {}

inputs:
  images:
    type: File[]
    label: The DICOM slices of one series
  min:
    type: int
  max:
    type: int
  percentiles:
    type: string?
    label: Source range from percentiles PLO:PHI of the whole series (e.g. 0.5:99.5)
  mask_below:
    type: string?
    label: Leave samples below this modality value out of the range
  qc:
    type: boolean?
    label: Also write a quality-control picture of each slice (PNG)
    doc: |
      A picture step draws each slice before and after, with the series'
      merged range marked (values it clamps in orange): <file name>-qc.png,
      the bytes of `dicom-remap --qc --source-range-from MERGED SLICE`.
  percentile_method:
    type: string?
    label: nearest-rank (default) or linear (numpy's)

steps:
  measure:
    run: dicom-remap-range.cwl
    scatter: input
    in:
      input: images
      percentiles: percentiles
      mask_below: mask_below
      percentile_method: percentile_method
    out: [range]
  merge:
    run: dicom-remap-merge-ranges.cwl
    in:
      ranges: measure/range
    out: [merged]
  remap:
    run: dicom-remap-slice.cwl
    scatter: input
    in:
      input: images
      min: min
      max: max
      source_range: merge/merged
    out: [normalized]
  picture:
    # Only with qc: the slice tool draws whenever it is given qc.
    run: dicom-remap-slice.cwl
    when: $(inputs.qc)
    scatter: input
    in:
      input: images
      min: min
      max: max
      source_range: merge/merged
      qc:
        source: qc
        default: false
    out: [qc_picture]

outputs:
  normalized:
    type: File[]
    format: edam:format_3548
    outputSource: remap/normalized
    pickValue: all_non_null
  source_range:
    type: File
    outputSource: merge/merged
  qc_pictures:
    type: File[]
    format: edam:format_3603
    outputSource: picture/qc_picture
    pickValue: all_non_null

s:license: https://spdx.org/licenses/MIT
s:codeRepository: https://github.com/dicom-remap/dicom-remap
s:version: 0.1.0
