package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// needCheetah skips (or in CI fails) a test when Debian's python3-cheetah,
// the template engine Galaxy uses, is missing.
func needCheetah(t testing.TB) {
	t.Helper()
	needFile(t, debianPython, "Debian python3")
	if err := exec.Command(debianPython, "-c", "import Cheetah.Template").Run(); err != nil {
		if required() {
			t.Fatal("python3-cheetah is required (DICOM_REMAP_REQUIRE_TOOLS=1) but not installed")
		}
		t.Skip("python3-cheetah not installed: skipping (CI installs it)")
	}
}

// galaxyDataset is one staged dataset as Galaxy's wrappers see it.
type galaxyDataset struct {
	Path       string `json:"path"`
	Identifier string `json:"identifier,omitempty"`
	Ext        string `json:"ext"`
	Name       string `json:"name"`
}

// galaxyJob is one job of a wrapper: its directories and parameters.
type galaxyJob struct {
	Dir      string // the job directory; the tool runs in Dir/working
	Datasets string // where datasets are staged under opaque names
	Params   map[string]any
	Outputs  map[string]string
	staged   int
}

func newGalaxyJob(t *testing.T) *galaxyJob {
	j := &galaxyJob{Dir: t.TempDir(), Datasets: t.TempDir(), Params: map[string]any{}, Outputs: map[string]string{}}
	os.MkdirAll(filepath.Join(j.Dir, "working"), 0o755)
	os.MkdirAll(filepath.Join(j.Dir, "outputs"), 0o755)
	return j
}

// stage copies data into the dataset store under an opaque name, as Galaxy
// keeps its datasets, and returns the dataset's wrapper fields.
func (j *galaxyJob) stage(t *testing.T, data []byte, name string) galaxyDataset {
	j.staged++
	p := write(t, filepath.Join(j.Datasets, fmt.Sprintf("dataset_%d.dat", j.staged)), data)
	return galaxyDataset{Path: p, Ext: "binary", Name: name}
}

// output names the file Galaxy would collect an output from.
func (j *galaxyJob) output(name string) string {
	j.staged++
	p := filepath.Join(j.Dir, "outputs", fmt.Sprintf("dataset_%d.dat", j.staged))
	j.Outputs[name] = p
	return p
}

// script renders wrapper's <command> with Cheetah through
// tests/galaxy/render.py and writes the job's tool_script.sh.
func (j *galaxyJob) script(t *testing.T, wrapper string) string {
	t.Helper()
	needCheetah(t)
	spec, err := json.Marshal(map[string]any{"params": j.Params, "outputs": j.Outputs,
		"version_file": filepath.Join(j.Dir, "outputs", "COMMAND_VERSION")})
	if err != nil {
		t.Fatal(err)
	}
	specFile := write(t, filepath.Join(j.Dir, "job.json"), spec)
	r := runCmd(t, "", debianPython, filepath.Join(repoRoot, "tests", "galaxy", "render.py"), abs(t, wrapper), specFile)
	if r.code != 0 {
		t.Fatalf("render.py %s: exit %d\n%s", wrapper, r.code, r.stderr)
	}
	return write(t, filepath.Join(j.Dir, "tool_script.sh"), []byte(r.stdout))
}

// run runs tool_script.sh with /bin/sh in the working directory, as
// Galaxy's job script does.
func (j *galaxyJob) run(t *testing.T, wrapper string) result {
	t.Helper()
	script := j.script(t, wrapper)
	return runIn(t, filepath.Join(j.Dir, "working"), withBinaryOnPath(), "/bin/sh", script)
}

// discovered returns what the series wrapper's discover_datasets collects:
// designation to file, from working/remapped.
func (j *galaxyJob) discovered(t *testing.T) map[string]string {
	t.Helper()
	pattern := regexp.MustCompile(`^(?P<designation>.+)-normalized\.dcm$`)
	found := map[string]string{}
	entries, _ := os.ReadDir(filepath.Join(j.Dir, "working", "remapped"))
	for _, e := range entries {
		if m := pattern.FindStringSubmatch(e.Name()); m != nil {
			found[m[1]] = filepath.Join(j.Dir, "working", "remapped", e.Name())
		}
	}
	return found
}

// TestGalaxyHostileIdentifiers: Galaxy passes element identifiers through
// unsanitised. Identifiers that would break a quoted command, escape the
// directory or run commands must each give one safely named output with
// the bytes of a direct run, and run nothing.
func TestGalaxyHostileIdentifiers(t *testing.T) {
	wrapper := filepath.Join("..", "galaxy", "dicom_remap_series.xml")
	identifiers := []string{
		"a'b", "x/y", "sp ace", "$(touch pwned)", "`touch pwned`", "a_b", "..", ".hidden",
		"-rf", "IM.DCM", "IM", `back\slash"quote`, "semi;colon&&touch pwned", "new\nline", "ünï", "plain-1.0",
	}
	in, _, _ := makeSeries(t, len(identifiers), 16)
	var files []string
	filepath.Walk(in, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasPrefix(info.Name(), "IM") {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	// A key object selection on slices 1 to 3, linked (--related link):
	// its identifier names its copy as the slices' name theirs.
	ko := mustRead(t, filepath.Join("..", "galaxy", "test-data", "related", "KO0001"))
	identifiers = append(identifiers, "ko'$(touch pwned).dcm")
	// The direct run on the same files under plain names.
	flat := t.TempDir()
	for i, f := range files {
		write(t, filepath.Join(flat, fmt.Sprintf("s%02d", i)), mustRead(t, f))
	}
	write(t, filepath.Join(flat, fmt.Sprintf("s%02d", len(files))), ko)
	direct := filepath.Join(t.TempDir(), "direct")
	if r := runCmd(t, "", binary, "-q", "--related", "link", flat, direct, "0", "1000"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	want := map[string]int{} // output sha256 -> element index
	for i := range identifiers {
		want[sha(t, filepath.Join(direct, fmt.Sprintf("s%02d-normalized.dcm", i)))] = i
	}

	j := newGalaxyJob(t)
	var elements []galaxyDataset
	for i, f := range append(files, "") {
		data := ko
		if f != "" {
			data = mustRead(t, f)
		}
		d := j.stage(t, data, identifiers[i])
		d.Identifier = identifiers[i]
		elements = append(elements, d)
	}
	j.Params["input"] = elements
	j.Params["min"], j.Params["max"] = 0, 1000
	j.Params["related"] = "link"
	j.output("provenance")
	r := j.run(t, wrapper)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\nscript:\n%s", r.code, r.stderr, mustRead(t, filepath.Join(j.Dir, "tool_script.sh")))
	}
	// No command ran from an identifier, anywhere the job could write.
	for _, dir := range []string{j.Dir, j.Datasets, filepath.Dir(j.Dir)} {
		matches, _ := filepath.Glob(filepath.Join(dir, "*pwned*"))
		deep, _ := filepath.Glob(filepath.Join(dir, "*", "*pwned*"))
		if len(matches)+len(deep) > 0 {
			t.Fatalf("an identifier ran a command: %v %v", matches, deep)
		}
	}
	found := j.discovered(t)
	if len(found) != len(identifiers) {
		t.Fatalf("%d outputs for %d elements: %v", len(found), len(identifiers), found)
	}
	safe := regexp.MustCompile(`^[\p{L}\p{N}_][\p{L}\p{N}_.-]*$`)
	seen := map[int]string{}
	for designation, path := range found {
		if !safe.MatchString(designation) {
			t.Errorf("output named %q", designation)
		}
		i, ok := want[sha(t, path)]
		if !ok {
			t.Errorf("%s: bytes of no direct output", designation)
			continue
		}
		if prev, dup := seen[i]; dup {
			t.Errorf("%s and %s are both slice %d", prev, designation, i)
		}
		seen[i] = designation
	}
	// Identifiers that are already safe names keep them.
	for i, id := range identifiers {
		if id == "plain-1.0" || id == "ünï" {
			if seen[i] != id {
				t.Errorf("identifier %q became %q", id, seen[i])
			}
		}
	}
	if got := seen[len(identifiers)-1]; got != "ko___touch_pwned_" {
		t.Errorf("the key object's copy is named %q", got)
	}
	if !bytes.Contains(mustRead(t, filepath.Join(j.Dir, "working", "remapped", "dicom-remap-provenance.json")), []byte(`"mode": "series"`)) {
		t.Error("no series provenance record")
	}
}
