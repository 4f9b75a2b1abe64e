package jpeg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/dicom-remap/dicom-remap/codec"
	"github.com/dicom-remap/dicom-remap/internal/codectest"
	"github.com/dicom-remap/dicom-remap/internal/fixture"
)

// synth returns frames*rows*cols*spp values in [0, maxv] with structure
// for every path: a flat area, a gradient, fixed-seed noise, hard edges
// between the extremes and a checkerboard.
func synth(rows, cols, frames, spp int, maxv int64, seed int64) []int64 {
	rng := rand.New(rand.NewSource(seed))
	v := make([]int64, 0, rows*cols*spp*frames)
	for f := 0; f < frames; f++ {
		for y := 0; y < rows; y++ {
			for x := 0; x < cols; x++ {
				for c := 0; c < spp; c++ {
					var s int64
					switch (5*x/cols + y*3/rows + f) % 5 {
					case 0:
						s = maxv / int64(2+c)
					case 1:
						s = maxv * int64(x+y+c*7) / int64(rows+cols+14)
					case 2:
						s = rng.Int63n(maxv + 1)
					case 3:
						if (x/3+y/5+c)%2 == 0 {
							s = maxv
						}
					default:
						if (x+y+c)%2 == 0 {
							s = maxv
						}
					}
					v = append(v, s)
				}
			}
		}
	}
	return v
}

// image describes one synthetic file.
type image struct {
	rows, cols, frames, spp, stored int
	phantom                         bool // fixture.Phantom's smooth discs instead of synth
}

func (im image) frame() codec.Frame {
	bits := 8
	if im.stored > 8 {
		bits = 16
	}
	return codec.Frame{Columns: im.cols, Rows: im.rows, Samples: im.spp, Bits: bits}
}

func (im image) build(seed int64) []byte {
	s := fixture.Spec{SOPClass: fixture.SecondaryCap, Modality: "OT", Rows: im.rows, Columns: im.cols,
		BitsAllocated: im.frame().Bits, BitsStored: im.stored,
		Values: synth(im.rows, im.cols, max(im.frames, 1), im.spp, 1<<im.stored-1, seed)}
	if im.phantom {
		s.Values = fixture.Phantom(im.rows, im.cols*im.spp, max(im.frames, 1), 0, 1<<im.stored-1)
	}
	if im.frames > 1 {
		s.Frames = im.frames
	}
	if im.spp == 3 {
		s.Photometric = "RGB"
	}
	return fixture.Build(s)
}

// run runs a tool and fails the test with its output on error.
func run(t testing.TB, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// nativePixels returns the value of the last Pixel Data element of an
// explicit VR little endian file with native pixels.
func nativePixels(t *testing.T, file []byte) []byte {
	t.Helper()
	for i := len(file) - 12; i >= 0; i-- {
		if file[i] == 0xe0 && file[i+1] == 0x7f && file[i+2] == 0x10 && file[i+3] == 0 &&
			file[i+4] == 'O' && (file[i+5] == 'B' || file[i+5] == 'W') {
			n := int(binary.LittleEndian.Uint32(file[i+8:]))
			if n != -1 && i+12+n <= len(file) {
				return file[i+12 : i+12+n]
			}
		}
	}
	t.Fatalf("no native pixel data")
	return nil
}

// compare decodes every frame and checks it against ref, reporting the
// number and size of differences.
func compare(t *testing.T, what string, enc [][]byte, ref []byte, f codec.Frame) {
	t.Helper()
	var d Decoder
	size := f.Size()
	if len(ref) < size*len(enc) {
		t.Fatalf("%s: reference holds %d bytes, want %d", what, len(ref), size*len(enc))
	}
	for i, src := range enc {
		dst := make([]byte, size)
		if err := d.Decode(dst, src, f); err != nil {
			t.Fatalf("%s frame %d: %v", what, i, err)
		}
		want := ref[i*size : (i+1)*size]
		if bytes.Equal(dst, want) {
			continue
		}
		bps := f.Bits / 8
		diffs, worst, first := 0, 0, -1
		for k := 0; k < size; k += bps {
			a, b := int(dst[k]), int(want[k])
			if bps == 2 {
				a |= int(dst[k+1]) << 8
				b |= int(want[k+1]) << 8
			}
			if a != b {
				diffs++
				worst = max(worst, a-b, b-a)
				if first < 0 {
					first = k / bps
				}
			}
		}
		t.Errorf("%s frame %d: %d samples differ, by up to %d; first at sample %d (x=%d y=%d c=%d)", what, i, diffs, worst,
			first, first/f.Samples%f.Columns, first/f.Samples/f.Columns, first%f.Samples)
	}
}

// dcmtkCase encodes a synthetic image with dcmcjpeg and checks the decoder
// against dcmdjpeg +cn (no colour conversion), the IJG code itself.
func dcmtkCase(t *testing.T, im image, opts ...string) {
	codectest.NeedTool(t, "dcmcjpeg")
	codectest.NeedTool(t, "dcmdjpeg")
	dir := t.TempDir()
	in, enc, dec := filepath.Join(dir, "in.dcm"), filepath.Join(dir, "enc.dcm"), filepath.Join(dir, "dec.dcm")
	if err := os.WriteFile(in, im.build(int64(im.rows*7919+im.cols)), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "dcmcjpeg", append(opts, in, enc)...)
	run(t, "dcmdjpeg", "+cn", "+px", "+te", enc, dec)
	encFile, err := os.ReadFile(enc)
	if err != nil {
		t.Fatal(err)
	}
	decFile, err := os.ReadFile(dec)
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "dcmdjpeg", codectest.Frames(t, encFile, max(im.frames, 1)), nativePixels(t, decFile), im.frame())
	if im.spp == 1 {
		if _, err := exec.LookPath("gdcmconv"); err == nil {
			gd := filepath.Join(dir, "gdcm.dcm")
			run(t, "gdcmconv", "--raw", enc, gd)
			gdFile, err := os.ReadFile(gd)
			if err != nil {
				t.Fatal(err)
			}
			compare(t, "gdcmconv", codectest.Frames(t, encFile, max(im.frames, 1)), nativePixels(t, gdFile), im.frame())
		} else if os.Getenv("DICOM_REMAP_REQUIRE_TOOLS") == "1" {
			t.Fatalf("gdcmconv not found")
		}
	}
}

var sizes = []struct{ rows, cols int }{
	{64, 64}, {17, 13}, {13, 17}, {1, 23}, {23, 1}, {1, 1}, {100, 77}, {9, 200},
}

func TestDcmtkGray8(t *testing.T) {
	for si, sz := range sizes {
		for qi, q := range []string{"90", "50", "100", "5"} {
			if skipShort(si, qi) {
				continue
			}
			im := image{rows: sz.rows, cols: sz.cols, frames: 1, spp: 1, stored: 8}
			t.Run(fmt.Sprintf("%dx%d_q%s", sz.cols, sz.rows, q), func(t *testing.T) {
				t.Parallel()
				dcmtkCase(t, im, "+eb", "+q", q)
			})
		}
	}
}

func TestDcmtkGray12(t *testing.T) {
	for si, sz := range sizes {
		for qi, q := range []string{"90", "75", "100", "5"} {
			if skipShort(si, qi) {
				continue
			}
			im := image{rows: sz.rows, cols: sz.cols, frames: 1, spp: 1, stored: 12}
			t.Run(fmt.Sprintf("%dx%d_q%s", sz.cols, sz.rows, q), func(t *testing.T) {
				t.Parallel()
				dcmtkCase(t, im, "+ee", "+q", q)
			})
		}
	}
}

func TestDcmtkExtended8(t *testing.T) {
	im := image{rows: 40, cols: 33, frames: 1, spp: 1, stored: 8}
	dcmtkCase(t, im, "+ee", "+q", "80")
	im.spp = 3
	dcmtkCase(t, im, "+ee", "+q", "80")
}

// skipShort tells which size and quality combinations -short leaves out:
// all but the first two sizes at the first quality.
func skipShort(size, quality int) bool { return testing.Short() && (size > 1 || quality > 0) }

func TestDcmtkColour(t *testing.T) {
	subs := map[string][]string{"444": {"+s4"}, "422": {"+s2"}, "422full": {"+n2"}, "411": {"+n1"}, "411ybr422": {"+np"}}
	for name, sub := range subs {
		for si, sz := range sizes {
			for qi, q := range []string{"90", "100", "20"} {
				if skipShort(si, qi) {
					continue
				}
				im := image{rows: sz.rows, cols: sz.cols, frames: 1, spp: 3, stored: 8}
				t.Run(fmt.Sprintf("%s_%dx%d_q%s", name, sz.cols, sz.rows, q), func(t *testing.T) {
					t.Parallel()
					dcmtkCase(t, im, append([]string{"+eb", "+q", q}, sub...)...)
				})
			}
		}
	}
}

func TestDcmtkMultiFrame(t *testing.T) {
	t.Run("gray8", func(t *testing.T) {
		dcmtkCase(t, image{rows: 31, cols: 45, frames: 4, spp: 1, stored: 8}, "+eb")
	})
	t.Run("gray12", func(t *testing.T) {
		dcmtkCase(t, image{rows: 31, cols: 45, frames: 3, spp: 1, stored: 12}, "+ee")
	})
	t.Run("colour", func(t *testing.T) {
		dcmtkCase(t, image{rows: 31, cols: 45, frames: 3, spp: 3, stored: 8}, "+eb")
	})
}

// TestErrors checks that bad input and unsupported processes are reported
// as *codec.Error, unsupported ones wrapping codec.ErrUnsupported.
func TestErrors(t *testing.T) {
	f := codec.Frame{Columns: 8, Rows: 8, Samples: 1, Bits: 8}
	sof := func(marker byte, p int) []byte {
		return []byte{0xff, 0xd8, 0xff, marker, 0, 11, byte(p), 0, 8, 0, 8, 1, 1, 0x11, 0}
	}
	cases := []struct {
		name        string
		src         []byte
		f           codec.Frame
		unsupported bool
	}{
		{"empty", nil, f, false},
		{"no SOI", []byte{1, 2, 3}, f, false},
		{"SOI only", []byte{0xff, 0xd8}, f, false},
		{"progressive", sof(0xc2, 8), f, true},
		{"lossless", sof(0xc3, 8), f, true},
		{"hierarchical", sof(0xc5, 8), f, true},
		{"arithmetic", sof(0xc9, 8), f, true},
		{"precision 16", sof(0xc1, 16), f, true},
		{"precision 12 in 8 bits", sof(0xc1, 12), f, false},
		{"wrong size", sof(0xc0, 8), codec.Frame{Columns: 9, Rows: 8, Samples: 1, Bits: 8}, false},
		{"wrong samples", sof(0xc0, 8), codec.Frame{Columns: 8, Rows: 8, Samples: 3, Bits: 8}, false},
		{"no scan", append(sof(0xc0, 8), 0xff, 0xd9), f, false},
		{"truncated segment", []byte{0xff, 0xd8, 0xff, 0xc0, 0, 40, 8}, f, false},
	}
	for _, c := range cases {
		var d Decoder
		dst := make([]byte, c.f.Size())
		err := d.Decode(dst, c.src, c.f)
		var ce *codec.Error
		if !errors.As(err, &ce) {
			t.Errorf("%s: error %v is not a *codec.Error", c.name, err)
			continue
		}
		if got := errors.Is(err, codec.ErrUnsupported); got != c.unsupported {
			t.Errorf("%s: %v: unsupported is %v, want %v", c.name, err, got, c.unsupported)
		}
	}
}

// libjpegCase encodes a stream with the test encoder, wraps it in DICOM
// with img2dcm and checks the decoder against dcmdjpeg +cn.
func libjpegCase(t *testing.T, sp encSpec) {
	codectest.NeedTool(t, "img2dcm")
	codectest.NeedTool(t, "dcmdjpeg")
	n := len(sp.comps)
	vals := synth(sp.height, sp.width, 1, n, 1<<sp.precision-1, int64(sp.width*31+sp.height))
	planes := make([][]int, n)
	for c := range planes {
		planes[c] = make([]int, sp.width*sp.height)
		for i := range planes[c] {
			planes[c][i] = int(vals[i*n+c])
		}
	}
	stream := encodeJPEG(sp, planes)
	dir := t.TempDir()
	jpg, enc, dec := filepath.Join(dir, "in.jpg"), filepath.Join(dir, "enc.dcm"), filepath.Join(dir, "dec.dcm")
	if err := os.WriteFile(jpg, stream, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "img2dcm", jpg, enc)
	run(t, "dcmdjpeg", "+cn", "+px", "+te", enc, dec)
	decFile, err := os.ReadFile(dec)
	if err != nil {
		t.Fatal(err)
	}
	bits := 8
	if sp.precision > 8 {
		bits = 16
	}
	f := codec.Frame{Columns: sp.width, Rows: sp.height, Samples: n, Bits: bits}
	compare(t, "dcmdjpeg", [][]byte{stream}, nativePixels(t, decFile), f)
}

func TestLibjpegStreams(t *testing.T) {
	q50, q100, q1 := quantTable(50, 255), quantTable(100, 255), quantTable(1, 255)
	coarse := quantTable(800, 255)
	q12 := quantTable(30, 4000)
	for i := range q12 {
		q12[i] = max(q12[i], 2) // keeps 12-bit DC differences within category 15
	}
	c111 := []encComp{{1, 1, 0}, {1, 1, 1}, {1, 1, 1}}
	cases := []struct {
		name string
		sp   encSpec
	}{
		{"gray restart1", encSpec{width: 17, height: 13, precision: 8, sof: mSOF0, comps: []encComp{{1, 1, 0}}, quant: [][64]int{q50}, restart: 1, interleaved: true}},
		{"gray restart3 split", encSpec{width: 40, height: 33, precision: 8, sof: mSOF1, comps: []encComp{{1, 1, 1}}, quant: [][64]int{q100, q1}, restart: 3, interleaved: true, splitSegments: true}},
		{"gray 2x2 factors", encSpec{width: 21, height: 19, precision: 8, sof: mSOF0, comps: []encComp{{2, 2, 0}}, quant: [][64]int{q50}, interleaved: true}},
		{"gray q1 clamps", encSpec{width: 32, height: 16, precision: 8, sof: mSOF0, comps: []encComp{{1, 1, 0}}, quant: [][64]int{q1}, interleaved: true}},
		{"gray coarse", encSpec{width: 32, height: 16, precision: 8, sof: mSOF0, comps: []encComp{{1, 1, 0}}, quant: [][64]int{coarse}, interleaved: true}},
		{"gray 16-bit dqt", encSpec{width: 24, height: 24, precision: 8, sof: mSOF1, comps: []encComp{{1, 1, 0}}, quant: [][64]int{q50}, quant16: true, interleaved: true}},
		{"gray12 restart", encSpec{width: 35, height: 29, precision: 12, sof: mSOF1, comps: []encComp{{1, 1, 0}}, quant: [][64]int{q12}, quant16: true, restart: 2, interleaved: true}},
		{"420 restart2", encSpec{width: 37, height: 29, precision: 8, sof: mSOF0, comps: []encComp{{2, 2, 0}, {1, 1, 1}, {1, 1, 1}}, quant: [][64]int{q50, q100}, restart: 2, interleaved: true}},
		{"420 non-interleaved", encSpec{width: 37, height: 29, precision: 8, sof: mSOF1, comps: []encComp{{2, 2, 0}, {1, 1, 1}, {1, 1, 1}}, quant: [][64]int{q50, q100}, restart: 5}},
		{"422 non-interleaved", encSpec{width: 50, height: 9, precision: 8, sof: mSOF0, comps: []encComp{{2, 1, 0}, {1, 1, 1}, {1, 1, 1}}, quant: [][64]int{q50, q50}}},
		{"444 adobe", encSpec{width: 19, height: 11, precision: 8, sof: mSOF0, comps: c111, quant: [][64]int{q50, q100}, interleaved: true, adobe: true}},
		{"411 4x1", encSpec{width: 45, height: 20, precision: 8, sof: mSOF0, comps: []encComp{{4, 1, 0}, {1, 1, 1}, {1, 1, 1}}, quant: [][64]int{q50, q50}, interleaved: true, restart: 1}},
		{"1x2", encSpec{width: 30, height: 31, precision: 8, sof: mSOF0, comps: []encComp{{1, 2, 0}, {1, 1, 1}, {1, 1, 1}}, quant: [][64]int{q50, q50}, interleaved: true}},
		{"3x1", encSpec{width: 50, height: 10, precision: 8, sof: mSOF0, comps: []encComp{{3, 1, 0}, {1, 1, 1}, {1, 1, 1}}, quant: [][64]int{q50, q50}, interleaved: true}},
		{"4x2 2x1 1x1", encSpec{width: 70, height: 35, precision: 8, sof: mSOF1, comps: []encComp{{4, 2, 0}, {2, 1, 1}, {1, 1, 1}}, quant: [][64]int{q50, q50}}},
		{"4x4 2x2 1x1", encSpec{width: 70, height: 71, precision: 8, sof: mSOF1, comps: []encComp{{4, 4, 0}, {2, 2, 1}, {1, 1, 1}}, quant: [][64]int{q50, q50}}},
		{"chroma larger", encSpec{width: 33, height: 17, precision: 8, sof: mSOF0, comps: []encComp{{1, 1, 0}, {2, 2, 1}, {2, 1, 1}}, quant: [][64]int{q50, q50}, interleaved: true}},
		{"420 narrow", encSpec{width: 3, height: 9, precision: 8, sof: mSOF0, comps: []encComp{{2, 2, 0}, {1, 1, 1}, {1, 1, 1}}, quant: [][64]int{q50, q50}, interleaved: true}},
		{"420 width4", encSpec{width: 4, height: 5, precision: 8, sof: mSOF0, comps: []encComp{{2, 2, 0}, {1, 1, 1}, {1, 1, 1}}, quant: [][64]int{q50, q50}, interleaved: true}},
		{"422 width 5", encSpec{width: 5, height: 3, precision: 8, sof: mSOF0, comps: []encComp{{2, 1, 0}, {1, 1, 1}, {1, 1, 1}}, quant: [][64]int{q50, q50}, interleaved: true}},
		{"Y then CbCr", encSpec{width: 45, height: 37, precision: 8, sof: mSOF1, comps: []encComp{{2, 2, 0}, {1, 1, 1}, {1, 1, 1}}, quant: [][64]int{q50, q100}, scans: [][]int{{0}, {2, 1}}, restart: 3}},
		{"CbCr with Y last", encSpec{width: 45, height: 37, precision: 8, sof: mSOF1, comps: []encComp{{2, 1, 0}, {1, 1, 1}, {1, 1, 1}}, quant: [][64]int{q50, q100}, scans: [][]int{{1, 2}, {0}}}},
		{"colour12 420", encSpec{width: 27, height: 21, precision: 12, sof: mSOF1, comps: []encComp{{2, 2, 0}, {1, 1, 1}, {1, 1, 1}}, quant: [][64]int{q12, q12}, quant16: true, interleaved: true, restart: 4}},
		{"colour12 422 non-interleaved", encSpec{width: 27, height: 21, precision: 12, sof: mSOF1, comps: []encComp{{2, 1, 0}, {1, 1, 1}, {1, 1, 1}}, quant: [][64]int{q12, q12}, quant16: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			libjpegCase(t, c.sp)
		})
	}
}

// encodeSynth encodes a synthetic image with the test encoder.
func encodeSynth(sp encSpec) []byte {
	n := len(sp.comps)
	vals := synth(sp.height, sp.width, 1, n, 1<<sp.precision-1, 3)
	planes := make([][]int, n)
	for c := range planes {
		planes[c] = make([]int, sp.width*sp.height)
		for i := range planes[c] {
			planes[c][i] = int(vals[i*n+c])
		}
	}
	return encodeJPEG(sp, planes)
}

// TestStreamEdges checks, without external tools, what surrounds the
// pixels: padding after EOI, 8-bit precision in a 16-bit frame, and that
// truncated or corrupted entropy-coded data is an error, not an image.
func TestStreamEdges(t *testing.T) {
	q := quantTable(50, 255)
	sp := encSpec{width: 33, height: 21, precision: 8, sof: mSOF0, comps: []encComp{{2, 1, 0}, {1, 1, 0}, {1, 1, 0}}, quant: [][64]int{q}, interleaved: true, restart: 2}
	src := encodeSynth(sp)
	f := codec.Frame{Columns: 33, Rows: 21, Samples: 3, Bits: 8}
	var d Decoder
	want := make([]byte, f.Size())
	if err := d.Decode(want, src, f); err != nil {
		t.Fatal(err)
	}

	got := make([]byte, f.Size())
	if err := d.Decode(got, append(append([]byte{}, src...), 0), f); err != nil || !bytes.Equal(got, want) {
		t.Errorf("with a padding byte: err %v, equal %v", err, bytes.Equal(got, want))
	}

	f16 := f
	f16.Bits = 16
	wide := make([]byte, f16.Size())
	if err := d.Decode(wide, src, f16); err != nil {
		t.Fatal(err)
	}
	for i, v := range want {
		if wide[2*i] != v || wide[2*i+1] != 0 {
			t.Fatalf("16-bit output sample %d is %d,%d, want %d,0", i, wide[2*i], wide[2*i+1], v)
		}
	}

	sos := bytes.Index(src, []byte{0xff, mSOS})
	for _, cut := range []int{sos + 20, sos + 60, len(src) / 2, len(src) - 40} {
		err := d.Decode(got, src[:cut], f)
		var ce *codec.Error
		if !errors.As(err, &ce) {
			t.Errorf("cut at %d of %d: error %v, want a *codec.Error", cut, len(src), err)
		}
	}

	rst := bytes.Index(src[sos:], []byte{0xff, mRST0 + 1})
	bad := append([]byte{}, src...)
	bad[sos+rst+1] = mRST0 + 5
	if err := d.Decode(got, bad, f); err == nil {
		t.Errorf("a wrong restart marker was accepted")
	}
}
