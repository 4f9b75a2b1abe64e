// Package hostile builds the hostile compressed inputs that the tests, the
// fuzz seeds and the resource benchmark share: real encoders' output (dcmtk,
// GDCM, OpenJPEG) on small synthetic images, mutated deterministically as an
// attacker or a broken writer would (truncations, lying headers,
// encapsulation abuse, palette and YBR edges, declared-size bombs). Every
// case must be refused: exit 3, a message naming the file, nothing written.
package hostile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// Case is one hostile file.
type Case struct {
	Name string // family/source/mutation
	File []byte
	// Frame is the decoded size of one frame the file declares, and Frames
	// their count: the bound of what a decoder may allocate.
	Frame, Frames int64
	// Valid marks a valid image that broke a decoder (the JPEG 2000 origin
	// at 2^31), or one whose offset table lies over intact fragments: it
	// must decode, or at worst be refused cleanly (exit 3, nothing
	// written), never crash.
	Valid bool
}

// recoverable names the offset-table lies over intact fragments: an offset
// table that cannot be right is set aside and the frames are found from the
// fragments themselves, with a warning (as dcmtk and GDCM read GDCM's
// 00191113.dcm), so these decode, or are refused cleanly.
var recoverable = map[string]bool{
	"bot-short": true, "bot-into-fragment": true, "bot-beyond": true, "bot-repeated": true,
	"eot-offset-into-fragment": true, "eot-offset-beyond": true,
}

// Base is a real encoder's output before mutation, rebuilt by this package
// (so that a control run proves the rebuilding right).
type Base struct {
	Name   string
	Spec   fixture.Spec // the rebuilt image: TransferSyntax, Photometric, Items set
	Frames [][]byte     // each frame's stream
}

// File builds the base unchanged.
func (b Base) File() []byte { return fixture.Build(b.Spec) }

type encoder struct {
	family string
	tool   string
	args   []string
	srcs   []string
}

var encoders = []encoder{
	{"rle", "dcmcrle", nil, []string{"gray8", "ct16", "rgb8"}},
	{"ljpeg", "dcmcjpeg", []string{"+e1"}, []string{"gray8", "ct16", "rgb8"}},
	{"jpegls", "dcmcjpls", nil, []string{"gray8", "ct16", "rgb8"}},
	{"jpeg", "dcmcjpeg", []string{"+eb"}, []string{"gray8", "rgb8"}},
	{"j2k", "gdcmconv", []string{"--j2k"}, []string{"gray8", "ct16", "rgb8"}},
}

// Tools are the encoders the bases need.
var Tools = []string{"dcmcrle", "dcmcjpeg", "dcmcjpls", "gdcmconv", "opj_compress"}

func sources() map[string]fixture.Spec {
	gray8 := fixture.Spec{SOPClass: fixture.SecondaryCap, Modality: "OT", Rows: 20, Columns: 24,
		BitsAllocated: 8, BitsStored: 8, Values: fixture.Phantom(20, 24, 1, 0, 255)}
	ct16 := fixture.CTSlice(24, 20, 3, "1", "1")
	rgb8 := fixture.RGB(16)
	return map[string]fixture.Spec{"gray8": gray8, "ct16": ct16, "rgb8": rgb8}
}

// Bases encodes the synthetic sources with every encoder (or those of the
// named families), in dir.
func Bases(dir string, families ...string) ([]Base, error) {
	var out []Base
	src := sources()
	for _, e := range encoders {
		if len(families) > 0 && !slices.Contains(families, e.family) {
			continue
		}
		for _, s := range e.srcs {
			in := filepath.Join(dir, s+".dcm")
			enc := filepath.Join(dir, s+"-"+e.family+".dcm")
			if err := os.WriteFile(in, fixture.Build(src[s]), 0o600); err != nil {
				return nil, err
			}
			if msg, err := exec.Command(e.tool, append(append([]string{}, e.args...), in, enc)...).CombinedOutput(); err != nil {
				return nil, fmt.Errorf("%s %v: %v: %s", e.tool, e.args, err, msg)
			}
			b, err := rebuild(e.family+"/"+s, src[s], enc)
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		}
	}
	return out, nil
}

// rebuild reads the encoded file's syntax, photometric and frames and
// describes it as a fixture that Build re-encodes.
func rebuild(name string, spec fixture.Spec, path string) (Base, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Base{}, err
	}
	ds, err := dicom.Parse(bytes.NewReader(raw), int64(len(raw)), nil, dicom.SkipPixelData())
	if err != nil {
		return Base{}, fmt.Errorf("%s: %v", name, err)
	}
	str := func(t tag.Tag) string {
		e, err := ds.FindElementByTag(t)
		if err != nil {
			return ""
		}
		v, _ := e.Value.GetValue().([]string)
		if len(v) == 0 {
			return ""
		}
		return strings.TrimSpace(v[0])
	}
	frames := max(spec.Frames, 1)
	offsets, frags, err := fixture.Fragments(raw)
	if err != nil {
		return Base{}, fmt.Errorf("%s: %v", name, err)
	}
	streams, err := fixture.SplitFrames(offsets, frags, frames)
	if err != nil {
		return Base{}, fmt.Errorf("%s: %v", name, err)
	}
	spec.TransferSyntax = str(tag.TransferSyntaxUID)
	spec.Photometric = str(tag.PhotometricInterpretation)
	spec.Values = nil
	if spec.Photometric == "YBR_RCT" || spec.Photometric == "YBR_ICT" {
		spec.Replace = append(spec.Replace, fixture.US(0x0028, 0x0002, 3))
		spec.Extra = append(spec.Extra, fixture.US(0x0028, 0x0006, 0))
	}
	if spec.Photometric != "RGB" && spec.Photometric != "MONOCHROME2" && spec.Photometric != "MONOCHROME1" {
		spec.Planar = 0
	}
	b := Base{Name: name, Spec: spec, Frames: streams}
	b.Spec.Items = items(streams, true)
	return b, nil
}

// items encapsulates streams one fragment each (even length, as DICOM
// requires), with a Basic Offset Table when bot.
func items(streams [][]byte, bot bool) [][]byte {
	var table []byte
	out := [][]byte{nil}
	at := uint32(0)
	for _, s := range streams {
		if len(s)%2 == 1 {
			s = append(bytes.Clone(s), 0)
		}
		table = binary.LittleEndian.AppendUint32(table, at)
		at += uint32(len(s)) + 8
		out = append(out, s)
	}
	if bot {
		out[0] = table
	}
	return out
}

// frameSize is the decoded size of one frame of spec.
func frameSize(s fixture.Spec) int64 {
	spp := int64(1)
	switch s.Photometric {
	case "RGB", "YBR_FULL", "YBR_FULL_422", "YBR_RCT", "YBR_ICT":
		spp = 3
	}
	return int64(s.Rows) * int64(s.Columns) * spp * int64(s.BitsAllocated/8)
}

// Cases mutates every base.
func Cases(bases []Base) []Case {
	var out []Case
	for _, b := range bases {
		for _, m := range mutations(b) {
			spec := m.spec
			c := Case{Name: b.Name + "/" + m.name, Frames: int64(max(spec.Frames, 1)), Frame: frameSize(spec)}
			c.Valid = recoverable[m.name]
			c.File = fixture.Build(spec)
			if m.file != nil {
				c.File = m.file(c.File)
			}
			out = append(out, c)
		}
	}
	return out
}

type mutation struct {
	name string
	spec fixture.Spec
	file func([]byte) []byte // applied to the built file, when set
}

// family is the codec family of a base's name.
func family(b Base) string { return b.Name[:strings.IndexByte(b.Name, '/')] }

// endMarker is the length of the stream's end marker (EOI, EOC; none in RLE).
func endMarker(b Base) int {
	if family(b) == "rle" {
		return 0
	}
	return 2
}

// streamEnd is the stream without the padding a fragment may end with.
func streamEnd(s []byte) []byte {
	for len(s) > 2 && s[len(s)-1] == 0 && !(s[len(s)-3] == 0xff && s[len(s)-2] == 0xd9) {
		s = s[:len(s)-1]
	}
	return s
}

func mutations(b Base) []mutation {
	var ms []mutation
	with := func(name string, f func(s *fixture.Spec)) {
		s := b.Spec
		s.Replace = append([]fixture.Elem{}, b.Spec.Replace...)
		s.Extra = append([]fixture.Elem{}, b.Spec.Extra...)
		s.Items = append([][]byte{}, b.Spec.Items...)
		f(&s)
		ms = append(ms, mutation{name: name, spec: s})
	}
	frames := func(fn func(i int, f []byte) []byte) [][]byte {
		out := make([][]byte, len(b.Frames))
		for i, f := range b.Frames {
			if family(b) != "rle" { // RLE has no end marker: a zero may be data
				f = streamEnd(f)
			}
			out[i] = fn(i, bytes.Clone(f))
		}
		return out
	}
	first := func(fn func(f []byte) []byte) func(s *fixture.Spec) {
		return func(s *fixture.Spec) {
			s.Items = items(frames(func(i int, f []byte) []byte {
				if i == 0 {
					return fn(f)
				}
				return f
			}), true)
		}
	}
	fam := family(b)

	// Truncations.
	with("cut-half", first(func(f []byte) []byte { return f[:len(f)/2] }))
	with("cut-header", first(func(f []byte) []byte { return f[:min(len(f), 12)] }))
	with("cut-last-bytes", first(func(f []byte) []byte { return f[:len(f)-endMarker(b)-3] }))
	if fam != "rle" {
		with("no-end-marker", first(func(f []byte) []byte { return f[:len(f)-2] }))
		// Defect 4: the last data byte replaced by a zero pad and the end
		// marker lost, as a writer padding a cut fragment produces.
		with("zero-pad-no-end-marker", first(func(f []byte) []byte {
			f = f[:len(f)-2]
			f[len(f)-1] = 0
			return append(f, 0)
		}))
	}
	with("empty-fragment", first(func(f []byte) []byte { return nil }))

	// Lying headers.
	with("columns-half", func(s *fixture.Spec) { s.Columns /= 2 })
	with("columns-double", func(s *fixture.Spec) { s.Columns *= 2 })
	with("rows-minus-one", func(s *fixture.Spec) { s.Rows-- })
	with("rows-plus-one", func(s *fixture.Spec) { s.Rows++ })
	if b.Spec.Photometric == "MONOCHROME2" {
		with("declared-rgb", func(s *fixture.Spec) { s.Photometric = "RGB" })
	}
	if b.Spec.BitsAllocated == 16 && fam == "rle" {
		with("bits-8", func(s *fixture.Spec) { s.BitsAllocated, s.BitsStored = 8, 8 })
	}
	with("frames-plus-one", func(s *fixture.Spec) { s.Frames = max(s.Frames, 1) + 1 })
	if fam == "rle" {
		// Defect 3: a 64-column stream in a file declaring 32 columns,
		// and streams with more than a frame's bytes.
		with("segments-8k-too-many", first(func(f []byte) []byte { return appendRuns(f, 8192) }))
		with("segments-128-too-many", first(func(f []byte) []byte { return appendRuns(f, 128) }))
	}
	if fam == "ljpeg" || fam == "jpegls" || fam == "jpeg" {
		with("sof-larger", first(func(f []byte) []byte { return patchSOF(f, 16384, 16384) }))
	}
	if fam == "j2k" {
		with("siz-larger", first(func(f []byte) []byte { return patchSIZ(f, 16384, 16384, 0, 0) }))
	}

	// Declared-size bombs: a few bytes that claim a huge frame.
	with("declared-16384", func(s *fixture.Spec) { s.Rows, s.Columns = 16384, 16384 })
	with("declared-65535-frames", func(s *fixture.Spec) { s.Frames = 65535 })
	with("declared-over-limit", func(s *fixture.Spec) { s.Rows, s.Columns, s.Frames = 65535, 65535, 2 })
	if fam == "ljpeg" || fam == "jpegls" || fam == "jpeg" {
		with("bomb-16384-both-headers", first(func(f []byte) []byte { return patchSOF(f, 16384, 16384) }))
		ms[len(ms)-1].spec.Rows, ms[len(ms)-1].spec.Columns = 16384, 16384
	}
	if fam == "rle" {
		with("bomb-16384-runs", func(s *fixture.Spec) {
			s.Rows, s.Columns = 16384, 16384
			// Runs of 128 that cover half the frame: the stream is a
			// quarter of what the frame needs.
			seg := bytes.Repeat([]byte{0x81, 7}, 16384*16384/128/2)
			n := s.BitsAllocated / 8 * frameSamples(s)
			s.Items = items([][]byte{rleFrame(n, seg)}, true)
		})
	}

	// Encapsulation abuse.
	if len(b.Frames) > 1 {
		with("bot-short", func(s *fixture.Spec) { s.Items[0] = s.Items[0][:len(s.Items[0])-4] })
		with("bot-into-fragment", func(s *fixture.Spec) {
			s.Items = append([][]byte{}, s.Items...)
			t := bytes.Clone(s.Items[0])
			binary.LittleEndian.PutUint32(t[4:], binary.LittleEndian.Uint32(t[4:])+2)
			s.Items[0] = t
		})
		with("bot-beyond", func(s *fixture.Spec) {
			s.Items = append([][]byte{}, s.Items...)
			t := bytes.Clone(s.Items[0])
			binary.LittleEndian.PutUint32(t[8:], 1<<30)
			s.Items[0] = t
		})
		with("bot-repeated", func(s *fixture.Spec) {
			s.Items = append([][]byte{}, s.Items...)
			t := bytes.Clone(s.Items[0])
			copy(t[8:], t[4:8])
			s.Items[0] = t
		})
		eot := func(offsets, lengths func([]uint64) []uint64) func(s *fixture.Spec) {
			return func(s *fixture.Spec) { withEOT(s, b.Frames, offsets, lengths) }
		}
		same := func(v []uint64) []uint64 { return v }
		with("eot-lengths-short", eot(same, func(v []uint64) []uint64 { return v[1:] }))
		with("eot-offset-into-fragment", eot(func(v []uint64) []uint64 { v[1] += 2; return v }, same))
		with("eot-offsets-short", eot(func(v []uint64) []uint64 { return v[1:] }, func(v []uint64) []uint64 { return v[1:] }))
		with("eot-length-lies", eot(same, func(v []uint64) []uint64 { v[0] += 100; return v }))
		with("eot-offset-beyond", eot(func(v []uint64) []uint64 { v[2] = 1 << 40; return v }, same))
		with("fragments-fewer-no-bot", func(s *fixture.Spec) { s.Items = items(b.Frames[:len(b.Frames)-1], false) })
		// One frame declared, three complete streams: the last two would
		// be dropped unseen.
		with("one-frame-three-streams", func(s *fixture.Spec) { s.Frames = 0; s.Items = items(b.Frames, false) })
		with("one-frame-three-streams-bot", func(s *fixture.Spec) { s.Frames = 0; s.Items = items(b.Frames, true) })
	} else {
		with("one-frame-three-streams", func(s *fixture.Spec) {
			s.Items = items([][]byte{b.Frames[0], b.Frames[0], b.Frames[0]}, false)
		})
		with("one-frame-three-streams-one-fragment", func(s *fixture.Spec) {
			f := streamPadded(b.Frames[0])
			s.Items = items([][]byte{bytes.Join([][]byte{f, f, f}, nil)}, false)
		})
		with("two-frames-no-bot-three-fragments", func(s *fixture.Spec) {
			s.Frames = 2
			s.Items = items([][]byte{b.Frames[0], b.Frames[0], b.Frames[0]}, false)
		})
	}
	with("no-fragments", func(s *fixture.Spec) { s.Items = [][]byte{nil} })
	ms = append(ms, mutation{name: "file-cut-in-pixels", spec: b.Spec, file: func(f []byte) []byte { return f[:len(f)-len(b.Frames[len(b.Frames)-1])/2-8] }})
	ms = append(ms, mutation{name: "no-sequence-delimiter", spec: b.Spec, file: func(f []byte) []byte { return f[:len(f)-8] }})
	ms = append(ms, mutation{name: "item-length-beyond-file", spec: b.Spec, file: func(f []byte) []byte {
		f = bytes.Clone(f)
		// the last item's length: 8 bytes before its value
		at := len(f) - 8 - len(streamPadded(b.Frames[len(b.Frames)-1])) - 4
		binary.LittleEndian.PutUint32(f[at:], 1<<30)
		return f
	}})

	// Palette and YBR edges.
	if b.Spec.Photometric == "MONOCHROME2" && b.Spec.BitsAllocated == 8 {
		lut := func(entries, first, bits, data int) func(s *fixture.Spec) {
			return func(s *fixture.Spec) {
				s.Photometric = "PALETTE COLOR"
				for i := uint16(0); i < 3; i++ {
					s.Extra = append(s.Extra, fixture.US(0x0028, 0x1101+i, entries, first, bits),
						fixture.Elem{Group: 0x0028, Element: 0x1201 + i, VR: "OW", Value: make([]byte, 2*data)})
				}
			}
		}
		with("palette-short-data", lut(256, 0, 16, 100))
		with("palette-12-bits", lut(256, 0, 12, 256))
		with("palette-entries-zero-short", lut(0, 0, 16, 256)) // 0 means 65536 entries
		with("palette-three-samples", func(s *fixture.Spec) {
			lut(256, 0, 16, 256)(s)
			s.Replace = append(s.Replace, fixture.US(0x0028, 0x0002, 3))
		})
	}
	if b.Spec.Photometric != "MONOCHROME2" {
		with("ybr-partial-420", func(s *fixture.Spec) { s.Photometric = "YBR_PARTIAL_420" })
		with("ybr-one-sample", func(s *fixture.Spec) {
			s.Replace = append(s.Replace, fixture.US(0x0028, 0x0002, 1))
		})
		with("ybr-rct-outside-j2k", func(s *fixture.Spec) {
			if fam == "j2k" {
				s.TransferSyntax = "1.2.840.10008.1.2.4.50"
			}
			s.Photometric = "YBR_RCT"
			s.Replace = append(s.Replace, fixture.US(0x0028, 0x0002, 3))
		})
	}
	return ms
}

func streamPadded(s []byte) []byte {
	if len(s)%2 == 1 {
		return append(bytes.Clone(s), 0)
	}
	return s
}

func frameSamples(s *fixture.Spec) int {
	if s.Photometric == "MONOCHROME2" || s.Photometric == "MONOCHROME1" {
		return 1
	}
	return 3
}

// rleFrame is an RLE frame of n identical segments.
func rleFrame(n int, seg []byte) []byte {
	h := make([]byte, 64)
	binary.LittleEndian.PutUint32(h, uint32(n))
	for i := range n {
		binary.LittleEndian.PutUint32(h[4+4*i:], uint32(64+i*len(seg)))
	}
	return append(h, bytes.Repeat(seg, n)...)
}

// appendRuns adds runs worth extra bytes to every segment of an RLE frame,
// shifting the offsets.
func appendRuns(f []byte, extra int) []byte {
	n := int(binary.LittleEndian.Uint32(f))
	var offs []int
	for i := range n {
		offs = append(offs, int(binary.LittleEndian.Uint32(f[4+4*i:])))
	}
	offs = append(offs, len(f))
	runs := bytes.Repeat([]byte{0x81, 0x55}, extra/128)
	out := bytes.Clone(f[:64])
	for i := range n {
		binary.LittleEndian.PutUint32(out[4+4*i:], uint32(len(out)))
		out = append(out, f[offs[i]:offs[i+1]]...)
		out = append(out, runs...)
	}
	return out
}

// patchSOF sets the size in a JPEG frame header (SOFn, SOF55).
func patchSOF(f []byte, cols, rows int) []byte {
	for p := 2; p+9 < len(f); {
		if f[p] != 0xff {
			break
		}
		m := f[p+1]
		if m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc || m == 0xf7 {
			binary.BigEndian.PutUint16(f[p+5:], uint16(rows))
			binary.BigEndian.PutUint16(f[p+7:], uint16(cols))
			return f
		}
		p += 2 + int(binary.BigEndian.Uint16(f[p+2:]))
	}
	return f
}

// patchSIZ sets the reference grid and origin in a J2K SIZ segment (tiles
// become one: XTsiz, YTsiz cover the image).
func patchSIZ(f []byte, x, y, x0, y0 uint32) []byte {
	if len(f) < 42 || f[2] != 0xff || f[3] != 0x51 {
		return f
	}
	binary.BigEndian.PutUint32(f[8:], x+x0)
	binary.BigEndian.PutUint32(f[12:], y+y0)
	binary.BigEndian.PutUint32(f[16:], x0)
	binary.BigEndian.PutUint32(f[20:], y0)
	binary.BigEndian.PutUint32(f[24:], x)
	binary.BigEndian.PutUint32(f[28:], y)
	binary.BigEndian.PutUint32(f[32:], x0)
	binary.BigEndian.PutUint32(f[36:], y0)
	return f
}

// J2K builds the JPEG 2000 cases of issue 20 from OpenJPEG's output: an
// image origin at 2^31 with no decomposition (defect 1, in one frame and in
// a multi-frame file, where it hit a decoding worker), many layers over
// many tiles (defect 2), a lossless stream whose EOC was lost and last byte
// zeroed (defect 4), and a flat 4096 x 4096 frame in a few hundred bytes
// (defect 5; the was 16384 x 16384, a size this package does not
// make on a shared machine).
func J2K(dir string) ([]Case, error) {
	opj := func(name string, w, h int, pix func(x, y int) byte, args ...string) ([]byte, error) {
		pgm := filepath.Join(dir, name+".pgm")
		img := []byte("P5\n" + strconv.Itoa(w) + " " + strconv.Itoa(h) + "\n255\n")
		for y := range h {
			for x := range w {
				img = append(img, pix(x, y))
			}
		}
		if err := os.WriteFile(pgm, img, 0o600); err != nil {
			return nil, err
		}
		out := filepath.Join(dir, name+".j2k")
		if msg, err := exec.Command("opj_compress", append([]string{"-i", pgm, "-o", out}, args...)...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("opj_compress %v: %v: %s", args, err, msg)
		}
		os.Remove(pgm)
		return os.ReadFile(out)
	}
	ramp := func(x, y int) byte { return byte(x*7 + y*3) }
	spec := func(w, h, frames int, streams ...[]byte) fixture.Spec {
		return fixture.Spec{SOPClass: fixture.SecondaryCap, Modality: "OT", Rows: h, Columns: w, Frames: frames,
			BitsAllocated: 8, BitsStored: 8, TransferSyntax: "1.2.840.10008.1.2.4.90", Items: items(streams, frames > 1)}
	}
	var out []Case
	add := func(name string, s fixture.Spec) {
		out = append(out, Case{Name: "j2k-issue/" + name, File: fixture.Build(s), Frame: frameSize(s), Frames: int64(max(s.Frames, 1))})
	}
	origin, err := opj("origin", 32, 24, ramp, "-n", "1")
	if err != nil {
		return nil, err
	}
	// The origin moves by a multiple of every code-block size: the packets
	// stay valid, the stream is a valid image.
	origin = patchSIZ(origin, 32, 24, 1<<31, 1<<31)
	add("origin-2^31-no-decomposition", spec(32, 24, 0, origin))
	add("origin-2^31-no-decomposition-3-frames", spec(32, 24, 3, origin, origin, origin))
	out[0].Valid, out[1].Valid = true, true

	layers, err := opj("layers", 64, 64, ramp, "-t", "4,4", "-n", "1")
	if err != nil {
		return nil, err
	}
	add("65535-layers-256-tiles", spec(64, 64, 0, setLayers(layers, 65535)))
	add("65535-layers-256-empty-pocs-256-tiles", spec(64, 64, 0, insertPOC(setLayers(layers, 65535), 256)))

	lossless, err := opj("eoc", 32, 24, ramp, "-n", "3")
	if err != nil {
		return nil, err
	}
	cut := bytes.Clone(lossless[:len(lossless)-2])
	cut[len(cut)-1] = 0
	add("zero-pad-no-eoc", spec(32, 24, 0, append(cut, 0)))

	flat, err := opj("flat", 4096, 4096, func(int, int) byte { return 0 })
	if err != nil {
		return nil, err
	}
	s := spec(4096, 4096, 0, flat)
	// A bomb is refused only when it lies: this one is a valid image, the
	// resource benchmark measures it; here its EOC is cut.
	s.Items = items([][]byte{flat[:len(flat)-2]}, false)
	add("flat-4096-no-eoc", s)
	return out, nil
}

// Flat is a valid frame of zeros, size x size 8-bit, compressed by a
// family's encoder (j2k: OpenJPEG's raw codestream): the declared-size
// bombs that are honest, which the tool must decode within the frame plus a
// bounded working set. JPEG 2000 and JPEG-LS hold 4096 x 4096 in a few
// hundred bytes.
func Flat(dir, fam string, size int) ([]byte, error) {
	spec := fixture.Spec{SOPClass: fixture.SecondaryCap, Modality: "OT", Rows: size, Columns: size,
		BitsAllocated: 8, BitsStored: 8, Values: make([]int64, size*size)}
	if fam == "j2k" {
		pgm := filepath.Join(dir, "flat.pgm")
		img := append([]byte("P5\n"+strconv.Itoa(size)+" "+strconv.Itoa(size)+"\n255\n"), make([]byte, size*size)...)
		if err := os.WriteFile(pgm, img, 0o600); err != nil {
			return nil, err
		}
		defer os.Remove(pgm)
		out := filepath.Join(dir, "flat.j2k")
		if msg, err := exec.Command("opj_compress", "-i", pgm, "-o", out).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("opj_compress: %v: %s", err, msg)
		}
		j, err := os.ReadFile(out)
		if err != nil {
			return nil, err
		}
		spec.Values, spec.TransferSyntax, spec.Items = nil, "1.2.840.10008.1.2.4.90", items([][]byte{j}, false)
		return fixture.Build(spec), nil
	}
	for _, e := range encoders {
		if e.family != fam {
			continue
		}
		in, out := filepath.Join(dir, "flat.dcm"), filepath.Join(dir, "flat-"+fam+".dcm")
		if err := os.WriteFile(in, fixture.Build(spec), 0o600); err != nil {
			return nil, err
		}
		defer os.Remove(in)
		if msg, err := exec.Command(e.tool, append(append([]string{}, e.args...), in, out)...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%s: %v: %s", e.tool, err, msg)
		}
		return os.ReadFile(out)
	}
	return nil, fmt.Errorf("no encoder for %s", fam)
}

// setLayers sets the layer count of every COD segment of a codestream.
func setLayers(f []byte, n uint16) []byte {
	f = bytes.Clone(f)
	for p := 2; p+4 < len(f); {
		if f[p] != 0xff {
			break
		}
		m := f[p+1]
		if m == 0x93 { // SOD: the tile's data follows; skip to the tile part's end
			break
		}
		l := int(binary.BigEndian.Uint16(f[p+2:]))
		if m == 0x52 && p+9 < len(f) { // COD: Scod, SGcod (progression, layers, MCT)
			binary.BigEndian.PutUint16(f[p+6:], n)
		}
		p += 2 + l
	}
	return f
}

// insertPOC adds to the main header a POC segment of n progression changes
// that cover only resolutions the image does not have (1 to 32 with no
// decomposition): loops that produce no packet.
func insertPOC(f []byte, n int) []byte {
	for p := 2; p+4 < len(f); {
		if f[p] != 0xff {
			break
		}
		m := f[p+1]
		if m == 0x90 { // the first SOT: the main header ends here
			poc := []byte{0xff, 0x5f}
			poc = binary.BigEndian.AppendUint16(poc, uint16(2+7*n))
			for range n {
				poc = append(poc, 1, 0, 0xff, 0xff, 33, 255, 0)
			}
			return append(append(bytes.Clone(f[:p]), poc...), f[p:]...)
		}
		p += 2 + int(binary.BigEndian.Uint16(f[p+2:]))
	}
	return f
}

// Stream is one frame's stream and the frame a header declares for it: the
// seeds of a codec's fuzz target.
type Stream struct {
	Data                         []byte
	Columns, Rows, Samples, Bits int
}

// Streams are the first frames of the bases and of their mutations that
// change the stream or the declared frame.
func Streams(bases []Base) []Stream {
	var out []Stream
	for _, b := range bases {
		for _, m := range append([]mutation{{name: "base", spec: b.Spec}}, mutations(b)...) {
			s := m.spec
			if m.file != nil || len(s.Items) < 2 {
				continue
			}
			out = append(out, Stream{Data: s.Items[1], Columns: s.Columns, Rows: s.Rows, Samples: frameSamples(&s), Bits: s.BitsAllocated})
		}
	}
	return out
}

// withEOT encapsulates frames one fragment each with an Extended Offset
// Table whose offsets and lengths pass through the given functions.
func withEOT(s *fixture.Spec, frames [][]byte, offsets, lengths func([]uint64) []uint64) {
	var off, ln []uint64
	at := uint64(0)
	for _, f := range frames {
		off, ln = append(off, at), append(ln, uint64(len(f)))
		at += uint64(len(streamPadded(f))) + 8
	}
	u64 := func(v []uint64) []byte {
		var out []byte
		for _, x := range v {
			out = binary.LittleEndian.AppendUint64(out, x)
		}
		return out
	}
	s.Items = items(frames, false)
	s.Extra = append(s.Extra,
		fixture.Elem{Group: 0x7fe0, Element: 0x0001, VR: "OV", Value: u64(offsets(off))},
		fixture.Elem{Group: 0x7fe0, Element: 0x0002, VR: "OV", Value: u64(lengths(ln))})
}

// Controls are valid variants of the bases, which must be accepted: the
// base as rebuilt, and multi-frame ones with an Extended Offset Table and
// without any offset table. They show that a case fails for its mutation.
func Controls(bases []Base) []Case {
	var out []Case
	for _, b := range bases {
		out = append(out, Case{Name: b.Name + "/control", File: b.File(), Frame: frameSize(b.Spec), Frames: int64(len(b.Frames))})
		if len(b.Frames) > 1 {
			s := b.Spec
			s.Extra = append([]fixture.Elem{}, b.Spec.Extra...)
			withEOT(&s, b.Frames, func(v []uint64) []uint64 { return v }, func(v []uint64) []uint64 { return v })
			out = append(out, Case{Name: b.Name + "/control-eot", File: fixture.Build(s), Frame: frameSize(s), Frames: int64(len(b.Frames))})
			s = b.Spec
			s.Items = items(b.Frames, false)
			out = append(out, Case{Name: b.Name + "/control-no-bot", File: fixture.Build(s), Frame: frameSize(s), Frames: int64(len(b.Frames))})
		}
	}
	return out
}
