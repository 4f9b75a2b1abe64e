package jpegls

// decodeSampleInterleaved decodes a scan of several components with
// sample interleave (ILV 2): pixel by pixel, each component in its own
// line buffers but all sharing the contexts and one run index.
func (s *scan) decodeSampleInterleaved(src []byte, p int) error {
	s.r.reset(src, p)
	s.initContexts()
	ns := len(s.comps)
	var prev, cur [3][]int32
	for y := range s.rows {
		if s.restart > 0 && y > 0 && y%s.restart == 0 {
			if err := s.restartMarker(src, y/s.restart-1); err != nil {
				return err
			}
		}
		for i := range ns {
			prev[i], cur[i] = s.line(i, y)
			prev[i][s.cols+1] = prev[i][s.cols]
			cur[i][0] = prev[i][1]
		}
		if err := s.decodePixels(prev[:ns], cur[:ns]); err != nil {
			return err
		}
		for i, c := range s.comps {
			s.store(cur[i][1:s.cols+1], y, c)
		}
		if s.r.truncated() {
			return errorf("truncated scan data")
		}
	}
	return nil
}

// decodePixels decodes one line of sample-interleaved pixels. A pixel is
// in run mode only when every component's gradients are all zero; a run
// interruption codes each component against the sample above it, with
// RItype 0, as CharLS does.
func (s *scan) decodePixels(prev, cur [][]int32) error {
	q := s.quant
	off := s.maxval
	var qs, px [3]int
	for x := 1; x <= s.cols; {
		zero := true
		for i := range prev {
			ra, rb, rc, rd := int(cur[i][x-1]), int(prev[i][x]), int(prev[i][x-1]), int(prev[i][x+1])
			qs[i] = (int(q[rd-rb+off])*9+int(q[rb-rc+off]))*9 + int(q[rc-ra+off])
			if qs[i] != 0 {
				zero = false
			}
			px[i] = predict(ra, rb, rc)
		}
		if !zero {
			for i := range prev {
				v, ok := s.regular(qs[i], px[i])
				if !ok {
					return errorf("invalid code in regular mode")
				}
				cur[i][x] = int32(v)
			}
			x++
			continue
		}
		n, err := s.runLength(s.cols + 1 - x)
		if err != nil {
			return err
		}
		for i := range prev {
			run := cur[i][x : x+n]
			for j := range run {
				run[j] = cur[i][x-1]
			}
		}
		x += n
		if x > s.cols {
			break
		}
		for i := range prev {
			ra, rb := int(cur[i][x-1]), int(prev[i][x])
			e, ok := s.interruptionError(0)
			if !ok {
				return errorf("invalid code in run interruption")
			}
			if rb < ra {
				e = -e
			}
			cur[i][x] = int32(s.reconstruct(rb, e))
		}
		if s.runIndex > 0 {
			s.runIndex--
		}
		x++
	}
	return nil
}
