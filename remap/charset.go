package remap

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Text in every character set of PS3.5 6.1, ISO 2022 code extensions
// included, is decoded here rather than by the DICOM library: the library
// decodes all text with one decoder for the whole file (the second value
// of a multi-valued Specific Character Set), so that a Japanese name with
// JIS X 0201 katakana, a Korean one and a sequence item in another set come
// out wrong. The parser is handed the file with each Specific Character
// Set value blanked to a name it does not know (patchedReader), which makes
// it keep text as raw bytes; decodeText then puts the values back and
// decodes every text element, at any depth, as pydicom reads it (its
// charset.py is the reference the tests compare with), and the output
// carries the text in UTF-8 (ISO_IR 192).

// A textEncoding names one encoding after pydicom's Python codec names, so
// that "is this escape sequence's set declared" is decided as pydicom does.
type textEncoding string

const (
	encDefault  textEncoding = "iso8859" // ISO IR 6; pydicom reads it as Latin-1
	encLatin1   textEncoding = "latin_1"
	encShiftJIS textEncoding = "shift_jis" // JIS X 0201 (IR 13, IR 14)
	encJIS0208  textEncoding = "iso2022_jp"
	encJIS0212  textEncoding = "iso2022_jp_2"
	encLatin2   textEncoding = "iso8859_2"
	encLatin3   textEncoding = "iso8859_3"
	encLatin4   textEncoding = "iso8859_4"
	encGreek    textEncoding = "iso_ir_126"
	encArabic   textEncoding = "iso_ir_127"
	encHebrew   textEncoding = "iso_ir_138"
	encCyrillic textEncoding = "iso_ir_144"
	encLatin5   textEncoding = "iso_ir_148"
	encThai     textEncoding = "iso_ir_166"
	encKorean   textEncoding = "euc_kr"
	encGB2312   textEncoding = "iso_ir_58"
	encUTF8     textEncoding = "UTF8"
	encGB18030  textEncoding = "GB18030"
	encGBK      textEncoding = "GBK"
)

// definedTerms maps the defined terms of Specific Character Set (PS3.3
// C.12.1.1.2, and CP 1234's) to their encodings.
var definedTerms = map[string]textEncoding{
	"":                encDefault,
	"ISO_IR 6":        encDefault,
	"ISO 2022 IR 6":   encDefault,
	"ISO_IR 13":       encShiftJIS,
	"ISO 2022 IR 13":  encShiftJIS,
	"ISO 2022 IR 87":  encJIS0208,
	"ISO 2022 IR 159": encJIS0212,
	"ISO_IR 100":      encLatin1,
	"ISO 2022 IR 100": encLatin1,
	"ISO_IR 101":      encLatin2,
	"ISO 2022 IR 101": encLatin2,
	"ISO_IR 109":      encLatin3,
	"ISO 2022 IR 109": encLatin3,
	"ISO_IR 110":      encLatin4,
	"ISO 2022 IR 110": encLatin4,
	"ISO_IR 126":      encGreek,
	"ISO 2022 IR 126": encGreek,
	"ISO_IR 127":      encArabic,
	"ISO 2022 IR 127": encArabic,
	"ISO_IR 138":      encHebrew,
	"ISO 2022 IR 138": encHebrew,
	"ISO_IR 144":      encCyrillic,
	"ISO 2022 IR 144": encCyrillic,
	"ISO_IR 148":      encLatin5,
	"ISO 2022 IR 148": encLatin5,
	"ISO_IR 166":      encThai,
	"ISO 2022 IR 166": encThai,
	"ISO 2022 IR 149": encKorean,
	"ISO 2022 IR 58":  encGB2312,
	"ISO 2022 58":     encGB2312,
	"ISO_IR 192":      encUTF8,
	"GB18030":         encGB18030,
	"GBK":             encGBK,
	"ISO 2022 GBK":    encGBK,
}

// pythonNames are the codec names some writers put in Specific Character
// Set, which pydicom reads as such.
var pythonNames = map[string]textEncoding{
	"utf-8": encUTF8, "utf8": encUTF8, "iso-8859-1": encLatin1, "iso8859-1": encLatin1, "latin-1": encLatin1, "latin1": encLatin1,
	"gb18030": encGB18030, "gbk": encGBK, "gb2312": encGB2312, "shift_jis": encShiftJIS, "euc-kr": encKorean, "euc_kr": encKorean,
}

// standAlone encodings allow no code extensions (PS3.5 6.1.2.5.4 d).
var standAlone = map[string]bool{"ISO_IR 192": true, "GB18030": true, "GBK": true}

// escapes maps the ISO 2022 escape sequences of PS3.3 tables C.12-3 and
// C.12-4 to the encoding they switch to.
var escapes = map[string]textEncoding{
	"\x1b(B":  encDefault,
	"\x1b-A":  encLatin1,
	"\x1b)I":  encShiftJIS,
	"\x1b(J":  encShiftJIS,
	"\x1b$B":  encJIS0208,
	"\x1b-B":  encLatin2,
	"\x1b-C":  encLatin3,
	"\x1b-D":  encLatin4,
	"\x1b-F":  encGreek,
	"\x1b-G":  encArabic,
	"\x1b-H":  encHebrew,
	"\x1b-L":  encCyrillic,
	"\x1b-M":  encLatin5,
	"\x1b-T":  encThai,
	"\x1b$)C": encKorean,
	"\x1b$(D": encJIS0212,
	"\x1b$)A": encGB2312,
}

// Delimiters reset the code element to the first set after a single-byte
// or G1 multi-byte designation (PS3.5 6.1.2.5.3).
const (
	textDelimiters = "\r\n\t\f"
	nameDelimiters = "^"
)

// textCoding is how the text of one data set level is encoded.
type textCoding struct {
	terms []string
	encs  []textEncoding // the first decodes text outside escape sequences
}

// misspelt matches the Specific Character Set spellings pydicom corrects
// ("ISO IR 100", "ISO-IR 100", "ISO 2022-IR 87").
var (
	misspeltIR   = regexp.MustCompile(`^ISO[^_]IR`)
	misspelt2022 = regexp.MustCompile(`^ISO.2022.IR.`)
)

// newTextCoding reads the values of a Specific Character Set.
func newTextCoding(values []string) *textCoding {
	if len(values) == 0 {
		values = []string{""}
	}
	tc := &textCoding{}
	for i, v := range values {
		v = strings.TrimSpace(v)
		enc, ok := definedTerms[v]
		if !ok {
			patched := ""
			switch {
			case misspeltIR.MatchString(v):
				patched = "ISO_IR" + v[6:]
			case misspelt2022.MatchString(v):
				patched = "ISO 2022 IR " + v[12:]
			}
			switch enc, ok = definedTerms[patched]; {
			case ok && patched != "":
				v = patched
			case pythonNames[strings.ToLower(v)] != "":
				// pydicom takes a Python codec name as it is.
				enc = pythonNames[strings.ToLower(v)]
			default:
				// Unknown: ASCII text is the same in every set, and
				// anything else cannot be read (decodeIn refuses it).
				enc = textEncoding("unknown " + v)
			}
		}
		if i > 0 && standAlone[v] {
			continue // cannot be a code extension: ignored, as pydicom does
		}
		tc.terms, tc.encs = append(tc.terms, v), append(tc.encs, enc)
		if i == 0 && standAlone[v] {
			break // allows no code extensions: the rest is ignored
		}
	}
	return tc
}

func (tc *textCoding) declares(e textEncoding) bool {
	for _, x := range tc.encs {
		if x == e {
			return true
		}
	}
	return false
}

// decode decodes one value (one component group of a person name) to
// UTF-8: text before any escape sequence in the first set, each part that
// starts with an escape sequence in the set it designates, and after a
// delimiter in the first set again.
func (tc *textCoding) decode(b []byte, delimiters string) (string, bool) {
	first := tc.encs[0]
	if bytes.IndexByte(b, 0x1b) < 0 {
		return decodeIn(first, b)
	}
	var out strings.Builder
	for len(b) > 0 {
		end := bytes.IndexByte(b[1:], 0x1b) + 1
		if end == 0 {
			end = len(b)
		}
		frag := b[:end]
		b = b[end:]
		if frag[0] != 0x1b {
			s, ok := decodeIn(first, frag)
			if !ok {
				return "", false
			}
			out.WriteString(s)
			continue
		}
		n := 3
		if bytes.HasPrefix(frag, []byte("\x1b$(")) || bytes.HasPrefix(frag, []byte("\x1b$)")) {
			n = 4
		}
		if len(frag) < n {
			return "", false
		}
		enc, ok := escapes[string(frag[:n])]
		if !ok || enc != encDefault && !tc.declares(enc) {
			return "", false // an unknown set, or one the header does not declare
		}
		rest := frag[n:]
		var s string
		if enc == encJIS0208 || enc == encJIS0212 {
			// G0 multi-byte sets: the designation holds until the next
			// escape sequence, delimiters included.
			s, ok = decodeJIS(rest, enc == encJIS0212)
		} else {
			i := strings.IndexAny(string(rest), delimiters)
			if i < 0 {
				i = len(rest)
			}
			var tail string
			s, ok = decodeIn(enc, rest[:i])
			if ok {
				tail, ok = decodeIn(first, rest[i:])
			}
			s += tail
		}
		if !ok {
			return "", false
		}
		out.WriteString(s)
	}
	return out.String(), true
}

var singleByte = map[textEncoding]encoding.Encoding{
	encDefault:  charmap.ISO8859_1,
	encLatin1:   charmap.ISO8859_1,
	encLatin2:   charmap.ISO8859_2,
	encLatin3:   charmap.ISO8859_3,
	encLatin4:   charmap.ISO8859_4,
	encGreek:    charmap.ISO8859_7,
	encArabic:   charmap.ISO8859_6,
	encHebrew:   charmap.ISO8859_8,
	encCyrillic: charmap.ISO8859_5,
	encLatin5:   charmap.ISO8859_9,
}

// decodeIn decodes b, which holds no escape sequence, in one encoding; ok
// is false when b is not valid in it.
func decodeIn(enc textEncoding, b []byte) (string, bool) {
	if len(b) == 0 {
		return "", true
	}
	var e encoding.Encoding
	switch enc {
	case encUTF8:
		return string(b), utf8.Valid(b)
	case encThai:
		return decodeTIS620(b)
	case encJIS0208, encJIS0212:
		// Before any escape sequence ISO 2022 JIS text is ASCII.
		return ascii(b)
	case encShiftJIS:
		e = japanese.ShiftJIS
	case encKorean:
		e = korean.EUCKR
	case encGB2312, encGBK:
		e = simplifiedchinese.GBK // EUC-CN (GB 2312) is a subset
	case encGB18030:
		e = simplifiedchinese.GB18030
	default:
		if e = singleByte[enc]; e == nil { // an unknown set
			return ascii(b)
		}
	}
	out, err := e.NewDecoder().Bytes(b)
	if err != nil || bytes.ContainsRune(out, utf8.RuneError) {
		return "", false
	}
	return string(out), true
}

// ascii returns b when it is ASCII.
func ascii(b []byte) (string, bool) {
	for _, c := range b {
		if c >= 0x80 {
			return "", false
		}
	}
	return string(b), true
}

// decodeJIS decodes JIS X 0208 (or JIS X 0212) characters, two 7-bit bytes
// each, as they follow ESC $ B (ESC $ ( D): through EUC-JP, which holds
// them with the high bits set. Control characters stand for themselves.
func decodeJIS(b []byte, x0212 bool) (string, bool) {
	euc := make([]byte, 0, len(b)*3/2)
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x20 {
			euc = append(euc, c)
			i++
			continue
		}
		if c < 0x21 || c > 0x7e || i+1 == len(b) || b[i+1] < 0x21 || b[i+1] > 0x7e {
			return "", false
		}
		if x0212 {
			euc = append(euc, 0x8f)
		}
		euc = append(euc, c|0x80, b[i+1]|0x80)
		i += 2
	}
	out, err := japanese.EUCJP.NewDecoder().Bytes(euc)
	if err != nil || bytes.ContainsRune(out, utf8.RuneError) {
		return "", false
	}
	return string(out), true
}

// decodeTIS620 decodes TIS 620 (ISO IR 166), which x/text lacks: ASCII,
// C1 controls, and Thai at U+0E01..U+0E5B.
func decodeTIS620(b []byte) (string, bool) {
	var out strings.Builder
	for _, c := range b {
		switch {
		case c < 0xa0:
			out.WriteRune(rune(c))
		case c >= 0xa1 && c <= 0xda, c >= 0xdf && c <= 0xfb:
			out.WriteRune(0x0e00 + rune(c) - 0xa0)
		default:
			return "", false
		}
	}
	return out.String(), true
}

// decodeText puts back the Specific Character Set values that the parse
// saw blanked and decodes every text value of ds, at any depth, to UTF-8.
// A level whose text was decoded from another set declares ISO_IR 192.
func decodeText(ds *dicom.Dataset, src io.ReaderAt, charsets []span) error {
	original := make([][]string, len(charsets))
	for i, s := range charsets {
		b := make([]byte, s.length)
		if _, err := src.ReadAt(b, s.offset); err != nil {
			return reject(StepRead, "truncated file: %v", err)
		}
		original[i] = strings.Split(strings.Trim(string(b), " \x00"), `\`)
	}
	next := 0
	var restore func(elems []*dicom.Element, depth int) error
	restore = func(elems []*dicom.Element, depth int) error {
		if depth > maxDepth {
			return reject(StepHeader, "sequences nested deeper than %d levels", maxDepth)
		}
		for _, e := range elems {
			if e.Tag == tagRenamedCharset {
				e.Tag = tag.SpecificCharacterSet
				e.ValueRepresentation, e.RawValueRepresentation = tag.VRStringList, "CS"
			}
			if e.Tag == tag.SpecificCharacterSet {
				if next == len(original) {
					return reject(StepHeader, "specific character set elements read differently than found")
				}
				setStrings(e, original[next])
				next++
			}
			for _, item := range sequenceItems(e) {
				if err := restore(item, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := restore(ds.Elements, 0); err != nil {
		return err
	}
	if next != len(original) {
		return reject(StepHeader, "specific character set elements read differently than found")
	}
	_, err := decodeLevel(ds.Elements, nil, 0)
	return err
}

// decodeLevel decodes the text of one data set level in its own Specific
// Character Set, or the one it inherits (nil: none, and text stays as read).
// inherited reports whether text changed that is in the inherited set: in
// this level, or in items below that declare none of their own, so that
// the level that declares the set declares ISO_IR 192 instead.
func decodeLevel(elems []*dicom.Element, tc *textCoding, depth int) (inherited bool, _ error) {
	if depth > maxDepth {
		return false, reject(StepHeader, "sequences nested deeper than %d levels", maxDepth)
	}
	scs := find(elems, tag.SpecificCharacterSet)
	if scs != nil {
		tc = newTextCoding(valuesOf(scs))
	}
	changed := false
	for _, e := range elems {
		if e.Tag.Group == 0x0002 {
			continue
		}
		if items := sequenceItems(e); items != nil {
			for _, item := range items {
				below, err := decodeLevel(item, tc, depth+1)
				if err != nil {
					return false, err
				}
				changed = changed || below
			}
			continue
		}
		if tc == nil {
			continue
		}
		values, ok := e.Value.GetValue().([]string)
		if !ok {
			continue
		}
		var out []string
		switch e.RawValueRepresentation {
		case "SH", "LO", "UC":
			for _, v := range values {
				s, ok := tc.decode([]byte(v), textDelimiters)
				if !ok {
					return false, undecodable(e, tc)
				}
				out = append(out, s)
			}
		case "PN":
			for _, v := range values {
				groups := strings.Split(v, "=")
				for i, g := range groups {
					s, ok := tc.decode([]byte(g), nameDelimiters)
					if !ok {
						return false, undecodable(e, tc)
					}
					groups[i] = s
				}
				out = append(out, strings.Join(groups, "="))
			}
		case "ST", "LT", "UT":
			// One value: a backslash is text here.
			s, ok := tc.decode([]byte(strings.Join(values, `\`)), textDelimiters)
			if !ok {
				return false, undecodable(e, tc)
			}
			out = []string{s}
		default:
			continue
		}
		if strings.Join(out, `\`) != strings.Join(values, `\`) {
			changed = true
			setStrings(e, out)
		}
	}
	if scs != nil && changed {
		setStrings(scs, []string{"ISO_IR 192"})
		return false, nil
	}
	return changed, nil
}

func undecodable(e *dicom.Element, tc *textCoding) error {
	return reject(StepHeader, "%s holds text that cannot be decoded in its character set (%s)", tagName(e.Tag), strings.Join(tc.terms, `\`))
}

// setStrings replaces the values of a string element in place, so that
// the element keeps its place, tag and VR.
func setStrings(e *dicom.Element, values []string) {
	v, _ := dicom.NewValue(values)
	e.Value = v
}

// patchedReader is the file as the parser is to see it: the values of the
// Specific Character Sets blanked to a name the library does not know, so
// that it decodes no text.
//
// An empty value cannot be blanked, and the library reads it as ISO IR 6
// and decodes text with it: the element is renamed (0008,0004), a tag no
// standard element has, and named back by decodeText.
type patchedReader struct {
	io.ReaderAt
	blank  []span
	rename []int64 // offsets of the low byte of an empty set's element number
}

// tagRenamedCharset is what the parser sees an empty Specific Character Set as.
var tagRenamedCharset = tag.Tag{Group: 0x0008, Element: 0x0004}

func (r patchedReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.ReaderAt.ReadAt(p, off)
	for _, s := range r.blank {
		lo, hi := max(s.offset, off), min(s.offset+s.length, off+int64(n))
		for i := lo; i < hi; i++ {
			p[i-off] = 'X'
		}
	}
	for _, at := range r.rename {
		if at >= off && at < off+int64(n) {
			p[at-off] = 0x04
		}
	}
	return n, err
}

// inflatedFile is a deflated file as the parser is to see it when its text
// is to be decoded here: the file meta, its transfer syntax relabelled
// Explicit VR Little Endian (same length, NUL padded), then the inflated
// data set, so that Specific Character Set values can be blanked at their
// offsets in the inflated stream. The library reads deflated files whole
// anyway; this copy is made only for files that declare a character set.
func inflatedFile(src io.ReaderAt, size int64, lay layout, limit int64) (io.ReaderAt, int64, layout, error) {
	head := make([]byte, lay.dataOffset)
	if _, err := src.ReadAt(head, 0); err != nil {
		return nil, 0, lay, reject(StepRead, "truncated file: %v", err)
	}
	// The meta group is explicit VR little endian after the 132-byte
	// preamble and prefix; the structure check has walked it.
	for off := 132; off+8 <= len(head); {
		group, elem := binary.LittleEndian.Uint16(head[off:]), binary.LittleEndian.Uint16(head[off+2:])
		vr := string(head[off+4 : off+6])
		n, hdr := int(binary.LittleEndian.Uint16(head[off+6:])), 8
		if isLongVR(vr) {
			n, hdr = int(binary.LittleEndian.Uint32(head[off+8:])), 12
		}
		if off+hdr+n > len(head) {
			break
		}
		if group == 0x0002 && elem == 0x0010 && n >= len(tsExplicitLE) {
			v := head[off+hdr : off+hdr+n]
			copy(v, tsExplicitLE)
			clear(v[len(tsExplicitLE):])
		}
		off += hdr + n
	}
	body, err := io.ReadAll(io.LimitReader(flate.NewReader(io.NewSectionReader(src, lay.dataOffset, size-lay.dataOffset)), limit+1<<26))
	if err != nil {
		return nil, 0, lay, reject(StepRead, "deflated data: %v", err)
	}
	if int64(len(body)) > limit+1<<26 {
		return nil, 0, lay, reject(StepRead, "deflated data set larger than the %d-byte pixel limit", limit)
	}
	virtual := append(head, body...)
	out := lay
	out.ts, out.charsets, out.emptySets = tsExplicitLE, make([]span, len(lay.charsets)), make([]int64, len(lay.emptySets))
	for i, s := range lay.charsets {
		out.charsets[i] = span{s.offset + lay.dataOffset, s.length}
	}
	for i, at := range lay.emptySets {
		out.emptySets[i] = at + lay.dataOffset
	}
	return bytes.NewReader(virtual), int64(len(virtual)), out, nil
}
