package rle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/dicom-remap/dicom-remap/codec"
	"github.com/dicom-remap/dicom-remap/internal/codectest"
	"github.com/dicom-remap/dicom-remap/internal/fixture"
	"github.com/dicom-remap/dicom-remap/internal/hostile"
)

// image is a synthetic frame set: samples[frame][pixel*spp+sample], the
// expected decoded order.
type image struct {
	rows, cols, frames, spp, bits int
	signed                        bool
	planar                        int
	samples                       [][]int64
}

// synth fills an image with structure for every run path: constant runs
// longer than 128, a gradient, fixed-seed noise (long literals) and
// alternating extremes.
func synth(rows, cols, frames, spp, bits int, signed bool, planar int) image {
	im := image{rows: rows, cols: cols, frames: frames, spp: spp, bits: bits, signed: signed, planar: planar}
	lo, hi := int64(0), int64(1)<<bits-1
	if signed {
		lo, hi = -(int64(1) << (bits - 1)), int64(1)<<(bits-1)-1
	}
	rng := rand.New(rand.NewSource(int64(rows*1000 + cols + bits)))
	for f := 0; f < frames; f++ {
		s := make([]int64, 0, rows*cols*spp)
		for y := 0; y < rows; y++ {
			for x := 0; x < cols; x++ {
				for c := 0; c < spp; c++ {
					var v int64
					switch 4 * x / cols {
					case 0:
						v = lo + int64(y%2)*(hi-lo)
					case 1:
						v = lo + (hi-lo)/int64(rows+cols+spp+frames)*int64(x+y+c+f)
					case 2:
						v = lo + rng.Int63n(hi-lo+1)
					default:
						if (x/3+c)%2 == 0 {
							v = hi
						} else {
							v = lo
						}
					}
					s = append(s, v)
				}
			}
		}
		im.samples = append(im.samples, s)
	}
	return im
}

// spec returns the fixture of the image, in file order.
func (im image) spec() fixture.Spec {
	s := fixture.Spec{SOPClass: fixture.SecondaryCap, Modality: "OT", Rows: im.rows, Columns: im.cols,
		BitsAllocated: im.bits, BitsStored: im.bits, Signed: im.signed, Planar: im.planar}
	if im.frames > 1 {
		// GDCM writes multi-frame only for a multi-frame SOP class.
		s.Frames = im.frames
		switch {
		case im.spp == 3:
			s.SOPClass = "1.2.840.10008.5.1.4.1.1.7.4"
		case im.bits == 8:
			s.SOPClass = "1.2.840.10008.5.1.4.1.1.7.2"
		default:
			s.SOPClass = "1.2.840.10008.5.1.4.1.1.7.3"
		}
	}
	if im.spp == 3 {
		s.Photometric = "RGB"
	}
	n := im.rows * im.cols
	for _, fr := range im.samples {
		if im.planar == 1 {
			for c := 0; c < im.spp; c++ {
				for p := 0; p < n; p++ {
					s.Values = append(s.Values, fr[p*im.spp+c])
				}
			}
		} else {
			s.Values = append(s.Values, fr...)
		}
	}
	return s
}

// want is the decoded bytes of a frame: little endian, bits unchanged.
func (im image) want(frame int) []byte {
	n := im.bits / 8
	out := make([]byte, len(im.samples[frame])*n)
	for i, v := range im.samples[frame] {
		u := uint64(v)
		for b := 0; b < n; b++ {
			out[i*n+b] = byte(u >> (8 * b))
		}
	}
	return out
}

func (im image) frame() codec.Frame {
	return codec.Frame{Columns: im.cols, Rows: im.rows, Samples: im.spp, Bits: im.bits}
}

// encode writes the image, runs the encoder command on it and returns the
// compressed bytes of each frame.
func encode(t testing.TB, im image, tool string, args ...string) [][]byte {
	t.Helper()
	codectest.NeedTool(t, tool)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.dcm"), filepath.Join(dir, "out.dcm")
	if err := os.WriteFile(in, fixture.Build(im.spec()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tool, append(args, in, out)...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", tool, err, msg)
	}
	file, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	bot, frags, err := fixture.Fragments(file)
	if err != nil {
		t.Fatal(err)
	}
	return splitFrames(t, bot, frags, im.frames)
}

// splitFrames groups fragments into frames by the Basic Offset Table, or
// one fragment per frame when it is empty.
func splitFrames(t testing.TB, bot []uint32, frags [][]byte, frames int) [][]byte {
	t.Helper()
	if len(bot) == 0 {
		if len(frags) != frames {
			t.Fatalf("%d fragments for %d frames and no offset table", len(frags), frames)
		}
		return frags
	}
	if len(bot) != frames {
		t.Fatalf("offset table of %d entries for %d frames", len(bot), frames)
	}
	out := make([][]byte, frames)
	pos, f := uint32(0), 0
	for _, fr := range frags {
		for f+1 < frames && pos >= bot[f+1] {
			f++
		}
		out[f] = append(out[f], fr...)
		pos += 8 + uint32(len(fr))
	}
	return out
}

type testCase struct {
	name string
	im   image
}

func cases() []testCase {
	return []testCase{
		{"gray8", synth(64, 300, 1, 1, 8, false, 0)},
		{"gray8-odd", synth(17, 13, 1, 1, 8, false, 0)},
		{"gray8-1xN", synth(1, 257, 1, 1, 8, false, 0)},
		{"gray8-Nx1", synth(257, 1, 1, 1, 8, false, 0)},
		{"gray16-unsigned", synth(33, 200, 1, 1, 16, false, 0)},
		{"gray16-signed", synth(33, 200, 1, 1, 16, true, 0)},
		{"gray16-odd", synth(13, 17, 1, 1, 16, true, 0)},
		{"gray32", synth(19, 150, 1, 1, 32, false, 0)},
		{"gray32-signed", synth(7, 9, 1, 1, 32, true, 0)},
		{"rgb8-planar0", synth(40, 170, 1, 3, 8, false, 0)},
		{"rgb8-planar1", synth(40, 170, 1, 3, 8, false, 1)},
		{"rgb8-odd", synth(17, 13, 1, 3, 8, false, 1)},
		{"rgb16", synth(21, 140, 1, 3, 16, false, 0)},
		{"multiframe16", synth(12, 10, 5, 1, 16, true, 0)},
		{"multiframe-rgb8", synth(11, 9, 3, 3, 8, false, 1)},
	}
}

var encoders = []struct {
	name string
	tool string
	args []string
}{
	{"dcmcrle", "dcmcrle", nil},
	// 1 KB fragments: a frame's fragments arrive concatenated.
	{"dcmcrle-fragments", "dcmcrle", []string{"+fs", "1"}},
	{"gdcm", "gdcmconv", []string{"--rle"}},
}

func TestDecodeEncoders(t *testing.T) {
	for _, enc := range encoders {
		for _, tc := range cases() {
			t.Run(enc.name+"/"+tc.name, func(t *testing.T) {
				if enc.tool == "gdcmconv" && tc.im.bits == 8 && tc.im.rows*tc.im.cols%2 == 1 {
					t.Skip("gdcmconv --rle aborts on an odd-length 8-bit plane (a GDCM encoder bug); dcmcrle covers it")
				}
				frames := encode(t, tc.im, enc.tool, enc.args...)
				var d Decoder
				for i, src := range frames {
					dst := make([]byte, tc.im.frame().Size())
					if err := d.Decode(dst, src, tc.im.frame()); err != nil {
						t.Fatalf("frame %d: %v", i, err)
					}
					if want := tc.im.want(i); !bytes.Equal(dst, want) {
						t.Fatalf("frame %d differs from the source at byte %d", i, firstDiff(dst, want))
					}
				}
			})
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// header builds an RLE header with the given segment offsets.
func header(offsets ...uint32) []byte {
	h := make([]byte, headerSize)
	binary.LittleEndian.PutUint32(h, uint32(len(offsets)))
	for i, o := range offsets {
		binary.LittleEndian.PutUint32(h[4+4*i:], o)
	}
	return h
}

func TestDecodeHandmade(t *testing.T) {
	f8 := codec.Frame{Columns: 3, Rows: 2, Samples: 1, Bits: 8}
	tests := []struct {
		name    string
		f       codec.Frame
		src     []byte
		want    []byte
		wantErr string
	}{
		{"literal and run", f8, append(header(64), 1, 7, 8, 0xfd, 9), []byte{7, 8, 9, 9, 9, 9}, ""},
		{"no-op run", f8, append(header(64), 0x80, 0xfb, 5), []byte{5, 5, 5, 5, 5, 5}, ""},
		{"padding past the end", f8, append(header(64), 0xfa, 1, 0), []byte{1, 1, 1, 1, 1, 1}, ""},
		{"two bytes past the end", f8, append(header(64), 0xf9, 1), nil, "more than the 6 bytes"},
		{"a row too many", f8, append(header(64), 0xf6, 1), nil, "more than the 6 bytes"},
		{"literal past the end", f8, append(header(64), 7, 1, 2, 3, 4, 5, 6, 7, 8), nil, "more than the 6 bytes"},
		{"runs after the frame", f8, append(header(64), 0xfb, 1, 0x81, 2, 0x81, 3), nil, "more than the 6 bytes"},
		{"trailing padding byte", f8, append(header(64), 5, 1, 2, 3, 4, 5, 6, 0), []byte{1, 2, 3, 4, 5, 6}, ""},
		{"16-bit planes", codec.Frame{Columns: 2, Rows: 1, Samples: 1, Bits: 16},
			append(header(64, 67), 1, 0x12, 0x34, 1, 0x56, 0x78), []byte{0x56, 0x12, 0x78, 0x34}, ""},
		{"short segment", f8, append(header(64), 0xfe, 1), nil, "3 missing"},
		{"truncated literal", f8, append(header(64), 5, 1, 2), nil, "4 missing"},
		{"run without value", f8, append(header(64), 1, 1, 2, 0xfe), nil, "4 missing"},
		{"wrong segment count", f8, append(header(64, 66), 0xfb, 1, 0xfb, 1), nil, "2 segments, want 1"},
		{"offset beyond src", f8, append(header(90), 0xfb, 1), nil, "offset 90"},
		{"offset inside header", f8, append(header(10), 0xfb, 1), nil, "offset 10"},
		{"decreasing offsets", codec.Frame{Columns: 2, Rows: 1, Samples: 1, Bits: 16},
			append(header(66, 64), 1, 1, 2, 1, 2, 3), nil, "offset 64"},
		{"short header", f8, make([]byte, 10), nil, "header"},
		{"wrong dst", codec.Frame{Columns: 3, Rows: 3, Samples: 1, Bits: 8}, append(header(64), 0xfb, 1), nil, "destination"},
		{"12 bits", codec.Frame{Columns: 3, Rows: 2, Samples: 1, Bits: 12}, nil, nil, "12 bits"},
		{"empty frame", codec.Frame{Columns: 0, Rows: 2, Samples: 1, Bits: 8}, nil, nil, "destination"},
		{"2 samples", codec.Frame{Columns: 3, Rows: 1, Samples: 2, Bits: 8}, nil, nil, "2 samples"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := len(tc.want)
			if n == 0 {
				n = max(tc.f.Size(), 0)
				if tc.name == "wrong dst" {
					n = 6
				}
			}
			dst := make([]byte, n)
			err := new(Decoder).Decode(dst, tc.src, tc.f)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(dst, tc.want) {
					t.Fatalf("got %v, want %v", dst, tc.want)
				}
				return
			}
			var ce *codec.Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *codec.Error", err)
			}
			if !bytes.Contains([]byte(err.Error()), []byte(tc.wantErr)) {
				t.Fatalf("got %q, want it to mention %q", err, tc.wantErr)
			}
		})
	}
	var ce *codec.Error
	err := new(Decoder).Decode(make([]byte, 6), nil, codec.Frame{Columns: 3, Rows: 1, Samples: 2, Bits: 8})
	if !errors.As(err, &ce) || !errors.Is(err, codec.ErrUnsupported) {
		t.Fatalf("2 samples: got %v, want codec.ErrUnsupported", err)
	}
}

func FuzzDecode(f *testing.F) {
	seed := func(src []byte, fr codec.Frame) {
		f.Add(src, uint16(fr.Columns), uint16(fr.Rows), uint8(fr.Samples), uint8(fr.Bits))
	}
	frames := []codec.Frame{
		{Columns: 17, Rows: 13, Samples: 1, Bits: 8},
		{Columns: 13, Rows: 17, Samples: 1, Bits: 16},
		{Columns: 9, Rows: 7, Samples: 1, Bits: 32},
		{Columns: 13, Rows: 17, Samples: 3, Bits: 8},
		{Columns: 10, Rows: 12, Samples: 3, Bits: 16},
	}
	// Real encoded frames seed the corpus when the encoder is there.
	if _, err := exec.LookPath("dcmcrle"); err == nil {
		for _, fr := range frames {
			im := synth(fr.Rows, fr.Columns, 1, fr.Samples, fr.Bits, false, 0)
			seed(encode(f, im, "dcmcrle")[0], fr)
		}
	}
	// The hostile cases' streams (internal/hostile): cut, lying about
	// their size, holding more than a frame.
	if bases, err := hostile.Bases(f.TempDir(), "rle"); err == nil {
		for _, s := range hostile.Streams(bases) {
			seed(s.Data, codec.Frame{Columns: s.Columns, Rows: s.Rows, Samples: s.Samples, Bits: s.Bits})
		}
	}
	seed(append(header(64), 0xfb, 1), codec.Frame{Columns: 3, Rows: 2, Samples: 1, Bits: 8})
	f.Fuzz(func(t *testing.T, src []byte, cols, rows uint16, samples, bits uint8) {
		fr := codec.Frame{Columns: int(cols), Rows: int(rows), Samples: int(samples), Bits: int(bits)}
		size := fr.Size()
		if size < 0 || size > 1<<20 {
			return
		}
		codectest.CheckDecode(t, func(dst, src []byte) error { return new(Decoder).Decode(dst, src, fr) }, src, size, true)
	})
}

// phantom is a one-frame grey fixture spec as an image.
func phantom(s fixture.Spec) image {
	return image{rows: s.Rows, cols: s.Columns, frames: 1, spp: 1, bits: s.BitsAllocated, signed: s.Signed, samples: [][]int64{s.Values}}
}

func BenchmarkDecode(b *testing.B) {
	for _, bc := range []struct {
		name string
		im   image
	}{
		{"ct16-512", phantom(fixture.CTSlice(512, 512, 0, "1", "1"))},
		{"gray16-512", synth(512, 512, 1, 1, 16, true, 0)},
		{"gray8-512", synth(512, 512, 1, 1, 8, false, 0)},
		{"rgb8-512", synth(512, 512, 1, 3, 8, false, 0)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			src := encode(b, bc.im, "dcmcrle")[0]
			f := bc.im.frame()
			dst := make([]byte, f.Size())
			var d Decoder
			b.SetBytes(int64(len(dst)))
			b.ReportAllocs()
			for b.Loop() {
				if err := d.Decode(dst, src, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
