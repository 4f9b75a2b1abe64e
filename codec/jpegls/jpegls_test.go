package jpegls

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/dicom-remap/dicom-remap/codec"
	"github.com/dicom-remap/dicom-remap/internal/codectest"
	"github.com/dicom-remap/dicom-remap/internal/fixture"
	"github.com/dicom-remap/dicom-remap/internal/hostile"
)

// image is a synthetic test image.
type image struct {
	rows, cols, frames int
	rgb                bool
	bits               int // bits stored
	alloc              int // bits allocated: 0 for the least of 8 and 16 that holds bits
	signed             bool
}

func (im image) samples() int {
	if im.rgb {
		return 3
	}
	return 1
}

func (im image) allocated() int {
	if im.alloc != 0 {
		return im.alloc
	}
	if im.bits > 8 {
		return 16
	}
	return 8
}

// values makes stored values with structure for every coding path: flat
// areas (run mode, runs reaching the line end or not), a gradient, an edge
// between the extremes, and noise from a fixed seed (regular mode, escape
// codes).
func (im image) values(seed uint64) []int64 {
	rng := rand.New(rand.NewPCG(seed, 7))
	lo, hi := int64(0), int64(1)<<im.bits-1
	if im.signed {
		lo, hi = -(int64(1) << (im.bits - 1)), int64(1)<<(im.bits-1)-1
	}
	span := hi - lo
	spp := im.samples()
	v := make([]int64, 0, im.rows*im.cols*im.frames*spp)
	for f := range im.frames {
		for y := range im.rows {
			for x := range im.cols {
				for c := range spp {
					var s int64
					switch band := (x*3 + y*5 + f) % 7; {
					case y%11 == 3 || x < im.cols/4 && y < im.rows/3:
						s = lo + span/2 // flat
					case band == 0:
						s = lo + span*int64(x+c)/int64(im.cols+2)
					case band == 1:
						if (x/3+y/2)%2 == 0 {
							s = lo
						} else {
							s = hi
						}
					case band == 2:
						s = lo + rng.Int64N(span+1)
					case band == 3:
						s = lo + span/3 + rng.Int64N(8)
					default:
						s = lo + (span*int64(y+c*7)/int64(im.rows+20)+int64(x%4))%(span+1)
					}
					v = append(v, s)
				}
			}
		}
	}
	return v
}

func (im image) spec(values []int64) fixture.Spec {
	s := fixture.Spec{Rows: im.rows, Columns: im.cols, BitsAllocated: im.allocated(), BitsStored: im.bits,
		Signed: im.signed, Values: values}
	if im.frames > 1 {
		s.Frames = im.frames
	}
	if im.rgb {
		s.SOPClass, s.Modality, s.Photometric = fixture.SecondaryCap, "OT", "RGB"
	}
	return s
}

func (im image) frame() codec.Frame {
	return codec.Frame{Columns: im.cols, Rows: im.rows, Samples: im.samples(), Bits: im.allocated()}
}

// expected is the decoded layout of values: little endian, masked to the
// bits stored.
func (im image) expected(values []int64) []byte {
	n := im.allocated() / 8
	out := make([]byte, 0, len(values)*n)
	mask := int64(1)<<im.bits - 1
	for _, v := range values {
		v &= mask
		out = append(out, byte(v))
		if n == 2 {
			out = append(out, byte(v>>8))
		}
	}
	return out
}

// nativePixels returns the value of the last Pixel Data element of an
// uncompressed Explicit VR Little Endian file.
func nativePixels(t testing.TB, file []byte) []byte {
	t.Helper()
	for _, vr := range []string{"OW", "OB"} {
		tag := append([]byte{0xe0, 0x7f, 0x10, 0x00}, vr...)
		tag = append(tag, 0, 0)
		if i := bytes.LastIndex(file, tag); i >= 0 {
			n := int(binary.LittleEndian.Uint32(file[i+8:]))
			if i+12+n > len(file) {
				t.Fatal("pixel data overruns the file")
			}
			return file[i+12 : i+12+n]
		}
	}
	t.Fatal("no native pixel data")
	return nil
}

// decodeAll decodes every frame with one Decoder.
func decodeAll(t testing.TB, frs [][]byte, f codec.Frame) []byte {
	t.Helper()
	var d Decoder
	var out []byte
	for i, src := range frs {
		dst := make([]byte, f.Size())
		if err := d.Decode(dst, src, f); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		out = append(out, dst...)
	}
	return out
}

// compare compares decoded samples, masked to the bits stored as the
// caller would (GDCM codes signed samples sign-extended at precision 16),
// with the expected ones.
func compare(t *testing.T, got, want []byte, im image) {
	t.Helper()
	got = masked(got, im)
	if bytes.Equal(got, want) {
		return
	}
	if len(got) != len(want) {
		t.Fatalf("decoded %d bytes, want %d", len(got), len(want))
	}
	n := im.allocated() / 8
	for i := 0; i < len(got); i += n {
		if !bytes.Equal(got[i:i+n], want[i:i+n]) {
			s := i / n
			px := s / im.samples()
			t.Fatalf("sample %d (frame %d, row %d, column %d, component %d): got %v, want %v", s,
				px/(im.rows*im.cols), px/im.cols%im.rows, px%im.cols, s%im.samples(), got[i:i+n], want[i:i+n])
		}
	}
}

// masked returns decoded little-endian samples masked to the bits stored.
func masked(b []byte, im image) []byte {
	out := bytes.Clone(b)
	if im.allocated() == 16 {
		for i := 0; i+1 < len(out); i += 2 {
			v := binary.LittleEndian.Uint16(out[i:]) & uint16(1<<im.bits-1)
			binary.LittleEndian.PutUint16(out[i:], v)
		}
	} else {
		for i := range out {
			out[i] &= byte(1<<im.bits - 1)
		}
	}
	return out
}

var lossless = []struct {
	name string
	im   image
}{
	{"gray8", image{rows: 40, cols: 37, frames: 1, bits: 8}},
	{"gray12-in-16", image{rows: 33, cols: 29, frames: 1, bits: 12}},
	{"gray16", image{rows: 31, cols: 40, frames: 1, bits: 16}},
	{"signed16", image{rows: 24, cols: 21, frames: 1, bits: 16, signed: true}},
	{"signed12", image{rows: 24, cols: 21, frames: 1, bits: 12, signed: true}},
	{"gray2", image{rows: 20, cols: 19, frames: 1, bits: 2}},
	{"gray5", image{rows: 20, cols: 19, frames: 1, bits: 5}},
	{"gray10", image{rows: 20, cols: 19, frames: 1, bits: 10}},
	{"gray2-in-16", image{rows: 20, cols: 19, frames: 1, bits: 2, alloc: 16}},
	{"gray4-in-16", image{rows: 20, cols: 19, frames: 1, bits: 4, alloc: 16}},
	{"gray6-in-16", image{rows: 20, cols: 19, frames: 1, bits: 6, alloc: 16}},
	{"gray7-in-16", image{rows: 20, cols: 19, frames: 1, bits: 7, alloc: 16}},
	{"gray9", image{rows: 20, cols: 19, frames: 1, bits: 9}},
	{"gray15", image{rows: 20, cols: 19, frames: 1, bits: 15}},
	{"1xN", image{rows: 1, cols: 50, frames: 1, bits: 16}},
	{"Nx1", image{rows: 50, cols: 1, frames: 1, bits: 16}},
	{"1x1", image{rows: 1, cols: 1, frames: 1, bits: 8}},
	{"17x13", image{rows: 13, cols: 17, frames: 1, bits: 8}},
	{"multiframe", image{rows: 13, cols: 17, frames: 4, bits: 12}},
	{"rgb8", image{rows: 23, cols: 19, frames: 1, bits: 8, rgb: true}},
	{"rgb8-multiframe", image{rows: 9, cols: 11, frames: 3, bits: 8, rgb: true}},
	{"rgb8-1xN", image{rows: 1, cols: 30, frames: 1, bits: 8, rgb: true}},
	{"large", image{rows: 300, cols: 257, frames: 1, bits: 16}},
}

// TestLosslessDcmtk checks dcmtk's lossless output, in every interleave
// mode, against the synthetic source.
func TestLosslessDcmtk(t *testing.T) {
	for _, c := range lossless {
		modes := [][]string{{}}
		if c.im.rgb {
			modes = [][]string{{"+il"}, {"+is"}, {"+in"}}
		}
		for _, mode := range modes {
			t.Run(fmt.Sprint(c.name, mode), func(t *testing.T) {
				values := c.im.values(1)
				file := codectest.Encode(t, c.im.spec(values), "dcmcjpls", mode...)
				frs := codectest.Frames(t, file, c.im.frames)
				if len(mode) > 0 {
					_, headers, _ := scanParts(t, frs[0])
					h := headers[0]
					if ilv := map[string]byte{"+in": 0, "+il": 1, "+is": 2}[mode[0]]; h[len(h)-2] != ilv {
						t.Fatalf("dcmcjpls %s wrote interleave mode %d", mode[0], h[len(h)-2])
					}
				}
				got := decodeAll(t, frs, c.im.frame())
				compare(t, got, c.im.expected(values), c.im)
			})
		}
	}
}

// TestLosslessGDCM checks GDCM's lossless output against the source.
func TestLosslessGDCM(t *testing.T) {
	for _, c := range lossless {
		if c.im.bits < 8 || c.im.rows*c.im.cols == 1 {
			continue // GDCM 3.0.21 aborts on these
		}
		t.Run(c.name, func(t *testing.T) {
			values := c.im.values(2)
			file := codectest.Encode(t, c.im.spec(values), "gdcmconv", "--jpegls")
			got := decodeAll(t, codectest.Frames(t, file, c.im.frames), c.im.frame())
			compare(t, got, c.im.expected(values), c.im)
		})
	}
}

// TestPresetParameters has dcmtk write an LSE marker with its own
// thresholds and RESET.
func TestPresetParameters(t *testing.T) {
	im := image{rows: 40, cols: 41, frames: 1, bits: 12}
	for _, args := range [][]string{
		{"+t1", "5", "+t2", "20", "+t3", "70", "+rs", "10"},
		{"+t1", "2", "+t2", "3", "+t3", "4", "+rs", "3"},
		{"+en", "+md", "3", "+t1", "30", "+t2", "60", "+t3", "200", "+rs", "200"},
	} {
		t.Run(fmt.Sprint(args), func(t *testing.T) {
			values := im.values(3)
			file := codectest.Encode(t, im.spec(values), "dcmcjpls", args...)
			if !bytes.Contains(file, []byte{0xff, markerLSE}) {
				t.Fatal("no LSE marker written")
			}
			got := decodeAll(t, codectest.Frames(t, file, 1), im.frame())
			if args[0] == "+en" {
				checkLossy(t, file, got, values, im, 3)
				return
			}
			compare(t, got, im.expected(values), im)
		})
	}
}

// checkLossy compares a near-lossless decode with dcmtk's decode of the
// same file (exactly) and with the source (within near).
func checkLossy(t *testing.T, file, got []byte, values []int64, im image, near int64) {
	t.Helper()
	path := codectest.NeedTool(t, "dcmdjpls")
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.dcm"), filepath.Join(dir, "out.dcm")
	if err := os.WriteFile(in, file, 0o600); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command(path, "+px", in, out).CombinedOutput(); err != nil {
		t.Fatalf("dcmdjpls: %v\n%s", err, msg)
	}
	ref, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := nativePixels(t, ref)
	if len(want) == len(got)+1 {
		want = want[:len(got)] // padding to even length
	}
	n := im.allocated() / 8
	mask := int64(1)<<im.bits - 1
	for i := range values {
		g := int64(got[i*n])
		w := int64(want[i*n])
		if n == 2 {
			g |= int64(got[i*n+1]) << 8
			w |= int64(want[i*n+1]) << 8
		}
		g &= mask
		w &= mask
		if g != w {
			t.Fatalf("sample %d: got %d, dcmdjpls %d", i, g, w)
		}
		if d := g - values[i]&mask; d > near || d < -near {
			t.Fatalf("sample %d: got %d, source %d, beyond NEAR %d", i, g, values[i]&mask, near)
		}
	}
}

// TestNearLossless checks near-lossless streams against dcmdjpls.
func TestNearLossless(t *testing.T) {
	cases := []struct {
		name string
		im   image
		near int
		mode string
	}{
		{"gray8-near1", image{rows: 40, cols: 37, frames: 1, bits: 8}, 1, "+il"},
		{"gray8-near2", image{rows: 40, cols: 37, frames: 1, bits: 8}, 2, "+il"},
		{"gray12-near5", image{rows: 33, cols: 29, frames: 1, bits: 12}, 5, "+il"},
		{"gray16-near3", image{rows: 31, cols: 40, frames: 1, bits: 16}, 3, "+il"},
		{"gray16-near255", image{rows: 31, cols: 40, frames: 1, bits: 16}, 255, "+il"},
		{"gray10-near1", image{rows: 20, cols: 19, frames: 1, bits: 10}, 1, "+il"},
		{"17x13-near7", image{rows: 13, cols: 17, frames: 2, bits: 8}, 7, "+il"},
		{"rgb-line-near2", image{rows: 23, cols: 19, frames: 1, bits: 8, rgb: true}, 2, "+il"},
		{"rgb-sample-near2", image{rows: 23, cols: 19, frames: 1, bits: 8, rgb: true}, 2, "+is"},
		{"rgb-none-near2", image{rows: 23, cols: 19, frames: 2, bits: 8, rgb: true}, 2, "+in"},
		{"rgb-sample-near10", image{rows: 16, cols: 33, frames: 1, bits: 8, rgb: true}, 10, "+is"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			values := c.im.values(4)
			file := codectest.Encode(t, c.im.spec(values), "dcmcjpls", "+en", "+md", fmt.Sprint(c.near), c.mode)
			got := decodeAll(t, codectest.Frames(t, file, c.im.frames), c.im.frame())
			checkLossy(t, file, got, values, c.im, int64(c.near))
		})
	}
}

// TestNearLosslessGDCM checks GDCM's near-lossless output the same way.
func TestNearLosslessGDCM(t *testing.T) {
	for _, c := range lossless[:5] {
		t.Run(c.name, func(t *testing.T) {
			values := c.im.values(5)
			file := codectest.Encode(t, c.im.spec(values), "gdcmconv", "--jpegls", "--lossy", "--allowed-error", "2")
			got := decodeAll(t, codectest.Frames(t, file, c.im.frames), c.im.frame())
			checkLossy(t, file, got, values, c.im, 2)
		})
	}
}

// TestMismatch checks that a stream disagreeing with the frame, or cut
// short, is a *codec.Error and not a panic.
func TestMismatch(t *testing.T) {
	im := image{rows: 20, cols: 21, frames: 1, bits: 12}
	values := im.values(6)
	src := codectest.Frames(t, codectest.Encode(t, im.spec(values), "dcmcjpls"), 1)[0]
	good := im.frame()
	for _, c := range []struct {
		name string
		f    codec.Frame
		src  []byte
	}{
		{"rows", codec.Frame{Columns: 21, Rows: 19, Samples: 1, Bits: 16}, src},
		{"columns", codec.Frame{Columns: 22, Rows: 20, Samples: 1, Bits: 16}, src},
		{"samples", codec.Frame{Columns: 21, Rows: 20, Samples: 3, Bits: 16}, src},
		{"precision", codec.Frame{Columns: 21, Rows: 20, Samples: 1, Bits: 8}, src},
		{"empty", good, nil},
		{"soi only", good, src[:2]},
		{"truncated header", good, src[:20]},
		{"truncated scan", good, src[:len(src)/2]},
		{"no eoi, short", good, src[:len(src)-10]},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := new(Decoder).Decode(make([]byte, c.f.Size()), c.src, c.f)
			var ce *codec.Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *codec.Error", err)
			}
		})
	}
	// 32-bit samples hold the same values, zero-extended.
	wide := codec.Frame{Columns: 21, Rows: 20, Samples: 1, Bits: 32}
	dst32 := make([]byte, wide.Size())
	if err := new(Decoder).Decode(dst32, src, wide); err != nil {
		t.Fatal(err)
	}
	want := im.expected(values)
	for i := range im.rows * im.cols {
		w := uint32(binary.LittleEndian.Uint16(want[2*i:]))
		if g := binary.LittleEndian.Uint32(dst32[4*i:]) & (1<<im.bits - 1); g != w {
			t.Fatalf("32-bit sample %d: got %d, want %d", i, g, w)
		}
	}
	// A trailing padding byte after EOI is fine.
	dst := make([]byte, good.Size())
	if err := new(Decoder).Decode(dst, append(append([]byte{}, src...), 0), good); err != nil {
		t.Fatal(err)
	}
	compare(t, dst, im.expected(values), im)
}

// TestUnsupported checks that the features left out name themselves.
func TestUnsupported(t *testing.T) {
	f := codec.Frame{Columns: 4, Rows: 4, Samples: 1, Bits: 8}
	sof := []byte{0xff, 0xd8, 0xff, 0xf7, 0, 11, 8, 0, 4, 0, 4, 1, 1, 0x11, 0}
	for _, c := range []struct {
		name, want string
		src        []byte
	}{
		{"mapping table", "mapping table", append(sof[:len(sof):len(sof)], 0xff, 0xf8, 0, 5, 2, 1, 1)},
		{"oversize", "oversized", append(sof[:len(sof):len(sof)], 0xff, 0xf8, 0, 3, 4)},
		{"hp transform", "colour transform", append(sof[:len(sof):len(sof)], 0xff, 0xe8, 0, 7, 'm', 'r', 'f', 'x', 1)},
		{"table in scan", "mapping table", append(sof[:len(sof):len(sof)], 0xff, 0xda, 0, 8, 1, 1, 5, 0, 0, 0)},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := new(Decoder).Decode(make([]byte, f.Size()), c.src, f)
			var ce *codec.Error
			if !errors.As(err, &ce) || !errors.Is(err, codec.ErrUnsupported) || !bytes.Contains([]byte(err.Error()), []byte(c.want)) {
				t.Fatalf("got %v, want an unsupported %s", err, c.want)
			}
		})
	}
}

// FuzzDecode checks that any input gives either a fully written frame or
// a *codec.Error, never a panic.
func FuzzDecode(f *testing.F) {
	seeds := []struct {
		im   image
		args []string
	}{
		{image{rows: 9, cols: 10, frames: 1, bits: 8}, nil},
		{image{rows: 7, cols: 6, frames: 1, bits: 16}, nil},
		{image{rows: 6, cols: 5, frames: 1, bits: 8, rgb: true}, []string{"+is"}},
		{image{rows: 6, cols: 5, frames: 1, bits: 8, rgb: true}, []string{"+in"}},
		{image{rows: 6, cols: 7, frames: 1, bits: 12}, []string{"+en", "+md", "2", "+t1", "9", "+t2", "20", "+t3", "40", "+rs", "5"}},
	}
	if _, err := exec.LookPath("dcmcjpls"); err == nil {
		for i, s := range seeds {
			file := codectest.Encode(f, s.im.spec(s.im.values(uint64(i))), "dcmcjpls", s.args...)
			src := codectest.Frames(f, file, 1)[0]
			f.Add(src, uint16(s.im.rows-1), uint16(s.im.cols-1), s.im.rgb, s.im.allocated() == 16)
		}
	}
	// The hostile cases' streams (internal/hostile).
	if bases, err := hostile.Bases(f.TempDir(), "jpegls"); err == nil {
		for _, s := range hostile.Streams(bases) {
			if s.Columns <= 64 && s.Rows <= 64 {
				f.Add(s.Data, uint16(s.Rows-1), uint16(s.Columns-1), s.Samples == 3, s.Bits == 16)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte, rows, cols uint16, rgb, wide bool) {
		fr := codec.Frame{Columns: int(cols%64) + 1, Rows: int(rows%64) + 1, Samples: 1, Bits: 8}
		if rgb {
			fr.Samples = 3
		}
		if wide {
			fr.Bits = 16
		}
		codectest.CheckDecode(t, func(dst, src []byte) error { return new(Decoder).Decode(dst, src, fr) }, src, fr.Size(), false)
	})
}

// BenchmarkDecode16 decodes a 512x512 16-bit (12 bits stored) frame.
func BenchmarkDecode16(b *testing.B) {
	im := image{rows: 512, cols: 512, frames: 1, bits: 12}
	values := make([]int64, 0, im.rows*im.cols)
	rng := rand.New(rand.NewPCG(9, 9))
	for y := range im.rows {
		for x := range im.cols {
			// CT-like: a smooth body with noise, flat air outside.
			dx, dy := x-256, y-256
			if dx*dx+dy*dy > 230*230 {
				values = append(values, 0)
				continue
			}
			values = append(values, int64(1000+x+y+rng.IntN(40)))
		}
	}
	benchmark(b, im, values)
}

// BenchmarkDecodeRGBNear decodes a 512x512 8-bit colour near-lossless frame.
func BenchmarkDecodeRGBNear(b *testing.B) {
	im := image{rows: 512, cols: 512, frames: 1, bits: 8, rgb: true}
	values := make([]int64, 0, 3*im.rows*im.cols)
	rng := rand.New(rand.NewPCG(9, 10))
	for y := range im.rows {
		for x := range im.cols {
			for c := range 3 {
				values = append(values, int64((x*(c+1)+y)/4%200+rng.IntN(12)))
			}
		}
	}
	benchmark(b, im, values, "+en", "+md", "2")
}

func benchmark(b *testing.B, im image, values []int64, args ...string) {
	file := codectest.Encode(b, im.spec(values), "dcmcjpls", args...)
	src := codectest.Frames(b, file, 1)[0]
	f := im.frame()
	dst := make([]byte, f.Size())
	var d Decoder
	b.SetBytes(int64(len(dst)))
	b.ResetTimer()
	for b.Loop() {
		if err := d.Decode(dst, src, f); err != nil {
			b.Fatal(err)
		}
	}
}

// scanParts splits a JPEG-LS stream into what precedes its first scan and
// each scan's header segment and entropy-coded data.
func scanParts(t *testing.T, src []byte) (prefix []byte, headers, data [][]byte) {
	t.Helper()
	p := bytes.Index(src, []byte{0xff, markerSOS})
	if p < 0 {
		t.Fatal("no scan")
	}
	prefix = src[:p]
	for p+4 <= len(src) && src[p] == 0xff && src[p+1] == markerSOS {
		n := int(binary.BigEndian.Uint16(src[p+2:]))
		headers = append(headers, src[p:p+2+n])
		p += 2 + n
		end := p
		for end+1 < len(src) && !(src[end] == 0xff && src[end+1] >= 0x80) {
			end++
		}
		data = append(data, src[p:end])
		for end < len(src) && src[end] == 0xff && end+1 < len(src) && src[end+1] == 0xff {
			end++ // fill bytes
		}
		p = end
	}
	return prefix, headers, data
}

// TestRestart checks restart intervals: coding restarts as at the top of
// the image after each RSTm marker, so a stream with interval ri is made
// by coding strips of ri lines on their own and joining their data.
func TestRestart(t *testing.T) {
	for _, c := range []struct {
		name string
		im   image
		ri   int
		args []string
	}{
		{"gray16-ri4", image{rows: 26, cols: 17, frames: 1, bits: 16}, 4, nil},
		{"gray8-ri1", image{rows: 9, cols: 13, frames: 1, bits: 8}, 1, nil},
		{"gray12-near3-ri5", image{rows: 23, cols: 13, frames: 1, bits: 12}, 5, []string{"+en", "+md", "3"}},
		{"rgb-line-ri3", image{rows: 20, cols: 11, frames: 1, bits: 8, rgb: true}, 3, []string{"+il"}},
		{"rgb-sample-ri7", image{rows: 20, cols: 11, frames: 1, bits: 8, rgb: true}, 7, []string{"+is"}},
		{"rgb-none-ri9", image{rows: 20, cols: 11, frames: 1, bits: 8, rgb: true}, 9, []string{"+in"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			values := c.im.values(7)
			per := c.im.cols * c.im.samples()
			var prefix []byte
			var headers, joined [][]byte
			var stripValues [][]int64
			for y, k := 0, 0; y < c.im.rows; y, k = y+c.ri, k+1 {
				strip := c.im
				strip.rows = min(c.ri, c.im.rows-y)
				sv := values[y*per : (y+strip.rows)*per]
				stripValues = append(stripValues, sv)
				src := codectest.Frames(t, codectest.Encode(t, strip.spec(sv), "dcmcjpls", c.args...), 1)[0]
				pre, hs, ds := scanParts(t, src)
				if k == 0 {
					prefix, headers = bytes.Clone(pre), hs
					joined = make([][]byte, len(ds))
				}
				for j, d := range ds {
					if k > 0 {
						joined[j] = append(joined[j], 0xff, byte(markerRST0+(k-1)%8))
					}
					joined[j] = append(joined[j], d...)
				}
			}
			sof := bytes.Index(prefix, []byte{0xff, markerSOF55})
			binary.BigEndian.PutUint16(prefix[sof+5:], uint16(c.im.rows))
			stream := append(prefix, 0xff, markerDRI, 0, 4, 0, byte(c.ri))
			for j := range headers {
				stream = append(stream, headers[j]...)
				stream = append(stream, joined[j]...)
			}
			stream = append(stream, 0xff, markerEOI)
			got := decodeAll(t, [][]byte{stream}, c.im.frame())
			if len(c.args) > 0 && c.args[0] == "+en" {
				// Each strip's own decode is the reference.
				var want []byte
				for _, sv := range stripValues {
					strip := c.im
					strip.rows = len(sv) / per
					src := codectest.Frames(t, codectest.Encode(t, strip.spec(sv), "dcmcjpls", c.args...), 1)[0]
					want = append(want, decodeAll(t, [][]byte{src}, strip.frame())...)
				}
				compare(t, got, want, c.im)
				return
			}
			compare(t, got, c.im.expected(values), c.im)
			// A wrong restart marker number is an error.
			if i := bytes.Index(stream, []byte{0xff, markerRST0}); i >= 0 {
				bad := bytes.Clone(stream)
				bad[i+1] = markerRST0 + 5
				var ce *codec.Error
				if err := new(Decoder).Decode(make([]byte, c.im.frame().Size()), bad, c.im.frame()); !errors.As(err, &ce) {
					t.Fatalf("wrong restart marker: got %v", err)
				}
			}
		})
	}
}
