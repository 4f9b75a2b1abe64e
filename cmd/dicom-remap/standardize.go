package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"

	"github.com/dicom-remap/dicom-remap/remap"
	"github.com/spf13/pflag"
)

// The options of issue 21: --percentile-method, --window, and histogram
// standardization in two phases (--learn-landmarks, --landmarks). Their
// flags are registered in newFlagSet; their checks and commands live here.

// mlConfig is the part of config these options set.
type mlConfig struct {
	window      *windowPreset
	landmarks   *remap.Standardization // --landmarks: the learnt landmarks
	learnOut    string                 // --learn-landmarks: the file to write
	learnInputs []string
	// histOnly: the first pass counts histograms and computes no range
	// per file (learning merges them per series).
	histOnly bool
}

// parseMLArgs checks the options of this file against the others and sets
// them in c. done is true for --learn-landmarks, whose positional
// arguments are all inputs.
func parseMLArgs(fs *pflag.FlagSet, v *flagValues, c *config, pos []string) (done bool, err error) {
	// Engines pass options with empty or default values (Galaxy gives
	// every parameter): an option counts as given when its value says so.
	set := map[string]bool{"source-range": v.sourceRange != "", "source-range-from": v.sourceFrom != "",
		"percentiles": v.percentiles != "", "mask-below": v.maskBelow != "", "print-range": v.printRange,
		"merge-ranges": v.mergeRanges, "window": v.window != "", "landmarks": v.landmarks != "",
		"learn-landmarks": fs.Changed("learn-landmarks"), "qc": v.qc, "qc-file": v.qcFile != "", "per-file": v.perFile,
		"min": v.min != "", "max": v.max != "", "output-dir": v.outDir != "",
		"percentile-method": v.percentileMethod != "" && v.percentileMethod != remap.NearestRank.String()}
	given := func(name string) bool { return set[name] }
	if v.percentileMethod != "" {
		m, err := remap.ParsePercentileMethod(v.percentileMethod)
		if err != nil {
			return false, usagef("linear is numpy's default (TorchIO, MONAI, nnU-Net); nearest-rank is the default here", "--percentile-method: %v", err)
		}
		for _, other := range []string{"source-range", "source-range-from", "merge-ranges", "window", "landmarks", "learn-landmarks"} {
			if m != remap.NearestRank && given(other) {
				return false, usagef("", "--percentile-method chooses how --percentiles are read from the samples: not with --%s", other)
			}
		}
		if c.percentiles != nil {
			c.percentiles.Method = m
		}
	}
	exclusive := func(flag string, others ...string) error {
		for _, o := range others {
			if given(o) {
				return usagef("", "--%s and --%s exclude each other", flag, o)
			}
		}
		return nil
	}
	if given("window") {
		if err := exclusive("window", "source-range", "source-range-from", "percentiles", "mask-below", "print-range",
			"merge-ranges", "landmarks", "learn-landmarks"); err != nil {
			return false, err
		}
		w := findWindow(v.window)
		if w == nil {
			return false, usagef("windows: "+windowNames(), "--window %q is not a known CT window", v.window)
		}
		r := w.sourceRange()
		c.window, c.source = w, &r
	}
	if given("landmarks") {
		if err := exclusive("landmarks", "source-range", "source-range-from", "percentiles", "print-range",
			"merge-ranges", "learn-landmarks"); err != nil {
			return false, err
		}
		if c.landmarks, err = readLandmarks(v.landmarks); err != nil {
			return false, err
		}
	}
	if !given("learn-landmarks") {
		return false, nil
	}
	if err := exclusive("learn-landmarks", "source-range", "source-range-from", "percentiles", "print-range",
		"merge-ranges", "qc", "qc-file", "per-file", "min", "max", "output-dir"); err != nil {
		return false, err
	}
	if v.learnLandmarks == "" {
		return false, usagef("", "--learn-landmarks needs the path of the landmarks file to write")
	}
	if len(pos) == 0 {
		return false, usagef("give files or series directories, one image each", "missing images to learn landmarks from")
	}
	c.learnOut, c.learnInputs = v.learnLandmarks, pos
	return true, nil
}

// methodField is a range record's percentile_method: absent for nearest
// rank, as records of earlier versions are.
func methodField(m remap.PercentileMethod) string {
	if m == remap.Linear {
		return m.String()
	}
	return ""
}

// percentiles reads the record's percentiles and their method; nil when it
// has none.
func (r *rangeRecord) percentiles() (*remap.Percentiles, error) {
	if r.Percentiles == "" {
		if r.PercentileMethod != "" {
			return nil, errors.New("percentile_method without percentiles")
		}
		return nil, nil
	}
	p, err := remap.ParsePercentiles(r.Percentiles)
	if err != nil {
		return nil, fmt.Errorf("percentiles %q: %v", r.Percentiles, err)
	}
	if r.PercentileMethod != "" {
		if p.Method, err = remap.ParsePercentileMethod(r.PercentileMethod); err != nil {
			return nil, fmt.Errorf("percentile_method: %v", err)
		}
	}
	return &p, nil
}

// landmarksFile is what --learn-landmarks writes and --landmarks reads.
type landmarksFile struct {
	Tool             string          `json:"tool,omitempty"`
	Version          string          `json:"version,omitempty"`
	Method           string          `json:"method,omitempty"`
	PercentileMethod string          `json:"percentile_method,omitempty"`
	Percentiles      []json.Number   `json:"percentiles,omitempty"`
	Cutoff           []json.Number   `json:"cutoff,omitempty"`
	StandardRange    []json.Number   `json:"standard_range,omitempty"`
	Landmarks        []json.Number   `json:"landmarks"`
	MaskBelow        string          `json:"mask_below,omitempty"`
	Images           []landmarkImage `json:"images,omitempty"`
}

type landmarkImage struct {
	Input     string        `json:"input"`
	SeriesUID string        `json:"series_uid,omitempty"`
	Files     int           `json:"files"`
	Values    []json.Number `json:"percentile_values"` // its exact linear percentiles
}

const learnMethod = "Nyúl and Udupa histogram standardization, landmarks as TorchIO's HistogramStandardization.train"

// readLandmarks reads a landmarks file. The landmarks may be any
// non-decreasing values (a file edited by hand stands as it is); the
// percentiles, cutoff and method, when the file states them, must be
// TorchIO's, which are the ones applied.
func readLandmarks(path string) (*remap.Standardization, error) {
	const hint = "give a JSON file written by --learn-landmarks"
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef(hint, "--landmarks: %v", pathless(err))
	}
	var lf landmarksFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&lf); err != nil {
		return nil, usagef(hint, "--landmarks %s: %v", path, err)
	}
	bad := func(format string, args ...any) error {
		return usagef(hint, "--landmarks %s: %s", path, fmt.Sprintf(format, args...))
	}
	s := &remap.Standardization{}
	for i, n := range lf.Landmarks {
		x, err := remap.ParseDecimal(string(n))
		if err != nil {
			return nil, bad("landmark %d (%s) is not a decimal number", i+1, n)
		}
		s.Landmarks = append(s.Landmarks, x)
	}
	if err := remap.CheckLandmarks(s.Landmarks); err != nil {
		return nil, bad("%v", err)
	}
	if lf.Percentiles != nil {
		ok := len(lf.Percentiles) == len(remap.NyulPercentiles)
		for i := 0; ok && i < len(lf.Percentiles); i++ {
			x, err := remap.ParseDecimal(string(lf.Percentiles[i]))
			ok = err == nil && x.Cmp(remap.NyulPercentiles[i]) == 0
		}
		if !ok {
			return nil, bad("percentiles %v are not TorchIO's (1, 10, 20, 25, 30, 40, 50, 60, 70, 75, 80, 90, 99), the ones applied", lf.Percentiles)
		}
	}
	if lf.Cutoff != nil {
		lo, err1 := remap.ParseDecimal(string(lf.Cutoff[0]))
		var hi *big.Rat
		var err2 error = errors.New("missing")
		if len(lf.Cutoff) == 2 {
			hi, err2 = remap.ParseDecimal(string(lf.Cutoff[1]))
		}
		if err1 != nil || err2 != nil || lo.Cmp(big.NewRat(1, 100)) != 0 || hi.Cmp(big.NewRat(99, 100)) != 0 {
			return nil, bad("cutoff %v is not TorchIO's default [0.01, 0.99], the one applied", lf.Cutoff)
		}
	}
	if lf.PercentileMethod != "" && lf.PercentileMethod != "linear" {
		return nil, bad("percentile_method %q: the landmarks are numpy's linear percentiles", lf.PercentileMethod)
	}
	sum := sha256.Sum256(data)
	s.SHA256 = hex.EncodeToString(sum[:])
	return s, nil
}

// seriesLandmarks measures each series' own landmarks from the histograms
// of the first pass, so that every file of a series is standardized by the
// same map; per file each file measures its own. nil without --landmarks.
func seriesLandmarks(c *config, files []*inputFile) (map[string]*remap.Standardization, *failure) {
	if c.landmarks == nil {
		return nil, nil
	}
	out := map[string]*remap.Standardization{}
	if c.perFile {
		for _, in := range files {
			out[in.meas.SeriesUID] = c.landmarks
		}
		return out, nil
	}
	hists := map[string][]remap.Histogram{}
	var order []string
	for _, in := range files {
		uid := in.meas.SeriesUID
		if _, seen := hists[uid]; !seen {
			order = append(order, uid)
		}
		hists[uid] = append(hists[uid], in.meas.Hist...)
	}
	scope := "series"
	if c.maskBelow != nil {
		scope += " at or above " + remap.FormatDecimal(c.maskBelow)
	}
	for _, uid := range order {
		merged, err := remap.MergeHistograms(hists[uid])
		if err != nil {
			return nil, fail(c.input, exitRejected, "series %s: %v", uid, err)
		}
		image, ok, err := remap.ImageLandmarks(merged)
		if err != nil {
			return nil, fail(c.input, exitRejected, "series %s: %v", uid, err)
		}
		s := *c.landmarks
		if ok {
			s.Image, s.Scope = image, scope
		} // else all padding or masked: each file becomes Min
		out[uid] = &s
	}
	return out, nil
}

// learnLandmarks is --learn-landmarks: each input (a file, or each series
// of a directory) is one image; the landmarks are TorchIO's average of the
// images' percentiles scaled onto [0, 100].
func learnLandmarks(c *config, stdout, stderr io.Writer) int {
	if _, err := os.Lstat(c.learnOut); err == nil && !c.force {
		return fail(c.learnOut, exitFailure, "output exists: use --force to replace it").report(stderr)
	}
	probe := *c
	probe.percentiles, probe.source, probe.perFile, probe.landmarks = remap.NyulProbe(), nil, false, nil
	probe.histOnly = true
	var images [][]*big.Rat
	var records []landmarkImage
	for _, in := range c.learnInputs {
		files, _, f := collect(in, "")
		if f == nil && len(files) == 0 {
			f = noDICOMFiles(in) // nothing to learn from
		}
		if f != nil {
			return f.report(stderr)
		}
		if f := measureAll(files, &probe, nil, false); f != nil {
			return f.report(stderr)
		}
		bySeries := map[string]*landmarkImage{}
		hists := map[string][]remap.Histogram{}
		var order []string
		for _, file := range files {
			uid := file.meas.SeriesUID
			if bySeries[uid] == nil {
				bySeries[uid] = &landmarkImage{Input: in, SeriesUID: uid}
				order = append(order, uid)
			}
			bySeries[uid].Files++
			hists[uid] = append(hists[uid], file.meas.Hist...)
		}
		for _, uid := range order {
			merged, err := remap.MergeHistograms(hists[uid])
			if err != nil {
				return fail(in, exitRejected, "learn: %v", err).report(stderr)
			}
			values, ok, err := remap.ImageLandmarks(merged)
			if err != nil {
				return fail(in, exitRejected, "learn: %v", err).report(stderr)
			}
			if !ok {
				return fail(in, exitRejected, "learn: series %s has no sample left (all padding or masked)", uid).report(stderr)
			}
			rec := bySeries[uid]
			for _, x := range values {
				rec.Values = append(rec.Values, json.Number(remap.FormatLandmark(x)))
			}
			images = append(images, values)
			records = append(records, *rec)
		}
	}
	avg, err := remap.AverageLandmarks(images)
	if err != nil {
		var le *remap.LandmarkError
		if errors.As(err, &le) {
			r := records[le.Image]
			return fail(r.Input, exitRejected, "learn: series %s: %v", r.SeriesUID, err).report(stderr)
		}
		return fail(c.learnInputs[0], exitFailure, "learn: %v", err).report(stderr)
	}
	lf := landmarksFile{Tool: "dicom-remap", Version: Version, Method: learnMethod, PercentileMethod: "linear",
		Cutoff: []json.Number{"0.01", "0.99"}, StandardRange: []json.Number{"0", "100"}, Images: records}
	for i, p := range remap.NyulPercentiles {
		lf.Percentiles = append(lf.Percentiles, json.Number(remap.FormatDecimal(p)))
		lf.Landmarks = append(lf.Landmarks, json.Number(remap.FormatLandmark(avg[i])))
	}
	if c.maskBelow != nil {
		lf.MaskBelow = remap.FormatDecimal(c.maskBelow)
	}
	data, _ := json.MarshalIndent(lf, "", "  ")
	data = append(data, '\n')
	if err := writeAtomically(c.learnOut, c.force, c.sync, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}); err != nil {
		return reportErr(c.learnOut, err, stderr)
	}
	return exitOK
}

// runML runs what this file adds before the remap: the learning command,
// and the CT check of --window. ok is false when the run ends with code.
func runML(c *config, stdout, stderr io.Writer) (code int, ok bool) {
	if c.learnOut != "" {
		return learnLandmarks(c, stdout, stderr), false
	}
	if c.window != nil {
		if f := checkWindow(c); f != nil {
			return f.report(stderr), false
		}
	}
	return 0, true
}
