package jpeg2000

import (
	"testing"
)

func benchDecode(b *testing.B, im synthImage, opts ...string) {
	cs := opjEncode(b, im, "j2k", opts...)
	f := im.frame()
	out := make([]byte, f.Size())
	var d Decoder
	if err := d.Decode(out, cs, f); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := d.Decode(out, cs, f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLossless16 decodes a 512x512 16-bit (12 bits stored) frame,
// 5/3 with five levels as DICOM encoders write it.
func BenchmarkLossless16(b *testing.B) {
	benchDecode(b, synth(512, 512, 1, 12, false, 1))
}

// BenchmarkLossyColour decodes a 512x512 8-bit RGB frame, 9/7 and ICT at
// 10:1.
func BenchmarkLossyColour(b *testing.B) {
	benchDecode(b, synth(512, 512, 3, 8, false, 2), "-I", "-r", "10")
}
