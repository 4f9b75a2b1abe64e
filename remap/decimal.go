package remap

import (
	"errors"
	"math/big"
	"strings"
)

// Modality values are exact: the header's decimal strings (Rescale Slope
// and Intercept are DS) are read as rationals, never as floats, so that
// 1.2E-05 and 0.00123456789012 mean exactly what they say and every machine
// computes the same map.

// maxDecimalLen and maxDecimalExp bound what ParseDecimal accepts: a DS is
// at most 16 characters, and an exponent of a billion would make every
// later product huge (a header or a range file can say anything).
const (
	maxDecimalLen = 64
	maxDecimalExp = 350
)

var errDecimal = errors.New("not a decimal number")

// ParseDecimal reads s, a decimal number such as -1024, 12.5, .5 or 1.2E-05
// (surrounding spaces allowed, as in DS), as an exact rational.
func ParseDecimal(s string) (*big.Rat, error) {
	s = strings.TrimSpace(strings.TrimRight(s, "\x00"))
	if s == "" || len(s) > maxDecimalLen {
		return nil, errDecimal
	}
	i := 0
	neg := false
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		i++
	}
	var digits []byte
	frac, seenDigit, seenPoint := 0, false, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
			seenDigit = true
			if seenPoint {
				frac++
			}
		case c == '.' && !seenPoint:
			seenPoint = true
		default:
			goto exponent
		}
	}
exponent:
	if !seenDigit {
		return nil, errDecimal
	}
	exp := 0
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' {
			return nil, errDecimal
		}
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		if i == len(s) {
			return nil, errDecimal
		}
		for ; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return nil, errDecimal
			}
			exp = exp*10 + int(c-'0')
			if exp > 10*maxDecimalExp {
				return nil, errDecimal
			}
		}
		if eneg {
			exp = -exp
		}
	}
	exp -= frac
	if exp > maxDecimalExp || exp < -maxDecimalExp-maxDecimalLen {
		return nil, errDecimal
	}
	n, _ := new(big.Int).SetString(string(digits), 10)
	if neg {
		n.Neg(n)
	}
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(exp))), nil)
	r := new(big.Rat)
	if exp >= 0 {
		return r.SetInt(n.Mul(n, p)), nil
	}
	return r.SetFrac(n, p), nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// FormatDecimal writes r as an exact decimal without exponent or trailing
// zeros: -1024, 12.5, 0.000012. Every modality value is such a decimal
// (sums and products of decimals); any other rational would be a bug, and
// is written as a fraction rather than rounded.
func FormatDecimal(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	d := new(big.Int).Set(r.Denom())
	twos, fives := 0, 0
	two, five := big.NewInt(2), big.NewInt(5)
	q, m := new(big.Int), new(big.Int)
	for {
		q.QuoRem(d, two, m)
		if m.Sign() != 0 {
			break
		}
		d.Set(q)
		twos++
	}
	for {
		q.QuoRem(d, five, m)
		if m.Sign() != 0 {
			break
		}
		d.Set(q)
		fives++
	}
	if d.Cmp(big.NewInt(1)) != 0 {
		return r.RatString()
	}
	k := max(twos, fives)
	scaled := new(big.Int).Mul(r.Num(), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(k)), nil))
	scaled.Quo(scaled, r.Denom())
	neg := scaled.Sign() < 0
	digits := scaled.Abs(scaled).String()
	if len(digits) <= k {
		digits = strings.Repeat("0", k-len(digits)+1) + digits
	}
	s := digits[:len(digits)-k] + "." + strings.TrimRight(digits[len(digits)-k:], "0")
	s = strings.TrimSuffix(s, ".")
	if neg {
		s = "-" + s
	}
	return s
}

// ValueRange is an inclusive range of modality values, exact.
type ValueRange struct{ Lo, Hi *big.Rat }

// IntRange is the range [lo, hi] of integers.
func IntRange(lo, hi int64) ValueRange {
	return ValueRange{big.NewRat(lo, 1), big.NewRat(hi, 1)}
}

// String is "[lo, hi]" in exact decimals.
func (r ValueRange) String() string {
	return "[" + FormatDecimal(r.Lo) + ", " + FormatDecimal(r.Hi) + "]"
}

// Percentiles is a robust source range: [Q(Lo), Q(Hi)], Q(p) being the
// sample of rank max(1, ceil(p/100 × N)) in ascending order, or numpy's
// linear interpolation (Method).
type Percentiles struct {
	Lo, Hi *big.Rat
	Method PercentileMethod
}

// ParsePercentiles reads PLO:PHI, two decimals with 0 <= PLO < PHI <= 100.
func ParsePercentiles(s string) (Percentiles, error) {
	lo, hi, ok := strings.Cut(s, ":")
	if !ok {
		return Percentiles{}, errors.New("not PLO:PHI")
	}
	var p Percentiles
	var err error
	if p.Lo, err = ParseDecimal(lo); err != nil || strings.TrimSpace(lo) != lo {
		return Percentiles{}, errors.New(quote(lo) + " is not a number")
	}
	if p.Hi, err = ParseDecimal(hi); err != nil || strings.TrimSpace(hi) != hi {
		return Percentiles{}, errors.New(quote(hi) + " is not a number")
	}
	hundred := big.NewRat(100, 1)
	if p.Lo.Sign() < 0 || p.Hi.Cmp(hundred) > 0 {
		return Percentiles{}, errors.New("percentiles lie in [0, 100]")
	}
	if p.Lo.Cmp(p.Hi) >= 0 {
		return Percentiles{}, errors.New(FormatDecimal(p.Lo) + " is not below " + FormatDecimal(p.Hi))
	}
	return p, nil
}

func quote(s string) string { return `"` + s + `"` }

// extremes reports whether p is 0:100, the extremes: the default.
func (p *Percentiles) extremes() bool {
	return p == nil || (p.Lo.Sign() == 0 && p.Hi.Cmp(big.NewRat(100, 1)) == 0)
}

// String is "PLO:PHI" in exact decimals.
func (p Percentiles) String() string { return FormatDecimal(p.Lo) + ":" + FormatDecimal(p.Hi) }
