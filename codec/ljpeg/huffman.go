package ljpeg

import "encoding/binary"

// fastBits is the lookahead of the Huffman tables: a code and its extra
// bits that take this many bits or fewer (most of them in practice) decode
// with one table load. 2^12 entries of 4 bytes stay in the L1 cache.
const fastBits = 12

// Fields of a fast table entry: the low 5 bits are the number of bits it
// consumes; with fastDiff set, the bits from fastShift on are the signed
// difference itself, else they are the category SSSS and the extra bits
// still follow. An entry of 0 means a code longer than fastBits.
const (
	fastDiff  = 0x20
	fastShift = 8
)

// huffTable is a decoding table built from a DHT segment.
type huffTable struct {
	// The table as DHT defines it; a stream may redefine it many times,
	// so the rest is built only when a scan is about to use it.
	counts [16]uint8
	vals   [256]uint8
	built  bool

	fast [1 << fastBits]int32
	// maxCode[l] is the largest code of length l, -1 when there is none;
	// valOffset[l] turns such a code into an index into vals.
	maxCode   [17]int32
	valOffset [17]int32
}

// define checks and keeps the 16 code-length counts and the symbols of a
// DHT table.
func (t *huffTable) define(counts *[16]uint8, vals []uint8) error {
	for _, v := range vals {
		if v > 16 {
			return errorf("huffman table has difference category %d (at most 16)", v)
		}
	}
	code := 0
	for l := 1; l <= 16; l++ {
		// The codes of one length must fit in that many bits, or the
		// table is not a prefix code.
		code += int(counts[l-1])
		if code > 1<<l {
			return errorf("huffman table has more codes than fit in %d bits", l)
		}
		code <<= 1
	}
	t.counts = *counts
	copy(t.vals[:], vals)
	t.built = false
	return nil
}

// build makes the decoding tables of a defined table, generating the
// canonical codes as T.81 Annex C does.
func (t *huffTable) build() {
	if t.built {
		return
	}
	t.built = true
	t.fast = [1 << fastBits]int32{}
	code, k := int32(0), int32(0)
	for l := 1; l <= 16; l++ {
		n := int32(t.counts[l-1])
		t.maxCode[l] = -1
		if n > 0 {
			t.valOffset[l] = k - code
			if l <= fastBits {
				for i := int32(0); i < n; i++ {
					t.fillFast(code+i, l, uint(t.vals[k+i]))
				}
			}
			k += n
			code += n
			t.maxCode[l] = code - 1
		}
		code <<= 1
	}
}

// fillFast sets the fast entries of the code of length l for category
// ssss: with the difference itself when the extra bits fit the lookahead
// too (one entry per value of them), else with the category.
func (t *huffTable) fillFast(code int32, l int, ssss uint) {
	free := fastBits - l // lookahead bits after the code
	entries := t.fast[code<<free:][:1<<free]
	switch {
	case ssss == 16:
		// Category 16 has no extra bits.
		for j := range entries {
			entries[j] = difference(16, 0)<<fastShift | fastDiff | int32(l)
		}
	case int(ssss) <= free:
		for j := range entries {
			extra := int32(j) >> (free - int(ssss))
			entries[j] = difference(ssss, extra)<<fastShift | fastDiff | int32(l+int(ssss))
		}
	default:
		for j := range entries {
			entries[j] = int32(ssss)<<fastShift | int32(l)
		}
	}
}

// difference decodes the extra bits of category ssss (T.81 Table H.2,
// F.2.2.1): values below 2^(ssss-1) stand for negative differences.
func difference(ssss uint, extra int32) int32 {
	switch {
	case ssss == 0:
		return 0
	case ssss == 16:
		return 32768
	case extra < 1<<(ssss-1):
		return extra - (1<<ssss - 1)
	}
	return extra
}

// decodeLong decodes what the fast entry e at the top of acc does not:
// the extra bits that follow its code, or a code longer than fastBits. It
// returns the difference and the number of bits taken.
func (t *huffTable) decodeLong(e int32, acc uint64) (diff int32, used uint, ok bool) {
	var ssss, l uint
	if e != 0 {
		ssss, l = uint(e>>fastShift), uint(e&0x1F)
	} else {
		for l = fastBits + 1; l <= 16; l++ {
			if c := int32(acc >> (64 - l)); c <= t.maxCode[l] {
				ssss = uint(t.vals[c+t.valOffset[l]])
				break
			}
		}
		if l > 16 {
			return 0, 0, false
		}
	}
	if ssss == 0 || ssss == 16 {
		return difference(ssss, 0), l, true
	}
	return difference(ssss, int32(acc<<l>>(64-ssss))), l + ssss, true
}

// bitReader reads entropy-coded data most significant bit first, removing
// the zero byte stuffed after each 0xFF. It stops at a marker or the end of
// the data and from then on supplies zero bits, counting them in padded so
// that a decoder can tell it read past the real data.
type bitReader struct {
	data   []byte
	pos    int    // next byte of data to load
	acc    uint64 // loaded bits, left-aligned
	n      uint   // number of loaded bits in acc, padded ones included
	padded uint   // trailing bits of acc that are padding, not data
}

// fill loads bytes until acc holds more than 56 bits.
func (r *bitReader) fill() {
	if r.pos+8 <= len(r.data) {
		v := binary.BigEndian.Uint64(r.data[r.pos:])
		// With no 0xFF byte among the next 8 there is no stuffing or
		// marker to look at: load as many whole bytes as fit at once.
		if x := ^v; (x-0x0101010101010101)&^x&0x8080808080808080 == 0 {
			k := (64 - r.n) / 8
			r.acc |= v >> (64 - 8*k) << (64 - 8*k - r.n)
			r.n += 8 * k
			r.pos += int(k)
			return
		}
	}
	for r.n <= 56 {
		if r.pos >= len(r.data) {
			r.n += 8
			r.padded += 8
			continue
		}
		b := r.data[r.pos]
		if b == 0xFF {
			if r.pos+1 >= len(r.data) || r.data[r.pos+1] != 0 {
				// A marker: the segment ends here. Stay before it.
				r.n += 8
				r.padded += 8
				continue
			}
			r.pos++
		}
		r.pos++
		r.acc |= uint64(b) << (56 - r.n)
		r.n += 8
	}
}

// overrun reports whether decoding consumed padding bits, that is read
// beyond the end of the segment's data.
func (r *bitReader) overrun() bool { return r.n < r.padded }

// nextMarker drops the loaded bits and any data left in the segment and
// returns the position of the marker that ends the segment, or -1 when the
// data ends first.
func (r *bitReader) nextMarker() int {
	r.acc, r.n, r.padded = 0, 0, 0
	for p := r.pos; p+1 < len(r.data); p++ {
		if r.data[p] == 0xFF && r.data[p+1] != 0 && r.data[p+1] != 0xFF {
			r.pos = p
			return p
		}
	}
	r.pos = len(r.data)
	return -1
}
