package remap

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/big"
	"sort"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// A Modality LUT Sequence (computed radiography and angiography write it
// instead of a rescale) is the modality transform of PS3.3 C.11.1 as a
// table: stored value v has the modality value LUT[v − first], stored
// values below the first mapped one take the first entry and those past
// the last take the last. It is applied exactly as a rescale is: the map
// of stored values goes through the LUT's integer modality values, and the
// histograms that choose the source range count modality values.

var (
	tagLUTDescriptor = tag.Tag{Group: 0x0028, Element: 0x3002}
	tagLUTData       = tag.Tag{Group: 0x0028, Element: 0x3006}
)

// modalityLUT is one Modality LUT.
type modalityLUT struct {
	first   int64   // the stored value of the first entry
	entries []int64 // modality values, unsigned
	key     string  // identifies the table, for grouping frames and histograms
}

// at is the modality value of stored value v.
func (l *modalityLUT) at(v int64) int64 {
	i := v - l.first
	if i < 0 {
		i = 0
	} else if i >= int64(len(l.entries)) {
		i = int64(len(l.entries)) - 1
	}
	return l.entries[i]
}

// readModalityLUT reads the Modality LUT Sequence among elems, if any.
// signed says whether the pixels, and so the first mapped value, are
// signed.
func readModalityLUT(elems []*dicom.Element, signed bool) (rescale, bool, error) {
	seq := find(elems, tagModalityLUTSequence)
	if seq == nil {
		return rescale{}, false, nil
	}
	items := sequenceItems(seq)
	if len(items) != 1 {
		return rescale{}, false, reject(StepHeader, "a modality LUT sequence with %d items (one is allowed)", len(items))
	}
	var desc []int
	if d := find(items[0], tagLUTDescriptor); d != nil {
		desc, _ = d.Value.GetValue().([]int)
	}
	if len(desc) != 3 {
		return rescale{}, false, reject(StepHeader, "a modality LUT without a valid LUT descriptor")
	}
	n := desc[0] & 0xffff
	if n == 0 {
		n = 1 << 16 // PS3.3 C.11.1.1.1: 0 means 65536 entries
	}
	// The first mapped value is US or SS as the pixels are; the library
	// reads it with the VR the file gives.
	first := int64(uint16(desc[1]))
	if signed {
		first = int64(int16(uint16(desc[1])))
	}
	bits := desc[2]
	if bits != 8 && bits != 16 {
		return rescale{}, false, reject(StepHeader, "modality LUT entries of %d bits (8 or 16 are allowed)", bits)
	}
	d := find(items[0], tagLUTData)
	if d == nil {
		return rescale{}, false, reject(StepHeader, "a modality LUT without LUT data")
	}
	var data []byte
	switch v := d.Value.GetValue().(type) {
	case []byte: // OW: the library hands its words over little endian, whatever the syntax
		data = v
	case []int: // US, read as numbers
		data = make([]byte, 2*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint16(data[2*i:], uint16(x))
		}
	default:
		return rescale{}, false, reject(StepHeader, "modality LUT data is not binary")
	}
	entries := make([]int64, n)
	switch {
	case len(data) >= 2*n:
		// One entry a 16-bit word, as most writers and pydicom have it
		// (for 8-bit entries too: the high byte is not part of them).
		for i := range entries {
			entries[i] = int64(binary.LittleEndian.Uint16(data[2*i:]))
			if bits == 8 {
				entries[i] &= 0xff
			}
		}
	case bits == 8 && len(data) >= n:
		// 8-bit entries packed two a word, as 8 bits allocated (PS3.3
		// C.11.1.1.1).
		for i := range entries {
			entries[i] = int64(data[i])
		}
	default:
		return rescale{}, false, reject(StepHeader, "modality LUT data holds %d bytes, the descriptor declares %d entries of %d bits", len(data), n, bits)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%d\x00", first, bits)
	for _, e := range entries {
		binary.Write(h, binary.LittleEndian, uint16(e))
	}
	l := &modalityLUT{first: first, entries: entries, key: "lut " + hex.EncodeToString(h.Sum(nil)[:12])}
	// Slope and intercept stand for the identity of the LUT's output.
	return rescale{slope: big.NewRat(1, 1), intercept: new(big.Rat), key: l.key, lut: l}, true, nil
}

// lutHistogram turns a histogram of stored values into one of the LUT's
// modality values, with the identity rescale: histograms of modality
// values merge with any other file's.
func lutHistogram(h Histogram, l *modalityLUT) Histogram {
	counts := map[int64]uint64{}
	for i, v := range h.Values {
		counts[l.at(v)] += h.Counts[i]
	}
	out := Histogram{Slope: "1", Intercept: "0"}
	for m := range counts {
		out.Values = append(out.Values, m)
	}
	sort.Slice(out.Values, func(i, j int) bool { return out.Values[i] < out.Values[j] })
	for _, m := range out.Values {
		out.Counts = append(out.Counts, counts[m])
	}
	return out
}
