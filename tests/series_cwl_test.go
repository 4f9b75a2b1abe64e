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
	need(t, "cwltool")
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
	result := runSeriesWorkflow(t, work, job, "out")
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

	// Without qc, or with qc false (the slice tool draws whenever it is
	// given qc, so the picture step must not run), the workflow gives no
	// pictures.
	for i, qc := range []string{"", "qc: false\n"} {
		job = write(t, filepath.Join(work, fmt.Sprintf("job%d.yml", i+2)), []byte(fmt.Sprintf("images: [%s]\nmin: 0\nmax: 100\n%s", strings.Join(images[:2], ", "), qc)))
		if result := runSeriesWorkflow(t, work, job, fmt.Sprintf("out%d", i+2)); len(result.QCPictures) != 0 || len(result.Normalized) != 2 {
			t.Fatalf("%q: %+v", qc, result)
		}
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

// TestCWLSeriesWorkflowStudyExport runs the series workflow on the listing
// of a study export's folder: a CT series beside a SEG, an RT structure set
// and plan, a presentation state, a KO, an SR, two PDFs (pydicom's), a
// DICOMDIR, a hidden file and a text file. Each non-image is skipped as
// series mode skips it (no output, listed with series mode's reason in the
// merged range record), and the images come out with the bytes of series
// mode on the same folder; pictures are drawn for the images only. A broken
// DICOM file still fails the run.
func TestCWLSeriesWorkflowStudyExport(t *testing.T) {
	cwltool := need(t, "cwltool")
	needPydicom(t)
	study := filepath.Join(t.TempDir(), "study")
	makeStudy(t, study)
	flat := t.TempDir()
	var items []string
	filepath.Walk(study, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || strings.Contains(p, "/.trash/") || strings.Contains(p, "/CT/S2/") {
			return nil
		}
		items = append(items, fmt.Sprintf("{class: File, path: %q}", write(t, filepath.Join(flat, info.Name()), mustRead(t, p))))
		return nil
	})
	items = append(items, fmt.Sprintf("{class: File, path: %q}", write(t, filepath.Join(flat, "README.TXT"), []byte("burned by a PACS\n"))))
	series := filepath.Join(t.TempDir(), "series")
	if r := runCmd(t, "", binary, "-q", flat, series, "0", "1000"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	var rec struct {
		Skipped []struct{ Path, Reason string }
	}
	if err := json.Unmarshal(mustRead(t, filepath.Join(series, "dicom-remap-provenance.json")), &rec); err != nil {
		t.Fatal(err)
	}
	want := outputs(t, series)
	delete(want, "dicom-remap-provenance.json")
	if len(want) != 4 || len(rec.Skipped) != 11 {
		t.Fatalf("series mode: %d outputs, %d skipped, want the 4 slices and 11 others", len(want), len(rec.Skipped))
	}

	work := t.TempDir()
	job := write(t, filepath.Join(work, "job.yml"), []byte(fmt.Sprintf("images: [%s]\nmin: 0\nmax: 1000\nqc: true\n", strings.Join(items, ", "))))
	result := runSeriesWorkflow(t, work, job, "out")
	if len(result.Normalized) != len(want) {
		t.Fatalf("%d outputs, series mode %d", len(result.Normalized), len(want))
	}
	for _, o := range result.Normalized {
		if !bytes.Equal(mustRead(t, o.Path), want[o.Basename]) {
			t.Fatalf("%s: workflow output differs from series mode's", o.Basename)
		}
	}
	var merged struct {
		Files   int
		Skipped []struct{ Path, Reason string }
	}
	if err := json.Unmarshal(mustRead(t, result.SourceRange.Path), &merged); err != nil {
		t.Fatal(err)
	}
	sort.Slice(merged.Skipped, func(i, j int) bool { return merged.Skipped[i].Path < merged.Skipped[j].Path })
	if merged.Files != 4 || fmt.Sprint(merged.Skipped) != fmt.Sprint(rec.Skipped) {
		t.Fatalf("merged record: %d files, skipped %v\nseries mode skipped %v", merged.Files, merged.Skipped, rec.Skipped)
	}
	if len(result.QCPictures) != 4 {
		t.Fatalf("%d pictures for 4 slices", len(result.QCPictures))
	}
	direct := filepath.Join(t.TempDir(), "direct")
	if r := runCmd(t, "", binary, "-q", "--qc", "--source-range-from="+result.SourceRange.Path, filepath.Join(flat, "IM0002"), direct, "0", "1000"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	for _, o := range result.QCPictures {
		if o.Basename == "IM0002-qc.png" && !bytes.Equal(mustRead(t, o.Path), mustRead(t, filepath.Join(direct, o.Basename))) {
			t.Fatal("IM0002-qc.png differs from the direct run's")
		}
	}

	// A file that claims to be DICOM and is not fails the run, as in
	// series mode: exit 3 is a permanent failure.
	broken := write(t, filepath.Join(t.TempDir(), "IM9999"), append(append(make([]byte, 128), "DICM"...), "\x02\x00\x10\x00UI\xff\xffgarbage"...))
	job = write(t, filepath.Join(work, "broken.yml"), []byte(fmt.Sprintf("images: [%s, {class: File, path: %q}]\nmin: 0\nmax: 1000\n", items[0], broken)))
	r := runIn(t, work, withBinaryOnPath(), cwltool, "--no-container", "--outdir", filepath.Join(work, "out-broken"), abs(t, filepath.Join("..", "cwl", "dicom-remap-series.cwl")), job)
	if r.code == 0 || !strings.Contains(r.stderr, "permanentFail") {
		t.Fatalf("a broken file: cwltool exit %d\n%s", r.code, r.stderr)
	}
}

// seriesWorkflowResult is what cwltool prints for the series workflow.
type seriesWorkflowResult struct {
	Normalized  []struct{ Path, Basename string }
	SourceRange struct{ Path string }             `json:"source_range"`
	QCPictures  []struct{ Path, Basename string } `json:"qc_pictures"`
}

// runSeriesWorkflow runs cwl/dicom-remap-series.cwl on job in work with
// the built binary on PATH, outputs in work/outdir, and fails unless it
// exits 0.
func runSeriesWorkflow(t *testing.T, work, job, outdir string) seriesWorkflowResult {
	t.Helper()
	r := runIn(t, work, withBinaryOnPath(), need(t, "cwltool"), "--parallel", "--no-container", "--outdir", filepath.Join(work, outdir), abs(t, filepath.Join("..", "cwl", "dicom-remap-series.cwl")), job)
	if r.code != 0 {
		t.Fatalf("cwltool: exit %d\n%s", r.code, r.stderr)
	}
	var result seriesWorkflowResult
	if err := json.Unmarshal([]byte(r.stdout), &result); err != nil {
		t.Fatalf("cwltool output: %v\n%s", err, r.stdout)
	}
	return result
}
