// Package htj2k decodes the code-blocks of High-Throughput JPEG 2000
// (ITU-T T.814 | ISO/IEC 15444-15): the cleanup pass (MEL, the context
// VLC, the unsigned residual U-VLC and MagSgn) and the optional
// significance-propagation and magnitude-refinement passes that refine it
// by one bit-plane. The codestream around the blocks is Part 1's and lives
// in package jpeg2000, which calls Decode for each HT code-block.
package htj2k

import (
	"errors"
	"fmt"
)

// ErrCorrupt marks a code-block whose data cannot be valid.
var ErrCorrupt = errors.New("corrupt HT code-block")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

// Block is one HT code-block as the packet headers describe it.
type Block struct {
	Width, Height int
	// Cleanup is the cleanup segment; Refine the segment of the
	// significance-propagation and magnitude-refinement passes (empty when
	// Passes is 1).
	Cleanup, Refine []byte
	// Passes is 1 (cleanup), 2 (and SigProp) or 3 (and MagRef).
	Passes int
	// MissingMSBs is the number of missing most significant bit-planes
	// (placeholder passes included); it bounds the magnitude exponents.
	MissingMSBs int
	// P places the result: the cleanup pass's magnitudes end at bit P of
	// the output, whose bit P-1 holds the reconstruction's half step (the
	// number of bit-planes of Part 1's tier-1 output). 1 <= P <= 30.
	P int
	// StripeCausal is code-block style 0x08: SigProp does not look at the
	// next stripe.
	StripeCausal bool
}

// Decoder decodes HT code-blocks; it keeps scratch buffers between calls.
// The zero value is ready to use. Not safe for concurrent use.
type Decoder struct {
	rho   [2][]uint8  // significance pattern of each quad: the previous and the current quad row
	eLine [2][]uint32 // exponent of each sample in a quad row's second line, by column + 1
	flags []uint8     // per sample: 1 significant after cleanup, 2 after SigProp; a border of one
}

// Maximum code-block size (T.800 A.6.1, which Part 15 keeps).
const (
	maxWidth = 1024
	maxArea  = 4096
)

// Decode decodes b into dst, Width*Height samples in rows: each is the
// sign in bit 31 and the magnitude below, with one fractional bit (the
// reconstruction point half a step above the last decoded bit-plane), as
// Part 1's tier-1 leaves its samples. Samples stay zero where nothing is
// significant.
func (d *Decoder) Decode(dst []uint32, b *Block) error {
	w, h := b.Width, b.Height
	if w < 1 || h < 1 || w > maxWidth || w*h > maxArea {
		return fmt.Errorf("HT code-block of %dx%d samples", w, h)
	}
	if len(dst) < w*h {
		return fmt.Errorf("destination of %d samples for a %dx%d code-block", len(dst), w, h)
	}
	if b.P < 1 || b.P > 30 || b.MissingMSBs < 0 || b.MissingMSBs > 30 {
		return corrupt("%d bit-planes with %d missing", b.P, b.MissingMSBs)
	}
	dst = dst[:w*h]
	clear(dst)
	passes := b.Passes
	if passes < 1 || passes > 3 {
		return corrupt("%d coding passes in one HT set", passes)
	}
	if passes > 1 && (len(b.Refine) == 0 || b.P < 2) {
		// nothing to refine with, or no bit-plane below the cleanup pass
		// to refine: the decoders of reference keep the cleanup pass
		passes = 1
	}
	if err := d.cleanup(dst, b); err != nil {
		return err
	}
	if passes > 1 {
		d.sigProp(dst, b)
		if passes > 2 {
			d.magRef(dst, b)
		}
	}
	return nil
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}
