package ljpeg

import (
	"encoding/binary"

	"github.com/dicom-remap/dicom-remap/codec"
)

// decodeScan decodes the entropy-coded data of a scan that starts at
// src[pos] into dst and returns the position of the marker after it, or -1
// when the data ends without one.
func (d *Decoder) decodeScan(dst, src []byte, pos int, f codec.Frame, fh *frameHeader, s *scanHeader) (int, error) {
	cols := f.Columns
	// With sampling factors 1 an MCU is one pixel of the scan's
	// components, so a line of the scan holds cols*s.n samples.
	n := cols * s.n
	if cap(d.cur) < n {
		d.prev = make([]uint16, n, cols*f.Samples)
		d.cur = make([]uint16, n, cols*f.Samples)
		d.diff = make([]int32, n, cols*f.Samples)
	}
	prev, cur, diff := d.prev[:n], d.cur[:n], d.diff[:n]

	// Restart intervals of whole lines only: T.81 resets the prediction
	// to that of a first line at each restart, which has no agreed
	// meaning for an interval that starts mid-line (libjpeg rejects it).
	restartLines := 0
	if s.restart > 0 {
		if s.restart%cols != 0 {
			return 0, unsupported("restart interval of %d MCUs, not a multiple of the %d MCUs of a line", s.restart, cols)
		}
		restartLines = s.restart / cols
	}
	var tables [3]*huffTable
	for i := 0; i < s.n; i++ {
		tables[i] = &d.tables[s.table[i]]
	}
	initial := int32(1) << (fh.precision - int(s.pt) - 1)
	out := rowWriter{
		dst: dst, bytes: f.Bits / 8, pt: s.pt, mask: uint32(1)<<fh.precision - 1,
		stride: f.Samples, n: s.n, comp: s.comp,
	}
	out.contiguous = s.n == f.Samples
	for i := 0; i < s.n; i++ {
		out.contiguous = out.contiguous && s.comp[i] == i
	}

	r := bitReader{data: src, pos: pos}
	nextRST := 0
	for y := 0; y < f.Rows; y++ {
		first := y == 0
		if restartLines > 0 && y > 0 && y%restartLines == 0 {
			if err := r.restart(nextRST); err != nil {
				return 0, err
			}
			nextRST = (nextRST + 1) & 7
			first = true
		}
		if err := r.decodeDiffs(diff, &tables, s.n); err != nil {
			return 0, err
		}
		if first {
			undifferenceFirst(cur, diff, s.n, initial)
		} else {
			undifference(cur, prev, diff, s.n, s.predictor)
		}
		out.write(cur, y*cols)
		prev, cur = cur, prev
	}
	return r.nextMarker(), nil
}

// restart expects the restart marker RSTm after the current interval and
// starts reading the next interval after it.
func (r *bitReader) restart(m int) error {
	p := r.nextMarker()
	if p < 0 {
		return errorf("stream ends early, before restart marker RST%d", m)
	}
	if r.data[p+1] != byte(markerRST0+m) {
		return errorf("expected restart marker RST%d, found marker 0x%02x", m, r.data[p+1])
	}
	r.pos = p + 2
	return nil
}

// decodeDiffs decodes the differences of one line of a scan, whose
// samples use the Huffman tables of the scan's n components in turn.
func (r *bitReader) decodeDiffs(diff []int32, tables *[3]*huffTable, n int) error {
	// next[c] is the component after c, so that turning to the next table
	// takes no branch.
	next := [3]int{0, 0, 0}
	if n == 2 {
		next = [3]int{1, 0, 0}
	} else if n == 3 {
		next = [3]int{1, 2, 0}
	}
	acc, bits := r.acc, r.n
	t := tables[0]
	c := 0
	for i := range diff {
		// A code and its extra bits take at most 32 bits.
		if bits < 32 {
			r.acc, r.n = acc, bits
			r.fill()
			acc, bits = r.acc, r.n
		}
		e := t.fast[acc>>(64-fastBits)]
		if e&fastDiff != 0 {
			l := uint(e & 0x1F)
			acc <<= l
			bits -= l
			diff[i] = e >> fastShift
		} else {
			var ssss, l uint
			if e != 0 {
				ssss, l = uint(e>>fastShift), uint(e&0x1F)
			} else {
				var ok bool
				if ssss, l, ok = t.decodeSlow(acc); !ok {
					return errorf("invalid huffman code")
				}
			}
			acc <<= l
			bits -= l
			var extra int32
			if ssss < 16 {
				extra = int32(acc >> (64 - ssss))
				acc <<= ssss
				bits -= ssss
			}
			diff[i] = difference(ssss, extra)
		}
		c = next[c]
		t = tables[c]
	}
	r.acc, r.n = acc, bits
	if r.overrun() {
		return errorf("stream ends early, in the entropy-coded data")
	}
	return nil
}

// undifferenceFirst reconstructs the first line of a scan or restart
// interval: each sample is predicted from the one to its left (Ra), the
// first from 2^(P-Pt-1). Samples of a pixel are n apart.
func undifferenceFirst(cur []uint16, diff []int32, n int, initial int32) {
	for i := 0; i < n; i++ {
		cur[i] = uint16(initial + diff[i])
	}
	for i := n; i < len(cur) && i < len(diff); i++ {
		cur[i] = uint16(int32(cur[i-n]) + diff[i])
	}
}

// undifference reconstructs a later line with the selection value's
// predictor (T.81 Table H.1), the first sample of the line from the one
// above (Rb). Sums are modulo 2^16; predictions are exact integers.
func undifference(cur, prev []uint16, diff []int32, n, predictor int) {
	prev = prev[:len(cur)]
	diff = diff[:len(cur)]
	for i := 0; i < n; i++ {
		cur[i] = uint16(int32(prev[i]) + diff[i])
	}
	switch predictor {
	case 1:
		for i := n; i < len(cur); i++ {
			cur[i] = uint16(int32(cur[i-n]) + diff[i])
		}
	case 2:
		for i := n; i < len(cur); i++ {
			cur[i] = uint16(int32(prev[i]) + diff[i])
		}
	case 3:
		for i := n; i < len(cur); i++ {
			cur[i] = uint16(int32(prev[i-n]) + diff[i])
		}
	case 4:
		for i := n; i < len(cur); i++ {
			ra, rb, rc := int32(cur[i-n]), int32(prev[i]), int32(prev[i-n])
			cur[i] = uint16(ra + rb - rc + diff[i])
		}
	case 5:
		for i := n; i < len(cur); i++ {
			ra, rb, rc := int32(cur[i-n]), int32(prev[i]), int32(prev[i-n])
			cur[i] = uint16(ra + (rb-rc)>>1 + diff[i])
		}
	case 6:
		for i := n; i < len(cur); i++ {
			ra, rb, rc := int32(cur[i-n]), int32(prev[i]), int32(prev[i-n])
			cur[i] = uint16(rb + (ra-rc)>>1 + diff[i])
		}
	case 7:
		for i := n; i < len(cur); i++ {
			ra, rb := int32(cur[i-n]), int32(prev[i])
			cur[i] = uint16((ra+rb)>>1 + diff[i])
		}
	}
}

// rowWriter stores reconstructed lines in the output frame.
type rowWriter struct {
	dst        []byte
	bytes      int    // bytes per output sample
	pt         uint   // point transform
	mask       uint32 // 2^P - 1
	stride     int    // samples per pixel of the frame
	n          int    // components of the scan
	comp       [3]int // frame component of each
	contiguous bool   // the scan's samples are the frame's, in order
}

// write stores line, the samples of the scan's components for the pixels
// from pixel on.
func (w *rowWriter) write(line []uint16, pixel int) {
	pt, mask := w.pt, w.mask
	if w.contiguous {
		if w.bytes == 1 {
			out := w.dst[pixel*w.stride:][:len(line)]
			for i, v := range line {
				out[i] = byte(uint32(v) << pt & mask)
			}
			return
		}
		out := w.dst[2*pixel*w.stride:][:2*len(line)]
		for i, v := range line {
			binary.LittleEndian.PutUint16(out[2*i:], uint16(uint32(v)<<pt&mask))
		}
		return
	}
	for i := 0; i < len(line); i += w.n {
		for c := 0; c < w.n; c++ {
			v := uint32(line[i+c]) << pt & mask
			at := (pixel+i/w.n)*w.stride + w.comp[c]
			if w.bytes == 1 {
				w.dst[at] = byte(v)
			} else {
				binary.LittleEndian.PutUint16(w.dst[2*at:], uint16(v))
			}
		}
	}
}
