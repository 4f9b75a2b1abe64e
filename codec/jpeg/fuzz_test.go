package jpeg

import (
	"bytes"
	"errors"
	"testing"

	"github.com/dicom-remap/dicom-remap/codec"
)

// FuzzDecode checks, for any input, that the decoder does not panic and
// either fails with a *codec.Error or writes every byte of dst: two runs
// into buffers prefilled differently must give the same output.
func FuzzDecode(f *testing.F) {
	q := quantTable(50, 255)
	seeds := []encSpec{
		{width: 17, height: 13, precision: 8, sof: mSOF0, comps: []encComp{{1, 1, 0}}, quant: [][64]int{q}, restart: 1, interleaved: true},
		{width: 19, height: 9, precision: 8, sof: mSOF0, comps: []encComp{{2, 1, 0}, {1, 1, 0}, {1, 1, 0}}, quant: [][64]int{q}, interleaved: true},
		{width: 9, height: 18, precision: 8, sof: mSOF1, comps: []encComp{{2, 2, 0}, {1, 1, 0}, {1, 1, 0}}, quant: [][64]int{q}, restart: 2},
		{width: 12, height: 7, precision: 12, sof: mSOF1, comps: []encComp{{1, 1, 0}}, quant: [][64]int{q}, quant16: true, interleaved: true},
		{width: 13, height: 5, precision: 8, sof: mSOF0, comps: []encComp{{4, 1, 0}, {1, 1, 0}, {1, 1, 0}}, quant: [][64]int{q}, interleaved: true, splitSegments: true},
	}
	for _, sp := range seeds {
		n := len(sp.comps)
		planes := make([][]int, n)
		vals := synth(sp.height, sp.width, 1, n, 1<<sp.precision-1, 7)
		for c := range planes {
			planes[c] = make([]int, sp.width*sp.height)
			for i := range planes[c] {
				planes[c][i] = int(vals[i*n+c])
			}
		}
		bits := uint8(0) // 8 bits allocated
		if sp.precision > 8 {
			bits = 1 // 16
		}
		f.Add(encodeJPEG(sp, planes), uint16(sp.width-1), uint16(sp.height-1), uint8(n/3), bits)
	}
	f.Fuzz(func(t *testing.T, src []byte, cols, rows uint16, samples, bits uint8) {
		// every input maps to a valid frame shape, so that mutations reach the
		// stream parser; sizes stay small to keep executions fast
		fr := codec.Frame{Columns: 1 + int(cols)%300, Rows: 1 + int(rows)%300, Samples: 1 + 2*int(samples&1), Bits: 8 + 8*int(bits&1)}
		size := fr.Size()
		var d Decoder
		a := make([]byte, size)
		err := d.Decode(a, src, fr)
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
	})
}
