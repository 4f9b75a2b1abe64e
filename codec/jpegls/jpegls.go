// Package jpegls decodes JPEG-LS (ITU-T T.87 | ISO/IEC 14495-1) frames, the
// DICOM transfer syntaxes 1.2.840.10008.1.2.4.80 (lossless) and .81
// (near-lossless): all three interleave modes, precision 2 to 16 bits, one
// or three components, default or LSE-given coding parameters, and restart
// markers.
//
// The algorithm follows T.87 Annex A; where the standard leaves room (the
// run interruption of sample-interleaved scans), it does what CharLS does,
// since CharLS wrote nearly every JPEG-LS file DICOM has seen.
package jpegls

import (
	"encoding/binary"
	"fmt"

	"github.com/dicom-remap/dicom-remap/codec"
)

const codecName = "jpeg-ls"

// Marker codes (T.81 table B.1, T.87 table C.1).
const (
	markerSOI   = 0xd8
	markerEOI   = 0xd9
	markerSOS   = 0xda
	markerDNL   = 0xdc
	markerDRI   = 0xdd
	markerRST0  = 0xd0
	markerSOF55 = 0xf7
	markerLSE   = 0xf8
	markerAPP8  = 0xe8
)

// Decoder decodes frames; it keeps scratch buffers between calls so that a
// multi-frame image does not allocate per frame. The zero value is ready to
// use. Not safe for concurrent use.
type Decoder struct {
	lines []int32 // two lines (previous and current) per component of a scan, with an edge sample each side
	quant []int8  // gradient quantisation of every difference -maxval..maxval
	qkey  [5]int  // maxval, near, t1, t2, t3 that quant was built for
	ctx   [365]regularContext
	run   [2]runContext
}

// frameHeader is what SOF55 and the LSE and DRI markers before a scan say.
type frameHeader struct {
	precision int
	ids       [3]byte // component identifiers, in frame order
	done      [3]bool // component decoded by an earlier scan
	ncomp     int
	restart   int // lines per restart interval, 0 for none
	// Preset coding parameters of an LSE type 1 marker; 0 means default.
	maxval, t1, t2, t3, reset int
}

func errorf(format string, args ...any) error { return codec.Errorf(codecName, format, args...) }

// Decode decodes one frame's compressed bytes (all fragments of the frame,
// concatenated; a trailing zero padding byte may follow the stream) into
// dst, which is exactly f.Size() bytes long. The stream must end with EOI
// right after its last scan: a lossless stream that lost its end is refused.
func (d *Decoder) Decode(dst, src []byte, f codec.Frame) error {
	size := f.Size()
	if size < 0 || len(dst) != size {
		return errorf("destination of %d bytes for a frame of %d", len(dst), size)
	}
	if f.Samples != 1 && f.Samples != 3 {
		return errorf("%d samples per pixel: %w", f.Samples, codec.ErrUnsupported)
	}
	if len(src) < 2 || src[0] != 0xff || src[1] != markerSOI {
		return errorf("no start of image marker")
	}
	var h frameHeader
	sawFrame := false
	p := 2
	for {
		code, at, err := nextMarker(src, p)
		if err != nil {
			return err
		}
		p = at
		if code == markerEOI {
			if err := codec.AfterEOI(codecName, src[p:]); err != nil {
				return err
			}
			break
		}
		if code >= markerRST0 && code < markerRST0+8 {
			return errorf("restart marker outside a scan")
		}
		if code == 0x01 {
			continue // TEM has no length
		}
		if p+2 > len(src) {
			return errorf("truncated marker segment")
		}
		n := int(binary.BigEndian.Uint16(src[p:]))
		if n < 2 || p+n > len(src) {
			return errorf("marker segment of length %d overruns the data", n)
		}
		seg := src[p+2 : p+n]
		p += n
		switch {
		case code == markerSOF55:
			if sawFrame {
				return errorf("second frame header")
			}
			if err := h.parseFrame(seg, f); err != nil {
				return err
			}
			sawFrame = true
		case code == markerLSE:
			if err := h.parsePreset(seg); err != nil {
				return err
			}
		case code == markerDRI:
			// T.87 C.2.5 lets the interval take one to four bytes.
			if len(seg) < 1 || len(seg) > 4 {
				return errorf("restart interval segment of %d bytes", len(seg))
			}
			h.restart = 0
			for _, b := range seg {
				h.restart = h.restart<<8 | int(b)
			}
		case code == markerSOS:
			if !sawFrame {
				return errorf("scan before the frame header")
			}
			end, err := d.decodeScan(dst, src, seg, p, &h, f)
			if err != nil {
				return err
			}
			p = end
			if h.complete() {
				// The samples are all there, but only EOI proves the
				// data was: a cut stream padded with zeros decodes too.
				code, at, err := nextMarker(src, p)
				if err != nil || code != markerEOI {
					return errorf("no EOI marker after the image: the stream is cut or damaged")
				}
				return codec.AfterEOI(codecName, src[at:])
			}
		case code == markerAPP8:
			// CharLS marks its HP colour transforms with "mrfx" and a
			// transform number; 0 is none.
			if len(seg) >= 5 && string(seg[:4]) == "mrfx" && seg[4] != 0 {
				return errorf("HP colour transform %d (APP8 mrfx): %w", seg[4], codec.ErrUnsupported)
			}
		case code >= 0xe0 && code <= 0xef, code == 0xfe:
			// Application data and comments do not affect decoding.
		case code == markerDNL:
			return errorf("number of lines marker: %w", codec.ErrUnsupported)
		case code >= 0xc0 && code <= 0xcf && code != 0xc4 && code != 0xc8 && code != 0xcc:
			return errorf("frame marker 0x%02x is not JPEG-LS", code)
		default:
			return errorf("unexpected marker 0x%02x", code)
		}
	}
	if !sawFrame {
		return errorf("no frame header")
	}
	if !h.complete() {
		return errorf("image ends before every component was decoded")
	}
	return nil
}

// nextMarker reads the marker at src[p:], skipping the fill bytes (0xFF)
// that may precede it, and returns its code and the offset after it.
func nextMarker(src []byte, p int) (code byte, next int, err error) {
	if p >= len(src) || src[p] != 0xff {
		return 0, 0, errorf("expected a marker at offset %d", p)
	}
	for p < len(src) && src[p] == 0xff {
		p++
	}
	if p >= len(src) {
		return 0, 0, errorf("truncated marker")
	}
	return src[p], p + 1, nil
}

func (h *frameHeader) complete() bool {
	for i := range h.ncomp {
		if !h.done[i] {
			return false
		}
	}
	return true
}

func (h *frameHeader) parseFrame(seg []byte, f codec.Frame) error {
	if len(seg) < 6 {
		return errorf("truncated frame header")
	}
	h.precision = int(seg[0])
	rows := int(binary.BigEndian.Uint16(seg[1:]))
	cols := int(binary.BigEndian.Uint16(seg[3:]))
	h.ncomp = int(seg[5])
	if len(seg) != 6+3*h.ncomp {
		return errorf("frame header of %d bytes for %d components", len(seg), h.ncomp)
	}
	if h.precision < 2 || h.precision > 16 {
		return errorf("precision %d outside 2..16", h.precision)
	}
	if h.precision > f.Bits {
		return errorf("precision %d does not fit %d-bit samples", h.precision, f.Bits)
	}
	if rows == 0 || cols == 0 {
		return errorf("dimensions given elsewhere (DNL or LSE type 4): %w", codec.ErrUnsupported)
	}
	if rows != f.Rows || cols != f.Columns {
		return errorf("stream is %dx%d, frame is %dx%d", cols, rows, f.Columns, f.Rows)
	}
	if h.ncomp != f.Samples {
		return errorf("stream has %d components, frame has %d samples per pixel", h.ncomp, f.Samples)
	}
	for i := range h.ncomp {
		c := seg[6+3*i:]
		h.ids[i] = c[0]
		for j := range i {
			if h.ids[j] == c[0] {
				return errorf("component identifier %d given twice", c[0])
			}
		}
		if c[1] != 0x11 {
			return errorf("sampling factors 0x%02x: %w", c[1], codec.ErrUnsupported)
		}
	}
	return nil
}

func (h *frameHeader) parsePreset(seg []byte) error {
	if len(seg) < 1 {
		return errorf("empty LSE segment")
	}
	switch seg[0] {
	case 1:
	case 2, 3:
		return errorf("LSE type %d (mapping table): %w", seg[0], codec.ErrUnsupported)
	case 4:
		return errorf("LSE type 4 (oversized dimensions): %w", codec.ErrUnsupported)
	default:
		return errorf("LSE type %d", seg[0])
	}
	if len(seg) != 11 {
		return errorf("preset coding parameters of %d bytes", len(seg))
	}
	u := func(i int) int { return int(binary.BigEndian.Uint16(seg[1+2*i:])) }
	h.maxval, h.t1, h.t2, h.t3, h.reset = u(0), u(1), u(2), u(3), u(4)
	return nil
}

// params are a scan's coding parameters (T.87 A.2.1 and C.2.4.1.1).
type params struct {
	maxval, near, t1, t2, t3, reset int
	rng, qbpp, limit                int

	// Derived once for the inner loops.
	step      int // 2*NEAR+1, the quantisation step of errors
	wrap      int // RANGE*step, the modular reduction of A.4.5
	escape    int // LIMIT-qbpp-1: the unary prefix of an escaped regular-mode code
	maxMapped int // 2*RANGE, beyond any valid mapped error value
}

// scanParams combines the frame's precision and preset parameters with the
// scan's NEAR, checking them as T.87 table C.1 bounds them.
func (h *frameHeader) scanParams(near int) (params, error) {
	top := 1<<h.precision - 1
	p := params{maxval: top, near: near}
	if h.maxval != 0 {
		if h.maxval > top {
			return p, errorf("MAXVAL %d exceeds precision %d", h.maxval, h.precision)
		}
		p.maxval = h.maxval
	}
	if near > min(255, p.maxval/2) {
		return p, errorf("NEAR %d too large for MAXVAL %d", near, p.maxval)
	}
	d1, d2, d3 := defaultThresholds(p.maxval, near)
	p.t1, p.t2, p.t3, p.reset = d1, d2, d3, 64
	if h.t1 != 0 {
		p.t1 = h.t1
	}
	if h.t2 != 0 {
		p.t2 = h.t2
	}
	if h.t3 != 0 {
		p.t3 = h.t3
	}
	if h.reset != 0 {
		p.reset = h.reset
	}
	if p.t1 < near+1 || p.t1 > p.maxval || p.t2 < p.t1 || p.t2 > p.maxval || p.t3 < p.t2 || p.t3 > p.maxval {
		return p, errorf("thresholds %d, %d, %d invalid for MAXVAL %d, NEAR %d", p.t1, p.t2, p.t3, p.maxval, near)
	}
	if p.reset < 3 || p.reset > max(255, p.maxval) {
		return p, errorf("RESET %d invalid", p.reset)
	}
	p.rng = (p.maxval+2*near)/(2*near+1) + 1
	p.qbpp = bitLen(p.rng - 1)
	bpp := max(2, bitLen(p.maxval))
	p.limit = 2 * (bpp + max(8, bpp))
	p.step = 2*near + 1
	p.wrap = p.rng * p.step
	p.escape = p.limit - p.qbpp - 1
	p.maxMapped = 2 * p.rng
	return p, nil
}

// bitLen is the number of bits of v, that is ceil(log2(v+1)).
func bitLen(v int) int {
	n := 0
	for ; v > 0; v >>= 1 {
		n++
	}
	return n
}

// defaultThresholds are T1, T2, T3 of T.87 C.2.4.1.1.
func defaultThresholds(maxval, near int) (t1, t2, t3 int) {
	clamp := func(i, j int) int {
		if i > maxval || i < j {
			return j
		}
		return i
	}
	if maxval >= 128 {
		factor := (min(maxval, 4095) + 128) / 256
		t1 = clamp(factor*(3-2)+2+3*near, near+1)
		t2 = clamp(factor*(7-3)+3+5*near, t1)
		t3 = clamp(factor*(21-4)+4+7*near, t2)
		return
	}
	factor := 256 / (maxval + 1)
	t1 = clamp(max(2, 3/factor+3*near), near+1)
	t2 = clamp(max(3, 7/factor+5*near), t1)
	t3 = clamp(max(4, 21/factor+7*near), t2)
	return
}

// decodeScan decodes the scan whose header is seg and whose entropy-coded
// data start at src[p], and returns the offset of the marker after it.
func (d *Decoder) decodeScan(dst, src, seg []byte, p int, h *frameHeader, f codec.Frame) (int, error) {
	if len(seg) < 1 {
		return 0, errorf("empty scan header")
	}
	ns := int(seg[0])
	if ns < 1 || ns > h.ncomp || len(seg) != 1+2*ns+3 {
		return 0, errorf("scan header of %d bytes for %d components", len(seg), ns)
	}
	var comps [3]int // frame indices of the scan's components
	for i := range ns {
		id, table := seg[1+2*i], seg[2+2*i]
		c := -1
		for j := range h.ncomp {
			if h.ids[j] == id {
				c = j
			}
		}
		if c < 0 {
			return 0, errorf("scan names unknown component %d", id)
		}
		if h.done[c] {
			return 0, errorf("component %d coded twice", id)
		}
		if table != 0 {
			return 0, errorf("mapping table %d: %w", table, codec.ErrUnsupported)
		}
		h.done[c] = true
		comps[i] = c
	}
	tail := seg[1+2*ns:]
	near, ilv, pt := int(tail[0]), int(tail[1]), tail[2]
	if pt&0x0f != 0 {
		return 0, errorf("point transform %d: %w", pt&0x0f, codec.ErrUnsupported)
	}
	if ilv > 2 {
		return 0, errorf("interleave mode %d", ilv)
	}
	if ilv == 0 && ns != 1 {
		return 0, errorf("%d components in a scan without interleave", ns)
	}
	prm, err := h.scanParams(near)
	if err != nil {
		return 0, err
	}
	s := scan{params: prm, ctx: &d.ctx, run: &d.run, quant: d.quantTable(prm)}
	s.dst, s.cols, s.rows, s.stride, s.bytes = dst, f.Columns, f.Rows, f.Samples, f.Bits/8
	s.comps = comps[:ns]
	if n := 2 * ns * (f.Columns + 2); cap(d.lines) < n {
		d.lines = make([]int32, n)
	} else {
		d.lines = d.lines[:n]
	}
	s.lines = d.lines
	s.restart = h.restart
	if ilv == 2 && ns > 1 {
		err = s.decodeSampleInterleaved(src, p)
	} else {
		err = s.decodeLineInterleaved(src, p)
	}
	if err != nil {
		return 0, err
	}
	return s.r.markerOffset(), nil
}

// quantTable returns the gradient quantisation (T.87 A.3.3) of every
// difference -maxval..maxval, at index difference+maxval. It is at most
// 128 KiB, reused for every frame with the same parameters.
func (d *Decoder) quantTable(p params) []int8 {
	key := [5]int{p.maxval, p.near, p.t1, p.t2, p.t3}
	n := 2*p.maxval + 1
	if len(d.quant) == n && d.qkey == key {
		return d.quant
	}
	if cap(d.quant) < n {
		d.quant = make([]int8, n)
	}
	d.quant = d.quant[:n]
	for i := range d.quant {
		d.quant[i] = quantize(i-p.maxval, p)
	}
	d.qkey = key
	return d.quant
}

func quantize(di int, p params) int8 {
	switch {
	case di <= -p.t3:
		return -4
	case di <= -p.t2:
		return -3
	case di <= -p.t1:
		return -2
	case di < -p.near:
		return -1
	case di <= p.near:
		return 0
	case di < p.t1:
		return 1
	case di < p.t2:
		return 2
	case di < p.t3:
		return 3
	}
	return 4
}

// String names the parameters, for error messages and tests.
func (p params) String() string {
	return fmt.Sprintf("MAXVAL %d NEAR %d T1 %d T2 %d T3 %d RESET %d", p.maxval, p.near, p.t1, p.t2, p.t3, p.reset)
}
