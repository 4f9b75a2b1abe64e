package remap

import (
	"encoding/binary"
	"math/bits"
	"runtime"
	"sync"
)

// Range is an inclusive range of stored pixel values.
type Range struct{ Lo, Hi int64 }

// sampleCodec reads and writes one stored sample of a pixel format.
type sampleCodec struct {
	bytes  int // bytes per sample: 1, 2 or 4
	big    bool
	mask   uint32 // BitsStored low bits
	signed bool
	sign   uint32 // sign bit of BitsStored
}

func newCodec(bitsAllocated, bitsStored int, signed bool, order binary.ByteOrder) sampleCodec {
	return sampleCodec{
		bytes:  bitsAllocated / 8,
		big:    order == binary.BigEndian,
		mask:   uint32(uint64(1)<<bitsStored - 1),
		signed: signed,
		sign:   uint32(1) << (bitsStored - 1),
	}
}

// raw reads sample i in the file's byte order.
func (c sampleCodec) raw(p []byte, i int) uint32 {
	switch {
	case c.bytes == 1:
		return uint32(p[i])
	case c.bytes == 2 && c.big:
		return uint32(binary.BigEndian.Uint16(p[2*i:]))
	case c.bytes == 2:
		return uint32(binary.LittleEndian.Uint16(p[2*i:]))
	case c.big:
		return binary.BigEndian.Uint32(p[4*i:])
	default:
		return binary.LittleEndian.Uint32(p[4*i:])
	}
}

// value masks a raw sample to BitsStored and sign-extends it: bits above
// HighBit may hold overlays or junk and carry no meaning.
func (c sampleCodec) value(raw uint32) int64 {
	v := raw & c.mask
	if c.signed && v&c.sign != 0 {
		return int64(v) - int64(c.mask) - 1
	}
	return int64(v)
}

// put stores v as a little-endian two's-complement sample.
func (c sampleCodec) put(p []byte, i int, v int64) {
	switch c.bytes {
	case 1:
		p[i] = byte(v)
	case 2:
		binary.LittleEndian.PutUint16(p[2*i:], uint16(v))
	default:
		binary.LittleEndian.PutUint32(p[4*i:], uint32(v))
	}
}

// tabled reports whether every raw value fits a table (8 and 16 bits).
func (c sampleCodec) tabled() bool { return c.bytes <= 2 }

// linearMap is the exact integer map from a source range to a target range.
type linearMap struct {
	src, dst Range
}

// apply maps v: values outside src are clamped, then
// dst.Lo + (v-src.Lo)*(dst.Hi-dst.Lo)/(src.Hi-src.Lo) is rounded to the
// nearest integer, halves rounded up (toward dst.Hi). A constant source maps
// everything to dst.Lo. The arithmetic is 128-bit integer: exact, and the same
// on every CPU.
func (m linearMap) apply(v int64) int64 {
	if v <= m.src.Lo {
		return m.dst.Lo
	}
	if v >= m.src.Hi {
		return m.dst.Hi
	}
	den := uint64(m.src.Hi - m.src.Lo)
	hi, lo := bits.Mul64(uint64(v-m.src.Lo), uint64(m.dst.Hi-m.dst.Lo))
	q, r := bits.Div64(hi, lo, den) // hi < den because v-src.Lo < den
	if r >= den-r {
		q++
	}
	return m.dst.Lo + int64(q)
}

// parallelMin is the sample count below which one goroutine does the work.
const parallelMin = 1 << 18

// threadLimit is the goroutines one image may use: threads when set, else
// every CPU (at most 8).
func threadLimit(threads int) int {
	if threads > 0 {
		return min(threads, 8)
	}
	return min(runtime.GOMAXPROCS(0), 8)
}

// parallel runs f over contiguous ranges of n samples, one per worker, with
// at most threads workers.
func parallel(n, threads int, f func(lo, hi, worker int)) {
	w := threadLimit(threads)
	if n < parallelMin {
		w = 1
	}
	if w == 1 {
		f(0, n, 0)
		return
	}
	size := (n + w - 1) / w
	var wg sync.WaitGroup
	for i := 0; i*size < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i*size, min((i+1)*size, n), i)
		}()
	}
	wg.Wait()
}

// rangeScanner accumulates the extremes of non-padding samples, chunk by
// chunk. 8- and 16-bit samples only mark which raw values occur (one store
// per sample); the values are judged once at the end.
type rangeScanner struct {
	c       sampleCodec
	threads int
	pad     *paddingRange
	seen    [][]bool // per worker, indexed by raw value (8/16-bit)
	ranges  []Range  // per worker extremes (32-bit), Lo > Hi when empty
	padded  []bool   // per worker: a padding sample was seen (32-bit)
}

func newRangeScanner(c sampleCodec, pad *paddingRange, threads int) *rangeScanner {
	s := &rangeScanner{c: c, pad: pad, threads: threads}
	w := threadLimit(threads)
	for i := 0; i < w; i++ {
		if c.tabled() {
			s.seen = append(s.seen, make([]bool, 1<<(8*c.bytes)))
		}
		s.ranges = append(s.ranges, Range{1 << 62, -1 << 62})
		s.padded = append(s.padded, false)
	}
	return s
}

func (s *rangeScanner) isPad(v int64) bool {
	return s.pad != nil && v >= s.pad.lo && v <= s.pad.hi
}

// add scans p, which holds whole samples.
func (s *rangeScanner) add(p []byte) {
	c := s.c
	parallel(len(p)/c.bytes, s.threads, func(lo, hi, w int) {
		q := p[lo*c.bytes : hi*c.bytes]
		switch {
		case c.bytes == 1:
			seen := s.seen[w]
			for _, b := range q {
				seen[b] = true
			}
		case c.bytes == 2 && !c.big:
			seen := s.seen[w]
			for i := 0; i+1 < len(q); i += 2 {
				seen[uint16(q[i])|uint16(q[i+1])<<8] = true
			}
		case c.bytes == 2:
			seen := s.seen[w]
			for i := 0; i+1 < len(q); i += 2 {
				seen[uint16(q[i])<<8|uint16(q[i+1])] = true
			}
		default:
			r, padded := s.ranges[w], s.padded[w]
			for i := 0; i < hi-lo; i++ {
				v := c.value(c.raw(q, i))
				if s.isPad(v) {
					padded = true
					continue
				}
				r.Lo, r.Hi = min(r.Lo, v), max(r.Hi, v)
			}
			s.ranges[w], s.padded[w] = r, padded
		}
	})
}

// result returns the extremes, whether any sample was padding, and ok false
// when every sample was padding.
func (s *rangeScanner) result() (r Range, anyPadding, ok bool) {
	r = Range{1 << 62, -1 << 62}
	for w := range s.ranges {
		r.Lo, r.Hi = min(r.Lo, s.ranges[w].Lo), max(r.Hi, s.ranges[w].Hi)
		anyPadding = anyPadding || s.padded[w]
	}
	if s.c.tabled() {
		for raw := range s.seen[0] {
			present := false
			for _, seen := range s.seen {
				present = present || seen[raw]
			}
			if !present {
				continue
			}
			v := s.c.value(uint32(raw))
			if s.isPad(v) {
				anyPadding = true
				continue
			}
			r.Lo, r.Hi = min(r.Lo, v), max(r.Hi, v)
		}
	}
	if r.Lo > r.Hi {
		return Range{}, anyPadding, false
	}
	return r, anyPadding, true
}

// lutLimit bounds the lookup table of a 32-bit map; wider source ranges are
// computed sample by sample.
const lutLimit = 1 << 16

// sampleMapper rewrites samples in place: padding becomes padTo,
// everything else goes through the map, written little endian in the
// output format.
type sampleMapper struct {
	in, out sampleCodec
	threads int
	m       linearMap
	pad     *paddingRange
	padTo   int64
	table   []uint16 // 8/16-bit: output for every raw value
	lut     []int64  // 32-bit with a narrow source range
}

func newSampleMapper(in, out sampleCodec, m linearMap, pad *paddingRange, padTo int64, threads int) *sampleMapper {
	mp := &sampleMapper{in: in, out: out, m: m, pad: pad, padTo: padTo, threads: threads}
	if in.tabled() {
		mp.table = make([]uint16, 1<<(8*in.bytes))
		for raw := range mp.table {
			mp.table[raw] = uint16(mp.mapValue(in.value(uint32(raw))))
		}
	} else if span := m.src.Hi - m.src.Lo; span >= 0 && span < lutLimit {
		mp.lut = make([]int64, span+1)
		for i := range mp.lut {
			mp.lut[i] = m.apply(m.src.Lo + int64(i))
		}
	}
	return mp
}

func (mp *sampleMapper) mapValue(v int64) int64 {
	if mp.pad != nil && v >= mp.pad.lo && v <= mp.pad.hi {
		return mp.padTo
	}
	return mp.m.apply(v)
}

// apply rewrites p, which holds whole samples, in place.
func (mp *sampleMapper) apply(p []byte) {
	c := mp.in
	parallel(len(p)/c.bytes, mp.threads, func(lo, hi, _ int) {
		q := p[lo*c.bytes : hi*c.bytes]
		t := mp.table
		switch {
		case c.bytes == 1:
			for i, b := range q {
				q[i] = byte(t[b])
			}
		case c.bytes == 2 && !c.big:
			for i := 0; i+1 < len(q); i += 2 {
				o := t[uint16(q[i])|uint16(q[i+1])<<8]
				q[i], q[i+1] = byte(o), byte(o>>8)
			}
		case c.bytes == 2:
			for i := 0; i+1 < len(q); i += 2 {
				o := t[uint16(q[i])<<8|uint16(q[i+1])]
				q[i], q[i+1] = byte(o), byte(o>>8)
			}
		default:
			for i := 0; i < hi-lo; i++ {
				v := c.value(c.raw(q, i))
				var o int64
				switch {
				case mp.pad != nil && v >= mp.pad.lo && v <= mp.pad.hi:
					o = mp.padTo
				case mp.lut != nil && v > mp.m.src.Lo && v < mp.m.src.Hi:
					o = mp.lut[v-mp.m.src.Lo]
				default:
					o = mp.m.apply(v)
				}
				mp.out.put(q, i, o)
			}
		}
	})
}
