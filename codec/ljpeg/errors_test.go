package ljpeg

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/codec"
)

// graySamples returns the pattern of an image as P-bit samples.
func graySamples(img image, precision int) []uint16 {
	out := make([]uint16, len(img.spec.Values))
	for i, v := range img.spec.Values {
		out[i] = uint16(uint64(v) & (1<<precision - 1))
	}
	return out
}

// edit returns a copy of stream with the byte at offset off from the start
// of the first marker segment m (its 0xFF) replaced by v.
func edit(t *testing.T, stream []byte, m byte, off int, v byte) []byte {
	t.Helper()
	at := bytes.Index(stream, []byte{0xFF, m})
	if at < 0 {
		t.Fatalf("no marker 0x%02x", m)
	}
	out := bytes.Clone(stream)
	out[at+off] = v
	return out
}

func TestErrors(t *testing.T) {
	gray := grayImage(13, 17, 0, 16, 16, false)
	rgb := rgbImage(7, 9, 0)
	g := testStream(graySamples(gray, 16), 17, 13, 1, streamOptions{precision: 16, predictor: 4, restartLines: 3})
	c := testStream(graySamples(rgb, 8), 9, 7, 3, streamOptions{precision: 8, predictor: 1, separate: true})
	gf, cf := gray.frame, rgb.frame
	unaligned := testStream(graySamples(gray, 16), 17, 13, 1, streamOptions{precision: 16, predictor: 1, restartMCUs: 5})

	type tc struct {
		name        string
		stream      []byte
		f           codec.Frame
		unsupported bool
	}
	cases := []tc{
		{"columns", g, codec.Frame{Columns: 16, Rows: 13, Samples: 1, Bits: 16}, false},
		{"rows", g, codec.Frame{Columns: 17, Rows: 14, Samples: 1, Bits: 16}, false},
		{"samples", g, codec.Frame{Columns: 17, Rows: 13, Samples: 3, Bits: 16}, false},
		{"components", c, codec.Frame{Columns: 9, Rows: 7, Samples: 1, Bits: 8}, false},
		{"precision16-in-8", g, codec.Frame{Columns: 17, Rows: 13, Samples: 1, Bits: 8}, false},
		{"bits32", g, codec.Frame{Columns: 17, Rows: 13, Samples: 1, Bits: 32}, true},
		{"empty-frame", g, codec.Frame{}, false},
		{"empty", nil, gf, false},
		{"no-soi", g[2:], gf, false},
		{"sof0", edit(t, g, markerSOF3, 1, 0xC0), gf, true},
		{"sof11-arithmetic", edit(t, g, markerSOF3, 1, 0xCB), gf, true},
		{"precision1", edit(t, g, markerSOF3, 4, 1), gf, false},
		{"precision17", edit(t, g, markerSOF3, 4, 17), gf, false},
		{"height-in-dnl", edit(t, edit(t, g, markerSOF3, 5, 0), markerSOF3, 6, 0), gf, true},
		{"subsampled", edit(t, c, markerSOF3, 11, 0x21), cf, true},
		{"bad-sampling", edit(t, g, markerSOF3, 11, 0x05), gf, false},
		{"duplicate-component", edit(t, c, markerSOF3, 13, 1), cf, false},
		{"undefined-table", edit(t, g, markerSOS, 6, 0x30), gf, false},
		{"predictor0", edit(t, g, markerSOS, 7, 0), gf, false},
		{"predictor8", edit(t, g, markerSOS, 7, 8), gf, false},
		{"pt-above-precision", edit(t, c, markerSOS, 9, 8), cf, false},
		{"unknown-scan-component", edit(t, g, markerSOS, 5, 9), gf, false},
		{"component-twice", edit(t, c, markerSOS, 5, 2), cf, false}, // first scan decodes component 2, so does the second
		{"wrong-rst", edit(t, g, markerRST0, 1, markerRST0+3), gf, false},
		{"unaligned-restart", unaligned, gf, true},
		{"table-truncated", edit(t, g, markerDHT, 6, 200), gf, false},
		{"table-code-overflow", edit(t, edit(t, g, markerDHT, 5, 3), markerDHT, 7, 1), gf, false},
		{"table-symbol-17", edit(t, g, markerDHT, 21, 17), gf, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var d Decoder
			size := max(c.f.Size(), 1)
			err := d.Decode(make([]byte, size), c.stream, c.f)
			var ce *codec.Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *codec.Error", err)
			}
			if errors.Is(err, codec.ErrUnsupported) != c.unsupported {
				t.Fatalf("got %v, unsupported should be %v", err, c.unsupported)
			}
			t.Log(err)
		})
	}

	t.Run("destination-size", func(t *testing.T) {
		var d Decoder
		err := d.Decode(make([]byte, gf.Size()-1), g, gf)
		var ce *codec.Error
		if !errors.As(err, &ce) {
			t.Fatalf("got %v, want a *codec.Error", err)
		}
	})

	// Every cut before EOI loses data the image needs.
	t.Run("truncated", func(t *testing.T) {
		for _, s := range []struct {
			stream []byte
			f      codec.Frame
		}{{g, gf}, {c, cf}} {
			var d Decoder
			dst := make([]byte, s.f.Size())
			for n := 2; n < len(s.stream)-2; n++ {
				err := d.Decode(dst, s.stream[:n], s.f)
				var ce *codec.Error
				if !errors.As(err, &ce) || !strings.Contains(err.Error(), "stream ends early") {
					t.Fatalf("cut at %d of %d: got %v, want a *codec.Error that says so", n, len(s.stream), err)
				}
			}
			// With padding after EOI the image is whole.
			if err := d.Decode(dst, append(bytes.Clone(s.stream), 0), s.f); err != nil {
				t.Fatalf("padded: %v", err)
			}
			// Without EOI it is refused, also when the last data byte
			// became a zero pad (a writer padding a cut fragment): such a
			// stream decodes to a few wrong samples.
			cut := bytes.Clone(s.stream[:len(s.stream)-2])
			padded := append(bytes.Clone(cut[:len(cut)-1]), 0)
			for _, tail := range [][]byte{cut, padded, append(padded, 0)} {
				err := d.Decode(dst, tail, s.f)
				var ce *codec.Error
				if !errors.As(err, &ce) || !strings.Contains(err.Error(), "no EOI") && !strings.Contains(err.Error(), "ends early") {
					t.Fatalf("%d bytes without EOI: got %v, want a refusal", len(tail), err)
				}
			}
		}
	})

	t.Run("garbage-entropy-data", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		at := bytes.Index(g, []byte{0xFF, markerSOS}) + 10
		var d Decoder
		dst := make([]byte, gf.Size())
		for i := 0; i < 500; i++ {
			s := bytes.Clone(g)
			for k := 0; k < 1+i%5; k++ {
				s[at+rng.IntN(len(s)-at-2)] = byte(rng.Uint32())
			}
			if err := d.Decode(dst, s, gf); err != nil {
				var ce *codec.Error
				if !errors.As(err, &ce) {
					t.Fatalf("got %v, want a *codec.Error", err)
				}
			}
		}
	})
}

// A lone component's sampling factors change nothing (T.81 A.2.2: a
// non-interleaved scan's MCU is one sample), so they are accepted.
func TestLoneComponentSampling(t *testing.T) {
	gray := grayImage(13, 17, 0, 16, 16, false)
	g := edit(t, testStream(graySamples(gray, 16), 17, 13, 1, streamOptions{precision: 16, predictor: 5}), markerSOF3, 11, 0x22)
	var d Decoder
	dst := make([]byte, gray.frame.Size())
	if err := d.Decode(dst, g, gray.frame); err != nil {
		t.Fatal(err)
	}
	got, exp := samples(gray, dst), want(gray, 0, 0)
	for i := range exp {
		if got[i] != exp[i] {
			t.Fatalf("sample %d = %d, want %d", i, got[i], exp[i])
		}
	}
}
