package remap

import (
	"bytes"
	"encoding/binary"
	"math/rand"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// lutEntries is a non-linear table that rises and, for a stretch, falls,
// as no rescale can.
func lutEntries(n int) []int64 {
	e := make([]int64, n)
	for i := range e {
		e[i] = int64(i*i/(n/8)+7*(i%5)) % 60000
		if i > n/2 && i < n/2+40 {
			e[i] = e[n/2] - int64(i-n/2)*3
		}
	}
	return e
}

// lutSequence encodes a Modality LUT Sequence: descriptor values with the
// given VR, data as OW words, or as packed bytes for 8-bit entries.
func lutSequence(first int, bits int, entries []int64, descVR string, packed bool) fixture.Elem {
	n := len(entries)
	desc := fixture.US(0x0028, 0x3002, n&0xffff, first, bits)
	desc.VR = descVR
	var data []byte
	for _, v := range entries {
		if packed {
			data = append(data, byte(v))
		} else {
			data = binary.LittleEndian.AppendUint16(data, uint16(v))
		}
	}
	if len(data)%2 == 1 {
		data = append(data, 0)
	}
	return fixture.Seq(0x0028, 0x3000, []fixture.Elem{
		desc,
		fixture.Str(0x0028, 0x3004, "LO", "OD"),
		{Group: 0x0028, Element: 0x3006, VR: "OW", Value: data},
	})
}

// crWithLUT is a 12-bit computed radiograph with a Modality LUT whose
// first mapped value is 100 and whose 3000 entries end before the largest
// stored values: both ends are clamped to the table's end entries.
func crWithLUT(seq fixture.Elem) (fixture.Spec, []int64) {
	rng := rand.New(rand.NewSource(7))
	values := make([]int64, 40*30)
	for i := range values {
		values[i] = int64(rng.Intn(4096))
	}
	values[0], values[1] = 0, 4095
	s := fixture.Spec{SOPClass: "1.2.840.10008.5.1.4.1.1.1", Modality: "CR", Rows: 40, Columns: 30,
		BitsAllocated: 16, BitsStored: 12, Values: values, Extra: []fixture.Elem{seq}}
	return s, values
}

// lutSamples are the oracle's samples: each stored value's modality value
// through the table, computed here from the entries, not by the package.
func lutSamples(values []int64, first int64, entries []int64) []sample {
	out := make([]sample, len(values))
	for i, v := range values {
		j := min(max(v-first, 0), int64(len(entries))-1)
		out[i] = sample{entries[j], "1", "0"}
	}
	return out
}

func TestModalityLUT(t *testing.T) {
	entries := lutEntries(3000)
	spec, values := crWithLUT(lutSequence(100, 16, entries, "US", false))
	samples := lutSamples(values, 100, entries)
	for _, c := range []struct {
		name string
		p    Params
	}{
		{"extremes", Params{Min: 0, Max: 4095}},
		{"percentiles", Params{Min: 0, Max: 255, Percentiles: pc(t, "1:99")}},
		{"mask", Params{Min: 0, Max: 1000, MaskBelow: dec(t, "900")}},
		{"source range in LUT units", Params{Min: 0, Max: 255, Source: vr(t, "1000.5", "20000")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.p.Version = "test"
			checkAgainstOracle(t, spec, samples, noPad, c.p)
		})
	}

	// The output: rescale 1/0 instead of the LUT, and a description that
	// says the values went through it.
	in := fixture.Build(spec)
	var out bytes.Buffer
	if _, err := Remap(&out, bytes.NewReader(in), int64(len(in)), Params{Min: 0, Max: 255, Version: "test"}); err != nil {
		t.Fatal(err)
	}
	d := decodeOutput(t, out.Bytes())
	if _, err := d.ds.FindElementByTag(tagModalityLUTSequence); err == nil {
		t.Fatal("the output keeps the Modality LUT Sequence")
	}
	for tg, want := range map[tag.Tag]string{tag.RescaleSlope: "1", tag.RescaleIntercept: "0", tagRescaleType: "US"} {
		e, err := d.ds.FindElementByTag(tg)
		if err != nil || valueText(e) != want {
			t.Fatalf("%v: %v, want %s", tg, e, want)
		}
	}
	e, _ := d.ds.FindElementByTag(tagDerivationDesc)
	if desc := valueText(e); !strings.Contains(desc, "modality values (stored values through the modality LUT)") || !strings.Contains(desc, "modality LUT, VOI LUT") {
		t.Fatalf("derivation description %q", desc)
	}
}

// TestModalityLUTForms: the table as 8-bit entries one a word or packed,
// with a US descriptor or SS, beside a rescale (the LUT wins, as in
// pydicom, dcmtk and GDCM), and for signed pixels with a negative first
// mapped value.
func TestModalityLUTForms(t *testing.T) {
	p := Params{Min: 0, Max: 255, Version: "test"}
	small := lutEntries(300)
	for i := range small {
		small[i] &= 0xff
	}
	for _, c := range []struct {
		name    string
		seq     fixture.Elem
		first   int64
		entries []int64
		extra   []fixture.Elem
	}{
		{"8-bit entries a word each", lutSequence(100, 8, small, "US", false), 100, small, nil},
		{"8-bit entries packed", lutSequence(100, 8, small, "US", true), 100, small, nil},
		{"SS descriptor", lutSequence(100, 16, lutEntries(3000), "SS", false), 100, lutEntries(3000), nil},
		{"beside a rescale", lutSequence(100, 16, lutEntries(3000), "US", false), 100, lutEntries(3000),
			[]fixture.Elem{fixture.Str(0x0028, 0x1052, "DS", "-5"), fixture.Str(0x0028, 0x1053, "DS", "2")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			spec, values := crWithLUT(c.seq)
			spec.Extra = append(spec.Extra, c.extra...)
			checkAgainstOracle(t, spec, lutSamples(values, c.first, c.entries), noPad, p)
		})
	}
	for _, ts := range []string{fixture.ExplicitBE, fixture.ImplicitLE, fixture.DeflatedLE} {
		t.Run(ts, func(t *testing.T) {
			entries := lutEntries(3000)
			spec, values := crWithLUT(lutSequence(100, 16, entries, "US", false))
			spec.TransferSyntax = ts
			checkAgainstOracle(t, spec, lutSamples(values, 100, entries), noPad, p)
		})
	}
	t.Run("signed pixels, negative first value", func(t *testing.T) {
		spec := fixture.CTSlice(16, 16, 0, "1", "1")
		spec = rescaled(spec, "1", "0")
		entries := lutEntries(2000)
		spec.Extra = append(spec.Extra, lutSequence(-1000&0xffff, 16, entries, "SS", false))
		checkAgainstOracle(t, spec, lutSamples(spec.Values, -1000, entries), noPad, p)
	})
}

func TestModalityLUTRejections(t *testing.T) {
	base, _ := crWithLUT(lutSequence(0, 16, lutEntries(100), "US", false))
	short := lutSequence(0, 16, lutEntries(100), "US", false)
	short.Items[0][0] = fixture.US(0x0028, 0x3002, 200, 0, 16)
	bits := lutSequence(0, 16, lutEntries(100), "US", false)
	bits.Items[0][0] = fixture.US(0x0028, 0x3002, 100, 0, 12)
	two := lutSequence(0, 16, lutEntries(100), "US", false)
	two.Items = append(two.Items, two.Items[0])
	for _, c := range []struct {
		name string
		seq  fixture.Elem
		want string
	}{
		{"short data", short, "declares 200 entries"},
		{"12-bit entries", bits, "entries of 12 bits"},
		{"two items", two, "2 items"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := base
			s.Extra = []fixture.Elem{c.seq}
			in := fixture.Build(s)
			_, err := Remap(&bytes.Buffer{}, bytes.NewReader(in), int64(len(in)), Params{Min: 0, Max: 255})
			if KindOf(err) != Rejected || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want a rejection with %q", err, c.want)
			}
		})
	}
}

// TestModalityLUTHistogram: the histograms a LUT image gives a series are
// of modality values, with the identity rescale, so that they merge with
// any other file's.
func TestModalityLUTHistogram(t *testing.T) {
	entries := lutEntries(3000)
	spec, values := crWithLUT(lutSequence(100, 16, entries, "US", false))
	in := fixture.Build(spec)
	m, err := Measure(bytes.NewReader(in), int64(len(in)), Params{Percentiles: pc(t, "1:99")})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]uint64{}
	for _, s := range lutSamples(values, 100, entries) {
		want[s.v]++
	}
	if len(m.Hist) != 1 || m.Hist[0].Slope != "1" || m.Hist[0].Intercept != "0" || len(m.Hist[0].Values) != len(want) {
		t.Fatalf("histograms %+v", m.Hist)
	}
	for i, v := range m.Hist[0].Values {
		if m.Hist[0].Counts[i] != want[v] {
			t.Fatalf("value %d counted %d times, want %d", v, m.Hist[0].Counts[i], want[v])
		}
	}
}
