package htj2k

import (
	"syscall"
	"testing"
	"time"

	"github.com/dicom-remap/dicom-remap/internal/codectest"
)

// BenchmarkCleanup decodes a 64x64 code-block of 12-bit noise over a
// gradient that Grok coded: the cleanup pass alone.
func BenchmarkCleanup(b *testing.B) {
	tool := codectest.NeedTool(b, "grk_compress")
	px := blockImage(64, 64, 12, 1)
	blk := oneBlock(b, encodeOne(b, tool, px, 64, 64, 12), 64, 64)
	out := make([]uint32, 64*64)
	var d Decoder
	b.SetBytes(64 * 64)
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		if err := d.Decode(out, &blk); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N)/(64*64), "cpu-ns/sample")
}

// cpuTime is the process's user and system time: on a shared machine
// wall time says more of the neighbours than of the decoder.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
