package jpeg2000

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/codec"
	"github.com/dicom-remap/dicom-remap/internal/codectest"
	"github.com/dicom-remap/dicom-remap/internal/fixture"
)

// gdcmCase is a synthetic DICOM image for gdcmconv --j2k to compress.
type gdcmCase struct {
	rows, cols, frames, samples, alloc, stored int
	signed                                     bool
	opts                                       string // more gdcmconv options
}

func (c gdcmCase) String() string {
	s := "u"
	if c.signed {
		s = "s"
	}
	return fmt.Sprintf("%dx%dx%d-c%d-%d_%d%s_%s", c.cols, c.rows, c.frames, c.samples, c.alloc, c.stored, s,
		strings.ReplaceAll(c.opts, " ", ""))
}

// gdcmEncode builds the image, compresses it with gdcmconv and returns
// each frame's codestream (its fragments joined) and the source frames as
// planes.
func gdcmEncode(t *testing.T, c gdcmCase, seed int64) ([][]byte, []synthImage) {
	t.Helper()
	tool := codectest.NeedTool(t, "gdcmconv")
	var values []int64
	var frames []synthImage
	for fr := range max(1, c.frames) {
		im := synth(c.cols, c.rows, c.samples, c.stored, c.signed, seed+int64(fr))
		frames = append(frames, im)
		for i := range c.cols * c.rows {
			for s := range c.samples {
				values = append(values, int64(im.planes[s][i]))
			}
		}
	}
	spec := fixture.Spec{Rows: c.rows, Columns: c.cols, Frames: c.frames, BitsAllocated: c.alloc,
		BitsStored: c.stored, Signed: c.signed, Values: values, Photometric: "MONOCHROME2"}
	if c.samples == 3 {
		spec.SOPClass = fixture.SecondaryCap
		spec.Modality = "OT"
		spec.Photometric = "RGB"
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.dcm"), filepath.Join(dir, "out.dcm")
	if err := os.WriteFile(in, fixture.Build(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--j2k"}, strings.Fields(c.opts)...)
	args = append(args, in, out)
	if b, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
		t.Fatalf("gdcmconv %v: %v\n%s", args, err, b)
	}
	file, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	_, frags, err := fixture.Fragments(file)
	if err != nil {
		t.Fatal(err)
	}
	var streams [][]byte
	switch {
	case len(frags) == len(frames):
		streams = frags
	case len(frames) == 1:
		var all []byte
		for _, f := range frags {
			all = append(all, f...)
		}
		streams = [][]byte{all}
	default:
		t.Fatalf("%d fragments for %d frames", len(frags), len(frames))
	}
	return streams, frames
}

func TestGDCM(t *testing.T) {
	cases := []gdcmCase{
		{64, 48, 0, 1, 8, 8, false, ""},
		{61, 37, 0, 1, 16, 12, false, ""},
		{64, 64, 0, 1, 16, 16, false, ""},
		{50, 40, 0, 1, 16, 16, true, ""},
		{33, 17, 0, 1, 16, 12, true, ""},
		{40, 30, 0, 3, 8, 8, false, ""},
		{32, 24, 3, 1, 16, 12, false, ""},
		{24, 20, 2, 3, 8, 8, false, ""},
		{64, 48, 0, 1, 8, 8, false, "--lossy -q 30"},
		{64, 48, 0, 1, 16, 12, false, "--lossy -q 40"},
		{50, 40, 0, 1, 16, 16, true, "--lossy --irreversible -q 50"},
		{40, 30, 2, 3, 8, 8, false, "--lossy -q 35"},
		{40, 30, 0, 3, 8, 8, false, "--lossy --irreversible -r 10"},
	}
	for i, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			streams, frames := gdcmEncode(t, c, int64(10*i))
			lossy := strings.Contains(c.opts, "lossy")
			var d Decoder // one decoder for every frame
			for k, cs := range streams {
				im := frames[k]
				f := codec.Frame{Columns: c.cols, Rows: c.rows, Samples: c.samples, Bits: c.alloc}
				out := make([]byte, f.Size())
				if err := d.Decode(out, append(cs, 0), f); err != nil {
					t.Fatalf("frame %d: %v", k, err)
				}
				checkStrips(t, append(cs, 0), f, out)
				got := decoded(out, im, f)
				want := im.planes
				if lossy {
					want = opjDecode(t, cs, im)
				}
				if diff, where := maxDiff(got, want, c.cols); diff > 0 && (!lossy || diff > 1) {
					t.Fatalf("frame %d differs by %d at %s", k, diff, where)
				}
			}
		})
	}
}
