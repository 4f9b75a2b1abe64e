package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
	"github.com/dicom-remap/dicom-remap/remap"
)

func runArgs(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, nil, &stdout, &stderr)
	return code, stderr.String()
}

func mrSpec(instance string) fixture.Spec {
	s := fixture.CTSlice(8, 8, 0, instance, "9")
	s.SOPClass, s.Modality = fixture.MRImage, "MR"
	return s
}

// TestMLExitCodes pins the status of every way the options of issue 21
// can be misused, and that a refused run writes nothing.
func TestMLExitCodes(t *testing.T) {
	dir := t.TempDir()
	ct := filepath.Join(dir, "ct.dcm")
	os.WriteFile(ct, fixture.Build(fixture.CTSlice(8, 8, 0, "1", "1")), 0o644)
	mr := filepath.Join(dir, "mr.dcm")
	os.WriteFile(mr, fixture.Build(mrSpec("2")), 0o644)
	constant := fixture.CTSlice(4, 4, 0, "3", "3")
	constant.Values = make([]int64, 16)
	flat := filepath.Join(dir, "flat.dcm")
	os.WriteFile(flat, fixture.Build(constant), 0o644)
	mixed := filepath.Join(dir, "mixed")
	os.MkdirAll(mixed, 0o755)
	os.WriteFile(filepath.Join(mixed, "a.dcm"), fixture.Build(fixture.CTSlice(8, 8, 0, "4", "4")), 0o644)
	os.WriteFile(filepath.Join(mixed, "b.dcm"), fixture.Build(mrSpec("5")), 0o644)
	file := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(text), 0o644)
		return p
	}
	good := file("good.json", `{"landmarks": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 100]}`)
	decreasing := file("decreasing.json", `{"landmarks": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 10]}`)
	short := file("short.json", `{"landmarks": [0, 100]}`)
	notJSON := file("text.json", `landmarks`)
	otherPct := file("pct.json", `{"landmarks": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 100], "percentiles": [2, 10, 20, 25, 30, 40, 50, 60, 70, 75, 80, 90, 98]}`)
	otherCutoff := file("cutoff.json", `{"landmarks": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 100], "cutoff": [0.05, 0.95]}`)
	existing := file("exists.json", `{}`)
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"percentile method unknown", []string{"--percentiles", "1:99", "--percentile-method", "midpoint", ct, "o1", "0", "1"}, exitUsage},
		{"percentile method with a source range", []string{"--percentile-method", "linear", "--source-range", "0:1", ct, "o1", "0", "1"}, exitUsage},
		{"percentile method with landmarks", []string{"--percentile-method", "linear", "--landmarks", good, ct, "o1", "0", "1"}, exitUsage},
		{"window unknown", []string{"--window", "kidney", ct, "o1", "0", "255"}, exitUsage},
		{"window on MR", []string{"--window", "brain", mr, "o1", "0", "255"}, exitUsage},
		{"window on a series with an MR file", []string{"--window", "brain", mixed, "o1", "0", "255"}, exitUsage},
		{"window with a source range", []string{"--window", "brain", "--source-range", "0:1", ct, "o1", "0", "255"}, exitUsage},
		{"window with percentiles", []string{"--window", "lung", "--percentiles", "1:99", ct, "o1", "0", "255"}, exitUsage},
		{"window with landmarks", []string{"--window", "lung", "--landmarks", good, ct, "o1", "0", "255"}, exitUsage},
		{"landmarks missing", []string{"--landmarks", filepath.Join(dir, "nope.json"), ct, "o1", "0", "100"}, exitUsage},
		{"landmarks not JSON", []string{"--landmarks", notJSON, ct, "o1", "0", "100"}, exitUsage},
		{"landmarks decreasing", []string{"--landmarks", decreasing, ct, "o1", "0", "100"}, exitUsage},
		{"landmarks too few", []string{"--landmarks", short, ct, "o1", "0", "100"}, exitUsage},
		{"landmarks of other percentiles", []string{"--landmarks", otherPct, ct, "o1", "0", "100"}, exitUsage},
		{"landmarks of another cutoff", []string{"--landmarks", otherCutoff, ct, "o1", "0", "100"}, exitUsage},
		{"landmarks with a source range", []string{"--landmarks", good, "--source-range", "0:1", ct, "o1", "0", "100"}, exitUsage},
		{"learn without images", []string{"--learn-landmarks", filepath.Join(dir, "l1.json")}, exitUsage},
		{"learn with a target range", []string{"--learn-landmarks", filepath.Join(dir, "l1.json"), "--min", "0", ct}, exitUsage},
		{"learn with percentiles", []string{"--learn-landmarks", filepath.Join(dir, "l1.json"), "--percentiles", "1:99", ct}, exitUsage},
		{"learn over an existing file", []string{"--learn-landmarks", existing, ct}, exitFailure},
		{"learn from a constant image", []string{"--learn-landmarks", filepath.Join(dir, "l1.json"), ct, flat}, exitRejected},
		{"learn from a missing image", []string{"--learn-landmarks", filepath.Join(dir, "l1.json"), filepath.Join(dir, "nope.dcm")}, exitFailure},
		{"learn from not DICOM", []string{"--learn-landmarks", filepath.Join(dir, "l1.json"), notJSON}, exitRejected},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Chdir(dir)
			got, stderr := runArgs(t, c.args...)
			if got != c.want {
				t.Fatalf("exit %d, want %d; stderr: %s", got, c.want, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if !strings.HasPrefix(lines[0], "dicom-remap: ") || len(lines) > 2 {
				t.Errorf("stderr is not one error line and an optional hint: %q", stderr)
			}
			for _, p := range []string{"o1", "l1.json"} {
				if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
					t.Fatalf("%s written by a refused run", p)
				}
			}
		})
	}
	if data, _ := os.ReadFile(existing); string(data) != "{}" {
		t.Fatal("an existing landmarks file was replaced without --force")
	}
}

// TestWindowPresets: every preset gives exactly the bytes of
// --source-range=(L−W/2):(L+W/2), on a file and on a series, and the
// provenance record names it; the presets README promises exist.
func TestWindowPresets(t *testing.T) {
	dir := t.TempDir()
	ct := filepath.Join(dir, "ct.dcm")
	os.WriteFile(ct, fixture.Build(fixture.CTSlice(16, 16, 0, "1", "1")), 0o644)
	series := filepath.Join(dir, "series")
	os.MkdirAll(series, 0o755)
	for _, i := range []string{"1", "2", "3"} {
		os.WriteFile(filepath.Join(series, "IM"+i), fixture.Build(fixture.CTSlice(16, 16, 0, i, "5")), 0o644)
	}
	for _, name := range []string{"brain", "subdural", "stroke", "lung", "mediastinum", "soft-tissue", "liver", "bone"} {
		if findWindow(name) == nil {
			t.Errorf("no %s window", name)
		}
	}
	distinct := map[string]bool{}
	for _, w := range windowPresets {
		lo := new(big.Rat).Sub(big.NewRat(w.level, 1), big.NewRat(w.width, 2))
		hi := new(big.Rat).Add(big.NewRat(w.level, 1), big.NewRat(w.width, 2))
		rng := "--source-range=" + remap.FormatDecimal(lo) + ":" + remap.FormatDecimal(hi)
		for _, in := range []string{ct, series} {
			a, b := filepath.Join(dir, w.name+"-w"), filepath.Join(dir, w.name+"-r")
			if code, stderr := runArgs(t, "-q", "--force", "--window", w.name, in, a, "0", "255"); code != 0 {
				t.Fatal(stderr)
			}
			if code, stderr := runArgs(t, "-q", "--force", rng, in, b, "0", "255"); code != 0 {
				t.Fatal(stderr)
			}
			outs, _ := filepath.Glob(filepath.Join(a, "*.dcm"))
			if len(outs) == 0 {
				t.Fatal("no output")
			}
			for _, o := range outs {
				x, _ := os.ReadFile(o)
				y, _ := os.ReadFile(filepath.Join(b, filepath.Base(o)))
				if !bytes.Equal(x, y) {
					t.Fatalf("%s: --window %s differs from %s", filepath.Base(o), w.name, rng)
				}
				distinct[string(x)] = true
			}
			if in == series {
				var rec Provenance
				data, _ := os.ReadFile(filepath.Join(a, ProvenanceName))
				if err := json.Unmarshal(data, &rec); err != nil || !strings.HasPrefix(rec.Window, w.name+": level ") {
					t.Fatalf("provenance window %q: %v", rec.Window, err)
				}
			}
		}
	}
	if len(distinct) < 2*len(windowPresets) {
		t.Errorf("presets give only %d distinct outputs", len(distinct))
	}
}

// TestMethodsNamed: the derivation description names the linear method
// (and not the default), and histogram standardization with the landmarks
// file's SHA-256; the two percentile methods give other bytes here.
func TestMethodsNamed(t *testing.T) {
	dir := t.TempDir()
	ct := filepath.Join(dir, "ct.dcm")
	os.WriteFile(ct, fixture.Build(fixture.CTSlice(16, 16, 0, "1", "1")), 0o644)
	out := func(args ...string) []byte {
		o := filepath.Join(t.TempDir(), "o")
		if code, stderr := runArgs(t, append(append([]string{"-q"}, args...), ct, o, "0", "255")...); code != 0 {
			t.Fatal(stderr)
		}
		data, _ := os.ReadFile(filepath.Join(o, "ct-normalized.dcm"))
		return data
	}
	linear := out("--percentiles", "3:97", "--percentile-method", "linear")
	nearest := out("--percentiles", "3:97")
	explicit := out("--percentiles", "3:97", "--percentile-method", "nearest-rank")
	if !bytes.Contains(linear, []byte("percentiles 3:97 (linear interpolation between ranks, numpy's default) of")) {
		t.Error("linear: the derivation description does not name the method")
	}
	if bytes.Contains(nearest, []byte("linear interpolation")) || !bytes.Equal(nearest, explicit) {
		t.Error("nearest-rank: not the default, or named")
	}
	if bytes.Equal(linear, nearest) {
		t.Error("the two methods gave the same bytes on a slice where their percentiles differ")
	}
	lm := filepath.Join(dir, "lm.json")
	text := []byte(`{"landmarks": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 100]}`)
	os.WriteFile(lm, text, 0o644)
	sum := sha256.Sum256(text)
	nyul := out("--landmarks", lm)
	if !bytes.Contains(nyul, []byte("histogram-standardized")) || !bytes.Contains(nyul, []byte(hex.EncodeToString(sum[:]))) {
		t.Error("the derivation description does not name histogram standardization and the landmarks' sha256")
	}
	// In series mode too, and with no word of a linear source range.
	series := filepath.Join(dir, "series")
	os.MkdirAll(series, 0o755)
	os.WriteFile(filepath.Join(series, "IM1"), fixture.Build(fixture.CTSlice(16, 16, 0, "1", "1")), 0o644)
	o := filepath.Join(t.TempDir(), "o")
	if code, stderr := runArgs(t, "-q", "--landmarks", lm, series, o, "0", "255"); code != 0 {
		t.Fatal(stderr)
	}
	data, _ := os.ReadFile(filepath.Join(o, "IM1-normalized.dcm"))
	if !bytes.Contains(data, []byte("percentiles 1..99 of the series")) || bytes.Contains(data, []byte("source range was given")) {
		t.Error("series mode: the derivation description does not say how the image was standardized")
	}
}

// FuzzLandmarksFile: a landmarks file is untrusted input. Whatever its
// bytes, it is refused as a usage error or read as 13 non-decreasing
// landmarks with the file's SHA-256.
func FuzzLandmarksFile(f *testing.F) {
	f.Add([]byte(`{"landmarks": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 100]}`))
	f.Add([]byte(`{"landmarks": [0, 0, 0, 0, 0, 41.660561660561660562, 45.03, 47.7, 50.5, 51.9, 53.6, 56.7, 100], "percentiles": [1, 10, 20, 25, 30, 40, 50, 60, 70, 75, 80, 90, 99], "cutoff": [0.01, 0.99], "percentile_method": "linear"}`))
	f.Add([]byte(`{"landmarks": [1e400, 2]}`))
	f.Add([]byte(`{"landmarks": [-5, 3, 10.5, 12, 20, 25, 31.25, 40, 52, 60, 66, 80, 117], "cutoff": [0.01]}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "lm.json")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := readLandmarks(p)
		if err != nil {
			if _, ok := err.(*usageError); !ok {
				t.Fatalf("%T is not a usage error: %v", err, err)
			}
			return
		}
		if len(s.Landmarks) != len(remap.NyulPercentiles) {
			t.Fatalf("%d landmarks accepted", len(s.Landmarks))
		}
		for i := 1; i < len(s.Landmarks); i++ {
			if s.Landmarks[i].Cmp(s.Landmarks[i-1]) < 0 {
				t.Fatal("decreasing landmarks accepted")
			}
		}
		sum := sha256.Sum256(data)
		if s.SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatal("wrong sha256")
		}
	})
}
