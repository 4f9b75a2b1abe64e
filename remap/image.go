package remap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/dicom-remap/dicom-remap/codec/color"
	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// Transfer syntaxes whose Pixel Data is native (not encapsulated).
const (
	tsImplicitLE = "1.2.840.10008.1.2"
	tsExplicitLE = "1.2.840.10008.1.2.1"
	tsDeflatedLE = "1.2.840.10008.1.2.1.99"
	tsExplicitBE = "1.2.840.10008.1.2.2"
)

// Tags the library does not name, or names in ways easy to mix up.
var (
	tagFloatPixelData       = tag.Tag{Group: 0x7fe0, Element: 0x0008}
	tagDoubleFloatPixelData = tag.Tag{Group: 0x7fe0, Element: 0x0009}
	tagModalityLUTSequence  = tag.Tag{Group: 0x0028, Element: 0x3000}
	tagVOILUTSequence       = tag.Tag{Group: 0x0028, Element: 0x3010}
	tagPixelPaddingRange    = tag.Tag{Group: 0x0028, Element: 0x0121}
	tagSharedGroups         = tag.Tag{Group: 0x5200, Element: 0x9229}
	tagPerFrameGroups       = tag.Tag{Group: 0x5200, Element: 0x9230}
	tagPixelValueTransform  = tag.Tag{Group: 0x0028, Element: 0x9145}
	tagFrameVOILUT          = tag.Tag{Group: 0x0028, Element: 0x9132}
	tagRealWorldValueMap    = tag.Tag{Group: 0x0040, Element: 0x9096}
	tagIconImageSequence    = tag.Tag{Group: 0x0088, Element: 0x0200}
	tagFrameType            = tag.Tag{Group: 0x0008, Element: 0x9007}
	tagRescaleType          = tag.Tag{Group: 0x0028, Element: 0x1054}
	tagWindowExplanation    = tag.Tag{Group: 0x0028, Element: 0x1055}
	tagDerivationDesc       = tag.Tag{Group: 0x0008, Element: 0x2111}
	tagSourceImageSequence  = tag.Tag{Group: 0x0008, Element: 0x2112}
	tagPurposeOfReference   = tag.Tag{Group: 0x0040, Element: 0xa170}
	tagUnits                = tag.Tag{Group: 0x0054, Element: 0x1001}
	tagDoseGridScaling      = tag.Tag{Group: 0x3004, Element: 0x000e}
	tagSmallestInSeries     = tag.Tag{Group: 0x0028, Element: 0x0108}
	tagLargestInSeries      = tag.Tag{Group: 0x0028, Element: 0x0109}
	tagSmallestInPlane      = tag.Tag{Group: 0x0028, Element: 0x0110}
	tagLargestInPlane       = tag.Tag{Group: 0x0028, Element: 0x0111}
	tagImplementationClass  = tag.Tag{Group: 0x0002, Element: 0x0012}
	tagImplementationName   = tag.Tag{Group: 0x0002, Element: 0x0013}
)

// image is what the pixel path needs to know, read from the top-level
// Image Pixel attributes (never from nested ones such as an icon's).
type image struct {
	transferSyntax  string
	order           binary.ByteOrder
	sopClass        string
	sopInstance     string
	seriesInstance  string
	photometric     string
	samplesPerPixel int
	rows, columns   int
	frames          int
	bitsAllocated   int
	bitsStored      int
	highBit         int
	signed          bool
	planar          int
	padding         *paddingRange
	pixelData       *dicom.Element
	pixels          pixelSource // exactly samples()*bitsAllocated/8 bytes

	// The fields above describe the samples the map sees. Where they are
	// decoded or converted from what is stored, these say how.
	syntax  *syntaxCodec // the decoder of an encapsulated transfer syntax, nil when native
	convert conversion
	stored  storedFormat // the pixel format as stored
	palette *color.Palette

	warnings []string // what was read in a way the caller should hear of
}

// storedFormat is the stored pixel format when it differs from the one
// mapped (palette indices, YBR).
type storedFormat struct {
	photometric               string
	samples                   int
	bitsAllocated, bitsStored int
	signed                    bool
	planar                    int
}

// pixelSource gives the stored Pixel Data in chunks of whole samples: from
// the file itself when its place is known, so that memory stays small
// whatever the image size, else from the bytes the library read.
type pixelSource struct {
	mem    []byte
	file   io.ReaderAt
	offset int64
	length int64
	// frames, when set, decodes or converts the pixel data frame by frame:
	// chunks are then whole output frames.
	frames *frameSource
	// spill, when set, gets every decoded frame at its offset.
	spill io.WriterAt
}

// chunkSize is how many bytes of samples are read, mapped and written at a
// time: a multiple of every sample size, and a write size the kernel likes.
const chunkSize = 1 << 20

// chunkPool recycles chunk buffers: a series reads thousands of files.
var chunkPool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

func deref(buf *[]byte) []byte {
	if buf == nil {
		return nil
	}
	return *buf
}

// count is the number of chunks.
func (s pixelSource) count() int {
	if s.frames != nil {
		return s.frames.count
	}
	return int((s.length + chunkSize - 1) / chunkSize)
}

// chunkLen is the length of every chunk but the last.
func (s pixelSource) chunkLen() int64 {
	if s.frames != nil {
		return int64(s.frames.size)
	}
	return chunkSize
}

// buffer returns a buffer for one chunk, nil when chunks are read from
// memory.
func (s pixelSource) buffer() *[]byte {
	switch {
	case s.frames != nil:
		return s.frames.buffer()
	case s.file != nil:
		return chunkPool.Get().(*[]byte)
	}
	return nil
}

func (s pixelSource) release(buf *[]byte) {
	switch {
	case buf == nil:
	case s.frames != nil:
		s.frames.release(buf)
	default:
		chunkPool.Put(buf)
	}
}

// read returns chunk i of the pixel data, read into buf when it comes from
// the file or a decoder; w is the reading goroutine's scratch space.
func (s pixelSource) read(i int, buf []byte, w *frameWorker) ([]byte, error) {
	if s.frames != nil {
		b := buf[:s.frames.size]
		if err := s.frames.read(i, b, w); err != nil {
			return nil, err
		}
		if s.spill != nil {
			if _, err := s.spill.WriteAt(b, int64(i)*int64(len(b))); err != nil {
				return nil, &Error{Kind: Internal, Step: StepPixels, Err: fmt.Errorf("scratch space: %w", err)}
			}
		}
		return b, nil
	}
	off := int64(i) * chunkSize
	if s.file == nil {
		return s.mem[off:min(off+chunkSize, int64(len(s.mem)))], nil
	}
	b := buf[:min(chunkSize, s.length-off)]
	if _, err := s.file.ReadAt(b, s.offset+off); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, reject(StepPixels, "truncated: pixel data ends early")
		}
		return nil, &Error{Kind: Internal, Step: StepPixels, Err: err}
	}
	return b, nil
}

// process reads chunk i and works on it. A panic on the way is an error,
// never a crash: in a decoder (the largest parser of untrusted bytes) it
// rejects the frame that caused it, elsewhere it is an internal error.
// Either way the caller's goroutine, which may be a worker that nothing
// above would recover, returns an error that names the step.
func (s pixelSource) process(i int, buf []byte, w *frameWorker, worker int, work func(int, []byte)) (b []byte, err error) {
	reading := true
	defer func() {
		if r := recover(); r != nil {
			*w = frameWorker{} // a decoder stopped half way holds no state to trust
			b = nil
			if reading && s.frames != nil && s.frames.newDecoder != nil {
				err = reject(StepPixels, "frame %d of %d: the decoder failed on this stream: %v", i+1, s.frames.count, r)
			} else {
				err = &Error{Kind: Internal, Step: StepPixels, Err: fmt.Errorf("chunk %d: internal error: %v", i+1, r)}
			}
		}
	}()
	if b, err = s.read(i, buf, w); err != nil {
		return nil, err
	}
	reading = false
	work(worker, b)
	return b, nil
}

// worker returns a goroutine's scratch space: a frame source keeps its
// workers (and their decoders) from one pass to the next.
func (s pixelSource) worker() *frameWorker {
	if s.frames != nil {
		return s.frames.worker()
	}
	return new(frameWorker)
}

func (s pixelSource) done(w *frameWorker) {
	if s.frames != nil {
		s.frames.done(w)
	}
}

// workers is how many goroutines chunks should use for at most threads:
// one for an image of one or two chunks, where starting more costs more
// than it gives.
func (s pixelSource) workers(threads int) int {
	chunks := s.count()
	if s.frames != nil { // a frame is worth a goroutine, unless it is large
		return max(1, min(threadLimit(threads), chunks, maxFrameWorkers(s.frames.size)))
	}
	if chunks <= 2 {
		return 1
	}
	return min(threadLimit(threads), chunks)
}

// chunks reads the pixel data chunk by chunk and calls work on each, which
// may change it in place; with several workers, worker w takes chunks w,
// w+workers, ... Then emit, when not nil, gets the chunks in file order on
// the calling goroutine, while the workers read and work ahead: reading,
// mapping and writing overlap. A chunk is reused once emit returns.
func (s pixelSource) chunks(workers int, work func(worker int, b []byte), emit func([]byte) error) error {
	n := s.count()
	if workers <= 1 {
		buf := s.buffer()
		defer s.release(buf)
		fw := s.worker()
		defer s.done(fw)
		for i := range n {
			b, err := s.process(i, deref(buf), fw, 0, work)
			if err != nil {
				return err
			}
			if emit != nil {
				if err := emit(b); err != nil {
					return err
				}
			}
		}
		return nil
	}
	type chunk struct {
		b   []byte
		buf *[]byte
		err error
	}
	done := make(chan struct{})
	ready := make([]chan chunk, workers) // two chunks of read-ahead each
	var wg sync.WaitGroup
	for w := range workers {
		ready[w] = make(chan chunk, 2)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fw := s.worker()
			defer s.done(fw)
			for i := w; i < n; i += workers {
				buf := s.buffer()
				b, err := s.process(i, deref(buf), fw, w, work)
				select {
				case ready[w] <- chunk{b, buf, err}:
				case <-done:
					s.release(buf)
					return
				}
				if err != nil {
					return
				}
			}
		}()
	}
	var err error
	for i := 0; i < n && err == nil; i++ {
		c := <-ready[i%workers] // worker i%workers sends its chunks in order
		if err = c.err; err == nil && emit != nil {
			err = emit(c.b)
		}
		s.release(c.buf)
	}
	close(done)
	wg.Wait()
	return err
}

// paddingRange holds stored values that mark padding, inclusive.
type paddingRange struct{ lo, hi int64 }

// contains reports whether v is padding; a nil range holds nothing.
func (p *paddingRange) contains(v int64) bool { return p != nil && v >= p.lo && v <= p.hi }

func (im *image) samples() int {
	return im.rows * im.columns * im.frames * im.samplesPerPixel
}

func (im *image) monochrome() bool { return strings.HasPrefix(im.photometric, "MONOCHROME") }

// readImage checks that ds is an image this tool can remap and describes it.
func readImage(ds *dicom.Dataset) (*image, error) {
	im := &image{}
	ts, ok := stringValue(ds, tag.TransferSyntaxUID)
	if !ok {
		ts = tsImplicitLE // no file meta: the library reads such files as implicit LE
	}
	im.transferSyntax = ts
	switch ts {
	case tsImplicitLE, tsExplicitLE, tsDeflatedLE:
		im.order = binary.LittleEndian
	case tsExplicitBE:
		im.order = binary.BigEndian
	default:
		var err error
		if im.syntax, err = syntaxCodecOf(ts); err != nil {
			return nil, err
		}
		im.order = binary.LittleEndian // of the decoded samples
	}

	if find(ds.Elements, tagFloatPixelData) != nil || find(ds.Elements, tagDoubleFloatPixelData) != nil {
		return nil, reject(StepHeader, "float pixel data is not supported: only integer pixel data can be remapped")
	}
	// Some writers put the SOP Class and Instance UIDs only in the file
	// meta; readers take them from there, and so does this tool, saying so.
	for _, u := range []struct {
		dst        *string
		main, meta tag.Tag
		name       string
	}{
		{&im.sopClass, tag.SOPClassUID, tag.MediaStorageSOPClassUID, "SOP Class UID"},
		{&im.sopInstance, tag.SOPInstanceUID, tag.MediaStorageSOPInstanceUID, "SOP Instance UID"},
	} {
		if *u.dst, ok = stringValue(ds, u.main); ok {
			continue
		}
		if *u.dst, ok = stringValue(ds, u.meta); !ok {
			return nil, reject(StepHeader, "missing %s", u.name)
		}
		im.warnings = append(im.warnings, fmt.Sprintf("no %s in the data set: read from the file meta's Media Storage %s", u.name, u.name))
	}
	im.seriesInstance, _ = stringValue(ds, tag.SeriesInstanceUID)

	im.pixelData = find(ds.Elements, tag.PixelData)
	if im.pixelData == nil {
		return nil, reject(StepHeader, "no pixel data: not an image")
	}

	var err error
	ints := []struct {
		t   tag.Tag
		dst *int
	}{
		{tag.SamplesPerPixel, &im.samplesPerPixel},
		{tag.Rows, &im.rows},
		{tag.Columns, &im.columns},
		{tag.BitsAllocated, &im.bitsAllocated},
		{tag.BitsStored, &im.bitsStored},
		{tag.HighBit, &im.highBit},
	}
	for _, x := range ints {
		if *x.dst, err = requiredInt(ds, x.t); err != nil {
			return nil, err
		}
	}
	pr, err := requiredInt(ds, tag.PixelRepresentation)
	if err != nil {
		return nil, err
	}
	if pr != 0 && pr != 1 {
		return nil, reject(StepHeader, "pixel representation %d is neither 0 nor 1", pr)
	}
	im.signed = pr == 1
	im.frames = 1
	if e := find(ds.Elements, tag.NumberOfFrames); e != nil {
		if im.frames, err = intOf(e); err != nil || im.frames < 1 {
			return nil, reject(StepHeader, "number of frames %q is not a positive integer", valueText(e))
		}
	}

	im.photometric, _ = stringValue(ds, tag.PhotometricInterpretation)
	switch im.photometric {
	case "MONOCHROME1", "MONOCHROME2":
		if im.samplesPerPixel != 1 {
			return nil, reject(StepHeader, "%s with %d samples per pixel", im.photometric, im.samplesPerPixel)
		}
	case "RGB":
		if im.samplesPerPixel != 3 {
			return nil, reject(StepHeader, "RGB with %d samples per pixel", im.samplesPerPixel)
		}
		if im.planar, err = requiredInt(ds, tag.PlanarConfiguration); err != nil {
			return nil, err
		}
		if im.planar != 0 && im.planar != 1 {
			return nil, reject(StepHeader, "planar configuration %d is neither 0 nor 1", im.planar)
		}
		if im.signed {
			return nil, reject(StepHeader, "signed RGB pixel data is not valid DICOM")
		}
	case "YBR_FULL", "YBR_FULL_422":
		if im.samplesPerPixel != 3 {
			return nil, reject(StepHeader, "%s with %d samples per pixel", im.photometric, im.samplesPerPixel)
		}
		if im.signed {
			return nil, reject(StepHeader, "signed %s pixel data is not valid DICOM", im.photometric)
		}
		im.convert = convertYBR
		if im.syntax == nil {
			if im.planar, err = requiredInt(ds, tag.PlanarConfiguration); err != nil {
				return nil, err
			}
			if im.planar != 0 && im.planar != 1 || im.photometric == "YBR_FULL_422" && im.planar != 0 {
				return nil, reject(StepHeader, "planar configuration %d is not valid for %s", im.planar, im.photometric)
			}
			if im.photometric == "YBR_FULL_422" {
				im.convert = convertYBR422
			}
		}
	case "YBR_RCT", "YBR_ICT":
		if im.syntax == nil || !im.syntax.j2k {
			return nil, reject(StepHeader, "%s outside JPEG 2000 is not valid DICOM", im.photometric)
		}
		if im.samplesPerPixel != 3 {
			return nil, reject(StepHeader, "%s with %d samples per pixel", im.photometric, im.samplesPerPixel)
		}
		im.convert = convertByDecoder
	case "PALETTE COLOR":
		if im.samplesPerPixel != 1 {
			return nil, reject(StepHeader, "PALETTE COLOR with %d samples per pixel", im.samplesPerPixel)
		}
		if im.palette, err = readPalette(ds); err != nil {
			return nil, err
		}
		im.convert = convertPalette
	case "":
		return nil, reject(StepHeader, "missing photometric interpretation")
	default:
		if strings.HasPrefix(im.photometric, "YBR") {
			return nil, reject(StepHeader, "photometric interpretation %s is not supported (YBR_FULL, YBR_FULL_422, and YBR_RCT and YBR_ICT in JPEG 2000 are)", im.photometric)
		}
		return nil, reject(StepHeader, "photometric interpretation %q is not supported", im.photometric)
	}

	switch im.bitsAllocated {
	case 8, 16, 32:
	case 1:
		return nil, reject(StepHeader, "bits allocated 1 (bitmap) is not supported")
	default:
		return nil, reject(StepHeader, "bits allocated %d is not supported (8, 16 or 32)", im.bitsAllocated)
	}
	if im.bitsStored < 1 || im.bitsStored > im.bitsAllocated {
		return nil, reject(StepHeader, "bits stored %d does not fit bits allocated %d", im.bitsStored, im.bitsAllocated)
	}
	if im.highBit != im.bitsStored-1 {
		return nil, reject(StepHeader, "high bit %d is not bits stored - 1 (%d)", im.highBit, im.bitsStored-1)
	}
	if im.rows < 1 || im.columns < 1 {
		return nil, reject(StepHeader, "image size %dx%d is empty", im.columns, im.rows)
	}
	if err := im.planConversion(); err != nil {
		return nil, err
	}

	if err := checkModalityTransform(ds.Elements); err != nil {
		return nil, err
	}
	if err := checkFunctionalGroups(ds); err != nil {
		return nil, err
	}
	if im.padding, err = readPadding(ds, im); err != nil {
		return nil, err
	}
	return im, nil
}

// attachPixels finds the stored Pixel Data, in the file or as the library
// read it, and checks its length against the header: the library can
// silently drop or cut pixel data.
func (im *image) attachPixels(limit int64, lay layout, src io.ReaderAt) error {
	if im.syntax != nil {
		return im.attachEncapsulated(limit, lay, src)
	}
	info, ok := im.pixelData.Value.GetValue().(dicom.PixelDataInfo)
	if !ok || info.IsEncapsulated || lay.encap != nil {
		return reject(StepPixels, "pixel data is encapsulated in a native transfer syntax")
	}
	if im.convert != convertNone {
		return im.attachConverted(limit, lay, info, src)
	}
	var got int64
	switch {
	case info.IntentionallySkipped && lay.pixelOffset > 0:
		im.pixels = pixelSource{file: src, offset: lay.pixelOffset}
		got = lay.pixelLength
	case info.IntentionallyUnprocessed:
		im.pixels = pixelSource{mem: info.UnprocessedValueData}
		got = int64(len(info.UnprocessedValueData))
	default:
		return reject(StepPixels, "pixel data was not read")
	}
	// Multiply in int64 with overflow checks: a few header bytes can claim
	// any size.
	want := int64(im.bitsAllocated / 8)
	for _, n := range []int{im.rows, im.columns, im.frames, im.samplesPerPixel} {
		if want > limit/int64(n) {
			return reject(StepPixels, "declared image (%d frames of %dx%dx%d) exceeds the %d-byte pixel limit", im.frames, im.columns, im.rows, im.samplesPerPixel, limit)
		}
		want *= int64(n)
	}
	if got < want {
		return reject(StepPixels, "truncated: %d bytes, the header declares %d", got, want)
	}
	// Longer Pixel Data is trailing padding that readers ignore; the output
	// holds exactly what the header declares.
	im.pixels.length = want
	if im.pixels.mem != nil {
		im.pixels.mem = im.pixels.mem[:want]
	}
	return nil
}

// checkModalityTransform refuses a rescale that reverses the order.
func checkModalityTransform(elems []*dicom.Element) error {
	if e := find(elems, tag.RescaleSlope); e != nil {
		s, err := floatOf(e)
		if err != nil {
			return reject(StepHeader, "rescale slope %q is not a number", valueText(e))
		}
		if s <= 0 {
			return reject(StepHeader, "rescale slope %s is not positive: the remap would reverse intensities", valueText(e))
		}
	}
	return nil
}

// checkFunctionalGroups applies the modality checks inside an enhanced
// multi-frame image's functional groups. Frames with different rescales
// are fine: the map works on modality values (readRescales).
func checkFunctionalGroups(ds *dicom.Dataset) error {
	for _, item := range groupItems(ds.Elements) {
		for _, e := range item {
			if e.Tag != tagPixelValueTransform {
				continue
			}
			for _, inner := range sequenceItems(e) {
				if err := checkModalityTransform(inner); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// readPadding reads Pixel Padding Value and Pixel Padding Range Limit in the
// stored-value domain (sign-extended when the pixels are signed).
func readPadding(ds *dicom.Dataset, im *image) (*paddingRange, error) {
	v := find(ds.Elements, tag.PixelPaddingValue)
	if v == nil || !im.monochrome() {
		return nil, nil
	}
	lo, err := paddingValue(v, im.signed)
	if err != nil {
		return nil, err
	}
	hi := lo
	if r := find(ds.Elements, tagPixelPaddingRange); r != nil {
		if hi, err = paddingValue(r, im.signed); err != nil {
			return nil, err
		}
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	return &paddingRange{lo, hi}, nil
}

func paddingValue(e *dicom.Element, signed bool) (int64, error) {
	ints, ok := e.Value.GetValue().([]int)
	if !ok || len(ints) != 1 {
		return 0, reject(StepHeader, "pixel padding attribute %s has no single integer value", e.Tag)
	}
	v := int64(ints[0])
	// The library reads the value with the VR the file gives; the pixels'
	// own signedness decides what the 16 bits mean.
	if signed {
		v = int64(int16(uint16(v)))
	} else {
		v = int64(uint16(v))
	}
	return v, nil
}

// find returns the element with tag t among elems, or nil.
func find(elems []*dicom.Element, t tag.Tag) *dicom.Element {
	for _, e := range elems {
		if e.Tag == t {
			return e
		}
	}
	return nil
}

func stringValue(ds *dicom.Dataset, t tag.Tag) (string, bool) {
	e := find(ds.Elements, t)
	if e == nil {
		return "", false
	}
	s, ok := e.Value.GetValue().([]string)
	if !ok || len(s) == 0 || strings.TrimSpace(s[0]) == "" {
		return "", false
	}
	return strings.TrimRight(strings.TrimSpace(s[0]), "\x00"), true
}

func requiredInt(ds *dicom.Dataset, t tag.Tag) (int, error) {
	e := find(ds.Elements, t)
	if e == nil {
		return 0, reject(StepHeader, "missing %s", tagName(t))
	}
	n, err := intOf(e)
	if err != nil {
		return 0, reject(StepHeader, "%s %q is not an integer", tagName(t), valueText(e))
	}
	return n, nil
}

// intOf reads a single integer from a binary (US, SS, …) or IS element.
func intOf(e *dicom.Element) (int, error) {
	switch v := e.Value.GetValue().(type) {
	case []int:
		if len(v) == 1 {
			return v[0], nil
		}
	case []string:
		if len(v) == 1 {
			n, err := strconv.ParseInt(strings.TrimSpace(v[0]), 10, 32)
			return int(n), err
		}
	}
	return 0, strconv.ErrSyntax
}

func floatOf(e *dicom.Element) (float64, error) {
	switch v := e.Value.GetValue().(type) {
	case []float64:
		if len(v) >= 1 {
			return v[0], nil
		}
	case []string:
		if len(v) >= 1 {
			return strconv.ParseFloat(strings.TrimSpace(v[0]), 64)
		}
	}
	return 0, strconv.ErrSyntax
}

func textOf(e *dicom.Element) string {
	if e == nil {
		return ""
	}
	return valueText(e)
}

func valueText(e *dicom.Element) string {
	switch v := e.Value.GetValue().(type) {
	case []string:
		return strings.Join(v, `\`)
	case []int:
		s := make([]string, len(v))
		for i, n := range v {
			s[i] = strconv.Itoa(n)
		}
		return strings.Join(s, `\`)
	}
	return e.Value.String()
}

func tagName(t tag.Tag) string {
	if info, err := tag.Find(t); err == nil {
		return info.Name
	}
	return t.String()
}

// sequenceItems returns the items of a sequence element.
func sequenceItems(e *dicom.Element) [][]*dicom.Element {
	items, ok := e.Value.GetValue().([]*dicom.SequenceItemValue)
	if !ok {
		return nil
	}
	out := make([][]*dicom.Element, 0, len(items))
	for _, it := range items {
		if elems, ok := it.GetValue().([]*dicom.Element); ok {
			out = append(out, elems)
		}
	}
	return out
}

// groupItems returns the items of the shared and per-frame functional groups.
func groupItems(elems []*dicom.Element) [][]*dicom.Element {
	var out [][]*dicom.Element
	for _, t := range []tag.Tag{tagSharedGroups, tagPerFrameGroups} {
		if e := find(elems, t); e != nil {
			out = append(out, sequenceItems(e)...)
		}
	}
	return out
}
