package descriptor

import (
	"encoding/json"
	"testing"
)

// cbrainCases break the shipped descriptor once per rule of CBRAINRules.
var cbrainCases = map[string]func(t *testing.T, d map[string]any){
	"cbrain-schema-keys": func(t *testing.T, d map[string]any) {
		d["deprecated-by-doi"] = false // official schema: yes; CBRAIN's copy: no
	},
	"cbrain-path-template": func(t *testing.T, d map[string]any) {
		o := find(t, d, "output-files", "provenance")
		delete(o, "path-template")
	},
	"cbrain-container-index": func(t *testing.T, d map[string]any) {
		delete(d["container-image"].(map[string]any), "index") // Apptainer servers would build shub://…
	},
	"cbrain-integrator-modules": func(t *testing.T, d map[string]any) {
		d["custom"].(map[string]any)["cbrain:integrator_modules"] = map[string]any{"DicomRemapSaver": true}
	},
	"cbrain-one-required-file": func(t *testing.T, d map[string]any) {
		find(t, d, "inputs", "source_range_from")["optional"] = false
	},
	"cbrain-string-values": func(t *testing.T, d map[string]any) {
		find(t, d, "inputs", "output_dir")["default-value"] = "./normalized"
	},
	"cbrain-saved-once": func(t *testing.T, d map[string]any) {
		d["custom"].(map[string]any)["cbrain:ignore_outputs"] = l("qc_picture", "provenance")
	},
	"cbrain-output-dir-name": func(t *testing.T, d map[string]any) {
		delete(d["custom"].(map[string]any), "cbrain:override-input-string-ruby-regex")
	},
	"cbrain-resources": func(t *testing.T, d map[string]any) {
		d["suggested-resources"].(map[string]any)["walltime-estimate"] = 60.0 // a 2-minute Slurm limit
	},
}

func TestCBRAINRules(t *testing.T) {
	check := func(t *testing.T, d map[string]any) []Problem {
		data, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		p, err := CheckCBRAIN(data)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("shipped", func(t *testing.T) {
		for _, x := range check(t, shipped(t)) {
			t.Error(x)
		}
	})
	runRuleCases(t, CBRAINRules, cbrainCases, nil, func(t *testing.T, _ string, d map[string]any) []Problem {
		return check(t, d)
	})
}

func TestCBRAINStringProblem(t *testing.T) {
	for _, c := range []struct {
		value, pattern string
		ok             bool
	}{
		{"normalized", "", true},
		{"-1000:400", "", true},
		{"0.5:99.5", "", true},
		{"a/b", "", true},
		{"my out", "", false},
		{"./out", "", false},
		{"/abs", "", false},
		{"a/../b", "", false},
		{"a\nb", "", false},
		{"", "", false},
		{"$(touch x)", "", false},
		{"a/b", `[\w,.:+-]+`, false},
		{"out-1", `[\w,.:+-]+`, true},
	} {
		if got := CBRAINStringProblem(c.value, c.pattern) == ""; got != c.ok {
			t.Errorf("%q with %q: accepted %v, want %v", c.value, c.pattern, got, c.ok)
		}
	}
}

// TestCBRAINSaved pins CBRAIN's substitution (strip from the end, in the
// listed order, one extension after another) against bosh's (anywhere),
// on the names of the issue.
func TestCBRAINSaved(t *testing.T) {
	b := &Boutiques{
		Inputs: []BoutiquesInput{{ID: "input_file", Type: "File", ValueKey: "[INPUT]"},
			{ID: "output_dir", Type: "String", ValueKey: "[OUTPUT_DIR]", Default: "normalized"}},
		OutputFiles: []BoutiquesOutput{{ID: "image", PathTemplate: "[OUTPUT_DIR]/[INPUT]-normalized.dcm",
			StrippedExtensions: []string{".dcm", ".DCM"}}, {ID: "dir", PathTemplate: "[OUTPUT_DIR]"}},
		Custom: map[string]any{"cbrain:ignore_outputs": []any{"dir"}},
	}
	for in, want := range map[string]string{
		"IM0001":    "normalized/IM0001-normalized.dcm",
		"scan.DCM":  "normalized/scan-normalized.dcm",
		"a.DCM.dcm": "normalized/a-normalized.dcm", // two extensions gone: the tool writes a.DCM-normalized.dcm
		"a.dcm.DCM": "normalized/a.dcm-normalized.dcm",
		"a.dcm.b":   "normalized/a.dcm.b-normalized.dcm", // bosh: a.b-normalized.dcm
	} {
		got := b.CBRAINSaved(map[string]any{"input_file": in})
		if got["image"] != want || len(got) != 1 {
			t.Errorf("%s: %v, want image %s only", in, got, want)
		}
	}
}
