package ljpeg

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dicom-remap/dicom-remap/codec"
	"github.com/dicom-remap/dicom-remap/internal/codectest"
	"github.com/dicom-remap/dicom-remap/internal/fixture"
)

// image is a synthetic source image and the frame it decodes to.
type image struct {
	spec   fixture.Spec
	frame  codec.Frame
	frames int
}

// pattern returns rows*cols*samples*frames stored values within bits
// (two's complement when signed): gradients, a sharp-edged block, noise
// from a fixed seed and the extremes of the range, so that every
// difference category occurs.
func pattern(rows, cols, samples, frames, bits int, signed bool, seed uint64) []int64 {
	lo, hi := int64(0), int64(1)<<bits-1
	if signed {
		lo, hi = -(int64(1) << (bits - 1)), int64(1)<<(bits-1)-1
	}
	span := hi - lo
	rng := rand.New(rand.NewPCG(seed, 7))
	v := make([]int64, 0, rows*cols*samples*frames)
	for f := 0; f < frames; f++ {
		for y := 0; y < rows; y++ {
			for x := 0; x < cols; x++ {
				for s := 0; s < samples; s++ {
					var p int64
					switch {
					case y%7 == 3 && x%5 == 1:
						p = lo
					case y%7 == 3 && x%5 == 2:
						p = hi
					case y%11 == 5 && x%2 == 0:
						p = lo + span/2 + 1 // next to lo: a difference of 2^15 at 16 bits
					case x >= cols/3 && x < cols/2 && y >= rows/4 && y < rows/2:
						p = hi - int64(f+s)
					case (x+y)%3 == 0:
						p = lo + rng.Int64N(span+1)
					default:
						p = lo + (int64(x*97+y*31+f*13+s*50)*span/int64(cols*97+rows*31+100))%(span+1)
					}
					v = append(v, p)
				}
			}
		}
	}
	return v
}

func grayImage(rows, cols, frames, allocated, stored int, signed bool) image {
	return image{
		spec: fixture.Spec{Rows: rows, Columns: cols, Frames: frames, BitsAllocated: allocated, BitsStored: stored,
			Signed: signed, Values: pattern(rows, cols, 1, max(frames, 1), stored, signed, uint64(rows*cols+stored))},
		frame:  codec.Frame{Columns: cols, Rows: rows, Samples: 1, Bits: allocated},
		frames: max(frames, 1),
	}
}

func rgbImage(rows, cols, frames int) image {
	return image{
		spec: fixture.Spec{SOPClass: fixture.SecondaryCap, Modality: "OT", Rows: rows, Columns: cols, Frames: frames,
			Photometric: "RGB", BitsAllocated: 8, BitsStored: 8, Values: pattern(rows, cols, 3, max(frames, 1), 8, false, 99)},
		frame:  codec.Frame{Columns: cols, Rows: rows, Samples: 3, Bits: 8},
		frames: max(frames, 1),
	}
}

// encode runs the encoder on the image and returns the encoded file.
func encode(t testing.TB, img image, tool string, args ...string) []byte {
	t.Helper()
	return codectest.Encode(t, img.spec, tool, args...)
}

// want is the frame's expected samples: the source's low bits, those
// below the point transform cleared.
func want(img image, frame int, pt uint) []uint64 {
	n := img.frame.Columns * img.frame.Rows * img.frame.Samples
	mask := uint64(1)<<img.spec.BitsStored - 1
	out := make([]uint64, n)
	for i, v := range img.spec.Values[frame*n : (frame+1)*n] {
		out[i] = uint64(v) & mask >> pt << pt
	}
	return out
}

// samples reads a decoded frame back, masked to the stored bits.
func samples(img image, dst []byte) []uint64 {
	mask := uint64(1)<<img.spec.BitsStored - 1
	out := make([]uint64, len(dst)*8/img.frame.Bits)
	for i := range out {
		if img.frame.Bits == 8 {
			out[i] = uint64(dst[i]) & mask
		} else {
			out[i] = uint64(binary.LittleEndian.Uint16(dst[2*i:])) & mask
		}
	}
	return out
}

// checkFile decodes every frame of an encoded file and compares it with
// the source.
func checkFile(t *testing.T, img image, file []byte, pt uint) {
	t.Helper()
	streams := codectest.Frames(t, file, img.frames)
	t.Logf("%d frames, first: %s", len(streams), describe(streams[0]))
	var d Decoder
	for k, s := range streams {
		dst := make([]byte, img.frame.Size())
		if err := d.Decode(dst, s, img.frame); err != nil {
			t.Fatalf("frame %d (%s): %v", k, describe(s), err)
		}
		got, exp := samples(img, dst), want(img, k, pt)
		for i := range exp {
			if got[i] != exp[i] {
				t.Fatalf("frame %d (%s): sample %d (pixel %d,%d) = %d, want %d", k, describe(s), i,
					i/img.frame.Samples%img.frame.Columns, i/img.frame.Samples/img.frame.Columns, got[i], exp[i])
			}
		}
	}
}

// describe summarises the SOF3 and SOS headers of a stream for messages.
func describe(s []byte) string {
	var out []string
	for i := 0; i+4 <= len(s); {
		if s[i] != 0xFF || s[i+1] == 0 || s[i+1] == 0xFF || s[i+1] >= 0xD0 && s[i+1] <= 0xD9 {
			i++
			continue
		}
		m, l := s[i+1], int(binary.BigEndian.Uint16(s[i+2:]))
		if i+2+l > len(s) || l < 2 {
			break
		}
		seg := s[i+4 : i+2+l]
		switch {
		case m == markerSOF3 && len(seg) >= 6:
			out = append(out, fmt.Sprintf("P=%d Nf=%d", seg[0], seg[5]))
		case m == markerSOS && len(seg) >= 1 && len(seg) >= 4+2*int(seg[0]):
			p := seg[1+2*int(seg[0]):]
			out = append(out, fmt.Sprintf("Ns=%d SV=%d Pt=%d", seg[0], p[0], p[2]&15))
		}
		i += 2 + l
	}
	return fmt.Sprint(out)
}

func TestDcmtk(t *testing.T) {
	type tc struct {
		name string
		img  image
		args []string
		pt   uint
	}
	var cases []tc
	for sv := 1; sv <= 7; sv++ {
		svArgs := []string{"+el", "+sv", fmt.Sprint(sv)}
		cases = append(cases,
			tc{fmt.Sprintf("gray8/sv%d", sv), grayImage(37, 41, 0, 8, 8, false), svArgs, 0},
			tc{fmt.Sprintf("gray12in16/sv%d", sv), grayImage(33, 29, 0, 16, 12, false), svArgs, 0},
			tc{fmt.Sprintf("gray16/sv%d", sv), grayImage(31, 40, 0, 16, 16, false), svArgs, 0},
			tc{fmt.Sprintf("signed16/sv%d", sv), grayImage(30, 33, 0, 16, 16, true), svArgs, 0},
			tc{fmt.Sprintf("rgb8/sv%d", sv), rgbImage(19, 23, 0), svArgs, 0},
		)
	}
	cases = append(cases,
		tc{"gray8/sv1-default", grayImage(17, 13, 0, 8, 8, false), []string{"+e1"}, 0},
		tc{"signed12in16", grayImage(17, 13, 0, 16, 12, true), []string{"+e1"}, 0},
		tc{"gray6in8", grayImage(17, 13, 0, 8, 6, false), []string{"+e1"}, 0},
		tc{"multiframe16", grayImage(21, 19, 4, 16, 16, false), []string{"+e1"}, 0},
		tc{"multiframe-rgb", rgbImage(9, 11, 3), []string{"+el", "+sv", "4"}, 0},
		tc{"1x1", grayImage(1, 1, 0, 16, 16, false), []string{"+e1"}, 0},
		tc{"1x37", grayImage(1, 37, 0, 16, 16, false), []string{"+el", "+sv", "5"}, 0},
		tc{"37x1", grayImage(37, 1, 0, 16, 16, false), []string{"+el", "+sv", "6"}, 0},
		tc{"rgb-1x9", rgbImage(1, 9, 0), []string{"+el", "+sv", "7"}, 0},
		tc{"gray8/pt2", grayImage(23, 17, 0, 8, 8, false), []string{"+el", "+sv", "4", "+pt", "2"}, 2},
		tc{"gray16/pt3", grayImage(23, 17, 0, 16, 16, false), []string{"+el", "+sv", "7", "+pt", "3"}, 3},
		tc{"gray12/pt1-sv1", grayImage(23, 17, 0, 16, 12, false), []string{"+e1", "+pt", "1"}, 1},
		tc{"rgb/pt1", rgbImage(13, 17, 0), []string{"+el", "+sv", "2", "+pt", "1"}, 1},
		tc{"gray8/standard-tables", grayImage(20, 20, 0, 8, 8, false), []string{"+e1", "-ho"}, 0},
	)
	rgb16 := rgbImage(14, 15, 2)
	rgb16.spec.BitsAllocated, rgb16.spec.BitsStored, rgb16.frame.Bits = 16, 16, 16
	rgb16.spec.Values = pattern(14, 15, 3, 2, 16, false, 5)
	cases = append(cases, tc{"rgb16-multiframe/sv6", rgb16, []string{"+el", "+sv", "6"}, 0})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkFile(t, c.img, encode(t, c.img, "dcmcjpeg", c.args...), c.pt)
		})
	}
}

func TestGDCM(t *testing.T) {
	cases := map[string]image{
		"gray8":        grayImage(37, 41, 0, 8, 8, false),
		"gray12in16":   grayImage(17, 13, 0, 16, 12, false),
		"gray16":       grayImage(31, 40, 0, 16, 16, false),
		"signed16":     grayImage(30, 33, 0, 16, 16, true),
		"rgb8":         rgbImage(19, 23, 0),
		"multiframe":   grayImage(13, 17, 3, 16, 16, false),
		"column":       grayImage(29, 1, 0, 8, 8, false),
		"row":          grayImage(1, 29, 0, 16, 12, false),
		"signed12in16": grayImage(17, 13, 0, 16, 12, true),
	}
	for name, img := range cases {
		t.Run(name, func(t *testing.T) {
			checkFile(t, img, encode(t, img, "gdcmconv", "--jpeg"), 0)
		})
	}
}
