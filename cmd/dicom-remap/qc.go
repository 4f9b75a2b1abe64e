package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
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
	case c.landmarks != nil:
		// The map is the curve drawn; the source marks where it clamps.
		scope := "the image's"
		switch {
		case c.perFile:
			scope = "each file's"
		case directory:
			scope = "the series'"
		}
		return "unclamped range of histogram standardization (" + scope + " landmarks onto sha256:" + c.landmarks.SHA256[:12] + "...)"
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
	draw, f := findRenderer()
	if f != nil {
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
	qt, err := writeQC(path, c.sync, draw, pic)
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

// RendererName is the program that draws the pictures, looked for next to
// dicom-remap, then on PATH. It is apart so that the plotting library's
// start-up (a millisecond of font loading) is paid only with --qc.
const RendererName = "dicom-remap-qc"

// renderQC draws a picture as PNG on w; tests set it to draw in process.
var renderQC func(w io.Writer, pic qc.Picture) error

// findRenderer returns how pictures will be drawn, or a failure before any
// work when the renderer is missing.
func findRenderer() (func(io.Writer, qc.Picture) error, *failure) {
	if renderQC != nil {
		return renderQC, nil
	}
	path := ""
	if self, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(self); err == nil {
			self = real
		}
		if p := filepath.Join(filepath.Dir(self), RendererName); isExecutable(p) {
			path = p
		}
	}
	if path == "" {
		p, err := exec.LookPath(RendererName)
		if err != nil {
			return nil, fail("--qc", exitFailure, "%s, which draws the picture, is neither next to dicom-remap nor on PATH", RendererName)
		}
		path = p
	}
	return func(w io.Writer, pic qc.Picture) error {
		// JSON, which dicom-remap links anyway: encoding/gob's package
		// init alone costs every run 0.2 ms.
		var in bytes.Buffer
		if err := json.NewEncoder(&in).Encode(pic); err != nil {
			return err
		}
		var stderr bytes.Buffer
		cmd := exec.Command(path)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = &in, w, &stderr
		if err := cmd.Run(); err != nil {
			if msg := oneLine(stderr.String()); msg != "" {
				return fmt.Errorf("%s: %s", RendererName, msg)
			}
			return fmt.Errorf("%s: %v", RendererName, err)
		}
		return nil
	}, nil
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0
}

// writeQC renders pic to a temporary file next to path.
func writeQC(path string, sync bool, draw func(io.Writer, qc.Picture) error, pic qc.Picture) (*tempOutput, error) {
	return writeTemp(path, false, sync, func(w io.Writer) error {
		if err := draw(w, pic); err != nil {
			return fail(path, exitFailure, "draw picture: %v", pathless(err))
		}
		return nil
	})
}

// seriesQC is the pictures of a directory run, one per series in the order
// the series first appear among the sorted files.
type seriesQC struct {
	draw     func(io.Writer, qc.Picture) error
	cols     []*qc.Collector
	paths    []string
	titles   []string
	seriesOf []int // by file
	obs      []*qc.FileObserver
}

// newSeriesQC plans the pictures of files (measured) and refuses, before
// any work, paths that exist without --force.
func newSeriesQC(c *config, files []*inputFile, outputs []string) (*seriesQC, *failure) {
	draw, f := findRenderer()
	if f != nil {
		return nil, f
	}
	s := &seriesQC{draw: draw, seriesOf: make([]int, len(files)), obs: make([]*qc.FileObserver, len(files))}
	index := map[string]int{}
	var counts, within []int
	for i, in := range files {
		k, ok := index[in.meas.SeriesKey]
		if !ok {
			k = len(counts)
			index[in.meas.SeriesKey] = k
			counts = append(counts, 0)
		}
		s.seriesOf[i] = k
		within = append(within, counts[k])
		counts[k]++
	}
	base := c.qcFile
	if base == "" {
		base = filepath.Join(c.outDir, QCName)
	}
	name := filepath.Base(filepath.Clean(c.input))
	for k, n := range counts {
		s.cols = append(s.cols, qc.NewCollector(n))
		path, title := base, name
		if len(counts) > 1 {
			path = numbered(base, k+1)
			title = name + " series " + strconv.Itoa(k+1) + "/" + strconv.Itoa(len(counts))
		}
		if f := checkQCPath(c, path, outputs...); f != nil {
			return nil, f
		}
		s.paths, s.titles = append(s.paths, path), append(s.titles, title)
	}
	for i := range files {
		s.obs[i] = s.cols[s.seriesOf[i]].File(within[i])
	}
	return s, nil
}

// observer is file i's observer, nil without pictures.
func (s *seriesQC) observer(i int) remap.Observer {
	if s == nil {
		return nil
	}
	return s.obs[i]
}

func (s *seriesQC) done(i int) {
	if s != nil {
		s.obs[i].Done()
	}
}

// write renders every picture to a temporary file; on failure none is left.
func (s *seriesQC) write(c *config) ([]*tempOutput, error) {
	if s == nil {
		return nil, nil
	}
	var temps []*tempOutput
	for k, col := range s.cols {
		t, err := writeQC(s.paths[k], c.sync, s.draw, col.Picture(s.titles[k], howChosen(c, true)))
		if err != nil {
			for _, t := range temps {
				t.discard()
			}
			return nil, err
		}
		temps = append(temps, t)
	}
	return temps, nil
}

// name is the path of series k's picture as the provenance record gives it:
// relative to the output directory when inside it.
func (s *seriesQC) name(c *config, k int) string {
	if s == nil || k >= len(s.paths) {
		return ""
	}
	if rel, err := filepath.Rel(c.outDir, s.paths[k]); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return s.paths[k]
}
