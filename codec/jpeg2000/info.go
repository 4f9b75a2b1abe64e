package jpeg2000

import "encoding/binary"

// Irreversible reports whether a codestream (or JP2 file) codes some
// component with the irreversible 9/7 wavelet, in its main header or in a
// tile-part header: such a stream is lossy whatever its rate, which the
// .91 transfer syntax does not say by itself. It reads marker segments
// only.
func Irreversible(src []byte) (bool, error) {
	cs, err := codestream(src)
	if err != nil {
		return false, err
	}
	ncomp := 0
	// the wavelet byte of SPcod/SPcoc lies 4 bytes into it
	wavelet := func(m byte, seg []byte) bool {
		switch m {
		case mSIZ:
			if len(seg) >= 36 {
				ncomp = int(binary.BigEndian.Uint16(seg[34:]))
			}
		case mCOD:
			return len(seg) > 9 && seg[9] == 0
		case mCOC:
			at := 2 // component index and Scoc
			if ncomp > 256 {
				at = 3
			}
			return len(seg) > at+4 && seg[at+4] == 0
		}
		return false
	}
	p := 2
	for p+4 <= len(cs) && cs[p] == 0xff {
		m := cs[p+1]
		n := int(binary.BigEndian.Uint16(cs[p+2:]))
		if m == mSOT {
			// the tile-part header, then skip its data by Psot
			psot := 0
			if n == 10 && p+12 <= len(cs) {
				psot = int(binary.BigEndian.Uint32(cs[p+6:]))
			}
			q := p + 12
			for q+4 <= len(cs) && cs[q] == 0xff && cs[q+1] != mSOD {
				l := int(binary.BigEndian.Uint16(cs[q+2:]))
				if l < 2 || q+2+l > len(cs) {
					break
				}
				if wavelet(cs[q+1], cs[q+4:q+2+l]) {
					return true, nil
				}
				q += 2 + l
			}
			if psot < 14 {
				break
			}
			p += psot
			continue
		}
		if n < 2 || p+2+n > len(cs) {
			break
		}
		if wavelet(m, cs[p+4:p+2+n]) {
			return true, nil
		}
		p += 2 + n
	}
	return false, nil
}
