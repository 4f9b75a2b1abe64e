package tests

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
)

// scanner is how a synthetic MR (or CT) scanner turns tissue into stored
// values: a nonlinear response, then the stored format and rescale.
type scanner struct {
	name             string
	bitsStored       int
	signed           bool
	slope, intercept string // rescale, "" for none
	padding          *int   // Pixel Padding Value
	modality         string
	response         func(tissue float64) float64 // modality value
}

func intp(v int) *int { return &v }

// scanners differ in scale, offset, response curve and format: what
// histogram standardization exists for.
var scanners = []scanner{
	{name: "mr-a-u12", bitsStored: 12, modality: "MR",
		response: func(x float64) float64 { return 3900 * math.Pow(x, 0.8) }},
	{name: "mr-b-s16-rescaled", bitsStored: 16, signed: true, slope: "0.25", intercept: "-300", padding: intp(-32768), modality: "MR",
		response: func(x float64) float64 { return -250 + 1800*x*x + 400*x }},
	{name: "mr-c-u16-rescaled", bitsStored: 16, slope: "1.7", intercept: "12.5", modality: "MR",
		response: func(x float64) float64 { return 20 + 5000*(math.Exp(1.5*x)-1)/(math.Exp(1.5)-1) }},
	{name: "ct-s16", bitsStored: 16, signed: true, slope: "1", intercept: "-1024", modality: "CT",
		response: func(x float64) float64 { return -1000 + 1400*x }},
}

// tissue is a head-like phantom in [0, 1]: background, skull ring, CSF,
// grey and white matter with a bias field and noise; slice z moves it.
func tissue(rng *rand.Rand, size, z int) []float64 {
	out := make([]float64, size*size)
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			dx, dy := float64(2*x-size)/float64(size), float64(2*y-size)/float64(size)
			r := math.Hypot(dx, dy*1.2)
			v := 0.0
			switch {
			case r > 0.9 && (x+y)%3 == 0:
				v = 0.01 * rng.Float64() // background noise
			case r > 0.9:
				// Exactly dark: several percentiles fall on one value, and
				// samples lie exactly on the landmarks (np.digitize's ties).
			case r > 0.8:
				v = 0.15
			case r < 0.15+0.02*float64(z):
				v = 0.3 // CSF
			case math.Sin(8*dx+float64(z))*math.Cos(7*dy) > 0.2:
				v = 0.6 // grey
			default:
				v = 0.85 // white
			}
			if r <= 0.9 {
				v *= 1 + 0.1*dx // bias field
				v += 0.02 * rng.NormFloat64()
			}
			out[y*size+x] = min(max(v, 0), 1)
		}
	}
	return out
}

// makeScannerSeries writes a series of n slices from scanner s.
func makeScannerSeries(t *testing.T, dir string, s scanner, n, size int, seed int64) string {
	rng := rand.New(rand.NewSource(seed))
	out := filepath.Join(dir, s.name)
	slope, intercept := 1.0, 0.0
	fmt.Sscan(s.slope, &slope)
	fmt.Sscan(s.intercept, &intercept)
	lo, hi := int64(0), int64(1)<<s.bitsStored-1
	if s.signed {
		lo, hi = -(int64(1) << (s.bitsStored - 1)), int64(1)<<(s.bitsStored-1)-1
	}
	for z := 0; z < n; z++ {
		tis := tissue(rng, size, z)
		values := make([]int64, len(tis))
		for i, x := range tis {
			v := int64(math.Round((s.response(x) - intercept) / slope))
			values[i] = min(max(v, lo), hi)
			if s.padding != nil && values[i] == int64(*s.padding) {
				values[i]++
			}
		}
		spec := fixture.Spec{Modality: s.modality, SOPClass: fixture.MRImage, Rows: size, Columns: size, BitsAllocated: 16,
			BitsStored: s.bitsStored, Signed: s.signed, Values: values, Instance: fmt.Sprint(z + 1), Series: fmt.Sprint(seed)}
		if s.modality == "CT" {
			spec.SOPClass = fixture.CTImage
		}
		if s.slope != "" {
			spec.Extra = append(spec.Extra, fixture.Str(0x0028, 0x1052, "DS", s.intercept), fixture.Str(0x0028, 0x1053, "DS", s.slope))
		}
		if s.padding != nil {
			// A corner of padding, as scanners write outside the field of view.
			for i := 0; i < size; i++ {
				spec.Values[i] = int64(*s.padding)
			}
			spec.Extra = append(spec.Extra, fixture.SS(0x0028, 0x0120, *s.padding))
		}
		write(t, filepath.Join(out, fmt.Sprintf("IM%04d.dcm", z+1)), fixture.Build(spec))
	}
	return out
}

// torchioSource is TorchIO's histogram_standardization.py, from a checkout
// outside this repository (TorchIO is not packaged in Debian); without it
// the TorchIO comparison is skipped, even in CI, and the exact oracle
// still runs.
func torchioSource(t *testing.T) string {
	p := os.Getenv("DICOM_REMAP_TORCHIO")
	if p == "" {
		t.Skip("DICOM_REMAP_TORCHIO (path of TorchIO's histogram_standardization.py) not set: skipping the TorchIO comparison")
	}
	if err := runCmd(t, "", debianPython, "-c", "import torch").code; err != 0 {
		if required() {
			t.Fatal("python3-torch is required for the TorchIO comparison")
		}
		t.Skip("python3-torch not installed: skipping")
	}
	return p
}

// TestNyulStandardization: landmarks learnt from four "scanners" (MR in
// unsigned 12-bit, signed 16-bit with a rescale and padding, unsigned
// 16-bit with a rescale, and a CT), then applied to each series, in
// series mode, per file and with a mask, are checked sample by sample
// against an exact independent oracle (tests/nyul_oracle.py), and the
// learnt landmarks and the outputs against TorchIO's own functions.
func TestNyulStandardization(t *testing.T) {
	needPydicom(t)
	dir := t.TempDir()
	var images []string
	for i, s := range scanners {
		images = append(images, makeScannerSeries(t, dir, s, 4, 40, int64(21+i)))
	}
	for _, mask := range []string{"-", "50", "hand-edited"} {
		t.Run("mask "+mask, func(t *testing.T) {
			lm := filepath.Join(t.TempDir(), "landmarks.json")
			if mask == "hand-edited" {
				// Any increasing values, ends other than 0 and 100, nothing
				// else: where the image's own landmarks coincide (the dark
				// background) the learnt ones differ, so the segment chosen
				// for a value on a landmark shows.
				mask = "-"
				write(t, lm, []byte(`{"landmarks": [-5, 3, 10.5, 12, 20, 25, 31.25, 40, 52, 60, 66, 80, 117]}`))
			} else {
				args := []string{"--learn-landmarks", lm}
				if mask != "-" {
					args = append(args, "--mask-below", mask)
				}
				if r := runCmd(t, "", binary, append(args, images...)...); r.code != 0 || r.stdout != "" {
					t.Fatalf("learn: exit %d\n%s%s", r.code, r.stdout, r.stderr)
				}
				if r := runCmd(t, "", debianPython, append([]string{filepath.Join(repoRoot, "tests", "nyul_oracle.py"), "learn", lm, mask}, images...)...); r.code != 0 {
					t.Fatalf("oracle learn: %s%s", r.stdout, r.stderr)
				}
			}
			for _, in := range images {
				for _, mode := range [][]string{nil, {"--per-file"}} {
					out := filepath.Join(t.TempDir(), "out")
					args := append([]string{"-q", "--landmarks", lm}, mode...)
					if mask != "-" {
						args = append(args, "--mask-below", mask)
					}
					if r := runCmd(t, "", binary, append(args, in, out, "0", "4095")...); r.code != 0 {
						t.Fatalf("%s: exit %d: %s", in, r.code, r.stderr)
					}
					if mode == nil {
						r := runCmd(t, "", debianPython, filepath.Join(repoRoot, "tests", "nyul_oracle.py"), "apply", lm, mask, in, out, "0", "4095")
						if r.code != 0 {
							t.Fatalf("%s: oracle: %s%s", in, r.stdout, r.stderr)
						}
						checkProvenanceMethod(t, out, lm)
						continue
					}
					// Per file: each file alone is its own image.
					files, _ := filepath.Glob(filepath.Join(in, "IM*"))
					for _, f := range files[:1] {
						one := filepath.Join(t.TempDir(), "one")
						os.MkdirAll(one, 0o755)
						os.Link(f, filepath.Join(one, filepath.Base(f)))
						r := runCmd(t, "", debianPython, filepath.Join(repoRoot, "tests", "nyul_oracle.py"), "apply", lm, mask, one, out, "0", "4095")
						if r.code != 0 {
							t.Fatalf("%s per file: oracle: %s%s", f, r.stdout, r.stderr)
						}
					}
				}
			}
		})
	}
}

// checkProvenanceMethod requires the record to name the method and the
// landmarks file's SHA-256.
func checkProvenanceMethod(t *testing.T, out, lm string) {
	var rec struct {
		Series []struct {
			RangeMethod string `json:"range_method"`
		}
	}
	if err := json.Unmarshal(mustRead(t, filepath.Join(out, "dicom-remap-provenance.json")), &rec); err != nil || len(rec.Series) != 1 {
		t.Fatalf("provenance: %v", err)
	}
	if m := rec.Series[0].RangeMethod; !strings.Contains(m, "histogram standardization") || !strings.Contains(m, sha(t, lm)) {
		t.Fatalf("range method %q does not name the method and the landmarks' sha256", m)
	}
}

// TestNyulAgainstTorchIO runs TorchIO's own train steps and _normalize on
// the same series: landmarks equal to 1e-9, outputs within 1 of TorchIO's
// float64 result everywhere and equal on at least 99 % of the samples.
func TestNyulAgainstTorchIO(t *testing.T) {
	needPydicom(t)
	src := torchioSource(t)
	dir := t.TempDir()
	var images []string
	for i, s := range scanners {
		images = append(images, makeScannerSeries(t, dir, s, 4, 40, int64(21+i)))
	}
	lm := filepath.Join(dir, "landmarks.json")
	if r := runCmd(t, "", binary, append([]string{"--learn-landmarks", lm}, images...)...); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r := runCmd(t, "", debianPython, append([]string{filepath.Join(repoRoot, "tests", "torchio_oracle.py"), src, "learn"}, images...)...)
	if r.code != 0 {
		t.Fatalf("torchio learn: %s%s", r.stdout, r.stderr)
	}
	var theirs, ours struct{ Landmarks []float64 }
	if err := json.Unmarshal([]byte(r.stdout), &theirs); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(mustRead(t, lm), &ours); err != nil {
		t.Fatal(err)
	}
	if len(theirs.Landmarks) != len(ours.Landmarks) {
		t.Fatalf("landmarks: TorchIO %v, ours %v", theirs.Landmarks, ours.Landmarks)
	}
	for i := range ours.Landmarks {
		if math.Abs(ours.Landmarks[i]-theirs.Landmarks[i]) > 1e-9*max(1, math.Abs(theirs.Landmarks[i])) {
			t.Fatalf("landmark %d: TorchIO %v, ours %v", i, theirs.Landmarks[i], ours.Landmarks[i])
		}
	}
	t.Logf("landmarks %v", ours.Landmarks)
	hand := write(t, filepath.Join(dir, "hand.json"), []byte(`{"landmarks": [-5, 3, 10.5, 12, 20, 25, 31.25, 40, 52, 60, 66, 80, 117]}`))
	for _, landmarks := range []string{lm, hand} {
		for _, in := range images {
			out := filepath.Join(t.TempDir(), "out")
			if r := runCmd(t, "", binary, "-q", "--landmarks", landmarks, in, out, "0", "4095"); r.code != 0 {
				t.Fatal(r.stderr)
			}
			r := runCmd(t, "", debianPython, filepath.Join(repoRoot, "tests", "torchio_oracle.py"), src, "apply", landmarks, in, out, "0", "4095")
			if r.code != 0 {
				t.Fatalf("%s: torchio apply: %s%s", in, r.stdout, r.stderr)
			}
			t.Logf("%s, %s: samples; equal and within 1 of TorchIO float64; float32: %s", filepath.Base(landmarks), filepath.Base(in), strings.TrimSpace(r.stdout))
		}
	}
}
