package jpeg2000

import (
	"slices"
	"unsafe"

	"github.com/dicom-remap/dicom-remap/codec"
)

// Strip decoding: a tile whose coefficients would take more than
// stripMinCoef x 4 bytes is reconstructed in strips of output rows, so
// that memory beyond the frame stays bounded whatever the tile's height
// (issue 20: a kilobyte declaring 16384 x 16384 pixels must not cost five
// times the frame).
//
// Each resolution level keeps a sliding window of its horizontally
// synthesised rows, low-pass and high-pass apart; the vertical lifting of
// a strip runs on a copy of the rows it needs, margins included, so that
// every sample it keeps sees exactly the operations of the whole-tile
// path: the same values, the same order, the symmetric extension only at
// the tile-component's edges. A level pulls its low-pass rows from the
// level below it, and its sub-band rows from code-block rows that tier-1
// decodes as they are first needed, each block once.
//
// The threshold, 2 M coefficients (8 MiB: a 1448 x 1448 grey or an
// 836 x 836 colour tile), is about what the strips themselves take for
// the widths of medical images (a 4096-sample-wide tile's strips take
// 6 MiB, see stripHeight): below it the whole-tile path, a few percent
// faster, costs no more than strips would.
const stripMinCoef = 2 << 20

// stripHeight is the output rows of a strip of n components of w
// samples: 256 K samples, 1 MiB, so that a level's few buffers of a strip
// stay a few MiB, and at least 16 rows, so that the vertical margins (4
// rows of each kind a level at most) stay a small part of the work.
func stripHeight(w, n int) int {
	return max(16, min(256, (256<<10)/max(1, w*n)))
}

// growSlack is grow with a quarter more room when it reallocates, so that
// sizes that vary a little from strip to strip settle in a few
// allocations.
func growSlack[T any](b *[]T, n int) []T {
	if cap(*b) < n {
		*b = make([]T, n+n/4)
	}
	return (*b)[:n]
}

// WorkingSet is the memory, in bytes, that decoding a frame of cols x
// rows pixels of n components takes besides the frame and the records of
// its code-blocks, whatever its tiling: a whole tile's coefficients (4
// bytes a sample) up to stripMinCoef, else the strips' buffers, which
// grow with the tile's width only. Measured: 7.7 MiB for a 4096-wide grey
// tile, 10.4 MiB for a 2048-wide colour one; the count allows 8 strips of
// rows and 256 rows for the code-block rows being read (code-blocks up to
// 64 rows high, as every encoder writes them, over three bands and the
// levels below; taller ones take more).
func WorkingSet(cols, rows, n int) int64 {
	// a tile just under the threshold, or one that strips would cost more,
	// decodes whole; strips cost more the wider the tile
	samples := int64(cols) * int64(rows) * int64(n)
	return min(4*samples, max(4*stripMinCoef, stripCost(cols, n)))
}

// stripCost is WorkingSet's count of the strips of a tile of w columns
// and n components.
func stripCost(w, n int) int64 {
	return 4 * int64(w) * int64(n) * int64(8*stripHeight(w, n)+256)
}

// rowBuf holds rows [start, end) of a sequence of rows of w samples, in
// a buffer it reuses: rows are added after end and dropped below start.
type rowBuf struct {
	w, base, start, end int
	data                []int32
}

func (b *rowBuf) reset(w int) { b.w, b.base, b.start, b.end = w, 0, 0, 0 }

func (b *rowBuf) row(i int) []int32 {
	o := (i - b.base) * b.w
	return b.data[o : o+b.w : o+b.w]
}

// drop forgets the rows below s.
func (b *rowBuf) drop(s int) { b.start = max(b.start, min(s, b.end)) }

// add appends k rows and returns them, contiguous.
func (b *rowBuf) add(k int) []int32 {
	if (b.end+k-b.base)*b.w > len(b.data) {
		held := b.data[(b.start-b.base)*b.w : (b.end-b.base)*b.w]
		if len(held)+k*b.w > len(b.data) {
			nd := make([]int32, (len(held)+k*b.w)*5/4)
			copy(nd, held)
			b.data = nd
		} else {
			copy(b.data, held)
		}
		b.base = b.start
	}
	s := b.data[(b.end-b.base)*b.w : (b.end+k-b.base)*b.w]
	b.end += k
	return s
}

// stripBand is one sub-band being read row by row: it holds the rows
// [y0, y1) of its current code-block row in its level's arena.
type stripBand struct {
	bd     *band
	w, h   int
	off    int // its region in the level's arena
	y0, y1 int // band rows held (from the band's first)
	jobs   []int32
	next   int
}

// stripLevel is one resolution level's state.
type stripLevel struct {
	rw, rh     int
	snx, sny   int
	casx, casy int
	lo, hi     rowBuf // horizontally synthesised rows by low-pass, high-pass index
	win        []int32
	arena      []int32 // its bands' current code-block rows
	nb         int
	bands      [3]stripBand
}

type stripComp struct {
	lv []stripLevel
}

// stripJob ties a tier-1 job to its band for sorting.
type stripJob struct {
	band int32 // c*100 + r*3 + b
	job  int32
}

// stripState is the strip decoder's scratch, kept between frames.
type stripState struct {
	comps  [maxComps]stripComp
	sjobs  []stripJob
	bandOf []int32 // by code-block: c*100 + r*3 + b
	ids    []int32
	batch  []blockJob
	bids   []int32 // the batch's jobs' indices in Decoder.jobs
	done   []bool  // jobs decoded
	one    []int32
	out    [maxComps]rowBuf
}

// useStrips says whether the tile decodes in strips.
func (d *Decoder) useStrips(ts *tileState) bool {
	if d.stripRows != 0 {
		return d.stripRows > 0
	}
	// a short, wide tile holds fewer coefficients than strips would
	return ts.coefLen > stripMinCoef && stripCost(d.comps[0].x1-d.comps[0].x0, d.img.ncomp) < 4*int64(ts.coefLen)
}

// stripTile decodes the tile in strips of output rows, once its packets
// have been read and its code-blocks planned.
func (d *Decoder) stripTile(tp *params, ts *tileState, dst []byte, f codec.Frame) error {
	im := &d.img
	n := im.ncomp
	mct := tp.mct && n == 3
	if mct && (d.comps[0].cs.reversible != d.comps[1].cs.reversible || d.comps[0].cs.reversible != d.comps[2].cs.reversible) {
		return errorf("component transform over reversible and irreversible components")
	}
	saved, savedJobs := d.coef, d.jobs
	defer func() { d.coef, d.jobs = saved, savedJobs }()
	if err := d.stripSetup(); err != nil {
		return err
	}
	d.workers(1) // d.ws[0], before any block is decoded

	st := &d.strip
	w0 := d.comps[0].x1 - d.comps[0].x0
	H := d.stripRows
	if H <= 0 {
		H = stripHeight(w0, n)
	}
	if mct {
		rows := d.comps[0].y1 - d.comps[0].y0
		if w0 == 0 {
			return nil
		}
		for c := range n {
			st.out[c].reset(w0)
		}
		for j0 := 0; j0 < rows; j0 += H {
			j1 := min(rows, j0+H)
			var bufs [3][]int32
			for c := range n {
				ob := &st.out[c]
				ob.drop(ob.end)
				bufs[c] = ob.add(j1 - j0)
				if err := d.produce(c, d.comps[c].nres-1, j0, j1, bufs[c], w0); err != nil {
					return err
				}
			}
			rev := d.comps[0].cs.reversible
			if d.threads == 1 {
				d.mctRows(d.ws[0], bufs, w0, rev, j0, 0, j1-j0, dst, f)
			} else {
				d.mctStrip(bufs, w0, rev, j0, j1, dst, f)
			}
		}
		return nil
	}
	for c := range n {
		tc := &d.comps[c]
		w, rows := tc.x1-tc.x0, tc.y1-tc.y0
		if w == 0 {
			continue
		}
		ob := &st.out[c]
		ob.reset(w)
		for j0 := 0; j0 < rows; j0 += H {
			j1 := min(rows, j0+H)
			ob.drop(ob.end)
			buf := ob.add(j1 - j0)
			if err := d.produce(c, tc.nres-1, j0, j1, buf, w); err != nil {
				return err
			}
			if d.threads == 1 {
				d.stripOut(d.ws[0], buf, c, j0, 0, j1-j0, dst, f)
			} else {
				d.outStrip(buf, c, j0, j1, dst, f)
			}
		}
	}
	return nil
}

// outStrip and mctStrip share a strip's rows among the workers; apart,
// so that their closures do not make the single thread's variables
// escape.
func (d *Decoder) outStrip(buf []int32, c, j0, j1 int, dst []byte, f codec.Frame) {
	d.parallel(j1-j0, 16, func(wk *worker, lo, hi int) { d.stripOut(wk, buf, c, j0, lo, hi, dst, f) })
}

func (d *Decoder) mctStrip(bufs [3][]int32, w int, rev bool, j0, j1 int, dst []byte, f codec.Frame) {
	d.parallel(j1-j0, 16, func(wk *worker, lo, hi int) { d.mctRows(wk, bufs, w, rev, j0, lo, hi, dst, f) })
}

// stripOut writes rows [lo, hi) of a strip of component c that starts at
// the component's row j0.
func (d *Decoder) stripOut(wk *worker, buf []int32, c, j0, lo, hi int, dst []byte, f codec.Frame) {
	tc := &d.comps[c]
	w := tc.x1 - tc.x0
	for j := lo; j < hi; j++ {
		d.outRow(wk, buf[j*w:j*w+w], c, j0+j, dst, f)
	}
}

// mctRows writes rows [lo, hi) of a strip of three components that
// starts at the components' row j0, through the component transform.
func (d *Decoder) mctRows(wk *worker, bufs [3][]int32, w int, rev bool, j0, lo, hi int, dst []byte, f codec.Frame) {
	for j := lo; j < hi; j++ {
		var rows [3][]int32
		for c := range 3 {
			rows[c] = bufs[c][j*w : j*w+w]
		}
		d.mctRow(wk, rows, rev, j0+j, dst, f)
	}
}

// stripSetup prepares every tile-component's levels and ties the planned
// tier-1 jobs to their bands, by code-block row.
func (d *Decoder) stripSetup() error {
	im := &d.img
	st := &d.strip
	// each code-block's band, then each job's: whatever order planBlocks
	// lists the jobs in, which is the order errors are reported in
	st.bandOf = slices.Grow(st.bandOf[:0], len(d.cblks))[:len(d.cblks)]
	for c := range im.ncomp {
		tc := &d.comps[c]
		for r := 0; r < tc.nres; r++ {
			res := &tc.res[r]
			for p := 0; p < res.pw*res.ph; p++ {
				prec := &d.precs[res.prec0+p]
				for b := 0; b < res.nb; b++ {
					pb := &prec.bands[b]
					for i := 0; i < int(pb.cw*pb.ch); i++ {
						st.bandOf[int(pb.cblk0)+i] = int32(c*100 + r*3 + b)
					}
				}
			}
		}
	}
	st.sjobs = st.sjobs[:0]
	for k := range d.jobs {
		st.sjobs = append(st.sjobs, stripJob{band: st.bandOf[d.jobs[k].cb], job: int32(k)})
	}
	slices.SortStableFunc(st.sjobs, func(a, b stripJob) int {
		if a.band != b.band {
			return int(a.band - b.band)
		}
		return d.cblks[d.jobs[a.job].cb].y0 - d.cblks[d.jobs[b.job].cb].y0
	})
	st.ids = st.ids[:0]
	for _, sj := range st.sjobs {
		st.ids = append(st.ids, sj.job)
	}
	st.done = slices.Grow(st.done[:0], len(d.jobs))[:len(d.jobs)]
	clear(st.done)
	pos := 0
	for c := range im.ncomp {
		tc := &d.comps[c]
		sc := &st.comps[c]
		if cap(sc.lv) < tc.nres {
			sc.lv = make([]stripLevel, tc.nres)
		}
		sc.lv = sc.lv[:tc.nres]
		for r := 0; r < tc.nres; r++ {
			res := &tc.res[r]
			lv := &sc.lv[r]
			lv.rw, lv.rh = res.x1-res.x0, res.y1-res.y0
			lv.nb = res.nb
			lv.casx, lv.casy = res.x0&1, res.y0&1
			lv.snx, lv.sny = 0, 0
			if r > 0 {
				prev := &tc.res[r-1]
				lv.snx, lv.sny = prev.x1-prev.x0, prev.y1-prev.y0
			}
			lv.lo.reset(lv.rw)
			lv.hi.reset(lv.rw)
			size := 0
			for b := 0; b < res.nb; b++ {
				bd := &res.bands[b]
				sb := &lv.bands[b]
				*sb = stripBand{bd: bd, w: bd.x1 - bd.x0, h: bd.y1 - bd.y0, off: size}
				size += sb.w * min(sb.h, 1<<bd.cbh)
				key := int32(c*100 + r*3 + b)
				start := pos
				for pos < len(st.sjobs) && st.sjobs[pos].band == key {
					pos++
				}
				sb.jobs = st.ids[start:pos]
			}
			lv.arena = growSlack(&lv.arena, size)
		}
	}
	return nil
}

// produce writes rows [n0, n1) of resolution r of component c (the
// reconstructed image at that resolution) into dst, stride apart.
// Successive calls for one level ask for successive rows.
func (d *Decoder) produce(c, r, n0, n1 int, dst []int32, stride int) error {
	if n0 >= n1 {
		return nil
	}
	lv := &d.strip.comps[c].lv[r]
	rev := d.comps[c].cs.reversible
	if r == 0 {
		sb := &lv.bands[0]
		return d.bandRows(lv, [3]bandCopy{{sb, n0, n1, dst, stride, 0}}, 1)
	}
	if lv.rh == 1 {
		// one row, low-pass or high-pass by its parity: as liftRows53 and
		// liftRows97 do, a high-pass one is halved
		if lv.casy == 0 {
			if err := d.levelRows(c, r, 1, 0); err != nil {
				return err
			}
			copy(dst[:lv.rw], lv.lo.row(0))
			return nil
		}
		if err := d.levelRows(c, r, 0, 1); err != nil {
			return err
		}
		row := dst[:lv.rw]
		copy(row, lv.hi.row(0))
		if rev {
			for x := range row {
				row[x] /= 2
			}
		} else {
			fr := floats32(row)
			for x := range fr {
				fr[x] = float32(fr[x] * 0.5)
			}
		}
		return nil
	}
	var wn window
	wn.plan(n0, n1, lv.sny, lv.rh-lv.sny, lv.casy, rev)
	// rows below the window are done with: no later strip needs them
	lv.lo.drop(wn.l0)
	lv.hi.drop(wn.h0)
	if err := d.levelRows(c, r, wn.l1, wn.h1); err != nil {
		return err
	}
	// the window's rows, low-pass then high-pass, copied: the lifting
	// changes them, and the next strip needs some of them as they are
	rw := lv.rw
	nl, nh := wn.l1-wn.l0, wn.h1-wn.h0
	win := growSlack(&lv.win, (nl+nh)*rw)
	for i := range nl {
		copy(win[i*rw:i*rw+rw], lv.lo.row(wn.l0+i))
	}
	for i := range nh {
		copy(win[(nl+i)*rw:(nl+i)*rw+rw], lv.hi.row(wn.h0+i))
	}
	wn.stride = rw
	if d.threads == 1 || rw < 256 {
		wn.lift(win, rev, 0, rw)
	} else {
		d.liftStrip(wn, win, rev, rw)
	}
	cas := lv.casy
	for n := n0; n < n1; n++ {
		var src int
		if (n-cas)&1 == 0 {
			src = (n-cas)>>1 - wn.l0
		} else {
			src = nl + (n-1+cas)>>1 - wn.h0
		}
		copy(dst[(n-n0)*stride:(n-n0)*stride+rw], win[src*rw:src*rw+rw])
	}
	return nil
}

// liftStrip shares a window's columns among the workers.
func (d *Decoder) liftStrip(wn window, win []int32, rev bool, rw int) {
	d.parallel(rw, 128, func(_ *worker, x0, x1 int) { wn.lift(win, rev, x0, x1) })
}

// levelRows extends level r's windows to low-pass rows [.., l1) and
// high-pass rows [.., h1): the low-pass rows' first half from the level
// below, the rest from the bands, then each new row lifted horizontally.
func (d *Decoder) levelRows(c, r, l1, h1 int) error {
	lv := &d.strip.comps[c].lv[r]
	rw, snx := lv.rw, lv.snx
	var cp [3]bandCopy
	ncp := 0
	var lo, hi []int32
	l0, h0 := lv.lo.end, lv.hi.end
	if l1 > l0 {
		lo = lv.lo.add(l1 - l0)
		if err := d.produce(c, r-1, l0, l1, lo, rw); err != nil {
			return err
		}
		cp[ncp] = bandCopy{&lv.bands[0], l0, l1, lo[snx:], rw, 0}
		ncp++
	}
	if h1 > h0 {
		hi = lv.hi.add(h1 - h0)
		cp[ncp] = bandCopy{&lv.bands[1], h0, h1, hi, rw, 0}
		cp[ncp+1] = bandCopy{&lv.bands[2], h0, h1, hi[snx:], rw, 0}
		ncp += 2
	}
	if ncp == 0 {
		return nil
	}
	if err := d.bandRows(lv, cp, ncp); err != nil {
		return err
	}
	rev := d.comps[c].cs.reversible
	for _, s := range [2][]int32{lo, hi} {
		k := len(s) / max(1, rw)
		if k == 0 {
			continue
		}
		switch {
		case rev && d.threads == 1:
			rows53(d.ws[0], s, rw, rw, snx, lv.casx, 0, k)
		case rev:
			d.parallel(k, 16, func(w *worker, a, b int) { rows53(w, s, rw, rw, snx, lv.casx, a, b) })
		case d.threads == 1:
			rows97(d.ws[0], floats32(s), rw, rw, snx, lv.casx, 0, k)
		default:
			fs := floats32(s)
			d.parallel(k, 16, func(w *worker, a, b int) { rows97(w, fs, rw, rw, snx, lv.casx, a, b) })
		}
	}
	return nil
}

// bandCopy asks for a band's rows [from, to) copied to dst, stride apart;
// done counts the rows copied so far.
type bandCopy struct {
	sb       *stripBand
	from, to int
	dst      []int32
	stride   int
	done     int
}

// bandRows copies the rows that cp[:n] ask for, decoding code-block rows
// as they are reached: those of all the bands in one batch of tier-1 jobs,
// run in parallel as the whole-tile path runs them.
func (d *Decoder) bandRows(lv *stripLevel, cp [3]bandCopy, n int) error {
	st := &d.strip
	for {
		batch, ids := st.batch[:0], st.bids[:0]
		pending := false
		for i := range n {
			q := &cp[i]
			sb := q.sb
			for y := q.from + q.done; y < q.to && y < sb.y1; y++ {
				if y < sb.y0 {
					return errorf("internal error: band row %d no longer held", y)
				}
				o := sb.off + (y-sb.y0)*sb.w
				copy(q.dst[(y-q.from)*q.stride:(y-q.from)*q.stride+sb.w], lv.arena[o:o+sb.w])
				q.done++
			}
			if q.from+q.done >= q.to {
				continue
			}
			pending = true
			// the next code-block row, zero where no block has data
			bd := sb.bd
			start := bd.y0 + sb.y1
			if sb.y1 >= sb.h {
				return errorf("internal error: band row %d of %d", sb.y1, sb.h)
			}
			end := min(bd.y1, (floorShift(start, bd.cbh)+1)<<bd.cbh)
			sb.y0, sb.y1 = sb.y1, sb.y1+end-start
			clear(lv.arena[sb.off : sb.off+(end-start)*sb.w])
			for sb.next < len(sb.jobs) {
				k := sb.jobs[sb.next]
				j := d.jobs[k]
				cb := &d.cblks[j.cb]
				if cb.y0 >= end {
					break
				}
				j.off = sb.off + (cb.y0-start)*sb.w + cb.x0 - bd.x0
				j.stride = sb.w
				batch = append(batch, j)
				ids = append(ids, k)
				sb.next++
			}
		}
		st.batch, st.bids = batch, ids
		if !pending {
			return nil
		}
		if len(batch) > 0 {
			if err := d.decodeBatch(lv.arena, batch, ids); err != nil {
				return err
			}
		}
	}
}

// decodeBatch runs tier-1 on a batch of jobs whose coefficients go to
// arena. On a failure it reports what the whole-tile path would: the
// first failing block in plan order, decoding alone the blocks not yet
// decoded until it meets it.
func (d *Decoder) decodeBatch(arena []int32, batch []blockJob, ids []int32) error {
	st := &d.strip
	all := d.jobs
	d.coef, d.jobs = arena, batch
	err := d.decodeBlocks(&d.ts)
	d.jobs = all
	if err == nil {
		for _, k := range ids {
			st.done[k] = true
		}
		return nil
	}
	for k := range all {
		if st.done[k] {
			continue
		}
		j := all[k]
		cb := &d.cblks[j.cb]
		w := cb.x1 - cb.x0
		j.off, j.stride = 0, w
		d.coef = grow(&st.one, w*(cb.y1-cb.y0))
		d.jobs = []blockJob{j}
		e := d.decodeBlocks(&d.ts)
		d.jobs = all
		if e != nil {
			return e
		}
		st.done[k] = true
	}
	return err
}

// window is the rows of a level that one strip's vertical lifting needs:
// low-pass rows [l0, l1) and high-pass rows [h0, h1) of sn and dn, and
// for each lifting step the rows it updates. plan finds them backwards
// from the output rows: a step updating row i reads rows i+off and
// i+off+1 of the other kind, clamped at the tile-component's edges
// (symmetric extension); every row read is one the window holds, and
// updated by the earlier steps, so the rows kept are exact.
type window struct {
	sn, dn, cas    int
	l0, l1, h0, h1 int
	stride         int
	ns             int
	steps          [4]liftStep
}

type liftStep struct {
	toHi bool
	a, b int
}

func union(a0, a1, b0, b1 int) (int, int) {
	if a0 >= a1 {
		return b0, b1
	}
	if b0 >= b1 {
		return a0, a1
	}
	return min(a0, b0), max(a1, b1)
}

func (wn *window) plan(n0, n1, sn, dn, cas int, rev bool) {
	wn.sn, wn.dn, wn.cas = sn, dn, cas
	// output row n is low-pass row (n-cas)/2 or high-pass row (n-1+cas)/2
	l0, l1 := max(0, ceilDiv(n0-cas, 2)), min(sn, (n1-1-cas)>>1+1)
	h0, h1 := max(0, ceilDiv(n0-1+cas, 2)), min(dn, (n1-2+cas)>>1+1)
	l1, h1 = max(l0, l1), max(h0, h1)
	wn.ns = 4
	if rev {
		wn.ns = 2
	}
	for s := wn.ns - 1; s >= 0; s-- {
		if s&1 == 0 { // low-pass rows from high-pass rows i+cas-1, i+cas
			wn.steps[s] = liftStep{false, l0, l1}
			if l0 < l1 {
				h0, h1 = union(h0, h1, clamp(l0+cas-1, dn), clamp(l1+cas-1, dn)+1)
			}
		} else { // high-pass rows from low-pass rows i-cas, i-cas+1
			wn.steps[s] = liftStep{true, h0, h1}
			if h0 < h1 {
				l0, l1 = union(l0, l1, clamp(h0-cas, sn), clamp(h1-cas, sn)+1)
			}
		}
	}
	wn.l0, wn.l1, wn.h0, wn.h1 = l0, l1, h0, h1
}

// lift runs the window's lifting steps on columns [x0, x1) of c, which
// holds its low-pass rows then its high-pass rows: the operations of
// liftRows53 and liftRows97, sample for sample.
func (wn *window) lift(c []int32, rev bool, x0, x1 int) {
	nl := wn.l1 - wn.l0
	lo := func(i int) int { return (clamp(i, wn.sn)-wn.l0)*wn.stride + x0 }
	hi := func(i int) int { return (nl+clamp(i, wn.dn)-wn.h0)*wn.stride + x0 }
	n := x1 - x0
	cas := wn.cas
	if rev {
		for s := range wn.ns {
			st := wn.steps[s]
			if !st.toHi {
				a := cas - 1
				for i := st.a; i < st.b; i++ {
					l, h0, h1 := c[lo(i):lo(i)+n], c[hi(i+a):hi(i+a)+n], c[hi(i+a+1):hi(i+a+1)+n]
					for x := range l {
						l[x] -= (h0[x] + h1[x] + 2) >> 2
					}
				}
				continue
			}
			for i := st.a; i < st.b; i++ {
				h, l0, l1 := c[hi(i):hi(i)+n], c[lo(i-cas):lo(i-cas)+n], c[lo(i-cas+1):lo(i-cas+1)+n]
				for x := range h {
					h[x] += (l0[x] + l1[x]) >> 1
				}
			}
		}
		return
	}
	f := floats32(c)
	for i := wn.l0; i < wn.l1; i++ {
		r := f[lo(i) : lo(i)+n]
		for x := range r {
			r[x] = float32(r[x] * k97)
		}
	}
	for i := wn.h0; i < wn.h1; i++ {
		r := f[hi(i) : hi(i)+n]
		for x := range r {
			r[x] = float32(r[x] * invK97)
		}
	}
	for s, k := range [4]float32{delta97, gamma97, beta97, alpha97} {
		st := wn.steps[s]
		if !st.toHi {
			a := cas - 1
			for i := st.a; i < st.b; i++ {
				l, h0, h1 := f[lo(i):lo(i)+n], f[hi(i+a):hi(i+a)+n], f[hi(i+a+1):hi(i+a+1)+n]
				for x := range l {
					l[x] = l[x] - float32(k*(h0[x]+h1[x]))
				}
			}
			continue
		}
		for i := st.a; i < st.b; i++ {
			h, l0, l1 := f[hi(i):hi(i)+n], f[lo(i-cas):lo(i-cas)+n], f[lo(i-cas+1):lo(i-cas+1)+n]
			for x := range h {
				h[x] = h[x] - float32(k*(l0[x]+l1[x]))
			}
		}
	}
}

// floats32 is s seen as float32: irreversible coefficients share the
// integer buffers, as in Decoder.floats.
func floats32(s []int32) []float32 {
	if cap(s) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}
