package qc

import (
	"fmt"
	"image"
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/dicom-remap/dicom-remap/remap"
)

// bins is how many bars a histogram has at most.
const bins = 100

// Histogram is counts in equal bins: bin i covers [Lo+i*Width, Lo+(i+1)*Width).
type Histogram struct {
	Lo, Width float64
	Counts    [][3]int64 // per bin, by category (Inside, Clamped, Padding)
}

// Picture is everything the QC picture shows, as plain values.
type Picture struct {
	Title string
	// Before and After are the reduced frames, one per position shown;
	// Labels name the positions ("frame 3/40"), empty for a single frame.
	Before, After []*image.RGBA
	Labels        []string
	BeforeCaption string
	AfterCaption  string
	In, Out       Histogram
	InUnits       string     // of the input histogram's X axis
	Source        [2]float64 // in InUnits
	Min, Max      int64
	// Mapping, when set, is the map drawn as it is: a polyline per
	// distinct map of the files shown, from input values (InUnits) to
	// output values, clamped to [Min, Max], over the input plot's range.
	// Unset, the map is one line from (Source[0], Min) to (Source[1], Max).
	Mapping [][]XY `json:",omitempty"`
}

// XY is a point of the mapping plot.
type XY struct{ X, Y float64 }

// maxMappingPoints bounds a polyline: a map's pieces (11 for histogram
// standardization), each with its ends and its crossings of Min and Max.
const maxMappingPoints = 64

// Picture returns the picture of what the collector saw. name is the
// input's base name and how says how the source range was chosen. It holds
// no patient data: the title is made of these, the modality and numbers.
func (c *Collector) Picture(name, how string) Picture {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.shape
	slope, icpt := s.Slope, s.Intercept
	if slope == 0 {
		slope = 1
	}
	disp := func(v float64) float64 { return slope*v + icpt }
	units := s.Units
	switch {
	case units != "":
	case slope != 1 || icpt != 0:
		units = "modality value"
	default:
		units = "stored value"
	}
	src := c.source
	// The non-padding values' range (of the histogram's keys).
	lo, hi, any := int64(0), int64(0), false
	for k, n := range c.in.counts {
		if n[Inside]+n[Clamped] == 0 {
			continue
		}
		a, b := k<<c.in.shift, (k+1)<<c.in.shift-1
		if !any {
			lo, hi, any = a, b, true
		}
		lo, hi = min(lo, a), max(hi, b)
	}
	if len(c.curves) > 0 && any {
		// A piecewise map's unclamped range may reach far beyond the
		// samples (a first or last segment extended), or be unbounded:
		// marked and displayed within them.
		src = remap.Range{Lo: min(max(src.Lo, lo), hi), Hi: max(min(src.Hi, hi), lo)}
	}
	pic := Picture{InUnits: units, Min: s.Min, Max: s.Max,
		Source: [2]float64{disp(float64(src.Lo)), disp(float64(src.Hi))}}

	srcText := fmt.Sprintf("[%s, %s] %s", num(pic.Source[0]), num(pic.Source[1]), units)
	if units != "stored value" {
		srcText += fmt.Sprintf(" (stored %d..%d)", src.Lo, src.Hi)
	}
	if c.perFile {
		srcText = "per file, within " + srcText
	}
	modality := s.Modality
	if modality == "" {
		modality = "modality unknown"
	}
	pic.Title = fmt.Sprintf("%s | %s | source %s, %s | target [%d, %d]", name, modality, srcText, how, s.Min, s.Max)
	pic.BeforeCaption = "before: stored values over the source range"
	pic.AfterCaption = fmt.Sprintf("after: output values over [%d, %d]", s.Min, s.Max)

	positions := make([]int, 0, len(c.panels))
	for pos := range c.panels {
		positions = append(positions, pos)
	}
	sort.Ints(positions)
	of := c.frames
	what := "frame"
	if c.files > 1 {
		of, what = c.files, "file"
	}
	for _, pos := range positions {
		show := c.panels[pos].src
		if len(c.curves) > 0 {
			show = src
		}
		b, a := c.panels[pos].images(show)
		pic.Before, pic.After = append(pic.Before, b), append(pic.After, a)
		if of > 1 {
			pic.Labels = append(pic.Labels, what+" "+strconv.Itoa(pos+1)+"/"+strconv.Itoa(of))
		} else {
			pic.Labels = append(pic.Labels, "")
		}
	}

	// Input: over the non-padding values and the source range; padding
	// outside that is counted in the edge bin.
	if c.haveSource {
		if !any {
			lo, hi = src.Lo, src.Hi
		}
		lo, hi = min(lo, src.Lo), max(hi, src.Hi)
	}
	pic.In = binned(c.in, lo, hi, disp)
	pic.Out = binned(c.out, s.Min, s.Max, func(v float64) float64 { return v })
	files := make([]int, 0, len(c.curves))
	for f := range c.curves {
		files = append(files, f)
	}
	sort.Ints(files)
	xlo, xhi := min(pic.In.Lo, pic.Source[0]), max(pic.In.Lo+float64(len(pic.In.Counts))*pic.In.Width, pic.Source[1])
	for _, f := range files {
		line := polyline(c.curves[f], xlo, xhi, float64(s.Min), float64(s.Max))
		if !slices.ContainsFunc(pic.Mapping, func(l []XY) bool { return slices.Equal(l, line) }) {
			pic.Mapping = append(pic.Mapping, line)
		}
	}
	return pic
}

// polyline draws pieces over [xlo, xhi]: each piece from where its domain
// starts to where the next begins (a jump there is a vertical step), then
// clamped to [ymin, ymax] with a point where it crosses either.
func polyline(pieces []remap.MapPiece, xlo, xhi, ymin, ymax float64) []XY {
	var raw []XY
	for k, p := range pieces {
		a, b := max(p.From, xlo), xhi
		if k+1 < len(pieces) {
			b = min(pieces[k+1].From, xhi)
		}
		if a > b || (a == b && k+1 < len(pieces) && b < xhi) {
			continue // outside the range, or narrower than a point of it
		}
		raw = append(raw, XY{a, p.Offset + p.Slope*a}, XY{b, p.Offset + p.Slope*b})
	}
	var out []XY
	add := func(q XY) {
		q.Y = min(max(q.Y, ymin), ymax)
		if n := len(out); n == 0 || out[n-1] != q {
			out = append(out, q)
		}
	}
	for i, q := range raw {
		if i > 0 {
			// Where the segment from the previous point crosses a clamp.
			p := raw[i-1]
			var ts []float64
			for _, c := range []float64{ymin, ymax} {
				if (p.Y < c && q.Y > c) || (p.Y > c && q.Y < c) {
					ts = append(ts, (c-p.Y)/(q.Y-p.Y))
				}
			}
			slices.Sort(ts)
			for _, t := range ts {
				add(XY{p.X + t*(q.X-p.X), p.Y + t*(q.Y-p.Y)})
			}
		}
		add(q)
	}
	return out
}

// binned spreads h's counts over at most bins bins covering [lo, hi].
func binned(h *hist, lo, hi int64, disp func(float64) float64) Histogram {
	span := hi - lo + 1
	w := max((span+bins-1)/bins, int64(1)<<h.shift)
	nb := (span + w - 1) / w
	out := Histogram{Counts: make([][3]int64, nb)}
	a, b := disp(float64(lo)-0.5), disp(float64(lo+w)-0.5)
	out.Lo, out.Width = a, b-a
	for k, n := range h.counts {
		i := min(max(floorDiv((k<<h.shift)-lo, w), 0), nb-1)
		for c := range n {
			out.Counts[i][c] += n[c]
		}
	}
	return out
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// num prints a modality value without float noise.
func num(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

// Check refuses a picture that Render cannot draw: it may come from
// another process.
func (p Picture) Check() error {
	if len(p.Before) != len(p.After) || len(p.Labels) != len(p.Before) || len(p.Before) > maxPanels {
		return fmt.Errorf("picture has %d before, %d after and %d labels", len(p.Before), len(p.After), len(p.Labels))
	}
	for i := range p.Before {
		for _, im := range []*image.RGBA{p.Before[i], p.After[i]} {
			if im == nil {
				return fmt.Errorf("panel %d is missing", i)
			}
			b := im.Bounds()
			if b.Min != (image.Point{}) || b.Dx() < 1 || b.Dy() < 1 || b.Dx() > PanelSide || b.Dy() > PanelSide ||
				im.Stride != 4*b.Dx() || len(im.Pix) != 4*b.Dx()*b.Dy() {
				return fmt.Errorf("panel %d is not a reduced frame", i)
			}
		}
	}
	finite := func(vs ...float64) bool {
		for _, v := range vs {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return false
			}
		}
		return true
	}
	for _, h := range []Histogram{p.In, p.Out} {
		if len(h.Counts) < 1 || len(h.Counts) > bins || !(h.Width > 0) || !finite(h.Lo, h.Width, h.Lo+float64(len(h.Counts))*h.Width) {
			return fmt.Errorf("picture histograms are malformed")
		}
		for _, n := range h.Counts {
			if n[0] < 0 || n[1] < 0 || n[2] < 0 {
				return fmt.Errorf("picture histograms are malformed")
			}
		}
	}
	if len(p.Mapping) > maxPanels {
		return fmt.Errorf("picture has %d mappings", len(p.Mapping))
	}
	for _, line := range p.Mapping {
		if len(line) < 2 || len(line) > maxMappingPoints {
			return fmt.Errorf("picture mapping has %d points", len(line))
		}
		for i, q := range line {
			if !finite(q.X, q.Y) || q.Y < float64(p.Min) || q.Y > float64(p.Max) || (i > 0 && q.X < line[i-1].X) {
				return fmt.Errorf("picture mapping is malformed")
			}
		}
	}
	if p.Min >= p.Max || !finite(p.Source[0], p.Source[1]) || p.Source[0] > p.Source[1] || len(p.Title) > 1000 {
		return fmt.Errorf("picture ranges or title are malformed")
	}
	return nil
}
