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

// threadLimit is the goroutines one image may use: threads when set, else
// every CPU (at most 8).
func threadLimit(threads int) int {
	if threads > 0 {
		return min(threads, 8)
	}
	return min(runtime.GOMAXPROCS(0), 8)
}

// rangeScanner accumulates the extremes of non-padding samples, chunk by
// chunk; each worker adds its chunks to its own state. 8- and 16-bit samples
// only mark which raw values occur (one store per sample); the values are
// judged once, in result.
type rangeScanner struct {
	c      sampleCodec
	pad    *paddingRange
	seen   [][]byte // per worker, indexed by raw value (8/16-bit): 1 if seen
	ranges []Range  // per worker extremes (32-bit), Lo > Hi when empty
	padded []bool   // per worker: a padding sample was seen (32-bit)
}

// seenTables and mapTables recycle the tables of scanners and mappers: a
// series makes two per file, and letting the heap grow and shrink for each
// costs more than the tables themselves (the runtime returning pages makes
// every CPU flush its TLB).
var (
	seenTables = sync.Pool{New: func() any { return new([1 << 16]byte) }}
	mapTables  = sync.Pool{New: func() any { return new([1 << 16]uint16) }}
)

func newRangeScanner(c sampleCodec, pad *paddingRange, workers int) *rangeScanner {
	s := &rangeScanner{c: c, pad: pad}
	for range max(workers, 1) {
		if c.tabled() {
			seen := seenTables.Get().(*[1 << 16]byte)[:1<<(8*c.bytes)]
			clear(seen)
			s.seen = append(s.seen, seen)
		}
		s.ranges = append(s.ranges, Range{1 << 62, -1 << 62})
		s.padded = append(s.padded, false)
	}
	return s
}

// note widens r to v, or sets padded when v is padding.
func (s *rangeScanner) note(v int64, r *Range, padded *bool) {
	if s.pad.contains(v) {
		*padded = true
		return
	}
	r.Lo, r.Hi = min(r.Lo, v), max(r.Hi, v)
}

// add scans p, which holds whole samples, into worker w's state.
func (s *rangeScanner) add(w int, p []byte) {
	c := s.c
	switch {
	case c.bytes == 1:
		seen := (*[1 << 8]byte)(s.seen[w])
		for _, b := range p {
			seen[b] = 1
		}
	case c.bytes == 2:
		// Four samples per load; the table index needs no bounds check.
		seen := (*[1 << 16]byte)(s.seen[w])
		i := 0
		if c.big {
			for ; i+8 <= len(p); i += 8 {
				x := binary.BigEndian.Uint64(p[i:])
				seen[uint16(x>>48)], seen[uint16(x>>32)], seen[uint16(x>>16)], seen[uint16(x)] = 1, 1, 1, 1
			}
			for ; i+2 <= len(p); i += 2 {
				seen[binary.BigEndian.Uint16(p[i:])] = 1
			}
		} else {
			for ; i+8 <= len(p); i += 8 {
				x := binary.LittleEndian.Uint64(p[i:])
				seen[uint16(x)], seen[uint16(x>>16)], seen[uint16(x>>32)], seen[uint16(x>>48)] = 1, 1, 1, 1
			}
			for ; i+2 <= len(p); i += 2 {
				seen[binary.LittleEndian.Uint16(p[i:])] = 1
			}
		}
	default:
		r, padded := s.ranges[w], s.padded[w]
		for i := 0; i < len(p)/4; i++ {
			s.note(c.value(c.raw(p, i)), &r, &padded)
		}
		s.ranges[w], s.padded[w] = r, padded
	}
}

// release hands the scanner's tables back; it is not used after.
func (s *rangeScanner) release() {
	for _, t := range s.seen {
		seenTables.Put((*[1 << 16]byte)(t[:cap(t)]))
	}
	s.seen = nil
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
		// Merge the workers' marks eight at a time, and skip the words
		// with none: an image uses few of the 65536 raw values.
		seen := s.seen[0]
		for j := 0; j < len(seen); j += 8 {
			word := binary.LittleEndian.Uint64(seen[j:])
			for _, other := range s.seen[1:] {
				word |= binary.LittleEndian.Uint64(other[j:])
			}
			for k := 0; word != 0; k, word = k+1, word>>8 {
				if word&1 == 0 {
					continue
				}
				s.note(s.c.value(uint32(j+k)), &r, &anyPadding)
			}
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
	m       linearMap
	pad     *paddingRange
	padTo   int64
	table   []uint16 // 8/16-bit: output for every raw value
	lut     []int64  // 32-bit with a narrow source range
}

func newSampleMapper(in, out sampleCodec, m linearMap, pad *paddingRange, padTo int64) *sampleMapper {
	mp := &sampleMapper{in: in, out: out, m: m, pad: pad, padTo: padTo}
	if in.tabled() {
		mp.fillTable(func(lo int64, out []uint16) { fillMap(m, lo, out) })
	} else if span := m.src.Hi - m.src.Lo; span >= 0 && span < lutLimit {
		mp.lut = make([]int64, span+1)
		fillMap(m, m.src.Lo, mp.lut)
	}
	return mp
}

// fillTable builds the 8/16-bit table, fill giving the outputs of the
// values lo, lo+1, ... Entries 0..mask hold every value BitsStored can hold,
// in two runs of increasing value when signed (0.., then the negatives), one
// otherwise; padding values become padTo; raw values that differ only above
// BitsStored repeat them.
func (mp *sampleMapper) fillTable(fill func(lo int64, out []uint16)) {
	in := mp.in
	mp.table = mapTables.Get().(*[1 << 16]uint16)[:1<<(8*in.bytes)]
	values := mp.table[:in.mask+1]
	if in.signed {
		fill(0, values[:in.sign])
		fill(-int64(in.sign), values[in.sign:])
	} else {
		fill(0, values)
	}
	if mp.pad != nil {
		lo, hi := in.valueBounds()
		for v := max(mp.pad.lo, lo); v <= min(mp.pad.hi, hi); v++ {
			values[uint32(v)&in.mask] = uint16(mp.padTo)
		}
	}
	for rest := mp.table[len(values):]; len(rest) > 0; rest = rest[len(values):] {
		copy(rest, values)
	}
}

// release hands the mapper's table back; it is not used after.
func (mp *sampleMapper) release() {
	if mp.table != nil {
		mapTables.Put((*[1 << 16]uint16)(mp.table[:cap(mp.table)]))
		mp.table = nil
	}
}

// valueBounds is the range of values BitsStored can hold.
func (c sampleCodec) valueBounds() (lo, hi int64) {
	if c.signed {
		return -int64(c.sign), int64(c.sign) - 1
	}
	return 0, int64(c.mask)
}

// fillMap sets out[i] to m.apply(lo+i), stepping the quotient and remainder
// from one value to the next instead of dividing for each: the same exact
// result, and a 65536-entry table costs microseconds.
func fillMap[T uint16 | int64](m linearMap, lo int64, out []T) {
	i := 0
	for ; i < len(out) && lo+int64(i) <= m.src.Lo; i++ {
		out[i] = T(m.dst.Lo)
	}
	if i < len(out) && lo+int64(i) >= m.src.Hi {
		for ; i < len(out); i++ {
			out[i] = T(m.dst.Hi)
		}
		return
	}
	if i == len(out) {
		return
	}
	// Here src.Lo < lo+i < src.Hi, so den > 0.
	den := uint64(m.src.Hi - m.src.Lo)
	span := uint64(m.dst.Hi - m.dst.Lo)
	qStep, rStep := span/den, span%den
	hi, low := bits.Mul64(uint64(lo+int64(i)-m.src.Lo), span)
	q, r := bits.Div64(hi, low, den)
	for ; i < len(out); i++ {
		if lo+int64(i) >= m.src.Hi {
			out[i] = T(m.dst.Hi)
			continue
		}
		o := q
		if r >= den-r {
			o++
		}
		out[i] = T(m.dst.Lo + int64(o))
		// (v+1-src.Lo)*span = (q+qStep)*den + r+rStep, carried.
		if r >= den-rStep {
			q, r = q+qStep+1, r-(den-rStep)
		} else {
			q, r = q+qStep, r+rStep
		}
	}
}

// apply rewrites p, which holds whole samples, in place.
func (mp *sampleMapper) apply(q []byte) {
	c := mp.in
	switch {
	case c.bytes == 1:
		t := (*[1 << 8]uint16)(mp.table)
		for i, b := range q {
			q[i] = byte(t[b])
		}
	case c.bytes == 2:
		// Four samples per load and store; the output is little endian.
		t := (*[1 << 16]uint16)(mp.table)
		i := 0
		if c.big {
			for ; i+8 <= len(q); i += 8 {
				x := binary.BigEndian.Uint64(q[i:])
				binary.LittleEndian.PutUint64(q[i:], uint64(t[uint16(x>>48)])|uint64(t[uint16(x>>32)])<<16|
					uint64(t[uint16(x>>16)])<<32|uint64(t[uint16(x)])<<48)
			}
			for ; i+2 <= len(q); i += 2 {
				binary.LittleEndian.PutUint16(q[i:], t[binary.BigEndian.Uint16(q[i:])])
			}
		} else {
			for ; i+8 <= len(q); i += 8 {
				x := binary.LittleEndian.Uint64(q[i:])
				binary.LittleEndian.PutUint64(q[i:], uint64(t[uint16(x)])|uint64(t[uint16(x>>16)])<<16|
					uint64(t[uint16(x>>32)])<<32|uint64(t[uint16(x>>48)])<<48)
			}
			for ; i+2 <= len(q); i += 2 {
				binary.LittleEndian.PutUint16(q[i:], t[binary.LittleEndian.Uint16(q[i:])])
			}
		}
	default:
		for i := 0; i < len(q)/4; i++ {
			v := c.value(c.raw(q, i))
			var o int64
			switch {
			case mp.pad.contains(v):
				o = mp.padTo
			case mp.lut != nil && v > mp.m.src.Lo && v < mp.m.src.Hi:
				o = mp.lut[v-mp.m.src.Lo]
			default:
				o = mp.m.apply(v)
			}
			mp.out.put(q, i, o)
		}
	}
}
