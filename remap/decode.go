package remap

import (
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/dicom-remap/dicom-remap/codec"
	"github.com/dicom-remap/dicom-remap/codec/color"
	"github.com/dicom-remap/dicom-remap/codec/jpeg2000"
	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// syntaxCodec is how the frames of an encapsulated transfer syntax are
// decoded.
type syntaxCodec struct {
	uid        string
	name       string // for the derivation description
	newDecoder func() frameDecoder
	// lossy syntaxes keep Lossy Image Compression 01 in the output;
	// method is the (0028,2114) code that names the compression.
	lossy  bool
	method string
	// ratio is the compression ratio, for a stream found lossy that the
	// input did not flag
	ratio string
	// jpeg streams begin with an SOI marker, so that a frame's first
	// fragment can be told from the others without an offset table.
	jpeg bool
	// j2k codestreams begin with an SOC marker, and their decoder applies
	// the colour transform that YBR_RCT and YBR_ICT name.
	j2k bool
}

// syntaxCodecOf returns the decoder of an encapsulated transfer syntax, or
// a rejection that names why it cannot be read.
func syntaxCodecOf(ts string) (*syntaxCodec, error) {
	if c, ok := syntaxCodecs[ts]; ok {
		return &c, nil
	}
	switch {
	case ts == "1.2.840.10008.1.2.4.92" || ts == "1.2.840.10008.1.2.4.93":
		return nil, reject(StepHeader, "transfer syntax %s (JPEG 2000 Part 2 multi-component) is not supported: decompress first, e.g. gdcmconv --raw", ts)
	case strings.HasPrefix(ts, "1.2.840.10008.1.2.4.10"):
		return nil, reject(StepHeader, "transfer syntax %s is video (MPEG or HEVC): not supported", ts)
	case strings.HasPrefix(ts, "1.2.840.10008.1.2.4."):
		return nil, reject(StepHeader, "transfer syntax %s is a retired or unsupported JPEG process: decompress first, e.g. gdcmconv --raw", ts)
	}
	return nil, reject(StepHeader, "transfer syntax %s is unknown", ts)
}

// planConversion records the stored format and turns the image's fields
// into the format the map sees: RGB for YBR and palette colour.
func (im *image) planConversion() error {
	im.stored = storedFormat{photometric: im.photometric, samples: im.samplesPerPixel, bitsAllocated: im.bitsAllocated,
		bitsStored: im.bitsStored, signed: im.signed, planar: im.planar}
	switch im.convert {
	case convertNone:
		return nil
	case convertYBR, convertYBR422:
		if im.syntax == nil && im.bitsAllocated != 8 {
			return reject(StepHeader, "%s with %d bits allocated is not supported (8 bits are)", im.photometric, im.bitsAllocated)
		}
		if im.bitsAllocated > 16 {
			return reject(StepHeader, "%s with %d bits allocated is not supported", im.photometric, im.bitsAllocated)
		}
		if im.photometric == "YBR_FULL_422" && im.syntax == nil && im.columns%2 != 0 {
			return reject(StepHeader, "YBR_FULL_422 with an odd number of columns (%d)", im.columns)
		}
	case convertByDecoder:
	case convertPalette:
		if im.bitsAllocated > 16 {
			return reject(StepHeader, "PALETTE COLOR with %d bits allocated is not supported", im.bitsAllocated)
		}
		im.bitsAllocated, im.bitsStored, im.highBit = im.palette.Bits(), im.palette.Bits(), im.palette.Bits()-1
		im.signed = false
		im.samplesPerPixel = 3
	}
	im.photometric, im.planar = "RGB", 0
	return nil
}

// Palette tags (PS3.3 C.7.6.3).
var (
	tagPaletteDescriptors = [3]tag.Tag{{Group: 0x0028, Element: 0x1101}, {Group: 0x0028, Element: 0x1102}, {Group: 0x0028, Element: 0x1103}}
	tagPaletteData        = [3]tag.Tag{{Group: 0x0028, Element: 0x1201}, {Group: 0x0028, Element: 0x1202}, {Group: 0x0028, Element: 0x1203}}
	tagSegmentedPalette   = [3]tag.Tag{{Group: 0x0028, Element: 0x1221}, {Group: 0x0028, Element: 0x1222}, {Group: 0x0028, Element: 0x1223}}
	tagPaletteUID         = tag.Tag{Group: 0x0028, Element: 0x1199}
	tagLossyCompression   = tag.Tag{Group: 0x0028, Element: 0x2110}
	tagLossyRatio         = tag.Tag{Group: 0x0028, Element: 0x2112}
	tagLossyMethod        = tag.Tag{Group: 0x0028, Element: 0x2114}
)

// readPalette reads the three non-segmented Palette Color Lookup Tables.
func readPalette(ds *dicom.Dataset) (*color.Palette, error) {
	for _, t := range tagSegmentedPalette {
		if find(ds.Elements, t) != nil {
			return nil, reject(StepHeader, "segmented palette colour lookup tables are not supported")
		}
	}
	var desc [3][3]int
	var data [3][]byte
	for i, name := range []string{"red", "green", "blue"} {
		var v []int
		if e := find(ds.Elements, tagPaletteDescriptors[i]); e != nil {
			v, _ = e.Value.GetValue().([]int)
		}
		if len(v) != 3 {
			return nil, reject(StepHeader, "PALETTE COLOR without a valid %s palette descriptor", name)
		}
		// The first mapped value is US or SS as the pixels are: the
		// library reads it unsigned.
		desc[i] = [3]int{v[0] & 0xffff, v[1] & 0xffff, v[2]}
		d := find(ds.Elements, tagPaletteData[i])
		if d == nil {
			return nil, reject(StepHeader, "PALETTE COLOR without %s palette data", name)
		}
		var ok bool
		if data[i], ok = lutBytes(d); !ok {
			return nil, reject(StepHeader, "%s palette data is not binary", name)
		}
	}
	p, err := color.NewPalette(desc, data)
	if err != nil {
		return nil, reject(StepHeader, "palette: %v", err)
	}
	return p, nil
}

// lutBytes returns the little-endian bytes of an OW lookup table as the
// library read it.
func lutBytes(e *dicom.Element) ([]byte, bool) {
	switch v := e.Value.GetValue().(type) {
	case []byte:
		return v, true
	case []int:
		b := make([]byte, 2*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint16(b[2*i:], uint16(x))
		}
		return b, true
	}
	return nil, false
}

// frameSize is the byte size of frames frames of f, refused when over limit.
func frameSize(f codec.Frame, frames int, limit int64) (int64, error) {
	n := int64(f.Size())
	if n < 0 || n > limit/int64(frames) {
		return 0, reject(StepPixels, "declared image (%d frames of %dx%dx%d) exceeds the %d-byte pixel limit", frames, f.Columns, f.Rows, f.Samples, limit)
	}
	return n, nil
}

// newFrameSource describes the frames of im; the caller says where they are.
func (im *image) newFrameSource(limit int64) (*frameSource, error) {
	out := codec.Frame{Columns: im.columns, Rows: im.rows, Samples: im.samplesPerPixel, Bits: im.bitsAllocated}
	size, err := frameSize(out, im.frames, limit)
	if err != nil {
		return nil, err
	}
	stored := codec.Frame{Columns: im.columns, Rows: im.rows, Samples: im.stored.samples, Bits: im.stored.bitsAllocated}
	if _, err := frameSize(stored, im.frames, limit); err != nil {
		return nil, err
	}
	im.pixels = pixelSource{length: size * int64(im.frames)}
	fs := &frameSource{count: im.frames, size: int(size), stored: stored, convert: im.convert, planar: im.stored.planar,
		precision: im.stored.bitsStored, palette: im.palette, indexBits: im.stored.bitsStored, signed: im.stored.signed, order: im.order}
	im.order = binary.LittleEndian // of the frames the source gives
	return fs, nil
}

// attachConverted sets up native pixel data that is converted frame by
// frame (YBR, palette colour).
func (im *image) attachConverted(limit int64, lay layout, info dicom.PixelDataInfo, src io.ReaderAt) error {
	fs, err := im.newFrameSource(limit)
	if err != nil {
		return err
	}
	fs.rawSize = fs.stored.Size()
	if im.convert == convertYBR422 {
		fs.rawSize = fs.stored.Size() * 2 / 3 // two bytes a pixel: Y, and Cb or Cr
	}
	want := int64(fs.rawSize) * int64(im.frames)
	var got int64
	switch {
	case info.IntentionallySkipped && lay.pixelOffset > 0:
		fs.file, fs.offset, got = src, lay.pixelOffset, lay.pixelLength
	case info.IntentionallyUnprocessed:
		fs.mem, got = info.UnprocessedValueData, int64(len(info.UnprocessedValueData))
	default:
		return reject(StepPixels, "pixel data was not read")
	}
	if got < want {
		return reject(StepPixels, "truncated: %d bytes, the header declares %d", got, want)
	}
	im.pixels.frames = fs
	return nil
}

// attachEncapsulated sets up encapsulated pixel data, decoded frame by
// frame from its fragments.
func (im *image) attachEncapsulated(limit int64, lay layout, src io.ReaderAt) error {
	if lay.encap == nil {
		return reject(StepPixels, "transfer syntax %s declares encapsulated pixel data, but it is native", im.syntax.uid)
	}
	fs, err := im.newFrameSource(limit)
	if err != nil {
		return err
	}
	el := lay.encap
	bot, err := readOffsets(src, el.items[0], 4, limit)
	if err != nil {
		return err
	}
	eot, err := readOffsets(src, el.extended, 8, limit)
	if err != nil {
		return err
	}
	if el.extended.length > 0 && el.extendedLengths.length != el.extended.length {
		return reject(StepPixels, "the extended offset table and its lengths differ in size")
	}
	// Without an offset table, a fragment that begins a frame is told by
	// how the frame's stream begins: a JPEG SOI marker, or an RLE header
	// with the segment count this image needs and its first segment at 64.
	starts := func(s span) (bool, bool) {
		var b [8]byte
		n, _ := src.ReadAt(b[:min(s.length, 8)], s.offset)
		switch {
		case im.syntax.jpeg:
			return n >= 2 && b[0] == 0xff && b[1] == 0xd8, true
		case im.syntax.j2k: // a J2K codestream's SOC, or a JP2 signature box
			return n >= 2 && b[0] == 0xff && b[1] == 0x4f || n == 8 && string(b[4:8]) == "jP  ", true
		case im.syntax.uid == tsRLE:
			segments := uint32(im.stored.samples * im.stored.bitsAllocated / 8)
			return n == 8 && binary.LittleEndian.Uint32(b[:]) == segments && binary.LittleEndian.Uint32(b[4:]) == 64, true
		}
		return false, false
	}
	var warning string
	if fs.fragments, warning, err = frameFragments(el.items, im.frames, bot, eot, starts); err != nil {
		return err
	}
	if len(eot) > 0 {
		// The lengths must be the frames' (each padded to even length in
		// its fragments): a table that lies about them is not trusted for
		// the offsets either.
		lengths, err := readOffsets(src, el.extendedLengths, 8, limit)
		if err != nil {
			return err
		}
		for i, frags := range fs.fragments {
			var n uint64
			for _, s := range frags {
				n += uint64(s.length)
			}
			if lengths[i] > n || n-lengths[i] > 1 {
				return reject(StepPixels, "the extended offset table gives frame %d %d bytes, its fragments hold %d", i+1, lengths[i], n)
			}
		}
	}
	if warning != "" {
		im.warnings = append(im.warnings, warning)
	}
	fs.file, fs.newDecoder = src, im.syntax.newDecoder
	if err := fs.checkStreams(im.syntax); err != nil {
		return err
	}
	im.pixels.frames = fs
	if im.syntax.j2k && !im.syntax.lossy && len(fs.fragments) > 0 {
		// .91 streams are lossless or lossy by their wavelet: an
		// irreversible one is lossy, and the output must say so and
		// name the method (an unreadable stream is refused when decoded)
		first, err := fs.compressed(0, &frameWorker{})
		if err != nil {
			return err
		}
		if irr, _ := jpeg2000.Irreversible(first); irr {
			im.syntax.lossy = true
			// the ratio is Type 1C beside the flag: decoded bytes over
			// compressed bytes, as PS3.3 C.7.6.1.1.5 computes it
			var n int64
			for _, f := range fs.fragments {
				for _, s := range f {
					n += s.length
				}
			}
			if n > 0 {
				r := float64(fs.stored.Size()) * float64(fs.count) / float64(n)
				im.syntax.ratio = strconv.FormatFloat(r, 'f', 2, 64)
			}
		}
	}
	return nil
}

// readOffsets reads an offset table of 4- or 8-byte little-endian entries.
func readOffsets(src io.ReaderAt, s span, size int, limit int64) ([]uint64, error) {
	if s.length == 0 {
		return nil, nil
	}
	if s.length%int64(size) != 0 || s.length > limit {
		return nil, reject(StepPixels, "an offset table of %d bytes is not a whole number of %d-byte entries", s.length, size)
	}
	b := make([]byte, s.length)
	if _, err := src.ReadAt(b, s.offset); err != nil {
		return nil, reject(StepPixels, "truncated offset table: %v", err)
	}
	out := make([]uint64, 0, len(b)/size)
	for i := 0; i < len(b); i += size {
		if size == 4 {
			out = append(out, uint64(binary.LittleEndian.Uint32(b[i:])))
		} else {
			out = append(out, binary.LittleEndian.Uint64(b[i:]))
		}
	}
	return out, nil
}

// describeDecoding says how the stored pixels were read, for the
// derivation description; "" when they were native.
func describeDecoding(im *image) string {
	var parts []string
	if im.syntax != nil {
		parts = append(parts, "decoded from "+im.syntax.name)
	}
	if im.convert != convertNone {
		parts = append(parts, fmt.Sprintf("%s converted to RGB", im.stored.photometric))
	}
	return strings.Join(parts, ", ")
}
