package htj2k

// The significance-propagation and magnitude-refinement passes refine the
// cleanup pass by the bit-plane below it. Both scan the
// code-block in stripes of four rows, column by column.

// sigProp decodes SigProp: each insignificant sample with a significant
// neighbour gets a significance bit, then, per group of four columns of a
// stripe, each newly significant sample its sign. Neighbours count as
// significant after cleanup, or after this pass for those scanned before;
// in stripe-causal mode the next stripe does not count.
func (d *Decoder) sigProp(dst []uint32, b *Block) {
	w, h := b.Width, b.Height
	s := w + 2
	fl := grow(d.flags, s*(h+2))
	d.flags = fl
	for y := range h {
		for x := range w {
			if dst[y*w+x] != 0 {
				fl[(y+1)*s+x+1] = 1
			}
		}
	}
	var r fwdReader
	r.init(b.Refine, 0)
	val := uint32(3) << (b.P - 2)
	for y0 := 0; y0 < h; y0 += 4 {
		y1 := min(y0+4, h)
		for gx := 0; gx < w; gx += 4 {
			var list [16]int32
			n := 0
			for x := gx; x < min(gx+4, w); x++ {
				for y := y0; y < y1; y++ {
					i := (y+1)*s + x + 1
					if fl[i] != 0 {
						continue
					}
					nb := fl[i-s-1] | fl[i-s] | fl[i-s+1] | fl[i-1] | fl[i+1]
					if !b.StripeCausal || y+1 < y1 {
						nb |= fl[i+s-1] | fl[i+s] | fl[i+s+1]
					}
					if nb == 0 {
						continue
					}
					if r.bit() != 0 {
						fl[i] = 2
						list[n] = int32(y*w + x)
						n++
					}
				}
			}
			for _, j := range list[:n] {
				dst[j] = r.bit()<<31 | val
			}
		}
	}
}

// magRef decodes MagRef: one bit for each sample significant after the
// cleanup pass, read backward from the end of the refinement segment.
func (d *Decoder) magRef(dst []uint32, b *Block) {
	w, h := b.Width, b.Height
	s := w + 2
	fl := d.flags
	var r revReader
	r.initMRP(b.Refine)
	bit := uint32(1) << (b.P - 1)
	half := uint32(1) << (b.P - 2)
	for y0 := 0; y0 < h; y0 += 4 {
		y1 := min(y0+4, h)
		for x := range w {
			for y := y0; y < y1; y++ {
				if fl[(y+1)*s+x+1] != 1 {
					continue
				}
				j := y*w + x
				dst[j] ^= (1 - r.bit()) * bit
				dst[j] |= half
			}
		}
	}
}
