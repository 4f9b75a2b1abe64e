package jpeg2000

import (
	"encoding/binary"
	"math"

	"github.com/dicom-remap/dicom-remap/codec"
)

// Lifting constants of the 9/7 wavelet (T.800 table F.4).
const (
	alpha97 float32 = -1.586134342059924
	beta97  float32 = -0.052980118572961
	gamma97 float32 = 0.882911075530934
	delta97 float32 = 0.443506852043971
	k97     float32 = 1.230174104914001
	// invK97 should be 1/K = 0.8128930; OpenJPEG (and so GDCM and
	// pydicom) scales the high-pass samples by 1.625732422/2, a 13-bit
	// fixed-point value kept from its first releases. Its 3.3e-5 relative
	// error moves 16-bit samples by up to 3; taking the same value keeps
	// this decoder within one of theirs.
	invK97 float32 = 0.8128662109375
)

// stripWidth is how many columns the vertical pass lifts at a time: a
// strip of every row of the level fits the caches better than whole rows,
// and needs a scratch of rh x stripWidth instead of the level's size.
const stripWidth = 32

// inverseDWT reconstructs a tile-component from its sub-bands, lowest
// resolution first (T.800 F.3): each level transforms rows, then columns.
// The coefficients of a level lie low-pass first, high-pass after, in the
// rectangle at the top left of the tile-component. Rows, then column
// strips, are shared among the workers: each sample sees the same
// operations whatever the split.
func (d *Decoder) inverseDWT(tc *tileComp, base int) {
	stride := tc.x1 - tc.x0
	fcoef := d.floats()
	d.workers(1)
	for r := 1; r < tc.nres; r++ {
		res, prev := &tc.res[r], &tc.res[r-1]
		rw, rh := res.x1-res.x0, res.y1-res.y0
		if rw == 0 || rh == 0 {
			continue
		}
		snx, sny := prev.x1-prev.x0, prev.y1-prev.y0
		casx, casy := res.x0&1, res.y0&1
		strips := (rw + stripWidth - 1) / stripWidth
		// the bodies are methods, and closures are made only for several
		// threads: one thread allocates nothing per frame
		if tc.cs.reversible {
			c := d.coef[base:]
			if d.threads == 1 {
				rows53(d.ws[0], c, stride, rw, snx, casx, 0, rh)
				cols53(d.ws[0], c, stride, rw, rh, sny, casy, 0, strips)
				continue
			}
			d.parallel(rh, 64, func(w *worker, lo, hi int) { rows53(w, c, stride, rw, snx, casx, lo, hi) })
			d.parallel(strips, 4, func(w *worker, lo, hi int) { cols53(w, c, stride, rw, rh, sny, casy, lo, hi) })
		} else {
			c := fcoef[base:]
			if d.threads == 1 {
				rows97(d.ws[0], c, stride, rw, snx, casx, 0, rh)
				cols97(d.ws[0], c, stride, rw, rh, sny, casy, 0, strips)
				continue
			}
			d.parallel(rh, 64, func(w *worker, lo, hi int) { rows97(w, c, stride, rw, snx, casx, lo, hi) })
			d.parallel(strips, 4, func(w *worker, lo, hi int) { cols97(w, c, stride, rw, rh, sny, casy, lo, hi) })
		}
	}
}

// rows53 lifts rows [lo, hi) of a level horizontally and interleaves them.
func rows53(w *worker, c []int32, stride, rw, snx, casx, lo, hi int) {
	line := grow(&w.line, rw)
	for j := lo; j < hi; j++ {
		row := c[j*stride : j*stride+rw]
		lift53(row[:snx], row[snx:], casx)
		interleave(row, snx, casx, line)
	}
}

// cols53 lifts column strips [lo, hi) of a level vertically and
// interleaves their rows.
func cols53(w *worker, c []int32, stride, rw, rh, sny, casy, lo, hi int) {
	tmp := grow(&w.strip, rh*stripWidth)
	for s := lo; s < hi; s++ {
		x0 := s * stripWidth
		sw := min(stripWidth, rw-x0)
		gather(tmp, c[x0:], stride, sw, rh)
		liftRows53(tmp, sw, sw, rh, sny, casy)
		scatter(c[x0:], tmp, stride, sw, rh, sny, casy)
	}
}

func rows97(w *worker, c []float32, stride, rw, snx, casx, lo, hi int) {
	line := grow(&w.fline, rw)
	for j := lo; j < hi; j++ {
		row := c[j*stride : j*stride+rw]
		lift97(row[:snx], row[snx:], casx)
		interleave(row, snx, casx, line)
	}
}

func cols97(w *worker, c []float32, stride, rw, rh, sny, casy, lo, hi int) {
	tmp := grow(&w.fstrip, rh*stripWidth)
	for s := lo; s < hi; s++ {
		x0 := s * stripWidth
		sw := min(stripWidth, rw-x0)
		gather(tmp, c[x0:], stride, sw, rh)
		liftRows97(tmp, sw, sw, rh, sny, casy)
		scatter(c[x0:], tmp, stride, sw, rh, sny, casy)
	}
}

// grow returns (*b)[:n], reallocating when it is too small.
func grow[T any](b *[]T, n int) []T {
	if cap(*b) < n {
		*b = make([]T, n)
	}
	return (*b)[:n]
}

// gather copies sw columns of rh rows of c into tmp, sw apart.
func gather[T int32 | float32](tmp, c []T, stride, sw, rh int) {
	for i := range rh {
		copy(tmp[i*sw:i*sw+sw], c[i*stride:i*stride+sw])
	}
}

// scatter writes the lifted rows of tmp back into c, the low-pass rows
// (the first sn) and the high-pass rows in alternation.
func scatter[T int32 | float32](c, tmp []T, stride, sw, rh, sn, cas int) {
	for i := range rh {
		var dst int
		if i < sn {
			dst = 2*i + cas
		} else {
			dst = 2*(i-sn) + 1 - cas
		}
		copy(c[dst*stride:dst*stride+sw], tmp[i*sw:i*sw+sw])
	}
}

// interleave turns a row of low-pass then high-pass samples into
// alternating ones; cas 1 puts a high-pass sample first.
func interleave[T int32 | float32](row []T, sn, cas int, tmp []T) {
	n := len(row)
	copy(tmp, row)
	lo, hi := tmp[:sn], tmp[sn:n]
	if cas == 0 {
		for i, v := range lo {
			row[2*i] = v
		}
		for i, v := range hi {
			row[2*i+1] = v
		}
	} else {
		for i, v := range lo {
			row[2*i+1] = v
		}
		for i, v := range hi {
			row[2*i] = v
		}
	}
}

// lift53 undoes the 5/3 lifting of one line (T.800 F.3.8.1) held as its
// low-pass samples lo and high-pass samples hi; symmetric extension is
// the clamping of indices. A single sample at an odd coordinate was
// doubled.
func lift53(lo, hi []int32, cas int) {
	sn, dn := len(lo), len(hi)
	if sn+dn == 1 {
		if cas == 1 {
			hi[0] /= 2
		}
		return
	}
	// lo[i] takes hi[i+a] and hi[i+a+1], hi[i] takes lo[i-cas] and
	// lo[i-cas+1]; indices outside are clamped (symmetric extension)
	a := cas - 1
	i0, i1 := interior(sn, dn, a)
	for i := 0; i < i0; i++ {
		lo[i] -= (hi[clamp(i+a, dn)] + hi[clamp(i+a+1, dn)] + 2) >> 2
	}
	if i0 < i1 {
		l, h0, h1 := lo[i0:i1], hi[i0+a:i1+a], hi[i0+a+1:i1+a+1]
		h0, h1 = h0[:len(l)], h1[:len(l)]
		for i := range l {
			l[i] -= (h0[i] + h1[i] + 2) >> 2
		}
	}
	for i := max(i0, i1); i < sn; i++ {
		lo[i] -= (hi[clamp(i+a, dn)] + hi[clamp(i+a+1, dn)] + 2) >> 2
	}
	i0, i1 = interior(dn, sn, -cas)
	for i := 0; i < i0; i++ {
		hi[i] += (lo[clamp(i-cas, sn)] + lo[clamp(i-cas+1, sn)]) >> 1
	}
	if i0 < i1 {
		h, l0, l1 := hi[i0:i1], lo[i0-cas:i1-cas], lo[i0-cas+1:i1-cas+1]
		l0, l1 = l0[:len(h)], l1[:len(h)]
		for i := range h {
			h[i] += (l0[i] + l1[i]) >> 1
		}
	}
	for i := max(i0, i1); i < dn; i++ {
		hi[i] += (lo[clamp(i-cas, sn)] + lo[clamp(i-cas+1, sn)]) >> 1
	}
}

// interior is the range of i in [0, n) for which src[i+off] and
// src[i+off+1] both lie inside a source of m samples.
func interior(n, m, off int) (int, int) {
	i0 := min(max(0, -off), n)
	i1 := max(min(n, m-1-off), i0)
	return i0, i1
}

func clamp(i, n int) int { return max(0, min(i, n-1)) }

// lift97 undoes the 9/7 lifting of one line (T.800 F.3.8.2). Every
// product is rounded to float32 on its own, so no platform fuses it with
// the addition.
func lift97(lo, hi []float32, cas int) {
	sn, dn := len(lo), len(hi)
	if sn+dn == 1 {
		if cas == 1 {
			hi[0] = float32(hi[0] * 0.5)
		}
		return
	}
	for i := range lo {
		lo[i] = float32(lo[i] * k97)
	}
	for i := range hi {
		hi[i] = float32(hi[i] * invK97)
	}
	step97(lo, hi, cas-1, delta97)
	step97(hi, lo, -cas, gamma97)
	step97(lo, hi, cas-1, beta97)
	step97(hi, lo, -cas, alpha97)
}

// step97 is one lifting step: dst[i] -= c * (src[i+off] + src[i+off+1]),
// with clamped indices.
func step97(dst, src []float32, off int, c float32) {
	n := len(src)
	i0, i1 := interior(len(dst), n, off)
	for i := 0; i < i0; i++ {
		dst[i] = dst[i] - float32(c*(src[clamp(i+off, n)]+src[clamp(i+off+1, n)]))
	}
	if i0 < i1 {
		d, s0, s1 := dst[i0:i1], src[i0+off:i1+off], src[i0+off+1:i1+off+1]
		s0, s1 = s0[:len(d)], s1[:len(d)]
		for i := range d {
			d[i] = d[i] - float32(c*(s0[i]+s1[i]))
		}
	}
	for i := max(i0, i1); i < len(dst); i++ {
		dst[i] = dst[i] - float32(c*(src[clamp(i+off, n)]+src[clamp(i+off+1, n)]))
	}
}

// liftRows53 undoes the vertical 5/3 lifting of a level, whole rows at a
// time; the rows stay low-pass first (scatter interleaves them).
func liftRows53(c []int32, stride, rw, rh, sn, cas int) {
	dn := rh - sn
	row := func(i int) []int32 { return c[i*stride : i*stride+rw] }
	if rh == 1 {
		if cas == 1 {
			r := row(0)
			for x := range r {
				r[x] /= 2
			}
		}
		return
	}
	lo := func(i int) []int32 { return row(max(0, min(i, sn-1))) }
	hi := func(i int) []int32 { return row(sn + max(0, min(i, dn-1))) }
	a := cas - 1 // low i's high neighbours: i+a, i+a+1
	for i := range sn {
		l, h0, h1 := lo(i), hi(i+a), hi(i+a+1)
		h0, h1 = h0[:len(l)], h1[:len(l)]
		for x := range l {
			l[x] -= (h0[x] + h1[x] + 2) >> 2
		}
	}
	for i := range dn {
		h, l0, l1 := hi(i), lo(i-cas), lo(i-cas+1)
		l0, l1 = l0[:len(h)], l1[:len(h)]
		for x := range h {
			h[x] += (l0[x] + l1[x]) >> 1
		}
	}
}

func liftRows97(c []float32, stride, rw, rh, sn, cas int) {
	dn := rh - sn
	row := func(i int) []float32 { return c[i*stride : i*stride+rw] }
	if rh == 1 {
		if cas == 1 {
			r := row(0)
			for x := range r {
				r[x] = float32(r[x] * 0.5)
			}
		}
		return
	}
	for i := range sn {
		r := row(i)
		for x := range r {
			r[x] = float32(r[x] * k97)
		}
	}
	for i := range dn {
		r := row(sn + i)
		for x := range r {
			r[x] = float32(r[x] * invK97)
		}
	}
	lo := func(i int) []float32 { return row(max(0, min(i, sn-1))) }
	hi := func(i int) []float32 { return row(sn + max(0, min(i, dn-1))) }
	a := cas - 1
	stepLo := func(k float32) {
		for i := range sn {
			l, h0, h1 := lo(i), hi(i+a), hi(i+a+1)
			h0, h1 = h0[:len(l)], h1[:len(l)]
			for x := range l {
				l[x] = l[x] - float32(k*(h0[x]+h1[x]))
			}
		}
	}
	stepHi := func(k float32) {
		for i := range dn {
			h, l0, l1 := hi(i), lo(i-cas), lo(i-cas+1)
			l0, l1 = l0[:len(h)], l1[:len(h)]
			for x := range h {
				h[x] = h[x] - float32(k*(l0[x]+l1[x]))
			}
		}
	}
	stepLo(delta97)
	stepHi(gamma97)
	stepLo(beta97)
	stepHi(alpha97)
}

// output applies the inverse component transform, the DC level shift and
// clamping, and writes the tile's samples into dst. A subsampled
// component's samples go to their own positions on the reference grid
// only; upsample fills the pixels between them once every tile is done.
func (d *Decoder) output(tp *params, ts *tileState, dst []byte, f codec.Frame) error {
	im := &d.img
	n := im.ncomp
	mct := tp.mct && n == 3
	if mct && (d.comps[0].cs.reversible != d.comps[1].cs.reversible || d.comps[0].cs.reversible != d.comps[2].cs.reversible) {
		return errorf("component transform over reversible and irreversible components")
	}
	// the coefficients are not needed after this: integer rows are
	// transformed in place, float rows are rounded into a worker's line
	if !mct {
		for c := range n {
			rows := d.comps[c].y1 - d.comps[c].y0
			if d.threads == 1 {
				d.outRows(d.workers(1)[0], ts, dst, f, c, 0, rows)
				continue
			}
			d.parallel(rows, 16, func(w *worker, lo, hi int) { d.outRows(w, ts, dst, f, c, lo, hi) })
		}
		return nil
	}
	// the component transform needs components of one size: the first's
	rows := d.comps[0].y1 - d.comps[0].y0
	if d.threads == 1 {
		d.outMCT(d.workers(1)[0], ts, dst, f, 0, rows)
		return nil
	}
	d.parallel(rows, 16, func(w *worker, lo, hi int) { d.outMCT(w, ts, dst, f, lo, hi) })
	return nil
}

// blankTile writes a tile whose coefficients are all zero: the level
// shift of each component (the inverse transforms of zero are zero).
func (d *Decoder) blankTile(ts *tileState, dst []byte, f codec.Frame) {
	im := &d.img
	n, bps := im.ncomp, f.Bits/8
	for c := range n {
		tc := &d.comps[c]
		row := grow(&d.workers(1)[0].line, tc.x1-tc.x0)
		clear(row)
		for j := range tc.y1 - tc.y0 {
			x := tc.x0*tc.dx - im.x0
			y := (tc.y0+j)*tc.dy - im.y0
			d.store(dst, row, c, ((y*f.Columns+x)*n+c)*bps, tc.dx*n*bps, bps)
		}
	}
}

// outRows writes rows [lo, hi) of component c without a component
// transform.
func (d *Decoder) outRows(wk *worker, ts *tileState, dst []byte, f codec.Frame, c, lo, hi int) {
	tc := &d.comps[c]
	w := tc.x1 - tc.x0
	for j := lo; j < hi; j++ {
		off := ts.coefOffset[c] + j*w
		d.outRow(wk, d.coef[off:off+w], c, j, dst, f)
	}
}

// outRow writes row j of component c, its coefficients (float32 ones
// for an irreversible component) in row.
func (d *Decoder) outRow(wk *worker, row []int32, c, j int, dst []byte, f codec.Frame) {
	im := &d.img
	n, bps := im.ncomp, f.Bits/8
	tc := &d.comps[c]
	if !tc.cs.reversible {
		line := grow(&wk.line, len(row))
		roundRow(line, floats32(row))
		row = line
	}
	x := tc.x0*tc.dx - im.x0
	y := (tc.y0+j)*tc.dy - im.y0
	d.store(dst, row, c, ((y*f.Columns+x)*n+c)*bps, tc.dx*n*bps, bps)
}

// outMCT writes rows [lo, hi) of three components through the inverse
// component transform.
func (d *Decoder) outMCT(wk *worker, ts *tileState, dst []byte, f codec.Frame, lo, hi int) {
	tc0 := &d.comps[0]
	tw := tc0.x1 - tc0.x0
	for j := lo; j < hi; j++ {
		var rows [3][]int32
		for c := range 3 {
			off := ts.coefOffset[c] + j*tw
			rows[c] = d.coef[off : off+tw]
		}
		d.mctRow(wk, rows, tc0.cs.reversible, j, dst, f)
	}
}

// mctRow writes row j of three components, their coefficients (float32
// ones when irreversible) in rows, through the inverse component
// transform. The integer rows are transformed in place.
func (d *Decoder) mctRow(wk *worker, rows [3][]int32, rev bool, j int, dst []byte, f codec.Frame) {
	im := &d.img
	n, bps := im.ncomp, f.Bits/8
	tc0 := &d.comps[0]
	tw := len(rows[0])
	if rev {
		y0, y1, y2 := rows[0], rows[1][:len(rows[0])], rows[2][:len(rows[0])]
		for i := range y0 {
			g := y0[i] - (y1[i]+y2[i])>>2
			y0[i], y1[i], y2[i] = y2[i]+g, g, y1[i]+g
		}
	} else {
		var fr [3][]float32
		for c := range 3 {
			fr[c] = floats32(rows[c])
		}
		y0, y1, y2 := fr[0], fr[1][:len(fr[0])], fr[2][:len(fr[0])]
		for i := range y0 {
			y, u, v := y0[i], y1[i], y2[i]
			y0[i] = y + float32(v*1.402)
			y1[i] = y - float32(u*0.34413) - float32(v*0.71414)
			y2[i] = y + float32(u*1.772)
		}
		line := grow(&wk.line, 3*tw)
		for c := range 3 {
			rows[c] = line[c*tw : c*tw+tw]
			roundRow(rows[c], fr[c])
		}
	}
	p := ((tc0.y0+j-im.y0)*f.Columns + tc0.x0 - im.x0) * n * bps
	for c := range n {
		d.store(dst, rows[c], c, p+c*bps, n*bps, bps)
	}
}

const roundMagic float32 = 3 << 22

// roundRow rounds the float samples src into dst.
func roundRow(dst []int32, src []float32) {
	for i, v := range src[:len(dst)] {
		if v > -1<<22 && v < 1<<22 {
			// adding 1.5 x 2^23 leaves no fraction bit in a float32, and
			// the addition rounds half to even: RoundToEven, without the
			// software fallback that GOAMD64=v1 gets for it
			dst[i] = int32(float32(v+roundMagic) - roundMagic)
			continue
		}
		x := math.RoundToEven(float64(v))
		// written so that NaN, from a corrupt stream, also gives a fixed
		// value on every platform
		if !(x > -1<<30) {
			x = -1 << 30
		} else if !(x < 1<<30) {
			x = 1 << 30
		}
		dst[i] = int32(x)
	}
}

// store level-shifts and clamps component c's samples and writes them to
// dst from byte p on, step bytes apart.
func (d *Decoder) store(dst []byte, row []int32, c, p, step, bps int) {
	prec := d.img.prec[c]
	lo, hi, shift := int32(0), int32(1)<<prec-1, int32(1)<<(prec-1)
	if d.img.signed[c] {
		lo, hi, shift = -1<<(prec-1), 1<<(prec-1)-1, 0
	}
	switch bps {
	case 1:
		for _, v := range row {
			dst[p] = byte(max(lo, min(hi, v+shift)))
			p += step
		}
	case 2:
		if step == 2 && p >= 0 && p+2*len(row) <= len(dst) { // one component: contiguous
			out := dst[p : p+2*len(row)]
			for i, v := range row {
				binary.LittleEndian.PutUint16(out[2*i:], uint16(max(lo, min(hi, v+shift))))
			}
			return
		}
		for _, v := range row {
			binary.LittleEndian.PutUint16(dst[p:], uint16(max(lo, min(hi, v+shift))))
			p += step
		}
	default:
		for _, v := range row {
			binary.LittleEndian.PutUint32(dst[p:], uint32(max(lo, min(hi, v+shift))))
			p += step
		}
	}
}

// upsample fills the pixels of subsampled components: pixel (x, y) of the
// reference grid takes the component's sample (x/XRsiz, y/YRsiz), or its
// first column or row where those lie before the image (OpenJPEG's
// opj_decompress -upsample does the same). That sample was written at
// its own position, which upsample never changes, so it works in place:
// first along the rows holding samples, then copying those rows down.
func (d *Decoder) upsample(dst []byte, f codec.Frame) {
	im := &d.img
	n, bps := im.ncomp, f.Bits/8
	px := n * bps
	for c := range n {
		dx, dy := im.dx[c], im.dy[c]
		if dx == 1 && dy == 1 {
			continue
		}
		cx0, cy0 := ceilDiv(im.x0, dx), ceilDiv(im.y0, dy)
		// the row or column that holds the sample for y or x
		home := func(v, v0, dv, cv0 int) int { return max((v0+v)/dv, cv0)*dv - v0 }
		for y := range f.Rows {
			if home(y, im.y0, dy, cy0) != y || dx == 1 {
				continue
			}
			r := dst[y*f.Columns*px+c*bps:]
			for x := range f.Columns {
				if hx := home(x, im.x0, dx, cx0); hx != x {
					copy(r[x*px:x*px+bps], r[hx*px:hx*px+bps])
				}
			}
		}
		for y := range f.Rows {
			hy := home(y, im.y0, dy, cy0)
			if hy == y {
				continue
			}
			to, from := dst[y*f.Columns*px+c*bps:], dst[hy*f.Columns*px+c*bps:]
			for x := range f.Columns {
				copy(to[x*px:x*px+bps], from[x*px:x*px+bps])
			}
		}
	}
}
