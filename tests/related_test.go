package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// relatedRecord is the part of the provenance record that --related adds.
type relatedRecord struct {
	Series []struct {
		Files []struct {
			Input, Output string
		} `json:"files"`
	} `json:"series"`
	Related []struct {
		Input          string    `json:"input"`
		Output         string    `json:"output"`
		OutputSHA256   string    `json:"output_sha256"`
		InputSHA256    string    `json:"input_sha256"`
		Kind           string    `json:"kind"`
		SOPInstance    [2]string `json:"sop_instance_uid_old_new"`
		SeriesInstance [2]string `json:"series_instance_uid_old_new"`
	} `json:"related"`
	Skipped []struct{ Path, Reason string } `json:"skipped"`
}

// makeStudy writes tests/study_fixture.py's study into dir as a CD export:
// a DICOMDIR made by dcmmkdir, a hidden file and a hidden folder.
func makeStudy(t *testing.T, dir string) {
	t.Helper()
	if r := runCmd(t, "", debianPython, filepath.Join(repoRoot, "tests", "study_fixture.py"), dir); r.code != 0 {
		t.Fatalf("study_fixture.py: %s", r.stderr)
	}
	// dcmmkdir leaves out the Implicit VR structure set (the general
	// purpose profile wants Explicit VR) with a warning, and indexes the rest.
	if r := runCmd(t, dir, need(t, "dcmmkdir"), "+r", "+I", "-Pgp", "+id", "."); r.code != 0 {
		t.Fatalf("dcmmkdir: %s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "DICOMDIR")); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, ".DS_Store"), []byte("\x00\x00\x00\x01Bud1"))
	ct, _ := os.ReadFile(filepath.Join(dir, "CT", "S1", "IM0001"))
	write(t, filepath.Join(dir, ".trash", "IM0001"), ct)
}

// TestStudyWithEverything runs series mode on a study with every kind of
// object a PACS sends beside the images, written by pydicom: the images
// come out as from the image series alone, the other objects are skipped
// with their reasons, and with --related link the SEG, RT structure set,
// presentation state, KO, SR and the PDF drawn from a slice are linked:
// pydicom checks every change and every reference both ways, and dciodvfy
// reports nothing on a copy that it does not report on its source.
func TestStudyWithEverything(t *testing.T) {
	needPydicom(t)
	dir := t.TempDir()
	study := filepath.Join(dir, "study")
	makeStudy(t, study)
	images := filepath.Join(dir, "images")
	for _, name := range []string{"CT/S1/IM0001", "CT/S1/IM0002", "CT/S1/IM0003", "CT/S1/IM0004", "CT/S2/IM0001", "CT/S2/IM0002"} {
		data, _ := os.ReadFile(filepath.Join(study, name))
		write(t, filepath.Join(images, name), data)
	}
	outImages, outSkip, outLink := filepath.Join(dir, "out-images"), filepath.Join(dir, "out-skip"), filepath.Join(dir, "out-link")
	if r := runCmd(t, "", binary, images, outImages, "0", "4095"); r.code != 0 || r.stderr != "" {
		t.Fatalf("images: exit %d: %s", r.code, r.stderr)
	}
	skip := runCmd(t, "", binary, study, outSkip, "0", "4095")
	if skip.code != 0 {
		t.Fatalf("study: exit %d: %s", skip.code, skip.stderr)
	}
	link := runCmd(t, "", binary, "--related", "link", study, outLink, "0", "4095")
	if link.code != 0 {
		t.Fatalf("study --related link: exit %d: %s", link.code, link.stderr)
	}
	for _, out := range []string{outSkip, outLink} {
		for _, name := range []string{"CT/S1/IM0001", "CT/S1/IM0004", "CT/S2/IM0002"} {
			a, _ := os.ReadFile(filepath.Join(outImages, name+"-normalized.dcm"))
			b, err := os.ReadFile(filepath.Join(out, name+"-normalized.dcm"))
			if err != nil || len(a) == 0 || !bytes.Equal(a, b) {
				t.Errorf("%s: %s differs from the run on the images alone (%v)", out, name, err)
			}
		}
	}

	var rec relatedRecord
	data, _ := os.ReadFile(filepath.Join(outSkip, "dicom-remap-provenance.json"))
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	skipped := map[string]string{}
	for _, s := range rec.Skipped {
		skipped[s.Path] = s.Reason
	}
	for path, reason := range map[string]string{
		"SEG/SEG1":      "a segmentation (SEG), not an image to normalize",
		"RT/RS1":        "an RT structure set (RTSTRUCT), not an image to normalize",
		"RT/RP1":        "an RT plan (RTPLAN), not an image to normalize",
		"PR/PR1":        "a presentation state (PR), not an image to normalize",
		"KO/KO1":        "a key object selection (KO), not an image to normalize",
		"SR/SR1":        "a structured report (SR), not an image to normalize",
		"DOC/DOC1":      "an encapsulated PDF, not an image to normalize",
		"DICOMDIR":      "a DICOMDIR index, not an image",
		".DS_Store":     "a hidden file",
		".trash/IM0001": "in a hidden folder",
	} {
		if skipped[path] != reason {
			t.Errorf("skipped %s: %q, want %q", path, skipped[path], reason)
		}
		if !strings.Contains(skip.stderr, filepath.Join(study, path)+": skipped: "+reason+"\n") {
			t.Errorf("stderr does not list %s", path)
		}
	}
	if len(rec.Skipped) != 11 || strings.Count(skip.stderr, "\n") != 11 {
		t.Errorf("%d skipped, stderr:\n%s", len(rec.Skipped), skip.stderr)
	}

	rec = relatedRecord{}
	data, _ = os.ReadFile(filepath.Join(outLink, "dicom-remap-provenance.json"))
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	var linked []string
	for _, r := range rec.Related {
		linked = append(linked, r.Input)
		if sha(t, filepath.Join(study, r.Input)) != r.InputSHA256 || sha(t, filepath.Join(outLink, r.Output)) != r.OutputSHA256 {
			t.Errorf("%s: checksums in the record do not match the files", r.Input)
		}
	}
	sort.Strings(linked)
	if got := strings.Join(linked, " "); got != "DOC/DOC2 KO/KO1 PR/PR1 RT/RS1 SEG/SEG1 SR/SR1" {
		t.Errorf("linked: %s", got)
	}
	for _, s := range rec.Skipped {
		skipped[s.Path] = s.Reason
	}
	if skipped["RT/RP1"] != "an RT plan (RTPLAN) that references no image of this run" ||
		skipped["DOC/DOC1"] != "an encapsulated PDF that references no image of this run" {
		t.Errorf("skipped: %v", rec.Skipped)
	}
	if r := runCmd(t, "", debianPython, filepath.Join(repoRoot, "tests", "check_related.py"), study, outLink); r.code != 0 {
		t.Fatalf("check_related.py:\n%s%s", r.stdout, r.stderr)
	}
	for _, r := range rec.Related {
		checkDciodvfyAll(t, filepath.Join(study, r.Input), filepath.Join(outLink, r.Output))
	}
	// dcmdump reads every copy to its end without complaint.
	for _, r := range rec.Related {
		if d := runCmd(t, "", need(t, "dcmdump"), "+E", "-q", filepath.Join(outLink, r.Output)); d.code != 0 || strings.TrimSpace(d.stderr) != "" {
			t.Errorf("dcmdump %s: %s", r.Output, d.stderr)
		}
	}
}

var uidPattern = regexp.MustCompile(`\b[0-9]+(\.[0-9]+){2,}\b`)

// checkDciodvfyAll requires that dciodvfy reports nothing, error or
// warning, on the copy that it does not report on its source.
func checkDciodvfyAll(t *testing.T, source, copy string) {
	t.Helper()
	dciodvfy := need(t, "dciodvfy")
	messages := func(path string) map[string]bool {
		out, _ := exec.Command(dciodvfy, "-new", path).CombinedOutput()
		m := map[string]bool{}
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(line, "Error - ") || strings.HasPrefix(line, "Warning - ") {
				// A message about a reference quotes its UID, which the
				// copy changed: compare the messages, not the UIDs.
				m[uidPattern.ReplaceAllString(line, "UID")] = true
			}
		}
		return m
	}
	before, after := messages(source), messages(copy)
	for line := range after {
		if !before[line] {
			t.Errorf("dciodvfy on the copy of %s, not on its source: %s", filepath.Base(source), line)
		}
	}
}

// TestRealObjectsInAFolder runs series mode on a folder of pydicom's real
// samples, images beside SRs, an RT plan, a SEG, a waveform, a character-set
// test object without pixels and a DICOMDIR: the images are normalized, the
// rest is skipped, and the SEG (on images not in the run) is not linked.
func TestRealObjectsInAFolder(t *testing.T) {
	files := needFile(t, filepath.Join(pydicomData, "test_files"), "python3-pydicom's samples")
	dir := filepath.Join(t.TempDir(), "in")
	for _, name := range []string{"CT_small.dcm", "MR_small.dcm", "rtdose.dcm", "reportsi.dcm", "test-SR.dcm", "rtplan.dcm",
		"liver_1frame.dcm", "waveform_ecg.dcm", "dicomdirtests/DICOMDIR", "../charset_files/chrSQEncoding.dcm"} {
		data, err := os.ReadFile(filepath.Join(files, name))
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, filepath.Base(name)), data)
	}
	for _, mode := range []string{"skip", "link"} {
		out := filepath.Join(t.TempDir(), "out")
		r := runCmd(t, "", binary, "--related", mode, dir, out, "0", "1000")
		if r.code != 0 {
			t.Fatalf("--related %s: exit %d: %s", mode, r.code, r.stderr)
		}
		var rec relatedRecord
		data, _ := os.ReadFile(filepath.Join(out, "dicom-remap-provenance.json"))
		if err := json.Unmarshal(data, &rec); err != nil {
			t.Fatal(err)
		}
		var skipped []string
		for _, s := range rec.Skipped {
			skipped = append(skipped, s.Path+": "+s.Reason)
		}
		got := strings.Join(skipped, "\n")
		suffix := ", not an image to normalize"
		if mode == "link" {
			suffix = " that references no image of this run"
		}
		for _, line := range []string{
			"DICOMDIR: a DICOMDIR index, not an image",
			"chrSQEncoding.dcm: an object without pixel data" + suffix,
			"liver_1frame.dcm: a segmentation (SEG)" + suffix,
			"reportsi.dcm: a structured report (SR)" + suffix,
			"rtplan.dcm: an RT plan (RTPLAN)" + suffix,
			"test-SR.dcm: a structured report (SR)" + suffix,
			"waveform_ecg.dcm: a waveform" + suffix,
		} {
			if !strings.Contains(got, line) {
				t.Errorf("--related %s: %q not in skipped:\n%s", mode, line, got)
			}
		}
		if len(rec.Skipped) != 7 || len(rec.Related) != 0 || len(rec.Series) != 3 {
			t.Errorf("--related %s: %d skipped, %d related, %d series", mode, len(rec.Skipped), len(rec.Related), len(rec.Series))
		}
	}
}

// TestRealObjectsLinked links real objects of other writers (pydicom's SEG
// from a liver study and its comprehensive SR) to images made with the
// UIDs they reference: pydicom checks every change and reference, and
// dciodvfy reports nothing new on the copies.
func TestRealObjectsLinked(t *testing.T) {
	needPydicom(t)
	files := needFile(t, filepath.Join(pydicomData, "test_files"), "python3-pydicom's samples")
	dir := filepath.Join(t.TempDir(), "in")
	for _, name := range []string{"liver_1frame.dcm", "test-SR.dcm"} {
		data, err := os.ReadFile(filepath.Join(files, name))
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, name), data)
	}
	r := runCmd(t, "", debianPython, filepath.Join(repoRoot, "tests", "real_refs.py"), filepath.Join(files, "CT_small.dcm"), filepath.Join(dir, "images"),
		filepath.Join(dir, "liver_1frame.dcm"), filepath.Join(dir, "test-SR.dcm"))
	if r.code != 0 {
		t.Fatalf("real_refs.py: %s", r.stderr)
	}
	out := filepath.Join(t.TempDir(), "out")
	if r := runCmd(t, "", binary, "-q", "--related", "link", dir, out, "0", "1000"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var rec relatedRecord
	data, _ := os.ReadFile(filepath.Join(out, "dicom-remap-provenance.json"))
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.Related) != 2 {
		t.Fatalf("related: %+v, skipped %+v", rec.Related, rec.Skipped)
	}
	if r := runCmd(t, "", debianPython, filepath.Join(repoRoot, "tests", "check_related.py"), dir, out); r.code != 0 {
		t.Fatalf("check_related.py:\n%s%s", r.stdout, r.stderr)
	}
	for _, r := range rec.Related {
		checkDciodvfyAll(t, filepath.Join(dir, r.Input), filepath.Join(out, r.Output))
	}
}

// TestCWLRelated runs the Directory-valued CWL tool with related: link on
// the study: the same images and linked copies as the direct run.
func TestCWLRelated(t *testing.T) {
	cwltool := need(t, "cwltool")
	needPydicom(t)
	study := filepath.Join(t.TempDir(), "study")
	if r := runCmd(t, "", debianPython, filepath.Join(repoRoot, "tests", "study_fixture.py"), study); r.code != 0 {
		t.Fatalf("study_fixture.py: %s", r.stderr)
	}
	direct := filepath.Join(t.TempDir(), "direct")
	if r := runCmd(t, "", binary, "-q", "--related", "link", study, direct, "0", "1000"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	work := t.TempDir()
	job := write(t, filepath.Join(work, "job.yml"), []byte(fmt.Sprintf("input: {class: Directory, path: %q}\nmin: 0\nmax: 1000\nrelated: link\n", study)))
	outdir := filepath.Join(work, "out")
	r := runIn(t, work, withBinaryOnPath(), cwltool, "--no-container", "--outdir", outdir, abs(t, filepath.Join("..", "cwl", "dicom-remap-dir.cwl")), job)
	if r.code != 0 {
		t.Fatalf("cwltool: exit %d\n%s", r.code, r.stderr)
	}
	got := outputs(t, filepath.Join(outdir, "study-normalized"))
	want := outputs(t, direct)
	delete(got, "dicom-remap-provenance.json")
	delete(want, "dicom-remap-provenance.json")
	if len(got) != len(want) || got["SEG/SEG1-normalized.dcm"] == nil || got["SR/SR1-normalized.dcm"] == nil {
		t.Fatalf("%d outputs, direct run %d", len(got), len(want))
	}
	for name, data := range want {
		if !bytes.Equal(got[name], data) {
			t.Errorf("%s differs from the direct run", name)
		}
	}
}
