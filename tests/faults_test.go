package tests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
)

// faultCase checks the common promises after a failure: the documented
// exit code, an unchanged input and nothing left in the output directory.
func checkNothingLeft(t *testing.T, input, inputSum, outDir string) {
	t.Helper()
	if sha(t, input) != inputSum {
		t.Error("input changed")
	}
	entries, _ := os.ReadDir(outDir)
	if len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("left in the output directory: %v", names)
	}
}

func TestOutputDirectoryNotWritable(t *testing.T) {
	// A directory every user can enter, so that only OUTDIR is refused.
	dir, err := os.MkdirTemp("", "dicom-remap-locked-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	input := write(t, filepath.Join(dir, "in.dcm"), mustRead(t, sampleFile))
	os.Chmod(input, 0o644)
	sum := sha(t, input)
	out := filepath.Join(dir, "locked")
	os.Mkdir(out, 0o555)
	var cmd *exec.Cmd
	if os.Getuid() == 0 {
		// Root writes anywhere: run as nobody instead.
		setpriv := need(t, "setpriv")
		os.Chmod(filepath.Dir(binary), 0o755)
		os.Chmod(binary, 0o755)
		cmd = exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", binary, input, out, "0", "100")
	} else {
		cmd = exec.Command(binary, input, out, "0", "100")
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit %v, want 1: %s", err, stderr.String())
	}
	if !strings.HasPrefix(stderr.String(), "dicom-remap: "+out+": ") || !strings.Contains(stderr.String(), "permission denied") ||
		strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("stderr %q", stderr.String())
	}
	checkNothingLeft(t, input, sum, out)
}

// TestDiskFull limits the file size the process may write (ulimit -f),
// which fails writes as a full disk does.
func TestDiskFull(t *testing.T) {
	bash := need(t, "bash")
	dir := t.TempDir()
	input := write(t, filepath.Join(dir, "in.dcm"), mustRead(t, sampleFile))
	sum := sha(t, input)
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	r := runCmd(t, "", bash, "-c", `ulimit -f 8 && exec "$0" "$@"`, binary, input, out, "0", "100")
	if r.code != 1 || !strings.Contains(r.stderr, "file too large") {
		t.Fatalf("exit %d, want 1 with the write error: %s", r.code, r.stderr)
	}
	checkNothingLeft(t, input, sum, out)
}

// TestInterrupted sends SIGINT or SIGTERM while the output is being
// written: the temporary file is removed and the exit code says which.
func TestInterrupted(t *testing.T) {
	dir := t.TempDir()
	// Large enough that the run is still going when the signal lands.
	input := write(t, filepath.Join(dir, "big.dcm"), fixture.Build(fixture.CTSlice(512, 512, 200, "1", "1")))
	sum := sha(t, input)
	for _, c := range []struct {
		sig  syscall.Signal
		exit int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(c.sig.String(), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			cmd := exec.Command(binary, input, out, "0", "100")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Wait until the temporary output exists, then interrupt.
			deadline := time.Now().Add(10 * time.Second)
			for time.Now().Before(deadline) {
				if entries, _ := os.ReadDir(out); len(entries) > 0 {
					break
				}
				time.Sleep(time.Millisecond)
			}
			cmd.Process.Signal(c.sig)
			err := cmd.Wait()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			if code == 0 {
				t.Skip("the run finished before the signal: nothing to check")
			}
			if code != c.exit || !strings.Contains(stderr.String(), "interrupted") {
				t.Fatalf("exit %d, want %d: %s", code, c.exit, stderr.String())
			}
			checkNothingLeft(t, input, sum, out)
		})
	}
}

// TestConcurrentRuns starts runs that write the same output at once:
// without --force exactly one wins and the others report the existing
// output; with --force all succeed. Either way the file is whole.
func TestConcurrentRuns(t *testing.T) {
	dir := t.TempDir()
	input := write(t, filepath.Join(dir, "in.dcm"), fixture.Build(fixture.CTSlice(256, 256, 8, "1", "1")))
	want := nativeOutput(t, input, "in", 0, 100)
	for _, force := range []bool{false, true} {
		out := filepath.Join(t.TempDir(), "out")
		const runs = 4
		codes := make([]int, runs)
		stderrs := make([]string, runs)
		var wg sync.WaitGroup
		for i := 0; i < runs; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				args := []string{input, out, "0", "100"}
				if force {
					args = append(args, "--force")
				}
				cmd := exec.Command(binary, args...)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				if ee, ok := cmd.Run().(*exec.ExitError); ok {
					codes[i] = ee.ExitCode()
				}
				stderrs[i] = stderr.String()
			}(i)
		}
		wg.Wait()
		wins := 0
		for i, c := range codes {
			switch {
			case c == 0:
				wins++
			case c == 1 && !force && strings.Contains(stderrs[i], "output exists"):
			default:
				t.Errorf("force=%v: exit %d: %s", force, c, stderrs[i])
			}
		}
		if (!force && wins != 1) || (force && wins != runs) {
			t.Errorf("force=%v: %d runs succeeded", force, wins)
		}
		entries, _ := os.ReadDir(out)
		if len(entries) != 1 {
			t.Errorf("force=%v: output directory holds %d entries", force, len(entries))
		}
		if !bytes.Equal(mustRead(t, filepath.Join(out, "in-normalized.dcm")), want) {
			t.Errorf("force=%v: the output is not the complete expected file", force)
		}
	}
}

// TestSyncFlushes traces the system calls of a run: with --sync the output
// file and its directory are fsynced before exit; without, nothing is (the
// kernel writes back in its own time, as for cp). Both give the same bytes,
// in file and in directory mode.
func TestSyncFlushes(t *testing.T) {
	strace := need(t, "strace")
	dir := t.TempDir()
	in := write(t, filepath.Join(dir, "in", "in.dcm"), mustRead(t, sampleFile))
	for _, input := range []string{in, filepath.Dir(in)} {
		var outputs [][]byte
		for _, sync := range []bool{false, true} {
			out := filepath.Join(dir, fmt.Sprintf("out-%v", sync))
			os.RemoveAll(out)
			args := []string{"-f", "-e", "trace=fsync,fdatasync", "-o", filepath.Join(dir, "trace"), binary, "-q"}
			if sync {
				args = append(args, "--sync")
			}
			r := runCmd(t, "", strace, append(args, input, out, "0", "100")...)
			if r.code != 0 {
				t.Fatalf("%v", r)
			}
			trace := string(mustRead(t, filepath.Join(dir, "trace")))
			// The output file, then its directory; a directory run also
			// syncs the provenance record.
			want := 2
			if input != in {
				want = 3
			}
			if got := strings.Count(trace, "fsync("); sync && got < want || !sync && got != 0 {
				t.Errorf("%s, --sync %v: %d fsync calls:\n%s", input, sync, got, trace)
			}
			outputs = append(outputs, mustRead(t, filepath.Join(out, "in-normalized.dcm")))
		}
		if !bytes.Equal(outputs[0], outputs[1]) {
			t.Errorf("%s: --sync changes the output", input)
		}
	}
}
