#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: Workflow
id: dicom-remap-study
label: dicom-remap study – one job per series, for a cohort on a cluster
doc: |
  Remaps a list of series directories, one job per series: each job runs
  dicom-remap-dir.cwl (series mode: one linear map per series, from the
  extremes over all its files) and gives one output directory,
  <series directory name>-normalized, and one provenance record (with qc,
  its picture too). Each series' outputs are byte-identical to `dicom-remap
  SERIESDIR OUTDIR MIN MAX` (with `--qc`). On a cluster a series, not a slice, is the unit of work: a job per
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
  qc:
    type: boolean?
    label: Also write a quality-control picture per series (PNG)
    doc: |
      Each series' job draws its series as `dicom-remap --qc SERIESDIR
      OUTDIR MIN MAX` does: dicom-remap-qc.png in the series' output
      directory (dicom-remap-qc-N.png for series N when one directory
      holds several), and in qc_pictures.

steps:
  remap:
    run: dicom-remap-dir.cwl
    scatter: input
    in:
      input: series
      min: min
      max: max
      workers: workers
      qc: qc
    out: [normalized, provenance, qc_pictures]

outputs:
  normalized:
    type: Directory[]
    outputSource: remap/normalized
  provenance:
    type: File[]
    format: edam:format_3464
    outputSource: remap/provenance
  qc_pictures:
    # One list per series, in the order of `series` (empty without qc):
    # every series' picture is named dicom-remap-qc.png, so a flat list
    # would lose which series each one draws.
    type:
      type: array
      items:
        type: array
        items: File
    format: edam:format_3603
    outputSource: remap/qc_pictures

s:license: https://spdx.org/licenses/MIT
s:codeRepository: https://github.com/dicom-remap/dicom-remap
s:version: 0.1.0
