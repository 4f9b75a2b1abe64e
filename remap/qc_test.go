package remap

import (
	"bytes"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
)

// recorder keeps what an Observer is shown.
type recorder struct {
	shape   Shape
	in, out []int64
	next    int64
}

func (r *recorder) Begin(s Shape) { r.shape = s }
func (r *recorder) Samples(first int64, in, out []int64) {
	if first != r.next {
		panic("samples out of order")
	}
	r.next += int64(len(in))
	r.in, r.out = append(r.in, in...), append(r.out, out...)
}

// An Observer sees every stored value and the value it became, in order,
// and does not change the output.
func TestObserver(t *testing.T) {
	spec := fixture.CTSlice(40, 30, 3, "1", "1")
	spec.Extra = append(spec.Extra, fixture.SS(0x0028, 0x0120, -1024))
	data := fixture.Build(spec)
	p := Params{Min: 0, Max: 255, Version: "test"}
	var plain bytes.Buffer
	if _, err := Remap(&plain, bytes.NewReader(data), int64(len(data)), p); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	p.Observe = rec
	var seen bytes.Buffer
	rep, err := Remap(&seen, bytes.NewReader(data), int64(len(data)), p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(plain.Bytes(), seen.Bytes()) {
		t.Fatal("observing changed the output")
	}
	s := rec.shape
	source := Range{rep.Source.Lo.Num().Int64(), rep.Source.Hi.Num().Int64()} // rescale 1/0: stored values
	if s.Rows != 40 || s.Columns != 30 || s.Frames != 3 || s.Modality != "CT" || s.Units != "HU" || s.Source != source ||
		s.Min != 0 || s.Max != 255 || s.Padding == nil || !s.Padding(-1024) || s.Padding(0) {
		t.Fatalf("shape %+v", s)
	}
	if len(rec.in) != len(spec.Values) {
		t.Fatalf("%d samples seen of %d", len(rec.in), len(spec.Values))
	}
	m := linearMap{src: source, dst: Range{0, 255}}
	for i, v := range spec.Values {
		want := m.apply(v)
		if v == -1024 {
			want = 0
		}
		if rec.in[i] != v || rec.out[i] != want {
			t.Fatalf("sample %d: seen %d → %d, want %d → %d", i, rec.in[i], rec.out[i], v, want)
		}
	}
}

// With a Modality LUT the observer sees the LUT's modality values, and the
// source range in them.
func TestObserverModalityLUT(t *testing.T) {
	entries := lutEntries(3000)
	spec, values := crWithLUT(lutSequence(100, 16, entries, "US", false))
	data := fixture.Build(spec)
	rec := &recorder{}
	var out bytes.Buffer
	rep, err := Remap(&out, bytes.NewReader(data), int64(len(data)), Params{Min: 0, Max: 255, Version: "test", Observe: rec})
	if err != nil {
		t.Fatal(err)
	}
	if s := rec.shape.Source; s.Lo != rep.Source.Lo.Num().Int64() || s.Hi != rep.Source.Hi.Num().Int64() {
		t.Fatalf("shape source %v, report %v", s, rep.Source)
	}
	for i, smp := range lutSamples(values, 100, entries) {
		if rec.in[i] != smp.v {
			t.Fatalf("sample %d: seen %d, modality value %d", i, rec.in[i], smp.v)
		}
	}
}

// With a Modality LUT per frame (functional groups) the observer sees each
// frame's samples through that frame's table.
func TestObserverModalityLUTPerFrame(t *testing.T) {
	luts := lutTables()
	var items [][]fixture.Elem
	for _, l := range luts {
		items = append(items, []fixture.Elem{l.inPVT()})
	}
	spec, values := enhancedLUT(3, fixture.Seq(0x5200, 0x9230, items...))
	data := fixture.Build(spec)
	rec := &recorder{}
	var out bytes.Buffer
	if _, err := Remap(&out, bytes.NewReader(data), int64(len(data)), Params{Min: 0, Max: 255, Version: "test", Observe: rec}); err != nil {
		t.Fatal(err)
	}
	for i, smp := range frameSamples(values, 3, luts) {
		if rec.in[i] != smp.v {
			t.Fatalf("sample %d (frame %d): seen %d, modality value %d", i, i/(len(values)/3)+1, rec.in[i], smp.v)
		}
	}
}
