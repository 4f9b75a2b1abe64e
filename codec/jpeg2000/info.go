package jpeg2000

import (
	"encoding/binary"

	"github.com/dicom-remap/dicom-remap/codec"
)

// Progression orders, as Info reports them (T.800 table A.16).
const (
	LRCP = orderLRCP
	RLCP = orderRLCP
	RPCL = orderRPCL
	PCRL = orderPCRL
	CPRL = orderCPRL
)

// Info is what a codestream's main header declares, for the rules a DICOM
// transfer syntax adds to the codestream's own.
type Info struct {
	Width, Height int
	// HT: the codestream has the Part 15 capability (Rsiz, CAP) or HT
	// code-blocks in a COD or COC.
	HT bool
	// Irreversible: some component uses the 9/7 wavelet.
	Irreversible bool
	// Order is the main header's progression order; POC says that it
	// changes.
	Order int
	POC   bool
	// TLM: the main header has tile-part lengths.
	TLM bool
	// Levels is the fewest decomposition levels of any component.
	Levels int
}

// Inspect reads the main header of a frame (a codestream or JP2 file).
func Inspect(src []byte) (Info, error) {
	cs, err := codestream(src)
	if err != nil {
		return Info{}, err
	}
	var in Info
	var p params
	var im image
	p2 := 2
	sawSIZ := false
	for {
		if p2+4 > len(cs) || cs[p2] != 0xff {
			return Info{}, errorf("main header ends early")
		}
		m := cs[p2+1]
		if m == mSOT {
			break
		}
		n := int(binary.BigEndian.Uint16(cs[p2+2:]))
		if n < 2 || p2+2+n > len(cs) {
			return Info{}, errorf("marker segment of length %d overruns the data", n)
		}
		seg := cs[p2+4 : p2+2+n]
		p2 += 2 + n
		switch m {
		case mSIZ:
			if len(seg) < 38 {
				return Info{}, errorf("truncated SIZ marker")
			}
			sawSIZ = true
			in.HT = in.HT || binary.BigEndian.Uint16(seg)&0x4000 != 0
			u := func(i int) int { return int(binary.BigEndian.Uint32(seg[2+4*i:])) }
			in.Width, in.Height = u(0)-u(2), u(1)-u(3)
			im.ncomp = min(int(binary.BigEndian.Uint16(seg[34:])), maxComps)
		case mCAP:
			in.HT = true
		case mTLM:
			in.TLM = true
		case mPOC:
			in.POC = true
		case mCOD, mCOC:
			if !sawSIZ {
				return Info{}, errorf("first marker 0x%02x is not SIZ", m)
			}
			if err := p.apply(m, seg, &im, true); err != nil {
				return Info{}, err
			}
		}
	}
	if !sawSIZ || !p.codSeen {
		return Info{}, errorf("main header without SIZ or COD: %w", codec.ErrUnsupported)
	}
	in.Order = p.order
	in.Levels = 32
	for c := range im.ncomp {
		cs := &p.comp[c]
		in.Irreversible = in.Irreversible || !cs.reversible
		in.HT = in.HT || cs.cbStyle&styleHT != 0
		in.Levels = min(in.Levels, cs.levels)
	}
	return in, nil
}

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
