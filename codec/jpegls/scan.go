package jpegls

import "math/bits"

// regularContext holds the statistics of one regular-mode context (T.87
// A.2.2): A, B, C and N. A and B are ints because A can pass 2^31 with a
// large RESET.
type regularContext struct{ a, b, c, n int }

// runContext holds the statistics of a run interruption context (T.87
// A.7.2): A, N and Nn. Its index in scan.run is its RItype.
type runContext struct{ a, n, nn int }

// runJ is the J table of T.87 A.7.1.1: a run segment is 1<<runJ[RUNindex].
var runJ = [32]int{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15}

// scan decodes one scan into the frame.
type scan struct {
	params
	r        bitReader
	quant    []int8
	ctx      *[365]regularContext
	run      *[2]runContext
	runIndex int

	dst                       []byte
	cols, rows, stride, bytes int   // frame shape: stride samples per pixel of bytes each
	comps                     []int // frame index of each component of the scan
	lines                     []int32
	restart                   int
}

// initContexts puts the contexts in their initial state (T.87 A.2.1), as at the
// start of a scan and after a restart marker.
func (s *scan) initContexts() {
	a := max(2, (s.rng+32)/64)
	for i := range s.ctx {
		s.ctx[i] = regularContext{a: a, n: 1}
	}
	s.run[0] = runContext{a: a, n: 1}
	s.run[1] = runContext{a: a, n: 1}
	s.runIndex = 0
	clear(s.lines)
}

// line returns component i's previous and current line for image line y:
// cols+2 samples each, index 0 and cols+1 being the edges.
func (s *scan) line(i, y int) (prev, cur []int32) {
	w := s.cols + 2
	a := s.lines[2*i*w : (2*i+1)*w]
	b := s.lines[(2*i+1)*w : (2*i+2)*w]
	if y&1 == 1 {
		return b, a
	}
	return a, b
}

// restartMarker reads the RSTm marker expected after interval number
// count and restarts decoding after it.
func (s *scan) restartMarker(src []byte, count int) error {
	p := s.r.markerOffset()
	code, next, err := nextMarker(src, p)
	if err != nil {
		return err
	}
	if int(code) != markerRST0+count%8 {
		return errorf("expected restart marker %d, found 0x%02x", count%8, code)
	}
	s.r.reset(src, next)
	s.initContexts()
	return nil
}

// decodeLineInterleaved decodes a scan of one component, or of several
// with line interleave (ILV 1): each line of each component in turn.
func (s *scan) decodeLineInterleaved(src []byte, p int) error {
	s.r.reset(src, p)
	s.initContexts()
	var runIndex [3]int
	for y := range s.rows {
		if s.restart > 0 && y > 0 && y%s.restart == 0 {
			if err := s.restartMarker(src, y/s.restart-1); err != nil {
				return err
			}
			runIndex = [3]int{}
		}
		for i, c := range s.comps {
			prev, cur := s.line(i, y)
			prev[s.cols+1] = prev[s.cols]
			cur[0] = prev[1]
			s.runIndex = runIndex[i]
			if err := s.decodeLine(prev, cur); err != nil {
				return err
			}
			runIndex[i] = s.runIndex
			s.store(cur[1:s.cols+1], y, c)
		}
		if s.r.truncated() {
			return errorf("truncated scan data")
		}
	}
	return nil
}

// store writes line y of frame component c.
func (s *scan) store(line []int32, y, c int) {
	at := (y*s.cols*s.stride + c) * s.bytes
	step := s.stride * s.bytes
	dst := s.dst[at:]
	switch s.bytes {
	case 1:
		for x, v := range line {
			dst[x*step] = byte(v)
		}
	case 2:
		for x, v := range line {
			o := x * step
			dst[o] = byte(v)
			dst[o+1] = byte(v >> 8)
		}
	default:
		for x, v := range line {
			o := x * step
			dst[o] = byte(v)
			dst[o+1] = byte(v >> 8)
			dst[o+2] = 0
			dst[o+3] = 0
		}
	}
}

// decodeLine decodes one line of one component: cur[1:cols+1] from the
// line above, prev, with the edges set as T.87 A.2.1 and A.3.1 want.
func (s *scan) decodeLine(prev, cur []int32) error {
	w := s.cols
	_ = prev[w+1]
	_ = cur[w+1]
	q := s.quant
	off := s.maxval
	ctx := s.ctx
	r := &s.r
	maxval, near, step, reset, escape := s.maxval, s.near, s.step, s.reset, s.escape
	rb, rd := int(prev[0]), int(prev[1])
	for x := 1; x <= w; {
		ra := int(cur[x-1])
		rc := rb
		rb = rd
		rd = int(prev[x+1])
		qs := (int(q[rd-rb+off])*9+int(q[rb-rc+off]))*9 + int(q[rc-ra+off])
		if qs != 0 {
			// regular, inlined by hand: this is the hot loop.
			sign := qs >> 63
			c := &ctx[(qs^sign)-sign]
			px := min(max(predict(ra, rb, rc)+(c.c^sign)-sign, 0), maxval)
			k := golombK(c.n, c.a)
			var m int
			if q := bits.LeadingZeros64(r.acc); q+1+k <= r.n && q < escape {
				acc := r.acc << (q + 1)
				m = q<<k | int(acc>>(64-k))
				r.acc = acc << k
				r.n -= q + 1 + k
			} else if m = r.golomb(k, s.limit, s.qbpp); m < 0 {
				return errorf("invalid code in regular mode")
			}
			if m > s.maxMapped {
				return errorf("invalid code in regular mode")
			}
			e := m>>1 ^ -(m & 1)
			if k == 0 && near == 0 && 2*c.b+c.n-1 < 0 {
				e = ^e
			}
			c.update(e, step, reset)
			cur[x] = int32(s.reconstruct(px, (e^sign)-sign))
			x++
			continue
		}
		n, err := s.runMode(prev, cur, x)
		if err != nil {
			return err
		}
		x += n
		rb, rd = int(prev[x-1]), int(prev[x])
	}
	return nil
}

// predict is the median edge detector of T.87 A.4.1: the median of ra,
// rb and ra+rb-rc, written with min and max so that it has no branches.
func predict(ra, rb, rc int) int {
	return min(max(ra+rb-rc, min(ra, rb)), max(ra, rb))
}

// regular decodes one sample in regular mode (T.87 A.4 to A.6) in
// context qs (-364..364, not 0 unless sample interleaved) from
// prediction px.
func (s *scan) regular(qs, px int) (int, bool) {
	sign := qs >> 63 // -1 when the context's sign is negative
	c := &s.ctx[(qs^sign)-sign]
	px = min(max(px+(c.c^sign)-sign, 0), s.maxval)
	k := golombK(c.n, c.a)
	// The usual short code is read here; long ones, escapes and refills
	// in golomb.
	var m int
	r := &s.r
	if q := bits.LeadingZeros64(r.acc); q+1+k <= r.n && q < s.escape {
		acc := r.acc << (q + 1)
		m = q<<k | int(acc>>(64-k))
		r.acc = acc << k
		r.n -= q + 1 + k
	} else {
		m = r.golomb(k, s.limit, s.qbpp)
	}
	if m < 0 || m > s.maxMapped {
		return 0, false
	}
	e := m>>1 ^ -(m & 1) // T.87 A.5.2 inverted: even m is e >= 0
	if k == 0 && s.near == 0 && 2*c.b+c.n-1 < 0 {
		e = ^e // A.5.2's special mapping
	}
	c.update(e, s.step, s.reset)
	return s.reconstruct(px, (e^sign)-sign), true
}

// update updates the context after error e (T.87 A.6.1) and corrects
// its bias (A.6.2).
func (c *regularContext) update(e, step, reset int) {
	c.b += e * step
	c.a += (e ^ e>>63) - e>>63 // |e|
	if c.n == reset {
		c.a >>= 1
		c.b >>= 1 // rounds towards minus infinity, as A.6.1's -((1-B)>>1) does
		c.n >>= 1
	}
	c.n++
	if c.b <= -c.n {
		c.b += c.n
		if c.c > -128 {
			c.c--
		}
		if c.b <= -c.n {
			c.b = -c.n + 1
		}
	} else if c.b > 0 {
		c.b -= c.n
		if c.c < 127 {
			c.c++
		}
		if c.b > 0 {
			c.b = 0
		}
	}
}

// golombK is the least k with n<<k >= a (T.87 A.5.1), for n, a >= 1: a
// shift of n to a's bit length, or one more.
func golombK(n, a int) int {
	k := bits.Len(uint(a)) - bits.Len(uint(n))
	if k < 0 {
		return 0
	}
	if n<<k < a {
		k++
	}
	return k
}

// reconstruct is Rx from prediction px and quantised error e, with the
// modular reduction and clamping of T.87 A.4.5 and A.6 for decoders.
func (s *scan) reconstruct(px, e int) int {
	rx := px + e*s.step
	if rx < -s.near {
		rx += s.wrap
	} else if rx > s.maxval+s.near {
		rx -= s.wrap
	}
	if rx < 0 {
		return 0
	}
	if rx > s.maxval {
		return s.maxval
	}
	return rx
}

// runLength decodes the length of a run (T.87 A.7.1.2, as a decoder
// reads it) that may cover at most left samples.
func (s *scan) runLength(left int) (int, error) {
	n := 0
	for s.r.bit() == 1 {
		seg := 1 << runJ[s.runIndex]
		got := min(seg, left-n)
		n += got
		if got == seg && s.runIndex < 31 {
			s.runIndex++
		}
		if n == left {
			return n, nil // the run reaches the end of the line
		}
	}
	// A 0 ends a run that stops within its segment; J bits say where.
	n += s.r.read(runJ[s.runIndex])
	if n > left {
		return 0, errorf("run of %d samples overruns a line of %d", n, left)
	}
	return n, nil
}

// runMode decodes a run and the sample that interrupts it, from cur[x]
// on, and returns the number of samples decoded.
func (s *scan) runMode(prev, cur []int32, x int) (int, error) {
	ra := cur[x-1]
	n, err := s.runLength(s.cols + 1 - x)
	if err != nil {
		return 0, err
	}
	run := cur[x : x+n]
	for i := range run {
		run[i] = ra
	}
	x += n
	if x > s.cols {
		return n, nil
	}
	v, ok := s.interruption(int(ra), int(prev[x]))
	if !ok {
		return 0, errorf("invalid code in run interruption")
	}
	cur[x] = int32(v)
	if s.runIndex > 0 {
		s.runIndex--
	}
	return n + 1, nil
}

// interruption decodes the sample that ends a run (T.87 A.7.2) of one
// component, from its neighbours ra and rb.
func (s *scan) interruption(ra, rb int) (int, bool) {
	if ra-rb <= s.near && rb-ra <= s.near {
		e, ok := s.interruptionError(1)
		return s.reconstruct(ra, e), ok
	}
	e, ok := s.interruptionError(0)
	if rb < ra {
		e = -e
	}
	return s.reconstruct(rb, e), ok
}

// interruptionError decodes the error of a run interruption sample of
// type ritype and updates its context (T.87 A.7.2.2 inverted, A.7.2.3).
func (s *scan) interruptionError(ritype int) (int, bool) {
	c := &s.run[ritype]
	temp := c.a + c.n>>1*ritype
	k := golombK(c.n, temp)
	m := s.r.golomb(k, s.limit-runJ[s.runIndex]-1, s.qbpp)
	if m < 0 || m > s.maxMapped {
		return 0, false
	}
	t := m + ritype
	mapped := t & 1
	e := (t + mapped) >> 1
	if (k != 0 || 2*c.nn >= c.n) == (mapped == 1) {
		e = -e
	}
	if e < 0 {
		c.nn++
	}
	c.a += (m + 1 - ritype) >> 1
	if c.n == s.reset {
		c.a >>= 1
		c.n >>= 1
		c.nn >>= 1
	}
	c.n++
	return e, true
}
