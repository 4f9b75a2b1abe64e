#!/usr/bin/env bash
# A one-node Slurm cluster on localhost, for the Toil-on-Slurm tests and for
# a developer who wants to try the cohort workflow on a real scheduler.
# No systemd is needed: munged and the Slurm daemons are started here and
# stopped by their pids.
#
#   eval "$(tests/slurm/cluster.sh start)"   # sets SLURM_CONF; sinfo works
#   tests/slurm/cluster.sh stop
#
# Needs root and Debian's slurm-wlm and munge. Everything the cluster
# writes is under $DICOM_REMAP_SLURM_STATE (default /var/tmp/dicom-remap-slurm).
set -euo pipefail
state=${DICOM_REMAP_SLURM_STATE:-/var/tmp/dicom-remap-slurm}
conf=$state/slurm.conf
log() { echo "slurm-cluster: $*" >&2; }

stop_pid() { # pidfile name
	[ -f "$1" ] || return 0
	local pid
	pid=$(cat "$1")
	if kill -0 "$pid" 2>/dev/null; then
		log "stopping $2 (pid $pid)"
		kill "$pid"
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	rm -f "$1"
}

case ${1:-} in
stop)
	stop_pid "$state/slurmd.pid" slurmd
	stop_pid "$state/slurmctld.pid" slurmctld
	stop_pid "$state/munged.pid" munged
	exit 0
	;;
start) ;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac

export SLURM_CONF=$conf
if [ -f "$conf" ] && sinfo -h -o %T 2>/dev/null | grep -qx idle; then
	log "already running ($conf)"
	echo "export SLURM_CONF=$conf"
	exit 0
fi
mkdir -p "$state"/ctld "$state"/spool

# munge authenticates every Slurm message. The Debian package made the key;
# a munged that already answers (a machine's own) is used as it is.
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
	install -d -o munge -g munge -m 0755 /run/munge
	rm -f /run/munge/munged.pid
	runuser -u munge -- munged
	# Only a munged started here is stopped by "stop".
	for _ in $(seq 1 50); do [ -s /run/munge/munged.pid ] && break; sleep 0.1; done
	cp /run/munge/munged.pid "$state/munged.pid"
	munge -n | unmunge >/dev/null || { log "munged does not answer"; exit 1; }
fi

node=$(hostname -s)
cpus=$(nproc)
# Toil always passes --mem: the node must declare memory (Slurm's default
# is 1 MB, which rejects every job). Half of this machine's is plenty.
mem=$(($(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo) / 2))
cat >"$conf" <<CONF
# Written by tests/slurm/cluster.sh: a one-node cluster on localhost.
ClusterName=dicomremap
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=${DICOM_REMAP_SLURMCTLD_PORT:-6817}
SlurmdPort=${DICOM_REMAP_SLURMD_PORT:-6818}
SlurmUser=root
AuthType=auth/munge
# The cgroup default needs a freezer cgroup that containers often lack.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
# Several jobs at once, each with its cores and memory (the default runs
# one job per node at a time).
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

stop_pid "$state/slurmd.pid" slurmd
stop_pid "$state/slurmctld.pid" slurmctld
log "starting slurmctld and slurmd ($conf)"
slurmctld -c # -c: a clean start, no jobs from an earlier run
slurmd
for _ in $(seq 1 100); do
	sinfo -h -o %T 2>/dev/null | grep -qx idle && break
	sleep 0.2
done
if ! sinfo -h -o %T 2>/dev/null | grep -qx idle; then
	log "the node did not become idle:"
	sinfo >&2 || true
	tail -5 "$state/slurmctld.log" "$state/slurmd.log" >&2 || true
	exit 1
fi
echo "export SLURM_CONF=$conf"
