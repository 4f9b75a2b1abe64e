package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
	"github.com/dicom-remap/dicom-remap/qc"
	"github.com/dicom-remap/dicom-remap/qc/render"
	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// The test binary draws pictures in process (it is also the testscript
// command); the real dicom-remap runs dicom-remap-qc.
func init() { renderQC = render.Render }

// recordTitles makes renderQC also keep the titles it draws.
func recordTitles(t *testing.T) *[]string {
	var titles []string
	renderQC = func(w io.Writer, p qc.Picture) error {
		titles = append(titles, p.Title)
		return render.Render(w, p)
	}
	t.Cleanup(func() { renderQC = render.Render })
	return &titles
}

func decodePNG(t *testing.T, path string) *image.RGBA {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for rest := data[8:]; len(rest) >= 12; rest = rest[12+binary.BigEndian.Uint32(rest):] {
		if typ := string(rest[4:8]); typ != "IHDR" && typ != "IDAT" && typ != "IEND" {
			t.Errorf("%s: PNG chunk %s: only image data is allowed", path, typ)
		}
	}
	rgba := image.NewRGBA(img.Bounds())
	for y := range img.Bounds().Dy() {
		for x := range img.Bounds().Dx() {
			rgba.Set(x, y, img.At(x, y))
		}
	}
	return rgba
}

// storedValues reads a 16-bit output's pixel values back with the library.
func storedValues(t *testing.T, path string) []int64 {
	t.Helper()
	ds, err := dicom.ParseFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	pd, err := ds.FindElementByTag(tag.PixelData)
	if err != nil {
		t.Fatal(err)
	}
	var vs []int64
	for _, f := range dicom.MustGetPixelDataInfo(pd.Value).Frames {
		for _, v := range f.NativeData.RawDataSlice().([]uint16) {
			vs = append(vs, int64(int16(v)))
		}
	}
	return vs
}

// The picture of one slice shows the input over the source range and the
// output over [MIN, MAX], pixel for pixel as the output file holds them; its
// title has no patient data.
func TestQCSingleFile(t *testing.T) {
	titles := recordTitles(t)
	dir := t.TempDir()
	spec := fixture.CTSlice(16, 16, 0, "1", "1")
	in := filepath.Join(dir, "slice.dcm")
	os.WriteFile(in, fixture.Build(spec), 0o644)
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--qc", in, out, "0", "100"}, nil, &stdout, &stderr); code != 0 || stdout.Len() != 0 {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, stdout.String(), stderr.String())
	}
	img := decodePNG(t, filepath.Join(out, "slice-qc.png"))
	remapped := storedValues(t, filepath.Join(out, "slice-normalized.dcm"))
	panel := image.NewRGBA(image.Rect(0, 0, 16, 16))
	l := qc.Picture{Before: []*image.RGBA{panel}, After: []*image.RGBA{panel}, Labels: []string{""}}.Layout()
	if img.Bounds().Size() != l.Size {
		t.Fatalf("size %v, want %v", img.Bounds().Size(), l.Size)
	}
	lo, hi := int64(-1024), int64(3071)
	for _, v := range spec.Values {
		lo, hi = min(lo, v), max(hi, v)
	}
	f := l.Scale[0]
	for i, v := range spec.Values {
		x, y := i%16, i/16
		before := img.RGBAAt(l.Before[0].Min.X+x*f+f/2, l.Before[0].Min.Y+y*f+f/2)
		after := img.RGBAAt(l.After[0].Min.X+x*f+f/2, l.After[0].Min.Y+y*f+f/2)
		wantBefore := uint8(((v-lo)*255*2 + (hi - lo)) / (2 * (hi - lo)))
		wantAfter := uint8((remapped[i]*255*2 + 100) / 200)
		if before.R != wantBefore || before.G != wantBefore || after.R != wantAfter || after.B != wantAfter {
			t.Fatalf("pixel %d,%d (stored %d, output %d): before %v want %d, after %v want %d",
				x, y, v, remapped[i], before, wantBefore, after, wantAfter)
		}
	}
	if len(*titles) != 1 {
		t.Fatalf("%d pictures", len(*titles))
	}
	for _, secret := range []string{"Phantom", "Synthetic", "FIXTURE-0001", "20200101", "2020"} {
		if strings.Contains((*titles)[0], secret) {
			t.Errorf("title %q holds patient data %q", (*titles)[0], secret)
		}
	}
}

// A directory gives one picture per series, the same bytes whatever the
// number of workers, named in the provenance record.
func TestQCSeries(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "in")
	os.MkdirAll(src, 0o755)
	for i, series := range []string{"1", "1", "1", "2", "1", "2"} {
		inst := string(rune('a' + i))
		s := fixture.CTSlice(12, 10, 0, inst, series)
		for j := range s.Values {
			s.Values[j] += int64(100 * i)
		}
		os.WriteFile(filepath.Join(src, "f"+inst+".dcm"), fixture.Build(s), 0o644)
	}
	var pictures [][]byte
	for _, workers := range []string{"1", "3"} {
		out := filepath.Join(dir, "out"+workers)
		var stdout, stderr bytes.Buffer
		if code := run([]string{"--qc", "--workers", workers, src, out, "0", "255"}, nil, &stdout, &stderr); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		var rec Provenance
		data, _ := os.ReadFile(filepath.Join(out, ProvenanceName))
		json.Unmarshal(data, &rec)
		if len(rec.Series) != 2 || rec.Series[0].QC != "dicom-remap-qc-1.png" || rec.Series[1].QC != "dicom-remap-qc-2.png" {
			t.Fatalf("provenance series: %+v", rec.Series)
		}
		var both []byte
		for _, name := range []string{"dicom-remap-qc-1.png", "dicom-remap-qc-2.png"} {
			img := decodePNG(t, filepath.Join(out, name))
			if img.Bounds().Dx() < 1200 {
				t.Fatalf("%s: %v", name, img.Bounds())
			}
			data, _ := os.ReadFile(filepath.Join(out, name))
			both = append(both, data...)
		}
		pictures = append(pictures, both)
	}
	if !bytes.Equal(pictures[0], pictures[1]) {
		t.Fatal("pictures differ between 1 and 3 workers")
	}
}

// Nothing is left when the picture cannot be drawn, nor when the remap
// fails: the image and its picture go together.
func TestQCAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "ct.dcm")
	os.WriteFile(in, fixture.Build(fixture.CTSlice(8, 8, 0, "1", "1")), 0o644)
	series := filepath.Join(dir, "series")
	os.MkdirAll(series, 0o755)
	os.WriteFile(filepath.Join(series, "a.dcm"), fixture.Build(fixture.CTSlice(8, 8, 0, "1", "1")), 0o644)
	bad := fixture.CTSlice(8, 8, 0, "2", "1")
	bad.TruncatePixels = 10
	truncated := filepath.Join(dir, "truncated.dcm")
	os.WriteFile(truncated, fixture.Build(bad), 0o644)

	renderQC = func(io.Writer, qc.Picture) error { return errors.New("no room") }
	t.Cleanup(func() { renderQC = render.Render })
	for _, input := range []string{in, series} {
		out := filepath.Join(dir, "out-"+filepath.Base(input))
		var stdout, stderr bytes.Buffer
		if code := run([]string{"--qc", input, out, "0", "100"}, nil, &stdout, &stderr); code != exitFailure ||
			!strings.Contains(stderr.String(), "draw picture: no room") {
			t.Fatalf("%s: exit %d: %s", input, code, stderr.String())
		}
		if left, _ := os.ReadDir(out); len(left) != 0 {
			t.Fatalf("%s: left %v", input, left)
		}
	}
	renderQC = render.Render
	out := filepath.Join(dir, "out-truncated")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--qc", truncated, out, "0", "100"}, nil, &stdout, &stderr); code != exitRejected {
		t.Fatalf("truncated: exit %d: %s", code, stderr.String())
	}
	if left, _ := os.ReadDir(out); len(left) != 0 {
		t.Fatalf("truncated: left %v", left)
	}
}

func TestQCExitCodes(t *testing.T) {
	dir := t.TempDir()
	ct := filepath.Join(dir, "ct.dcm")
	os.WriteFile(ct, fixture.Build(fixture.CTSlice(8, 8, 0, "1", "1")), 0o644)
	out := filepath.Join(dir, "out")
	for _, c := range []struct {
		name string
		args []string
		want int
	}{
		{"qc", []string{"--qc", ct, out, "0", "100"}, exitOK},
		{"picture exists without force", []string{"--qc", ct, filepath.Join(dir, "out"), "0", "100", "--force", "--qc-file", filepath.Join(out, "ct-qc.png")}, exitOK},
		{"qc-file", []string{"--qc-file", filepath.Join(dir, "named.png"), ct, filepath.Join(dir, "out2"), "0", "100"}, exitOK},
		{"qc-file exists", []string{"--qc-file", filepath.Join(dir, "named.png"), ct, filepath.Join(dir, "out3"), "0", "100"}, exitFailure},
		{"qc-file is the output", []string{"--qc-file", filepath.Join(dir, "out4", "ct-normalized.dcm"), ct, filepath.Join(dir, "out4"), "0", "100"}, exitUsage},
		{"qc-file is the input", []string{"--force", "--qc-file", ct, ct, filepath.Join(dir, "out5"), "0", "100"}, exitUsage},
		{"with print-range", []string{"--qc", "--print-range", ct}, exitUsage},
		{"with merge-ranges", []string{"--qc-file", "x.png", "--merge-ranges", ct}, exitUsage},
	} {
		var stdout, stderr bytes.Buffer
		if got := run(c.args, nil, &stdout, &stderr); got != c.want || stdout.Len() != 0 {
			t.Errorf("%s: exit %d, want %d; stdout %q stderr %s", c.name, got, c.want, stdout.String(), stderr.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out3", "ct-normalized.dcm")); err == nil {
		t.Error("an existing picture left a new image behind")
	}
}

// TestQCLandmarks: --qc with --landmarks draws the map applied, end to
// end. Landmarks whose ends lie beyond 0 and 100 make the map clamp inside
// the image's range; every output sample must be what the picture's
// polyline gives at its input's modality value (rounded half up), the
// image must be the bytes of the run without --qc, and the title must say
// how the marks were chosen.
func TestQCLandmarks(t *testing.T) {
	dir := t.TempDir()
	spec := fixture.CTSlice(24, 20, 0, "1", "1")
	spec.Modality, spec.SOPClass = "MR", fixture.MRImage
	for i, e := range spec.Extra {
		switch {
		case e.Group == 0x0028 && e.Element == 0x1052:
			spec.Extra[i] = fixture.Str(0x0028, 0x1052, "DS", "-60")
		case e.Group == 0x0028 && e.Element == 0x1053:
			spec.Extra[i] = fixture.Str(0x0028, 0x1053, "DS", "0.5")
		}
	}
	for i := range spec.Values {
		spec.Values[i] = spec.Values[i]*spec.Values[i]/4000 + int64(i%7) // a nonlinear histogram
	}
	in := filepath.Join(dir, "mr.dcm")
	os.WriteFile(in, fixture.Build(spec), 0o644)
	lm := filepath.Join(dir, "lm.json")
	os.WriteFile(lm, []byte(`{"landmarks": [-8, 5, 12, 15, 20, 31, 40, 52, 63, 70, 75, 90, 104]}`), 0o644)
	var pics []qc.Picture
	renderQC = func(w io.Writer, p qc.Picture) error {
		pics = append(pics, p)
		return render.Render(w, p)
	}
	t.Cleanup(func() { renderQC = render.Render })
	var stderr bytes.Buffer
	if code := run([]string{"-q", "--qc", "--landmarks", lm, in, filepath.Join(dir, "qc"), "0", "1000"}, nil, io.Discard, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if code := run([]string{"-q", "--landmarks", lm, in, filepath.Join(dir, "plain"), "0", "1000"}, nil, io.Discard, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got, _ := os.ReadFile(filepath.Join(dir, "qc", "mr-normalized.dcm"))
	plain, _ := os.ReadFile(filepath.Join(dir, "plain", "mr-normalized.dcm"))
	if len(got) == 0 || !bytes.Equal(got, plain) {
		t.Fatal("--qc changed the standardized image")
	}
	decodePNG(t, filepath.Join(dir, "qc", "mr-qc.png"))
	if len(pics) != 1 || len(pics[0].Mapping) != 1 {
		t.Fatalf("%d pictures; want one with one mapping drawn", len(pics))
	}
	p := pics[0]
	if !strings.Contains(p.Title, "histogram standardization (the image's landmarks onto sha256:") {
		t.Errorf("title %q", p.Title)
	}
	line := p.Mapping[0]
	at := func(x float64) float64 { // right-continuous, as np.digitize
		i := 0
		for i+2 < len(line) && line[i+1].X <= x {
			i++
		}
		a, b := line[i], line[i+1]
		if b.X == a.X {
			return b.Y
		}
		return a.Y + (x-a.X)*(b.Y-a.Y)/(b.X-a.X)
	}
	out := storedValues(t, filepath.Join(dir, "qc", "mr-normalized.dcm"))
	clamped, checked := 0, 0
	for i, v := range spec.Values {
		y := at(0.5*float64(v) - 60)
		if math.Abs(y-math.Floor(y)-0.5) < 1e-6 {
			continue
		}
		if w := int64(math.Floor(y + 0.5)); w != out[i] {
			t.Fatalf("sample %d (modality %v): the picture draws %v → %d, the output holds %d\n%v", i, 0.5*float64(v)-60, y, w, out[i], line)
		}
		if out[i] == 0 || out[i] == 1000 {
			clamped++
		}
		checked++
	}
	if clamped == 0 || checked < len(spec.Values)*9/10 {
		t.Fatalf("%d samples checked, %d at an end: the test does not reach the clamps", checked, clamped)
	}
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
}
