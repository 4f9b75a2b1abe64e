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

// expected applies the documented map to the spec's stored values with the
// reference arithmetic.
func expected(c fixture.Case) (want []int64, constant bool) {
	lo, hi := int64(1)<<62, -int64(1)<<62
	isPad := func(v int64) bool { return c.Pad != nil && v >= c.Pad[0] && v <= c.Pad[1] }
	for _, v := range c.Spec.Values {
		if !isPad(v) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	for _, v := range c.Spec.Values {
		if isPad(v) {
			want = append(want, c.Min)
		} else {
			want = append(want, reference(v, lo, hi, c.Min, c.Max))
		}
	}
	return want, lo == hi
}

func TestFixtures(t *testing.T) {
	for _, c := range fixture.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			in := fixture.Build(c.Spec)
			orig := bytes.Clone(in)
			var out bytes.Buffer
			rep, err := Remap(&out, bytes.NewReader(in), int64(len(in)), Params{Min: c.Min, Max: c.Max, Version: "test"})
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
					t.Fatalf("sample %d = %d, want %d (stored %d)", i, d.values[i], want[i], c.Spec.Values[i])
				}
			}
			if !fits(c.Min, c.Max, d.bitsUsed, d.signed) {
				t.Errorf("output format %d bits signed=%v cannot hold [%d, %d]", d.bitsUsed, d.signed, c.Min, c.Max)
			}
			if d.bitsUsed < c.Spec.BitsStored {
				t.Errorf("bits stored shrank from %d to %d", c.Spec.BitsStored, d.bitsUsed)
			}
			checkDerivedHeader(t, d.ds, c, rep)

			// Determinism: the same input gives the same bytes.
			var again bytes.Buffer
			if _, err := Remap(&again, bytes.NewReader(in), int64(len(in)), Params{Min: c.Min, Max: c.Max, Version: "test"}); err != nil {
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

func checkDerivedHeader(t *testing.T, ds dicom.Dataset, c fixture.Case, rep Report) {
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
	if !strings.Contains(desc, fmt.Sprintf("to [%d, %d]", c.Min, c.Max)) || !strings.Contains(desc, "dicom-remap test") {
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
	if c.Pad != nil {
		e, err := ds.FindElementByTag(tag.PixelPaddingValue)
		if err != nil || dicom.MustGetInts(e.Value)[0] != int(c.Min) {
			t.Errorf("pixel padding value not set to MIN")
		}
		if _, err := ds.FindElementByTag(tagPixelPaddingRange); err == nil {
			t.Errorf("pixel padding range limit kept")
		}
	}
}

func TestRejections(t *testing.T) {
	good := fixture.CTSlice(8, 8, 0, "1", "1")
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
		// the library panics on this syntax's UID: still a rejection
		{"htj2k, native data", fixture.Build(with(func(s *fixture.Spec) { s.TransferSyntax = fixture.HTJ2K })), "declares encapsulated pixel data, but it is native"},
		{"video", fixture.Build(with(func(s *fixture.Spec) { s.TransferSyntax = "1.2.840.10008.1.2.4.102" })), "is video"},
		{"jpeg syntax, native data", fixture.Build(with(func(s *fixture.Spec) { s.TransferSyntax = fixture.JPEGBase })), "declares encapsulated pixel data, but it is native"},
		{"truncated pixels", fixture.Build(with(func(s *fixture.Spec) { s.TruncatePixels = 20 })), "truncated"},
		{"short pixel data", fixture.Build(with(func(s *fixture.Spec) { s.Values = s.Values[:60] })), "truncated"},
		{"palette without tables", fixture.Build(with(func(s *fixture.Spec) { s.Photometric = "PALETTE COLOR" })), "palette descriptor"},
		{"segmented palette", fixture.Build(with(func(s *fixture.Spec) {
			s.Photometric = "PALETTE COLOR"
			s.Extra = []fixture.Elem{fixture.US(0x0028, 0x1221, 0)}
		})), "segmented palette"},
		{"ybr gray", fixture.Build(with(func(s *fixture.Spec) { s.Photometric = "YBR_FULL" })), "signed YBR_FULL pixel data is not valid"},
		{"ybr partial", fixture.Build(with(func(s *fixture.Spec) { s.Photometric = "YBR_PARTIAL_420" })), "YBR_PARTIAL_420 is not supported"},
		{"bits stored > allocated", fixture.Build(with(func(s *fixture.Spec) { s.BitsStored = 17; s.BitsAllocated = 16 })), "bits stored 17"},
		{"modality lut without data", fixture.Build(with(func(s *fixture.Spec) {
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
	dx := fixture.CTSlice(8, 8, 0, "1", "1")
	dx.Values = fixture.Phantom(8, 8, 1, 0, 4095)
	dx.Signed = false
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

// TestSmallTrailingElements: a short element after the pixel data (a
// private tag, trailing padding) is kept, and the output reads back. The
// library cannot guess the syntax of fewer than 100 bytes; the tail is read
// in the syntax the structure check found.
func TestSmallTrailingElements(t *testing.T) {
	for _, ts := range []string{fixture.ExplicitLE, fixture.ImplicitLE, fixture.ExplicitBE} {
		spec := fixture.CTSlice(4, 4, 0, "1", "1")
		spec.TransferSyntax = ts
		spec.Extra = []fixture.Elem{fixture.Str(0x7fe1, 0x0010, "LO", "ACME")}
		in := fixture.Build(spec)
		var out bytes.Buffer
		if _, err := Remap(&out, bytes.NewReader(in), int64(len(in)), Params{Min: 0, Max: 100}); err != nil {
			t.Fatalf("%s: %v", ts, err)
		}
		if _, err := Measure(bytes.NewReader(out.Bytes()), int64(out.Len()), Params{}); err != nil {
			t.Fatalf("%s: the output does not read back: %v", ts, err)
		}
		if !bytes.Contains(out.Bytes()[out.Len()-16:], []byte("ACME")) {
			t.Fatalf("%s: the trailing element is lost", ts)
		}
	}
}
