package tests

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
	if filepath.Base(bosh) != "bosh" {
		// bosh returns the tool's exit code only when run as "bosh".
		t.Fatalf("DICOM_REMAP_BOSH=%s: name an executable called bosh (docs/testing.md)", bosh)
	}
	return bosh
}

// boshMode is one way `bosh exec launch` runs the tool: its arguments
// before the descriptor, the environment bosh runs in, and what its report
// must show.
type boshMode struct {
	name string
	args []string
	env  []string
	want string
}

// boshModes are the ways bosh can launch the tool here: without a
// container always; in the Docker image when a Docker engine has it
// (tests/docker/setup.sh and container_test.go make it), as the caller
// (--user) as engines do; and under Apptainer when it is installed and the
// image is there to build a SIF from, as a cluster without Docker runs it.
func boshModes(t *testing.T) []boshMode {
	modes := []boshMode{{"native", []string{"--no-container"}, withBinaryOnPath(), ""}}
	if exec.Command("docker", "image", "inspect", "dicom-remap/dicom-remap:0.1.0").Run() != nil {
		t.Log("no Docker engine with the image: bosh runs without a container only")
		return modes
	}
	modes = append(modes, boshMode{"docker", []string{"--user", "--no-pull"}, withBinaryOnPath(), "docker run"})
	apptainer, err := exec.LookPath("apptainer")
	if err != nil {
		apptainer = filepath.Join(apptainerPrefix, "bin", "apptainer")
	}
	if _, err := os.Stat(apptainer); err != nil {
		t.Log("no Apptainer: bosh does not run the SIF")
		return modes
	}
	// bosh runs a Docker image under Apptainer by pulling it from
	// docker://; --imagepath names a SIF already there, --no-pull forbids
	// the pull, and --force-apptainer makes it use apptainer although
	// docker is on PATH. The SIF is Singularity.def's, built from the local
	// image. The tool's directory is not on PATH: the SIF's binary must run.
	sif, _ := buildDefSIF(t)
	env := append(apptainerEnv(t), "PATH="+filepath.Dir(apptainer)+string(os.PathListSeparator)+os.Getenv("PATH"))
	return append(modes, boshMode{"apptainer", []string{"--force-apptainer", "--imagepath", sif, "--no-pull"}, env, "apptainer exec --cleanenv"})
}

// TestRealBosh runs the real bosh on the shipped descriptor: validate,
// then for every test invocation of the descriptor and the example
// invocation, `bosh exec simulate` must form the command descriptor.
// Invocation forms, and `bosh exec launch` must exit as the test asserts
// and write the bytes of a direct run, in every mode of boshModes.
func TestRealBosh(t *testing.T) {
	bosh := needBosh(t)
	desc := abs(t, boutiquesFile)
	if r := runCmd(t, "", bosh, "validate", desc); r.code != 0 {
		t.Fatalf("bosh validate: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	modes := boshModes(t)
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
			for _, mode := range modes {
				work := boutiquesWorkdir(t)
				args := append(append([]string{"exec", "launch"}, mode.args...), desc, inv)
				r := runIn(t, work, mode.env, bosh, args...)
				if r.code != c.exit {
					t.Fatalf("bosh %v: exit %d, want %d\n%s%s", args, r.code, c.exit, r.stdout, r.stderr)
				}
				if !strings.Contains(r.stdout, mode.want) {
					t.Fatalf("%s: bosh did not run %q:\n%s", mode.name, mode.want, r.stdout)
				}
				if c.exit == 0 {
					compareWithDirect(t, work, c.inv, outs, r.stdout)
				}
			}
		})
	}
	// README's `bosh exec launch` lines as written, from a directory that
	// holds what they name, in each mode they need that is available here.
	t.Run("README", func(t *testing.T) {
		lines := readmeCommands(t, "bosh exec launch ")
		if len(lines) < 3 {
			t.Fatalf("README has %d bosh exec launch lines", len(lines))
		}
		// They run boutiques/invocation.json.
		inv := readInvocation(t)
		direct := t.TempDir()
		if r := runCmd(t, "", binary, "-q", sampleFile, direct, strconv.Itoa(int(inv["min"].(float64))), strconv.Itoa(int(inv["max"].(float64)))); r.code != 0 {
			t.Fatal(r.stderr)
		}
		want := mustRead(t, filepath.Join(direct, "sample-ct-normalized.dcm"))
		for _, line := range lines {
			name := "docker"
			if strings.Contains(line, "--no-container") {
				name = "native"
			} else if strings.Contains(line, "--force-apptainer") {
				name = "apptainer"
			}
			var mode *boshMode
			for i := range modes {
				if modes[i].name == name {
					mode = &modes[i]
				}
			}
			if mode == nil {
				t.Logf("%s: no %s here", line, name)
				continue
			}
			work := boutiquesWorkdir(t)
			if err := os.Symlink(abs(t, filepath.Dir(boutiquesFile)), filepath.Join(work, "boutiques")); err != nil {
				t.Fatal(err)
			}
			if name == "apptainer" {
				if err := os.Symlink(mode.args[2], filepath.Join(work, "dicom-remap.sif")); err != nil {
					t.Fatal(err)
				}
			}
			path := ""
			for _, kv := range mode.env {
				if v, ok := strings.CutPrefix(kv, "PATH="); ok {
					path = v
				}
			}
			env := append(slices.Clip(mode.env), "PATH="+filepath.Dir(bosh)+string(os.PathListSeparator)+path)
			r := runIn(t, work, env, "/bin/sh", "-c", line)
			if r.code != 0 || !strings.Contains(r.stdout, mode.want) {
				t.Fatalf("%s: exit %d\n%s%s", line, r.code, r.stdout, r.stderr)
			}
			if !bytes.Equal(mustRead(t, filepath.Join(work, inv["output_dir"].(string), "sample-ct-normalized.dcm")), want) {
				t.Errorf("%s: the image differs from the direct run", line)
			}
		}
	})
	// A series directory (File includes directories in Boutiques), with
	// the picture: bosh mounts the directory into the container.
	t.Run("directory", func(t *testing.T) {
		made, _, _ := makeSeries(t, 5, 16)
		files := outputs(t, made)
		// The picture's title names the input: the same name as in bosh's runs.
		in := filepath.Join(t.TempDir(), "series")
		for name, data := range files {
			write(t, filepath.Join(in, name), data)
		}
		direct := filepath.Join(t.TempDir(), "direct")
		if r := runCmd(t, "", binary, "-q", "--qc", in, direct, "0", "1000"); r.code != 0 {
			t.Fatal(r.stderr)
		}
		want := outputs(t, direct)
		inv := write(t, filepath.Join(t.TempDir(), "invocation.json"), []byte(`{"input_file": "series", "min": 0, "max": 1000, "output_dir": "out", "qc": true}`))
		for _, mode := range modes {
			work := t.TempDir()
			for name, data := range files {
				write(t, filepath.Join(work, "series", name), data)
			}
			r := runIn(t, work, mode.env, bosh, append(append([]string{"exec", "launch"}, mode.args...), desc, inv)...)
			if r.code != 0 || !strings.Contains(r.stdout, mode.want) {
				t.Fatalf("%s: exit %d\n%s%s", mode.name, r.code, r.stdout, r.stderr)
			}
			got := outputs(t, filepath.Join(work, "out"))
			// The record differs only in the arguments it records.
			if len(got) != len(want) || got["dicom-remap-provenance.json"] == nil || want["dicom-remap-qc.png"] == nil {
				t.Fatalf("%s: %d outputs, the direct run %d", mode.name, len(got), len(want))
			}
			for name, data := range want {
				if name != "dicom-remap-provenance.json" && !bytes.Equal(got[name], data) {
					t.Errorf("%s: %s differs from the direct run", mode.name, name)
				}
			}
		}
	})
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
