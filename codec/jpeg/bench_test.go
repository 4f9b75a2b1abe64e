package jpeg

import (
	"bytes"
	stdjpeg "image/jpeg"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
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

// benchDecode reports, besides the time, the bytes a new Decoder's first
// frame allocates (work-B): its working set, which the next frames reuse;
// and the process's CPU time per frame (cpu-ns/op), which a loaded machine
// inflates less than the elapsed time.
func benchDecode(b *testing.B, im image, opts ...string) {
	src := benchFrame(b, im, opts...)
	f := im.frame()
	dst := make([]byte, f.Size())
	var d Decoder
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := d.Decode(dst, src, f); err != nil {
		b.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	b.SetBytes(int64(len(dst)))
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for i := 0; i < b.N; i++ {
		if err := d.Decode(dst, src, f); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc), "work-B")
}

// cpuTime is the user and system time the process has used, in ns.
func cpuTime(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
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
func BenchmarkColour420(b *testing.B)          { benchDecode(b, benchColour, "+eb", "+n1") }
func BenchmarkColour444(b *testing.B)          { benchDecode(b, benchColour, "+eb", "+s4") }
func BenchmarkGray8(b *testing.B)              { benchDecode(b, benchGray8, "+eb") }
func BenchmarkGray8Std(b *testing.B)           { benchStd(b, benchGray8, "+eb") }
func BenchmarkGray12(b *testing.B)             { benchDecode(b, benchGray12, "+ee") }
func BenchmarkColour422Smooth(b *testing.B)    { benchDecode(b, benchColourSmooth, "+eb") }
func BenchmarkColour422SmoothStd(b *testing.B) { benchStd(b, benchColourSmooth, "+eb") }
func BenchmarkGray8Smooth(b *testing.B)        { benchDecode(b, benchGray8Smooth, "+eb") }
func BenchmarkGray8SmoothStd(b *testing.B)     { benchStd(b, benchGray8Smooth, "+eb") }
