package remap

import (
	"encoding/binary"
	"errors"
	"math/big"
	"sort"
	"sync"
)

// Histogram counts the non-padding (and unmasked) stored values of one
// rescale: what a percentile over a whole series needs from each file, exact
// and small (at most 65536 entries for 8/16-bit data), and mergeable.
type Histogram struct {
	Slope     string   `json:"slope"`
	Intercept string   `json:"intercept"`
	Values    []int64  `json:"values"` // ascending, distinct
	Counts    []uint64 `json:"counts"` // positive
}

func (h Histogram) key() string { return h.Slope + "/" + h.Intercept }

func (h Histogram) rescale() (rescale, error) {
	s, err := ParseDecimal(h.Slope)
	if err != nil || s.Sign() <= 0 {
		return rescale{}, errors.New("histogram slope " + quote(h.Slope) + " is not a positive decimal")
	}
	b, err := ParseDecimal(h.Intercept)
	if err != nil {
		return rescale{}, errors.New("histogram intercept " + quote(h.Intercept) + " is not a decimal")
	}
	return newRescale(s, b), nil
}

// check refuses a histogram that is not ascending, distinct and positive.
func (h Histogram) check() error {
	if len(h.Values) != len(h.Counts) {
		return errors.New("histogram values and counts differ in length")
	}
	for i := range h.Values {
		if h.Counts[i] == 0 || (i > 0 && h.Values[i] <= h.Values[i-1]) {
			return errors.New("histogram values are not ascending with positive counts")
		}
		if h.Values[i] > storedLimit || h.Values[i] < -storedLimit {
			return errors.New("histogram value out of range")
		}
	}
	_, err := h.rescale()
	return err
}

// MergeHistograms sums histograms of the same rescale; the result is sorted
// by rescale, so that merging in any order gives the same record.
func MergeHistograms(hs []Histogram) (_ []Histogram, err error) {
	byKey := map[string]map[int64]uint64{}
	dense := map[string]*denseMerge{}
	var keys []string
	heads := map[string]Histogram{}
	for _, h := range hs {
		if err := h.check(); err != nil {
			return nil, err
		}
		r, _ := h.rescale()
		// Canonical text: "1.0" and "1" are one rescale.
		h.Slope, h.Intercept = FormatDecimal(r.slope), FormatDecimal(r.intercept)
		if _, seen := heads[h.key()]; !seen {
			keys = append(keys, h.key())
			heads[h.key()] = h
		}
		if byKey[h.key()] == nil && len(h.Values) > 0 {
			// Summed in a dense table while the values span little (a
			// series of 8/16-bit slices: thousands of files, one table).
			d := dense[h.key()]
			if d == nil {
				d = &denseMerge{lo: h.Values[0], hi: h.Values[len(h.Values)-1]}
				dense[h.key()] = d
			}
			d.lo, d.hi = min(d.lo, h.Values[0]), max(d.hi, h.Values[len(h.Values)-1])
			d.hs = append(d.hs, h)
			if d.hi-d.lo <= denseMergeSpan {
				continue
			}
			// Too wide: a map for this rescale.
			m := map[int64]uint64{}
			for _, e := range d.hs[:len(d.hs)-1] {
				for i, v := range e.Values {
					if m[v]+e.Counts[i] < m[v] {
						return nil, errors.New("histogram counts overflow")
					}
					m[v] += e.Counts[i]
				}
			}
			byKey[h.key()], dense[h.key()] = m, nil
		}
		if byKey[h.key()] == nil {
			continue // no values
		}
		m := byKey[h.key()]
		for i, v := range h.Values {
			c := m[v] + h.Counts[i]
			if c < m[v] {
				return nil, errors.New("histogram counts overflow")
			}
			m[v] = c
		}
	}
	sort.Strings(keys)
	out := make([]Histogram, 0, len(keys))
	for _, k := range keys {
		m := byKey[k]
		h := Histogram{Slope: heads[k].Slope, Intercept: heads[k].Intercept}
		if m == nil {
			h.Values, h.Counts, err = dense[k].merge()
			if err != nil {
				return nil, err
			}
			out = append(out, h)
			continue
		}
		for v := range m {
			h.Values = append(h.Values, v)
		}
		sort.Slice(h.Values, func(i, j int) bool { return h.Values[i] < h.Values[j] })
		for _, v := range h.Values {
			h.Counts = append(h.Counts, m[v])
		}
		out = append(out, h)
	}
	return out, nil
}

// denseMergeSpan bounds the value span merged in a dense table.
const denseMergeSpan = 1 << 20

// denseMerge collects the histograms of one rescale whose values span
// little.
type denseMerge struct {
	lo, hi int64
	hs     []Histogram
}

// merge sums them in one table.
func (d *denseMerge) merge() (values []int64, counts []uint64, err error) {
	if d == nil {
		return nil, nil, nil
	}
	table := make([]uint64, d.hi-d.lo+1)
	for _, h := range d.hs {
		for i, v := range h.Values {
			c := table[v-d.lo] + h.Counts[i]
			if c < table[v-d.lo] {
				return nil, nil, errors.New("histogram counts overflow")
			}
			table[v-d.lo] = c
		}
	}
	for i, c := range table {
		if c != 0 {
			values = append(values, d.lo+int64(i))
			counts = append(counts, c)
		}
	}
	return values, counts, nil
}

// HistogramExtremes returns the least and greatest modality values of the
// histograms; ok is false when they are empty.
func HistogramExtremes(hs []Histogram) (r ValueRange, ok bool, err error) {
	for _, h := range hs {
		if len(h.Values) == 0 {
			continue
		}
		rs, err := h.rescale()
		if err != nil {
			return ValueRange{}, false, err
		}
		lo, hi := rs.modality(h.Values[0]), rs.modality(h.Values[len(h.Values)-1])
		if !ok || lo.Cmp(r.Lo) < 0 {
			r.Lo = lo
		}
		if !ok || hi.Cmp(r.Hi) > 0 {
			r.Hi = hi
		}
		ok = true
	}
	return r, ok, nil
}

// HistogramQuantiles returns [Q(p.Lo), Q(p.Hi)], Q(q) being the modality
// value of rank max(1, ceil(q/100 × N)) among the N samples the histograms
// count (or numpy's linear interpolation, by p.Method); ok is false when
// they count none.
func HistogramQuantiles(hs []Histogram, p Percentiles) (ValueRange, bool, error) {
	sel, err := newSelector(hs)
	if err != nil || sel.total == 0 {
		return ValueRange{}, false, err
	}
	return ValueRange{sel.percentile(p.Lo, p.Method), sel.percentile(p.Hi, p.Method)}, true, nil
}

type selGroup struct {
	r      rescale
	values []int64
	cum    []uint64 // cum[i]: samples of values[:i]
}

type selector struct {
	groups []selGroup
	total  uint64
}

func newSelector(hs []Histogram) (*selector, error) {
	s := &selector{}
	for _, h := range hs {
		if err := h.check(); err != nil {
			return nil, err
		}
		r, _ := h.rescale()
		g := selGroup{r: r, values: h.Values, cum: make([]uint64, len(h.Values)+1)}
		for i, c := range h.Counts {
			g.cum[i+1] = g.cum[i] + c
			if g.cum[i+1] < g.cum[i] {
				return nil, errors.New("histogram counts overflow")
			}
		}
		if s.total+g.cum[len(h.Counts)] < s.total {
			return nil, errors.New("histogram counts overflow")
		}
		s.total += g.cum[len(h.Counts)]
		s.groups = append(s.groups, g)
	}
	return s, nil
}

// rank is max(1, ceil(p/100 × N)).
func (s *selector) rank(p *big.Rat) uint64 {
	x := new(big.Rat).Mul(p, new(big.Rat).SetInt(new(big.Int).SetUint64(s.total)))
	x.Quo(x, big.NewRat(100, 1))
	k := ceilDiv(x.Num(), x.Denom())
	if k.Sign() <= 0 {
		return 1
	}
	return min(k.Uint64(), s.total)
}

// below returns how many of g's values have a modality value <= x
// (strict: < x).
func (g *selGroup) below(x *big.Rat, strict bool) int {
	t := new(big.Rat).Sub(x, g.r.intercept)
	t.Quo(t, g.r.slope)
	var limit *big.Int
	if strict {
		limit = ceilDiv(t.Num(), t.Denom()) // v < t ⟺ v <= ceil(t) − 1
		limit.Sub(limit, big.NewInt(1))
	} else {
		limit = ratFloor(t)
	}
	if limit.Cmp(big.NewInt(storedLimit)) > 0 {
		return len(g.values)
	}
	if limit.Cmp(big.NewInt(-storedLimit)) < 0 {
		return 0
	}
	l := limit.Int64()
	return sort.Search(len(g.values), func(i int) bool { return g.values[i] > l })
}

// at returns the modality value of rank k (1-based) over all groups: the
// least present value x with k samples at or below it. Each round takes
// the weighted median of the groups' median samples as a pivot and drops
// every candidate on one side of it, so rounds are few whatever the number
// of groups (a PET series has one per slice).
func (s *selector) at(k uint64) *big.Rat {
	type window struct{ l, h int } // candidate indices [l, h)
	win := make([]window, len(s.groups))
	for i, g := range s.groups {
		win[i] = window{0, len(g.values)}
	}
	var best *big.Rat
	type cand struct {
		x *big.Rat
		w uint64
	}
	for {
		var cands []cand
		for i, g := range s.groups {
			w := win[i]
			if w.l >= w.h {
				continue
			}
			mid := g.cum[w.l] + (g.cum[w.h]-g.cum[w.l]+1)/2
			j := sort.Search(w.h-w.l, func(j int) bool { return g.cum[w.l+j+1] >= mid }) + w.l
			cands = append(cands, cand{g.r.modality(g.values[j]), g.cum[w.h] - g.cum[w.l]})
		}
		if len(cands) == 0 {
			return best
		}
		sort.SliceStable(cands, func(i, j int) bool { return cands[i].x.Cmp(cands[j].x) < 0 })
		var total, acc uint64
		for _, c := range cands {
			total += c.w
		}
		pivot := cands[len(cands)-1].x
		for _, c := range cands {
			acc += c.w
			if 2*acc >= total {
				pivot = c.x
				break
			}
		}
		var count uint64
		for i := range s.groups {
			count += s.groups[i].cum[s.groups[i].below(pivot, false)]
		}
		if count >= k {
			best = pivot
			for i := range s.groups {
				win[i].h = min(win[i].h, s.groups[i].below(pivot, true))
			}
		} else {
			for i := range s.groups {
				win[i].l = max(win[i].l, s.groups[i].below(pivot, false))
			}
		}
	}
}

// histScanner counts stored values per rescale group, chunk by chunk; each
// worker counts into its own tables. 8/16-bit samples are counted by raw
// value (one increment each); 32-bit ones by value in a map.
type histScanner struct {
	c      sampleCodec
	fr     frameRescales
	pos    *chunkOffsets
	counts [][][]uint64         // [worker][group], by raw value, allocated on first use
	wide   [][]map[int64]uint64 // [worker][group], 32-bit
	// With several rescales (an enhanced PET has one per frame) a table
	// per group and worker would take 512 KiB each: each worker counts the
	// current group in one table and folds it into that group's sparse
	// counts when the group changes.
	cur      [][]uint64
	curGroup []int
	sparse   [][]map[uint32]uint64 // [worker][group], by raw value
}

func newHistScanner(c sampleCodec, fr frameRescales, workers int) *histScanner {
	workers = max(workers, 1)
	s := &histScanner{c: c, fr: fr, pos: newChunkOffsets(workers, fr.chunkLen)}
	s.counts = make([][][]uint64, workers)
	s.wide = make([][]map[int64]uint64, workers)
	s.cur, s.curGroup, s.sparse = make([][]uint64, workers), make([]int, workers), make([][]map[uint32]uint64, workers)
	for w := range workers {
		s.counts[w] = make([][]uint64, len(fr.groups))
		s.wide[w] = make([]map[int64]uint64, len(fr.groups))
		s.curGroup[w] = -1
		s.sparse[w] = make([]map[uint32]uint64, len(fr.groups))
	}
	return s
}

func (s *histScanner) add(w int, p []byte) {
	off := int64(0)
	if !s.fr.single() {
		off = s.pos.take(w)
	}
	s.fr.split(off, p, func(g int, part []byte) { s.addGroup(w, g, part) })
}

func (s *histScanner) addGroup(w, g int, p []byte) {
	c := s.c
	if !c.tabled() {
		m := s.wide[w][g]
		if m == nil {
			m = map[int64]uint64{}
			s.wide[w][g] = m
		}
		for i := 0; i < len(p)/4; i++ {
			m[c.value(c.raw(p, i))]++
		}
		return
	}
	var t []uint64
	if s.fr.single() {
		if t = s.counts[w][g]; t == nil {
			t = countTables.Get().(*[1 << 16]uint64)[:]
			clear(t)
			s.counts[w][g] = t
		}
	} else {
		if s.curGroup[w] != g {
			s.flush(w)
			s.curGroup[w] = g
		}
		if t = s.cur[w]; t == nil {
			t = countTables.Get().(*[1 << 16]uint64)[:]
			clear(t)
			s.cur[w] = t
		}
	}
	h := (*[1 << 16]uint64)(t)
	if c.bytes == 1 {
		for _, b := range p {
			h[b]++
		}
		return
	}
	// Increments of one counter wait for each other, and images hold long
	// runs of one value (air, background, padding): a word of four equal
	// samples is counted as a run.
	i := 0
	if c.big {
		for ; i+8 <= len(p); i += 8 {
			x := binary.BigEndian.Uint64(p[i:])
			if x == uint64(uint16(x))*0x0001000100010001 {
				h[uint16(x)] += 4
				continue
			}
			h[uint16(x>>48)]++
			h[uint16(x>>32)]++
			h[uint16(x>>16)]++
			h[uint16(x)]++
		}
		for ; i+2 <= len(p); i += 2 {
			h[binary.BigEndian.Uint16(p[i:])]++
		}
		return
	}
	for ; i+8 <= len(p); i += 8 {
		x := binary.LittleEndian.Uint64(p[i:])
		if x == uint64(uint16(x))*0x0001000100010001 {
			h[uint16(x)] += 4
			continue
		}
		h[uint16(x)]++
		h[uint16(x>>16)]++
		h[uint16(x>>32)]++
		h[uint16(x>>48)]++
	}
	for ; i+2 <= len(p); i += 2 {
		h[binary.LittleEndian.Uint16(p[i:])]++
	}
}

// flush folds worker w's current table into its group's sparse counts.
func (s *histScanner) flush(w int) {
	g, t := s.curGroup[w], s.cur[w]
	if g < 0 || t == nil {
		return
	}
	m := s.sparse[w][g]
	if m == nil {
		m = map[uint32]uint64{}
		s.sparse[w][g] = m
	}
	for raw, n := range t {
		if n != 0 {
			m[uint32(raw)] += n
		}
	}
	clear(t)
}

// nonzeroIndexes appends the indexes of dense's nonzero entries in
// [from, to) to idx, skipping four zero words at a time.
func nonzeroIndexes(idx []uint32, dense []uint64, from, to uint32) []uint32 {
	i := from
	for ; i+4 <= to; i += 4 {
		if dense[i]|dense[i+1]|dense[i+2]|dense[i+3] == 0 {
			continue
		}
		for j := i; j < i+4; j++ {
			if dense[j] != 0 {
				idx = append(idx, j)
			}
		}
	}
	for ; i < to; i++ {
		if dense[i] != 0 {
			idx = append(idx, i)
		}
	}
	return idx
}

// indexBuffers recycles nonzeroIndexes' buffers: one per file of a series.
var indexBuffers = sync.Pool{New: func() any { return new([]uint32) }}

// countTables recycles the count tables of histScanner, as seenTables do
// for rangeScanner: a series makes one per file.
var countTables = sync.Pool{New: func() any { return new([1 << 16]uint64) }}

// release hands the scanner's tables back; it is not used after.
func (s *histScanner) release() {
	for w := range s.counts {
		for g, t := range s.counts[w] {
			if t != nil {
				countTables.Put((*[1 << 16]uint64)(t))
				s.counts[w][g] = nil
			}
		}
		if s.cur[w] != nil {
			countTables.Put((*[1 << 16]uint64)(s.cur[w]))
			s.cur[w] = nil
		}
	}
}

// result returns one histogram per group that has samples, padding left
// out, and whether any sample was padding.
func (s *histScanner) result(pad *paddingRange) (hs []Histogram, rs []rescale, anyPadding bool) {
	for w := range s.cur {
		s.flush(w)
	}
	var scratch []uint64
	for g, r := range s.fr.groups {
		h := Histogram{Slope: FormatDecimal(r.slope), Intercept: FormatDecimal(r.intercept)}
		emit := func(v int64, n uint64) {
			if n == 0 {
				return
			}
			if pad.contains(v) {
				anyPadding = true
				return
			}
			h.Values = append(h.Values, v)
			h.Counts = append(h.Counts, n)
		}
		if s.c.tabled() {
			// Raw values that differ only above BitsStored are one value.
			var dense []uint64
			if t := s.counts[0][g]; len(s.counts) == 1 && t != nil && s.c.mask == 1<<(8*s.c.bytes)-1 {
				dense = t[:s.c.mask+1] // one worker, every bit stored: as counted
			} else {
				if scratch == nil {
					scratch = make([]uint64, s.c.mask+1)
				}
				dense = scratch // one buffer for every group
				clear(dense)
				for w := range s.counts {
					for raw, n := range s.counts[w][g] {
						dense[uint32(raw)&s.c.mask] += n
					}
					for raw, n := range s.sparse[w][g] {
						dense[raw&s.c.mask] += n
					}
				}
			}
			// The nonzero entries, found a few words at a time (most of a
			// 16-bit table is zero), then slices of exactly their number
			// (a series makes one histogram a file).
			lo, _ := s.c.valueBounds()
			buf := indexBuffers.Get().(*[]uint32)
			idx := (*buf)[:0]
			var split int // idx[:split] are the negatives, above the sign bit
			if s.c.signed {
				idx = nonzeroIndexes(idx, dense, s.c.sign, s.c.mask+1)
				split = len(idx)
				idx = nonzeroIndexes(idx, dense, 0, s.c.sign)
			} else {
				idx = nonzeroIndexes(idx, dense, 0, uint32(len(dense)))
			}
			h.Values, h.Counts = make([]int64, 0, len(idx)), make([]uint64, 0, len(idx))
			for j, i := range idx {
				v := int64(i)
				if j < split {
					v = lo + int64(i-s.c.sign)
				}
				emit(v, dense[i])
			}
			*buf = idx
			indexBuffers.Put(buf)
		} else {
			byValue := map[int64]uint64{}
			for w := range s.wide {
				for v, n := range s.wide[w][g] {
					byValue[v] += n
				}
			}
			var values []int64
			for v := range byValue {
				values = append(values, v)
			}
			sort.Slice(values, func(i, j int) bool { return values[i] < values[j] })
			for _, v := range values {
				emit(v, byValue[v])
			}
		}
		if len(h.Values) == 0 {
			continue
		}
		hs = append(hs, h)
		rs = append(rs, r)
	}
	return hs, rs, anyPadding
}

// maskBelow drops the samples whose modality value is below t.
func maskBelow(hs []Histogram, t *big.Rat) []Histogram {
	var out []Histogram
	for _, h := range hs {
		r, err := h.rescale()
		if err != nil {
			continue
		}
		g := selGroup{r: r, values: h.Values}
		i := g.below(t, true)
		h.Values, h.Counts = h.Values[i:], h.Counts[i:]
		if len(h.Values) > 0 {
			out = append(out, h)
		}
	}
	return out
}
