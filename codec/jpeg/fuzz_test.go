package jpeg

import (
	"testing"

	"github.com/dicom-remap/dicom-remap/codec"
	"github.com/dicom-remap/dicom-remap/internal/codectest"
	"github.com/dicom-remap/dicom-remap/internal/hostile"
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
	if bases, err := hostile.Bases(f.TempDir(), "jpeg"); err == nil {
		for _, s := range hostile.Streams(bases) {
			if s.Columns <= 300 && s.Rows <= 300 {
				f.Add(s.Data, uint16(s.Columns-1), uint16(s.Rows-1), uint8(s.Samples/3), uint8(s.Bits/8-1))
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte, cols, rows uint16, samples, bits uint8) {
		// every input maps to a valid frame shape, so that mutations reach the
		// stream parser; sizes stay small to keep executions fast
		fr := codec.Frame{Columns: 1 + int(cols)%300, Rows: 1 + int(rows)%300, Samples: 1 + 2*int(samples&1), Bits: 8 + 8*int(bits&1)}
		var d Decoder
		codectest.CheckDecode(t, func(dst, src []byte) error { return d.Decode(dst, src, fr) }, src, fr.Size(), false)
	})
}
