package jpeg2000

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/dicom-remap/dicom-remap/codec"
)

func frameOf(cs []byte) codec.Frame {
	w := int(binary.BigEndian.Uint32(cs[8:])) - int(binary.BigEndian.Uint32(cs[16:]))
	h := int(binary.BigEndian.Uint32(cs[12:])) - int(binary.BigEndian.Uint32(cs[20:]))
	n := int(binary.BigEndian.Uint16(cs[40:]))
	bits := 8
	if cs[42]&0x7f >= 8 {
		bits = 16
	}
	return codec.Frame{Columns: w, Rows: h, Samples: n, Bits: bits}
}

func BenchmarkTmpFile(b *testing.B) {
	files, _ := filepath.Glob(os.Getenv("J2K_FILES"))
	var css [][]byte
	for _, f := range files {
		cs, _ := os.ReadFile(f)
		css = append(css, cs)
	}
	f := frameOf(css[0])
	out := make([]byte, f.Size())
	var d Decoder
	b.ResetTimer()
	start := cpuTime()
	for i := range b.N {
		if err := d.Decode(out, css[i%len(css)], f); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-start).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}
