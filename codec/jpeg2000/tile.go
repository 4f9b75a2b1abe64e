package jpeg2000

import (
	"encoding/binary"
	"slices"

	"github.com/dicom-remap/dicom-remap/codec"
)

// tileComp is one component of the tile being decoded.
type tileComp struct {
	x0, y0, x1, y1 int // in the component's own (subsampled) coordinates
	dx, dy         int // its subsampling
	cs             codingStyle
	nres           int
	roi            int
	res            [33]resolution
}

// resolution is one resolution level of a tile-component (T.800 B.5).
type resolution struct {
	x0, y0, x1, y1 int
	ppx, ppy       int // precinct size exponents
	pw, ph         int // precincts across and down
	prec0          int // index of the first precinct in Decoder.precs
	nb             int // bands: 1 at resolution 0, else 3
	bands          [3]band
}

// band is one sub-band of a resolution.
type band struct {
	kind           int // 0 LL, 1 HL, 2 LH, 3 HH
	x0, y0, x1, y1 int
	mb             int     // magnitude bit-planes (E-2)
	step           float32 // quantisation step of the irreversible path
	cbw, cbh       int     // code-block size exponents within this band
	offx, offy     int     // position in the tile-component's coefficients
}

// precinct holds, per band, the code-blocks a packet of this precinct
// speaks of, and the layer its next packet carries.
type precinct struct {
	next  int32
	bands [3]precinctBand
}

type precinctBand struct {
	cw, ch    int32 // code-blocks across and down
	cblk0     int32 // index of the first in Decoder.cblks
	incl, zbp int32 // first node of the inclusion and zero bit-plane tag trees
}

// codeBlock gathers what the packets say of one code-block.
type codeBlock struct {
	x0, y0, x1, y1 int   // on the band's grid, which spans 32 bits: see readSIZ
	numbps         int32 // bit-planes to decode, ROI shift included
	lblock         int32
	passes         int32
	seg            int32 // current codeword segment, -1 before the first
	segPasses      int32 // passes in it so far
	segMax         int32 // passes it can hold
	head, tail     int32 // fragments of its data, -1 when none
	included       bool
}

// fragment is a run of a code-block's data from one packet.
type fragment struct {
	off, n, passes, seg, next int32
}

type tagNode struct {
	parent, value, low int32
}

// pptSeg is one PPT marker segment's data and index.
type pptSeg struct {
	z    byte
	data []byte
}

// packetPos is a precinct in a position-driven progression.
type packetPos struct {
	c, r, p int32
	x, y    int
}

// tileState is the packet reader's position in a tile.
type tileState struct {
	body       []byte
	bpos       int
	hdrs       []byte // separate packet headers (PPM, PPT), nil for none
	hpos       int
	sop, eph   bool
	tile       int
	tx0, ty0   int // the tile's origin on the reference grid
	coefOffset [maxComps]int
	coefLen    int // coefficients of all its components
}

func ceilDiv(a, b int) int {
	if a >= 0 {
		return (a + b - 1) / b
	}
	return -((-a) / b)
}

func ceilShift(a, s int) int { return ceilDiv(a, 1<<s) }

func floorShift(a, s int) int { return a >> s }

// segments walks the marker segments of a tile-part header.
func segments(h []byte, fn func(m byte, seg []byte) error) error {
	for len(h) > 0 {
		if len(h) < 4 || h[0] != 0xff {
			return errorf("malformed tile-part header")
		}
		n := int(binary.BigEndian.Uint16(h[2:]))
		if n < 2 || n+2 > len(h) {
			return errorf("marker segment of length %d overruns the tile-part header", n)
		}
		if err := fn(h[1], h[4:2+n]); err != nil {
			return err
		}
		h = h[2+n:]
	}
	return nil
}

func (d *Decoder) decodeTile(t int, parts []tilePart, dst []byte, f codec.Frame) error {
	im := &d.img
	tp := d.main
	tp.cocSet, tp.qccSet = [maxComps]bool{}, [maxComps]bool{}
	// PPT segments join in the order of their index Zppt, which need not
	// be the order they are stored in (T.800 A.7.5)
	d.ppt = d.ppt[:0]
	for i := range parts {
		first := i == 0
		err := segments(parts[i].hdr, func(m byte, seg []byte) error {
			switch m {
			case mPPT:
				if len(d.ppm) > 0 {
					return errorf("both PPM and PPT markers")
				}
				if len(seg) < 1 {
					return errorf("empty PPT marker")
				}
				d.ppt = append(d.ppt, pptSeg{z: seg[0], data: seg[1:]})
				return nil
			case mCOD, mCOC, mQCD, mQCC, mRGN:
				if !first {
					return nil // only the first tile-part may carry these
				}
			}
			return tp.apply(m, seg, im, false)
		})
		if err != nil {
			return err
		}
	}
	if !d.eoc {
		// a lossless stream must be whole: a writer that cut it and padded
		// the last byte would otherwise give a few wrong samples silently
		for c := range im.ncomp {
			if tp.comp[c].reversible {
				return errorf("reversible (lossless) codestream without its EOC marker: cut short")
			}
		}
	}
	var ppt []byte
	if len(d.ppt) > 0 {
		slices.SortStableFunc(d.ppt, func(a, b pptSeg) int { return int(a.z) - int(b.z) })
		ppt = d.pptData[:0]
		for _, sg := range d.ppt {
			ppt = append(ppt, sg.data...)
		}
		if ppt == nil {
			ppt = []byte{} // headers in PPT, all empty
		}
		d.pptData = ppt
		clear(d.ppt)
	}
	// the tile state lives in the decoder: the workers see it, and a
	// local would escape to the heap once per tile
	d.ts = tileState{sop: tp.sop, eph: tp.eph, tile: t}
	ts := &d.ts
	if len(parts) == 1 {
		ts.body = parts[0].body
	} else {
		d.body = d.body[:0]
		for i := range parts {
			d.body = append(d.body, parts[i].body...)
		}
		ts.body = d.body
	}
	if len(d.ppm) > 0 {
		d.hdrs = d.hdrs[:0]
		for i := range parts {
			d.hdrs = append(d.hdrs, parts[i].ppm...)
		}
		ts.hdrs = d.hdrs
		if ts.hdrs == nil {
			ts.hdrs = []byte{}
		}
	} else if ppt != nil {
		ts.hdrs = ppt
	}

	px, py := t%im.ntx, t/im.ntx
	tx0 := max(im.tx0+px*im.tw, im.x0)
	ty0 := max(im.ty0+py*im.th, im.y0)
	tx1 := min(im.tx0+(px+1)*im.tw, im.x1)
	ty1 := min(im.ty0+(py+1)*im.th, im.y1)
	if tx0 >= tx1 || ty0 >= ty1 {
		return errorf("tile %d is empty", t)
	}
	if tp.mct && im.ncomp == 3 && im.subsampled {
		// T.800 G.1: the transforms need components of one size
		return errorf("component transform over subsampled components")
	}
	ts.tx0, ts.ty0 = tx0, ty0
	if err := d.buildTile(&tp, ts, tx0, ty0, tx1, ty1); err != nil {
		return err
	}
	if err := d.readPackets(&tp, ts); err != nil {
		return err
	}
	if err := d.planBlocks(ts); err != nil {
		return err
	}
	if len(d.jobs) == 0 {
		// no code-block has data: every coefficient is zero, and so is
		// every sample before the level shift; no coefficient memory for
		// a tile that a few bytes declare
		d.blankTile(ts, dst, f)
		return nil
	}
	if d.useStrips(ts) {
		// a large tile: its coefficients a strip of rows at a time
		return d.stripTile(&tp, ts, dst, f)
	}
	// the coefficients, allocated only now that the packets have been
	// read: a header that lies about the size fails before this
	if cap(d.coef) < ts.coefLen {
		d.coef = make([]int32, ts.coefLen) // zero already: a second pass over a large tile costs
	} else {
		d.coef = d.coef[:ts.coefLen]
		clear(d.coef)
	}
	if err := d.decodeBlocks(ts); err != nil {
		return err
	}
	for c := range im.ncomp {
		d.inverseDWT(&d.comps[c], ts.coefOffset[c])
	}
	return d.output(&tp, ts, dst, f)
}

// buildTile lays out resolutions, bands, precincts and code-blocks of
// every component of the tile (T.800 B.5 to B.7).
func (d *Decoder) buildTile(tp *params, ts *tileState, tx0, ty0, tx1, ty1 int) error {
	im := &d.img
	d.precs = d.precs[:0]
	d.cblks = d.cblks[:0]
	d.nodes = d.nodes[:0]
	d.frags = d.frags[:0]
	total := 0
	// legal but absurd layouts (precincts of a few samples, code-blocks of
	// 4 x 4) could cost far more memory than the frame, before any packet
	// is read: a record of about 100 bytes each, tag trees included. Allow
	// what the code-block sizes encoders use need (64 x 64 blocks take one
	// per 4096 samples; one per 2048 here) and 64 more per codestream byte,
	// so that 300 bytes declaring 4 x 4 code-blocks over 4096 x 4096
	// samples are refused instead of costing half a gigabyte
	budget := (tx1-tx0)*(ty1-ty0)*im.ncomp/2048 + 64*d.csLen + 4096
	for c := range im.ncomp {
		tc := &d.comps[c]
		// the tile-component's bounds (T.800 B-12); a subsampled one
		// may be empty
		dx, dy := im.dx[c], im.dy[c]
		*tc = tileComp{x0: ceilDiv(tx0, dx), y0: ceilDiv(ty0, dy), x1: ceilDiv(tx1, dx), y1: ceilDiv(ty1, dy),
			dx: dx, dy: dy, cs: tp.comp[c], roi: tp.roi[c]}
		// from here on, the bounds are the component's
		tx0, ty0, tx1, ty1 := tc.x0, tc.y0, tc.x1, tc.y1
		area := (tx1 - tx0) * (ty1 - ty0)
		cs := &tc.cs
		q := &tp.quant[c]
		tc.nres = cs.levels + 1
		ts.coefOffset[c] = total
		total += area
		nl := cs.levels
		for r := 0; r < tc.nres; r++ {
			res := &tc.res[r]
			s := nl - r
			res.x0, res.y0 = ceilShift(tx0, s), ceilShift(ty0, s)
			res.x1, res.y1 = ceilShift(tx1, s), ceilShift(ty1, s)
			res.ppx, res.ppy = int(cs.precincts[r]&15), int(cs.precincts[r]>>4)
			if res.x1 > res.x0 && res.y1 > res.y0 {
				res.pw = ceilShift(res.x1, res.ppx) - floorShift(res.x0, res.ppx)
				res.ph = ceilShift(res.y1, res.ppy) - floorShift(res.y0, res.ppy)
			}
			// a precinct holds at least one coefficient of the resolution,
			// so there are at most four per coefficient
			if res.pw*res.ph > budget-len(d.precs) {
				return errorf("%d precincts in a resolution of %dx%d: %w", res.pw*res.ph, res.x1-res.x0, res.y1-res.y0, codec.ErrUnsupported)
			}
			res.prec0 = len(d.precs)
			if r == 0 {
				res.nb = 1
			} else {
				res.nb = 3
			}
			cbw, cbh := min(cs.cbw, res.ppx), min(cs.cbh, res.ppy)
			if r > 0 {
				cbw, cbh = min(cs.cbw, res.ppx-1), min(cs.cbh, res.ppy-1)
			}
			for b := 0; b < res.nb; b++ {
				bd := &res.bands[b]
				kind := 0
				nb := nl
				if r > 0 {
					kind = b + 1
					nb = nl - r + 1
				}
				xob, yob := kind&1, kind>>1
				bd.kind = kind
				if nb == 0 {
					bd.x0, bd.y0, bd.x1, bd.y1 = tx0, ty0, tx1, ty1
				} else {
					ox, oy := xob<<(nb-1), yob<<(nb-1)
					bd.x0, bd.y0 = ceilDiv(tx0-ox, 1<<nb), ceilDiv(ty0-oy, 1<<nb)
					bd.x1, bd.y1 = ceilDiv(tx1-ox, 1<<nb), ceilDiv(ty1-oy, 1<<nb)
				}
				bd.cbw, bd.cbh = cbw, cbh
				if r > 0 {
					prev := &tc.res[r-1]
					if xob == 1 {
						bd.offx = prev.x1 - prev.x0
					}
					if yob == 1 {
						bd.offy = prev.y1 - prev.y0
					}
				}
				if err := bd.quantise(q, cs, r, im.prec[c]); err != nil {
					return err
				}
			}
			for p := 0; p < res.pw*res.ph; p++ {
				d.precs = append(d.precs, precinct{})
				pr := &d.precs[len(d.precs)-1]
				ppx, ppy := res.ppx, res.ppy
				if r > 0 {
					ppx--
					ppy--
				}
				gx := floorShift(res.x0, res.ppx) + p%res.pw
				gy := floorShift(res.y0, res.ppy) + p/res.pw
				for b := 0; b < res.nb; b++ {
					bd := &res.bands[b]
					pb := &pr.bands[b]
					rx0, ry0 := max(gx<<ppx, bd.x0), max(gy<<ppy, bd.y0)
					rx1, ry1 := min((gx+1)<<ppx, bd.x1), min((gy+1)<<ppy, bd.y1)
					pb.cblk0 = int32(len(d.cblks))
					if rx0 >= rx1 || ry0 >= ry1 {
						continue
					}
					cx0, cy0 := floorShift(rx0, bd.cbw), floorShift(ry0, bd.cbh)
					cw := ceilShift(rx1, bd.cbw) - cx0
					ch := ceilShift(ry1, bd.cbh) - cy0
					if cw*ch > budget-len(d.cblks) {
						return errorf("more code-blocks than a tile of %dx%d can use: %w", tx1-tx0, ty1-ty0, codec.ErrUnsupported)
					}
					pb.cw, pb.ch = int32(cw), int32(ch)
					for j := 0; j < ch; j++ {
						for i := 0; i < cw; i++ {
							x, y := (cx0+i)<<bd.cbw, (cy0+j)<<bd.cbh
							d.cblks = append(d.cblks, codeBlock{
								x0: max(x, rx0), y0: max(y, ry0),
								x1: min(x+1<<bd.cbw, rx1), y1: min(y+1<<bd.cbh, ry1),
								seg: -1, head: -1, tail: -1,
							})
						}
					}
					pb.incl = int32(d.tagTree(cw, ch))
					pb.zbp = int32(d.tagTree(cw, ch))
				}
			}
		}
	}
	ts.coefLen = total // allocated once the packets are read (decodeTile)
	return nil
}

// quantise sets the band's bit-plane count and step size (T.800 E.1).
func (bd *band) quantise(q *quantStyle, cs *codingStyle, r, prec int) error {
	i := 0
	if r > 0 {
		i = 3*(r-1) + bd.kind
	}
	expn, mant := 0, 0
	switch q.style {
	case 1:
		expn = int(q.expn[0])
		if r > 0 {
			expn -= r - 1
		}
		mant = int(q.mant[0])
	default:
		if i >= q.n {
			return errorf("quantisation marker has %d step sizes, band %d needs one", q.n, i)
		}
		expn, mant = int(q.expn[i]), int(q.mant[i])
	}
	bd.mb = q.guard + expn - 1
	if !cs.reversible {
		gain := [4]int{0, 1, 1, 2}[bd.kind]
		e := prec + gain - expn
		step := float64(1) + float64(mant)/2048
		for ; e > 0; e-- {
			step *= 2
		}
		for ; e < 0; e++ {
			step /= 2
		}
		bd.step = float32(step)
	}
	return nil
}

// tagTree appends a tag tree of w x h leaves to Decoder.nodes and returns
// the index of its first leaf; the levels above follow, the root last.
func (d *Decoder) tagTree(w, h int) int {
	base := len(d.nodes)
	for {
		start := len(d.nodes)
		for range w * h {
			d.nodes = append(d.nodes, tagNode{parent: -1, value: 1 << 30})
		}
		if w == 1 && h == 1 {
			break
		}
		pw, ph := (w+1)/2, (h+1)/2
		next := len(d.nodes)
		for y := range h {
			for x := range w {
				d.nodes[start+y*w+x].parent = int32(next + (y/2)*pw + x/2)
			}
		}
		w, h = pw, ph
	}
	return base
}

// tagDecode reads whether leaf's value is below threshold (T.800 B.10.2).
func (d *Decoder) tagDecode(leaf int, threshold int32, br *bitReader) bool {
	var stk [64]int32
	n := 0
	i := int32(leaf)
	for d.nodes[i].parent >= 0 && n < len(stk) {
		stk[n] = i
		n++
		i = d.nodes[i].parent
	}
	low := int32(0)
	for {
		node := &d.nodes[i]
		if low > node.low {
			node.low = low
		} else {
			low = node.low
		}
		for low < threshold && low < node.value {
			if br.bit() != 0 {
				node.value = low
			} else {
				low++
			}
		}
		node.low = low
		if n == 0 {
			return node.value < threshold
		}
		n--
		i = stk[n]
	}
}

// bitReader reads packet headers: bits MSB first, seven bits in a byte
// after 0xFF (T.800 B.10.1).
type bitReader struct {
	data []byte
	pos  int
	cur  uint32
	ct   uint32
	over bool
}

func (b *bitReader) bit() int {
	if b.ct == 0 {
		if b.pos >= len(b.data) {
			b.over = true
			return 0
		}
		b.ct = 8
		if b.cur == 0xff {
			b.ct = 7
		}
		b.cur = uint32(b.data[b.pos])
		b.pos++
	}
	b.ct--
	return int(b.cur>>b.ct) & 1
}

func (b *bitReader) bits(n int) int {
	v := 0
	for range n {
		v = v<<1 | b.bit()
	}
	return v
}

// align ends a packet header: a header whose last byte is 0xFF is
// followed by one more, its stuffed bit and padding.
func (b *bitReader) align() {
	if b.cur == 0xff {
		if b.pos >= len(b.data) {
			b.over = true
		} else {
			b.pos++
		}
	}
	b.cur, b.ct = 0, 0
}

// readPackets reads every packet of the tile in its progression order.
func (d *Decoder) readPackets(tp *params, ts *tileState) error {
	im := &d.img
	maxRes := 0
	for c := range im.ncomp {
		maxRes = max(maxRes, d.comps[c].nres)
	}
	progs := tp.pocs
	if len(progs) == 0 {
		progs = []poc{{rs: 0, cs: 0, le: tp.layers, re: maxRes, ce: im.ncomp, order: tp.order}}
	}
	for _, pg := range progs {
		pg.le = min(pg.le, tp.layers)
		pg.re = min(pg.re, maxRes)
		pg.ce = min(pg.ce, im.ncomp)
		if err := d.progress(pg, ts); err != nil {
			return err
		}
	}
	return nil
}

func (d *Decoder) progress(pg poc, ts *tileState) error {
	switch pg.order {
	case orderLRCP:
		for l := 0; l < pg.le; l++ {
			if err := d.charge(1); err != nil {
				return err
			}
			for r := pg.rs; r < pg.re; r++ {
				for c := pg.cs; c < pg.ce; c++ {
					if err := d.precinctPackets(ts, c, r, l); err != nil {
						return err
					}
				}
			}
		}
		return nil
	case orderRLCP:
		for r := pg.rs; r < pg.re; r++ {
			for l := 0; l < pg.le; l++ {
				if err := d.charge(1); err != nil {
					return err
				}
				for c := pg.cs; c < pg.ce; c++ {
					if err := d.precinctPackets(ts, c, r, l); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	// position-driven orders: each precinct is visited at its upper-left
	// corner on the reference grid, or at the tile's edge for one that
	// starts before it (T.800 B.12.1.3 to B.12.1.5); a subsampled
	// component's precincts lie XRsiz, YRsiz times as far apart
	d.order = d.order[:0]
	for c := pg.cs; c < pg.ce; c++ {
		tc := &d.comps[c]
		for r := pg.rs; r < min(pg.re, tc.nres); r++ {
			res := &tc.res[r]
			// sorting costs a few iterations per precinct
			if err := d.charge(1 + 8*res.pw*res.ph); err != nil {
				return err
			}
			s := tc.nres - 1 - r
			for p := 0; p < res.pw*res.ph; p++ {
				gx := floorShift(res.x0, res.ppx) + p%res.pw
				gy := floorShift(res.y0, res.ppy) + p/res.pw
				x := max(tc.dx*(gx<<res.ppx<<s), ts.tx0)
				y := max(tc.dy*(gy<<res.ppy<<s), ts.ty0)
				d.order = append(d.order, packetPos{c: int32(c), r: int32(r), p: int32(p), x: x, y: y})
			}
		}
	}
	cmp := func(a, b packetPos) int {
		var ka, kb [4]int
		switch pg.order {
		case orderRPCL:
			ka = [4]int{int(a.r), a.y, a.x, int(a.c)}
			kb = [4]int{int(b.r), b.y, b.x, int(b.c)}
		case orderPCRL:
			ka = [4]int{a.y, a.x, int(a.c), int(a.r)}
			kb = [4]int{b.y, b.x, int(b.c), int(b.r)}
		default:
			ka = [4]int{int(a.c), a.y, a.x, int(a.r)}
			kb = [4]int{int(b.c), b.y, b.x, int(b.r)}
		}
		for i := range ka {
			if ka[i] != kb[i] {
				if ka[i] < kb[i] {
					return -1
				}
				return 1
			}
		}
		return 0
	}
	slices.SortStableFunc(d.order, cmp)
	for _, pp := range d.order {
		for l := 0; l < pg.le; l++ {
			if err := d.packet(ts, int(pp.c), int(pp.r), int(pp.p), l); err != nil {
				return err
			}
		}
	}
	return nil
}

// precinctPackets reads layer l's packets of every precinct of (c, r).
func (d *Decoder) precinctPackets(ts *tileState, c, r, l int) error {
	if err := d.charge(1); err != nil {
		return err
	}
	tc := &d.comps[c]
	if r >= tc.nres {
		return nil
	}
	res := &tc.res[r]
	for p := 0; p < res.pw*res.ph; p++ {
		if err := d.packet(ts, c, r, p, l); err != nil {
			return err
		}
	}
	return nil
}

// packet reads one packet (T.800 B.9, B.10), unless an earlier progression
// already did.
func (d *Decoder) packet(ts *tileState, c, r, p, l int) error {
	tc := &d.comps[c]
	res := &tc.res[r]
	prec := &d.precs[res.prec0+p]
	if err := d.charge(1); err != nil {
		return err // progression order changes may revisit packets many times over
	}
	if int32(l) < prec.next {
		return nil
	}
	prec.next = int32(l + 1)
	if ts.bpos >= len(ts.body) && ts.hdrs == nil {
		return errorf("packet data ends early")
	}
	if ts.sop && ts.bpos+6 <= len(ts.body) && ts.body[ts.bpos] == 0xff && ts.body[ts.bpos+1] == mSOP {
		ts.bpos += 6
	}
	br := bitReader{data: ts.body, pos: ts.bpos}
	if ts.hdrs != nil {
		br = bitReader{data: ts.hdrs, pos: ts.hpos}
	}
	d.pending = d.pending[:0]
	if br.bit() != 0 {
		for b := 0; b < res.nb; b++ {
			pb := &prec.bands[b]
			bd := &res.bands[b]
			// a code-block may cost no header bit (its inclusion tag tree
			// already says no): charge it
			if err := d.charge(int(pb.cw * pb.ch)); err != nil {
				return err
			}
			for i := 0; i < int(pb.cw*pb.ch); i++ {
				cb := &d.cblks[int(pb.cblk0)+i]
				var in bool
				if !cb.included {
					in = d.tagDecode(int(pb.incl)+i, int32(l+1), &br)
				} else {
					in = br.bit() != 0
				}
				if br.over {
					return errorf("packet header ends early")
				}
				if !in {
					continue
				}
				if !cb.included {
					z := int32(0)
					for !d.tagDecode(int(pb.zbp)+i, z+1, &br) {
						z++
						if z > 74 || br.over {
							return errorf("corrupt zero bit-plane count")
						}
					}
					cb.numbps = int32(bd.mb+tc.roi) - z
					if cb.numbps > 30 {
						return errorf("%d bit-planes in a code-block: %w", cb.numbps, codec.ErrUnsupported)
					}
					cb.lblock = 3
					cb.included = true
				}
				n := numPasses(&br)
				for br.bit() != 0 {
					cb.lblock++
					if cb.lblock > 32 || br.over {
						return errorf("corrupt code-block length")
					}
				}
				if err := d.readLengths(cb, n, tc.cs.cbStyle, &br); err != nil {
					return err
				}
			}
		}
	}
	br.align()
	if br.over {
		return errorf("packet header ends early")
	}
	if ts.eph && br.pos+2 <= len(br.data) && br.data[br.pos] == 0xff && br.data[br.pos+1] == mEPH {
		br.pos += 2
	}
	if ts.hdrs != nil {
		ts.hpos = br.pos
	} else {
		if d.tracePacket != nil {
			d.tracePacket(ts.tile, ts.bpos, br.pos)
		}
		ts.bpos = br.pos
	}
	for _, fi := range d.pending {
		fr := &d.frags[fi]
		if int(fr.n) > len(ts.body)-ts.bpos {
			return errorf("packet data ends early")
		}
		fr.off = int32(ts.bpos)
		ts.bpos += int(fr.n)
	}
	return nil
}

// numPasses reads the number of new coding passes (T.800 table B.4).
func numPasses(br *bitReader) int {
	if br.bit() == 0 {
		return 1
	}
	if br.bit() == 0 {
		return 2
	}
	if n := br.bits(2); n != 3 {
		return 3 + n
	}
	if n := br.bits(5); n != 31 {
		return 6 + n
	}
	return 37 + br.bits(7)
}

// readLengths reads the lengths of n new passes of cb, split into its
// codeword segments (T.800 B.10.7), as pending fragments.
func (d *Decoder) readLengths(cb *codeBlock, n int, style byte, br *bitReader) error {
	for n > 0 {
		if cb.seg < 0 || cb.segPasses == cb.segMax {
			switch {
			case style&styleHT != 0:
				cb.segMax = htSegMax(cb.seg, n)
			case style&styleTermAll != 0:
				cb.segMax = 1
			case style&styleBypass != 0:
				if cb.seg < 0 {
					cb.segMax = 10
				} else if cb.segMax == 1 || cb.segMax == 10 {
					cb.segMax = 2
				} else {
					cb.segMax = 1
				}
			default:
				cb.segMax = 1 << 20
			}
			cb.seg++
			cb.segPasses = 0
		}
		take := min(int32(n), cb.segMax-cb.segPasses)
		bits := int(cb.lblock)
		for v := take; v > 1; v >>= 1 {
			bits++
		}
		length := br.bits(bits)
		if br.over {
			return errorf("packet header ends early")
		}
		if length > 1<<30 {
			return errorf("code-block segment of %d bytes", length)
		}
		if len(d.frags) >= 1<<30 {
			return errorf("too many code-block segments")
		}
		fi := int32(len(d.frags))
		d.frags = append(d.frags, fragment{n: int32(length), passes: take, seg: cb.seg, next: -1})
		if cb.tail >= 0 {
			d.frags[cb.tail].next = fi
		} else {
			cb.head = fi
		}
		cb.tail = fi
		d.pending = append(d.pending, fi)
		cb.segPasses += take
		cb.passes += take
		n -= int(take)
	}
	return nil
}
