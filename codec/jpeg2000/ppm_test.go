package jpeg2000

import (
	"encoding/binary"
	"testing"
)

// moveHeaders rewrites a codestream of one tile-part per tile so that its
// packet headers travel in PPM markers of the main header (ppm) or PPT
// markers of each tile-part header, split into segments of at most
// chunk bytes so that headers straddle markers.
func moveHeaders(t testing.TB, cs []byte, im synthImage, ppm bool, chunk int) []byte {
	t.Helper()
	type span struct{ start, end int }
	spans := map[int][]span{}
	var d Decoder
	d.tracePacket = func(tile, start, end int) { spans[tile] = append(spans[tile], span{start, end}) }
	f := im.frame()
	if err := d.Decode(make([]byte, f.Size()), cs, f); err != nil {
		t.Fatal(err)
	}
	d.tracePacket = nil
	sot := 0
	for i := 2; i+1 < len(cs); i++ {
		if cs[i] == 0xff && cs[i+1] == mSOT {
			sot = i
			break
		}
	}
	// split data into marker segments of code m, with a one-byte index
	segmentsOf := func(m byte, data []byte) []byte {
		var out []byte
		chunk := max(chunk, (len(data)+255)/256) // Zppm and Zppt count to 255
		for z := 0; len(data) > 0 || z == 0; z++ {
			n := min(len(data), chunk)
			out = append(out, 0xff, m)
			out = binary.BigEndian.AppendUint16(out, uint16(3+n))
			out = append(out, byte(z))
			out = append(out, data[:n]...)
			data = data[n:]
		}
		return out
	}
	var ppmData, tiles []byte
	for p := sot; p+12 <= len(cs) && cs[p+1] == mSOT; {
		tile := int(binary.BigEndian.Uint16(cs[p+4:]))
		psot := int(binary.BigEndian.Uint32(cs[p+6:]))
		end := p + psot
		if psot == 0 {
			end = len(cs) - 2
		}
		q := p + 12
		for cs[q+1] != mSOD {
			q += 2 + int(binary.BigEndian.Uint16(cs[q+2:]))
		}
		hdr, body := cs[p+12:q], cs[q+2:end]
		var headers, rest []byte
		at := 0
		for _, s := range spans[tile] {
			rest = append(rest, body[at:s.start]...)
			headers = append(headers, body[s.start:s.end]...)
			at = s.end
		}
		rest = append(rest, body[at:]...)
		if ppm {
			ppmData = binary.BigEndian.AppendUint32(ppmData, uint32(len(headers)))
			ppmData = append(ppmData, headers...)
		} else {
			hdr = append(append([]byte{}, hdr...), segmentsOf(mPPT, headers)...)
		}
		part := []byte{0xff, mSOT, 0, 10}
		part = binary.BigEndian.AppendUint16(part, uint16(tile))
		part = binary.BigEndian.AppendUint32(part, uint32(12+len(hdr)+2+len(rest)))
		part = append(part, cs[p+10], cs[p+11])
		part = append(part, hdr...)
		part = append(part, 0xff, mSOD)
		tiles = append(tiles, append(part, rest...)...)
		p = end
	}
	out := append([]byte{}, cs[:sot]...)
	if ppm {
		out = append(out, segmentsOf(mPPM, ppmData)...)
	}
	out = append(out, tiles...)
	return append(out, 0xff, mEOC)
}

func TestPackedPacketHeaders(t *testing.T) {
	cases := []struct {
		im   synthImage
		opts []string
	}{
		{synth(64, 48, 1, 8, false, 1), []string{"-r", "10,3,1", "-n", "4"}},
		{synth(70, 50, 3, 12, false, 2), []string{"-t", "40,32", "-n", "3", "-r", "8,2,1", "-EPH", "-SOP", "-p", "RPCL", "-c", "[16,16]"}},
		{synth(64, 64, 1, 16, true, 3), []string{"-M", "5", "-b", "8,8", "-r", "4,1"}},
	}
	for _, c := range cases {
		cs := opjEncode(t, c.im, "j2k", c.opts...)
		f := c.im.frame()
		for _, ppm := range []bool{true, false} {
			for _, chunk := range []int{7, 60000} {
				moved := moveHeaders(t, cs, c.im, ppm, chunk)
				got := decoded(decodeOK(t, moved, f), c.im, f)
				if d, where := maxDiff(got, c.im.planes, c.im.w); d != 0 {
					t.Fatalf("%v ppm=%v chunk %d: differs from the source by %d at %s", c.opts, ppm, chunk, d, where)
				}
			}
		}
	}
}

// reversePPT stores the PPT segments of every tile-part header in reverse
// order, their Zppt indices unchanged.
func reversePPT(t testing.TB, cs []byte) []byte {
	t.Helper()
	out := append([]byte{}, cs...)
	reversed := 0
	for p := 2; p+12 <= len(out); {
		if out[p] != 0xff || out[p+1] != mSOT {
			p += 2 + int(binary.BigEndian.Uint16(out[p+2:]))
			continue
		}
		psot := int(binary.BigEndian.Uint32(out[p+6:]))
		q := p + 12
		var segs [][]byte
		start := -1
		for out[q+1] != mSOD {
			n := 2 + int(binary.BigEndian.Uint16(out[q+2:]))
			if out[q+1] == mPPT {
				if start < 0 {
					start = q
				}
				segs = append(segs, append([]byte{}, out[q:q+n]...))
			}
			q += n
		}
		if len(segs) > 1 {
			at := start
			for i := len(segs) - 1; i >= 0; i-- {
				at += copy(out[at:], segs[i])
			}
			reversed++
		}
		p += psot
	}
	if reversed == 0 {
		t.Fatal("no tile-part with several PPT segments")
	}
	return out
}

// TestPPTOrder decodes streams whose PPT segments are stored out of the
// order of their index: they must be joined by Zppt.
func TestPPTOrder(t *testing.T) {
	for _, c := range []struct {
		im   synthImage
		opts []string
	}{
		{synth(64, 48, 1, 8, false, 1), []string{"-r", "10,3,1", "-n", "4"}},
		{synth(70, 50, 3, 12, false, 2), []string{"-t", "40,32", "-n", "3", "-SOP", "-EPH", "-p", "RPCL", "-c", "[16,16]"}},
	} {
		cs := opjEncode(t, c.im, "j2k", c.opts...)
		f := c.im.frame()
		moved := reversePPT(t, moveHeaders(t, cs, c.im, false, 5))
		got := decoded(decodeOK(t, moved, f), c.im, f)
		if d, where := maxDiff(got, c.im.planes, c.im.w); d != 0 {
			t.Fatalf("%v: differs from the source by %d at %s", c.opts, d, where)
		}
	}
}
