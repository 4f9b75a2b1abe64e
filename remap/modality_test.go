package remap

import (
	"bytes"
	"fmt"
	"math/big"
	"math/rand"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// The oracle: big.Rat from the header strings through the standard
// library's own parser (not ParseDecimal), the documented map, and the
// percentile rank by sorting every sample.

var oracleRats sync.Map // string → *big.Rat: the oracle reads each header string once

func ratOf(t *testing.T, s string) *big.Rat {
	t.Helper()
	if r, ok := oracleRats.Load(s); ok {
		return r.(*big.Rat)
	}
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok {
		t.Fatalf("oracle cannot read %q", s)
	}
	oracleRats.Store(s, r)
	return r
}

// oracleMap is out = MIN + (m − lo)(MAX − MIN)/(hi − lo), halves up,
// clamped; a constant range maps m <= lo to MIN and the rest to MAX.
func oracleMap(m, lo, hi *big.Rat, min, max int64) int64 {
	if m.Cmp(lo) <= 0 {
		return min
	}
	if m.Cmp(hi) >= 0 {
		return max
	}
	x := new(big.Rat).Sub(m, lo)
	x.Mul(x, big.NewRat(max-min, 1))
	x.Quo(x, new(big.Rat).Sub(hi, lo))
	x.Add(x, big.NewRat(1, 2))
	q := new(big.Int).Div(x.Num(), x.Denom())
	return min + q.Int64()
}

// oracleQuantile is the modality value of rank max(1, ceil(p/100 × N)).
func oracleQuantile(sorted []*big.Rat, p *big.Rat) *big.Rat {
	x := new(big.Rat).Mul(p, big.NewRat(int64(len(sorted)), 100))
	k := new(big.Int).Div(x.Num(), x.Denom())
	if !x.IsInt() {
		k.Add(k, big.NewInt(1))
	}
	r := max(k.Int64(), 1)
	return sorted[r-1]
}

// sample is one stored value with its frame's rescale.
type sample struct {
	v                int64
	slope, intercept string
}

func (s sample) modality(t *testing.T) *big.Rat {
	m := new(big.Rat).Mul(big.NewRat(s.v, 1), ratOf(t, s.slope))
	return m.Add(m, ratOf(t, s.intercept))
}

// oracle computes the expected output of samples under p; pad marks
// padding stored values. Equal samples are counted, not repeated, so that
// the sort stays small.
func oracle(t *testing.T, samples []sample, pad func(int64) bool, p Params) ([]int64, ValueRange) {
	counts := map[sample]int{}
	for _, s := range samples {
		if pad(s.v) {
			continue
		}
		if p.MaskBelow != nil && s.modality(t).Cmp(p.MaskBelow) < 0 {
			continue
		}
		counts[s]++
	}
	type entry struct {
		m *big.Rat
		n int
	}
	var entries []entry
	total := 0
	for s, n := range counts {
		entries = append(entries, entry{s.modality(t), n})
		total += n
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].m.Cmp(entries[j].m) < 0 })
	quantile := func(p *big.Rat) *big.Rat {
		x := new(big.Rat).Mul(p, big.NewRat(int64(total), 100))
		k := new(big.Int).Div(x.Num(), x.Denom())
		if !x.IsInt() {
			k.Add(k, big.NewInt(1))
		}
		rank := max(k.Int64(), 1)
		seen := int64(0)
		for _, e := range entries {
			if seen += int64(e.n); seen >= rank {
				return e.m
			}
		}
		t.Fatal("rank beyond the samples")
		return nil
	}
	var src ValueRange
	switch {
	case p.Source != nil:
		src = *p.Source
	case p.Percentiles != nil:
		src = ValueRange{quantile(p.Percentiles.Lo), quantile(p.Percentiles.Hi)}
	default:
		src = ValueRange{entries[0].m, entries[len(entries)-1].m}
	}
	out := make([]int64, len(samples))
	memo := map[sample]int64{}
	for i, s := range samples {
		if pad(s.v) {
			out[i] = p.Min
			continue
		}
		o, ok := memo[s]
		if !ok {
			o = oracleMap(s.modality(t), src.Lo, src.Hi, p.Min, p.Max)
			memo[s] = o
		}
		out[i] = o
	}
	return out, src
}

func rescaled(spec fixture.Spec, slope, intercept string) fixture.Spec {
	var extra []fixture.Elem
	for _, e := range spec.Extra {
		if e.Group == 0x0028 && (e.Element == 0x1052 || e.Element == 0x1053) {
			continue
		}
		extra = append(extra, e)
	}
	spec.Extra = append(extra, fixture.Str(0x0028, 0x1052, "DS", intercept), fixture.Str(0x0028, 0x1053, "DS", slope))
	return spec
}

func checkAgainstOracle(t *testing.T, spec fixture.Spec, samples []sample, pad func(int64) bool, p Params) Report {
	t.Helper()
	in := fixture.Build(spec)
	want, src := oracle(t, samples, pad, p)
	var outs [][]byte
	var rep Report
	for _, threads := range []int{1, 3} {
		p.Threads = threads
		var out bytes.Buffer
		var err error
		rep, err = Remap(&out, bytes.NewReader(in), int64(len(in)), p)
		if err != nil {
			t.Fatalf("Remap: %v", err)
		}
		outs = append(outs, out.Bytes())
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Fatal("1 and 3 threads give different bytes")
	}
	if rep.Source.Lo.Cmp(src.Lo) != 0 || rep.Source.Hi.Cmp(src.Hi) != 0 {
		t.Fatalf("source range %v, oracle %v", rep.Source, src)
	}
	d := decodeOutput(t, outs[0])
	if len(d.values) != len(want) {
		t.Fatalf("%d samples, want %d", len(d.values), len(want))
	}
	for i := range want {
		if d.values[i] != want[i] {
			t.Fatalf("sample %d (stored %d, rescale %s/%s) = %d, oracle %d", i, samples[i].v, samples[i].slope, samples[i].intercept, d.values[i], want[i])
		}
	}
	return rep
}

func noPad(int64) bool { return false }

func samplesOf(values []int64, slope, intercept string) []sample {
	s := make([]sample, len(values))
	for i, v := range values {
		s[i] = sample{v, slope, intercept}
	}
	return s
}

func dec(t *testing.T, s string) *big.Rat {
	r, err := ParseDecimal(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func vr(t *testing.T, lo, hi string) *ValueRange { return &ValueRange{dec(t, lo), dec(t, hi)} }

func pc(t *testing.T, s string) *Percentiles {
	p, err := ParsePercentiles(s)
	if err != nil {
		t.Fatal(err)
	}
	return &p
}

// TestCTWindowsInHU: unsigned stored values with intercept -1024 and
// fractional slopes; windows in HU, one narrower than a stored step, one
// far outside every value.
func TestCTWindowsInHU(t *testing.T) {
	base := fixture.CTSlice(16, 16, 0, "1", "1")
	base.Signed = false
	base.BitsStored = 12
	for i := range base.Values {
		base.Values[i] += 1024
	}
	for _, r := range []struct{ slope, intercept string }{{"1", "-1024"}, {"0.5", "-1024.25"}, {"1.2E-05", "0.00123456789012"}, {"3", "-1000"}} {
		spec := rescaled(base, r.slope, r.intercept)
		samples := samplesOf(base.Values, r.slope, r.intercept)
		for _, p := range []Params{
			{Min: 0, Max: 255},
			{Min: 0, Max: 255, Source: vr(t, "-1000", "400")},
			{Min: -100, Max: 4000, Source: vr(t, "40.1", "40.3")},   // narrower than one step
			{Min: 0, Max: 255, Source: vr(t, "100000", "100001.5")}, // above every value
			{Min: 0, Max: 65535, Source: vr(t, "-1e9", "1e9")},      // every value deep inside
			{Min: 0, Max: 100, Source: vr(t, "7", "7")},             // constant range
			{Min: 0, Max: 255, Percentiles: pc(t, "2:98")},          // robust
			{Min: 0, Max: 255, Percentiles: pc(t, "0.5:99.5"), MaskBelow: dec(t, "-500")},
		} {
			name := fmt.Sprintf("%s/%s/%d:%d/%v/%v/%v", r.slope, r.intercept, p.Min, p.Max, p.Source, p.Percentiles, p.MaskBelow)
			t.Run(name, func(t *testing.T) {
				p.Version = "test"
				checkAgainstOracle(t, spec, samples, noPad, p)
			})
		}
	}
}

// TestWide32Bit: 32-bit samples go through the per-sample exact map (and
// the 128-bit stepped form), and their percentiles through a value map.
func TestWide32Bit(t *testing.T) {
	rng := rand.New(rand.NewSource(17))
	values := make([]int64, 64*64)
	for i := range values {
		values[i] = int64(rng.Intn(1 << 20))
	}
	values[5] = 1<<31 - 1 // a hot pixel
	spec := fixture.Spec{SOPClass: fixture.SecondaryCap, Modality: "OT", Rows: 64, Columns: 64, BitsAllocated: 32, BitsStored: 32, Values: values}
	for _, r := range []struct{ slope, intercept string }{{"1", "0"}, {"0.001", "-12.5"}} {
		spec := rescaled(spec, r.slope, r.intercept)
		samples := samplesOf(values, r.slope, r.intercept)
		for _, p := range []Params{
			{Min: 0, Max: 1000000},
			{Min: 0, Max: 65535, Percentiles: pc(t, "1:99")},
			{Min: -5, Max: 4000000, Source: vr(t, "100.25", "200.75")},
			{Min: 0, Max: 255, Source: vr(t, "10.0001", "10.0002")},
		} {
			p.Version = "test"
			checkAgainstOracle(t, spec, samples, noPad, p)
		}
	}
}

// TestHotPixelPercentiles: one hot pixel squeezes min/max; percentiles keep
// the anatomy spread, with ties at the rank.
func TestHotPixelPercentiles(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	values := make([]int64, 32*32)
	for i := range values {
		values[i] = 100 + int64(rng.Intn(8))*100 // many ties
	}
	values[77] = 65000
	spec := fixture.Spec{SOPClass: fixture.MRImage, Modality: "MR", Rows: 32, Columns: 32, BitsAllocated: 16, BitsStored: 16, Values: values}
	samples := samplesOf(values, "1", "0")
	plain := checkAgainstOracle(t, spec, samples, noPad, Params{Min: 0, Max: 255, Version: "test"})
	robust := checkAgainstOracle(t, spec, samples, noPad, Params{Min: 0, Max: 255, Version: "test", Percentiles: pc(t, "1:99")})
	if robust.Source.Hi.Cmp(big.NewRat(800, 1)) != 0 || plain.Source.Hi.Cmp(big.NewRat(65000, 1)) != 0 {
		t.Fatalf("ranges %v and %v", plain.Source, robust.Source)
	}
	// Ranks exactly on a tie boundary: 1/8 of the samples per value.
	for _, p := range []string{"12.5:87.5", "0:12.5", "12.4:12.6", "99.9:100", "0:0.0001"} {
		checkAgainstOracle(t, spec, samples, noPad, Params{Min: -50, Max: 50, Version: "test", Percentiles: pc(t, p)})
	}
}

// TestPaddingMaskPercentiles: padding, a mask and percentiles together.
func TestPaddingMaskPercentiles(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	values := make([]int64, 24*24)
	for i := range values {
		switch {
		case i%7 == 0:
			values[i] = -2000 // padding
		case i%5 == 0:
			values[i] = -1000 + int64(rng.Intn(50)) // air
		default:
			values[i] = int64(rng.Intn(1500)) - 100
		}
	}
	spec := fixture.Spec{Rows: 24, Columns: 24, BitsAllocated: 16, BitsStored: 16, Signed: true, Values: values,
		Extra: []fixture.Elem{fixture.SS(0x0028, 0x0120, -2000)}}
	spec = rescaled(spec, "0.75", "12.5")
	samples := samplesOf(values, "0.75", "12.5")
	pad := func(v int64) bool { return v == -2000 }
	for _, p := range []Params{
		{Min: 0, Max: 1000, MaskBelow: dec(t, "-500")},
		{Min: 0, Max: 1000, MaskBelow: dec(t, "-500"), Percentiles: pc(t, "5:95")},
		{Min: 0, Max: 1000, Percentiles: pc(t, "5:95")},
		{Min: 0, Max: 1000, MaskBelow: dec(t, "100000")}, // masks everything
	} {
		p.Version = "test"
		if p.MaskBelow != nil && p.MaskBelow.Cmp(big.NewRat(1000, 1)) > 0 {
			// Every sample masked: constant, every pixel MIN.
			in := fixture.Build(spec)
			var out bytes.Buffer
			rep, err := Remap(&out, bytes.NewReader(in), int64(len(in)), p)
			if err != nil || !rep.Constant {
				t.Fatalf("all masked: %v, constant %v", err, rep.Constant)
			}
			continue
		}
		checkAgainstOracle(t, spec, samples, pad, p)
	}
}

// enhanced builds an enhanced CT with a per-frame rescale for each frame.
func enhanced(frames int, rows int, values []int64, slopes, intercepts []string) fixture.Spec {
	var items [][]fixture.Elem
	for f := 0; f < frames; f++ {
		items = append(items, []fixture.Elem{fixture.Seq(0x0028, 0x9145, []fixture.Elem{
			fixture.Str(0x0028, 0x1052, "DS", intercepts[f]), fixture.Str(0x0028, 0x1053, "DS", slopes[f]), fixture.Str(0x0028, 0x1054, "LO", "HU")})})
	}
	return fixture.Spec{SOPClass: fixture.EnhancedCTImage, Rows: rows, Columns: rows, Frames: frames, BitsAllocated: 16, BitsStored: 16,
		Values: values, Extra: []fixture.Elem{fixture.Seq(0x5200, 0x9230, items...)}}
}

// TestEnhancedPerFrameRescales: frames with different rescales (refused
// before) map through one modality map, across chunk boundaries and
// worker counts.
func TestEnhancedPerFrameRescales(t *testing.T) {
	const frames, rows = 5, 300 // 180000 bytes a frame: chunks straddle frames
	rng := rand.New(rand.NewSource(3))
	values := make([]int64, frames*rows*rows)
	for i := range values {
		values[i] = int64(rng.Intn(4096))
	}
	slopes := []string{"1", "0.5", "2.25", "1", "0.001"}
	intercepts := []string{"-1024", "0", "-3000.5", "-1024", "7"}
	spec := enhanced(frames, rows, values, slopes, intercepts)
	var samples []sample
	for i, v := range values {
		f := i / (rows * rows)
		samples = append(samples, sample{v, slopes[f], intercepts[f]})
	}
	// The same frames RLE compressed: chunks are then whole frames.
	rle := spec
	rle.TransferSyntax, rle.Items = tsRLE, append([][]byte{nil}, fixture.RLEFrames(spec)...)
	for _, p := range []Params{
		{Min: 0, Max: 4095},
		{Min: 0, Max: 255, Percentiles: pc(t, "1:99")},
		{Min: -1000, Max: 1000, Source: vr(t, "-500.5", "2000")},
	} {
		p.Version = "test"
		for _, s := range []fixture.Spec{spec, rle} {
			rep := checkAgainstOracle(t, s, samples, noPad, p)
			if !rep.rescaled {
				t.Fatal("per-frame rescales not noticed")
			}
		}
	}
	// The description says modality values and the range in decimals.
	in := fixture.Build(spec)
	var out bytes.Buffer
	if _, err := Remap(&out, bytes.NewReader(in), int64(len(in)), Params{Min: 0, Max: 255, Version: "test", Percentiles: pc(t, "1:99")}); err != nil {
		t.Fatal(err)
	}
	d := decodeOutput(t, out.Bytes())
	desc := str(t, d.ds, tagDerivationDesc)
	if !strings.Contains(desc, "modality values") || !strings.Contains(desc, "percentiles 1:99 of the non-padding samples") {
		t.Fatalf("derivation description %q", desc)
	}
}

// TestPETSeriesRanks: 40 slices, each with its own slope (and one series
// with differing intercepts): the series range from merged histograms is
// the oracle's over all slices, and each slice maps through it.
func TestPETSeriesRanks(t *testing.T) {
	for _, intercepts := range []bool{false, true} {
		rng := rand.New(rand.NewSource(11))
		var specs []fixture.Spec
		var all []sample
		var per [][]sample
		for i := 0; i < 40; i++ {
			values := make([]int64, 8*8)
			for j := range values {
				values[j] = int64(rng.Intn(32768))
			}
			slope := fmt.Sprintf("%d.%06dE-03", 1+rng.Intn(9), rng.Intn(1000000))
			intercept := "0"
			if intercepts {
				intercept = fmt.Sprintf("-%d.%d", rng.Intn(100), rng.Intn(10))
			}
			s := fixture.Spec{SOPClass: "1.2.840.10008.5.1.4.1.1.128", Modality: "PT", Rows: 8, Columns: 8, BitsAllocated: 16, BitsStored: 16,
				Signed: true, Values: values, Instance: fmt.Sprint(i + 1)}
			specs = append(specs, rescaled(s, slope, intercept))
			ss := samplesOf(values, slope, intercept)
			per = append(per, ss)
			all = append(all, ss...)
		}
		for _, pcs := range []*Percentiles{nil, pc(t, "0.5:99.5")} {
			p := Params{Min: 0, Max: 32767, Version: "test", Percentiles: pcs}
			_, want := oracle(t, all, noPad, p)
			var hs []Histogram
			var lo, hi *big.Rat
			for _, s := range specs {
				in := fixture.Build(s)
				m, err := Measure(bytes.NewReader(in), int64(len(in)), p)
				if err != nil {
					t.Fatal(err)
				}
				hs = append(hs, m.Hist...)
				if lo == nil || m.Source.Lo.Cmp(lo) < 0 {
					lo = m.Source.Lo
				}
				if hi == nil || m.Source.Hi.Cmp(hi) > 0 {
					hi = m.Source.Hi
				}
			}
			got := ValueRange{lo, hi}
			if pcs != nil {
				merged, err := MergeHistograms(hs)
				if err != nil {
					t.Fatal(err)
				}
				var ok bool
				if got, ok, err = HistogramQuantiles(merged, *pcs); err != nil || !ok {
					t.Fatal(err)
				}
			}
			if got.Lo.Cmp(want.Lo) != 0 || got.Hi.Cmp(want.Hi) != 0 {
				t.Fatalf("series range %v, oracle %v", got, want)
			}
			for i, s := range specs {
				checkAgainstOracle(t, s, per[i], noPad, Params{Min: 0, Max: 32767, Version: "test", Source: &got})
			}
		}
	}
}

func TestDecimals(t *testing.T) {
	for s, want := range map[string]string{"-1024": "-1024", "1.2E-05": "0.000012", "0.00123456789012": "0.00123456789012",
		" 12.50 ": "12.5", ".5": "0.5", "5.": "5", "+3e2": "300", "-0.0": "0", "1E+3": "1000"} {
		r, err := ParseDecimal(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if got := FormatDecimal(r); got != want {
			t.Errorf("%q printed as %q, want %q", s, got, want)
		}
	}
	for _, s := range []string{"", ".", "e5", "1e", "1e400", "0x10", "1/3", "nan", "inf", "1..2", "--1", "1e-9999"} {
		if _, err := ParseDecimal(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// FuzzParseDecimal: a decimal from a header or a command line either
// parses to a value that prints and parses back to itself, or is refused.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"-1024", "1.2E-05", "0.00123456789012", " 1 ", "1e350", "1e-400", "+.5e+2", "9999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseDecimal(s)
		if err != nil {
			return
		}
		again, err := ParseDecimal(FormatDecimal(r))
		if err != nil && len(FormatDecimal(r)) <= maxDecimalLen {
			t.Fatalf("%q printed as %q, which does not parse: %v", s, FormatDecimal(r), err)
		}
		if err == nil && again.Cmp(r) != 0 {
			t.Fatalf("%q round-trips to %v", s, again)
		}
		std, ok := new(big.Rat).SetString(strings.TrimSpace(strings.TrimRight(s, "\x00")))
		if ok && std.Cmp(r) != 0 {
			t.Fatalf("%q: %v, the standard library reads %v", s, r, std)
		}
	})
}

// FuzzParsePercentiles: PLO:PHI either parses within 0 <= PLO < PHI <= 100
// or is refused.
func FuzzParsePercentiles(f *testing.F) {
	for _, s := range []string{"0.5:99.5", "0:100", "50:50", "-1:5", "1:101", ":", "a:b", "1e1:2e1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePercentiles(s)
		if err != nil {
			return
		}
		if p.Lo.Sign() < 0 || p.Hi.Cmp(big.NewRat(100, 1)) > 0 || p.Lo.Cmp(p.Hi) >= 0 {
			t.Fatalf("%q accepted as %v", s, p)
		}
	})
}

// FuzzHistogramQuantiles: any histograms either are refused or give a
// range that is the oracle's (sorting every sample).
func FuzzHistogramQuantiles(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6}, uint8(10), uint8(90))
	f.Fuzz(func(t *testing.T, data []byte, plo, phi uint8) {
		if plo >= phi || phi > 100 || len(data) > 300 {
			return
		}
		// Three rescales; each byte pair is a (value, count) of one.
		slopes := []string{"1", "0.25", "3.5"}
		intercepts := []string{"0", "-7.5", "100"}
		counts := make([]map[int64]uint64, 3)
		var all []*big.Rat
		for i := 0; i+1 < len(data); i += 2 {
			g := int(data[i]) % 3
			v := int64(data[i]) - 100
			n := uint64(data[i+1]%4) + 1
			if counts[g] == nil {
				counts[g] = map[int64]uint64{}
			}
			counts[g][v] += n
			m := new(big.Rat).Mul(big.NewRat(v, 1), ratOf(t, slopes[g]))
			m.Add(m, ratOf(t, intercepts[g]))
			for range n {
				all = append(all, m)
			}
		}
		var hs []Histogram
		for g, c := range counts {
			h := Histogram{Slope: slopes[g], Intercept: intercepts[g]}
			for v := range c {
				h.Values = append(h.Values, v)
			}
			sort.Slice(h.Values, func(i, j int) bool { return h.Values[i] < h.Values[j] })
			for _, v := range h.Values {
				h.Counts = append(h.Counts, c[v])
			}
			hs = append(hs, h)
		}
		p := Percentiles{Lo: big.NewRat(int64(plo), 1), Hi: big.NewRat(int64(phi), 1)}
		got, ok, err := HistogramQuantiles(hs, p)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			if len(all) != 0 {
				t.Fatal("no range from samples")
			}
			return
		}
		sort.Slice(all, func(i, j int) bool { return all[i].Cmp(all[j]) < 0 })
		lo, hi := oracleQuantile(all, p.Lo), oracleQuantile(all, p.Hi)
		if got.Lo.Cmp(lo) != 0 || got.Hi.Cmp(hi) != 0 {
			t.Fatalf("quantiles %v, oracle [%v, %v]", got, lo, hi)
		}
	})
}

var _ = tag.PixelData
