package jpeg2000

import (
	"bytes"
	"testing"

	"github.com/dicom-remap/dicom-remap/codec"
)

// stripHeights are the strip heights every fixture is decoded with: one
// row, odd heights that cut code-block rows and levels anywhere, and a
// height of the size the decoder picks.
var stripHeights = []int{1, 3, 7, 64}

// checkStrips decodes cs with the strip path forced at every height of
// stripHeights, on one thread and on three, and requires the whole-tile
// path's bytes, want.
func checkStrips(t testing.TB, cs []byte, f codec.Frame, want []byte) {
	t.Helper()
	got := make([]byte, len(want))
	for _, h := range stripHeights {
		for _, threads := range []int{1, 3} {
			if threads > 1 && h != 3 {
				continue
			}
			var d Decoder
			d.stripRows = h
			d.SetThreads(threads)
			clear(got)
			if err := d.Decode(got, cs, f); err != nil {
				t.Fatalf("strips of %d rows, %d threads: %v", h, threads, err)
			}
			if i := firstDiff(got, want); i >= 0 {
				t.Fatalf("strips of %d rows, %d threads: byte %d of %d is %d, the whole tile gives %d", h, threads, i, len(want), got[i], want[i])
			}
		}
	}
}

func firstDiff(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return len(a)
}
