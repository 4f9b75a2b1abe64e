package jpeg

// Upsampling follows libjpeg 6b's jdsample.c with do_fancy_upsampling on
// (its default): a component at half the horizontal resolution (and the
// full or half vertical one) is interpolated with the triangle filter of
// h2v1_fancy_upsample / h2v2_fancy_upsample, with their weights and their
// alternating rounding bias; any other integral ratio, or a component two
// samples wide or less, is replicated (int_upsample). Rows above the first
// and below the last repeat the edge row, as jdmainct.c's context pointers
// do.

// writeFrame upsamples every component row by row and interleaves the
// samples into dst, bps bytes each, little endian.
func writeFrame[T sample](d *Decoder, ps *planes[T], dst []byte, bps int) {
	n := d.ncomp
	if p8, ok := any(ps).(*planes[uint8]); ok && bps == 1 && n == 3 && horizontalOnly(d) {
		writeInterleaved(d, p8, dst)
		return
	}
	rowLen := d.width * n * bps
	var rows [maxComps][]T
	for y := 0; y < d.height; y++ {
		for i := 0; i < n; i++ {
			rows[i] = upsampleRow(d, ps, i, y)
		}
		out := dst[y*rowLen : (y+1)*rowLen]
		if bps == 1 {
			interleave8(out, rows[:n], d.width)
		} else {
			interleave16(out, rows[:n], d.width)
		}
	}
}

// horizontalOnly reports whether every component is at full resolution
// or takes h2v1 fancy upsampling: the common 4:4:4 and 4:2:2 colour frames.
func horizontalOnly(d *Decoder) bool {
	for i := 0; i < d.ncomp; i++ {
		c := &d.comp[i]
		full := c.h == d.hmax && c.v == d.vmax
		h2v1 := 2*c.h == d.hmax && c.v == d.vmax && c.width > 2
		if !full && !h2v1 {
			return false
		}
	}
	return true
}

// writeInterleaved is writeFrame for 8-bit colour frames that
// horizontalOnly accepts: it upsamples straight into dst, without the row
// buffers, for the same samples.
func writeInterleaved(d *Decoder, ps *planes[uint8], dst []byte) {
	w := d.width
	for y := 0; y < d.height; y++ {
		out := dst[3*w*y : 3*w*(y+1)]
		for i := 0; i < 3; i++ {
			c := &d.comp[i]
			if c.h == d.hmax {
				in := ps.plane[i][y*c.stride : y*c.stride+w]
				for x, v := range in {
					out[3*x+i] = v
				}
				continue
			}
			// h2v1Fancy, writing every third byte and dropping the last
			// sample when the image width is odd
			in := ps.plane[i][y*c.stride : y*c.stride+c.width]
			n := len(in)
			prev, cur := int(in[0]), int(in[1])
			out[i] = in[0]
			out[3+i] = byte((prev*3 + cur + 2) >> 2)
			for j := 2; j < n; j++ {
				next := int(in[j])
				v := cur * 3
				o := (*[6]byte)(out[6*(j-1):])
				o[i] = byte((v + prev + 1) >> 2)
				o[3+i] = byte((v + next + 2) >> 2)
				prev, cur = cur, next
			}
			out[3*(2*n-2)+i] = byte((cur*3 + prev + 1) >> 2)
			if 2*n-1 < w {
				out[3*(2*n-1)+i] = byte(cur)
			}
		}
	}
}

// upsampleRow returns output row y of component i at full resolution (at
// least d.width samples).
func upsampleRow[T sample](d *Decoder, ps *planes[T], i, y int) []T {
	c := &d.comp[i]
	plane := ps.plane[i]
	hf, vf := d.hmax/c.h, d.vmax/c.v
	switch {
	case hf == 1:
		// full width: no work, or vertical replication only
		r := y / vf
		return plane[r*c.stride : r*c.stride+d.width]
	case hf == 2 && vf == 1 && c.width > 2:
		out := ps.row[i]
		h2v1Fancy(out, plane[y*c.stride:y*c.stride+c.width])
		return out
	case hf == 2 && vf == 2 && c.width > 2:
		r := y / 2
		near := plane[r*c.stride : r*c.stride+c.width]
		o := r - 1 // the next nearest row is above for even output rows
		if y&1 == 1 {
			o = r + 1
		}
		o = min(max(o, 0), c.height-1)
		far := plane[o*c.stride : o*c.stride+c.width]
		out := ps.row[i]
		h2v2Fancy(out, near, far)
		return out
	default:
		in := plane[(y/vf)*c.stride:]
		out := ps.row[i][:d.width]
		for x := range out {
			out[x] = in[x/hf]
		}
		return out
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

// interleave8 writes one row of 8-bit samples; only 8-bit precision gets
// here (precision never exceeds bits allocated).
func interleave8[T sample](out []byte, rows [][]T, width int) {
	switch len(rows) {
	case 1:
		r := rows[0][:width]
		out = out[:width]
		for x, v := range r {
			out[x] = byte(v)
		}
	case 3:
		r0 := rows[0][:width]
		r1, r2 := rows[1][:len(r0)], rows[2][:len(r0)]
		for x := range r0 {
			o := (*[3]byte)(out[3*x:])
			o[0], o[1], o[2] = byte(r0[x]), byte(r1[x]), byte(r2[x])
		}
	}
}

// interleave16 writes one row of samples as 16-bit little endian.
func interleave16[T sample](out []byte, rows [][]T, width int) {
	n := len(rows)
	for i, r := range rows {
		r = r[:width]
		for x, v := range r {
			o := (*[2]byte)(out[2*(x*n+i):])
			o[0], o[1] = byte(v), byte(uint16(v)>>8)
		}
	}
}
