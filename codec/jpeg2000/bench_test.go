package jpeg2000

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/dicom-remap/dicom-remap/codec"
)

// cpuTime is the process's user and system time: on a shared machine
// wall time says more of the neighbours than of the decoder.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchDecode(b *testing.B, im synthImage, opts ...string) {
	benchStream(b, opjEncode(b, im, "j2k", opts...), im.frame())
}

func benchStream(b *testing.B, cs []byte, f codec.Frame) {
	out := make([]byte, f.Size())
	var d Decoder
	if err := d.Decode(out, cs, f); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	for range b.N {
		if err := d.Decode(out, cs, f); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-start).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

// BenchmarkLossless16 decodes a 512x512 16-bit (12 bits stored) frame,
// 5/3 with five levels as DICOM encoders write it.
func BenchmarkLossless16(b *testing.B) {
	benchDecode(b, synth(512, 512, 1, 12, false, 1))
}

// BenchmarkLossyColour decodes a 512x512 8-bit RGB frame, 9/7 and ICT at
// 10:1.
func BenchmarkLossyColour(b *testing.B) {
	benchDecode(b, synth(512, 512, 3, 8, false, 2), "-I", "-r", "10")
}

// smooth is a CT-like frame: a broad gradient with little noise, the
// content medical images mostly have.
func smooth(w, h, comps, bits int, seed int64) synthImage {
	im := synth(w, h, comps, bits, false, seed)
	maxv := 1<<bits - 1
	for c, p := range im.planes {
		for y := range h {
			for x := range w {
				v := (x*maxv/w+y*maxv/h)/3 + (x*y+c*7)%5
				p[y*w+x] = int32(min(v, maxv))
			}
		}
	}
	return im
}

func BenchmarkLossless16Smooth(b *testing.B) {
	benchDecode(b, smooth(512, 512, 1, 12, 1))
}

func BenchmarkLossyColourSmooth(b *testing.B) {
	benchDecode(b, smooth(512, 512, 3, 8, 2), "-I", "-r", "10")
}

// BenchmarkSubsampled420 decodes a 512x512 8-bit colour frame, 5/3,
// whose second and third components are subsampled 2x2, and replicates
// them to full resolution.
func BenchmarkSubsampled420(b *testing.B) {
	c := subCase{512, 512, 8, false, [3][2]int{{1, 1}, {2, 2}, {2, 2}}, ""}
	benchStream(b, c.encode(b, 1), codec.Frame{Columns: 512, Rows: 512, Samples: 3, Bits: 8})
}

// BenchmarkColour444 is the same frame without subsampling, to compare.
func BenchmarkColour444(b *testing.B) {
	c := subCase{512, 512, 8, false, [3][2]int{{1, 1}, {1, 1}, {1, 1}}, "-mct 0"}
	benchStream(b, c.encode(b, 1), codec.Frame{Columns: 512, Rows: 512, Samples: 3, Bits: 8})
}

// BenchmarkFiles decodes the codestreams that J2K_FILES names (a glob),
// in turn, one frame per op: for profiling real or benchmark-harness
// files (go run ./tests/bench -keep keeps each frame's codestream), e.g.
//
//	J2K_FILES='/tmp/dicom-remap-bench-*/j2k-53-ct-*-codestreams/f00*.j2k' \
//	go test -run XXX -bench Files -cpuprofile cpu.out ./codec/jpeg2000
func BenchmarkFiles(b *testing.B) {
	files, _ := filepath.Glob(os.Getenv("J2K_FILES"))
	if len(files) == 0 {
		b.Skip("J2K_FILES names no file")
	}
	var css [][]byte
	for _, f := range files {
		cs, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		css = append(css, cs)
	}
	var d Decoder
	var out []byte
	b.ResetTimer()
	start := cpuTime()
	for i := range b.N {
		cs := css[i%len(css)]
		if len(cs) < 43 {
			b.Fatal("not a codestream")
		}
		// the frame from SIZ: columns, rows, components, 8 or 16 bits
		w := int(binary.BigEndian.Uint32(cs[8:]) - binary.BigEndian.Uint32(cs[16:]))
		h := int(binary.BigEndian.Uint32(cs[12:]) - binary.BigEndian.Uint32(cs[20:]))
		f := codec.Frame{Columns: w, Rows: h, Samples: int(binary.BigEndian.Uint16(cs[40:])), Bits: 8}
		if cs[42]&0x7f >= 8 {
			f.Bits = 16
		}
		if len(out) != f.Size() {
			out = make([]byte, f.Size())
		}
		if err := d.Decode(out, cs, f); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-start).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

// BenchmarkStrip decodes the large frames as a whole tile and in strips,
// and prints each one's time and what a first decode allocates.
func BenchmarkStrip(b *testing.B) {
	for _, c := range largeCases(b) {
		f := c.im.frame()
		for _, mode := range []struct {
			name          string
			rows, threads int
		}{{"whole", -1, 1}, {"strips", 0, 1}, {"whole-2threads", -1, 2}, {"strips-2threads", 0, 2}} {
			b.Run(c.name+"/"+mode.name, func(b *testing.B) {
				out := make([]byte, f.Size())
				first := allocated(func() {
					d := Decoder{stripRows: mode.rows}
					d.SetThreads(mode.threads)
					if err := d.Decode(out, c.cs, f); err != nil {
						b.Fatal(err)
					}
				})
				d := Decoder{stripRows: mode.rows}
				d.SetThreads(mode.threads)
				b.SetBytes(int64(len(out)))
				b.ResetTimer()
				start := cpuTime()
				for range b.N {
					if err := d.Decode(out, c.cs, f); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64((cpuTime()-start).Microseconds())/1000/float64(b.N), "cpu-ms/op")
				b.ReportMetric(float64(first)/(1<<20), "first-alloc-MiB")
			})
		}
	}
}
