package jpegls

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/codec"
	"github.com/dicom-remap/dicom-remap/internal/codectest"
)

// charlsScript drives Debian's libcharls (the CharLS 2 that GDCM links)
// through ctypes, to encode what dcmtk and GDCM cannot be asked for:
// every precision from 2 to 16 (both write 8 or 16), MAXVAL below 2^P-1,
// HP colour transforms; and to decode near-lossless streams as a
// reference. Arguments: enc|dec, width, height, bits, components, near,
// interleave, maxval, t1, t2, t3, reset, transform, input, output.
const charlsScript = `
import ctypes, sys
lib = ctypes.CDLL("libcharls.so.2")
class FrameInfo(ctypes.Structure):
    _fields_ = [("width", ctypes.c_uint32), ("height", ctypes.c_uint32),
                ("bits_per_sample", ctypes.c_int32), ("component_count", ctypes.c_int32)]
class PC(ctypes.Structure):
    _fields_ = [(n, ctypes.c_int32) for n in ("maxval", "t1", "t2", "t3", "reset")]
mode = sys.argv[1]
w, h, bits, comps, near, ilv, maxval, t1, t2, t3, reset, transform = map(int, sys.argv[2:14])
data = open(sys.argv[14], "rb").read()
def check(err, what):
    if err != 0:
        sys.exit("charls %s: error %d" % (what, err))
if mode == "enc":
    lib.charls_jpegls_encoder_create.restype = ctypes.c_void_p
    enc = ctypes.c_void_p(lib.charls_jpegls_encoder_create())
    check(lib.charls_jpegls_encoder_set_frame_info(enc, ctypes.byref(FrameInfo(w, h, bits, comps))), "frame info")
    check(lib.charls_jpegls_encoder_set_near_lossless(enc, near), "near")
    check(lib.charls_jpegls_encoder_set_interleave_mode(enc, ilv), "interleave")
    if maxval or t1 or t2 or t3 or reset:
        check(lib.charls_jpegls_encoder_set_preset_coding_parameters(enc, ctypes.byref(PC(maxval, t1, t2, t3, reset))), "preset")
    if transform:
        check(lib.charls_jpegls_encoder_set_color_transformation(enc, transform), "transform")
    size = ctypes.c_size_t()
    check(lib.charls_jpegls_encoder_get_estimated_destination_size(enc, ctypes.byref(size)), "size")
    buf = ctypes.create_string_buffer(size.value)
    check(lib.charls_jpegls_encoder_set_destination_buffer(enc, buf, size), "destination")
    check(lib.charls_jpegls_encoder_encode_from_buffer(enc, data, ctypes.c_size_t(len(data)), ctypes.c_uint32(0)), "encode")
    n = ctypes.c_size_t()
    check(lib.charls_jpegls_encoder_get_bytes_written(enc, ctypes.byref(n)), "written")
    out = buf.raw[:n.value]
else:
    lib.charls_jpegls_decoder_create.restype = ctypes.c_void_p
    dec = ctypes.c_void_p(lib.charls_jpegls_decoder_create())
    check(lib.charls_jpegls_decoder_set_source_buffer(dec, data, ctypes.c_size_t(len(data))), "source")
    check(lib.charls_jpegls_decoder_read_header(dec), "header")
    size = ctypes.c_size_t()
    check(lib.charls_jpegls_decoder_get_destination_size(dec, ctypes.c_uint32(0), ctypes.byref(size)), "size")
    buf = ctypes.create_string_buffer(size.value)
    check(lib.charls_jpegls_decoder_decode_to_buffer(dec, buf, size, ctypes.c_uint32(0)), "decode")
    out = buf.raw
open(sys.argv[15], "wb").write(out)
`

// charlsCase is one stream for libcharls to write.
type charlsCase struct {
	rows, cols, bits, comps, near, ilv int
	maxval, t1, t2, t3, reset          int
	transform                          int
}

func (c charlsCase) String() string {
	return fmt.Sprintf("P%d-c%d-near%d-ilv%d-%dx%d-max%d-t%d,%d,%d-r%d", c.bits, c.comps, c.near, c.ilv, c.cols, c.rows,
		c.maxval, c.t1, c.t2, c.t3, c.reset)
}

func (c charlsCase) frame() codec.Frame {
	f := codec.Frame{Columns: c.cols, Rows: c.rows, Samples: c.comps, Bits: 8}
	if c.bits > 8 {
		f.Bits = 16
	}
	return f
}

// runCharLS runs the script in mode enc or dec on in and returns its output.
func runCharLS(t *testing.T, mode string, c charlsCase, in []byte) []byte {
	t.Helper()
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		codectest.NeedTool(t, "python3-for-libcharls-not-found")
	}
	dir := t.TempDir()
	inPath, outPath := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	if err := os.WriteFile(inPath, in, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-c", charlsScript, mode}
	for _, v := range []int{c.cols, c.rows, c.bits, c.comps, c.near, c.ilv, c.maxval, c.t1, c.t2, c.t3, c.reset, c.transform} {
		args = append(args, fmt.Sprint(v))
	}
	msg, err := exec.Command(python, append(args, inPath, outPath)...).CombinedOutput()
	if err != nil {
		if strings.Contains(string(msg), "libcharls.so.2") {
			if os.Getenv("DICOM_REMAP_REQUIRE_TOOLS") == "1" {
				t.Fatalf("libcharls is required: %s", msg)
			}
			t.Skipf("libcharls not installed: %s", msg)
		}
		t.Fatalf("libcharls %s %v: %v\n%s", mode, c, err, msg)
	}
	out, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// planar converts between pixel-interleaved samples (what Decode writes)
// and CharLS's layout, which is planar for ILV 0.
func planar(b []byte, c charlsCase, toPlanar bool) []byte {
	if c.comps == 1 || c.ilv != 0 {
		return b
	}
	n := c.frame().Bits / 8
	px := c.rows * c.cols
	out := make([]byte, len(b))
	for i := range px {
		for k := range c.comps {
			pi, pp := (i*c.comps+k)*n, (k*px+i)*n
			if toPlanar {
				copy(out[pp:pp+n], b[pi:pi+n])
			} else {
				copy(out[pi:pi+n], b[pp:pp+n])
			}
		}
	}
	return out
}

// TestCharLS checks streams of every precision, with and without preset
// parameters, against the source (lossless) or libcharls's own decode
// (near-lossless, which must also lie within NEAR of the source).
func TestCharLS(t *testing.T) {
	var cases []charlsCase
	for _, bits := range []int{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16} {
		for _, near := range []int{0, 1, 3} {
			if near > (1<<bits-1)/2 {
				continue
			}
			cases = append(cases, charlsCase{rows: 21, cols: 19, bits: bits, comps: 1, near: near})
		}
	}
	for _, ilv := range []int{0, 1, 2} {
		for _, near := range []int{0, 2} {
			cases = append(cases,
				charlsCase{rows: 13, cols: 17, bits: 8, comps: 3, near: near, ilv: ilv},
				charlsCase{rows: 9, cols: 11, bits: 12, comps: 3, near: near, ilv: ilv},
				charlsCase{rows: 5, cols: 6, bits: 4, comps: 3, near: near, ilv: ilv})
		}
	}
	cases = append(cases,
		// No MAXVAL below 2^P-1: libcharls 2.4 still codes with the RANGE
		// of 2^P-1 then (CharLS 3 follows T.87, as Decode does).
		charlsCase{rows: 20, cols: 23, bits: 16, comps: 1, t1: 100, t2: 1000, t3: 20000, reset: 1000},
		charlsCase{rows: 20, cols: 23, bits: 16, comps: 1, t1: 2, t2: 2, t3: 2, reset: 3, near: 1},
		// libcharls 2.4 overruns its buffers with RESET != 64 and ILV 2.
		charlsCase{rows: 20, cols: 23, bits: 8, comps: 3, ilv: 1, t1: 4, t2: 9, t3: 30, reset: 20, near: 1},
		charlsCase{rows: 20, cols: 23, bits: 5, comps: 3, ilv: 0, t1: 3, t2: 4, t3: 9, reset: 5},
		charlsCase{rows: 1, cols: 1, bits: 16, comps: 3, ilv: 2},
		charlsCase{rows: 1, cols: 70, bits: 3, comps: 1},
		charlsCase{rows: 70, cols: 1, bits: 10, comps: 3, ilv: 1, near: 1},
	)
	for _, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			im := image{rows: c.rows, cols: c.cols, frames: 1, bits: c.bits, rgb: c.comps == 3}
			values := im.values(uint64(c.bits*100 + c.near))
			limit := int64(1)<<c.bits - 1
			if c.maxval != 0 {
				limit = int64(c.maxval)
			}
			for i := range values {
				values[i] = min(values[i], limit)
			}
			source := im.expected(values)
			stream := runCharLS(t, "enc", c, planar(source, c, true))
			got := decodeAll(t, [][]byte{stream}, c.frame())
			if c.near == 0 {
				compare(t, got, source, im)
				return
			}
			want := planar(runCharLS(t, "dec", c, stream), c, false)
			compare(t, got, want, im)
			n := c.frame().Bits / 8
			for i := range values {
				g := int64(got[i*n])
				if n == 2 {
					g |= int64(got[i*n+1]) << 8
				}
				if d := g - values[i]; d > int64(c.near) || d < -int64(c.near) {
					t.Fatalf("sample %d: got %d, source %d, beyond NEAR %d", i, g, values[i], c.near)
				}
			}
		})
	}
}

// TestColourTransform checks that CharLS's HP colour transforms are
// refused by name.
func TestColourTransform(t *testing.T) {
	c := charlsCase{rows: 4, cols: 5, bits: 8, comps: 3, ilv: 2, transform: 1}
	im := image{rows: c.rows, cols: c.cols, frames: 1, bits: 8, rgb: true}
	stream := runCharLS(t, "enc", c, im.expected(im.values(1)))
	err := new(Decoder).Decode(make([]byte, c.frame().Size()), stream, c.frame())
	var ce *codec.Error
	if !errors.As(err, &ce) || !errors.Is(err, codec.ErrUnsupported) || !bytes.Contains([]byte(err.Error()), []byte("colour transform")) {
		t.Fatalf("got %v, want an unsupported colour transform", err)
	}
}
