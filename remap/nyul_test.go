package remap

import (
	"math"
	"math/big"
	"math/rand"
	"sort"
	"testing"
)

// oracleLinear is numpy's linear percentile over sorted values, written
// from its definition: h = (N−1)p/100, x[⌊h⌋] + (h−⌊h⌋)(x[⌊h⌋+1] − x[⌊h⌋]).
func oracleLinear(sorted []*big.Rat, p *big.Rat) *big.Rat {
	h := new(big.Rat).Mul(p, big.NewRat(int64(len(sorted)-1), 100))
	j := new(big.Int).Div(h.Num(), h.Denom()).Int64()
	f := new(big.Rat).Sub(h, big.NewRat(j, 1))
	if f.Sign() == 0 {
		return sorted[j]
	}
	d := new(big.Rat).Sub(sorted[j+1], sorted[j])
	return d.Add(d.Mul(d, f), sorted[j])
}

func histOf(slope, intercept string, values ...int64) Histogram {
	counts := map[int64]uint64{}
	for _, v := range values {
		counts[v]++
	}
	h := Histogram{Slope: slope, Intercept: intercept}
	for v := range counts {
		h.Values = append(h.Values, v)
	}
	sort.Slice(h.Values, func(i, j int) bool { return h.Values[i] < h.Values[j] })
	for _, v := range h.Values {
		h.Counts = append(h.Counts, counts[v])
	}
	return h
}

// TestLinearPercentileNumpy: values numpy.percentile gives (checked with
// numpy 1.24: percentile([1, 2, 3, 4], [0, 10, 50, 99, 100]) is 1, 1.3,
// 2.5, 3.97, 4), against the nearest rank's.
func TestLinearPercentileNumpy(t *testing.T) {
	hs := []Histogram{histOf("1", "0", 1, 2, 3, 4)}
	for _, c := range []struct{ p, linear, nearest string }{
		{"0", "1", "1"}, {"10", "1.3", "1"}, {"50", "2.5", "2"}, {"99", "3.97", "4"}, {"100", "4", "4"},
	} {
		p := ratOf(t, c.p)
		lin, ok, err := HistogramPercentiles(hs, []*big.Rat{p}, Linear)
		if err != nil || !ok || lin[0].Cmp(ratOf(t, c.linear)) != 0 {
			t.Errorf("linear Q(%s) = %v, numpy gives %s", c.p, lin, c.linear)
		}
		near, _, _ := HistogramPercentiles(hs, []*big.Rat{p}, NearestRank)
		if near[0].Cmp(ratOf(t, c.nearest)) != 0 {
			t.Errorf("nearest-rank Q(%s) = %v, want %s", c.p, near[0], c.nearest)
		}
	}
	// One sample: every percentile is it.
	one, _, _ := HistogramPercentiles([]Histogram{histOf("0.5", "-3", 7)}, []*big.Rat{big.NewRat(37, 1)}, Linear)
	if one[0].Cmp(big.NewRat(1, 2)) != 0 {
		t.Errorf("one sample: %v", one[0])
	}
	if _, ok, _ := HistogramPercentiles(nil, NyulPercentiles, Linear); ok {
		t.Error("no samples gave percentiles")
	}
}

// FuzzLinearPercentiles: any histograms over three rescales give numpy's
// linear percentile of all their samples, sorted by the oracle.
func FuzzLinearPercentiles(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6}, uint16(1050))
	f.Add([]byte{9, 0}, uint16(10000))
	f.Fuzz(func(t *testing.T, data []byte, hundredths uint16) {
		if hundredths > 10000 || len(data) > 300 {
			return
		}
		slopes := []string{"1", "0.25", "3.5"}
		intercepts := []string{"0", "-7.5", "100"}
		groups := make([][]int64, 3)
		var all []*big.Rat
		for i := 0; i+1 < len(data); i += 2 {
			g := int(data[i]) % 3
			v := int64(data[i]) - 100
			for range data[i+1]%4 + 1 {
				groups[g] = append(groups[g], v)
				m := new(big.Rat).Mul(big.NewRat(v, 1), ratOf(t, slopes[g]))
				all = append(all, m.Add(m, ratOf(t, intercepts[g])))
			}
		}
		var hs []Histogram
		for g, vs := range groups {
			if len(vs) > 0 {
				hs = append(hs, histOf(slopes[g], intercepts[g], vs...))
			}
		}
		p := big.NewRat(int64(hundredths), 100)
		got, ok, err := HistogramPercentiles(hs, []*big.Rat{p}, Linear)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			if len(all) != 0 {
				t.Fatal("no percentile from samples")
			}
			return
		}
		sort.Slice(all, func(i, j int) bool { return all[i].Cmp(all[j]) < 0 })
		if want := oracleLinear(all, p); got[0].Cmp(want) != 0 {
			t.Fatalf("Q(%v) = %v, oracle %v", p, got[0], want)
		}
	})
}

// TestAverageLandmarks: TorchIO's average of the images' landmarks scaled
// onto [0, 100], by hand; an image without scale is named.
func TestAverageLandmarks(t *testing.T) {
	ints := func(vs ...int64) []*big.Rat {
		var out []*big.Rat
		for _, v := range vs {
			out = append(out, big.NewRat(v, 1))
		}
		return out
	}
	a := ints(0, 10, 20, 25, 30, 40, 50, 60, 70, 75, 80, 90, 100)     // already [0, 100]
	b := ints(10, 12, 14, 15, 16, 18, 20, 22, 24, 25, 26, 28, 30)     // 10 + x/5
	c := ints(-50, -40, -30, -20, -10, 0, 10, 20, 30, 40, 50, 60, 70) // not linear
	got, err := AverageLandmarks([][]*big.Rat{a, b, c})
	if err != nil {
		t.Fatal(err)
	}
	// Landmark 3: a 25, b 25, c (−20+50)·100/120 = 25; landmark 1 (10th):
	// a 10, b (12−10)·100/20 = 10, c 10·100/120 = 25/3; mean 85/9.
	if got[3].Cmp(big.NewRat(25, 1)) != 0 || got[1].Cmp(big.NewRat(85, 9)) != 0 || got[0].Sign() != 0 || got[12].Cmp(big.NewRat(100, 1)) != 0 {
		t.Fatalf("landmarks %v", got)
	}
	flat := ints(5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5)
	var le *LandmarkError
	if _, err := AverageLandmarks([][]*big.Rat{a, flat}); err == nil || !asLandmarkError(err, &le) || le.Image != 1 {
		t.Fatalf("a constant image: %v", err)
	}
	if CheckLandmarks(ints(0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)) != nil || CheckLandmarks(ints(0, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)) == nil ||
		CheckLandmarks(ints(0, 1)) == nil {
		t.Fatal("CheckLandmarks: non-decreasing lists of 13 are accepted, nothing else")
	}
}

func asLandmarkError(err error, le **LandmarkError) bool {
	e, ok := err.(*LandmarkError)
	*le = e
	return ok
}

// definition is _normalize's map of one modality value x, then [0, 100]
// onto [lo, hi], written from TorchIO's code: segment by np.digitize over
// the inner landmarks (right=False), slope 0 for an image gap below 1e-5.
func definition(x *big.Rat, image, learnt []*big.Rat, lo, hi int64) int64 {
	var p, l []*big.Rat
	for _, i := range []int{0, 1, 2, 4, 5, 6, 7, 8, 10, 11, 12} {
		p, l = append(p, image[i]), append(l, learnt[i])
	}
	k := 0
	for _, b := range p[1 : len(p)-1] {
		if b.Cmp(x) <= 0 {
			k++
		}
	}
	slope := new(big.Rat)
	if d := new(big.Rat).Sub(p[k+1], p[k]); d.Cmp(big.NewRat(1, 100000)) >= 0 {
		slope.Quo(new(big.Rat).Sub(l[k+1], l[k]), d)
	}
	v := new(big.Rat).Sub(x, p[k])
	v.Mul(v, slope).Add(v, l[k])
	o := v.Mul(v, big.NewRat(hi-lo, 100))
	o.Add(o, big.NewRat(2*lo+1, 2))
	q := new(big.Int).Div(o.Num(), o.Denom())
	return clampStored(q, lo, hi)
}

// TestPieceMapMatchesDefinition: the stored-value tables and per-value
// map of histogram standardization equal the definition for every stored
// value of a range, over random image landmarks with ties, gaps under
// 1e-5 and stored values exactly on them, random learnt landmarks (equal
// ones too, ends other than 0 and 100) and random rescales.
func TestPieceMapMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewSource(21))
	rescales := [][2]string{{"1", "0"}, {"0.25", "-300"}, {"1.7", "12.5"}, {"3", "-1024"}}
	for iter := 0; iter < 300; iter++ {
		rs := rescales[iter%len(rescales)]
		r := newRescale(ratOf(t, rs[0]), ratOf(t, rs[1]))
		image := make([]*big.Rat, 13)
		x := r.modality(int64(rng.Intn(40) - 200))
		for i := range image {
			switch rng.Intn(4) {
			case 0: // a tie
			case 1: // a gap below epsilon
				x = new(big.Rat).Add(x, big.NewRat(int64(rng.Intn(9)+1), 1000000))
			default: // a few stored steps on, so that samples hit it
				x = new(big.Rat).Add(x, new(big.Rat).Mul(r.slope, big.NewRat(int64(rng.Intn(30)), 1+int64(rng.Intn(3)))))
			}
			image[i] = x
		}
		learnt := make([]*big.Rat, 13)
		y := big.NewRat(int64(rng.Intn(20)-10), 1)
		for i := range learnt {
			if rng.Intn(4) != 0 {
				y = new(big.Rat).Add(y, big.NewRat(int64(rng.Intn(3000)), 100))
			}
			learnt[i] = y
		}
		lo, hi := int64(rng.Intn(100)-50), int64(100+rng.Intn(4000))
		pm := newPieceMap(image, learnt, lo, hi)
		sm := pm.stored(r)
		base := int64(-300)
		table := make([]int64, 700)
		fillStored(&sm, base, table)
		for i, got := range table {
			v := base + int64(i)
			m := r.modality(v)
			want := definition(m, image, learnt, lo, hi)
			if got != want || sm.at(v) != want || pm.at(m) != want {
				t.Fatalf("iter %d: stored %d (modality %v): table %d, at %d, modality map %d, definition %d\nimage %v\nlearnt %v",
					iter, v, m, got, sm.at(v), pm.at(m), want, image, learnt)
			}
		}
	}
}

// TestMergeHistogramsDenseAndWide: the dense table and the map merge give
// the sums of a plain reference, in any order, for narrow and wide spans.
func TestMergeHistogramsDenseAndWide(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for iter := 0; iter < 50; iter++ {
		var hs []Histogram
		want := map[string]map[int64]uint64{}
		for range 1 + rng.Intn(20) {
			key := []string{"1/0", "0.5/-3", "2/7"}[rng.Intn(3)]
			slope, intercept, _ := cutKey(key)
			spread := int64(1000)
			if rng.Intn(3) == 0 {
				spread = 3 << 20 // wider than the dense table
			}
			var vs []int64
			for range rng.Intn(30) {
				vs = append(vs, rng.Int63n(spread)-spread/2)
			}
			h := histOf(slope, intercept, vs...)
			hs = append(hs, h)
			if want[key] == nil {
				want[key] = map[int64]uint64{}
			}
			for i, v := range h.Values {
				want[key][v] += h.Counts[i]
			}
		}
		for _, order := range [][]Histogram{hs, reversed(hs)} {
			got, err := MergeHistograms(order)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range got {
				w := want[h.Slope+"/"+h.Intercept]
				if len(h.Values) != len(w) {
					t.Fatalf("%s: %d values, want %d", h.key(), len(h.Values), len(w))
				}
				for i, v := range h.Values {
					if w[v] != h.Counts[i] || (i > 0 && h.Values[i-1] >= v) {
						t.Fatalf("%s: value %d count %d, want %d", h.key(), v, h.Counts[i], w[v])
					}
				}
			}
		}
	}
}

func cutKey(k string) (string, string, bool) {
	for i := range k {
		if k[i] == '/' {
			return k[:i], k[i+1:], true
		}
	}
	return k, "", false
}

func reversed(hs []Histogram) []Histogram {
	out := make([]Histogram, len(hs))
	for i, h := range hs {
		out[len(hs)-1-i] = h
	}
	return out
}

// TestPieceMapDrawn: the pieces a picture draws (drawn) are the map
// applied: every stored value's modality value, put through the drawn
// piece whose domain holds it, rounded half up and clamped, gives the
// definition's output (but for values within 1e-6 of a rounding tie, which
// floats may put on either side); and the unclamped range is where the map
// clamps: below it every output is Min, above it Max, within it the drawn
// value lies in [Min, Max]. Over the random maps of
// TestPieceMapMatchesDefinition.
func TestPieceMapDrawn(t *testing.T) {
	rng := rand.New(rand.NewSource(22))
	rescales := [][2]string{{"1", "0"}, {"0.25", "-300"}, {"1.7", "12.5"}, {"3", "-1024"}}
	checked := 0
	for iter := 0; iter < 300; iter++ {
		rs := rescales[iter%len(rescales)]
		r := newRescale(ratOf(t, rs[0]), ratOf(t, rs[1]))
		image := make([]*big.Rat, 13)
		x := r.modality(int64(rng.Intn(40) - 200))
		for i := range image {
			switch rng.Intn(4) {
			case 0:
			case 1:
				x = new(big.Rat).Add(x, big.NewRat(int64(rng.Intn(9)+1), 1000000))
			default:
				x = new(big.Rat).Add(x, new(big.Rat).Mul(r.slope, big.NewRat(int64(rng.Intn(30)), 1+int64(rng.Intn(3)))))
			}
			image[i] = x
		}
		learnt := make([]*big.Rat, 13)
		y := big.NewRat(int64(rng.Intn(40)-30), 1) // ends below 0 and above 100 too
		for i := range learnt {
			if rng.Intn(4) != 0 {
				y = new(big.Rat).Add(y, big.NewRat(int64(rng.Intn(3000)), 100))
			}
			learnt[i] = y
		}
		lo, hi := int64(rng.Intn(100)-50), int64(100+rng.Intn(4000))
		pm := newPieceMap(image, learnt, lo, hi)
		pieces := pm.drawn()
		base := int64(-300)
		u, all := pm.unclamped()
		if all {
			u = ValueRange{r.modality(base + 700), r.modality(base + 700)} // nothing within
		}
		below := func(m *big.Rat) bool { return u.Lo != nil && m.Cmp(u.Lo) < 0 }
		above := func(m *big.Rat) bool { return u.Hi != nil && m.Cmp(u.Hi) > 0 }
		for i := range 700 {
			m := r.modality(base + int64(i))
			want := definition(m, image, learnt, lo, hi)
			xf, _ := m.Float64()
			k := 0
			for k+1 < len(pieces) && pieces[k+1].From <= xf {
				k++
			}
			yf := pieces[k].Offset + pieces[k].Slope*xf
			switch {
			case all && want != lo && want != hi:
				t.Fatalf("iter %d: %v maps to %d, though the map clamps every value", iter, m, want)
			case all:
			case below(m) && want != lo:
				t.Fatalf("iter %d: %v below the unclamped range %v maps to %d, not min %d", iter, m, u, want, lo)
			case above(m) && want != hi:
				t.Fatalf("iter %d: %v above the unclamped range %v maps to %d, not max %d", iter, m, u, want, hi)
			case !below(m) && !above(m) && (yf < float64(lo)-1e-6 || yf > float64(hi)+1e-6):
				t.Fatalf("iter %d: %v within the unclamped range %v is drawn at %v, outside [%d, %d]", iter, m, u, yf, lo, hi)
			}
			if math.Abs(yf-math.Floor(yf)-0.5) < 1e-6 {
				continue
			}
			if got := min(max(int64(math.Floor(yf+0.5)), lo), hi); got != want {
				t.Fatalf("iter %d: %v: drawn piece %d (%+v) gives %v → %d, the map %d\nimage %v\nlearnt %v",
					iter, m, k, pieces[k], yf, got, want, image, learnt)
			}
			checked++
		}
	}
	if checked < 200000 {
		t.Fatalf("only %d values checked", checked)
	}
}
