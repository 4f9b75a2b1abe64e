package remap

import (
	"math/big"
	"strings"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// Observer sees every sample of a remap, before and after, so that a
// caller can draw a picture of it (dicom-remap --qc) without a second copy
// of the image in memory. It is called on the goroutine that called Remap.
type Observer interface {
	// Begin describes the image, before any Samples.
	Begin(Shape)
	// Samples gets consecutive stored input values and the output values
	// they became; in[0] is sample number first in storage order (frame by
	// frame; within a frame pixel by pixel with the channels interleaved, or
	// channel by channel when Planar). The slices are reused after it returns.
	Samples(first int64, in, out []int64)
}

// Shape is what an Observer needs to know of an image.
type Shape struct {
	Rows, Columns, Frames, SamplesPerPixel int
	Planar                                 bool
	Photometric                            string
	Modality                               string
	// Units of the modality values: "HU" for CT, the PET Units, else "".
	Units string
	// Slope and Intercept turn stored values into modality values; 1 and 0
	// without a rescale.
	Slope, Intercept float64
	Source           Range // mapped to [Min, Max]
	Min, Max         int64
	// Pieces, when set, are the map, which is not one line (histogram
	// standardization): Source is then where it reaches Min and Max.
	Pieces []MapPiece
	// Padding reports whether a stored value is pixel padding.
	Padding func(int64) bool
}

// observeBatch is how many samples an Observer gets at a time: its two
// slices stay small (1 MiB) whatever the chunk holds.
const observeBatch = 1 << 16

// observe runs the pixel data through the mapper once more, for p.Observe
// only: the pass that writes the output maps chunks in place and out of
// order, and the observer wants both values in order. It costs a read of the
// pixels, paid only when asked.
//
// With pieces (histogram standardization) source is where the map does not
// clamp: a nil end means it never clamps on that side (the end is then the
// least or greatest stored value), all that it clamps every value.
func observe(ds *dicom.Dataset, im *image, inC sampleCodec, mapper *groupMapper, source ValueRange, pieces []MapPiece, all bool, p Params) error {
	sh := Shape{Rows: im.rows, Columns: im.columns, Frames: max(im.frames, 1), SamplesPerPixel: im.samplesPerPixel,
		Planar: im.planar == 1, Photometric: im.photometric, Modality: elementText(ds, tag.Modality),
		Slope: 1, Min: p.Min, Max: p.Max, Padding: im.padding.contains, Pieces: pieces}
	// The first rescale: the image's, or its first frame group's.
	top := mapper.fr.groups[0]
	slope, intercept := top.slope, top.intercept
	sh.Slope, _ = slope.Float64()
	sh.Intercept, _ = intercept.Float64()
	// The picture marks stored values: the source range (modality values)
	// in the stored values of the top-level rescale, rounded inward.
	stored := func(m *big.Rat, up bool) int64 {
		v := new(big.Rat).Quo(new(big.Rat).Sub(m, intercept), slope)
		q := new(big.Int).Div(v.Num(), v.Denom()) // floor
		if up && !v.IsInt() {
			q.Add(q, big.NewInt(1))
		}
		return q.Int64()
	}
	switch {
	case pieces != nil:
		vlo, vhi := inC.valueBounds()
		if top.lut != nil {
			vlo, vhi = -storedLimit, storedLimit // the LUT's values
		}
		sh.Source = Range{vlo, vhi}
		// An end at or beyond the stored values' bounds (a segment of
		// slight slope extended far) is taken at the bound, before its
		// stored value could overflow.
		at := func(m *big.Rat, up bool) int64 {
			v := new(big.Rat).Quo(new(big.Rat).Sub(m, intercept), slope)
			switch {
			case v.Cmp(new(big.Rat).SetInt64(vlo)) <= 0:
				return vlo
			case v.Cmp(new(big.Rat).SetInt64(vhi)) >= 0:
				return vhi
			}
			return stored(m, up)
		}
		if source.Lo != nil {
			sh.Source.Lo = at(source.Lo, true)
		}
		if source.Hi != nil {
			sh.Source.Hi = at(source.Hi, false)
		}
		if all || sh.Source.Lo > sh.Source.Hi { // nothing within: all clamped
			sh.Source = Range{vhi, vhi}
		}
	case source.Lo != nil && source.Hi != nil:
		sh.Source = Range{stored(source.Lo, true), stored(source.Hi, false)}
		if sh.Source.Lo > sh.Source.Hi { // a window narrower than one stored step
			sh.Source.Hi = sh.Source.Lo
		}
	}
	switch sh.Modality {
	case "CT":
		sh.Units = "HU"
	case "PT":
		sh.Units = elementText(ds, tagUnits)
	}
	// With a Modality LUT the observer sees modality values, the LUT's
	// output, as if stored with rescale 1/0: the source range is in those
	// units and no stored range stands for it. Padding is then told by the
	// modality value of the padding stored values (exact unless another
	// stored value has the same one).
	lut := top.lut
	if lut != nil && im.padding != nil {
		padded := map[int64]bool{}
		for v := max(im.padding.lo, lut.first-1); v <= min(im.padding.hi, lut.first+int64(len(lut.entries))); v++ {
			padded[lut.at(v)] = true
		}
		sh.Padding = func(m int64) bool { return padded[m] }
	}
	// Each frame's samples go through its own table where frames have
	// their own (functional groups).
	perFrame := int64(im.rows) * int64(im.columns) * int64(im.samplesPerPixel)
	lutAt := func(sample int64) *modalityLUT {
		fr := mapper.fr
		if fr.single() {
			return lut
		}
		if f := sample / perFrame; f < int64(len(fr.frameGroup)) {
			return fr.groups[fr.frameGroup[f]].lut
		}
		return lut
	}
	p.Observe.Begin(sh)
	outC := mapper.mappers[0].out
	in, out := make([]int64, observeBatch), make([]int64, observeBatch)
	var scratch []byte
	var first, offset int64
	return im.pixels.chunks(1, func(_ int, b []byte) {
		// The chunk may be the parsed data set itself: map a copy, at the
		// chunk's offset, so that each frame goes through its rescale.
		mapped := grow(&scratch, len(b))
		copy(mapped, b)
		mapper.mapAt(offset, mapped)
		offset += int64(len(b))
		for len(b) > 0 {
			n := min(len(b)/inC.bytes, observeBatch)
			for i := range n {
				in[i] = inC.value(inC.raw(b, i))
				if l := lutAt(first + int64(i)); l != nil {
					in[i] = l.at(in[i])
				}
				out[i] = outC.value(outC.raw(mapped, i))
			}
			p.Observe.Samples(first, in[:n], out[:n])
			first += int64(n)
			b, mapped = b[n*inC.bytes:], mapped[n*outC.bytes:]
		}
	}, nil)
}

// elementText is the first value of a top-level text element, trimmed.
func elementText(ds *dicom.Dataset, t tag.Tag) string {
	if e := find(ds.Elements, t); e != nil {
		return strings.TrimSpace(textOf(e))
	}
	return ""
}
