package qc

import (
	"image"
	"image/color"
	"sync"

	"github.com/dicom-remap/dicom-remap/remap"
)

// Most panels in a row: enough to see the top, the middle and the bottom
// of a series, few enough to keep each panel large.
const maxPanels = 5

// PanelSide bounds the side of a reduced frame: frames are averaged down
// to it as the samples pass, so that memory does not grow with the image.
const PanelSide = 256

// Histogram categories of input values.
const (
	Inside  = iota // within the source range
	Clamped        // outside the source range: mapped to MIN or MAX
	Padding        // pixel padding: set to MIN
)

// histKeys bounds the distinct values a histogram keeps; past it values
// are merged in pairs (v>>1), again as needed. The result does not depend
// on the order values arrive in: the final merging is the smallest that
// fits all of them.
const histKeys = 1 << 14

type hist struct {
	shift  uint
	counts map[int64][3]int64 // by value >> shift, per category
}

func newHist() *hist { return &hist{counts: map[int64][3]int64{}} }

func (h *hist) add(v int64, cat int, n int64) {
	k := v >> h.shift
	c := h.counts[k]
	c[cat] += n
	h.counts[k] = c
	if len(h.counts) > histKeys {
		h.coarsen(h.shift + 1)
	}
}

// coarsen merges keys until the shift is at least s and the keys fit.
func (h *hist) coarsen(s uint) {
	for h.shift < s || len(h.counts) > histKeys {
		next := make(map[int64][3]int64, len(h.counts)/2+1)
		for k, c := range h.counts {
			n := next[k>>1]
			for i := range c {
				n[i] += c[i]
			}
			next[k>>1] = n
		}
		h.counts, h.shift = next, h.shift+1
	}
}

func (h *hist) merge(o *hist) {
	if o.shift > h.shift {
		h.coarsen(o.shift)
	}
	d := h.shift - o.shift
	for k, c := range o.counts {
		n := h.counts[k>>d]
		for i := range c {
			n[i] += c[i]
		}
		h.counts[k>>d] = n
	}
	if len(h.counts) > histKeys {
		h.coarsen(h.shift)
	}
}

// Collector gathers what the picture of one run shows (one file, or one
// series of a directory) from the remaps' Observers: reduced frames and
// histograms. It is safe for concurrent files.
type Collector struct {
	mu         sync.Mutex
	files      int
	first      int // index of the file whose shape is kept, -1 before any
	shape      remap.Shape
	source     remap.Range // union of the files' source ranges
	perFile    bool        // the files' source ranges differ
	haveSource bool
	in, out    *hist
	panels     map[int]*panel // by position: frame of one file, or file of a series
	frames     int            // of the single file
	// curves are the maps that are not one line (histogram
	// standardization) of the files shown, by file: the picture draws
	// each distinct one.
	curves map[int][]remap.MapPiece
}

// NewCollector returns a collector for a run over files files (1 for a
// single file, whose frames are then the positions shown).
func NewCollector(files int) *Collector {
	return &Collector{files: files, first: -1, in: newHist(), out: newHist(), panels: map[int]*panel{}, curves: map[int][]remap.MapPiece{}}
}

// Picks is the positions shown out of n: evenly spaced, always the first,
// the middle and the last.
func Picks(n int) []int {
	k := min(n, maxPanels)
	if k <= 1 {
		return []int{0}[:min(n, 1)]
	}
	var p []int
	for i := range k {
		p = append(p, (2*i*(n-1)+(k-1))/(2*(k-1))) // round(i*(n-1)/(k-1))
	}
	return p
}

// File returns the observer for file i of the run. Call Done when its
// remap has finished.
func (c *Collector) File(i int) *FileObserver {
	return &FileObserver{c: c, file: i, in: newHist(), out: newHist(), panels: map[int64]*panel{}}
}

// FileObserver is a remap.Observer that reduces the frames it is asked to
// show and counts the values of one file.
type FileObserver struct {
	c        *Collector
	file     int
	shape    remap.Shape
	frameLen int64 // samples per frame
	in, out  *hist
	panels   map[int64]*panel // by frame
	// The current run of equal input values, counted at once: images are
	// full of them (air, background).
	runV   int64
	runCat int
	runN   int64
	outV   int64
	outN   int64
}

var _ remap.Observer = (*FileObserver)(nil)

// Begin implements remap.Observer.
func (o *FileObserver) Begin(s remap.Shape) {
	o.shape = s
	o.frameLen = int64(s.Rows) * int64(s.Columns) * int64(s.SamplesPerPixel)
	if o.c.files == 1 {
		for _, f := range Picks(s.Frames) {
			o.panels[int64(f)] = newPanel(s)
		}
		return
	}
	for _, f := range Picks(o.c.files) {
		if f == o.file {
			o.panels[int64(s.Frames/2)] = newPanel(s)
		}
	}
}

// Samples implements remap.Observer.
func (o *FileObserver) Samples(first int64, in, out []int64) {
	src, pad := o.shape.Source, o.shape.Padding
	for i := 0; i < len(in); {
		g := first + int64(i)
		f, off := g/o.frameLen, g%o.frameLen
		end := min(len(in), i+int(o.frameLen-off))
		p := o.panels[f]
		for j := i; j < end; j++ {
			v := in[j]
			if o.runN > 0 && v == o.runV {
				o.runN++
			} else {
				cat := Inside
				switch {
				case pad != nil && pad(v):
					cat = Padding
				case v < src.Lo || v > src.Hi:
					cat = Clamped
				}
				if o.runN > 0 {
					o.in.add(o.runV, o.runCat, o.runN)
				}
				o.runV, o.runCat, o.runN = v, cat, 1
			}
			if w := out[j]; o.outN > 0 && w == o.outV {
				o.outN++
			} else {
				if o.outN > 0 {
					o.out.add(o.outV, 0, o.outN)
				}
				o.outV, o.outN = w, 1
			}
			if p != nil {
				p.add(off+int64(j-i), v, out[j])
			}
		}
		i = end
	}
}

// Done hands the file's counts and frames to the collector.
func (o *FileObserver) Done() {
	if o.runN > 0 {
		o.in.add(o.runV, o.runCat, o.runN)
		o.runN = 0
	}
	if o.outN > 0 {
		o.out.add(o.outV, 0, o.outN)
		o.outN = 0
	}
	c := o.c
	c.mu.Lock()
	defer c.mu.Unlock()
	c.in.merge(o.in)
	c.out.merge(o.out)
	if c.first < 0 || o.file < c.first {
		c.first, c.shape, c.frames = o.file, o.shape, o.shape.Frames
	}
	if !c.haveSource {
		c.source, c.haveSource = o.shape.Source, true
	} else if o.shape.Source != c.source {
		c.perFile = true
		c.source.Lo, c.source.Hi = min(c.source.Lo, o.shape.Source.Lo), max(c.source.Hi, o.shape.Source.Hi)
	}
	if len(o.shape.Pieces) > 0 && (c.files == 1 || len(o.panels) > 0) {
		// The files shown, chosen by index: the same whatever order
		// files finish in.
		c.curves[o.file] = o.shape.Pieces
	}
	for f, p := range o.panels {
		pos := int(f)
		if c.files > 1 {
			pos = o.file
		}
		c.panels[pos] = p
	}
	// A series keeps an observer per file: only the collector keeps counts.
	o.in, o.out, o.panels = nil, nil, nil
}

// panel is one frame averaged down to at most PanelSide per side.
type panel struct {
	k, w, h, spp int
	cols, rows   int
	planar       bool
	sumIn        []int64
	sumOut       []int64
	n            []int32
	src          remap.Range
	min, max     int64
	invert       bool
}

func newPanel(s remap.Shape) *panel {
	k := (max(s.Rows, s.Columns) + PanelSide - 1) / PanelSide
	w, h := (s.Columns+k-1)/k, (s.Rows+k-1)/k
	spp := s.SamplesPerPixel
	return &panel{k: k, w: w, h: h, spp: spp, cols: s.Columns, rows: s.Rows, planar: s.Planar,
		sumIn: make([]int64, w*h*spp), sumOut: make([]int64, w*h*spp), n: make([]int32, w*h*spp),
		src: s.Source, min: s.Min, max: s.Max, invert: s.Photometric == "MONOCHROME1"}
}

// add adds sample j of the frame.
func (p *panel) add(j int64, in, out int64) {
	var px, ch int
	if p.planar {
		plane := int64(p.rows) * int64(p.cols)
		ch, px = int(j/plane), int(j%plane)
	} else {
		px, ch = int(j/int64(p.spp)), int(j%int64(p.spp))
	}
	r, col := px/p.cols, px%p.cols
	i := ((r/p.k)*p.w+col/p.k)*p.spp + ch
	p.sumIn[i] += in
	p.sumOut[i] += out
	p.n[i]++
}

// images returns the frame displayed over src (before) and
// over [MIN, MAX] (after), in grey or in colour.
func (p *panel) images(src remap.Range) (before, after *image.RGBA) {
	before, after = image.NewRGBA(image.Rect(0, 0, p.w, p.h)), image.NewRGBA(image.Rect(0, 0, p.w, p.h))
	for y := range p.h {
		for x := range p.w {
			var b, a [3]uint8
			for ch := range min(p.spp, 3) {
				i := (y*p.w+x)*p.spp + ch
				b[ch] = grey(p.sumIn[i], int64(p.n[i]), src.Lo, src.Hi)
				a[ch] = grey(p.sumOut[i], int64(p.n[i]), p.min, p.max)
			}
			if p.spp == 1 {
				if p.invert {
					b[0], a[0] = 255-b[0], 255-a[0]
				}
				b[1], b[2], a[1], a[2] = b[0], b[0], a[0], a[0]
			}
			before.SetRGBA(x, y, color.RGBA{b[0], b[1], b[2], 255})
			after.SetRGBA(x, y, color.RGBA{a[0], a[1], a[2], 255})
		}
	}
	return before, after
}

// grey is the mean sum/n displayed over [lo, hi] as 0..255, rounded, in
// integers: the same on every machine.
func grey(sum, n, lo, hi int64) uint8 {
	if n == 0 {
		return 0
	}
	num, den := sum-lo*n, (hi-lo)*n
	switch {
	case num <= 0:
		return 0
	case num >= den:
		return 255
	}
	return uint8((2*num*255 + den) / (2 * den))
}
