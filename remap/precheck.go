package remap

import (
	"encoding/binary"
	"errors"
	"io"

	"github.com/dicom-remap/dicom-remap/codec"
	"github.com/dicom-remap/dicom-remap/codec/jpeg2000"
)

// Hostile input is refused before a frame buffer is allocated: a header
// that declares gigabytes over a tiny stream must end as a rejection, not as
// the runtime's fatal "out of memory" under a virtual-memory limit. What can
// be checked without decoding is checked for every frame first: the stream's
// own header against the frame the DICOM header declares, and its length
// against the least that any stream of that syntax needs for such a frame.

// headBytes is how much of a frame's stream is read to find its header.
const headBytes = 4096

// checkStreams checks each frame's stream against the declared frame.
func (f *frameSource) checkStreams(syn *syntaxCodec) error {
	need := minStreamBytes(syn, f.stored)
	var head []byte
	for i, frags := range f.fragments {
		var total int64
		for _, s := range frags {
			total += s.length
		}
		if total < need {
			return reject(StepPixels, "frame %d of %d: %d bytes of %s cannot hold a %dx%d frame of %d samples (it needs at least %d)",
				i+1, f.count, total, syn.name, f.stored.Columns, f.stored.Rows, f.stored.Samples, need)
		}
		head = head[:0]
		for _, s := range frags {
			n := min(s.length, int64(headBytes-len(head)))
			at := len(head)
			head = append(head, make([]byte, n)...)
			if _, err := f.file.ReadAt(head[at:], s.offset); err != nil {
				if errors.Is(err, io.EOF) {
					return reject(StepPixels, "truncated: frame %d ends early", i+1)
				}
				return &Error{Kind: Internal, Step: StepPixels, Err: err}
			}
			if len(head) == headBytes {
				break
			}
		}
		if err := checkHead(syn, head, f.stored); err != nil {
			return reject(StepPixels, "frame %d of %d: %v", i+1, f.count, err)
		}
	}
	return nil
}

// minStreamBytes is the length below which no stream of the syntax can
// encode frame f: an RLE segment yields at most 128 bytes for every 2 it
// holds; a lossless JPEG sample takes at least a 1-bit Huffman code; a DCT
// block at least a 1-bit DC code and a 1-bit end of block. JPEG-LS (run
// mode) and JPEG 2000 (empty code-blocks) can encode a flat frame in almost
// nothing: for them the memory bound (fitMemory) is what holds.
func minStreamBytes(syn *syntaxCodec, f codec.Frame) int64 {
	px := int64(f.Columns) * int64(f.Rows)
	switch syn.uid {
	case tsRLE:
		segments := int64(f.Samples * f.Bits / 8)
		return 64 + segments*2*((px+127)/128)
	case "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70":
		return 4 + (px*int64(f.Samples)+7)/8
	case "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51":
		blocks := ((int64(f.Columns) + 7) / 8) * ((int64(f.Rows) + 7) / 8)
		return 4 + blocks/4
	}
	return 0
}

// checkHead compares the stream header found in head, a frame's first
// bytes, with the declared frame. A header that head does not reach is left
// to the decoder, which checks it again.
func checkHead(syn *syntaxCodec, head []byte, f codec.Frame) error {
	switch {
	case syn.uid == tsRLE:
		if len(head) < 8 {
			return errors.New("rle: shorter than its header")
		}
		if n, want := binary.LittleEndian.Uint32(head), uint32(f.Samples*f.Bits/8); n != want {
			return codec.Errorf("rle", "%d segments, want %d for %d samples of %d bits", n, want, f.Samples, f.Bits)
		}
	case syn.jpeg:
		return checkJPEGHead(head, f)
	case syn.j2k:
		return checkJ2KHead(head, f)
	}
	return nil
}

// checkJPEGHead walks JPEG marker segments to the frame header (any SOFn,
// JPEG-LS's SOF55 too) and compares its size and components.
func checkJPEGHead(b []byte, f codec.Frame) error {
	if len(b) < 2 || b[0] != 0xff || b[1] != 0xd8 {
		return codec.Errorf("jpeg", "no SOI marker at the start of the stream")
	}
	p := 2
	for p+4 <= len(b) {
		if b[p] != 0xff {
			return nil // not a marker: the decoder says what it is
		}
		for p+1 < len(b) && b[p+1] == 0xff {
			p++
		}
		if p+4 > len(b) {
			return nil
		}
		m := b[p+1]
		n := int(binary.BigEndian.Uint16(b[p+2:]))
		sof := m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc || m == 0xf7
		switch {
		case sof:
			if p+10 > len(b) {
				return nil
			}
			rows, cols := int(binary.BigEndian.Uint16(b[p+5:])), int(binary.BigEndian.Uint16(b[p+7:]))
			comps := int(b[p+9])
			if rows != 0 && (rows != f.Rows || cols != f.Columns) {
				return codec.Errorf("jpeg", "stream is %d x %d, the header declares %d x %d", cols, rows, f.Columns, f.Rows)
			}
			if comps != f.Samples {
				return codec.Errorf("jpeg", "stream has %d components, the header declares %d samples per pixel", comps, f.Samples)
			}
			return nil
		case m == 0xda || m == 0xd9:
			return nil // no frame header before the scan: the decoder refuses it
		case m == 0x01 || m >= 0xd0 && m <= 0xd7:
			p += 2
			continue
		}
		p += 2 + n
	}
	return nil
}

// checkJ2KHead reads the SIZ segment that follows SOC and compares the
// image area (grid coordinates are 32-bit unsigned: computed in 64 bits)
// and the component count.
func checkJ2KHead(b []byte, f codec.Frame) error {
	if len(b) < 4 || b[0] != 0xff || b[1] != 0x4f {
		return nil // a JP2 file, or not J2K: the decoder says which
	}
	if b[2] != 0xff || b[3] != 0x51 || len(b) < 42 {
		return nil
	}
	u32 := func(at int) int64 { return int64(binary.BigEndian.Uint32(b[at:])) }
	x, y, x0, y0 := u32(8), u32(12), u32(16), u32(20)
	comps := int(binary.BigEndian.Uint16(b[40:]))
	if x <= x0 || y <= y0 {
		return codec.Errorf("jpeg-2000", "image area %d..%d x %d..%d is empty", x0, x, y0, y)
	}
	if x-x0 != int64(f.Columns) || y-y0 != int64(f.Rows) {
		return codec.Errorf("jpeg-2000", "stream is %d x %d, the header declares %d x %d", x-x0, y-y0, f.Columns, f.Rows)
	}
	if comps != f.Samples {
		return codec.Errorf("jpeg-2000", "stream has %d components, the header declares %d samples per pixel", comps, f.Samples)
	}
	return nil
}

// inFlightBudget bounds the decoded frames that parallel decoding keeps in
// flight (each worker decodes one and holds two ahead): large frames are
// decoded by fewer workers, one at the largest, so that peak memory is a
// frame plus the decoder's working set.
const inFlightBudget = 128 << 20

// maxFrameWorkers is how many workers may decode frames of size bytes.
func maxFrameWorkers(size int) int {
	return max(1, (inFlightBudget/max(size, 1)-1)/3)
}

// fitMemory refuses, before anything is allocated, an image whose decoded
// frame is over frameLimit or cannot be held within memLimit bytes of memory
// (zero: no limit). Half of memLimit is kept for the decoder's working set,
// the compressed frame and the runtime; a JPEG 2000 decoder (j2k) also
// holds coefficients, 4 bytes a sample of a small tile or a few strips of
// rows of a large one (jpeg2000.WorkingSet), so they are counted too.
func (s pixelSource) fitMemory(frameLimit, memLimit int64, j2k bool) error {
	if s.frames == nil {
		return nil
	}
	// Palette indices are decoded or read into the frame's end and
	// expanded in place: the frame is all.
	need := int64(s.frames.size)
	if need > frameLimit {
		return reject(StepPixels, "a decoded frame of %d bytes exceeds the %d-byte frame limit (--max-pixel-bytes raises it)", need, frameLimit)
	}
	if j2k {
		f := s.frames.stored
		need += jpeg2000.WorkingSet(f.Columns, f.Rows, f.Samples)
	}
	if memLimit > 0 && need > memLimit/2 {
		return reject(StepPixels, "a decoded frame needs %d bytes, more than this process may use (%d bytes of memory, from ulimit -v or the job's memory limit, half of it for frames)", need, memLimit)
	}
	return nil
}
