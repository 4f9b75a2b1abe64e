package color

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/codec"
	"github.com/dicom-remap/dicom-remap/internal/codectest"
	"github.com/dicom-remap/dicom-remap/internal/fixture"
)

// refYCC is libjpeg's ycc_rgb_convert written out without tables: the
// products rounded to nearest by adding one half before the shift, green's
// two products summed before its single rounding.
func refYCC(y, cb, cr, precision int) (r, g, b int) {
	fixed := func(x float64) int { return int(x*65536 + 0.5) }
	center := 1 << (precision - 1)
	x, z := cb-center, cr-center
	r = y + (fixed(1.402)*z+32768)>>16
	g = y + (-fixed(0.34414)*x-fixed(0.71414)*z+32768)>>16
	b = y + (fixed(1.772)*x+32768)>>16
	top := 1<<precision - 1
	return min(max(r, 0), top), min(max(g, 0), top), min(max(b, 0), top)
}

func TestYBRFullToRGB8AllValues(t *testing.T) {
	p := make([]byte, 0, 3*256*256)
	for y := 0; y < 256; y += 5 {
		p = p[:0]
		for cb := 0; cb < 256; cb++ {
			for cr := 0; cr < 256; cr++ {
				p = append(p, byte(y), byte(cb), byte(cr))
			}
		}
		YBRFullToRGB(p, 1, 8)
		for i := 0; i < len(p); i += 3 {
			cb, cr := i/3/256, i/3%256
			r, g, b := refYCC(y, cb, cr, 8)
			if int(p[i]) != r || int(p[i+1]) != g || int(p[i+2]) != b {
				t.Fatalf("Y Cb Cr %d %d %d: got %v, want %d %d %d", y, cb, cr, p[i:i+3], r, g, b)
			}
		}
	}
}

func TestYBRFullToRGB12(t *testing.T) {
	rng := rand.New(rand.NewSource(12))
	n := 100000
	p := make([]byte, 6*n)
	in := make([][3]int, n)
	for i := range in {
		in[i] = [3]int{rng.Intn(4096), rng.Intn(4096), rng.Intn(4096)}
		if i < 8 { // the corners of the cube
			in[i] = [3]int{4095 * (i & 1), 4095 * (i >> 1 & 1), 4095 * (i >> 2 & 1)}
		}
		for c, v := range in[i] {
			binary.LittleEndian.PutUint16(p[6*i+2*c:], uint16(v))
		}
	}
	YBRFullToRGB(p, 2, 12)
	for i, v := range in {
		r, g, b := refYCC(v[0], v[1], v[2], 12)
		got := [3]int{int(binary.LittleEndian.Uint16(p[6*i:])), int(binary.LittleEndian.Uint16(p[6*i+2:])), int(binary.LittleEndian.Uint16(p[6*i+4:]))}
		if got != [3]int{r, g, b} {
			t.Fatalf("Y Cb Cr %v: got %v, want %d %d %d", v, got, r, g, b)
		}
	}
}

// lastPixelData returns the value of the last native (7FE0,0010) element of
// an Explicit VR Little Endian file, as dcmdjpeg writes it.
func lastPixelData(t *testing.T, file []byte) []byte {
	t.Helper()
	at := -1
	for _, vr := range []string{"OB", "OW"} {
		at = max(at, bytes.LastIndex(file, append([]byte{0xe0, 0x7f, 0x10, 0x00}, vr...)))
	}
	if at < 0 || at+12 > len(file) {
		t.Fatal("no pixel data")
	}
	n := int(binary.LittleEndian.Uint32(file[at+8:]))
	if n > len(file)-at-12 {
		t.Fatalf("pixel data of %d bytes in %d", n, len(file)-at-12)
	}
	return file[at+12 : at+12+n]
}

func run(t *testing.T, tool string, args ...string) {
	t.Helper()
	if msg, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", tool, args, err, msg)
	}
}

// TestYBRFullToRGBMatchesDcmtk is the independent check: dcmdjpeg keeping
// YCbCr, then YBRFullToRGB, must give dcmdjpeg's own RGB byte for byte.
func TestYBRFullToRGBMatchesDcmtk(t *testing.T) {
	codectest.NeedTool(t, "dcmcjpeg")
	codectest.NeedTool(t, "dcmdjpeg")
	for _, tc := range []struct {
		rows, cols, precision int
	}{{64, 96, 8}, {17, 13, 8}, {1, 31, 8}, {40, 50, 12}} {
		rows, cols, precision := tc.rows, tc.cols, tc.precision
		top := int64(1)<<precision - 1
		t.Run(fmt.Sprintf("%dx%d-%d-bit", rows, cols, precision), func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(rows * cols)))
			values := make([]int64, 0, rows*cols*3)
			for y := 0; y < rows; y++ {
				for x := 0; x < cols; x++ {
					// Saturated primaries, gradients and noise: every
					// clamp of the range limit gets hit.
					switch (x / 8) % 4 {
					case 0:
						values = append(values, top*int64(y&1), 0, top*int64(y>>1&1))
					case 1:
						values = append(values, int64(x)*top/int64(cols), int64(y)*top/int64(rows), top-int64(x)*top/int64(cols))
					case 2:
						values = append(values, rng.Int63n(top+1), rng.Int63n(top+1), rng.Int63n(top+1))
					default:
						values = append(values, 0, top, int64(x*y)%(top+1))
					}
				}
			}
			spec := fixture.Spec{SOPClass: fixture.SecondaryCap, Modality: "OT", Rows: rows, Columns: cols,
				Photometric: "RGB", BitsAllocated: 8, BitsStored: 8, Values: values}
			mode := "+eb" // baseline
			if precision == 12 {
				spec.BitsAllocated, spec.BitsStored = 16, 12
				mode = "+ee" // extended sequential, 12-bit
			}
			dir := t.TempDir()
			in := filepath.Join(dir, "in.dcm")
			jpg, ycc, rgb := filepath.Join(dir, "jpg.dcm"), filepath.Join(dir, "ycc.dcm"), filepath.Join(dir, "rgb.dcm")
			if err := os.WriteFile(in, fixture.Build(spec), 0o644); err != nil {
				t.Fatal(err)
			}
			// 4:4:4 so that no upsampling differs between the two decodings.
			run(t, "dcmcjpeg", mode, "+s4", in, jpg)
			run(t, "dcmdjpeg", "+cn", "+px", jpg, ycc)
			run(t, "dcmdjpeg", "+ca", "+px", jpg, rgb)
			yccFile, err := os.ReadFile(ycc)
			if err != nil {
				t.Fatal(err)
			}
			rgbFile, err := os.ReadFile(rgb)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(yccFile, []byte("YBR_FULL")) {
				t.Fatal("dcmdjpeg +cn did not keep YBR_FULL")
			}
			got := bytes.Clone(lastPixelData(t, yccFile))
			want := lastPixelData(t, rgbFile)
			if bytes.Equal(got, want) {
				t.Fatal("YCbCr and RGB decodings are identical: no conversion to test")
			}
			if precision == 12 && len(want) != 6*rows*cols {
				t.Fatalf("dcmdjpeg gave %d bytes for %d 16-bit RGB pixels", len(want), rows*cols)
			}
			YBRFullToRGB(got, spec.BitsAllocated/8, precision)
			if !bytes.Equal(got, want) {
				i := 0
				for i < len(got) && i < len(want) && got[i] == want[i] {
					i++
				}
				t.Fatalf("differs from dcmdjpeg's RGB at byte %d of %d/%d", i, len(got), len(want))
			}
		})
	}
}

func TestExpand422(t *testing.T) {
	src := []byte{10, 11, 100, 200, 12, 13, 101, 201, 14, 15, 102, 202, 16, 17, 103, 203}
	dst := make([]byte, 24)
	if err := Expand422(dst, src, 4, 2); err != nil {
		t.Fatal(err)
	}
	want := []byte{10, 100, 200, 11, 100, 200, 12, 101, 201, 13, 101, 201, 14, 102, 202, 15, 102, 202, 16, 103, 203, 17, 103, 203}
	if !bytes.Equal(dst, want) {
		t.Fatalf("got %v, want %v", dst, want)
	}
	for _, tc := range []struct {
		cols, rows, src, dst int
		err                  string
	}{
		{3, 2, 12, 18, "odd"},
		{4, 2, 15, 24, "want 16 into 24"},
		{4, 2, 16, 25, "want 16 into 24"},
		{0, 2, 0, 0, "0x2"},
		{1 << 20, 1 << 20, 0, 0, "frame of"},
	} {
		err := Expand422(make([]byte, tc.dst), make([]byte, tc.src), tc.cols, tc.rows)
		var ce *codec.Error
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%dx%d: got %v, want a *codec.Error mentioning %q", tc.cols, tc.rows, err, tc.err)
		}
	}
}

func le16(v ...int) []byte {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(x))
	}
	return b
}

func TestPaletteSynthetic(t *testing.T) {
	// Tables of different lengths and starts, to see each clamp on its own.
	p, err := NewPalette([3][3]int{{4, 10, 16}, {2, 11, 16}, {3, 9, 16}},
		[3][]byte{le16(1000, 1001, 1002, 1003), le16(2000, 2001), le16(3000, 3001, 3002)})
	if err != nil {
		t.Fatal(err)
	}
	if p.Bits() != 16 {
		t.Fatalf("bits %d", p.Bits())
	}
	src := []byte{0, 9, 10, 11, 12, 13, 14, 255}
	dst := make([]byte, 6*len(src))
	p.Expand(dst, src, 1, false)
	want := [][3]int{{1000, 2000, 3000}, {1000, 2000, 3000}, {1000, 2000, 3001}, {1001, 2000, 3002}, {1002, 2001, 3002},
		{1003, 2001, 3002}, {1003, 2001, 3002}, {1003, 2001, 3002}}
	for i, w := range want {
		got := [3]int{int(binary.LittleEndian.Uint16(dst[6*i:])), int(binary.LittleEndian.Uint16(dst[6*i+2:])), int(binary.LittleEndian.Uint16(dst[6*i+4:]))}
		if got != w {
			t.Errorf("index %d: got %v, want %v", src[i], got, w)
		}
	}

	// 8-bit entries, one per word and packed, signed 16-bit index.
	word := []byte{7, 0, 8, 0, 9, 0}
	packed := []byte{7, 8, 9, 0}
	// The first mapped value -1 as SS, or as a reader that took it as US.
	for _, tc := range []struct {
		data  []byte
		first int
	}{{word, -1}, {packed, -1}, {word, 65535}, {packed, 65535}} {
		data, first := tc.data, tc.first
		p, err := NewPalette([3][3]int{{3, first, 8}, {3, first, 8}, {3, first, 8}}, [3][]byte{data, data, data})
		if err != nil {
			t.Fatal(err)
		}
		if p.Bits() != 8 {
			t.Fatalf("bits %d", p.Bits())
		}
		src := le16(-32768, -2, -1, 0, 1, 2, 32767)
		dst := make([]byte, 3*7)
		p.Expand(dst, src, 2, true)
		want := []byte{7, 7, 7, 8, 9, 9, 9}
		for i, w := range want {
			if dst[3*i] != w || dst[3*i+1] != w || dst[3*i+2] != w {
				t.Errorf("data %v index %d: got %v, want %d", data, int16(binary.LittleEndian.Uint16(src[2*i:])), dst[3*i:3*i+3], w)
			}
		}
	}

	for _, tc := range []struct {
		d    [3]int
		data []byte
		err  string
	}{
		{[3]int{4, 0, 16}, le16(1, 2, 3), "6 bytes for 4 entries"},
		{[3]int{4, 0, 8}, []byte{1, 2, 3}, "3 bytes for 4 entries"},
		{[3]int{4, 0, 12}, le16(1, 2, 3, 4), "12 bits"},
		{[3]int{-1, 0, 16}, nil, "-1 entries"},
		{[3]int{0, 0, 16}, le16(1, 2), "2 entries"},
		{[3]int{0, 0, 16}, le16(1, 2), "4 bytes for 65536"},
		{[3]int{2, 70000, 16}, le16(1, 2), "first mapped value 70000"},
	} {
		_, err := NewPalette([3][3]int{tc.d, tc.d, tc.d}, [3][]byte{tc.data, tc.data, tc.data})
		var ce *codec.Error
		if !errors.As(err, &ce) {
			t.Errorf("%v: got %v, want a *codec.Error", tc.d, err)
			continue
		}
		if tc.err != "2 entries" && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%v: got %q, want it to mention %q", tc.d, err, tc.err)
		}
	}
}

// TestPaletteMatchesPydicom applies pydicom's apply_color_lut to generated
// PALETTE COLOR files and compares every output sample.
func TestPaletteMatchesPydicom(t *testing.T) {
	const python = "/usr/bin/python3"
	codectest.NeedTool(t, python)
	if err := exec.Command(python, "-c", "import pydicom, numpy").Run(); err != nil {
		if os.Getenv("DICOM_REMAP_REQUIRE_TOOLS") == "1" {
			t.Fatalf("pydicom and numpy for %s: %v", python, err)
		}
		t.Skipf("pydicom and numpy for %s: %v", python, err)
	}
	tests := []struct {
		name           string
		bits           int // index bits allocated
		signed         bool
		entries, first int
		entryBits      int
		packed         bool // 8-bit entries two per word
		lo, hi         int64
	}{
		{"8-bit index, 16-bit entries", 8, false, 256, 0, 16, false, 0, 255},
		{"8-bit index, 8-bit entries in words", 8, false, 200, 20, 8, false, 0, 255},
		{"8-bit index, 8-bit entries packed", 8, false, 256, 0, 8, true, 0, 255},
		{"16-bit index, 16-bit entries", 16, false, 4096, 100, 16, false, 0, 5000},
		{"signed 16-bit index, 8-bit entries in words", 16, true, 300, -100, 8, false, -300, 500},
	}
	// Every file first, then one Python for all: its start-up is slow.
	type prepared struct {
		tables [3][]byte
		values []int64
		out    string
	}
	dir := t.TempDir()
	preps := make([]prepared, len(tests))
	args := []string{"-c", `import sys, pydicom
from pydicom.pixel_data_handlers.util import apply_color_lut
for i in range(1, len(sys.argv), 2):
    ds = pydicom.dcmread(sys.argv[i])
    open(sys.argv[i + 1], "wb").write(apply_color_lut(ds.pixel_array, ds).astype("<u2").tobytes())`}
	for k, tc := range tests {
		rng := rand.New(rand.NewSource(int64(tc.entries)))
		var tables [3][]byte
		for c := range tables {
			for i := 0; i < tc.entries; i++ {
				v := (i*(c+3)*37 + c*1000) % 65536
				if i%7 == 0 {
					v = rng.Intn(65536)
				}
				switch {
				case tc.entryBits == 16:
					tables[c] = binary.LittleEndian.AppendUint16(tables[c], uint16(v))
				case tc.packed:
					tables[c] = append(tables[c], byte(v))
				default:
					tables[c] = binary.LittleEndian.AppendUint16(tables[c], uint16(v&0xff))
				}
			}
			if len(tables[c])%2 == 1 {
				tables[c] = append(tables[c], 0)
			}
		}
		rows, cols := 23, 37
		values := make([]int64, rows*cols)
		for i := range values {
			values[i] = tc.lo + rng.Int63n(tc.hi-tc.lo+1)
		}
		values[0], values[1] = tc.lo, tc.hi
		desc := func(e uint16) fixture.Elem {
			if tc.signed {
				return fixture.SS(0x0028, e, tc.entries%65536, tc.first, tc.entryBits)
			}
			return fixture.US(0x0028, e, tc.entries%65536, tc.first, tc.entryBits)
		}
		spec := fixture.Spec{SOPClass: fixture.SecondaryCap, Modality: "OT", Rows: rows, Columns: cols,
			Photometric: "PALETTE COLOR", BitsAllocated: tc.bits, BitsStored: tc.bits, Signed: tc.signed, Values: values,
			Extra: []fixture.Elem{desc(0x1101), desc(0x1102), desc(0x1103),
				{Group: 0x0028, Element: 0x1201, VR: "OW", Value: tables[0]},
				{Group: 0x0028, Element: 0x1202, VR: "OW", Value: tables[1]},
				{Group: 0x0028, Element: 0x1203, VR: "OW", Value: tables[2]}}}
		in, out := filepath.Join(dir, fmt.Sprintf("%d.dcm", k)), filepath.Join(dir, fmt.Sprintf("%d.raw", k))
		if err := os.WriteFile(in, fixture.Build(spec), 0o644); err != nil {
			t.Fatal(err)
		}
		preps[k] = prepared{tables: tables, values: values, out: out}
		args = append(args, in, out)
	}
	if msg, err := exec.Command(python, args...).CombinedOutput(); err != nil {
		t.Fatalf("pydicom: %v\n%s", err, msg)
	}

	for k, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			values := preps[k].values
			ref, err := os.ReadFile(preps[k].out)
			if err != nil {
				t.Fatal(err)
			}
			// As a reader that takes the descriptor as US would pass it.
			d := [3]int{tc.entries % 65536, tc.first & 0xffff, tc.entryBits}
			p, err := NewPalette([3][3]int{d, d, d}, preps[k].tables)
			if err != nil {
				t.Fatal(err)
			}
			src := make([]byte, len(values)*tc.bits/8)
			for i, v := range values {
				if tc.bits == 8 {
					src[i] = byte(v)
				} else {
					binary.LittleEndian.PutUint16(src[2*i:], uint16(v))
				}
			}
			dst := make([]byte, len(values)*3*p.Bits()/8)
			p.Expand(dst, src, tc.bits/8, tc.signed)
			if len(ref) != 2*3*len(values) {
				t.Fatalf("pydicom gave %d bytes for %d pixels", len(ref), len(values))
			}
			for i := 0; i < 3*len(values); i++ {
				got := int(dst[i])
				if p.Bits() == 16 {
					got = int(binary.LittleEndian.Uint16(dst[2*i:]))
				}
				if want := int(binary.LittleEndian.Uint16(ref[2*i:])); got != want {
					t.Fatalf("pixel %d (index %d) sample %d: got %d, pydicom %d", i/3, values[i/3], i%3, got, want)
				}
			}
		})
	}
}

func FuzzPalette(f *testing.F) {
	f.Add(4, 10, 16, le16(1, 2, 3, 4), []byte{0, 9, 10, 13, 14, 255}, uint8(0))
	f.Add(3, -1, 8, []byte{7, 8, 9, 0}, le16(-2, -1, 0, 1, 2), uint8(3))
	f.Add(0, 0, 16, le16(1, 2), []byte{1}, uint8(1))
	// The palette edges of the hostile cases (internal/hostile): data
	// shorter than the descriptor, 12-bit entries, 0 for 65536 entries.
	f.Add(256, 0, 16, make([]byte, 200), []byte{0, 99, 100, 255}, uint8(0))
	f.Add(256, 0, 12, make([]byte, 512), []byte{0, 255}, uint8(0))
	f.Add(0, 0, 16, make([]byte, 512), []byte{0, 1, 255, 255}, uint8(1))
	f.Add(65535, 65535, 16, make([]byte, 2*65535), []byte{0xff, 0xff, 0, 0}, uint8(3))
	f.Fuzz(func(t *testing.T, entries, first, bits int, data, src []byte, mode uint8) {
		d := [3]int{entries, first, bits}
		p, err := NewPalette([3][3]int{d, d, d}, [3][]byte{data, data, data})
		if err != nil {
			var ce *codec.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *codec.Error", err)
			}
			return
		}
		if p.Bits() != 8 && p.Bits() != 16 {
			t.Fatalf("bits %d", p.Bits())
		}
		bytesPer := 1 + int(mode&1)
		n := len(src) / bytesPer
		// Every byte of the output is written, whatever the indices:
		// two differently filled destinations come out equal.
		a, b := make([]byte, n*3*p.Bits()/8), bytes.Repeat([]byte{0xa5}, n*3*p.Bits()/8)
		p.Expand(a, src, bytesPer, mode&2 != 0)
		p.Expand(b, src, bytesPer, mode&2 != 0)
		if !bytes.Equal(a, b) {
			t.Fatal("palette output not fully written")
		}
		// The indices at the end of the destination, as a decoder
		// writes them there, give the same pixels.
		c := make([]byte, len(a))
		tail := c[len(c)-n*bytesPer:]
		copy(tail, src)
		p.Expand(c, tail, bytesPer, mode&2 != 0)
		if !bytes.Equal(a, c) {
			t.Fatal("palette output differs when the indices are the destination's tail")
		}
	})
}

func FuzzExpand422(f *testing.F) {
	f.Add([]byte{10, 11, 100, 200, 12, 13, 101, 201}, 2, 2, 12)
	f.Add([]byte{1, 2, 3}, 3, 1, 9)
	f.Fuzz(func(t *testing.T, src []byte, cols, rows, dstLen int) {
		if dstLen < 0 || dstLen > 1<<20 {
			return
		}
		dst := make([]byte, dstLen)
		if err := Expand422(dst, src, cols, rows); err != nil {
			var ce *codec.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *codec.Error", err)
			}
			return
		}
		// Every Y once and every chroma pair twice.
		for i := 0; i+4 <= len(src); i += 4 {
			o := i / 4 * 6
			if dst[o] != src[i] || dst[o+3] != src[i+1] || dst[o+1] != src[i+2] || dst[o+4] != src[i+2] || dst[o+2] != src[i+3] || dst[o+5] != src[i+3] {
				t.Fatalf("pair %d: %v from %v", i/4, dst[o:o+6], src[i:i+4])
			}
		}
		// The same from the destination's tail, as a native frame is
		// read there.
		in := make([]byte, len(dst))
		tail := in[len(in)-len(src):]
		copy(tail, src)
		if err := Expand422(in, tail, cols, rows); err != nil || !bytes.Equal(in, dst) {
			t.Fatalf("expanded in place: %v, equal %v", err, bytes.Equal(in, dst))
		}
	})
}

func BenchmarkYBRFullToRGB(b *testing.B) {
	p := make([]byte, 512*512*3)
	rand.New(rand.NewSource(1)).Read(p)
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		YBRFullToRGB(p, 1, 8)
	}
}

func BenchmarkPalette16(b *testing.B) {
	table := make([]byte, 2*4096)
	rand.New(rand.NewSource(1)).Read(table)
	p, err := NewPalette([3][3]int{{4096, 0, 16}, {4096, 0, 16}, {4096, 0, 16}}, [3][]byte{table, table, table})
	if err != nil {
		b.Fatal(err)
	}
	src := make([]byte, 512*512*2)
	rand.New(rand.NewSource(2)).Read(src)
	dst := make([]byte, 512*512*6)
	b.SetBytes(int64(len(dst)))
	for b.Loop() {
		p.Expand(dst, src, 2, false)
	}
}
