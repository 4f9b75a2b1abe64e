package tests

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/descriptor"
)

var (
	boutiquesFile = filepath.Join("..", "boutiques", "dicom-remap.json")
	cwlFile       = filepath.Join("..", "cwl", "dicom-remap.cwl")
	galaxyFile    = filepath.Join("..", "galaxy", "dicom_remap.xml")
	sampleFile    = filepath.Join("..", "testdata", "sample-ct.dcm")
)

// direct runs the CLI on input and returns the output bytes.
func direct(t *testing.T, input string, min, max int) []byte {
	t.Helper()
	out := t.TempDir()
	if r := runCmd(t, "", binary, input, out, fmt.Sprint(min), fmt.Sprint(max)); r.code != 0 {
		t.Fatalf("direct run: %s", r.stderr)
	}
	data, err := os.ReadFile(filepath.Join(out, strings.TrimSuffix(filepath.Base(input), ".dcm")+"-normalized.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// directQC runs the CLI with --qc on input, staged under name (the
// picture's title shows it), and returns the picture's bytes.
func directQC(t *testing.T, input, name string, min, max int) []byte {
	t.Helper()
	dir := t.TempDir()
	staged := write(t, filepath.Join(dir, name), mustRead(t, input))
	out := filepath.Join(dir, "out")
	if r := runCmd(t, "", binary, "--qc", staged, out, fmt.Sprint(min), fmt.Sprint(max)); r.code != 0 {
		t.Fatalf("direct run: %s", r.stderr)
	}
	return mustRead(t, filepath.Join(out, strings.TrimSuffix(name, ".dcm")+"-qc.png"))
}

// withBinaryOnPath returns an environment whose PATH finds dicom-remap.
func withBinaryOnPath() []string {
	return append(os.Environ(), "PATH="+filepath.Dir(binary)+string(os.PathListSeparator)+os.Getenv("PATH"))
}

func abs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestCWLValidates(t *testing.T) {
	cwltool := need(t, "cwltool")
	files, _ := filepath.Glob(filepath.Join("..", "cwl", "*.cwl"))
	for _, f := range files {
		r := runCmd(t, "", cwltool, "--validate", f)
		if r.code != 0 || !strings.Contains(r.stdout+r.stderr, "is valid CWL") {
			t.Fatalf("cwltool --validate %s: exit %d\n%s%s", f, r.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, "Warning") {
			t.Errorf("cwltool warns on %s:\n%s", f, r.stderr)
		}
	}
}

// cwlJob writes a CWL job file.
func cwlJob(t *testing.T, dir, input string, min, max any) string {
	job := fmt.Sprintf("input: {class: File, path: %q}\nmin: %v\nmax: %v\n", abs(t, input), min, max)
	return write(t, filepath.Join(dir, "job.yml"), []byte(job))
}

// TestCWLRunNoContainer runs the CWL tool with cwltool --no-container and
// requires the same bytes as the direct run.
func TestCWLRunNoContainer(t *testing.T) {
	cwltool := need(t, "cwltool")
	inputs := []string{sampleFile}
	if dir := moduleSamples(t); dir != "" {
		inputs = append(inputs, filepath.Join(dir, "3.dcm"))
	}
	for _, input := range inputs {
		t.Run(filepath.Base(input), func(t *testing.T) {
			work := t.TempDir()
			job := cwlJob(t, work, input, -1024, 3071)
			outdir := filepath.Join(work, "out")
			r := runIn(t, work, withBinaryOnPath(), cwltool, "--no-container", "--outdir", outdir, abs(t, cwlFile), job)
			if r.code != 0 {
				t.Fatalf("cwltool: exit %d\n%s", r.code, r.stderr)
			}
			got, err := os.ReadFile(filepath.Join(outdir, strings.TrimSuffix(filepath.Base(input), ".dcm")+"-normalized.dcm"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, direct(t, input, -1024, 3071)) {
				t.Fatal("cwltool output differs from the direct run")
			}
			if !strings.Contains(r.stdout, `"format": "http://edamontology.org/format_3548"`) {
				t.Errorf("output lacks the EDAM DICOM format:\n%s", r.stdout)
			}
		})
	}
}

// TestCWLQC asks cwltool for the quality-control picture: a PNG output
// with its EDAM format, the same bytes as the direct run's.
func TestCWLQC(t *testing.T) {
	cwltool := need(t, "cwltool")
	work := t.TempDir()
	job := write(t, filepath.Join(work, "job.yml"), []byte(fmt.Sprintf("input: {class: File, path: %q}\nmin: 0\nmax: 255\nqc: true\n", abs(t, sampleFile))))
	outdir := filepath.Join(work, "out")
	r := runIn(t, work, withBinaryOnPath(), cwltool, "--no-container", "--outdir", outdir, abs(t, cwlFile), job)
	if r.code != 0 {
		t.Fatalf("cwltool: exit %d\n%s", r.code, r.stderr)
	}
	if !bytes.Equal(mustRead(t, filepath.Join(outdir, "sample-ct-qc.png")), directQC(t, sampleFile, "sample-ct.dcm", 0, 255)) {
		t.Fatal("cwltool picture differs from the direct run's")
	}
	if !strings.Contains(r.stdout, `"format": "http://edamontology.org/format_3603"`) {
		t.Errorf("picture lacks the EDAM PNG format:\n%s", r.stdout)
	}
	// Without qc the optional output is null.
	job = cwlJob(t, work, sampleFile, 0, 255)
	r = runIn(t, work, withBinaryOnPath(), cwltool, "--no-container", "--outdir", filepath.Join(work, "out2"), abs(t, cwlFile), job)
	if r.code != 0 || !strings.Contains(r.stdout, `"qc_picture": null`) {
		t.Fatalf("cwltool without qc: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestCWLFailures: invalid invocations fail through cwltool, as permanent
// failures where the tool refused them.
func TestCWLFailures(t *testing.T) {
	cwltool := need(t, "cwltool")
	notDicom := write(t, filepath.Join(t.TempDir(), "notes.dcm"), []byte("not a DICOM file"))
	cases := []struct {
		name, input string
		min, max    any
		log         string
	}{
		{"min not below max", sampleFile, 100, 100, "permanentFail"},
		{"not dicom", notDicom, 0, 100, "permanentFail"},
		{"wrong type", sampleFile, `"abc"`, 100, "Invalid job input record"},
		{"missing input", filepath.Join(t.TempDir(), "missing.dcm"), 0, 100, "missing.dcm"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			work := t.TempDir()
			job := cwlJob(t, work, c.input, c.min, c.max)
			r := runIn(t, work, withBinaryOnPath(), cwltool, "--no-container", "--outdir", filepath.Join(work, "out"), abs(t, cwlFile), job)
			if r.code == 0 {
				t.Fatal("cwltool succeeded")
			}
			if !strings.Contains(r.stderr, c.log) {
				t.Fatalf("cwltool log lacks %q:\n%s", c.log, r.stderr)
			}
		})
	}
}

// boutiquesWorkdir makes a directory holding the bundled sample where the
// descriptor's relative paths expect it.
func boutiquesWorkdir(t *testing.T) string {
	dir := t.TempDir()
	data, err := os.ReadFile(sampleFile)
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "testdata", "sample-ct.dcm"), data)
	return dir
}

// TestBoutiquesTests runs the descriptor's own tests: the command line
// formed from the descriptor as bosh forms it, executed by /bin/sh, with
// the asserted exit code and output files.
func TestBoutiquesTests(t *testing.T) {
	b, _, err := descriptor.LoadBoutiques(boutiquesFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Tests) < 2 {
		t.Fatal("the descriptor needs a passing and a failing test")
	}
	for _, bt := range b.Tests {
		t.Run(bt.Name, func(t *testing.T) {
			dir := boutiquesWorkdir(t)
			cmd, outputs, err := b.Invocation(bt.Invocation)
			if err != nil {
				t.Fatal(err)
			}
			r := runIn(t, dir, withBinaryOnPath(), "/bin/sh", "-c", cmd)
			if r.code != bt.Assertions.ExitCode {
				t.Fatalf("%s: exit %d, want %d\n%s", cmd, r.code, bt.Assertions.ExitCode, r.stderr)
			}
			for _, o := range bt.Assertions.OutputFiles {
				if _, err := os.Stat(filepath.Join(dir, outputs[o.ID])); err != nil {
					t.Errorf("output %s: %v", o.ID, err)
				}
			}
		})
	}
}

// TestBoutiquesInvocation runs the example invocation and compares bytes
// with the direct run; then invalid invocations give the documented codes.
func TestBoutiquesInvocation(t *testing.T) {
	b, _, err := descriptor.LoadBoutiques(boutiquesFile)
	if err != nil {
		t.Fatal(err)
	}
	dir := boutiquesWorkdir(t)
	write(t, filepath.Join(dir, "notes.txt"), []byte("not DICOM"))
	cases := []struct {
		name string
		inv  map[string]any
		exit int
	}{
		{"example", readInvocation(t), 0},
		{"min not below max", map[string]any{"input_file": "testdata/sample-ct.dcm", "min": 5.0, "max": 5.0}, 2},
		{"missing input", map[string]any{"input_file": "testdata/missing.dcm", "min": 0.0, "max": 1.0}, 1},
		{"not dicom", map[string]any{"input_file": "notes.txt", "min": 0.0, "max": 1.0}, 3},
		{"wrong type", map[string]any{"input_file": "testdata/sample-ct.dcm", "min": "zero", "max": 1.0}, 2},
		{"file name with spaces", map[string]any{"input_file": "testdata/sample-ct.dcm", "min": -10.0, "max": 10.0, "output_dir": "my out", "force": true}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd, outputs, err := b.Invocation(c.inv)
			if err != nil {
				t.Fatal(err)
			}
			r := runIn(t, dir, withBinaryOnPath(), "/bin/sh", "-c", cmd)
			if r.code != c.exit {
				t.Fatalf("%s: exit %d, want %d: %s", cmd, r.code, c.exit, r.stderr)
			}
			out := filepath.Join(dir, outputs["normalized_image"])
			if c.exit != 0 {
				if _, err := os.Stat(out); err == nil {
					t.Errorf("failure left %s", out)
				}
				return
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("the path template's file: %v", err)
			}
			min, max := int(c.inv["min"].(float64)), int(c.inv["max"].(float64))
			if !bytes.Equal(got, direct(t, sampleFile, min, max)) {
				t.Fatal("output differs from the direct run")
			}
		})
	}
}

func readInvocation(t *testing.T) map[string]any {
	var inv map[string]any
	data, err := os.ReadFile(filepath.Join("..", "boutiques", "invocation.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &inv); err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestGalaxyWrapperValidates(t *testing.T) {
	xmllint := need(t, "xmllint")
	xsd := needFile(t, filepath.Join(repoRoot, "..", "shared", "galaxy", "galaxy.xsd"), "Galaxy XSD in ../shared")
	wrappers, _ := filepath.Glob(filepath.Join("..", "galaxy", "*.xml"))
	if len(wrappers) != 2 {
		t.Fatalf("galaxy/ holds %d wrappers", len(wrappers))
	}
	for _, w := range wrappers {
		if r := runCmd(t, "", xmllint, "--noout", "--schema", xsd, w); r.code != 0 {
			t.Fatalf("xmllint %s: %s", w, r.stderr)
		}
	}
}

// TestGalaxyTests renders each wrapper's <command> for each of its <tests>
// with Cheetah as Galaxy builds a job (tests/galaxy/render.py: datasets
// staged under opaque names, collections as lists) and runs the job script
// with /bin/sh in the job's working directory.
func TestGalaxyTests(t *testing.T) {
	wrappers, _ := filepath.Glob(filepath.Join("..", "galaxy", "*.xml"))
	for _, w := range wrappers {
		g, err := descriptor.LoadGalaxy(w)
		if err != nil {
			t.Fatal(err)
		}
		for i, gt := range g.Tests {
			t.Run(fmt.Sprintf("%s/%d", g.ID, i), func(t *testing.T) { runGalaxyTest(t, w, g, gt) })
		}
	}
}

func runGalaxyTest(t *testing.T, wrapper string, g *descriptor.Galaxy, gt descriptor.GalaxyTest) {
	j := newGalaxyJob(t)
	testData := func(name string) []byte { return mustRead(t, filepath.Join("..", "galaxy", "test-data", name)) }
	values := map[string]string{}
	for _, p := range gt.Params {
		switch {
		case len(p.Elements) > 0:
			var elements []galaxyDataset
			for _, e := range p.Elements {
				d := j.stage(t, testData(e.Value), filepath.Base(e.Value))
				d.Identifier = e.Name
				elements = append(elements, d)
			}
			j.Params[p.Name] = elements
		case p.Name == "input":
			j.Params[p.Name] = j.stage(t, testData(p.Value), p.Value)
		case galaxyInputType(g, p.Name) == "data":
			j.Params[p.Name] = j.stage(t, testData(p.Value), p.Value)
			values[p.Name] = abs(t, filepath.Join("..", "galaxy", "test-data", p.Value))
		default:
			j.Params[p.Name] = p.Value
			values[p.Name] = p.Value
		}
	}
	// Parameters the test leaves out take their defaults; booleans stand
	// for their truevalue or falsevalue, as Galaxy renders them.
	for _, in := range g.Inputs {
		v, given := values[in.Name]
		if in.Type != "boolean" {
			if !given && in.Type != "data" && in.Type != "data_collection" {
				values[in.Name] = in.Value
			}
			continue
		}
		if !given {
			v = in.Checked
		}
		values[in.Name] = in.FalseValue
		if v == "true" {
			values[in.Name] = in.TrueValue
		}
	}
	// What the test leaves out reaches Cheetah at its default too; a select
	// is left to render.py, which takes its selected option as Galaxy does.
	for _, in := range g.Inputs {
		if _, given := j.Params[in.Name]; given || in.Type == "data" || in.Type == "data_collection" || in.Type == "select" {
			continue
		}
		j.Params[in.Name] = in.Value
		if in.Type == "boolean" {
			j.Params[in.Name] = in.Checked
		}
	}
	for _, o := range g.Output {
		values[o.Name] = j.output(o.Name)
	}
	r := j.run(t, wrapper)
	want := 0
	if gt.ExpectExitCode != "" {
		fmt.Sscan(gt.ExpectExitCode, &want)
	}
	if r.code != want {
		t.Fatalf("exit %d, want %d: %s", r.code, want, r.stderr)
	}
	if v := strings.TrimSpace(string(mustRead(t, filepath.Join(j.Dir, "outputs", "COMMAND_VERSION")))); v != "dicom-remap "+toolVersion(t) {
		t.Errorf("the version command wrote %q", v)
	}
	var min, max int
	fmt.Sscan(values["min"], &min)
	fmt.Sscan(values["max"], &max)
	// directSeries runs series mode directly on the test's collection (its
	// elements' test data under their identifiers in series/, as the
	// wrapper stages them), with the job's options, once; it returns the
	// directory holding out/ and, with qc, qc.png.
	var seriesDir string
	directSeries := func() string {
		if seriesDir != "" {
			return seriesDir
		}
		seriesDir = t.TempDir()
		staged := filepath.Join(t.TempDir(), "series")
		for _, p := range gt.Params {
			for _, e := range p.Elements {
				write(t, filepath.Join(staged, e.Name), testData(e.Value))
			}
		}
		args := []string{"-q"}
		for _, name := range []string{"percentiles", "mask_below", "percentile_method", "related"} {
			if values[name] != "" {
				args = append(args, "--"+strings.ReplaceAll(name, "_", "-")+"="+values[name])
			}
		}
		if values["qc"] != "" {
			args = append(args, "--qc-file="+filepath.Join(seriesDir, "qc.png"))
		}
		args = append(args, staged, filepath.Join(seriesDir, "out"), values["min"], values["max"])
		if r := runCmd(t, "", binary, args...); r.code != 0 {
			t.Fatal(r.stderr)
		}
		return seriesDir
	}
	for _, o := range g.Output {
		if o.FromWorkDir != "" {
			// What Galaxy collects, when the output's filter keeps it.
			if data, err := os.ReadFile(filepath.Join(j.Dir, "working", o.FromWorkDir)); err == nil {
				write(t, values[o.Name], data)
			}
		}
	}
	for _, o := range gt.Outputs {
		if o.Checksum == "" {
			continue
		}
		out := mustRead(t, values[o.Name])
		sum := sha256.Sum256(out)
		if o.Checksum != "sha256$"+hex.EncodeToString(sum[:]) {
			t.Errorf("%s: checksum %x, the test declares %s", o.Name, sum, o.Checksum)
		}
		if o.Name == "output" && !bytes.Equal(out, directWith(t, sampleFile, min, max, galaxyOptions(g, values)...)) {
			t.Error("Galaxy-style output differs from the direct run")
		}
		if o.Name == "qc_picture" {
			// The series wrapper stages the slices in series/, as named in
			// test-data/series: the picture's title and files are the same.
			want := directQC(t, sampleFile, "input.dcm", min, max)
			if len(gt.Collections) > 0 {
				want = mustRead(t, filepath.Join(directSeries(), "qc.png"))
			}
			if !bytes.Equal(out, want) {
				t.Error("Galaxy-style picture differs from the direct run's")
			}
		}
	}
	for _, c := range gt.Collections {
		// What discover_datasets would collect, against a direct series run.
		found := j.discovered(t)
		if fmt.Sprint(len(found)) != c.Count {
			t.Fatalf("collection %s: %d datasets, the test expects %s", c.Name, len(found), c.Count)
		}
		series := filepath.Join(directSeries(), "out")
		for designation, f := range found {
			if !bytes.Equal(mustRead(t, f), mustRead(t, filepath.Join(series, designation+"-normalized.dcm"))) {
				t.Fatalf("%s differs from the direct series run", designation)
			}
		}
		if rec := mustRead(t, filepath.Join(j.Dir, "working", "remapped", "dicom-remap-provenance.json")); !strings.Contains(string(rec), `"mode": "series"`) {
			t.Error("the provenance record is not a series record")
		}
	}
}

// TestGalaxySeriesDataRegenerates: the committed Galaxy test series is
// what the project's generator writes, not data from elsewhere.
func TestGalaxySeriesDataRegenerates(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("go", "run", "./internal/fixture/gen", "-kind", "series", "-size", "16", "-n", "3", "-o", dir)
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen: %v\n%s", err, out)
	}
	for _, name := range []string{"IM0001", "IM0002", "IM0003"} {
		if !bytes.Equal(mustRead(t, filepath.Join(dir, name)), mustRead(t, filepath.Join("..", "galaxy", "test-data", "series", name))) {
			t.Errorf("galaxy/test-data/series/%s differs from the generator's output", name)
		}
	}
	// The key object selection on those slices, for --related.
	cmd = exec.Command("go", "run", "./internal/fixture/gen", "-kind", "key-object", "-n", "3", "-o", filepath.Join(dir, "KO0001"))
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen: %v\n%s", err, out)
	}
	if !bytes.Equal(mustRead(t, filepath.Join(dir, "KO0001")), mustRead(t, filepath.Join("..", "galaxy", "test-data", "related", "KO0001"))) {
		t.Error("galaxy/test-data/related/KO0001 differs from the generator's output")
	}
}
