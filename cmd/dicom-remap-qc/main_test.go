package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"testing"

	"github.com/dicom-remap/dicom-remap/qc"
	"github.com/dicom-remap/dicom-remap/remap"
)

func validPicture() qc.Picture {
	c := qc.NewCollector(1)
	o := c.File(0)
	o.Begin(remap.Shape{Rows: 3, Columns: 2, Frames: 1, SamplesPerPixel: 1, Slope: 1, Source: remap.Range{Lo: 0, Hi: 5}, Min: 0, Max: 10})
	o.Samples(0, []int64{0, 1, 2, 3, 4, 5}, []int64{0, 2, 4, 6, 8, 10})
	o.Done()
	return c.Picture("fuzz", "given")
}

func encode(p qc.Picture) []byte {
	var b bytes.Buffer
	json.NewEncoder(&b).Encode(p)
	return b.Bytes()
}

func TestRun(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run(nil, bytes.NewReader(encode(validPicture())), &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	if _, err := png.Decode(&out); err != nil {
		t.Fatal(err)
	}
	if code := run([]string{"x"}, nil, &out, &errs); code != 2 {
		t.Fatalf("an argument: exit %d", code)
	}
}

// FuzzRun feeds the renderer what another process could send: it refuses
// or draws a PNG, and never panics.
func FuzzRun(f *testing.F) {
	f.Add(encode(validPicture()))
	bad := validPicture()
	bad.Before[0] = image.NewRGBA(image.Rect(0, 0, 300, 1))
	f.Add(encode(bad))
	f.Add([]byte("not json"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out, errs bytes.Buffer
		switch code := run(nil, bytes.NewReader(data), &out, &errs); code {
		case 0:
			if _, err := png.Decode(&out); err != nil {
				t.Fatalf("exit 0 with no PNG: %v", err)
			}
		case 1:
			if errs.Len() == 0 {
				t.Fatal("exit 1 without a message")
			}
		default:
			t.Fatalf("exit %d", code)
		}
	})
}
