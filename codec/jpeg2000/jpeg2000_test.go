package jpeg2000

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/codec"
	"github.com/dicom-remap/dicom-remap/internal/codectest"
)

// synthImage is a planar image: comps planes of w*h samples.
type synthImage struct {
	w, h, comps, bits int
	signed            bool
	planes            [][]int32
}

// synth builds an image with structure: a gradient, a sharp-edged block,
// fixed-seed noise, and the extremes of the range in the corners.
func synth(w, h, comps, bits int, signed bool, seed int64) synthImage {
	rng := rand.New(rand.NewSource(seed))
	im := synthImage{w: w, h: h, comps: comps, bits: bits, signed: signed}
	maxv := int32(1)<<bits - 1
	lo := int32(0)
	if signed {
		lo = -(int32(1) << (bits - 1))
	}
	for c := range comps {
		p := make([]int32, w*h)
		for y := range h {
			for x := range w {
				var v int32
				switch {
				case (x/7+y/5+c)%4 == 0:
					v = int32(rng.Intn(int(maxv) + 1)) // noise
				case x > w/3 && x < 2*w/3 && y > h/4 && y < h/2:
					v = maxv * int32(c+1) / 4 // a flat block with sharp edges
				default:
					v = int32((x*int(maxv))/max(1, w-1)+(y*int(maxv))/max(1, h-1)) / 2
				}
				p[y*w+x] = v + lo
			}
		}
		p[0] = lo
		p[len(p)-1] = lo + maxv
		if w > 1 {
			p[w-1] = lo + maxv
		}
		im.planes = append(im.planes, p)
	}
	return im
}

func (im synthImage) frame() codec.Frame {
	b := 8
	if im.bits > 8 {
		b = 16
	}
	return codec.Frame{Columns: im.w, Rows: im.h, Samples: im.comps, Bits: b}
}

// rawl is the image as opj_compress reads it: planar, little endian,
// one byte per sample up to 8 bits, two above.
func (im synthImage) rawl() []byte {
	bps := 1
	if im.bits > 8 {
		bps = 2
	}
	out := make([]byte, 0, im.w*im.h*im.comps*bps)
	for _, p := range im.planes {
		for _, v := range p {
			if bps == 1 {
				out = append(out, byte(v))
			} else {
				out = binary.LittleEndian.AppendUint16(out, uint16(v))
			}
		}
	}
	return out
}

func (im synthImage) rawSpec() string {
	s := "u"
	if im.signed {
		s = "s"
	}
	return fmt.Sprintf("%d,%d,%d,%d,%s", im.w, im.h, im.comps, im.bits, s)
}

// opjEncode compresses im with opj_compress and the given options and
// returns the codestream (or JP2 file, by ext).
func opjEncode(t testing.TB, im synthImage, ext string, opts ...string) []byte {
	t.Helper()
	tool := codectest.NeedTool(t, "opj_compress")
	dir := t.TempDir()
	in := filepath.Join(dir, "in.rawl")
	out := filepath.Join(dir, "out."+ext)
	if err := os.WriteFile(in, im.rawl(), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-i", in, "-o", out, "-F", im.rawSpec()}, opts...)
	if b, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
		t.Fatalf("opj_compress %s: %v\n%s", strings.Join(opts, " "), err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// opjEncodeMaybe is opjEncode that returns nil when opj_compress refuses
// the options (it rejects some combinations of sizes and options).
func opjEncodeMaybe(t testing.TB, im synthImage, opts []string) []byte {
	t.Helper()
	tool := codectest.NeedTool(t, "opj_compress")
	dir := t.TempDir()
	in := filepath.Join(dir, "in.rawl")
	out := filepath.Join(dir, "out.j2k")
	if err := os.WriteFile(in, im.rawl(), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-i", in, "-o", out, "-F", im.rawSpec()}, opts...)
	if err := exec.Command(tool, args...).Run(); err != nil {
		return nil
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return nil
	}
	return data
}

// opjDecode decompresses a codestream with opj_decompress and returns the
// planes it writes.
func opjDecode(t testing.TB, cs []byte, im synthImage) [][]int32 {
	t.Helper()
	p, err := opjDecodeMaybe(t, cs, im)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// opjDecodeMaybe is opjDecode that returns opj_decompress's complaint.
func opjDecodeMaybe(t testing.TB, cs []byte, im synthImage) ([][]int32, error) {
	t.Helper()
	tool := codectest.NeedTool(t, "opj_decompress")
	dir := t.TempDir()
	in := filepath.Join(dir, "in.j2k")
	if len(cs) > 8 && string(cs[4:8]) == "jP  " {
		in = filepath.Join(dir, "in.jp2")
	}
	out := filepath.Join(dir, "out.rawl")
	if err := os.WriteFile(in, cs, 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(tool, "-i", in, "-o", out).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("opj_decompress: %v\n%s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	bps := 1
	if im.bits > 8 {
		bps = 2
	}
	n := im.w * im.h
	if len(data) != n*im.comps*bps {
		return nil, fmt.Errorf("opj_decompress wrote %d bytes, want %d", len(data), n*im.comps*bps)
	}
	planes := make([][]int32, im.comps)
	for c := range planes {
		planes[c] = make([]int32, n)
		for i := range n {
			var v int32
			if bps == 1 {
				v = int32(data[c*n+i])
			} else {
				v = int32(binary.LittleEndian.Uint16(data[2*(c*n+i):]))
			}
			// as the caller does from BitsStored: a stream whose
			// precision exceeds it decodes to values it masks
			sh := 32 - im.bits
			if im.signed {
				v = v << sh >> sh
			} else {
				v = int32(uint32(v) << sh >> sh)
			}
			planes[c][i] = v
		}
	}
	return planes, nil
}

// decoded reads our output back as planes of sign-extended values.
func decoded(out []byte, im synthImage, f codec.Frame) [][]int32 {
	n := im.w * im.h
	bps := f.Bits / 8
	planes := make([][]int32, im.comps)
	for c := range planes {
		planes[c] = make([]int32, n)
		for i := range n {
			p := (i*im.comps + c) * bps
			var v uint32
			switch bps {
			case 1:
				v = uint32(out[p])
			case 2:
				v = uint32(binary.LittleEndian.Uint16(out[p:]))
			}
			s := int32(v)
			if im.signed {
				sh := 32 - im.bits
				s = int32(v<<sh) >> sh
			} else {
				s = int32(v & (1<<im.bits - 1))
			}
			planes[c][i] = s
		}
	}
	return planes
}

// maxDiff compares planes, returning the largest difference and where.
func maxDiff(a, b [][]int32, w int) (int32, string) {
	var worst int32
	where := ""
	for c := range a {
		for i := range a[c] {
			d := a[c][i] - b[c][i]
			if d < 0 {
				d = -d
			}
			if d > worst {
				worst = d
				where = fmt.Sprintf("component %d at (%d,%d): %d vs %d", c, i%w, i/w, a[c][i], b[c][i])
			}
		}
	}
	return worst, where
}

func decodeOK(t *testing.T, cs []byte, f codec.Frame) []byte {
	t.Helper()
	out := make([]byte, f.Size())
	var d Decoder
	if err := d.Decode(out, cs, f); err != nil {
		t.Fatalf("decode: %v", err)
	}
	checkStrips(t, cs, f, out)
	return out
}

type opjCase struct {
	w, h, comps, bits int
	signed            bool
	opts              string
}

func (c opjCase) String() string {
	s := "u"
	if c.signed {
		s = "s"
	}
	return fmt.Sprintf("%dx%dx%d-%d%s_%s", c.w, c.h, c.comps, c.bits, s, strings.ReplaceAll(c.opts, " ", ""))
}

// lossless cases: the decoded samples must equal the source.
var losslessCases = []opjCase{
	{64, 64, 1, 8, false, ""},
	{17, 13, 1, 8, false, "-n 3"},
	{1, 9, 1, 8, false, "-n 1"},
	{9, 1, 1, 8, false, "-n 1"},
	{1, 1, 1, 8, false, "-n 1"},
	{33, 2, 1, 12, false, "-n 2"},
	{256, 256, 1, 16, false, "-n 8"},
	{256, 256, 1, 8, false, "-n 9"},
	{200, 130, 1, 16, false, "-n 6"},
	{100, 70, 1, 12, true, ""},
	{100, 70, 1, 16, true, "-n 4"},
	{61, 47, 1, 8, true, ""},
	{64, 64, 3, 8, false, ""},
	{65, 33, 3, 8, false, "-mct 0"},
	{64, 64, 3, 16, false, ""},
	{37, 29, 3, 12, true, "-n 4"},
	{128, 96, 1, 8, false, "-t 32,32"},
	{128, 96, 1, 8, false, "-t 50,40 -n 3"},
	{100, 100, 3, 8, false, "-t 64,48 -d 3,5 -T 1,2"},
	{128, 128, 1, 8, false, "-n 1"},
	{128, 128, 1, 12, false, "-r 40,10,1 -n 4"},
	{128, 128, 1, 12, false, "-r 20,5,1 -p RLCP"},
	{128, 128, 1, 12, false, "-r 20,5,1 -p RPCL -c [32,32],[16,16]"},
	{128, 128, 3, 8, false, "-r 20,5,1 -p PCRL -c [64,64],[32,32],[16,16]"},
	{128, 128, 3, 8, false, "-r 20,5,1 -p CPRL -c [32,32]"},
	{131, 77, 3, 8, false, "-r 20,5,1 -p RPCL -c [32,32] -t 64,40"},
	{128, 128, 1, 16, false, "-b 4,4"},
	{128, 128, 1, 16, false, "-b 64,16 -c [128,128],[64,64],[32,32]"},
	{128, 128, 1, 8, false, "-M 1"},
	{128, 128, 1, 8, false, "-M 2"},
	{128, 128, 1, 8, false, "-M 4"},
	{128, 128, 1, 8, false, "-M 8"},
	{128, 128, 1, 8, false, "-M 16"},
	{128, 128, 1, 8, false, "-M 32"},
	{128, 128, 1, 16, false, "-M 63 -r 10,3,1"},
	{97, 83, 3, 12, false, "-M 5 -SOP -EPH -r 8,2,1"},
	{128, 128, 1, 8, false, "-SOP -EPH -p PCRL -c [32,32]"},
	{128, 128, 1, 8, false, "-ROI c=0,U=12"},
	// opj_compress writes broken streams for POC with several layers
	{128, 128, 1, 8, false, "-POC T1=0,0,1,2,1,RLCP/T1=2,0,1,7,1,LRCP"},
	{128, 128, 3, 8, false, "-POC T1=0,0,1,3,3,RLCP/T1=3,0,1,7,3,CPRL -c [32,32]"},
	{128, 128, 3, 8, false, "-TP R -t 64,64 -r 5,1"},
	{128, 128, 1, 8, false, "-PLT -TLM -t 64,64"},
}

func TestOpenJPEGLossless(t *testing.T) {
	for i, c := range losslessCases {
		t.Run(c.String(), func(t *testing.T) {
			im := synth(c.w, c.h, c.comps, c.bits, c.signed, int64(i))
			opts := strings.Fields(c.opts)
			cs := opjEncode(t, im, "j2k", opts...)
			f := im.frame()
			out := decodeOK(t, cs, f)
			got := decoded(out, im, f)
			if d, where := maxDiff(got, im.planes, im.w); d != 0 {
				t.Fatalf("differs from the source by %d at %s", d, where)
			}
		})
	}
}

// lossy cases: within ±1 of opj_decompress.
var lossyCases = []opjCase{
	{64, 64, 1, 8, false, "-I"},
	{64, 64, 1, 8, false, "-I -r 10"},
	{128, 96, 3, 8, false, "-I -r 20"},
	{128, 96, 3, 8, false, "-I -q 40,30"},
	{256, 256, 1, 16, false, "-I -r 15 -n 8"},
	{100, 70, 1, 12, true, "-I -r 5"},
	{37, 29, 3, 12, true, "-I -n 4"},
	{17, 13, 1, 8, false, "-I -n 3"},
	{1, 9, 1, 8, false, "-I -n 1"},
	{9, 2, 1, 8, false, "-I -n 2"},
	{131, 77, 3, 8, false, "-I -r 20,5,2 -p RPCL -c [32,32] -t 64,40 -M 63 -SOP -EPH"},
	{128, 128, 1, 12, false, "-r 30,10"}, // lossy reversible
	{128, 128, 3, 8, false, "-I -ROI c=0,U=10 -r 10"},
}

func TestOpenJPEGLossy(t *testing.T) {
	for i, c := range lossyCases {
		t.Run(c.String(), func(t *testing.T) {
			im := synth(c.w, c.h, c.comps, c.bits, c.signed, int64(100+i))
			cs := opjEncode(t, im, "j2k", strings.Fields(c.opts)...)
			want := opjDecode(t, cs, im)
			f := im.frame()
			got := decoded(decodeOK(t, cs, f), im, f)
			if d, where := maxDiff(got, want, im.w); d != 0 {
				t.Fatalf("differs from opj_decompress by %d at %s", d, where)
			}
		})
	}
}

func TestJP2Wrapper(t *testing.T) {
	im := synth(40, 30, 3, 8, false, 5)
	jp2 := opjEncode(t, im, "jp2", "-n", "4")
	f := im.frame()
	got := decoded(decodeOK(t, append(jp2, 0), f), im, f)
	if d, where := maxDiff(got, im.planes, im.w); d != 0 {
		t.Fatalf("differs from the source by %d at %s", d, where)
	}
}

func TestErrors(t *testing.T) {
	im := synth(32, 32, 1, 12, false, 9)
	cs := opjEncode(t, im, "j2k")
	f := im.frame()
	bad := []struct {
		name string
		src  []byte
		f    codec.Frame
	}{
		{"empty", nil, f},
		{"wrong width", cs, codec.Frame{Columns: 31, Rows: 32, Samples: 1, Bits: 16}},
		{"wrong samples", cs, codec.Frame{Columns: 32, Rows: 32, Samples: 3, Bits: 16}},
		{"precision over bits", cs, codec.Frame{Columns: 32, Rows: 32, Samples: 1, Bits: 8}},
		{"truncated header", cs[:40], f},
		{"truncated data", cs[:len(cs)/2], f},
	}
	for _, b := range bad {
		out := make([]byte, max(0, b.f.Size()))
		var d Decoder
		err := d.Decode(out, b.src, b.f)
		var ce *codec.Error
		if err == nil || !errors.As(err, &ce) {
			t.Errorf("%s: got %v, want a *codec.Error", b.name, err)
		}
	}
}

// TestAllocation checks that a decoder's memory is a small multiple of
// the frame, and that a second frame allocates nothing.
func TestAllocation(t *testing.T) {
	for _, c := range []struct {
		im      synthImage
		opts    []string
		perSamp int // bytes allowed per decoded sample
	}{
		// coefficients of 4 bytes per sample, integer or float in one
		// buffer, and lines and column strips
		{synth(256, 256, 1, 16, false, 1), nil, 6},
		{synth(128, 128, 3, 8, false, 2), []string{"-I"}, 6},
		// a code-block of 56 bytes per 16 samples; precincts of 64 bytes
		{synth(256, 256, 1, 16, false, 1), []string{"-b", "4,4"}, 40},
		{synth(128, 128, 3, 8, false, 2), []string{"-I", "-c", "[8,8]", "-n", "3", "-b", "4,4"}, 80},
	} {
		cs := opjEncode(t, c.im, "j2k", c.opts...)
		f := c.im.frame()
		out := make([]byte, f.Size())
		// the whole tile, and strips (which large frames take)
		for _, rows := range []int{0, 16} {
			testAllocation(t, cs, f, out, c.opts, c.perSamp, rows)
		}
	}
}

func testAllocation(t *testing.T, cs []byte, f codec.Frame, out []byte, opts []string, perSamp, rows int) {
	if rows > 0 {
		perSamp++ // the strips' records of the jobs, 17 bytes a code-block
	}
	{
		d := Decoder{stripRows: rows}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if err := d.Decode(out, cs, f); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		limit := uint64(perSamp*f.Columns*f.Rows*f.Samples + 4*len(cs) + 1<<16)
		if got := after.TotalAlloc - before.TotalAlloc; got > limit {
			t.Errorf("%v, strips %d: first frame allocated %d bytes, more than %d", opts, rows, got, limit)
		}
		if n := testing.AllocsPerRun(3, func() { d.Decode(out, cs, f) }); n > 0 {
			t.Errorf("%v, strips %d: %v allocations per further frame", opts, rows, n)
		}
	}
}

func TestUnsupported(t *testing.T) {
	im := synth(32, 32, 3, 8, false, 3)
	cs := opjEncode(t, im, "j2k")
	f := im.frame()
	mixed := append([]byte{}, cs...)
	i := bytes.Index(mixed, []byte{0xff, mCOD})
	mixed[i+12] |= styleHT | styleMixed // HT and Part 1 code-blocks mixed
	sub := opjEncode(t, synth(32, 32, 3, 8, false, 3), "j2k", "-s", "2,2")
	for name, src := range map[string][]byte{"mixed HT": mixed, "subsampled": sub} {
		var d Decoder
		err := d.Decode(make([]byte, f.Size()), src, f)
		var ce *codec.Error
		if !errors.As(err, &ce) || !errors.Is(err, codec.ErrUnsupported) {
			t.Errorf("%s: got %v, want a *codec.Error wrapping ErrUnsupported", name, err)
		}
	}
}

// TestTruncation cuts streams at many points: every cut must fail with a
// *codec.Error (a cut inside the last packets' data says so) or, within
// the final bytes that hold no samples (EOC), still decode.
func TestTruncation(t *testing.T) {
	for _, opts := range [][]string{
		{"-n", "3"},
		{"-I", "-r", "5,1", "-SOP", "-EPH", "-t", "16,16", "-n", "2"},
		{"-M", "63", "-p", "PCRL", "-b", "8,8", "-n", "3"},
	} {
		im := synth(40, 30, 3, 8, false, 4)
		cs := opjEncode(t, im, "j2k", opts...)
		f := im.frame()
		out := make([]byte, f.Size())
		var d Decoder
		for n := 0; n < len(cs)-2; n++ {
			err := d.Decode(out, cs[:n], f)
			var ce *codec.Error
			if err == nil {
				t.Errorf("%v: stream cut to %d of %d bytes decodes", opts, n, len(cs))
			} else if !errors.As(err, &ce) {
				t.Errorf("%v: cut to %d: %v is not a *codec.Error", opts, n, err)
			}
		}
	}
}

// Test32Bit decodes into 32-bit samples: the same values, four bytes each.
func Test32Bit(t *testing.T) {
	im := synth(21, 11, 3, 12, true, 8)
	cs := opjEncode(t, im, "j2k", "-n", "2")
	f := im.frame()
	want := decodeOK(t, cs, f)
	f32 := f
	f32.Bits = 32
	got := decodeOK(t, cs, f32)
	for i := range len(want) / 2 {
		w := binary.LittleEndian.Uint16(want[2*i:])
		g := binary.LittleEndian.Uint32(got[4*i:])
		if uint16(g) != w || int32(g)<<20>>20 != int32(g) {
			t.Fatalf("sample %d: 32-bit %#x, 16-bit %#x", i, g, w)
		}
	}
}
