package dicomobj

import (
	"bytes"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
)

// refValues collects the values of the reference elements of a data set,
// and whether each is padded as an encoder pads it.
func refValues(elems []*element, depth int, refs map[string]bool, series map[string]bool, canonical *bool) {
	for _, e := range elems {
		if e.value != nil && (e.tag == tagRefSOP || e.tag == tagRefSOPInFile || depth > 0 && e.tag == tagSeries) {
			m := refs
			if e.tag == tagSeries {
				m = series
			}
			for _, v := range strings.Split(uidText(e.value), `\`) {
				m[v] = true
			}
			if string(uiValue(uidText(e.value))) != string(e.value) {
				*canonical = false
			}
		}
		for _, it := range e.items {
			refValues(it.elems, depth+1, refs, series, canonical)
		}
	}
}

// FuzzCopy drives bytes through the walk and the rewrite. Properties: a
// copy that changes nothing is the input; a copy that lengthens every
// reference walks again, holds as many references to the new UIDs, and the
// reverse rewrite gives the input back byte for byte (when its values were
// padded as encoders pad them).
func FuzzCopy(f *testing.F) {
	for _, ts := range syntaxes {
		f.Add(study(ts, oldUIDs()))
	}
	f.Add(fixture.Build(fixture.CTSlice(2, 2, 0, "1", "1")))
	f.Add(fixture.File(classSR, "1.2.3", []fixture.Elem{fixture.Nested(4)}))
	f.Fuzz(func(t *testing.T, data []byte) {
		src := bytes.NewReader(data)
		size := int64(len(data))
		Classify(src, size)
		o, err := walk(src, size, false)
		if err != nil {
			if _, err2 := Copy(&bytes.Buffer{}, src, size, Rewrite{}); err2 == nil {
				t.Fatalf("walk failed (%v) but Copy did not", err)
			}
			return
		}
		var same bytes.Buffer
		if _, err := Copy(&same, src, size, Rewrite{}); err != nil {
			t.Fatalf("a copy that changes nothing failed: %v", err)
		}
		if !o.deflated && !bytes.Equal(same.Bytes(), data) {
			t.Fatalf("a copy that changes nothing differs at byte %d", firstDiff(same.Bytes(), data))
		}
		refs, series, canonical := map[string]bool{}, map[string]bool{}, true
		refValues(o.elems, 0, refs, series, &canonical)
		there, back := Links{map[string]string{}, map[string]string{}}, Links{map[string]string{}, map[string]string{}}
		for v := range refs {
			there.Instances[v], back.Instances[v+".7"] = v+".7", v
		}
		for v := range series {
			there.Series[v], back.Series[v+".7"] = v+".7", v
		}
		before, _ := Find(src, size, there)
		var out bytes.Buffer
		if _, err := Copy(&out, src, size, Rewrite{Links: there}); err != nil {
			// Only a value or sequence grown past its length field may fail.
			if !strings.Contains(err.Error(), "does not fit") {
				t.Fatalf("rewrite failed: %v", err)
			}
			return
		}
		after, err := Find(bytes.NewReader(out.Bytes()), int64(out.Len()), back)
		if err != nil {
			t.Fatalf("the copy does not walk: %v", err)
		}
		if after.Count != before.Count {
			t.Fatalf("%d references before, %d to the new UIDs after", before.Count, after.Count)
		}
		if o.deflated || !canonical || hasDuplicates(refs, series) {
			return
		}
		var again bytes.Buffer
		if _, err := Copy(&again, bytes.NewReader(out.Bytes()), int64(out.Len()), Rewrite{Links: back}); err != nil {
			t.Fatalf("reverse rewrite: %v", err)
		}
		if !bytes.Equal(again.Bytes(), data) {
			t.Fatalf("the reverse rewrite differs from the input at byte %d", firstDiff(again.Bytes(), data))
		}
	})
}

// hasDuplicates: a UID that is also another's new UID (x and x.7) makes the
// reverse rewrite ambiguous.
func hasDuplicates(refs, series map[string]bool) bool {
	for _, m := range []map[string]bool{refs, series} {
		for v := range m {
			if m[v+".7"] || strings.HasSuffix(v, ".7") {
				return true
			}
		}
	}
	return false
}
