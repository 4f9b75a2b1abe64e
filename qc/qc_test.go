package qc

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/remap"
)

func TestPicks(t *testing.T) {
	for n := 1; n <= 300; n++ {
		p := Picks(n)
		if len(p) != min(n, maxPanels) || p[0] != 0 || p[len(p)-1] != n-1 || !slices.IsSorted(p) || len(slices.Compact(slices.Clone(p))) != len(p) {
			t.Fatalf("Picks(%d) = %v", n, p)
		}
		if mid := (n - 1 + 1) / 2; n >= 3 && !slices.Contains(p, mid) && !slices.Contains(p, (n-1)/2) {
			t.Fatalf("Picks(%d) = %v lacks the middle", n, p)
		}
	}
	if p := Picks(0); len(p) != 0 {
		t.Fatalf("Picks(0) = %v", p)
	}
}

// The histogram's coarsening must not depend on the order values come in,
// nor on how files are split among observers: series run in parallel.
func TestHistOrderFree(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := make([]int64, 200000)
	for i := range vals {
		vals[i] = r.Int64N(1<<32) - 1<<31
	}
	a := newHist()
	for _, v := range vals {
		a.add(v, Inside, 1)
	}
	b, parts := newHist(), []*hist{newHist(), newHist(), newHist()}
	for i := len(vals) - 1; i >= 0; i-- {
		parts[i%3].add(vals[i], Inside, 1)
	}
	for _, p := range []*hist{parts[2], parts[0], parts[1]} {
		b.merge(p)
	}
	if a.shift != b.shift || !reflect.DeepEqual(a.counts, b.counts) || len(a.counts) > histKeys || a.shift == 0 {
		t.Fatalf("shift %d/%d, %d/%d keys", a.shift, b.shift, len(a.counts), len(b.counts))
	}
	var total int64
	for _, c := range a.counts {
		total += c[Inside]
	}
	if total != int64(len(vals)) {
		t.Fatalf("%d counted of %d", total, len(vals))
	}
}

// smallImage is a 5×4 image with padding (-2000), values inside and outside
// the source range [0, 40], mapped to [0, 10].
func smallImage() (remap.Shape, []int64, []int64) {
	in := []int64{
		-2000, -2000, 0, 5,
		10, 10, 20, 30,
		40, 41, 45, -5,
		7, 7, 7, 7,
		-2000, 40, 0, 3,
	}
	src := remap.Range{Lo: 0, Hi: 40}
	out := make([]int64, len(in))
	for i, v := range in {
		switch {
		case v == -2000, v <= 0:
			out[i] = 0
		case v >= 40:
			out[i] = 10
		default:
			out[i] = (v*10 + 20) / 40 // round half up
		}
	}
	s := remap.Shape{Rows: 5, Columns: 4, Frames: 1, SamplesPerPixel: 1, Photometric: "MONOCHROME2", Modality: "CT",
		Units: "HU", Slope: 1, Source: src, Min: 0, Max: 10, Padding: func(v int64) bool { return v == -2000 }}
	return s, in, out
}

func TestCollectorSmallImage(t *testing.T) {
	s, in, out := smallImage()
	c := NewCollector(1)
	o := c.File(0)
	o.Begin(s)
	// In pieces, as a remap hands them over.
	o.Samples(0, in[:3], out[:3])
	o.Samples(3, in[3:11], out[3:11])
	o.Samples(11, in[11:], out[11:])
	o.Done()
	p := c.Picture("small.dcm", "the image's extremes")

	// Counted independently: every value its own bin (the span is under
	// 100), from -5 (the lowest non-padding value) to 45.
	want := map[int64][3]int64{}
	for _, v := range in {
		k, cat := v, Inside
		switch {
		case v == -2000:
			k, cat = -5, Padding // below the range: in the first bin
		case v < 0 || v > 40:
			cat = Clamped
		}
		n := want[k]
		n[cat]++
		want[k] = n
	}
	if p.In.Lo != -5.5 || p.In.Width != 1 || len(p.In.Counts) != 51 {
		t.Fatalf("input bins from %v by %v, %d of them", p.In.Lo, p.In.Width, len(p.In.Counts))
	}
	for i, n := range p.In.Counts {
		if n != want[int64(i)-5] {
			t.Errorf("input bin of %d: %v, want %v", i-5, n, want[int64(i)-5])
		}
	}
	wantOut := make([]int64, 11)
	for _, v := range out {
		wantOut[v]++
	}
	if p.Out.Lo != -0.5 || len(p.Out.Counts) != 11 {
		t.Fatalf("output bins from %v, %d of them", p.Out.Lo, len(p.Out.Counts))
	}
	for i, n := range p.Out.Counts {
		if n[0] != wantOut[i] {
			t.Errorf("output bin %d: %d, want %d", i, n[0], wantOut[i])
		}
	}

	if len(p.Before) != 1 || p.Before[0].Bounds().Dx() != 4 || p.Before[0].Bounds().Dy() != 5 {
		t.Fatalf("panels %d", len(p.Before))
	}
	for i, v := range in {
		x, y := i%4, i/4
		b, a := p.Before[0].RGBAAt(x, y), p.After[0].RGBAAt(x, y)
		wb := uint8((min(max(v, 0), 40)*255*2 + 40) / 80)
		wa := uint8((out[i]*255*2 + 10) / 20)
		if b.R != wb || b.G != wb || b.B != wb || a.R != wa {
			t.Errorf("pixel %d,%d (value %d): before %v want %d, after %v want %d", x, y, v, b, wb, a, wa)
		}
	}
	for _, bad := range []string{"Phantom", "FIXTURE", "2020"} {
		if strings.Contains(p.Title, bad) {
			t.Errorf("title %q holds %q", p.Title, bad)
		}
	}
	if want := "small.dcm | CT | source [0, 40] HU (stored 0..40), the image's extremes | target [0, 10]"; p.Title != want {
		t.Errorf("title %q, want %q", p.Title, want)
	}
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
}

// Frames larger than PanelSide are averaged in blocks.
func TestPanelReduction(t *testing.T) {
	s := remap.Shape{Rows: 300, Columns: 600, Frames: 3, SamplesPerPixel: 1, Slope: 1, Source: remap.Range{Lo: 0, Hi: 1000}, Min: 0, Max: 1000}
	c := NewCollector(1)
	o := c.File(0)
	o.Begin(s)
	n := 300 * 600
	in := make([]int64, 3*n)
	for i := range in {
		f, px := i/n, i%n
		in[i] = int64((px%600)/3 + f) // constant within 3-wide blocks
	}
	o.Samples(0, in, in)
	o.Done()
	p := c.Picture("big", "given")
	if len(p.Before) != 3 || p.Before[1].Bounds().Dx() != 200 || p.Before[1].Bounds().Dy() != 100 {
		t.Fatalf("%d panels of %v", len(p.Before), p.Before[0].Bounds())
	}
	// Frame 1 (the middle) at block column 100: value 101 → grey 26.
	if g := p.Before[1].RGBAAt(100, 50).R; g != uint8((101*255*2+1000)/2000) {
		t.Fatalf("grey %d", g)
	}
	if p.Labels[1] != "frame 2/3" {
		t.Fatalf("labels %q", p.Labels)
	}
}

// Colour stays colour, and MONOCHROME1 is shown as it is read: inverted.
func TestPanelColourAndInversion(t *testing.T) {
	rgb := remap.Shape{Rows: 1, Columns: 2, Frames: 1, SamplesPerPixel: 3, Slope: 1, Source: remap.Range{Lo: 0, Hi: 255}, Min: 0, Max: 255}
	for _, planar := range []bool{false, true} {
		rgb.Planar = planar
		in := []int64{255, 128, 0, 0, 64, 255} // orange, blue, interleaved
		if planar {
			in = []int64{255, 0, 128, 64, 0, 255} // R plane, G plane, B plane
		}
		c := NewCollector(1)
		o := c.File(0)
		o.Begin(rgb)
		o.Samples(0, in, in)
		o.Done()
		p := c.Picture("rgb", "given")
		got := [2][3]uint8{}
		for x := range 2 {
			px := p.After[0].RGBAAt(x, 0)
			got[x] = [3]uint8{px.R, px.G, px.B}
		}
		want := [2][3]uint8{{255, 128, 0}, {0, 64, 255}}
		if got != want {
			t.Errorf("planar %v: %v, want %v", planar, got, want)
		}
	}
	m1 := remap.Shape{Rows: 1, Columns: 1, Frames: 1, SamplesPerPixel: 1, Photometric: "MONOCHROME1", Slope: 1, Source: remap.Range{Lo: 0, Hi: 10}, Min: 0, Max: 10}
	c := NewCollector(1)
	o := c.File(0)
	o.Begin(m1)
	o.Samples(0, []int64{10}, []int64{10})
	o.Done()
	if g := c.Picture("m1", "given").Before[0].RGBAAt(0, 0).R; g != 0 {
		t.Fatalf("MONOCHROME1 maximum shown as %d, want black", g)
	}
}

// TestPictureDrawsPiecewiseMap: with a map that is not one line (histogram
// standardization), the mapping drawn is the map applied. TorchIO's
// _normalize is done here on its own (segments between image landmarks
// onto learnt ones, np.digitize, a flat segment narrower than 1e-5,
// extrapolation past the ends, then [0, 100] onto [Min, Max] rounded half
// up and clamped); every sample's output must be what the drawn polyline
// gives at its input, the input histogram must call clamped exactly the
// samples outside the unclamped range, and two files with one map draw
// one line.
func TestPictureDrawsPiecewiseMap(t *testing.T) {
	// The 11 landmarks _normalize uses: image ones (modality values) with a
	// gap under 1e-5 between the 3rd and 4th, learnt ones with ends other
	// than 0 and 100, so that both clamps occur inside the image's range.
	image := []float64{-40, -10, 0, 0.000004, 20, 35, 50, 80, 120, 160, 200}
	learnt := []float64{-8, 5, 12, 20, 31, 40, 52, 63, 75, 90, 104}
	const lo, hi = 0, 1000
	std := func(x float64) float64 {
		k := 0
		for _, b := range image[1 : len(image)-1] {
			if b <= x {
				k++
			}
		}
		slope := 0.0
		if d := image[k+1] - image[k]; d >= 1e-5 {
			slope = (learnt[k+1] - learnt[k]) / d
		}
		return learnt[k] + (x-image[k])*slope
	}
	apply := func(x float64) int64 {
		return min(max(int64(math.Floor(lo+std(x)*(hi-lo)/100+0.5)), lo), hi)
	}
	// The pieces remap hands over: piece k from image[k] (the first from
	// −∞), output lo + (hi−lo)/100·(learnt[k] + slope·(x − image[k])).
	var pieces []remap.MapPiece
	for k := 0; k+1 < len(image); k++ {
		slope := 0.0
		if d := image[k+1] - image[k]; d >= 1e-5 {
			slope = (learnt[k+1] - learnt[k]) / d
		}
		from := image[k]
		if k == 0 {
			from = math.Inf(-1)
		}
		s := (hi - lo) / 100.0
		pieces = append(pieces, remap.MapPiece{From: from, Slope: s * slope, Offset: lo + s*(learnt[k]-slope*image[k])})
	}
	// Stored values with rescale 0.5/−60: modality −90 … 240.
	const slope, intercept = 0.5, -60.0
	mod := func(v int64) float64 { return slope*float64(v) + intercept }
	// Where the map reaches lo and hi (std 0 and 100), in stored values.
	src := remap.Range{Lo: math.MaxInt64, Hi: math.MinInt64}
	var in, out []int64
	for v := int64(-60); v <= 600; v++ {
		in, out = append(in, v), append(out, apply(mod(v)))
		if s := std(mod(v)); s >= 0 && s <= 100 {
			src.Lo, src.Hi = min(src.Lo, v), max(src.Hi, v)
		}
	}
	shape := remap.Shape{Rows: 1, Columns: len(in), Frames: 1, SamplesPerPixel: 1, Photometric: "MONOCHROME2", Modality: "MR",
		Slope: slope, Intercept: intercept, Source: src, Min: lo, Max: hi, Pieces: pieces}
	c := NewCollector(2)
	for f := range 2 {
		o := c.File(f)
		o.Begin(shape)
		o.Samples(0, in, out)
		o.Done()
	}
	p := c.Picture("series", "histogram standardization")
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	if len(p.Mapping) != 1 {
		t.Fatalf("%d mappings drawn for one map", len(p.Mapping))
	}
	line := p.Mapping[0]
	xlo, xhi := p.In.Lo, p.In.Lo+float64(len(p.In.Counts))*p.In.Width
	if line[0].X > xlo || line[len(line)-1].X < xhi {
		t.Fatalf("the mapping covers %v..%v, the input plot %v..%v", line[0].X, line[len(line)-1].X, xlo, xhi)
	}
	// The polyline's value at x, right-continuous as np.digitize is: on a
	// vertical step, the point after it.
	at := func(x float64) float64 {
		i := 0
		for i+2 < len(line) && line[i+1].X <= x {
			i++
		}
		a, b := line[i], line[i+1]
		if b.X == a.X {
			return b.Y
		}
		return a.Y + (x-a.X)*(b.Y-a.Y)/(b.X-a.X)
	}
	for i, v := range in {
		x := mod(v)
		y := at(x)
		if math.Abs(y-math.Floor(y)-0.5) < 1e-6 {
			continue // a rounding tie: floats may fall either side
		}
		if got := int64(math.Floor(y + 0.5)); got != out[i] {
			t.Fatalf("stored %d (modality %v): the mapping drawn gives %v → %d, the map %d\n%v", v, x, y, got, out[i], line)
		}
	}
	// Clamped: the samples whose map is outside [0, 100] before clamping,
	// twice (two files).
	clamped := int64(0)
	for _, n := range p.In.Counts {
		clamped += n[Clamped]
	}
	want := int64(0)
	for _, v := range in {
		if s := std(mod(v)); s < 0 || s > 100 {
			want += 2
		}
	}
	if clamped != want || want == 0 {
		t.Fatalf("%d samples drawn as clamped, want %d", clamped, want)
	}
	// Per file, maps differ: each file shown draws its own line, in file
	// order whatever order they finish in; a file not shown draws none.
	other := slices.Clone(pieces)
	other[3].Offset += 50
	for _, order := range [][]int{{0, 1, 2, 3, 4, 5, 6}, {6, 3, 5, 0, 2, 1, 4}} {
		c = NewCollector(7)
		for _, f := range order {
			s := shape
			if f == 3 { // shown: Picks(7) is 0, 2, 3, 5, 6
				s.Pieces = other
			}
			if f == 1 { // not shown
				s.Pieces = []remap.MapPiece{{From: math.Inf(-1), Slope: 1, Offset: 0}}
			}
			o := c.File(f)
			o.Begin(s)
			o.Samples(0, in, out)
			o.Done()
		}
		p := c.Picture("series", "per file")
		if err := p.Check(); err != nil {
			t.Fatal(err)
		}
		if len(p.Mapping) != 2 || !slices.Equal(p.Mapping[0], line) {
			t.Fatalf("order %v: %d lines drawn, want the common map's then file 3's", order, len(p.Mapping))
		}
	}

	// Without pieces, no polyline: the renderer draws the one line.
	shape.Pieces = nil
	c = NewCollector(1)
	o := c.File(0)
	o.Begin(shape)
	o.Samples(0, in, out)
	o.Done()
	if p := c.Picture("x", "y"); p.Mapping != nil {
		t.Fatalf("a linear map drawn as %v", p.Mapping)
	}
}
