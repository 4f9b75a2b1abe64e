// Package rle decodes DICOM RLE Lossless (transfer syntax
// 1.2.840.10008.1.2.5, DICOM PS3.5 Annex G).
//
// A frame is a 64-byte header (the segment count and fifteen segment
// offsets) followed by one PackBits-compressed segment per byte plane per
// sample, most significant byte first: a 16-bit RGB frame has six segments,
// R high, R low, G high, G low, B high, B low. Each segment decodes straight
// into its byte lane of the interleaved little-endian output, so no plane is
// ever buffered.
package rle

import (
	"encoding/binary"

	"github.com/dicom-remap/dicom-remap/codec"
)

const (
	name       = "rle"
	headerSize = 64
	maxOffsets = 15
)

// Decoder decodes RLE frames. The zero value is ready to use. It has the
// shape of the other decoders but holds nothing: segments decode straight
// into the caller's frame, so there is no scratch to keep, and one Decoder
// may even serve several goroutines.
type Decoder struct{}

// Decode decodes one frame's compressed bytes (all fragments of the frame,
// concatenated; trailing padding may follow) into dst, which must be exactly
// f.Size() bytes long.
func (d *Decoder) Decode(dst, src []byte, f codec.Frame) error {
	if f.Samples != 1 && f.Samples != 3 {
		return codec.Errorf(name, "%d samples per pixel: %w", f.Samples, codec.ErrUnsupported)
	}
	if f.Bits != 8 && f.Bits != 16 && f.Bits != 32 {
		return codec.Errorf(name, "%d bits allocated: %w", f.Bits, codec.ErrUnsupported)
	}
	if size := f.Size(); size < 0 || len(dst) != size {
		return codec.Errorf(name, "destination of %d bytes for a %dx%d frame of %d samples of %d bits", len(dst), f.Columns, f.Rows, f.Samples, f.Bits)
	}
	if len(src) < headerSize {
		return codec.Errorf(name, "%d bytes is shorter than the %d-byte header", len(src), headerSize)
	}
	bytesPerSample := f.Bits / 8
	want := f.Samples * bytesPerSample
	segments := binary.LittleEndian.Uint32(src)
	if segments != uint32(want) {
		return codec.Errorf(name, "%d segments, want %d for %d samples of %d bits", segments, want, f.Samples, f.Bits)
	}
	var offsets [maxOffsets + 1]int
	for i := 0; i < want; i++ {
		off := int64(binary.LittleEndian.Uint32(src[4+4*i:]))
		prev := int64(headerSize)
		if i > 0 {
			prev = int64(offsets[i-1]) + 1
		}
		if off < prev || off >= int64(len(src)) {
			return codec.Errorf(name, "segment %d offset %d outside [%d, %d)", i+1, off, prev, len(src))
		}
		offsets[i] = int(off)
	}
	offsets[want] = len(src)

	pixels := f.Rows * f.Columns
	stride := want
	for s := 0; s < want; s++ {
		sample, plane := s/bytesPerSample, s%bytesPerSample
		// Plane 0 is the most significant byte; the output is little endian.
		lane := sample*bytesPerSample + bytesPerSample - 1 - plane
		got := unpack(dst[lane:], stride, pixels, src[offsets[s]:offsets[s+1]])
		switch {
		case got < pixels:
			return codec.Errorf(name, "segment %d decodes to %d bytes, %d missing", s+1, got, pixels-got)
		case got > pixels+1:
			// More than the one byte an even-length pad can add: the
			// stream is not this frame (wider, taller, or another one).
			return codec.Errorf(name, "segment %d decodes to more than the %d bytes of a %dx%d frame", s+1, pixels, f.Columns, f.Rows)
		}
	}
	return nil
}

// unpack decodes a PackBits segment into dst[0], dst[stride], ... up to n
// bytes and returns how many the segment holds, counting at most n+2: the
// caller refuses more than n+1. Real encoders sometimes emit one byte past
// the end of a segment, and the standard's even-length padding of a segment
// can read as one more run (a literal header with no byte after it adds
// nothing). A run cut short by the end of the segment writes what it has.
func unpack(dst []byte, stride, n int, seg []byte) int {
	out, i := 0, 0
	for out <= n+1 && i < len(seg) {
		c := int(int8(seg[i]))
		i++
		switch {
		case c >= 0: // c+1 literal bytes
			count := min(c+1, len(seg)-i)
			if count == 0 {
				return out
			}
			if w := min(count, n-out); w > 0 {
				scatter(dst[out*stride:], stride, seg[i:i+w])
			}
			i += c + 1
			out += count
		case c != -128: // the next byte 1-c times
			if i >= len(seg) {
				return out
			}
			if w := min(1-c, n-out); w > 0 {
				fill(dst[out*stride:], stride, w, seg[i])
			}
			i++
			out += 1 - c
		}
	}
	return min(out, n+2)
}

// scatter writes src to d[0], d[stride], ... The strides of real frames
// (1 grey 8-bit, 2 grey 16-bit, 3 RGB 8-bit) get loops of their own: with
// a constant stride the loop runs about twice as fast.
func scatter(d []byte, stride int, src []byte) {
	switch stride {
	case 1:
		copy(d, src)
	case 2:
		d = d[:2*len(src)-1]
		for k, b := range src {
			d[2*k] = b
		}
	case 3:
		d = d[:3*len(src)-2]
		for k, b := range src {
			d[3*k] = b
		}
	default:
		d = d[:stride*(len(src)-1)+1]
		for k, b := range src {
			d[stride*k] = b
		}
	}
}

// fill writes b to d[0], d[stride], ... count times.
func fill(d []byte, stride, count int, b byte) {
	switch stride {
	case 1:
		d = d[:count]
		for k := range d {
			d[k] = b
		}
	case 2:
		d = d[:2*count-1]
		for k := 0; k < len(d); k += 2 {
			d[k] = b
		}
	default:
		d = d[:stride*(count-1)+1]
		for k := 0; k < len(d); k += stride {
			d[k] = b
		}
	}
}
