# dicom-remap: a static binary on Debian slim, for Docker, Apptainer,
# cwltool, bosh, CBRAIN and Galaxy.
#
#   docker build -t dicom-remap/dicom-remap:0.1.0 .
#   docker run --rm -v "$PWD/myfile.dcm:/infile.dcm:ro" -v "$PWD/out:/mnt/vout" \
#       --user "$(id -u):$(id -g)" dicom-remap/dicom-remap:0.1.0 \
#       dicom-remap /infile.dcm /mnt/vout 0 100
#
# No ENTRYPOINT: engines append their own command (cwltool) or run
# /bin/sh with a script (bosh, CBRAIN, Galaxy).

FROM golang:1.26-bookworm AS build
ARG VERSION=0.1.0
ARG SOURCE_DATE_EPOCH=0
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Static, path-free and stamped: rebuilding the same source with the same Go
# gives the same bytes. dicom-remap-qc is built without fused multiply-add
# (-d=fmahash=n: Go fuses x*y+z on arm64, not on amd64), so that its
# antialiased text and lines are the same pixels on both; the flag logs every
# place it applies, hence the quiet log.
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
        -ldflags "-s -w -buildid= -X main.Version=${VERSION}" \
        -o /out/dicom-remap ./cmd/dicom-remap \
    && { CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "-s -w -buildid=" -gcflags=all=-d=fmahash=n \
        -o /out/dicom-remap-qc ./cmd/dicom-remap-qc 2>/tmp/qc-build.log || { cat /tmp/qc-build.log; exit 1; }; } \
    && /out/dicom-remap --version | grep -qx "dicom-remap ${VERSION}" \
    && mkdir -p /out/share \
    && cp testdata/sample-ct.dcm /out/share/ \
    && touch -d "@${SOURCE_DATE_EPOCH}" /out/dicom-remap /out/dicom-remap-qc /out/share /out/share/sample-ct.dcm

FROM debian:bookworm-slim
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="dicom-remap" \
      org.opencontainers.image.description="Linearly remap the pixel intensities of a DICOM image to [MIN, MAX]; writes a valid derived DICOM image, byte-identical on every engine." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/dicom-remap/dicom-remap" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /out/dicom-remap /usr/local/bin/dicom-remap
# Draws the --qc pictures; apart so that runs without --qc never load it.
COPY --from=build /out/dicom-remap-qc /usr/local/bin/dicom-remap-qc
COPY --from=build /out/share /usr/local/share/dicom-remap
# Any uid works (engines pass --user); nothing needs HOME, a passwd entry,
# the network or a writable root: output goes to OUTDIR only.
USER 65532:65532
WORKDIR /tmp
CMD ["dicom-remap", "--help"]
