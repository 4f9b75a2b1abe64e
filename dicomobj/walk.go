package dicomobj

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/suyashkumar/dicom/pkg/tag"
)

// Limits of the walk: what no real object needs, so that a hostile file
// costs little.
const (
	maxDepth    = 32      // sequence nesting
	maxElements = 1 << 22 // elements and items in a file
	maxUIValue  = 1 << 16 // a UI value read for its UIDs
	// maxInflated bounds a deflated data set, which is held in memory.
	maxInflated = 1 << 30
	// inflatedHead is how much of a deflated data set a walk that stops
	// at the pixels inflates first: the elements before them, in any real
	// file. The whole data set is inflated only when they do not end there.
	inflatedHead = 16 << 20
)

const undefined = 0xffffffff

// Tags the walk acts on.
const (
	tagItem          = 0xfffee000
	tagItemDelim     = 0xfffee00d
	tagSequenceDelim = 0xfffee0dd
	tagPixelData     = 0x7fe00010
	tagFloatPixels   = 0x7fe00008
	tagDoublePixels  = 0x7fe00009
	tagMetaSOPClass  = 0x00020002
	tagMetaSOP       = 0x00020003
	tagMetaTS        = 0x00020010
	tagMetaImplClass = 0x00020012
	tagMetaImplName  = 0x00020013
	tagSOPClass      = 0x00080016
	tagSOPInstance   = 0x00080018
	tagSeries        = 0x0020000e
	tagRefSOP        = 0x00081155
	tagRefSOPInFile  = 0x00041511
)

// Transfer syntaxes the walk reads differently from Explicit VR Little
// Endian.
const (
	tsImplicitLE = "1.2.840.10008.1.2"
	tsExplicitBE = "1.2.840.10008.1.2.2"
	tsDeflated   = "1.2.840.10008.1.2.1.99"
	tsDeflatedZ  = "1.2.840.10008.1.2.8.1" // JPIP Referenced Deflate
)

// ErrNotDICOM is returned for input that is not a DICOM file at all.
var ErrNotDICOM = errors.New("not a DICOM file")

// element is one data element as it lies in its data set.
type element struct {
	tag      uint32
	vr       string
	start    int64 // the header
	valueOff int64 // the value, or the first item
	length   uint32
	end      int64 // just past the value (and its delimiter)
	lenSize  int   // bytes of the length field: 2 or 4
	items    []*item
	value    []byte           // UI values and file meta values only
	opaque   bool             // a value the walk does not enter (encapsulated pixels, a defined-length UN)
	order    binary.ByteOrder // of its header: little endian inside an undefined-length UN
}

// item is one item of a sequence: a nested data set.
type item struct {
	start, valueOff int64
	length          uint32
	end             int64 // just past the item (and its delimiter)
	contentEnd      int64 // where its elements end: the delimiter, or end
	elems           []*element
	order           binary.ByteOrder
}

// object is a walked file.
type object struct {
	data      io.ReaderAt // the file, or for a deflated file the inflated data set
	meta      []*element  // file meta group, from the file
	metaStart int64       // where the meta group starts (after "DICM")
	dataStart int64       // where the data set starts in data
	dataEnd   int64
	ts        string
	deflated  bool
	order     binary.ByteOrder
	implicit  bool
	elems     []*element // top-level elements of the data set
	pixels    bool       // top-level Pixel Data (7FE0,0010) present
	floatPix  bool       // top-level Float or Double Float Pixel Data present
	stopped   bool       // the walk stopped at Pixel Data
	file      io.ReaderAt
	fileSize  int64
}

// walker reads element headers at offsets of a reader, in one encoding.
type walker struct {
	r        io.ReaderAt
	size     int64
	order    binary.ByteOrder
	implicit bool
	count    int
	buf      [12]byte
}

func (w *walker) fail(off int64, format string, args ...any) error {
	return fmt.Errorf("at byte %d: %s", off, fmt.Sprintf(format, args...))
}

func (w *walker) read(off int64, n int) ([]byte, error) {
	if off < 0 || off+int64(n) > w.size {
		return nil, w.fail(off, "truncated")
	}
	b := w.buf[:n]
	if _, err := w.r.ReadAt(b, off); err != nil && !(errors.Is(err, io.EOF) && off+int64(n) <= w.size) {
		return nil, w.fail(off, "truncated: %v", err)
	}
	return b, nil
}

// Long VRs have a 2-byte reserved field and a 4-byte length.
func longVR(vr string) bool {
	switch vr {
	case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV":
		return true
	}
	return false
}

func validVR(vr string) bool {
	switch vr {
	case "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT", "PN", "SH", "SL", "SS", "ST",
		"TM", "UI", "UL", "US", "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV":
		return true
	}
	return false
}

// implicitVR is the VR of a tag in Implicit VR: the dictionary's, "UN" when
// not known (private tags, say).
func implicitVR(t uint32) string {
	if t&0xffff == 0 {
		return "UL" // group length
	}
	info, err := tag.Find(tag.Tag{Group: uint16(t >> 16), Element: uint16(t)})
	if err != nil || len(info.VRs) == 0 || len(info.VRs[0]) != 2 {
		return "UN"
	}
	return info.VRs[0]
}

// header reads the element header at off.
func (w *walker) header(off int64) (*element, error) {
	b, err := w.read(off, 8)
	if err != nil {
		return nil, err
	}
	e := &element{start: off, order: w.order}
	e.tag = uint32(w.order.Uint16(b))<<16 | uint32(w.order.Uint16(b[2:]))
	group := e.tag >> 16
	switch {
	case group == 0xfffe:
		e.length, e.lenSize, e.valueOff = w.order.Uint32(b[4:]), 4, off+8
	case w.implicit:
		e.vr = implicitVR(e.tag)
		e.length, e.lenSize, e.valueOff = w.order.Uint32(b[4:]), 4, off+8
	default:
		e.vr = string(b[4:6])
		if !validVR(e.vr) {
			return nil, w.fail(off, "element (%04X,%04X) has an invalid VR %q", group, e.tag&0xffff, e.vr)
		}
		if longVR(e.vr) {
			b, err = w.read(off+8, 4)
			if err != nil {
				return nil, err
			}
			e.length, e.lenSize, e.valueOff = w.order.Uint32(b), 4, off+12
		} else {
			e.length, e.lenSize, e.valueOff = uint32(w.order.Uint16(b[6:])), 2, off+8
		}
	}
	if w.count++; w.count > maxElements {
		return nil, w.fail(off, "more than %d elements", maxElements)
	}
	return e, nil
}

// elements walks the data set in [off, end) (end -1: up to an item
// delimiter) and returns its elements and where it ended. With stopAtPixels
// a top-level walk stops at Pixel Data without reading it.
func (w *walker) elements(off, end int64, depth int, stopAtPixels bool, o *object) ([]*element, int64, error) {
	var elems []*element
	for end < 0 || off < end {
		if end < 0 && off >= w.size {
			return nil, off, w.fail(off, "truncated: an item without its delimiter")
		}
		if end >= 0 && end-off < 8 {
			return nil, off, w.fail(off, "%d stray bytes at the end of a data set", end-off)
		}
		e, err := w.header(off)
		if err != nil {
			return nil, off, err
		}
		switch e.tag {
		case tagItemDelim:
			if end >= 0 {
				return nil, off, w.fail(off, "an item delimiter in an item of defined length")
			}
			return elems, off, nil
		case tagItem, tagSequenceDelim:
			return nil, off, w.fail(off, "an item marker outside a sequence")
		}
		if depth == 0 && o != nil {
			switch e.tag {
			case tagPixelData:
				o.pixels = true
				if stopAtPixels {
					o.stopped = true
					return elems, off, nil
				}
			case tagFloatPixels, tagDoublePixels:
				o.floatPix = true
			}
		}
		if err := w.value(e, depth); err != nil {
			return nil, off, err
		}
		if end >= 0 && e.end > end {
			return nil, off, w.fail(off, "element (%04X,%04X) runs past its item", e.tag>>16, e.tag&0xffff)
		}
		elems = append(elems, e)
		off = e.end
	}
	return elems, off, nil
}

// value walks an element's value: items of a sequence, fragments of
// encapsulated data, or the bytes of anything else (read when UI).
func (w *walker) value(e *element, depth int) error {
	switch {
	case e.vr == "SQ" || e.vr == "UN" && e.length == undefined:
		if depth+1 > maxDepth {
			return w.fail(e.start, "sequences nested deeper than %d", maxDepth)
		}
		sub := w
		if e.vr == "UN" {
			// An undefined-length UN is a sequence in Implicit VR Little
			// Endian (PS3.5 6.2.2).
			sub = &walker{r: w.r, size: w.size, order: binary.LittleEndian, implicit: true, count: w.count}
		}
		err := sub.items(e, depth+1)
		w.count = sub.count
		return err
	case e.length == undefined:
		if e.tag != tagPixelData || depth != 0 {
			return w.fail(e.start, "element (%04X,%04X) has an undefined length", e.tag>>16, e.tag&0xffff)
		}
		e.opaque = true
		return w.fragments(e)
	}
	if int64(e.length) > w.size-e.valueOff {
		return w.fail(e.start, "element (%04X,%04X) declares %d bytes, %d are left", e.tag>>16, e.tag&0xffff, e.length, w.size-e.valueOff)
	}
	e.end = e.valueOff + int64(e.length)
	if e.vr == "UN" {
		e.opaque = true
	}
	if (e.vr == "UI" || e.tag>>16 == 2) && e.length <= maxUIValue {
		e.value = make([]byte, e.length)
		if _, err := w.r.ReadAt(e.value, e.valueOff); err != nil && !errors.Is(err, io.EOF) {
			return w.fail(e.valueOff, "read: %v", err)
		}
	}
	return nil
}

// items walks the items of a sequence.
func (w *walker) items(e *element, depth int) error {
	off := e.valueOff
	end := int64(-1)
	if e.length != undefined {
		if int64(e.length) > w.size-off {
			return w.fail(e.start, "sequence (%04X,%04X) declares %d bytes, %d are left", e.tag>>16, e.tag&0xffff, e.length, w.size-off)
		}
		end = off + int64(e.length)
	}
	for end < 0 || off < end {
		h, err := w.header(off)
		if err != nil {
			return err
		}
		if h.tag == tagSequenceDelim {
			if end >= 0 {
				return w.fail(off, "a sequence delimiter in a sequence of defined length")
			}
			e.end = off + 8
			return nil
		}
		if h.tag != tagItem {
			return w.fail(off, "(%04X,%04X) where an item of (%04X,%04X) should be", h.tag>>16, h.tag&0xffff, e.tag>>16, e.tag&0xffff)
		}
		it := &item{start: off, valueOff: off + 8, length: h.length, order: w.order}
		if h.length == undefined {
			it.elems, it.contentEnd, err = w.elements(it.valueOff, -1, depth, false, nil)
			if err != nil {
				return err
			}
			it.end = it.contentEnd + 8
		} else {
			if int64(h.length) > w.size-it.valueOff || end >= 0 && it.valueOff+int64(h.length) > end {
				return w.fail(off, "an item of (%04X,%04X) declares %d bytes, fewer are left", e.tag>>16, e.tag&0xffff, h.length)
			}
			it.contentEnd = it.valueOff + int64(h.length)
			it.elems, _, err = w.elements(it.valueOff, it.contentEnd, depth, false, nil)
			if err != nil {
				return err
			}
			it.end = it.contentEnd
		}
		e.items = append(e.items, it)
		off = it.end
	}
	e.end = end
	return nil
}

// fragments skips the items of encapsulated pixel data.
func (w *walker) fragments(e *element) error {
	off := e.valueOff
	for {
		h, err := w.header(off)
		if err != nil {
			return err
		}
		switch {
		case h.tag == tagSequenceDelim:
			e.end = off + 8
			return nil
		case h.tag != tagItem || h.length == undefined:
			return w.fail(off, "(%04X,%04X) where a pixel data fragment should be", h.tag>>16, h.tag&0xffff)
		case int64(h.length) > w.size-h.valueOff:
			return w.fail(off, "a fragment declares %d bytes, %d are left", h.length, w.size-h.valueOff)
		}
		off = h.valueOff + int64(h.length)
	}
}

// window reads through a buffer: the walk reads a few bytes at a time, and
// a file on disk would pay a system call for each.
type window struct {
	r   io.ReaderAt
	buf []byte
	off int64
	n   int
}

func (w *window) ReadAt(p []byte, off int64) (int, error) {
	if off >= w.off && off+int64(len(p)) <= w.off+int64(w.n) {
		return copy(p, w.buf[off-w.off:]), nil
	}
	if len(p) > len(w.buf)/2 {
		return w.r.ReadAt(p, off)
	}
	n, err := w.r.ReadAt(w.buf, off)
	w.off, w.n = off, n
	if n >= len(p) {
		return copy(p, w.buf[:n]), nil
	}
	copy(p, w.buf[:n])
	return n, err
}

// walk reads the file meta and the data set of a file of size bytes. With
// stopAtPixels the walk ends at a top-level Pixel Data element. When the
// data set does not walk, the object returned with the error holds the file
// meta.
func walk(file io.ReaderAt, size int64, stopAtPixels bool) (*object, error) {
	if !stopAtPixels {
		return walkInflating(file, size, false, maxInflated)
	}
	// Classifying a deflated file inflates what precedes its pixels, not
	// gigabytes of them (a few kilobytes of zeros can declare those, and
	// under a memory limit inflating them whole is fatal).
	o, err := walkInflating(file, size, true, inflatedHead)
	if errors.Is(err, errHeadCut) {
		return walkInflating(file, size, true, maxInflated)
	}
	return o, err
}

// readUpTo reads r to its end or to n bytes, whichever comes first. The
// buffer doubles as it fills, so what it allocates is at most twice what it
// returns (io.ReadAll grows large buffers by a quarter: five times).
func readUpTo(r io.Reader, n int64) ([]byte, error) {
	b := make([]byte, 0, min(n, 64<<10))
	for {
		if len(b) == cap(b) {
			if int64(len(b)) >= n {
				return b, nil
			}
			b = append(make([]byte, 0, min(n, 2*int64(cap(b)))), b...)
		}
		k, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+k]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// errHeadCut says that the first inflatedHead bytes of a deflated data set
// did not reach its Pixel Data.
var errHeadCut = errors.New("the inflated head does not reach the pixel data")

// walkInflating is walk, inflating at most limit bytes of a deflated data
// set: with a limit below maxInflated and stopAtPixels, a data set longer
// than limit whose walk does not stop at the pixels within it gives
// errHeadCut.
func walkInflating(file io.ReaderAt, size int64, stopAtPixels bool, limit int64) (*object, error) {
	src := file
	if _, ok := file.(*bytes.Reader); !ok {
		src = &window{r: file, buf: make([]byte, 32<<10)} // not in memory
	}
	o := &object{file: file, fileSize: size, order: binary.LittleEndian}
	var head [132]byte
	n, _ := src.ReadAt(head[:], 0)
	switch {
	case n == 132 && string(head[128:132]) == "DICM":
		o.metaStart = 132
	case n >= 8 && head[0] == 2 && head[1] == 0 && validVR(string(head[4:6])):
		o.metaStart = 0 // no preamble, but a file meta group
	default:
		return nil, ErrNotDICOM
	}
	// The file meta group is Explicit VR Little Endian.
	mw := &walker{r: src, size: size, order: binary.LittleEndian}
	off := o.metaStart
	for off+8 <= size {
		b, err := mw.read(off, 2)
		if err != nil {
			return nil, err
		}
		if binary.LittleEndian.Uint16(b) != 2 {
			break
		}
		e, err := mw.header(off)
		if err != nil {
			return nil, fmt.Errorf("file meta: %w", err)
		}
		if e.length == undefined {
			return nil, fmt.Errorf("file meta: %w", mw.fail(off, "an undefined length"))
		}
		if err := mw.value(e, 0); err != nil {
			return nil, fmt.Errorf("file meta: %w", err)
		}
		if e.tag == tagMetaTS {
			o.ts = uidText(e.value)
		}
		o.meta = append(o.meta, e)
		off = e.end
	}
	o.dataStart, o.data = off, src
	dataSize := size
	headCut := false
	switch o.ts {
	case tsImplicitLE:
		o.implicit = true
	case tsExplicitBE:
		o.order = binary.BigEndian
	case tsDeflated, tsDeflatedZ:
		// The data set is a raw deflate stream: walk it inflated.
		inflated, err := readUpTo(flate.NewReader(io.NewSectionReader(src, off, size-off)), limit+1)
		if err != nil {
			return nil, fmt.Errorf("inflate: %v", err)
		}
		if int64(len(inflated)) > limit {
			if limit >= maxInflated {
				return nil, fmt.Errorf("inflate: the data set inflates beyond %d bytes", maxInflated)
			}
			inflated, headCut = inflated[:limit], true
		}
		o.deflated, o.data, o.dataStart, dataSize = true, bytes.NewReader(inflated), 0, int64(len(inflated))
	case "":
		// No transfer syntax named: Explicit VR when the first element
		// shows a VR, else Implicit VR, the default (as the toolkits guess).
		var b [6]byte
		if n, _ := src.ReadAt(b[:], off); n < 6 || !validVR(string(b[4:6])) {
			o.implicit = true
		}
	}
	w := &walker{r: o.data, size: dataSize, order: o.order, implicit: o.implicit, count: mw.count}
	elems, end, err := w.elements(o.dataStart, dataSize, 0, stopAtPixels, o)
	if headCut && (err != nil || !o.stopped) {
		return nil, errHeadCut
	}
	if err != nil {
		return o, err // the file meta, for a caller that needs it
	}
	o.elems, o.dataEnd = elems, end
	return o, nil
}

// uidText is a UI value without its padding.
func uidText(v []byte) string {
	return string(bytes.TrimRight(v, "\x00 "))
}

// find returns the first element of elems with tag t.
func find(elems []*element, t uint32) *element {
	for _, e := range elems {
		if e.tag == t {
			return e
		}
	}
	return nil
}
