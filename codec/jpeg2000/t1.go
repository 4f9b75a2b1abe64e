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
func (m *mqDecoder) decode(cx *uint8) int {
	st := &mqStates[*cx]
	if a := m.a - st.qe; a&0x8000 != 0 && m.c >= st.qe16 {
		m.a = a
		m.c -= st.qe16
		return int(st.mps)
	}
	return m.decodeSlow(cx)
}

func (m *mqDecoder) decodeSlow(cx *uint8) int {
	st := &mqStates[*cx]
	qe := st.qe
	a, c := m.a-qe, m.c
	var d int
	if c < st.qe16 {
		// LPS interval, or conditional exchange (C.3.2)
		if a < qe {
			d = int(st.mps)
			*cx = st.nmps
		} else {
			d = int(st.mps ^ 1)
			*cx = st.nlps
		}
		a = qe
	} else {
		c -= st.qe16
		if a&0x8000 != 0 {
			m.a, m.c = a, c
			return int(st.mps)
		}
		if a < qe {
			d = int(st.mps ^ 1)
			*cx = st.nlps
		} else {
			d = int(st.mps)
			*cx = st.nmps
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

// Flags of a sample: its eight neighbours' significance, the signs of the
// four direct ones, and its own state.
const (
	fN    = 1 << 0
	fS    = 1 << 1
	fW    = 1 << 2
	fE    = 1 << 3
	fNW   = 1 << 4
	fNE   = 1 << 5
	fSW   = 1 << 6
	fSE   = 1 << 7
	fNneg = 1 << 8
	fSneg = 1 << 9
	fWneg = 1 << 10
	fEneg = 1 << 11

	fSig   = 1 << 12
	fRef   = 1 << 13 // refined at least once
	fVisit = 1 << 14 // coded in this bit-plane's significance pass
	fNeg   = 1 << 15

	// what a stripe's last row does not see in vertically causal mode
	causalMask = fS | fSW | fSE | fSneg
)

// zcContext[o][n] is the zero coding context (table D.1) for band
// orientation o (0 LL, 1 HL, 2 LH, 3 HH) and neighbour flags n.
var zcContext = func() (t [4][256]uint8) {
	for o := range 4 {
		for n := range 256 {
			h := n&fW/fW + n&fE/fE
			v := n&fN/fN + n&fS/fS
			dg := n&fNW/fNW + n&fNE/fNE + n&fSW/fSW + n&fSE/fSE
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

// scContext[i] is the sign context (table D.3) in its low bits and the
// XOR bit in bit 7, for i = the four direct neighbours' significance
// (N S W E, bits 0-3) and signs (bits 4-7).
var scContext = func() (t [256]uint8) {
	contrib := func(sig, neg int) int {
		if sig == 0 {
			return 0
		}
		if neg != 0 {
			return -1
		}
		return 1
	}
	for i := range 256 {
		v := contrib(i&1, i&16) + contrib(i&2, i&32)
		h := contrib(i&4, i&64) + contrib(i&8, i&128)
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

func scIndex(f uint16) uint16 { return f&0xf | (f>>4)&0xf0 }

// t1 decodes one code-block.
type t1 struct {
	data   []int32  // magnitudes, with one fractional bit
	flags  []uint16 // (w+2) x (h+2), a border of never significant samples
	w, h   int
	stride int
	ctx    [32]uint8 // 19 used; 32 lets a masked index skip the bounds check
	mq     mqDecoder
	raw    rawDecoder
	buf    []byte
}

func (t *t1) resetContexts() {
	clear(t.ctx[:])
	t.ctx[0] = 4 << 1
	t.ctx[ctxRL] = 3 << 1
	t.ctx[ctxUni] = 46 << 1
}

// setSig makes the sample at flag index i significant; without branches
// on the sign, which is random.
func (t *t1) setSig(i int, neg bool) {
	var n uint16
	if neg {
		n = 1
	}
	fl, s := t.flags, t.stride
	fl[i] |= fSig | n<<15
	fl[i-s] |= fS | n<<9
	fl[i+s] |= fN | n<<8
	fl[i-1] |= fE | n<<11
	fl[i+1] |= fW | n<<10
	fl[i-s-1] |= fSE
	fl[i-s+1] |= fSW
	fl[i+s-1] |= fNE
	fl[i+s+1] |= fNW
}

// decodeBlock decodes cb's passes into t.data and t.flags.
func (t *t1) decodeBlock(frags []fragment, cb *codeBlock, body []byte, orient int, style byte) {
	w, h := cb.x1-cb.x0, cb.y1-cb.y0
	t.w, t.h, t.stride = w, h, w+2
	n := w * h
	if cap(t.data) < n {
		t.data = make([]int32, n)
	}
	t.data = t.data[:n]
	clear(t.data)
	nf := (w + 2) * (h + 2)
	if cap(t.flags) < nf {
		t.flags = make([]uint16, nf)
	}
	t.flags = t.flags[:nf]
	clear(t.flags)
	t.resetContexts()
	passes := int(cb.passes)
	if nb := int(cb.numbps); passes > 3*nb-2 {
		passes = max(0, 3*nb-2)
	}
	causal := style&styleCausal != 0
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
			switch typ {
			case 0:
				t.sigPass(p, orient, causal, raw)
			case 1:
				t.refPass(p, causal, raw)
			default:
				t.cleanupPass(p, orient, causal)
				if style&styleSegSymbol != 0 {
					for range 4 {
						t.mq.decode(&t.ctx[ctxUni])
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

// The passes below decode their symbols with the MQ decoder's common case
// (a most probable symbol, no renormalisation) written out in place: Go
// does not inline decode, and this is where tier-1 spends its time. They
// visit a stripe of four rows column by column (T.800
// D.2); fl and data are the flags and magnitudes, i the flag index of a
// sample and j its index in data.

func (t *t1) sigPass(p, orient int, causal, raw bool) {
	mq := &t.mq
	a, c := mq.a, mq.c // kept in registers; written back around calls
	one := int32(3) << p
	zc := &zcContext[orient]
	fl, data, w, h, s := t.flags, t.data, t.w, t.h, t.stride
	for y0 := 0; y0 < h; y0 += 4 {
		rows := min(4, h-y0)
		for x := 0; x < w; x++ {
			i0 := (y0+1)*s + x + 1
			if rows == 4 {
				f0, f1, f2, f3 := fl[i0], fl[i0+s], fl[i0+2*s], fl[i0+3*s]
				if (f0|f1|f2|f3)&0xff == 0 || f0&f1&f2&f3&fSig != 0 {
					continue // no significant neighbour, or nothing left to find
				}
			}
			for k := 0; k < rows; k++ {
				i := i0 + k*s
				f := fl[i]
				if causal && k == 3 {
					f &^= causalMask
				}
				if f&fSig != 0 || f&0xff == 0 {
					continue
				}
				var bit int
				if raw {
					bit = t.raw.bit()
				} else {
					cx := &t.ctx[zc[f&0xff]]
					st := &mqStates[*cx]
					if a2 := a - st.qe; a2&0x8000 != 0 && c >= st.qe16 {
						a, c, bit = a2, c-st.qe16, int(st.mps)
					} else {
						mq.a, mq.c = a, c
						bit = mq.decodeSlow(cx)
						a, c = mq.a, mq.c
					}
				}
				if bit != 0 {
					var neg bool
					if raw {
						neg = t.raw.bit() != 0
					} else {
						// the sign, its MQ common case in place
						sc := scContext[scIndex(f)]
						scx := &t.ctx[sc&0x1f]
						sst := &mqStates[*scx]
						var sb int
						if a2 := a - sst.qe; a2&0x8000 != 0 && c >= sst.qe16 {
							a, c, sb = a2, c-sst.qe16, int(sst.mps)
						} else {
							mq.a, mq.c = a, c
							sb = mq.decodeSlow(scx)
							a, c = mq.a, mq.c
						}
						neg = sb^int(sc>>7) != 0
					}
					data[(y0+k)*w+x] = one
					t.setSig(i, neg)
				}
				fl[i] |= fVisit
			}
		}
	}
	mq.a, mq.c = a, c
}

func (t *t1) refPass(p int, causal, raw bool) {
	mq := &t.mq
	a, c, ct, bp, md := mq.a, mq.c, mq.ct, mq.bp, mq.data
	half := int32(1) << p
	fl, data, w, h, s := t.flags, t.data, t.w, t.h, t.stride
	for y0 := 0; y0 < h; y0 += 4 {
		rows := min(4, h-y0)
		for x := 0; x < w; x++ {
			i0 := (y0+1)*s + x + 1
			if rows == 4 && (fl[i0]|fl[i0+s]|fl[i0+2*s]|fl[i0+3*s])&fSig == 0 {
				continue
			}
			for k := 0; k < rows; k++ {
				i := i0 + k*s
				f := fl[i]
				if f&(fSig|fVisit) != fSig {
					continue
				}
				if causal && k == 3 {
					f &^= causalMask
				}
				var bit int
				if raw {
					bit = t.raw.bit()
				} else {
					n := 16
					if f&fRef == 0 {
						n = 14
						if f&0xff != 0 {
							n = 15
						}
					}
					// refinement bits are nearly random: the whole MQ
					// decoder is written out here, state in locals
					cx := &t.ctx[n&31]
					st := &mqStates[*cx]
					qe := st.qe
					a -= qe
					if c < st.qe16 {
						if a < qe {
							bit, *cx = int(st.mps), st.nmps
						} else {
							bit, *cx = int(st.mps^1), st.nlps
						}
						a = qe
					} else {
						c -= st.qe16
						if a&0x8000 != 0 {
							bit = int(st.mps)
						} else if a < qe {
							bit, *cx = int(st.mps^1), st.nlps
						} else {
							bit, *cx = int(st.mps), st.nmps
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
				j := (y0+k)*w + x
				if bit != 0 {
					data[j] += half
				} else {
					data[j] -= half
				}
				fl[i] |= fRef
			}
		}
	}
	mq.a, mq.c, mq.ct, mq.bp = a, c, ct, bp
}

func (t *t1) cleanupPass(p, orient int, causal bool) {
	mq := &t.mq
	a, c := mq.a, mq.c // kept in registers; written back around calls
	one := int32(3) << p
	zc := &zcContext[orient]
	fl, data, w, h, s := t.flags, t.data, t.w, t.h, t.stride
	for y0 := 0; y0 < h; y0 += 4 {
		rows := min(4, h-y0)
		for x := 0; x < w; x++ {
			i0 := (y0+1)*s + x + 1
			k := 0
			if rows == 4 {
				f0, f1, f2, f3 := fl[i0], fl[i0+s], fl[i0+2*s], fl[i0+3*s]
				if f0&f1&f2&f3&fSig != 0 && (f0|f1|f2|f3)&fVisit == 0 {
					continue // all significant before this bit-plane
				}
				last := f3
				if causal {
					last &^= causalMask
				}
				if (f0|f1|f2|last)&(fSig|fVisit|0xff) == 0 {
					// run-length mode (T.800 D.3.4)
					cx := &t.ctx[ctxRL]
					st := &mqStates[*cx]
					var bit int
					if a2 := a - st.qe; a2&0x8000 != 0 && c >= st.qe16 {
						a, c, bit = a2, c-st.qe16, int(st.mps)
					} else {
						mq.a, mq.c = a, c
						bit = mq.decodeSlow(cx)
						a, c = mq.a, mq.c
					}
					if bit == 0 {
						continue
					}
					mq.a, mq.c = a, c
					k = mq.decode(&t.ctx[ctxUni]) << 1
					k |= mq.decode(&t.ctx[ctxUni])
					a, c = mq.a, mq.c
					i := i0 + k*s
					f := fl[i]
					if causal && k == 3 {
						f &^= causalMask
					}
					// the sign, its MQ common case in place
					sc := scContext[scIndex(f)]
					scx := &t.ctx[sc&0x1f]
					sst := &mqStates[*scx]
					var sb int
					if a2 := a - sst.qe; a2&0x8000 != 0 && c >= sst.qe16 {
						a, c, sb = a2, c-sst.qe16, int(sst.mps)
					} else {
						mq.a, mq.c = a, c
						sb = mq.decodeSlow(scx)
						a, c = mq.a, mq.c
					}
					neg := sb^int(sc>>7) != 0
					data[(y0+k)*w+x] = one
					t.setSig(i, neg)
					k++
				}
			}
			for ; k < rows; k++ {
				i := i0 + k*s
				f := fl[i]
				if f&fVisit != 0 {
					fl[i] = f &^ fVisit
					continue
				}
				if f&fSig != 0 {
					continue
				}
				if causal && k == 3 {
					f &^= causalMask
				}
				cx := &t.ctx[zc[f&0xff]]
				st := &mqStates[*cx]
				var bit int
				if a2 := a - st.qe; a2&0x8000 != 0 && c >= st.qe16 {
					a, c, bit = a2, c-st.qe16, int(st.mps)
				} else {
					mq.a, mq.c = a, c
					bit = mq.decodeSlow(cx)
					a, c = mq.a, mq.c
				}
				if bit != 0 {
					// the sign, its MQ common case in place
					sc := scContext[scIndex(f)]
					scx := &t.ctx[sc&0x1f]
					sst := &mqStates[*scx]
					var sb int
					if a2 := a - sst.qe; a2&0x8000 != 0 && c >= sst.qe16 {
						a, c, sb = a2, c-sst.qe16, int(sst.mps)
					} else {
						mq.a, mq.c = a, c
						sb = mq.decodeSlow(scx)
						a, c = mq.a, mq.c
					}
					neg := sb^int(sc>>7) != 0
					data[(y0+k)*w+x] = one
					t.setSig(i, neg)
				}
			}
		}
	}
	mq.a, mq.c = a, c
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

func (t *t1) magnitude(i, j int, roi int) (int32, bool) {
	m := t.data[j*t.w+i]
	if roi > 0 && m >= 1<<(roi+1) {
		m >>= roi
	}
	return m, t.flags[(j+1)*t.stride+i+1]&fNeg != 0
}

func (t *t1) storeInt(dst []int32, stride, roi int) {
	if roi > 0 {
		for j := 0; j < t.h; j++ {
			row := dst[j*stride : j*stride+t.w]
			for i := range row {
				m, neg := t.magnitude(i, j, roi)
				m >>= 1
				if neg {
					m = -m
				}
				row[i] = m
			}
		}
		return
	}
	w, s := t.w, t.stride
	for j := 0; j < t.h; j++ {
		row := dst[j*stride : j*stride+w]
		data := t.data[j*w : j*w+w]
		fl := t.flags[(j+1)*s+1 : (j+1)*s+1+w]
		for i := range row {
			m := data[i] >> 1
			if fl[i]&fNeg != 0 {
				m = -m
			}
			row[i] = m
		}
	}
}

func (t *t1) storeFloat(dst []float32, stride, roi int, step float32) {
	for j := 0; j < t.h; j++ {
		row := dst[j*stride : j*stride+t.w]
		for i := range row {
			m, neg := t.magnitude(i, j, roi)
			v := float32(float32(m) * step)
			if neg {
				v = -v
			}
			row[i] = v
		}
	}
}
