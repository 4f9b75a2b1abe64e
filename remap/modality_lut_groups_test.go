package remap

import (
	"bytes"
	"math/rand"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// Enhanced XA: unsigned pixels, and angiography writes Modality LUTs.
const enhancedXA = "1.2.840.10008.5.1.4.1.1.12.1.1"

// frameTransform is one frame's modality transform in a fixture: a
// Modality LUT (first mapped value and entries) or a rescale.
type frameTransform struct {
	first            int64
	entries          []int64
	slope, intercept string
}

func (f frameTransform) samples(values []int64) []sample {
	if f.entries != nil {
		return lutSamples(values, f.first, f.entries)
	}
	return samplesOf(values, f.slope, f.intercept)
}

// inPVT is a Pixel Value Transformation Sequence holding f.
func (f frameTransform) inPVT() fixture.Elem {
	if f.entries != nil {
		return fixture.Seq(0x0028, 0x9145, []fixture.Elem{lutSequence(int(f.first), 16, f.entries, "US", false)})
	}
	return fixture.Seq(0x0028, 0x9145, []fixture.Elem{
		fixture.Str(0x0028, 0x1052, "DS", f.intercept), fixture.Str(0x0028, 0x1053, "DS", f.slope), fixture.Str(0x0028, 0x1054, "LO", "US")})
}

// lutTables are three non-linear tables that differ: other lengths, first
// mapped values and shapes.
func lutTables() []frameTransform {
	var out []frameTransform
	for i, n := range []int{3000, 2500, 4096} {
		e := lutEntries(n)
		for j := range e {
			e[j] = (e[j]*int64(i+1) + int64(97*i)) % 65536
		}
		out = append(out, frameTransform{first: int64(150 * i), entries: e})
	}
	return out
}

// enhancedLUT builds a 12-bit enhanced multi-frame image of the given
// frames; groups places the transforms.
func enhancedLUT(frames int, extra ...fixture.Elem) (fixture.Spec, []int64) {
	const rows = 260 // 135200 bytes a frame: chunks straddle frames
	rng := rand.New(rand.NewSource(29))
	values := make([]int64, frames*rows*rows)
	for i := range values {
		values[i] = int64(rng.Intn(4096))
	}
	values[0], values[len(values)-1] = 0, 4095
	return fixture.Spec{SOPClass: enhancedXA, Modality: "XA", Rows: rows, Columns: rows, Frames: frames,
		BitsAllocated: 16, BitsStored: 12, Values: values, Extra: extra}, values
}

// frameSamples gives each frame's samples its transform.
func frameSamples(values []int64, frames int, ts []frameTransform) []sample {
	per := len(values) / frames
	var out []sample
	for f := 0; f < frames; f++ {
		out = append(out, ts[f].samples(values[f*per:(f+1)*per])...)
	}
	return out
}

// TestModalityLUTInFunctionalGroups: a Modality LUT in a functional group
// (refused before) is each frame's modality transform, applied exactly as
// a top-level one: per frame where frames have their own, in the shared
// group for all, inside the Pixel Value Transformation item or directly in
// the group; mixed with rescales of other frames; with extremes,
// percentiles, a mask and a source range in its units; through RLE frames
// too. The oracle computes each sample from the tables, not from the
// package.
func TestModalityLUTInFunctionalGroups(t *testing.T) {
	luts := lutTables()
	rescale := frameTransform{slope: "0.5", intercept: "-100"}
	type layout struct {
		name   string
		extra  func() []fixture.Elem
		frames []frameTransform
	}
	perFrame := func(direct bool, ts ...frameTransform) func() []fixture.Elem {
		return func() []fixture.Elem {
			var items [][]fixture.Elem
			for _, f := range ts {
				if direct && f.entries != nil {
					items = append(items, []fixture.Elem{lutSequence(int(f.first), 16, f.entries, "US", false)})
				} else {
					items = append(items, []fixture.Elem{f.inPVT()})
				}
			}
			return []fixture.Elem{fixture.Seq(0x5200, 0x9230, items...)}
		}
	}
	shared := func(direct bool, f frameTransform) func() []fixture.Elem {
		return func() []fixture.Elem {
			item := []fixture.Elem{f.inPVT()}
			if direct {
				item = []fixture.Elem{lutSequence(int(f.first), 16, f.entries, "US", false)}
			}
			return []fixture.Elem{fixture.Seq(0x5200, 0x9229, item),
				fixture.Seq(0x5200, 0x9230, []fixture.Elem{}, []fixture.Elem{}, []fixture.Elem{})}
		}
	}
	for _, c := range []layout{
		{"per-frame, in the pixel value transformation", perFrame(false, luts...), luts},
		{"per-frame, directly in the group", perFrame(true, luts...), luts},
		{"per-frame, LUTs and a rescale", perFrame(false, luts[0], rescale, luts[2]), []frameTransform{luts[0], rescale, luts[2]}},
		{"shared, in the pixel value transformation", shared(false, luts[1]), []frameTransform{luts[1], luts[1], luts[1]}},
		{"shared, directly in the group", shared(true, luts[2]), []frameTransform{luts[2], luts[2], luts[2]}},
	} {
		t.Run(c.name, func(t *testing.T) {
			spec, values := enhancedLUT(3, c.extra()...)
			samples := frameSamples(values, 3, c.frames)
			rle := spec
			rle.TransferSyntax, rle.Items = tsRLE, append([][]byte{nil}, fixture.RLEFrames(spec)...)
			for _, p := range []Params{
				{Min: 0, Max: 4095},
				{Min: 0, Max: 255, Percentiles: pc(t, "1:99")},
				{Min: 0, Max: 1000, MaskBelow: dec(t, "900")},
				{Min: 0, Max: 255, Source: vr(t, "1000.5", "20000")},
			} {
				p.Version = "test"
				for _, s := range []fixture.Spec{spec, rle} {
					checkAgainstOracle(t, s, samples, noPad, p)
				}
			}
			checkGroupsNeutralized(t, fixture.Build(spec), 3)
		})
	}
}

// checkGroupsNeutralized remaps in and requires that no Modality LUT
// Sequence is left at any depth, that every frame's groups state rescale
// 1/0 (US), and that the description says the values went through a LUT.
func checkGroupsNeutralized(t *testing.T, in []byte, frames int) {
	t.Helper()
	var out bytes.Buffer
	if _, err := Remap(&out, bytes.NewReader(in), int64(len(in)), Params{Min: 0, Max: 255, Version: "test"}); err != nil {
		t.Fatal(err)
	}
	d := decodeOutput(t, out.Bytes())
	var walk func(elems []*dicom.Element, depth int)
	walk = func(elems []*dicom.Element, depth int) {
		for _, e := range elems {
			if e.Tag == tagModalityLUTSequence {
				t.Fatalf("a Modality LUT Sequence is left at depth %d", depth)
			}
			for _, item := range sequenceItems(e) {
				walk(item, depth+1)
			}
		}
	}
	walk(d.ds.Elements, 0)
	// Each frame's transform: its per-frame group's, else the shared one's.
	transformOf := func(item []*dicom.Element) []*dicom.Element {
		if e := find(item, tagPixelValueTransform); e != nil {
			items := sequenceItems(e)
			if len(items) != 1 {
				t.Fatalf("a pixel value transformation sequence of %d items", len(items))
			}
			return items[0]
		}
		return nil
	}
	var sharedT []*dicom.Element
	if e := find(d.ds.Elements, tagSharedGroups); e != nil {
		sharedT = transformOf(sequenceItems(e)[0])
	}
	perFrame := sequenceItems(find(d.ds.Elements, tagPerFrameGroups))
	if len(perFrame) != frames {
		t.Fatalf("%d per-frame items for %d frames", len(perFrame), frames)
	}
	for f, item := range perFrame {
		tr := transformOf(item)
		if tr == nil {
			tr = sharedT
		}
		if tr == nil {
			t.Fatalf("frame %d: no pixel value transformation in its groups", f+1)
		}
		for tg, want := range map[tag.Tag]string{tag.RescaleSlope: "1", tag.RescaleIntercept: "0", tagRescaleType: "US"} {
			if e := find(tr, tg); e == nil || valueText(e) != want {
				t.Fatalf("frame %d: %v is %v, want %s", f+1, tg, e, want)
			}
		}
		if sharedT != nil && transformOf(item) != nil {
			t.Fatalf("frame %d: a transform in both the shared and the per-frame groups", f+1)
		}
	}
	if desc := str(t, d.ds, tagDerivationDesc); !strings.Contains(desc, "through the modality LUT") || !strings.Contains(desc, "modality LUT, VOI LUT") {
		t.Fatalf("derivation description %q", desc)
	}
}

// TestModalityLUTInFunctionalGroupsAmbiguous: where two transforms apply
// to one frame, which one the writer meant cannot be told: refused, by
// name.
func TestModalityLUTInFunctionalGroupsAmbiguous(t *testing.T) {
	lut := lutTables()[0]
	lutSeq := lutSequence(int(lut.first), 16, lut.entries, "US", false)
	rs := frameTransform{slope: "2", intercept: "1"}
	pvtBoth := fixture.Seq(0x0028, 0x9145, []fixture.Elem{lutSeq,
		fixture.Str(0x0028, 0x1052, "DS", "0"), fixture.Str(0x0028, 0x1053, "DS", "1"), fixture.Str(0x0028, 0x1054, "LO", "US")})
	perFrame := func(items ...[]fixture.Elem) fixture.Elem { return fixture.Seq(0x5200, 0x9230, items...) }
	sharedG := func(item ...fixture.Elem) fixture.Elem { return fixture.Seq(0x5200, 0x9229, item) }
	topRescale := []fixture.Elem{fixture.Str(0x0028, 0x1052, "DS", "0"), fixture.Str(0x0028, 0x1053, "DS", "1")}
	for _, c := range []struct {
		name  string
		extra []fixture.Elem
		want  string
	}{
		{"LUT and rescale in one item", []fixture.Elem{perFrame([]fixture.Elem{pvtBoth}, []fixture.Elem{rs.inPVT()})},
			"a modality LUT sequence and a rescale in one pixel value transformation item"},
		{"LUT beside a pixel value transformation", []fixture.Elem{sharedG(rs.inPVT(), lutSeq)},
			"a modality LUT sequence beside a pixel value transformation sequence in one functional group item"},
		{"shared LUT, per-frame rescale", []fixture.Elem{sharedG(lut.inPVT()), perFrame([]fixture.Elem{rs.inPVT()})},
			"frame 1: a modality transform in both the shared and the per-frame functional groups"},
		{"shared rescale, per-frame LUT", []fixture.Elem{sharedG(rs.inPVT()), perFrame([]fixture.Elem{}, []fixture.Elem{lutSeq})},
			"frame 2: a modality transform in both the shared and the per-frame functional groups"},
		{"top-level LUT, group rescale", []fixture.Elem{lutSeq, perFrame([]fixture.Elem{rs.inPVT()})},
			"a modality LUT sequence at the top level and a modality transform in the per-frame functional groups"},
		{"top-level rescale, group LUT", append([]fixture.Elem{sharedG(lut.inPVT())}, topRescale...),
			"a rescale at the top level and a modality LUT sequence in the shared functional groups"},
	} {
		t.Run(c.name, func(t *testing.T) {
			spec, _ := enhancedLUT(2, c.extra...)
			in := fixture.Build(spec)
			_, err := Remap(&bytes.Buffer{}, bytes.NewReader(in), int64(len(in)), Params{Min: 0, Max: 255})
			if KindOf(err) != Rejected || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want a rejection with %q", err, c.want)
			}
			if _, err := Measure(bytes.NewReader(in), int64(len(in)), Params{}); KindOf(err) != Rejected {
				t.Fatalf("Measure: %v, want the same rejection", err)
			}
		})
	}
	// The rescale beside rescale stays accepted, as before: per-frame wins
	// over shared, groups over the top level.
	spec, values := enhancedLUT(2, append([]fixture.Elem{sharedG(rs.inPVT()), perFrame([]fixture.Elem{}, []fixture.Elem{frameTransform{slope: "1", intercept: "5"}.inPVT()})}, topRescale...)...)
	samples := frameSamples(values, 2, []frameTransform{rs, {slope: "1", intercept: "5"}})
	checkAgainstOracle(t, spec, samples, noPad, Params{Min: 0, Max: 255, Version: "test"})
}

// groupLUTSeeds are small enhanced images with Modality LUTs in their
// functional groups, each placement and each refused combination, for the
// fuzzer.
func groupLUTSeeds() [][]byte {
	small := frameTransform{first: 10, entries: lutEntries(64)}
	rs := frameTransform{slope: "2", intercept: "-3"}
	lutSeq := lutSequence(10, 16, small.entries, "US", false)
	var out [][]byte
	for _, extra := range [][]fixture.Elem{
		{fixture.Seq(0x5200, 0x9230, []fixture.Elem{small.inPVT()}, []fixture.Elem{lutSeq})},
		{fixture.Seq(0x5200, 0x9229, []fixture.Elem{lutSeq}), fixture.Seq(0x5200, 0x9230, []fixture.Elem{}, []fixture.Elem{})},
		{fixture.Seq(0x5200, 0x9229, []fixture.Elem{small.inPVT()}), fixture.Seq(0x5200, 0x9230, []fixture.Elem{rs.inPVT()}, []fixture.Elem{})},
		{fixture.Seq(0x5200, 0x9230, []fixture.Elem{rs.inPVT(), lutSeq}, []fixture.Elem{small.inPVT()})},
	} {
		values := make([]int64, 2*8*8)
		for i := range values {
			values[i] = int64(i * 7 % 90)
		}
		out = append(out, fixture.Build(fixture.Spec{SOPClass: enhancedXA, Modality: "XA", Rows: 8, Columns: 8, Frames: 2,
			BitsAllocated: 16, BitsStored: 12, Values: values, Extra: extra}))
	}
	return out
}

// TestModalityLUTInFunctionalGroupsSigned: an enhanced CT with signed
// pixels and per-frame tables whose first mapped value is negative (an SS
// descriptor), one frame with a rescale.
func TestModalityLUTInFunctionalGroupsSigned(t *testing.T) {
	const frames, rows = 3, 40
	rng := rand.New(rand.NewSource(31))
	values := make([]int64, frames*rows*rows)
	for i := range values {
		values[i] = int64(rng.Intn(4000)) - 2000
	}
	ts := []frameTransform{{first: -1000, entries: lutEntries(2000)}, {slope: "1", intercept: "-1024"}, {first: -1500, entries: lutEntries(2600)}}
	var items [][]fixture.Elem
	for _, f := range ts {
		if f.entries != nil {
			items = append(items, []fixture.Elem{fixture.Seq(0x0028, 0x9145, []fixture.Elem{lutSequence(int(f.first)&0xffff, 16, f.entries, "SS", false)})})
		} else {
			items = append(items, []fixture.Elem{f.inPVT()})
		}
	}
	spec := fixture.Spec{SOPClass: fixture.EnhancedCTImage, Rows: rows, Columns: rows, Frames: frames, BitsAllocated: 16, BitsStored: 16,
		Signed: true, Values: values, Extra: []fixture.Elem{fixture.Seq(0x5200, 0x9230, items...)}}
	samples := frameSamples(values, frames, ts)
	for _, p := range []Params{{Min: 0, Max: 4095}, {Min: -100, Max: 100, Percentiles: pc(t, "2:98")}} {
		p.Version = "test"
		checkAgainstOracle(t, spec, samples, noPad, p)
	}
	checkGroupsNeutralized(t, fixture.Build(spec), frames)
}
