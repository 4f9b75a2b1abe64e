package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
)

// HTJ2K against JPEG 2000 Part 1 on the same radiograph: one frame, one
// tile, 5/3 with five levels and 64x64 code-blocks in both, so that the
// two rows differ by the block coder only. The C and C++ decoders run on
// the bare codestream beside dicom-remap on the DICOM file.

// generateHTJ2K writes the radiograph as HTJ2K Lossless (.201, Grok's HT
// code-blocks) and as JPEG 2000 Lossless (.90, OpenJPEG); without both
// encoders it makes neither.
func generateHTJ2K(work string, small bool) ([]dataset, error) {
	for _, tool := range []string{"grk_compress", "opj_compress"} {
		if needTool(tool) != "" {
			fmt.Fprintln(os.Stderr, "bench: no HTJ2K datasets:", needTool(tool))
			return nil, nil
		}
	}
	size := 3000
	if small {
		size = 100
	}
	spec := fixture.Radiograph(size)
	raw := filepath.Join(work, "radiograph.rawl")
	b := make([]byte, 0, 2*len(spec.Values))
	for _, v := range spec.Values {
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	if err := os.WriteFile(raw, b, 0o644); err != nil {
		return nil, err
	}
	defer os.Remove(raw)
	format := fmt.Sprintf("%d,%d,1,%d,u", size, size, spec.BitsStored)
	var sets []dataset
	for _, c := range []struct {
		name, ts string
		cmd      []string
	}{
		{fmt.Sprintf("htj2k-radiograph-%d", size), "1.2.840.10008.1.2.4.201", []string{"grk_compress", "-M", "64", "-F", format}},
		{fmt.Sprintf("j2k-radiograph-%d", size), "1.2.840.10008.1.2.4.90", []string{"opj_compress", "-F", format}},
	} {
		cs := filepath.Join(work, c.name+".j2k")
		if out, err := exec.Command(c.cmd[0], append(c.cmd[1:], "-i", raw, "-o", cs)...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%s: %v: %s", c.cmd[0], err, out)
		}
		data, err := os.ReadFile(cs)
		if err != nil {
			return nil, err
		}
		s := spec
		s.TransferSyntax, s.Items = c.ts, [][]byte{nil, data}
		path := filepath.Join(work, c.name+".dcm")
		dcm := fixture.Build(s)
		if err := os.WriteFile(path, dcm, 0o644); err != nil {
			return nil, err
		}
		sets = append(sets, dataset{Name: c.name, Bytes: int64(len(dcm)), path: path, codestream: cs,
			FrameBytes: int64(size * size * 2)})
	}
	return sets, nil
}

// codestreamPeers are dicom-remap on the DICOM file and the decoders of
// reference decompressing its codestream, to raw samples (OpenJPEG,
// Grok) or PGM (OpenJPH, HTJ2K only).
func codestreamPeers(bin string, d dataset) []peer {
	peers := []peer{
		{"dicom-remap", func(o string) []string { return []string{bin, "--force", "-q", d.path, o, "0", "100"} }, ""},
		{"opj_decompress", func(o string) []string {
			return []string{"opj_decompress", "-i", d.codestream, "-o", filepath.Join(o, "out.rawl")}
		}, needTool("opj_decompress")},
		{"grk_decompress", func(o string) []string {
			return []string{"grk_decompress", "-i", d.codestream, "-o", filepath.Join(o, "out.rawl")}
		}, needTool("grk_decompress")},
	}
	if filepath.Base(d.codestream)[:5] == "htj2k" {
		peers = append(peers, peer{"ojph_expand", func(o string) []string {
			return []string{"ojph_expand", "-i", d.codestream, "-o", filepath.Join(o, "out.pgm")}
		}, needTool("ojph_expand")})
	}
	return peers
}

// htTargets judges HTJ2K's point: dicom-remap on the HTJ2K file at least
// four times as fast as on the Part 1 file of the same image.
func htTargets(find func(dataset, peer string) *Timing) []Target {
	ht, j2k := find("htj2k-radiograph-", "dicom-remap"), find("j2k-radiograph-", "dicom-remap")
	if ht == nil || j2k == nil {
		return nil
	}
	v := j2k.Median / ht.Median
	return []Target{{"radiograph: dicom-remap on J2K Part 1 / on HTJ2K", v, ">= 4", v >= 4}}
}
