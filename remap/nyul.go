package remap

import (
	"errors"
	"math"
	"math/big"
	"sort"
	"strconv"
)

// Histogram standardization (Nyúl and Udupa 1999; Nyúl, Udupa and Zhang
// 2000) as TorchIO defines it in
// torchio/transforms/preprocessing/intensity/histogram_standardization.py:
//
//   - Each image's landmarks are its percentiles 1, 10, 20, 25, 30, …, 75,
//     80, 90, 99 (the default cutoff 0.01, 0.99 and the quartiles and
//     deciles, sorted), by numpy's linear method, over all its samples (a
//     mask when one is given).
//   - Learning scales each image's landmarks onto [0, 100] by its own
//     first and last (1st and 99th percentiles) and averages them over the
//     images (_get_average_mapping).
//   - Standardizing an image maps its own landmarks, leaving out the
//     quartiles 25 and 75, piecewise linearly onto the learnt ones
//     (_normalize): a value x takes the segment of the number of inner
//     landmarks (10th … 90th percentile) at or below it (np.digitize), so
//     the first and last segments extend linearly below the 1st and above
//     the 99th percentile; a segment narrower than 1e-5 is flat at its
//     lower learnt landmark.
//
// Here every step is exact: percentiles, slopes and averages are
// rationals; only the landmarks file holds decimals rounded to 20
// significant digits.

// NyulPercentiles are TorchIO's landmark percentiles for its default
// cutoff (0.01, 0.99).
var NyulPercentiles = func() []*big.Rat {
	var ps []*big.Rat
	for _, p := range []int64{1, 10, 20, 25, 30, 40, 50, 60, 70, 75, 80, 90, 99} {
		ps = append(ps, big.NewRat(p, 1))
	}
	return ps
}()

// nyulUsed are the landmarks _normalize maps (range_to_use): all but the
// quartiles 25 and 75.
var nyulUsed = []int{0, 1, 2, 4, 5, 6, 7, 8, 10, 11, 12}

// nyulEpsilon is _normalize's epsilon: image landmarks closer than this
// make a flat segment.
var nyulEpsilon = big.NewRat(1, 100000)

// standardMax is the top of TorchIO's STANDARD_RANGE (0, 100).
var standardMax = big.NewRat(100, 1)

// ImageLandmarks returns the image's landmarks, its NyulPercentiles by the
// linear method, from the histograms of its samples; ok is false when
// they count none.
func ImageLandmarks(hs []Histogram) ([]*big.Rat, bool, error) {
	return HistogramPercentiles(hs, NyulPercentiles, Linear)
}

// AverageLandmarks is TorchIO's _get_average_mapping, exact: the mean over
// the images of (x − first)·100/(last − first) for each landmark x. An
// image whose first and last landmarks are equal has no scale (TorchIO
// would divide by zero) and is refused, by index.
func AverageLandmarks(images [][]*big.Rat) ([]*big.Rat, error) {
	if len(images) == 0 {
		return nil, errors.New("no images")
	}
	n := len(NyulPercentiles)
	sum := make([]*big.Rat, n)
	for j := range sum {
		sum[j] = new(big.Rat)
	}
	for i, im := range images {
		if len(im) != n {
			return nil, errors.New("image " + strconv.Itoa(i) + ": wrong number of landmarks")
		}
		width := new(big.Rat).Sub(im[n-1], im[0])
		if width.Sign() <= 0 {
			return nil, &LandmarkError{Image: i}
		}
		scale := new(big.Rat).Quo(standardMax, width)
		for j, x := range im {
			t := new(big.Rat).Sub(x, im[0])
			sum[j].Add(sum[j], t.Mul(t, scale))
		}
	}
	count := new(big.Rat).SetInt64(int64(len(images)))
	for j := range sum {
		sum[j].Quo(sum[j], count)
	}
	return sum, nil
}

// LandmarkError says which image has no scale: its 1st and 99th
// percentiles are equal.
type LandmarkError struct{ Image int }

func (e *LandmarkError) Error() string {
	return "its 1st and 99th percentiles are equal: no intensity scale to learn from"
}

// CheckLandmarks accepts any non-decreasing list of len(NyulPercentiles)
// values: a file edited by hand stands as it is. (Equal neighbours occur
// when every image has a large background.)
func CheckLandmarks(ls []*big.Rat) error {
	if len(ls) != len(NyulPercentiles) {
		return errors.New("want " + strconv.Itoa(len(NyulPercentiles)) + " landmarks, got " + strconv.Itoa(len(ls)))
	}
	for i := 1; i < len(ls); i++ {
		if ls[i].Cmp(ls[i-1]) < 0 {
			return errors.New("landmarks decrease at " + strconv.Itoa(i+1) + ": " + FormatDecimal(ls[i-1]) + " then " + FormatDecimal(ls[i]))
		}
	}
	return nil
}

// FormatLandmark writes a landmark: exact when it is a short decimal
// (0, 100, 37.5), else rounded to 20 significant digits.
func FormatLandmark(r *big.Rat) string {
	if s := FormatDecimal(r); len(s) <= 22 && !containsSlash(s) {
		return s
	}
	f := new(big.Float).SetPrec(256).SetRat(r)
	return f.Text('g', 20)
}

func containsSlash(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return true
		}
	}
	return false
}

// Standardization is histogram standardization onto learnt landmarks.
type Standardization struct {
	Landmarks []*big.Rat // the learnt ones, checked by CheckLandmarks
	SHA256    string     // of the landmarks file, for the derivation description
	// Image, when set, are the image's own landmarks measured over its
	// whole series; otherwise they are measured from the image alone.
	Image []*big.Rat
	// Scope names what Image was measured over, for the words: "series",
	// "series at or above -500".
	Scope string
}

// nyulProbe makes Measure count the histograms the landmarks need.
var nyulProbe = &Percentiles{Lo: big.NewRat(1, 1), Hi: big.NewRat(99, 1), Method: Linear}

// NyulProbe is a Percentiles that makes Measure return histograms (Hist),
// for callers that compute landmarks from them.
func NyulProbe() *Percentiles { return nyulProbe }

// pieceMap is a piecewise-linear map of modality values onto [min, max]:
// piece k covers [bounds[k−1], bounds[k]) (unbounded at both ends).
type pieceMap struct {
	bounds   []*big.Rat
	pieces   []pieceLine
	min, max int64
}

// pieceLine is one piece: a modalityMap when it rises, else the constant
// c, which is level rounded half up and clamped.
type pieceLine struct {
	rising bool
	m      modalityMap
	c      int64
	level  *big.Rat
}

// newPieceMap builds _normalize's map of an image with landmarks image
// onto learnt, followed by [0, 100] → [min, max].
func newPieceMap(image, learnt []*big.Rat, min, max int64) *pieceMap {
	pm := &pieceMap{min: min, max: max}
	var p, l []*big.Rat
	for _, i := range nyulUsed {
		p, l = append(p, image[i]), append(l, learnt[i])
	}
	pm.bounds = p[1 : len(p)-1]
	span := new(big.Rat).SetInt64(max - min)
	for k := 0; k+1 < len(p); k++ {
		dp := new(big.Rat).Sub(p[k+1], p[k])
		dl := new(big.Rat).Sub(l[k+1], l[k])
		if dp.Cmp(nyulEpsilon) < 0 || dl.Sign() == 0 {
			// Slope 0 (TorchIO divides by infinity): the lower learnt
			// landmark, mapped to [min, max].
			v := new(big.Rat).Mul(l[k], span)
			v.Quo(v, standardMax)
			v.Add(v, big.NewRat(2*min+1, 2))
			level := new(big.Rat).Sub(v, big.NewRat(1, 2))
			c := clampStored(ratFloor(v), min, max)
			pm.pieces = append(pm.pieces, pieceLine{c: c, level: level})
			continue
		}
		// The line through (p_k, l_k) of slope s = dl/dp reaches 0 at
		// lo = p_k − l_k/s and 100 at hi = p_k + (100 − l_k)/s: as a
		// modalityMap, out = min + (x − lo)(max − min)/(hi − lo).
		inv := new(big.Rat).Quo(dp, dl) // 1/s
		lo := new(big.Rat).Mul(l[k], inv)
		lo.Sub(p[k], lo)
		hi := new(big.Rat).Sub(standardMax, l[k])
		hi.Mul(hi, inv).Add(hi, p[k])
		pm.pieces = append(pm.pieces, pieceLine{rising: true, m: modalityMap{src: ValueRange{lo, hi}, min: min, max: max}})
	}
	return pm
}

// MapPiece is one piece of a map that is not one line (histogram
// standardization), as a picture draws it: from modality value From on
// (the first piece from −∞, up to the next piece's From), the output
// before rounding half up and clamping is Offset + Slope·x.
type MapPiece struct{ From, Slope, Offset float64 }

// drawn returns the pieces of pm as MapPieces.
func (pm *pieceMap) drawn() []MapPiece {
	out := make([]MapPiece, len(pm.pieces))
	for k, pl := range pm.pieces {
		out[k].From = math.Inf(-1)
		if k > 0 {
			out[k].From, _ = pm.bounds[k-1].Float64()
		}
		if !pl.rising {
			out[k].Offset, _ = pl.level.Float64()
			continue
		}
		// out = min + (x − lo)(max − min)/(hi − lo)
		slope := new(big.Rat).Quo(new(big.Rat).SetInt64(pm.max-pm.min), new(big.Rat).Sub(pl.m.src.Hi, pl.m.src.Lo))
		offset := new(big.Rat).Mul(pl.m.src.Lo, slope)
		offset.Sub(new(big.Rat).SetInt64(pm.min), offset)
		out[k].Slope, _ = slope.Float64()
		out[k].Offset, _ = offset.Float64()
	}
	return out
}

// unclamped returns the modality values between which pm does not clamp:
// where it reaches min (the standard scale's 0) and max (its 100), which
// for a linear map are the ends of its source range. The map never
// decreases, so each is found in the first (last) piece that reaches it.
// An end is nil where the map never clamps on that side; all is true when
// it clamps every value (it never reaches [min, max]).
func (pm *pieceMap) unclamped() (r ValueRange, all bool) {
	n := len(pm.pieces)
	from := func(k int) *big.Rat { // the piece's domain is [from(k), from(k+1))
		if k == 0 || k > n-1 {
			return nil
		}
		return pm.bounds[k-1]
	}
	// A piece's domain ends before the next piece's From: an end there is
	// taken a hair below it (far below any gap between a landmark and a
	// modality value, whose denominators are bounded), so that the value
	// on the bound, which the next piece maps, is not counted within.
	below := func(b *big.Rat) *big.Rat {
		return new(big.Rat).Sub(b, new(big.Rat).SetFrac(big.NewInt(1), new(big.Int).Exp(big.NewInt(10), big.NewInt(80), nil)))
	}
	var lo, hi *big.Rat
	loFound, hiFound := false, false
	for k := 0; k < n && !loFound; k++ {
		a, b, pl := from(k), from(k+1), pm.pieces[k]
		switch {
		case pl.rising:
			z := pl.m.src.Lo
			if a != nil && a.Cmp(z) > 0 {
				z = a
			}
			if b == nil || z.Cmp(b) < 0 {
				lo, loFound = z, true
			}
		case pl.level.Cmp(new(big.Rat).SetInt64(pm.min)) >= 0:
			lo, loFound = a, true
		}
	}
	for k := n - 1; k >= 0 && !hiFound; k-- {
		a, b, pl := from(k), from(k+1), pm.pieces[k]
		switch {
		case pl.rising:
			z := pl.m.src.Hi
			if b != nil && b.Cmp(z) <= 0 {
				z = below(b)
			}
			if a == nil || z.Cmp(a) > 0 {
				hi, hiFound = z, true
			}
		case pl.level.Cmp(new(big.Rat).SetInt64(pm.max)) <= 0:
			hiFound = true
			if b != nil {
				hi = below(b)
			}
		}
	}
	return ValueRange{lo, hi}, !loFound || !hiFound
}

// piece returns the index of the piece of x: how many bounds are at or
// below it (np.digitize, right=False).
func (pm *pieceMap) piece(x *big.Rat) int {
	return sort.Search(len(pm.bounds), func(i int) bool { return pm.bounds[i].Cmp(x) > 0 })
}

func (pm *pieceMap) at(x *big.Rat) int64 {
	pl := pm.pieces[pm.piece(x)]
	if !pl.rising {
		return pl.c
	}
	return pl.m.at(x)
}

// stored builds the map of r's stored values: one storedMap per piece,
// from the least stored value whose modality value reaches its bound.
func (pm *pieceMap) stored(r rescale) storedMap {
	if r.lut != nil {
		// a Modality LUT: the pieces apply to its output values
		id := pm.stored(identityRescale)
		return storedMap{min: pm.min, max: pm.max, lut: r.lut, id: &id}
	}
	sm := storedMap{min: pm.min, max: pm.max}
	from := -storedLimit - 1
	for k, pl := range pm.pieces {
		if k > 0 {
			t := new(big.Rat).Sub(pm.bounds[k-1], r.intercept)
			t.Quo(t, r.slope)
			from = max(from, clampStored(ceilDiv(t.Num(), t.Denom()), -storedLimit-1, storedLimit+1))
		}
		var part storedMap
		if pl.rising {
			part = pl.m.stored(r)
		} else {
			// Every value maps below vA, to the constant.
			part = storedMap{min: pl.c, max: pl.c, vA: storedLimit + 2, vB: storedLimit + 1}
		}
		// A later piece that starts at the same stored value hides this one.
		if n := len(sm.pieces); n > 0 && sm.pieces[n-1].from == from {
			sm.pieces = sm.pieces[:n-1]
		}
		sm.pieces = append(sm.pieces, storedPiece{from: from, m: part})
	}
	return sm
}

// storedPiece is a storedMap used from stored value from on, up to the
// next piece's.
type storedPiece struct {
	from int64
	m    storedMap
}

// pieceAt returns the piece of stored value v.
func (sm *storedMap) pieceAt(v int64) *storedMap {
	i := sort.Search(len(sm.pieces), func(i int) bool { return sm.pieces[i].from > v }) - 1
	return &sm.pieces[max(i, 0)].m
}

// fillPieces is fillStored over the pieces.
func fillPieces[T uint16 | int64](sm *storedMap, base int64, out []T) {
	for len(out) > 0 {
		i := sort.Search(len(sm.pieces), func(i int) bool { return sm.pieces[i].from > base }) - 1
		i = max(i, 0)
		n := len(out)
		if i+1 < len(sm.pieces) {
			n = int(min(int64(n), sm.pieces[i+1].from-base))
		}
		fillStored(&sm.pieces[i].m, base, out[:n])
		out, base = out[n:], base+int64(n)
	}
}

// standardize chooses the map of histogram standardization: the image's
// landmarks (given for its series, or measured here) onto the learnt ones.
// With no sample left (all padding or masked) it returns nil, and the
// image becomes Min as a constant one does.
func standardize(p Params, meas modalityMeasure, rep *Report) (valueMap, error) {
	s := p.Standardize
	image, scope := s.Image, s.Scope
	if image == nil {
		var ok bool
		var err error
		if image, ok, err = ImageLandmarks(meas.hist); err != nil {
			return nil, &Error{Kind: Internal, Step: StepPixels, Err: err}
		} else if !ok {
			// As Remap does for the linear map: every sample becomes Min.
			rep.Source = IntRange(0, 0)
			if meas.ok {
				rep.Source = ValueRange{meas.extremes.Hi, meas.extremes.Hi}
			}
			return nil, nil
		}
		scope = "image"
		if p.MaskBelow != nil {
			scope += " at or above " + FormatDecimal(p.MaskBelow)
		}
	}
	rep.Source = ValueRange{image[0], image[len(image)-1]}
	rep.Method = "histogram standardization (Nyul and Udupa, as TorchIO's HistogramStandardization) onto the landmarks of sha256:" +
		s.SHA256 + ", from the linear percentiles 1..99 of the " + scope
	return newPieceMap(image, s.Landmarks, p.Min, p.Max), nil
}
