package remap

import (
	"bytes"
	"errors"
	"math/big"
	"runtime"
	"testing"
	"time"

	"github.com/dicom-remap/dicom-remap/codec/jpeg2000"
	"github.com/dicom-remap/dicom-remap/internal/codectest"
	"github.com/dicom-remap/dicom-remap/internal/fixture"
	"github.com/dicom-remap/dicom-remap/internal/hostile"
	"github.com/suyashkumar/dicom"
)

// FuzzRemap drives bytes through the whole read, remap and write path.
// Rejected input must come back as a typed *Error, never a panic; accepted
// input must give an output that this package reads back with the same
// number of samples, all inside the target range.
func FuzzRemap(f *testing.F) {
	for _, c := range fixture.Cases() {
		if len(c.Spec.Values) <= 1024 { // small seeds keep the fuzzer fast
			f.Add(fixture.Build(c.Spec), int16(c.Min), uint16(c.Max-c.Min-1))
		}
	}
	for _, in := range adversarialInputs() {
		f.Add(in, int16(0), uint16(99))
	}
	for _, in := range groupLUTSeeds() {
		f.Add(in, int16(0), uint16(255))
	}
	// The hostile cases (internal/hostile) when the encoders are there:
	// every codec family's streams cut, lying, bombed and misencapsulated.
	if bases, err := hostile.Bases(f.TempDir()); err == nil {
		for _, c := range hostile.Cases(bases) {
			if len(c.File) <= 1<<16 {
				f.Add(c.File, int16(0), uint16(255))
			}
		}
	}
	f.Fuzz(fuzzRemap)
}

// fuzzRemap is FuzzRemap's property, which FuzzRemapHTJ2K shares.
func fuzzRemap(t *testing.T, data []byte, lo int16, span uint16) {
	{
		min, max := int64(lo), int64(lo)+int64(span)+1
		done := make(chan bool)
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				// A hang crashes the worker; the fuzzer keeps the input.
				panic("Remap took over 10 s")
			}
		}()
		p := Params{Min: min, Max: max, Version: "fuzz", PixelLimit: 1 << 24}
		bound, pixels := allocationBound(data, p.PixelLimit)
		// The output buffer is the test's: allocated before measuring.
		out := bytes.NewBuffer(make([]byte, 0, pixels+int64(len(data))+1<<16))
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		rep, err := Remap(out, bytes.NewReader(data), int64(len(data)), p)
		runtime.ReadMemStats(&after)
		// Everything Remap allocated, freed or not, bounds its peak: it
		// must follow from what the header declares, never exceed it.
		if got := after.TotalAlloc - before.TotalAlloc; got > bound {
			t.Fatalf("%d input bytes: Remap allocated %d bytes, over the bound of %d its header allows", len(data), got, bound)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		m, err := Measure(bytes.NewReader(out.Bytes()), int64(out.Len()), Params{PixelLimit: 1 << 24})
		if err != nil {
			t.Fatalf("accepted input gave an output that does not re-read: %v", err)
		}
		if m.Samples != rep.Samples {
			t.Fatalf("output has %d samples, input %d", m.Samples, rep.Samples)
		}
		// No Modality LUT is left anywhere: the output's values are its own.
		ds, err := dicom.Parse(bytes.NewReader(out.Bytes()), int64(out.Len()), nil, dicom.SkipPixelData())
		if err != nil {
			t.Fatalf("output does not parse: %v", err)
		}
		if d := lutDepth(ds.Elements, 0); d >= 0 {
			t.Fatalf("the output keeps a Modality LUT Sequence at depth %d", d)
		}
		// The output's rescale is 1/0: its modality values are its stored values.
		if m.OK && (m.Source.Lo.Cmp(big.NewRat(min, 1)) < 0 || m.Source.Hi.Cmp(big.NewRat(max, 1)) > 0) {
			t.Fatalf("output values %v outside [%d, %d]", m.Source, min, max)
		}
	}
}

// allocationBound is what Remap may allocate for data, and the declared
// pixel bytes: a constant for the parser and tables (4 MiB; the seeds, the
// corpus and the hostile cases take at most 1.5 MiB beyond the rest), a
// multiple of the input (the library reads the header's elements; a native
// planar YBR frame is read whole before it is interleaved), and for a compressed or
// converted image the frames in flight (one per worker and two ahead each,
// with several workers; kept for both passes, measuring and writing) and
// each worker's decoder in each pass: at most 64 rows of the frame
// (baseline JPEG's window of an MCU row and its context, at most 36;
// JPEG Lossless's and JPEG-LS's lines; JPEG 2000's coefficients of a small
// tile or strips of a large one). No frame more: a decoder whose working
// set grows with the frame's height (whole-frame planes, a coefficient per
// sample, a frame of palette indices beside the frame) fails it.
func allocationBound(data []byte, limit int64) (uint64, int64) {
	bound := uint64(4<<20) + 16*uint64(len(data))
	_, im, err := load(bytes.NewReader(data), int64(len(data)), limit)
	if err != nil {
		return bound, 0
	}
	if f := im.pixels.frames; f != nil {
		workers := uint64(max(1, im.pixels.workers(0)))
		inFlight := uint64(1)
		if workers > 1 {
			inFlight = 3*workers + 1
		}
		rowBytes := uint64(f.size / max(f.stored.Rows, 1))
		bound += inFlight*uint64(f.size) + 2*workers*64*rowBytes
		if im.syntax != nil && im.syntax.j2k {
			// and a JPEG 2000 decoder's coefficients: a small tile's, or
			// the strips of a large one, kept from pass to pass
			bound += workers * uint64(jpeg2000.WorkingSet(f.stored.Columns, f.stored.Rows, f.stored.Samples))
		}
	}
	return bound, im.pixels.length
}

// adversarialInputs are small hostile files for the fuzz corpus.
func adversarialInputs() [][]byte {
	good := fixture.CTSlice(4, 4, 0, "1", "1")
	var out [][]byte
	for _, mutate := range []func(*fixture.Spec){
		func(s *fixture.Spec) { s.TruncatePixels = 7 },
		func(s *fixture.Spec) { s.PixelDataLength = 0x7ffffff0 },
		func(s *fixture.Spec) { s.NoPreamble = true },
		func(s *fixture.Spec) { s.TransferSyntax = fixture.ImplicitLE },
		func(s *fixture.Spec) { s.TransferSyntax = fixture.DeflatedLE },
		func(s *fixture.Spec) { s.TransferSyntax = fixture.ExplicitBE },
	} {
		s := good
		mutate(&s)
		out = append(out, fixture.Build(s))
	}
	// Encapsulated and colour inputs that need no external encoder; the
	// corpus under testdata/fuzz holds dcmtk's JPEG, JPEG-LS and RLE.
	multi := fixture.CTSlice(4, 3, 2, "1", "1")
	rle := multi
	rle.TransferSyntax, rle.Items = "1.2.840.10008.1.2.5", append([][]byte{{0, 0, 0, 0, 100, 0, 0, 0}}, fixture.RLEFrames(multi)...)
	palette := fixture.Spec{SOPClass: fixture.SecondaryCap, Modality: "OT", Rows: 3, Columns: 4, BitsAllocated: 8, BitsStored: 8,
		Photometric: "PALETTE COLOR", Values: fixture.Phantom(3, 4, 1, 0, 7)}
	for k := uint16(0); k < 3; k++ {
		palette.Extra = append(palette.Extra, fixture.US(0x0028, 0x1101+k, 8, 2, 16),
			fixture.Elem{Group: 0x0028, Element: 0x1201 + k, VR: "OW", Value: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}})
	}
	ybr := fixture.Spec{SOPClass: fixture.SecondaryCap, Modality: "OT", Rows: 2, Columns: 4, BitsAllocated: 8, BitsStored: 8,
		Photometric: "YBR_FULL_422", Values: fixture.Phantom(2, 8, 1, 0, 255)[:16]}
	// A Modality LUT, and an offset table one entry too long and off.
	lut := fixture.Spec{SOPClass: "1.2.840.10008.5.1.4.1.1.1", Modality: "CR", Rows: 4, Columns: 4, BitsAllocated: 16, BitsStored: 12,
		Values: fixture.Phantom(4, 4, 1, 0, 4095), Extra: []fixture.Elem{lutSequence(3, 16, lutEntries(64), "US", false)}}
	badTable := rle
	badTable.Items = append([][]byte{{0, 0, 0, 0, 102, 0, 0, 0, 200, 0, 0, 0}}, badTable.Items[1:]...)
	out = append(out, fixture.Build(rle), fixture.Build(palette), fixture.Build(ybr), charsetImage(),
		charsetImageIn(fixture.DeflatedLE), fixture.Build(lut), fixture.Build(badTable))
	return append(out, nil, []byte("DICM"), make([]byte, 132))
}

// TestBombAllocation: honest declared-size bombs (2048 x 2048 frames of
// zeros, a few hundred bytes for JPEG-LS and JPEG 2000, and an RLE palette
// colour frame of 16-bit indices) decode within the bound FuzzRemap
// asserts: the frame and a working set of rows, not a multiple of the frame
// (baseline JPEG's former whole-frame planes, one frame more, and the
// palette's former frame of indices, two thirds of one, fail it).
func TestBombAllocation(t *testing.T) {
	for _, fam := range []string{"rle", "ljpeg", "jpegls", "jpeg", "j2k", "palette"} {
		t.Run(fam, func(t *testing.T) {
			var data []byte
			if fam == "palette" {
				data = paletteBomb(2048)
			} else {
				for _, tool := range hostile.Tools {
					codectest.NeedTool(t, tool)
				}
				var err error
				if data, err = hostile.Flat(t.TempDir(), fam, 2048); err != nil {
					t.Fatal(err)
				}
			}
			bound, pixels := allocationBound(data, 1<<24)
			out := bytes.NewBuffer(make([]byte, 0, pixels+int64(len(data))+1<<16))
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Remap(out, bytes.NewReader(data), int64(len(data)), Params{Min: 0, Max: 255, PixelLimit: 1 << 24})
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			got := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d bytes declaring %d pixel bytes: Remap allocated %d bytes, bound %d", len(data), pixels, got, bound)
			if got > bound {
				t.Fatalf("%d bytes declaring %d pixel bytes: Remap allocated %d bytes, over %d", len(data), pixels, got, bound)
			}
		})
	}
}

// lutDepth is the depth of the first Modality LUT Sequence among elems, -1
// when there is none.
func lutDepth(elems []*dicom.Element, depth int) int {
	for _, e := range elems {
		if e.Tag == tagModalityLUTSequence {
			return depth
		}
		for _, item := range sequenceItems(e) {
			if d := lutDepth(item, depth+1); d >= 0 {
				return d
			}
		}
	}
	return -1
}

// paletteBomb is an RLE PALETTE COLOR image of size x size 16-bit indices,
// all zero, through 8-bit tables: 2 bytes a pixel decoded, 3 out.
func paletteBomb(size int) []byte {
	s := fixture.Spec{SOPClass: fixture.SecondaryCap, Modality: "OT", Rows: size, Columns: size, BitsAllocated: 16, BitsStored: 16,
		Photometric: "PALETTE COLOR", Values: make([]int64, size*size)}
	for k := uint16(0); k < 3; k++ {
		s.Extra = append(s.Extra, fixture.US(0x0028, 0x1101+k, 4, 0, 8),
			fixture.Elem{Group: 0x0028, Element: 0x1201 + k, VR: "OW", Value: []byte{10, 0, 20, 0, 30, 0, 40, 0}})
	}
	s.TransferSyntax, s.Items = tsRLE, append([][]byte{nil}, fixture.RLEFrames(s)...)
	return fixture.Build(s)
}
