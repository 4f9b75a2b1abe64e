package remap

import (
	"math/big"
	"strings"
)

// groupMapper maps pixel data whose frames may have different rescales:
// one sampleMapper (a table for 8/16-bit data) per distinct rescale, and
// each part of a chunk goes through its frame's.
type groupMapper struct {
	fr      frameRescales
	pos     *chunkOffsets
	maps    []*storedMap
	mappers []*sampleMapper
}

// valueMap maps modality values onto [min, max]: a modalityMap, or the
// pieceMap of histogram standardization.
type valueMap interface {
	at(*big.Rat) int64
	stored(rescale) storedMap
}

func newGroupMapper(in, out sampleCodec, fr frameRescales, m valueMap, pad *paddingRange, padTo int64, workers int) *groupMapper {
	gm := &groupMapper{fr: fr, pos: newChunkOffsets(workers, fr.chunkLen)}
	for _, r := range fr.groups {
		sm := m.stored(r)
		gm.maps = append(gm.maps, &sm)
		gm.mappers = append(gm.mappers, newStoredMapper(in, out, &sm, pad, padTo))
	}
	return gm
}

// newStoredMapper is newSampleMapper for a storedMap: today's mapper, table
// and all, when the stored source range is integral.
func newStoredMapper(in, out sampleCodec, sm *storedMap, pad *paddingRange, padTo int64) *sampleMapper {
	if sm.lin != nil {
		return newSampleMapper(in, out, *sm.lin, pad, padTo)
	}
	mp := &sampleMapper{in: in, out: out, pad: pad, padTo: padTo}
	if !in.tabled() {
		return mp // 32-bit: mapped sample by sample in mapChunk
	}
	mp.fillTable(func(lo int64, out []uint16) { fillStored(sm, lo, out) })
	return mp
}

func (gm *groupMapper) release() {
	for _, mp := range gm.mappers {
		mp.release()
	}
}

// mapChunk rewrites chunk b of worker w in place.
func (gm *groupMapper) mapChunk(w int, b []byte) {
	off := int64(0)
	if !gm.fr.single() {
		off = gm.pos.take(w)
	}
	gm.mapAt(off, b)
}

// mapAt rewrites b, which starts at byte off of the pixel data, in place.
func (gm *groupMapper) mapAt(off int64, b []byte) {
	gm.fr.split(off, b, func(g int, part []byte) {
		mp, sm := gm.mappers[g], gm.maps[g]
		if mp.in.tabled() || sm.lin != nil {
			mp.apply(part)
			return
		}
		c := mp.in
		for i := 0; i < len(part)/4; i++ {
			v := c.value(c.raw(part, i))
			o := mp.padTo
			if !mp.pad.contains(v) {
				o = sm.at(v)
			}
			mp.out.put(part, i, o)
		}
	})
}

// modalityMeasure is what the first pass finds.
type modalityMeasure struct {
	extremes   ValueRange // of the non-padding modality values
	ok         bool       // some sample is not padding
	anyPadding bool
	hist       []Histogram // non-padding, unmasked samples, when counted
	source     ValueRange  // the range the parameters choose
	sourceOK   bool        // false when no sample is left to choose from
}

// measureModality scans the pixel data for what p needs: the extremes of
// the modality values, and with a mask or percentiles the histograms.
func measureModality(im *image, c sampleCodec, fr frameRescales, p Params, threads int) (modalityMeasure, error) {
	var mm modalityMeasure
	workers := im.pixels.workers(threads)
	robust := p.Source == nil && (!p.Percentiles.extremes() || p.MaskBelow != nil)
	if fr.single() && !robust && fr.groups[0].lut == nil {
		// The common case, and today's scan: extremes of stored values.
		r, anyPadding, ok, err := measure(im, c, threads)
		if err != nil {
			return mm, err
		}
		mm.ok, mm.anyPadding = ok, anyPadding
		if ok {
			mm.extremes = ValueRange{fr.groups[0].modality(r.Lo), fr.groups[0].modality(r.Hi)}
		}
		mm.source, mm.sourceOK = mm.extremes, ok
		return mm, nil
	}
	sc := newHistScanner(c, fr, workers)
	defer sc.release()
	if err := im.pixels.chunks(workers, sc.add, nil); err != nil {
		return mm, err
	}
	hs, rs, anyPadding := sc.result(im.padding)
	for i, r := range rs {
		if r.lut != nil {
			hs[i] = lutHistogram(hs[i], r.lut)
		}
	}
	mm.anyPadding = anyPadding
	var err error
	if mm.extremes, mm.ok, err = HistogramExtremes(hs); err != nil {
		return mm, &Error{Kind: Internal, Step: StepPixels, Err: err}
	}
	if !robust {
		mm.source, mm.sourceOK = mm.extremes, mm.ok
		return mm, nil
	}
	if p.MaskBelow != nil {
		hs = maskBelow(hs, p.MaskBelow)
	}
	mm.hist = hs
	if p.Percentiles != nil && !p.HistogramsOnly {
		mm.source, mm.sourceOK, err = HistogramQuantiles(hs, *p.Percentiles)
	} else {
		mm.source, mm.sourceOK, err = HistogramExtremes(hs)
	}
	if err != nil {
		return mm, &Error{Kind: Internal, Step: StepPixels, Err: err}
	}
	return mm, nil
}

// RangeMethod says in words how a source range is chosen from the samples:
// "" for the extremes of the non-padding samples, the default.
func RangeMethod(pc *Percentiles, maskBelow *big.Rat, scope string) string {
	var b strings.Builder
	switch {
	case pc != nil && !pc.extremes():
		b.WriteString("percentiles " + pc.String() + pc.Method.describe() + " of the non-padding samples")
	case maskBelow != nil:
		b.WriteString("extremes of the non-padding samples")
	default:
		return ""
	}
	if scope != "" {
		b.WriteString(" of the " + scope)
	}
	if maskBelow != nil {
		b.WriteString(" at or above " + FormatDecimal(maskBelow))
	}
	return b.String()
}
