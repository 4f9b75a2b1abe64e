package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dicom-remap/dicom-remap/dicomobj"
	"github.com/dicom-remap/dicom-remap/remap"
)

// ProvenanceName is the record written next to the outputs of a directory.
const ProvenanceName = "dicom-remap-provenance.json"

// rangeRecord is the JSON that --print-range and --merge-ranges print and
// --source-range-from reads. lo and hi are modality values, written as
// exact decimal JSON numbers (-1024, 12.5); with --percentiles the record
// also carries the histograms that --merge-ranges needs to rank the samples
// of all files, and says how the range was chosen.
type rangeRecord struct {
	Lo          *json.Number `json:"lo,omitempty"` // absent when no sample is left (padding, mask)
	Hi          *json.Number `json:"hi,omitempty"`
	Files       int          `json:"files"`
	Percentiles string       `json:"percentiles,omitempty"`
	// PercentileMethod is "linear" for numpy's; absent means nearest rank.
	PercentileMethod string            `json:"percentile_method,omitempty"`
	MaskBelow        string            `json:"mask_below,omitempty"`
	Histograms       []remap.Histogram `json:"histograms,omitempty"`
	// Skipped lists what --print-range DIR left out, as series mode does:
	// hidden files, non-DICOM files, objects that are not images.
	Skipped []skippedFile `json:"skipped,omitempty"`
}

func (r *rangeRecord) setRange(v remap.ValueRange) {
	lo, hi := json.Number(remap.FormatDecimal(v.Lo)), json.Number(remap.FormatDecimal(v.Hi))
	r.Lo, r.Hi = &lo, &hi
}

// valueRange reads lo and hi; ok is false when the record holds none.
func (r *rangeRecord) valueRange() (v remap.ValueRange, ok bool, err error) {
	if (r.Lo == nil) != (r.Hi == nil) {
		return v, false, errors.New("lo and hi go together")
	}
	if r.Lo == nil {
		return v, false, nil
	}
	if v.Lo, err = remap.ParseDecimal(string(*r.Lo)); err != nil {
		return v, false, fmt.Errorf("lo %s is not a decimal number", *r.Lo)
	}
	if v.Hi, err = remap.ParseDecimal(string(*r.Hi)); err != nil {
		return v, false, fmt.Errorf("hi %s is not a decimal number", *r.Hi)
	}
	if v.Lo.Cmp(v.Hi) > 0 {
		return v, false, fmt.Errorf("lo %s is above hi %s", *r.Lo, *r.Hi)
	}
	return v, true, nil
}

// method says how the record's range was chosen, as the derivation
// description of series mode says it.
func (r *rangeRecord) method() (string, error) {
	var mask *big.Rat
	pc, err := r.percentiles()
	if err != nil {
		return "", err
	}
	if r.MaskBelow != "" {
		t, err := remap.ParseDecimal(r.MaskBelow)
		if err != nil {
			return "", fmt.Errorf("mask_below %q is not a decimal number", r.MaskBelow)
		}
		mask = t
	}
	return remap.RangeMethod(pc, mask, seriesScope), nil
}

// seriesScope names what a merged range was measured over.
const seriesScope = "series"

// mergeRecords merges range records of one way of choosing: the union of
// the extremes, or the percentiles of the merged histograms.
func mergeRecords(recs []rangeRecord) (rangeRecord, error) {
	var out rangeRecord
	var lo, hi *big.Rat
	var hists []remap.Histogram
	for i, r := range recs {
		if i == 0 {
			out.Percentiles, out.MaskBelow, out.PercentileMethod = r.Percentiles, r.MaskBelow, r.PercentileMethod
		} else if r.Percentiles != out.Percentiles || r.MaskBelow != out.MaskBelow || r.PercentileMethod != out.PercentileMethod {
			return out, errors.New("records chosen in different ways (percentiles or mask) cannot be merged")
		}
		if _, err := r.method(); err != nil {
			return out, err
		}
		out.Files += r.Files
		v, ok, err := r.valueRange()
		if err != nil {
			return out, err
		}
		if ok {
			if lo == nil || v.Lo.Cmp(lo) < 0 {
				lo = v.Lo
			}
			if hi == nil || v.Hi.Cmp(hi) > 0 {
				hi = v.Hi
			}
		}
		hists = append(hists, r.Histograms...)
		out.Skipped = append(out.Skipped, r.Skipped...)
	}
	if out.Percentiles == "" {
		if lo != nil {
			out.setRange(remap.ValueRange{Lo: lo, Hi: hi})
		}
		return out, nil
	}
	merged, err := remap.MergeHistograms(hists)
	if err != nil {
		return out, err
	}
	pc, _ := out.percentiles()
	v, ok, err := remap.HistogramQuantiles(merged, *pc)
	if err != nil {
		return out, err
	}
	if ok {
		out.setRange(v)
	}
	out.Histograms = merged
	return out, nil
}

func readRangeFile(path string) (remap.ValueRange, string, error) {
	const hint = "give a JSON file written by --print-range or --merge-ranges"
	data, err := os.ReadFile(path)
	if err != nil {
		return remap.ValueRange{}, "", usagef(hint, "--source-range-from: %v", pathless(err))
	}
	var r rangeRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return remap.ValueRange{}, "", usagef(hint, "--source-range-from %s: %v", path, err)
	}
	v, ok, err := r.valueRange()
	if err != nil {
		return remap.ValueRange{}, "", usagef(hint, "--source-range-from %s: %v", path, err)
	}
	if !ok {
		return remap.ValueRange{}, "", usagef(hint, "--source-range-from %s holds no source range", path)
	}
	method, err := r.method()
	if err != nil {
		return remap.ValueRange{}, "", usagef(hint, "--source-range-from %s: %v", path, err)
	}
	return v, method, nil
}

// printJSON prints v indented; a record with histograms is printed on one
// line (thousands of numbers, one per line, help nobody).
func printJSON(stdout io.Writer, v any) {
	data, _ := json.MarshalIndent(v, "", "  ")
	if r, ok := v.(rangeRecord); ok && len(r.Histograms) > 0 {
		data, _ = json.Marshal(v)
	}
	stdout.Write(append(data, '\n'))
}

// printRanges measures every DICOM file of the inputs and prints their
// merged range record.
func printRanges(c *config, stdout, stderr io.Writer) int {
	var recs []rangeRecord
	var skipped []skippedFile
	for _, in := range c.printRange {
		files, walked, f := collect(in, "")
		if f != nil {
			return f.report(stderr)
		}
		if f := measureAll(files, c, nil, false); f != nil {
			return f.report(stderr)
		}
		files, others := splitObjects(files)
		if info, err := os.Stat(in); err == nil && !info.IsDir() && len(others) > 0 {
			return fail(in, exitRejected, "header: %s, not an image to normalize", others[0].header.Kind.Name).report(stderr)
		}
		for _, m := range files {
			recs = append(recs, recordOf(m.meas, c))
		}
		for _, o := range others {
			walked = append(walked, skippedFile{o.rel, o.header.Kind.Name + ", not an image to normalize"})
		}
		skipped = append(skipped, allSkipped(walked, nil)...)
	}
	total, err := mergeRecords(recs)
	if err != nil {
		return fail(c.printRange[0], exitFailure, "merge: %v", err).report(stderr)
	}
	if total.Files == 0 {
		// Nothing but objects that are not images: the record still says
		// how the range is chosen, so that it merges with the images'.
		empty := recordOf(remap.Measurement{}, c)
		total.Percentiles, total.PercentileMethod, total.MaskBelow = empty.Percentiles, empty.PercentileMethod, empty.MaskBelow
	}
	total.Skipped = skipped
	printJSON(stdout, total)
	return exitOK
}

func recordOf(m remap.Measurement, c *config) rangeRecord {
	r := rangeRecord{Files: 1, Histograms: m.Hist}
	if c.percentiles != nil {
		r.Percentiles, r.PercentileMethod = c.percentiles.String(), methodField(c.percentiles.Method)
	}
	if c.maskBelow != nil {
		r.MaskBelow = remap.FormatDecimal(c.maskBelow)
	}
	if m.OK {
		r.setRange(m.Source)
	}
	return r
}

// mergeRangeFiles prints the merge of range records.
func mergeRangeFiles(c *config, stdout, stderr io.Writer) int {
	var recs []rangeRecord
	for _, path := range c.mergeRanges {
		data, err := os.ReadFile(path)
		if err != nil {
			return fail(path, exitFailure, "read: %v", pathless(err)).report(stderr)
		}
		var r rangeRecord
		if err := json.Unmarshal(data, &r); err != nil {
			return fail(path, exitRejected, "not a range record: %v", err).report(stderr)
		}
		if _, _, err := r.valueRange(); err != nil {
			return fail(path, exitRejected, "not a range record: %v", err).report(stderr)
		}
		recs = append(recs, r)
	}
	total, err := mergeRecords(recs)
	if err != nil {
		return fail(c.mergeRanges[0], exitRejected, "merge: %v", err).report(stderr)
	}
	printJSON(stdout, total)
	return exitOK
}

// inputFile is one DICOM file of a directory run.
type inputFile struct {
	path, rel string // on disk, and relative to INPUT
	meas      remap.Measurement
	sha256    string
	header    dicomobj.Header // what the first pass found it to be
}

type skippedFile struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// collect lists the DICOM files under root (or root itself when it is a
// file), sorted, leaving out the subtree exclude. Hidden files, DICOMDIR
// and files without the DICM prefix are skipped, not failed.
func collect(root, exclude string) ([]*inputFile, []skippedFile, *failure) {
	info, err := os.Stat(root)
	if err != nil {
		return nil, nil, fail(root, exitFailure, "open: %v", pathless(err))
	}
	if !info.IsDir() {
		return []*inputFile{{path: root, rel: filepath.Base(root)}}, nil, nil
	}
	var files []*inputFile
	var skipped []skippedFile
	// Engines stage directories as symbolic links (cwltool does): walk
	// the real directory, and take linked files as files.
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if exclude != "" && sameDir(path, exclude) {
				return filepath.SkipDir
			}
			return nil
		}
		if reason := hidden(rel); reason != "" {
			skipped = append(skipped, skippedFile{filepath.ToSlash(rel), reason})
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			if info, err := os.Stat(path); err != nil || !info.Mode().IsRegular() {
				skipped = append(skipped, skippedFile{rel, "a link to something other than a file"})
				return nil
			}
		} else if !d.Type().IsRegular() {
			skipped = append(skipped, skippedFile{rel, "not a regular file"})
			return nil
		}
		if strings.EqualFold(d.Name(), "DICOMDIR") {
			skipped = append(skipped, skippedFile{rel, "a DICOMDIR index, not an image"})
			return nil
		}
		if !hasDICMPrefix(path) {
			skipped = append(skipped, skippedFile{rel, "not a DICOM file (no DICM prefix)"})
			return nil
		}
		files = append(files, &inputFile{path: path, rel: filepath.ToSlash(rel)})
		return nil
	})
	if err != nil {
		return nil, nil, fail(root, exitFailure, "list: %v", pathless(err))
	}
	// A folder of nothing but what series mode skips (a DICOMDIR, a
	// viewer's files, a hidden file: one file of a CD export, staged alone
	// by a workflow) is such a folder like one of non-image objects; an
	// empty one is a mistake.
	if len(files) == 0 && len(skipped) == 0 {
		return nil, nil, noDICOMFiles(root)
	}
	return files, skipped, nil
}

func noDICOMFiles(root string) *failure {
	return fail(root, exitRejected, "read: no DICOM files in the directory")
}

func sameDir(a, b string) bool {
	x, err1 := os.Stat(a)
	y, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(x, y)
}

func hasDICMPrefix(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return true // let the real read report it
	}
	defer f.Close()
	var head [132]byte
	if _, err := io.ReadFull(f, head[:]); err != nil {
		return false
	}
	return string(head[128:]) == "DICM"
}

// forEach runs f over the files with c.workers goroutines and returns the
// first failure by file order, so that the error named is deterministic.
func forEach(files []*inputFile, workers int, progress *progress, f func(int, *inputFile) *failure) *failure {
	failures := make([]*failure, len(files))
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < min(workers, len(files)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= len(files) {
					return
				}
				if failures[i] = guard(files[i].path, func() *failure { return f(i, files[i]) }); failures[i] != nil {
					failed.Store(true)
				}
				progress.step()
			}
		}()
	}
	wg.Wait()
	for _, f := range failures {
		if f != nil {
			return f
		}
	}
	return nil
}

// guard runs f, turning a panic into the failure of file: a panic in a
// worker goroutine would otherwise end the process with a stack trace and
// leave the temporary outputs of the run behind.
func guard(file string, f func() *failure) (out *failure) {
	defer func() {
		if r := recover(); r != nil {
			out = fail(file, exitFailure, "internal error: %v", r)
		}
	}()
	return f()
}

// threadsPerFile is 1: in a directory run the parallelism is across files,
// so that --workers is the number of CPUs the run uses.
const threadsPerFile = 1

// measureAll is the first pass: the source range of each file, and its
// checksum when the provenance record needs it.
func measureAll(files []*inputFile, c *config, p *progress, checksum bool) *failure {
	return forEach(files, c.workers, p, func(_ int, in *inputFile) *failure {
		file, f := openInput(in.path, c.pixelLimit)
		if f != nil {
			return f
		}
		defer file.close()
		var err error
		if in.header = classifyInput(file); !in.header.Kind.Image {
			return nil // a header read, no more: series mode skips or links it
		}
		p := remap.Params{PixelLimit: c.pixelLimit, FrameLimit: c.frameLimit, MemoryLimit: memoryLimit(), Threads: threadsPerFile}
		if !c.perFile && c.source == nil {
			p.Percentiles, p.MaskBelow = c.percentiles, c.maskBelow
		}
		if c.landmarks != nil && !c.perFile {
			p.Percentiles = remap.NyulProbe() // the series' landmarks need its histograms
		}
		p.HistogramsOnly = c.histOnly
		if in.meas, err = remap.Measure(file.src, file.size, p); err != nil {
			return remapFailure(in.path, err)
		}
		if !checksum {
			return nil
		}
		if in.sha256, err = file.sha256(); err != nil {
			return fail(in.path, exitFailure, "read: %v", pathless(err))
		}
		return nil
	})
}

func remapFailure(file string, err error) *failure {
	code := exitFailure
	switch remap.KindOf(err) {
	case remap.Rejected:
		code = exitRejected
	case remap.Unrepresentable:
		code = exitUsage
	}
	return &failure{file: file, code: code, err: err}
}

// Provenance is the record of a directory run: what went in, what came
// out, and how, so that the run can be checked and repeated.
type Provenance struct {
	Tool        string              `json:"tool"`
	Version     string              `json:"version"`
	Arguments   []string            `json:"arguments"`
	Mode        string              `json:"mode"`
	TargetRange [2]int64            `json:"target_range"`
	Created     string              `json:"created,omitempty"`
	Window      string              `json:"window,omitempty"` // the --window preset
	Series      []provenanceSeries  `json:"series"`
	Related     []provenanceRelated `json:"related,omitempty"` // --related link
	Skipped     []skippedFile       `json:"skipped,omitempty"`
}

type provenanceSeries struct {
	SourceSeriesUID string           `json:"source_series_uid"`
	NewSeriesUID    string           `json:"new_series_uid"`
	SourceRange     *[2]json.Number  `json:"source_range"`
	RangeMethod     string           `json:"range_method,omitempty"`
	QC              string           `json:"qc,omitempty"` // the --qc picture
	Files           []provenanceFile `json:"files"`
}

type provenanceFile struct {
	Input        string          `json:"input"`
	InputSHA256  string          `json:"input_sha256"`
	Output       string          `json:"output"`
	OutputSHA256 string          `json:"output_sha256"`
	SourceRange  *[2]json.Number `json:"source_range"`
	RangeMethod  string          `json:"range_method,omitempty"`
	SOPInstance  [2]string       `json:"sop_instance_uid_old_new"`
}

// remapDirectory is series mode: two passes over the files, one map per
// series, all outputs or none.
func remapDirectory(c *config, stdout, stderr io.Writer) int {
	files, skipped, f := collect(c.input, c.outDir)
	if f != nil {
		return f.report(stderr)
	}
	outputOf := func(in *inputFile) string {
		return filepath.Join(c.outDir, filepath.Dir(filepath.FromSlash(in.rel)), outputName(in.rel))
	}
	// Refuse before any work what would be refused at the end.
	for _, in := range files {
		if _, err := os.Lstat(outputOf(in)); err == nil && !c.force {
			return fail(outputOf(in), exitFailure, "output exists: use --force to replace it").report(stderr)
		}
	}
	if _, err := os.Lstat(filepath.Join(c.outDir, ProvenanceName)); err == nil && !c.force {
		return fail(filepath.Join(c.outDir, ProvenanceName), exitFailure, "output exists: use --force to replace it").report(stderr)
	}

	prog := newProgress(stderr, c.quiet, 2*len(files))
	defer prog.finish()
	if f := measureAll(files, c, prog, true); f != nil {
		return f.report(stderr)
	}
	files, others := splitObjects(files)
	related, f := findRelated(c, files, others)
	if f != nil {
		return f.report(stderr)
	}
	skipped = allSkipped(skipped, related.skipped)
	landmarks, f := seriesLandmarks(c, files)
	if f != nil {
		return f.report(stderr)
	}

	// One source range per series, over the modality values of all its
	// files whatever their rescales (PET slices each have their own).
	bySeries := map[string][]rangeRecord{}
	for _, in := range files {
		bySeries[in.meas.SeriesKey] = append(bySeries[in.meas.SeriesKey], recordOf(in.meas, c))
	}
	type seriesRange struct {
		r      *remap.ValueRange
		method string
	}
	ranges := map[string]seriesRange{}
	for uid, recs := range bySeries {
		merged, err := mergeRecords(recs)
		if err != nil {
			return fail(c.input, exitRejected, "series %s: %v", uid, err).report(stderr)
		}
		v, ok, _ := merged.valueRange()
		method, _ := merged.method()
		if ok {
			ranges[uid] = seriesRange{&v, method}
		} else {
			ranges[uid] = seriesRange{nil, method} // all padding: each file maps alone, to MIN
		}
	}
	sourceOf := func(in *inputFile) (*remap.ValueRange, string) {
		switch {
		case c.source != nil:
			return c.source, c.method
		case c.perFile:
			return nil, ""
		}
		r := ranges[in.meas.SeriesKey]
		return r.r, r.method
	}

	var pictures *seriesQC
	if c.qc && len(files) > 0 {
		outs := make([]string, len(files))
		for i, in := range files {
			outs[i] = outputOf(in)
		}
		if pictures, f = newSeriesQC(c, files, outs); f != nil {
			return f.report(stderr)
		}
	}

	temps := make([]*tempOutput, len(files))
	reports := make([]remap.Report, len(files))
	discardAll := func() {
		for _, t := range temps {
			if t != nil {
				t.discard()
			}
		}
	}
	f = forEach(files, c.workers, prog, func(i int, in *inputFile) *failure {
		out := outputOf(in)
		file, f := openForOutput(in.path, out, c.pixelLimit)
		if f != nil {
			return f
		}
		defer file.close()
		scratch := &scratchFile{dir: filepath.Dir(out)}
		defer scratch.close()
		params := remap.Params{Min: c.min, Max: c.max, Version: Version, PixelLimit: c.pixelLimit, FrameLimit: c.frameLimit, MemoryLimit: memoryLimit(), Threads: threadsPerFile,
			Observe: pictures.observer(i), Scratch: scratch}
		params.Source, params.Method = sourceOf(in)
		if params.Source == nil {
			params.Percentiles, params.MaskBelow = c.percentiles, c.maskBelow
		}
		params.Standardize = landmarks[in.meas.SeriesUID]
		t, err := writeTemp(out, true, c.sync, func(w io.Writer) error {
			var err error
			reports[i], err = remap.Remap(w, file.src, file.size, params)
			return err
		})
		if err != nil {
			var ff *failure
			if errors.As(err, &ff) {
				return ff
			}
			return remapFailure(in.path, err)
		}
		temps[i] = t
		pictures.done(i)
		return nil
	})
	if f != nil {
		discardAll()
		return f.report(stderr)
	}
	qcTemps, err := pictures.write(c)
	if err != nil {
		discardAll()
		return reportErr(c.outDir, err, stderr)
	}
	linked, f := related.write(c, files, reports, outputOf)
	if f != nil {
		discardAll()
		for _, t := range qcTemps {
			t.discard()
		}
		return f.report(stderr)
	}
	temps = append(append(temps, qcTemps...), linked...) // committed, and undone, with the images
	for i, t := range temps {
		if err := t.commit(c.force); err != nil {
			temps[i] = nil
			for _, done := range temps[:i] {
				if done != nil {
					os.Remove(done.path) // all or nothing
				}
			}
			for _, rest := range temps[i+1:] {
				rest.discard()
			}
			return reportErr(t.path, err, stderr)
		}
	}

	if c.sync {
		dirs := map[string]bool{}
		for _, t := range temps {
			dirs[filepath.Dir(t.path)] = true
		}
		for d := range dirs {
			syncDir(d)
		}
	}

	rec := provenance(c, files, skipped, reports, temps, outputOf)
	rec.Window = c.window.String()
	rec.Related = related.records(c, outputOf)
	for k := range rec.Series {
		rec.Series[k].QC = pictures.name(c, k)
	}
	data, _ := json.MarshalIndent(rec, "", "  ")
	data = append(data, '\n')
	if err := os.MkdirAll(c.outDir, 0o777); err != nil { // no image made it yet
		return fail(c.outDir, exitFailure, "create output directory: %v", pathless(err)).report(stderr)
	}
	if err := writeAtomically(filepath.Join(c.outDir, ProvenanceName), c.force, c.sync, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}); err != nil {
		return reportErr(c.outDir, err, stderr)
	}
	if c.provenanceOut {
		stdout.Write(data)
	}
	if !c.quiet {
		for i, rep := range reports {
			for _, w := range rep.Warnings {
				fmt.Fprintf(stderr, "dicom-remap: %s: warning: %s\n", oneLine(files[i].path), w)
			}
		}
		for _, s := range skipped {
			fmt.Fprintf(stderr, "dicom-remap: %s: skipped: %s\n", oneLine(filepath.Join(c.input, s.Path)), s.Reason)
		}
		if len(files) == 0 {
			fmt.Fprintf(stderr, "dicom-remap: %s: warning: no image to normalize\n", oneLine(c.input))
		}
	}
	return exitOK
}

func provenance(c *config, files []*inputFile, skipped []skippedFile, reports []remap.Report, temps []*tempOutput, outputOf func(*inputFile) string) Provenance {
	mode := "series"
	switch {
	case c.source != nil:
		mode = "given source range"
	case c.perFile:
		mode = "per file"
	}
	rec := Provenance{Tool: "dicom-remap", Version: Version, Arguments: c.args, Mode: mode,
		TargetRange: [2]int64{c.min, c.max}, Skipped: skipped}
	if c.provenanceAt {
		rec.Created = time.Now().UTC().Format(time.RFC3339)
	}
	bySeries := map[string]int{}
	for i, in := range files {
		rep := reports[i]
		k, ok := bySeries[in.meas.SeriesKey]
		if !ok {
			k = len(rec.Series)
			bySeries[in.meas.SeriesKey] = k
			s := provenanceSeries{SourceSeriesUID: in.meas.SeriesUID, NewSeriesUID: rep.NewSeries}
			if mode != "per file" {
				s.SourceRange, s.RangeMethod = numbers(rep.Source), rep.Method
			}
			rec.Series = append(rec.Series, s)
		}
		out, _ := filepath.Rel(c.outDir, outputOf(in))
		rec.Series[k].Files = append(rec.Series[k].Files, provenanceFile{
			Input: in.rel, InputSHA256: in.sha256, Output: filepath.ToSlash(out), OutputSHA256: temps[i].sha256,
			SourceRange: numbers(rep.Source), RangeMethod: rep.Method, SOPInstance: [2]string{rep.OldSOP, rep.NewSOP},
		})
	}
	return rec
}

// numbers writes a range as exact decimal JSON numbers.
func numbers(r remap.ValueRange) *[2]json.Number {
	return &[2]json.Number{json.Number(remap.FormatDecimal(r.Lo)), json.Number(remap.FormatDecimal(r.Hi))}
}

// progress prints files done, total and rate on a terminal when the work
// takes a while; never on stdout, never when quiet.
type progress struct {
	w     io.Writer
	total int
	done  atomic.Int64
	start time.Time
	mu    sync.Mutex
	last  time.Time
	shown bool
}

func newProgress(stderr io.Writer, quiet bool, total int) *progress {
	f, ok := stderr.(*os.File)
	if quiet || !ok {
		return nil
	}
	if info, err := f.Stat(); err != nil || info.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return &progress{w: stderr, total: total, start: time.Now(), last: time.Now()}
}

func (p *progress) step() {
	if p == nil {
		return
	}
	n := p.done.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.start) < time.Second || now.Sub(p.last) < 200*time.Millisecond {
		return
	}
	p.last, p.shown = now, true
	rate := float64(n) / now.Sub(p.start).Seconds()
	fmt.Fprintf(p.w, "\rdicom-remap: %d/%d steps (2 per file), %.0f steps/s ", n, p.total, rate)
}

func (p *progress) finish() {
	if p != nil && p.shown {
		fmt.Fprintln(p.w)
	}
}
