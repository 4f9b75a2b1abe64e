// Package color turns decoded samples of the colour Photometric
// Interpretations (DICOM PS3.3 C.7.6.3.1.2) into RGB: YBR_FULL as libjpeg
// converts it, uncompressed YBR_FULL_422 expanded to full chroma, and
// PALETTE COLOR looked up in its tables (PS3.3 C.7.6.3.1.5, C.7.9).
package color

import (
	"strconv"
	"sync"

	"github.com/dicom-remap/dicom-remap/codec"
)

const name = "color"

// The fixed-point arithmetic of libjpeg's jdcolor.c (IJG 6b, which dcmtk
// bundles as libijg8/12/16): constants scaled by 2^16, rounded by adding
// one half before the shift.
const (
	scaleBits = 16
	oneHalf   = 1 << (scaleBits - 1)
)

func fix(x float64) int { return int(x*(1<<scaleBits) + 0.5) }

// yccTables are jdcolor.c's build_ycc_rgb_table for one precision.
type yccTables struct {
	crR, cbB, crG, cbG []int
	// limit is libjpeg's range_limit: limit[v+size] is v pinned to
	// [0, size-1] for v in [-size, 2*size), wider than any sum of Y and a
	// chroma term. A table, not comparisons: mispredicted branches cost
	// more than the lookup.
	limit []uint16
}

var (
	yccOnce  [17]sync.Once
	yccCache [17]*yccTables
)

func tablesFor(precision int) *yccTables {
	yccOnce[precision].Do(func() {
		size := 1 << precision
		t := &yccTables{crR: make([]int, size), cbB: make([]int, size), crG: make([]int, size), cbG: make([]int, size),
			limit: make([]uint16, 3*size)}
		for i := range t.limit {
			t.limit[i] = uint16(min(max(i-size, 0), size-1))
		}
		for i := 0; i < size; i++ {
			x := i - size/2 // CENTERJSAMPLE
			t.crR[i] = (fix(1.40200)*x + oneHalf) >> scaleBits
			t.cbB[i] = (fix(1.77200)*x + oneHalf) >> scaleBits
			t.crG[i] = -fix(0.71414) * x
			t.cbG[i] = -fix(0.34414)*x + oneHalf // the rounding of G, added once here
		}
		yccCache[precision] = t
	})
	return yccCache[precision]
}

// YBRFullToRGB converts interleaved Y Cb Cr samples to R G B in place,
// exactly as libjpeg's ycc_rgb_convert does, so that a JPEG decoded here and
// converted matches dcmtk's dcmdjpeg output. Samples are bytesPerSample
// bytes little endian (1 for precision up to 8, 2 for up to 16); bits above
// precision are ignored. A trailing partial pixel is left alone. It panics
// when bytesPerSample and precision do not fit each other, a caller's bug.
func YBRFullToRGB(p []byte, bytesPerSample, precision int) {
	if precision < 2 || precision > 8*bytesPerSample || bytesPerSample < 1 || bytesPerSample > 2 {
		panic("color: YBRFullToRGB of precision " + strconv.Itoa(precision) + " in " + strconv.Itoa(bytesPerSample) + " bytes")
	}
	t := tablesFor(precision)
	size := 1 << precision
	mask := size - 1
	crR, cbB, crG, cbG := t.crR[:size], t.cbB[:size], t.crG[:size], t.cbG[:size]
	limit := t.limit[:3*size]
	if bytesPerSample == 1 {
		for i := 0; i+3 <= len(p); i += 3 {
			px := p[i : i+3 : i+3]
			y, cb, cr := int(px[0])&mask+size, int(px[1])&mask, int(px[2])&mask
			px[0] = byte(limit[y+crR[cr]])
			px[1] = byte(limit[y+(cbG[cb]+crG[cr])>>scaleBits])
			px[2] = byte(limit[y+cbB[cb]])
		}
		return
	}
	for i := 0; i+6 <= len(p); i += 6 {
		px := p[i : i+6 : i+6]
		y := (int(px[0])|int(px[1])<<8)&mask + size
		cb := (int(px[2]) | int(px[3])<<8) & mask
		cr := (int(px[4]) | int(px[5])<<8) & mask
		r := limit[y+crR[cr]]
		g := limit[y+(cbG[cb]+crG[cr])>>scaleBits]
		b := limit[y+cbB[cb]]
		px[0], px[1] = byte(r), byte(r>>8)
		px[2], px[3] = byte(g), byte(g>>8)
		px[4], px[5] = byte(b), byte(b>>8)
	}
}

// Expand422 expands an uncompressed 8-bit YBR_FULL_422 frame, stored as
// Y1 Y2 Cb Cr for each horizontal pair of pixels (PS3.3 C.7.6.3.1.2), into
// interleaved Y Cb Cr with the pair's chroma repeated for both pixels, as
// pydicom does. src must be columns*rows*2 bytes and dst columns*rows*3.
// An odd number of columns is refused: the pairs would straddle rows, and
// readers disagree on what that means. src may be the tail of dst: pairs
// are expanded from the first on, and the 6 bytes of pair k end before the
// 4 of pair k+1, which are read before anything overwrites them.
func Expand422(dst, src []byte, columns, rows int) error {
	if columns < 1 || rows < 1 || columns > 1<<16 || rows > 1<<16 {
		return codec.Errorf(name, "YBR_FULL_422 frame of %dx%d pixels", columns, rows)
	}
	if columns%2 != 0 {
		return codec.Errorf(name, "YBR_FULL_422 with %d columns, an odd number: %w", columns, codec.ErrUnsupported)
	}
	pixels := columns * rows
	if len(src) != 2*pixels || len(dst) != 3*pixels {
		return codec.Errorf(name, "YBR_FULL_422 %dx%d frame of %d bytes into %d, want %d into %d", columns, rows, len(src), len(dst), 2*pixels, 3*pixels)
	}
	for i, o := 0, 0; i+4 <= len(src); i, o = i+4, o+6 {
		s := src[i : i+4 : i+4]
		d := dst[o : o+6 : o+6]
		d[0], d[1], d[2] = s[0], s[2], s[3]
		d[3], d[4], d[5] = s[1], s[2], s[3]
	}
	return nil
}

// Palette is a PALETTE COLOR lookup: three tables of Red, Green and Blue.
type Palette struct {
	tables [3]table
	bits   int
}

type table struct {
	first   int      // the stored value that maps to entries[0]
	entries []uint16 // at least one
}

// NewPalette reads the three Palette Color Lookup Table Descriptors (number
// of entries, 0 meaning 65536; first stored value mapped, which for signed
// pixels may be given as SS (-100) or read as US (65436); bits per entry, 8 or 16) and the raw little-endian
// bytes of the matching Palette Color Lookup Table Data (OW).
//
// 16-bit entries take two bytes each. 8-bit entries come either one per
// 16-bit word in its low byte (the usual form) or packed two per word; the
// data length tells which, as in pydicom's apply_color_lut. Bytes past the
// table are ignored (padding).
func NewPalette(descriptors [3][3]int, data [3][]byte) (*Palette, error) {
	p := &Palette{bits: 8}
	for c, d := range descriptors {
		colour := [3]string{"red", "green", "blue"}[c]
		entries, first, bits := d[0], d[1], d[2]
		if entries == 0 {
			entries = 1 << 16
		}
		if entries < 0 || entries > 1<<16 {
			return nil, codec.Errorf(name, "%s palette of %d entries", colour, d[0])
		}
		if first < -(1<<15) || first > 1<<16-1 {
			return nil, codec.Errorf(name, "%s palette first mapped value %d", colour, first)
		}
		raw := data[c]
		t := table{first: first, entries: make([]uint16, entries)}
		switch {
		case bits == 16 && len(raw) >= 2*entries:
			for i := range t.entries {
				t.entries[i] = uint16(raw[2*i]) | uint16(raw[2*i+1])<<8
			}
			p.bits = 16
		case bits == 8 && len(raw) >= 2*entries:
			for i := range t.entries {
				t.entries[i] = uint16(raw[2*i])
			}
		case bits == 8 && len(raw) >= entries:
			for i := range t.entries {
				t.entries[i] = uint16(raw[i])
			}
		case bits == 8 || bits == 16:
			return nil, codec.Errorf(name, "%s palette data of %d bytes for %d entries of %d bits", colour, len(raw), entries, bits)
		default:
			return nil, codec.Errorf(name, "%s palette of %d bits per entry: %w", colour, bits, codec.ErrUnsupported)
		}
		p.tables[c] = t
	}
	return p, nil
}

// Bits is the size of an output sample: 8 when every table has 8-bit
// entries, else 16 (an 8-bit table's values are then written unscaled).
func (p *Palette) Bits() int { return p.bits }

// Expand maps each stored value of src (srcBytesPerSample bytes little
// endian, 1 or 2, two's complement when signed; the caller masks them to
// Bits Stored and sign-extends first) to an R G B pixel of dst, Bits()/8 bytes little
// endian per sample. A value below a table's first mapped value takes its
// first entry, one past its end its last entry (PS3.3 C.7.6.3.1.5). It maps
// as many pixels as both slices hold, and panics when srcBytesPerSample is
// neither 1 nor 2, a caller's bug.
//
// src may be the tail of dst (src = dst[len(dst)-len(src):]), so that a
// frame of indices needs no buffer of its own: pixels are mapped from the
// first on, each index read before its pixel is written, and a pixel (3 or
// 6 bytes) is never shorter than an index (1 or 2), so a pixel's bytes end
// at or before the next index.
func (p *Palette) Expand(dst, src []byte, srcBytesPerSample int, signed bool) {
	if srcBytesPerSample != 1 && srcBytesPerSample != 2 {
		panic("color: palette index of " + strconv.Itoa(srcBytesPerSample) + " bytes")
	}
	outBytes := p.bits / 8
	n := min(len(src)/srcBytesPerSample, len(dst)/(3*outBytes))
	r, g, b := p.tables[0], p.tables[1], p.tables[2]
	if signed {
		// The first mapped value is SS for signed pixels; a reader that
		// took it as US hands over 65436 for -100.
		for _, t := range []*table{&r, &g, &b} {
			if t.first >= 1<<15 {
				t.first -= 1 << 16
			}
		}
	}
	for i := 0; i < n; i++ {
		var v int
		switch {
		case srcBytesPerSample == 1 && signed:
			v = int(int8(src[i]))
		case srcBytesPerSample == 1:
			v = int(src[i])
		case signed:
			v = int(int16(uint16(src[2*i]) | uint16(src[2*i+1])<<8))
		default:
			v = int(uint16(src[2*i]) | uint16(src[2*i+1])<<8)
		}
		rv, gv, bv := r.lookup(v), g.lookup(v), b.lookup(v)
		if outBytes == 1 {
			d := dst[3*i : 3*i+3 : 3*i+3]
			d[0], d[1], d[2] = byte(rv), byte(gv), byte(bv)
			continue
		}
		d := dst[6*i : 6*i+6 : 6*i+6]
		d[0], d[1] = byte(rv), byte(rv>>8)
		d[2], d[3] = byte(gv), byte(gv>>8)
		d[4], d[5] = byte(bv), byte(bv>>8)
	}
}

func (t *table) lookup(v int) uint16 {
	i := v - t.first
	if i < 0 {
		i = 0
	}
	if i >= len(t.entries) {
		i = len(t.entries) - 1
	}
	return t.entries[i]
}
