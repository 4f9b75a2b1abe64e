// Command hostile measures what hostile compressed input costs dicom-remap:
// for every case of internal/hostile (real encoders' output mutated: cut,
// lying, bombed, misencapsulated; and the JPEG 2000 streams of issue 20) it
// runs the tool once under GNU time and prints the exit code, CPU seconds
// (user + system), wall seconds and peak RSS, then the worst per family and
// the bounds README states. It also decodes honest declared-size bombs
// (frames of zeros, 4096 x 4096, that compress to almost nothing) and
// reports their peak RSS against the decoded frame.
//
//	go run ./tests/bench/hostile            # all cases
//	go run ./tests/bench/hostile -only rle  # names containing "rle"
//
// Needs dcmtk, GDCM (gdcmconv), OpenJPEG (opj_compress) and GNU time.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/dicom-remap/dicom-remap/internal/hostile"
)

type result struct {
	name         string
	input, frame int64
	code         int
	cpu, wall    float64
	rss          int64
	timedOut     bool
}

func main() {
	only := flag.String("only", "", "run only the cases whose name contains this")
	timeout := flag.Duration("timeout", 120*time.Second, "stop a case after this long (and report it)")
	flat := flag.Int("flat", 4096, "side of the honest bombs (frames of zeros), run whatever -only says; 0: none")
	flag.Parse()
	if err := run(*only, *timeout, *flat); err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		os.Exit(1)
	}
}

func run(only string, timeout time.Duration, flat int) error {
	if _, err := exec.LookPath("/usr/bin/time"); err != nil {
		return fmt.Errorf("GNU time (/usr/bin/time) is needed: %v", err)
	}
	work, err := os.MkdirTemp("", "dicom-remap-hostile-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin := filepath.Join(work, "dicom-remap")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/dicom-remap")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build: %v\n%s", err, out)
	}
	bases, err := hostile.Bases(work)
	if err != nil {
		return err
	}
	cases := hostile.Cases(bases)
	j2k, err := hostile.J2K(work)
	if err != nil {
		return err
	}
	cases = append(cases, j2k...)
	var rs []result
	for _, c := range cases {
		if !strings.Contains(c.Name, only) {
			continue
		}
		r, err := measure(bin, work, c.Name, c.File, timeout)
		if err != nil {
			return err
		}
		r.frame = c.Frame
		rs = append(rs, r)
		fmt.Printf("%-62s exit %3d  cpu %7.3f s  wall %7.3f s  rss %6.1f MB  input %7d B%s\n",
			r.name, r.code, r.cpu, r.wall, float64(r.rss)/1e6, r.input, map[bool]string{true: "  TIMED OUT"}[r.timedOut])
	}
	summarize(rs)
	if flat > 0 {
		fmt.Printf("\nhonest bombs: %d x %d 8-bit frames of zeros (%.1f MB decoded)\n", flat, flat, float64(flat*flat)/1e6)
		for _, fam := range []string{"rle", "ljpeg", "jpegls", "jpeg", "j2k"} {
			name := "flat/" + fam
			file, err := hostile.Flat(work, fam, flat)
			if err != nil {
				return err
			}
			r, err := measure(bin, work, name, file, timeout)
			if err != nil {
				return err
			}
			fmt.Printf("%-14s exit %d  input %9d B  cpu %6.3f s  wall %6.3f s  peak RSS %6.1f MB = frame x %.2f\n",
				name, r.code, r.input, r.cpu, r.wall, float64(r.rss)/1e6, float64(r.rss)/float64(flat*flat))
		}
	}
	return nil
}

// measure runs the tool once on file under GNU time.
func measure(bin, work, name string, file []byte, timeout time.Duration) (result, error) {
	r := result{name: name, input: int64(len(file))}
	in := filepath.Join(work, "case.dcm")
	if err := os.WriteFile(in, file, 0o600); err != nil {
		return r, err
	}
	out, err := os.MkdirTemp(work, "out-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(out)
	stats := filepath.Join(work, "time")
	cmd := exec.Command("/usr/bin/time", "-f", "%U %S %e %M", "-o", stats, bin, "-q", in, out, "0", "255")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return r, err
	}
	timer := time.AfterFunc(timeout, func() {
		r.timedOut = true
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the group this run started, nothing else
	})
	err = cmd.Wait()
	timer.Stop()
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		return r, err
	}
	data, _ := os.ReadFile(stats)
	// GNU time adds a "Command exited with non-zero status" line first.
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var user, sys float64
	var kb int64
	fmt.Sscan(lines[len(lines)-1], &user, &sys, &r.wall, &kb)
	r.cpu, r.rss = user+sys, kb*1024
	return r, nil
}

// summarize prints the worst case of each family and overall.
func summarize(rs []result) {
	if len(rs) == 0 {
		return
	}
	families := map[string][]result{}
	for _, r := range rs {
		f := r.name[:strings.IndexByte(r.name, '/')]
		families[f] = append(families[f], r)
	}
	names := make([]string, 0, len(families))
	for f := range families {
		names = append(names, f)
	}
	slices.Sort(names)
	fmt.Printf("\n%-10s %6s %9s %-52s %9s %-52s %s\n", "family", "cases", "max cpu", "(case)", "max rss", "(case)", "exit codes")
	for _, f := range append(names, "all") {
		set := families[f]
		if f == "all" {
			set = rs
		}
		cpu := slices.MaxFunc(set, func(a, b result) int { return cmpF(a.cpu, b.cpu) })
		rss := slices.MaxFunc(set, func(a, b result) int { return cmpF(float64(a.rss), float64(b.rss)) })
		codes := map[int]int{}
		for _, r := range set {
			codes[r.code]++
		}
		fmt.Printf("%-10s %6d %8.3fs %-52s %7.1fMB %-52s %v\n", f, len(set), cpu.cpu, cpu.name, float64(rss.rss)/1e6, rss.name, codes)
	}
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
