// Package render draws a qc.Picture as a PNG with gonum/plot. It is apart
// from qc, in its own program (dicom-remap-qc), because gonum/plot's package
// initialisation (its fonts) would otherwise cost every dicom-remap run a
// millisecond, QC or not.
package render

import (
	"fmt"
	"image"
	"image/color"
	stddraw "image/draw"
	"image/png"
	"io"

	"github.com/dicom-remap/dicom-remap/qc"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Colours of the histogram categories.
var (
	insideColor  = color.RGBA{70, 130, 180, 255}
	clampedColor = color.RGBA{230, 140, 20, 255}
	paddingColor = color.RGBA{150, 150, 150, 255}
	outputColor  = color.RGBA{60, 140, 90, 255}
	markColor    = color.RGBA{200, 30, 30, 255}
)

// Render draws p as a PNG on w. The same p gives the same bytes: no time,
// no randomness, fonts compiled in.
func Render(w io.Writer, p qc.Picture) (err error) {
	defer func() {
		// The plotting library panics on what it cannot draw: an error.
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot draw: %v", r)
		}
	}()
	l := p.Layout()
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(l.Size.X), vg.Length(l.Size.Y)), vgimg.UseDPI(72),
		vgimg.UseBackgroundColor(color.White))
	H := vg.Length(l.Size.Y)
	text := func(size vg.Length, x, yTop int, s string) {
		face := font.DefaultCache.Lookup(font.Font{Typeface: "Liberation", Variant: "Sans"}, size)
		c.FillString(face, vg.Point{X: vg.Length(x), Y: H - vg.Length(yTop) - size}, s)
	}
	text(15, qc.Margin, 12, p.Title)

	single := len(p.Before) == 1
	for i := range p.Before {
		if single {
			text(12, l.Before[i].Min.X, l.Before[i].Min.Y-qc.CaptionH+4, p.BeforeCaption)
			text(12, l.After[i].Min.X, l.After[i].Min.Y-qc.CaptionH+4, p.AfterCaption)
		}
		if p.Labels[i] != "" {
			text(11, l.Before[i].Min.X, l.Before[i].Max.Y+4, p.Labels[i])
			text(11, l.After[i].Min.X, l.After[i].Max.Y+4, p.Labels[i])
		}
	}
	if !single && len(p.Before) > 0 {
		text(12, qc.Margin, qc.TitleH+4, p.BeforeCaption)
		text(12, qc.Margin, qc.TitleH+qc.RowH+4, p.AfterCaption)
	}

	plots := []*plot.Plot{inputPlot(p), outputPlot(p), mappingPlot(p)}
	for i, pl := range plots {
		r := l.Plots[i]
		pl.Draw(draw.Canvas{Canvas: c, Rectangle: vg.Rectangle{
			Min: vg.Point{X: vg.Length(r.Min.X) + 6, Y: H - vg.Length(r.Max.Y) + 6},
			Max: vg.Point{X: vg.Length(r.Max.X) - 6, Y: H - vg.Length(r.Min.Y) - 6},
		}})
	}

	img := c.Image()
	for i := range p.Before {
		paste(img, l.Before[i], l.Scale[i], p.Before[i])
		paste(img, l.After[i], l.Scale[i], p.After[i])
	}
	enc := png.Encoder{CompressionLevel: png.DefaultCompression}
	return enc.Encode(w, img)
}

// paste draws src into r of dst, each pixel an f×f square.
func paste(dst stddraw.Image, r image.Rectangle, f int, src *image.RGBA) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			dst.Set(x, y, src.RGBAAt((x-r.Min.X)/f, (y-r.Min.Y)/f))
		}
	}
}

// histogram adds the bars of category cat of h to pl, in colour, and
// returns whether there were any.
func histogram(pl *plot.Plot, h qc.Histogram, cat int, fill color.Color, name string) bool {
	var bs []plotter.HistogramBin
	for i, n := range h.Counts {
		if n[cat] > 0 {
			lo := h.Lo + float64(i)*h.Width
			bs = append(bs, plotter.HistogramBin{Min: lo, Max: lo + h.Width, Weight: float64(n[cat])})
		}
	}
	if len(bs) == 0 {
		return false
	}
	hp := &plotter.Histogram{Bins: bs, Width: h.Width, FillColor: fill, LogY: true}
	hp.LineStyle.Width = 0
	pl.Add(hp)
	if name != "" {
		pl.Legend.Add(name, hp)
	}
	return true
}

// logCounts sets a log count axis from half a count (counts are whole) to
// above the highest bar: a range plot would otherwise widen to 0 when all
// bars are equal, which a log scale cannot show.
func logCounts(pl *plot.Plot, hs ...qc.Histogram) {
	top := 1.0
	for _, h := range hs {
		for _, n := range h.Counts {
			top = max(top, float64(n[0]), float64(n[1]), float64(n[2]))
		}
	}
	pl.Y.Min, pl.Y.Max = 0.5, top*1.5
	pl.Y.Scale = plot.LogScale{}
	pl.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	pl.Y.Label.Text = "count (log)"
}

func inputPlot(p qc.Picture) *plot.Plot {
	pl := plot.New()
	pl.Title.Text = "input values"
	pl.X.Label.Text = p.InUnits
	any := false
	for _, c := range []struct {
		cat  int
		fill color.Color
		name string
	}{{qc.Inside, insideColor, "in source range"}, {qc.Clamped, clampedColor, "clamped"}, {qc.Padding, paddingColor, "padding"}} {
		any = histogram(pl, p.In, c.cat, c.fill, c.name) || any
	}
	if any {
		logCounts(pl, p.In)
	}
	pl.Legend.Top = true
	pl.Add(vline{p.Source[0]}, vline{p.Source[1]})
	pl.X.Min, pl.X.Max = xRange(p.In)
	return pl
}

func outputPlot(p qc.Picture) *plot.Plot {
	pl := plot.New()
	pl.Title.Text = "output values"
	pl.X.Label.Text = "output value"
	if histogram(pl, p.Out, 0, outputColor, "") {
		logCounts(pl, p.Out)
	}
	pl.X.Min, pl.X.Max = xRange(p.Out)
	return pl
}

func mappingPlot(p qc.Picture) *plot.Plot {
	pl := plot.New()
	pl.Title.Text = "mapping"
	pl.X.Label.Text = p.InUnits
	pl.Y.Label.Text = "output value"
	lo, hi := xRange(p.In)
	lo, hi = min(lo, p.Source[0]), max(hi, p.Source[1])
	mn, mx := float64(p.Min), float64(p.Max)
	lines := []plotter.XYs{{{X: lo, Y: mn}, {X: p.Source[0], Y: mn}, {X: p.Source[1], Y: mx}, {X: hi, Y: mx}}}
	if len(p.Mapping) > 0 {
		// Not one line (histogram standardization): the map as it is.
		pl.Title.Text = "mapping (piecewise linear)"
		lines = lines[:0]
		for _, m := range p.Mapping {
			var xys plotter.XYs
			for _, q := range m {
				xys = append(xys, plotter.XY{X: q.X, Y: q.Y})
			}
			lines = append(lines, xys)
		}
	}
	for _, xys := range lines {
		line, _ := plotter.NewLine(xys)
		line.LineStyle.Width = 2
		line.LineStyle.Color = insideColor
		pl.Add(line)
	}
	pl.Add(vline{p.Source[0]}, vline{p.Source[1]})
	pl.X.Min, pl.X.Max = lo, hi
	pl.Y.Min, pl.Y.Max = mn, mx
	return pl
}

func xRange(h qc.Histogram) (lo, hi float64) {
	return h.Lo, h.Lo + float64(len(h.Counts))*h.Width
}

// vline marks an X value (an end of the source range) across the plot.
type vline struct{ x float64 }

func (v vline) Plot(c draw.Canvas, pl *plot.Plot) {
	trX, _ := pl.Transforms(&c)
	x := trX(v.x)
	if x < c.Min.X || x > c.Max.X {
		return
	}
	c.StrokeLine2(draw.LineStyle{Color: markColor, Width: 1.5, Dashes: []vg.Length{4, 3}}, x, c.Min.Y, x, c.Max.Y)
}
