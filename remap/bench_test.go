package remap

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/rand"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
)

func randomSamples(n, bytesPer int) []byte {
	p := make([]byte, n*bytesPer)
	rand.New(rand.NewSource(1)).Read(p)
	return p
}

// ctPixels is the pixel data of an 8-frame synthetic CT: smooth values in a
// narrow range, as in real images (random samples are the worst case).
func ctPixels() []byte {
	in := fixture.Build(fixture.CTSlice(512, 512, 8, "1", "1"))
	return in[len(in)-512*512*8*2:]
}

// benchScan measures the extremes pass over p on one goroutine, tables
// recycled as in a run.
func benchScan(b *testing.B, p []byte, c sampleCodec) {
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		sc := newRangeScanner(c, nil, 1)
		sc.add(0, p)
		sc.result()
		sc.release()
	}
}

// benchMap measures the map of p, in place, on one goroutine.
func benchMap(b *testing.B, p []byte, mp *sampleMapper) {
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		mp.apply(p)
	}
}

// benchRemap measures the whole read, check, remap and write path on a
// file held in memory.
func benchRemap(b *testing.B, in []byte) { benchRemapWith(b, in, Params{Min: 0, Max: 100}) }

func benchRemapWith(b *testing.B, in []byte, p Params) {
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Remap(io.Discard, bytes.NewReader(in), int64(len(in)), p); err != nil {
			b.Fatal(err)
		}
	}
}

// Random 16-bit samples: every table entry is hit, the worst case for the
// caches.
func BenchmarkScan16(b *testing.B) {
	benchScan(b, randomSamples(1<<20, 2), newCodec(16, 12, true, binary.LittleEndian))
}

func BenchmarkMap16(b *testing.B) {
	in := newCodec(16, 12, true, binary.LittleEndian)
	out := newCodec(16, 16, true, binary.LittleEndian)
	benchMap(b, randomSamples(1<<20, 2), newSampleMapper(in, out, linearMap{Range{-2048, 2047}, Range{-1024, 3071}}, nil, -1024))
}

// BenchmarkMap32 measures the 128-bit exact map over 32-bit samples.
func BenchmarkMap32(b *testing.B) {
	in := newCodec(32, 32, false, binary.LittleEndian)
	benchMap(b, randomSamples(1<<18, 4), newSampleMapper(in, in, linearMap{Range{0, 1<<32 - 1}, Range{0, 1000000}}, nil, 0))
}

// CT-like samples, as in real images.
func BenchmarkScanCT(b *testing.B) {
	benchScan(b, ctPixels(), newCodec(16, 16, true, binary.LittleEndian))
}

func BenchmarkMapCT(b *testing.B) {
	in := newCodec(16, 16, true, binary.LittleEndian)
	benchMap(b, ctPixels(), newSampleMapper(in, in, linearMap{Range{-1024, 3071}, Range{0, 100}}, nil, 0))
}

// BenchmarkTable16 measures building the 65536-entry lookup table, paid
// once per file.
func BenchmarkTable16(b *testing.B) {
	in := newCodec(16, 12, true, binary.LittleEndian)
	out := newCodec(16, 16, false, binary.LittleEndian)
	b.ReportAllocs()
	for b.Loop() {
		newSampleMapper(in, out, linearMap{Range{-1000, 2000}, Range{0, 4095}}, &paddingRange{-2048, -2048}, 0).release()
	}
}

// BenchmarkRemapFile is a 512x512x16 multi-frame CT; BenchmarkRemapSlice
// one 512x512 slice, the unit of a series.
func BenchmarkRemapFile(b *testing.B) {
	benchRemap(b, fixture.Build(fixture.CTSlice(512, 512, 16, "1", "1")))
}

func BenchmarkRemapSlice(b *testing.B) {
	benchRemap(b, fixture.Build(fixture.CTSlice(512, 512, 0, "1", "1")))
}

// BenchmarkRemapSlicePercentiles is BenchmarkRemapSlice with a robust
// range: a histogram instead of the extremes.
func BenchmarkRemapSlicePercentiles(b *testing.B) {
	pc, _ := ParsePercentiles("0.5:99.5")
	benchRemapWith(b, fixture.Build(fixture.CTSlice(512, 512, 0, "1", "1")), Params{Min: 0, Max: 100, Percentiles: &pc})
}

func BenchmarkRemapFilePercentiles(b *testing.B) {
	pc, _ := ParsePercentiles("0.5:99.5")
	benchRemapWith(b, fixture.Build(fixture.CTSlice(512, 512, 16, "1", "1")), Params{Min: 0, Max: 100, Percentiles: &pc})
}

// BenchmarkHeaderText compares a small image whose text is in ISO 2022
// with code extensions (decoded by this package, nested items included)
// with the same image in ASCII without a Specific Character Set: the cost
// of reading text in any character set, per file.
func BenchmarkHeaderText(b *testing.B) {
	plain := fixture.Build(fixture.CTSlice(2, 2, 0, "1", "1"))
	for _, c := range []struct {
		name string
		in   []byte
	}{{"ascii", plain}, {"iso2022", charsetImage()}, {"iso2022-deflated", charsetImageIn(fixture.DeflatedLE)}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Remap(io.Discard, bytes.NewReader(c.in), int64(len(c.in)), Params{Min: 0, Max: 255, Version: "bench"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkModalityLUT maps a 2048² 12-bit radiograph through a Modality
// LUT of 4096 entries and through a rescale: a LUT costs a table build, not
// a per-sample cost.
func BenchmarkModalityLUT(b *testing.B) {
	spec := fixture.Radiograph(2048)
	rs := spec
	rs.Extra = append(rs.Extra, fixture.Str(0x0028, 0x1052, "DS", "-5"), fixture.Str(0x0028, 0x1053, "DS", "2.5"))
	lut := spec
	lut.Extra = append(lut.Extra, lutSequence(0, 16, lutEntries(4096), "US", false))
	for _, c := range []struct {
		name string
		spec fixture.Spec
	}{{"rescale", rs}, {"lut", lut}} {
		in := fixture.Build(c.spec)
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if _, err := Remap(io.Discard, bytes.NewReader(in), int64(len(in)), Params{Min: 0, Max: 255, Version: "bench", Threads: 1}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
