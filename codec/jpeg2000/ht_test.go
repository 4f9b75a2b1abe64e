package jpeg2000

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/codectest"
)

// grkEncode compresses im with grk_compress into HT code-blocks (-M 64)
// and checks that the result is HTJ2K: Grok quietly writes Part 1 for
// options it does not support with HT.
func grkEncode(t testing.TB, im synthImage, opts ...string) []byte {
	t.Helper()
	tool := codectest.NeedTool(t, "grk_compress")
	dir := t.TempDir()
	in := filepath.Join(dir, "in.rawl")
	out := filepath.Join(dir, "out.j2k")
	if err := os.WriteFile(in, im.rawl(), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-i", in, "-o", out, "-F", im.rawSpec(), "-M", "64"}, opts...)
	if b, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
		t.Fatalf("grk_compress %s: %v\n%s", strings.Join(opts, " "), err, b)
	}
	cs, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	checkHT(t, cs)
	return cs
}

// checkHT fails unless cs has the Rsiz HT bit, a CAP marker and HT
// code-blocks in its COD.
func checkHT(t testing.TB, cs []byte) {
	t.Helper()
	if len(cs) < 8 || binary.BigEndian.Uint16(cs[6:])&0x4000 == 0 {
		t.Fatalf("encoder wrote no HTJ2K codestream (Rsiz)")
	}
	if !bytes.Contains(cs[:min(len(cs), 300)], []byte{0xff, mCAP}) {
		t.Fatalf("encoder wrote no CAP marker")
	}
	i := bytes.Index(cs, []byte{0xff, mCOD})
	if i < 0 || i+12 > len(cs) || cs[i+12]&styleHT == 0 {
		t.Fatalf("encoder wrote no HT code-blocks")
	}
}

// ojphEncode compresses im with ojph_compress (unsigned samples only:
// OpenJPH 0.9.0 mishandles signed ones), from a planar raw file.
func ojphEncode(t testing.TB, im synthImage, opts ...string) []byte {
	t.Helper()
	tool := codectest.NeedTool(t, "ojph_compress")
	if im.signed {
		t.Fatal("ojph_compress is for unsigned samples")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.yuv")
	out := filepath.Join(dir, "out.j2c")
	if err := os.WriteFile(in, im.rawl(), 0o644); err != nil {
		t.Fatal(err)
	}
	sig := strings.TrimSuffix(strings.Repeat("false,", im.comps), ",")
	bd := strings.TrimSuffix(strings.Repeat(fmt.Sprintf("%d,", im.bits), im.comps), ",")
	ds := strings.TrimSuffix(strings.Repeat("{1,1},", im.comps), ",")
	args := append([]string{"-i", in, "-o", out, "-dims", fmt.Sprintf("{%d,%d}", im.w, im.h),
		"-num_comps", fmt.Sprint(im.comps), "-signed", sig, "-bit_depth", bd, "-downsamp", ds}, opts...)
	if b, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
		t.Fatalf("ojph_compress %s: %v\n%s", strings.Join(opts, " "), err, b)
	}
	cs, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	checkHT(t, cs)
	return cs
}

// HT lossless cases, Grok: the decoded samples must equal the source.
var grkLossless = []opjCase{
	{64, 64, 1, 8, false, ""},
	{37, 29, 1, 8, false, "-n 3"},
	{1, 1, 1, 8, false, "-n 1"},
	{1, 9, 1, 8, false, "-n 1"},
	{9, 1, 1, 8, false, "-n 2"},
	{33, 2, 1, 12, false, "-n 2"},
	{256, 256, 1, 16, false, "-n 6"},
	{200, 130, 1, 16, false, ""},
	{100, 70, 1, 12, true, ""},
	{100, 70, 1, 16, true, "-n 4"},
	{61, 47, 1, 8, true, ""},
	{64, 64, 1, 1, false, "-n 2"},
	{45, 31, 1, 2, true, "-n 2"},
	{70, 50, 1, 5, false, ""},
	{64, 64, 3, 8, false, ""},
	{65, 33, 3, 8, false, "-Y 0"},
	{64, 64, 3, 16, false, ""},
	{37, 29, 3, 12, true, "-n 4"},
	{128, 96, 1, 8, false, "-t 32,32"},
	{131, 77, 3, 8, false, "-t 64,40 -n 3"},
	{128, 128, 1, 12, false, "-p RPCL -c [32,32],[16,16]"},
	{128, 128, 3, 8, false, "-p PCRL -c [64,64],[32,32],[16,16]"},
	{128, 128, 3, 8, false, "-p CPRL -c [32,32]"},
	{100, 80, 3, 12, true, "-p RLCP -n 3"},
	{128, 128, 1, 16, false, "-b 16,16"},
	{128, 128, 1, 16, false, "-b 64,16"},
	{128, 128, 1, 16, false, "-b 8,32"},
	{128, 128, 1, 8, false, "-X -t 64,64"},
	{97, 83, 3, 12, false, "-SOP -EPH"},
	{120, 90, 1, 12, false, "-n 1"},
	{130, 66, 1, 16, false, "-p RPCL -X"},
	// as archives store .202: tile-parts by resolution, TLM and PLT
	{300, 200, 1, 12, false, "-p RPCL -X -u R -L -n 4"},
	{150, 90, 3, 8, false, "-p RPCL -X -u R -t 64,64"},
	{100, 60, 1, 16, true, "-M 72 -n 2"}, // HT with stripe-causal (0x08)
}

func TestHTGrokLossless(t *testing.T) {
	for i, c := range grkLossless {
		t.Run(c.String(), func(t *testing.T) {
			im := synth(c.w, c.h, c.comps, c.bits, c.signed, int64(200+i))
			cs := grkEncode(t, im, strings.Fields(c.opts)...)
			f := im.frame()
			got := decoded(decodeOK(t, cs, f), im, f)
			if d, where := maxDiff(got, im.planes, im.w); d != 0 {
				t.Fatalf("differs from the source by %d at %s", d, where)
			}
		})
	}
}

// HT lossless cases, OpenJPH.
var ojphLossless = []opjCase{
	{64, 64, 1, 8, false, ""},
	{37, 29, 1, 8, false, "-num_decomps 3"},
	{256, 200, 1, 16, false, ""},
	{100, 70, 1, 12, false, "-num_decomps 0"},
	{64, 64, 3, 8, false, ""},
	{65, 33, 1, 8, false, "-num_decomps 1"},
	{131, 77, 3, 12, false, "-tile_size {64,40} -num_decomps 3"},
	{128, 128, 1, 16, false, "-block_size {16,16} -prog_order LRCP"},
	{128, 96, 1, 10, false, "-block_size {32,128} -precincts {64,64},{32,32}"},
	{99, 101, 1, 8, false, "-prog_order CPRL -image_offset {3,5}"},
}

func TestHTOpenJPHLossless(t *testing.T) {
	for i, c := range ojphLossless {
		t.Run(c.String(), func(t *testing.T) {
			im := synth(c.w, c.h, c.comps, c.bits, c.signed, int64(300+i))
			cs := ojphEncode(t, im, append([]string{"-reversible", "true"}, strings.Fields(c.opts)...)...)
			f := im.frame()
			got := decoded(decodeOK(t, cs, f), im, f)
			if d, where := maxDiff(got, im.planes, im.w); d != 0 {
				t.Fatalf("differs from the source by %d at %s", d, where)
			}
		})
	}
}

// HT lossy cases: identical to opj_decompress. Grok's 9/7 HT output is
// near-lossless (it ignores rates for HT); OpenJPH's -qstep quantises.
var grkLossy = []opjCase{
	{64, 64, 1, 8, false, "-I"},
	{128, 96, 3, 8, false, "-I"},
	{100, 70, 1, 12, true, "-I -n 3"},
	{37, 29, 3, 16, true, "-I -n 4 -t 32,16"},
	{131, 77, 3, 8, false, "-I -p RPCL -c [32,32] -t 64,40 -SOP -EPH"},
	{17, 13, 1, 8, false, "-I -n 1"},
}

var ojphLossy = []opjCase{
	{64, 64, 1, 8, false, "-qstep 0.01"},
	{128, 96, 3, 8, false, "-qstep 0.05"},
	{200, 130, 1, 16, false, "-qstep 0.001 -num_decomps 4"},
	{131, 77, 3, 12, false, "-qstep 0.02 -tile_size {64,40} -block_size {32,32}"},
	{99, 57, 1, 10, false, "-qstep 0.1 -num_decomps 0"},
}

func TestHTLossy(t *testing.T) {
	run := func(name string, i int, c opjCase, enc func(synthImage) []byte) {
		t.Run(name+"/"+c.String(), func(t *testing.T) {
			im := synth(c.w, c.h, c.comps, c.bits, c.signed, int64(400+i))
			cs := enc(im)
			f := im.frame()
			got := decoded(decodeOK(t, cs, f), im, f)
			if d, where := maxDiff(got, opjDecode(t, cs, im), im.w); d != 0 {
				t.Fatalf("differs from opj_decompress by %d at %s", d, where)
			}
			if d, where := maxDiff(got, grkDecode(t, cs, im), im.w); d != 0 {
				t.Fatalf("differs from grk_decompress by %d at %s", d, where)
			}
		})
	}
	for i, c := range grkLossy {
		run("grok", i, c, func(im synthImage) []byte { return grkEncode(t, im, strings.Fields(c.opts)...) })
	}
	for i, c := range ojphLossy {
		run("openjph", i, c, func(im synthImage) []byte { return ojphEncode(t, im, strings.Fields(c.opts)...) })
	}
}

// TestHTCorpus decodes every codestream (.j2c, .j2k) or JPH/JP2 file in
// the directory DICOM_REMAP_HT_CORPUS names, such as Kakadu's HT streams
// with refinement passes, and compares each with opj_decompress. It skips
// when the variable is unset: the files are not ours to commit.
func TestHTCorpus(t *testing.T) {
	dir := os.Getenv("DICOM_REMAP_HT_CORPUS")
	if dir == "" {
		t.Skip("DICOM_REMAP_HT_CORPUS is not set")
	}
	names, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		t.Run(filepath.Base(name), func(t *testing.T) {
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			cs, err := codestream(src)
			if err != nil {
				t.Skip(err)
			}
			i := bytes.Index(cs, []byte{0xff, mSIZ})
			if i < 0 || i+42 > len(cs) {
				t.Skip("no SIZ")
			}
			seg := cs[i+4:]
			u := func(k int) int { return int(binary.BigEndian.Uint32(seg[2+4*k:])) }
			nc := int(binary.BigEndian.Uint16(seg[34:]))
			prec, signed := int(seg[36]&0x7f)+1, seg[36]&0x80 != 0
			for c := 1; c < nc; c++ {
				if seg[36+3*c+1] != 1 || seg[36+3*c+2] != 1 {
					t.Skip("subsampled")
				}
			}
			if nc != 1 && nc != 3 {
				t.Skipf("%d components", nc)
			}
			im := synthImage{w: u(0) - u(2), h: u(1) - u(3), comps: nc, bits: prec, signed: signed}
			want, err := opjDecodeMaybe(t, src, im)
			if err != nil {
				t.Skip(err)
			}
			f := im.frame()
			out := make([]byte, f.Size())
			var d Decoder
			if err := d.Decode(out, src, f); err != nil {
				t.Fatal(err)
			}
			checkStrips(t, src, f, out)
			if dd, where := maxDiff(decoded(out, im, f), want, im.w); dd != 0 {
				t.Fatalf("differs from opj_decompress by %d at %s", dd, where)
			}
		})
	}
}

// grkDecode decompresses a codestream with grk_decompress (Grok), the
// second oracle of lossy HT streams, and returns its planes.
func grkDecode(t testing.TB, cs []byte, im synthImage) [][]int32 {
	t.Helper()
	tool := codectest.NeedTool(t, "grk_decompress")
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.j2k"), filepath.Join(dir, "out.rawl")
	if err := os.WriteFile(in, cs, 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(tool, "-i", in, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("grk_decompress: %v\n%s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	planes, err := rawPlanes(data, im)
	if err != nil {
		t.Fatal(err)
	}
	return planes
}

// TestHTAllocation: after the first frame, HT frames decode without
// allocating, as Part 1's do (the block decoder keeps its buffers).
func TestHTAllocation(t *testing.T) {
	for _, c := range []struct {
		im   synthImage
		opts []string
	}{
		{synth(128, 96, 1, 12, false, 1), nil},
		{synth(64, 64, 3, 8, false, 2), []string{"-I", "-t", "32,32"}},
	} {
		cs := grkEncode(t, c.im, c.opts...)
		f := c.im.frame()
		out := make([]byte, f.Size())
		var d Decoder
		if err := d.Decode(out, cs, f); err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(3, func() { d.Decode(out, cs, f) }); n > 0 {
			t.Errorf("%v: %v allocations per further frame", c.opts, n)
		}
	}
}
