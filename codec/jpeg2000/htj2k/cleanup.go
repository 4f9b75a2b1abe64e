package htj2k

import "math/bits"

// vlcTab[t][c<<7|w] decodes the codeword at the head w of the VLC stream
// in context c, with the first (t=0) or later (t=1) line-pair table:
// codeword length in bits 0-2, u_off in bit 3, rho in bits 4-7, e_1 in
// bits 8-11, e_k in bits 12-15; 0 when no codeword matches.
var vlcTab = func() (t [2][8 << 7]uint16) {
	for ti, rows := range [2][]vlcCode{vlcFirst[:], vlcOther[:]} {
		for _, r := range rows {
			e := uint16(r.n) | uint16(r.uoff)<<3 | uint16(r.rho)<<4 | uint16(r.e1)<<8 | uint16(r.ek)<<12
			// every 7-bit head whose low n bits are the codeword
			for hi := 0; hi < 1<<(7-r.n); hi++ {
				t[ti][int(r.c)<<7|hi<<r.n|int(r.cwd)] = e
			}
		}
	}
	return
}()

// uTab[v&7] decodes a U-VLC prefix (T.814 table 3) from the next three
// bits v: its value in bits 0-2, its length in bits 4-5, and the length
// of the suffix that follows in bits 8-10.
var uTab = [8]uint16{
	0b000: 5 | 3<<4 | 5<<8,
	0b100: 3 | 3<<4 | 1<<8,
	0b010: 2 | 2<<4, 0b110: 2 | 2<<4,
	0b001: 1 | 1<<4, 0b011: 1 | 1<<4, 0b101: 1 | 1<<4, 0b111: 1 | 1<<4,
}

// uPrefix decodes the U-VLC prefix at the head of v: its value, its
// length and its suffix's length.
func uPrefix(v uint64) (pfx uint32, n, sfx uint) {
	e := uTab[v&7]
	return uint32(e & 7), uint(e >> 4 & 3), uint(e >> 8)
}

// lowBits is the n low bits of v.
func lowBits(v uint64, n uint) uint32 { return uint32(v) & (1<<n - 1) }

// cleanup decodes the cleanup pass: quads of 2x2 samples, two
// at a time along each line-pair; for each, its significance from MEL and
// VLC, its magnitude exponent bound U_q from U-VLC and the neighbours
// above, then each significant sample's magnitude and sign from MagSgn.
func (d *Decoder) cleanup(dst []uint32, b *Block) error {
	cup := b.Cleanup
	lcup := len(cup)
	if lcup < 2 {
		return corrupt("cleanup segment of %d bytes", lcup)
	}
	scup := int(cup[lcup-1])<<4 | int(cup[lcup-2]&0xf)
	if scup < 2 || scup > lcup || scup > 4079 {
		return corrupt("MEL and VLC length %d in a cleanup segment of %d bytes", scup, lcup)
	}
	var mel melDecoder
	mel.init(cup[lcup-scup : lcup-1])
	var vlc revReader
	vlc.initVLC(cup, scup)
	var ms fwdReader
	ms.init(cup[:lcup-scup], 0xff)

	w, h := b.Width, b.Height
	qw, qh := (w+1)/2, (h+1)/2
	// rho[.][q+1] is quad q's pattern, so that q-1 and q+1 need no test
	for i := range d.rho {
		d.rho[i] = grow(d.rho[i], qw+2)
		d.eLine[i] = grow(d.eLine[i], w+3)
	}
	umax := uint32(b.MissingMSBs + 2)
	p := uint(b.P)
	for qy := 0; qy < qh; qy++ {
		above, cur := d.rho[(qy+1)&1], d.rho[qy&1]
		eAbove, eCur := d.eLine[(qy+1)&1], d.eLine[qy&1]
		clear(cur)
		clear(eCur)
		first := qy == 0
		tab := &vlcTab[1]
		if first {
			tab = &vlcTab[0]
		}
		y := 2 * qy
		for qx := 0; qx < qw; qx += 2 {
			nq := min(2, qw-qx)
			var inf [2]uint32
			for k := range nq {
				q := qx + k
				left := uint32(cur[q])
				var c uint32
				if first {
					// the two columns to the left (T.814 eq. 1)
					c = (left|left>>1)&1 | (left>>2&1)<<1 | (left>>3&1)<<2
				} else {
					// NW and N; W and SW; NE and NF
					nw, n, ne := uint32(above[q]), uint32(above[q+1]), uint32(above[q+2])
					c = (nw>>3|n>>1)&1 | ((left>>2|left>>3)&1)<<1 | ((n>>3|ne>>1)&1)<<2
				}
				sig := c != 0
				if !sig {
					// MEL's common case, a zero event of a run, in place
					if mel.run > 0 {
						mel.run--
					} else {
						sig = mel.event() == 1
					}
				}
				var e uint32
				if sig {
					e = uint32(tab[c<<7|uint32(vlc.peek()&0x7f)])
					vlc.skip(uint(e & 7))
				}
				inf[k] = e
				cur[q+1] = uint8(e >> 4 & 0xf)
			}

			// unsigned residuals of the pair, from one look at VLC: at
			// most two prefixes, two suffixes and a bit, 17 bits
			var u [2]uint32
			if mode := inf[0]>>3&1 | (inf[1]>>3&1)<<1; mode != 0 {
				v := vlc.peek()
				p0, n0, s0 := uPrefix(v)
				v >>= n0
				used := n0
				switch {
				case mode == 1:
					u[0] = p0 + lowBits(v, s0)
					used += s0
				case mode == 2:
					u[1] = p0 + lowBits(v, s0)
					used += s0
				case first && mel.event() == 1:
					// both residuals above 2
					p1, n1, s1 := uPrefix(v)
					v >>= n1
					u[0] = 2 + p0 + lowBits(v, s0)
					u[1] = 2 + p1 + lowBits(v>>s0, s1)
					used += n1 + s0 + s1
				case first && p0 > 2:
					// the second residual is then 1 or 2, in one bit
					u[1] = 1 + uint32(v&1)
					u[0] = p0 + lowBits(v>>1, s0)
					used += 1 + s0
				default:
					p1, n1, s1 := uPrefix(v)
					v >>= n1
					u[0] = p0 + lowBits(v, s0)
					u[1] = p1 + lowBits(v>>s0, s1)
					used += n1 + s0 + s1
				}
				vlc.skip(used)
			}

			for k := range nq {
				q := qx + k
				e := inf[k]
				rho := e >> 4 & 0xf
				kappa := uint32(1)
				if !first && rho&(rho-1) != 0 {
					// more than one significant sample: the exponents of
					// the line above bound this quad's (T.814 eq. 5, 6)
					emax := max(eAbove[2*q], eAbove[2*q+1], eAbove[2*q+2], eAbove[2*q+3])
					kappa = max(2, emax) - 1
				}
				uq := u[k] + kappa
				if uq > umax {
					return corrupt("magnitude exponent %d above the %d bit-planes", uq, umax)
				}
				if rho == 0 {
					continue
				}
				ek, e1 := e>>12, e>>8&0xf
				col := 2 * q
				if col+1 >= w {
					rho &= 3 // the right column lies outside: its samples are not coded
				}
				base := y*w + col
				// samples in order: (x, y), (x, y+1), (x+1, y), (x+1, y+1)
				for sig := rho; sig != 0; sig &= sig - 1 {
					n := uint(bits.TrailingZeros32(sig))
					msv := ms.peek()
					m := uint(uq - ek>>n&1)
					ms.skip(m)
					v := msv&(1<<m-1) | uint64(e1>>n&1)<<m | 1
					val := uint32(msv)<<31 | uint32((v+2)<<(p-1))&0x7fffffff
					i := base + int(n>>1)
					if n&1 == 0 {
						dst[i] = val
						continue
					}
					if y+1 < h {
						dst[i+w] = val
					}
					eCur[col+int(n>>1)+1] = uint32(bits.Len64(v))
				}
			}
		}
	}
	return nil
}
