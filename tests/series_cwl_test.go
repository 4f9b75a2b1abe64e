package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/descriptor"
)

// TestCWLSeriesWorkflow runs the scatter/reduce/scatter workflow with
// cwltool --parallel and requires the bytes of the single-process series
// mode for every slice.
func TestCWLSeriesWorkflow(t *testing.T) {
	cwltool := need(t, "cwltool")
	in, _, _ := makeSeries(t, 8, 16)
	files, _ := filepath.Glob(filepath.Join(in, "IM*"))
	sort.Strings(files)
	// One flat series: the workflow takes the slices as a list.
	flat := t.TempDir()
	var images []string
	for _, f := range files {
		images = append(images, fmt.Sprintf("{class: File, path: %q}", write(t, filepath.Join(flat, filepath.Base(f)), mustRead(t, f))))
	}
	series := filepath.Join(t.TempDir(), "series")
	if r := runCmd(t, "", binary, "-q", flat, series, "-1024", "3071"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	work := t.TempDir()
	job := write(t, filepath.Join(work, "job.yml"), []byte(fmt.Sprintf("images: [%s]\nmin: -1024\nmax: 3071\nqc: true\n", strings.Join(images, ", "))))
	outdir := filepath.Join(work, "out")
	r := runIn(t, work, withBinaryOnPath(), cwltool, "--parallel", "--no-container", "--outdir", outdir, abs(t, filepath.Join("..", "cwl", "dicom-remap-series.cwl")), job)
	if r.code != 0 {
		t.Fatalf("cwltool: exit %d\n%s", r.code, r.stderr)
	}
	var result struct {
		Normalized  []struct{ Path, Basename string }
		SourceRange struct{ Path string }             `json:"source_range"`
		QCPictures  []struct{ Path, Basename string } `json:"qc_pictures"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &result); err != nil {
		t.Fatalf("cwltool output: %v\n%s", err, r.stdout)
	}
	if len(result.Normalized) != len(files) {
		t.Fatalf("%d outputs for %d slices", len(result.Normalized), len(files))
	}
	for _, o := range result.Normalized {
		if !bytes.Equal(mustRead(t, o.Path), mustRead(t, filepath.Join(series, o.Basename))) {
			t.Fatalf("%s: workflow output differs from series mode", o.Basename)
		}
	}
	// Each slice's picture is the direct run's on that slice with the
	// merged range.
	if len(result.QCPictures) != len(files) {
		t.Fatalf("%d pictures for %d slices", len(result.QCPictures), len(files))
	}
	for _, o := range result.QCPictures {
		name := strings.TrimSuffix(o.Basename, "-qc.png")
		out := filepath.Join(t.TempDir(), "direct")
		if r := runCmd(t, "", binary, "-q", "--qc", "--source-range-from="+result.SourceRange.Path, filepath.Join(flat, name), out, "-1024", "3071"); r.code != 0 {
			t.Fatal(r.stderr)
		}
		if !bytes.Equal(mustRead(t, o.Path), mustRead(t, filepath.Join(out, o.Basename))) {
			t.Fatalf("%s differs from the direct run's", o.Basename)
		}
	}

	// Without qc the workflow gives no pictures (the steps' nulls are
	// dropped).
	job = write(t, filepath.Join(work, "job2.yml"), []byte(fmt.Sprintf("images: [%s]\nmin: 0\nmax: 100\n", strings.Join(images[:2], ", "))))
	r = runIn(t, work, withBinaryOnPath(), cwltool, "--parallel", "--no-container", "--outdir", filepath.Join(work, "out2"), abs(t, filepath.Join("..", "cwl", "dicom-remap-series.cwl")), job)
	if r.code != 0 {
		t.Fatalf("cwltool: exit %d\n%s", r.code, r.stderr)
	}
	result.QCPictures = nil
	if err := json.Unmarshal([]byte(r.stdout), &result); err != nil || len(result.QCPictures) != 0 || len(result.Normalized) != 2 {
		t.Fatalf("without qc: %v %+v", err, result)
	}
}

// TestCWLDirectoryTool runs series mode through the Directory-valued CWL
// tool and compares with the direct run.
func TestCWLDirectoryTool(t *testing.T) {
	cwltool := need(t, "cwltool")
	in, _, _ := makeSeries(t, 6, 16)
	direct := filepath.Join(t.TempDir(), "direct")
	if r := runCmd(t, "", binary, "-q", "--qc", in, direct, "0", "1000"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	work := t.TempDir()
	job := write(t, filepath.Join(work, "job.yml"), []byte(fmt.Sprintf("input: {class: Directory, path: %q}\nmin: 0\nmax: 1000\nqc: true\n", in)))
	outdir := filepath.Join(work, "out")
	r := runIn(t, work, withBinaryOnPath(), cwltool, "--no-container", "--outdir", outdir, abs(t, filepath.Join("..", "cwl", "dicom-remap-dir.cwl")), job)
	if r.code != 0 {
		t.Fatalf("cwltool: exit %d\n%s", r.code, r.stderr)
	}
	got := outputs(t, filepath.Join(outdir, filepath.Base(in)+"-normalized"))
	want := outputs(t, direct)
	delete(got, "dicom-remap-provenance.json")
	delete(want, "dicom-remap-provenance.json")
	if len(got) != len(want) || len(got) != 7 {
		t.Fatalf("%d outputs, direct run %d (6 slices and the picture)", len(got), len(want))
	}
	for name, data := range want {
		if !bytes.Equal(got[name], data) {
			t.Fatalf("%s differs from the direct run", name)
		}
	}
	var result struct {
		Provenance struct{ Path, Format string }
		QCPictures []struct{ Path, Basename, Format string } `json:"qc_pictures"`
	}
	json.Unmarshal([]byte(r.stdout), &result)
	if _, err := os.Stat(result.Provenance.Path); err != nil || !strings.HasSuffix(result.Provenance.Format, "format_3464") {
		t.Errorf("the provenance record is not a JSON output: %+v %v", result.Provenance, err)
	}
	if len(result.QCPictures) != 1 || !strings.HasSuffix(result.QCPictures[0].Format, "format_3603") {
		t.Fatalf("qc_pictures: %+v, want one PNG", result.QCPictures)
	}
	if !bytes.Equal(mustRead(t, result.QCPictures[0].Path), want["dicom-remap-qc.png"]) {
		t.Error("the series picture differs from the direct run's")
	}
}

// TestCWLStudyWorkflow runs the study workflow (one directory-tool job per
// series) with cwltool and compares each series, picture included, with
// its direct run `dicom-remap --qc SERIESDIR OUT MIN MAX`; the same
// workflow runs under Toil on Slurm in cluster_test.go. A picture is per
// series directory, titled with its name: a direct run on a directory
// holding several series draws each apart too, but titles it
// "<that directory> series K/N" and names it dicom-remap-qc-K.png.
func TestCWLStudyWorkflow(t *testing.T) {
	cwltool := need(t, "cwltool")
	var dirs, items []string
	for i, n := range []int{2, 4} {
		in, _, _ := makeSeries(t, n, 16)
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("series-%d", i+1))
		if err := os.Rename(in, dir); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
		items = append(items, fmt.Sprintf("{class: Directory, path: %q}", dir))
	}
	work := t.TempDir()
	workflow := abs(t, filepath.Join("..", "cwl", "dicom-remap-study.cwl"))
	job := write(t, filepath.Join(work, "job.yml"), []byte(fmt.Sprintf("series: [%s]\nmin: 0\nmax: 1000\nworkers: 2\nqc: true\n", strings.Join(items, ", "))))
	outdir := filepath.Join(work, "out")
	r := runIn(t, work, withBinaryOnPath(), cwltool, "--parallel", "--no-container", "--outdir", outdir, workflow, job)
	if r.code != 0 {
		t.Fatalf("cwltool: exit %d\n%s", r.code, r.stderr)
	}
	type file struct{ Path, Basename, Format string }
	var result struct {
		Normalized []struct{ Path, Basename string }
		QCPictures [][]file `json:"qc_pictures"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &result); err != nil {
		t.Fatalf("cwltool output: %v\n%s", err, r.stdout)
	}
	if len(result.Normalized) != len(dirs) || len(result.QCPictures) != len(dirs) {
		t.Fatalf("%d directories and %d picture lists for %d series", len(result.Normalized), len(result.QCPictures), len(dirs))
	}
	for i, d := range dirs {
		direct := filepath.Join(t.TempDir(), "direct")
		if r := runCmd(t, "", binary, "-q", "--qc", d, direct, "0", "1000"); r.code != 0 {
			t.Fatal(r.stderr)
		}
		got, want := outputs(t, result.Normalized[i].Path), outputs(t, direct)
		if rec := got["dicom-remap-provenance.json"]; !bytes.Contains(rec, []byte("--workers=2")) {
			t.Errorf("%s: workers did not reach the tool:\n%s", d, rec)
		}
		delete(got, "dicom-remap-provenance.json")
		delete(want, "dicom-remap-provenance.json")
		if len(got) != len(want) || want["dicom-remap-qc.png"] == nil {
			t.Fatalf("%s: %d outputs, the direct run %d with its picture", d, len(got), len(want))
		}
		for name, data := range want {
			if !bytes.Equal(got[name], data) {
				t.Fatalf("%s: %s differs from the direct run", filepath.Base(d), name)
			}
		}
		pics := result.QCPictures[i]
		if len(pics) != 1 || pics[0].Basename != "dicom-remap-qc.png" || !strings.HasSuffix(pics[0].Format, "format_3603") {
			t.Fatalf("%s: qc_pictures %+v, want its one PNG", d, pics)
		}
		if !bytes.Equal(mustRead(t, pics[0].Path), want["dicom-remap-qc.png"]) {
			t.Errorf("%s: the picture in qc_pictures differs from the direct run's", filepath.Base(d))
		}
	}

	// Without qc: no picture anywhere, one empty list per series.
	job = write(t, filepath.Join(work, "job2.yml"), []byte(fmt.Sprintf("series: [%s]\nmin: 0\nmax: 1000\n", items[0])))
	r = runIn(t, work, withBinaryOnPath(), cwltool, "--no-container", "--outdir", filepath.Join(work, "out2"), workflow, job)
	if r.code != 0 {
		t.Fatalf("cwltool: exit %d\n%s", r.code, r.stderr)
	}
	result.QCPictures = nil
	if err := json.Unmarshal([]byte(r.stdout), &result); err != nil || len(result.QCPictures) != 1 || len(result.QCPictures[0]) != 0 {
		t.Fatalf("without qc: %v %+v", err, result.QCPictures)
	}
	checkSeriesOutputs(t, dirs[0], result.Normalized[0].Path, 0, 1000)
}

// TestCWLResourceRequirements: every CWL tool tells a scheduler what it
// needs, and it is small (Toil would otherwise reserve 2 GiB per job).
func TestCWLResourceRequirements(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "cwl", "*.cwl"))
	tools := 0
	for _, f := range files {
		c, err := descriptor.LoadCWL(f)
		if err != nil {
			t.Fatal(err)
		}
		if c.Class != "CommandLineTool" {
			continue
		}
		tools++
		rr, _ := c.Hints["ResourceRequirement"].(map[string]any)
		if rr == nil {
			rr, _ = c.Requirements["ResourceRequirement"].(map[string]any)
		}
		if rr["coresMin"] == nil {
			t.Errorf("%s: no ResourceRequirement coresMin", f)
		}
		if ram, ok := rr["ramMin"].(int); !ok || ram > 256 {
			t.Errorf("%s: ramMin %v, want a number of MiB up to 256", f, rr["ramMin"])
		}
	}
	if tools < 4 {
		t.Fatalf("%d CWL tools", tools)
	}
}
