package main

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dicom-remap/dicom-remap/qc"
	"github.com/dicom-remap/dicom-remap/remap"
)

// QCName is the quality-control picture of a directory run (of its only
// series; with several, QCName with -1, -2, ... before ".png").
const QCName = "dicom-remap-qc.png"

// qcName is the picture of a single-file run: <name>-qc.png.
func qcName(input string) string {
	return strings.TrimSuffix(outputName(input), "-normalized.dcm") + "-qc.png"
}

// numbered is path with -k before its extension: the picture of series k
// of several.
func numbered(path string, k int) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "-" + strconv.Itoa(k) + ext
}

// howChosen says in the picture's title where the source range came from.
func howChosen(c *config, directory bool) string {
	switch {
	case c.source != nil:
		return "given"
	case c.perFile:
		return "each file's own extremes"
	case directory:
		return "extremes over the series"
	}
	return "the image's extremes"
}

// writeWithQC is writeAtomically for out and the file's QC picture: both
// are written to temporary files and renamed into place only when both are
// complete, so that a failure leaves neither.
func writeWithQC(c *config, out string, params *remap.Params, fill func(io.Writer) error) error {
	path := c.qcFile
	if path == "" {
		path = filepath.Join(c.outDir, qcName(c.input))
	}
	if f := checkQCPath(c, path, out); f != nil {
		return f
	}
	col := qc.NewCollector(1)
	obs := col.File(0)
	params.Observe = obs
	t, err := writeTemp(out, false, c.sync, fill)
	if err != nil {
		return err
	}
	obs.Done()
	pic := col.Picture(filepath.Base(c.input), howChosen(c, false))
	qt, err := writeQC(path, c.sync, pic)
	if err != nil {
		t.discard()
		return err
	}
	if err := t.commit(c.force); err != nil {
		qt.discard()
		return err
	}
	if err := qt.commit(c.force); err != nil {
		os.Remove(out) // both or neither
		return err
	}
	if c.sync {
		syncDir(filepath.Dir(out))
		syncDir(filepath.Dir(path))
	}
	return nil
}

// checkQCPath refuses a picture path that is an output or the input, or
// exists without --force.
func checkQCPath(c *config, path string, outputs ...string) *failure {
	for _, o := range outputs {
		if filepath.Clean(o) == filepath.Clean(path) {
			return fail(path, exitUsage, "--qc-file is also an image output")
		}
	}
	if f := checkPaths(c, path); f != nil {
		return f
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return fail(filepath.Dir(path), exitFailure, "create output directory: %v", pathless(err))
	}
	return nil
}

// writeQC renders pic to a temporary file next to path.
func writeQC(path string, sync bool, pic qc.Picture) (*tempOutput, error) {
	return writeTemp(path, false, sync, func(w io.Writer) error {
		if err := qc.Render(w, pic); err != nil {
			return fail(path, exitFailure, "write: %v", pathless(err))
		}
		return nil
	})
}
