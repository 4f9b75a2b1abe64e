package hostile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDump(t *testing.T) {
	out := os.Getenv("HOSTILE_DUMP")
	if out == "" {
		t.Skip()
	}
	bases, err := Bases(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cs := Cases(bases)
	j, err := J2K(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cs = append(cs, j...)
	for _, c := range cs {
		os.WriteFile(filepath.Join(out, strings.ReplaceAll(c.Name, "/", "_")+".dcm"), c.File, 0o644)
	}
}
