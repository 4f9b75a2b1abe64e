package remap

import (
	"bytes"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
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
		var out bytes.Buffer
		p := Params{Min: min, Max: max, Version: "fuzz", PixelLimit: 1 << 24}
		rep, err := Remap(&out, bytes.NewReader(data), int64(len(data)), p)
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
		// The output's rescale is 1/0: its modality values are its stored values.
		if m.OK && (m.Source.Lo.Cmp(big.NewRat(min, 1)) < 0 || m.Source.Hi.Cmp(big.NewRat(max, 1)) > 0) {
			t.Fatalf("output values %v outside [%d, %d]", m.Source, min, max)
		}
	}
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
	out = append(out, fixture.Build(rle), fixture.Build(palette), fixture.Build(ybr))
	return append(out, nil, []byte("DICM"), make([]byte, 132))
}
