package jpeg2000

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/codec"
	"github.com/dicom-remap/dicom-remap/internal/codectest"
)

// subCase is an image whose components after the first are subsampled.
type subCase struct {
	w, h, bits int
	signed     bool
	sub        [3][2]int // XRsiz, YRsiz of each component
	opts       string
}

func (c subCase) String() string {
	return fmt.Sprintf("%dx%d-%d_%d%d%d%d_%s", c.w, c.h, c.bits, c.sub[1][0], c.sub[1][1], c.sub[2][0], c.sub[2][1],
		strings.ReplaceAll(c.opts, " ", ""))
}

// rawSub is the input opj_compress reads for per-component subsampling:
// each component's samples in turn, (w*h)/(XRsiz*YRsiz) of them, the
// count its raw reader takes. They come from a synthetic image's planes,
// so they have its gradients, edges, noise and extremes.
func (c subCase) rawSub(im synthImage) []byte {
	var out []byte
	for k, p := range im.planes {
		n := c.w * c.h / (c.sub[k][0] * c.sub[k][1])
		for _, v := range p[:n] {
			if c.bits <= 8 {
				out = append(out, byte(v))
			} else {
				out = binary.LittleEndian.AppendUint16(out, uint16(v))
			}
		}
	}
	return out
}

func (c subCase) encode(t testing.TB, seed int64) []byte {
	t.Helper()
	tool := codectest.NeedTool(t, "opj_compress")
	im := synth(c.w, c.h, 3, c.bits, c.signed, seed)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.rawl"), filepath.Join(dir, "out.j2k")
	if err := os.WriteFile(in, c.rawSub(im), 0o644); err != nil {
		t.Fatal(err)
	}
	sign := "u"
	if c.signed {
		sign = "s"
	}
	spec := fmt.Sprintf("%d,%d,3,%d,%s@%dx%d:%dx%d:%dx%d", c.w, c.h, c.bits, sign,
		c.sub[0][0], c.sub[0][1], c.sub[1][0], c.sub[1][1], c.sub[2][0], c.sub[2][1])
	args := append([]string{"-i", in, "-o", out, "-F", spec}, strings.Fields(c.opts)...)
	if b, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
		t.Fatalf("opj_compress %s: %v\n%s", strings.Join(args[4:], " "), err, b)
	}
	cs, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// pgxPlane is one component as opj_decompress writes it in PGX.
type pgxPlane struct {
	w, h int
	v    []int32
}

// opjComponent decodes component k of cs alone with opj_decompress -c k
// into a PGX file, at the component's own resolution. Alone, because
// opj_decompress takes three components whose second is subsampled
// across for YCbCr and converts them to RGB.
func opjComponent(t *testing.T, cs []byte, k int) pgxPlane {
	t.Helper()
	tool := codectest.NeedTool(t, "opj_decompress")
	dir := t.TempDir()
	in := filepath.Join(dir, "in.j2k")
	if err := os.WriteFile(in, cs, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-i", in, "-o", filepath.Join(dir, "out.pgx"), "-c", strconv.Itoa(k)}
	if b, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
		t.Fatalf("opj_decompress: %v\n%s", err, b)
	}
	data, err := os.ReadFile(filepath.Join(dir, "out_0.pgx"))
	if err != nil {
		t.Fatal(err)
	}
	return readPGX(t, data)
}

// readPGX parses "PG ML|LM +|- depth width height" and the samples.
func readPGX(t *testing.T, data []byte) pgxPlane {
	t.Helper()
	nl := bytes.IndexByte(data, '\n')
	if nl < 0 {
		t.Fatal("PGX without a header line")
	}
	f := strings.Fields(strings.ReplaceAll(string(data[:nl]), "+", " + "))
	if len(f) != 6 || f[0] != "PG" {
		t.Fatalf("PGX header %q", data[:nl])
	}
	depth, _ := strconv.Atoi(f[3])
	w, _ := strconv.Atoi(f[4])
	h, _ := strconv.Atoi(f[5])
	bps := 1
	if depth > 8 {
		bps = 2
	}
	body := data[nl+1:]
	if len(body) != w*h*bps {
		t.Fatalf("PGX of %dx%d with %d bytes of samples", w, h, len(body))
	}
	p := pgxPlane{w: w, h: h, v: make([]int32, w*h)}
	for i := range p.v {
		var u uint32
		switch {
		case bps == 1:
			u = uint32(body[i])
		case f[1] == "ML":
			u = uint32(binary.BigEndian.Uint16(body[2*i:]))
		default:
			u = uint32(binary.LittleEndian.Uint16(body[2*i:]))
		}
		sh := 32 - depth
		if f[2] == "-" {
			p.v[i] = int32(u<<sh) >> sh
		} else {
			p.v[i] = int32(u << sh >> sh)
		}
	}
	return p
}

// opjUpsampled decodes component k of cs alone with opj_decompress
// -upsample, which brings it to the full image size.
func opjUpsampled(t *testing.T, cs []byte, k, w, h, bits int, signed bool) []int32 {
	t.Helper()
	tool := codectest.NeedTool(t, "opj_decompress")
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.j2k"), filepath.Join(dir, "out.rawl")
	if err := os.WriteFile(in, cs, 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(tool, "-upsample", "-c", strconv.Itoa(k), "-i", in, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("opj_decompress -upsample: %v\n%s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	im := synthImage{w: w, h: h, comps: 1, bits: bits, signed: signed}
	planes, err := rawPlanes(data, im)
	if err != nil {
		t.Fatal(err)
	}
	return planes[0]
}

// rawPlanes splits planar little-endian samples as opj_decompress writes
// them, sign-extended or masked to the image's bits.
func rawPlanes(data []byte, im synthImage) ([][]int32, error) {
	bps := 1
	if im.bits > 8 {
		bps = 2
	}
	n := im.w * im.h
	if len(data) != n*im.comps*bps {
		return nil, fmt.Errorf("%d bytes of samples, want %d", len(data), n*im.comps*bps)
	}
	planes := make([][]int32, im.comps)
	for c := range planes {
		planes[c] = make([]int32, n)
		for i := range n {
			u := uint32(data[c*n+i])
			if bps == 2 {
				u = uint32(binary.LittleEndian.Uint16(data[2*(c*n+i):]))
			}
			sh := 32 - im.bits
			if im.signed {
				planes[c][i] = int32(u<<sh) >> sh
			} else {
				planes[c][i] = int32(u << sh >> sh)
			}
		}
	}
	return planes, nil
}

// offsets reads XOsiz and YOsiz from the SIZ marker.
func offsets(cs []byte) (int, int) {
	return int(binary.BigEndian.Uint32(cs[16:])), int(binary.BigEndian.Uint32(cs[20:]))
}

var subCases = []subCase{
	// 4:2:2-like and 4:2:0-like, odd sizes
	{17, 13, 8, false, [3][2]int{{1, 1}, {2, 1}, {2, 1}}, "-n 3"},
	{17, 13, 8, false, [3][2]int{{1, 1}, {2, 2}, {2, 2}}, "-n 3"},
	{64, 48, 8, false, [3][2]int{{1, 1}, {2, 2}, {2, 2}}, ""},
	{1, 1, 8, false, [3][2]int{{1, 1}, {2, 2}, {2, 2}}, "-n 1"},
	{1, 7, 8, false, [3][2]int{{1, 1}, {2, 2}, {1, 2}}, "-n 1"},
	{7, 1, 8, false, [3][2]int{{1, 1}, {2, 1}, {3, 1}}, "-n 1"},
	// an image offset, odd, so that the first sample of a subsampled
	// component lies inside the image, not on its edge
	{33, 27, 8, false, [3][2]int{{1, 1}, {2, 2}, {2, 2}}, "-n 3 -d 3,5"},
	{33, 27, 12, true, [3][2]int{{1, 1}, {2, 1}, {2, 2}}, "-n 2 -d 1,2"},
	{40, 31, 16, false, [3][2]int{{1, 1}, {3, 2}, {4, 3}}, "-n 2 -d 2,1"},
	// tiles whose edges fall between the samples of a subsampled
	// component, and position-driven progressions with precincts, whose
	// positions scale with the subsampling
	{61, 45, 8, false, [3][2]int{{1, 1}, {2, 2}, {2, 2}}, "-n 2 -t 16,16 -T 1,1 -d 3,5"},
	{61, 45, 8, false, [3][2]int{{1, 1}, {2, 2}, {2, 2}}, "-n 3 -p RPCL -c [16,16],[16,16],[32,32]"},
	{61, 45, 8, false, [3][2]int{{1, 1}, {2, 1}, {2, 1}}, "-n 3 -p PCRL -c [16,16],[16,16],[32,32] -d 1,3"},
	{61, 45, 12, false, [3][2]int{{1, 1}, {2, 2}, {2, 2}}, "-n 3 -p CPRL -c [16,16] -t 32,24 -SOP -EPH"},
	// 9/7: within one of opj_decompress
	{57, 39, 8, false, [3][2]int{{1, 1}, {2, 2}, {2, 2}}, "-I -n 3 -r 5 -d 1,1"},
	{57, 39, 12, true, [3][2]int{{1, 1}, {2, 1}, {2, 1}}, "-I -n 3 -p RPCL -c [32,32]"},
}

// TestSubsampling decodes streams with subsampled components. Each
// component at its own resolution, read at the positions its samples
// have on the reference grid, must equal opj_decompress's PGX output of
// it (to one for 9/7); the full output must equal those planes
// replicated over XRsiz x YRsiz blocks, and opj_decompress -upsample.
func TestSubsampling(t *testing.T) {
	for i, c := range subCases {
		t.Run(c.String(), func(t *testing.T) {
			cs := c.encode(t, int64(300+i))
			x0, y0 := offsets(cs)
			f := synthImage{w: c.w, h: c.h, comps: 3, bits: c.bits}.frame()
			var d Decoder
			out := make([]byte, f.Size())
			if err := d.Decode(out, cs, f); err != nil {
				t.Fatalf("decode: %v", err)
			}
			checkStrips(t, cs, f, out)
			got := decoded(out, synthImage{w: c.w, h: c.h, comps: 3, bits: c.bits, signed: c.signed}, f)
			tol := int32(0)
			if strings.Contains(c.opts, "-I") {
				tol = 1
			}
			for k := range 3 {
				p := opjComponent(t, cs, k)
				dx, dy := c.sub[k][0], c.sub[k][1]
				cx0, cy0 := ceilDiv(x0, dx), ceilDiv(y0, dy)
				if w, h := ceilDiv(x0+c.w, dx)-cx0, ceilDiv(y0+c.h, dy)-cy0; p.w != w || p.h != h {
					t.Fatalf("component %d: opj_decompress gives %dx%d, T.800 B.2 %dx%d", k, p.w, p.h, w, h)
				}
				// the component's own samples, where they lie
				for j := range p.h {
					for i := range p.w {
						x, y := (cx0+i)*dx-x0, (cy0+j)*dy-y0
						g, w := got[k][y*c.w+x], p.v[j*p.w+i]
						if g-w > tol || w-g > tol {
							t.Fatalf("component %d sample (%d,%d): %d, opj_decompress %d", k, i, j, g, w)
						}
					}
				}
				// every pixel: the sample whose block holds it
				for y := range c.h {
					j := max((y0+y)/dy-cy0, 0)
					for x := range c.w {
						i := max((x0+x)/dx-cx0, 0)
						g, w := got[k][y*c.w+x], p.v[j*p.w+i]
						if g-w > tol || w-g > tol {
							t.Fatalf("component %d pixel (%d,%d): %d, replicated sample (%d,%d) %d", k, x, y, g, i, j, w)
						}
					}
				}
				// opj_decompress -upsample agrees, but for the rows and
				// columns before the component's first sample, which it
				// sets to 0 rather than to that sample
				up := opjUpsampled(t, cs, k, c.w, c.h, c.bits, c.signed)
				for y := cy0*dy - y0; y < c.h; y++ {
					for x := cx0*dx - x0; x < c.w; x++ {
						g, w := got[k][y*c.w+x], up[y*c.w+x]
						if g-w > tol || w-g > tol {
							t.Fatalf("component %d pixel (%d,%d): %d, opj_decompress -upsample %d", k, x, y, g, w)
						}
					}
				}
			}
			// 32-bit samples: the same values, four bytes each
			f32 := f
			f32.Bits = 32
			out32 := make([]byte, f32.Size())
			if err := d.Decode(out32, cs, f32); err != nil {
				t.Fatalf("decode into 32 bits: %v", err)
			}
			checkStrips(t, cs, f32, out32)
			for i := range c.w * c.h * 3 {
				w := uint32(out[i])
				if f.Bits == 16 {
					w = uint32(binary.LittleEndian.Uint16(out[2*i:]))
				}
				if g := binary.LittleEndian.Uint32(out32[4*i:]); g&(1<<f.Bits-1) != w {
					t.Fatalf("sample %d: 32-bit %#x, %d-bit %#x", i, g, f.Bits, w)
				}
			}
			if n := testing.AllocsPerRun(2, func() { d.Decode(out, cs, f) }); n > 0 {
				t.Errorf("%v allocations per further frame", n)
			}
		})
	}
}

// TestSubsamplingRefused: a subsampled first component (the frame's rows
// and columns would not be the image's) is unsupported; a component
// transform over subsampled components is invalid (T.800 G.1).
func TestSubsamplingRefused(t *testing.T) {
	c := subCase{16, 16, 8, false, [3][2]int{{1, 1}, {2, 2}, {2, 2}}, "-n 2"}
	cs := c.encode(t, 1)
	f := codec.Frame{Columns: 16, Rows: 16, Samples: 3, Bits: 8}
	mct := append([]byte{}, cs...)
	cod := bytes.Index(mct, []byte{0xff, mCOD})
	if cod < 0 {
		t.Fatal("no COD marker")
	}
	mct[cod+8] = 1 // SGcod's multiple component transform
	var d Decoder
	err := d.Decode(make([]byte, f.Size()), mct, f)
	var ce *codec.Error
	if !errors.As(err, &ce) || errors.Is(err, codec.ErrUnsupported) || !strings.Contains(err.Error(), "component transform") {
		t.Errorf("component transform over subsampled components: got %v", err)
	}

	first := append([]byte{}, cs...)
	first[4+38+1] = 2 // XRsiz of component 0
	err = d.Decode(make([]byte, f.Size()), first, f)
	if !errors.As(err, &ce) || !errors.Is(err, codec.ErrUnsupported) {
		t.Errorf("subsampled first component: got %v, want a *codec.Error wrapping ErrUnsupported", err)
	}
	// with XOsiz 1 and XRsiz 255, no multiple of 255 lies in [1, 16)
	empty := append([]byte{}, cs...)
	empty[19] = 1
	empty[4+38+4] = 255
	err = d.Decode(make([]byte, 15*16*3), empty, codec.Frame{Columns: 15, Rows: 16, Samples: 3, Bits: 8})
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "no samples") {
		t.Errorf("component without samples: got %v", err)
	}
	zero := append([]byte{}, cs...)
	zero[4+38+4] = 0 // XRsiz of component 1
	err = d.Decode(make([]byte, f.Size()), zero, f)
	if !errors.As(err, &ce) {
		t.Errorf("subsampling of 0: got %v, want a *codec.Error", err)
	}
}
