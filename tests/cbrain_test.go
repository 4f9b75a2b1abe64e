package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/descriptor"
)

// TestCBRAINSavesEachOutputOnce runs the Boutiques command as CBRAIN's
// execution server does (the input is a symlink in the task's work
// directory, named as the user's file; the invocation holds the form's
// values and defaults) and then finds what CBRAIN's save_results would
// save: each output not in cbrain:ignore_outputs, its path-template
// substituted the CBRAIN way and globbed in the work directory. Every file
// the tool wrote must be saved exactly once, under the name it wrote, for
// inputs named IM0001, scan.DCM and a.DCM.dcm (whose two extensions CBRAIN
// strips both of), and for a directory.
func TestCBRAINSavesEachOutputOnce(t *testing.T) {
	b, _, err := descriptor.LoadBoutiques(boutiquesFile)
	if err != nil {
		t.Fatal(err)
	}
	sample := mustRead(t, sampleFile)
	series, _, _ := makeSeries(t, 4, 16)
	for _, c := range []struct {
		name, source string
		want         []string // files the tool writes, relative to the output directory
	}{
		{"IM0001", "", []string{"IM0001-normalized.dcm", "IM0001-qc.png"}},
		{"scan.DCM", "", []string{"scan-normalized.dcm", "scan-qc.png"}},
		{"a.DCM.dcm", "", []string{"a.DCM-normalized.dcm", "a.DCM-qc.png"}},
		{"scan", series, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			cache, work := t.TempDir(), t.TempDir()
			target := c.source
			if target == "" {
				target = write(t, filepath.Join(cache, c.name), sample)
			}
			if err := os.Symlink(target, filepath.Join(work, c.name)); err != nil {
				t.Fatal(err)
			}
			inv := map[string]any{"input_file": c.name, "min": 0.0, "max": 255.0, "qc": true}
			cmd, _, err := b.Invocation(inv)
			if err != nil {
				t.Fatal(err)
			}
			if r := runIn(t, work, withBinaryOnPath(), "/bin/sh", "-c", cmd); r.code != 0 {
				t.Fatalf("%s: exit %d: %s", cmd, r.code, r.stderr)
			}
			var saved []string
			for id, pattern := range b.CBRAINSaved(inv) {
				matches, err := filepath.Glob(filepath.Join(work, pattern))
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range matches {
					if rel, err := filepath.Rel(work, m); err != nil || strings.HasPrefix(rel, "..") || rel == "." {
						t.Errorf("output %s: %s is not inside the work directory", id, m)
					}
				}
				saved = append(saved, matches...)
			}
			written := 0
			filepath.Walk(work, func(p string, info os.FileInfo, err error) error {
				if err != nil || info.IsDir() || p == filepath.Join(work, c.name) {
					return err
				}
				written++
				n := 0
				for _, s := range saved {
					if p == s || strings.HasPrefix(p, s+string(filepath.Separator)) {
						n++
					}
				}
				if n != 1 {
					t.Errorf("%s is saved %d times (saved: %v)", p, n, saved)
				}
				return nil
			})
			if written == 0 {
				t.Fatal("the tool wrote nothing")
			}
			out := filepath.Join(work, "normalized") // output_dir's default
			for _, name := range c.want {
				if _, err := os.Stat(filepath.Join(out, name)); err != nil {
					t.Errorf("the tool did not write %s: %v", name, err)
				}
			}
			if c.want != nil {
				if got := mustRead(t, filepath.Join(out, c.want[0])); string(got) != string(direct(t, sampleFile, 0, 255)) {
					t.Error("the saved image differs from a direct run")
				}
			} else if _, err := os.Stat(filepath.Join(out, "dicom-remap-qc.png")); err != nil {
				t.Errorf("no series picture: %v", err)
			}
		})
	}
}
