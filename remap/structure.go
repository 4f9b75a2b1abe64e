package remap

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/suyashkumar/dicom/pkg/tag"
)

// The DICOM library allocates an element's declared length before reading
// it, so a few hundred bytes claiming gigabytes would exhaust memory. The
// structure check walks every element header first, streaming, and refuses
// a length that exceeds the bytes left or the limit, an element count or
// nesting depth beyond what any image needs, and undefined lengths where the
// encoding forbids them.

const (
	maxDepth    = 32      // sequence nesting; real images use a handful
	maxElements = 1 << 22 // elements in a file, items included
)

const undefinedLength = 0xffffffff

// Tags of the item and delimiter markers.
const (
	tagItem          = 0xfffee000
	tagItemDelim     = 0xfffee00d
	tagSequenceDelim = 0xfffee0dd
	tagPixelData     = 0x7fe00010

	tagSpecificCharacterSet = 0x00080005
)

type structureScanner struct {
	r         *bufio.Reader
	seek      io.Seeker // nil when skipping must read (deflate)
	offset    int64     // bytes consumed from r (of the inflated stream for deflate)
	remaining int64     // offset of the input's end, -1 when unknown (deflate)
	limit     int64
	order     binary.ByteOrder
	pixelAt   [3]int64 // element start, value offset and length of the top-level Pixel Data
	encap     *encapLayout
	eotStart  int64 // start of the first top-level (7FE0,0001-0003) element, 0 when none
	eot       [2]span
	implicit  bool
	elements  int
	charsets  []span  // values of every (0008,0005), in file order
	emptySets []int64 // for the empty ones, where the low byte of the element number lies
}

// layout is how a file is encoded, as the structure check found it. The
// parser is told the same, so that both read the same lengths.
type layout struct {
	dataOffset int64  // where the data set starts
	ts         string // the transfer syntax of the file meta, "" when none
	hasTS      bool   // the file meta names a transfer syntax
	implicit   bool
	order      binary.ByteOrder
	// Where the top-level native Pixel Data element and its value lie in
	// the file, so that the value can be streamed rather than held in
	// memory; pixelOffset is 0 when unknown (deflated files, encapsulated
	// data).
	pixelElement, pixelOffset, pixelLength int64
	// encap is where the top-level encapsulated Pixel Data lies, nil when
	// the pixel data is native.
	encap *encapLayout
	// charsets are the values of every Specific Character Set, at any
	// depth, in file order (offsets of the inflated stream when deflated);
	// emptySets locate the element number's low byte of those that are
	// empty, in order.
	charsets  []span
	emptySets []int64
	// inflated is the length of a deflated file's data set once inflated,
	// which the library holds whole; 0 for other files.
	inflated int64
}

// span is a run of bytes in the file.
type span struct{ offset, length int64 }

// encapLayout locates encapsulated Pixel Data and its offset tables.
type encapLayout struct {
	start int64  // where the head the library parses ends: Pixel Data or the offset tables before it
	end   int64  // just past the sequence delimiter
	items []span // the value of every item: the Basic Offset Table, then the fragments
	// The Extended Offset Table (7FE0,0001) and its lengths (7FE0,0002),
	// length 0 when absent.
	extended, extendedLengths span
}

// checkStructure walks the file in src, mirroring how the library reads it
// (the same VRs with 4-byte lengths, the same syntax for undefined-length
// UN), so that every length the library will allocate has been checked.
func checkStructure(src io.ReaderAt, size int64, limit int64) (layout, error) {
	sec := io.NewSectionReader(src, 0, size)
	s := &structureScanner{r: bufio.NewReaderSize(sec, 1<<16), remaining: size, limit: limit, order: binary.LittleEndian}
	head, err := s.r.Peek(132)
	preamble := err == nil && string(head[128:132]) == "DICM"
	if preamble {
		s.discard(132)
	}
	ts, err := s.meta()
	if err != nil {
		return layout{}, err
	}
	// Without the DICM prefix the library would not read the meta group as
	// such (it guesses a syntax from the first bytes instead): it is then
	// handed only the data set, in the syntax found here.
	lay := layout{dataOffset: s.offset, hasTS: ts != "" && preamble, ts: ts}
	if !preamble && ts == tsDeflatedLE {
		return layout{}, reject(StepRead, "deflated data without the DICM prefix is not supported")
	}
	switch ts {
	case tsImplicitLE:
		s.implicit = true
	case tsExplicitBE:
		s.order = binary.BigEndian
	case tsDeflatedLE:
		// The rest is a raw deflate stream: walk the inflated bytes, whose
		// size is unknown; the limit still bounds every element.
		s.r = bufio.NewReaderSize(flate.NewReader(s.r), 1<<16)
		s.remaining = -1
	case tsExplicitLE:
	case "":
		if !preamble {
			b, err := s.r.Peek(2)
			if err != nil {
				return layout{}, reject(StepRead, "not a DICOM file: empty or too short")
			}
			if g := binary.LittleEndian.Uint16(b); g != 0x0004 && g != 0x0008 {
				return layout{}, reject(StepRead, "not a DICOM file: no DICM prefix and no data set at the start")
			}
		}
		s.implicit = s.guessImplicit()
	default:
		if !knownSyntax(ts) {
			// Encapsulated or unknown: the header check refuses it by name,
			// and encapsulated pixel data is walked like any other.
			s.implicit = false
		}
	}
	lay.implicit, lay.order = s.implicit, s.order
	if s.remaining >= 0 {
		// Skip by seeking: pixel data need not be read twice.
		s.seek = sec
		if _, err := sec.Seek(s.offset, io.SeekStart); err != nil {
			return layout{}, wrapRead(err)
		}
		s.r.Reset(sec)
	} else {
		s.offset = 0
	}
	err = s.elementsUntil(-1, 0, false)
	if ts == tsDeflatedLE {
		lay.inflated = s.offset
	}
	lay.pixelElement, lay.pixelOffset, lay.pixelLength = s.pixelAt[0], s.pixelAt[1], s.pixelAt[2]
	lay.encap = s.encap
	lay.charsets, lay.emptySets = s.charsets, s.emptySets
	if err == nil && s.eotStart > 0 {
		if s.encap == nil {
			return lay, s.fail("an extended offset table without encapsulated pixel data")
		}
		s.encap.start = s.eotStart
		s.encap.extended, s.encap.extendedLengths = s.eot[0], s.eot[1]
	}
	return lay, err
}

// meta reads the file meta group (always explicit little endian) and returns
// the transfer syntax, "" when there is none.
func (s *structureScanner) meta() (string, error) {
	ts := ""
	start, groupLength := s.offset, int64(-1)
	for {
		b, err := s.r.Peek(8)
		if err != nil || binary.LittleEndian.Uint16(b) != 0x0002 {
			// The library trusts (0002,0000); a wrong one would make it read
			// the data set as meta information.
			if groupLength >= 0 && s.offset-start != groupLength {
				return ts, s.fail("file meta group length %d does not match its %d bytes of elements", groupLength, s.offset-start)
			}
			return ts, nil
		}
		tagVal := uint32(binary.LittleEndian.Uint16(b))<<16 | uint32(binary.LittleEndian.Uint16(b[2:]))
		vr := string(b[4:6])
		if !validVR(vr) {
			return ts, s.fail("file meta element %08x has an invalid VR %q", tagVal, vr)
		}
		var length uint32
		if isLongVR(vr) {
			b, err = s.r.Peek(12)
			if err != nil {
				return ts, s.truncated()
			}
			length = binary.LittleEndian.Uint32(b[8:])
			s.discard(12)
		} else {
			length = uint32(binary.LittleEndian.Uint16(b[6:]))
			s.discard(8)
		}
		if length == undefinedLength || int64(length) > 1<<16 {
			return ts, s.fail("file meta element %08x declares %d bytes", tagVal, length)
		}
		v := make([]byte, length)
		if _, err := io.ReadFull(s.r, v); err != nil {
			return ts, s.truncated()
		}
		s.offset += int64(length)
		switch tagVal {
		case 0x00020010:
			ts = string(bytes.TrimRight(v, " \x00"))
		case 0x00020000:
			if len(v) == 4 {
				groupLength = int64(binary.LittleEndian.Uint32(v))
				start = s.offset
			}
		}
	}
}

// guessImplicit tells implicit from explicit VR for a file without meta
// information by whether the first element has a plausible VR.
func (s *structureScanner) guessImplicit() bool {
	b, err := s.r.Peek(6)
	if err != nil {
		return true
	}
	return !(b[4] >= 'A' && b[4] <= 'Z' && b[5] >= 'A' && b[5] <= 'Z')
}

func (s *structureScanner) fail(format string, args ...any) error {
	return reject(StepRead, format, args...)
}

func (s *structureScanner) truncated() error {
	return reject(StepRead, "truncated file: %w", io.ErrUnexpectedEOF)
}

func (s *structureScanner) discard(n int64) error {
	if n <= int64(s.r.Buffered()) {
		s.r.Discard(int(n))
		s.offset += n
		return nil
	}
	if s.seek != nil {
		target := s.offset + n
		if _, err := s.seek.Seek(target, io.SeekStart); err != nil {
			return s.truncated()
		}
		s.r.Reset(s.seek.(io.Reader))
		s.offset = target
		return nil
	}
	got, err := io.CopyN(io.Discard, s.r, n)
	s.offset += got
	if err != nil {
		return s.truncated()
	}
	return nil
}

// validVR reports whether vr is one of the standard's value representations
// (PS3.5 6.2).
func validVR(vr string) bool {
	switch vr {
	case "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "OB", "OD", "OF", "OL", "OV", "OW",
		"PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US", "UT", "UV":
		return true
	}
	return false
}

// isLongVR lists the VRs with a 4-byte length exactly as the library does.
// OV, SV and UV also have one, but the library reads them with 2: such
// files are refused before it misreads them.
func isLongVR(vr string) bool {
	switch vr {
	case "NA", "OB", "OD", "OF", "OL", "OW", "SQ", "UC", "UN", "UR", "UT":
		return true
	}
	return false
}

func knownSyntax(ts string) bool {
	switch ts {
	case tsImplicitLE, tsExplicitLE, tsDeflatedLE, tsExplicitBE:
		return true
	}
	return false
}

// elementsUntil walks elements until end (a byte offset, -1 for EOF) or,
// when delimited, until the delimiter of an undefined-length container.
func (s *structureScanner) elementsUntil(end int64, depth int, delimited bool) error {
	if depth > maxDepth {
		return s.fail("sequences nested deeper than %d levels", maxDepth)
	}
	for end < 0 || s.offset < end {
		b, err := s.r.Peek(8)
		if err != nil {
			if delimited || end >= 0 {
				return s.truncated()
			}
			if len(b) == 0 {
				return nil // clean end of file
			}
			return s.truncated()
		}
		start := s.offset
		s.elements++
		if s.elements > maxElements {
			return s.fail("more than %d elements", maxElements)
		}
		group, elem := s.order.Uint16(b), s.order.Uint16(b[2:])
		tagVal := uint32(group)<<16 | uint32(elem)
		if group == 0xfffe { // items and delimiters are always implicit
			length := s.order.Uint32(b[4:])
			s.discard(8)
			switch tagVal {
			case tagItemDelim, tagSequenceDelim:
				if delimited {
					return nil
				}
				continue // stray delimiter: the library decides
			case tagItem:
				if err := s.value(length, true, depth); err != nil {
					return err
				}
				continue
			}
			return s.fail("unknown item tag %08x", tagVal)
		}
		var vr string
		var length uint32
		if s.implicit {
			length = s.order.Uint32(b[4:])
			s.discard(8)
			if info, err := tag.Find(tag.Tag{Group: group, Element: elem}); err == nil && len(info.VRs) > 0 {
				vr = info.VRs[0]
			}
		} else {
			vr = string(b[4:6])
			if !validVR(vr) {
				// The library would read it and write it back as it is.
				return s.fail("element (%04x,%04x) has an invalid VR %q", group, elem, vr)
			}
			if group == 0x7fe0 && elem >= 1 && elem <= 3 && depth == 0 && s.seek != nil {
				// The extended offset table (OV) and total length (UV): the
				// library misreads their VRs, so the head it parses ends
				// before them and they are read here.
				if err := s.offsetTable(start, elem); err != nil {
					return err
				}
				continue
			}
			if vr == "OV" || vr == "SV" || vr == "UV" {
				return s.fail("element (%04x,%04x) has VR %s, which the DICOM reader cannot read", group, elem, vr)
			}
			if isLongVR(vr) {
				b, err = s.r.Peek(12)
				if err != nil {
					return s.truncated()
				}
				length = s.order.Uint32(b[8:])
				s.discard(12)
			} else {
				length = uint32(s.order.Uint16(b[6:]))
				s.discard(8)
			}
		}
		container := vr == "SQ" || vr == "UN" || s.implicit || tagVal == tagPixelData
		if length == undefinedLength && !container {
			return s.fail("element (%04x,%04x) %s has an undefined length", group, elem, vr)
		}
		if tagVal == tagSpecificCharacterSet && (vr == "CS" || s.implicit) && length != undefinedLength {
			s.charsets = append(s.charsets, span{s.offset, int64(length)})
			if length == 0 {
				low := start + 2 // the element number, little endian
				if s.order == binary.BigEndian {
					low++
				}
				s.emptySets = append(s.emptySets, low)
			}
		}
		if tagVal == tagPixelData && depth == 0 && length != undefinedLength && s.seek != nil && s.pixelAt[1] == 0 {
			s.pixelAt = [3]int64{start, s.offset, int64(length)}
		}
		if tagVal == tagPixelData && length == undefinedLength {
			if err := s.fragments(start, depth == 0 && s.seek != nil && s.encap == nil); err != nil {
				return err
			}
			continue
		}
		// An undefined-length UN holds an implicit VR sequence, but the
		// library reads it in the file's syntax: so does this walk.
		if err := s.value(length, length == undefinedLength || vr == "SQ", depth); err != nil {
			return err
		}
	}
	if end >= 0 && s.offset > end {
		return s.fail("an element runs past the end of its sequence or item")
	}
	return nil
}

// offsetTable reads the header of a top-level (7FE0,0001-0003) element,
// which starts at start, and notes where its value lies.
func (s *structureScanner) offsetTable(start int64, elem uint16) error {
	b, err := s.r.Peek(12)
	if err != nil {
		return s.truncated()
	}
	length := s.order.Uint32(b[8:])
	s.discard(12)
	if length == undefinedLength {
		return s.fail("element (7fe0,%04x) has an undefined length", elem)
	}
	if s.eotStart == 0 {
		s.eotStart = start
	}
	if elem <= 2 {
		s.eot[elem-1] = span{s.offset, int64(length)}
	}
	return s.value(length, false, 0)
}

// fragments skips the items of encapsulated Pixel Data: raw bytes, not
// data sets. With record, it notes where they lie: the top-level Pixel
// Data, whose element starts at start.
func (s *structureScanner) fragments(start int64, record bool) error {
	var el *encapLayout
	if record {
		el = &encapLayout{start: start}
	}
	for {
		b, err := s.r.Peek(8)
		if err != nil {
			return s.truncated()
		}
		tagVal := uint32(s.order.Uint16(b))<<16 | uint32(s.order.Uint16(b[2:]))
		length := s.order.Uint32(b[4:])
		s.discard(8)
		switch tagVal {
		case tagSequenceDelim:
			if el != nil {
				el.end = s.offset
				s.encap = el
			}
			return nil
		case tagItem:
			if length == undefinedLength {
				return s.fail("a pixel data fragment has an undefined length")
			}
			if el != nil {
				el.items = append(el.items, span{s.offset, int64(length)})
			}
			if err := s.value(length, false, 0); err != nil {
				return err
			}
		default:
			return s.fail("encapsulated pixel data holds tag %08x instead of an item", tagVal)
		}
	}
}

// value skips or descends into one value of the given length.
func (s *structureScanner) value(length uint32, descend bool, depth int) error {
	if length == undefinedLength {
		return s.elementsUntil(-1, depth+1, true)
	}
	n := int64(length)
	if s.remaining >= 0 && s.offset+n > s.remaining {
		return s.fail("truncated file: an element declares %d bytes, only %d remain", n, s.remaining-s.offset)
	}
	if n > s.limit {
		return s.fail("an element declares %d bytes, over the %d-byte limit", n, s.limit)
	}
	if descend {
		return s.elementsUntil(s.offset+n, depth+1, false)
	}
	return s.discard(n)
}

// String for debugging.
func (s *structureScanner) String() string {
	return fmt.Sprintf("offset %d remaining %d", s.offset, s.remaining)
}
