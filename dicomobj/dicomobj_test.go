package dicomobj

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
)

const (
	classSEG    = "1.2.840.10008.5.1.4.1.1.66.4"
	classSR     = "1.2.840.10008.5.1.4.1.1.88.33"
	classKO     = "1.2.840.10008.5.1.4.1.1.88.59"
	classGSPS   = "1.2.840.10008.5.1.4.1.1.11.1"
	classRTPlan = "1.2.840.10008.5.1.4.1.1.481.5"
	classRTDose = "1.2.840.10008.5.1.4.1.1.481.2"
	classPDF    = "1.2.840.10008.5.1.4.1.1.104.1"
	classDir    = "1.2.840.10008.1.3.10"
)

func classify(t *testing.T, data []byte) Header {
	t.Helper()
	h, err := Classify(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestClassify(t *testing.T) {
	ct := fixture.Build(fixture.CTSlice(4, 4, 0, "3", "2"))
	if h := classify(t, ct); !h.Kind.Image || h.SOPClass != fixture.CTImage || !strings.HasSuffix(h.Series, ".2") {
		t.Errorf("CT: %+v", h)
	}
	dose := fixture.Build(fixture.Spec{SOPClass: classRTDose, Modality: "RTDOSE", Rows: 2, Columns: 2, BitsAllocated: 16, BitsStored: 16, Values: []int64{1, 2, 3, 4}})
	if h := classify(t, dose); !h.Kind.Image {
		t.Errorf("RT Dose is an image (a dose grid): %+v", h)
	}
	seg := fixture.Build(fixture.Spec{SOPClass: classSEG, Modality: "SEG", Rows: 2, Columns: 2, BitsAllocated: 8, BitsStored: 8, Values: []int64{0, 1, 1, 0}})
	for _, c := range []struct {
		what string
		data []byte
		want string
	}{
		{"SEG with pixel data", seg, "a segmentation (SEG)"},
		{"SR", fixture.File(classSR, "1.2.3", nil), "a structured report (SR)"},
		{"dose SR", fixture.File("1.2.840.10008.5.1.4.1.1.88.67", "1.2.3", nil), "a radiation dose structured report (SR)"},
		{"KO", fixture.File(classKO, "1.2.3", nil), "a key object selection (KO)"},
		{"GSPS", fixture.File(classGSPS, "1.2.3", nil), "a presentation state (PR)"},
		{"RT plan", fixture.File(classRTPlan, "1.2.3", nil), "an RT plan (RTPLAN)"},
		{"PDF", fixture.File(classPDF, "1.2.3", nil), "an encapsulated PDF"},
		{"an RT record, not RT Image", fixture.File("1.2.840.10008.5.1.4.1.1.481.10", "1.2.3", nil), "an RT treatment object (record, intent or radiation)"},
		{"CT without pixel data", fixture.File(fixture.CTImage, "1.2.3", nil), "an object without pixel data"},
		{"class only in the data set", fixture.File("", "1.2.3", []fixture.Elem{fixture.Str(8, 0x16, "UI", classKO)}), "a key object selection (KO)"},
	} {
		h := classify(t, c.data)
		if h.Kind.Image || h.Kind.Name != c.want || h.Kind.Index {
			t.Errorf("%s: %+v, want %q", c.what, h.Kind, c.want)
		}
	}
	if h := classify(t, fixture.File(classDir, "1.2.3", nil)); !h.Kind.Index || h.Kind.Image {
		t.Errorf("DICOMDIR: %+v", h)
	}
	// Only the header is read: an image whose pixel data is cut short is
	// still classified (the remap reports the truncation), but an object
	// cut short in its header is not.
	cut := fixture.Build(fixture.Spec{Rows: 64, Columns: 64, BitsAllocated: 16, BitsStored: 12, Values: make([]int64, 64*64), TruncatePixels: 100})
	if h := classify(t, cut); !h.Kind.Image {
		t.Errorf("cut image: %+v", h)
	}
	sr := study(fixture.ExplicitLE, oldUIDs())
	for _, n := range []int{len(sr) - 30, len(sr) / 2, 140, 131} {
		if _, err := Classify(bytes.NewReader(sr[:n]), int64(n)); err == nil {
			t.Errorf("a report cut at %d of %d bytes was classified", n, len(sr))
		}
	}
	if _, err := Classify(bytes.NewReader([]byte("hello")), 5); err != ErrNotDICOM {
		t.Errorf("not DICOM: %v", err)
	}
}

// uids are the UIDs of the test object: its own and those it references.
type uids struct {
	sop, series, img1, img2, imgSeries, outside, outsideSeries string
}

func oldUIDs() uids {
	return uids{"1.2.826.0.1.3680043.10.9.1", "1.2.826.0.1.3680043.10.9.2", "1.2.826.0.1.3680043.10.9.11",
		"1.2.826.0.1.3680043.10.9.12", "1.2.826.0.1.3680043.10.9.10", "1.2.826.0.1.3680043.10.9.99", "1.2.826.0.1.3680043.10.9.98"}
}

// newUIDs replaces the linked ones with UIDs of other lengths, odd and
// even, so that values, items, sequences and groups change length.
func newUIDs() uids {
	u := oldUIDs()
	u.sop, u.series = "2.25.1234567", "2.25.99"
	u.img1, u.img2, u.imgSeries = "2.25.123456789012345678901234567890", "2.25.7", "2.25.31415926535"
	return u
}

func links() Links {
	o, n := oldUIDs(), newUIDs()
	return Links{
		Instances: map[string]string{o.img1: n.img1, o.img2: n.img2},
		Series:    map[string]string{o.imgSeries: n.imgSeries},
	}
}

// groupLength is a group length element for elems, computed by encoding
// them alone.
func groupLength(ts string, group uint16, elems []fixture.Elem) fixture.Elem {
	var in []fixture.Elem
	for _, e := range elems {
		if e.Group == group {
			in = append(in, e)
		}
	}
	if ts == fixture.DeflatedLE {
		ts = fixture.ExplicitLE
	}
	n := len(fixture.FileIn(ts, "1", "1", in)) - len(fixture.FileIn(ts, "1", "1", nil))
	v := binary.LittleEndian.AppendUint32(nil, uint32(n)) // the fixture swaps it for big endian
	return fixture.Elem{Group: group, VR: "UL", Value: v}
}

// study is a segmentation-like object referencing two images of a series
// and one image outside it: the references nested in sequences of defined
// and undefined length, a group length, a private sequence, pixel data.
func study(ts string, u uids) []byte {
	ref := func(class, sop string) []fixture.Elem {
		return []fixture.Elem{fixture.Str(8, 0x1150, "UI", class), fixture.Str(8, 0x1155, "UI", sop)}
	}
	content := fixture.Seq(0x0040, 0xa730, []fixture.Elem{
		fixture.Str(0x0040, 0xa040, "CS", "IMAGE"),
		fixture.Seq(8, 0x1199, ref(fixture.CTImage, u.img2)),
		fixture.Seq(0x0040, 0xa730, []fixture.Elem{
			fixture.Seq(8, 0x1199, ref(fixture.CTImage, u.outside), ref(fixture.CTImage, u.img1)),
		}),
	})
	content.Undefined = true
	content.Items[0][2].Undefined = true
	group8 := []fixture.Elem{
		fixture.Str(8, 0x16, "UI", classSEG),
		fixture.Str(8, 0x18, "UI", u.sop),
		fixture.Str(8, 0x60, "CS", "SEG"),
		fixture.Seq(8, 0x1115,
			[]fixture.Elem{fixture.Str(0x20, 0x0e, "UI", u.imgSeries), fixture.Seq(8, 0x114a, ref(fixture.CTImage, u.img1), ref(fixture.CTImage, u.img2))},
			[]fixture.Elem{fixture.Str(0x20, 0x0e, "UI", u.outsideSeries), fixture.Seq(8, 0x114a, ref(fixture.CTImage, u.outside))}),
		fixture.Seq(8, 0x2112, append(ref(fixture.CTImage, u.img1), fixture.Str(8, 0x1160, "IS", "1"))),
	}
	elems := append(group8, groupLength(ts, 8, group8),
		fixture.Str(0x10, 0x10, "PN", "Test^Object"),
		fixture.Str(0x20, 0x0d, "UI", "1.2.826.0.1.3680043.10.9.3"),
		fixture.Str(0x20, 0x0e, "UI", u.series),
		fixture.Str(0x20, 0x52, "UI", "1.2.826.0.1.3680043.10.9.4"),
		fixture.Seq(0x0009, 0x1001, []fixture.Elem{fixture.Str(0x0009, 0x1002, "LO", "private")}),
		content,
		fixture.Elem{Group: 0x7fe0, Element: 0x10, VR: "OB", Value: []byte{1, 0, 0, 1, 1, 1, 0, 0}},
	)
	return fixture.FileIn(ts, classSEG, u.sop, elems)
}

var syntaxes = []string{fixture.ExplicitLE, fixture.ImplicitLE, fixture.ExplicitBE, fixture.DeflatedLE}

// TestCopy checks a rewritten copy against the same object encoded from
// scratch, by the fixture's own encoder, with the new UIDs: every length,
// padding and delimiter must come out as an encoder writes them, and
// nothing else may change.
func TestCopy(t *testing.T) {
	for _, ts := range syntaxes {
		src := study(ts, oldUIDs())
		want := study(ts, newUIDs())
		n := newUIDs()
		var out bytes.Buffer
		refs, err := Copy(&out, bytes.NewReader(src), int64(len(src)), Rewrite{Links: links(), SOPInstance: n.sop, Series: n.series})
		if err != nil {
			t.Fatalf("%s: %v", ts, err)
		}
		got := out.Bytes()
		if ts == fixture.DeflatedLE {
			got, want = inflated(t, got), inflated(t, want)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the copy differs from the object encoded with the new UIDs at byte %d", ts, firstDiff(got, want))
		}
		o := oldUIDs()
		if refs.Count != 6 || strings.Join(refs.Instances, " ") != o.img1+" "+o.img2 || refs.SOPInstance != o.sop || refs.Kind.Name != "a segmentation (SEG)" {
			t.Errorf("%s: references %+v", ts, refs)
		}
		found, err := Find(bytes.NewReader(src), int64(len(src)), links())
		if err != nil || found.Count != refs.Count || len(found.Instances) != 2 {
			t.Errorf("%s: Find %+v, %v", ts, found, err)
		}
	}
}

// inflated is a deflated file with its data set inflated.
func inflated(t *testing.T, file []byte) []byte {
	t.Helper()
	o, err := walk(bytes.NewReader(file), int64(len(file)), false)
	if err != nil {
		t.Fatal(err)
	}
	metaEnd := o.meta[len(o.meta)-1].end
	data, err := io.ReadAll(flate.NewReader(bytes.NewReader(file[metaEnd:])))
	if err != nil {
		t.Fatal(err)
	}
	return append(file[:metaEnd:metaEnd], data...)
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestCopyMeta: the file meta names the new instance and the writer, and
// its group length follows.
func TestCopyMeta(t *testing.T) {
	src := study(fixture.ExplicitLE, oldUIDs())
	var out bytes.Buffer
	const impl = "2.25.204633466046318513745426263938475305235"
	if _, err := Copy(&out, bytes.NewReader(src), int64(len(src)), Rewrite{SOPInstance: "2.25.5", ImplementationClass: impl}); err != nil {
		t.Fatal(err)
	}
	o, err := walk(bytes.NewReader(out.Bytes()), int64(out.Len()), false)
	if err != nil {
		t.Fatal(err)
	}
	if got := o.uid(nil, 0, tagMetaSOP); got != "2.25.5" {
		t.Errorf("meta SOP Instance UID %q", got)
	}
	if got := o.uid(nil, 0, tagMetaImplClass); got != impl {
		t.Errorf("implementation class %q", got)
	}
	gl := binary.LittleEndian.Uint32(o.meta[0].value)
	if o.meta[0].tag != 0x00020000 || int64(gl) != o.meta[len(o.meta)-1].end-o.meta[1].start {
		t.Errorf("meta group length %d, the group holds %d bytes", gl, o.meta[len(o.meta)-1].end-o.meta[1].start)
	}
	// References are left alone without links.
	if refs, _ := Find(bytes.NewReader(out.Bytes()), int64(out.Len()), links()); refs.Count != 6 {
		t.Errorf("references changed without links: %d left", refs.Count)
	}
}

// TestCopyUnchanged: with nothing to change, the copy is the source.
func TestCopyUnchanged(t *testing.T) {
	for _, ts := range syntaxes[:3] {
		src := study(ts, oldUIDs())
		var out bytes.Buffer
		if _, err := Copy(&out, bytes.NewReader(src), int64(len(src)), Rewrite{SOPInstance: oldUIDs().sop}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), src) {
			t.Errorf("%s: an unchanged copy differs at byte %d", ts, firstDiff(out.Bytes(), src))
		}
	}
}

// TestHostile: lengths beyond the file, nesting too deep and stray
// markers are errors, not panics or allocations.
func TestHostile(t *testing.T) {
	deep := fixture.File(classSR, "1.2.3", []fixture.Elem{fixture.Nested(maxDepth + 1)})
	if _, err := Classify(bytes.NewReader(deep), int64(len(deep))); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("deep nesting: %v", err)
	}
	ok := fixture.File(classSR, "1.2.3", []fixture.Elem{fixture.Nested(maxDepth - 1)})
	if _, err := Classify(bytes.NewReader(ok), int64(len(ok))); err != nil {
		t.Errorf("nesting within the limit: %v", err)
	}
	huge := fixture.File(classSR, "1.2.3", []fixture.Elem{fixture.Str(0x10, 0x10, "PN", "AB")})
	binary.LittleEndian.PutUint16(huge[len(huge)-4:], 0xfff0) // claims 65520 bytes
	if _, err := Classify(bytes.NewReader(huge), int64(len(huge))); err == nil || !strings.Contains(err.Error(), "declares 65520 bytes") {
		t.Errorf("length beyond the file: %v", err)
	}
	stray := fixture.File(classSR, "1.2.3", []fixture.Elem{{Group: 0xfffe, Element: 0xe000, VR: "UN"}})
	if _, err := Classify(bytes.NewReader(stray), int64(len(stray))); err == nil {
		t.Error("an item marker at the top level was accepted")
	}
	badVR := fixture.File(classSR, "1.2.3", []fixture.Elem{fixture.Str(0x10, 0x10, "ZZ", "AB")})
	if _, err := Classify(bytes.NewReader(badVR), int64(len(badVR))); err == nil || !strings.Contains(err.Error(), "invalid VR") {
		t.Errorf("invalid VR: %v", err)
	}
}

// unSequence is an undefined-length UN element holding one item with a
// Referenced SOP Instance UID, encoded as PS3.5 6.2.2 says whatever the
// file's syntax: Implicit VR Little Endian.
func unSequence(sop string) fixture.Elem {
	le := binary.LittleEndian
	v := uiValue(sop)
	var raw []byte
	raw = le.AppendUint16(le.AppendUint16(raw, 0xfffe), 0xe000)
	raw = le.AppendUint32(raw, undefined)
	raw = le.AppendUint16(le.AppendUint16(raw, 0x0008), 0x1155)
	raw = append(le.AppendUint32(raw, uint32(len(v))), v...)
	raw = le.AppendUint32(le.AppendUint16(le.AppendUint16(raw, 0xfffe), 0xe00d), 0)
	raw = le.AppendUint32(le.AppendUint16(le.AppendUint16(raw, 0xfffe), 0xe0dd), 0)
	return fixture.Elem{Group: 0x0009, Element: 0x1010, VR: "UN", Value: raw, Undefined: true}
}

// TestCopyUNSequence: a private sequence the writer's dictionary did not
// know, kept as UN in a big-endian file, is rewritten in its own little
// endian encoding.
func TestCopyUNSequence(t *testing.T) {
	for _, ts := range []string{fixture.ExplicitBE, fixture.ExplicitLE} {
		file := func(u uids) []byte {
			return fixture.FileIn(ts, classSR, u.sop, []fixture.Elem{
				fixture.Str(0x0008, 0x0018, "UI", u.sop),
				fixture.Str(0x0009, 0x0010, "LO", "ACME"),
				unSequence(u.img1),
				fixture.Str(0x0010, 0x0010, "PN", "Test"),
			})
		}
		src, want := file(oldUIDs()), file(newUIDs())
		var out bytes.Buffer
		refs, err := Copy(&out, bytes.NewReader(src), int64(len(src)), Rewrite{Links: links(), SOPInstance: newUIDs().sop})
		if err != nil {
			t.Fatalf("%s: %v", ts, err)
		}
		if refs.Count != 1 || !bytes.Equal(out.Bytes(), want) {
			t.Errorf("%s: %d references; the copy differs from the object encoded with the new UIDs at byte %d", ts, refs.Count, firstDiff(out.Bytes(), want))
		}
	}
}

// TestEmptyReference: an empty Referenced SOP Instance UID references
// nothing, even when an image of the run has no UID.
func TestEmptyReference(t *testing.T) {
	src := fixture.File(classKO, "1.2.3", []fixture.Elem{fixture.Seq(8, 0x1199, []fixture.Elem{fixture.Str(8, 0x1155, "UI", "")})})
	l := Links{Instances: map[string]string{"": "2.25.1"}, Series: map[string]string{"": "2.25.2"}}
	if refs, err := Find(bytes.NewReader(src), int64(len(src)), l); err != nil || refs.Count != 0 {
		t.Errorf("%+v, %v", refs, err)
	}
}

// TestPartialSeries: an item that names a linked series but also lists an
// instance outside the run keeps the source series (its instances stay
// findable), while the linked instance is still rewritten.
func TestPartialSeries(t *testing.T) {
	o, n := oldUIDs(), newUIDs()
	item := func(series string, sops ...string) []fixture.Elem {
		var refs [][]fixture.Elem
		for _, s := range sops {
			refs = append(refs, []fixture.Elem{fixture.Str(8, 0x1155, "UI", s)})
		}
		return []fixture.Elem{fixture.Str(0x20, 0x0e, "UI", series), fixture.Seq(8, 0x1199, refs...)}
	}
	file := func(first, second []fixture.Elem) []byte {
		return fixture.File(classKO, "1.2.3", []fixture.Elem{fixture.Seq(8, 0x1115, first, second)})
	}
	src := file(item(o.imgSeries, o.img1, o.outside), item(o.imgSeries, o.img1, o.img2))
	want := file(item(o.imgSeries, n.img1, o.outside), item(n.imgSeries, n.img1, n.img2))
	var out bytes.Buffer
	refs, err := Copy(&out, bytes.NewReader(src), int64(len(src)), Rewrite{Links: links()})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) || refs.Count != 4 {
		t.Errorf("%d references; the copy differs from the expected object at byte %d", refs.Count, firstDiff(out.Bytes(), want))
	}
}

// deflatedImage is a deflated CT image of rows x 1024 16-bit zeros, after a
// private OB element of private bytes, written without holding its pixels.
func deflatedImage(t *testing.T, rows, private int) []byte {
	t.Helper()
	s := fixture.CTSlice(rows, 1024, 0, "1", "1")
	if private > 0 {
		s.Extra = append(s.Extra, fixture.Elem{Group: 0x0009, Element: 0x0010, VR: "LO", Value: []byte("PADDING ")},
			fixture.Elem{Group: 0x0009, Element: 0x1000, VR: "OB", Value: make([]byte, private)})
	}
	return fixture.DeflatedZeros(s, 2*rows*1024)
}

// TestClassifyDeflatedBomb: classifying a deflated image inflates what
// precedes its pixels (a 16 MiB head), not its 80 MiB of pixels, which
// under a memory limit was fatal; elements before the pixels longer than the
// head are still walked (the whole data set inflated then).
func TestClassifyDeflatedBomb(t *testing.T) {
	bomb := deflatedImage(t, 40<<10, 0)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	h := classify(t, bomb)
	runtime.ReadMemStats(&after)
	if !h.Kind.Image {
		t.Fatalf("classified as %+v", h.Kind)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 3*inflatedHead {
		t.Fatalf("classifying %d bytes that inflate to 80 MiB allocated %d bytes", len(bomb), got)
	}
	long := deflatedImage(t, 16, inflatedHead+4096)
	if h := classify(t, long); !h.Kind.Image || h.SOPClass != fixture.CTImage {
		t.Fatalf("an image with %d bytes before its pixels classified as %+v", inflatedHead+4096, h)
	}
}
