package remap

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// fixtureCase is a synthetic image and a target range.
type fixtureCase struct {
	name     string
	spec     fixture.Spec
	min, max int64
	pad      *paddingRange // padding the spec declares, in stored values
}

func ct(rows, cols, frames int, lo, hi int64) fixture.Spec {
	return fixture.Spec{Rows: rows, Columns: cols, Frames: frames, BitsAllocated: 16, BitsStored: 16,
		Signed: lo < 0, Values: fixture.Phantom(rows, cols, max(frames, 1), lo, hi)}
}

func fixtureCases() []fixtureCase {
	signed12 := ct(32, 24, 0, -1024, 2047)
	signed12.BitsStored = 12
	junk := signed12
	junk.HighBitsJunk = true
	mono1 := ct(16, 16, 0, 0, 4000)
	mono1.Photometric, mono1.BitsStored = "MONOCHROME1", 12
	rgb := func(planar int) fixture.Spec {
		s := fixture.Spec{SOPClass: fixture.SecondaryCap, Modality: "OT", Rows: 8, Columns: 10, Photometric: "RGB", Planar: planar,
			BitsAllocated: 8, BitsStored: 8, Values: fixture.Phantom(8, 30, 1, 20, 230)}
		return s
	}
	multi := ct(12, 10, 5, -1000, 3000)
	be := ct(20, 20, 0, -500, 1500)
	be.TransferSyntax = fixture.ExplicitBE
	implicit := ct(20, 20, 0, -500, 1500)
	implicit.TransferSyntax = fixture.ImplicitLE
	deflate := ct(20, 20, 0, 0, 900)
	deflate.TransferSyntax = fixture.DeflatedLE
	constant := ct(8, 8, 0, 0, 0)
	constant.Values = make([]int64, 64)
	for i := range constant.Values {
		constant.Values[i] = 42
	}
	eight := fixture.Spec{SOPClass: fixture.SecondaryCap, Modality: "OT", Rows: 9, Columns: 7, BitsAllocated: 8, BitsStored: 8,
		Values: fixture.Phantom(9, 7, 1, 3, 250)}
	thirtyTwo := fixture.Spec{SOPClass: fixture.SecondaryCap, Modality: "OT", Rows: 9, Columns: 9, Frames: 1, BitsAllocated: 32, BitsStored: 32,
		Values: fixture.Phantom(9, 9, 1, 0, 1<<32-1)}
	thirtyTwoSigned := thirtyTwo
	thirtyTwoSigned.SOPClass, thirtyTwoSigned.Modality, thirtyTwoSigned.Signed = fixture.CTImage, "CT", true
	thirtyTwoSigned.Values = fixture.Phantom(9, 9, 1, -1<<31, 1<<31-1)
	padded := ct(16, 16, 0, -2000, 2000)
	padded.Extra = []fixture.Elem{fixture.SS(0x0028, 0x0120, -2000)}
	paddedRange := ct(16, 16, 0, -3000, 2000)
	paddedRange.Values[0], paddedRange.Values[1] = -2500, -2001
	paddedRange.Extra = []fixture.Elem{fixture.SS(0x0028, 0x0120, -3000), fixture.SS(0x0028, 0x0121, -2001)}
	widen := ct(10, 10, 0, 0, 255)
	widen.BitsStored = 8

	return []fixtureCase{
		{"signed12", signed12, 0, 100, nil},
		{"junk-high-bits", junk, 0, 100, nil},
		{"signed12-negative-target", signed12, -1024, 1023, nil},
		{"monochrome1", mono1, 0, 255, nil},
		{"rgb-planar0", rgb(0), 0, 100, nil},
		{"rgb-planar1", rgb(1), 10, 200, nil},
		{"multiframe", multi, -1024, 3071, nil},
		{"big-endian", be, 0, 4095, nil},
		{"implicit-le", implicit, 0, 4095, nil},
		{"deflate", deflate, 0, 100, nil},
		{"constant", constant, 0, 100, nil},
		{"8-bit", eight, 0, 100, nil},
		{"32-bit", thirtyTwo, 0, 1000000, nil},
		{"32-bit-signed", thirtyTwoSigned, -5, 5, nil},
		{"padding-value", padded, 0, 1000, &paddingRange{-2000, -2000}},
		{"padding-range", paddedRange, 0, 1000, &paddingRange{-3000, -2001}},
		{"widen-bits-stored", widen, 0, 4095, nil},
		{"switch-to-signed", widen, -100, 100, nil},
	}
}

// expected applies the documented map to the spec's stored values with the
// reference arithmetic.
func expected(c fixtureCase) (want []int64, constant bool) {
	lo, hi := int64(1)<<62, -int64(1)<<62
	isPad := func(v int64) bool { return c.pad != nil && v >= c.pad.lo && v <= c.pad.hi }
	for _, v := range c.spec.Values {
		if !isPad(v) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	for _, v := range c.spec.Values {
		if isPad(v) {
			want = append(want, c.min)
		} else {
			want = append(want, reference(v, lo, hi, c.min, c.max))
		}
	}
	return want, lo == hi
}

func TestFixtures(t *testing.T) {
	for _, c := range fixtureCases() {
		t.Run(c.name, func(t *testing.T) {
			in := fixture.Build(c.spec)
			orig := bytes.Clone(in)
			var out bytes.Buffer
			rep, err := Remap(&out, bytes.NewReader(in), int64(len(in)), Params{Min: c.min, Max: c.max, Version: "test"})
			if err != nil {
				t.Fatalf("Remap: %v", err)
			}
			if !bytes.Equal(in, orig) {
				t.Fatal("input buffer modified")
			}
			want, constant := expected(c)
			if rep.Constant != constant {
				t.Errorf("Constant = %v, want %v", rep.Constant, constant)
			}
			d := decodeOutput(t, out.Bytes())
			if len(d.values) != len(want) {
				t.Fatalf("output has %d samples, want %d", len(d.values), len(want))
			}
			for i := range want {
				if d.values[i] != want[i] {
					t.Fatalf("sample %d = %d, want %d (stored %d)", i, d.values[i], want[i], c.spec.Values[i])
				}
			}
			if !fits(c.min, c.max, d.bitsUsed, d.signed) {
				t.Errorf("output format %d bits signed=%v cannot hold [%d, %d]", d.bitsUsed, d.signed, c.min, c.max)
			}
			if d.bitsUsed < c.spec.BitsStored {
				t.Errorf("bits stored shrank from %d to %d", c.spec.BitsStored, d.bitsUsed)
			}
			checkDerivedHeader(t, d.ds, c, rep)

			// Determinism: the same input gives the same bytes.
			var again bytes.Buffer
			if _, err := Remap(&again, bytes.NewReader(in), int64(len(in)), Params{Min: c.min, Max: c.max, Version: "test"}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), again.Bytes()) {
				t.Fatal("two runs gave different bytes")
			}
		})
	}
}

func str(t *testing.T, ds dicom.Dataset, tg tag.Tag) string {
	t.Helper()
	e, err := ds.FindElementByTag(tg)
	if err != nil {
		return ""
	}
	return strings.Join(dicom.MustGetStrings(e.Value), `\`)
}

func checkDerivedHeader(t *testing.T, ds dicom.Dataset, c fixtureCase, rep Report) {
	t.Helper()
	if got := str(t, ds, tag.SOPInstanceUID); got == rep.OldSOP || !strings.HasPrefix(got, "2.25.") || got != rep.NewSOP {
		t.Errorf("SOP Instance UID %q, old %q", got, rep.OldSOP)
	}
	if got := str(t, ds, tag.MediaStorageSOPInstanceUID); got != rep.NewSOP {
		t.Errorf("media storage SOP instance %q, want %q", got, rep.NewSOP)
	}
	if got := str(t, ds, tag.SeriesInstanceUID); got == rep.OldSeries || !strings.HasPrefix(got, "2.25.") {
		t.Errorf("series UID %q not new", got)
	}
	if got := str(t, ds, tag.TransferSyntaxUID); got != tsExplicitLE {
		t.Errorf("transfer syntax %q", got)
	}
	if got := str(t, ds, tag.ImageType); !strings.HasPrefix(got, `DERIVED\`) {
		t.Errorf("image type %q", got)
	}
	desc := str(t, ds, tagDerivationDesc)
	if !strings.Contains(desc, fmt.Sprintf("to [%d, %d]", c.min, c.max)) || !strings.Contains(desc, "dicom-remap test") {
		t.Errorf("derivation description %q", desc)
	}
	src, err := ds.FindElementByTag(tagSourceImageSequence)
	if err != nil {
		t.Fatal("no source image sequence")
	}
	items := sequenceItems(src)
	if len(items) != 1 || textOf(find(items[0], tag.ReferencedSOPInstanceUID)) != rep.OldSOP {
		t.Errorf("source image sequence does not reference %s", rep.OldSOP)
	}
	if c.pad != nil {
		e, err := ds.FindElementByTag(tag.PixelPaddingValue)
		if err != nil || dicom.MustGetInts(e.Value)[0] != int(c.min) {
			t.Errorf("pixel padding value not set to MIN")
		}
		if _, err := ds.FindElementByTag(tagPixelPaddingRange); err == nil {
			t.Errorf("pixel padding range limit kept")
		}
	}
}

func TestRejections(t *testing.T) {
	good := ct(8, 8, 0, 0, 100)
	with := func(f func(*fixture.Spec)) fixture.Spec {
		s := good
		s.Values = append([]int64(nil), good.Values...)
		f(&s)
		return s
	}
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "read"},
		{"not dicom", []byte(strings.Repeat("hello world\n", 40)), "read"},
		{"compressed", fixture.Build(with(func(s *fixture.Spec) { s.TransferSyntax = fixture.JPEGBase })), "gdcmconv --raw"},
		{"truncated pixels", fixture.Build(with(func(s *fixture.Spec) { s.TruncatePixels = 20 })), "truncated"},
		{"short pixel data", fixture.Build(with(func(s *fixture.Spec) { s.Values = s.Values[:60] })), "truncated"},
		{"palette", fixture.Build(with(func(s *fixture.Spec) { s.Photometric = "PALETTE COLOR" })), "PALETTE COLOR"},
		{"ybr", fixture.Build(with(func(s *fixture.Spec) { s.Photometric = "YBR_FULL" })), "YBR_FULL"},
		{"bits stored > allocated", fixture.Build(with(func(s *fixture.Spec) { s.BitsStored = 17; s.BitsAllocated = 16 })), "bits stored 17"},
		{"modality lut", fixture.Build(with(func(s *fixture.Spec) {
			s.Extra = []fixture.Elem{fixture.Seq(0x0028, 0x3000, []fixture.Elem{fixture.US(0x0028, 0x3002, 4, 0, 16)})}
		})), "modality LUT"},
		{"negative slope", fixture.Build(with(func(s *fixture.Spec) {
			s.Extra = []fixture.Elem{fixture.Str(0x0028, 0x1052, "DS", "0"), fixture.Str(0x0028, 0x1053, "DS", "-1")}
		})), "not positive"},
		{"frames not a number", fixture.Build(with(func(s *fixture.Spec) {
			s.Extra = []fixture.Elem{fixture.Str(0x0028, 0x0008, "IS", "x")}
		})), "number of frames"},
		{"zero rows", fixture.Build(with(func(s *fixture.Spec) { s.Rows = 0; s.Values = nil })), "empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := Remap(&out, bytes.NewReader(c.in), int64(len(c.in)), Params{Min: 0, Max: 100})
			if err == nil {
				t.Fatal("accepted")
			}
			var e *Error
			if !errors.As(err, &e) || e.Kind != Rejected {
				t.Fatalf("error %v is not a rejection", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestUnrepresentable(t *testing.T) {
	dx := ct(8, 8, 0, 0, 4095)
	dx.SOPClass, dx.Modality, dx.BitsStored = fixture.DXImage, "DX", 12
	in := fixture.Build(dx)
	_, err := Remap(&bytes.Buffer{}, bytes.NewReader(in), int64(len(in)), Params{Min: -10, Max: 10})
	if KindOf(err) != Unrepresentable || !strings.Contains(err.Error(), "[0, 65535]") {
		t.Fatalf("DX with negative MIN: %v", err)
	}
	eight := fixture.Spec{SOPClass: fixture.SecondaryCap, Rows: 2, Columns: 2, BitsAllocated: 8, BitsStored: 8, Values: []int64{1, 2, 3, 4}}
	in = fixture.Build(eight)
	_, err = Remap(&bytes.Buffer{}, bytes.NewReader(in), int64(len(in)), Params{Min: 0, Max: 1000})
	if KindOf(err) != Unrepresentable {
		t.Fatalf("8-bit to [0, 1000]: %v", err)
	}
}
