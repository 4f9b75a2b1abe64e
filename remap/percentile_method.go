package remap

import (
	"errors"
	"math/big"
)

// PercentileMethod is how a percentile is read from the ascending samples
// x_0 ≤ … ≤ x_(N−1).
type PercentileMethod int

const (
	// NearestRank: Q(p) is the sample of rank max(1, ⌈p/100 × N⌉), always
	// a value that occurs. The default, and what earlier versions did.
	NearestRank PercentileMethod = iota
	// Linear is numpy's default (numpy.percentile(…, method="linear"),
	// what TorchIO, MONAI and nnU-Net call): h = (N−1)·p/100 and
	// Q(p) = x_⌊h⌋ + (h − ⌊h⌋)(x_(⌊h⌋+1) − x_⌊h⌋), exact.
	Linear
)

// String is the name the command line and the range records use.
func (m PercentileMethod) String() string {
	if m == Linear {
		return "linear"
	}
	return "nearest-rank"
}

// ParsePercentileMethod reads "linear" or "nearest-rank".
func ParsePercentileMethod(s string) (PercentileMethod, error) {
	switch s {
	case "nearest-rank":
		return NearestRank, nil
	case "linear":
		return Linear, nil
	}
	return NearestRank, errors.New(quote(s) + " is not linear or nearest-rank")
}

// describe names the method in a derivation description: nothing for the
// default, so that earlier outputs keep their words and UIDs.
func (m PercentileMethod) describe() string {
	if m == Linear {
		return " (linear interpolation between ranks, numpy's default)"
	}
	return ""
}

// HistogramPercentiles returns Q(p) for each p (0 ≤ p ≤ 100) among the
// samples the histograms count, by method; ok is false when they count
// none.
func HistogramPercentiles(hs []Histogram, ps []*big.Rat, method PercentileMethod) ([]*big.Rat, bool, error) {
	sel, err := newSelector(hs)
	if err != nil || sel.total == 0 {
		return nil, false, err
	}
	out := make([]*big.Rat, len(ps))
	for i, p := range ps {
		out[i] = sel.percentile(p, method)
	}
	return out, true, nil
}

// percentile is Q(p) by method; s counts at least one sample.
func (s *selector) percentile(p *big.Rat, method PercentileMethod) *big.Rat {
	if method != Linear {
		return s.at(s.rank(p))
	}
	// h = (N − 1)·p/100; ranks are 1-based, so x_⌊h⌋ has rank ⌊h⌋ + 1.
	h := new(big.Rat).Mul(p, new(big.Rat).SetInt(new(big.Int).SetUint64(s.total-1)))
	h.Quo(h, big.NewRat(100, 1))
	j := ratFloor(h)
	frac := new(big.Rat).Sub(h, new(big.Rat).SetInt(j))
	k := j.Uint64() + 1
	lo := s.at(k)
	if frac.Sign() == 0 || k >= s.total {
		return lo
	}
	d := new(big.Rat).Sub(s.at(k+1), lo)
	return d.Add(d.Mul(d, frac), lo)
}
