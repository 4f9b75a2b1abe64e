package remap

import (
	"math/big"
	"math/bits"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// The map works on modality values m = v × RescaleSlope + RescaleIntercept
// (m = v without a rescale): out = Min + (m − lo)(Max − Min)/(hi − lo),
// rounded half up and clamped, exactly. For one rescale, m is an increasing
// linear function of the stored value v, so the map is still a map of
// stored values, with a rational source range: each distinct rescale (a
// file, a frame) gets its own table, built in exact integer arithmetic, and
// the pixel kernels stay table lookups. When the stored source range is
// integral (an image's own extremes, or any range with rescale 1/0) the map
// is exactly today's linearMap.

// rescale is one modality transform, read exactly from the header.
type rescale struct {
	slope, intercept *big.Rat
	key              string // canonical "slope/intercept"
	// lut, when set, is the modality transform instead (slope and
	// intercept are then 1 and 0, the identity of the LUT's output).
	lut *modalityLUT
}

var identityRescale = newRescale(big.NewRat(1, 1), new(big.Rat))

func newRescale(slope, intercept *big.Rat) rescale {
	return rescale{slope: slope, intercept: intercept, key: FormatDecimal(slope) + "/" + FormatDecimal(intercept)}
}

func (r rescale) identity() bool { return r.key == identityRescale.key }

// modality returns v × slope + intercept.
func (r rescale) modality(v int64) *big.Rat {
	if r.lut != nil {
		return new(big.Rat).SetInt64(r.lut.at(v))
	}
	m := new(big.Rat).SetInt64(v)
	m.Mul(m, r.slope)
	return m.Add(m, r.intercept)
}

// readRescale reads Rescale Slope and Intercept among elems; ok is false
// when neither is there.
func readRescale(elems []*dicom.Element) (r rescale, ok bool, err error) {
	se, ie := find(elems, tag.RescaleSlope), find(elems, tag.RescaleIntercept)
	if se == nil && ie == nil {
		return rescale{}, false, nil
	}
	slope, intercept := big.NewRat(1, 1), new(big.Rat)
	if se != nil {
		if slope, err = ParseDecimal(firstValue(se)); err != nil {
			return rescale{}, false, reject(StepHeader, "rescale slope %q is not a decimal number", valueText(se))
		}
		if slope.Sign() <= 0 {
			return rescale{}, false, reject(StepHeader, "rescale slope %s is not positive: the remap would reverse intensities", valueText(se))
		}
	}
	if ie != nil {
		if intercept, err = ParseDecimal(firstValue(ie)); err != nil {
			return rescale{}, false, reject(StepHeader, "rescale intercept %q is not a decimal number", valueText(ie))
		}
	}
	return newRescale(slope, intercept), true, nil
}

func firstValue(e *dicom.Element) string {
	if v, ok := e.Value.GetValue().([]string); ok && len(v) > 0 {
		return v[0]
	}
	return valueText(e)
}

// frameRescales is the modality transform of every frame: distinct
// rescales, and the index of each frame's (nil when there is one).
type frameRescales struct {
	groups     []rescale
	frameGroup []int
	frameBytes int64
	chunkLen   int64 // of the pixel source's chunks: chunkSize, or a decoded frame
}

// readRescales reads the modality transform of each frame: from the
// per-frame functional group, else the shared one, else the top-level
// attributes. A group gives its transform in its Pixel Value
// Transformation Sequence (a rescale, or a Modality LUT Sequence inside
// the item) or as a Modality LUT Sequence of its own; a Modality LUT there
// is applied exactly as a top-level one, frame by frame.
func readRescales(ds *dicom.Dataset, im *image) (frameRescales, error) {
	// A Modality LUT Sequence, where there is one, is the transform; as
	// pydicom, dcmtk and GDCM do, it wins over a rescale beside it.
	top, topLUT, err := readModalityLUT(ds.Elements, im.signed)
	ok := topLUT
	if err == nil && !ok {
		top, ok, err = readRescale(ds.Elements)
	}
	if err != nil {
		return frameRescales{}, err
	}
	if !ok {
		top = identityRescale
	}
	// beside refuses a LUT where another transform also applies to the
	// same frames: which one the writer meant cannot be told.
	beside := func(where string, r rescale) error {
		switch {
		case topLUT:
			return reject(StepHeader, "a modality LUT sequence at the top level and a modality transform in the %s functional groups", where)
		case ok && r.lut != nil:
			return reject(StepHeader, "a rescale at the top level and a modality LUT sequence in the %s functional groups", where)
		}
		return nil
	}
	var shared rescale
	sharedOK := false
	if e := find(ds.Elements, tagSharedGroups); e != nil {
		for _, item := range sequenceItems(e) {
			r, found, err := groupTransform(item, im.signed)
			if err != nil {
				return frameRescales{}, err
			}
			if found {
				if err := beside("shared", r); err != nil {
					return frameRescales{}, err
				}
				top, shared, sharedOK = r, r, true
			}
		}
	}
	fr := frameRescales{groups: []rescale{top}, chunkLen: im.pixels.chunkLen(),
		frameBytes: int64(im.rows) * int64(im.columns) * int64(im.samplesPerPixel) * int64(im.bitsAllocated/8)}
	e := find(ds.Elements, tagPerFrameGroups)
	if e == nil {
		return fr, nil
	}
	index := map[string]int{top.key: 0}
	frameGroup := make([]int, im.frames)
	for i, item := range sequenceItems(e) {
		r, found, err := groupTransform(item, im.signed)
		if err != nil {
			return frameRescales{}, err
		}
		if !found || i >= im.frames {
			continue
		}
		if err := beside("per-frame", r); err != nil {
			return frameRescales{}, err
		}
		if sharedOK && (shared.lut != nil || r.lut != nil) {
			return frameRescales{}, reject(StepHeader, "frame %d: a modality transform in both the shared and the per-frame functional groups, one of them a modality LUT sequence", i+1)
		}
		g, seen := index[r.key]
		if !seen {
			g = len(fr.groups)
			index[r.key] = g
			fr.groups = append(fr.groups, r)
		}
		frameGroup[i] = g
	}
	if len(fr.groups) > 1 {
		fr.frameGroup = frameGroup
	} else if fr.groups[0].key != top.key {
		fr.groups = fr.groups[:1]
	}
	return fr, nil
}

// groupTransform reads the modality transform of one functional group
// item: its Pixel Value Transformation item's rescale or Modality LUT, or
// a Modality LUT Sequence directly in the group. Two of them in one group
// are refused.
func groupTransform(item []*dicom.Element, signed bool) (rescale, bool, error) {
	direct, hasDirect, err := readModalityLUT(item, signed)
	if err != nil {
		return rescale{}, false, err
	}
	var inner rescale
	hasInner := false
	if e := find(item, tagPixelValueTransform); e != nil {
		for _, it := range sequenceItems(e) {
			lut, hasLUT, err := readModalityLUT(it, signed)
			if err != nil {
				return rescale{}, false, err
			}
			rs, hasRescale, err := readRescale(it)
			if err != nil {
				return rescale{}, false, err
			}
			if hasLUT && hasRescale {
				return rescale{}, false, reject(StepHeader, "a modality LUT sequence and a rescale in one pixel value transformation item")
			}
			inner, hasInner = rs, hasRescale
			if hasLUT {
				inner, hasInner = lut, true
			}
			break // one item (Type 1, VM 1); more were never read
		}
	}
	if hasDirect && hasInner {
		return rescale{}, false, reject(StepHeader, "a modality LUT sequence beside a pixel value transformation sequence in one functional group item")
	}
	if hasDirect {
		return direct, true, nil
	}
	return inner, hasInner, nil
}

// single reports whether every frame has the same rescale.
func (fr frameRescales) single() bool { return fr.frameGroup == nil }

// identity reports whether every value is its own modality value.
func (fr frameRescales) identity() bool { return fr.single() && fr.groups[0].identity() }

// split calls f with the parts of b, which starts at byte off of the pixel
// data, that lie in one frame each, and the rescale group of that frame.
func (fr frameRescales) split(off int64, b []byte, f func(group int, part []byte)) {
	if fr.single() {
		f(0, b)
		return
	}
	for len(b) > 0 {
		frame := off / fr.frameBytes
		n := min(int64(len(b)), (frame+1)*fr.frameBytes-off)
		g := 0
		if frame < int64(len(fr.frameGroup)) {
			g = fr.frameGroup[frame]
		}
		f(g, b[:n])
		b, off = b[n:], off+n
	}
}

// chunkOffsets tells each worker of pixelSource.chunks where its chunks
// start: worker w gets chunks w, w+workers, ... in order, each size bytes
// long but the last.
type chunkOffsets struct {
	workers int
	size    int64
	next    []int
}

func newChunkOffsets(workers int, size int64) *chunkOffsets {
	workers = max(workers, 1)
	return &chunkOffsets{workers: workers, size: size, next: make([]int, workers)}
}

// take returns the offset of worker w's next chunk.
func (c *chunkOffsets) take(w int) int64 {
	i := w + c.next[w]*c.workers
	c.next[w]++
	return int64(i) * c.size
}

// modalityMap is the map of modality values to [min, max].
type modalityMap struct {
	src      ValueRange
	min, max int64
}

// at maps one modality value: Min + (m − lo)(Max − Min)/(hi − lo), rounded
// half up, clamped; a constant range maps m ≤ lo to Min, the rest to Max.
func (m modalityMap) at(v *big.Rat) int64 {
	if v.Cmp(m.src.Lo) <= 0 {
		return m.min
	}
	if v.Cmp(m.src.Hi) >= 0 {
		return m.max
	}
	x := new(big.Rat).Sub(v, m.src.Lo)
	x.Mul(x, new(big.Rat).SetInt64(m.max-m.min))
	x.Quo(x, new(big.Rat).Sub(m.src.Hi, m.src.Lo))
	x.Add(x, big.NewRat(1, 2))
	q := new(big.Int).Div(x.Num(), x.Denom())
	return m.min + q.Int64()
}

// storedMap is a modalityMap seen from the stored values of one rescale:
// q(v) = floor((a·v + c)/den) is out − Min for v in [vA, vB]; below vA
// every value maps to Min, above vB to Max.
type storedMap struct {
	// lut, when set, gives each stored value its modality value, which id
	// (the map of the identity rescale) maps.
	lut      *modalityLUT
	id       *storedMap
	lin      *linearMap // the stored source range is integral: today's map
	min, max int64
	vA, vB   int64
	a, c     *big.Int
	den      *big.Int
	// Stepping in machine words when den fits: q(v+1) = q(v) + qStep
	// (+1 on a carry of the remainder).
	fast         bool
	den64, rStep uint64
	qStep        int64
	q0           int64 // q(vA)
	r0           uint64
	// pieces, when set, make this a piecewise map (histogram
	// standardization): each piece from its first stored value on.
	pieces []storedPiece
}

// storedLimit bounds the stored values a map considers; beyond it every
// supported format is clamped anyway.
const storedLimit = int64(1) << 40

// clampStored clamps x to [lo, hi].
func clampStored(x *big.Int, lo, hi int64) int64 {
	if x.Cmp(big.NewInt(hi)) > 0 {
		return hi
	}
	if x.Cmp(big.NewInt(lo)) < 0 {
		return lo
	}
	return x.Int64()
}

func ratFloor(r *big.Rat) *big.Int { return new(big.Int).Div(r.Num(), r.Denom()) }

func ceilDiv(x, y *big.Int) *big.Int {
	q := new(big.Int).Div(new(big.Int).Neg(x), y)
	return q.Neg(q)
}

// stored builds the map of r's stored values.
func (m modalityMap) stored(r rescale) storedMap {
	sm := storedMap{min: m.min, max: m.max}
	if r.lut != nil {
		id := m.stored(identityRescale)
		sm.lut, sm.id = r.lut, &id
		return sm
	}
	// L and H: the source range in r's stored values.
	l := new(big.Rat).Sub(m.src.Lo, r.intercept)
	l.Quo(l, r.slope)
	h := new(big.Rat).Sub(m.src.Hi, r.intercept)
	h.Quo(h, r.slope)
	limit := new(big.Rat).SetInt64(storedLimit)
	inLimit := func(x *big.Rat) bool { return new(big.Rat).Abs(x).Cmp(limit) <= 0 }
	if l.IsInt() && h.IsInt() && inLimit(l) && inLimit(h) {
		sm.lin = &linearMap{src: Range{l.Num().Int64(), h.Num().Int64()}, dst: Range{m.min, m.max}}
		return sm
	}
	if l.Cmp(h) == 0 {
		t := clampStored(ratFloor(l), -storedLimit-1, storedLimit)
		sm.vA, sm.vB = t+1, t
		return sm
	}
	// q(v) = floor(k·v + 1/2 − L·k), k = (Max − Min)/(H − L).
	k := new(big.Rat).SetInt64(m.max - m.min)
	k.Quo(k, new(big.Rat).Sub(h, l))
	beta := new(big.Rat).Mul(l, k)
	beta.Sub(big.NewRat(1, 2), beta)
	sm.a = new(big.Int).Mul(k.Num(), beta.Denom())
	sm.c = new(big.Int).Mul(beta.Num(), k.Denom())
	sm.den = new(big.Int).Mul(k.Denom(), beta.Denom())
	g := new(big.Int).GCD(nil, nil, sm.a, sm.c)
	g.GCD(nil, nil, g, sm.den)
	if g.Sign() > 0 && g.Cmp(big.NewInt(1)) != 0 {
		sm.a.Quo(sm.a, g)
		sm.c.Quo(sm.c, g)
		sm.den.Quo(sm.den, g)
	}
	// vA: the least v with a·v + c >= 0; vB: the greatest with
	// a·v + c < (span+1)·den.
	// Clamped so that [vA, vB] stays the interior within the limit.
	sm.vA = clampStored(ceilDiv(new(big.Int).Neg(sm.c), sm.a), -storedLimit, storedLimit+1)
	top := new(big.Int).Mul(big.NewInt(m.max-m.min+1), sm.den)
	top.Sub(top, sm.c)
	sm.vB = clampStored(new(big.Int).Sub(ceilDiv(top, sm.a), big.NewInt(1)), -storedLimit-1, storedLimit)
	if sm.den.IsUint64() && sm.vA <= sm.vB {
		q, r := new(big.Int).QuoRem(sm.a, sm.den, new(big.Int))
		if q.IsInt64() && q.Int64() <= m.max-m.min {
			sm.fast, sm.den64, sm.rStep, sm.qStep = true, sm.den.Uint64(), r.Uint64(), q.Int64()
			q0, r0 := sm.exact(sm.vA)
			sm.q0, sm.r0 = q0, r0.Uint64()
		}
	}
	return sm
}

// exact returns q(v) and the remainder of its division, for v in [vA, vB].
func (sm *storedMap) exact(v int64) (int64, *big.Int) {
	x := new(big.Int).Mul(sm.a, big.NewInt(v))
	x.Add(x, sm.c)
	q, r := new(big.Int).DivMod(x, sm.den, new(big.Int))
	return q.Int64(), r
}

// at maps one stored value.
func (sm *storedMap) at(v int64) int64 {
	if sm.lut != nil {
		return sm.id.at(sm.lut.at(v))
	}
	if sm.pieces != nil {
		return sm.pieceAt(v).at(v)
	}
	if sm.lin != nil {
		return sm.lin.apply(v)
	}
	switch {
	case v < sm.vA:
		return sm.min
	case v > sm.vB:
		return sm.max
	}
	if sm.fast {
		// q(v) = q(vA) + d·qStep + floor((d·rStep + r0)/den), d = v − vA,
		// in 128 bits: d·rStep + r0 < 2^42·den, so the high word is below
		// den.
		d := uint64(v - sm.vA)
		hi, lo := bits.Mul64(d, sm.rStep)
		lo, carry := bits.Add64(lo, sm.r0, 0)
		hi += carry
		q, _ := bits.Div64(hi, lo, sm.den64)
		return sm.min + sm.q0 + int64(d)*sm.qStep + int64(q)
	}
	q, _ := sm.exact(v)
	return sm.min + q
}

// fill sets out[i] to the map of stored value base+i.
func fillStored[T uint16 | int64](sm *storedMap, base int64, out []T) {
	if sm.lut != nil {
		for i := range out {
			out[i] = T(sm.at(base + int64(i)))
		}
		return
	}
	if sm.pieces != nil {
		fillPieces(sm, base, out)
		return
	}
	if sm.lin != nil {
		fillMap(*sm.lin, base, out)
		return
	}
	i := 0
	for ; i < len(out) && base+int64(i) < sm.vA; i++ {
		out[i] = T(sm.min)
	}
	if i < len(out) && base+int64(i) <= sm.vB {
		v := base + int64(i)
		q, rb := sm.exact(v)
		if sm.fast {
			r := rb.Uint64()
			for ; i < len(out) && base+int64(i) <= sm.vB; i++ {
				out[i] = T(sm.min + q)
				if r >= sm.den64-sm.rStep {
					q, r = q+sm.qStep+1, r-(sm.den64-sm.rStep)
				} else {
					q, r = q+sm.qStep, r+sm.rStep
				}
			}
		} else {
			for ; i < len(out) && base+int64(i) <= sm.vB; i++ {
				q, _ := sm.exact(base + int64(i))
				out[i] = T(sm.min + q)
			}
		}
	}
	for ; i < len(out); i++ {
		out[i] = T(sm.max)
	}
}
