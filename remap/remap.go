// Package remap linearly remaps the pixel values of a DICOM image to a
// target range and writes the result as a new, derived DICOM object.
//
// The transform, for target range [Min, Max]:
//
//   - Stored values are read as the header says: masked to BitsStored,
//     sign-extended when PixelRepresentation is 1, in the transfer syntax's
//     byte order.
//   - Every stored value v has the modality value m = v × RescaleSlope +
//     RescaleIntercept (m = v without a rescale), exact: the decimal strings
//     of the header are rationals, never floats. Enhanced images take the
//     rescale of each frame from its Pixel Value Transformation functional
//     group, so frames may differ. A Modality LUT Sequence is applied as the
//     modality transform instead (m = LUT[v], PS3.3 C.11.1). A slope that
//     is not positive is refused.
//   - Pixels equal to Pixel Padding Value, or inside the range it forms with
//     Pixel Padding Range Limit, are padding: they are left out of the source
//     range and written as Min (grayscale images only). With MaskBelow,
//     samples whose modality value is below it are left out of the source
//     range as well, but mapped.
//   - The source range [lo, hi], in modality values, is the extremes of all
//     other samples of all frames and channels, or the Percentiles [Q(PLO),
//     Q(PHI)] of them (Q(p) is the value of rank max(1, ceil(p/100 × N)) in
//     ascending order; counted exactly with a histogram of stored values per
//     rescale), or a range the caller gives. Every sample becomes
//     Min + (m-lo)*(Max-Min)/(hi-lo), rounded to the nearest integer with
//     halves rounded up and clamped to [Min, Max], computed in exact integer
//     arithmetic so that the output is the same on every machine. For one
//     rescale this is a map of stored values, built as a table per distinct
//     rescale; with an image's own extremes it is the stored-value map of
//     earlier versions, byte for byte. A constant image becomes Min.
//   - BitsAllocated is kept. BitsStored grows only as far as the target range
//     needs; PixelRepresentation becomes 1 for a negative Min where the IOD
//     allows signed pixels. A range that cannot be stored is an error of kind
//     Unrepresentable.
//   - The output is a derived image: new SOP Instance and Series Instance
//     UIDs derived from the source UIDs and the parameters (same input, same
//     bytes), ImageType DERIVED, a Derivation Description (the source range
//     in modality values and how it was chosen) and a Source Image
//     Sequence, rescale 1/0, windows that cover [Min, Max], no VOI LUT, no
//     icon, no attribute that would give the new values a physical meaning.
//     It is written as Explicit VR Little Endian with text in UTF-8.
package remap

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
	"github.com/suyashkumar/dicom/pkg/uid"
)

// DefaultPixelLimit is the largest Pixel Data, in bytes, that Remap accepts
// unless told otherwise: a header can claim any size.
const DefaultPixelLimit int64 = 4 << 30

// DefaultFrameLimit is the largest decoded frame held in memory unless told
// otherwise: a kilobyte of JPEG 2000 or JPEG-LS can declare and honestly
// encode a frame of gigabytes, and the frame is what a run's memory grows
// with. Real compressed frames are far smaller (a 4096 x 5625 16-bit
// mammogram is 46 MB; slide scans are tiled in small frames).
const DefaultFrameLimit int64 = 1 << 30

// frameLimit is p's bound on one decoded frame.
func (p Params) frameLimit() int64 {
	limit := p.FrameLimit
	if limit <= 0 {
		limit = DefaultFrameLimit
		if p.PixelLimit > 0 && p.PixelLimit < limit {
			limit = p.PixelLimit
		}
	}
	return limit
}

// Params are the arguments of one remap.
type Params struct {
	Min, Max int64
	// Source, when set, is used instead of the measured extremes: modality
	// values, exact.
	Source *ValueRange
	// Method says how a given Source was chosen (RangeMethod), for the
	// derivation description; "" for the extremes.
	Method string
	// Percentiles, when set and Source is not, choose the source range
	// [Q(Lo), Q(Hi)] of the non-padding samples instead of their extremes.
	Percentiles *Percentiles
	// HistogramsOnly, with Percentiles, makes Measure count the histograms
	// and skip the percentiles of the file itself: a caller that merges
	// them (learning landmarks over a series) needs no range per file. The
	// Measurement's Source is then the extremes.
	HistogramsOnly bool
	// MaskBelow, when set and Source is not, leaves samples whose modality
	// value is below it out of the source range (they are still mapped).
	MaskBelow *big.Rat
	// Version names the tool in the derivation description and salts the
	// derived UIDs, so that another version's output is another object.
	Version string
	// PixelLimit bounds the Pixel Data size; zero means DefaultPixelLimit.
	PixelLimit int64
	// FrameLimit bounds one decoded frame of a compressed or colour-
	// converted image, which is held in memory (native pixels are streamed
	// and need no frame); zero means DefaultFrameLimit, or PixelLimit when
	// that is lower.
	FrameLimit int64
	// MemoryLimit, when set, is the memory the process may use (its
	// address-space or cgroup limit): a compressed image whose decoded
	// frame cannot fit in half of it is refused before any frame buffer is
	// allocated, rather than ending in the runtime's fatal out-of-memory.
	MemoryLimit int64
	// Scratch, when set, holds the decoded frames of a compressed or
	// colour-converted image between the passes over its pixels, so that
	// each frame is decoded once rather than twice; without it, frames are
	// decoded again. A caller gives a temporary file. It is written and
	// read at offsets from 0 to the decoded size, by several goroutines at
	// once on ranges that do not overlap (as io.WriterAt allows).
	Scratch interface {
		io.ReaderAt
		io.WriterAt
	}
	// Threads bounds the goroutines one image uses; zero means every CPU.
	// The output does not depend on it.
	Threads int
	// Observe, when set, sees every sample before and after (see qc.go).
	Observe Observer
	// Standardize, when set, replaces the linear map by histogram
	// standardization onto learnt landmarks (nyul.go); Source and
	// Percentiles are then not used, and Observe is shown the pieces.
	Standardize *Standardization
}

// Report says what a remap did.
type Report struct {
	Source     ValueRange // source range mapped to [Min, Max], modality values
	Method     string     // how it was chosen, "" for the extremes
	Constant   bool       // no two non-padding samples differ: all became Min
	BitsStored int        // of the output
	Signed     bool       // PixelRepresentation 1 in the output
	OldSOP     string
	NewSOP     string
	OldSeries  string
	NewSeries  string
	Samples    int
	// Warnings say what was read in a way the user should hear of (an
	// offset table ignored, UIDs from the file meta), one sentence each.
	Warnings []string
	rescaled bool // some stored value is not its own modality value
	lut      bool // some frame's transform is a Modality LUT
}

// Remap reads a DICOM file of size bytes from src and writes the remapped
// derived object to dst. It does not retain src or dst. src is read twice:
// once to check the structure before anything is allocated, once to parse.
func Remap(dst io.Writer, src io.ReaderAt, size int64, p Params) (Report, error) {
	if p.Min >= p.Max {
		return Report{}, &Error{Kind: Unrepresentable, Step: StepRange, Err: fmt.Errorf("min %d is not below max %d", p.Min, p.Max)}
	}
	if p.Standardize != nil {
		p.Source, p.Method, p.Percentiles = nil, "", nil // not a linear map
	}
	ds, im, err := loadWithin(src, size, p.PixelLimit, p.MemoryLimit)
	if err != nil {
		return Report{}, err
	}
	im.pixels.setFrameThreads(p.Threads)
	if err := im.pixels.fitMemory(p.frameLimit(), p.MemoryLimit, im.syntax != nil && im.syntax.j2k); err != nil {
		return Report{}, err
	}
	rep := Report{OldSOP: im.sopInstance, OldSeries: im.seriesInstance, Samples: im.samples(), Warnings: im.warnings}
	// Refuse a range this image cannot store before reading its pixels.
	outBits, outSigned, err := outputFormat(im, p.Min, p.Max)
	if err != nil {
		return Report{}, err
	}
	rep.BitsStored, rep.Signed = outBits, outSigned

	inC := newCodec(im.bitsAllocated, im.bitsStored, im.signed, im.order)
	fr, err := readRescales(&ds, im)
	if err != nil {
		return Report{}, err
	}
	rep.rescaled = !fr.identity()
	for _, g := range fr.groups {
		rep.lut = rep.lut || g.lut != nil
	}
	if im.pixels.frames != nil && p.Scratch != nil {
		// Decode each frame once: the first pass keeps the decoded frames,
		// and the passes after it read them back as native pixels.
		im.pixels.spill = p.Scratch
	}
	mp := p
	if p.Standardize != nil {
		mp.Source, mp.Percentiles = nil, nyulProbe // the histograms the landmarks need
		if p.Standardize.Image != nil {
			mp.Percentiles, mp.MaskBelow = nil, nil // measured for the series already
		}
	}
	meas, err := measureModality(im, inC, fr, mp, p.Threads)
	if err != nil {
		return Report{}, err
	}
	if im.pixels.spill != nil {
		im.pixels = pixelSource{file: p.Scratch, length: im.pixels.length}
		fr.chunkLen = im.pixels.chunkLen()
	}
	var vm valueMap
	switch {
	case p.Standardize != nil:
		if vm, err = standardize(p, meas, &rep); err != nil {
			return Report{}, err
		}
	case p.Source != nil:
		rep.Source, rep.Method = *p.Source, p.Method
	case meas.sourceOK:
		rep.Source, rep.Method = meas.source, RangeMethod(p.Percentiles, p.MaskBelow, "")
	case meas.ok: // every sample masked: all become Min
		rep.Source, rep.Method = ValueRange{meas.extremes.Hi, meas.extremes.Hi}, RangeMethod(p.Percentiles, p.MaskBelow, "")
	default: // every sample is padding
		rep.Source = IntRange(0, 0)
	}
	rep.Constant = p.Source == nil && (!meas.ok || (rep.Source.Lo.Cmp(rep.Source.Hi) == 0 && meas.extremes.Hi.Cmp(rep.Source.Hi) <= 0))
	if vm == nil {
		vm = modalityMap{src: rep.Source, min: p.Min, max: p.Max}
	} else {
		rep.Constant = false
	}
	m := vm

	outC := newCodec(im.bitsAllocated, outBits, outSigned, binary.LittleEndian)
	mapper := newGroupMapper(inC, outC, fr, m, im.padding, p.Min, im.pixels.workers(p.Threads))
	defer mapper.release()

	// This image's own extremes, mapped: with a series range they need
	// not reach MIN and MAX.
	smallest, largest := p.Min, p.Min
	if meas.ok {
		smallest, largest = m.at(meas.extremes.Lo), m.at(meas.extremes.Hi)
	}
	if meas.anyPadding {
		smallest = p.Min
	}
	rep.NewSOP = deriveUID("instance", p, im.sopInstance, rep.Source, rep.Method)
	seriesKey := im.seriesInstance
	if seriesKey == "" {
		seriesKey = im.sopInstance
	}
	rep.NewSeries = deriveUID("series", p, seriesKey, ValueRange{}, "")

	if p.Observe != nil {
		// A piecewise map is drawn as it is, its clamping points marked.
		src, pieces, all := rep.Source, []MapPiece(nil), false
		if pm, ok := vm.(*pieceMap); ok {
			src, all = pm.unclamped()
			pieces = pm.drawn()
		}
		if err := observe(&ds, im, inC, mapper, src, pieces, all, p); err != nil {
			return Report{}, err
		}
	}
	derive(&ds, im, p, rep, smallest, largest)
	if err := write(dst, &ds, im, mapper, p.Threads); err != nil {
		return Report{}, err
	}
	return rep, nil
}

// Measurement is what Measure finds in a file.
type Measurement struct {
	// Source is the source range the parameters choose from this file
	// alone: the extremes of the non-padding modality values (at or above
	// MaskBelow), or their percentiles.
	Source    ValueRange
	OK        bool // false when no sample is left (all padding or masked)
	Samples   int  // samples over all frames and channels
	SeriesUID string
	SOPUID    string
	// SeriesKey groups files into series: the Series Instance UID, or for
	// a file without one a key of its own, so that such a file is a series
	// alone (its derived series UID comes from its SOP Instance UID).
	SeriesKey string
	Warnings  []string // as in Report
	// Hist counts the samples the percentiles rank, per rescale: set when
	// Params.Percentiles is, so that a series' percentiles can be computed
	// from its files' (MergeHistograms, HistogramQuantiles).
	Hist []Histogram
}

// Measure reads a DICOM file and returns the source range of its modality
// values, checking it as Remap does. Of p it uses PixelLimit, Threads,
// Percentiles and MaskBelow.
func Measure(src io.ReaderAt, size int64, p Params) (Measurement, error) {
	ds, im, err := loadWithin(src, size, p.PixelLimit, p.MemoryLimit)
	if err != nil {
		return Measurement{}, err
	}
	im.pixels.setFrameThreads(p.Threads)
	if err := im.pixels.fitMemory(p.frameLimit(), p.MemoryLimit, im.syntax != nil && im.syntax.j2k); err != nil {
		return Measurement{}, err
	}
	fr, err := readRescales(&ds, im)
	if err != nil {
		return Measurement{}, err
	}
	p.Source = nil
	meas, err := measureModality(im, newCodec(im.bitsAllocated, im.bitsStored, im.signed, im.order), fr, p, p.Threads)
	if p.Percentiles.extremes() {
		meas.hist = nil // only percentiles need them
	}
	key := im.seriesInstance
	if key == "" {
		key = "instance " + im.sopInstance // never a UID: no clash with a real series
	}
	return Measurement{Source: meas.source, OK: meas.sourceOK, Samples: im.samples(), SeriesUID: im.seriesInstance,
		SOPUID: im.sopInstance, SeriesKey: key, Warnings: im.warnings, Hist: meas.hist}, err
}

// measure scans the pixel data for its extremes.
func measure(im *image, c sampleCodec, threads int) (r Range, anyPadding, ok bool, err error) {
	workers := im.pixels.workers(threads)
	sc := newRangeScanner(c, im.padding, workers)
	defer sc.release()
	err = im.pixels.chunks(workers, sc.add, nil)
	r, anyPadding, ok = sc.result()
	return r, anyPadding, ok, err
}

func load(src io.ReaderAt, size int64, limit int64) (dicom.Dataset, *image, error) {
	return loadWithin(src, size, limit, 0)
}

// loadWithin is load for a process that may use memLimit bytes of memory
// (0: no limit). The library inflates a deflated data set whole, pixel data
// of every frame included: one that cannot fit in half of memLimit is
// refused before, as a frame that cannot is (fitMemory), rather than ending
// in the runtime's fatal out of memory.
func loadWithin(src io.ReaderAt, size int64, limit, memLimit int64) (dicom.Dataset, *image, error) {
	if limit <= 0 {
		limit = DefaultPixelLimit
	}
	lay, err := checkStructure(src, size, limit)
	if err != nil {
		return dicom.Dataset{}, nil, err
	}
	if memLimit > 0 && lay.inflated > memLimit/2 {
		return dicom.Dataset{}, nil, reject(StepRead, "the deflated data set inflates to %d bytes, held whole in memory: more than this process may use (%d bytes of memory, from ulimit -v or the job's memory limit, half of it for the data set)", lay.inflated, memLimit)
	}
	if lay.ts != "" && !knownSyntax(lay.ts) {
		// Refuse a syntax that cannot be decoded by name, before the
		// library, which panics on some it does not know, parses it.
		if _, err := syntaxCodecOf(lay.ts); err != nil {
			return dicom.Dataset{}, nil, err
		}
	}
	text, textLayout := src, lay
	if lay.ts == tsDeflatedLE && len(lay.charsets) > 0 {
		// Text is decoded here, not by the library: it must see the data
		// set inflated, where the character sets can be blanked.
		var vsize int64
		if text, vsize, textLayout, err = inflatedFile(src, size, lay, limit); err != nil {
			return dicom.Dataset{}, nil, err
		}
		size = vsize
	}
	ds, err := parse(text, size, textLayout)
	if err != nil {
		return ds, nil, err
	}
	if ownCharsets(textLayout) {
		if err := decodeText(&ds, text, textLayout.charsets); err != nil {
			return ds, nil, err
		}
	}
	if textLayout.ts != lay.ts {
		if e := find(ds.Elements, tag.TransferSyntaxUID); e != nil {
			setStrings(e, []string{lay.ts}) // as the file says
		}
	}
	im, err := readImage(&ds)
	if err != nil {
		return ds, nil, err
	}
	if err := im.attachPixels(limit, lay, src); err != nil {
		return ds, nil, err
	}
	if err := checkText(ds.Elements, 0); err != nil {
		return ds, nil, err
	}
	return ds, im, nil
}

func parse(src io.ReaderAt, size int64, lay layout) (ds dicom.Dataset, err error) {
	// The library panics on some malformed input; that is a rejection, not a
	// crash.
	defer func() {
		if r := recover(); r != nil {
			err = reject(StepRead, "malformed DICOM: %v", r)
		}
	}()
	opts := []dicom.ParseOption{dicom.SkipProcessingPixelDataValue(), dicom.AllowMissingMetaElementGroupLength()}
	if ownCharsets(lay) {
		// Text is decoded by decodeText: the parser keeps it as bytes.
		src = patchedReader{src, lay.charsets, lay.emptySets}
		opts = append(opts, dicom.AllowUnknownSpecificCharacterSet())
	}
	headEnd, tailStart := lay.pixelElement, lay.pixelOffset+lay.pixelLength
	if lay.encap != nil {
		headEnd, tailStart = lay.encap.start, lay.encap.end
	} else if lay.pixelOffset == 0 {
		ds, err = parseSpan(src, 0, size, lay, opts)
		return ds, err
	}
	// The pixel data is streamed from the file later: the library reads
	// only what lies before and after it, and never the pixels.
	if ds, err = parseSpan(src, 0, headEnd, lay, opts); err != nil {
		return ds, err
	}
	value, _ := dicom.NewValue(dicom.PixelDataInfo{IntentionallySkipped: true})
	ds.Elements = append(ds.Elements, &dicom.Element{Tag: tag.PixelData, ValueRepresentation: tag.VRPixelData,
		RawValueRepresentation: "OW", ValueLength: uint32(lay.pixelLength), Value: value})
	if end := tailStart; end < size {
		// Elements after the pixels (trailing padding, private tags) are read
		// in the data set's syntax. Text there is read without the Specific
		// Character Set, which lies before the pixels.
		tailLayout := lay
		tailLayout.hasTS, tailLayout.dataOffset = false, end
		tail, err := parseSpan(src, 0, size, tailLayout, opts)
		ds.Elements = append(ds.Elements, tail.Elements...)
		if err != nil {
			return ds, err
		}
	}
	return ds, nil
}

// ownCharsets reports whether the text of a file is decoded by decodeText
// rather than the library: a file with a Specific Character Set, whose
// bytes the parser reads as they are (a deflated one is inflated first, by
// inflatedFile).
func ownCharsets(lay layout) bool {
	return len(lay.charsets) > 0 && lay.ts != tsDeflatedLE
}

// parseSpan parses the file up to end: from the start with its meta
// information when the layout has a transfer syntax, else from
// lay.dataOffset in the syntax the structure check found.
func parseSpan(src io.ReaderAt, _ int64, end int64, lay layout, opts []dicom.ParseOption) (ds dicom.Dataset, err error) {
	if lay.hasTS {
		if _, _, terr := uid.ParseTransferSyntaxUID(lay.ts); terr != nil && lay.dataOffset <= end {
			// The library cannot read a data set in a syntax it does not
			// know (it panics on HTJ2K's): let it read the file meta alone,
			// then the data set in the syntax the structure check found.
			var meta dicom.Dataset
			if meta, err = dicom.Parse(bufio.NewReader(io.NewSectionReader(src, 0, lay.dataOffset)), lay.dataOffset, nil, opts...); err == nil {
				rest := lay
				rest.hasTS = false
				ds, err = parseSpan(src, 0, end, rest, opts)
				ds.Elements = append(meta.Elements, ds.Elements...)
				return ds, err
			}
			ds = meta // its error is told below, as the library's always is
		} else {
			ds, err = dicom.Parse(bufio.NewReaderSize(io.NewSectionReader(src, 0, end), 1<<16), end, nil, opts...)
		}
	} else {
		// No transfer syntax to read: tell the parser the one the structure
		// check found, rather than let it guess another.
		//
		// The library peeks at 100 bytes to guess a syntax, reading an
		// element in each syntax it tries, and allocates the length it
		// reads before it finds the 100 bytes too short: a file's first
		// bytes read in another syntax can claim gigabytes (a fuzzed 1 KB
		// file made it allocate 2.9 GB, fatal under ulimit -v). So it
		// peeks at guessPrefix, which no syntax reads as more than 20 KB,
		// and then at zeros (it fails on a shorter span, such as a small
		// element after the pixel data). It reads no further than n.
		prefix := guessPrefix(lay.implicit)
		n := int64(len(prefix)) + end - lay.dataOffset
		in := io.MultiReader(bytes.NewReader(prefix), io.NewSectionReader(src, lay.dataOffset, end-lay.dataOffset), bytes.NewReader(make([]byte, 100)))
		var p *dicom.Parser
		p, err = dicom.NewParser(in, n, nil, append(opts, dicom.SkipMetadataReadOnNewParserInit())...)
		if p != nil { // its own guess may have failed; ours stands
			err = nil
			p.SetTransferSyntax(lay.order, lay.implicit)
			for first := true; ; first = false {
				var e *dicom.Element
				if e, err = p.Next(); err != nil {
					break
				}
				if !first { // the prefix's element is ours
					ds.Elements = append(ds.Elements, e)
				}
			}
			if errors.Is(err, dicom.ErrorEndOfDICOM) {
				err = nil
			}
		}
	}
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return ds, reject(StepRead, "truncated file: %v", err)
		}
		return ds, wrapRead(err)
	}
	return ds, nil
}

// guessPrefix is an element put before a data set without meta information,
// so that the library's syntax guess reads it rather than the file: a
// private creator (0009,0010) that implicit little endian reads with a
// 20,300-byte value ("LO" and two zero bytes as its length: the value is
// there, zeros) and the explicit syntaxes read as an empty LO.
func guessPrefix(implicit bool) []byte {
	p := []byte{0x09, 0x00, 0x10, 0x00, 'L', 'O', 0, 0}
	if implicit {
		p = append(p, make([]byte, 0x4f4c)...)
	}
	return p
}

// outputFormat chooses the output BitsStored and signedness: the input's
// when [lo, hi] fits, else the smallest wider BitsStored, switching
// signedness only where the image allows it.
func outputFormat(im *image, lo, hi int64) (bitsStored int, signed bool, err error) {
	try := func(signed bool) (int, bool) {
		for b := im.bitsStored; b <= im.bitsAllocated; b++ {
			if fits(lo, hi, b, signed) {
				return b, true
			}
		}
		return 0, false
	}
	if b, ok := try(im.signed); ok {
		return b, im.signed, nil
	}
	other := !im.signed
	if !other || signedAllowed(im) {
		if b, ok := try(other); ok {
			return b, other, nil
		}
	}
	ba := im.bitsAllocated
	uLo, uHi := int64(0), int64(1)<<ba-1
	sLo, sHi := -(int64(1) << (ba - 1)), int64(1)<<(ba-1)-1
	if signedAllowed(im) || im.signed {
		return 0, false, &Error{Kind: Unrepresentable, Step: StepRange, Err: fmt.Errorf(
			"[%d, %d] does not fit %d-bit pixels: use a range within [%d, %d] or [%d, %d]", lo, hi, ba, sLo, sHi, uLo, uHi)}
	}
	return 0, false, &Error{Kind: Unrepresentable, Step: StepRange, Err: fmt.Errorf(
		"[%d, %d] does not fit this image's %d-bit unsigned pixels (signed pixels are not allowed for %s): use a range within [%d, %d]",
		lo, hi, ba, imageKind(im), uLo, uHi)}
}

func fits(lo, hi int64, bits int, signed bool) bool {
	if signed {
		return lo >= -(int64(1)<<(bits-1)) && hi <= int64(1)<<(bits-1)-1
	}
	return lo >= 0 && hi <= int64(1)<<bits-1
}

// headWriters recycles the buffers of write.
var headWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}

// write encodes ds as Explicit VR Little Endian. Pixel Data is mapped and
// written chunk by chunk, without the library's per-element copy.
func write(dst io.Writer, ds *dicom.Dataset, im *image, mapper *groupMapper, threads int) error {
	var head, tail []*dicom.Element
	seen := false
	for _, e := range ds.Elements {
		switch {
		case e == im.pixelData:
			seen = true
		case seen:
			tail = append(tail, e)
		default:
			head = append(head, e)
		}
	}
	// The library writes many small pieces: buffer them, but hand the
	// pixel chunks to dst directly, without a copy.
	bw := headWriters.Get().(*bufio.Writer)
	bw.Reset(dst)
	defer func() { bw.Reset(nil); headWriters.Put(bw) }()
	opts := []dicom.WriteOption{dicom.SkipVRVerification()}
	if err := dicom.Write(bw, dicom.Dataset{Elements: head}, opts...); err != nil {
		return wrapWrite(err)
	}
	vr := "OW"
	if im.bitsAllocated == 8 {
		vr = "OB"
	}
	n := im.pixels.length
	var hdr [12]byte
	binary.LittleEndian.PutUint16(hdr[0:], tag.PixelData.Group)
	binary.LittleEndian.PutUint16(hdr[2:], tag.PixelData.Element)
	copy(hdr[4:], vr)
	binary.LittleEndian.PutUint32(hdr[8:], uint32(n+n%2))
	if _, err := bw.Write(hdr[:]); err != nil {
		return wrapWrite(err)
	}
	if err := bw.Flush(); err != nil {
		return wrapWrite(err)
	}
	err := im.pixels.chunks(im.pixels.workers(threads), mapper.mapChunk, func(b []byte) error {
		if _, err := dst.Write(b); err != nil {
			return wrapWrite(err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n%2 == 1 {
		if _, err := bw.Write([]byte{0}); err != nil {
			return wrapWrite(err)
		}
	}
	if len(tail) > 0 {
		w, err := dicom.NewWriter(bw, opts...)
		if err != nil {
			return wrapWrite(err)
		}
		w.SetTransferSyntax(binary.LittleEndian, false)
		for _, e := range tail {
			if err := w.WriteElement(e); err != nil {
				return wrapWrite(err)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return wrapWrite(err)
	}
	return nil
}
