package qc

import "image"

// Geometry of the picture, in pixels (drawn at 72 dpi: a point is a pixel).
const (
	minWidth = 1200
	Margin   = 16
	slot     = PanelSide + 16 // a panel and its gap
	TitleH   = 40
	CaptionH = 22
	labelH   = 22
	RowH     = CaptionH + PanelSide + labelH
	plotH    = 340
)

// Layout says where Render puts things, so that tests can look there.
type Layout struct {
	Size          image.Point
	Before, After []image.Rectangle // where each reduced frame is drawn
	Scale         []int             // its pixels' side in the picture
	Plots         [3]image.Rectangle
}

// Layout is the geometry of p's picture: for a single frame the before and
// after side by side, else a row of befores over a row of afters; below,
// the input histogram, the output histogram and the mapping line.
func (p Picture) Layout() Layout {
	n := len(p.Before)
	cols, rows := n, 2
	if n <= 1 {
		cols, rows = 2, 1
	}
	w := max(minWidth, cols*slot+2*Margin)
	colW := (w - 2*Margin) / cols
	var l Layout
	l.Size = image.Pt(w, TitleH+rows*RowH+plotH)
	place := func(col, row int, img *image.RGBA) (image.Rectangle, int) {
		b := img.Bounds()
		f := max(1, PanelSide/max(b.Dx(), b.Dy()))
		dw, dh := b.Dx()*f, b.Dy()*f
		x := Margin + col*colW + (colW-dw)/2
		y := TitleH + row*RowH + CaptionH + (PanelSide-dh)/2
		return image.Rect(x, y, x+dw, y+dh), f
	}
	for i := range p.Before {
		var rb, ra image.Rectangle
		var f int
		if n == 1 {
			rb, f = place(0, 0, p.Before[i])
			ra, _ = place(1, 0, p.After[i])
		} else {
			rb, f = place(i, 0, p.Before[i])
			ra, _ = place(i, 1, p.After[i])
		}
		l.Before, l.After, l.Scale = append(l.Before, rb), append(l.After, ra), append(l.Scale, f)
	}
	third := w / 3
	top := l.Size.Y - plotH
	for i := range 3 {
		l.Plots[i] = image.Rect(i*third, top, (i+1)*third, l.Size.Y)
	}
	return l
}
