package jpeg2000

import (
	"encoding/binary"
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dicom-remap/dicom-remap/codec"
)

// shiftOrigin moves the image and the tile grid of a codestream by dx, dy
// on the reference grid (SIZ Xsiz, XOsiz, XTOsiz and their Y forms). A
// shift by a multiple of every precinct and code-block size times
// 2^levels changes no partition, so the samples must stay the same.
func shiftOrigin(cs []byte, dx, dy uint32) []byte {
	out := append([]byte{}, cs...)
	add := func(off int, v uint32) {
		binary.BigEndian.PutUint32(out[off:], binary.BigEndian.Uint32(out[off:])+v)
	}
	// SOC, SIZ marker and length, Rsiz: Xsiz lies at byte 8
	add(8, dx)
	add(12, dy)
	add(16, dx)
	add(20, dy)
	add(32, dx)
	add(36, dy)
	return out
}

// TestLargeOrigin decodes images whose origin lies at or above 2^31 on
// the reference grid: coordinates are 32-bit unsigned, and with no
// decomposition level the code-blocks' coordinates are as large.
func TestLargeOrigin(t *testing.T) {
	for i, opts := range [][]string{
		{"-n", "1"},
		{"-n", "1", "-b", "16,16", "-t", "24,20"},
		{"-n", "3", "-p", "RPCL", "-c", "[32,32]"},
		{"-n", "2", "-I", "-r", "5"},
	} {
		im := synth(45, 37, 1+2*(i%2), 8, false, int64(i))
		cs := opjEncode(t, im, "j2k", opts...)
		f := im.frame()
		want := decodeOK(t, cs, f)
		for _, d := range [][2]uint32{{1 << 31, 0}, {0, 1 << 31}, {1<<32 - 1<<20, 1<<32 - 1<<20}} {
			got := decodeOK(t, shiftOrigin(cs, d[0], d[1]), f)
			if string(got) != string(want) {
				t.Errorf("%v: origin moved by %d,%d changes the samples", opts, d[0], d[1])
			}
		}
	}
}

// pocBomb rewrites a codestream to declare 65535 layers and adds 256
// progression order changes that cover only resolutions the image does
// not have: no packet is ever read, yet a naive reader walks layers x
// changes x tiles.
func pocBomb(t testing.TB, cs []byte) []byte {
	t.Helper()
	p := 2
	sot := -1
	for p+4 <= len(cs) {
		m := cs[p+1]
		if m == mSOT {
			sot = p
			break
		}
		if m == mCOD {
			binary.BigEndian.PutUint16(cs[p+4+2:], 0xffff)
		}
		p += 2 + int(binary.BigEndian.Uint16(cs[p+2:]))
	}
	if sot < 0 {
		t.Fatal("no SOT")
	}
	seg := []byte{0xff, mPOC}
	seg = binary.BigEndian.AppendUint16(seg, 2+7*256)
	for i := range 256 {
		seg = append(seg, 20, 0, 0xff, 0xff, 21, 1, byte(i%2)) // resolutions 20..21, LRCP or RLCP
	}
	out := append([]byte{}, cs[:sot]...)
	out = append(out, seg...)
	return append(out, cs[sot:]...)
}

// TestWorkBudget checks that packet loops that read nothing are charged
// to what the stream's bytes pay for.
func TestWorkBudget(t *testing.T) {
	im := synth(64, 64, 1, 8, false, 3)
	cs := opjEncode(t, im, "j2k", "-n", "1", "-t", "8,8", "-I", "-r", "4")
	bomb := pocBomb(t, cs)
	f := im.frame()
	var d Decoder
	start := time.Now()
	err := d.Decode(make([]byte, f.Size()), bomb, f)
	var ce *codec.Error
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "pay for") {
		t.Fatalf("got %v, want a refusal of the work", err)
	}
	t.Logf("refused in %v: %v", time.Since(start), err)
	if d.work > d.workMax+1<<16 {
		t.Errorf("work %d went beyond the budget %d", d.work, d.workMax)
	}
}

// TestEOC checks that a reversible (lossless) stream must end with its
// EOC marker, one padding byte allowed after it, while an irreversible
// stream cut short still decodes what it holds.
func TestEOC(t *testing.T) {
	for _, c := range []struct {
		opts     []string
		lossless bool
	}{
		{[]string{"-n", "3"}, true},
		{[]string{"-n", "2", "-t", "16,16"}, true},
		{[]string{"-I", "-r", "3", "-n", "3"}, false},
	} {
		im := synth(40, 30, 1, 12, false, 5)
		cs := opjEncode(t, im, "j2k", c.opts...)
		f := im.frame()
		if cs[len(cs)-2] != 0xff || cs[len(cs)-1] != mEOC {
			t.Fatal("opj_compress wrote no EOC")
		}
		decodeOK(t, append(append([]byte{}, cs...), 0), f)
		body := cs[:len(cs)-2]
		padded := append(append([]byte{}, body[:len(body)-1]...), 0) // last data byte became a pad
		for name, src := range map[string][]byte{"no EOC": body, "padded": padded} {
			var d Decoder
			err := d.Decode(make([]byte, f.Size()), src, f)
			if c.lossless {
				var ce *codec.Error
				if !errors.As(err, &ce) || !strings.Contains(err.Error(), "EOC") {
					t.Errorf("%v %s: got %v, want a refusal naming EOC", c.opts, name, err)
				}
			} else if err != nil {
				t.Errorf("%v %s: irreversible stream refused: %v", c.opts, name, err)
			}
		}
	}
}

// TestIrreversible tells 9/7 streams from 5/3 ones, by COD, COC or a
// tile-part header.
func TestIrreversible(t *testing.T) {
	for _, c := range []struct {
		opts []string
		want bool
	}{
		{[]string{"-n", "3"}, false},
		{[]string{"-n", "3", "-I", "-r", "5"}, true},
		{[]string{"-n", "2", "-t", "16,16", "-I"}, true},
		{[]string{"-n", "2", "-t", "16,16", "-r", "10,1"}, false},
	} {
		im := synth(40, 30, 3, 8, false, 5)
		cs := opjEncode(t, im, "j2k", c.opts...)
		if got, err := Irreversible(cs); err != nil || got != c.want {
			t.Errorf("%v: got %v, %v; want %v", c.opts, got, err, c.want)
		}
		jp2 := opjEncode(t, im, "jp2", c.opts...)
		if got, err := Irreversible(jp2); err != nil || got != c.want {
			t.Errorf("%v JP2: got %v, %v; want %v", c.opts, got, err, c.want)
		}
	}
}

// TestThreads decodes with 1 to 4 goroutines per frame: the same bytes,
// for every wavelet, component transform, tiling and code-block style.
func TestThreads(t *testing.T) {
	for i, c := range []struct {
		im   synthImage
		opts []string
	}{
		{synth(300, 200, 1, 12, false, 1), []string{"-n", "5"}},
		{synth(257, 190, 3, 8, false, 2), []string{"-I", "-r", "8", "-n", "4"}},
		{synth(200, 150, 3, 8, false, 3), []string{"-n", "3", "-t", "64,64", "-b", "16,16"}},
		{synth(180, 133, 1, 16, true, 4), []string{"-I", "-n", "6", "-M", "63"}},
		{synth(129, 65, 3, 12, false, 5), []string{"-mct", "0", "-n", "4", "-p", "RPCL", "-c", "[32,32]"}},
	} {
		cs := opjEncode(t, c.im, "j2k", c.opts...)
		f := c.im.frame()
		want := decodeOK(t, cs, f)
		for _, n := range []int{2, 3, 4} {
			var d Decoder
			d.SetThreads(n)
			got := make([]byte, f.Size())
			for range 2 { // the second frame reuses the workers
				if err := d.Decode(got, cs, f); err != nil {
					t.Fatalf("case %d, %d threads: %v", i, n, err)
				}
				if string(got) != string(want) {
					t.Fatalf("case %d %v: %d threads give other bytes", i, c.opts, n)
				}
			}
		}
	}
}

// constant is an image of one value: after the level shift every
// coefficient is zero, and an encoder includes no code-block.
func constant(w, h, comps, bits int, v int32) synthImage {
	im := synthImage{w: w, h: h, comps: comps, bits: bits}
	for range comps {
		p := make([]int32, w*h)
		for i := range p {
			p[i] = v
		}
		im.planes = append(im.planes, p)
	}
	return im
}

// allocated runs fn and returns the bytes it allocated.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestDeclaredSize checks that memory follows what the packets hold, not
// what SIZ declares: a blank image of 4096 x 4096 from a few hundred
// bytes decodes without coefficient memory, and a header that declares
// 8192 x 8192 over a 64 x 64 stream's packets fails before any.
func TestDeclaredSize(t *testing.T) {
	for _, c := range []struct {
		im   synthImage
		opts []string
	}{
		{constant(4096, 4096, 1, 8, 128), nil},
		{constant(2048, 1024, 3, 8, 128), []string{"-I"}},
	} {
		cs := opjEncode(t, c.im, "j2k", c.opts...)
		f := c.im.frame()
		out := make([]byte, f.Size())
		var d Decoder
		var err error
		got := allocated(func() { err = d.Decode(out, cs, f) })
		if err != nil {
			t.Fatalf("%d bytes: %v", len(cs), err)
		}
		if d, where := maxDiff(decoded(out, c.im, f), c.im.planes, c.im.w); d != 0 {
			t.Fatalf("blank image differs by %d at %s", d, where)
		}
		if got > 4<<20 { // code-block records; coefficients would be 64 MB
			t.Errorf("%dx%d blank image from %d bytes: %d bytes allocated", c.im.w, c.im.h, len(cs), got)
		}
		t.Logf("%dx%d blank image from %d bytes: %d bytes allocated", c.im.w, c.im.h, len(cs), got)
	}
	im := synth(64, 64, 1, 8, false, 9)
	cs := opjEncode(t, im, "j2k")
	for _, off := range []int{8, 12, 24, 28} { // Xsiz, Ysiz, XTsiz, YTsiz
		binary.BigEndian.PutUint32(cs[off:], 8192)
	}
	f := codec.Frame{Columns: 8192, Rows: 8192, Samples: 1, Bits: 8}
	out := make([]byte, f.Size())
	var d Decoder
	var err error
	got := allocated(func() { err = d.Decode(out, cs, f) })
	if err == nil {
		t.Fatal("a 64x64 stream declared 8192x8192 decodes")
	}
	if got > 16<<20 {
		t.Errorf("lying header: %d bytes allocated before %v", got, err)
	}
	t.Logf("lying header: %d bytes allocated before %v", got, err)
}

// TestRoundRow checks the fast rounding against math.RoundToEven around
// every boundary it has: halves, the 2^22 limit, infinities and NaN.
func TestRoundRow(t *testing.T) {
	var src []float32
	for _, v := range []float32{0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, 1 << 22, 1<<22 - 0.5, -(1 << 22), -(1<<22 - 0.5), 1<<22 + 1, 3e9, -3e9} {
		src = append(src, v, -v)
	}
	for i := range 100000 {
		src = append(src, float32(i-50000)/64, float32(i)*37.3-1e6)
	}
	src = append(src, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()))
	got := make([]int32, len(src))
	roundRow(got, src)
	for i, v := range src {
		x := math.RoundToEven(float64(v))
		want := int32(0)
		switch {
		case !(x > -1<<30):
			want = -1 << 30
		case !(x < 1<<30):
			want = 1 << 30
		default:
			want = int32(x)
		}
		if got[i] != want {
			t.Fatalf("%v rounds to %d, want %d", v, got[i], want)
		}
	}
}

// TestRecordBudget: the records of code-blocks are made before any packet
// is read, so a few hundred bytes declaring 4 x 4 code-blocks over a
// large frame are refused before they cost hundreds of megabytes (575 MiB
// for 4096 x 4096, 36 times the frame), while 4 x 4 code-blocks that the
// bytes do pay for still decode.
func TestRecordBudget(t *testing.T) {
	im := constant(2048, 2048, 1, 8, 128)
	im.planes[0][5] = 3 // one code-block with data
	cs := opjEncode(t, im, "j2k", "-b", "4,4")
	f := im.frame()
	var d Decoder
	var err error
	out := make([]byte, f.Size())
	got := allocated(func() { err = d.Decode(out, cs, f) })
	if !errors.Is(err, codec.ErrUnsupported) {
		t.Fatalf("%d bytes declaring 4 x 4 code-blocks over 2048 x 2048: %v", len(cs), err)
	}
	if got > 16<<20 { // 9 MB measured; 152 MiB before the budget
		t.Errorf("%d bytes allocated before %v", got, err)
	}
	t.Logf("%d bytes, 4 x 4 code-blocks over 2048 x 2048: %d bytes allocated before %v", len(cs), got, err)
	dense := synth(512, 512, 1, 12, false, 7)
	decodeOK(t, opjEncode(t, dense, "j2k", "-b", "4,4"), dense.frame())
}
