package qc

import (
	"fmt"
	"image"
	"math"
	"sort"
	"strconv"
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
}

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
		b, a := c.panels[pos].images()
		pic.Before, pic.After = append(pic.Before, b), append(pic.After, a)
		if of > 1 {
			pic.Labels = append(pic.Labels, what+" "+strconv.Itoa(pos+1)+"/"+strconv.Itoa(of))
		} else {
			pic.Labels = append(pic.Labels, "")
		}
	}

	// Input: over the non-padding values and the source range; padding
	// outside that is counted in the edge bin.
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
	if c.haveSource {
		if !any {
			lo, hi = src.Lo, src.Hi
		}
		lo, hi = min(lo, src.Lo), max(hi, src.Hi)
	}
	pic.In = binned(c.in, lo, hi, disp)
	pic.Out = binned(c.out, s.Min, s.Max, func(v float64) float64 { return v })
	return pic
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
	if p.Min >= p.Max || !finite(p.Source[0], p.Source[1]) || p.Source[0] > p.Source[1] || len(p.Title) > 1000 {
		return fmt.Errorf("picture ranges or title are malformed")
	}
	return nil
}
