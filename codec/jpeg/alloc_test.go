package jpeg

import (
	"runtime"
	"testing"

	"github.com/dicom-remap/dicom-remap/codec"
	"github.com/dicom-remap/dicom-remap/internal/codectest"
	"github.com/dicom-remap/dicom-remap/internal/fixture"
)

// windowBound is what a Decoder may allocate for a frame cols wide,
// whatever its height: per component a window of 2 context rows and an
// MCU row of up to 4 blocks (34 rows) and one upsampled row of twice the
// width, of 2-byte samples at most, and the 16 Ki-entry range-limit table.
func windowBound(cols int) uint64 {
	stride := uint64(cols + 7)
	return maxComps*(34*stride+2*stride)*2 + 2*rangeSize + 64<<10
}

// decodeAlloc decodes src into a frame of its own with a new Decoder and
// returns the bytes the decoder allocated, the frame not counted.
func decodeAlloc(t *testing.T, src []byte, f codec.Frame) uint64 {
	t.Helper()
	dst := make([]byte, f.Size())
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var d Decoder
	err := d.Decode(dst, src, f)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	return after.TotalAlloc - before.TotalAlloc
}

// TestAllocationIndependentOfHeight: small real streams (dcmcjpeg's, of
// flat frames) that declare frames from 64 to 2048 rows; the decoder
// allocates its window, bounded by the width, and nothing that grows with
// the rows. Whole-frame planes (1 to 3 bytes a pixel) fail it from 1 MiB.
func TestAllocationIndependentOfHeight(t *testing.T) {
	const cols = 512
	cases := []struct {
		name   string
		spp    int
		stored int
		opts   []string
	}{
		{"gray8", 1, 8, []string{"+eb"}},
		{"gray12", 1, 12, []string{"+ee"}},
		{"ybr422", 3, 8, []string{"+eb"}},
		{"ybr420", 3, 8, []string{"+eb", "+n1"}},
		{"ybr444", 3, 8, []string{"+eb", "+s4"}},
		{"ybr422-12", 3, 12, []string{"+ee"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var first uint64
			for _, rows := range []int{64, 2048} {
				bits := 8
				if c.stored > 8 {
					bits = 16
				}
				spec := fixture.Spec{SOPClass: fixture.SecondaryCap, Modality: "OT", Rows: rows, Columns: cols,
					BitsAllocated: bits, BitsStored: c.stored, Values: make([]int64, rows*cols*c.spp)}
				if c.spp == 3 {
					spec.Photometric = "RGB"
				}
				src := codectest.Frames(t, codectest.Encode(t, spec, "dcmcjpeg", c.opts...), 1)[0]
				f := codec.Frame{Columns: cols, Rows: rows, Samples: c.spp, Bits: bits}
				got := decodeAlloc(t, src, f)
				t.Logf("%d rows: %d stream bytes, %d frame bytes, decoder allocated %d bytes", rows, len(src), f.Size(), got)
				if bound := windowBound(cols); got > bound {
					t.Fatalf("%d rows: decoder allocated %d bytes, over its window's %d", rows, got, bound)
				}
				if first == 0 {
					first = got
				} else if got > first+16<<10 {
					t.Fatalf("decoder allocated %d bytes for 64 rows, %d for %d: it grows with the height", first, got, rows)
				}
			}
		})
	}
}

// TestAllocationScans: streams of the test encoder whose components lie in
// separate scans (each written into the frame as it comes) or that have the
// largest MCU (4x4 sampling) keep to the window too.
func TestAllocationScans(t *testing.T) {
	q := quantTable(50, 255)
	for _, sp := range []encSpec{
		{width: 300, height: 1000, precision: 8, sof: mSOF1, comps: []encComp{{2, 2, 0}, {1, 1, 0}, {1, 1, 0}}, quant: [][64]int{q}, restart: 7},
		{width: 300, height: 1000, precision: 8, sof: mSOF1, comps: []encComp{{2, 1, 0}, {1, 1, 0}, {1, 1, 0}}, quant: [][64]int{q}, scans: [][]int{{1, 2}, {0}}},
		{width: 300, height: 1000, precision: 8, sof: mSOF1, comps: []encComp{{4, 4, 0}, {2, 2, 0}, {1, 1, 0}}, quant: [][64]int{q}},
		{width: 300, height: 1000, precision: 8, sof: mSOF0, comps: []encComp{{1, 4, 0}}, quant: [][64]int{q}, interleaved: true},
	} {
		src := encodeSynth(sp)
		f := codec.Frame{Columns: sp.width, Rows: sp.height, Samples: len(sp.comps), Bits: 8}
		got := decodeAlloc(t, src, f)
		if bound := windowBound(sp.width); got > bound {
			t.Errorf("%v: decoder allocated %d bytes for a %d-byte frame, over its window's %d", sp.comps, got, f.Size(), bound)
		}
	}
}
