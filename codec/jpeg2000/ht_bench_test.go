package jpeg2000

import "testing"

// HTJ2K against Part 1 on the same frames: the point of HT code-blocks is
// a block decoder several times faster.

// BenchmarkHTLossless16Smooth is BenchmarkLossless16Smooth's frame in HT
// code-blocks (Grok).
func BenchmarkHTLossless16Smooth(b *testing.B) {
	im := smooth(512, 512, 1, 12, 1)
	benchStream(b, grkEncode(b, im), im.frame())
}

// BenchmarkHTLossless16 is BenchmarkLossless16's noisier frame in HT
// code-blocks.
func BenchmarkHTLossless16(b *testing.B) {
	im := synth(512, 512, 1, 12, false, 1)
	benchStream(b, grkEncode(b, im), im.frame())
}

// BenchmarkHTLossyColourSmooth: 9/7 and ICT, OpenJPH quantised.
func BenchmarkHTLossyColourSmooth(b *testing.B) {
	im := smooth(512, 512, 3, 8, 2)
	benchStream(b, ojphEncode(b, im, "-qstep", "0.02"), im.frame())
}
