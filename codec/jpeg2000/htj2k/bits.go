package htj2k

import (
	"encoding/binary"
	"math/bits"
)

// The four bit-streams of an HT code-block: MagSgn and
// SigProp grow forward, VLC and MagRef backward from the end of their
// segment, and MEL forward from the start of the cleanup segment's suffix.
// Each has its own bit stuffing, which the readers undo.

// fwdReader reads MagSgn or SigProp: bits least significant first; after
// a 0xFF byte the next byte's most significant bit is a stuffed 0. Past
// the end it reads fill bytes (0xFF for MagSgn, 0 for SigProp), as the
// standard's decoding procedure does.
type fwdReader struct {
	data    []byte
	pos     int
	acc     uint64
	n       uint
	fill    byte
	unstuff bool
}

func (r *fwdReader) init(data []byte, fill byte) {
	*r = fwdReader{data: data, fill: fill}
	r.refill()
}

// hasFF reports whether a byte of v is 0xFF.
func hasFF(v uint32) bool {
	x := ^v
	return (x-0x01010101)&^x&0x80808080 != 0
}

// refill tops the accumulator up to at least 57 bits: four bytes at a time
// while none needs unstuffing, else one.
func (r *fwdReader) refill() {
	for r.n <= 56 {
		if r.n <= 32 && !r.unstuff && r.pos+4 <= len(r.data) {
			if v := binary.LittleEndian.Uint32(r.data[r.pos:]); !hasFF(v) {
				r.acc |= uint64(v) << r.n
				r.n += 32
				r.pos += 4
				continue
			}
		}
		b := r.fill
		if r.pos < len(r.data) {
			b = r.data[r.pos]
			r.pos++
		}
		if r.unstuff {
			r.acc |= uint64(b&0x7f) << r.n
			r.n += 7
		} else {
			r.acc |= uint64(b) << r.n
			r.n += 8
		}
		r.unstuff = b == 0xff
	}
}

// peek returns the next 32 bits (at least) without consuming them.
func (r *fwdReader) peek() uint64 {
	if r.n < 33 {
		r.refill()
	}
	return r.acc
}

func (r *fwdReader) skip(n uint) {
	r.acc >>= n
	r.n -= n
}

func (r *fwdReader) bit() uint32 {
	if r.n == 0 {
		r.refill()
	}
	b := uint32(r.acc & 1)
	r.acc >>= 1
	r.n--
	return b
}

// revReader reads VLC or MagRef backward from the end of their segment:
// bits least significant first; a byte whose low seven bits are all 1,
// read after a byte above 0x8F, holds a stuffed 0 in its most significant
// bit. Past the start it reads zeros.
type revReader struct {
	data    []byte
	pos     int // next byte to read; -1 when none is left
	acc     uint64
	n       uint
	unstuff bool
}

// initVLC starts at the cleanup segment's last two bytes: their 12 low bits
// hold the MEL+VLC length, so VLC begins with the high nibble of the
// second last byte.
func (r *revReader) initVLC(cup []byte, scup int) {
	lcup := len(cup)
	d := cup[lcup-2]
	*r = revReader{data: cup[lcup-scup : lcup-2], pos: scup - 3}
	r.acc = uint64(d >> 4)
	r.n = 4
	if d>>4&7 == 7 { // the nibble's top bit is stuffed
		r.acc &= 7
		r.n = 3
	}
	r.unstuff = d|0xf > 0x8f
	r.refill()
}

// initMRP starts at the last byte of the refinement segment.
func (r *revReader) initMRP(seg []byte) {
	*r = revReader{data: seg, pos: len(seg) - 1, unstuff: true}
	r.refill()
}

func (r *revReader) refill() {
	for r.n <= 56 {
		if r.n <= 32 && r.pos >= 3 {
			// the next four bytes, read backward; none with its low
			// seven bits set means no stuffing among them
			v := binary.BigEndian.Uint32(r.data[r.pos-3:])
			if !hasFF(v | 0x80808080) {
				r.acc |= uint64(v) << r.n
				r.n += 32
				r.pos -= 4
				r.unstuff = v>>24 > 0x8f
				continue
			}
		}
		var b byte
		if r.pos >= 0 {
			b = r.data[r.pos]
			r.pos--
		}
		if r.unstuff && b&0x7f == 0x7f {
			r.acc |= uint64(b&0x7f) << r.n
			r.n += 7
		} else {
			r.acc |= uint64(b) << r.n
			r.n += 8
		}
		r.unstuff = b > 0x8f
	}
}

func (r *revReader) peek() uint64 {
	if r.n < 33 {
		r.refill()
	}
	return r.acc
}

func (r *revReader) skip(n uint) {
	r.acc >>= n
	r.n -= n
}

func (r *revReader) bit() uint32 {
	if r.n == 0 {
		r.refill()
	}
	b := uint32(r.acc & 1)
	r.acc >>= 1
	r.n--
	return b
}

// melDecoder decodes the MEL stream, the adaptive run-length code of the
// significance of quads in the all-zero context: bits most
// significant first, 0xFF stuffing as MagSgn, 0xFF past the end. Its last
// byte is shared with VLC, whose nibble reads as ones here.
type melDecoder struct {
	data    []byte
	pos     int
	cur     uint32
	nbits   uint
	unstuff bool
	k       int
	run     int
	one     bool
}

// melExp is the MEL exponent of each of the 13 states.
var melExp = [13]uint{0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5}

func (m *melDecoder) init(data []byte) { *m = melDecoder{data: data} }

func (m *melDecoder) readBit() int {
	if m.nbits == 0 {
		b := byte(0xff)
		if m.pos < len(m.data) {
			b = m.data[m.pos]
			if m.pos == len(m.data)-1 {
				b |= 0xf
			}
			m.pos++
		}
		m.cur = uint32(b)
		m.nbits = 8
		if m.unstuff {
			m.nbits = 7
		}
		m.unstuff = b == 0xff
	}
	m.nbits--
	return int(m.cur>>m.nbits) & 1
}

// event returns the next MEL symbol.
func (m *melDecoder) event() int {
	if m.run == 0 && !m.one {
		e := melExp[m.k]
		if m.readBit() == 1 {
			m.run = 1 << e
			m.k = min(m.k+1, 12)
		} else {
			r := 0
			for range e {
				r = r<<1 | m.readBit()
			}
			m.run = r
			m.one = true
			m.k = max(m.k-1, 0)
		}
	}
	if m.run > 0 {
		m.run--
		return 0
	}
	m.one = false
	return 1
}

func bitLen(v uint32) uint32 { return uint32(bits.Len32(v)) }
