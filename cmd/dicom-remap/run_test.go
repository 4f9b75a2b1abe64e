package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"dicom-remap": func() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: os.Getenv("UPDATE_SCRIPTS") != "",
		Setup: func(env *testscript.Env) error {
			// Fixtures are generated, never committed patient data.
			ct := fixture.CTSlice(16, 16, 0, "7", "7")
			constant := fixture.CTSlice(4, 4, 0, "8", "8")
			constant.Values = make([]int64, 16)
			eight := fixture.Spec{SOPClass: fixture.SecondaryCap, Modality: "OT", Rows: 4, Columns: 4, BitsAllocated: 8, BitsStored: 8,
				Values: fixture.Phantom(4, 4, 1, 0, 200)}
			jpeg := ct
			jpeg.TransferSyntax = fixture.JPEGBase
			htj2k, err := htj2kFixture(ct, env.WorkDir)
			if err != nil {
				return err
			}
			truncated := ct
			truncated.TruncatePixels = 100
			metaUIDs := fixture.CTSlice(8, 8, 0, "9", "9")
			metaUIDs.Omit = []fixture.Elem{{Group: 0x0008, Element: 0x0016}, {Group: 0x0008, Element: 0x0018}}
			noSeries1, noSeries2 := fixture.CTSlice(8, 8, 0, "11", "1"), fixture.CTSlice(8, 8, 0, "12", "1")
			noSeries2.Values = fixture.Phantom(8, 8, 1, 0, 100) // another range than noSeries1's
			for _, s := range []*fixture.Spec{&noSeries1, &noSeries2} {
				s.Omit = []fixture.Elem{{Group: 0x0020, Element: 0x000e}}
			}
			for name, data := range map[string][]byte{
				"htj2k.dcm":     htj2k,
				"ct.dcm":        fixture.Build(ct),
				"IM0001":        fixture.Build(ct),
				"constant.dcm":  fixture.Build(constant),
				"eight.dcm":     fixture.Build(eight),
				"jpeg.dcm":      fixture.Build(jpeg),
				"truncated.dcm": fixture.Build(truncated),
				"metauids.dcm":  fixture.Build(metaUIDs),
				"noseries1.dcm": fixture.Build(noSeries1),
				"noseries2.dcm": fixture.Build(noSeries2),
				"notdicom.txt":  []byte("just some text, not a DICOM file\n"),
				// A key object note on ct.dcm, and one on an image of another study.
				"ko.dcm":    object(classKO, "1.2.826.0.1.3680043.10.1.50", "1.2.826.0.1.3680043.10.1.5", fixture.Seq(0x0040, 0xa730, refItem(uidPrefix+"7"))),
				"other.dcm": object(classKO, "1.2.826.0.1.3680043.10.1.51", "1.2.826.0.1.3680043.10.1.5", fixture.Seq(0x0040, 0xa730, refItem("1.2.3.4"))),
			} {
				if data == nil {
					continue
				}
				if err := os.WriteFile(filepath.Join(env.WorkDir, name), data, 0o644); err != nil {
					return err
				}
			}
			return nil
		},
	})
}

// TestExitCodes pins the exact status of run for each kind of problem:
// testscript only tells zero from non-zero.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	ct := filepath.Join(dir, "ct.dcm")
	os.WriteFile(ct, fixture.Build(fixture.CTSlice(8, 8, 0, "1", "1")), 0o644)
	eight := filepath.Join(dir, "eight.dcm")
	os.WriteFile(eight, fixture.Build(fixture.Spec{SOPClass: fixture.SecondaryCap, Rows: 2, Columns: 2, BitsAllocated: 8, BitsStored: 8, Values: []int64{1, 2, 3, 4}}), 0o644)
	text := filepath.Join(dir, "text.dcm")
	os.WriteFile(text, []byte("not dicom"), 0o644)
	out := filepath.Join(dir, "out")
	// An output name never equals its input's, but a link can make the
	// output the input itself.
	linked := filepath.Join(dir, "linked")
	os.MkdirAll(linked, 0o755)
	os.Symlink(ct, filepath.Join(linked, "ct-normalized.dcm"))
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"help", []string{"--help"}, exitOK},
		{"version", []string{"--version"}, exitOK},
		{"ok", []string{ct, out, "0", "100"}, exitOK},
		{"negative min", []string{ct, out, "-1024", "3071", "--force"}, exitOK},
		{"named flags", []string{"--min", "-1024", "--max=3071", "-o", out, "--force", ct}, exitOK},
		{"exists without force", []string{ct, out, "0", "100"}, exitFailure},
		{"no args", nil, exitUsage},
		{"three args", []string{ct, out, "0"}, exitUsage},
		{"five args", []string{ct, out, "0", "1", "2"}, exitUsage},
		{"unknown flag", []string{"--bogus", ct, out, "0", "1"}, exitUsage},
		{"trailing junk", []string{ct, out, "10abc", "100"}, exitUsage},
		{"nan", []string{ct, out, "nan", "100"}, exitUsage},
		{"inf", []string{ct, out, "0", "inf"}, exitUsage},
		{"huge", []string{ct, out, "0", "1e400"}, exitUsage},
		{"fraction", []string{ct, out, "0.5", "100"}, exitUsage},
		{"min equals max", []string{ct, out, "5", "5"}, exitUsage},
		{"min above max", []string{ct, out, "100", "0"}, exitUsage},
		{"out of any range", []string{ct, out, "0", "99999999999"}, exitUsage},
		{"both forms", []string{"--min", "0", ct, out, "0", "100"}, exitUsage},
		{"missing max", []string{"--min", "0", "-o", out, ct}, exitUsage},
		{"unrepresentable", []string{eight, out, "0", "1000"}, exitUsage},
		{"output is the input through a link", []string{ct, linked, "0", "100", "--force"}, exitUsage},
		{"percentiles not PLO:PHI", []string{"--percentiles", "5", ct, out, "0", "1"}, exitUsage},
		{"percentiles reversed", []string{"--percentiles", "99:1", ct, out, "0", "1"}, exitUsage},
		{"percentiles above 100", []string{"--percentiles", "1:100.5", ct, out, "0", "1"}, exitUsage},
		{"percentiles with a source range", []string{"--percentiles", "1:99", "--source-range", "0:1", ct, out, "0", "1"}, exitUsage},
		{"mask not a number", []string{"--mask-below", "air", ct, out, "0", "1"}, exitUsage},
		{"mask with a source range", []string{"--mask-below=-500", "--source-range", "0:1", ct, out, "0", "1"}, exitUsage},
		{"source range not decimal", []string{"--source-range", "0:1/3", ct, out, "0", "1"}, exitUsage},
		{"missing input", []string{filepath.Join(dir, "nope.dcm"), out, "0", "100"}, exitFailure},
		{"not dicom", []string{text, out, "0", "100"}, exitRejected},
		{"empty directory input", []string{t.TempDir(), out, "0", "100"}, exitRejected},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			got := run(c.args, nil, &stdout, &stderr)
			if got != c.want {
				t.Fatalf("exit %d, want %d; stderr: %s", got, c.want, stderr.String())
			}
			if got != exitOK {
				if stdout.Len() != 0 {
					t.Errorf("stdout on failure: %q", stdout.String())
				}
				lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
				if !strings.HasPrefix(lines[0], "dicom-remap: ") || len(lines) > 2 ||
					(len(lines) == 2 && !strings.HasPrefix(lines[1], "dicom-remap: hint: ")) {
					t.Errorf("stderr is not one error line and an optional hint: %q", stderr.String())
				}
			}
		})
	}
}

// TestBothFormsIdentical runs the positional and the named form and
// compares the bytes.
func TestBothFormsIdentical(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "IM0001")
	os.WriteFile(in, fixture.Build(fixture.CTSlice(8, 8, 0, "1", "1")), 0o644)
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if code := run([]string{in, a, "-1024", "3071"}, nil, &bytes.Buffer{}, os.Stderr); code != 0 {
		t.Fatal(code)
	}
	if code := run([]string{"--output-dir", b, "--min=-1024", "--max", "3071", in}, nil, &bytes.Buffer{}, os.Stderr); code != 0 {
		t.Fatal(code)
	}
	x, err := os.ReadFile(filepath.Join(a, "IM0001-normalized.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(filepath.Join(b, "IM0001-normalized.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(x, y) {
		t.Fatal("positional and named forms wrote different bytes")
	}
}

func TestOutputName(t *testing.T) {
	for in, want := range map[string]string{
		"/infile.dcm": "infile-normalized.dcm", "IM0001": "IM0001-normalized.dcm", "a/b.DCM": "b-normalized.dcm",
		"x.dcm.dcm": "x.dcm-normalized.dcm", ".dcm": "-normalized.dcm", "scan.nii": "scan.nii-normalized.dcm",
	} {
		if got := outputName(in); got != want {
			t.Errorf("outputName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFailureLeavesNothing checks that a rejected input leaves no file,
// temporary or final, and that the input is unchanged.
func TestFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	spec := fixture.CTSlice(8, 8, 0, "1", "1")
	spec.TruncatePixels = 10
	in := filepath.Join(dir, "in", "t.dcm")
	os.MkdirAll(filepath.Dir(in), 0o755)
	data := fixture.Build(spec)
	os.WriteFile(in, data, 0o644)
	before := sha256.Sum256(data)
	out := filepath.Join(dir, "out")
	if code := run([]string{in, out, "0", "100"}, nil, &bytes.Buffer{}, &bytes.Buffer{}); code != exitRejected {
		t.Fatalf("exit %d", code)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 0 {
		t.Fatalf("output directory holds %v", entries)
	}
	after, _ := os.ReadFile(in)
	if sha256.Sum256(after) != before {
		t.Fatal("input changed")
	}
}

// TestInputFromPipe: a named pipe cannot be read twice; it is read into
// memory (bounded by --max-pixel-bytes) and gives the bytes of a file.
func TestInputFromPipe(t *testing.T) {
	dir := t.TempDir()
	data := fixture.Build(fixture.CTSlice(16, 16, 0, "1", "1"))
	regular := filepath.Join(dir, "file", "scan")
	os.MkdirAll(filepath.Dir(regular), 0o755)
	os.WriteFile(regular, data, 0o644)
	pipe := filepath.Join(dir, "pipe", "scan")
	os.MkdirAll(filepath.Dir(pipe), 0o755)
	if err := syscall.Mkfifo(pipe, 0o644); err != nil {
		t.Skip("no named pipes here:", err)
	}
	feed := func() {
		go func() {
			f, err := os.OpenFile(pipe, os.O_WRONLY, 0)
			if err == nil {
				f.Write(data)
				f.Close()
			}
		}()
	}
	feed()
	var stderr bytes.Buffer
	if code := run([]string{pipe, filepath.Join(dir, "a"), "0", "100"}, nil, &bytes.Buffer{}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if code := run([]string{regular, filepath.Join(dir, "b"), "0", "100"}, nil, &bytes.Buffer{}, &stderr); code != 0 {
		t.Fatal(stderr.String())
	}
	a, _ := os.ReadFile(filepath.Join(dir, "a", "scan-normalized.dcm"))
	b, _ := os.ReadFile(filepath.Join(dir, "b", "scan-normalized.dcm"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatal("the pipe gave other bytes than the file")
	}
	// --print-range reads its inputs the same way (it used to read a pipe
	// as an empty file).
	feed()
	var fromPipe, fromFile bytes.Buffer
	if code := run([]string{"--print-range", pipe}, nil, &fromPipe, &stderr); code != 0 {
		t.Fatalf("--print-range on a pipe: exit %d: %s", code, stderr.String())
	}
	if code := run([]string{"--print-range", regular}, nil, &fromFile, &stderr); code != 0 {
		t.Fatal(stderr.String())
	}
	if fromPipe.String() != fromFile.String() {
		t.Fatalf("--print-range: pipe %s, file %s", fromPipe.String(), fromFile.String())
	}
}

// htj2kFixture encodes spec (one signed 16-bit frame) with grk_compress
// into HT code-blocks as HTJ2K Lossless (.201), or returns nil when
// grk_compress is not installed.
func htj2kFixture(spec fixture.Spec, dir string) ([]byte, error) {
	tool, err := exec.LookPath("grk_compress")
	if err != nil {
		return nil, nil
	}
	raw := make([]byte, 0, 2*len(spec.Values))
	for _, v := range spec.Values {
		raw = binary.LittleEndian.AppendUint16(raw, uint16(v))
	}
	in, out := filepath.Join(dir, "ht.rawl"), filepath.Join(dir, "ht.j2k")
	if err := os.WriteFile(in, raw, 0o644); err != nil {
		return nil, err
	}
	size := fmt.Sprintf("%d,%d,1,16,s", spec.Columns, spec.Rows)
	if b, err := exec.Command(tool, "-i", in, "-o", out, "-F", size, "-M", "64").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("grk_compress: %v: %s", err, b)
	}
	cs, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	os.Remove(in)
	os.Remove(out)
	spec.TransferSyntax = "1.2.840.10008.1.2.4.201"
	spec.Items = [][]byte{nil, cs}
	return fixture.Build(spec), nil
}
