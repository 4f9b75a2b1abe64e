//go:build unix

package ljpeg

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/dicom-remap/dicom-remap/codec"
	"github.com/dicom-remap/dicom-remap/internal/codectest"
	"github.com/dicom-remap/dicom-remap/internal/fixture"
)

// TestCompareSpeed measures the CPU time dcmtk and GDCM take to decompress
// many copies of the benchmark frame, and this decoder's, for the report:
// CPU time, not wall time, so that a busy machine does not skew it. It
// only runs when asked.
func TestCompareSpeed(t *testing.T) {
	if os.Getenv("LJPEG_COMPARE") == "" {
		t.Skip("set LJPEG_COMPARE=1 to time dcmdjpeg and gdcmconv")
	}
	for _, c := range []struct {
		name string
		img  image
		args []string
	}{
		{"ct512x512x16/sv1", benchmarkImage(), []string{"+e1"}},
		{"ct512x512x16/sv7", benchmarkImage(), []string{"+el", "+sv", "7"}},
		{"rgb512x512x8/sv1", image{spec: fixture.RGB(512), frame: codec.Frame{Columns: 512, Rows: 512, Samples: 3, Bits: 8}}, []string{"+e1"}},
	} {
		img := c.img
		const frames = 50
		one := img.spec.Values
		img.spec.Frames = frames
		img.spec.Values = nil
		for i := 0; i < frames; i++ {
			img.spec.Values = append(img.spec.Values, one...)
		}
		img.frames = frames
		dir := t.TempDir()
		file := encode(t, img, "dcmcjpeg", c.args...)
		in := dir + "/in.dcm"
		if err := os.WriteFile(in, file, 0o644); err != nil {
			t.Fatal(err)
		}
		mb := float64(frames*img.frame.Size()) / 1e6
		for _, cmd := range [][]string{{"dcmdjpeg", in, dir + "/a.dcm"}, {"gdcmconv", "--raw", "-i", in, "-o", dir + "/b.dcm"}} {
			run := exec.Command(cmd[0], cmd[1:]...)
			if out, err := run.CombinedOutput(); err != nil {
				t.Fatalf("%v: %v %s", cmd, err, out)
			}
			cpu := run.ProcessState.UserTime() + run.ProcessState.SystemTime()
			t.Logf("%s %s: %.0f MB/s of CPU time (file I/O included)", c.name, cmd[0], mb/cpu.Seconds())
		}
		streams := codectest.Frames(t, file, frames)
		var d Decoder
		dst := make([]byte, img.frame.Size())
		before := cpuTime()
		for _, s := range streams {
			if err := d.Decode(dst, s, img.frame); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("%s ljpeg: %.0f MB/s of CPU time", c.name, mb/(cpuTime()-before).Seconds())
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
