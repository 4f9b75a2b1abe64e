package remap

import (
	"bytes"
	"math/big"
	"math/rand"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/fixture"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// reference computes the documented map with big rationals: the test's own
// arithmetic, independent of the 128-bit kernel.
func reference(v, slo, shi, lo, hi int64) int64 {
	if v <= slo || slo == shi {
		return lo
	}
	if v >= shi {
		return hi
	}
	x := new(big.Rat).SetFrac(big.NewInt((v-slo)*1), big.NewInt(shi-slo))
	x.Mul(x, new(big.Rat).SetInt64(hi-lo))
	x.Add(x, big.NewRat(1, 2)) // halves round up: floor(x + 1/2)
	q := new(big.Int).Quo(x.Num(), x.Denom())
	return lo + q.Int64()
}

func TestLinearMapMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	ranges := []Range{{0, 1}, {0, 4095}, {-2048, 2047}, {-32768, 32767}, {0, 65535}, {-1 << 31, 1<<31 - 1}, {0, 1<<32 - 1}, {7, 7}}
	targets := []Range{{0, 100}, {-1024, 3071}, {0, 255}, {0, 1<<32 - 1}, {-1 << 31, 1<<31 - 1}, {0, 1}}
	for _, src := range ranges {
		for _, dst := range targets {
			m := linearMap{src: src, dst: dst}
			for i := 0; i < 2000; i++ {
				v := src.Lo
				if src.Hi > src.Lo {
					v = src.Lo + rng.Int63n(src.Hi-src.Lo+1)
				}
				if i < 2 {
					v = []int64{src.Lo, src.Hi}[i]
				}
				if got, want := m.apply(v), reference(v, src.Lo, src.Hi, dst.Lo, dst.Hi); got != want {
					t.Fatalf("map %v->%v of %d = %d, want %d", src, dst, v, got, want)
				}
			}
		}
	}
}

func TestRoundHalfUp(t *testing.T) {
	// [0, 2] -> [0, 1]: 1 sits exactly halfway and must round up.
	m := linearMap{src: Range{0, 2}, dst: Range{0, 1}}
	if got := m.apply(1); got != 1 {
		t.Fatalf("halfway value mapped to %d, want 1 (round half up)", got)
	}
	// Negative targets: -0.5 rounds up to 0, not down to -1.
	m = linearMap{src: Range{0, 2}, dst: Range{-1, 0}}
	if got := m.apply(1); got != 0 {
		t.Fatalf("halfway value mapped to %d, want 0", got)
	}
}

func TestCodecMasksAndSignExtends(t *testing.T) {
	c := newCodec(16, 12, true, nil)
	for raw, want := range map[uint32]int64{0x0fff: -1, 0x0800: -2048, 0x07ff: 2047, 0xf7ff: 2047, 0xa001: 1} {
		if got := c.value(raw); got != want {
			t.Errorf("signed 12-bit value of %#x = %d, want %d", raw, got, want)
		}
	}
	u := newCodec(32, 32, false, nil)
	if got := u.value(0xffffffff); got != 1<<32-1 {
		t.Errorf("unsigned 32-bit max = %d", got)
	}
	s := newCodec(32, 32, true, nil)
	if got := s.value(0x80000000); got != -1<<31 {
		t.Errorf("signed 32-bit min = %d", got)
	}
}

// decoded is an output image as the library's own frame decoder sees it, a
// path independent of this package's codec.
type decoded struct {
	ds       dicom.Dataset
	values   []int64
	bits     int
	signed   bool
	bitsUsed int
}

func decodeOutput(t *testing.T, out []byte) decoded {
	t.Helper()
	ds, err := dicom.Parse(bytes.NewReader(out), int64(len(out)), nil)
	if err != nil {
		t.Fatalf("re-reading output: %v", err)
	}
	get := func(tg tag.Tag) int {
		e, err := ds.FindElementByTag(tg)
		if err != nil {
			t.Fatalf("output lacks %v", tg)
		}
		return dicom.MustGetInts(e.Value)[0]
	}
	d := decoded{ds: ds, bits: get(tag.BitsAllocated), bitsUsed: get(tag.BitsStored), signed: get(tag.PixelRepresentation) == 1}
	if hb := get(tag.HighBit); hb != d.bitsUsed-1 {
		t.Fatalf("high bit %d with bits stored %d", hb, d.bitsUsed)
	}
	pd, err := ds.FindElementByTag(tag.PixelData)
	if err != nil {
		t.Fatal("output lacks pixel data")
	}
	for _, f := range dicom.MustGetPixelDataInfo(pd.Value).Frames {
		nd := f.NativeData
		n := nd.Rows() * nd.Cols() * nd.SamplesPerPixel()
		for i := 0; i < n; i++ {
			var raw uint64
			switch s := nd.RawDataSlice().(type) {
			case []uint8:
				raw = uint64(s[i])
			case []uint16:
				raw = uint64(s[i])
			case []uint32:
				raw = uint64(s[i])
			}
			v := int64(raw)
			if d.signed && raw&(1<<(d.bits-1)) != 0 {
				v -= 1 << d.bits
			}
			d.values = append(d.values, v)
		}
	}
	return d
}

// TestUIDsFromFileMeta: a data set without SOP Class and Instance UIDs takes
// them from the file meta, with a warning each, and the output carries both
// in the data set.
func TestUIDsFromFileMeta(t *testing.T) {
	s := fixture.CTSlice(4, 4, 0, "5", "5")
	s.Omit = []fixture.Elem{{Group: 0x0008, Element: 0x0016}, {Group: 0x0008, Element: 0x0018}}
	in := fixture.Build(s)
	whole := fixture.Build(fixture.CTSlice(4, 4, 0, "5", "5"))
	if bytes.Contains(in, []byte{0x08, 0, 0x16, 0, 'U', 'I'}) || len(in) >= len(whole) {
		t.Fatal("the fixture still holds SOP Class UID")
	}
	var out, ref bytes.Buffer
	p := Params{Min: 0, Max: 255, Version: "test"}
	rep, err := Remap(&out, bytes.NewReader(in), int64(len(in)), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Warnings) != 2 || !strings.Contains(rep.Warnings[0], "SOP Class UID") || !strings.Contains(rep.Warnings[1], "SOP Instance UID") {
		t.Fatalf("warnings %q", rep.Warnings)
	}
	// The same object as with the UIDs in the data set.
	want, err := Remap(&ref, bytes.NewReader(whole), int64(len(whole)), p)
	if err != nil {
		t.Fatal(err)
	}
	if rep.NewSOP != want.NewSOP || rep.OldSOP != want.OldSOP || len(want.Warnings) != 0 {
		t.Fatalf("got %+v, want %+v", rep, want)
	}
	if !bytes.Equal(out.Bytes(), ref.Bytes()) {
		t.Fatal("output differs from the one of the same image with its UIDs in the data set")
	}
	m, err := Measure(bytes.NewReader(in), int64(len(in)), p)
	if err != nil || len(m.Warnings) != 2 || m.SOPUID != want.OldSOP {
		t.Fatalf("measure: %+v, %v", m, err)
	}
}

// TestSeriesKey: a file without a Series Instance UID is a series of its own.
func TestSeriesKey(t *testing.T) {
	keys := map[string]bool{}
	for _, inst := range []string{"1", "2"} {
		s := fixture.CTSlice(4, 4, 0, inst, "1")
		s.Omit = []fixture.Elem{{Group: 0x0020, Element: 0x000e}}
		in := fixture.Build(s)
		m, err := Measure(bytes.NewReader(in), int64(len(in)), Params{})
		if err != nil {
			t.Fatal(err)
		}
		if m.SeriesUID != "" || m.SeriesKey == "" {
			t.Fatalf("series %q, key %q", m.SeriesUID, m.SeriesKey)
		}
		keys[m.SeriesKey] = true
	}
	in := fixture.Build(fixture.CTSlice(4, 4, 0, "3", "1"))
	m, err := Measure(bytes.NewReader(in), int64(len(in)), Params{})
	if err != nil || m.SeriesKey != m.SeriesUID {
		t.Fatalf("with a series UID: %+v, %v", m, err)
	}
	keys[m.SeriesKey] = true
	if len(keys) != 3 {
		t.Fatalf("keys %v", keys)
	}
}
