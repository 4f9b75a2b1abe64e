package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// memoryLimit is the memory this process may use, 0 when nothing limits it:
// the smallest of its address-space and data limits (ulimit -v, a
// scheduler's h_vmem) and the memory limits of its cgroup and the cgroups
// above it (Slurm, Docker, Kubernetes). Go cannot recover from a failed
// allocation, so remap refuses a frame that would not fit before allocating
// it.
func memoryLimit() int64 {
	limit := int64(0)
	take := func(v uint64) {
		if v > 0 && v < 1<<62 && (limit == 0 || int64(v) < limit) {
			limit = int64(v)
		}
	}
	for _, r := range []int{syscall.RLIMIT_AS, syscall.RLIMIT_DATA} {
		var l syscall.Rlimit
		if syscall.Getrlimit(r, &l) == nil && l.Cur != ^uint64(0) {
			take(l.Cur)
		}
	}
	for _, f := range cgroupLimitFiles() {
		if b, err := os.ReadFile(f); err == nil {
			if v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil {
				take(v) // "max" (none) does not parse
			}
		}
	}
	return limit
}

// cgroupLimitFiles are the memory limit files of this process's cgroup and
// its ancestors, as /proc/self/cgroup names them (v2: "0::/path"; v1: the
// memory controller's line), under /sys/fs/cgroup.
func cgroupLimitFiles() []string {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil
	}
	return cgroupLimitFilesOf(string(b))
}

func cgroupLimitFilesOf(cgroups string) []string {
	var files []string
	for _, line := range strings.Split(cgroups, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		var root, name string
		switch {
		case parts[0] == "0" && parts[1] == "":
			root, name = "/sys/fs/cgroup", "memory.max"
		case strings.Contains(","+parts[1]+",", ",memory,"):
			root, name = "/sys/fs/cgroup/memory", "memory.limit_in_bytes"
		default:
			continue
		}
		for p := filepath.Clean("/" + parts[2]); ; p = filepath.Dir(p) {
			files = append(files, filepath.Join(root, p, name))
			if p == "/" {
				break
			}
		}
	}
	return files
}
