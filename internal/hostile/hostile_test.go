package hostile

import (
	"bytes"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/codectest"
)

// TestCasesDeterministic: the cases are the same bytes on every run (the
// mutations are deterministic, the encoders' output is), their names are
// unique, and every family has each kind of mutation.
func TestCasesDeterministic(t *testing.T) {
	for _, tool := range Tools {
		codectest.NeedTool(t, tool)
	}
	var runs [2][]Case
	for i := range runs {
		bases, err := Bases(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		runs[i] = Cases(bases)
	}
	if len(runs[0]) != len(runs[1]) {
		t.Fatalf("%d cases, then %d", len(runs[0]), len(runs[1]))
	}
	seen := map[string]bool{}
	kinds := map[string]map[string]bool{}
	for i, c := range runs[0] {
		if c.Name != runs[1][i].Name || !bytes.Equal(c.File, runs[1][i].File) {
			t.Fatalf("case %d differs between runs: %s, %s", i, c.Name, runs[1][i].Name)
		}
		if seen[c.Name] {
			t.Fatalf("two cases named %s", c.Name)
		}
		seen[c.Name] = true
		parts := strings.Split(c.Name, "/")
		if kinds[parts[0]] == nil {
			kinds[parts[0]] = map[string]bool{}
		}
		kinds[parts[0]][parts[2]] = true
	}
	for fam, k := range kinds {
		for _, want := range []string{"cut-half", "columns-half", "declared-16384", "one-frame-three-streams", "no-fragments", "item-length-beyond-file", "ybr-partial-420"} {
			if !k[want] {
				t.Errorf("%s has no %s case", fam, want)
			}
		}
	}
	if len(kinds) != 5 {
		t.Errorf("%d families, want 5", len(kinds))
	}
}
