package remap

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// Range is an inclusive range of stored pixel values.
type Range struct{ Lo, Hi int64 }

// sampleCodec reads and writes one stored sample of a pixel format.
type sampleCodec struct {
	bytes  int // bytes per sample: 1, 2 or 4
	order  binary.ByteOrder
	mask   uint32 // BitsStored low bits
	signed bool
	sign   uint32 // sign bit of BitsStored
}

func newCodec(bitsAllocated, bitsStored int, signed bool, order binary.ByteOrder) sampleCodec {
	return sampleCodec{
		bytes:  bitsAllocated / 8,
		order:  order,
		mask:   uint32(uint64(1)<<bitsStored - 1),
		signed: signed,
		sign:   uint32(1) << (bitsStored - 1),
	}
}

func (c sampleCodec) raw(p []byte, i int) uint32 {
	switch c.bytes {
	case 1:
		return uint32(p[i])
	case 2:
		return uint32(c.order.Uint16(p[2*i:]))
	default:
		return c.order.Uint32(p[4*i:])
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

// scan returns the extremes of the samples outside the padding range, and
// whether any sample was padding. ok is false when every sample is padding.
func scan(p []byte, n int, c sampleCodec, pad *paddingRange) (r Range, anyPadding, ok bool) {
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for i := 0; i < n; i++ {
		v := c.value(c.raw(p, i))
		if pad != nil && v >= pad.lo && v <= pad.hi {
			anyPadding = true
			continue
		}
		lo = min(lo, v)
		hi = max(hi, v)
	}
	if lo > hi {
		return Range{}, anyPadding, false
	}
	return Range{lo, hi}, anyPadding, true
}

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

// lutLimit bounds the size of a lookup table: beyond it each sample is
// computed directly. 16-bit data always fits.
const lutLimit = 1 << 16

// remapPixels rewrites the samples of in into out (which may alias in) as
// little-endian samples of codec outC: padding becomes pad value padTo,
// everything else goes through m.
func remapPixels(out, in []byte, n int, inC, outC sampleCodec, m linearMap, pad *paddingRange, padTo int64) {
	span := m.src.Hi - m.src.Lo
	if span >= 0 && span < lutLimit {
		lut := make([]int64, span+1)
		for i := range lut {
			lut[i] = m.apply(m.src.Lo + int64(i))
		}
		for i := 0; i < n; i++ {
			v := inC.value(inC.raw(in, i))
			switch {
			case pad != nil && v >= pad.lo && v <= pad.hi:
				outC.put(out, i, padTo)
			case v <= m.src.Lo:
				outC.put(out, i, m.dst.Lo)
			case v >= m.src.Hi:
				outC.put(out, i, m.dst.Hi)
			default:
				outC.put(out, i, lut[v-m.src.Lo])
			}
		}
		return
	}
	for i := 0; i < n; i++ {
		v := inC.value(inC.raw(in, i))
		if pad != nil && v >= pad.lo && v <= pad.hi {
			outC.put(out, i, padTo)
			continue
		}
		outC.put(out, i, m.apply(v))
	}
}
