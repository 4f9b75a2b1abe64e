package dicomobj

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pydicomData is where Debian's python3-pydicom keeps its sample files:
// real objects of many writers (SR, RT, SEG, waveforms, DICOMDIRs in
// every encoding, broken ones too).
const pydicomData = "/usr/lib/python3/dist-packages/pydicom/data"

// TestRealSamples classifies pydicom's samples and rewrites them: a copy
// that changes nothing is the file itself, and a copy with every reference
// rewritten, rewritten back, is the file itself again.
func TestRealSamples(t *testing.T) {
	if _, err := os.Stat(pydicomData); err != nil {
		if os.Getenv("DICOM_REMAP_REQUIRE_TOOLS") == "1" {
			t.Fatalf("python3-pydicom's samples are required: %v", err)
		}
		t.Skipf("python3-pydicom's samples missing (%v): skipping", err)
	}
	want := map[string]string{
		"test_files/CT_small.dcm":                     "image",
		"test_files/MR_small_bigendian.dcm":           "image",
		"test_files/MR_small_implicit.dcm":            "image",
		"test_files/rtdose.dcm":                       "image",
		"test_files/image_dfl.dcm":                    "image",
		"test_files/JPEG2000.dcm":                     "image",
		"test_files/liver_1frame.dcm":                 "a segmentation (SEG)",
		"test_files/liver_expb_1frame.dcm":            "a segmentation (SEG)",
		"test_files/reportsi.dcm":                     "a structured report (SR)",
		"test_files/test-SR.dcm":                      "a structured report (SR)",
		"test_files/rtplan.dcm":                       "an RT plan (RTPLAN)",
		"test_files/waveform_ecg.dcm":                 "a waveform",
		"test_files/UN_sequence.dcm":                  "an object without pixel data",
		"test_files/meta_missing_tsyntax.dcm":         "image", // no transfer syntax: guessed
		"charset_files/chrSQEncoding.dcm":             "an object without pixel data",
		"palettes/hotiron.dcm":                        "a color palette",
		"test_files/dicomdirtests/DICOMDIR":           "a DICOMDIR index",
		"test_files/dicomdirtests/DICOMDIR-bigEnd":    "a DICOMDIR index",
		"test_files/dicomdirtests/DICOMDIR-implicit":  "a DICOMDIR index",
		"test_files/dicomdirtests/DICOMDIR-nooffset":  "a DICOMDIR index", // broken, but an index
		"test_files/dicomdirtests/DICOMDIR-empty.dcm": "a DICOMDIR index",
	}
	// Broken files: their header does not walk (the remap reports them).
	broken := map[string]bool{
		"test_files/rtplan_truncated.dcm": true,
		"test_files/SC_rgb_jpeg.dcm":      true, // Implicit VR data under an Explicit VR meta
	}
	seen, rewritten := 0, 0
	filepath.Walk(pydicomData, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(pydicomData, path)
		data, _ := os.ReadFile(path)
		h, err := Classify(bytes.NewReader(data), int64(len(data)))
		if err == ErrNotDICOM {
			return nil
		}
		seen++
		kind := h.Kind.Name
		if h.Kind.Image {
			kind = "image"
		}
		switch {
		case broken[rel]:
			if err == nil {
				t.Errorf("%s: a broken file was classified as %s", rel, kind)
			}
			return nil
		case err != nil:
			t.Errorf("%s: %v", rel, err)
			return nil
		case want[rel] != "" && want[rel] != kind:
			t.Errorf("%s: %s, want %s", rel, kind, want[rel])
		}
		o, err := walk(bytes.NewReader(data), int64(len(data)), false)
		if err != nil {
			if h.Kind.Image || h.Kind.Index {
				return nil // pixel data or an index cut short: the header was enough
			}
			t.Errorf("%s: classified, but does not walk: %v", rel, err)
			return nil
		}
		if err := roundTrip(o, data); err != nil {
			t.Errorf("%s: %v", rel, err)
		} else if !o.deflated {
			rewritten++
		}
		return nil
	})
	if seen < 150 || rewritten < 140 {
		t.Errorf("only %d samples read, %d rewritten", seen, rewritten)
	}
	t.Logf("%d samples classified, %d rewritten there and back", seen, rewritten)
}

// roundTrip checks an unchanged copy, then every reference rewritten to a
// longer UID and back.
func roundTrip(o *object, data []byte) error {
	src, size := bytes.NewReader(data), int64(len(data))
	var same bytes.Buffer
	if _, err := Copy(&same, src, size, Rewrite{}); err != nil {
		return err
	}
	if !o.deflated && !bytes.Equal(same.Bytes(), data) {
		return fmt.Errorf("an unchanged copy differs at byte %d", firstDiff(same.Bytes(), data))
	}
	refs, series, canonical := map[string]bool{}, map[string]bool{}, true
	refValues(o.elems, 0, refs, series, &canonical)
	there, back := Links{map[string]string{}, map[string]string{}}, Links{map[string]string{}, map[string]string{}}
	for v := range refs {
		there.Instances[v], back.Instances["2.25.1"+v] = "2.25.1"+v, v
	}
	for v := range series {
		there.Series[v], back.Series["2.25.1"+v] = "2.25.1"+v, v
	}
	var out, again bytes.Buffer
	r1, err := Copy(&out, src, size, Rewrite{Links: there})
	if err != nil {
		return err
	}
	r2, err := Copy(&again, bytes.NewReader(out.Bytes()), int64(out.Len()), Rewrite{Links: back})
	if err != nil {
		return fmt.Errorf("the rewritten copy: %v", err)
	}
	if r1.Count != r2.Count {
		return fmt.Errorf("%d references rewritten, %d back", r1.Count, r2.Count)
	}
	if r1.Count > 0 && bytes.Equal(out.Bytes(), data) {
		return fmt.Errorf("%d references rewritten, and nothing changed", r1.Count)
	}
	if !o.deflated && canonical && !strings.Contains(fmt.Sprint(refs, series), "2.25.1") && !bytes.Equal(again.Bytes(), data) {
		return fmt.Errorf("rewritten there and back, the copy differs at byte %d", firstDiff(again.Bytes(), data))
	}
	return nil
}
