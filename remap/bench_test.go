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

// BenchmarkScan16 measures the extremes pass over 16-bit samples.
func BenchmarkScan16(b *testing.B) {
	p := randomSamples(1<<20, 2)
	c := newCodec(16, 12, true, binary.LittleEndian)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		sc := newRangeScanner(c, nil, 1)
		sc.add(0, p)
		sc.result()
	}
}

// BenchmarkMap16 measures the table map over 16-bit samples, in place.
func BenchmarkMap16(b *testing.B) {
	p := randomSamples(1<<20, 2)
	in := newCodec(16, 12, true, binary.LittleEndian)
	out := newCodec(16, 16, true, binary.LittleEndian)
	mp := newSampleMapper(in, out, linearMap{Range{-2048, 2047}, Range{-1024, 3071}}, nil, -1024)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		mp.apply(p)
	}
}

// BenchmarkMap32 measures the 128-bit exact map over 32-bit samples.
func BenchmarkMap32(b *testing.B) {
	p := randomSamples(1<<18, 4)
	in := newCodec(32, 32, false, binary.LittleEndian)
	mp := newSampleMapper(in, in, linearMap{Range{0, 1<<32 - 1}, Range{0, 1000000}}, nil, 0)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		mp.apply(p)
	}
}

// BenchmarkRemapFile measures the whole read, check, remap and write path
// on a 512x512x16 multi-frame CT held in memory.
func BenchmarkRemapFile(b *testing.B) {
	in := fixture.Build(fixture.CTSlice(512, 512, 16, "1", "1"))
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Remap(io.Discard, bytes.NewReader(in), int64(len(in)), Params{Min: 0, Max: 100}); err != nil {
			b.Fatal(err)
		}
	}
}

// ctPixels is the pixel data of an 8-frame synthetic CT: smooth values in a
// narrow range, as in real images (random samples are the worst case).
func ctPixels() []byte {
	in := fixture.Build(fixture.CTSlice(512, 512, 8, "1", "1"))
	return in[len(in)-512*512*8*2:]
}

// BenchmarkScanCT and BenchmarkMapCT are the two kernels on CT-like data,
// on one goroutine.
func BenchmarkScanCT(b *testing.B) {
	p := ctPixels()
	c := newCodec(16, 16, true, binary.LittleEndian)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		sc := newRangeScanner(c, nil, 1)
		sc.add(0, p)
		sc.result()
	}
}

func BenchmarkMapCT(b *testing.B) {
	p := ctPixels()
	in := newCodec(16, 16, true, binary.LittleEndian)
	mp := newSampleMapper(in, in, linearMap{Range{-1024, 3071}, Range{0, 100}}, nil, 0)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		mp.apply(p)
	}
}

// BenchmarkTable16 measures building the 65536-entry lookup table, paid
// once per file.
func BenchmarkTable16(b *testing.B) {
	in := newCodec(16, 12, true, binary.LittleEndian)
	out := newCodec(16, 16, false, binary.LittleEndian)
	b.ReportAllocs()
	for b.Loop() {
		newSampleMapper(in, out, linearMap{Range{-1000, 2000}, Range{0, 4095}}, &paddingRange{-2048, -2048}, 0)
	}
}

// BenchmarkRemapSlice is the whole in-memory path for one 512x512 CT slice,
// the unit of a series.
func BenchmarkRemapSlice(b *testing.B) {
	in := fixture.Build(fixture.CTSlice(512, 512, 0, "1", "1"))
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Remap(io.Discard, bytes.NewReader(in), int64(len(in)), Params{Min: 0, Max: 100}); err != nil {
			b.Fatal(err)
		}
	}
}
