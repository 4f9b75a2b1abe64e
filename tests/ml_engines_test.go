package tests

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/descriptor"
)

// directWith is direct with options (flags with their values).
func directWith(t *testing.T, input string, min, max int, opts ...string) []byte {
	t.Helper()
	out := t.TempDir()
	args := append(append([]string{}, opts...), input, out, fmt.Sprint(min), fmt.Sprint(max))
	if r := runCmd(t, "", binary, args...); r.code != 0 {
		t.Fatalf("direct run: %s", r.stderr)
	}
	return mustRead(t, filepath.Join(out, strings.TrimSuffix(filepath.Base(input), ".dcm")+"-normalized.dcm"))
}

func galaxyInputType(g *descriptor.Galaxy, name string) string {
	for _, in := range g.Inputs {
		if in.Name == name {
			return in.Type
		}
	}
	return ""
}

// galaxyOptions are the CLI flags a Galaxy test's values stand for: text
// and select parameters that are set, and data parameters (their test-data
// paths) other than the input.
func galaxyOptions(g *descriptor.Galaxy, values map[string]string) []string {
	var opts []string
	for _, in := range g.Inputs {
		v := values[in.Name]
		switch {
		case in.Name == "input" || in.Name == "min" || in.Name == "max" || v == "":
		case in.Type == "text" || in.Type == "select" || in.Type == "data":
			opts = append(opts, "--"+strings.ReplaceAll(in.Name, "_", "-")+"="+v)
		}
	}
	return opts
}

// TestEnginesNewOptions: the Boutiques command lines (formed as bosh forms
// them) and cwltool runs of --window, --percentile-method and --landmarks
// give the bytes of the direct runs. (Galaxy's are among the wrapper's own
// tests, TestGalaxyTests.)
func TestEnginesNewOptions(t *testing.T) {
	b, _, err := descriptor.LoadBoutiques(boutiquesFile)
	if err != nil {
		t.Fatal(err)
	}
	dir := boutiquesWorkdir(t)
	landmarks := abs(t, filepath.Join("..", "galaxy", "test-data", "landmarks.json"))
	write(t, filepath.Join(dir, "landmarks.json"), mustRead(t, landmarks))
	cases := []struct {
		name string
		inv  map[string]any
		cwl  string
		opts []string
	}{
		{"window", map[string]any{"window": "mediastinum"}, "window: mediastinum\n", []string{"--window", "mediastinum"}},
		{"linear percentiles", map[string]any{"percentiles": "0.5:99.5", "percentile_method": "linear", "mask_below": "-1000"},
			"percentiles: \"0.5:99.5\"\npercentile_method: linear\nmask_below: \"-1000\"\n", []string{"--percentiles", "0.5:99.5", "--percentile-method", "linear", "--mask-below=-1000"}},
		{"landmarks", map[string]any{"landmarks": "landmarks.json"}, fmt.Sprintf("landmarks: {class: File, path: %q}\n", landmarks), []string{"--landmarks", landmarks}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := directWith(t, sampleFile, 0, 1000, c.opts...)
			inv := map[string]any{"input_file": "testdata/sample-ct.dcm", "min": 0.0, "max": 1000.0, "output_dir": "out-" + strings.ReplaceAll(c.name, " ", "-")}
			for k, v := range c.inv {
				inv[k] = v
			}
			cmd, outputs, err := b.Invocation(inv)
			if err != nil {
				t.Fatal(err)
			}
			if r := runIn(t, dir, withBinaryOnPath(), "/bin/sh", "-c", cmd); r.code != 0 {
				t.Fatalf("%s: exit %d: %s", cmd, r.code, r.stderr)
			}
			if !bytes.Equal(mustRead(t, filepath.Join(dir, outputs["normalized_image"])), want) {
				t.Fatalf("boutiques %s: output differs from the direct run", cmd)
			}
			cwltool := need(t, "cwltool")
			work := t.TempDir()
			job := write(t, filepath.Join(work, "job.yml"), []byte(fmt.Sprintf("input: {class: File, path: %q}\nmin: 0\nmax: 1000\n%s", abs(t, sampleFile), c.cwl)))
			outdir := filepath.Join(work, "out")
			r := runIn(t, work, withBinaryOnPath(), cwltool, "--no-container", "--outdir", outdir, abs(t, cwlFile), job)
			if r.code != 0 {
				t.Fatalf("cwltool: exit %d\n%s", r.code, r.stderr)
			}
			if !bytes.Equal(mustRead(t, filepath.Join(outdir, "sample-ct-normalized.dcm")), want) {
				t.Fatal("cwltool output differs from the direct run")
			}
		})
	}
}
