package jpeg2000

import (
	"bytes"
	"math/rand"
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

// largeCases are one-tile frames whose coefficients exceed stripMinCoef:
// a 4096 x 4096 grey lossless frame (64 MiB of coefficients for a frame
// of 16), a 2048 x 2048 colour 9/7 frame with the component transform (48
// MiB for 12), and a frame as wide as the code allows a strip to be
// thin, 16384 x 640 (40 MiB for 20).
func largeCases(t testing.TB) []struct {
	name string
	im   synthImage
	cs   []byte
} {
	a := smooth(4096, 4096, 1, 8, 1)
	b := smooth(2048, 2048, 3, 8, 2)
	w := smooth(16384, 640, 1, 16, 3)
	return []struct {
		name string
		im   synthImage
		cs   []byte
	}{
		{"4096x4096-grey-53", a, opjEncode(t, a, "j2k")},
		{"2048x2048-rgb-97", b, opjEncode(t, b, "j2k", "-I", "-r", "10")},
		{"16384x640-grey16-97", w, opjEncode(t, w, "j2k", "-I", "-r", "20")},
	}
}

// recordSlack is what the code-block records (their tag trees, segment
// lists, tier-1 jobs) of the large cases take: 3.4 MiB measured for the
// grey one's 5,500 code-blocks, which both paths allocate.
const recordSlack = 4 << 20

// TestStripMemory decodes large one-tile frames: the strip path, which
// the decoder picks for them, gives the whole-tile path's bytes and
// allocates the frame plus a constant, where the whole tile costs four
// bytes a sample more.
func TestStripMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes 16 M samples")
	}
	for _, c := range largeCases(t) {
		f := c.im.frame()
		whole := make([]byte, f.Size())
		wd := Decoder{stripRows: -1}
		wholeAlloc := allocated(func() {
			if err := wd.Decode(whole, c.cs, f); err != nil {
				t.Fatal(err)
			}
		})
		out := make([]byte, f.Size())
		var d Decoder
		var err error
		got := allocated(func() { err = d.Decode(out, c.cs, f) })
		if err != nil {
			t.Fatal(err)
		}
		if i := firstDiff(out, whole); i >= 0 {
			t.Fatalf("%s: strips differ from the whole tile at byte %d", c.name, i)
		}
		// and on two threads, which split blocks, rows and columns
		var d2 Decoder
		d2.SetThreads(2)
		clear(out)
		if err := d2.Decode(out, c.cs, f); err != nil {
			t.Fatal(err)
		}
		if i := firstDiff(out, whole); i >= 0 {
			t.Fatalf("%s: strips on two threads differ from the whole tile at byte %d", c.name, i)
		}
		// out was allocated before: the decoder's own allocation is the
		// working set; the frame is counted in the bound as the product
		// holds it
		t.Logf("%s (%d bytes coded, frame %d MiB): whole tile allocates %.1f MiB, strips %.1f MiB",
			c.name, len(c.cs), f.Size()>>20, float64(wholeAlloc)/(1<<20), float64(got)/(1<<20))
		// the frame's height does not enter the bound: strips of a tile
		// twice as high take what these take
		if limit := WorkingSet(c.im.w, c.im.h, c.im.comps) + recordSlack; int64(got) > limit {
			t.Errorf("%s: strips allocate %d bytes beyond the frame, more than %d", c.name, got, limit)
		}
		if got >= wholeAlloc {
			t.Errorf("%s: strips allocate %d bytes, the whole tile %d: not strips?", c.name, got, wholeAlloc)
		}
	}
}

// TestWorkingSet checks the count precheck makes: 4 bytes a sample for a
// small frame, a bound that grows with the width alone for a large one,
// and the whole tile for a short, wide one, whichever costs less.
func TestWorkingSet(t *testing.T) {
	if got := WorkingSet(512, 512, 1); got != 4*512*512 {
		t.Errorf("512 x 512: %d, want 4 bytes a sample", got)
	}
	tall, taller := WorkingSet(4096, 4096, 1), WorkingSet(4096, 65536, 1)
	if tall != taller || tall >= 4*4096*4096/4 {
		t.Errorf("4096 columns: %d for 4096 rows, %d for 65536 rows", tall, taller)
	}
	if got := WorkingSet(1<<20, 8, 1); got != 4<<23 {
		t.Errorf("a short, wide frame: %d, want its coefficients", got)
	}
	var d Decoder
	d.img.ncomp = 1
	d.comps[0] = tileComp{x1: 1 << 20, y1: 8}
	if d.useStrips(&tileState{coefLen: 8 << 20}) {
		t.Error("a tile of 8 rows decodes in strips")
	}
	d.comps[0] = tileComp{x1: 4096, y1: 4096}
	if !d.useStrips(&tileState{coefLen: 4096 * 4096}) {
		t.Error("a 4096 x 4096 tile decodes whole")
	}
}

// TestStripErrors decodes corrupted streams, HT ones whose block decoder
// refuses bad data among them, both ways: the strips refuse what the
// whole tile refuses with the same error (the first failing code-block in
// plan order, whatever the order strips reach blocks in and the thread
// count), and accept the rest with the same bytes.
func TestStripErrors(t *testing.T) {
	im := synth(256, 192, 1, 12, false, 41)
	streams := map[string][]byte{
		"ht":       grkEncode(t, im, "-n", "4"),
		"ht-lossy": grkEncode(t, im, "-I", "-r", "8"),
		"97":       opjEncode(t, im, "j2k", "-I", "-r", "5"),
	}
	f := im.frame()
	for name, cs := range streams {
		failed := 0
		for seed := range 60 {
			rng := rand.New(rand.NewSource(int64(seed)))
			bad := append([]byte{}, cs...)
			for range 1 + seed%4 {
				i := len(cs)/4 + rng.Intn(len(cs)*3/4-2)
				bad[i] = byte(rng.Intn(256))
			}
			want := make([]byte, f.Size())
			var wd Decoder
			werr := wd.Decode(want, bad, f)
			if werr != nil {
				failed++
			}
			for _, threads := range []int{1, 3} {
				d := Decoder{stripRows: 5}
				d.SetThreads(threads)
				got := make([]byte, f.Size())
				err := d.Decode(got, bad, f)
				if (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error() {
					t.Fatalf("%s, seed %d, %d threads: whole tile %v, strips %v", name, seed, threads, werr, err)
				}
				if err == nil && !bytes.Equal(got, want) {
					t.Fatalf("%s, seed %d, %d threads: strips give other bytes", name, seed, threads)
				}
			}
		}
		t.Logf("%s: %d of 60 corrupted streams refused, alike", name, failed)
	}
}
