//go:build unix

package rle

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/dicom-remap/dicom-remap/internal/codectest"
	"github.com/dicom-remap/dicom-remap/internal/fixture"
)

// TestCompareSpeed measures the CPU time dcmtk and GDCM take to decompress
// a 40-frame 512x512 16-bit CT phantom, and this decoder's, for the report.
// CPU time, not wall time, so that a busy machine does not skew it; the
// tools' time includes reading and writing files, so dcmconv copying the
// uncompressed file is timed too, to be subtracted. It only runs when asked.
func TestCompareSpeed(t *testing.T) {
	if os.Getenv("RLE_COMPARE") == "" {
		t.Skip("set RLE_COMPARE=1 to time dcmdrle and gdcmconv")
	}
	codectest.NeedTool(t, "dcmconv")
	codectest.NeedTool(t, "gdcmconv")
	const frames = 40
	spec := fixture.CTSlice(512, 512, frames, "1", "1")
	one := phantom(fixture.CTSlice(512, 512, 0, "1", "1"))
	im := one
	im.frames = frames
	im.samples = nil
	for f := 0; f < frames; f++ {
		im.samples = append(im.samples, spec.Values[f*512*512:(f+1)*512*512])
	}
	streams := encode(t, im, "dcmcrle")

	dir := t.TempDir()
	raw, in := filepath.Join(dir, "raw.dcm"), filepath.Join(dir, "rle.dcm")
	if err := os.WriteFile(raw, fixture.Build(im.spec()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("dcmcrle", raw, in).CombinedOutput(); err != nil {
		t.Fatalf("dcmcrle: %v %s", err, out)
	}
	mb := float64(frames*im.frame().Size()) / 1e6
	for _, cmd := range [][]string{
		{"dcmconv", raw, filepath.Join(dir, "copy.dcm")},
		{"dcmdrle", in, filepath.Join(dir, "a.dcm")},
		{"gdcmconv", "--raw", "-i", in, "-o", filepath.Join(dir, "b.dcm")},
	} {
		run := exec.Command(cmd[0], cmd[1:]...)
		if out, err := run.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v %s", cmd, err, out)
		}
		cpu := run.ProcessState.UserTime() + run.ProcessState.SystemTime()
		t.Logf("%s: %.3f s of CPU time for %.1f MB (file I/O included)", cmd[0], cpu.Seconds(), mb)
	}
	var d Decoder
	dst := make([]byte, im.frame().Size())
	before := cpuTime()
	for _, s := range streams {
		if err := d.Decode(dst, s, im.frame()); err != nil {
			t.Fatal(err)
		}
	}
	cpu := cpuTime() - before
	t.Logf("rle: %.3f s of CPU time, %.0f MB/s", cpu.Seconds(), mb/cpu.Seconds())
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
