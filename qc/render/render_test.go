package render

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"testing"

	"github.com/dicom-remap/dicom-remap/qc"
	"github.com/dicom-remap/dicom-remap/remap"
)

// picture collects a frames-frame 20×30 image with padding and clamped values.
func picture(t *testing.T, frames int) qc.Picture {
	t.Helper()
	s := remap.Shape{Rows: 20, Columns: 30, Frames: frames, SamplesPerPixel: 1, Photometric: "MONOCHROME2", Modality: "CT",
		Units: "HU", Slope: 1, Intercept: -1024, Source: remap.Range{Lo: 100, Hi: 900}, Min: 0, Max: 255,
		Padding: func(v int64) bool { return v == 0 }}
	c := qc.NewCollector(1)
	o := c.File(0)
	o.Begin(s)
	n := 20 * 30 * frames
	in, out := make([]int64, n), make([]int64, n)
	for i := range in {
		in[i] = int64((i*37 + i/600*50) % 1000)
		switch v := min(max(in[i], 100), 900); {
		case in[i] == 0:
			out[i] = 0
		default:
			out[i] = ((v-100)*255*2 + 800) / 1600
		}
	}
	o.Samples(0, in, out)
	o.Done()
	return c.Picture("render-test.dcm", "given")
}

func render(t *testing.T, p qc.Picture) ([]byte, *image.RGBA) {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(&buf, p); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	rgba := image.NewRGBA(img.Bounds())
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			rgba.Set(x, y, img.At(x, y))
		}
	}
	return buf.Bytes(), rgba
}

func TestRenderPanelsAndSize(t *testing.T) {
	for _, frames := range []int{1, 7} {
		p := picture(t, frames)
		data, img := render(t, p)
		l := p.Layout()
		if img.Bounds().Size() != l.Size {
			t.Fatalf("%d frames: size %v, layout %v", frames, img.Bounds().Size(), l.Size)
		}
		if want := min(frames, 5); len(p.Before) != want || len(l.Before) != want {
			t.Fatalf("%d frames: %d panels", frames, len(p.Before))
		}
		// The centre of every reduced pixel shows it exactly.
		for i := range p.Before {
			for _, side := range []struct {
				r   image.Rectangle
				src *image.RGBA
			}{{l.Before[i], p.Before[i]}, {l.After[i], p.After[i]}} {
				f := l.Scale[i]
				for y := range side.src.Bounds().Dy() {
					for x := range side.src.Bounds().Dx() {
						got := img.RGBAAt(side.r.Min.X+x*f+f/2, side.r.Min.Y+y*f+f/2)
						if want := side.src.RGBAAt(x, y); got != want {
							t.Fatalf("%d frames: panel %d pixel %d,%d: %v, want %v", frames, i, x, y, got, want)
						}
					}
				}
			}
		}
		// Bars of every category are drawn: in range, clamped, padding,
		// and the output.
		for _, c := range []color.RGBA{insideColor, clampedColor, paddingColor, outputColor, markColor} {
			if !hasColour(img, c) {
				t.Errorf("%d frames: no pixel of colour %v", frames, c)
			}
		}
		chunks(t, data)
	}
}

func hasColour(img *image.RGBA, c color.RGBA) bool {
	for i := 0; i+4 <= len(img.Pix); i += 4 {
		if img.Pix[i] == c.R && img.Pix[i+1] == c.G && img.Pix[i+2] == c.B {
			return true
		}
	}
	return false
}

// chunks requires the PNG to hold only image data: no text, no time.
func chunks(t *testing.T, data []byte) {
	t.Helper()
	data = data[8:]
	for len(data) >= 12 {
		n := binary.BigEndian.Uint32(data)
		typ := string(data[4:8])
		switch typ {
		case "IHDR", "IDAT", "IEND":
		default:
			t.Errorf("PNG chunk %s: only image data is allowed", typ)
		}
		data = data[12+n:]
	}
}

func TestRenderDeterministic(t *testing.T) {
	p := picture(t, 7)
	a, _ := render(t, p)
	b, _ := render(t, picture(t, 7))
	if !bytes.Equal(a, b) {
		t.Fatal("two renders of the same picture differ")
	}
}

// A picture with no samples at all (every file padding-free and empty is
// impossible, but a constant image is not) still draws.
func TestRenderConstant(t *testing.T) {
	s := remap.Shape{Rows: 2, Columns: 2, Frames: 1, SamplesPerPixel: 1, Slope: 1, Source: remap.Range{Lo: 5, Hi: 5}, Min: -10, Max: 10}
	c := qc.NewCollector(1)
	o := c.File(0)
	o.Begin(s)
	o.Samples(0, []int64{5, 5, 5, 5}, []int64{-10, -10, -10, -10})
	o.Done()
	render(t, c.Picture("constant", "the image's extremes"))
}
