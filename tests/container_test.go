package tests

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dicom-remap/dicom-remap/descriptor"
)

// toolVersion is what the built binary reports: the version every
// container file must carry.
func toolVersion(t *testing.T) string {
	r := runCmd(t, "", binary, "--version")
	v, ok := strings.CutPrefix(strings.TrimSpace(r.stdout), "dicom-remap ")
	if r.code != 0 || !ok {
		t.Fatalf("--version: %q", r.stdout)
	}
	return v
}

const imageRepository = "dicom-remap/dicom-remap"

func imageName(t *testing.T) string { return imageRepository + ":" + toolVersion(t) }

func readRepoFile(t *testing.T, name string) string {
	data, err := os.ReadFile(filepath.Join(repoRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestDockerignoreKeepsEveryPackage: every package the two binaries build
// from is in the Docker build context. The legacy builder enters a
// directory that "*" excludes only for an exception naming it.
func TestDockerignoreKeepsEveryPackage(t *testing.T) {
	ignore := readRepoFile(t, ".dockerignore")
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if .Module}}{{if .Module.Main}}{{.Dir}}{{end}}{{end}}", "./cmd/dicom-remap", "./cmd/dicom-remap-qc")
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range strings.Fields(string(out)) {
		rel, _ := filepath.Rel(repoRoot, dir)
		if line := "!" + filepath.ToSlash(rel) + "/*.go"; !strings.Contains(ignore, line+"\n") {
			t.Errorf(".dockerignore lacks %q: the image build would miss package %s", line, rel)
		}
	}
}

// TestDockerfileContract checks what hadolint and the engines would: no
// syntax line, no ENTRYPOINT, a non-root USER, OCI labels, the version, the
// base images the CI makes.
func TestDockerfileContract(t *testing.T) {
	df := readRepoFile(t, "Dockerfile")
	version := toolVersion(t)
	var froms, users []string
	for _, line := range strings.Split(df, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		switch strings.ToUpper(fields[0]) {
		case "FROM":
			froms = append(froms, fields[1])
		case "USER":
			users = append(users, fields[1])
		case "ENTRYPOINT":
			t.Error("ENTRYPOINT: engines append their own command")
		case "ADD":
			t.Error("ADD: use COPY")
		}
		if regexp.MustCompile(`^#\s*syntax\s*=`).MatchString(line) {
			t.Error("a # syntax= line makes the builder pull a frontend")
		}
		if strings.HasPrefix(line, "FROM") && strings.Contains(line, ":latest") {
			t.Error("unpinned base image")
		}
	}
	if strings.Join(froms, " ") != "golang:1.26-bookworm debian:bookworm-slim" {
		t.Errorf("FROM lines %v: tests/docker/setup.sh knows how to make golang:*-bookworm and debian:bookworm-slim", froms)
	}
	if len(users) != 1 || strings.HasPrefix(users[0], "0") || strings.HasPrefix(users[0], "root") {
		t.Errorf("USER %v: want one non-root user", users)
	}
	if n := strings.Count(df, "ARG VERSION="+version+"\n"); n != 2 {
		t.Errorf("ARG VERSION=%s appears %d times, want once per stage", version, n)
	}
	for _, label := range []string{"title", "description", "version", "source", "licenses", "revision"} {
		if !strings.Contains(df, "org.opencontainers.image."+label+"=") {
			t.Errorf("missing label org.opencontainers.image.%s", label)
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "SOURCE_DATE_EPOCH", "/usr/local/bin/dicom-remap"} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %s", want)
		}
	}
	if _, err := os.Stat(filepath.Join(repoRoot, ".dockerignore")); err != nil {
		t.Error("no .dockerignore")
	}
}

// TestSingularityDefStructure checks what `apptainer build` would read:
// header, sections, and the image and version everything else uses.
func TestSingularityDefStructure(t *testing.T) {
	def := readRepoFile(t, "Singularity.def")
	version := toolVersion(t)
	header := map[string]string{}
	sections := map[string]string{}
	current := ""
	sc := bufio.NewScanner(strings.NewReader(def))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "%"):
			current = strings.Fields(line)[0]
			sections[current] = ""
		case current != "":
			sections[current] += line + "\n"
		case strings.HasPrefix(strings.TrimSpace(line), "#") || strings.TrimSpace(line) == "":
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				t.Errorf("header line %q is not Key: value", line)
			}
			header[k] = strings.TrimSpace(v)
		}
	}
	if header["Bootstrap"] != "docker" || header["From"] != imageName(t) {
		t.Errorf("header %v, want Bootstrap: docker, From: %s", header, imageName(t))
	}
	for _, s := range []string{"%help", "%runscript", "%test"} {
		if strings.TrimSpace(sections[s]) == "" {
			t.Errorf("section %s missing or empty", s)
		}
	}
	// The image's OCI labels reach the SIF; the same labels again in
	// %labels make apptainer build warn.
	if _, ok := sections["%labels"]; ok {
		t.Error("%labels repeats the image's OCI labels")
	}
	if !strings.Contains(sections["%test"], "'dicom-remap "+version+"'") {
		t.Errorf("%%test does not check version %s", version)
	}
	if !strings.Contains(sections["%runscript"], `exec /usr/local/bin/dicom-remap "$@"`) {
		t.Error("%runscript does not pass its arguments through")
	}
	if !strings.Contains(def, "docker-daemon://"+imageName(t)) {
		t.Error("the docker-daemon variant is not documented")
	}
}

var (
	imageOnce sync.Once
	imageErr  error
	imageLog  string
)

// needImage makes sure a Docker engine answers (starting the private one
// with tests/docker/setup.sh where it can) and builds the image from the
// repository's Dockerfile, unmodified, once per test run.
func needImage(t *testing.T) string {
	t.Helper()
	docker := need(t, "docker")
	if exec.Command(docker, "version").Run() != nil {
		if os.Getuid() == 0 && haveTools("dockerd", "mmdebstrap") {
			r := runCmd(t, repoRoot, "bash", "tests/docker/setup.sh")
			if host, ok := strings.CutPrefix(strings.TrimSpace(r.stdout), "export DOCKER_HOST="); ok && r.code == 0 {
				os.Setenv("DOCKER_HOST", host)
			} else {
				t.Fatalf("tests/docker/setup.sh: %s", r.stderr)
			}
		} else if required() {
			t.Fatal("no Docker engine answers and none can be started here")
		} else {
			t.Skip("no Docker engine: skipping (CI starts one with tests/docker/setup.sh)")
		}
	}
	image := imageName(t)
	imageOnce.Do(func() {
		// No registry here: the base images come from setup.sh, and the
		// build stage reaches the Go module proxy through the host network.
		cmd := exec.Command(docker, "build", "--network", "host", "-t", image, "--build-arg", "REVISION=test", ".")
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
		out, err := cmd.CombinedOutput()
		imageErr, imageLog = err, string(out)
	})
	if imageErr != nil {
		t.Fatalf("docker build: %v\n%s", imageErr, imageLog)
	}
	return image
}

func haveTools(names ...string) bool {
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			return false
		}
	}
	return true
}

// dockerRun runs a container that may not pull and returns the result.
func dockerRun(t *testing.T, args ...string) result {
	t.Helper()
	return runCmd(t, "", "docker", append([]string{"run", "--rm", "--pull=never"}, args...)...)
}

// sharedDir makes a directory any uid in a container can write to.
func sharedDir(t *testing.T) string {
	d := t.TempDir()
	if err := os.Chmod(d, 0o777); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestContainerPaperCommand runs the paper's command, and the locked-down
// form every engine uses, and requires the native bytes.
func TestContainerPaperCommand(t *testing.T) {
	image := needImage(t)
	work := t.TempDir()
	myfile := write(t, filepath.Join(work, "myfile.dcm"), mustRead(t, sampleFile))
	want := nativeOutput(t, myfile, "infile", 0, 100)
	for name, extra := range map[string][]string{
		"paper":     nil,
		"locked":    {"--read-only", "--network", "none", "--user", "12345:12345"},
		"no-passwd": {"--read-only", "--network", "none", "--user", "4242:4242", "-e", "HOME=/nonexistent"},
	} {
		t.Run(name, func(t *testing.T) {
			out := sharedDir(t)
			args := append(append([]string{}, extra...), "-v", myfile+":/infile.dcm:ro", "-v", out+":/mnt/vout", image,
				"dicom-remap", "/infile.dcm", "/mnt/vout", "0", "100")
			r := dockerRun(t, args...)
			if r.code != 0 {
				t.Fatalf("docker run: exit %d: %s", r.code, r.stderr)
			}
			if got := mustRead(t, filepath.Join(out, "infile-normalized.dcm")); !bytes.Equal(got, want) {
				t.Fatal("container output differs from the native run")
			}
		})
	}
	// Exit codes cross the container boundary unchanged.
	r := dockerRun(t, "-v", myfile+":/infile.dcm:ro", image, "dicom-remap", "/infile.dcm", "/tmp/o", "5", "5")
	if r.code != 2 {
		t.Errorf("MIN = MAX in the container: exit %d, want 2", r.code)
	}
}

// TestContainerCompressed runs the image on one file of each decoded syntax
// and requires the native bytes.
func TestContainerCompressed(t *testing.T) {
	image := needImage(t)
	for _, in := range compressedSamples(t, t.TempDir()) {
		t.Run(filepath.Base(in), func(t *testing.T) {
			out := sharedDir(t)
			r := dockerRun(t, "--read-only", "--network", "none", "--user", "12345:12345", "-v", in+":/infile.dcm:ro",
				"-v", out+":/mnt/vout", image, "dicom-remap", "/infile.dcm", "/mnt/vout", "0", "200")
			if r.code != 0 {
				t.Fatalf("docker run: exit %d: %s", r.code, r.stderr)
			}
			if !bytes.Equal(mustRead(t, filepath.Join(out, "infile-normalized.dcm")), nativeOutput(t, in, "infile", 0, 200)) {
				t.Fatal("container output differs from the native run")
			}
		})
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// nativeOutput runs the native binary on input as if it were named name and
// returns the output bytes.
func nativeOutput(t *testing.T, input, name string, min, max int) []byte {
	t.Helper()
	dir := t.TempDir()
	in := write(t, filepath.Join(dir, name+".dcm"), mustRead(t, input))
	out := filepath.Join(dir, "out")
	if r := runCmd(t, "", binary, in, out, fmt.Sprint(min), fmt.Sprint(max)); r.code != 0 {
		t.Fatalf("native: %s", r.stderr)
	}
	return mustRead(t, filepath.Join(out, name+"-normalized.dcm"))
}

// TestContainerBinaryReproducible: the image's binary is byte-identical to
// a native build with the Dockerfile's flags, and reports the version.
func TestContainerBinaryReproducible(t *testing.T) {
	image := needImage(t)
	version := toolVersion(t)
	native := filepath.Join(t.TempDir(), "dicom-remap")
	build := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w -buildid= -X main.Version="+version, "-o", native, "./cmd/dicom-remap")
	build.Dir = repoRoot
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("native build: %v\n%s", err, out)
	}
	inImage := filepath.Join(t.TempDir(), "from-image")
	cmd := exec.Command("docker", "run", "--rm", "--pull=never", "--entrypoint", "cat", image, "/usr/local/bin/dicom-remap")
	data, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(inImage, data, 0o755)
	if sha(t, native) != sha(t, inImage) {
		t.Fatalf("image binary %s differs from the native build %s", sha(t, inImage), sha(t, native))
	}
	// SOURCE_DATE_EPOCH (0 by default) sets the file times in the image.
	if r := dockerRun(t, "--entrypoint", "stat", image, "-c", "%Y", "/usr/local/bin/dicom-remap"); strings.TrimSpace(r.stdout) != "0" {
		t.Errorf("binary mtime %q, want SOURCE_DATE_EPOCH 0: %s", r.stdout, r.stderr)
	}
	r := dockerRun(t, image, "dicom-remap", "--version")
	if strings.TrimSpace(r.stdout) != "dicom-remap "+version {
		t.Errorf("container --version: %q", r.stdout)
	}
	for _, sh := range []string{"/bin/sh", "/bin/bash"} {
		if r := dockerRun(t, "--entrypoint", sh, image, "-c", "true"); r.code != 0 {
			t.Errorf("%s missing in the image", sh)
		}
	}
	if r := dockerRun(t, image); r.code != 0 || !strings.Contains(r.stdout, "usage: dicom-remap") {
		t.Errorf("the default command does not print the usage: %d %s", r.code, r.stderr)
	}
}

// TestContainerImageSize reports the size and holds the budget: the image
// adds at most 20 MB to its base (dicom-remap, about 7 MB, and
// dicom-remap-qc, about 10 MB: gonum/plot brings its fonts and every
// output format it knows).
func TestContainerImageSize(t *testing.T) {
	image := needImage(t)
	size := func(name string) int64 {
		out, err := exec.Command("docker", "image", "inspect", "--format", "{{.Size}}", name).Output()
		if err != nil {
			t.Fatalf("inspect %s: %v", name, err)
		}
		n, _ := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
		return n
	}
	img, base := size(image), size("debian:bookworm-slim")
	added := img - base
	t.Logf("image %s: %.1f MB, base debian:bookworm-slim %.1f MB, added %.2f MB", image, float64(img)/1e6, float64(base)/1e6, float64(added)/1e6)
	if added > 20e6 {
		t.Errorf("the image adds %.1f MB to its base, budget 20 MB", float64(added)/1e6)
	}
}

// TestContainerCWL runs the CWL tool with its DockerRequirement.
func TestContainerCWL(t *testing.T) {
	needImage(t)
	cwltool := need(t, "cwltool")
	work := t.TempDir()
	job := cwlJob(t, work, sampleFile, -1024, 3071)
	outdir := filepath.Join(work, "out")
	r := runIn(t, work, os.Environ(), cwltool, "--outdir", outdir, abs(t, cwlFile), job)
	if r.code != 0 {
		t.Fatalf("cwltool: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "docker") || !strings.Contains(r.stderr, imageName(t)) {
		t.Fatalf("cwltool did not use the image:\n%s", r.stderr)
	}
	if !bytes.Equal(mustRead(t, filepath.Join(outdir, "sample-ct-normalized.dcm")), direct(t, sampleFile, -1024, 3071)) {
		t.Fatal("cwltool container output differs from the direct run")
	}
}

// TestContainerQC draws the --qc picture in the container, locked down as
// engines run it, and requires the native bytes.
func TestContainerQC(t *testing.T) {
	image := needImage(t)
	work := t.TempDir()
	myfile := write(t, filepath.Join(work, "myfile.dcm"), mustRead(t, sampleFile))
	out := sharedDir(t)
	r := dockerRun(t, "--read-only", "--network", "none", "--user", "12345:12345", "-v", myfile+":/infile.dcm:ro", "-v", out+":/mnt/vout",
		image, "dicom-remap", "--qc", "/infile.dcm", "/mnt/vout", "0", "100")
	if r.code != 0 {
		t.Fatalf("docker run: exit %d: %s", r.code, r.stderr)
	}
	if !bytes.Equal(mustRead(t, filepath.Join(out, "infile-qc.png")), directQC(t, sampleFile, "infile.dcm", 0, 100)) {
		t.Fatal("container picture differs from the native run's")
	}
}

// TestContainerBoutiquesStyle runs the Boutiques command line as bosh and
// CBRAIN do: a script run by /bin/sh in the container, the work directory
// mounted at the same path, any uid, no network.
func TestContainerBoutiquesStyle(t *testing.T) {
	image := needImage(t)
	b, _, err := descriptor.LoadBoutiques(boutiquesFile)
	if err != nil {
		t.Fatal(err)
	}
	dir := boutiquesWorkdir(t)
	os.Chmod(dir, 0o777)
	cmd, outputs, err := b.Invocation(readInvocation(t))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "dicom-remap.sh"), []byte("#!/bin/sh\n"+cmd+"\n"))
	r := dockerRun(t, "--entrypoint", "/bin/sh", "-w", dir, "-v", dir+":"+dir, "--user", "12345:12345", "--read-only",
		"--network", "none", image, filepath.Join(dir, "dicom-remap.sh"))
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !bytes.Equal(mustRead(t, filepath.Join(dir, outputs["normalized_image"])), direct(t, sampleFile, -1024, 3071)) {
		t.Fatal("Boutiques-style container output differs from the direct run")
	}
	// CBRAIN's Apptainer wrapper is a bash script.
	if r := dockerRun(t, "--entrypoint", "/bin/bash", "-w", dir, "-v", dir+":"+dir, "--user", "12345:12345", image,
		"-c", "dicom-remap --force --min=0 --max=1 --output-dir=b -- testdata/sample-ct.dcm"); r.code != 0 {
		t.Fatalf("bash in the container: %s", r.stderr)
	}
}

// TestContainerGalaxyStyle runs the Galaxy job script, rendered with
// Cheetah, as Galaxy's Docker runner does: /bin/sh tool_script.sh in the
// job's working directory, with the datasets mounted and a non-root uid.
func TestContainerGalaxyStyle(t *testing.T) {
	image := needImage(t)
	j := newGalaxyJob(t)
	j.Params["input"] = j.stage(t, mustRead(t, sampleFile), "sample-ct.dcm")
	j.Params["min"], j.Params["max"] = 0, 100
	// The optional parameters at their defaults (empty), with the
	// quality-control picture, which Galaxy collects from the working
	// directory (from_work_dir).
	j.Params["percentiles"], j.Params["mask_below"], j.Params["qc"] = "", "", "true"
	output := j.output("output")
	script := j.script(t, galaxyFile)
	for _, d := range []string{j.Dir, filepath.Join(j.Dir, "working"), filepath.Join(j.Dir, "outputs")} {
		os.Chmod(d, 0o777)
	}
	r := dockerRun(t, "--entrypoint", "/bin/sh", "-v", j.Datasets+":"+j.Datasets+":ro", "-v", j.Dir+":"+j.Dir,
		"-w", filepath.Join(j.Dir, "working"), "--user", "12345:12345", "--network", "none", image, script)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !bytes.Equal(mustRead(t, output), direct(t, sampleFile, 0, 100)) {
		t.Fatal("Galaxy container output differs from the direct run")
	}
	if !bytes.Equal(mustRead(t, filepath.Join(j.Dir, "working", "qc.png")), directQC(t, sampleFile, "input.dcm", 0, 100)) {
		t.Fatal("Galaxy-style container picture differs from the direct run's")
	}
}

// TestSingularityTestSection runs the Singularity.def %test and %runscript
// bodies inside the Docker image with /bin/sh: a quick check where
// Apptainer is missing (apptainer_test.go runs them under Apptainer).
func TestSingularityTestSection(t *testing.T) {
	image := needImage(t)
	def := readRepoFile(t, "Singularity.def")
	section := func(name string) string {
		_, rest, _ := strings.Cut(def, "\n"+name+"\n")
		body, _, _ := strings.Cut(rest, "\n%")
		return body
	}
	if r := dockerRun(t, "--read-only", "--tmpfs", "/tmp", "--user", "12345:12345", "--entrypoint", "/bin/sh", image, "-c", section("%test")); r.code != 0 {
		t.Fatalf("%%test failed: %s%s", r.stdout, r.stderr)
	}
	r := dockerRun(t, "--entrypoint", "/bin/sh", image, "-c", section("%runscript"), "runscript", "--version")
	if strings.TrimSpace(r.stdout) != "dicom-remap "+toolVersion(t) {
		t.Fatalf("%%runscript --version: %q %s", r.stdout, r.stderr)
	}
}
