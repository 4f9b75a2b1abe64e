// Package jpeg decodes the sequential DCT JPEG processes that DICOM uses:
// Baseline (1.2.840.10008.1.2.4.50, SOF0, 8-bit) and Extended
// (1.2.840.10008.1.2.4.51, SOF1, 8- and 12-bit), Huffman coded, with one or
// three components, any sampling factors from 1 to 4, interleaved or not,
// and restart markers.
//
// The samples are bit-exact with what the IJG libjpeg 6b code gives with its
// default settings (dcmtk's dcmdjpeg, GDCM): the slow-but-accurate integer
// IDCT (jidctint.c) with its range limiting, and "fancy" triangle
// upsampling for 2:1 chroma (jdsample.c), replication for other integral
// ratios. Components come out as stored (Y Cb Cr stays Y Cb Cr): the DICOM
// header, not a JFIF or Adobe marker, says what they mean, and colour
// conversion is the caller's business.
//
// Memory: each scan is decoded one MCU row at a time into a window of rows
// per component and written into the frame from there (output.go), so the
// working set is a few rows of the width (at most 34 rows and an upsampled
// row per component), whatever the height a stream declares. Progressive
// DCT (SOF2), which would need every coefficient of the image until its
// last scan, is not decoded.
package jpeg

import (
	"fmt"

	"github.com/dicom-remap/dicom-remap/codec"
)

const codecName = "jpeg"

// Markers (ITU-T T.81 table B.1).
const (
	mSOF0  = 0xc0 // baseline
	mSOF1  = 0xc1 // extended sequential, Huffman
	mSOF2  = 0xc2 // progressive, Huffman
	mSOF3  = 0xc3 // lossless, Huffman
	mDHT   = 0xc4
	mSOF5  = 0xc5 // differential (hierarchical) processes: c5-c7, cd-cf
	mJPG   = 0xc8
	mDAC   = 0xcc
	mRST0  = 0xd0
	mSOI   = 0xd8
	mEOI   = 0xd9
	mSOS   = 0xda
	mDQT   = 0xdb
	mDNL   = 0xdc
	mDRI   = 0xdd
	mDHP   = 0xde
	mEXP   = 0xdf
	mSOF55 = 0xf7 // JPEG-LS
)

const maxComps = 3 // DICOM frames have one or three samples per pixel

type component struct {
	id            byte
	h, v          int // sampling factors
	tq            int // quantisation table
	width, height int // samples in this component: the image size scaled by h/hmax, v/vmax, rounded up
	bw, bh        int // blocks that hold those samples
	stride        int // bw*8
	scanned       bool
	dcPred        int
}

// Decoder decodes frames; it keeps scratch buffers between calls so that a
// multi-frame image does not allocate per frame. The zero value is ready to
// use. Not safe for concurrent use.
type Decoder struct {
	// entropy-coded data reader
	src   []byte
	pos   int
	bits  uint64 // next bits, most significant first
	nbits uint   // valid bits in bits
	fake  uint   // zero bits appended past a marker or the end of the data

	quant        [4][64]int32 // natural order
	quantDefined [4]bool
	huff         [2][4]huffTable // [0] DC, [1] AC
	restart      int

	precision     int
	width, height int
	hmax, vmax    int
	ncomp         int
	comp          [maxComps]component

	blk    [64]int32 // coefficients of the block being decoded
	acSeen bool      // whether blk has an AC coefficient

	// Each scan writes its components' samples into dst as it decodes
	// them, bps bytes a sample (little endian), interleaved: a component
	// lies in one scan, and its output depends on it only.
	dst []byte
	bps int

	p8  planes[uint8]
	p16 planes[uint16]
}

// sample is a decoded sample before it is written out: 8-bit precision
// keeps bytes (half the memory traffic), 12-bit needs 16 bits.
type sample interface{ ~uint8 | ~uint16 }

// planes holds, for one sample width, what the decoder keeps of each
// component while a scan streams into the frame: a window of rows (one
// MCU row and the two rows above it, which 2:1 vertical upsampling reads)
// and one upsampled row. Both depend on the frame's width only, never on
// its height: a stream that declares a tall frame costs the frame and
// these few rows.
type planes[T sample] struct {
	window    [maxComps][]T
	row       [maxComps][]T
	limit     *[rangeSize]T
	limitBits int // precision limit was built for
}

// ctxRows is how many rows the window keeps above an MCU row: the last
// two of the one before, for the row above its first row and for its own
// last row, whose output waits for the row below.
const ctxRows = 2

// Decode decodes one frame's compressed bytes (all fragments of the frame,
// concatenated; a trailing zero padding byte may follow the stream) into
// dst, which is exactly f.Size() bytes long. dst is written as the scans
// are decoded: after an error it holds part of a frame.
func (d *Decoder) Decode(dst, src []byte, f codec.Frame) error {
	size := f.Size()
	if size < 0 || len(dst) != size {
		return codec.Errorf(codecName, "destination holds %d bytes, frame %dx%dx%d at %d bits needs %d", len(dst), f.Columns, f.Rows, f.Samples, f.Bits, size)
	}
	if f.Samples != 1 && f.Samples != 3 {
		return codec.Errorf(codecName, "%d samples per pixel: %w", f.Samples, codec.ErrUnsupported)
	}
	if f.Bits != 8 && f.Bits != 16 {
		return codec.Errorf(codecName, "%d bits allocated for lossy JPEG: %w", f.Bits, codec.ErrUnsupported)
	}
	*d = Decoder{p8: d.p8, p16: d.p16, src: src, dst: dst, bps: f.Bits / 8}
	defer func() { d.dst = nil }()
	defer func() { d.src = nil }() // do not keep the caller's frame alive
	if len(src) < 2 || src[0] != 0xff || src[1] != mSOI {
		return codec.Errorf(codecName, "no SOI marker at the start of the stream")
	}
	d.pos = 2
	if err := d.readMarkers(f); err != nil {
		return err
	}
	for i := 0; i < d.ncomp; i++ {
		if !d.comp[i].scanned {
			return codec.Errorf(codecName, "component %d has no scan", d.comp[i].id)
		}
	}
	return nil
}

// readMarkers walks the marker segments up to EOI, which must be there,
// decoding each scan as it comes.
func (d *Decoder) readMarkers(f codec.Frame) error {
	for {
		m, ok := d.nextMarker()
		if !ok {
			if d.ncomp == 0 {
				return codec.Errorf(codecName, "stream ends before a frame header")
			}
			// Without EOI a cut stream (a lost fragment, a zero pad
			// over its last byte) would pass with made-up blocks.
			return codec.Errorf(codecName, "no EOI marker: the stream is cut or damaged")
		}
		switch {
		case m == mEOI:
			if d.ncomp == 0 {
				return codec.Errorf(codecName, "EOI before a frame header")
			}
			return codec.AfterEOI(codecName, d.src[d.pos:])
		case m == mSOI:
			return codec.Errorf(codecName, "second SOI marker")
		case m >= mRST0 && m <= mRST0+7 || m == 0x01:
			continue // standalone; a stray RST or TEM outside a scan is harmless
		}
		seg, err := d.segment(m)
		if err != nil {
			return err
		}
		switch m {
		case mSOF0, mSOF1:
			err = d.readFrame(seg, f)
		case mSOF2:
			err = unsupported("progressive DCT (SOF2)")
		case mSOF3:
			err = unsupported("lossless (SOF3), a JPEG Lossless transfer syntax")
		case mSOF5, mSOF5 + 1, mSOF5 + 2, mDHP, mEXP:
			err = unsupported(fmt.Sprintf("hierarchical (marker %#x)", m))
		case mSOF0 + 9, mSOF0 + 10, mSOF0 + 11, mSOF0 + 13, mSOF0 + 14, mSOF0 + 15, mDAC:
			err = unsupported(fmt.Sprintf("arithmetic coding (marker %#x)", m))
		case mJPG:
			err = unsupported("JPG extension marker")
		case mSOF55:
			err = unsupported("JPEG-LS (SOF55), a JPEG-LS transfer syntax")
		case mDHT:
			err = d.readDHT(seg)
		case mDQT:
			err = d.readDQT(seg)
		case mDRI:
			if len(seg) != 2 {
				return codec.Errorf(codecName, "DRI segment of %d bytes", len(seg))
			}
			d.restart = int(seg[0])<<8 | int(seg[1])
		case mDNL:
			err = unsupported("DNL marker")
		case mSOS:
			err = d.readScan(seg)
		}
		if err != nil {
			return err
		}
	}
}

func unsupported(feature string) error {
	return codec.Errorf(codecName, "%s: %w", feature, codec.ErrUnsupported)
}

// nextMarker finds the next marker from d.pos and returns its code. Bytes
// that are not a marker are skipped, as libjpeg does (with a warning).
func (d *Decoder) nextMarker() (byte, bool) {
	s := d.src
	for i := d.pos; i+1 < len(s); i++ {
		if s[i] != 0xff {
			continue
		}
		m := s[i+1]
		if m == 0 || m == 0xff {
			continue // a stuffed byte, or fill before a marker
		}
		d.pos = i + 2
		return m, true
	}
	d.pos = len(s)
	return 0, false
}

// segment returns the body of the marker segment at d.pos (after the
// length) and moves past it.
func (d *Decoder) segment(m byte) ([]byte, error) {
	if d.pos+2 > len(d.src) {
		return nil, codec.Errorf(codecName, "marker %#x: segment length is truncated", m)
	}
	n := int(d.src[d.pos])<<8 | int(d.src[d.pos+1])
	if n < 2 || d.pos+n > len(d.src) {
		return nil, codec.Errorf(codecName, "marker %#x: segment length %d exceeds the data", m, n)
	}
	seg := d.src[d.pos+2 : d.pos+n]
	d.pos += n
	return seg, nil
}

// readFrame reads SOF0/SOF1 and checks it against the frame the header
// declares before anything is sized from it.
func (d *Decoder) readFrame(seg []byte, f codec.Frame) error {
	if d.ncomp != 0 {
		return codec.Errorf(codecName, "more than one frame header")
	}
	if len(seg) < 6 {
		return codec.Errorf(codecName, "SOF segment of %d bytes", len(seg))
	}
	p := int(seg[0])
	rows := int(seg[1])<<8 | int(seg[2])
	cols := int(seg[3])<<8 | int(seg[4])
	n := int(seg[5])
	if p != 8 && p != 12 {
		return unsupported(fmt.Sprintf("precision %d in a DCT process", p))
	}
	if p > f.Bits {
		return codec.Errorf(codecName, "precision %d does not fit %d bits allocated", p, f.Bits)
	}
	if rows == 0 {
		return unsupported("height defined by a DNL marker")
	}
	if rows != f.Rows || cols != f.Columns {
		return codec.Errorf(codecName, "stream is %dx%d, header says %dx%d", cols, rows, f.Columns, f.Rows)
	}
	if n != f.Samples {
		return codec.Errorf(codecName, "stream has %d components, header says %d samples per pixel", n, f.Samples)
	}
	if len(seg) != 6+3*n {
		return codec.Errorf(codecName, "SOF segment of %d bytes for %d components", len(seg), n)
	}
	d.precision, d.width, d.height = p, cols, rows
	d.hmax, d.vmax = 1, 1
	for i := 0; i < n; i++ {
		c := &d.comp[i]
		c.id = seg[6+3*i]
		c.h, c.v = int(seg[7+3*i]>>4), int(seg[7+3*i]&15)
		c.tq = int(seg[8+3*i])
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 {
			return codec.Errorf(codecName, "component %d: sampling factors %dx%d out of range 1-4", c.id, c.h, c.v)
		}
		if c.tq > 3 {
			return codec.Errorf(codecName, "component %d: quantisation table %d out of range", c.id, c.tq)
		}
		for j := 0; j < i; j++ {
			if d.comp[j].id == c.id {
				return codec.Errorf(codecName, "component id %d appears twice", c.id)
			}
		}
		d.hmax, d.vmax = max(d.hmax, c.h), max(d.vmax, c.v)
	}
	for i := 0; i < n; i++ {
		c := &d.comp[i]
		if d.hmax%c.h != 0 || d.vmax%c.v != 0 {
			// libjpeg refuses these too (JERR_FRACT_SAMPLE_NOTIMPL)
			return unsupported(fmt.Sprintf("fractional sampling ratio %dx%d in %dx%d", c.h, c.v, d.hmax, d.vmax))
		}
		c.width = (cols*c.h + d.hmax - 1) / d.hmax
		c.height = (rows*c.v + d.vmax - 1) / d.vmax
		c.bw, c.bh = (c.width+7)/8, (c.height+7)/8
		c.stride = c.bw * 8
	}
	d.ncomp = n
	// The windows hold at most 2+32 rows of cols+7 samples per component,
	// whatever the number of rows.
	if p == 8 {
		allocPlanes(d, &d.p8)
	} else {
		allocPlanes(d, &d.p16)
	}
	return nil
}

func allocPlanes[T sample](d *Decoder, ps *planes[T]) {
	for i := 0; i < d.ncomp; i++ {
		c := &d.comp[i]
		n := c.stride * (ctxRows + 8*c.v)
		if cap(ps.window[i]) < n {
			ps.window[i] = make([]T, n)
		}
		ps.window[i] = ps.window[i][:n]
		// an upsampled row: 2*width for 2:1 fancy upsampling, hmax/h*stride otherwise
		r := max(2*c.width, d.hmax/c.h*c.stride, d.width)
		if cap(ps.row[i]) < r {
			ps.row[i] = make([]T, r)
		}
		ps.row[i] = ps.row[i][:r]
	}
	if ps.limit == nil || ps.limitBits != d.precision {
		if ps.limit == nil {
			ps.limit = new([rangeSize]T)
		}
		buildRangeLimit(ps.limit, d.precision)
		ps.limitBits = d.precision
	}
}

// readDQT reads quantisation tables, 8- or 16-bit, into natural order.
func (d *Decoder) readDQT(seg []byte) error {
	for len(seg) > 0 {
		pq, tq := seg[0]>>4, int(seg[0]&15)
		if pq > 1 || tq > 3 {
			return codec.Errorf(codecName, "DQT: bad table precision %d or id %d", pq, tq)
		}
		n := 64 * (1 + int(pq))
		if len(seg) < 1+n {
			return codec.Errorf(codecName, "DQT segment is truncated")
		}
		q := &d.quant[tq]
		for k := 0; k < 64; k++ {
			if pq == 0 {
				q[zigzag[k]] = int32(seg[1+k])
			} else {
				q[zigzag[k]] = int32(seg[1+2*k])<<8 | int32(seg[2+2*k])
			}
		}
		d.quantDefined[tq] = true
		seg = seg[1+n:]
	}
	return nil
}

// zigzag maps the k-th coefficient in stream order to its natural
// (row-major) position. The 16 extra entries catch a run that overshoots
// the block, as libjpeg's jpeg_natural_order does.
var zigzag = [64 + 16]uint8{
	0, 1, 8, 16, 9, 2, 3, 10,
	17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34,
	27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36,
	29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46,
	53, 60, 61, 54, 47, 55, 62, 63,
	63, 63, 63, 63, 63, 63, 63, 63,
	63, 63, 63, 63, 63, 63, 63, 63,
}
