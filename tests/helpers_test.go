// Package tests runs dicom-remap as users and workflow engines do: the real
// binary on real and generated files, checked by independent readers and
// validators (pydicom, dciodvfy, dcmtk) and run through cwltool, Boutiques-
// and Galaxy-style command lines and a Docker engine.
//
// A tool that is missing skips its tests with a message, unless
// DICOM_REMAP_REQUIRE_TOOLS=1 (set by .ci/run): then it fails them.
package tests

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// binary is the dicom-remap built for this test run.
var binary string

// repoRoot is the repository's top directory.
var repoRoot string

func TestMain(m *testing.M) {
	_, file, _, _ := runtime.Caller(0)
	repoRoot = filepath.Dir(filepath.Dir(file))
	dir, err := os.MkdirTemp("", "dicom-remap-tests-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "dicom-remap")
	// dicom-remap-qc, which draws --qc pictures, goes next to it.
	build := exec.Command("go", "build", "-trimpath", "-o", dir+string(os.PathSeparator), "./cmd/dicom-remap", "./cmd/dicom-remap-qc")
	build.Dir = repoRoot
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building dicom-remap: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	for _, f := range atExit {
		f()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// required reports whether missing tools must fail the tests (CI).
func required() bool { return os.Getenv("DICOM_REMAP_REQUIRE_TOOLS") == "1" }

// need returns the path of a tool, skipping (or in CI failing) the test
// when it is absent.
func need(t testing.TB, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err == nil {
		return p
	}
	if required() {
		t.Fatalf("%s is required (DICOM_REMAP_REQUIRE_TOOLS=1) but not installed", tool)
	}
	t.Skipf("%s not installed: skipping (CI installs it)", tool)
	return ""
}

// needFile is need for a file such as a sample directory.
func needFile(t testing.TB, path, what string) string {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if required() {
		t.Fatalf("%s (%s) is required but missing", what, path)
	}
	t.Skipf("%s missing (%s): skipping", what, path)
	return ""
}

// debianPython is Debian's interpreter, which sees Debian's python3-pydicom.
const debianPython = "/usr/bin/python3"

func needPydicom(t testing.TB) {
	t.Helper()
	needFile(t, debianPython, "Debian python3")
	if err := exec.Command(debianPython, "-c", "import pydicom, numpy").Run(); err != nil {
		if required() {
			t.Fatal("python3-pydicom and python3-numpy are required")
		}
		t.Skip("python3-pydicom not installed: skipping")
	}
}

// result is one finished command.
type result struct {
	code           int
	stdout, stderr string
}

func runCmd(t testing.TB, dir string, name string, args ...string) result {
	t.Helper()
	return runIn(t, dir, nil, name, args...)
}

// runIn runs a command in dir with env (nil: this process's environment).
func runIn(t testing.TB, dir string, env []string, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return result{code, o.String(), e.String()}
}

func sha(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// moduleSamples returns the directory of the TCIA samples in the
// github.com/suyashkumar/dicom module.
func moduleSamples(t testing.TB) string {
	t.Helper()
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/suyashkumar/dicom")
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "testdata")
}

func write(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// readmeCommands returns README's command lines (indented code, four
// spaces) that start with prefix, so that tests run the commands exactly as
// README gives them.
func readmeCommands(t testing.TB, prefix string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if cmd, ok := strings.CutPrefix(line, "    "); ok && strings.HasPrefix(cmd, prefix) {
			out = append(out, cmd)
		}
	}
	return out
}
