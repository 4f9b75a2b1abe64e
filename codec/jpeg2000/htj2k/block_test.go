package htj2k

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/codectest"
)

// A one-code-block image, reversible with no decomposition, unsigned:
// each coefficient is the sample less half the range, so a code-block
// that Grok or OpenJPH made can be checked against the source here,
// without the codestream decoder.

// headerBits reads a packet header: bits most significant first, seven
// after a 0xFF byte.
type headerBits struct {
	b   []byte
	pos int
	cur byte
	n   int
}

func (r *headerBits) bit() int {
	if r.n == 0 {
		if r.pos >= len(r.b) {
			panic("packet header ends early")
		}
		r.n = 8
		if r.cur == 0xff {
			r.n = 7
		}
		r.cur = r.b[r.pos]
		r.pos++
	}
	r.n--
	return int(r.cur>>r.n) & 1
}

func (r *headerBits) bits(n int) int {
	v := 0
	for range n {
		v = v<<1 | r.bit()
	}
	return v
}

// oneBlock extracts the code-block of a single-block codestream.
func oneBlock(t testing.TB, cs []byte, w, h int) Block {
	t.Helper()
	q := bytes.Index(cs, []byte{0xff, 0x5c}) // QCD
	sod := bytes.Index(cs, []byte{0xff, 0x93})
	if q < 0 || sod < 0 {
		t.Fatal("no QCD or SOD")
	}
	guard, expn := int(cs[q+4]>>5), int(cs[q+5]>>3)
	mb := guard + expn - 1
	r := headerBits{b: cs[sod+2:]}
	if r.bit() != 1 || r.bit() != 1 { // a non-empty packet; included
		t.Fatal("empty packet")
	}
	z := 0
	for r.bit() == 0 {
		z++
	}
	passes := 1
	if r.bit() == 1 {
		passes = 2
		if r.bit() == 1 {
			passes = 3 + r.bits(2)
		}
	}
	if passes > 3 {
		t.Fatalf("%d passes", passes)
	}
	lblock := 3
	for r.bit() == 1 {
		lblock++
	}
	lcup := r.bits(lblock)
	lref := 0
	if passes > 1 {
		lref = r.bits(lblock + map[int]int{2: 0, 3: 1}[passes])
	}
	if r.cur == 0xff {
		r.pos++
	}
	body := cs[sod+2+r.pos:]
	return Block{Width: w, Height: h, Cleanup: body[:lcup], Refine: body[lcup : lcup+lref], Passes: passes,
		MissingMSBs: z, P: mb - z}
}

func encodeOne(t testing.TB, tool string, px []uint16, w, h, bits int, args ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	var raw []byte
	for _, v := range px {
		if bits > 8 {
			raw = binary.LittleEndian.AppendUint16(raw, v)
		} else {
			raw = append(raw, byte(v))
		}
	}
	out := filepath.Join(dir, "out.j2c")
	var cmd []string
	switch filepath.Base(tool) {
	case "grk_compress":
		in := filepath.Join(dir, "in.rawl")
		os.WriteFile(in, raw, 0o644)
		cmd = append([]string{"-i", in, "-o", out, "-F", fmt.Sprintf("%d,%d,1,%d,u", w, h, bits), "-M", "64", "-n", "1"}, args...)
	default:
		in := filepath.Join(dir, "in.yuv")
		os.WriteFile(in, raw, 0o644)
		cmd = append([]string{"-i", in, "-o", out, "-dims", fmt.Sprintf("{%d,%d}", w, h), "-num_comps", "1",
			"-signed", "false", "-bit_depth", fmt.Sprint(bits), "-downsamp", "{1,1}", "-num_decomps", "0", "-reversible", "true"}, args...)
	}
	if b, err := exec.Command(tool, cmd...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", tool, err, b)
	}
	cs, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// blockImage is noise over a gradient, with runs of zero coefficients
// (the middle value) so that MEL has work.
func blockImage(w, h, bits int, seed int64) []uint16 {
	rng := rand.New(rand.NewSource(seed))
	px := make([]uint16, w*h)
	mid := 1 << (bits - 1)
	for i := range px {
		x, y := i%w, i/w
		switch {
		case (x/5+y/3)%3 == 0:
			px[i] = uint16(mid)
		case (x+y)%7 == 0:
			px[i] = uint16(rng.Intn(1 << bits))
		default:
			px[i] = uint16(min(1<<bits-1, mid+(x*y)%(1<<(bits-1))-rng.Intn(3)))
		}
	}
	return px
}

func TestGrokAndOpenJPHBlocks(t *testing.T) {
	type encoder struct{ name, tool string }
	var encs []encoder
	for _, name := range []string{"grk_compress", "ojph_compress"} {
		encs = append(encs, encoder{name, codectest.NeedTool(t, name)})
	}
	var d Decoder
	for _, e := range encs {
		for i, s := range [][3]int{{64, 64, 8}, {1, 1, 8}, {5, 7, 12}, {33, 17, 16}, {64, 1, 8}, {1, 64, 10}, {63, 63, 16}, {2, 2, 1}, {31, 9, 3}} {
			w, h, bits := s[0], s[1], s[2]
			if e.name == "ojph_compress" && bits < 2 {
				continue
			}
			t.Run(fmt.Sprintf("%s/%dx%dx%d", e.name, w, h, bits), func(t *testing.T) {
				px := blockImage(w, h, bits, int64(i))
				b := oneBlock(t, encodeOne(t, e.tool, px, w, h, bits), w, h)
				out := make([]uint32, w*h)
				if err := d.Decode(out, &b); err != nil {
					t.Fatal(err)
				}
				for j, v := range out {
					m := int(v&0x7fffffff) >> 1
					if v>>31 != 0 {
						m = -m
					}
					if want := int(px[j]) - 1<<(bits-1); m != want {
						t.Fatalf("sample (%d,%d): %d, want %d", j%w, j/w, m, want)
					}
				}
			})
		}
	}
}

// FuzzBlock decodes arbitrary HT code-blocks: no panic, errors that say
// corrupt or name the block's size, and output independent of what dst
// held.
func FuzzBlock(f *testing.F) {
	if tool, err := exec.LookPath("grk_compress"); err == nil {
		for i, s := range [][3]int{{16, 16, 8}, {7, 5, 12}, {32, 8, 16}} {
			w, h, bits := s[0], s[1], s[2]
			b := oneBlock(f, encodeOne(f, tool, blockImage(w, h, bits, int64(i)), w, h, bits), w, h)
			f.Add(b.Cleanup, b.Refine, uint16(w), uint16(h), uint8(b.Passes), uint8(b.MissingMSBs), uint8(b.P), false)
		}
	}
	f.Add([]byte{0x12, 0x34, 0x56, 0xff, 0x7f, 0x30, 0x00}, []byte{0xff, 0x8f, 0x01}, uint16(8), uint16(8), uint8(3), uint8(4), uint8(6), true)
	f.Fuzz(func(t *testing.T, cup, ref []byte, w, h uint16, passes, mm, p uint8, causal bool) {
		b := Block{Width: int(w%80) + 1, Height: int(h%80) + 1, Cleanup: cup, Refine: ref, Passes: int(passes % 5),
			MissingMSBs: int(mm % 34), P: int(p % 34), StripeCausal: causal}
		var d Decoder
		a := make([]uint32, b.Width*b.Height)
		err := d.Decode(a, &b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && b.Width*b.Height <= maxArea {
				t.Fatalf("error %v does not say corrupt", err)
			}
			return
		}
		c := make([]uint32, len(a))
		for i := range c {
			c[i] = 0xa5a5a5a5
		}
		if err := d.Decode(c, &b); err != nil {
			t.Fatalf("second decode: %v", err)
		}
		for i := range a {
			if a[i] != c[i] {
				t.Fatalf("sample %d: %#x then %#x", i, a[i], c[i])
			}
		}
	})
}
