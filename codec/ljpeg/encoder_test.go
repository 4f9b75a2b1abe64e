package ljpeg

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/codectest"
	"github.com/dicom-remap/dicom-remap/internal/fixture"
)

// This file holds a small JPEG Lossless encoder for the stream features
// that dcmtk and GDCM never write: restart intervals, one scan per
// component, several Huffman tables, DNL, APPn and COM segments, low
// precisions. Its output is checked with dcmtk's decoder (dcmdjpeg) before
// it is used, so the tests do not check the decoder against itself alone.

// streamOptions selects what testStream writes.
type streamOptions struct {
	precision    int
	predictor    int
	pt           uint
	restartLines int     // lines per restart interval, 0 for none
	separate     bool    // one scan per component instead of one interleaved scan
	extras       bool    // APPn, COM and DNL segments, one DHT segment per table
	restartMCUs  int     // overrides the DRI value (for an unaligned interval)
	scans        [][]int // components of each scan, overriding separate
}

// Code lengths of the symbols 0-16 of the test's two tables: a skewed one
// with codes longer than the decoder's lookahead and a flat one.
var testCodeLengths = [2][17]int{
	{2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 7, 8, 9, 10, 11, 12, 13},
	{5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5},
}

type testTable struct {
	counts [16]uint8
	vals   []uint8
	code   [17]uint32
	length [17]int
}

func makeTestTable(lengths [17]int) testTable {
	var t testTable
	for l := 1; l <= 16; l++ {
		for s, sl := range lengths {
			if sl == l {
				t.counts[l-1]++
				t.vals = append(t.vals, uint8(s))
			}
		}
	}
	code, k := uint32(0), 0
	for l := 1; l <= 16; l++ {
		for i := 0; i < int(t.counts[l-1]); i++ {
			s := t.vals[k]
			t.code[s], t.length[s] = code, l
			code++
			k++
		}
		code <<= 1
	}
	return t
}

type bitWriter struct {
	out   []byte
	acc   uint64
	nbits uint
}

func (w *bitWriter) put(v uint32, n int) {
	w.acc = w.acc<<uint(n) | uint64(v)&(1<<uint(n)-1)
	w.nbits += uint(n)
	for w.nbits >= 8 {
		b := byte(w.acc >> (w.nbits - 8))
		w.out = append(w.out, b)
		if b == 0xFF {
			w.out = append(w.out, 0)
		}
		w.nbits -= 8
	}
}

// flush pads the last byte with ones, as T.81 F.1.2.3 asks.
func (w *bitWriter) flush() {
	if w.nbits > 0 {
		w.put(0x7F, int(8-w.nbits))
	}
}

func segment(out []byte, marker byte, body []byte) []byte {
	out = append(out, 0xFF, marker)
	out = binary.BigEndian.AppendUint16(out, uint16(len(body)+2))
	return append(out, body...)
}

// testStream encodes samples (cols*rows pixels, nc samples each, the
// samples of a pixel next to each other) as JPEG Lossless.
func testStream(samples []uint16, cols, rows, nc int, o streamOptions) []byte {
	tables := [2]testTable{makeTestTable(testCodeLengths[0]), makeTestTable(testCodeLengths[1])}
	out := []byte{0xFF, markerSOI}
	if o.extras {
		out = segment(out, 0xE1, []byte("Exif\x00\x00 not really"))
		out = segment(out, markerCOM, []byte("test stream"))
	}
	sof := []byte{byte(o.precision), byte(rows >> 8), byte(rows), byte(cols >> 8), byte(cols), byte(nc)}
	for c := 0; c < nc; c++ {
		sof = append(sof, byte(c+1), 0x11, 0)
	}
	out = segment(out, markerSOF3, sof)
	var dht []byte
	for id, t := range tables {
		one := append([]byte{byte(id)}, t.counts[:]...)
		one = append(one, t.vals...)
		if o.extras {
			out = segment(out, markerDHT, one)
		} else {
			dht = append(dht, one...)
		}
	}
	if dht != nil {
		out = segment(out, markerDHT, dht)
	}
	if ri := max(o.restartMCUs, o.restartLines*cols); ri > 0 {
		out = segment(out, markerDRI, binary.BigEndian.AppendUint16(nil, uint16(ri)))
	}
	scans := [][]int{}
	if o.separate {
		for c := 0; c < nc; c++ {
			scans = append(scans, []int{c})
		}
	} else {
		all := []int{}
		for c := 0; c < nc; c++ {
			all = append(all, c)
		}
		scans = append(scans, all)
	}
	if o.scans != nil {
		scans = o.scans
	}
	for k, comps := range scans {
		if o.extras && k > 0 {
			out = segment(out, markerCOM, []byte("between scans"))
			// Redefine table 0, which the third scan uses, alternating
			// the two sets of code lengths.
			tables[0] = makeTestTable(testCodeLengths[(k+1)%2])
			one := append([]byte{0}, tables[0].counts[:]...)
			out = segment(out, markerDHT, append(one, tables[0].vals...))
		}
		sos := []byte{byte(len(comps))}
		for _, c := range comps {
			sos = append(sos, byte(c+1), byte(c%2)<<4)
		}
		sos = append(sos, byte(o.predictor), 0, byte(o.pt))
		out = segment(out, markerSOS, sos)
		w := bitWriter{out: out}
		rst := 0
		for y := 0; y < rows; y++ {
			first := y == 0
			if o.restartLines > 0 && y > 0 && y%o.restartLines == 0 {
				w.flush()
				w.out = append(w.out, 0xFF, byte(markerRST0+rst))
				rst = (rst + 1) & 7
				first = true
			}
			for x := 0; x < cols; x++ {
				for _, c := range comps {
					at := func(x, y int) int32 { return int32(samples[(y*cols+x)*nc+c] >> o.pt) }
					var pred int32
					switch {
					case first && x == 0:
						pred = 1 << (o.precision - int(o.pt) - 1)
					case first:
						pred = at(x-1, y)
					case x == 0:
						pred = at(x, y-1)
					default:
						ra, rb, rc := at(x-1, y), at(x, y-1), at(x-1, y-1)
						pred = [8]int32{0, ra, rb, rc, ra + rb - rc, ra + (rb-rc)>>1, rb + (ra-rc)>>1, (ra + rb) >> 1}[o.predictor]
					}
					d := (at(x, y) - pred) & 0xFFFF
					if d > 32768 {
						d -= 65536
					}
					ssss := 16
					if d != 32768 {
						ssss = 0
						for a := max(d, -d); a != 0; a >>= 1 {
							ssss++
						}
					}
					t := &tables[c%2]
					w.put(t.code[ssss], t.length[ssss])
					if ssss > 0 && ssss < 16 {
						if d < 0 {
							d += 1<<ssss - 1
						}
						w.put(uint32(d), ssss)
					}
				}
			}
		}
		w.flush()
		out = w.out
	}
	if o.extras {
		out = segment(out, markerDNL, binary.BigEndian.AppendUint16(nil, uint16(rows)))
	}
	return append(out, 0xFF, markerEOI)
}

// decodeWithDcmtk puts stream in place of the pixel data of template, a
// single-frame JPEG Lossless file that dcmcjpeg wrote for an image of the
// same shape, decompresses it with dcmdjpeg and returns the native pixel
// data.
func decodeWithDcmtk(t *testing.T, template, stream []byte) []byte {
	t.Helper()
	codectest.NeedTool(t, "dcmdjpeg")
	_, fragments, err := fixture.Fragments(template)
	if err != nil || len(fragments) != 1 {
		t.Fatalf("template: %d fragments, %v", len(fragments), err)
	}
	at := bytes.Index(template, fragments[0])
	padded := stream
	if len(padded)%2 == 1 {
		padded = append(padded[:len(padded):len(padded)], 0)
	}
	var file []byte
	file = append(file, template[:at-4]...)
	file = binary.LittleEndian.AppendUint32(file, uint32(len(padded)))
	file = append(file, padded...)
	file = append(file, 0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.dcm"), filepath.Join(dir, "out.dcm")
	if err := os.WriteFile(in, file, 0o644); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command("dcmdjpeg", in, out).CombinedOutput(); err != nil {
		t.Fatalf("dcmdjpeg: %v\n%s", err, msg)
	}
	native, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// Pixel Data is the last element of the file dcmdjpeg writes.
	for _, vr := range []string{"OW", "OB"} {
		tag := append([]byte{0xE0, 0x7F, 0x10, 0x00}, vr...)
		if i := bytes.LastIndex(native, tag); i >= 0 && i+12 <= len(native) {
			n := int(binary.LittleEndian.Uint32(native[i+8:]))
			if i+12+n <= len(native) {
				return native[i+12 : i+12+n]
			}
		}
	}
	t.Fatal("no native pixel data in dcmdjpeg's output")
	return nil
}

func TestStreamFeatures(t *testing.T) {
	type tc struct {
		name      string
		img       image
		precision int
		o         streamOptions
	}
	rgb16 := rgbImage(10, 11, 0)
	rgb16.spec.BitsAllocated, rgb16.spec.BitsStored, rgb16.frame.Bits = 16, 16, 16
	rgb16.spec.Values = pattern(10, 11, 3, 1, 16, false, 5)
	rgb12 := rgb16
	rgb12.spec.BitsStored = 12
	rgb12.spec.Values = pattern(10, 11, 3, 1, 12, false, 6)
	cases := []tc{
		{"restart-3-lines/sv1", grayImage(20, 17, 0, 16, 12, false), 12, streamOptions{predictor: 1, restartLines: 3}},
		{"restart-1-line/sv7", grayImage(9, 31, 0, 16, 16, false), 16, streamOptions{predictor: 7, restartLines: 1}},
		{"restart-9-lines/sv4-16bit", grayImage(40, 13, 0, 16, 16, false), 16, streamOptions{predictor: 4, restartLines: 9}},
		{"restart-interleaved-rgb/sv6", rgbImage(21, 15, 0), 8, streamOptions{predictor: 6, restartLines: 2, extras: true}},
		{"separate-scans-rgb/sv5", rgbImage(13, 18, 0), 8, streamOptions{predictor: 5, separate: true}},
		{"separate-scans-restart/sv2", rgbImage(19, 7, 0), 8, streamOptions{predictor: 2, separate: true, restartLines: 4, extras: true}},
		{"scans-of-2-and-1/sv4", rgbImage(11, 14, 0), 8, streamOptions{predictor: 4, scans: [][]int{{0, 2}, {1}}, restartLines: 3}},
		{"rgb12-separate-scans/sv7", rgb12, 12, streamOptions{predictor: 7, separate: true, restartLines: 2}},
		{"rgb16-interleaved/sv1", rgb16, 16, streamOptions{predictor: 1}},
		{"extras/sv3", grayImage(17, 13, 0, 8, 8, false), 8, streamOptions{predictor: 3, extras: true}},
		{"precision2", grayImage(17, 13, 0, 8, 2, false), 2, streamOptions{predictor: 4}},
		{"precision5/pt2", grayImage(17, 13, 0, 8, 5, false), 5, streamOptions{predictor: 7, pt: 2}},
		{"precision7", grayImage(16, 19, 0, 8, 7, false), 7, streamOptions{predictor: 6, restartLines: 5}},
		{"precision10-in-16", grayImage(16, 19, 0, 16, 10, false), 10, streamOptions{predictor: 1}},
		{"precision13/pt4", grayImage(16, 19, 0, 16, 13, false), 13, streamOptions{predictor: 5, pt: 4}},
		{"precision16/pt15", grayImage(8, 9, 0, 16, 16, false), 16, streamOptions{predictor: 2, pt: 15}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.o.precision = c.precision
			f := c.img.frame
			src := make([]uint16, len(c.img.spec.Values))
			mask := uint64(1)<<c.precision - 1
			for i, v := range c.img.spec.Values {
				src[i] = uint16(uint64(v) & mask >> c.o.pt << c.o.pt)
			}
			stream := testStream(src, f.Columns, f.Rows, f.Samples, c.o)
			t.Logf("%s", describe(stream))
			exp := want(c.img, 0, c.o.pt)

			// dcmtk must read the stream as its source says, or the test
			// encoder is wrong.
			template := encode(t, c.img, "dcmcjpeg", "+e1")
			native := decodeWithDcmtk(t, template, stream)
			if len(native) < f.Size() {
				t.Fatalf("dcmdjpeg gave %d bytes, want %d", len(native), f.Size())
			}
			ref := samples(c.img, native[:f.Size()])
			for i := range exp {
				if ref[i] != exp[i] {
					t.Fatalf("test encoder disagrees with dcmdjpeg at sample %d: %d, source %d", i, ref[i], exp[i])
				}
			}

			var d Decoder
			dst := make([]byte, f.Size())
			if err := d.Decode(dst, stream, f); err != nil {
				t.Fatal(err)
			}
			got := samples(c.img, dst)
			for i := range exp {
				if got[i] != exp[i] {
					t.Fatalf("sample %d = %d, want %d", i, got[i], exp[i])
				}
			}
		})
	}
}
