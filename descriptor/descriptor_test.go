package descriptor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sharedDir is where CI keeps the official schemas, next to the clone.
const sharedDir = "../../shared"

func readShared(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sharedDir, rel))
	if err != nil {
		if os.Getenv("DICOM_REMAP_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s is required in CI: %v", rel, err)
		}
		t.Skipf("../shared/%s not found (only CI and the project's machines have it): skipping", rel)
	}
	return data
}

func TestBoutiquesValidatesAsBosh(t *testing.T) {
	schema := readShared(t, "boutiques/descriptor.schema.json")
	_, data, err := LoadBoutiques("../boutiques/dicom-remap.json")
	if err != nil {
		t.Fatal(err)
	}
	problems, err := ValidateBoutiques(data, schema)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	// The validator must be able to fail: a descriptor without a name
	// (the schema), and one whose output shares an input's id (bosh's
	// rules, which the schema lets pass).
	bad := strings.Replace(string(data), `"name": "dicom-remap",`, "", 1)
	if problems, _ := ValidateBoutiques([]byte(bad), schema); len(problems) == 0 {
		t.Error("a descriptor without a name passed the schema")
	}
	bad = strings.Replace(string(data), `"id": "qc_picture"`, `"id": "qc"`, 1)
	if problems, _ := ValidateBoutiquesSchema([]byte(bad), schema); len(problems) > 0 {
		t.Fatalf("the schema refused a duplicate id: %v", problems)
	}
	if problems, _ := ValidateBoutiques([]byte(bad), schema); len(problems) == 0 || !strings.Contains(problems[0], "id-unique") {
		t.Errorf("a duplicate id passed: %v", problems)
	}
}

// TestInvocationMatchesBosh pins the command lines that the real bosh
// (boutiques 0.5.33, `bosh exec simulate`) formed from this descriptor.
func TestInvocationMatchesBosh(t *testing.T) {
	b, _, err := LoadBoutiques("../boutiques/dicom-remap.json")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		inv      map[string]any
		cmd, out string
	}{
		{map[string]any{"input_file": "testdata/sample-ct.dcm", "min": -1024.0, "max": 3071.0, "output_dir": "out"},
			"dicom-remap --min=-1024 --max=3071 --output-dir=out --workers=1 -- testdata/sample-ct.dcm", "out/sample-ct-normalized.dcm"},
		{map[string]any{"input_file": "/data/my scan/IM0001", "min": 0.0, "max": 100.0, "force": true, "quiet": false},
			"dicom-remap --min=0 --max=100 --output-dir=normalized --force --workers=1 -- '/data/my scan/IM0001'", "normalized/IM0001-normalized.dcm"},
		{map[string]any{"input_file": "a.DCM", "min": 0.0, "max": 1.0, "output_dir": "o", "max_pixel_bytes": 1000.0},
			"dicom-remap --min=0 --max=1 --output-dir=o --max-pixel-bytes=1000 --workers=1 -- a.DCM", "o/a-normalized.dcm"},
		{map[string]any{"input_file": "a.DCM.dcm", "min": 0.0, "max": 1.0, "output_dir": "o", "qc": true},
			"dicom-remap --min=0 --max=1 --output-dir=o --workers=1 --qc -- a.DCM.dcm", "o/a-normalized.dcm"},
	}
	for _, c := range cases {
		cmd, outs, err := b.Invocation(c.inv)
		if err != nil {
			t.Fatal(err)
		}
		if cmd != c.cmd {
			t.Errorf("command\n got %s\nwant %s", cmd, c.cmd)
		}
		if outs["normalized_image"] != c.out {
			t.Errorf("output %s, want %s", outs["normalized_image"], c.out)
		}
	}
	if _, _, err := b.Invocation(map[string]any{"min": 0.0}); err == nil {
		t.Error("an invocation without the input file was accepted")
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"a.dcm": "a.dcm", "a b": "'a b'", "it's": `'it'"'"'s'`, "": "''", "$x": "'$x'"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
