package ljpeg

import (
	"math/rand/v2"
	"os/exec"
	"testing"

	"github.com/dicom-remap/dicom-remap/codec"
	"github.com/dicom-remap/dicom-remap/internal/codectest"
	"github.com/dicom-remap/dicom-remap/internal/fixture"
	"github.com/dicom-remap/dicom-remap/internal/hostile"
)

func FuzzDecode(f *testing.F) {
	seed := func(stream []byte, fr codec.Frame) {
		f.Add(stream, uint16(fr.Columns), uint16(fr.Rows), uint8(fr.Samples), uint8(fr.Bits))
	}
	gray := grayImage(13, 17, 0, 16, 16, false)
	rgb := rgbImage(7, 9, 0)
	seed(testStream(graySamples(gray, 16), 17, 13, 1, streamOptions{precision: 16, predictor: 4, restartLines: 3, extras: true}), gray.frame)
	seed(testStream(graySamples(rgb, 8), 9, 7, 3, streamOptions{precision: 8, predictor: 6, separate: true, restartLines: 2}), rgb.frame)
	seed(testStream(graySamples(rgb, 8), 9, 7, 3, streamOptions{precision: 8, predictor: 7}), rgb.frame)
	// Real encoders' frames, when the tools are there.
	if _, err := exec.LookPath("dcmcjpeg"); err == nil {
		for _, c := range []struct {
			img  image
			args []string
		}{
			{grayImage(11, 13, 0, 16, 16, true), []string{"+el", "+sv", "5"}},
			{grayImage(9, 10, 0, 8, 8, false), []string{"+e1"}},
			{rgbImage(6, 7, 0), []string{"+el", "+sv", "7", "+pt", "1"}},
		} {
			file := encode(f, c.img, "dcmcjpeg", c.args...)
			seed(codectest.Frames(f, file, 1)[0], c.img.frame)
		}
	}
	// The hostile cases' streams (internal/hostile), when the encoders are
	// there: cut, padded, lying about their size, several in one.
	if bases, err := hostile.Bases(f.TempDir(), "ljpeg"); err == nil {
		for _, s := range hostile.Streams(bases) {
			seed(s.Data, codec.Frame{Columns: s.Columns, Rows: s.Rows, Samples: s.Samples, Bits: s.Bits})
		}
	}
	f.Fuzz(func(t *testing.T, stream []byte, cols, rows uint16, samples, bits uint8) {
		fr := codec.Frame{Columns: int(cols), Rows: int(rows), Samples: int(samples), Bits: int(bits)}
		size := fr.Size()
		if size < 0 || size > 1<<20 {
			return
		}
		var d Decoder
		codectest.CheckDecode(t, func(dst, src []byte) error { return d.Decode(dst, src, fr) }, stream, size, false)
	})
}

// benchmarkImage is a 512 x 512 CT-like 16-bit frame: the phantom with
// noise of a few units, as a scanner's image has.
func benchmarkImage() image {
	spec := fixture.CTSlice(512, 512, 0, "1", "1")
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range spec.Values {
		spec.Values[i] += rng.Int64N(17) - 8
	}
	return image{spec: spec, frame: codec.Frame{Columns: 512, Rows: 512, Samples: 1, Bits: 16}, frames: 1}
}

func BenchmarkDecode(b *testing.B) {
	for _, sv := range []string{"1", "7"} {
		b.Run("ct512x512x16/sv"+sv, func(b *testing.B) {
			img := benchmarkImage()
			stream := codectest.Frames(b, encode(b, img, "dcmcjpeg", "+el", "+sv", sv), 1)[0]
			benchmarkStream(b, stream, img.frame)
		})
	}
	b.Run("rgb512x512x8/sv1", func(b *testing.B) {
		img := rgbImage(512, 512, 0)
		img.spec.Values = fixture.RGB(512).Values
		stream := codectest.Frames(b, encode(b, img, "dcmcjpeg", "+e1"), 1)[0]
		benchmarkStream(b, stream, img.frame)
	})
}

func benchmarkStream(b *testing.B, stream []byte, f codec.Frame) {
	dst := make([]byte, f.Size())
	var d Decoder
	b.SetBytes(int64(len(dst)))
	b.ReportMetric(float64(len(stream))/float64(len(dst)), "ratio")
	b.ResetTimer()
	for b.Loop() {
		if err := d.Decode(dst, stream, f); err != nil {
			b.Fatal(err)
		}
	}
}
