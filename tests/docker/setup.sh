#!/usr/bin/env bash
# Starts a private Docker engine and makes the base images that the
# Dockerfile's FROM lines name, from Debian packages: nothing is pulled from
# a registry. Prints the DOCKER_HOST to use.
#
#   eval "$(tests/docker/setup.sh)"
#
# A user with a registry does not need this: `docker build .` pulls the
# official golang and debian images.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
state=${DICOM_REMAP_DOCKER_STATE:-/var/tmp/dicom-remap-docker}
export DOCKER_HOST=unix://$state/docker.sock
log() { echo "docker-setup: $*" >&2; }

mkdir -p "$state"
if ! docker version >/dev/null 2>&1; then
	log "starting dockerd on $DOCKER_HOST (log: $state/dockerd.log)"
	# One daemon per socket: a second one on the same socket would mix images.
	if [ -f "$state/dockerd.pid" ] && kill -0 "$(cat "$state/dockerd.pid")" 2>/dev/null; then
		log "a dockerd is already starting (pid $(cat "$state/dockerd.pid"))"
	else
		setsid dockerd --host "$DOCKER_HOST" --data-root "$state/data" --exec-root "$state/exec" \
			--pidfile "$state/dockerd.pid" --bridge=none --iptables=false --ip6tables=false \
			>"$state/dockerd.log" 2>&1 </dev/null &
	fi
	for _ in $(seq 1 120); do
		docker version >/dev/null 2>&1 && break
		sleep 0.5
	done
	docker version >/dev/null 2>&1 || { tail -20 "$state/dockerd.log" >&2; exit 1; }
fi

# The base images the Dockerfile names, each made once.
rootfs=$state/bookworm-minbase.tar
make_rootfs() {
	[ -s "$rootfs" ] && return
	log "mmdebstrap --variant=minbase bookworm (once)"
	mmdebstrap --quiet --variant=minbase --include=ca-certificates bookworm "$state/partial.tar"
	mv "$state/partial.tar" "$rootfs"
}
std_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
for image in $(awk 'toupper($1) == "FROM" { print $2 }' "$top/Dockerfile" | sort -u); do
	docker image inspect "$image" >/dev/null 2>&1 && continue
	make_rootfs
	case $image in
	debian:bookworm-slim)
		log "importing $image"
		docker import --change "ENV PATH=$std_path" --change 'CMD ["bash"]' "$rootfs" "$image" >/dev/null
		;;
	golang:*-bookworm)
		# The official golang image: Debian plus the Go toolchain in
		# /usr/local/go. The toolchain is this machine's own Go.
		want=${image#golang:}
		want=${want%-bookworm}
		goroot=$(go env GOROOT)
		have=$(go env GOVERSION)
		case $have in go"$want" | go"$want".*) ;; *)
			log "$image needs Go $want, this machine has $have"
			exit 1
			;;
		esac
		log "importing $image from $goroot ($have)"
		tmp=$state/golang.tar
		cp "$rootfs" "$tmp"
		tar -rf "$tmp" --transform "s|^${goroot#/}|usr/local/go|" -C / "${goroot#/}"
		# This machine's trust store: module downloads may pass a proxy whose
		# CA only the host knows.
		tar --delete -f "$tmp" ./etc/ssl/certs/ca-certificates.crt
		tar -rf "$tmp" -C / ./etc/ssl/certs/ca-certificates.crt
		docker import --change "ENV PATH=/go/bin:/usr/local/go/bin:$std_path" --change "ENV GOPATH=/go" \
			--change "ENV GOTOOLCHAIN=local" --change "WORKDIR /go" "$tmp" "$image" >/dev/null
		rm -f "$tmp"
		;;
	*)
		log "no local recipe for base image $image"
		exit 1
		;;
	esac
done
echo "export DOCKER_HOST=$DOCKER_HOST"
