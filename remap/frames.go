package remap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/dicom-remap/dicom-remap/codec"
	"github.com/dicom-remap/dicom-remap/codec/color"
)

// Pixel data that cannot be mapped as it is stored is turned into native
// little-endian samples one frame at a time: encapsulated (compressed)
// frames are decoded, and colour models other than RGB become RGB. Frames
// are then mapped like native chunks; nothing holds more than a few frames.

// frameDecoder decodes one frame of an encapsulated transfer syntax.
type frameDecoder interface {
	Decode(dst, src []byte, f codec.Frame) error
}

// conversion is what turns the stored samples of a frame into RGB.
type conversion int

const (
	convertNone      conversion = iota
	convertYBR                  // YBR_FULL (or JPEG's YBR_FULL_422, upsampled by the decoder) to RGB
	convertYBR422               // native YBR_FULL_422: chroma shared by pixel pairs, then to RGB
	convertPalette              // palette indices through the Palette Color LUTs
	convertByDecoder            // YBR_RCT, YBR_ICT: the JPEG 2000 decoder gives RGB
)

// frameSource gives decoded or converted frames.
type frameSource struct {
	count int // frames
	size  int // bytes of one output frame

	// Where the stored frames are: fragments in the file for encapsulated
	// data; else native frames of rawSize bytes, in the file from offset
	// or in mem.
	file      io.ReaderAt
	fragments [][]span
	mem       []byte
	offset    int64
	rawSize   int
	order     binary.ByteOrder // of native samples

	newDecoder func() frameDecoder // nil for native frames
	stored     codec.Frame         // a frame as stored (decoded, before conversion)
	convert    conversion
	planar     int // native planar configuration
	precision  int // bits of a YBR sample
	palette    *color.Palette
	indexBits  int  // bits stored of palette indices
	signed     bool // palette indices are signed

	// threads is how many goroutines a decoder that can use them gives
	// one frame: the threads the frame workers leave idle, when frames
	// are fewer than threads (a single large frame)
	threads int

	// Frame buffers released for reuse, and the workers of finished
	// passes: the measuring pass and the writing pass decode the same
	// frames, and a decoder's scratch (a JPEG 2000 tile's coefficients) is
	// worth keeping between them. Lists, not a sync.Pool: a garbage
	// collection between the passes would empty a pool, and every frame
	// in flight be allocated again.
	buffers freeList[*[]byte]
	idle    freeList[*frameWorker]
}

// freeList keeps released values for reuse; safe for concurrent use.
type freeList[T any] struct {
	mu    sync.Mutex
	items []T
}

// get returns a released value, or a new one from make.
func (l *freeList[T]) get(make func() T) T {
	l.mu.Lock()
	if n := len(l.items); n > 0 {
		v := l.items[n-1]
		l.items = l.items[:n-1]
		l.mu.Unlock()
		return v
	}
	l.mu.Unlock()
	return make()
}

func (l *freeList[T]) put(v T) {
	l.mu.Lock()
	l.items = append(l.items, v)
	l.mu.Unlock()
}

// worker returns an idle worker, or a new one.
func (f *frameSource) worker() *frameWorker {
	return f.idle.get(func() *frameWorker { return new(frameWorker) })
}

// done keeps w for the next pass.
func (f *frameSource) done(w *frameWorker) { f.idle.put(w) }

// setFrameThreads shares the threads between frame workers and the
// decoders: a frame is decoded by threads / workers goroutines.
func (s pixelSource) setFrameThreads(threads int) {
	if s.frames != nil {
		s.frames.threads = max(1, threadLimit(threads)/s.workers(threads))
	}
}

// frameWorker holds one goroutine's scratch space.
type frameWorker struct {
	src []byte
	dec frameDecoder
}

func (f *frameSource) buffer() *[]byte {
	return f.buffers.get(func() *[]byte {
		b := make([]byte, f.size)
		return &b
	})
}

func (f *frameSource) release(b *[]byte) { f.buffers.put(b) }

// read decodes frame i into dst, which holds f.size bytes.
func (f *frameSource) read(i int, dst []byte, w *frameWorker) error {
	var stored []byte
	if f.newDecoder != nil {
		src, err := f.compressed(i, w)
		if err != nil {
			return err
		}
		stored = dst
		if f.convert == convertPalette {
			// The indices are decoded into the end of the frame, which
			// Expand maps in place: no frame of indices besides it.
			stored = dst[len(dst)-f.stored.Size():]
		}
		if w.dec == nil {
			w.dec = f.newDecoder()
			if t, ok := w.dec.(interface{ SetThreads(int) }); ok {
				t.SetThreads(f.threads)
			}
		}
		if err := w.dec.Decode(stored, src, f.stored); err != nil {
			var ce *codec.Error
			if errors.As(err, &ce) {
				return reject(StepPixels, "frame %d of %d: %v", i+1, f.count, err)
			}
			return &Error{Kind: Internal, Step: StepPixels, Err: fmt.Errorf("frame %d: %w", i+1, err)}
		}
	} else {
		switch {
		case f.convert == convertPalette, f.convert == convertYBR422, f.convert == convertYBR && f.planar == 0:
			// Read into the frame's end and converted in place, front to
			// back: an output pixel never overtakes the stored ones not
			// yet read (palette: 3 or 6 bytes from 1 or 2; YBR_FULL_422:
			// 6 from 4; YBR_FULL: the same 3).
			stored = dst[len(dst)-f.rawSize:]
		default:
			stored = grow(&w.src, f.rawSize) // planar YBR: interleaved from a copy
		}
		if err := f.native(i, stored); err != nil {
			return err
		}
	}
	switch f.convert {
	case convertNone, convertByDecoder: // decoded into dst (native frames always convert)
	case convertPalette:
		if f.indexBits < f.stored.Bits {
			// Bits above Bits Stored carry no meaning: mask them, and
			// sign-extend signed indices, before the lookup.
			c := newCodec(f.stored.Bits, f.indexBits, f.signed, binary.LittleEndian)
			for j := range len(stored) / c.bytes {
				c.put(stored, j, c.value(c.raw(stored, j)))
			}
		}
		f.palette.Expand(dst, stored, f.stored.Bits/8, f.signed)
	case convertYBR422:
		if err := color.Expand422(dst, stored, f.stored.Columns, f.stored.Rows); err != nil {
			return reject(StepPixels, "frame %d: %v", i+1, err)
		}
		color.YBRFullToRGB(dst, 1, 8)
	case convertYBR:
		if f.newDecoder == nil {
			interleave(dst, stored, f.planar, f.stored)
		}
		color.YBRFullToRGB(dst, f.stored.Bits/8, f.precision)
	}
	return nil
}

// compressed returns the bytes of frame i's fragments, concatenated.
func (f *frameSource) compressed(i int, w *frameWorker) ([]byte, error) {
	n := int64(0)
	for _, s := range f.fragments[i] {
		n += s.length
	}
	src := grow(&w.src, int(n))
	at := 0
	for _, s := range f.fragments[i] {
		if _, err := f.file.ReadAt(src[at:at+int(s.length)], s.offset); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, reject(StepPixels, "truncated: frame %d ends early", i+1)
			}
			return nil, &Error{Kind: Internal, Step: StepPixels, Err: err}
		}
		at += int(s.length)
	}
	return src, nil
}

// native reads native frame i into raw, f.rawSize bytes, as
// little-endian samples.
func (f *frameSource) native(i int, raw []byte) error {
	off := int64(i) * int64(f.rawSize)
	if f.mem != nil {
		// A copy: the conversion may change it in place, and mem is the
		// caller's input.
		copy(raw, f.mem[off:off+int64(f.rawSize)])
	} else if _, err := f.file.ReadAt(raw, f.offset+off); err != nil {
		if errors.Is(err, io.EOF) {
			return reject(StepPixels, "truncated: pixel data ends early")
		}
		return &Error{Kind: Internal, Step: StepPixels, Err: err}
	}
	if f.order == binary.BigEndian && f.stored.Bits == 16 {
		for j := 0; j+1 < len(raw); j += 2 {
			raw[j], raw[j+1] = raw[j+1], raw[j]
		}
	}
	return nil
}

// interleave copies a native 8-bit three-sample frame to dst with the
// samples of a pixel together.
func interleave(dst, src []byte, planar int, f codec.Frame) {
	if planar == 0 {
		if &dst[0] != &src[0] {
			copy(dst, src)
		}
		return
	}
	n := f.Columns * f.Rows
	for p := range n {
		dst[3*p], dst[3*p+1], dst[3*p+2] = src[p], src[n+p], src[2*n+p]
	}
}

// grow returns (*b)[:n], reallocating when it is too small.
func grow(b *[]byte, n int) []byte {
	if cap(*b) < n {
		*b = make([]byte, n)
	}
	return (*b)[:n]
}

// frameFragments assigns the fragments of encapsulated Pixel Data to
// frames. items are the item values (the Basic Offset Table first), bot
// the Basic Offset Table's offsets, eot the Extended Offset Table's (each
// may be empty), and startsFrame tells whether a fragment begins with the
// start of a compressed frame (a JPEG SOI marker) when it can be told.
//
// An offset table that cannot be right (another number of entries than
// frames, an entry that is not the start of a fragment, or of a fragment
// that does not begin a compressed frame) is set aside, as dcmtk and GDCM
// do: the frames are found from the fragments themselves, and warning says
// so. Every fragment stays in some frame: nothing is cropped or filled in.
func frameFragments(items []span, frames int, bot, eot []uint64, startsFrame func(span) (bool, bool)) (_ [][]span, warning string, _ error) {
	if len(items) < 2 {
		return nil, "", reject(StepPixels, "encapsulated pixel data holds no fragments")
	}
	frags := items[1:]
	offsets, name := eot, "extended offset table"
	if len(offsets) == 0 {
		offsets, name = bot, "basic offset table"
	}
	if len(offsets) == 0 {
		out, err := fragmentFrames(frags, frames, startsFrame)
		if err != nil {
			return nil, "", reject(StepPixels, "%v", err)
		}
		return out, "", nil
	}
	starts, terr := tableStarts(frags, frames, offsets, startsFrame)
	if terr == nil {
		return split(frags, starts), "", nil
	}
	out, err := fragmentFrames(frags, frames, startsFrame)
	if err != nil {
		return nil, "", reject(StepPixels, "the %s is wrong (%v), and the fragments do not tell the frames apart either: %v", name, terr, err)
	}
	return out, fmt.Sprintf("the %s does not match the fragments (%v): frames found from the fragments themselves", name, terr), nil
}

// tableStarts returns the first fragment of each frame as an offset table
// gives it, or why the table cannot be right.
func tableStarts(frags []span, frames int, offsets []uint64, startsFrame func(span) (bool, bool)) ([]int, error) {
	if len(offsets) != frames {
		return nil, fmt.Errorf("it lists %d frames, the header declares %d", len(offsets), frames)
	}
	// Offsets count from the first fragment's item tag, 8 bytes before
	// its value.
	base := frags[0].offset - 8
	starts := make([]int, 0, frames)
	k := 0
	for fi, off := range offsets {
		for k < len(frags) && uint64(frags[k].offset-8-base) < off {
			k++
		}
		if k == len(frags) || uint64(frags[k].offset-8-base) != off || (fi > 0 && k == starts[fi-1]) || (fi == 0 && k != 0) {
			return nil, fmt.Errorf("entry %d (%d) does not point to a fragment of its own", fi+1, off)
		}
		if begins, known := startsFrame(frags[k]); known && !begins {
			return nil, fmt.Errorf("entry %d (%d) points to a fragment that does not begin a compressed frame", fi+1, off)
		}
		starts = append(starts, k)
	}
	return starts, nil
}

// fragmentFrames finds the frames from the fragments alone: all of them
// for one frame, one each when there are as many as frames, else a frame
// starts where a fragment starts with a new compressed stream.
func fragmentFrames(frags []span, frames int, startsFrame func(span) (bool, bool)) ([][]span, error) {
	switch {
	case frames == 1:
		// One frame over several fragments: only the first may begin a
		// stream. Complete streams after it are frames the header does
		// not declare, which would be dropped unseen.
		n := 0
		for k, s := range frags {
			if begins, known := startsFrame(s); !known {
				break
			} else if begins {
				n++
			} else if k == 0 {
				break // the first fragment is no stream start: the decoder refuses it
			}
		}
		if n > 1 {
			return nil, reject(StepPixels, "%d fragments each begin a compressed stream, the header declares 1 frame", n)
		}
		return [][]span{frags}, nil
	case len(frags) == frames:
		return split(frags, nil), nil
	case len(frags) < frames:
		return nil, fmt.Errorf("%d fragments hold fewer than the %d frames the header declares", len(frags), frames)
	}
	starts := make([]int, 0, frames)
	for k, s := range frags {
		begins, known := startsFrame(s)
		if !known {
			return nil, fmt.Errorf("%d fragments for %d frames and no offset table: cannot tell which fragments make which frame", len(frags), frames)
		}
		if begins {
			starts = append(starts, k)
		}
	}
	if len(starts) != frames || starts[0] != 0 {
		return nil, fmt.Errorf("%d fragments begin a compressed frame, the header declares %d frames", len(starts), frames)
	}
	return split(frags, starts), nil
}

// split cuts frags into frames beginning at starts (one fragment each when
// starts is nil).
func split(frags []span, starts []int) [][]span {
	if starts == nil {
		out := make([][]span, len(frags))
		for i := range frags {
			out[i] = frags[i : i+1]
		}
		return out
	}
	out := make([][]span, len(starts))
	for i, s := range starts {
		end := len(frags)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		out[i] = frags[s:end]
	}
	return out
}
