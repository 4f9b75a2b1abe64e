package jpeg2000

import (
	"math/bits"
	"unsafe"
)

// Tier-1: the MQ decoder (T.800 Annex C) and the three coding passes of
// a code-block (Annex D).

// mqState is one of the 94 (state, MPS) pairs of table C.2: nmps and
// nlps index the pair to move to.
type mqState struct {
	qe, qe16   uint32 // Qe, and Qe<<16 to compare with C
	mps        uint8
	nmps, nlps uint8
}

var mqStates = func() (t [256]mqState) { // 256: indexing by a byte needs no bounds check
	tab := [47][4]uint32{
		{0x5601, 1, 1, 1}, {0x3401, 2, 6, 0}, {0x1801, 3, 9, 0}, {0x0ac1, 4, 12, 0},
		{0x0521, 5, 29, 0}, {0x0221, 38, 33, 0}, {0x5601, 7, 6, 1}, {0x5401, 8, 14, 0},
		{0x4801, 9, 14, 0}, {0x3801, 10, 14, 0}, {0x3001, 11, 17, 0}, {0x2401, 12, 18, 0},
		{0x1c01, 13, 20, 0}, {0x1601, 29, 21, 0}, {0x5601, 15, 14, 1}, {0x5401, 16, 14, 0},
		{0x5101, 17, 15, 0}, {0x4801, 18, 16, 0}, {0x3801, 19, 17, 0}, {0x3401, 20, 18, 0},
		{0x3001, 21, 19, 0}, {0x2801, 22, 19, 0}, {0x2401, 23, 20, 0}, {0x2201, 24, 21, 0},
		{0x1c01, 25, 22, 0}, {0x1801, 26, 23, 0}, {0x1601, 27, 24, 0}, {0x1401, 28, 25, 0},
		{0x1201, 29, 26, 0}, {0x1101, 30, 27, 0}, {0x0ac1, 31, 28, 0}, {0x09c1, 32, 29, 0},
		{0x08a1, 33, 30, 0}, {0x0521, 34, 31, 0}, {0x0441, 35, 32, 0}, {0x02a1, 36, 33, 0},
		{0x0221, 37, 34, 0}, {0x0141, 38, 35, 0}, {0x0111, 39, 36, 0}, {0x0085, 40, 37, 0},
		{0x0049, 41, 38, 0}, {0x0025, 42, 39, 0}, {0x0015, 43, 40, 0}, {0x0009, 44, 41, 0},
		{0x0005, 45, 42, 0}, {0x0001, 45, 43, 0}, {0x5601, 46, 46, 0},
	}
	for s, e := range tab {
		for m := uint32(0); m < 2; m++ {
			t[2*s+int(m)] = mqState{qe: e[0], qe16: e[0] << 16, mps: uint8(m), nmps: uint8(2*e[1] + m), nlps: uint8(2*e[2] + (m ^ e[3]))}
		}
	}
	return
}()

// Contexts: 0-8 zero coding, 9-13 sign, 14-16 refinement, run length,
// uniform.
const (
	ctxRL  = 17
	ctxUni = 18
)

// mqDecoder follows the software conventions of T.800 C.3; data ends with
// two 0xFF bytes so that reading past the segment needs no bounds test.
// The passes keep A and C in locals and write them back around calls.
type mqDecoder struct {
	data []byte
	bp   int
	a, c uint32
	ct   int
}

func (m *mqDecoder) init(data []byte) {
	m.data = data
	m.bp = 0
	m.c = uint32(data[0]) << 16
	m.bytein()
	m.c <<= 7
	m.ct -= 7
	m.a = 0x8000
}

func (m *mqDecoder) bytein() {
	if m.data[m.bp] == 0xff {
		if m.data[m.bp+1] > 0x8f {
			m.c += 0xff00
			m.ct = 8
		} else {
			m.bp++
			m.c += uint32(m.data[m.bp]) << 9
			m.ct = 7
		}
	} else {
		m.bp++
		m.c += uint32(m.data[m.bp]) << 8
		m.ct = 8
	}
}

// decode is the common case, a most probable symbol without
// renormalisation, small enough to be inlined.
func (m *mqDecoder) decode(cx *mqState) int {
	if a := m.a - cx.qe; a&0x8000 != 0 && m.c >= cx.qe16 {
		m.a = a
		m.c -= cx.qe16
		return int(cx.mps)
	}
	return m.decodeSlow(cx)
}

// decodeSlow decodes a symbol in context cx, whose state it holds (a copy
// of an entry of mqStates, one load nearer than an index into it).
func (m *mqDecoder) decodeSlow(cx *mqState) int {
	qe := cx.qe
	a, c := m.a-qe, m.c
	var d int
	if c < cx.qe16 {
		// LPS interval, or conditional exchange (C.3.2)
		if a < qe {
			d = int(cx.mps)
			*cx = mqStates[cx.nmps]
		} else {
			d = int(cx.mps ^ 1)
			*cx = mqStates[cx.nlps]
		}
		a = qe
	} else {
		c -= cx.qe16
		if a&0x8000 != 0 {
			m.a, m.c = a, c
			return int(cx.mps)
		}
		if a < qe {
			d = int(cx.mps ^ 1)
			*cx = mqStates[cx.nlps]
		} else {
			d = int(cx.mps)
			*cx = mqStates[cx.nmps]
		}
	}
	// renormalise: shift A back above 0x8000, C along with it, reading
	// a byte whenever CT runs out
	ct := m.ct
	for {
		if ct == 0 {
			m.c = c
			m.bytein()
			c, ct = m.c, m.ct
		}
		n := min(bits.LeadingZeros32(a)-16, ct)
		a <<= n
		c <<= n
		ct -= n
		if a >= 0x8000 {
			m.a, m.c, m.ct = a, c, ct
			return d
		}
	}
}

// rawDecoder reads the bypassed passes (T.800 D.6): plain bits, seven in
// a byte after 0xFF.
type rawDecoder struct {
	data []byte
	bp   int
	c    uint32
	ct   uint32
}

func (r *rawDecoder) init(data []byte) { *r = rawDecoder{data: data} }

func (r *rawDecoder) bit() int {
	if r.ct == 0 {
		switch {
		case r.bp >= len(r.data) || (r.c == 0xff && r.data[r.bp] > 0x8f):
			r.c, r.ct = 0xff, 8
		case r.c == 0xff:
			r.c, r.ct = uint32(r.data[r.bp]), 7
			r.bp++
		default:
			r.c, r.ct = uint32(r.data[r.bp]), 8
			r.bp++
		}
	}
	r.ct--
	return int(r.c>>r.ct) & 1
}

// The passes visit a stripe of four rows column by column (T.800 D.2),
// and keep the state of such a column of four samples in one flag word:
// the significance of the 6x3 samples around it (the row above the
// stripe, its four rows and the row below; the columns left, own and
// right), so that one load tells whether anything around is significant
// and a shift gives a sample's neighbourhood; the signs of the direct
// neighbours; and per row whether the sample is significant, was refined,
// or was visited by this bit-plane's significance pass. A sample that
// becomes significant sets its bits in the words of the columns on either
// side, and, in the first or last row, in those of the stripe above or
// below.
const (
	// significance of row r (-1 to 4) and column c (0 left, 1 own, 2
	// right) is bit 3(r+1)+c; row k's 3x3 neighbourhood is the word
	// shifted right by 3k, masked by nbAll, its centre bit nbC
	nbC   = 1 << 4
	nbAll = 0x1ff
	nbAny = nbAll &^ nbC // the eight neighbours
	nbW   = 1 << 3
	nbE   = 1 << 5
	sigNb = 1<<18 - 1 // the whole neighbourhood of the four rows

	signShift  = 18 // sign (1 negative) of row r of the own column: bit 19+r
	refShift   = 24 // row k refined at least once: bit 24+k
	visitShift = 28 // row k coded in this bit-plane's significance pass
	visitMask  = 0xf << visitShift
	rowsShift  = 32 // row k significant: bit 32+k (its centre bit, packed)
	signWShift = 36 // sign of row k of the column on the left: bit 36+k
	signEShift = 40 // and on the right: bit 40+k

	stripeVisited = 1 << 31
	stripeCount   = stripeVisited - 1
)

// zcContext[o][n] is the zero coding context (table D.1) for band
// orientation o (0 LL, 1 HL, 2 LH, 3 HH) and neighbourhood n (nbAll; the
// centre is ignored).
var zcContext = func() (t [4][512]uint8) {
	for o := range 4 {
		for n := range 512 {
			bit := func(m int) int { return n & m / m }
			h := bit(nbW) + bit(nbE)
			v := bit(1<<1) + bit(1<<7)
			dg := bit(1<<0) + bit(1<<2) + bit(1<<6) + bit(1<<8)
			if o == 1 {
				h, v = v, h
			}
			var c int
			if o == 3 {
				hv := h + v
				switch {
				case dg >= 3:
					c = 8
				case dg == 2:
					c = 6 + min(hv, 1)
				case dg == 1:
					c = 3 + min(hv, 2)
				default:
					c = min(hv, 2)
				}
			} else {
				switch {
				case h == 2:
					c = 8
				case h == 1:
					switch {
					case v >= 1:
						c = 7
					case dg >= 1:
						c = 6
					default:
						c = 5
					}
				case v == 2:
					c = 4
				case v == 1:
					c = 3
				default:
					c = min(dg, 2)
				}
			}
			t[o][n] = uint8(c)
		}
	}
	return
}()

// signIndex gathers what the sign context of row k of a stripe column
// depends on, from its flag word: the significance of the four direct
// neighbours (N bit 1, W 3, E 5, S 7, where the neighbourhood has them)
// and their signs (N bit 0, S 2, W 4, E 6).
func signIndex(f uint64, k uint) uint64 {
	sg := f >> k
	return f>>(3*k)&0xaa | sg>>signShift&5 | sg>>(signWShift-4)&0x10 | sg>>(signEShift-6)&0x40
}

// scContext[signIndex] is the sign context (table D.3) in its low bits
// and the XOR bit in bit 7.
var scContext = func() (t [256]uint8) {
	contrib := func(i, sig, neg int) int {
		if i&sig == 0 {
			return 0
		}
		if i&neg != 0 {
			return -1
		}
		return 1
	}
	for i := range 256 {
		v := contrib(i, 1<<1, 1<<0) + contrib(i, 1<<7, 1<<2)
		h := contrib(i, 1<<3, 1<<4) + contrib(i, 1<<5, 1<<6)
		h, v = max(-1, min(1, h)), max(-1, min(1, v))
		xor := 0
		if h < 0 || (h == 0 && v < 0) {
			xor = 1
			h, v = -h, -v
		}
		var c int
		if h == 1 {
			c = 12 + v
		} else {
			c = 9 + v
		}
		t[i] = uint8(c | xor<<7)
	}
	return
}()

// t1 decodes one code-block.
type t1 struct {
	data   []int32  // sign and magnitude, with one fractional bit, in rows of w
	flags  []uint64 // a word per stripe column; a border column each side, a border stripe above and below
	w, h   int
	stride int // of flags: w + 2
	// per stripe, from index 1 (0 and the last are a border): how many
	// samples are significant, and stripeVisited when this bit-plane's
	// significance pass coded any; whole stripes are skipped by it
	stripes []uint32
	causal  bool
	cx      [32]mqState // 19 used; 32 lets a masked index skip the bounds check
	mq      mqDecoder
	raw     rawDecoder
	buf     []byte
}

func (t *t1) resetContexts() {
	for i := range t.cx {
		t.cx[i] = mqStates[0]
	}
	t.cx[0] = mqStates[4<<1]
	t.cx[ctxRL] = mqStates[3<<1]
	t.cx[ctxUni] = mqStates[46<<1]
}

// decodeBlock decodes cb's passes into t.data.
func (t *t1) decodeBlock(frags []fragment, cb *codeBlock, body []byte, orient int, style byte) {
	w, h := cb.x1-cb.x0, cb.y1-cb.y0
	t.w, t.h, t.stride = w, h, w+2
	n := w * h
	if cap(t.data) < n {
		t.data = make([]int32, n)
	}
	t.data = t.data[:n]
	clear(t.data)
	nf := (w + 2) * ((h+3)/4 + 2)
	if cap(t.flags) < nf {
		t.flags = make([]uint64, nf)
	}
	t.flags = t.flags[:nf]
	clear(t.flags)
	ns := (h+3)/4 + 2
	if cap(t.stripes) < ns {
		t.stripes = make([]uint32, ns)
	}
	t.stripes = t.stripes[:ns]
	clear(t.stripes)
	t.resetContexts()
	passes := int(cb.passes)
	if nb := int(cb.numbps); passes > 3*nb-2 {
		passes = max(0, 3*nb-2)
	}
	t.causal = style&styleCausal != 0
	orient &= 3
	pass := 0
	for fi := cb.head; fi >= 0 && pass < passes; {
		seg := frags[fi].seg
		t.buf = t.buf[:0]
		segPasses := 0
		for ; fi >= 0 && frags[fi].seg == seg; fi = frags[fi].next {
			fr := &frags[fi]
			t.buf = append(t.buf, body[fr.off:fr.off+fr.n]...)
			segPasses += int(fr.passes)
		}
		t.buf = append(t.buf, 0xff, 0xff)
		typ, _ := passKind(pass, int(cb.numbps))
		raw := style&styleBypass != 0 && pass >= 10 && typ != 2
		if raw {
			t.raw.init(t.buf)
		} else {
			t.mq.init(t.buf)
		}
		for k := 0; k < segPasses && pass < passes; k++ {
			typ, p := passKind(pass, int(cb.numbps))
			switch {
			case typ == 0 && raw:
				t.sigPassRaw(p)
			case typ == 0:
				t.sigPass(p, orient)
			case typ == 1 && raw:
				t.refPassRaw(p)
			case typ == 1:
				t.refPass(p)
			default:
				t.cleanupPass(p, orient)
				if style&styleSegSymbol != 0 {
					for range 4 {
						t.mq.decode(&t.cx[ctxUni])
					}
				}
			}
			if style&styleReset != 0 {
				t.resetContexts()
			}
			pass++
		}
	}
}

// passKind says what coding pass number k is (0 significance propagation,
// 1 magnitude refinement, 2 cleanup) and its bit-plane.
func passKind(k, numbps int) (typ, plane int) {
	if k == 0 {
		return 2, numbps - 1
	}
	return (k - 1) % 3, numbps - 1 - (k+2)/3
}

// significant makes the sample of row k of the stripe column at flag
// index i significant, with the sign neg (0 or 1), and tells the words
// around; it returns the column's own word, which the callers keep in a
// register. The MQ passes have it written out in place.
func (t *t1) significant(f uint64, i int, k uint, neg uint64) uint64 {
	fl, s := t.flags, t.stride
	fl[i-1] |= nbE<<(3*k) | neg<<(signEShift+k)
	fl[i+1] |= nbW<<(3*k) | neg<<(signWShift+k)
	switch {
	case k == 0 && !t.causal:
		// the row below the stripe above; in vertically causal mode
		// (T.800 D.7) a stripe's last row does not see the next stripe
		fl[i-s-1] |= 1 << 17
		fl[i-s] |= 1<<16 | neg<<(signShift+5)
		fl[i-s+1] |= 1 << 15
	case k == 3:
		fl[i+s-1] |= 1 << 2
		fl[i+s] |= 1<<1 | neg<<signShift
		fl[i+s+1] |= 1 << 0
	}
	return f | nbC<<(3*k) | neg<<(signShift+1+k) | 1<<(rowsShift+k)
}

// The MQ passes below decode their symbols with the MQ decoder written
// out in place, its state in locals (Go inlines no function that large,
// and a call spills every live register): this is where tier-1 spends its
// time. fl and data are the flags and magnitudes, i the flag index of a
// stripe column and j a sample's index in data.

func (t *t1) sigPass(p, orient int) {
	mq := &t.mq
	a, c, ct, bp, md := mq.a, mq.c, mq.ct, mq.bp, mq.data
	one := int32(3) << p
	zc := &zcContext[orient&3]
	cx := &t.cx
	fl, data, w, h, s := t.flags, t.data, t.w, t.h, t.stride
	causal := t.causal
	st := t.stripes
	for q, y0, i0 := 1, 0, s+1; y0 < h; q, y0, i0 = q+1, y0+4, i0+s {
		rows := uint(min(4, h-y0))
		if n := st[q] & stripeCount; n == uint32(rows)*uint32(w) || (st[q-1]|n|st[q+1])&stripeCount == 0 {
			continue // every sample significant, or none around
		}
		var added, visited uint32
		for x := 0; x < w; x++ {
			i := i0 + x
			f := fl[i]
			if f&sigNb == 0 || f>>rowsShift == 0xf {
				continue // no significant neighbour, or nothing left to find
			}
			// the rows to code, in order: a row that becomes significant
			// adds the row below it
			for todo := sigPassRows(f, rows); todo != 0; {
				k := uint(bits.TrailingZeros64(todo))
				todo &= todo - 1
				f |= 1 << (visitShift + k)
				visited = stripeVisited
				var bit uint32
				{ // MQ decode in context st
					st := &cx[zc[f>>(3*k)&nbAll]&31]
					qe := st.qe
					a -= qe
					if c < st.qe16 {
						if a < qe {
							bit = uint32(st.mps)
							*st = mqStates[st.nmps]
						} else {
							bit = uint32(st.mps ^ 1)
							*st = mqStates[st.nlps]
						}
						a = qe
					} else {
						c -= st.qe16
						if a&0x8000 != 0 {
							bit = uint32(st.mps)
						} else if a < qe {
							bit = uint32(st.mps ^ 1)
							*st = mqStates[st.nlps]
						} else {
							bit = uint32(st.mps)
							*st = mqStates[st.nmps]
						}
					}
					for a < 0x8000 {
						if ct == 0 {
							// BYTEIN (C.3.4); the data ends with 0xFF 0xFF
							if md[bp] == 0xff {
								if md[bp+1] > 0x8f {
									c += 0xff00
									ct = 8
								} else {
									bp++
									c += uint32(md[bp]) << 9
									ct = 7
								}
							} else {
								bp++
								c += uint32(md[bp]) << 8
								ct = 8
							}
						}
						n := min(bits.LeadingZeros32(a)-16, ct)
						a <<= n
						c <<= n
						ct -= n
					}
				}
				if bit == 0 {
					continue
				}
				sc := scContext[signIndex(f, k)&0xff]
				{ // MQ decode in context st
					st := &cx[sc&31]
					qe := st.qe
					a -= qe
					if c < st.qe16 {
						if a < qe {
							bit = uint32(st.mps)
							*st = mqStates[st.nmps]
						} else {
							bit = uint32(st.mps ^ 1)
							*st = mqStates[st.nlps]
						}
						a = qe
					} else {
						c -= st.qe16
						if a&0x8000 != 0 {
							bit = uint32(st.mps)
						} else if a < qe {
							bit = uint32(st.mps ^ 1)
							*st = mqStates[st.nlps]
						} else {
							bit = uint32(st.mps)
							*st = mqStates[st.nmps]
						}
					}
					for a < 0x8000 {
						if ct == 0 {
							if md[bp] == 0xff {
								if md[bp+1] > 0x8f {
									c += 0xff00
									ct = 8
								} else {
									bp++
									c += uint32(md[bp]) << 9
									ct = 7
								}
							} else {
								bp++
								c += uint32(md[bp]) << 8
								ct = 8
							}
						}
						n := min(bits.LeadingZeros32(a)-16, ct)
						a <<= n
						c <<= n
						ct -= n
					}
				}
				// significant: what t.significant does
				neg := uint64(bit ^ uint32(sc>>7))
				data[(y0+int(k))*w+x] = (one ^ -int32(neg)) + int32(neg)
				f |= nbC<<(3*k) | neg<<(signShift+1+k) | 1<<(rowsShift+k)
				fl[i-1] |= nbE<<(3*k) | neg<<(signEShift+k)
				fl[i+1] |= nbW<<(3*k) | neg<<(signWShift+k)
				if k == 0 {
					if !causal {
						fl[i-s-1] |= 1 << 17
						fl[i-s] |= 1<<16 | neg<<(signShift+5)
						fl[i-s+1] |= 1 << 15
					}
				} else if k == 3 {
					fl[i+s-1] |= 1 << 2
					fl[i+s] |= 1<<1 | neg<<signShift
					fl[i+s+1] |= 1 << 0
				}
				if k+1 < rows && f>>(rowsShift+k+1)&1 == 0 {
					todo |= 1 << (k + 1)
				}
				added++
			}
			fl[i] = f
		}
		st[q] = (st[q] + added) | visited
	}
	mq.a, mq.c, mq.ct, mq.bp = a, c, ct, bp
}

// sigPassRows is the rows of the first rows of a stripe column (flag word
// f) that the significance propagation pass codes as it starts the column:
// not significant, with a significant neighbour. Rows below one that
// becomes significant may join them.
func sigPassRows(f uint64, rows uint) uint64 {
	// bit 3j: row j-1 of the 3x6 neighbourhood has a significant sample;
	// then bit 3k: rows k-1 to k+1 have one
	g := f & sigNb
	g |= g>>1 | g>>2
	g |= g>>3 | g>>6
	any := g&1 | g>>2&2 | g>>4&4 | g>>6&8
	return any &^ (f >> rowsShift) & (1<<rows - 1)
}

func (t *t1) sigPassRaw(p int) {
	one := int32(3) << p
	fl, w, h, s := t.flags, t.w, t.h, t.stride
	st := t.stripes
	for q, y0, i0 := 1, 0, s+1; y0 < h; q, y0, i0 = q+1, y0+4, i0+s {
		rows := uint(min(4, h-y0))
		if n := st[q] & stripeCount; n == uint32(rows)*uint32(w) || (st[q-1]|n|st[q+1])&stripeCount == 0 {
			continue // every sample significant, or none around
		}
		var added, visited uint32
		for x := 0; x < w; x++ {
			i := i0 + x
			f := fl[i]
			if f&sigNb == 0 || f>>rowsShift == 0xf {
				continue
			}
			for k := uint(0); k < rows; k++ {
				nb := f >> (3 * k)
				if nb&nbC != 0 || nb&nbAny == 0 {
					continue
				}
				if t.raw.bit() != 0 {
					neg := uint64(t.raw.bit())
					t.data[(y0+int(k))*w+x] = (one ^ -int32(neg)) + int32(neg)
					f = t.significant(f, i, k, neg)
					added++
				}
				f |= 1 << (visitShift + k)
				visited = stripeVisited
			}
			fl[i] = f
		}
		st[q] = (st[q] + added) | visited
	}
}

func (t *t1) refPass(p int) {
	mq := &t.mq
	a, c, ct, bp, md := mq.a, mq.c, mq.ct, mq.bp, mq.data
	half := int32(1) << p
	cx := &t.cx
	fl, data, w, h, s := t.flags, t.data, t.w, t.h, t.stride
	st := t.stripes
	for q, y0, i0 := 1, 0, s+1; y0 < h; q, y0, i0 = q+1, y0+4, i0+s {
		if st[q]&stripeCount == 0 {
			continue // nothing significant to refine
		}
		for x := 0; x < w; x++ {
			i := i0 + x
			f := fl[i]
			// significant before this bit-plane's significance pass
			todo := (f >> rowsShift) &^ (f >> visitShift) & 0xf
			if todo == 0 {
				continue
			}
			for m := todo; m != 0; m &= m - 1 {
				k := uint(bits.TrailingZeros64(m))
				n := 14
				if f>>(3*k)&nbAny != 0 {
					n = 15
				}
				if f>>(refShift+k)&1 != 0 {
					n = 16
				}
				var bit uint32
				{ // MQ decode in context st
					st := &cx[n&31]
					qe := st.qe
					a -= qe
					if c < st.qe16 {
						if a < qe {
							bit = uint32(st.mps)
							*st = mqStates[st.nmps]
						} else {
							bit = uint32(st.mps ^ 1)
							*st = mqStates[st.nlps]
						}
						a = qe
					} else {
						c -= st.qe16
						if a&0x8000 != 0 {
							bit = uint32(st.mps)
						} else if a < qe {
							bit = uint32(st.mps ^ 1)
							*st = mqStates[st.nlps]
						} else {
							bit = uint32(st.mps)
							*st = mqStates[st.nmps]
						}
					}
					for a < 0x8000 {
						if ct == 0 {
							if md[bp] == 0xff {
								if md[bp+1] > 0x8f {
									c += 0xff00
									ct = 8
								} else {
									bp++
									c += uint32(md[bp]) << 9
									ct = 7
								}
							} else {
								bp++
								c += uint32(md[bp]) << 8
								ct = 8
							}
						}
						n := min(bits.LeadingZeros32(a)-16, ct)
						a <<= n
						c <<= n
						ct -= n
					}
				}
				j := (y0+int(k))*w + x
				// +half for a 1, -half for a 0, on the magnitude: without
				// branches on a random bit or sign
				v := data[j]
				sg := v >> 31
				d := int32(bit)<<(p+1) - half
				data[j] = v + (d ^ sg) - sg
			}
			fl[i] = f | todo<<refShift
		}
	}
	mq.a, mq.c, mq.ct, mq.bp = a, c, ct, bp
}

func (t *t1) refPassRaw(p int) {
	half := int32(1) << p
	fl, data, w, h, s := t.flags, t.data, t.w, t.h, t.stride
	st := t.stripes
	for q, y0, i0 := 1, 0, s+1; y0 < h; q, y0, i0 = q+1, y0+4, i0+s {
		if st[q]&stripeCount == 0 {
			continue // nothing significant to refine
		}
		for x := 0; x < w; x++ {
			i := i0 + x
			f := fl[i]
			todo := (f >> rowsShift) &^ (f >> visitShift) & 0xf
			for m := todo; m != 0; m &= m - 1 {
				k := bits.TrailingZeros64(m)
				j := (y0+k)*w + x
				v := data[j]
				sg := v >> 31
				d := int32(t.raw.bit())<<(p+1) - half
				data[j] = v + (d ^ sg) - sg
			}
			fl[i] = f | todo<<refShift
		}
	}
}

func (t *t1) cleanupPass(p, orient int) {
	mq := &t.mq
	a, c, ct, bp, md := mq.a, mq.c, mq.ct, mq.bp, mq.data
	one := int32(3) << p
	zc := &zcContext[orient&3]
	cx := &t.cx
	fl, data, w, h, s := t.flags, t.data, t.w, t.h, t.stride
	causal := t.causal
	st := t.stripes
	for q, y0, i0 := 1, 0, s+1; y0 < h; q, y0, i0 = q+1, y0+4, i0+s {
		rows := uint(min(4, h-y0))
		if st[q]&stripeCount == uint32(rows)*uint32(w) {
			// every sample significant: nothing to code, only the
			// significance pass's marks to clear
			if st[q]&stripeVisited != 0 {
				for x := range w {
					fl[i0+x] &^= visitMask
				}
				st[q] &^= stripeVisited
			}
			continue
		}
		var added uint32
		for x := 0; x < w; x++ {
			i := i0 + x
			f := fl[i]
			// the rows to code: not significant, not visited
			todo := ^(f>>rowsShift | f>>visitShift) & (1<<rows - 1)
			run := false // the run-length symbols found a row significant
			if f == 0 && rows == 4 {
				// nothing significant around nor visited: run-length
				// mode (T.800 D.3.4), the MQ common case in place
				st := &cx[ctxRL]
				var bit int
				if a2 := a - st.qe; a2&0x8000 != 0 && c >= st.qe16 {
					a, c, bit = a2, c-st.qe16, int(st.mps)
				} else {
					mq.a, mq.c, mq.ct, mq.bp = a, c, ct, bp
					bit = mq.decodeSlow(st)
					a, c, ct, bp = mq.a, mq.c, mq.ct, mq.bp
				}
				if bit == 0 {
					continue
				}
				mq.a, mq.c, mq.ct, mq.bp = a, c, ct, bp
				k := mq.decode(&cx[ctxUni]) << 1
				k |= mq.decode(&cx[ctxUni])
				a, c, ct, bp = mq.a, mq.c, mq.ct, mq.bp
				todo &= 0xf << k // the rows above it are not significant
				run = true
			} else if todo == 0 {
				fl[i] = f &^ visitMask // every sample significant or visited
				continue
			}
			for ; todo != 0; todo &= todo - 1 {
				k := uint(bits.TrailingZeros64(todo))
				var bit uint32
				if !run {
					// MQ decode in context st
					st := &cx[zc[f>>(3*k)&nbAll]&31]
					qe := st.qe
					a -= qe
					if c < st.qe16 {
						if a < qe {
							bit = uint32(st.mps)
							*st = mqStates[st.nmps]
						} else {
							bit = uint32(st.mps ^ 1)
							*st = mqStates[st.nlps]
						}
						a = qe
					} else {
						c -= st.qe16
						if a&0x8000 != 0 {
							bit = uint32(st.mps)
						} else if a < qe {
							bit = uint32(st.mps ^ 1)
							*st = mqStates[st.nlps]
						} else {
							bit = uint32(st.mps)
							*st = mqStates[st.nmps]
						}
					}
					for a < 0x8000 {
						if ct == 0 {
							if md[bp] == 0xff {
								if md[bp+1] > 0x8f {
									c += 0xff00
									ct = 8
								} else {
									bp++
									c += uint32(md[bp]) << 9
									ct = 7
								}
							} else {
								bp++
								c += uint32(md[bp]) << 8
								ct = 8
							}
						}
						n := min(bits.LeadingZeros32(a)-16, ct)
						a <<= n
						c <<= n
						ct -= n
					}
					if bit == 0 {
						continue
					}
				}
				run = false
				sc := scContext[signIndex(f, k)&0xff]
				{ // MQ decode in context st
					st := &cx[sc&31]
					qe := st.qe
					a -= qe
					if c < st.qe16 {
						if a < qe {
							bit = uint32(st.mps)
							*st = mqStates[st.nmps]
						} else {
							bit = uint32(st.mps ^ 1)
							*st = mqStates[st.nlps]
						}
						a = qe
					} else {
						c -= st.qe16
						if a&0x8000 != 0 {
							bit = uint32(st.mps)
						} else if a < qe {
							bit = uint32(st.mps ^ 1)
							*st = mqStates[st.nlps]
						} else {
							bit = uint32(st.mps)
							*st = mqStates[st.nmps]
						}
					}
					for a < 0x8000 {
						if ct == 0 {
							if md[bp] == 0xff {
								if md[bp+1] > 0x8f {
									c += 0xff00
									ct = 8
								} else {
									bp++
									c += uint32(md[bp]) << 9
									ct = 7
								}
							} else {
								bp++
								c += uint32(md[bp]) << 8
								ct = 8
							}
						}
						n := min(bits.LeadingZeros32(a)-16, ct)
						a <<= n
						c <<= n
						ct -= n
					}
				}
				// significant: what t.significant does
				neg := uint64(bit ^ uint32(sc>>7))
				data[(y0+int(k))*w+x] = (one ^ -int32(neg)) + int32(neg)
				f |= nbC<<(3*k) | neg<<(signShift+1+k) | 1<<(rowsShift+k)
				fl[i-1] |= nbE<<(3*k) | neg<<(signEShift+k)
				fl[i+1] |= nbW<<(3*k) | neg<<(signWShift+k)
				if k == 0 {
					if !causal {
						fl[i-s-1] |= 1 << 17
						fl[i-s] |= 1<<16 | neg<<(signShift+5)
						fl[i-s+1] |= 1 << 15
					}
				} else if k == 3 {
					fl[i+s-1] |= 1 << 2
					fl[i+s] |= 1<<1 | neg<<signShift
					fl[i+s+1] |= 1 << 0
				}
				added++
			}
			fl[i] = f &^ visitMask
		}
		st[q] = (st[q] + added) &^ stripeVisited
	}
	mq.a, mq.c, mq.ct, mq.bp = a, c, ct, bp
}

// blockJob is one code-block to decode and where its coefficients go.
type blockJob struct {
	cb     int32 // index in Decoder.cblks
	kind   int8  // band orientation
	rev    bool  // reversible: integer coefficients
	style  byte  // code-block style
	roi    int8
	off    int // first coefficient in Decoder.coef
	stride int
	step   float32 // half the quantisation step, irreversible only
	mb     int16   // the band's magnitude bits (HT blocks' missing bit-planes)
}

// planBlocks lists the code-blocks of the tile that have data, as jobs,
// and charges their coding passes to the tier-1 budget.
func (d *Decoder) planBlocks(ts *tileState) error {
	im := &d.img
	d.jobs = d.jobs[:0]
	for c := range im.ncomp {
		tc := &d.comps[c]
		stride := tc.x1 - tc.x0
		base := ts.coefOffset[c]
		for r := 0; r < tc.nres; r++ {
			res := &tc.res[r]
			for p := 0; p < res.pw*res.ph; p++ {
				prec := &d.precs[res.prec0+p]
				for b := 0; b < res.nb; b++ {
					pb := &prec.bands[b]
					bd := &res.bands[b]
					for i := 0; i < int(pb.cw*pb.ch); i++ {
						k := int(pb.cblk0) + i
						cb := &d.cblks[k]
						if cb.head < 0 {
							continue
						}
						d.t1Work += (cb.x1 - cb.x0) * (cb.y1 - cb.y0) * int(min(cb.passes, max(0, 3*cb.numbps-2)))
						d.jobs = append(d.jobs, blockJob{
							cb: int32(k), kind: int8(bd.kind), rev: tc.cs.reversible, style: tc.cs.cbStyle, roi: int8(tc.roi),
							off:    base + (cb.y0-bd.y0+bd.offy)*stride + cb.x0 - bd.x0 + bd.offx,
							stride: stride, step: bd.step / 2, mb: int16(bd.mb),
						})
					}
				}
			}
		}
	}
	if d.t1Work > d.t1WorkMax {
		return errorf("code-blocks declare more coding passes than %d bytes of codestream can pay for", d.t1WorkMax/t1WorkPerByte)
	}
	return nil
}

// decodeBlocks runs tier-1 on the planned code-blocks and writes the
// dequantised coefficients (T.800 E.1) into the tile-components. Code-
// blocks are independent: with several threads they are decoded at once.
// Of several failing blocks, the first in plan order is reported, whatever
// the thread count.
func (d *Decoder) decodeBlocks(ts *tileState) error {
	fcoef := d.floats()
	if d.threads == 1 { // no closure: one thread allocates nothing per frame
		w := d.workers(1)[0]
		for i := range d.jobs {
			if err := d.decodeCodeBlock(w, &d.jobs[i], ts.body, fcoef); err != nil {
				return err
			}
		}
		return nil
	}
	errs := d.jobErrs[:0]
	for range d.jobs {
		errs = append(errs, nil)
	}
	d.jobErrs = errs
	d.each(len(d.jobs), func(w *worker, i int) {
		errs[i] = d.decodeCodeBlock(w, &d.jobs[i], ts.body, fcoef)
	})
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// decodeCodeBlock decodes one code-block and stores its coefficients: the
// one place where a block's coding passes are run, dispatching to HTJ2K's
// block coder by the code-block style.
func (d *Decoder) decodeCodeBlock(w *worker, j *blockJob, body []byte, fcoef []float32) error {
	cb := &d.cblks[j.cb]
	if j.style&styleHT != 0 {
		return d.decodeHT(&w.ht, cb, j, body, fcoef)
	}
	t := &w.t1
	t.decodeBlock(d.frags, cb, body, int(j.kind), j.style)
	if j.rev {
		t.storeInt(d.coef[j.off:], j.stride, int(j.roi))
	} else {
		t.storeFloat(fcoef[j.off:], j.stride, int(j.roi), j.step)
	}
	return nil
}

// floats is the coefficient buffer seen as float32, for irreversible
// components: each component uses one of the two views of its own part,
// so one buffer of 4 bytes a sample serves both.
func (d *Decoder) floats() []float32 {
	if len(d.coef) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(d.coef))), len(d.coef))
}

// magnitude is the sample at data index j, sign and magnitude with one
// fractional bit, without the ROI shift (T.800 H.1): the magnitudes of
// the region of interest were scaled above every background's.
func (t *t1) magnitude(j int, roi int) (int32, bool) {
	v := t.data[j]
	m := v
	if v < 0 {
		m = -v
	}
	if roi > 0 && m >= 1<<(roi+1) {
		m >>= roi
	}
	return m, v < 0
}

func (t *t1) storeInt(dst []int32, stride, roi int) {
	w := t.w
	if roi > 0 {
		for y := 0; y < t.h; y++ {
			row := dst[y*stride : y*stride+w]
			for i := range row {
				m, neg := t.magnitude(y*w+i, roi)
				m >>= 1
				if neg {
					m = -m
				}
				row[i] = m
			}
		}
		return
	}
	for y := 0; y < t.h; y++ {
		row := dst[y*stride : y*stride+w]
		data := t.data[y*w : y*w+w]
		for i, v := range data[:len(row)] {
			// halve the magnitude, keep the sign: no branch on it
			sg := v >> 31
			row[i] = (((v^sg)-sg)>>1 ^ sg) - sg
		}
	}
}

func (t *t1) storeFloat(dst []float32, stride, roi int, step float32) {
	w := t.w
	for y := 0; y < t.h; y++ {
		row := dst[y*stride : y*stride+w]
		for i := range row {
			m, neg := t.magnitude(y*w+i, roi)
			v := float32(float32(m) * step)
			if neg {
				v = -v
			}
			row[i] = v
		}
	}
}
