package main

import (
	"slices"
	"testing"
)

// TestCgroupLimitFiles: the limits read are those of the process's own
// cgroup and every cgroup above it (a Slurm job's limit is set on its
// job's cgroup, not at the root), for cgroup v2 and v1's memory controller.
func TestCgroupLimitFiles(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"0::/system.slice/slurmstepd.scope/job_7/step_0\n", []string{
			"/sys/fs/cgroup/system.slice/slurmstepd.scope/job_7/step_0/memory.max",
			"/sys/fs/cgroup/system.slice/slurmstepd.scope/job_7/memory.max",
			"/sys/fs/cgroup/system.slice/slurmstepd.scope/memory.max",
			"/sys/fs/cgroup/system.slice/memory.max",
			"/sys/fs/cgroup/memory.max",
		}},
		{"5:cpu,cpuacct:/x\n4:memory:/slurm/uid_0/job_3\n0::/\n", []string{
			"/sys/fs/cgroup/memory/slurm/uid_0/job_3/memory.limit_in_bytes",
			"/sys/fs/cgroup/memory/slurm/uid_0/memory.limit_in_bytes",
			"/sys/fs/cgroup/memory/slurm/memory.limit_in_bytes",
			"/sys/fs/cgroup/memory/memory.limit_in_bytes",
			"/sys/fs/cgroup/memory.max",
		}},
		{"garbage", nil},
	} {
		if got := cgroupLimitFilesOf(c.in); !slices.Equal(got, c.want) {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
		}
	}
}
