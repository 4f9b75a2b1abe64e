package tests

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
)

// compressedSource is a synthetic native image that the real encoders
// compress.
type compressedSource struct {
	name string
	spec fixture.Spec
}

func compressedSources() []compressedSource {
	gray8 := fixture.Spec{SOPClass: fixture.SecondaryCap, Modality: "OT", Rows: 17, Columns: 33, Frames: 2,
		BitsAllocated: 8, BitsStored: 8, Values: fixture.Phantom(17, 33, 2, 0, 255)}
	xr12 := fixture.Spec{SOPClass: fixture.SecondaryCap, Modality: "OT", Rows: 29, Columns: 37,
		BitsAllocated: 16, BitsStored: 12, Values: fixture.Phantom(29, 37, 1, 0, 4095)}
	ct := fixture.CTSlice(48, 40, 3, "1", "1")
	u16 := fixture.Spec{SOPClass: fixture.SecondaryCap, Modality: "OT", Rows: 16, Columns: 20,
		BitsAllocated: 16, BitsStored: 16, Values: fixture.Phantom(16, 20, 1, 0, 65535)}
	rgb := fixture.RGB(24)
	rgb.Frames, rgb.Values = 2, fixture.Phantom(24, 3*24, 2, 0, 255)
	rgbPlanar := fixture.RGB(20)
	rgbPlanar.Planar = 1
	rgb16 := fixture.Spec{SOPClass: fixture.SecondaryCap, Modality: "OT", Rows: 12, Columns: 10, Photometric: "RGB",
		BitsAllocated: 16, BitsStored: 16, Values: fixture.Phantom(12, 30, 1, 0, 65535)}
	return []compressedSource{{"gray8", gray8}, {"xr12", xr12}, {"ct16s", ct}, {"u16", u16}, {"rgb8", rgb}, {"rgb8p", rgbPlanar}, {"rgb16", rgb16}}
}

// compression is one encoder run and how its output is checked.
type compression struct {
	name    string
	tool    string
	args    []string
	sources []string // compressedSource names it applies to
	// decoder, when set, makes the reference with an independent decoder
	// (lossy syntaxes); else the synthetic source is the reference.
	decoder []string
	lossy   bool
}

func compressions() []compression {
	all := []string{"gray8", "xr12", "ct16s", "u16", "rgb8", "rgb8p"}
	var c []compression
	c = append(c,
		compression{name: "rle", tool: "dcmcrle", sources: append(all, "rgb16")},
		compression{name: "rle-fragments-no-bot", tool: "dcmcrle", args: []string{"+fs", "1", "-ot"}, sources: []string{"ct16s", "rgb8"}},
		compression{name: "rle-gdcm", tool: "gdcmconv", args: []string{"--rle"}, sources: []string{"gray8", "ct16s"}},
		compression{name: "jpeg-lossless-sv1", tool: "dcmcjpeg", args: []string{"+e1"}, sources: all},
		compression{name: "jpeg-lossless-sv1-fragments", tool: "dcmcjpeg", args: []string{"+e1", "+fs", "1"}, sources: []string{"ct16s", "rgb8"}},
		compression{name: "jpeg-lossless-sv1-fragments-no-bot", tool: "dcmcjpeg", args: []string{"+e1", "+fs", "1", "-ot"}, sources: []string{"ct16s", "gray8"}},
		compression{name: "jpeg-lossless-gdcm", tool: "gdcmconv", args: []string{"--jpeg"}, sources: []string{"gray8", "xr12", "u16"}},
		compression{name: "jpeg-baseline", tool: "dcmcjpeg", args: []string{"+eb"}, sources: []string{"gray8", "rgb8"}, decoder: []string{"dcmdjpeg"}, lossy: true},
		compression{name: "jpeg-baseline-444", tool: "dcmcjpeg", args: []string{"+eb", "+s4"}, sources: []string{"rgb8"}, decoder: []string{"dcmdjpeg"}, lossy: true},
		compression{name: "jpeg-extended-12", tool: "dcmcjpeg", args: []string{"+ee"}, sources: []string{"xr12"}, decoder: []string{"dcmdjpeg"}, lossy: true},
		compression{name: "jpeg-ls", tool: "dcmcjpls", sources: all},
		compression{name: "jpeg-ls-sample-interleave", tool: "dcmcjpls", args: []string{"+is"}, sources: []string{"rgb8"}},
		compression{name: "jpeg-ls-no-interleave", tool: "dcmcjpls", args: []string{"+in"}, sources: []string{"rgb8"}},
		compression{name: "jpeg-ls-near", tool: "dcmcjpls", args: []string{"+en"}, sources: []string{"gray8", "xr12", "u16", "rgb8"}, decoder: []string{"dcmdjpls"}, lossy: true},
		compression{name: "jpeg-ls-gdcm", tool: "gdcmconv", args: []string{"--jpegls"}, sources: []string{"gray8", "xr12"}},
		compression{name: "j2k", tool: "gdcmconv", args: []string{"--j2k"}, sources: []string{"gray8", "xr12", "ct16s", "u16", "rgb8"}},
		compression{name: "j2k-lossy", tool: "gdcmconv", args: []string{"--j2k", "--lossy", "--irreversible", "-q", "40"},
			sources: []string{"gray8", "xr12", "rgb8"}, decoder: []string{"gdcmconv", "--raw"}, lossy: true},
	)
	for sv := 1; sv <= 7; sv++ {
		c = append(c, compression{name: fmt.Sprintf("jpeg-lossless-el-sv%d", sv), tool: "dcmcjpeg", args: []string{"+el", "+sv", fmt.Sprint(sv)}, sources: []string{"xr12", "ct16s", "rgb8"}})
	}
	return c
}

// TestCompressedInputs compresses synthetic images with dcmtk and GDCM and
// requires every output to hold exactly the remap of the source (lossless)
// or of an independent decoder's output (lossy), to pass pydicom, dcmdump
// and dciodvfy, and to be the same bytes whatever the thread count.
func TestCompressedInputs(t *testing.T) {
	needPydicom(t)
	dir := t.TempDir()
	sources := map[string]string{}
	for _, s := range compressedSources() {
		sources[s.name] = write(t, filepath.Join(dir, s.name+".dcm"), fixture.Build(s.spec))
	}
	for _, c := range compressions() {
		for _, src := range c.sources {
			t.Run(c.name+"/"+src, func(t *testing.T) {
				tool := need(t, c.tool)
				in := filepath.Join(t.TempDir(), src+"-"+c.name+".dcm")
				args := append(append([]string{}, c.args...), sources[src], in)
				if r := runCmd(t, "", tool, args...); r.code != 0 {
					t.Fatalf("%s %v: %s%s", c.tool, args, r.stdout, r.stderr)
				}
				ref := sources[src]
				if c.decoder != nil {
					ref = filepath.Join(t.TempDir(), "reference.dcm")
					if r := runCmd(t, "", need(t, c.decoder[0]), append(c.decoder[1:], in, ref)...); r.code != 0 {
						t.Fatalf("%s: %s", c.decoder[0], r.stderr)
					}
				}
				checkCompressed(t, in, ref, c.lossy)
			})
		}
	}
}

// checkCompressed remaps in and checks the output against ref, the
// decoded reference.
func checkCompressed(t *testing.T, in, ref string, lossy bool) {
	t.Helper()
	out := t.TempDir()
	r := runCmd(t, "", binary, in, out, "0", "200")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	output := filepath.Join(out, outputNameOf(in))
	if entries, _ := os.ReadDir(out); len(entries) != 1 {
		t.Fatalf("the output directory holds %d entries, want only the output (the scratch space is unlinked)", len(entries))
	}
	check := runCmd(t, "", debianPython, filepath.Join(repoRoot, "tests", "check_output.py"), "--reference", ref, in, output, "0", "200")
	if check.code != 0 {
		t.Fatalf("pydicom check: %s%s", check.stdout, check.stderr)
	}
	checkDcmdump(t, output)
	checkDciodvfy(t, in, output)
	dump := runCmd(t, "", "dcmdump", "-q", "+P", "LossyImageCompression", output)
	if flagged := strings.Contains(dump.stdout, "[01]"); flagged != lossy {
		t.Fatalf("lossy %v, but Lossy Image Compression reads %q", lossy, dump.stdout)
	}
	one := t.TempDir()
	if r := runIn(t, "", []string{"GOMAXPROCS=1"}, binary, in, one, "0", "200"); r.code != 0 {
		t.Fatalf("one thread: exit %d: %s", r.code, r.stderr)
	}
	if !bytes.Equal(mustRead(t, output), mustRead(t, filepath.Join(one, outputNameOf(in)))) {
		t.Fatal("output differs with one thread")
	}
}

// TestCompressedRealSamples remaps the compressed samples that Debian's
// python3-pydicom ships, against GDCM's or dcmtk's decompression of each.
func TestCompressedRealSamples(t *testing.T) {
	needPydicom(t)
	tf := needFile(t, filepath.Join(pydicomData, "test_files"), "pydicom test files")
	for _, s := range []struct{ file, decoder string }{
		{"JPEG2000.dcm", "gdcmconv"},
		{"MR_small_jp2klossless.dcm", "gdcmconv"},
		{"GDCMJ2K_TextGBR.dcm", "gdcmconv"},
		{"693_J2KI.dcm", "gdcmconv"},
		{"J2K_pixelrep_mismatch.dcm", "gdcmconv"},
		{"SC_rgb_gdcm_KY.dcm", "gdcmconv"},
		{"MR_small_RLE.dcm", "dcmdrle"},
		{"SC_rgb_rle.dcm", "dcmdrle"},
		{"SC_rgb_rle_2frame.dcm", "dcmdrle"},
		{"SC_rgb_rle_16bit.dcm", "dcmdrle"},
		{"SC_rgb_rle_16bit_2frame.dcm", "dcmdrle"},
		{"SC_rgb_rle_32bit.dcm", "dcmdrle"},
		{"SC_rgb_rle_32bit_2frame.dcm", "dcmdrle"},
		// SOP Class and Instance UIDs only in the file meta (a warning).
		{"rtdose_rle.dcm", "dcmdrle"},
		{"rtdose_rle_1frame.dcm", "dcmdrle"},
		{"SC_rgb_jpeg_gdcm.dcm", "dcmdjpeg"},
		{"JPEG-lossy.dcm", "dcmdjpeg"},
		{"JPGExtended.dcm", "dcmdjpeg"},
		{"SC_rgb_jpeg_dcmtk.dcm", "dcmdjpeg"},
		{"SC_rgb_small_odd_jpeg.dcm", "dcmdjpeg"},
		{"SC_rgb_dcmtk_+eb+cr.dcm", "dcmdjpeg"},
		{"SC_rgb_dcmtk_+eb+cy+n1.dcm", "dcmdjpeg"},
		{"SC_rgb_dcmtk_+eb+cy+n2.dcm", "dcmdjpeg"},
		{"SC_rgb_dcmtk_+eb+cy+np.dcm", "dcmdjpeg"},
		{"SC_rgb_dcmtk_+eb+cy+s2.dcm", "dcmdjpeg"},
		{"SC_rgb_dcmtk_+eb+cy+s4.dcm", "dcmdjpeg"},
		{"SC_jpeg_no_color_transform.dcm", "dcmdjpeg"},
		{"SC_jpeg_no_color_transform_2.dcm", "dcmdjpeg"},
		{"SC_rgb_jpeg_app14_dcmd.dcm", "dcmdjpeg"},
		{"SC_rgb_jpeg_lossy_gdcm.dcm", "dcmdjpeg"},
		{"MR_small_jpeg_ls_lossless.dcm", "dcmdjpls"},
	} {
		t.Run(s.file, func(t *testing.T) {
			in := needFile(t, filepath.Join(tf, s.file), "pydicom sample")
			ref := filepath.Join(t.TempDir(), "reference.dcm")
			args := []string{in, ref}
			if s.decoder == "gdcmconv" {
				args = append([]string{"--raw"}, args...)
			}
			if r := runCmd(t, "", need(t, s.decoder), args...); r.code != 0 {
				t.Fatalf("%s: %s", s.decoder, r.stderr)
			}
			ts := runCmd(t, "", "dcmdump", "-q", "-M", "+P", "TransferSyntaxUID", in).stdout
			lossy := strings.Contains(runCmd(t, "", "dcmdump", "-q", "+P", "LossyImageCompression", in).stdout, "[01]") ||
				strings.Contains(ts, "JPEGBaseline") || strings.Contains(ts, "JPEGExtended")
			if lossy && strings.Contains(ts, "JPEG2000") {
				// .91 keeps the input's flag, and only adds none
				lossy = strings.Contains(runCmd(t, "", "dcmdump", "-q", "+P", "LossyImageCompression", in).stdout, "[01]")
			}
			checkCompressed(t, in, ref, lossy)
		})
	}
}

// TestCompressedFragmentShapes builds encapsulated files by hand from one
// encoder's frames: an Extended Offset Table, every frame split over
// several odd-length fragments, and frames whose decoded size disagrees
// with the header.
func TestCompressedFragmentShapes(t *testing.T) {
	needPydicom(t)
	dcmcjpeg := need(t, "dcmcjpeg")
	dir := t.TempDir()
	ct := fixture.CTSlice(48, 40, 3, "1", "1")
	src := write(t, filepath.Join(dir, "ct.dcm"), fixture.Build(ct))
	enc := filepath.Join(dir, "ct-jpeg.dcm")
	if r := runCmd(t, "", dcmcjpeg, "+e1", src, enc); r.code != 0 {
		t.Fatal(r.stderr)
	}
	script := `
import sys, pydicom
from pydicom.encaps import generate_pixel_data_frame, encapsulate, encapsulate_extended
ds = pydicom.dcmread(sys.argv[1])
frames = list(generate_pixel_data_frame(ds.PixelData, int(ds.NumberOfFrames)))
kind, out = sys.argv[2], sys.argv[3]
if kind == "extended":
    data, offsets, lengths = encapsulate_extended(frames)
    ds.PixelData, ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths = data, offsets, lengths
elif kind == "split":
    # every frame in fragments of 7 bytes (odd), no offset table
    ds.PixelData = encapsulate(frames, fragments_per_frame=(len(frames[0]) + 6) // 7, has_bot=False)
elif kind == "split-bot":
    ds.PixelData = encapsulate(frames, fragments_per_frame=3, has_bot=True)
elif kind == "frames-missing":
    ds.PixelData = encapsulate(frames[:2], has_bot=True)
ds.save_as(out)
`
	for _, kind := range []string{"extended", "split", "split-bot"} {
		t.Run(kind, func(t *testing.T) {
			in := filepath.Join(t.TempDir(), "ct-"+kind+".dcm")
			if r := runCmd(t, "", debianPython, "-c", script, enc, kind, in); r.code != 0 {
				t.Fatalf("building: %s", r.stderr)
			}
			checkCompressed(t, in, src, false)
		})
	}
	t.Run("frames-missing", func(t *testing.T) {
		in := filepath.Join(t.TempDir(), "ct-missing.dcm")
		if r := runCmd(t, "", debianPython, "-c", script, enc, "frames-missing", in); r.code != 0 {
			t.Fatalf("building: %s", r.stderr)
		}
		out := t.TempDir()
		r := runCmd(t, "", binary, in, out, "0", "100")
		// The table is set aside, and the fragments are too few: refused.
		if r.code != 3 || !strings.Contains(r.stderr, "basic offset table is wrong (it lists 2 frames, the header declares 3)") ||
			!strings.Contains(r.stderr, "2 fragments hold fewer than the 3 frames") {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if entries, _ := os.ReadDir(out); len(entries) != 0 {
			t.Fatalf("failure left %v", entries)
		}
	})
}

// TestColourInputs remaps palette colour and YBR inputs, native and RLE
// compressed, against pydicom's palette lookup and colour conversion.
// pydicom converts YBR in floating point and libjpeg's integer tables (which
// dcmtk and dicom-remap use) round differently by up to one: those runs map
// [0, 255] onto itself and allow that difference.
func TestColourInputs(t *testing.T) {
	needPydicom(t)
	dir := t.TempDir()
	sources := map[string]string{}
	for _, s := range compressedSources() {
		sources[s.name] = write(t, filepath.Join(dir, s.name+".dcm"), fixture.Build(s.spec))
	}
	ybr422 := filepath.Join(pydicomData, "test_files", "SC_ybr_full_422_uncompressed.dcm")
	for _, c := range []struct {
		kind, source string
		exact        bool
	}{
		{"palette8", sources["gray8"], true},
		{"palette16", sources["xr12"], true},
		{"ybr", sources["rgb8"], false},
		{"ybr-planar", sources["rgb8p"], false},
		{"ybr422", ybr422, false},
	} {
		t.Run(c.kind, func(t *testing.T) {
			needFile(t, c.source, "source")
			d := t.TempDir()
			in, ref := filepath.Join(d, c.kind+".dcm"), filepath.Join(d, "reference.dcm")
			if r := runCmd(t, "", debianPython, filepath.Join(repoRoot, "tests", "color_fixture.py"), c.kind, c.source, in, ref); r.code != 0 {
				t.Fatalf("color_fixture.py: %s", r.stderr)
			}
			if c.kind == "ybr422" {
				in = c.source
			}
			inputs := []string{in}
			if c.kind != "ybr422" {
				rle := filepath.Join(d, c.kind+"-rle.dcm")
				if r := runCmd(t, "", need(t, "dcmcrle"), in, rle); r.code != 0 {
					t.Fatalf("dcmcrle: %s", r.stderr)
				}
				inputs = append(inputs, rle)
			}
			for _, in := range inputs {
				if c.exact {
					checkCompressed(t, in, ref, false)
					continue
				}
				out := t.TempDir()
				if r := runCmd(t, "", binary, "--source-range", "0:255", in, out, "0", "255"); r.code != 0 {
					t.Fatalf("exit %d: %s", r.code, r.stderr)
				}
				output := filepath.Join(out, outputNameOf(in))
				check := runCmd(t, "", debianPython, filepath.Join(repoRoot, "tests", "check_output.py"),
					"--reference", ref, "--tolerance", "1", in, output, "0", "255", "0", "255")
				if check.code != 0 {
					t.Fatalf("pydicom check: %s%s", check.stdout, check.stderr)
				}
				checkDcmdump(t, output)
				checkDciodvfy(t, in, output)
			}
		})
	}
}

// TestCompressedSeries: a series whose slices arrive in three compressed
// syntaxes is one series: series mode with 1 and 2 workers, the phases
// (--print-range, --merge-ranges, --source-range-from) and the scattered
// CWL workflow give the same bytes, each sample the remap of the native
// slice.
func TestCompressedSeries(t *testing.T) {
	needPydicom(t)
	native, lo, hi := makeSeries(t, 6, 16)
	in := t.TempDir()
	files, _ := filepath.Glob(filepath.Join(native, "IM*"))
	encoders := [][]string{{"dcmcrle"}, {"dcmcjpls"}, {"dcmcjpeg", "+e1"}}
	var compressed []string
	for i, f := range files {
		enc := encoders[i%len(encoders)]
		out := filepath.Join(in, filepath.Base(f))
		if r := runCmd(t, "", need(t, enc[0]), append(enc[1:], f, out)...); r.code != 0 {
			t.Fatalf("%s: %s", enc[0], r.stderr)
		}
		compressed = append(compressed, out)
	}
	var runs []map[string][]byte
	for _, workers := range []string{"1", "2"} {
		out := filepath.Join(t.TempDir(), "out")
		if r := runCmd(t, "", binary, "-q", "--workers", workers, in, out, "0", "255"); r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		o := outputs(t, out)
		delete(o, "dicom-remap-provenance.json")
		runs = append(runs, o)
	}
	if len(runs[0]) != len(compressed) {
		t.Fatalf("%d outputs for %d slices", len(runs[0]), len(compressed))
	}
	work := t.TempDir()
	var ranges []string
	for i, f := range compressed {
		name := filepath.Base(f) + "-normalized.dcm"
		if !bytes.Equal(runs[0][name], runs[1][name]) {
			t.Fatalf("%s: 1 and 2 workers differ", name)
		}
		output := write(t, filepath.Join(work, name), runs[0][name])
		check := runCmd(t, "", debianPython, filepath.Join(repoRoot, "tests", "check_output.py"), "--reference", files[i], f, output, "0", "255", fmt.Sprint(lo), fmt.Sprint(hi))
		if check.code != 0 {
			t.Fatalf("%s: %s%s", name, check.stdout, check.stderr)
		}
		r := runCmd(t, "", binary, "--print-range", f)
		if r.code != 0 {
			t.Fatal(r.stderr)
		}
		ranges = append(ranges, write(t, filepath.Join(work, fmt.Sprintf("r%d.json", i)), []byte(r.stdout)))
	}
	merged := runCmd(t, "", binary, append([]string{"--merge-ranges"}, ranges...)...)
	mergedFile := write(t, filepath.Join(work, "merged.json"), []byte(merged.stdout))
	for _, f := range compressed {
		out := t.TempDir()
		if r := runCmd(t, "", binary, "--source-range-from", mergedFile, f, out, "0", "255"); r.code != 0 {
			t.Fatal(r.stderr)
		}
		name := filepath.Base(f) + "-normalized.dcm"
		if !bytes.Equal(mustRead(t, filepath.Join(out, name)), runs[0][name]) {
			t.Fatalf("%s: phased output differs from series mode", name)
		}
	}
	cwltool := need(t, "cwltool")
	var images []string
	for _, f := range compressed {
		images = append(images, fmt.Sprintf("{class: File, path: %q}", f))
	}
	job := write(t, filepath.Join(work, "job.yml"), []byte(fmt.Sprintf("images: [%s]\nmin: 0\nmax: 255\n", strings.Join(images, ", "))))
	outdir := filepath.Join(work, "cwl")
	r := runIn(t, work, withBinaryOnPath(), cwltool, "--parallel", "--no-container", "--outdir", outdir, abs(t, filepath.Join("..", "cwl", "dicom-remap-series.cwl")), job)
	if r.code != 0 {
		t.Fatalf("cwltool: exit %d\n%s", r.code, r.stderr)
	}
	for _, f := range compressed {
		name := filepath.Base(f) + "-normalized.dcm"
		if !bytes.Equal(mustRead(t, filepath.Join(outdir, name)), runs[0][name]) {
			t.Fatalf("%s: the CWL workflow's output differs from series mode", name)
		}
	}
}

// TestOffsetTableDisagrees: a multi-frame RLE image whose Basic Offset
// Table cannot be right, as in GDCM's 00191113.dcm (one entry too many,
// offsets a few bytes off, an odd last fragment). dicom-remap finds the
// frames from the fragments, with a warning: every sample is the remap of
// the native frames. (On this file dcmtk's dcmdrle gets the last 11 samples
// wrong: it ends an RLE segment at a fragment's end and fills the rest;
// gdcmconv and pydicom refuse it. The synthetic source is the reference.)
func TestOffsetTableDisagrees(t *testing.T) {
	needPydicom(t)
	native := fixture.CTSlice(12, 10, 3, "1", "1")
	frames := fixture.RLEFrames(native)
	var table []byte
	entry := func(v int) { table = append(table, byte(v), byte(v>>8), byte(v>>16), byte(v>>24)) }
	off := 0
	for _, f := range frames {
		entry(off + 2) // a few bytes off
		off += 8 + len(f)
	}
	entry(off) // one entry too many
	last := frames[len(frames)-1]
	items := append(append([][]byte{table}, frames[:len(frames)-1]...), last[:len(last)-3], last[len(last)-3:])
	compressed := native
	compressed.TransferSyntax, compressed.Items = "1.2.840.10008.1.2.5", items
	dir := t.TempDir()
	in := write(t, filepath.Join(dir, "angio.dcm"), fixture.Build(compressed))
	ref := write(t, filepath.Join(dir, "native.dcm"), fixture.Build(native))
	out := t.TempDir()
	r := runCmd(t, "", binary, in, out, "0", "200")
	if r.code != 0 || !strings.Contains(r.stderr, "angio.dcm: warning: the basic offset table does not match the fragments (it lists 4 frames, the header declares 3): frames found from the fragments themselves") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	output := filepath.Join(out, "angio-normalized.dcm")
	check := runCmd(t, "", debianPython, filepath.Join(repoRoot, "tests", "check_output.py"), "--reference", ref, in, output, "0", "200")
	if check.code != 0 {
		t.Fatalf("pydicom check: %s%s", check.stdout, check.stderr)
	}
	checkDciodvfy(t, ref, output)
}

// TestGDCMOffsetTableSample runs the real file: GDCM's 00191113.dcm (an
// angiography workstation's JPEG Lossless, four frames, a Basic Offset
// Table of five entries a few bytes off, an odd last fragment). The output
// is checked sample by sample against both dcmtk's and GDCM's decoding.
func TestGDCMOffsetTableSample(t *testing.T) {
	needPydicom(t)
	in := needFile(t, "/usr/share/doc/libgdcm3.0/examples/00191113.dcm", "GDCM's example (libgdcm3.0)")
	dir := t.TempDir()
	refs := []string{filepath.Join(dir, "dcmtk.dcm"), filepath.Join(dir, "gdcm.dcm")}
	if r := runCmd(t, "", need(t, "dcmdjpeg"), in, refs[0]); r.code != 0 {
		t.Fatalf("dcmdjpeg: %s", r.stderr)
	}
	if r := runCmd(t, "", need(t, "gdcmconv"), "--raw", in, refs[1]); r.code != 0 {
		t.Fatalf("gdcmconv: %s", r.stderr)
	}
	out := t.TempDir()
	r := runCmd(t, "", binary, in, out, "0", "200")
	if r.code != 0 || !strings.Contains(r.stderr, "warning: the basic offset table does not match the fragments (it lists 5 frames, the header declares 4)") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	output := filepath.Join(out, "00191113-normalized.dcm")
	for _, ref := range refs {
		check := runCmd(t, "", debianPython, filepath.Join(repoRoot, "tests", "check_output.py"), "--reference", ref, in, output, "0", "200")
		if check.code != 0 {
			t.Fatalf("pydicom check against %s: %s%s", filepath.Base(ref), check.stdout, check.stderr)
		}
	}
	// The Source Image Sequence names the input, whose UIDs have an
	// illegal root (999.999): the one error dciodvfy may add.
	dciodvfy := need(t, "dciodvfy")
	inErr, outErr := dciodvfyErrors(t, dciodvfy, refs[0]), dciodvfyErrors(t, dciodvfy, output)
	for e := range outErr {
		if !inErr[e] && !(strings.Contains(e, "SourceImageSequence") && strings.Contains(e, "Illegal root for UID = <999.999.")) {
			t.Errorf("dciodvfy error the input did not have: %s", e)
		}
	}
}

// TestJ2KLossyMethod: an output that says Lossy Image Compression 01 names
// the method (Type 1C). gdcmconv --j2k --lossy flags an enhanced CT 01 over
// a truncated 5/3 stream and names no method; an irreversible (9/7) .91
// stream whose header does not say lossy is flagged 01 with ISO_15444_1.
func TestJ2KLossyMethod(t *testing.T) {
	gdcmconv := need(t, "gdcmconv")
	dciodvfy := need(t, "dciodvfy")
	dcmodify := need(t, "dcmodify")
	dir := t.TempDir()
	enhanced := filepath.Join(moduleSamples(t), "5.dcm")
	ct := write(t, filepath.Join(dir, "ct.dcm"), fixture.Build(fixture.CTSlice(48, 40, 3, "1", "1")))
	for _, c := range []struct {
		name, src string
		args      []string
		unflag    bool // erase the lossy attributes gdcmconv wrote
	}{
		{"enhanced-ct-truncated-53", enhanced, []string{"--j2k", "--lossy"}, false},
		{"enhanced-ct-97-unflagged", enhanced, []string{"--j2k", "--lossy", "--irreversible", "-q", "30"}, true},
		{"ct-97-unflagged", ct, []string{"--j2k", "--lossy", "--irreversible", "-q", "30"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := filepath.Join(t.TempDir(), c.name+".dcm")
			if r := runCmd(t, "", gdcmconv, append(append([]string{}, c.args...), c.src, in)...); r.code != 0 {
				t.Fatalf("gdcmconv: %s%s", r.stdout, r.stderr)
			}
			if c.unflag {
				if r := runCmd(t, "", dcmodify, "-nb", "-imt", "-ea", "(0028,2110)", "-ea", "(0028,2112)", "-ea", "(0028,2114)", in); r.code != 0 {
					t.Fatalf("dcmodify: %s", r.stderr)
				}
			}
			out := t.TempDir()
			if r := runCmd(t, "", binary, in, out, "0", "200"); r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			output := filepath.Join(out, outputNameOf(in))
			dump := runCmd(t, "", "dcmdump", "-q", "+P", "LossyImageCompression", "+P", "LossyImageCompressionMethod", output)
			if !strings.Contains(dump.stdout, "[01]") || !strings.Contains(dump.stdout, "[ISO_15444_1]") {
				t.Fatalf("want 01 and ISO_15444_1, got %q", dump.stdout)
			}
			for e := range dciodvfyErrors(t, dciodvfy, output) {
				if strings.Contains(e, "Lossy") {
					t.Errorf("dciodvfy: %s", e)
				}
			}
			checkDciodvfy(t, in, output)
		})
	}
}
