package remap

import (
	"encoding/binary"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
)

func ctPixels() []byte {
	in := fixture.Build(fixture.CTSlice(512, 512, 8, "1", "1"))
	return in[len(in)-512*512*8*2:]
}

func BenchmarkScanCT(b *testing.B) {
	p := ctPixels()
	c := newCodec(16, 16, true, binary.LittleEndian)
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		sc := newRangeScanner(c, nil, 1)
		sc.add(0, p)
		sc.result()
	}
}

func BenchmarkMinMaxCT(b *testing.B) {
	p := ctPixels()
	b.SetBytes(int64(len(p)))
	var sink int64
	for b.Loop() {
		lo0, hi0, lo1, hi1 := int16(32767), int16(-32768), int16(32767), int16(-32768)
		i := 0
		for ; i+8 <= len(p); i += 8 {
			x := binary.LittleEndian.Uint64(p[i:])
			a, bb, c, d := int16(x), int16(x>>16), int16(x>>32), int16(x>>48)
			lo0, hi0 = min(lo0, a, bb), max(hi0, a, bb)
			lo1, hi1 = min(lo1, c, d), max(hi1, c, d)
		}
		sink += int64(min(lo0, lo1)) + int64(max(hi0, hi1))
	}
	_ = sink
}

func BenchmarkMapCT(b *testing.B) {
	p := ctPixels()
	in := newCodec(16, 16, true, binary.LittleEndian)
	mp := newSampleMapper(in, in, linearMap{Range{-1024, 3071}, Range{0, 100}}, nil, 0)
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		mp.apply(p)
	}
}
