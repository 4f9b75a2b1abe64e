package tests

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// apptainerPrefix is where tests/apptainer/install.sh puts Apptainer.
const apptainerPrefix = "/opt/apptainer"

// needApptainer returns the apptainer command (on PATH, or where
// tests/apptainer/install.sh installs it) and the environment to run it in.
func needApptainer(t *testing.T) (string, []string) {
	t.Helper()
	bin, err := exec.LookPath("apptainer")
	if err != nil {
		bin = needFile(t, filepath.Join(apptainerPrefix, "bin", "apptainer"), "apptainer (tests/apptainer/install.sh builds it)")
	}
	return bin, apptainerEnv(t)
}

var (
	apptainerCacheOnce sync.Once
	apptainerCache     string
)

// apptainerEnv is this process's environment plus a cache of the test
// run's own, and the capability fix some sandboxes need.
func apptainerEnv(t *testing.T) []string {
	apptainerCacheOnce.Do(func() {
		apptainerCache, _ = os.MkdirTemp("", "dicom-remap-apptainer-cache-")
		atExit = append(atExit, func() { os.RemoveAll(apptainerCache) })
	})
	env := append(os.Environ(), "APPTAINER_CACHEDIR="+apptainerCache)
	if lacksSysResource() {
		// Apptainer asks for every capability for root; where the bounding
		// set lacks CAP_SYS_RESOURCE (some container sandboxes), every
		// run fails unless that one is dropped.
		env = append(env, "APPTAINER_DROP_CAPS=CAP_SYS_RESOURCE")
	}
	return env
}

// lacksSysResource reports whether this process's capability bounding set
// lacks CAP_SYS_RESOURCE (capability 24).
func lacksSysResource() bool {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			bnd, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && bnd&(1<<24) == 0
		}
	}
	return false
}

// sifBuild is one SIF built once per test run.
type sifBuild struct {
	once sync.Once
	path string
	log  string
	err  error
}

var (
	defSIF    sifBuild // from Singularity.def, bootstrapped from the local image
	daemonSIF sifBuild // straight from docker-daemon://IMAGE
)

// sifDir is a directory every user may read, for the SIFs an unprivileged
// user runs too.
func sifDir() (string, error) {
	dir, err := os.MkdirTemp("", "dicom-remap-sif-")
	if err == nil {
		atExit = append(atExit, func() { os.RemoveAll(dir) })
		err = os.Chmod(dir, 0o755)
	}
	return dir, err
}

// readmeBuild returns README's `apptainer build` line that makes sif.
func readmeBuild(t *testing.T, sif string) string {
	t.Helper()
	for _, line := range readmeCommands(t, "apptainer build ") {
		if strings.Fields(line)[2] == sif {
			return line
		}
	}
	t.Fatalf("README has no apptainer build line for %s", sif)
	return ""
}

// buildSIF runs README's build line for sif in a directory every user may
// read, once per test run, with Singularity.def's bootstrap changed to the
// image the Docker tests build (no registry here), and nothing else.
func buildSIF(t *testing.T, b *sifBuild, sif string) (string, string) {
	t.Helper()
	image := needImage(t)
	apptainer, env := needApptainer(t)
	line := readmeBuild(t, sif)
	b.once.Do(func() {
		dir, err := sifDir()
		if err != nil {
			b.err = err
			return
		}
		def := readRepoFile(t, "Singularity.def")
		local := strings.Replace(def, "\nBootstrap: docker\n", "\nBootstrap: docker-daemon\n", 1)
		if local == def || !strings.Contains(def, "\nFrom: "+image+"\n") {
			b.err = errors.New("Singularity.def has no Bootstrap: docker / From: " + image + " header")
			return
		}
		if b.err = os.WriteFile(filepath.Join(dir, "Singularity.def"), []byte(local), 0o644); b.err != nil {
			return
		}
		// README's command, with the apptainer under test.
		cmd := exec.Command("/bin/sh", "-c", line)
		cmd.Dir = dir
		cmd.Env = append(env, "PATH="+filepath.Dir(apptainer)+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		b.path, b.log, b.err = filepath.Join(dir, sif), string(out), err
	})
	if b.err != nil {
		t.Fatalf("%s: %v\n%s", line, b.err, b.log)
	}
	return b.path, b.log
}

// buildDefSIF builds dicom-remap.sif from Singularity.def.
func buildDefSIF(t *testing.T) (string, string) { return buildSIF(t, &defSIF, "dicom-remap.sif") }

// buildDaemonSIF builds plain.sif straight from docker-daemon://IMAGE.
func buildDaemonSIF(t *testing.T) string {
	p, _ := buildSIF(t, &daemonSIF, "plain.sif")
	return p
}

// apptainerWork makes a directory holding myfile.dcm (the bundled sample)
// that any user can read and write, outside the tests' private temp dirs.
func apptainerWork(t *testing.T) (dir, input string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "dicom-remap-apptainer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o777)
	input = write(t, filepath.Join(dir, "myfile.dcm"), mustRead(t, sampleFile))
	return dir, input
}

// TestApptainerDefBuild: Singularity.def builds (its %test runs during the
// build), without warnings, and the SIF carries the image's labels and the
// def's help.
func TestApptainerDefBuild(t *testing.T) {
	sif, log := buildDefSIF(t)
	apptainer, env := needApptainer(t)
	if strings.Contains(log, "WARNING") {
		t.Errorf("apptainer build warns:\n%s", log)
	}
	if !strings.Contains(log, "Running testscript") {
		t.Errorf("%%test did not run during the build:\n%s", log)
	}
	r := runIn(t, "", env, apptainer, "inspect", "--labels", sif)
	if r.code != 0 || !strings.Contains(r.stdout, "org.opencontainers.image.version: "+toolVersion(t)) {
		t.Errorf("apptainer inspect --labels: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runIn(t, "", env, apptainer, "run-help", sif); r.code != 0 || !strings.Contains(r.stdout, "apptainer run dicom-remap.sif INPUT OUTDIR MIN MAX") {
		t.Errorf("apptainer run-help: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runIn(t, "", env, apptainer, "test", sif); r.code != 0 {
		t.Errorf("apptainer test: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestApptainerRun runs every `apptainer run`, `exec` and `test` command
// of README as written, in a directory holding myfile.dcm and the SIFs, as
// root and as the unprivileged user nobody (runuser), and requires the
// native bytes every time.
func TestApptainerRun(t *testing.T) {
	sif, _ := buildDefSIF(t)
	plain := buildDaemonSIF(t)
	apptainer, env := needApptainer(t)
	want := nativeOutput(t, sampleFile, "myfile", 0, 100)
	var lines []string
	for _, prefix := range []string{"apptainer run ", "apptainer exec ", "apptainer test "} {
		lines = append(lines, readmeCommands(t, prefix)...)
	}
	if len(lines) < 5 {
		t.Fatalf("README has %d apptainer run/exec/test commands", len(lines))
	}
	users := []string{"root", "nobody"}
	if os.Getuid() != 0 {
		users = []string{"self"}
	}
	path := filepath.Dir(apptainer) + string(os.PathListSeparator) + os.Getenv("PATH")
	for _, user := range users {
		for i, line := range lines {
			t.Run(fmt.Sprintf("%s/%d", user, i), func(t *testing.T) {
				// Where /dev/fuse is root's only (as in this project's CI),
				// an unprivileged user cannot mount a SIF: README gives
				// them the --unsquash form.
				if user == "nobody" && !fuseForAll() && !strings.Contains(line, "--unsquash") {
					t.Skip("needs /dev/fuse for non-root users")
				}
				// Root's --unsquash extracts with an inner command whose
				// environment is cleared, so APPTAINER_DROP_CAPS does not
				// reach it; README gives --unsquash for unprivileged users.
				if user == "root" && strings.Contains(line, "--unsquash") && lacksSysResource() {
					t.Skip("root's --unsquash needs CAP_SYS_RESOURCE, which this sandbox lacks")
				}
				dir, _ := apptainerWork(t)
				for name, target := range map[string]string{"dicom-remap.sif": sif, "plain.sif": plain} {
					if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
						t.Fatal(err)
					}
				}
				name, args, cmdEnv := "/bin/sh", []string{"-c", line}, append(env, "PATH="+path)
				if user == "nobody" {
					// nobody's home does not exist and root's cache is not
					// nobody's: a home and a cache in the shared directory.
					name, args = "runuser", append([]string{"-m", "-u", "nobody", "--", "/bin/sh"}, args...)
					cmdEnv = []string{"PATH=" + path, "HOME=" + dir, "APPTAINER_CACHEDIR=" + filepath.Join(dir, ".cache")}
				}
				r := runIn(t, dir, cmdEnv, name, args...)
				if r.code != 0 {
					t.Fatalf("%s: exit %d\n%s%s", line, r.code, r.stdout, r.stderr)
				}
				if strings.HasPrefix(line, "apptainer test ") {
					return
				}
				if got := mustRead(t, filepath.Join(dir, "out", "myfile-normalized.dcm")); !bytes.Equal(got, want) {
					t.Fatalf("%s: output differs from the native run", line)
				}
			})
		}
	}
	// Exit codes cross Apptainer unchanged.
	dir, in := apptainerWork(t)
	if r := runIn(t, dir, env, apptainer, "run", sif, in, filepath.Join(dir, "out"), "5", "5"); r.code != 2 {
		t.Errorf("MIN = MAX under apptainer run: exit %d, want 2\n%s", r.code, r.stderr)
	}
	notDicom := write(t, filepath.Join(dir, "notes.dcm"), []byte("not DICOM"))
	if r := runIn(t, dir, env, apptainer, "run", sif, notDicom, filepath.Join(dir, "out"), "0", "1"); r.code != 3 {
		t.Errorf("not DICOM under apptainer run: exit %d, want 3\n%s", r.code, r.stderr)
	}
}

// fuseForAll reports whether any user may open /dev/fuse, which an
// unprivileged apptainer needs to mount a SIF.
func fuseForAll() bool {
	info, err := os.Stat("/dev/fuse")
	return err == nil && info.Mode().Perm()&0o006 == 0o006
}

// TestApptainerFromDockerDaemon: a SIF built straight from the Docker image
// has no runscript; README says to name the command, and that works.
func TestApptainerFromDockerDaemon(t *testing.T) {
	sif := buildDaemonSIF(t)
	apptainer, env := needApptainer(t)
	dir, in := apptainerWork(t)
	if r := runIn(t, dir, env, apptainer, "run", sif, in, filepath.Join(dir, "bare"), "0", "100"); r.code == 0 {
		t.Error("apptainer run without the command name worked: README says it does not")
	}
	r := runIn(t, dir, env, apptainer, "run", sif, "dicom-remap", in, filepath.Join(dir, "out"), "0", "100")
	if r.code != 0 {
		t.Fatalf("apptainer run SIF dicom-remap …: exit %d\n%s", r.code, r.stderr)
	}
	if !bytes.Equal(mustRead(t, filepath.Join(dir, "out", "myfile-normalized.dcm")), nativeOutput(t, sampleFile, "myfile", 0, 100)) {
		t.Fatal("output differs from the native run")
	}
}
