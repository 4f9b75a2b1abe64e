// Package ljpeg decodes JPEG Lossless (ITU-T T.81 process 14: SOF3 with
// Huffman coding) as DICOM uses it, transfer syntaxes
// 1.2.840.10008.1.2.4.57 (any selection value) and 1.2.840.10008.1.2.4.70
// (selection value 1).
//
// It decodes precisions 2 to 16, one or three components with sampling
// factors 1, interleaved in one scan or one scan per component, restart
// intervals of whole lines and point transforms.
package ljpeg

import (
	"encoding/binary"
	"fmt"

	"github.com/dicom-remap/dicom-remap/codec"
)

const codecName = "jpeg-lossless"

func errorf(format string, args ...any) error { return codec.Errorf(codecName, format, args...) }

func unsupported(feature string, args ...any) error {
	return &codec.Error{Codec: codecName, Err: fmt.Errorf("%s: %w", fmt.Sprintf(feature, args...), codec.ErrUnsupported)}
}

// JPEG markers (T.81 Table B.1) that the decoder acts on.
const (
	markerTEM  = 0x01
	markerSOF3 = 0xC3
	markerDHT  = 0xC4
	markerDAC  = 0xCC
	markerRST0 = 0xD0
	markerSOI  = 0xD8
	markerEOI  = 0xD9
	markerSOS  = 0xDA
	markerDQT  = 0xDB
	markerDNL  = 0xDC
	markerDRI  = 0xDD
	markerCOM  = 0xFE
)

// Decoder decodes frames; it keeps scratch buffers between calls so that a
// multi-frame image does not allocate per frame. The zero value is ready to
// use. Not safe for concurrent use.
type Decoder struct {
	tables  [4]huffTable
	defined [4]bool
	// Reconstructed samples of the previous and the current line of a
	// scan, and the current line's differences, the samples of a pixel
	// next to each other.
	prev, cur []uint16
	diff      []int32
}

// frameHeader is what the decoder keeps of SOF3.
type frameHeader struct {
	precision int
	ids       [3]byte
	decoded   [3]bool // whether a scan has decoded the component
	n         int     // number of components
}

// scanHeader is what the decoder keeps of SOS.
type scanHeader struct {
	n         int    // components in the scan
	comp      [3]int // index in the frame of each
	table     [3]int // Huffman table of each
	predictor int    // selection value 1-7
	pt        uint   // point transform
	restart   int    // restart interval in MCUs, 0 for none
}

// Decode decodes one frame's compressed bytes (all fragments of the frame,
// concatenated; a trailing zero padding byte may follow the stream) into
// dst, which is exactly f.Size() bytes long. The stream must end with EOI:
// a lossless stream that lost its end is refused.
func (d *Decoder) Decode(dst, src []byte, f codec.Frame) error {
	size := f.Size()
	if size < 0 {
		return errorf("invalid frame %d x %d, %d samples of %d bits", f.Columns, f.Rows, f.Samples, f.Bits)
	}
	if len(dst) != size {
		return errorf("destination holds %d bytes, the frame needs %d", len(dst), size)
	}
	if f.Samples != 1 && f.Samples != 3 {
		return unsupported("%d samples per pixel", f.Samples)
	}
	if f.Bits != 8 && f.Bits != 16 {
		return unsupported("%d bits allocated", f.Bits)
	}
	d.defined = [4]bool{}
	if len(src) < 2 || src[0] != 0xFF || src[1] != markerSOI {
		return errorf("no SOI marker at the start")
	}
	var fh *frameHeader
	restart := 0
	pos := 2
	for {
		// Between segments only a marker may follow, optionally preceded
		// by fill bytes 0xFF.
		for pos+1 < len(src) && src[pos] == 0xFF && src[pos+1] == 0xFF {
			pos++
		}
		if pos+1 >= len(src) || src[pos] != 0xFF {
			if fh != nil && fh.complete() {
				// Every sample was decoded, but without EOI nothing
				// proves the data was: a cut stream padded with zero
				// bytes decodes to wrong samples just as well.
				return errorf("no EOI marker after the image: the stream is cut or damaged")
			}
			if pos+1 >= len(src) {
				return errorf("stream ends early, before the image is complete")
			}
			return errorf("expected a marker at byte %d, found 0x%02x", pos, src[pos])
		}
		marker := src[pos+1]
		pos += 2
		if marker == markerEOI {
			if err := codec.AfterEOI(codecName, src[pos:]); err != nil {
				return err
			}
			break
		}
		if marker == markerTEM {
			continue // standalone, and means nothing here
		}
		if marker >= markerRST0 && marker < markerRST0+8 {
			return errorf("restart marker RST%d outside a scan", marker-markerRST0)
		}
		if marker == markerSOI {
			return errorf("second SOI marker")
		}
		if pos+2 > len(src) {
			return errorf("stream ends early, in the length of marker 0x%02x", marker)
		}
		length := int(binary.BigEndian.Uint16(src[pos:]))
		if length < 2 {
			return errorf("marker 0x%02x segment has length %d", marker, length)
		}
		if pos+length > len(src) {
			return errorf("stream ends early, in the segment of marker 0x%02x", marker)
		}
		seg := src[pos+2 : pos+length]
		pos += length
		switch {
		case marker == markerSOF3:
			if fh != nil {
				return errorf("second frame header")
			}
			h, err := parseFrame(seg, f)
			if err != nil {
				return err
			}
			fh = &h
		case marker >= 0xC0 && marker <= 0xCF && marker != markerDHT && marker != 0xC8 && marker != markerDAC:
			return unsupported("JPEG process of SOF%d (only lossless SOF3 is)", marker-0xC0)
		case marker == markerDAC:
			return unsupported("arithmetic coding")
		case marker == 0xDE || marker == 0xDF:
			return unsupported("hierarchical JPEG")
		case marker == markerDHT:
			if err := d.parseTables(seg); err != nil {
				return err
			}
		case marker == markerDRI:
			if len(seg) != 2 {
				return errorf("DRI segment of %d bytes, want 4", len(seg)+2)
			}
			restart = int(binary.BigEndian.Uint16(seg))
		case marker == markerSOS:
			if fh == nil {
				return errorf("scan before the frame header")
			}
			sh, err := d.parseScan(seg, fh)
			if err != nil {
				return err
			}
			sh.restart = restart
			next, err := d.decodeScan(dst, src, pos, f, fh, &sh)
			if err != nil {
				return err
			}
			for i := 0; i < sh.n; i++ {
				fh.decoded[sh.comp[i]] = true
			}
			if next < 0 {
				if fh.complete() {
					return errorf("no EOI marker after the image: the stream is cut or damaged")
				}
				return errorf("stream ends early, after a scan")
			}
			pos = next
		}
		// Anything else (APPn, COM, DQT, DNL with the height already
		// in SOF, JPGn) carries nothing a lossless decoder needs.
	}
	if fh == nil {
		return errorf("no frame header before EOI")
	}
	if !fh.complete() {
		return errorf("EOI before every component was decoded")
	}
	return nil
}

func (h *frameHeader) complete() bool {
	for i := 0; i < h.n; i++ {
		if !h.decoded[i] {
			return false
		}
	}
	return true
}

// parseFrame reads a SOF3 segment and checks it against the frame the
// DICOM header declares.
func parseFrame(seg []byte, f codec.Frame) (frameHeader, error) {
	var h frameHeader
	if len(seg) < 6 {
		return h, errorf("frame header of %d bytes is too short", len(seg)+2)
	}
	h.precision = int(seg[0])
	rows := int(binary.BigEndian.Uint16(seg[1:]))
	cols := int(binary.BigEndian.Uint16(seg[3:]))
	h.n = int(seg[5])
	if len(seg) != 6+3*h.n {
		return h, errorf("frame header of %d bytes for %d components", len(seg)+2, h.n)
	}
	switch {
	case h.precision < 2 || h.precision > 16:
		return h, errorf("precision %d outside 2-16", h.precision)
	case h.precision > f.Bits:
		return h, errorf("precision %d does not fit %d bits allocated", h.precision, f.Bits)
	case rows == 0:
		return h, unsupported("height defined by a DNL marker")
	case rows != f.Rows || cols != f.Columns:
		return h, errorf("stream is %d x %d, the frame %d x %d", cols, rows, f.Columns, f.Rows)
	case h.n != f.Samples:
		return h, errorf("stream has %d components, the frame %d samples per pixel", h.n, f.Samples)
	}
	for i := 0; i < h.n; i++ {
		c := seg[6+3*i:]
		h.ids[i] = c[0]
		for j := 0; j < i; j++ {
			if h.ids[j] == c[0] {
				return h, errorf("component %d defined twice", c[0])
			}
		}
		hs, vs := c[1]>>4, c[1]&15
		if hs < 1 || hs > 4 || vs < 1 || vs > 4 {
			return h, errorf("component %d has sampling factors %d x %d", c[0], hs, vs)
		}
		// A lone component is never subsampled, whatever its factors say.
		if h.n > 1 && (hs != 1 || vs != 1) {
			return h, unsupported("sampling factors %d x %d", hs, vs)
		}
	}
	return h, nil
}

// parseTables reads a DHT segment, which may hold several tables.
func (d *Decoder) parseTables(seg []byte) error {
	for len(seg) > 0 {
		if len(seg) < 17 {
			return errorf("huffman table segment is truncated")
		}
		class, id := seg[0]>>4, seg[0]&15
		if class > 1 || id > 3 {
			return errorf("huffman table class %d, id %d", class, id)
		}
		var counts [16]uint8
		copy(counts[:], seg[1:17])
		total := 0
		for _, c := range counts {
			total += int(c)
		}
		if total > 256 || len(seg) < 17+total {
			return errorf("huffman table of %d symbols is truncated", total)
		}
		// Lossless scans use only the DC tables (T.81 H.2.2); AC tables
		// of a stray segment are skipped.
		if class == 0 {
			if err := d.tables[id].define(&counts, seg[17:17+total]); err != nil {
				return err
			}
			d.defined[id] = true
		}
		seg = seg[17+total:]
	}
	return nil
}

// parseScan reads an SOS segment.
func (d *Decoder) parseScan(seg []byte, fh *frameHeader) (scanHeader, error) {
	var s scanHeader
	if len(seg) < 1 {
		return s, errorf("empty scan header")
	}
	s.n = int(seg[0])
	if s.n < 1 || s.n > fh.n || len(seg) != 4+2*s.n {
		return s, errorf("scan header of %d bytes for %d components", len(seg)+2, s.n)
	}
	for i := 0; i < s.n; i++ {
		id, tables := seg[1+2*i], seg[2+2*i]
		s.comp[i] = -1
		for j := 0; j < fh.n; j++ {
			if fh.ids[j] == id {
				s.comp[i] = j
			}
		}
		if s.comp[i] < 0 {
			return s, errorf("scan has component %d, not in the frame", id)
		}
		if fh.decoded[s.comp[i]] {
			return s, errorf("component %d is in two scans", id)
		}
		for j := 0; j < i; j++ {
			if s.comp[j] == s.comp[i] {
				return s, errorf("component %d is twice in a scan", id)
			}
		}
		s.table[i] = int(tables >> 4)
		if s.table[i] > 3 || !d.defined[s.table[i]] {
			return s, errorf("scan uses huffman table %d, which is not defined", s.table[i])
		}
	}
	p := seg[1+2*s.n:]
	s.predictor = int(p[0])
	// Se and Ah have no meaning in lossless scans and are ignored.
	s.pt = uint(p[2] & 15)
	if s.predictor < 1 || s.predictor > 7 {
		return s, errorf("selection value %d outside 1-7", s.predictor)
	}
	if int(s.pt) >= fh.precision {
		return s, errorf("point transform %d not below precision %d", s.pt, fh.precision)
	}
	return s, nil
}
