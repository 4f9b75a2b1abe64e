package remap

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dicom-remap/dicom-remap/codec"
	"github.com/dicom-remap/dicom-remap/codec/rle"
	"github.com/dicom-remap/dicom-remap/internal/fixture"
)

func TestFrameFragments(t *testing.T) {
	// Fragments of 10, 6, 20 and 4 bytes, each after an 8-byte item header;
	// offsets count from the first fragment's item tag.
	items := []span{{0, 0}}
	at := int64(100)
	for _, n := range []int64{10, 6, 20, 4} {
		items = append(items, span{at + 8, n})
		at += 8 + n
	}
	soi := map[int64]bool{108: true, 140: true} // fragments 1 and 3 start a stream
	starts := func(s span) (bool, bool) { return soi[s.offset], true }
	unknown := func(span) (bool, bool) { return false, false }
	lens := func(fr [][]span) []int {
		var n []int
		for _, f := range fr {
			n = append(n, len(f))
		}
		return n
	}
	for _, c := range []struct {
		name     string
		frames   int
		bot, eot []uint64
		starts   func(span) (bool, bool)
		want     []int // fragments per frame
		err      string
		warn     string
	}{
		{"one frame", 1, nil, nil, unknown, []int{4}, "", ""},
		{"one per frame", 4, nil, nil, unknown, []int{1, 1, 1, 1}, "", ""},
		{"basic offset table", 2, []uint64{0, 32}, nil, unknown, []int{2, 2}, "", ""},
		{"extended wins", 2, []uint64{0, 18}, []uint64{0, 32}, unknown, []int{2, 2}, "", ""},
		{"stream starts", 2, nil, nil, starts, []int{2, 2}, "", ""},
		{"cannot tell", 2, nil, nil, unknown, nil, "cannot tell", ""},
		{"too few fragments", 5, nil, nil, unknown, nil, "fewer than the 5 frames", ""},
		{"table count", 3, []uint64{0, 32}, nil, unknown, nil, "lists 2 frames, the header declares 3", ""},
		{"not a fragment", 2, []uint64{0, 30}, nil, unknown, nil, "does not point to a fragment", ""},
		{"first not zero", 2, []uint64{18, 32}, nil, unknown, nil, "does not point to a fragment", ""},
		{"repeated", 2, []uint64{0, 0}, nil, unknown, nil, "does not point to a fragment", ""},
		{"wrong start count", 3, nil, nil, starts, nil, "2 fragments begin a compressed frame", ""},
		// Offset tables that cannot be right, with frames the fragments
		// tell apart: found from the fragments, with a warning.
		{"one entry too many", 2, []uint64{0, 32, 66}, nil, starts, []int{2, 2}, "", "lists 3 frames, the header declares 2"},
		{"entries a few bytes off", 2, []uint64{0, 34}, nil, starts, []int{2, 2}, "", "entry 2 (34) does not point"},
		{"off, one fragment a frame", 4, []uint64{0, 20, 36, 66}, nil, unknown, []int{1, 1, 1, 1}, "", "entry 2 (20)"},
		{"entry at a fragment inside a frame", 2, []uint64{0, 18}, nil, starts, []int{2, 2}, "", "does not begin a compressed frame"},
		{"wrong extended table", 2, nil, []uint64{0, 18}, starts, []int{2, 2}, "", "the extended offset table does not match"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, warning, err := frameFragments(items, c.frames, c.bot, c.eot, c.starts)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || KindOf(err) != Rejected {
					t.Fatalf("error %v, want a rejection with %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g := lens(got); !equalInts(g, c.want) {
				t.Fatalf("fragments per frame %v, want %v", g, c.want)
			}
			if (warning != "") != (c.warn != "") || !strings.Contains(warning, c.warn) {
				t.Fatalf("warning %q, want %q", warning, c.warn)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// rleSpec is a 3-frame CT whose Pixel Data is RLE compressed by the
// fixture's own encoder, with its frames cut into fragments by split.
func rleSpec(split func(frames [][]byte) [][]byte) (native, compressed fixture.Spec) {
	native = fixture.CTSlice(9, 7, 3, "1", "1")
	compressed = native
	compressed.TransferSyntax = "1.2.840.10008.1.2.5"
	compressed.Items = split(fixture.RLEFrames(native))
	return native, compressed
}

// pixelsOf returns the Pixel Data at the end of a remap output of n bytes
// of samples.
func remapPixels(t *testing.T, in []byte, n int) []byte {
	t.Helper()
	var out bytes.Buffer
	if _, err := Remap(&out, bytes.NewReader(in), int64(len(in)), Params{Min: 0, Max: 1000, Version: "test"}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()[out.Len()-n:]
}

func TestEncapsulatedShapes(t *testing.T) {
	bot := func(frames [][]byte, perFrame int) []byte {
		var b []byte
		off := 0
		for _, f := range frames {
			b = binary.LittleEndian.AppendUint32(b, uint32(off))
			chunk := (len(f) + perFrame - 1) / perFrame
			for i := 0; i < len(f); i += chunk {
				off += 8 + len(f[i:min(i+chunk, len(f))])
			}
		}
		return b
	}
	cut := func(frames [][]byte, perFrame int) [][]byte {
		var items [][]byte
		for _, f := range frames {
			chunk := (len(f) + perFrame - 1) / perFrame
			for i := 0; i < len(f); i += chunk {
				items = append(items, f[i:min(i+chunk, len(f))])
			}
		}
		return items
	}
	for _, c := range []struct {
		name  string
		split func([][]byte) [][]byte
	}{
		{"one fragment per frame, no offset table", func(f [][]byte) [][]byte { return append([][]byte{nil}, f...) }},
		{"offset table", func(f [][]byte) [][]byte { return append([][]byte{bot(f, 1)}, f...) }},
		{"three fragments per frame, offset table", func(f [][]byte) [][]byte { return append([][]byte{bot(f, 3)}, cut(f, 3)...) }},
		{"three fragments per frame, no offset table", func(f [][]byte) [][]byte { return append([][]byte{nil}, cut(f, 3)...) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			native, compressed := rleSpec(c.split)
			n := 9 * 7 * 3 * 2
			want := remapPixels(t, fixture.Build(native), n)
			if got := remapPixels(t, fixture.Build(compressed), n); !bytes.Equal(got, want) {
				t.Fatal("decoded pixels differ from the native remap")
			}
		})
	}
	// Like GDCM's 00191113.dcm, from an angiography workstation: the Basic
	// Offset Table has one entry too many and its offsets are a few bytes
	// off, and the last fragment has an odd length. The frames are found
	// from the fragments, all of them: the pixels equal the native image's.
	t.Run("offset table that disagrees with the fragments", func(t *testing.T) {
		native, compressed := rleSpec(func(f [][]byte) [][]byte {
			last := f[len(f)-1]
			frags := append(append([][]byte{}, f[:len(f)-1]...), last[:len(last)-3], last[len(last)-3:])
			table := bot(f, 1)
			for i := 4; i < len(table); i += 4 {
				binary.LittleEndian.PutUint32(table[i:], binary.LittleEndian.Uint32(table[i:])+2)
			}
			table = binary.LittleEndian.AppendUint32(table, binary.LittleEndian.Uint32(table[len(table)-4:])+40)
			return append([][]byte{table}, frags...)
		})
		in := fixture.Build(compressed)
		n := 9 * 7 * 3 * 2
		var out bytes.Buffer
		rep, err := Remap(&out, bytes.NewReader(in), int64(len(in)), Params{Min: 0, Max: 1000, Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "basic offset table does not match the fragments (it lists 4 frames, the header declares 3)") {
			t.Fatalf("warnings %q", rep.Warnings)
		}
		if got, want := out.Bytes()[out.Len()-n:], remapPixels(t, fixture.Build(native), n); !bytes.Equal(got, want) {
			t.Fatal("decoded pixels differ from the native remap")
		}
	})
	t.Run("extended offset table", func(t *testing.T) {
		native, compressed := rleSpec(func(f [][]byte) [][]byte { return append([][]byte{nil}, cut(f, 2)...) })
		var offsets, lengths []byte
		off := 0
		for _, f := range fixture.RLEFrames(native) {
			offsets = binary.LittleEndian.AppendUint64(offsets, uint64(off))
			lengths = binary.LittleEndian.AppendUint64(lengths, uint64(len(f)))
			chunk := (len(f) + 1) / 2
			off += 8 + chunk + 8 + len(f) - chunk
		}
		compressed.Extra = append(compressed.Extra,
			fixture.Elem{Group: 0x7fe0, Element: 0x0001, VR: "OV", Value: offsets},
			fixture.Elem{Group: 0x7fe0, Element: 0x0002, VR: "OV", Value: lengths})
		n := 9 * 7 * 3 * 2
		if got, want := remapPixels(t, fixture.Build(compressed), n), remapPixels(t, fixture.Build(native), n); !bytes.Equal(got, want) {
			t.Fatal("decoded pixels differ from the native remap")
		}
	})
}

func TestEncapsulatedRejections(t *testing.T) {
	native := fixture.CTSlice(9, 7, 2, "1", "1")
	frames := fixture.RLEFrames(native)
	small := native
	small.Rows, small.Values = 4, native.Values[:7*4*2]
	for _, c := range []struct {
		name  string
		items [][]byte
		want  string
	}{
		{"no fragments", [][]byte{nil}, "holds no fragments"},
		{"frame of another size", append([][]byte{nil}, fixture.RLEFrames(small)...), "frame 1 of 2: rle:"},
		{"frame cut short", [][]byte{nil, frames[0], frames[1][:40]}, "frame 2 of 2"},
		{"bad offset table", [][]byte{{1, 2, 3}, frames[0], frames[1]}, "whole number"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := native
			s.TransferSyntax = "1.2.840.10008.1.2.5"
			s.Items = c.items
			in := fixture.Build(s)
			var out bytes.Buffer
			_, err := Remap(&out, bytes.NewReader(in), int64(len(in)), Params{Min: 0, Max: 100})
			if err == nil || KindOf(err) != Rejected || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want a rejection with %q", err, c.want)
			}
		})
	}
}

// memScratch is an in-memory Params.Scratch that counts what it holds.
// Workers write to it in parallel, as io.WriterAt allows.
type memScratch struct {
	mu     sync.Mutex
	b      []byte
	writes int
}

func (m *memScratch) WriteAt(p []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if end := int(off) + len(p); end > len(m.b) {
		m.b = append(m.b, make([]byte, end-len(m.b))...)
	}
	m.writes++
	return copy(m.b[off:], p), nil
}

func (m *memScratch) ReadAt(p []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if int(off) >= len(m.b) {
		return 0, io.EOF
	}
	n := copy(p, m.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// TestScratchDecodesOnce: with a scratch space each frame is decoded once
// and kept there, and the output is the same bytes as without.
func TestScratchDecodesOnce(t *testing.T) {
	_, compressed := rleSpec(func(f [][]byte) [][]byte { return append([][]byte{nil}, f...) })
	in := fixture.Build(compressed)
	for _, p := range []Params{{Min: 0, Max: 1000}, {Min: 0, Max: 255, Percentiles: &Percentiles{Lo: big.NewRat(1, 1), Hi: big.NewRat(99, 1)}}} {
		p.Version = "test"
		var plain, spilled bytes.Buffer
		if _, err := Remap(&plain, bytes.NewReader(in), int64(len(in)), p); err != nil {
			t.Fatal(err)
		}
		s := &memScratch{}
		p.Scratch = s
		if _, err := Remap(&spilled, bytes.NewReader(in), int64(len(in)), p); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(plain.Bytes(), spilled.Bytes()) {
			t.Fatal("output differs with a scratch space")
		}
		if len(s.b) != 9*7*3*2 || s.writes != 3 {
			t.Fatalf("scratch holds %d bytes in %d writes, want the 3 decoded frames once", len(s.b), s.writes)
		}
	}
}

// panicDecoder panics on the frames after the first, as a decoder with a
// bug on hostile bytes would.
type panicDecoder struct{ n *atomic.Int32 }

func (d panicDecoder) Decode(dst, src []byte, f codec.Frame) error {
	if d.n.Add(1) > 1 {
		var idx []int
		_ = idx[len(src)] // an index out of range, as in the JPEG 2000 defect
	}
	return new(rle.Decoder).Decode(dst, src, f)
}

// TestDecoderPanic: a decoder's panic, on the calling goroutine (one
// thread) or in a decoding worker (several), rejects the frame with an
// error that names it; it never crashes the process.
func TestDecoderPanic(t *testing.T) {
	native := fixture.CTSlice(9, 7, 3, "1", "1")
	s := native
	s.TransferSyntax = tsRLE
	s.Items = append([][]byte{nil}, fixture.RLEFrames(native)...)
	in := fixture.Build(s)
	saved := syntaxCodecs[tsRLE]
	defer func() { syntaxCodecs[tsRLE] = saved }()
	for _, threads := range []int{1, 3} {
		var n atomic.Int32
		c := saved
		c.newDecoder = func() frameDecoder { return panicDecoder{&n} }
		syntaxCodecs[tsRLE] = c
		_, err := Remap(io.Discard, bytes.NewReader(in), int64(len(in)), Params{Min: 0, Max: 100, Threads: threads})
		if KindOf(err) != Rejected || !strings.Contains(err.Error(), "the decoder failed on this stream") || !strings.Contains(err.Error(), " of 3") {
			t.Fatalf("%d threads: got %v, want the rejection of a frame", threads, err)
		}
	}
}

// TestFrameMemoryBounds: a decoded frame over the frame limit, or over half
// the process's memory limit, is refused before it is allocated; within
// them the image decodes.
func TestFrameMemoryBounds(t *testing.T) {
	native := fixture.CTSlice(9, 7, 3, "1", "1") // frames of 126 bytes
	s := native
	s.TransferSyntax = tsRLE
	s.Items = append([][]byte{nil}, fixture.RLEFrames(native)...)
	in := fixture.Build(s)
	for _, c := range []struct {
		p    Params
		want string
	}{
		{Params{FrameLimit: 125}, "exceeds the 125-byte frame limit"},
		{Params{PixelLimit: 126 * 3}, ""}, // the default frame limit follows a lower pixel limit
		{Params{MemoryLimit: 251}, "more than this process may use"},
		{Params{FrameLimit: 126, MemoryLimit: 252}, ""},
	} {
		c.p.Min, c.p.Max = 0, 100
		_, err := Remap(io.Discard, bytes.NewReader(in), int64(len(in)), c.p)
		if c.want == "" && err != nil || c.want != "" && (KindOf(err) != Rejected || !strings.Contains(fmt.Sprint(err), c.want)) {
			t.Errorf("%+v: got %v, want %q", c.p, err, c.want)
		}
	}
}

// TestDeflatedMemoryBound: a deflated data set, which the library inflates
// whole, is refused when it cannot fit in half the process's memory limit
// (a 64 x 64 16-bit image inflates to a little over its 8 KiB of pixels),
// and read within it, by Remap, Measure and ReadModality; without a limit
// it is read.
func TestDeflatedMemoryBound(t *testing.T) {
	s := fixture.CTSlice(64, 64, 0, "1", "1")
	s.TransferSyntax = fixture.DeflatedLE
	in := fixture.Build(s)
	lay, err := checkStructure(bytes.NewReader(in), int64(len(in)), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if lay.inflated < 64*64*2 || lay.inflated > 64*64*2+4096 {
		t.Fatalf("inflated data set of %d bytes for 8 KiB of pixels", lay.inflated)
	}
	for _, c := range []struct {
		mem  int64
		want string
	}{
		{2*lay.inflated - 1, "inflates to"},
		{2 * lay.inflated, ""},
		{0, ""},
	} {
		p := Params{Min: 0, Max: 100, MemoryLimit: c.mem}
		_, err := Remap(io.Discard, bytes.NewReader(in), int64(len(in)), p)
		if c.want == "" && err != nil || c.want != "" && (KindOf(err) != Rejected || !strings.Contains(fmt.Sprint(err), c.want)) {
			t.Errorf("memory %d: got %v, want %q", c.mem, err, c.want)
		}
		_, err = Measure(bytes.NewReader(in), int64(len(in)), p)
		if c.want == "" && err != nil || c.want != "" && (KindOf(err) != Rejected || !strings.Contains(fmt.Sprint(err), c.want)) {
			t.Errorf("measure, memory %d: got %v, want %q", c.mem, err, c.want)
		}
		_, err = ReadModality(bytes.NewReader(in), int64(len(in)), 0, c.mem)
		if c.want == "" && err != nil || c.want != "" && (KindOf(err) != Rejected || !strings.Contains(fmt.Sprint(err), c.want)) {
			t.Errorf("modality, memory %d: got %v, want %q", c.mem, err, c.want)
		}
	}
}

// TestStreamChecks: each frame's stream is checked against the declared
// frame before decoding: too short to hold it, another size in its own
// header, or more complete streams than declared frames.
func TestStreamChecks(t *testing.T) {
	native := fixture.CTSlice(9, 7, 0, "1", "1")
	frame := fixture.RLEFrames(native)[0]
	for _, c := range []struct {
		name string
		mod  func(s *fixture.Spec)
		want string
	}{
		{"declared huge", func(s *fixture.Spec) { s.Rows, s.Columns = 16384, 16384 }, "cannot hold a 16384x16384 frame"},
		{"segment count", func(s *fixture.Spec) { s.BitsAllocated, s.BitsStored = 8, 8 }, "2 segments, want 1"},
		{"three streams, one frame", func(s *fixture.Spec) { s.Items = [][]byte{nil, frame, frame, frame} }, "3 fragments each begin a compressed stream"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := native
			s.TransferSyntax, s.Values, s.Items = tsRLE, nil, [][]byte{nil, frame}
			c.mod(&s)
			in := fixture.Build(s)
			_, err := Remap(io.Discard, bytes.NewReader(in), int64(len(in)), Params{Min: 0, Max: 100})
			if KindOf(err) != Rejected || !strings.Contains(fmt.Sprint(err), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
}

// TestExtendedOffsetLengths: an Extended Offset Table whose lengths are not
// its frames' is refused; the true lengths (odd ones padded) pass.
func TestExtendedOffsetLengths(t *testing.T) {
	native := fixture.CTSlice(9, 7, 2, "1", "1")
	frames := fixture.RLEFrames(native)
	for _, c := range []struct {
		name string
		lie  uint64
		want string
	}{
		{"true", 0, ""},
		{"a byte less (padding)", 1 << 63, ""},
		{"longer", 100, "the extended offset table gives frame 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := native
			s.TransferSyntax, s.Values = tsRLE, nil
			var off, ln []byte
			at := uint64(0)
			for i, f := range frames {
				n := uint64(len(f))
				if i == 0 && c.lie == 1<<63 {
					n-- // as if the frame were odd and padded
				} else if i == 0 {
					n += c.lie
				}
				off, ln = binary.LittleEndian.AppendUint64(off, at), binary.LittleEndian.AppendUint64(ln, n)
				at += uint64(len(f)) + 8
			}
			s.Items = append([][]byte{nil}, frames...)
			s.Extra = []fixture.Elem{{Group: 0x7fe0, Element: 0x0001, VR: "OV", Value: off}, {Group: 0x7fe0, Element: 0x0002, VR: "OV", Value: ln}}
			in := fixture.Build(s)
			_, err := Remap(io.Discard, bytes.NewReader(in), int64(len(in)), Params{Min: 0, Max: 100})
			if c.want == "" && err != nil || c.want != "" && (KindOf(err) != Rejected || !strings.Contains(fmt.Sprint(err), c.want)) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
}

// FuzzFrameFragments: whatever the offset tables and fragments, frames are
// either refused or assigned every fragment exactly once, in order, the
// first frame starting at the first: nothing is cropped or made up.
func FuzzFrameFragments(f *testing.F) {
	f.Add(uint8(2), []byte{10, 6, 20, 4}, []byte{0, 32}, []byte{}, uint16(0b0101))
	f.Add(uint8(2), []byte{10, 6, 20, 4}, []byte{0, 34, 66}, []byte{}, uint16(0b0101))
	f.Add(uint8(4), []byte{10, 6, 20, 4}, []byte{0, 20, 36, 66}, []byte{}, uint16(0))
	f.Add(uint8(2), []byte{10, 6, 20, 4}, []byte{}, []byte{0, 18}, uint16(0b0101))
	f.Fuzz(func(t *testing.T, frames uint8, lengths, bot, eot []byte, starts uint16) {
		if frames == 0 || len(lengths) > 16 {
			return
		}
		items := []span{{0, 0}}
		at := int64(100)
		for _, n := range lengths {
			items = append(items, span{at + 8, int64(n)})
			at += 8 + int64(n)
		}
		table := func(b []byte) []uint64 {
			var out []uint64
			for _, x := range b {
				out = append(out, uint64(x))
			}
			return out
		}
		begins := func(s span) (bool, bool) {
			for k, it := range items[1:] {
				if it == s {
					return starts&(1<<k) != 0, starts&(1<<15) == 0
				}
			}
			t.Fatalf("asked about a span that is no fragment: %v", s)
			return false, false
		}
		got, warning, err := frameFragments(items, int(frames), table(bot), table(eot), begins)
		if err != nil {
			if KindOf(err) != Rejected {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(got) != int(frames) {
			t.Fatalf("%d frames, want %d", len(got), frames)
		}
		var all []span
		for _, fr := range got {
			if len(fr) == 0 {
				t.Fatal("an empty frame")
			}
			all = append(all, fr...)
		}
		if len(all) != len(items)-1 {
			t.Fatalf("%d fragments assigned of %d (warning %q)", len(all), len(items)-1, warning)
		}
		for i := range all {
			if all[i] != items[i+1] {
				t.Fatalf("fragment %d out of order", i)
			}
		}
	})
}

// TestFrameMemoryJ2K: a JPEG 2000 frame is refused under a memory limit
// that holds the frame but not the decoder's coefficients as well (4 bytes
// a sample), which Go's allocator would otherwise die on.
func TestFrameMemoryJ2K(t *testing.T) {
	s := pixelSource{frames: &frameSource{size: 100, stored: codec.Frame{Columns: 10, Rows: 10, Samples: 1, Bits: 8}}}
	for _, c := range []struct {
		mem    int64
		j2k    bool
		refuse bool
	}{
		{200, false, false}, {200, true, true}, {999, true, true}, {1000, true, false},
	} {
		err := s.fitMemory(1<<30, c.mem, c.j2k)
		if (err != nil) != c.refuse || err != nil && KindOf(err) != Rejected {
			t.Errorf("memory %d, j2k %v: got %v, want refused %v", c.mem, c.j2k, err, c.refuse)
		}
	}
	// a large frame decodes in strips: its count is the frame and the
	// strips' working set (12 MiB for 4096 columns), not 4 bytes a sample
	// (64 MiB more)
	big := pixelSource{frames: &frameSource{size: 16 << 20, stored: codec.Frame{Columns: 4096, Rows: 4096, Samples: 1, Bits: 8}}}
	for _, c := range []struct {
		mem    int64
		refuse bool
	}{
		{32 << 20, true}, {55 << 20, true}, {56 << 20, false}, {64 << 20, false},
	} {
		err := big.fitMemory(1<<30, c.mem, true)
		if (err != nil) != c.refuse || err != nil && KindOf(err) != Rejected {
			t.Errorf("4096 x 4096 under %d bytes: got %v, want refused %v", c.mem, err, c.refuse)
		}
	}
}
