package jpeg

// Upsampling follows libjpeg 6b's jdsample.c with do_fancy_upsampling on
// (its default): a component at half the horizontal resolution (and the
// full or half vertical one) is interpolated with the triangle filter of
// h2v1_fancy_upsample / h2v2_fancy_upsample, with their weights and their
// alternating rounding bias; any other integral ratio, or a component two
// samples wide or less, is replicated (int_upsample). Rows above the first
// and below the last repeat the edge row, as jdmainct.c's context pointers
// do.
//
// A component's output depends on that component only (no colour
// conversion here), so each scan writes its components into the frame as
// it decodes them, one MCU row at a time, as libjpeg's main buffer
// controller does: nothing is kept of a component but the window of
// rows that upsampling still needs.

// groupRows is how many rows of component i of scan sc one MCU row
// holds: a non-interleaved scan's MCU is one block.
func groupRows(d *Decoder, sc *scan, i int) int {
	if sc.n == 1 {
		return 8
	}
	return 8 * d.comp[sc.comp[i]].v
}

// needsContext reports whether component c is upsampled with
// h2v2Fancy, which reads the rows above and below each row.
func needsContext(d *Decoder, c *component) bool {
	return d.hmax == 2*c.h && d.vmax == 2*c.v && c.width > 2
}

// keepContext moves the last ctxRows rows of the MCU row just written out
// above the next one, before it is decoded.
func keepContext[T sample](d *Decoder, ps *planes[T], sc *scan, i int) {
	c := &d.comp[sc.comp[i]]
	if !needsContext(d, c) {
		return
	}
	w, g := ps.window[sc.comp[i]], groupRows(d, sc, i)
	copy(w[:ctxRows*c.stride], w[g*c.stride:(g+ctxRows)*c.stride])
}

// writeRows writes into the frame the output rows of component i of scan
// sc that MCU row my completes: all of its rows, or, for a component that
// needs the row below, its rows from the one before it to the one before
// its last (the last too when my is the last MCU row). Rows past the
// component's height only pad the blocks.
func writeRows[T sample](d *Decoder, ps *planes[T], sc *scan, i, my int, last bool) {
	ci := sc.comp[i]
	c := &d.comp[ci]
	g := groupRows(d, sc, i)
	first := my * g // the component row at window row ctxRows
	lo, hi := first, first+g
	if needsContext(d, c) {
		lo, hi = max(first-1, 0), first+g-1
		if last {
			hi = first + g
		}
	}
	hi = min(hi, c.height)
	for r := lo; r < hi; r++ {
		writeRow(d, ps, ci, r, first-ctxRows)
	}
}

// writeRow upsamples row r of component ci, which the window holds from
// component row base on, to the output rows it covers and writes them
// into the frame.
func writeRow[T sample](d *Decoder, ps *planes[T], ci, r, base int) {
	c := &d.comp[ci]
	hf, vf := d.hmax/c.h, d.vmax/c.v
	w := ps.window[ci]
	in := func(r int) []T {
		s := (r - base) * c.stride
		return w[s : s+c.stride]
	}
	n, bps := d.ncomp, d.bps
	rowLen := d.width * n * bps
	y0, y1 := r*vf, min(r*vf+vf, d.height)
	out := func(y int) []byte { return d.dst[y*rowLen : (y+1)*rowLen] }
	switch {
	case hf == 1:
		// full width: no work, or vertical replication only
		src := in(r)[:d.width]
		for y := y0; y < y1; y++ {
			put(out(y), src, ci, n, bps)
		}
	case hf == 2 && vf == 1 && c.width > 2:
		if w8, ok := any(w).([]uint8); ok && bps == 1 && n == 3 {
			s := (r - base) * c.stride
			h2v1Fancy3(out(y0)[ci:], w8[s:s+c.width], d.width)
			return
		}
		up := ps.row[ci]
		h2v1Fancy(up, in(r)[:c.width])
		put(out(y0), up[:d.width], ci, n, bps)
	case hf == 2 && vf == 2 && c.width > 2:
		near := in(r)[:c.width]
		up := ps.row[ci]
		for y := y0; y < y1; y++ {
			o := r - 1 // the next nearest row is above for even output rows
			if y&1 == 1 {
				o = r + 1
			}
			o = min(max(o, 0), c.height-1)
			h2v2Fancy(up, near, in(o)[:c.width])
			put(out(y), up[:d.width], ci, n, bps)
		}
	default:
		src := in(r)
		up := ps.row[ci][:d.width]
		for x := range up {
			up[x] = src[x/hf]
		}
		for y := y0; y < y1; y++ {
			put(out(y), up, ci, n, bps)
		}
	}
}

// h2v1Fancy is h2v1_fancy_upsample for one row: each output sample is 3/4
// of the nearer input and 1/4 of the further one, rounding alternately
// down (+1) and up (+2). len(in) > 2; out gets 2*len(in) samples.
func h2v1Fancy[T sample](out, in []T) {
	n := len(in)
	out = out[:2*n]
	prev, cur := int(in[0]), int(in[1])
	out[0] = in[0]
	out[1] = T((prev*3 + cur + 2) >> 2)
	for i := 2; i < n; i++ {
		next := int(in[i])
		v := cur * 3
		o := (*[2]T)(out[2*i-2:])
		o[0] = T((v + prev + 1) >> 2)
		o[1] = T((v + next + 2) >> 2)
		prev, cur = cur, next
	}
	out[2*n-2] = T((cur*3 + prev + 1) >> 2)
	out[2*n-1] = T(cur)
}

// h2v1Fancy3 is h2v1Fancy for 8-bit colour frames (the common 4:2:2): it
// writes every third byte of out, the frame's row from the component's
// first sample on, straight, without the row buffer, and drops the last
// sample when the width w is odd.
func h2v1Fancy3(out []byte, in []uint8, w int) {
	n := len(in)
	prev, cur := int(in[0]), int(in[1])
	out[0] = in[0]
	out[3] = byte((prev*3 + cur + 2) >> 2)
	for j := 2; j < n; j++ {
		next := int(in[j])
		v := cur * 3
		o := (*[4]byte)(out[6*(j-1):])
		o[0] = byte((v + prev + 1) >> 2)
		o[3] = byte((v + next + 2) >> 2)
		prev, cur = cur, next
	}
	out[3*(2*n-2)] = byte((cur*3 + prev + 1) >> 2)
	if 2*n-1 < w {
		out[3*(2*n-1)] = byte(cur)
	}
}

// h2v2Fancy is h2v2_fancy_upsample for one output row: near is the input
// row the output row lies in, far the next nearest; weights 9/16, 3/16,
// 3/16, 1/16 with biases 8 and 7.
func h2v2Fancy[T sample](out, near, far []T) {
	n := len(near)
	out = out[:2*n]
	far = far[:n]
	this := int(near[0])*3 + int(far[0])
	next := int(near[1])*3 + int(far[1])
	out[0] = T((this*4 + 8) >> 4)
	out[1] = T((this*3 + next + 7) >> 4)
	last := this
	this = next
	for i := 1; i < n-1; i++ {
		next = int(near[i+1])*3 + int(far[i+1])
		out[2*i] = T((this*3 + last + 8) >> 4)
		out[2*i+1] = T((this*3 + next + 7) >> 4)
		last = this
		this = next
	}
	out[2*n-2] = T((this*3 + last + 8) >> 4)
	out[2*n-1] = T((this*4 + 7) >> 4)
}

// put writes one output row of component i into out, a row of the frame
// with n samples a pixel of bps bytes (little endian). Only 8-bit
// precision gets here with bps 1 (precision never exceeds bits allocated).
func put[T sample](out []byte, row []T, i, n, bps int) {
	switch {
	case bps == 1 && n == 1:
		if r, ok := any(row).([]uint8); ok {
			copy(out, r)
			return
		}
		out = out[:len(row)]
		for x, v := range row {
			out[x] = byte(v)
		}
	case bps == 1:
		out = out[i:]
		for x, v := range row {
			out[3*x] = byte(v)
		}
	default:
		out = out[2*i:]
		for x, v := range row {
			o := (*[2]byte)(out[2*n*x:])
			o[0], o[1] = byte(v), byte(uint16(v)>>8)
		}
	}
}
