package remap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand"
	"sync"
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
		n := 3*chunkSize/in.bytes + 17
		p := make([]byte, n*in.bytes)
		rng.Read(p)
		if f.span > 0 {
			for i := 0; i < n; i++ {
				binary.LittleEndian.PutUint32(p[4*i:], uint32(rng.Int63n(f.span)))
			}
		}
		// Three workers' states, merged by result.
		sc := newRangeScanner(in, f.pad, 3)
		for i, off := 0, 0; off < len(p); i, off = i+1, off+4096*in.bytes {
			sc.add(i%3, p[off:min(off+4096*in.bytes, len(p))])
		}
		sc.add(0, nil)
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
			mp := newSampleMapper(in, out, m, f.pad, dst.Lo)
			for off := 0; off < len(got); off += chunkSize {
				mp.apply(got[off:min(off+chunkSize, len(got))])
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%+v -> %v: fast map differs from the reference", f, dst)
			}
		}
	}
}

// TestFillMapMatchesApply checks the stepped table fill against the
// dividing map, for narrow and wide, tiny and huge source ranges and fill
// starts below, inside and above them.
func TestFillMapMatchesApply(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	maps := []linearMap{
		{Range{-1024, 3071}, Range{0, 100}},
		{Range{0, 1}, Range{-5, 7}},
		{Range{7, 7}, Range{0, 255}},
		{Range{-1 << 62, 1 << 62}, Range{0, 65535}},
		{Range{-9223372036854775808, 9223372036854775807}, Range{-2147483648, 2147483647}},
		{Range{100, 101}, Range{-2147483648, 2147483647}},
	}
	for range 200 {
		a, b := rng.Int63n(1<<20)-1<<19, rng.Int63n(1<<20)-1<<19
		c, d := rng.Int63n(1<<32)-1<<31, rng.Int63n(1<<32)-1<<31
		maps = append(maps, linearMap{Range{min(a, b), max(a, b)}, Range{min(c, d), max(c, d)}})
	}
	for _, m := range maps {
		for _, lo := range []int64{m.src.Lo - 300, m.src.Lo, m.src.Lo + 1, (m.src.Lo + m.src.Hi) / 2, m.src.Hi - 3, -32768} {
			if lo > 1<<62 || lo < -1<<62 {
				continue
			}
			out := make([]int64, 700)
			fillMap(m, lo, out)
			for i, got := range out {
				if want := m.apply(lo + int64(i)); got != want {
					t.Fatalf("%+v at %d: fill %d, apply %d", m, lo+int64(i), got, want)
				}
			}
		}
	}
}

// failingReader fails every read at or after offset bad.
type failingReader struct {
	data []byte
	bad  int64
}

func (r failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > r.bad {
		return 0, errors.New("disk on fire")
	}
	return copy(p, r.data[off:]), nil
}

// TestChunksInOrder runs the chunk pipeline with several workers over a file
// and over memory: every chunk is worked on once, by the worker it belongs
// to, and emitted in file order; a read error stops it and is returned.
func TestChunksInOrder(t *testing.T) {
	data := make([]byte, 5*chunkSize+12345)
	rand.New(rand.NewSource(3)).Read(data)
	// Each chunk starts with its index, so that work can tell which it got.
	for i := 0; i*chunkSize < len(data); i++ {
		binary.LittleEndian.PutUint64(data[i*chunkSize:], uint64(i))
	}
	want := bytes.Clone(data)
	for i := range want {
		want[i] ^= 0x5a
	}
	for _, workers := range []int{1, 2, 3, 8} {
		for _, fromFile := range []bool{false, true} {
			src := pixelSource{mem: bytes.Clone(data), length: int64(len(data))}
			if fromFile {
				src = pixelSource{file: bytes.NewReader(data), offset: 0, length: int64(len(data))}
			}
			var got []byte
			var mu sync.Mutex
			owner := map[int]int{} // chunk index -> worker
			err := src.chunks(workers, func(w int, b []byte) {
				i := int(binary.LittleEndian.Uint64(b))
				for i := range b {
					b[i] ^= 0x5a
				}
				mu.Lock()
				owner[i] = w
				mu.Unlock()
			}, func(b []byte) error { got = append(got, b...); return nil })
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%d workers, file %v: err %v, output equal %v", workers, fromFile, err, bytes.Equal(got, want))
			}
			if len(owner) != 6 {
				t.Fatalf("%d workers: %d chunks worked on, want 6", workers, len(owner))
			}
			for i, w := range owner {
				if workers > 1 && w != i%workers || workers == 1 && w != 0 {
					t.Fatalf("%d workers: chunk %d went to worker %d", workers, i, w)
				}
			}
		}
		src := pixelSource{file: failingReader{data, 3 * chunkSize}, length: int64(len(data))}
		emitted := 0
		err := src.chunks(workers, func(int, []byte) {}, func([]byte) error { emitted++; return nil })
		if err == nil || emitted != 3 {
			t.Fatalf("%d workers: read failure gave %v after %d chunks, want an error after 3", workers, err, emitted)
		}
		stop := errors.New("stop")
		err = pixelSource{mem: data, length: int64(len(data))}.chunks(workers, func(int, []byte) {}, func([]byte) error { return stop })
		if err != stop {
			t.Fatalf("%d workers: emit error gave %v", workers, err)
		}
	}
}
