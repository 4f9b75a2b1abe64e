package tests

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/descriptor"
)

// needBosh returns the real bosh named by DICOM_REMAP_BOSH, or skips: CI
// cannot fetch boutiques (no PyPI), which is why descriptor/ ports its
// rules and its command forming. Run it from a boutiques checkout with
// Debian's python3-jsonschema, -simplejson, -termcolor and -tabulate.
func needBosh(t *testing.T) string {
	t.Helper()
	bosh := os.Getenv("DICOM_REMAP_BOSH")
	if bosh == "" {
		t.Skip("DICOM_REMAP_BOSH unset: no real bosh to cross-check with (CI cannot install it)")
	}
	return bosh
}

// TestRealBosh runs the real bosh on the shipped descriptor: validate,
// then for every test invocation of the descriptor and the example
// invocation, `bosh exec simulate` must form the command descriptor.
// Invocation forms, and `bosh exec launch --no-container` must exit as the
// test asserts and write the bytes of a direct run.
func TestRealBosh(t *testing.T) {
	bosh := needBosh(t)
	desc := abs(t, boutiquesFile)
	if r := runCmd(t, "", bosh, "validate", desc); r.code != 0 {
		t.Fatalf("bosh validate: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	b, _, err := descriptor.LoadBoutiques(boutiquesFile)
	if err != nil {
		t.Fatal(err)
	}
	type invocation struct {
		name string
		inv  map[string]any
		exit int
	}
	invs := []invocation{{"example", readInvocation(t), 0}}
	for _, bt := range b.Tests {
		invs = append(invs, invocation{bt.Name, bt.Invocation, bt.Assertions.ExitCode})
	}
	for _, c := range invs {
		t.Run(c.name, func(t *testing.T) {
			work := boutiquesWorkdir(t)
			data, _ := json.Marshal(c.inv)
			inv := write(t, filepath.Join(t.TempDir(), "invocation.json"), data)
			r := runIn(t, work, withBinaryOnPath(), bosh, "exec", "simulate", "-i", inv, desc)
			if r.code != 0 {
				t.Fatalf("bosh exec simulate: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			cmd, outs, err := b.Invocation(c.inv)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(r.stdout), "Generated Command:")); got != cmd {
				t.Errorf("bosh formed\n  %s\ndescriptor.Invocation formed\n  %s", got, cmd)
			}
			// Without a container, and in the image when a Docker engine
			// has it (tests/docker/setup.sh and container_test.go make it):
			// bosh runs it as the caller (--user), as engines do.
			modes := [][]string{{"--no-container"}}
			if exec.Command("docker", "image", "inspect", "dicom-remap/dicom-remap:0.1.0").Run() == nil {
				modes = append(modes, []string{"--user", "--no-pull"})
			} else {
				t.Log("no Docker engine with the image: bosh runs without a container only")
			}
			for _, mode := range modes {
				work := boutiquesWorkdir(t)
				args := append(append([]string{"exec", "launch"}, mode...), desc, inv)
				r := runIn(t, work, withBinaryOnPath(), bosh, args...)
				if r.code != c.exit {
					t.Fatalf("bosh %v: exit %d, want %d\n%s%s", args, r.code, c.exit, r.stdout, r.stderr)
				}
				if c.exit == 0 {
					compareWithDirect(t, work, c.inv, outs, r.stdout)
				}
			}
		})
	}
}

// compareWithDirect requires the outputs of a bosh run in work to be the
// bytes of a direct run with the invocation's options.
func compareWithDirect(t *testing.T, work string, inv map[string]any, outs map[string]string, stdout string) {
	t.Helper()
	// The direct run: the paper's form, with the invocation's options.
	args := []string{"-q"}
	for id, flag := range map[string]string{"percentiles": "--percentiles=", "mask_below": "--mask-below=", "qc": "--qc"} {
		if v, ok := inv[id]; ok {
			if v == true {
				v = ""
			}
			args = append(args, flag+v.(string))
		}
	}
	out := t.TempDir()
	args = append(args, sampleFile, out, strconv.Itoa(int(inv["min"].(float64))), strconv.Itoa(int(inv["max"].(float64))))
	if r := runCmd(t, "", binary, args...); r.code != 0 {
		t.Fatal(r.stderr)
	}
	for id, name := range map[string]string{"normalized_image": "sample-ct-normalized.dcm", "qc_picture": "sample-ct-qc.png"} {
		if id == "qc_picture" && inv["qc"] != true {
			continue
		}
		if !bytes.Equal(mustRead(t, filepath.Join(work, outs[id])), mustRead(t, filepath.Join(out, name))) {
			t.Errorf("%s differs from the direct run", outs[id])
		}
	}
	if !strings.Contains(stdout, outs["normalized_image"]) {
		t.Errorf("bosh does not report %s:\n%s", outs["normalized_image"], stdout)
	}
}
