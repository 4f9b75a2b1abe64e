package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// memoryLimit is the memory this process may use, 0 when nothing limits it:
// the smallest of its address-space and data limits (ulimit -v, a
// scheduler's h_vmem) and its cgroup's memory limit (Slurm, Docker,
// Kubernetes). Go cannot recover from a failed allocation, so remap refuses
// a frame that would not fit before allocating it.
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
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if b, err := os.ReadFile(f); err == nil {
			if v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil {
				take(v)
			}
		}
	}
	return limit
}
