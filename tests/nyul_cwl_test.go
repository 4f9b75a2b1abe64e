package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCWLStandardizeWorkflow runs histogram standardization as a CWL
// pipeline (learn on a training set: dicom-remap-learn-landmarks.cwl; apply
// to test series: dicom-remap-dir.cwl, scattered) with cwltool and requires
// the bytes of the direct runs: the landmarks file of `--learn-landmarks`
// run beside the training inputs, and every standardized file of
// `--landmarks` on each test series (which name the landmarks' SHA-256, so
// they also fail if the file differs by a byte). mask_below is set so that
// it must reach both steps.
func TestCWLStandardizeWorkflow(t *testing.T) {
	cwltool := need(t, "cwltool")
	train, test := t.TempDir(), t.TempDir()
	var items, names []string
	for i, s := range scanners[:3] {
		dir := makeScannerSeries(t, train, s, 3, 24, int64(40+i))
		items = append(items, fmt.Sprintf("{class: Directory, path: %q}", dir))
		names = append(names, filepath.Base(dir))
	}
	// A single file is one image too.
	one := filepath.Join(train, "single.dcm")
	write(t, one, mustRead(t, filepath.Join(makeScannerSeries(t, t.TempDir(), scanners[3], 1, 24, 49), "IM0001.dcm")))
	items, names = append(items, fmt.Sprintf("{class: File, path: %q}", one)), append(names, "single.dcm")
	var series []string
	for i, s := range []scanner{scanners[0], scanners[2]} {
		series = append(series, makeScannerSeries(t, filepath.Join(test, fmt.Sprint(i)), s, 2, 24, int64(60+i)))
		os.Rename(series[i], filepath.Join(test, fmt.Sprintf("%s-%d", s.name, i)))
		series[i] = filepath.Join(test, fmt.Sprintf("%s-%d", s.name, i))
	}

	// The direct runs: learning beside the inputs, named as given.
	lm := filepath.Join(train, "landmarks.json")
	if r := runCmd(t, train, binary, append([]string{"--learn-landmarks", "landmarks.json", "--mask-below", "50"}, names...)...); r.code != 0 {
		t.Fatalf("learn: exit %d: %s", r.code, r.stderr)
	}
	if !bytes.Contains(mustRead(t, lm), []byte(`"mask_below": "50"`)) {
		t.Fatalf("the landmarks file does not record the mask:\n%s", mustRead(t, lm))
	}

	work := t.TempDir()
	var dirs []string
	for _, s := range series {
		dirs = append(dirs, fmt.Sprintf("{class: Directory, path: %q}", s))
	}
	job := write(t, filepath.Join(work, "job.yml"), []byte(fmt.Sprintf("training: [%s]\nseries: [%s]\nmin: 0\nmax: 4095\nmask_below: \"50\"\n",
		strings.Join(items, ", "), strings.Join(dirs, ", "))))
	outdir := filepath.Join(work, "out")
	r := runIn(t, work, withBinaryOnPath(), cwltool, "--parallel", "--no-container", "--outdir", outdir, abs(t, filepath.Join("..", "cwl", "dicom-remap-standardize.cwl")), job)
	if r.code != 0 {
		t.Fatalf("cwltool: exit %d\n%s", r.code, r.stderr)
	}
	var result struct {
		Landmarks  struct{ Path string }
		Normalized []struct{ Path, Basename string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &result); err != nil {
		t.Fatalf("cwltool output: %v\n%s", err, r.stdout)
	}
	if !bytes.Equal(mustRead(t, result.Landmarks.Path), mustRead(t, lm)) {
		t.Fatalf("the workflow's landmarks differ from the direct run's:\n%s\n---\n%s", mustRead(t, result.Landmarks.Path), mustRead(t, lm))
	}
	if len(result.Normalized) != len(series) {
		t.Fatalf("%d output directories for %d series", len(result.Normalized), len(series))
	}
	for i, s := range series {
		direct := filepath.Join(t.TempDir(), "direct")
		if r := runCmd(t, "", binary, "-q", "--landmarks", lm, "--mask-below", "50", s, direct, "0", "4095"); r.code != 0 {
			t.Fatalf("%s: %s", s, r.stderr)
		}
		got, want := outputs(t, result.Normalized[i].Path), outputs(t, direct)
		if result.Normalized[i].Basename != filepath.Base(s)+"-normalized" {
			t.Fatalf("output %d is %s, want %s-normalized", i, result.Normalized[i].Basename, filepath.Base(s))
		}
		// The record names the arguments, staged paths included.
		delete(got, "dicom-remap-provenance.json")
		delete(want, "dicom-remap-provenance.json")
		if len(got) != 2 || len(got) != len(want) {
			t.Fatalf("%s: %d outputs, direct run %d", s, len(got), len(want))
		}
		for name, data := range want {
			if !bytes.Equal(got[name], data) {
				t.Fatalf("%s: %s differs from the direct run", s, name)
			}
		}
	}
}
