package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"io"
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
