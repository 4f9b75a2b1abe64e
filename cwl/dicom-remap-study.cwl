#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: Workflow
id: dicom-remap-study
label: dicom-remap study – one job per series, for a cohort on a cluster
doc: |
  Remaps a list of series directories, one job per series: each job runs
  dicom-remap-dir.cwl (series mode: one linear map per series, from the
  extremes over all its files) and gives one output directory,
  <series directory name>-normalized, and one provenance record. Each
  series' outputs are byte-identical to `dicom-remap SERIESDIR OUTDIR MIN
  MAX`. On a cluster a series, not a slice, is the unit of work: a job per
  slice would cost a scheduler round trip per file (dicom-remap-series.cwl
  is that finer scatter, for one very large series). Give the series
  directories distinct names. Runs on any CWL v1.2 engine: cwltool, Toil
  (on Slurm, LSF, Kubernetes…), Arvados.

$namespaces:
  edam: http://edamontology.org/
  s: https://schema.org/

requirements:
  ScatterFeatureRequirement: {}

inputs:
  series:
    type: Directory[]
    label: One directory per series (files of one series each)
  min:
    type: int
  max:
    type: int
  workers:
    type: int
    default: 1
    label: Files processed at once within a series (cores per job)

steps:
  remap:
    run: dicom-remap-dir.cwl
    scatter: input
    in:
      input: series
      min: min
      max: max
      workers: workers
    out: [normalized, provenance]

outputs:
  normalized:
    type: Directory[]
    outputSource: remap/normalized
  provenance:
    type: File[]
    format: edam:format_3464
    outputSource: remap/provenance

s:license: https://spdx.org/licenses/MIT
s:codeRepository: https://github.com/dicom-remap/dicom-remap
s:version: 0.1.0
