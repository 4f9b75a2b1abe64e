#!/usr/bin/env bash
# Builds Apptainer from its Go module source into $PREFIX (default
# /opt/apptainer), unless an Apptainer of the wanted version is already
# there. Apptainer is not packaged in Debian bookworm; its source is a Go
# module, which the Go module proxy serves and the checksum database
# verifies. About 10 minutes on two cores, so CI builds it once per machine.
#
#   tests/apptainer/install.sh        # then: /opt/apptainer/bin/apptainer
#
# Needs: go, and Debian's build-essential pkg-config libseccomp-dev
# libsubid-dev squashfs-tools uidmap cryptsetup (.ci/run installs them).
set -euo pipefail
version=${APPTAINER_VERSION:-1.5.3}
prefix=${APPTAINER_PREFIX:-/opt/apptainer}
log() { echo "apptainer-install: $*" >&2; }

have=$("$prefix/bin/apptainer" --version 2>/dev/null || true)
if [ "$have" = "apptainer version $version" ]; then
	log "$have already in $prefix"
	exit 0
fi
log "building apptainer $version into $prefix (about 10 minutes on two cores)"
start=$SECONDS

work=$(mktemp -d "${TMPDIR:-/tmp}/apptainer-build.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
# Apptainer's Makefile runs `go clean -cache`: a cache of its own keeps the
# caller's (and CI's) Go build cache intact. Its module cache is its own too,
# so the read-only module files it downloads leave nothing behind.
export GOCACHE=$work/gocache GOMODCACHE=$work/gomod GOFLAGS=-modcacherw GOTOOLCHAIN=local

# The proxy serves exactly this version (it refuses version lists here).
dir=$(cd "$work" && go mod download -json "github.com/apptainer/apptainer@v$version" |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -n "$dir" ] && [ -d "$dir" ] || { log "go mod download gave no source directory"; exit 1; }
src=$work/src
cp -r "$dir" "$src"
chmod -R u+w "$src"
cd "$src"
# A module zip keeps no execute bits and no VERSION file (mconfig reads it
# when there is no git history).
grep -rlI '^#!' . | xargs chmod +x
echo "$version" >VERSION

./mconfig -b builddir --prefix="$prefix" --without-network >"$work/mconfig.log" 2>&1 ||
	{ tail -30 "$work/mconfig.log" >&2; exit 1; }
make -C builddir >"$work/make.log" 2>&1 || { tail -40 "$work/make.log" >&2; exit 1; }
make -C builddir install >"$work/install.log" 2>&1 || { tail -30 "$work/install.log" >&2; exit 1; }
log "$("$prefix/bin/apptainer" --version) installed in $((SECONDS - start))s"
