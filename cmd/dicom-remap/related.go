package main

import (
	"errors"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/dicom-remap/dicom-remap/dicomobj"
	"github.com/dicom-remap/dicom-remap/remap"
)

// What --related does with objects that are not images to normalize
// (reports, presentation states, segmentations, RT objects, documents).
const (
	relatedSkip = "skip" // list them in skipped[]
	relatedLink = "link" // write a copy referencing the normalized images
)

// classifyInput says what kind of object an opened input is, from its
// header. A header that does not walk is left to the remap, which reports
// what is wrong with the file as it always did.
func classifyInput(file *input) dicomobj.Header {
	h, err := dicomobj.Classify(file.src, file.size)
	if err != nil {
		return dicomobj.Header{Kind: dicomobj.Kind{Image: true}}
	}
	return h
}

// refuseNonImage is the single-file form's answer to an object that is not
// an image: rejected, as it always was, now saying what it is.
func refuseNonImage(path string, file *input) *failure {
	if h := classifyInput(file); !h.Kind.Image {
		return fail(path, exitRejected, "header: %s, not an image to normalize", h.Kind.Name)
	}
	return nil
}

// splitObjects separates the images from the other objects, after the
// first pass has classified them.
func splitObjects(files []*inputFile) (images, others []*inputFile) {
	for _, in := range files {
		if in.header.Kind.Image {
			images = append(images, in)
		} else {
			others = append(others, in)
		}
	}
	return images, others
}

// relatedRun is what a directory run does with its other objects.
type relatedRun struct {
	objects []*relatedObject // to link
	skipped []skippedFile
}

type relatedObject struct {
	in   *inputFile
	refs dicomobj.References
	temp *tempOutput
	sop  [2]string // old and new
	ser  [2]string
}

// findRelated decides, before any image is written, which objects are
// skipped and why, and which are linked: with --related link, those that
// reference at least one image of this run.
func findRelated(c *config, images, others []*inputFile) (*relatedRun, *failure) {
	r := &relatedRun{}
	if c.related != relatedLink {
		for _, in := range others {
			r.skipped = append(r.skipped, skippedFile{in.rel, in.header.Kind.Name + ", not an image to normalize"})
		}
		return r, nil
	}
	l := dicomobj.Links{Instances: map[string]string{}, Series: map[string]string{}}
	for _, in := range images {
		l.Instances[in.meas.SOPUID] = ""
		if in.meas.SeriesUID != "" {
			l.Series[in.meas.SeriesUID] = ""
		}
	}
	found := make([]dicomobj.References, len(others))
	f := forEach(others, c.workers, nil, func(i int, in *inputFile) *failure {
		if in.header.Kind.Index {
			return nil
		}
		file, f := openInput(in.path, c.pixelLimit)
		if f != nil {
			return f
		}
		defer file.close()
		var err error
		if found[i], err = dicomobj.Find(file.src, file.size, l); err != nil {
			return fail(in.path, exitRejected, "read: %v", err)
		}
		return nil
	})
	if f != nil {
		return nil, f
	}
	for i, in := range others {
		switch {
		case in.header.Kind.Index:
			r.skipped = append(r.skipped, skippedFile{in.rel, in.header.Kind.Name + ", not an image to normalize"})
		case found[i].Count == 0:
			r.skipped = append(r.skipped, skippedFile{in.rel, in.header.Kind.Name + " that references no image of this run"})
		default:
			r.objects = append(r.objects, &relatedObject{in: in, refs: found[i]})
		}
	}
	return r, nil
}

// write writes the linked copies to temporary files, once the images'
// new UIDs are known. Each copy gets a new SOP Instance UID hashed, like
// the images', from the version, its source UID, MIN, MAX and the new UIDs
// of the images it references; and one new Series Instance UID per source
// series, hashed from the version, that series, MIN and MAX.
func (r *relatedRun) write(c *config, images []*inputFile, reports []remap.Report, outputOf func(*inputFile) string) ([]*tempOutput, *failure) {
	if len(r.objects) == 0 {
		return nil, nil
	}
	l := dicomobj.Links{Instances: map[string]string{}, Series: map[string]string{}}
	for i := range images {
		rep := reports[i]
		l.Instances[rep.OldSOP] = rep.NewSOP
		if rep.OldSeries != "" {
			l.Series[rep.OldSeries] = rep.NewSeries
		}
	}
	lo, hi := strconv.FormatInt(c.min, 10), strconv.FormatInt(c.max, 10)
	ins := make([]*inputFile, len(r.objects))
	for i, o := range r.objects {
		ins[i] = o.in
		parts := []string{Version, "related instance", o.refs.SOPInstance, lo, hi}
		for _, old := range o.refs.Instances {
			parts = append(parts, l.Instances[old])
		}
		seriesKey := o.refs.Series
		if seriesKey == "" {
			seriesKey = o.refs.SOPInstance
		}
		o.sop = [2]string{o.refs.SOPInstance, remap.DeriveUID(parts...)}
		o.ser = [2]string{o.refs.Series, remap.DeriveUID(Version, "related series", seriesKey, lo, hi)}
	}
	// A reference from one linked object to another (a report on a
	// segmentation) names the other's copy: the copies reference each
	// other as their sources do. The images' UIDs alone decide what is
	// linked and the copies' UIDs, so the order does not matter.
	for _, o := range r.objects {
		if _, ok := l.Instances[o.sop[0]]; !ok && o.sop[0] != "" {
			l.Instances[o.sop[0]] = o.sop[1]
		}
		if _, ok := l.Series[o.ser[0]]; !ok && o.ser[0] != "" {
			l.Series[o.ser[0]] = o.ser[1]
		}
	}
	f := forEach(ins, c.workers, nil, func(i int, in *inputFile) *failure {
		o := r.objects[i]
		out := outputOf(in)
		file, f := openForOutput(in.path, out, c.pixelLimit)
		if f != nil {
			return f
		}
		defer file.close()
		var err error
		if in.sha256, err = file.sha256(); err != nil {
			return fail(in.path, exitFailure, "read: %v", pathless(err))
		}
		t, err := writeTemp(out, true, c.sync, func(w io.Writer) error {
			done, err := dicomobj.Copy(w, file.src, file.size, dicomobj.Rewrite{Links: l, SOPInstance: o.sop[1], Series: o.ser[1],
				ImplementationClass: remap.ImplementationClassUID, ImplementationName: "DICOM_REMAP"})
			o.refs.Count = done.Count // references to other linked objects too
			return err
		})
		if err != nil {
			var ff *failure
			if errors.As(err, &ff) {
				return ff
			}
			return fail(in.path, exitRejected, "link: %v", err)
		}
		o.temp = t
		return nil
	})
	temps := make([]*tempOutput, 0, len(r.objects))
	for _, o := range r.objects {
		if o.temp != nil {
			temps = append(temps, o.temp)
		}
	}
	if f != nil {
		for _, t := range temps {
			t.discard()
		}
		return nil, f
	}
	return temps, nil
}

// provenanceRelated is a linked copy in the provenance record, shaped like
// a file of a series.
type provenanceRelated struct {
	Input          string    `json:"input"`
	InputSHA256    string    `json:"input_sha256"`
	Output         string    `json:"output"`
	OutputSHA256   string    `json:"output_sha256"`
	Kind           string    `json:"kind"`
	References     int       `json:"references_rewritten"`
	SOPInstance    [2]string `json:"sop_instance_uid_old_new"`
	SeriesInstance [2]string `json:"series_instance_uid_old_new"`
}

func (r *relatedRun) records(c *config, outputOf func(*inputFile) string) []provenanceRelated {
	var recs []provenanceRelated
	for _, o := range r.objects {
		out, _ := filepath.Rel(c.outDir, outputOf(o.in))
		recs = append(recs, provenanceRelated{Input: o.in.rel, InputSHA256: o.in.sha256, Output: filepath.ToSlash(out),
			OutputSHA256: o.temp.sha256, Kind: o.refs.Kind.Name, References: o.refs.Count, SOPInstance: o.sop, SeriesInstance: o.ser})
	}
	return recs
}

// hidden says why a file under INPUT is hidden, "" when it is not: each
// file is listed, those in hidden folders too (a viewer's cache, say).
func hidden(rel string) string {
	parts := strings.Split(filepath.ToSlash(rel), "/")
	switch {
	case strings.HasPrefix(parts[len(parts)-1], "."):
		return "a hidden file"
	case slices.ContainsFunc(parts, func(p string) bool { return strings.HasPrefix(p, ".") }):
		return "in a hidden folder"
	}
	return ""
}

// allSkipped merges the files the walk skipped with the objects left out,
// in path order.
func allSkipped(walked, objects []skippedFile) []skippedFile {
	all := append(append([]skippedFile(nil), walked...), objects...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].Path < all[j].Path })
	return all
}
