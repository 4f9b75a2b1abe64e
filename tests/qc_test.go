package tests

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
)

// TestQCIdentify reads the pictures of a slice, a multi-frame image, an RGB
// image and a series with ImageMagick's identify as well as Go's decoder:
// a PNG of the size the layout gives, with no text chunks.
func TestQCIdentify(t *testing.T) {
	identify := need(t, "identify")
	gen := t.TempDir()
	mf := fixture.CTSlice(300, 280, 9, "1", "1")
	rgb := fixture.Spec{SOPClass: fixture.SecondaryCap, Modality: "OT", Rows: 40, Columns: 60, BitsAllocated: 8, BitsStored: 8,
		Photometric: "RGB", Values: fixture.Phantom(40, 60*3, 1, 0, 255)}
	series := filepath.Join(gen, "series")
	for i := range 4 {
		write(t, filepath.Join(series, fmt.Sprintf("s%d.dcm", i)), fixture.Build(fixture.CTSlice(32, 32, 0, fmt.Sprint(i+1), "1")))
	}
	cases := []struct {
		input, picture string
		width, height  int
	}{
		{sampleFile, "sample-ct-qc.png", 1200, 680},
		{write(t, filepath.Join(gen, "mf.dcm"), fixture.Build(mf)), "mf-qc.png", 1392, 980},
		{write(t, filepath.Join(gen, "rgb.dcm"), fixture.Build(rgb)), "rgb-qc.png", 1200, 680},
		{series, "dicom-remap-qc.png", 1200, 980},
	}
	for _, c := range cases {
		out := t.TempDir()
		if r := runCmd(t, "", binary, "--qc", c.input, out, "0", "255"); r.code != 0 || r.stdout != "" {
			t.Fatalf("%s: exit %d, stdout %q: %s", c.input, r.code, r.stdout, r.stderr)
		}
		path := filepath.Join(out, c.picture)
		r := runCmd(t, "", identify, "-format", "%m %w %h %[colorspace]", path)
		if want := fmt.Sprintf("PNG %d %d sRGB", c.width, c.height); r.code != 0 || strings.TrimSpace(r.stdout) != want {
			t.Errorf("identify %s: %q (exit %d: %s), want %q", c.picture, r.stdout, r.code, r.stderr, want)
		}
		img, err := png.Decode(bytes.NewReader(mustRead(t, path)))
		if err != nil || img.Bounds().Dx() != c.width || img.Bounds().Dy() != c.height {
			t.Errorf("decode %s: %v %v", c.picture, err, img.Bounds())
		}
		// identify lists text chunks (tEXt, zTXt, iTXt) as properties.
		if r := runCmd(t, "", identify, "-verbose", path); strings.Contains(r.stdout, "png:text") ||
			strings.Contains(r.stdout, "Phantom") || strings.Contains(r.stdout, "FIXTURE") || strings.Contains(r.stdout, "png:tIME") {
			t.Errorf("%s carries text: %s", c.picture, r.stdout)
		}
	}
}

// TestQCReadmePicture regenerates the README's picture with the command
// README gives.
func TestQCReadmePicture(t *testing.T) {
	got := filepath.Join(t.TempDir(), "qc.png")
	if r := runCmd(t, "", binary, "--qc-file", got, sampleFile, t.TempDir(), "0", "255"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if !bytes.Equal(mustRead(t, got), mustRead(t, filepath.Join(repoRoot, "docs", "qc-sample-ct.png"))) {
		t.Fatal("docs/qc-sample-ct.png is not what README's command makes: regenerate it")
	}
	if !strings.Contains(string(mustRead(t, filepath.Join(repoRoot, "README.md"))),
		"dicom-remap --qc-file docs/qc-sample-ct.png testdata/sample-ct.dcm") {
		t.Error("README lacks the command that makes its picture")
	}
}

// TestQCRendererMissing: without dicom-remap-qc next to dicom-remap or on
// PATH, --qc fails before any work and leaves nothing; other runs work.
func TestQCRendererMissing(t *testing.T) {
	alone := filepath.Join(t.TempDir(), "dicom-remap")
	if err := os.WriteFile(alone, mustRead(t, binary), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	r := runIn(t, "", []string{"PATH=/usr/bin:/bin"}, alone, "--qc", sampleFile, out, "0", "255")
	if r.code != 1 || !strings.Contains(r.stderr, "dicom-remap-qc, which draws the picture, is neither next to dicom-remap nor on PATH") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if left, _ := os.ReadDir(out); len(left) != 0 {
		t.Fatalf("left %v", left)
	}
	if r := runIn(t, "", []string{"PATH=/usr/bin:/bin"}, alone, sampleFile, out, "0", "255"); r.code != 0 {
		t.Fatalf("without --qc: %s", r.stderr)
	}
}
