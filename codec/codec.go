// Package codec holds what the pixel-data decoders of dicom-remap share: the
// shape of a decoded frame as the DICOM header declares it, and the error
// that every decoder returns for input it cannot decode.
//
// Each decoder lives in a package of its own below this one (rle, ljpeg,
// jpeg, jpegls) with the same narrow API: one frame's compressed bytes in,
// native samples out, checked against the Frame the header declares.
package codec

import (
	"bytes"
	"errors"
	"fmt"
)

// Frame is a decoded frame as the DICOM header declares it. Decoders write
// it to a []byte of exactly Size bytes: pixels in row-major order, the
// samples of a pixel next to each other (planar configuration 0), each
// sample Bits/8 bytes little endian holding the stored value's bits as the
// stream gives them (the caller masks to BitsStored and sign-extends).
type Frame struct {
	Columns, Rows int
	Samples       int // samples per pixel: 1 or 3
	Bits          int // bits allocated per sample: 8, 16 or 32
}

// Size is the decoded frame's length in bytes, or -1 when the frame is
// empty or its size overflows an int.
func (f Frame) Size() int {
	if f.Columns < 1 || f.Rows < 1 || f.Samples < 1 || f.Bits < 8 || f.Bits%8 != 0 {
		return -1
	}
	n := int64(f.Bits / 8)
	for _, d := range []int{f.Columns, f.Rows, f.Samples} {
		if n > (1<<40)/int64(d) {
			return -1
		}
		n *= int64(d)
	}
	return int(n)
}

// Error is what a decoder returns for input it cannot decode: corrupt or
// truncated data, a stream that disagrees with the Frame, or a feature it
// does not support. Every such error means the input is rejected.
type Error struct {
	Codec string // "rle", "jpeg", "jpeg-lossless", "jpeg-ls"
	Err   error
}

func (e *Error) Error() string { return e.Codec + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the named codec.
func Errorf(codecName, format string, args ...any) error {
	return &Error{Codec: codecName, Err: fmt.Errorf(format, args...)}
}

// ErrUnsupported marks a valid stream that uses a feature no decoder here
// implements; wrap it (with %w) so the message can name the feature.
var ErrUnsupported = errors.New("not supported")

// AfterEOI checks what follows a JPEG-family stream's EOI marker: padding
// may, another stream (an SOI marker) may not. A DICOM frame is one stream;
// a second one would be a frame the header does not declare, dropped unseen.
func AfterEOI(codecName string, rest []byte) error {
	if bytes.Contains(rest, []byte{0xff, 0xd8}) {
		return Errorf(codecName, "another stream follows EOI: a frame holds one")
	}
	return nil
}
