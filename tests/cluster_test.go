package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// atExit holds what TestMain undoes after the tests, such as daemons a
// test started.
var atExit []func()

var (
	slurmOnce sync.Once
	slurmErr  string
)

// needSlurm makes sure a Slurm cluster answers: the one SLURM_CONF names
// (.ci/run starts one with tests/slurm/cluster.sh), or, as root, a
// one-node cluster this test run starts and stops.
func needSlurm(t *testing.T) {
	t.Helper()
	need(t, "sbatch")
	slurmOnce.Do(func() {
		if runCmd(t, "", "sinfo", "-h").code == 0 {
			return
		}
		if os.Getuid() != 0 || !haveTools("slurmctld", "slurmd", "munged") {
			slurmErr = "no Slurm cluster answers (SLURM_CONF), and none can be started here"
			return
		}
		state, err := os.MkdirTemp("", "dicom-remap-slurm-")
		if err != nil {
			slurmErr = err.Error()
			return
		}
		env := append(os.Environ(), "DICOM_REMAP_SLURM_STATE="+state)
		stop := func() { runIn(t, repoRoot, env, "bash", "tests/slurm/cluster.sh", "stop"); os.RemoveAll(state) }
		r := runIn(t, repoRoot, env, "bash", "tests/slurm/cluster.sh", "start")
		conf, ok := strings.CutPrefix(strings.TrimSpace(r.stdout), "export SLURM_CONF=")
		if r.code != 0 || !ok {
			stop()
			slurmErr = "tests/slurm/cluster.sh start: " + r.stderr
			return
		}
		os.Setenv("SLURM_CONF", conf)
		atExit = append(atExit, stop)
	})
	if slurmErr == "" {
		return
	}
	if required() {
		t.Fatal(slurmErr)
	}
	t.Skip(slurmErr + ": skipping (CI starts one with tests/slurm/cluster.sh)")
}

// slurmJobs returns the names of the Slurm jobs submitted from dir (Toil
// submits from its working directory), by job id. Finished jobs stay
// listed for MinJobAge, 300 s by default.
func slurmJobs(t *testing.T, dir string) map[string]string {
	r := runCmd(t, "", "squeue", "-h", "-t", "all", "-o", "%i %Z %j")
	if r.code != 0 {
		t.Fatalf("squeue: %s", r.stderr)
	}
	jobs := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[1] == dir {
			jobs[f[0]] = f[2]
		}
	}
	return jobs
}

// readmeToil returns README's toil-cwl-runner command and the job file
// its heredoc writes (study.yml).
func readmeToil(t *testing.T) (command, studyYAML string) {
	t.Helper()
	lines := readmeCommands(t, "toil-cwl-runner ")
	if len(lines) != 1 || !strings.HasSuffix(lines[0], " cwl/dicom-remap-study.cwl study.yml") {
		t.Fatalf("README's toil-cwl-runner commands: %q", lines)
	}
	if len(readmeCommands(t, "mkdir -p toil-tmp")) != 1 {
		t.Fatal("README does not make the --workDir toil-tmp")
	}
	readme := readRepoFile(t, "README.md")
	_, rest, ok := strings.Cut(readme, "    cat > study.yml <<'YML'\n")
	body, _, ok2 := strings.Cut(rest, "\n    YML\n")
	if !ok || !ok2 {
		t.Fatal("README has no study.yml heredoc")
	}
	var yaml []string
	for _, l := range strings.Split(body, "\n") {
		yaml = append(yaml, strings.TrimPrefix(l, "    "))
	}
	return lines[0], strings.Join(yaml, "\n") + "\n"
}

// toilSlurm runs README's Toil-on-Slurm command in work (which holds
// study.yml and what it names; cwl/ is linked there), with workflow in
// place of the study workflow, and returns the result and the names of the
// Slurm jobs it submitted. The outputs are in work/out.
func toilSlurm(t *testing.T, work, workflow string) (result, []string) {
	t.Helper()
	need(t, "toil-cwl-runner")
	needSlurm(t)
	command, _ := readmeToil(t)
	command = strings.TrimSuffix(command, "cwl/dicom-remap-study.cwl study.yml") + "cwl/" + workflow + " study.yml"
	if err := os.Symlink(filepath.Join(repoRoot, "cwl"), filepath.Join(work, "cwl")); err != nil {
		t.Fatal(err)
	}
	// Toil submits with --export=ALL: the jobs find dicom-remap on PATH.
	r := runIn(t, work, withBinaryOnPath(), "/bin/sh", "-c", "mkdir -p toil-tmp && "+command)
	var submitted []string
	for _, name := range slurmJobs(t, work) {
		submitted = append(submitted, name)
	}
	sort.Strings(submitted)
	return r, submitted
}

// cwlOutput is a File or Directory in a CWL runner's output object. Toil
// gives only its location, a file: URL.
type cwlOutput struct{ Location, Path, Basename, Format string }

func (o cwlOutput) path(t *testing.T) string {
	t.Helper()
	if o.Path != "" {
		return o.Path
	}
	u, err := url.Parse(o.Location)
	if err != nil || u.Scheme != "file" {
		t.Fatalf("output location %q is not a local file", o.Location)
	}
	return u.Path
}

// TestToilSlurmStudyWorkflow runs the study workflow with Toil on Slurm on
// several series: one Slurm job per series, and each series' outputs
// byte-identical to `dicom-remap SERIESDIR OUT MIN MAX`.
func TestToilSlurmStudyWorkflow(t *testing.T) {
	t.Parallel() // mostly waiting on Toil and Slurm
	work := t.TempDir()
	_, studyYAML := readmeToil(t)
	write(t, filepath.Join(work, "study.yml"), []byte(studyYAML))
	var dirs []string
	for i, n := range []int{3, 5, 4} {
		in, _, _ := makeSeries(t, n, 16+8*i)
		dir := filepath.Join(work, "study", fmt.Sprintf("series-%d", i+1))
		os.MkdirAll(filepath.Dir(dir), 0o755)
		if err := os.Rename(in, dir); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	r, submitted := toilSlurm(t, work, "dicom-remap-study.cwl")
	if r.code != 0 {
		t.Fatalf("toil-cwl-runner: exit %d\n%s", r.code, r.stderr)
	}
	perSeries := 0
	for _, name := range submitted {
		if strings.HasSuffix(name, ".dicom-remap-dir") {
			perSeries++
		}
	}
	if perSeries != len(dirs) {
		t.Errorf("%d Slurm jobs ran the directory tool for %d series: %v", perSeries, len(dirs), submitted)
	}
	var result struct {
		Normalized []cwlOutput
		Provenance []cwlOutput
	}
	if err := json.Unmarshal([]byte(r.stdout), &result); err != nil {
		t.Fatalf("toil output: %v\n%s", err, r.stdout)
	}
	if len(result.Normalized) != len(dirs) || len(result.Provenance) != len(dirs) {
		t.Fatalf("%d directories and %d provenance records for %d series", len(result.Normalized), len(result.Provenance), len(dirs))
	}
	for i, d := range dirs {
		if want := filepath.Base(d) + "-normalized"; result.Normalized[i].Basename != want {
			t.Errorf("output %d is %s, want %s", i, result.Normalized[i].Basename, want)
		}
		checkSeriesOutputs(t, d, result.Normalized[i].path(t), -1024, 3071) // README's study.yml
		if rec := readProvenance(t, filepath.Dir(result.Provenance[i].path(t))); rec.Mode != "series" || len(rec.Series) != 1 {
			t.Errorf("provenance of %s: mode %q, %d series", d, rec.Mode, len(rec.Series))
		}
	}
}

// checkSeriesOutputs compares a workflow's output directory for one series
// with the direct series-mode run on it, file by file (the provenance
// records differ: they name the paths).
func checkSeriesOutputs(t *testing.T, in, got string, min, max int) {
	t.Helper()
	direct := filepath.Join(t.TempDir(), "direct")
	if r := runCmd(t, "", binary, "-q", in, direct, fmt.Sprint(min), fmt.Sprint(max)); r.code != 0 {
		t.Fatal(r.stderr)
	}
	have, want := outputs(t, got), outputs(t, direct)
	delete(have, "dicom-remap-provenance.json")
	delete(want, "dicom-remap-provenance.json")
	if len(have) != len(want) || len(want) == 0 {
		t.Fatalf("%s: %d outputs, the direct run %d", filepath.Base(in), len(have), len(want))
	}
	for name, data := range want {
		if !bytes.Equal(have[name], data) {
			t.Fatalf("%s: %s differs from the direct series run", filepath.Base(in), name)
		}
	}
}

// TestToilSlurmSeriesWorkflow runs the per-slice scatter/reduce/scatter
// workflow with Toil on Slurm and requires the bytes of series mode.
func TestToilSlurmSeriesWorkflow(t *testing.T) {
	t.Parallel() // mostly waiting on Toil and Slurm
	in, _, _ := makeSeries(t, 3, 16)
	files, _ := filepath.Glob(filepath.Join(in, "IM*"))
	more, _ := filepath.Glob(filepath.Join(in, "*", "IM*"))
	files = append(files, more...)
	flat := t.TempDir()
	var images []string
	for _, f := range files {
		images = append(images, fmt.Sprintf("{class: File, path: %q}", write(t, filepath.Join(flat, filepath.Base(f)), mustRead(t, f))))
	}
	series := filepath.Join(t.TempDir(), "series")
	if r := runCmd(t, "", binary, "-q", flat, series, "0", "1000"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	work := t.TempDir()
	write(t, filepath.Join(work, "study.yml"), []byte(fmt.Sprintf("images: [%s]\nmin: 0\nmax: 1000\n", strings.Join(images, ", "))))
	r, submitted := toilSlurm(t, work, "dicom-remap-series.cwl")
	if r.code != 0 {
		t.Fatalf("toil-cwl-runner: exit %d\n%s", r.code, r.stderr)
	}
	if len(submitted) < 2*len(files)+1 {
		t.Errorf("%d Slurm jobs for %d slices: %v", len(submitted), len(files), submitted)
	}
	var result struct{ Normalized []cwlOutput }
	if err := json.Unmarshal([]byte(r.stdout), &result); err != nil {
		t.Fatalf("toil output: %v\n%s", err, r.stdout)
	}
	if len(result.Normalized) != len(files) {
		t.Fatalf("%d outputs for %d slices", len(result.Normalized), len(files))
	}
	for _, o := range result.Normalized {
		if !bytes.Equal(mustRead(t, o.path(t)), mustRead(t, filepath.Join(series, o.Basename))) {
			t.Fatalf("%s: Toil-on-Slurm output differs from series mode", o.Basename)
		}
	}
}

// TestToilSlurmRejectedSeries: a series with a corrupt file fails the run
// once (exit 3 is a permanent failure: no retry) and leaves no outputs.
func TestToilSlurmRejectedSeries(t *testing.T) {
	t.Parallel() // mostly waiting on Toil and Slurm
	in, _, _ := makeSeries(t, 3, 16)
	good := mustRead(t, filepath.Join(in, "IM0001"))
	write(t, filepath.Join(in, "IM0002"), good[:len(good)-100]) // truncated pixel data
	work := t.TempDir()
	write(t, filepath.Join(work, "study.yml"), []byte(fmt.Sprintf("series: [{class: Directory, path: %q}]\nmin: 0\nmax: 100\n", in)))
	outdir := filepath.Join(work, "out")
	r, submitted := toilSlurm(t, work, "dicom-remap-study.cwl")
	if r.code == 0 {
		t.Fatal("toil-cwl-runner succeeded on a corrupt series")
	}
	if !strings.Contains(r.stderr, "permanentFail") {
		t.Errorf("the failure is not permanent:\n%s", r.stderr)
	}
	runs := 0
	for _, name := range submitted {
		if strings.HasSuffix(name, ".dicom-remap-dir") {
			runs++
		}
	}
	if runs != 1 {
		t.Errorf("the directory tool ran %d times (retried?): %v", runs, submitted)
	}
	if found, _ := filepath.Glob(filepath.Join(outdir, "*", "*-normalized.dcm")); len(found) > 0 {
		t.Errorf("a failed run left outputs: %v", found)
	}
}
