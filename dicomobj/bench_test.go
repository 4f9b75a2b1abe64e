package dicomobj

import (
	"bytes"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
)

// What a series pays per file to be told apart: a slice's header walk up
// to Pixel Data, and a report's walk over all its element headers. Run
// with go test -bench . -benchmem ./dicomobj.
func BenchmarkClassify(b *testing.B) {
	slice := fixture.Build(fixture.CTSlice(512, 512, 0, "1", "1"))
	var items [][]fixture.Elem
	for i := range 2000 { // a dose report's worth of content items
		items = append(items, []fixture.Elem{fixture.Str(0x0040, 0xa040, "CS", "NUM"), fixture.Str(0x0040, 0xa160, "UT", "item"),
			fixture.Seq(8, 0x1199, []fixture.Elem{fixture.Str(8, 0x1155, "UI", "1.2.3."+string(rune('0'+i%10)))})})
	}
	report := fixture.File(classSR, "1.2.3", []fixture.Elem{fixture.Seq(0x0040, 0xa730, items...)})
	for _, c := range []struct {
		name string
		data []byte
	}{{"CT slice 512x512", slice}, {"SR 2000 items", report}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			for b.Loop() {
				if _, err := Classify(bytes.NewReader(c.data), int64(len(c.data))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("copy SR 2000 items", func(b *testing.B) {
		l := Links{Instances: map[string]string{"1.2.3.1": "2.25.11"}}
		b.SetBytes(int64(len(report)))
		for b.Loop() {
			if _, err := Copy(&bytes.Buffer{}, bytes.NewReader(report), int64(len(report)), Rewrite{Links: l, SOPInstance: "2.25.1"}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
