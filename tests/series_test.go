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
	"github.com/dicom-remap/dicom-remap/internal/fixture"
)

// makeSeries writes n slices of one series, each with its own range, plus
// files a real export holds: a README, a DICOMDIR and a nested folder.
func makeSeries(t *testing.T, n, size int) (dir string, lo, hi int64) {
	dir = t.TempDir()
	lo, hi = 1<<62, -1<<62
	for i := 1; i <= n; i++ {
		s := fixture.CTSlice(size, size, 0, fmt.Sprint(i), "7")
		slo, shi := -1024+int64(i%5)*37, 900+int64(i%7)*211
		s.Values = fixture.Phantom(size, size, 1, slo, shi)
		lo, hi = min(lo, slo), max(hi, shi)
		sub := ""
		if i%4 == 0 {
			sub = "part2"
		}
		write(t, filepath.Join(dir, sub, fmt.Sprintf("IM%04d", i)), fixture.Build(s))
	}
	write(t, filepath.Join(dir, "README.txt"), []byte("exported series\n"))
	write(t, filepath.Join(dir, "DICOMDIR"), append(append(make([]byte, 128), "DICM"...), fixture.Meta("1.2.840.10008.1.3.10", "1.2.3", fixture.ExplicitLE)...))
	return dir, lo, hi
}

type provenanceRecord struct {
	Version     string
	Mode        string
	TargetRange [2]int64 `json:"target_range"`
	Series      []struct {
		SourceSeriesUID string    `json:"source_series_uid"`
		NewSeriesUID    string    `json:"new_series_uid"`
		SourceRange     *[2]int64 `json:"source_range"`
		Files           []struct {
			Input        string
			InputSHA256  string `json:"input_sha256"`
			Output       string
			OutputSHA256 string    `json:"output_sha256"`
			SourceRange  *[2]int64 `json:"source_range"`
			SOP          [2]string `json:"sop_instance_uid_old_new"`
		}
	}
	Skipped []struct{ Path, Reason string }
}

func readProvenance(t *testing.T, out string) provenanceRecord {
	var rec provenanceRecord
	if err := json.Unmarshal(mustRead(t, filepath.Join(out, "dicom-remap-provenance.json")), &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

// outputs maps each output's relative path to its bytes.
func outputs(t *testing.T, dir string) map[string][]byte {
	m := map[string][]byte{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			m[filepath.ToSlash(rel)] = mustRead(t, p)
		}
		return nil
	})
	return m
}

// TestSeriesOneMapping: a whole series is remapped with one map from the
// extremes over all its files; pydicom confirms every sample of every file,
// all outputs share one new series UID, the record lists every file.
func TestSeriesOneMapping(t *testing.T) {
	needPydicom(t)
	in, lo, hi := makeSeries(t, 16, 24)
	out := filepath.Join(t.TempDir(), "out")
	r := runCmd(t, "", binary, in, out, "0", "4095")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "DICOMDIR: skipped") || !strings.Contains(r.stderr, "README.txt: skipped") {
		t.Errorf("skipped files not reported: %s", r.stderr)
	}
	rec := readProvenance(t, out)
	if len(rec.Series) != 1 || rec.Mode != "series" || len(rec.Series[0].Files) != 16 || len(rec.Skipped) != 2 {
		t.Fatalf("record: %+v", rec)
	}
	s := rec.Series[0]
	if s.SourceRange == nil || *s.SourceRange != [2]int64{lo, hi} {
		t.Fatalf("series range %v, want [%d %d]", s.SourceRange, lo, hi)
	}
	for _, f := range s.Files {
		input, output := filepath.Join(in, f.Input), filepath.Join(out, f.Output)
		if sha(t, input) != f.InputSHA256 || sha(t, output) != f.OutputSHA256 {
			t.Fatalf("%s: checksums in the record do not match the files", f.Input)
		}
		check := runCmd(t, "", debianPython, filepath.Join(repoRoot, "tests", "check_output.py"), input, output, "0", "4095", fmt.Sprint(lo), fmt.Sprint(hi))
		if check.code != 0 {
			t.Fatalf("%s: %s%s", f.Input, check.stdout, check.stderr)
		}
		uid := runCmd(t, "", debianPython, "-c", "import pydicom,sys; print(pydicom.dcmread(sys.argv[1]).SeriesInstanceUID)", output)
		if strings.TrimSpace(uid.stdout) != s.NewSeriesUID {
			t.Fatalf("%s: series UID %q, record %q", f.Output, uid.stdout, s.NewSeriesUID)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "part2", "IM0004-normalized.dcm")); err != nil {
		t.Error("relative paths not kept:", err)
	}
	if need(t, "dciodvfy") != "" {
		checkDciodvfy(t, filepath.Join(in, "IM0001"), filepath.Join(out, "IM0001-normalized.dcm"))
	}
}

// TestSeriesDeterministic: two runs, and 1 or 2 workers, give the same
// bytes for every output and for the record (arguments aside).
func TestSeriesDeterministic(t *testing.T) {
	in, _, _ := makeSeries(t, 12, 16)
	var runs []map[string][]byte
	for _, workers := range []string{"1", "2", "2"} {
		out := filepath.Join(t.TempDir(), "out")
		if r := runCmd(t, "", binary, "-q", "--workers", workers, in, out, "-1000", "1000"); r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		o := outputs(t, out)
		rec := readProvenance(t, out)
		rec.Version = ""
		delete(o, "dicom-remap-provenance.json")
		data, _ := json.Marshal(rec.Series)
		o["series-record"] = data
		runs = append(runs, o)
	}
	for i := 1; i < len(runs); i++ {
		if len(runs[i]) != len(runs[0]) {
			t.Fatalf("run %d wrote %d files, run 0 %d", i, len(runs[i]), len(runs[0]))
		}
		for name, data := range runs[0] {
			if !bytes.Equal(data, runs[i][name]) {
				t.Fatalf("run %d: %s differs", i, name)
			}
		}
	}
}

// TestSeriesAllOrNothing: one corrupt file in the middle of a series fails
// the run with its name and exit code 3, and leaves nothing in OUTDIR.
func TestSeriesAllOrNothing(t *testing.T) {
	in, _, _ := makeSeries(t, 10, 16)
	bad := filepath.Join(in, "IM0005")
	data := mustRead(t, bad)
	write(t, bad, data[:len(data)-100]) // truncated pixel data
	out := filepath.Join(t.TempDir(), "out")
	r := runCmd(t, "", binary, "--workers", "2", in, out, "0", "100")
	if r.code != 3 || !strings.Contains(r.stderr, "IM0005") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("exit %d: %q", r.code, r.stderr)
	}
	var left []string
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left = append(left, p)
		}
		return nil
	})
	if len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
}

// TestSeriesPhases: --print-range per file, --merge-ranges, then
// --source-range-from per file give the bytes of series mode; that is
// what the CWL workflow does on a cluster.
func TestSeriesPhases(t *testing.T) {
	in, lo, hi := makeSeries(t, 6, 16)
	series := filepath.Join(t.TempDir(), "series")
	if r := runCmd(t, "", binary, "-q", in, series, "0", "255"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	want := outputs(t, series)
	work := t.TempDir()
	var rangeFiles []string
	files, _ := filepath.Glob(filepath.Join(in, "IM*"))
	more, _ := filepath.Glob(filepath.Join(in, "part2", "IM*"))
	files = append(files, more...)
	sort.Strings(files)
	for i, f := range files {
		r := runCmd(t, "", binary, "--print-range", f)
		if r.code != 0 {
			t.Fatal(r.stderr)
		}
		rangeFiles = append(rangeFiles, write(t, filepath.Join(work, fmt.Sprintf("r%d.json", i)), []byte(r.stdout)))
	}
	merged := runCmd(t, "", binary, append([]string{"--merge-ranges"}, rangeFiles...)...)
	var rec struct{ Lo, Hi int64 }
	if merged.code != 0 || json.Unmarshal([]byte(merged.stdout), &rec) != nil || rec.Lo != lo || rec.Hi != hi {
		t.Fatalf("merged %q, want [%d %d]: %s", merged.stdout, lo, hi, merged.stderr)
	}
	mergedFile := write(t, filepath.Join(work, "merged.json"), []byte(merged.stdout))
	for _, f := range files {
		rel, _ := filepath.Rel(in, f)
		out := filepath.Join(work, "out", filepath.Dir(rel))
		r := runCmd(t, "", binary, "--source-range-from", mergedFile, f, out, "0", "255")
		if r.code != 0 {
			t.Fatal(r.stderr)
		}
		name := filepath.ToSlash(filepath.Join(filepath.Dir(rel), filepath.Base(rel)+"-normalized.dcm"))
		if !bytes.Equal(mustRead(t, filepath.Join(out, filepath.Base(rel)+"-normalized.dcm")), want[name]) {
			t.Fatalf("%s: phased output differs from series mode", name)
		}
		// The same through --source-range LO:HI.
		r = runCmd(t, "", binary, "--force", "--source-range", fmt.Sprintf("%d:%d", lo, hi), f, out, "0", "255")
		if r.code != 0 || !bytes.Equal(mustRead(t, filepath.Join(out, filepath.Base(rel)+"-normalized.dcm")), want[name]) {
			t.Fatalf("%s: --source-range output differs from series mode: %s", name, r.stderr)
		}
	}
}

// TestSeriesPerFile keeps the paper's behaviour on request: each file on
// its own extremes.
func TestSeriesPerFile(t *testing.T) {
	in, _, _ := makeSeries(t, 4, 16)
	out := filepath.Join(t.TempDir(), "out")
	if r := runCmd(t, "", binary, "-q", "--per-file", in, out, "0", "100"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	rec := readProvenance(t, out)
	if rec.Mode != "per file" || rec.Series[0].SourceRange != nil {
		t.Fatalf("record %+v", rec)
	}
	for _, f := range rec.Series[0].Files {
		if !bytes.Equal(mustRead(t, filepath.Join(out, f.Output)), direct(t, filepath.Join(in, f.Input), 0, 100)) {
			t.Fatalf("%s: per-file output differs from a single-file run", f.Input)
		}
	}
}

// TestBoutiquesSeries runs series mode through the Boutiques command line:
// a directory-valued input_file, and the provenance and output directory
// that the descriptor's output-files name.
func TestBoutiquesSeries(t *testing.T) {
	b, _, err := descriptor.LoadBoutiques(boutiquesFile)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	in, _, _ := makeSeries(t, 5, 16)
	if err := os.Rename(in, filepath.Join(work, "series")); err != nil {
		t.Fatal(err)
	}
	cmd, outs, err := b.Invocation(map[string]any{"input_file": "series", "min": 0.0, "max": 100.0, "output_dir": "out", "workers": 2.0})
	if err != nil {
		t.Fatal(err)
	}
	r := runIn(t, work, withBinaryOnPath(), "/bin/sh", "-c", cmd)
	if r.code != 0 {
		t.Fatalf("%s: exit %d: %s", cmd, r.code, r.stderr)
	}
	for _, id := range []string{"provenance", "output_directory"} {
		if _, err := os.Stat(filepath.Join(work, outs[id])); err != nil {
			t.Errorf("output %s (%s): %v", id, outs[id], err)
		}
	}
	direct := filepath.Join(t.TempDir(), "direct")
	if r := runCmd(t, "", binary, "-q", filepath.Join(work, "series"), direct, "0", "100"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	got, want := outputs(t, filepath.Join(work, "out")), outputs(t, direct)
	for name, data := range want {
		if name != "dicom-remap-provenance.json" && !bytes.Equal(got[name], data) {
			t.Fatalf("%s differs from the direct run", name)
		}
	}
}

// TestSeriesDifferentRescale: slices whose rescale differs (PET) share one
// map over modality values: accepted now (refused when the map worked on
// stored values), and a stored value of a slice with slope 2.5 maps as its
// modality value does.
func TestSeriesDifferentRescale(t *testing.T) {
	dir := t.TempDir()
	for i, slope := range []string{"1", "1", "2.5"} {
		s := fixture.CTSlice(8, 8, 0, fmt.Sprint(i+1), "9")
		s.Replace = []fixture.Elem{fixture.Str(0x0028, 0x1053, "DS", slope)}
		write(t, filepath.Join(dir, fmt.Sprintf("IM%d", i+1)), fixture.Build(s))
	}
	out := filepath.Join(t.TempDir(), "out")
	if r := runCmd(t, "", binary, "-q", dir, out, "0", "100"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if r := runCmd(t, "", binary, "-q", "--per-file", "--force", dir, out, "0", "100"); r.code != 0 {
		t.Fatalf("--per-file: %s", r.stderr)
	}
}

// TestSeriesProgress: progress appears on a terminal (a pty from script(1))
// when the run takes over a second, never with -q and never on a pipe.
func TestSeriesProgress(t *testing.T) {
	script := need(t, "script")
	dir := t.TempDir()
	for i := 1; i <= 500; i++ {
		write(t, filepath.Join(dir, fmt.Sprintf("IM%04d", i)), fixture.Build(fixture.CTSlice(64, 64, 0, fmt.Sprint(i), "3")))
	}
	run := func(quiet bool) string {
		out := filepath.Join(t.TempDir(), "out")
		args := fmt.Sprintf("%q --workers 1 %q %q 0 100", binary, dir, out)
		if quiet {
			args = fmt.Sprintf("%q -q --workers 1 %q %q 0 100", binary, dir, out)
		}
		r := runCmd(t, "", script, "-qec", args, "/dev/null")
		if r.code != 0 {
			t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
		}
		return r.stdout
	}
	if tty := run(false); !strings.Contains(tty, "steps (2 per file)") {
		t.Skipf("no progress line: the run was under a second on this machine: %q", tty)
	}
	if tty := run(true); strings.Contains(tty, "steps") {
		t.Errorf("progress shown with -q: %q", tty)
	}
	r := runCmd(t, "", binary, "--workers", "1", dir, filepath.Join(t.TempDir(), "out"), "0", "100")
	if strings.Contains(r.stderr, "steps") || strings.Contains(r.stdout, "steps") {
		t.Errorf("progress shown on a pipe: %q", r.stderr)
	}
}

// TestProvenanceFlags: --provenance-stdout prints the record that is
// written; --provenance-time adds the time, which is otherwise absent.
func TestProvenanceFlags(t *testing.T) {
	in, _, _ := makeSeries(t, 3, 8)
	out := filepath.Join(t.TempDir(), "out")
	r := runCmd(t, "", binary, "-q", "--provenance-stdout", in, out, "0", "100")
	if r.code != 0 || r.stdout != string(mustRead(t, filepath.Join(out, "dicom-remap-provenance.json"))) {
		t.Fatalf("stdout is not the record: %d %s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, `"created"`) {
		t.Error("a time in a record nobody asked a time for")
	}
	r = runCmd(t, "", binary, "-q", "--force", "--provenance-stdout", "--provenance-time", in, out, "0", "100")
	var rec struct{ Created string }
	if json.Unmarshal([]byte(r.stdout), &rec); rec.Created == "" {
		t.Errorf("no created time: %s", r.stdout)
	}
}
