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
		tables[i].build()
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
	acc, bits := r.acc, r.n
	t := tables[0]
	// Gray images have one table, so the loop need not turn tables.
	if n == 1 {
		for i := range diff {
			// A code and its extra bits take at most 32 bits.
			if bits < 32 {
				r.acc, r.n = acc, bits
				r.fill()
				acc, bits = r.acc, r.n
			}
			e := t.fast[acc>>(64-fastBits)]
			v, l := e>>fastShift, uint(e&0x1F)
			if e&fastDiff == 0 {
				var ok bool
				if v, l, ok = t.decodeLong(e, acc); !ok {
					return r.invalidCode(bits)
				}
			}
			acc <<= l
			bits -= l
			diff[i] = v
		}
	} else {
		c := 0
		for i := range diff {
			if bits < 32 {
				r.acc, r.n = acc, bits
				r.fill()
				acc, bits = r.acc, r.n
			}
			e := t.fast[acc>>(64-fastBits)]
			v, l := e>>fastShift, uint(e&0x1F)
			if e&fastDiff == 0 {
				var ok bool
				if v, l, ok = t.decodeLong(e, acc); !ok {
					return r.invalidCode(bits)
				}
			}
			acc <<= l
			bits -= l
			diff[i] = v
			if c++; c == n {
				c = 0
			}
			t = tables[c]
		}
	}
	r.acc, r.n = acc, bits
	if r.overrun() {
		return errEndsInScan
	}
	return nil
}

var errEndsInScan = errorf("stream ends early, in the entropy-coded data")

// invalidCode is the error for a bit pattern that is no Huffman code, with
// bits bits loaded: when fewer than a longest code of them are data, the
// pattern is padding and the stream was cut short.
func (r *bitReader) invalidCode(bits uint) error {
	if bits < r.padded+16 {
		return errEndsInScan
	}
	return errorf("invalid huffman code")
}

// undifferenceFirst reconstructs the first line of a scan or restart
// interval: each sample is predicted from the one to its left (Ra), the
// first from 2^(P-Pt-1). Samples of a pixel are n apart.
func undifferenceFirst(cur []uint16, diff []int32, n int, initial int32) {
	diff = diff[:len(cur)]
	for i := 0; i < n; i++ {
		cur[i] = uint16(initial + diff[i])
	}
	out, d, ra := cur[n:], diff[n:], cur[:len(cur)-n]
	for j := range out {
		out[j] = uint16(int32(ra[j]) + d[j])
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
	// out[j] is the sample whose neighbours left (Ra), above (Rb) and
	// above left (Rc) are ra[j], rb[j] and rc[j]; slices of one length
	// let the compiler drop the bounds checks.
	out := cur[n:]
	d, ra, rb, rc := diff[n:], cur[:len(out)], prev[n:], prev[:len(out)]
	switch predictor {
	case 1:
		for j := range out {
			out[j] = uint16(int32(ra[j]) + d[j])
		}
	case 2:
		for j := range out {
			out[j] = uint16(int32(rb[j]) + d[j])
		}
	case 3:
		for j := range out {
			out[j] = uint16(int32(rc[j]) + d[j])
		}
	case 4:
		for j := range out {
			out[j] = uint16(int32(ra[j]) + int32(rb[j]) - int32(rc[j]) + d[j])
		}
	case 5:
		for j := range out {
			out[j] = uint16(int32(ra[j]) + (int32(rb[j])-int32(rc[j]))>>1 + d[j])
		}
	case 6:
		for j := range out {
			out[j] = uint16(int32(rb[j]) + (int32(ra[j])-int32(rc[j]))>>1 + d[j])
		}
	case 7:
		for j := range out {
			out[j] = uint16((int32(ra[j])+int32(rb[j]))>>1 + d[j])
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
		out := w.dst[2*pixel*w.stride:]
		for len(out) >= 2 && len(line) > 0 {
			v := uint32(line[0]) << pt & mask
			out[0], out[1] = byte(v), byte(v>>8)
			out, line = out[2:], line[1:]
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
