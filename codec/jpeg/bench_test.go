package jpeg

import (
	"bytes"
	stdjpeg "image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/codectest"
)

// benchFrame encodes a synthetic image with dcmcjpeg and returns its first
// frame.
func benchFrame(b *testing.B, im image, opts ...string) []byte {
	codectest.NeedTool(b, "dcmcjpeg")
	dir := b.TempDir()
	in, enc := filepath.Join(dir, "in.dcm"), filepath.Join(dir, "enc.dcm")
	if err := os.WriteFile(in, im.build(1), 0o644); err != nil {
		b.Fatal(err)
	}
	run(b, "dcmcjpeg", append(opts, in, enc)...)
	file, err := os.ReadFile(enc)
	if err != nil {
		b.Fatal(err)
	}
	return codectest.Frames(b, file, 1)[0]
}

func benchDecode(b *testing.B, im image, opts ...string) {
	src := benchFrame(b, im, opts...)
	f := im.frame()
	dst := make([]byte, f.Size())
	var d Decoder
	b.SetBytes(int64(len(dst)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := d.Decode(dst, src, f); err != nil {
			b.Fatal(err)
		}
	}
}

// benchStd decodes the same stream with Go's image/jpeg, for comparison
// (it neither upsamples chroma nor interleaves).
func benchStd(b *testing.B, im image, opts ...string) {
	src := benchFrame(b, im, opts...)
	b.SetBytes(int64(im.frame().Size()))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := stdjpeg.Decode(bytes.NewReader(src)); err != nil {
			b.Fatal(err)
		}
	}
}

var (
	benchColour = image{rows: 1024, cols: 1024, frames: 1, spp: 3, stored: 8}
	benchGray8  = image{rows: 512, cols: 512, frames: 1, spp: 1, stored: 8}
	benchGray12 = image{rows: 512, cols: 512, frames: 1, spp: 1, stored: 12}
	// smooth content, where most blocks are flat
	benchColourSmooth = image{rows: 1024, cols: 1024, frames: 1, spp: 3, stored: 8, phantom: true}
	benchGray8Smooth  = image{rows: 512, cols: 512, frames: 1, spp: 1, stored: 8, phantom: true}
)

func BenchmarkColour422(b *testing.B)          { benchDecode(b, benchColour, "+eb") }
func BenchmarkColour422Std(b *testing.B)       { benchStd(b, benchColour, "+eb") }
func BenchmarkGray8(b *testing.B)              { benchDecode(b, benchGray8, "+eb") }
func BenchmarkGray8Std(b *testing.B)           { benchStd(b, benchGray8, "+eb") }
func BenchmarkGray12(b *testing.B)             { benchDecode(b, benchGray12, "+ee") }
func BenchmarkColour422Smooth(b *testing.B)    { benchDecode(b, benchColourSmooth, "+eb") }
func BenchmarkColour422SmoothStd(b *testing.B) { benchStd(b, benchColourSmooth, "+eb") }
func BenchmarkGray8Smooth(b *testing.B)        { benchDecode(b, benchGray8Smooth, "+eb") }
func BenchmarkGray8SmoothStd(b *testing.B)     { benchStd(b, benchGray8Smooth, "+eb") }
