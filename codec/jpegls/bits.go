package jpegls

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// bitReader reads a scan's entropy-coded bits, most significant first. In
// JPEG-LS an 0xFF byte is followed by a byte whose top bit is a stuffed 0,
// so that 0xFF and a byte of 0x80 or more is always a marker: the end of
// the scan's data.
type bitReader struct {
	src     []byte
	pos     int    // next byte to load
	nextFF  int    // offset of the next 0xFF at or after pos, or len(src)
	acc     uint64 // bits not yet read, left-aligned; the bits below the n valid ones are 0
	n       int    // valid bits in acc
	stuffed bool   // src[pos] follows an 0xFF: its top bit is not data
	end     bool   // pos is at the marker that ends the data (or at the end of src)
	fake    int    // zero bits made up past the end, the lowest of the n valid ones
	overrun bool   // a made-up bit was read: the data are truncated or corrupt
}

func (r *bitReader) reset(src []byte, pos int) {
	*r = bitReader{src: src, pos: pos}
	r.findFF()
	r.fill()
}

func (r *bitReader) findFF() {
	i := bytes.IndexByte(r.src[r.pos:], 0xff)
	if i < 0 {
		r.nextFF = len(r.src)
	} else {
		r.nextFF = r.pos + i
	}
}

// fill loads bytes until more than 56 bits are valid; past the end of the
// data it makes up zero bits and notes it.
func (r *bitReader) fill() {
	if !r.stuffed && r.pos+8 <= r.nextFF {
		// No 0xFF among the next 8 bytes: take as many whole bytes as fit.
		k := (64 - r.n) >> 3
		v := binary.BigEndian.Uint64(r.src[r.pos:])
		r.acc |= v >> (64 - 8*k) << (64 - r.n - 8*k)
		r.pos += k
		r.n += 8 * k
		return
	}
	for r.n <= 56 {
		if r.end || r.pos >= len(r.src) {
			r.end = true
			if r.n < r.fake {
				r.overrun = true
			}
			r.fake += 64 - r.n
			r.n = 64
			return
		}
		b := r.src[r.pos]
		if r.stuffed {
			r.acc |= uint64(b) << (57 - r.n)
			r.n += 7
			r.pos++
			r.stuffed = false
			continue
		}
		if b == 0xff {
			if r.pos+1 >= len(r.src) || r.src[r.pos+1] >= 0x80 {
				r.end = true
				continue
			}
			r.stuffed = true
		}
		r.acc |= uint64(b) << (56 - r.n)
		r.n += 8
		r.pos++
	}
	if r.pos > r.nextFF {
		r.findFF()
	}
}

// bit reads one bit.
func (r *bitReader) bit() int {
	if r.n < 1 {
		r.fill()
	}
	b := int(r.acc >> 63)
	r.acc <<= 1
	r.n--
	return b
}

// read reads k bits, 0 <= k <= 32.
func (r *bitReader) read(k int) int {
	if r.n < k {
		r.fill()
	}
	v := int(r.acc >> (64 - k) & (1<<k - 1))
	r.acc <<= k
	r.n -= k
	return v
}

// golomb reads a mapped error value coded with Golomb parameter k and
// length limit limit (T.87 A.5.3), or returns -1 for a code the limit forbids.
func (r *bitReader) golomb(k, limit, qbpp int) int {
	if r.n < 57 {
		r.fill()
	}
	q := bits.LeadingZeros64(r.acc)
	if q >= r.n {
		// Long unary prefixes are rare: count them a fill at a time.
		q = r.n
		r.acc, r.n = 0, 0
		for {
			r.fill()
			z := bits.LeadingZeros64(r.acc)
			if z < r.n {
				q += z
				r.acc <<= z
				r.n -= z
				break
			}
			q += r.n
			r.acc, r.n = 0, 0
			if q > limit || r.overrun {
				return -1
			}
		}
	} else {
		r.acc <<= q
		r.n -= q
	}
	// Drop the 1 that ends the prefix.
	r.acc <<= 1
	r.n--
	escape := limit - qbpp - 1
	switch {
	case q < escape:
		return q<<k | r.read(k)
	case q == escape:
		return r.read(qbpp) + 1
	}
	return -1
}

// markerOffset is the offset of the marker that ends the data, after the
// bits read so far.
func (r *bitReader) markerOffset() int {
	if r.end {
		return r.pos
	}
	for i := r.pos; i+1 < len(r.src); i++ {
		if r.src[i] == 0xff && r.src[i+1] >= 0x80 {
			return i
		}
	}
	return len(r.src)
}

// truncated tells whether any made-up bit was read.
func (r *bitReader) truncated() bool {
	return r.overrun || r.n < r.fake
}
