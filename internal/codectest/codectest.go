// Package codectest holds what the codec packages' tests share: finding
// the real encoders, running them on synthetic images, and cutting their
// output into frames.
package codectest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/dicom-remap/dicom-remap/codec"
	"github.com/dicom-remap/dicom-remap/internal/fixture"
)

// NeedTool returns the path of a command line tool, or skips the test
// (fails it when DICOM_REMAP_REQUIRE_TOOLS=1).
func NeedTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("DICOM_REMAP_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s is required: %v", name, err)
		}
		t.Skipf("%s not installed: %v", name, err)
	}
	return path
}

// Encode writes the image as DICOM, runs the encoder command (the input
// and output paths are appended for dcmcjpls; for gdcmconv too) and
// returns the encoded file.
func Encode(t testing.TB, spec fixture.Spec, tool string, args ...string) []byte {
	t.Helper()
	path := NeedTool(t, tool)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.dcm"), filepath.Join(dir, "out.dcm")
	if err := os.WriteFile(in, fixture.Build(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, append(args, in, out)...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", tool, args, err, msg)
	}
	file, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return file
}

// Frames splits an encoded file into its frames' compressed bytes, using
// the Basic Offset Table when there is one, else a fragment per frame.
func Frames(t testing.TB, file []byte, n int) [][]byte {
	t.Helper()
	offsets, frags, err := fixture.Fragments(file)
	if err != nil {
		t.Fatal(err)
	}
	frames, err := fixture.SplitFrames(offsets, frags, n)
	if err != nil {
		t.Fatal(err)
	}
	return frames
}

// Decode is one codec's decoder over a fixed frame.
type Decode func(dst, src []byte) error

// CheckDecode asserts what every decoder promises for any src, in a fuzz
// target: no panic; a failure is a *codec.Error; a success writes every
// byte of the frame (two destinations filled differently come out equal)
// and allocates within the frame plus a bounded working set; and a stream
// it accepts is refused once cut: without its end marker (when src ends
// with its only EOI) or with its last byte zeroed in its place, or, for RLE
// (endless true), with one more run of 128 bytes after it.
func CheckDecode(t *testing.T, decode Decode, src []byte, size int, endless bool) {
	t.Helper()
	a, b := make([]byte, size), bytes.Repeat([]byte{0xa5}, size)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	errA := decode(a, src)
	runtime.ReadMemStats(&after)
	errB := decode(b, src)
	for _, err := range []error{errA, errB} {
		var ce *codec.Error
		if err != nil && !errors.As(err, &ce) {
			t.Fatalf("error %v is not a *codec.Error", err)
		}
	}
	if (errA == nil) != (errB == nil) {
		t.Fatalf("decoding twice: %v, then %v", errA, errB)
	}
	// The frame is the caller's: the decoder's own allocations are its
	// working set, a few lines or planes, never a multiple of the frame.
	if got, bound := after.TotalAlloc-before.TotalAlloc, uint64(2*size+4*len(src)+1<<20); got > bound {
		t.Fatalf("decoding a %d-byte frame from %d bytes allocated %d bytes, over %d", size, len(src), got, bound)
	}
	if errA != nil {
		return
	}
	if !bytes.Equal(a, b) {
		t.Fatal("nil error but the frame not fully written")
	}
	var cuts [][]byte
	if endless {
		cuts = append(cuts, append(bytes.Clone(src), 0x81, 0, 0x81, 0))
	} else if e := bytes.Index(src, []byte{0xff, 0xd9}); e > 0 && len(bytes.TrimRight(src, "\x00")) == e+2 {
		// src ends with its only EOI (and padding): without it, the
		// stream is cut.
		cut := bytes.Clone(src[:e])
		zeroed := append(bytes.Clone(cut[:len(cut)-1]), 0, 0)
		cuts = append(cuts, cut, zeroed)
	}
	for i, c := range cuts {
		if err := decode(make([]byte, size), c); err == nil {
			t.Fatalf("cut stream %d (%d of %d bytes) accepted", i+1, len(c), len(src))
		}
	}
}
