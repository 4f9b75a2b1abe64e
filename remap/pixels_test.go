package remap

import (
	"bytes"
	"encoding/binary"
	"math/rand"
	"testing"
)

// referenceScan and referenceMap are the transform one sample at a time,
// written for clarity: the fast table and parallel paths must match them.
func referenceScan(p []byte, c sampleCodec, pad *paddingRange) (r Range, anyPadding, ok bool) {
	r = Range{1 << 62, -1 << 62}
	for i := 0; i < len(p)/c.bytes; i++ {
		v := c.value(c.raw(p, i))
		if pad != nil && v >= pad.lo && v <= pad.hi {
			anyPadding = true
			continue
		}
		r.Lo, r.Hi = min(r.Lo, v), max(r.Hi, v)
	}
	if r.Lo > r.Hi {
		return Range{}, anyPadding, false
	}
	return r, anyPadding, true
}

func referenceMap(p []byte, in, out sampleCodec, m linearMap, pad *paddingRange, padTo int64) []byte {
	q := make([]byte, len(p))
	for i := 0; i < len(p)/in.bytes; i++ {
		v := in.value(in.raw(p, i))
		if pad != nil && v >= pad.lo && v <= pad.hi {
			out.put(q, i, padTo)
		} else {
			out.put(q, i, m.apply(v))
		}
	}
	return q
}

func TestFastPathsMatchReference(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for _, f := range []struct {
		ba, bs int
		signed bool
		order  binary.ByteOrder
		pad    *paddingRange
		span   int64 // values drawn from [0, span) in stored units, -1 for any bits
	}{
		{8, 8, false, binary.LittleEndian, nil, -1},
		{8, 6, true, binary.LittleEndian, &paddingRange{-32, -30}, -1},
		{16, 12, true, binary.LittleEndian, &paddingRange{-2048, -2048}, -1},
		{16, 16, false, binary.BigEndian, nil, -1},
		{16, 10, false, binary.BigEndian, &paddingRange{0, 3}, -1},
		{32, 32, false, binary.LittleEndian, nil, -1},
		{32, 20, true, binary.BigEndian, &paddingRange{-5, 5}, -1},
		{32, 32, true, binary.LittleEndian, nil, 1000}, // narrow: the 32-bit lookup table
	} {
		in := newCodec(f.ba, f.bs, f.signed, f.order)
		// Enough samples for several chunks and workers.
		n := 3*parallelMin + 17
		p := make([]byte, n*in.bytes)
		rng.Read(p)
		if f.span > 0 {
			for i := 0; i < n; i++ {
				binary.LittleEndian.PutUint32(p[4*i:], uint32(rng.Int63n(f.span)))
			}
		}
		sc := newRangeScanner(in, f.pad, 0)
		for off := 0; off < len(p); off += 4096 * in.bytes {
			sc.add(p[off:min(off+4096*in.bytes, len(p))])
		}
		sc.add(nil)
		gotR, gotPad, gotOK := sc.result()
		wantR, wantPad, wantOK := referenceScan(p, in, f.pad)
		if gotR != wantR || gotPad != wantPad || gotOK != wantOK {
			t.Fatalf("%+v: scan %v %v %v, reference %v %v %v", f, gotR, gotPad, gotOK, wantR, wantPad, wantOK)
		}
		for _, dst := range []Range{{0, 100}, {-1000, 1000}, {0, int64(in.mask)}} {
			outBits, outSigned := f.bs, dst.Lo < 0
			for !fits(dst.Lo, dst.Hi, outBits, outSigned) {
				outBits++
			}
			if outBits > f.ba {
				continue
			}
			out := newCodec(f.ba, outBits, outSigned, binary.LittleEndian)
			m := linearMap{src: wantR, dst: dst}
			want := referenceMap(p, in, out, m, f.pad, dst.Lo)
			got := bytes.Clone(p)
			mp := newSampleMapper(in, out, m, f.pad, dst.Lo, 0)
			for off := 0; off < len(got); off += chunkSize {
				mp.apply(got[off:min(off+chunkSize, len(got))])
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%+v -> %v: fast map differs from the reference", f, dst)
			}
		}
	}
}
