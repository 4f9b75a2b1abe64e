package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
)

// sample is one input file and what dicom-remap must do with it.
type sample struct {
	name     string
	path     string
	min, max int64
	exit     int    // expected exit status
	stderr   string // expected in stderr when exit != 0
}

const pydicomData = "/usr/lib/python3/dist-packages/pydicom/data"

// realSamples lists the TCIA files of the dicom module and the test files
// that Debian's python3-pydicom ships.
func realSamples(t *testing.T) []sample {
	tcia := moduleSamples(t)
	s := []sample{
		{"tcia-pet-1", filepath.Join(tcia, "1.dcm"), 0, 100, 0, ""},
		{"tcia-pet-2", filepath.Join(tcia, "2.dcm"), 0, 32767, 0, ""},
		{"tcia-mr-3", filepath.Join(tcia, "3.dcm"), 0, 4095, 0, ""},
		{"tcia-xray-4", filepath.Join(tcia, "4.dcm"), 0, 100, 0, ""},
		{"tcia-enhanced-ct-5", filepath.Join(tcia, "5.dcm"), -1024, 3071, 0, ""},
		{"tcia-deflate-6", filepath.Join(tcia, "6.dcm"), 0, 255, 0, ""},
	}
	tf := filepath.Join(pydicomData, "test_files")
	for _, x := range []sample{
		{"pydicom-ct-small", "CT_small.dcm", -1024, 3071, 0, ""},
		{"pydicom-mr-small", "MR_small.dcm", 0, 100, 0, ""},
		{"pydicom-mr-bigendian", "MR_small_bigendian.dcm", 0, 100, 0, ""},
		{"pydicom-mr-implicit", "MR_small_implicit.dcm", 0, 100, 0, ""},
		{"pydicom-mr-expb", "MR_small_expb.dcm", 0, 100, 0, ""},
		{"pydicom-mr-padded", "MR_small_padded.dcm", 0, 100, 0, ""},
		{"pydicom-explvr-bigend", "ExplVR_BigEnd.dcm", 0, 200, 0, ""},
		{"pydicom-us-signed-refused", "ExplVR_BigEnd.dcm", -10, 10, 2, "signed pixels are not allowed for ultrasound"},
		{"pydicom-stray-byte-no-meta", "no_meta.dcm", 0, 100, 3, "not a DICOM file"},
		{"pydicom-deflate", "image_dfl.dcm", 0, 100, 0, ""},
		{"pydicom-seg-refused", "liver_1frame.dcm", 0, 100, 3, "header: a segmentation (SEG), not an image to normalize"},
		{"pydicom-rgb-odd", "SC_rgb_small_odd.dcm", 0, 100, 0, ""},
		{"pydicom-rtdose", "rtdose_1frame.dcm", 0, 1000, 0, ""},
		{"pydicom-rtdose-bigendian", "rtdose_expb_1frame.dcm", 0, 1000, 0, ""},
		{"pydicom-rtdose-multiframe", "rtdose.dcm", 0, 65535, 0, ""},
		{"pydicom-truncated", "MR_truncated.dcm", 0, 100, 3, "truncated"},
		// Compressed and YBR samples are checked against an independent
		// decoder in compressed_test.go. This one is corrupt on purpose
		// (its SIZ declares 4 billion tiles); GDCM refuses it too.
		{"pydicom-j2k-corrupt", "JPEG2000-embedded-sequence-delimiter.dcm", 0, 100, 3, "jpeg-2000:"},
		{"pydicom-no-pixels", "rtplan.dcm", 0, 100, 3, "header: an RT plan (RTPLAN), not an image to normalize"},
	} {
		x.path = filepath.Join(tf, x.path)
		s = append(s, x)
	}
	return s
}

// TestRealSamples remaps real files and checks every output with pydicom,
// dciodvfy and dcmdump.
func TestRealSamples(t *testing.T) {
	needPydicom(t)
	needFile(t, filepath.Join(pydicomData, "test_files"), "pydicom test files")
	for _, s := range realSamples(t) {
		t.Run(s.name, func(t *testing.T) { checkSample(t, s) })
	}
}

// TestGeneratedFixtures does the same for the synthetic edge cases.
func TestGeneratedFixtures(t *testing.T) {
	needPydicom(t)
	dir := t.TempDir()
	for _, c := range fixture.Cases() {
		path := write(t, filepath.Join(dir, c.Name+".dcm"), fixture.Build(c.Spec))
		t.Run(c.Name, func(t *testing.T) { checkSample(t, sample{c.Name, path, c.Min, c.Max, 0, ""}) })
	}
}

// TestCharacterSets runs pydicom's character-set samples, and images made
// from those without pixel data and from the examples of PS3.5 for sets no
// sample covers (charset_fixture.py): every one is accepted, and pydicom
// reads the same text from the output as from the input, for every text
// element at every depth (check_text.py), whatever character set each
// declares; pixels and validity are checked as for any sample.
func TestCharacterSets(t *testing.T) {
	needPydicom(t)
	dir := needFile(t, filepath.Join(pydicomData, "charset_files"), "pydicom charset files")
	made := t.TempDir()
	if r := runCmd(t, "", debianPython, filepath.Join(repoRoot, "tests", "charset_fixture.py"), dir, made); r.code != 0 {
		t.Fatalf("charset_fixture.py: %s%s", r.stdout, r.stderr)
	}
	samples, _ := filepath.Glob(filepath.Join(dir, "chr*.dcm"))
	generated, _ := filepath.Glob(filepath.Join(made, "chr*.dcm"))
	var files []string
	for _, f := range samples {
		if r := runCmd(t, "", debianPython, "-c", "import pydicom,sys; sys.exit(0 if 'PixelData' in pydicom.dcmread(sys.argv[1]) else 1)", f); r.code == 0 {
			files = append(files, f)
		}
	}
	files = append(files, generated...)
	if len(files) < 20 {
		t.Fatalf("only %d character-set images", len(files))
	}
	var pairs []string
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".dcm")
		out := filepath.Join(t.TempDir(), name+"-normalized.dcm")
		t.Run(name, func(t *testing.T) {
			r := runCmd(t, "", binary, f, filepath.Dir(out), "0", "100")
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			pairs = append(pairs, f, out)
			if !strings.HasPrefix(f, made) { // pixels, as for any real sample
				check := runCmd(t, "", debianPython, filepath.Join(repoRoot, "tests", "check_output.py"), f, out, "0", "100")
				if check.code != 0 {
					t.Fatalf("%s%s", check.stdout, check.stderr)
				}
			}
			checkDciodvfy(t, f, out)
		})
	}
	// One interpreter for all the text checks: starting pydicom is slow.
	check := runCmd(t, "", debianPython, append([]string{filepath.Join(repoRoot, "tests", "check_text.py")}, pairs...)...)
	if check.code != 0 || strings.Count(check.stdout, "ok ") != len(files) {
		t.Fatalf("%s%s", check.stdout, check.stderr)
	}
	t.Log(check.stdout)
}

func checkSample(t *testing.T, s sample) {
	needFile(t, s.path, "sample")
	before := sha(t, s.path)
	out := t.TempDir()
	r := runCmd(t, "", binary, s.path, out, fmt.Sprint(s.min), fmt.Sprint(s.max))
	if after := sha(t, s.path); after != before {
		t.Fatal("input modified")
	}
	if r.code != s.exit {
		t.Fatalf("exit %d, want %d: %s", r.code, s.exit, r.stderr)
	}
	if s.exit != 0 {
		if !strings.Contains(r.stderr, s.stderr) || strings.Count(r.stderr, "\n") != 1 {
			t.Fatalf("stderr %q, want one line mentioning %q", r.stderr, s.stderr)
		}
		if entries, _ := os.ReadDir(out); len(entries) != 0 {
			t.Fatalf("failure left %v", entries)
		}
		return
	}
	output := filepath.Join(out, strings.TrimSuffix(filepath.Base(s.path), ".dcm")+"-normalized.dcm")
	check := runCmd(t, "", debianPython, filepath.Join(repoRoot, "tests", "check_output.py"), s.path, output, fmt.Sprint(s.min), fmt.Sprint(s.max))
	if check.code != 0 {
		t.Fatalf("pydicom check: %s%s", check.stdout, check.stderr)
	}
	t.Log(strings.TrimSpace(check.stdout))
	checkDcmdump(t, output)
	checkDciodvfy(t, s.path, output)
}

// checkDcmdump requires dcmtk to read the whole output without complaint.
func checkDcmdump(t *testing.T, output string) {
	dcmdump := need(t, "dcmdump")
	r := runCmd(t, "", dcmdump, "-q", "+E", output)
	if r.code != 0 || strings.TrimSpace(r.stderr) != "" {
		t.Fatalf("dcmdump exit %d: %s", r.code, r.stderr)
	}
}

var dciodvfyNoise = regexp.MustCompile(`^(Error|Warning) - `)

// checkDciodvfy requires that dciodvfy finds no error in the output that it
// does not also find in the input. dciodvfy cannot read deflated files:
// such inputs are first inflated by dcmconv.
func checkDciodvfy(t *testing.T, input, output string) {
	dciodvfy := need(t, "dciodvfy")
	in := input
	if r := runCmd(t, "", "dcmdump", "-q", "-M", input); strings.Contains(r.stdout, "DeflatedLittleEndianExplicit") || strings.Contains(r.stdout, "=DeflatedExplicitVRLittleEndian") {
		in = filepath.Join(t.TempDir(), "inflated.dcm")
		if r := runCmd(t, "", need(t, "dcmconv"), "+te", input, in); r.code != 0 {
			t.Fatalf("dcmconv: %s", r.stderr)
		}
	}
	inErr := dciodvfyErrors(t, dciodvfy, in)
	outErr := dciodvfyErrors(t, dciodvfy, output)
	var added []string
	for e := range outErr {
		if !inErr[e] {
			added = append(added, e)
		}
	}
	sort.Strings(added)
	if len(added) > 0 {
		t.Fatalf("dciodvfy errors the input did not have:\n%s", strings.Join(added, "\n"))
	}
}

func dciodvfyErrors(t *testing.T, dciodvfy, path string) map[string]bool {
	cmd := exec.Command(dciodvfy, "-new", path)
	out, _ := cmd.CombinedOutput() // exits non-zero whenever it reports errors
	errs := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "Error - ") {
			errs[dciodvfyNoise.ReplaceAllString(line, "")] = true
		}
	}
	return errs
}

// TestUIDsOnlyInFileMeta runs nibabel's decimal_rescale.dcm (Debian's
// python3-nibabel), whose data set lacks SOP Class and Instance UIDs: read
// from the file meta with a warning each, the output checked by pydicom
// (its SOP Class is the file meta's) and dciodvfy, which can now check it
// against its IOD at all.
func TestUIDsOnlyInFileMeta(t *testing.T) {
	needPydicom(t)
	in := needFile(t, "/usr/lib/python3/dist-packages/nibabel/nicom/tests/data/decimal_rescale.dcm", "nibabel's test data (python3-nibabel)")
	out := t.TempDir()
	r := runCmd(t, "", binary, in, out, "0", "255")
	if r.code != 0 || !strings.Contains(r.stderr, "warning: no SOP Class UID in the data set: read from the file meta's Media Storage SOP Class UID") ||
		!strings.Contains(r.stderr, "warning: no SOP Instance UID in the data set") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	output := filepath.Join(out, "decimal_rescale-normalized.dcm")
	check := runCmd(t, "", debianPython, filepath.Join(repoRoot, "tests", "check_output.py"), in, output, "0", "255")
	if check.code != 0 {
		t.Fatalf("%s%s", check.stdout, check.stderr)
	}
	if errs := dciodvfyErrors(t, need(t, "dciodvfy"), output); errs["Information Object Not found"] {
		t.Fatal("dciodvfy finds no IOD: the SOP Class UID is missing")
	}
}
