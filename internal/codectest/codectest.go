// Package codectest holds what the codec packages' tests share: finding
// the real encoders, running them on synthetic images, and cutting their
// output into frames.
package codectest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

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
	if n == 1 {
		return [][]byte{bytes.Join(frags, nil)}
	}
	if len(offsets) == 0 {
		if len(frags) != n {
			t.Fatalf("%d fragments and no offset table for %d frames", len(frags), n)
		}
		return frags
	}
	if len(offsets) != n {
		t.Fatalf("offset table of %d entries for %d frames", len(offsets), n)
	}
	var out [][]byte
	pos := uint32(0)
	var cur []byte
	k := 1
	for _, f := range frags {
		if k < n && pos == offsets[k] {
			out = append(out, cur)
			cur = nil
			k++
		}
		cur = append(cur, f...)
		pos += uint32(len(f)) + 8
	}
	return append(out, cur)
}
