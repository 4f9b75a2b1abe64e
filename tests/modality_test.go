package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
)

// makePETSeries writes n PET slices of one series, each with its own
// Rescale Slope (and, with intercepts, its own Rescale Intercept), as PET
// scanners write them, plus a few zero padding samples.
func makePETSeries(t *testing.T, n, size int, intercepts bool) string {
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(int64(n)))
	for i := 1; i <= n; i++ {
		values := make([]int64, size*size)
		for j := range values {
			values[j] = int64(rng.Intn(32768))
		}
		values[0] = -1 // padding
		values[1] = 32767
		slope := fmt.Sprintf("%d.%05dE-02", 1+rng.Intn(9), rng.Intn(100000))
		intercept := "0"
		if intercepts {
			intercept = fmt.Sprintf("-%d.%02d", rng.Intn(50), rng.Intn(100))
		}
		s := fixture.Spec{SOPClass: "1.2.840.10008.5.1.4.1.1.128", Modality: "PT", Rows: size, Columns: size,
			BitsAllocated: 16, BitsStored: 16, Signed: true, Values: values, Instance: fmt.Sprint(i), Series: "40",
			Extra: []fixture.Elem{fixture.Str(0x0028, 0x1052, "DS", intercept), fixture.Str(0x0028, 0x1053, "DS", slope),
				fixture.Str(0x0054, 0x1001, "CS", "BQML"), fixture.SS(0x0028, 0x0120, -1)}}
		write(t, filepath.Join(dir, fmt.Sprintf("IM%04d", i)), fixture.Build(s))
	}
	return dir
}

// TestPETSeriesModality: a PET series (refused before) is one map over
// the modality values of all its slices, checked sample by sample by an
// exact Python oracle (fractions.Fraction from the header strings); the
// bytes do not depend on the worker count, and the separate phases
// (--print-range, --merge-ranges, --source-range-from) give the bytes of
// series mode, with and without --percentiles and --mask-below.
func TestPETSeriesModality(t *testing.T) {
	needPydicom(t)
	for _, intercepts := range []bool{false, true} {
		in := makePETSeries(t, 40, 12, intercepts)
		for _, opts := range [][]string{nil, {"--percentiles", "0.5:99.5"}, {"--percentiles", "2:98", "--mask-below", "12.5"}, {"--mask-below", "50"},
			{"--percentiles", "0.5:99.5", "--percentile-method", "linear"}, {"--percentiles", "2.5:97.25", "--mask-below", "12.5", "--percentile-method", "linear"}} {
			t.Run(fmt.Sprint(intercepts, opts), func(t *testing.T) {
				var outs []map[string][]byte
				var series string
				for _, workers := range []string{"1", "2"} {
					series = filepath.Join(t.TempDir(), "series")
					args := append([]string{"-q", "--workers", workers}, opts...)
					if r := runCmd(t, "", binary, append(args, in, series, "0", "32767")...); r.code != 0 {
						t.Fatal(r.stderr)
					}
					outs = append(outs, outputs(t, series))
				}
				for name, data := range outs[0] {
					// The provenance record holds the arguments, --workers too.
					if name != "dicom-remap-provenance.json" && !bytes.Equal(outs[1][name], data) {
						t.Fatalf("%s: 1 and 2 workers differ", name)
					}
				}
				pct, mask, method := "-", "-", "nearest-rank"
				for i := 0; i+1 < len(opts); i += 2 {
					switch opts[i] {
					case "--percentiles":
						pct = opts[i+1]
					case "--percentile-method":
						method = opts[i+1]
					default:
						mask = opts[i+1]
					}
				}
				r := runCmd(t, "", debianPython, filepath.Join(repoRoot, "tests", "modality_oracle.py"), in, series, "0", "32767", pct, mask, method)
				if r.code != 0 {
					t.Fatalf("oracle: %s%s", r.stdout, r.stderr)
				}
				var rec struct {
					Series []struct {
						SourceRange [2]json.Number `json:"source_range"`
						RangeMethod string         `json:"range_method"`
					}
				}
				if err := json.Unmarshal(mustRead(t, filepath.Join(series, "dicom-remap-provenance.json")), &rec); err != nil || len(rec.Series) != 1 {
					t.Fatalf("provenance: %v", err)
				}
				if (pct != "-") != strings.Contains(rec.Series[0].RangeMethod, "percentiles "+pct) {
					t.Errorf("range method %q", rec.Series[0].RangeMethod)
				}
				if (method == "linear") != strings.Contains(rec.Series[0].RangeMethod, "linear interpolation") {
					t.Errorf("range method %q does not name the percentile method %s", rec.Series[0].RangeMethod, method)
				}
				checkPhases(t, in, outs[0], opts)
			})
		}
	}
}

// checkPhases runs the phases of series mode apart, as the CWL workflow
// does, and requires the bytes of series mode.
func checkPhases(t *testing.T, in string, want map[string][]byte, opts []string) {
	work := t.TempDir()
	files, _ := filepath.Glob(filepath.Join(in, "IM*"))
	sort.Strings(files)
	var ranges []string
	for i, f := range files {
		r := runCmd(t, "", binary, append(append([]string{"--print-range"}, opts...), f)...)
		if r.code != 0 {
			t.Fatal(r.stderr)
		}
		ranges = append(ranges, write(t, filepath.Join(work, fmt.Sprintf("r%d.json", i)), []byte(r.stdout)))
	}
	// Merge in two levels, as a reduce tree would.
	half := len(ranges) / 2
	a := runCmd(t, "", binary, append([]string{"--merge-ranges"}, ranges[:half]...)...)
	b := runCmd(t, "", binary, append([]string{"--merge-ranges"}, ranges[half:]...)...)
	if a.code != 0 || b.code != 0 {
		t.Fatal(a.stderr, b.stderr)
	}
	merged := runCmd(t, "", binary, "--merge-ranges", write(t, filepath.Join(work, "a.json"), []byte(a.stdout)), write(t, filepath.Join(work, "b.json"), []byte(b.stdout)))
	if merged.code != 0 {
		t.Fatal(merged.stderr)
	}
	mergedFile := write(t, filepath.Join(work, "merged.json"), []byte(merged.stdout))
	for _, f := range files {
		out := filepath.Join(work, "out")
		if r := runCmd(t, "", binary, "-q", "--force", "--source-range-from", mergedFile, f, out, "0", "32767"); r.code != 0 {
			t.Fatal(r.stderr)
		}
		name := filepath.Base(f) + "-normalized.dcm"
		if !bytes.Equal(mustRead(t, filepath.Join(out, name)), want[name]) {
			t.Fatalf("%s: phased output differs from series mode (%v)", name, opts)
		}
	}
}

// TestPerFilePercentiles: --per-file --percentiles is each file on its own
// percentiles, the bytes of a single-file run.
func TestPerFilePercentiles(t *testing.T) {
	in := makePETSeries(t, 4, 12, true)
	out := filepath.Join(t.TempDir(), "out")
	if r := runCmd(t, "", binary, "-q", "--per-file", "--percentiles", "1:99", in, out, "0", "255"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	files, _ := filepath.Glob(filepath.Join(in, "IM*"))
	for _, f := range files {
		single := t.TempDir()
		if r := runCmd(t, "", binary, "-q", "--percentiles", "1:99", f, single, "0", "255"); r.code != 0 {
			t.Fatal(r.stderr)
		}
		name := filepath.Base(f) + "-normalized.dcm"
		if !bytes.Equal(mustRead(t, filepath.Join(single, name)), mustRead(t, filepath.Join(out, name))) {
			t.Fatalf("%s: --per-file differs from a single-file run", name)
		}
	}
}

// TestCWLSeriesWorkflowPercentiles: the scattered CWL workflow with
// percentiles and a mask gives the bytes of one-process series mode on a
// PET series.
func TestCWLSeriesWorkflowPercentiles(t *testing.T) {
	cwltool := need(t, "cwltool")
	in := makePETSeries(t, 6, 12, true)
	files, _ := filepath.Glob(filepath.Join(in, "IM*"))
	sort.Strings(files)
	var images []string
	for _, f := range files {
		images = append(images, fmt.Sprintf("{class: File, path: %q}", f))
	}
	series := filepath.Join(t.TempDir(), "series")
	if r := runCmd(t, "", binary, "-q", "--percentiles", "0.5:99.5", "--mask-below", "10", in, series, "0", "4095"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	work := t.TempDir()
	job := write(t, filepath.Join(work, "job.yml"), []byte(fmt.Sprintf("images: [%s]\nmin: 0\nmax: 4095\npercentiles: \"0.5:99.5\"\nmask_below: \"10\"\n", strings.Join(images, ", "))))
	outdir := filepath.Join(work, "out")
	r := runIn(t, work, withBinaryOnPath(), cwltool, "--parallel", "--no-container", "--outdir", outdir, abs(t, filepath.Join("..", "cwl", "dicom-remap-series.cwl")), job)
	if r.code != 0 {
		t.Fatalf("cwltool: exit %d\n%s", r.code, r.stderr)
	}
	var result struct {
		Normalized []struct{ Path, Basename string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &result); err != nil || len(result.Normalized) != len(files) {
		t.Fatalf("cwltool output: %v\n%s", err, r.stdout)
	}
	for _, o := range result.Normalized {
		if !bytes.Equal(mustRead(t, o.Path), mustRead(t, filepath.Join(series, o.Basename))) {
			t.Fatalf("%s: workflow output differs from series mode", o.Basename)
		}
	}
	if _, err := os.Stat(outdir); err != nil {
		t.Fatal(err)
	}
}

// makeLUTSeries writes a computed radiography series whose slices carry
// their modality transform as a Modality LUT Sequence, each its own
// non-linear table (rising, and for a stretch falling), and one slice with
// a rescale instead: the series' values are in the LUTs' output units.
func makeLUTSeries(t *testing.T) string {
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(19))
	for i := 1; i <= 4; i++ {
		values := make([]int64, 24*20)
		for j := range values {
			values[j] = int64(rng.Intn(4096))
		}
		s := fixture.Spec{SOPClass: "1.2.840.10008.5.1.4.1.1.1", Modality: "CR", Rows: 24, Columns: 20,
			BitsAllocated: 16, BitsStored: 12, Values: values, Instance: fmt.Sprint(i), Series: "19",
			Extra: []fixture.Elem{fixture.Str(0x0018, 0x5101, "CS", "PA"), fixture.Str(0x0020, 0x0020, "CS", `A\F`)}}
		if i == 4 {
			s.Extra = append(s.Extra, fixture.Str(0x0028, 0x1052, "DS", "100"), fixture.Str(0x0028, 0x1053, "DS", "2.5"),
				fixture.Str(0x0028, 0x1054, "LO", "OD"))
		} else {
			n, first := 3000+500*i, 50*i
			var data []byte
			for k := range n {
				v := k*k/(n/8) + 11*(k%7)*i
				if k > n/2 && k < n/2+60 {
					v = (n/2)*(n/2)/(n/8) - 5*(k-n/2)
				}
				data = append(data, byte(v), byte(v>>8))
			}
			s.Extra = append(s.Extra, fixture.Seq(0x0028, 0x3000, []fixture.Elem{
				fixture.US(0x0028, 0x3002, n, first, 16),
				fixture.Str(0x0028, 0x3004, "LO", "OD"),
				{Group: 0x0028, Element: 0x3006, VR: "OW", Value: data},
			}))
		}
		write(t, filepath.Join(dir, fmt.Sprintf("IM%04d", i)), fixture.Build(s))
	}
	return dir
}

// TestModalityLUTSeries: a series with Modality LUT Sequences (refused
// before) is one map over the modality values that pydicom's
// apply_modality_lut gives, checked sample by sample by the oracle, with
// and without percentiles and a mask in the LUTs' units; the phases give
// the bytes of series mode; the outputs carry rescale 1/0 and no LUT, and
// dciodvfy finds nothing new in them.
func TestModalityLUTSeries(t *testing.T) {
	needPydicom(t)
	in := makeLUTSeries(t)
	for _, opts := range [][]string{nil, {"--percentiles", "1:99"}, {"--mask-below", "3000"}} {
		t.Run(fmt.Sprint(opts), func(t *testing.T) {
			series := remapAgainstOracle(t, in, opts)
			if opts == nil {
				out := filepath.Join(series, "IM0001-normalized.dcm")
				hdr := runCmd(t, "", debianPython, "-c", `import pydicom, sys
ds = pydicom.dcmread(sys.argv[1])
assert "ModalityLUTSequence" not in ds, "LUT kept"
assert (ds.RescaleSlope, ds.RescaleIntercept) == (1, 0), (ds.RescaleSlope, ds.RescaleIntercept)
assert "through the modality LUT" in ds.DerivationDescription, ds.DerivationDescription`, out)
				if hdr.code != 0 {
					t.Fatalf("header: %s", hdr.stderr)
				}
				checkDciodvfy(t, filepath.Join(in, "IM0001"), out)
			}
		})
	}
}

// lutItem is a Modality LUT Sequence of n 16-bit entries from first, a
// non-linear table (rising, falling for a stretch) that k varies.
func lutItem(n, first, k int) fixture.Elem {
	var data []byte
	for i := range n {
		v := (i*i/(n/8) + 13*(i%5)*k) % 60000
		if i > n/2 && i < n/2+50 {
			v = ((n/2)*(n/2)/(n/8) - 7*(i-n/2)) % 60000
		}
		data = append(data, byte(v), byte(v>>8))
	}
	return fixture.Seq(0x0028, 0x3000, []fixture.Elem{
		fixture.US(0x0028, 0x3002, n, first, 16),
		fixture.Str(0x0028, 0x3004, "LO", "US"),
		{Group: 0x0028, Element: 0x3006, VR: "OW", Value: data},
	})
}

// makeGroupLUTSeries writes one series of two enhanced XA images whose
// Modality LUTs are in their functional groups: one with a table per frame
// (in the Pixel Value Transformation item, directly in the group) and a
// frame with a rescale, one with a shared table for all its frames.
func makeGroupLUTSeries(t *testing.T) string {
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(23))
	pvt := func(e ...fixture.Elem) fixture.Elem { return fixture.Seq(0x0028, 0x9145, e) }
	groups := [][]fixture.Elem{
		{fixture.Seq(0x5200, 0x9230,
			[]fixture.Elem{pvt(lutItem(3000, 40, 1))},
			[]fixture.Elem{lutItem(2600, 300, 2)},
			[]fixture.Elem{pvt(fixture.Str(0x0028, 0x1052, "DS", "-20.5"), fixture.Str(0x0028, 0x1053, "DS", "3"), fixture.Str(0x0028, 0x1054, "LO", "US"))})},
		{fixture.Seq(0x5200, 0x9229, []fixture.Elem{pvt(lutItem(4096, 0, 3))}),
			fixture.Seq(0x5200, 0x9230, []fixture.Elem{}, []fixture.Elem{}, []fixture.Elem{})},
	}
	for i, g := range groups {
		values := make([]int64, 3*32*28)
		for j := range values {
			values[j] = int64(rng.Intn(4096))
		}
		s := fixture.Spec{SOPClass: "1.2.840.10008.5.1.4.1.1.12.1.1", Modality: "XA", Rows: 32, Columns: 28, Frames: 3,
			BitsAllocated: 16, BitsStored: 12, Values: values, Instance: fmt.Sprint(i + 1), Series: "29",
			Extra: append(g, fixture.Str(0x0008, 0x0008, "CS", `ORIGINAL\PRIMARY\SINGLE PLANE\NONE`))}
		write(t, filepath.Join(dir, fmt.Sprintf("IM%04d", i+1)), fixture.Build(s))
	}
	return dir
}

// TestModalityLUTInFunctionalGroupsSeries: Modality LUTs in enhanced
// images' functional groups (refused before) are applied frame by frame as
// pydicom's apply_modality_lut applies each frame's table, checked sample
// by sample by the oracle with extremes, percentiles and a mask in the
// tables' units; the phases give the bytes of series mode; the outputs
// keep no table at any depth, state rescale 1/0 in every frame's groups,
// and dciodvfy reports no error on them that it does not on their inputs.
func TestModalityLUTInFunctionalGroupsSeries(t *testing.T) {
	needPydicom(t)
	in := makeGroupLUTSeries(t)
	for _, opts := range [][]string{nil, {"--percentiles", "1:99"}, {"--mask-below", "2000"}} {
		t.Run(fmt.Sprint(opts), func(t *testing.T) {
			series := remapAgainstOracle(t, in, opts)
			if opts != nil {
				return
			}
			for _, name := range []string{"IM0001", "IM0002"} {
				out := filepath.Join(series, name+"-normalized.dcm")
				hdr := runCmd(t, "", debianPython, "-c", `import pydicom, sys
ds = pydicom.dcmread(sys.argv[1])
assert not [e for e in ds.iterall() if e.keyword == "ModalityLUTSequence"], "a LUT kept"
shared = ds.get("SharedFunctionalGroupsSequence")
for f, item in enumerate(ds.PerFrameFunctionalGroupsSequence):
    groups = [g for g in (item, shared[0] if shared else None) if g is not None and "PixelValueTransformationSequence" in g]
    assert len(groups) == 1, ("frame", f, len(groups))
    pvt = groups[0].PixelValueTransformationSequence
    assert len(pvt) == 1 and (pvt[0].RescaleSlope, pvt[0].RescaleIntercept, pvt[0].RescaleType) == (1, 0, "US"), ("frame", f, pvt)
assert "through the modality LUT" in ds.DerivationDescription, ds.DerivationDescription`, out)
				if hdr.code != 0 {
					t.Fatalf("%s header: %s", name, hdr.stderr)
				}
				checkDciodvfy(t, filepath.Join(in, name), out)
			}
		})
	}
}

// TestModalityLUTInFunctionalGroupsAmbiguousCLI: a frame with two
// transforms in its groups is refused with exit 3, naming them, and
// nothing is written; in series mode the run fails as a whole.
func TestModalityLUTInFunctionalGroupsAmbiguousCLI(t *testing.T) {
	dir := t.TempDir()
	pvt := fixture.Seq(0x0028, 0x9145, []fixture.Elem{fixture.Str(0x0028, 0x1052, "DS", "0"), fixture.Str(0x0028, 0x1053, "DS", "1"), fixture.Str(0x0028, 0x1054, "LO", "US")})
	s := fixture.Spec{SOPClass: "1.2.840.10008.5.1.4.1.1.12.1.1", Modality: "XA", Rows: 8, Columns: 8, Frames: 2,
		BitsAllocated: 16, BitsStored: 12, Values: make([]int64, 128), Series: "31",
		Extra: []fixture.Elem{fixture.Seq(0x5200, 0x9229, []fixture.Elem{lutItem(64, 0, 1)}), fixture.Seq(0x5200, 0x9230, []fixture.Elem{pvt}, []fixture.Elem{})}}
	in := write(t, filepath.Join(dir, "in", "XA1"), fixture.Build(s))
	for _, input := range []string{in, filepath.Dir(in)} {
		out := filepath.Join(t.TempDir(), "out")
		r := runCmd(t, "", binary, input, out, "0", "255")
		if r.code != 3 || !strings.Contains(r.stderr, "XA1: header: frame 1: a modality transform in both the shared and the per-frame functional groups, one of them a modality LUT sequence") {
			t.Fatalf("%s: exit %d: %s", input, r.code, r.stderr)
		}
		if entries, _ := os.ReadDir(out); len(entries) > 0 {
			t.Fatalf("%s: output written: %v", input, entries)
		}
	}
}

// remapAgainstOracle runs series mode on in with opts (none, --percentiles
// or --mask-below) into [0, 32767], has modality_oracle.py check every
// sample against pydicom's apply_modality_lut, requires the phases to give
// the same bytes, and returns the output directory.
func remapAgainstOracle(t *testing.T, in string, opts []string) string {
	t.Helper()
	series := filepath.Join(t.TempDir(), "series")
	if r := runCmd(t, "", binary, append(append([]string{"-q"}, opts...), in, series, "0", "32767")...); r.code != 0 {
		t.Fatal(r.stderr)
	}
	pct, mask := "-", "-"
	for i := 0; i+1 < len(opts); i += 2 {
		if opts[i] == "--percentiles" {
			pct = opts[i+1]
		} else {
			mask = opts[i+1]
		}
	}
	r := runCmd(t, "", debianPython, filepath.Join(repoRoot, "tests", "modality_oracle.py"), in, series, "0", "32767", pct, mask)
	if r.code != 0 {
		t.Fatalf("oracle: %s%s", r.stdout, r.stderr)
	}
	checkPhases(t, in, outputs(t, series), opts)
	return series
}
