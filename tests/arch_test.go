package tests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
)

// TestArm64BitIdentical cross-compiles dicom-remap for arm64, runs it under
// qemu-aarch64-static and requires the same output bytes as the native
// build on real and generated samples, compressed ones included: the
// arithmetic, of the lossy decoders too, is integer-exact.
func TestArm64BitIdentical(t *testing.T) {
	qemu := need(t, "qemu-aarch64-static")
	armDir, realDir := t.TempDir(), t.TempDir()
	arm := filepath.Join(armDir, "dicom-remap")
	// dicom-remap-qc too: the --qc pictures must be the same bytes. The
	// arm64 dicom-remap runs it next to itself, here through qemu: without
	// binfmt the kernel cannot start an arm64 program.
	write(t, filepath.Join(armDir, "dicom-remap-qc"), []byte("#!/bin/sh\nexec "+qemu+" "+filepath.Join(realDir, "dicom-remap-qc")+"\n"))
	os.Chmod(filepath.Join(armDir, "dicom-remap-qc"), 0o755)
	build := exec.Command("go", "build", "-trimpath", "-o", armDir+string(os.PathSeparator), "./cmd/dicom-remap")
	build.Dir = repoRoot
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("arm64 build: %v\n%s", err, out)
	}
	// As the Dockerfile builds it: without fused multiply-add, which Go
	// uses on arm64 and which moves antialiased pixels.
	build = exec.Command("go", "build", "-trimpath", "-gcflags=all=-d=fmahash=n", "-o", realDir+string(os.PathSeparator), "./cmd/dicom-remap-qc")
	build.Dir = repoRoot
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("arm64 build of dicom-remap-qc: %v\n%s", err, out)
	}
	tcia := moduleSamples(t)
	inputs := []string{sampleFile, filepath.Join(tcia, "1.dcm"), filepath.Join(tcia, "5.dcm"), filepath.Join(tcia, "6.dcm")}
	gen := t.TempDir()
	for _, c := range fixture.Cases() {
		inputs = append(inputs, write(t, filepath.Join(gen, c.Name+".dcm"), fixture.Build(c.Spec)))
	}
	inputs = append(inputs, compressedSamples(t, gen)...)
	ranges := [][2]string{{"0", "100"}, {"-1024", "3071"}, {"0", "65535"}}
	for _, in := range inputs {
		for _, r := range ranges {
			native, emulated := t.TempDir(), t.TempDir()
			a := runCmd(t, "", binary, "--qc", in, native, r[0], r[1])
			b := runCmd(t, "", qemu, arm, "--qc", in, emulated, r[0], r[1])
			if a.code != b.code || a.stderr != b.stderr {
				t.Fatalf("%s %v: native exit %d %q, arm64 exit %d %q", in, r, a.code, a.stderr, b.code, b.stderr)
			}
			if a.code != 0 {
				continue
			}
			name := outputNameOf(in)
			if !bytes.Equal(mustRead(t, filepath.Join(native, name)), mustRead(t, filepath.Join(emulated, name))) {
				t.Fatalf("%s %v: arm64 output differs from amd64", in, r)
			}
			picture := strings.TrimSuffix(name, "-normalized.dcm") + "-qc.png"
			if !bytes.Equal(mustRead(t, filepath.Join(native, picture)), mustRead(t, filepath.Join(emulated, picture))) {
				t.Fatalf("%s %v: arm64 picture differs from amd64", in, r)
			}
		}
	}
}

// compressedSamples compresses synthetic images in dir with one encoding
// of each decoded syntax (colour, 12-bit and near-lossless included).
func compressedSamples(t *testing.T, dir string) []string {
	sources := map[string]string{}
	for _, s := range compressedSources() {
		sources[s.name] = write(t, filepath.Join(dir, s.name+".dcm"), fixture.Build(s.spec))
	}
	var out []string
	for _, c := range []struct {
		source string
		tool   []string
	}{
		{"rgb8", []string{"dcmcrle"}},
		{"ct16s", []string{"dcmcjpeg", "+el", "+sv", "6"}},
		{"rgb8", []string{"dcmcjpeg", "+eb"}},
		{"xr12", []string{"dcmcjpeg", "+ee"}},
		{"ct16s", []string{"dcmcjpls"}},
		{"rgb8", []string{"dcmcjpls", "+en"}},
		{"ct16s", []string{"gdcmconv", "--j2k"}},
		{"rgb8", []string{"gdcmconv", "--j2k", "--lossy", "--irreversible", "-q", "40"}},
	} {
		path := filepath.Join(dir, fmt.Sprintf("%s-%s.dcm", c.source, strings.Join(c.tool, "")))
		if r := runCmd(t, "", need(t, c.tool[0]), append(c.tool[1:], sources[c.source], path)...); r.code != 0 {
			t.Fatalf("%v: %s", c.tool, r.stderr)
		}
		out = append(out, path)
	}
	return out
}

func outputNameOf(input string) string {
	base := filepath.Base(input)
	if len(base) > 4 && (base[len(base)-4:] == ".dcm" || base[len(base)-4:] == ".DCM") {
		base = base[:len(base)-4]
	}
	return base + "-normalized.dcm"
}
