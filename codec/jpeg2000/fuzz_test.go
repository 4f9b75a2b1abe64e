package jpeg2000

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"testing"

	"github.com/dicom-remap/dicom-remap/codec"
)

// FuzzDecode checks, for any input, that the decoder does not panic and
// either fails with a *codec.Error or writes every byte of dst: two runs
// into buffers prefilled differently must give the same output. Its work
// stays within the budgets the stream's bytes pay for, its allocation
// within a multiple of the frame, and a reversible stream it accepts
// ends with EOC. The frame
// is taken from the stream's SIZ marker when it is small, so that
// mutations reach the packets rather than stop at the size check.
func FuzzDecode(f *testing.F) {
	seeds := []struct {
		im   synthImage
		opts []string
	}{
		{synth(17, 13, 1, 8, false, 1), []string{"-n", "3"}},
		{synth(23, 19, 3, 8, false, 2), []string{"-I", "-n", "3", "-r", "8"}},
		{synth(20, 16, 1, 12, true, 3), []string{"-n", "2", "-M", "63", "-SOP", "-EPH", "-r", "5,1"}},
		{synth(24, 24, 3, 8, false, 4), []string{"-n", "3", "-t", "12,12", "-p", "RPCL", "-c", "[8,8]", "-b", "4,4"}},
		{synth(16, 16, 1, 16, false, 5), []string{"-n", "2", "-p", "CPRL", "-ROI", "c=0,U=8"}},
		{synth(12, 9, 3, 8, false, 6), []string{"-n", "2", "-I", "-M", "1", "-p", "PCRL", "-TP", "R"}},
	}
	for _, s := range seeds {
		cs := opjEncode(f, s.im, "j2k", s.opts...)
		fr := s.im.frame()
		f.Add(cs, uint16(fr.Columns-1), uint16(fr.Rows-1), uint8(fr.Samples/3), uint8(fr.Bits/16))
	}
	// subsampled components, an image offset and precincts
	sub := subCase{15, 11, 8, false, [3][2]int{{1, 1}, {2, 2}, {2, 1}}, "-n 2 -d 1,1 -p RPCL -c [8,8]"}
	f.Add(sub.encode(f, 7), uint16(14), uint16(10), uint8(1), uint8(0))
	// the hostile cases of hostile_test.go
	{
		im := synth(45, 37, 1, 8, false, 1)
		cs := opjEncode(f, im, "j2k", "-n", "1", "-b", "16,16", "-t", "24,20")
		f.Add(shiftOrigin(cs, 1<<31, 1<<31), uint16(44), uint16(36), uint8(0), uint8(0))
		im = synth(64, 64, 1, 8, false, 3)
		cs = opjEncode(f, im, "j2k", "-n", "1", "-t", "16,16", "-I", "-r", "4")
		f.Add(pocBomb(f, cs), uint16(63), uint16(63), uint8(0), uint8(0))
		im = synth(40, 30, 1, 12, false, 5)
		cs = opjEncode(f, im, "j2k", "-n", "3")
		f.Add(append(cs[:len(cs)-3:len(cs)-3], 0), uint16(39), uint16(29), uint8(0), uint8(1))
		im = synth(64, 48, 1, 8, false, 1)
		cs = opjEncode(f, im, "j2k", "-r", "10,3,1", "-n", "4")
		f.Add(reversePPT(f, moveHeaders(f, cs, im, false, 5)), uint16(63), uint16(47), uint8(0), uint8(0))
		im = constant(300, 300, 1, 8, 128)
		f.Add(opjEncode(f, im, "j2k"), uint16(299), uint16(299), uint8(0), uint8(0))
	}
	f.Fuzz(fuzzDecode)
}

// fuzzDecode is FuzzDecode's property, which FuzzDecodeHT shares.
func fuzzDecode(t *testing.T, src []byte, cols, rows uint16, samples, bits uint8) {
	{
		fr := codec.Frame{Columns: 1 + int(cols)%300, Rows: 1 + int(rows)%300, Samples: 1 + 2*int(samples&1), Bits: 8 + 8*int(bits&1)}
		if len(src) >= 42 && src[0] == 0xff && src[1] == mSOC && src[2] == 0xff && src[3] == mSIZ {
			w := int(binary.BigEndian.Uint32(src[8:])) - int(binary.BigEndian.Uint32(src[16:]))
			h := int(binary.BigEndian.Uint32(src[12:])) - int(binary.BigEndian.Uint32(src[20:]))
			n := int(binary.BigEndian.Uint16(src[40:]))
			if w > 0 && h > 0 && w <= 300 && h <= 300 && (n == 1 || n == 3) {
				fr.Columns, fr.Rows, fr.Samples = w, h, n
			}
		}
		size := fr.Size()
		var d Decoder
		a := make([]byte, size)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := d.Decode(a, src, fr)
		runtime.ReadMemStats(&after)
		// coefficients and scratch of a few words per sample, code-block
		// and fragment records bounded by the samples and the bytes
		if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(64*size+64*len(src)+1<<20); got > limit {
			t.Fatalf("allocated %d bytes for a frame of %d from %d bytes", got, size, len(src))
		}
		if d.work > d.workMax+1<<16 || d.t1Work > d.t1WorkMax && err == nil {
			t.Fatalf("work %d of %d, tier-1 %d of %d", d.work, d.workMax, d.t1Work, d.t1WorkMax)
		}
		// the strip path refuses the same streams with the same errors,
		// and gives the same bytes
		sd := Decoder{stripRows: 1 + int(rows)%9}
		s := make([]byte, size)
		serr := sd.Decode(s, src, fr)
		if (err == nil) != (serr == nil) || err != nil && err.Error() != serr.Error() {
			t.Fatalf("whole tile: %v; strips of %d rows: %v", err, sd.stripRows, serr)
		}
		if err == nil && !bytes.Equal(a, s) {
			t.Fatalf("strips of %d rows give other bytes", sd.stripRows)
		}
		if err != nil {
			var ce *codec.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *codec.Error", err)
			}
			return
		}
		b := bytes.Repeat([]byte{0xa5}, size)
		if err := d.Decode(b, src, fr); err != nil {
			t.Fatalf("second decode failed: %v", err)
		}
		if !bytes.Equal(a, b) {
			t.Fatalf("output depends on dst's previous content")
		}
		if !d.eoc && d.comps[0].cs.reversible {
			t.Fatalf("reversible stream without EOC accepted")
		}
	}
}
