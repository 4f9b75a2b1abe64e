package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

const (
	uidPrefix   = "1.2.826.0.1.3680043.10.1.3." // the fixture's SOP Instance UIDs
	seriesOfCT  = "1.2.826.0.1.3680043.10.1.2.1"
	classKO     = "1.2.840.10008.5.1.4.1.1.88.59"
	classSEG    = "1.2.840.10008.5.1.4.1.1.66.4"
	classGSPS   = "1.2.840.10008.5.1.4.1.1.11.1"
	classRTPlan = "1.2.840.10008.5.1.4.1.1.481.5"
	classPDF    = "1.2.840.10008.5.1.4.1.1.104.1"
)

func refItem(sop string) []fixture.Elem {
	return []fixture.Elem{fixture.Str(8, 0x1150, "UI", fixture.CTImage), fixture.Str(8, 0x1155, "UI", sop)}
}

// object is a non-image object of the test study, in its own series.
func object(class, sop, series string, elems ...fixture.Elem) []byte {
	return fixture.File(class, sop, append(elems,
		fixture.Str(8, 0x16, "UI", class),
		fixture.Str(8, 0x18, "UI", sop),
		fixture.Str(0x20, 0x0d, "UI", "1.2.826.0.1.3680043.10.1.1"),
		fixture.Str(0x20, 0x0e, "UI", series),
	))
}

// writeStudy writes three CT slices (one in a subfolder) and, unless
// imagesOnly, the objects a PACS export holds beside them.
func writeStudy(t *testing.T, dir string, imagesOnly bool) {
	t.Helper()
	files := map[string][]byte{
		"IM1":     fixture.Build(fixture.CTSlice(8, 8, 0, "1", "1")),
		"IM2":     fixture.Build(fixture.CTSlice(8, 8, 0, "2", "1")),
		"sub/IM3": fixture.Build(fixture.CTSlice(8, 8, 0, "3", "1")),
	}
	if !imagesOnly {
		evidence := fixture.Seq(0x0040, 0xa375, []fixture.Elem{
			fixture.Str(0x20, 0x0d, "UI", "1.2.826.0.1.3680043.10.1.1"),
			fixture.Seq(8, 0x1115, []fixture.Elem{
				fixture.Str(0x20, 0x0e, "UI", seriesOfCT),
				fixture.Seq(8, 0x1199, refItem(uidPrefix+"1"), refItem(uidPrefix+"2")),
			}),
		})
		evidence.Undefined = true
		segFrames := fixture.Seq(0x5200, 0x9230, []fixture.Elem{
			fixture.Seq(8, 0x9124, []fixture.Elem{fixture.Seq(8, 0x2112, refItem(uidPrefix+"3"))}),
		})
		files["KO1"] = object(classKO, "1.2.826.0.1.3680043.10.1.50", "1.2.826.0.1.3680043.10.1.5", evidence)
		files["sub/SEG1"] = append(object(classSEG, "1.2.826.0.1.3680043.10.1.60", "1.2.826.0.1.3680043.10.1.6", segFrames,
			fixture.Seq(8, 0x1115, []fixture.Elem{fixture.Str(0x20, 0x0e, "UI", seriesOfCT),
				fixture.Seq(8, 0x114a, refItem(uidPrefix+"3"))})),
			// Pixel Data last: a bit mask.
			0xe0, 0x7f, 0x10, 0x00, 'O', 'B', 0, 0, 2, 0, 0, 0, 0xff, 0x00)
		// A note on the segmentation and a slice: it links to both copies.
		files["sub/KO2"] = object(classKO, "1.2.826.0.1.3680043.10.1.52", "1.2.826.0.1.3680043.10.1.5",
			fixture.Seq(0x0040, 0xa730, refItem(uidPrefix+"2"), []fixture.Elem{fixture.Str(8, 0x1150, "UI", classSEG), fixture.Str(8, 0x1155, "UI", "1.2.826.0.1.3680043.10.1.60")}))
		files["PR1"] = object(classGSPS, "1.2.826.0.1.3680043.10.1.70", "1.2.826.0.1.3680043.10.1.7",
			fixture.Seq(8, 0x1115, []fixture.Elem{fixture.Str(0x20, 0x0e, "UI", "1.2.3.999"),
				fixture.Seq(8, 0x1140, refItem("1.2.3.999.1"))}))
		files["PLAN"] = object(classRTPlan, "1.2.826.0.1.3680043.10.1.80", "1.2.826.0.1.3680043.10.1.8",
			fixture.Seq(0x300c, 0x0060, []fixture.Elem{fixture.Str(8, 0x1150, "UI", "1.2.840.10008.5.1.4.1.1.481.3"), fixture.Str(8, 0x1155, "UI", "1.2.3.77")}))
		files["doc.dcm"] = object(classPDF, "1.2.826.0.1.3680043.10.1.90", "1.2.826.0.1.3680043.10.1.9",
			fixture.Elem{Group: 0x42, Element: 0x11, VR: "OB", Value: []byte("%PDF-1.4\n%%EOF\n")})
		files["DICOMDIR"] = fixture.File("1.2.840.10008.1.3.10", "1.2.3.4", []fixture.Elem{fixture.Str(0x0004, 0x1130, "CS", "FILESET")})
		files["index.dcm"] = fixture.File("1.2.840.10008.1.3.10", "1.2.3.5", []fixture.Elem{fixture.Str(0x0004, 0x1130, "CS", "FILESET")})
		files[".hidden"] = fixture.Build(fixture.CTSlice(8, 8, 0, "9", "9"))
		files[".cache/IM9"] = fixture.Build(fixture.CTSlice(8, 8, 0, "9", "9"))
		files["README.txt"] = []byte("export notes\n")
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(args, nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
	}
	return stderr.String()
}

func readRecord(t *testing.T, dir string) Provenance {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, ProvenanceName))
	if err != nil {
		t.Fatal(err)
	}
	var rec Provenance
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

// refs reads with the DICOM library every Referenced SOP Instance UID and
// every Series Instance UID inside sequences, at any depth.
func refs(t *testing.T, path string) (sops, series []string, top *dicom.Dataset) {
	t.Helper()
	ds, err := dicom.ParseFile(path, nil, dicom.SkipPixelData())
	if err != nil {
		t.Fatal(err)
	}
	var visit func(elems []*dicom.Element, depth int)
	visit = func(elems []*dicom.Element, depth int) {
		for _, e := range elems {
			switch {
			case e.Tag == tag.ReferencedSOPInstanceUID:
				sops = append(sops, dicom.MustGetStrings(e.Value)...)
			case e.Tag == tag.SeriesInstanceUID && depth > 0:
				series = append(series, dicom.MustGetStrings(e.Value)...)
			case e.Value.ValueType() == dicom.Sequences:
				for _, it := range e.Value.GetValue().([]*dicom.SequenceItemValue) {
					visit(it.GetValue().([]*dicom.Element), depth+1)
				}
			}
		}
	}
	visit(ds.Elements, 0)
	return sops, series, &ds
}

func str(t *testing.T, ds *dicom.Dataset, tg tag.Tag) string {
	t.Helper()
	e, err := ds.FindElementByTag(tg)
	if err != nil {
		t.Fatalf("%v: %v", tg, err)
	}
	return strings.Join(dicom.MustGetStrings(e.Value), `\`)
}

func TestRelatedObjects(t *testing.T) {
	dir := t.TempDir()
	images, study := filepath.Join(dir, "images"), filepath.Join(dir, "study")
	writeStudy(t, images, true)
	writeStudy(t, study, false)

	runOK(t, images, filepath.Join(dir, "out-images"), "-1024", "3071")
	stderr := runOK(t, study, filepath.Join(dir, "out-skip"), "-1024", "3071")

	// Images come out as from the image series alone.
	for _, name := range []string{"IM1", "IM2", "sub/IM3"} {
		a, _ := os.ReadFile(filepath.Join(dir, "out-images", name+"-normalized.dcm"))
		b, err := os.ReadFile(filepath.Join(dir, "out-skip", name+"-normalized.dcm"))
		if err != nil || !bytes.Equal(a, b) || len(a) == 0 {
			t.Errorf("%s: the study run's output differs from the image run's (%v)", name, err)
		}
	}
	// Every other file is skipped, says why, and is not written.
	want := map[string]string{
		".cache/IM9": "in a hidden folder",
		".hidden":    "a hidden file",
		"DICOMDIR":   "a DICOMDIR index, not an image",
		"KO1":        "a key object selection (KO), not an image to normalize",
		"PLAN":       "an RT plan (RTPLAN), not an image to normalize",
		"PR1":        "a presentation state (PR), not an image to normalize",
		"README.txt": "not a DICOM file (no DICM prefix)",
		"doc.dcm":    "an encapsulated PDF, not an image to normalize",
		"index.dcm":  "a DICOMDIR index, not an image to normalize",
		"sub/SEG1":   "a segmentation (SEG), not an image to normalize",
		"sub/KO2":    "a key object selection (KO), not an image to normalize",
	}
	rec := readRecord(t, filepath.Join(dir, "out-skip"))
	got := map[string]string{}
	var paths []string
	for _, s := range rec.Skipped {
		got[s.Path], paths = s.Reason, append(paths, s.Path)
	}
	for p, r := range want {
		if got[p] != r {
			t.Errorf("skipped %s: %q, want %q", p, got[p], r)
		}
		if !strings.Contains(stderr, "dicom-remap: "+filepath.Join(study, p)+": skipped: "+r+"\n") {
			t.Errorf("stderr does not say %s was skipped:\n%s", p, stderr)
		}
	}
	if len(got) != len(want) || !slices.IsSorted(paths) {
		t.Errorf("skipped: %v", paths)
	}
	if n := strings.Count(stderr, "\n"); n != len(want) {
		t.Errorf("%d stderr lines for %d skipped files:\n%s", n, len(want), stderr)
	}
	if rec.Related != nil || len(rec.Series) != 1 || len(rec.Series[0].Files) != 3 {
		t.Errorf("record: %d series, related %v", len(rec.Series), rec.Related)
	}
	for _, name := range []string{"KO1", "PR1", "sub/SEG1", "doc"} {
		if _, err := os.Stat(filepath.Join(dir, "out-skip", name+"-normalized.dcm")); err == nil {
			t.Errorf("%s was written", name)
		}
	}

	// --related link: the KO and the SEG reference normalized images.
	out := filepath.Join(dir, "out-link")
	if stderr := runOK(t, "--related", "link", "-q", study, out, "-1024", "3071"); stderr != "" {
		t.Errorf("-q printed %q", stderr)
	}
	rec = readRecord(t, out)
	newSOP, newSeries := map[string]string{}, map[string]string{}
	for _, f := range rec.Series[0].Files {
		newSOP[f.SOPInstance[0]] = f.SOPInstance[1]
	}
	newSeries[rec.Series[0].SourceSeriesUID] = rec.Series[0].NewSeriesUID
	for _, name := range []string{"IM1", "IM2", "sub/IM3"} {
		a, _ := os.ReadFile(filepath.Join(dir, "out-images", name+"-normalized.dcm"))
		b, _ := os.ReadFile(filepath.Join(out, name+"-normalized.dcm"))
		if !bytes.Equal(a, b) {
			t.Errorf("%s: linking changed an image", name)
		}
	}
	if len(rec.Related) != 3 || rec.Related[0].Input != "KO1" || rec.Related[1].Input != "sub/KO2" || rec.Related[2].Input != "sub/SEG1" {
		t.Fatalf("related: %+v", rec.Related)
	}
	for _, r := range rec.Related {
		newSOP[r.SOPInstance[0]] = r.SOPInstance[1] // linked objects reference each other's copies
	}
	if rec.Related[1].References != 2 {
		t.Errorf("sub/KO2: %d references rewritten, want the slice and the segmentation", rec.Related[1].References)
	}
	for _, r := range rec.Related {
		src := filepath.Join(study, r.Input)
		dst := filepath.Join(out, r.Output)
		if r.Output != strings.TrimSuffix(r.Input, ".dcm")+"-normalized.dcm" {
			t.Errorf("output %s for %s", r.Output, r.Input)
		}
		data, err := os.ReadFile(dst)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != r.OutputSHA256 {
			t.Errorf("%s: output_sha256 is not the output's", r.Input)
		}
		oldSOPs, oldSeries, srcDS := refs(t, src)
		gotSOPs, gotSeries, ds := refs(t, dst)
		for i, old := range oldSOPs {
			if gotSOPs[i] != newSOP[old] {
				t.Errorf("%s: reference %s became %s, want %s", r.Input, old, gotSOPs[i], newSOP[old])
			}
		}
		for i, old := range oldSeries {
			if gotSeries[i] != newSeries[old] {
				t.Errorf("%s: series reference %s became %s, want %s", r.Input, old, gotSeries[i], newSeries[old])
			}
		}
		if len(gotSOPs) != len(oldSOPs) || len(gotSeries) != len(oldSeries) || r.References != len(oldSOPs)+len(oldSeries) {
			t.Errorf("%s: %d references, %d series references, %d counted", r.Input, len(gotSOPs), len(gotSeries), r.References)
		}
		if s := str(t, ds, tag.SOPInstanceUID); s != r.SOPInstance[1] || s == r.SOPInstance[0] || str(t, srcDS, tag.SOPInstanceUID) != r.SOPInstance[0] {
			t.Errorf("%s: SOP Instance UID %s, record %v", r.Input, s, r.SOPInstance)
		}
		if s := str(t, ds, tag.MediaStorageSOPInstanceUID); s != r.SOPInstance[1] {
			t.Errorf("%s: meta SOP Instance UID %s", r.Input, s)
		}
		if s := str(t, ds, tag.SeriesInstanceUID); s != r.SeriesInstance[1] || !strings.HasPrefix(s, "2.25.") {
			t.Errorf("%s: Series Instance UID %s, record %v", r.Input, s, r.SeriesInstance)
		}
		if str(t, ds, tag.StudyInstanceUID) != str(t, srcDS, tag.StudyInstanceUID) {
			t.Errorf("%s: the study changed", r.Input)
		}
	}
	if rec.Related[0].SeriesInstance[1] == rec.Related[2].SeriesInstance[1] || rec.Related[0].SeriesInstance[1] != rec.Related[1].SeriesInstance[1] {
		t.Error("not one new series per source series of objects")
	}
	for p, r := range map[string]string{
		"PR1":       "a presentation state (PR) that references no image of this run",
		"PLAN":      "an RT plan (RTPLAN) that references no image of this run",
		"doc.dcm":   "an encapsulated PDF that references no image of this run",
		"index.dcm": "a DICOMDIR index, not an image to normalize",
	} {
		if !slices.Contains(rec.Skipped, skippedFile{p, r}) {
			t.Errorf("%s not skipped as %q: %v", p, r, rec.Skipped)
		}
	}

	// Reruns give the same bytes; per file too.
	again := filepath.Join(dir, "out-again")
	runOK(t, "--related=link", "--workers", "1", study, again, "-1024", "3071")
	for _, r := range rec.Related {
		a, _ := os.ReadFile(filepath.Join(out, r.Output))
		b, _ := os.ReadFile(filepath.Join(again, r.Output))
		if !bytes.Equal(a, b) {
			t.Errorf("%s: a rerun gave other bytes", r.Output)
		}
	}
	perFile := filepath.Join(dir, "out-per-file")
	runOK(t, "--related", "link", "--per-file", study, perFile, "0", "255")
	if rec := readRecord(t, perFile); len(rec.Related) != 3 {
		t.Errorf("per file: %d related", len(rec.Related))
	}

	// An existing linked copy is refused without --force, and nothing is
	// left half done.
	var stderrBuf bytes.Buffer
	if code := run([]string{"--related", "link", study, out, "-1024", "3071"}, nil, &bytes.Buffer{}, &stderrBuf); code != exitFailure {
		t.Errorf("rerun without --force: exit %d", code)
	}
	runOK(t, "--related", "link", "--force", study, out, "-1024", "3071")
}

func TestRelatedFailures(t *testing.T) {
	dir := t.TempDir()
	study := filepath.Join(dir, "study")
	writeStudy(t, study, false)
	// A broken object that claims to be DICOM fails the run, as before.
	ko, _ := os.ReadFile(filepath.Join(study, "KO1"))
	os.WriteFile(filepath.Join(study, "KO2"), ko[:len(ko)-20], 0o644)
	out := filepath.Join(dir, "out")
	for _, args := range [][]string{{study, out, "0", "255"}, {"--related", "link", study, out, "0", "255"}} {
		var stderr bytes.Buffer
		if code := run(args, nil, &bytes.Buffer{}, &stderr); code != exitRejected || !strings.Contains(stderr.String(), "KO2") {
			t.Errorf("%v: exit %d: %s", args, code, stderr.String())
		}
		if entries, _ := os.ReadDir(out); len(entries) != 0 {
			t.Errorf("a failed run left %d entries", len(entries))
		}
	}
	// The single-file form refuses a non-image, saying what it is.
	var stderr bytes.Buffer
	if code := run([]string{filepath.Join(study, "sub/SEG1"), out, "0", "255"}, nil, &bytes.Buffer{}, &stderr); code != exitRejected ||
		!strings.HasSuffix(stderr.String(), "SEG1: header: a segmentation (SEG), not an image to normalize\n") {
		t.Errorf("single SEG: exit %d: %s", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"--related", "both", study, out, "0", "255"}, nil, &bytes.Buffer{}, &stderr); code != exitUsage {
		t.Errorf("--related both: exit %d", code)
	}
	// A folder of objects only (a PACS puts the dose report in a series of
	// its own) is no failure: nothing to normalize, each listed.
	only := filepath.Join(dir, "only")
	os.MkdirAll(only, 0o755)
	os.WriteFile(filepath.Join(only, "KO1"), ko, 0o644)
	stderr.Reset()
	if code := run([]string{only, filepath.Join(dir, "out-only"), "0", "255"}, nil, &bytes.Buffer{}, &stderr); code != exitOK ||
		!strings.Contains(stderr.String(), "warning: no image to normalize") {
		t.Errorf("objects only: exit %d: %s", code, stderr.String())
	}
	if rec := readRecord(t, filepath.Join(dir, "out-only")); len(rec.Skipped) != 1 || len(rec.Series) != 0 {
		t.Errorf("objects only: %+v", rec)
	}
}
