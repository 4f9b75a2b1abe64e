package jpeg2000

import "testing"

// FuzzDecodeHT is FuzzDecode's property over HTJ2K streams: Grok's and
// OpenJPH's, of several shapes, so that mutations reach the CAP marker,
// HT segments in packet headers and the HT block decoder.
func FuzzDecodeHT(f *testing.F) {
	for _, c := range []struct {
		im   synthImage
		opts []string
	}{
		{synth(17, 13, 1, 8, false, 1), []string{"-n", "3"}},
		{synth(23, 19, 3, 8, false, 2), []string{"-I", "-n", "3"}},
		{synth(20, 16, 1, 12, true, 3), []string{"-n", "2", "-SOP", "-EPH", "-b", "8,8"}},
		{synth(24, 24, 3, 8, false, 4), []string{"-n", "3", "-t", "12,12", "-p", "RPCL", "-X", "-c", "[8,8]"}},
		{synth(33, 9, 1, 16, false, 5), []string{"-n", "1", "-b", "32,4"}},
	} {
		cs := grkEncode(f, c.im, c.opts...)
		fr := c.im.frame()
		f.Add(cs, uint16(fr.Columns-1), uint16(fr.Rows-1), uint8(fr.Samples/3), uint8(fr.Bits/16))
	}
	for _, c := range []struct {
		im   synthImage
		opts []string
	}{
		{synth(19, 11, 1, 8, false, 6), []string{"-num_decomps", "2"}},
		{synth(16, 16, 3, 10, false, 7), []string{"-qstep", "0.05", "-num_decomps", "1", "-block_size", "{8,8}"}},
	} {
		cs := ojphEncode(f, c.im, c.opts...)
		fr := c.im.frame()
		f.Add(cs, uint16(fr.Columns-1), uint16(fr.Rows-1), uint8(fr.Samples/3), uint8(fr.Bits/16))
	}
	f.Fuzz(fuzzDecode)
}
