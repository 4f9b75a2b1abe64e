package remap

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/codectest"
	"github.com/dicom-remap/dicom-remap/internal/fixture"
	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// grkFrames encodes each frame of s (one or three samples, interleaved)
// with grk_compress -M 64 (HT code-blocks) and the given options. RGB
// frames are encoded with the component transform unless opts say "-Y 0".
func grkFrames(t testing.TB, s fixture.Spec, opts ...string) [][]byte {
	t.Helper()
	tool := codectest.NeedTool(t, "grk_compress")
	spp := 1
	if s.Photometric == "RGB" || strings.HasPrefix(s.Photometric, "YBR") {
		spp = 3
	}
	frames := max(s.Frames, 1)
	n := s.Rows * s.Columns
	bps := s.BitsAllocated / 8
	sign := "u"
	if s.Signed {
		sign = "s"
	}
	dir := t.TempDir()
	var out [][]byte
	for f := range frames {
		raw := make([]byte, 0, n*spp*bps)
		for c := range spp {
			for i := range n {
				v := s.Values[(f*n+i)*spp+c]
				if bps == 1 {
					raw = append(raw, byte(v))
				} else {
					raw = binary.LittleEndian.AppendUint16(raw, uint16(v))
				}
			}
		}
		in := filepath.Join(dir, fmt.Sprintf("f%d.rawl", f))
		cs := filepath.Join(dir, fmt.Sprintf("f%d.j2k", f))
		if err := os.WriteFile(in, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		args := append([]string{"-i", in, "-o", cs, "-M", "64", "-F",
			fmt.Sprintf("%d,%d,%d,%d,%s", s.Columns, s.Rows, spp, s.BitsStored, sign)}, opts...)
		if b, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
			t.Fatalf("grk_compress: %v\n%s", err, b)
		}
		data, err := os.ReadFile(cs)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data[:min(len(data), 200)], []byte{0xff, 0x50}) {
			t.Fatal("grk_compress wrote no CAP marker: not HTJ2K")
		}
		out = append(out, data)
	}
	return out
}

func remapOut(t *testing.T, in []byte) ([]byte, error) {
	t.Helper()
	var out bytes.Buffer
	_, err := Remap(&out, bytes.NewReader(in), int64(len(in)), Params{Min: 0, Max: 200, Version: "test"})
	return out.Bytes(), err
}

// TestHTJ2K decodes the three HTJ2K syntaxes: lossless frames remap
// exactly as the native image does, without Lossy Image Compression; a
// lossy .203 stream gains it with ISO_15444_15.
func TestHTJ2K(t *testing.T) {
	ct := fixture.CTSlice(40, 33, 3, "1", "1")
	rgb := fixture.RGB(24)
	rgb.Photometric = "RGB"
	mono1 := fixture.Radiograph(37)
	mono1.Photometric = "MONOCHROME1"
	for _, c := range []struct {
		name   string
		spec   fixture.Spec
		photo  string // of the compressed image, when it differs
		ts     string
		opts   []string
		lossy  bool
		reject string
	}{
		{name: "201 ct multi-frame", spec: ct, ts: tsHTJ2KLossless},
		{name: "201 mono1 12-bit", spec: mono1, ts: tsHTJ2KLossless, opts: []string{"-n", "1"}},
		{name: "201 rgb rct", spec: rgb, photo: "YBR_RCT", ts: tsHTJ2KLossless},
		{name: "201 rgb", spec: rgb, ts: tsHTJ2KLossless, opts: []string{"-Y", "0"}},
		{name: "202 rpcl tlm", spec: ct, ts: tsHTJ2KRPCL, opts: []string{"-p", "RPCL", "-X", "-n", "2"}},
		{name: "203 reversible", spec: ct, ts: tsHTJ2K, opts: []string{"-t", "16,16"}},
		{name: "203 irreversible", spec: ct, ts: tsHTJ2K, opts: []string{"-I"}, lossy: true},
		{name: "203 ict", spec: rgb, photo: "YBR_ICT", ts: tsHTJ2K, opts: []string{"-I"}, lossy: true},
		{name: "201 irreversible", spec: ct, ts: tsHTJ2KLossless, opts: []string{"-I"}, reject: "irreversible (9/7) wavelet"},
		{name: "202 lrcp", spec: ct, ts: tsHTJ2KRPCL, opts: []string{"-X"}, reject: "not RPCL"},
		{name: "202 no tlm", spec: ct, ts: tsHTJ2KRPCL, opts: []string{"-p", "RPCL"}, reject: "no TLM"},
		{name: "202 too few levels", spec: fixture.Radiograph(300), ts: tsHTJ2KRPCL, opts: []string{"-p", "RPCL", "-X", "-n", "2"}, reject: "above 64"},
	} {
		t.Run(c.name, func(t *testing.T) {
			native := c.spec
			frames := grkFrames(t, native, c.opts...)
			enc := native
			enc.TransferSyntax = c.ts
			enc.Items = append([][]byte{nil}, frames...)
			if c.photo != "" {
				enc.Photometric = c.photo
				enc.Replace = []fixture.Elem{fixture.US(0x0028, 0x0002, 3)}
				enc.Extra = append(append([]fixture.Elem(nil), enc.Extra...), fixture.US(0x0028, 0x0006, 0))
			}
			got, err := remapOut(t, fixture.Build(enc))
			if c.reject != "" {
				if err == nil || KindOf(err) != Rejected || !strings.Contains(err.Error(), c.reject) {
					t.Fatalf("error %v, want a rejection with %q", err, c.reject)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ds, err := dicom.Parse(bytes.NewReader(got), int64(len(got)), nil, dicom.SkipPixelData())
			if err != nil {
				t.Fatal(err)
			}
			lossy := textOf(find(ds.Elements, tagLossyCompression))
			method := textOf(find(ds.Elements, tagLossyMethod))
			if c.lossy {
				if lossy != "01" || method != "ISO_15444_15" {
					t.Errorf("lossy stream: Lossy Image Compression %q, method %q", lossy, method)
				}
				return
			}
			if lossy != "" || method != "" {
				t.Errorf("lossless stream gained Lossy Image Compression %q, method %q", lossy, method)
			}
			want, err := remapOut(t, fixture.Build(native))
			if err != nil {
				t.Fatal(err)
			}
			n := native.Rows * native.Columns * max(native.Frames, 1) * native.BitsAllocated / 8
			if native.Photometric == "RGB" {
				n *= 3
			}
			if !bytes.Equal(got[len(got)-n:], want[len(want)-n:]) {
				t.Fatal("pixels differ from the native image's remap")
			}
			if ts := textOf(find(ds.Elements, tag.TransferSyntaxUID)); ts != tsExplicitLE {
				t.Errorf("output transfer syntax %q", ts)
			}
		})
	}
}

// FuzzRemapHTJ2K is FuzzRemap over HTJ2K files of the three syntaxes, so
// that mutations reach the file meta read apart (the library panics on
// these UIDs), the syntaxes' rules and the HT decoder.
func FuzzRemapHTJ2K(f *testing.F) {
	ct := fixture.CTSlice(12, 9, 2, "1", "1")
	rgb := fixture.RGB(6)
	for _, c := range []struct {
		spec fixture.Spec
		ts   string
		opts []string
	}{
		{ct, tsHTJ2KLossless, []string{"-n", "2"}},
		{ct, tsHTJ2KRPCL, []string{"-p", "RPCL", "-X", "-n", "1"}},
		{ct, tsHTJ2K, []string{"-I", "-n", "2"}},
		{rgb, tsHTJ2K, []string{"-n", "1"}},
	} {
		s := c.spec
		s.TransferSyntax = c.ts
		s.Items = append([][]byte{nil}, grkFrames(f, c.spec, c.opts...)...)
		f.Add(fixture.Build(s), int16(0), uint16(99))
	}
	f.Fuzz(fuzzRemap)
}
