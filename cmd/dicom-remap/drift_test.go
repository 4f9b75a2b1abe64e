package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/descriptor"
	"github.com/spf13/pflag"
)

// cliSpec describes this CLI, from its own flag definitions, for the
// descriptor checks.
func cliSpec() descriptor.CLI {
	fs, _ := newFlagSet()
	spec := descriptor.CLI{
		Version:   Version,
		Image:     ImageRepository + ":" + Version,
		Flags:     map[string]string{},
		Required:  []string{"min", "max", "output-dir"},
		Commands:  []string{"print-range", "merge-ranges", "learn-landmarks"},
		ExitCodes: []int{exitFailure, exitUsage, exitRejected},
	}
	fs.VisitAll(func(f *pflag.Flag) {
		// Help, version and the range phases of series mode are other
		// commands, not options of the remap that descriptors describe.
		if f.Name == "help" || f.Name == "version" || f.Name == "print-range" || f.Name == "merge-ranges" || f.Name == "learn-landmarks" {
			return
		}
		kind := map[string]string{"bool": "bool", "string": "string", "int64": "integer"}[f.Value.Type()]
		if k := f.Annotations["kind"]; len(k) == 1 {
			kind = k[0]
		}
		spec.Flags[f.Name] = kind
	})
	return spec
}

// TestDescriptorsAgreeWithCLI fails on any drift between the CLI's flags,
// version and image and the Boutiques, CWL and Galaxy descriptors.
func TestDescriptorsAgreeWithCLI(t *testing.T) {
	cli := cliSpec()
	b, _, err := descriptor.LoadBoutiques("../../boutiques/dicom-remap.json")
	if err != nil {
		t.Fatal(err)
	}
	c, err := descriptor.LoadCWL("../../cwl/dicom-remap.cwl")
	if err != nil {
		t.Fatal(err)
	}
	others, _ := filepath.Glob("../../cwl/*.cwl")
	if len(others) < 5 {
		t.Fatalf("cwl/ holds %d files", len(others))
	}
	for _, f := range others {
		other, err := descriptor.LoadCWL(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range descriptor.CheckCWL(cli, other) {
			t.Errorf("%s: %s", f, p)
		}
	}
	g, err := descriptor.LoadGalaxy("../../galaxy/dicom_remap.xml")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range descriptor.CheckBoutiques(cli, b) {
		t.Error(p)
	}
	for _, p := range descriptor.CheckCWL(cli, c) {
		t.Error(p)
	}
	wrappers, _ := filepath.Glob("../../galaxy/*.xml")
	for _, w := range wrappers {
		gw, err := descriptor.LoadGalaxy(w)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range descriptor.CheckGalaxy(cli, gw) {
			t.Errorf("%s: %s", w, p)
		}
	}

	// The checks can fail: a new flag, a new version.
	drifted := cli
	drifted.Version = "9.9.9"
	drifted.Image = ImageRepository + ":9.9.9"
	drifted.Flags = map[string]string{"new-flag": "bool"}
	for k, v := range cli.Flags {
		drifted.Flags[k] = v
	}
	for name, problems := range map[string][]string{
		"boutiques": descriptor.CheckBoutiques(drifted, b),
		"cwl":       descriptor.CheckCWL(drifted, c),
		"galaxy":    descriptor.CheckGalaxy(drifted, g),
	} {
		if !strings.Contains(strings.Join(problems, "\n"), "9.9.9") {
			t.Errorf("%s: a version drift went unnoticed: %v", name, problems)
		}
	}
	if !strings.Contains(strings.Join(descriptor.CheckBoutiques(drifted, b), "\n"), "--new-flag has no input") {
		t.Error("boutiques: a new CLI flag went unnoticed")
	}
}

// TestHelpDocumentsExitCodes keeps --help, the constants and the
// descriptors' codes together.
func TestHelpDocumentsExitCodes(t *testing.T) {
	help := helpText()
	for _, code := range []string{"0  success", "1  I/O", "2  usage", "3  INPUT rejected"} {
		if !strings.Contains(help, code) {
			t.Errorf("--help lacks %q", code)
		}
	}
}
