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
	job := write(t, filepath.Join(work, "job.yml"), []byte(fmt.Sprintf("images: [%s]\nmin: -1024\nmax: 3071\n", strings.Join(images, ", "))))
	outdir := filepath.Join(work, "out")
	r := runIn(t, work, withBinaryOnPath(), cwltool, "--parallel", "--no-container", "--outdir", outdir, abs(t, filepath.Join("..", "cwl", "dicom-remap-series.cwl")), job)
	if r.code != 0 {
		t.Fatalf("cwltool: exit %d\n%s", r.code, r.stderr)
	}
	var result struct {
		Normalized []struct{ Path, Basename string }
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
}

// TestCWLDirectoryTool runs series mode through the Directory-valued CWL
// tool and compares with the direct run.
func TestCWLDirectoryTool(t *testing.T) {
	cwltool := need(t, "cwltool")
	in, _, _ := makeSeries(t, 6, 16)
	direct := filepath.Join(t.TempDir(), "direct")
	if r := runCmd(t, "", binary, "-q", in, direct, "0", "1000"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	work := t.TempDir()
	job := write(t, filepath.Join(work, "job.yml"), []byte(fmt.Sprintf("input: {class: Directory, path: %q}\nmin: 0\nmax: 1000\n", in)))
	outdir := filepath.Join(work, "out")
	r := runIn(t, work, withBinaryOnPath(), cwltool, "--no-container", "--outdir", outdir, abs(t, filepath.Join("..", "cwl", "dicom-remap-dir.cwl")), job)
	if r.code != 0 {
		t.Fatalf("cwltool: exit %d\n%s", r.code, r.stderr)
	}
	got := outputs(t, filepath.Join(outdir, "normalized"))
	want := outputs(t, direct)
	delete(got, "dicom-remap-provenance.json")
	delete(want, "dicom-remap-provenance.json")
	if len(got) != len(want) || len(got) != 6 {
		t.Fatalf("%d outputs, direct run %d", len(got), len(want))
	}
	for name, data := range want {
		if !bytes.Equal(got[name], data) {
			t.Fatalf("%s differs from the direct run", name)
		}
	}
	var result struct {
		Provenance struct{ Path, Format string }
	}
	json.Unmarshal([]byte(r.stdout), &result)
	if _, err := os.Stat(result.Provenance.Path); err != nil || !strings.HasSuffix(result.Provenance.Format, "format_3464") {
		t.Errorf("the provenance record is not a JSON output: %+v %v", result.Provenance, err)
	}
}
