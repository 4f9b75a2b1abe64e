package tests

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchmarkHarness runs the benchmark on tiny sizes: it proves that
// every peer runs and the report is complete. It measures nothing; the
// figures in README come from a full run.
func TestBenchmarkHarness(t *testing.T) {
	needPydicom(t)
	need(t, "dcmconv")
	need(t, "dcmcjpls")
	need(t, "gdcmconv")
	need(t, "opj_decompress")
	need(t, "grk_decompress")
	need(t, "grk_compress")
	need(t, "opj_compress")
	out := t.TempDir()
	cmd := exec.Command("go", "run", "./tests/bench", "-small", "-out", out)
	cmd.Dir = repoRoot
	if data, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bench: %v\n%s", err, data)
	}
	var rep struct {
		Timings []struct {
			Dataset, Peer, Skipped string
			Median                 float64 `json:"median_s"`
			Runs                   int
		}
		Targets []struct{ Goal string }
	}
	data, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	peers := map[string]bool{}
	for _, tm := range rep.Timings {
		if tm.Skipped != "" || tm.Runs != 2 || tm.Median <= 0 {
			t.Errorf("%s / %s: %+v", tm.Dataset, tm.Peer, tm)
		}
		peers[tm.Peer] = true
	}
	// Every goal of the performance issues is judged: five ratios, the
	// memory bound of each single-file dataset, the cost of percentiles on
	// the multi-frame file and the series, the cost of learning landmarks
	// against measuring min/max, for each of the four compressed datasets
	// its speed against dcmtk and GDCM and its memory bound, for each of
	// the four JPEG 2000 datasets its wall and CPU time against OpenJPEG
	// and its memory bound; HTJ2K against Part 1 on the radiograph, and the
	// memory bound of each.
	if len(rep.Targets) != 5+4+2+1+2*4+3*4+3 {
		t.Errorf("%d targets judged, want 35: %+v", len(rep.Targets), rep.Targets)
	}
	for _, p := range []string{"dicom-remap", "paper (pydicom+numpy)", "dcmconv (copy, no remap)", "cp", "dicom-remap --version (start-up only)", "dicom-remap series, 2 worker(s)", "dcmtk dcmdjpls", "gdcmconv --raw",
		"dicom-remap --learn-landmarks, 1 worker", "dicom-remap --print-range (min/max), 1 worker",
		"opj_decompress", "grk_decompress -H 2", "grk_decompress", "ojph_expand"} {
		if !peers[p] {
			t.Errorf("no timing for %s", p)
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, "results.md"))
	if !strings.Contains(string(md), "| median / dicom-remap |") {
		t.Error("results.md lacks the ratio column")
	}
}
