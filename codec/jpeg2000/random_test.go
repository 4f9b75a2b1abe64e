package jpeg2000

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// TestRandomOptions draws opj_compress option sets at random (fixed
// seed): sizes, offsets, tiles, levels, layers, orders, precincts,
// code-block sizes and styles, markers, both wavelets. Lossless streams
// must give the source back; lossy ones agree with opj_decompress to one.
func TestRandomOptions(t *testing.T) {
	rng := rand.New(rand.NewSource(2000))
	n := 60
	if testing.Short() {
		n = 15
	}
	orders := []string{"LRCP", "RLCP", "RPCL", "PCRL", "CPRL"}
	for i := range n {
		w, h := 1+rng.Intn(150), 1+rng.Intn(150)
		comps := 1 + 2*rng.Intn(2)
		bits := []int{1, 4, 8, 10, 12, 16}[rng.Intn(6)]
		signed := rng.Intn(3) == 0
		var opts []string
		tw, th := w, h
		if rng.Intn(3) == 0 {
			tw, th = 16+rng.Intn(80), 16+rng.Intn(80)
			opts = append(opts, "-t", fmt.Sprintf("%d,%d", tw, th))
		}
		if rng.Intn(4) == 0 {
			opts = append(opts, "-d", fmt.Sprintf("%d,%d", rng.Intn(9), rng.Intn(9)))
		}
		maxLevels := 0
		for m := min(tw, th, w, h); m > 1; m >>= 1 {
			maxLevels++
		}
		opts = append(opts, "-n", fmt.Sprint(1+rng.Intn(min(maxLevels, 7)+1)))
		opts = append(opts, "-p", orders[rng.Intn(5)])
		if rng.Intn(2) == 0 {
			p := 1 << (4 + rng.Intn(4))
			opts = append(opts, "-c", fmt.Sprintf("[%d,%d]", p, p))
		}
		if rng.Intn(2) == 0 {
			opts = append(opts, "-b", fmt.Sprintf("%d,%d", 4<<rng.Intn(4), 4<<rng.Intn(4)))
		}
		if rng.Intn(2) == 0 {
			opts = append(opts, "-M", fmt.Sprint(1+rng.Intn(63)))
		}
		if rng.Intn(3) == 0 {
			opts = append(opts, "-SOP")
		}
		if rng.Intn(3) == 0 {
			opts = append(opts, "-EPH")
		}
		lossy := rng.Intn(2) == 0
		if lossy {
			opts = append(opts, "-I")
			if rng.Intn(2) == 0 {
				opts = append(opts, "-r", fmt.Sprintf("%d,%d", 10+rng.Intn(20), 1+rng.Intn(5)))
			}
		} else if rng.Intn(3) == 0 {
			opts = append(opts, "-r", "10,3,1")
		}
		name := fmt.Sprintf("%d_%dx%dx%d-%d_%s", i, w, h, comps, bits, strings.Join(opts, ""))
		t.Run(name, func(t *testing.T) {
			im := synth(w, h, comps, bits, signed, int64(i))
			cs := opjEncodeMaybe(t, im, opts)
			if cs == nil {
				t.Skip("opj_compress refuses these options")
			}
			ref, refErr := opjDecodeMaybe(t, cs, im)
			f := im.frame()
			out := make([]byte, f.Size())
			var d Decoder
			if err := d.Decode(out, cs, f); err != nil {
				if refErr != nil {
					t.Skipf("opj_compress wrote a stream both decoders refuse: %v", err)
				}
				t.Fatalf("decode: %v", err)
			}
			checkStrips(t, cs, f, out)
			got := decoded(out, im, f)
			if refErr == nil {
				tol := int32(0) // 5/3 is exact
				if lossy {
					tol = 1
				}
				if diff, where := maxDiff(got, ref, w); diff > tol {
					t.Fatalf("differs from opj_decompress by %d at %s", diff, where)
				}
			}
			if !lossy {
				if diff, where := maxDiff(got, im.planes, w); diff != 0 {
					// opj_compress is not always lossless (a tile two
					// samples wide at five levels, say): the source is the
					// oracle only where opj_decompress gets it back
					if refErr != nil {
						t.Fatalf("differs from the source by %d at %s", diff, where)
					}
					if rd, _ := maxDiff(ref, im.planes, w); rd == 0 {
						t.Fatalf("differs from the source by %d at %s", diff, where)
					}
					t.Logf("opj_compress lost data: both decoders differ from the source by %d", diff)
				}
			}
		})
	}
}
