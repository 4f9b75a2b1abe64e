package jpeg

import (
	"encoding/binary"

	"github.com/dicom-remap/dicom-remap/codec"
)

// lutBits is how many leading bits the fast Huffman lookup covers; longer
// codes take the canonical slow path.
const lutBits = 9

type huffTable struct {
	defined bool
	lut     [1 << lutBits]uint16 // code length<<8 | symbol; 0: code longer than lutBits
	maxcode [18]int32            // largest code of each length, -1 if none
	valptr  [17]int32            // index in vals of the first code of each length, minus that code
	vals    [256]byte
	maxSym  byte
	// fast AC decoding: when a code and the magnitude bits after it fit in
	// lutBits, the coefficient<<16 | run<<8 | bits used; 0 otherwise
	fast [1 << lutBits]int32
}

// readDHT reads Huffman tables and derives their decoding tables, with the
// checks of libjpeg's jpeg_make_d_derived_tbl.
func (d *Decoder) readDHT(seg []byte) error {
	for len(seg) > 0 {
		if len(seg) < 17 {
			return codec.Errorf(codecName, "DHT segment is truncated")
		}
		class, id := int(seg[0]>>4), int(seg[0]&15)
		if class > 1 || id > 3 {
			return codec.Errorf(codecName, "DHT: bad table class %d or id %d", class, id)
		}
		var counts [17]int
		total := 0
		for l := 1; l <= 16; l++ {
			counts[l] = int(seg[l])
			total += counts[l]
		}
		if total > 256 || len(seg) < 17+total {
			return codec.Errorf(codecName, "DHT: %d symbols do not fit the segment", total)
		}
		t := &d.huff[class][id]
		*t = huffTable{defined: true}
		copy(t.vals[:], seg[17:17+total])
		code, k := int32(0), int32(0)
		for l := 1; l <= 16; l++ {
			n := int32(counts[l])
			if n == 0 {
				t.maxcode[l] = -1
				code <<= 1
				continue
			}
			// the counts are wrong if the codes overflow their length or
			// use the all-ones code, which T.81 reserves (libjpeg checks the same)
			if code+n >= 1<<l {
				return codec.Errorf(codecName, "DHT: bad code lengths")
			}
			t.valptr[l] = k - code
			for i := int32(0); i < n; i++ {
				if l <= lutBits {
					// every lutBits-bit word that starts with this code
					shift := uint(lutBits - l)
					for j := code << shift; j < (code+1)<<shift; j++ {
						t.lut[j] = uint16(l)<<8 | uint16(t.vals[k])
					}
				}
				code++
				k++
			}
			t.maxcode[l] = code - 1
			code <<= 1
		}
		t.maxcode[17] = 1<<31 - 1 // sentinel
		for _, s := range t.vals[:total] {
			t.maxSym = max(t.maxSym, s)
		}
		for i, e := range t.lut {
			l, r, s := int(e>>8), int32(e>>4&15), int(e&15)
			if e == 0 || s == 0 || l+s > lutBits {
				continue
			}
			v := int32(i>>(lutBits-l-s)) & (1<<s - 1)
			if v < 1<<(s-1) {
				v += -1<<s + 1
			}
			t.fast[i] = v<<16 | r<<8 | int32(l+s)
		}
		seg = seg[17+total:]
	}
	return nil
}

// fill tops the bit buffer up to at least 57 bits. At a marker or the end
// of the data it appends zero bytes, as libjpeg does, and counts them so
// that a scan which uses them is reported as truncated.
func (d *Decoder) fill() {
	s := d.src
	pos := d.pos
	// fast path: the next 8 bytes hold no 0xff, so take whole bytes at once
	if pos+8 <= len(s) {
		w := binary.BigEndian.Uint64(s[pos:])
		if x := ^w; (x-0x0101010101010101)&^x&0x8080808080808080 == 0 {
			n := (64 - d.nbits) >> 3 // whole bytes that fit
			d.bits |= w >> (64 - 8*n) << (64 - d.nbits - 8*n)
			d.nbits += 8 * n
			d.pos = pos + int(n)
			return
		}
	}
	for d.nbits <= 56 {
		var b byte
		if pos < len(s) {
			b = s[pos]
			if b != 0xff {
				pos++
			} else if pos+1 < len(s) && s[pos+1] == 0 {
				pos += 2
			} else {
				b = 0 // a marker: stay on it
				d.fake += 8
			}
		} else {
			d.fake += 8
		}
		d.bits |= uint64(b) << (56 - d.nbits)
		d.nbits += 8
	}
	d.pos = pos
}

// truncated reports whether decoding has used bits from past the end of
// the entropy-coded segment.
func (d *Decoder) truncated() bool { return d.fake > d.nbits }

// decodeHuff reads one symbol; the caller has made sure of 16 bits.
func (d *Decoder) decodeHuff(t *huffTable) (byte, bool) {
	e := t.lut[d.bits>>(64-lutBits)]
	if e != 0 {
		n := uint(e >> 8)
		d.bits <<= n
		d.nbits -= n
		return byte(e), true
	}
	for l := uint(lutBits + 1); l <= 16; l++ {
		code := int32(d.bits >> (64 - l))
		if code <= t.maxcode[l] {
			d.bits <<= l
			d.nbits -= l
			return t.vals[(t.valptr[l]+code)&255], true
		}
	}
	return 0, false
}

// receive reads an s-bit magnitude and extends its sign (T.81 F.2.2.1);
// the caller has made sure of s bits, 0 <= s <= 15.
func (d *Decoder) receive(s uint) int32 {
	if s == 0 {
		return 0
	}
	v := int32(d.bits >> (64 - s))
	d.bits <<= s
	d.nbits -= s
	if v < 1<<(s-1) {
		v += -1<<s + 1
	}
	return v
}

var errBadCode = codec.Errorf(codecName, "corrupt entropy-coded data: invalid Huffman code")

// decodeBlock decodes one block's coefficients into d.blk (natural order),
// as libjpeg's decode_mcu does: the DC prediction is kept in full, the
// coefficient is stored in 16 bits. d.acSeen tells whether any AC
// coefficient was coded.
func (d *Decoder) decodeBlock(dc, ac *huffTable, pred *int) error {
	blk := &d.blk
	*blk = [64]int32{}
	if d.nbits < 32 {
		d.fill()
	}
	s, ok := d.decodeHuff(dc)
	if !ok {
		return errBadCode
	}
	*pred += int(d.receive(uint(s)))
	blk[0] = int32(int16(*pred))
	d.acSeen = false
	for k := 1; k < 64; k++ {
		if d.nbits < 32 {
			d.fill()
		}
		if f := ac.fast[d.bits>>(64-lutBits)]; f != 0 {
			n := uint(f & 255)
			d.bits <<= n
			d.nbits -= n
			k += int(f>>8) & 15
			blk[zigzag[k]] = f >> 16
			d.acSeen = true
			continue
		}
		rs, ok := d.decodeHuff(ac)
		if !ok {
			return errBadCode
		}
		r, s := int(rs>>4), uint(rs&15)
		if s == 0 {
			if r != 15 {
				break
			}
			k += 15
			continue
		}
		k += r
		blk[zigzag[k]] = d.receive(s)
		d.acSeen = true
	}
	return nil
}

// readScan reads an SOS header and decodes the scan that follows it.
func (d *Decoder) readScan(seg []byte) error {
	if d.ncomp == 0 {
		return codec.Errorf(codecName, "scan before the frame header")
	}
	if len(seg) < 1 {
		return codec.Errorf(codecName, "empty SOS segment")
	}
	ns := int(seg[0])
	if ns < 1 || ns > d.ncomp || len(seg) != 4+2*ns {
		return codec.Errorf(codecName, "SOS segment of %d bytes for %d components", len(seg), ns)
	}
	var sc scan
	sc.n = ns
	blocks := 0
	for i := 0; i < ns; i++ {
		id, tables := seg[1+2*i], seg[2+2*i]
		ci := -1
		for j := 0; j < d.ncomp; j++ {
			if d.comp[j].id == id {
				ci = j
			}
		}
		if ci < 0 {
			return codec.Errorf(codecName, "scan names component %d, not in the frame", id)
		}
		for j := 0; j < i; j++ {
			if sc.comp[j] == ci {
				return codec.Errorf(codecName, "scan names component %d twice", id)
			}
		}
		td, ta := int(tables>>4), int(tables&15)
		if td > 3 || ta > 3 || !d.huff[0][td].defined || !d.huff[1][ta].defined {
			return codec.Errorf(codecName, "component %d: Huffman tables %d/%d not defined", id, td, ta)
		}
		if d.huff[0][td].maxSym > 15 {
			return codec.Errorf(codecName, "DC Huffman table %d has a category above 15", td)
		}
		c := &d.comp[ci]
		if !d.quantDefined[c.tq] {
			return codec.Errorf(codecName, "component %d: quantisation table %d not defined", id, c.tq)
		}
		sc.comp[i] = ci
		sc.dc[i], sc.ac[i] = &d.huff[0][td], &d.huff[1][ta]
		blocks += c.h * c.v
		c.scanned = true
		c.dcPred = 0
	}
	if ns > 1 && blocks > 10 {
		return codec.Errorf(codecName, "scan has %d blocks per MCU, more than 10", blocks)
	}
	// Ss, Se, Ah, Al are fixed for sequential DCT; libjpeg only warns when
	// they are not, so they are not checked here.
	d.bits, d.nbits, d.fake = 0, 0, 0
	var err error
	if d.precision == 8 {
		err = decodeScan(d, &sc, &d.p8, 2)
	} else {
		err = decodeScan(d, &sc, &d.p16, 1)
	}
	d.bits, d.nbits, d.fake = 0, 0, 0
	return err
}

type scan struct {
	n    int
	comp [4]int
	dc   [4]*huffTable
	ac   [4]*huffTable
}

var errTruncated = codec.Errorf(codecName, "entropy-coded data is truncated or corrupt")

// decodeScan decodes a scan one MCU row at a time: each block that holds
// image samples is transformed into its component's window, and once the
// row is done every component of the scan writes the output rows it can
// into the frame (output.go).
func decodeScan[T sample](d *Decoder, sc *scan, ps *planes[T], pass1 uint) error {
	var mcusX, mcusY int
	if sc.n == 1 {
		c := &d.comp[sc.comp[0]]
		mcusX, mcusY = c.bw, c.bh
	} else {
		mcusX = (d.width + 8*d.hmax - 1) / (8 * d.hmax)
		mcusY = (d.height + 8*d.vmax - 1) / (8 * d.vmax)
	}
	limit := ps.limit
	left := d.restart // MCUs to the next restart marker
	next := 0         // its number
	for my := 0; my < mcusY; my++ {
		for i := 0; i < sc.n; i++ {
			if my > 0 {
				keepContext(d, ps, sc, i)
			}
		}
		for mx := 0; mx < mcusX; mx++ {
			if d.restart > 0 {
				if left == 0 {
					if err := d.processRestart(next); err != nil {
						return err
					}
					next = (next + 1) & 7
					left = d.restart
					for i := 0; i < sc.n; i++ {
						d.comp[sc.comp[i]].dcPred = 0
					}
				}
				left--
			}
			for i := 0; i < sc.n; i++ {
				c := &d.comp[sc.comp[i]]
				q := &d.quant[c.tq]
				// the MCU row starts below the context rows
				win := ps.window[sc.comp[i]][ctxRows*c.stride:]
				if sc.n == 1 {
					if err := d.decodeBlock(sc.dc[i], sc.ac[i], &c.dcPred); err != nil {
						return err
					}
					transform(d, q, win[mx*8:], c.stride, pass1, limit)
					continue
				}
				for by := 0; by < c.v; by++ {
					row := my*c.v + by
					for bx := 0; bx < c.h; bx++ {
						if err := d.decodeBlock(sc.dc[i], sc.ac[i], &c.dcPred); err != nil {
							return err
						}
						col := mx*c.h + bx
						// blocks past the component's edge only pad the MCU
						if row < c.bh && col < c.bw {
							transform(d, q, win[by*8*c.stride+col*8:], c.stride, pass1, limit)
						}
					}
				}
			}
			if d.truncated() {
				return errTruncated
			}
		}
		for i := 0; i < sc.n; i++ {
			writeRows(d, ps, sc, i, my, my == mcusY-1)
		}
	}
	return nil
}

// transform writes the decoded block to out. A block with only a DC
// coefficient is flat: that value is what jpeg_idct_islow's all-zero
// column and row shortcuts give, without the rest of the transform.
func transform[T sample](d *Decoder, q *[64]int32, out []T, stride int, pass1 uint, limit *[rangeSize]T) {
	if d.acSeen {
		idct(&d.blk, q, out, stride, pass1, limit)
		return
	}
	pass1 &= 7
	dc := int((d.blk[0] * q[0]) << pass1) // the int32 workspace value
	v := limit[((dc+1<<(pass1+2))>>(pass1+3))&(rangeSize-1)]
	for r := 0; r < 8; r++ {
		o := (*[8]T)(out[r*stride:])
		o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7] = v, v, v, v, v, v, v, v
	}
}

// processRestart drops the bits left before a restart marker and reads
// the marker, which must be the expected RSTn.
func (d *Decoder) processRestart(n int) error {
	if d.truncated() {
		return errTruncated
	}
	// fill never reads past a marker; bytes before it that decoding did
	// not use are skipped, as libjpeg's next_marker does
	d.bits, d.nbits, d.fake = 0, 0, 0
	m, ok := d.nextMarker()
	if !ok || m != byte(mRST0+n) {
		return codec.Errorf(codecName, "restart marker RST%d missing", n)
	}
	return nil
}
