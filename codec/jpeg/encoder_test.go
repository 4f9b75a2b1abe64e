package jpeg

import (
	"bytes"
	"math"
)

// A small sequential DCT encoder for tests: it writes the stream shapes
// the Debian encoders do not (restart intervals, non-interleaved scans,
// sampling factors up to 4 and odd ratios, 12-bit colour, 16-bit
// quantisation tables, tables split over several segments, long Huffman
// codes) so that the decoder can be checked on them against libjpeg.

type encComp struct {
	h, v int
	tq   int
}

type encSpec struct {
	width, height, precision int
	sof                      byte // mSOF0 or mSOF1
	comps                    []encComp
	quant                    [][64]int // natural order
	quant16                  bool      // write DQT with 16-bit entries
	restart                  int
	interleaved              bool    // one scan for all components, else one scan each
	scans                    [][]int // components of each scan, overriding interleaved
	splitSegments            bool    // one DQT/DHT segment per table
	adobe                    bool    // write an Adobe APP14 marker saying YCbCr
}

// Huffman tables with codes of 3 to 12 bits, so that both the lookup and
// the slow path of the decoder are used. DC: categories 0-15; AC: every
// run/size pair with EOB and ZRL.
var (
	encDCCounts = [17]int{3: 4, 5: 12}
	encACCounts = [17]int{8: 128, 12: 114}
	encDCVals   []byte
	encACVals   []byte
)

func init() {
	for s := 0; s < 16; s++ {
		encDCVals = append(encDCVals, byte(s))
	}
	encACVals = append(encACVals, 0x00, 0xf0)
	for s := 1; s <= 15; s++ {
		for r := 0; r < 16; r++ {
			encACVals = append(encACVals, byte(r<<4|s))
		}
	}
}

type encTable struct {
	code [256]uint32
	size [256]uint8
}

func makeEncTable(counts [17]int, vals []byte) *encTable {
	t := &encTable{}
	code, k := uint32(0), 0
	for l := 1; l <= 16; l++ {
		for i := 0; i < counts[l]; i++ {
			t.code[vals[k]] = code
			t.size[vals[k]] = uint8(l)
			code++
			k++
		}
		code <<= 1
	}
	return t
}

type bitWriter struct {
	out   bytes.Buffer
	acc   uint32
	nbits uint
}

func (w *bitWriter) put(code uint32, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		w.acc = w.acc<<1 | (code>>uint(i))&1
		w.nbits++
		if w.nbits == 8 {
			b := byte(w.acc)
			w.out.WriteByte(b)
			if b == 0xff {
				w.out.WriteByte(0)
			}
			w.acc, w.nbits = 0, 0
		}
	}
}

// flush pads the last byte with ones.
func (w *bitWriter) flush() {
	for w.nbits != 0 {
		w.put(1, 1)
	}
}

func category(v int) uint {
	if v < 0 {
		v = -v
	}
	n := uint(0)
	for v != 0 {
		n++
		v >>= 1
	}
	return n
}

func (w *bitWriter) value(v int, s uint) {
	if v < 0 {
		v += 1<<s - 1
	}
	w.put(uint32(v), s)
}

// encodeJPEG encodes component planes given at full resolution (planes[c]
// is width*height samples); each component is point-sampled down to its
// own resolution.
func encodeJPEG(sp encSpec, planes [][]int) []byte {
	var out bytes.Buffer
	seg := func(m byte, body []byte) {
		out.Write([]byte{0xff, m, byte((len(body) + 2) >> 8), byte(len(body) + 2)})
		out.Write(body)
	}
	out.Write([]byte{0xff, mSOI})
	if sp.adobe {
		seg(0xee, []byte{'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 1})
	}
	var dqt []byte
	for i, q := range sp.quant {
		pq := 0
		if sp.quant16 {
			pq = 1
		}
		b := []byte{byte(pq<<4 | i)}
		for k := 0; k < 64; k++ {
			v := q[zigzag[k]]
			if sp.quant16 {
				b = append(b, byte(v>>8))
			}
			b = append(b, byte(v))
		}
		if sp.splitSegments {
			seg(mDQT, b)
		} else {
			dqt = append(dqt, b...)
		}
	}
	if dqt != nil {
		seg(mDQT, dqt)
	}
	hmax, vmax := 1, 1
	for _, c := range sp.comps {
		hmax, vmax = max(hmax, c.h), max(vmax, c.v)
	}
	sof := []byte{byte(sp.precision), byte(sp.height >> 8), byte(sp.height), byte(sp.width >> 8), byte(sp.width), byte(len(sp.comps))}
	for i, c := range sp.comps {
		sof = append(sof, byte(i+1), byte(c.h<<4|c.v), byte(c.tq))
	}
	seg(sp.sof, sof)
	dht := func(class, id int, counts [17]int, vals []byte) []byte {
		b := []byte{byte(class<<4 | id)}
		for l := 1; l <= 16; l++ {
			b = append(b, byte(counts[l]))
		}
		return append(b, vals...)
	}
	// table 0 and 1 are the same code; components use 0, 1, 0, ...
	tables := [][]byte{dht(0, 0, encDCCounts, encDCVals), dht(1, 0, encACCounts, encACVals),
		dht(0, 1, encDCCounts, encDCVals), dht(1, 1, encACCounts, encACVals)}
	if sp.splitSegments {
		for _, t := range tables {
			seg(mDHT, t)
		}
	} else {
		seg(mDHT, bytes.Join(tables, nil))
	}
	if sp.restart > 0 {
		seg(mDRI, []byte{byte(sp.restart >> 8), byte(sp.restart)})
	}
	dcT, acT := makeEncTable(encDCCounts, encDCVals), makeEncTable(encACCounts, encACVals)

	// component planes, edge-replicated to whole MCUs
	mcusX := (sp.width + 8*hmax - 1) / (8 * hmax)
	mcusY := (sp.height + 8*vmax - 1) / (8 * vmax)
	type cplane struct {
		w, h, bw, bh, stride int
		s                    []int
	}
	cps := make([]cplane, len(sp.comps))
	for i, c := range sp.comps {
		cw := (sp.width*c.h + hmax - 1) / hmax
		ch := (sp.height*c.v + vmax - 1) / vmax
		p := cplane{w: cw, h: ch, bw: (cw + 7) / 8, bh: (ch + 7) / 8, stride: mcusX * c.h * 8}
		rows := mcusY * c.v * 8
		p.s = make([]int, p.stride*rows)
		for y := 0; y < rows; y++ {
			for x := 0; x < p.stride; x++ {
				sx, sy := min(x, cw-1)*hmax/c.h, min(y, ch-1)*vmax/c.v
				p.s[y*p.stride+x] = planes[i][min(sy, sp.height-1)*sp.width+min(sx, sp.width-1)]
			}
		}
		cps[i] = p
	}
	center := 1 << (sp.precision - 1)
	block := func(w *bitWriter, ci, bx, by int, pred *int) {
		p := cps[ci]
		q := sp.quant[sp.comps[ci].tq]
		var coef [64]int
		for v := 0; v < 8; v++ {
			for u := 0; u < 8; u++ {
				sum := 0.0
				for y := 0; y < 8; y++ {
					for x := 0; x < 8; x++ {
						s := float64(p.s[(by*8+y)*p.stride+bx*8+x] - center)
						sum += s * math.Cos(float64(2*x+1)*float64(u)*math.Pi/16) * math.Cos(float64(2*y+1)*float64(v)*math.Pi/16)
					}
				}
				cu, cv := 1.0, 1.0
				if u == 0 {
					cu = 1 / math.Sqrt2
				}
				if v == 0 {
					cv = 1 / math.Sqrt2
				}
				coef[v*8+u] = int(math.Round(sum * cu * cv / 4 / float64(q[v*8+u])))
			}
		}
		diff := coef[0] - *pred
		*pred = coef[0]
		s := category(diff)
		w.put(dcT.code[s], uint(dcT.size[s]))
		w.value(diff, s)
		run := 0
		for k := 1; k < 64; k++ {
			c := coef[zigzag[k]]
			if c == 0 {
				run++
				continue
			}
			for run > 15 {
				w.put(acT.code[0xf0], uint(acT.size[0xf0]))
				run -= 16
			}
			s := category(c)
			sym := run<<4 | int(s)
			w.put(acT.code[sym], uint(acT.size[sym]))
			w.value(c, s)
			run = 0
		}
		if run > 0 {
			w.put(acT.code[0], uint(acT.size[0]))
		}
	}
	scan := func(comps []int) {
		b := []byte{byte(len(comps))}
		for _, ci := range comps {
			b = append(b, byte(ci+1), byte((ci%2)<<4|ci%2))
		}
		seg(mSOS, append(b, 0, 63, 0))
		var w bitWriter
		preds := make([]int, len(sp.comps))
		mx, my := mcusX, mcusY
		if len(comps) == 1 {
			mx, my = cps[comps[0]].bw, cps[comps[0]].bh
		}
		n, rst := 0, 0
		for y := 0; y < my; y++ {
			for x := 0; x < mx; x++ {
				if sp.restart > 0 && n > 0 && n%sp.restart == 0 {
					w.flush()
					w.out.Write([]byte{0xff, byte(mRST0 + rst)})
					rst = (rst + 1) & 7
					clear(preds)
				}
				n++
				for _, ci := range comps {
					if len(comps) == 1 {
						block(&w, ci, x, y, &preds[ci])
						continue
					}
					c := sp.comps[ci]
					for by := 0; by < c.v; by++ {
						for bx := 0; bx < c.h; bx++ {
							block(&w, ci, x*c.h+bx, y*c.v+by, &preds[ci])
						}
					}
				}
			}
		}
		w.flush()
		out.Write(w.out.Bytes())
	}
	if sp.scans != nil {
		for _, sc := range sp.scans {
			scan(sc)
		}
	} else if sp.interleaved {
		all := make([]int, len(sp.comps))
		for i := range all {
			all[i] = i
		}
		scan(all)
	} else {
		for i := range sp.comps {
			scan([]int{i})
		}
	}
	out.Write([]byte{0xff, mEOI})
	return out.Bytes()
}

// quantTable returns the T.81 Annex K luminance table scaled by percent,
// limited to [1, limit].
func quantTable(percent, limit int) [64]int {
	base := [64]int{
		16, 11, 10, 16, 24, 40, 51, 61,
		12, 12, 14, 19, 26, 58, 60, 55,
		14, 13, 16, 24, 40, 57, 69, 56,
		14, 17, 22, 29, 51, 87, 80, 62,
		18, 22, 37, 56, 68, 109, 103, 77,
		24, 35, 55, 64, 81, 104, 113, 92,
		49, 64, 78, 87, 103, 121, 120, 101,
		72, 92, 95, 98, 112, 100, 103, 99,
	}
	var q [64]int
	for i, b := range base {
		q[i] = min(max((b*percent+50)/100, 1), limit)
	}
	return q
}
