package jpeg2000

import (
	"encoding/binary"
	"errors"

	"github.com/dicom-remap/dicom-remap/codec"
	"github.com/dicom-remap/dicom-remap/codec/jpeg2000/htj2k"
)

// HTJ2K (T.814 | ISO/IEC 15444-15) keeps Part 1's codestream; what differs
// is read here: the CAP marker, HT code-block segments in packet headers,
// and the code-blocks themselves, which package htj2k decodes.

const (
	styleHT    = 0x40 // SPcod code-block style: HT code-blocks
	styleMixed = 0x80 // with styleHT: HT or Part 1 code-blocks, per block

	pcapPart15 = 1 << (32 - 15) // CAP Pcap bit 15: Part 15

)

// readCAP checks the CAP marker: only Part 15's capabilities are known.
func readCAP(seg []byte) error {
	if len(seg) < 4 {
		return errorf("truncated CAP marker")
	}
	pcap := binary.BigEndian.Uint32(seg)
	if pcap&^pcapPart15 != 0 {
		return errorf("CAP marker for capabilities 0x%08x beyond Part 15: %w", pcap, codec.ErrUnsupported)
	}
	if pcap == 0 || len(seg) != 6 {
		return errorf("CAP marker of %d bytes for capabilities 0x%08x", len(seg), pcap)
	}
	return nil
}

// htSegMax is how many passes an HT code-block's next codeword segment
// holds, which sets how many bits its length takes in the packet header
// (Part 15 keeps Part 1's rule: Lblock plus log2 of the segment's passes).
// The first holds the cleanup pass and the placeholder passes of the HT
// sets before it: all passes of the block's first contribution but the
// one or two refinement passes after the cleanup pass, as OpenJPH reads
// them. Then refinement segments of up to two passes (SigProp, MagRef) and
// cleanup segments of one alternate.
func htSegMax(seg int32, n int) int32 {
	switch {
	case seg < 0:
		return int32(3*((n-1)/3) + 1)
	case seg%2 == 0:
		return 2
	}
	return 1
}

// htState is the HT block decoder and its buffers.
type htState struct {
	dec      htj2k.Decoder
	out      []uint32
	cup, ref []byte
}

// decodeHT decodes cb, an HT code-block, and stores its coefficients where
// job j says. It decodes the last HT set the packets brought: its cleanup
// segment and the refinement segment after it. st is the block decoder's
// state: one per goroutine.
func (d *Decoder) decodeHT(st *htState, cb *codeBlock, j *blockJob, body []byte, fcoef []float32) error {
	if err := d.decodeHTBlock(st, cb, int(j.mb), body, j.style, int(j.roi)); err != nil {
		return err
	}
	w, h := int(cb.x1-cb.x0), int(cb.y1-cb.y0)
	if j.rev {
		st.storeInt(d.coef[j.off:], j.stride, w, h)
	} else {
		st.storeFloat(fcoef[j.off:], j.stride, w, h, j.step)
	}
	return nil
}

func (d *Decoder) decodeHTBlock(st *htState, cb *codeBlock, mb int, body []byte, style byte, roi int) error {
	if roi != 0 {
		// Part 15 keeps the RGN marker, but no encoder here writes it
		return errorf("region of interest in HT code-blocks: %w", codec.ErrUnsupported)
	}
	st.cup, st.ref = st.cup[:0], st.ref[:0]
	// segments: 0 cleanup (after 3k placeholder passes), 1 refinement, 2
	// cleanup, ...; find the last cleanup segment
	last := int32(-1)
	first := int32(0) // passes of segment 0
	for fi := cb.head; fi >= 0; fi = d.frags[fi].next {
		fr := &d.frags[fi]
		if fr.seg%2 == 0 {
			last = fr.seg
		}
		if fr.seg == 0 {
			first += fr.passes
		}
	}
	w, h := int(cb.x1-cb.x0), int(cb.y1-cb.y0)
	st.out = grow32(st.out, w*h)
	if last < 0 {
		clear(st.out) // no cleanup pass: nothing significant
		return nil
	}
	// the two segments: read where they lie when in one piece (the block
	// decoder only reads them), else joined
	passes := 1
	var ncup, nref int // fragments of each
	for fi := cb.head; fi >= 0; fi = d.frags[fi].next {
		fr := &d.frags[fi]
		switch fr.seg {
		case last:
			ncup++
		case last + 1:
			passes += int(fr.passes)
			nref++
		}
	}
	var cup, ref []byte
	for fi := cb.head; fi >= 0; fi = d.frags[fi].next {
		fr := &d.frags[fi]
		frag := body[fr.off : fr.off+fr.n : fr.off+fr.n]
		switch {
		case fr.seg == last && ncup == 1:
			cup = frag
		case fr.seg == last:
			st.cup = append(st.cup, frag...)
			cup = st.cup
		case fr.seg == last+1 && nref == 1:
			ref = frag
		case fr.seg == last+1:
			st.ref = append(st.ref, frag...)
			ref = st.ref
		}
	}
	// each HT set before the decoded one lowers its bit-plane by one
	below := int(first-1)/3 + int(last/2)
	numbps := int(cb.numbps) - below
	missing := mb - numbps
	if numbps < 1 || missing < 0 {
		return errorf("HT code-block with %d missing bit-planes of %d", mb-int(cb.numbps)+below, mb)
	}
	err := st.dec.Decode(st.out, &htj2k.Block{
		Width: w, Height: h,
		Cleanup: cup, Refine: ref,
		Passes: min(passes, 3), MissingMSBs: missing, P: numbps,
		StripeCausal: style&styleCausal != 0,
	})
	if err != nil {
		if errors.Is(err, htj2k.ErrCorrupt) {
			return errorf("%w", err)
		}
		return errorf("HT code-block: %w", err)
	}
	return nil
}

func grow32(s []uint32, n int) []uint32 {
	if cap(s) < n {
		return make([]uint32, n)
	}
	return s[:n]
}

// storeHT writes the decoded HT block (sign and magnitude with one
// fractional bit, as tier-1's) as coefficients.
func (st *htState) storeInt(dst []int32, stride, w, h int) {
	for j := range h {
		row := dst[j*stride : j*stride+w]
		src := st.out[j*w : j*w+w]
		for i, v := range src {
			m := int32(v&0x7fffffff) >> 1
			if v>>31 != 0 {
				m = -m
			}
			row[i] = m
		}
	}
}

func (st *htState) storeFloat(dst []float32, stride, w, h int, step float32) {
	for j := range h {
		row := dst[j*stride : j*stride+w]
		src := st.out[j*w : j*w+w]
		for i, v := range src {
			f := float32(float32(int32(v&0x7fffffff)) * step)
			if v>>31 != 0 {
				f = -f
			}
			row[i] = f
		}
	}
}
