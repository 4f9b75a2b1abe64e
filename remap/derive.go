package remap

import (
	"crypto/sha256"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// ImplementationClassUID identifies files written by this tool; it is a
// fixed 2.25 UID made once from a random UUID.
const ImplementationClassUID = "2.25.204633466046318513745426263938475305235"

// deriveUID returns a 2.25 UID (an RFC 9562 version 8 UUID as an integer)
// hashed from the tool version, the role of the UID, the source UID and the
// parameters: reruns give the same UID, other parameters another one.
func deriveUID(role string, p Params, sourceUID string, src ValueRange, method string) string {
	h := sha256.New()
	fmt.Fprintf(h, "dicom-remap\x00%s\x00%s\x00%s\x00%d\x00%d", p.Version, role, sourceUID, p.Min, p.Max)
	if role == "instance" {
		// Integral ranges hash as they did when ranges were integers.
		fmt.Fprintf(h, "\x00%s\x00%s", FormatDecimal(src.Lo), FormatDecimal(src.Hi))
		if method != "" {
			fmt.Fprintf(h, "\x00%s", method)
		}
	}
	sum := h.Sum(nil)[:16]
	sum[6] = sum[6]&0x0f | 0x80 // version 8
	sum[8] = sum[8]&0x3f | 0x80 // RFC 9562 variant
	return "2.25." + new(big.Int).SetBytes(sum).String()
}

// SOP classes whose IODs require unsigned pixels (PixelRepresentation 0).
var unsignedOnly = map[string]string{
	"1.2.840.10008.5.1.4.1.1.1":        "CR",
	"1.2.840.10008.5.1.4.1.1.1.1":      "DX",
	"1.2.840.10008.5.1.4.1.1.1.1.1":    "DX",
	"1.2.840.10008.5.1.4.1.1.1.2":      "mammography",
	"1.2.840.10008.5.1.4.1.1.1.2.1":    "mammography",
	"1.2.840.10008.5.1.4.1.1.1.3":      "intra-oral",
	"1.2.840.10008.5.1.4.1.1.1.3.1":    "intra-oral",
	"1.2.840.10008.5.1.4.1.1.3.1":      "ultrasound",
	"1.2.840.10008.5.1.4.1.1.6.1":      "ultrasound",
	"1.2.840.10008.5.1.4.1.1.6.2":      "ultrasound",
	"1.2.840.10008.5.1.4.1.1.12.1":     "XA",
	"1.2.840.10008.5.1.4.1.1.12.2":     "RF",
	"1.2.840.10008.5.1.4.1.1.12.1.1":   "XA",
	"1.2.840.10008.5.1.4.1.1.12.2.1":   "RF",
	"1.2.840.10008.5.1.4.1.1.20":       "NM",
	"1.2.840.10008.5.1.4.1.1.7.2":      "secondary capture",
	"1.2.840.10008.5.1.4.1.1.7.3":      "secondary capture",
	"1.2.840.10008.5.1.4.1.1.77.1.1":   "VL",
	"1.2.840.10008.5.1.4.1.1.77.1.2":   "VL",
	"1.2.840.10008.5.1.4.1.1.77.1.4":   "VL",
	"1.2.840.10008.5.1.4.1.1.77.1.5.1": "ophthalmic",
}

func signedAllowed(im *image) bool {
	if !im.monochrome() {
		return false
	}
	_, unsigned := unsignedOnly[im.sopClass]
	return !unsigned
}

func imageKind(im *image) string {
	if k, ok := unsignedOnly[im.sopClass]; ok {
		return k + " images"
	}
	return im.photometric + " images"
}

// SOP classes whose Image Type value 2 may be SECONDARY; elsewhere (PET and
// the enhanced IODs, for instance) it must stay PRIMARY.
var secondaryAllowed = map[string]bool{
	"1.2.840.10008.5.1.4.1.1.1":   true, // CR
	"1.2.840.10008.5.1.4.1.1.2":   true, // CT
	"1.2.840.10008.5.1.4.1.1.4":   true, // MR
	"1.2.840.10008.5.1.4.1.1.7":   true, // secondary capture
	"1.2.840.10008.5.1.4.1.1.7.1": true,
	"1.2.840.10008.5.1.4.1.1.7.2": true,
	"1.2.840.10008.5.1.4.1.1.7.3": true,
	"1.2.840.10008.5.1.4.1.1.7.4": true,
}

// derive turns ds into the header of the derived image.
func derive(ds *dicom.Dataset, im *image, p Params, rep Report, smallest, largest int64) {
	pixelVR := "US"
	if rep.Signed {
		pixelVR = "SS"
	}
	center := p.Min + p.Max + 1 // twice the window center: [Min, Max] exactly
	width := p.Max - p.Min + 1
	windowCenter := strconv.FormatInt(center/2, 10)
	if center%2 != 0 {
		windowCenter = strconv.FormatFloat(float64(center)/2, 'f', 1, 64)
	}

	values := "stored pixel values"
	lut := rep.lut
	switch {
	case lut:
		values = "modality values (stored values through the modality LUT)"
	case rep.rescaled:
		values = "modality values (stored value × rescale slope + intercept)"
	}
	desc := fmt.Sprintf("dicom-remap %s: %s linearly remapped from [%s, %s] to [%d, %d], rounded half up",
		p.Version, values, FormatDecimal(rep.Source.Lo), FormatDecimal(rep.Source.Hi), p.Min, p.Max)
	if p.Standardize != nil && rep.Method != "" {
		desc = fmt.Sprintf("dicom-remap %s: %s histogram-standardized piecewise linearly, the standard scale [0, 100] mapped to [%d, %d], rounded half up, clamped; image landmarks from %s (1st percentile) to %s (99th)",
			p.Version, values, p.Min, p.Max, FormatDecimal(rep.Source.Lo), FormatDecimal(rep.Source.Hi))
	}
	if d := describeDecoding(im); d != "" {
		desc += "; " + d
	}
	if p.Source != nil {
		desc += "; the source range was given for the whole series, values outside it clamped"
	}
	if rep.Method != "" && p.Standardize != nil {
		desc += "; " + rep.Method
	} else if rep.Method != "" {
		desc += "; source range: " + rep.Method
		if p.Source == nil {
			desc += ", values outside it clamped"
		}
	}
	if im.padding != nil {
		desc += fmt.Sprintf("; padding %d..%d set to %d", im.padding.lo, im.padding.hi, p.Min)
	}
	if lut {
		desc += "; modality LUT, VOI LUT and physical units removed"
	} else {
		desc += "; rescale, VOI LUT and physical units removed"
	}
	if old := textOf(find(ds.Elements, tagDerivationDesc)); old != "" {
		desc += "; before: " + old
	}
	if len(desc) > 1024 { // the ST limit
		desc = desc[:1024]
	}

	e := &editor{elems: ds.Elements}
	// File meta, rebuilt: the library writes group 2 from these.
	e.drop(func(el *dicom.Element) bool { return el.Tag.Group == 0x0002 })
	e.set(tag.FileMetaInformationVersion, "OB", []byte{0, 1})
	e.set(tag.MediaStorageSOPClassUID, "UI", []string{im.sopClass})
	e.set(tag.MediaStorageSOPInstanceUID, "UI", []string{rep.NewSOP})
	e.set(tag.TransferSyntaxUID, "UI", []string{tsExplicitLE})
	e.set(tagImplementationClass, "UI", []string{ImplementationClassUID})
	e.set(tagImplementationName, "SH", []string{"DICOM_REMAP"})

	if cs := find(e.elems, tag.SpecificCharacterSet); cs != nil {
		// The library decoded every string to UTF-8.
		if textOf(cs) != "" && textOf(cs) != "ISO_IR 192" {
			e.set(tag.SpecificCharacterSet, "CS", []string{"ISO_IR 192"})
		}
	}
	e.set(tag.SOPClassUID, "UI", []string{im.sopClass}) // it may have been only in the file meta
	e.set(tag.SOPInstanceUID, "UI", []string{rep.NewSOP})
	e.set(tag.SeriesInstanceUID, "UI", []string{rep.NewSeries})
	if it := find(e.elems, tag.ImageType); it != nil {
		e.set(tag.ImageType, "CS", derivedType(valuesOf(it), secondaryAllowed[im.sopClass]))
	} else {
		e.set(tag.ImageType, "CS", derivedType([]string{"ORIGINAL", "PRIMARY"}, secondaryAllowed[im.sopClass]))
	}
	e.set(tagDerivationDesc, "ST", []string{desc})
	e.set(tagSourceImageSequence, "SQ", [][]*dicom.Element{{
		element(tag.ReferencedSOPClassUID, "UI", []string{im.sopClass}),
		element(tag.ReferencedSOPInstanceUID, "UI", []string{im.sopInstance}),
		element(tagPurposeOfReference, "SQ", [][]*dicom.Element{{
			element(tag.CodeValue, "SH", []string{"121322"}),
			element(tag.CodingSchemeDesignator, "SH", []string{"DCM"}),
			element(tag.CodeMeaning, "LO", []string{"Source image for image processing operation"}),
		}}),
	}})

	deriveFormat(e, im)
	e.set(tag.BitsStored, "US", []int{rep.BitsStored})
	e.set(tag.HighBit, "US", []int{rep.BitsStored - 1})
	e.set(tag.PixelRepresentation, "US", []int{boolInt(rep.Signed)})
	for _, t := range []tag.Tag{tag.SmallestImagePixelValue, tag.LargestImagePixelValue} {
		e.drop(is(t))
	}
	// These are US or SS: 32-bit pixels have no way to state them.
	if im.monochrome() && im.bitsAllocated <= 16 {
		e.set(tag.SmallestImagePixelValue, pixelVR, []int{int(smallest)})
		e.set(tag.LargestImagePixelValue, pixelVR, []int{int(largest)})
	}
	e.drop(is(tagSmallestInSeries, tagLargestInSeries, tagSmallestInPlane, tagLargestInPlane, tagPixelPaddingRange))
	if im.padding != nil {
		e.set(tag.PixelPaddingValue, pixelVR, []int{int(p.Min)})
	} else {
		e.drop(is(tag.PixelPaddingValue))
	}

	neutralize(e, windowCenter, width)
	// PET Units are required; NONE is honest. Dose scaling would turn the new
	// values into a false dose.
	if find(e.elems, tagUnits) != nil {
		e.set(tagUnits, "CS", []string{"NONE"})
	}
	e.drop(is(tagDoseGridScaling, tagIconImageSequence))

	for _, t := range []tag.Tag{tagSharedGroups, tagPerFrameGroups} {
		seq := find(e.elems, t)
		if seq == nil {
			continue
		}
		items := sequenceItems(seq)
		for i, item := range items {
			items[i] = deriveGroup(item, windowCenter, width)
		}
		e.set(t, "SQ", items)
	}
	ds.Elements = e.sorted()
}

// deriveFormat states the pixel format of decoded or converted pixels:
// interleaved RGB where the input was YBR or palette colour, and Lossy
// Image Compression kept for lossy input (PS3.3 C.7.6.1.1.5: once lossy,
// always flagged).
func deriveFormat(e *editor, im *image) {
	if im.convert != convertNone {
		e.set(tag.PhotometricInterpretation, "CS", []string{im.photometric})
		e.set(tag.SamplesPerPixel, "US", []int{im.samplesPerPixel})
		e.set(tag.BitsAllocated, "US", []int{im.bitsAllocated})
		e.drop(is(append(append(append(tagPaletteDescriptors[:], tagPaletteData[:]...), tagSegmentedPalette[:]...), tagPaletteUID)...))
	}
	if im.samplesPerPixel == 3 && (im.syntax != nil || im.convert != convertNone) {
		e.set(tag.PlanarConfiguration, "US", []int{0}) // decoded frames are interleaved
	}
	if im.syntax != nil && im.syntax.lossy {
		e.set(tagLossyCompression, "CS", []string{"01"})
	}
	// 01 needs a method (Type 1C): the input's, else the syntax's own,
	// which for JPEG 2000 .91 is also the best guess when the input said
	// 01 over a reversible stream (gdcmconv --j2k --lossy truncates 5/3
	// layers and names no method)
	flagged := strings.TrimSpace(textOf(find(e.elems, tagLossyCompression))) == "01"
	if flagged && find(e.elems, tagLossyMethod) == nil && im.syntax != nil && im.syntax.method != "" {
		e.set(tagLossyMethod, "CS", []string{im.syntax.method})
	}
	if flagged && find(e.elems, tagLossyRatio) == nil && im.syntax != nil && im.syntax.ratio != "" {
		e.set(tagLossyRatio, "DS", []string{im.syntax.ratio})
	}
}

// neutralize resets the modality and VOI transforms of one dataset level.
func neutralize(e *editor, windowCenter string, width int64) {
	lut := find(e.elems, tagModalityLUTSequence) != nil
	e.drop(is(tagModalityLUTSequence))
	// The new values are their own modality values: rescale 1/0 replaces
	// the LUT (PS3.3 C.11.1 wants one of the two).
	if lut || find(e.elems, tag.RescaleSlope) != nil || find(e.elems, tag.RescaleIntercept) != nil {
		e.set(tag.RescaleIntercept, "DS", []string{"0"})
		e.set(tag.RescaleSlope, "DS", []string{"1"})
		e.set(tagRescaleType, "LO", []string{"US"})
	}
	if find(e.elems, tag.WindowCenter) != nil || find(e.elems, tag.WindowWidth) != nil {
		e.set(tag.WindowCenter, "DS", []string{windowCenter})
		e.set(tag.WindowWidth, "DS", []string{strconv.FormatInt(width, 10)})
		e.drop(is(tagWindowExplanation))
	}
	e.drop(is(tagVOILUTSequence, tagRealWorldValueMap))
}

// deriveGroup updates one functional group item: frame types, the pixel
// value transformation and the frame VOI LUT. A Modality LUT Sequence
// directly in the group gives way to a Pixel Value Transformation Sequence
// with rescale 1/0, the macro that states a frame's modality transform, so
// that no group keeps a stale table.
func deriveGroup(item []*dicom.Element, windowCenter string, width int64) []*dicom.Element {
	g := &editor{elems: item}
	g.drop(is(tagRealWorldValueMap))
	if find(g.elems, tagModalityLUTSequence) != nil {
		g.drop(is(tagModalityLUTSequence))
		// readRescales refused a Pixel Value Transformation Sequence beside
		// the table, so this one is new.
		g.set(tagPixelValueTransform, "SQ", [][]*dicom.Element{{
			element(tag.RescaleIntercept, "DS", []string{"0"}),
			element(tag.RescaleSlope, "DS", []string{"1"}),
			element(tagRescaleType, "LO", []string{"US"}),
		}})
	}
	for _, el := range g.elems {
		if el.RawValueRepresentation != "SQ" {
			continue
		}
		inner := sequenceItems(el)
		changed := false
		for i, it := range inner {
			sub := &editor{elems: it}
			if ft := find(it, tagFrameType); ft != nil {
				v := valuesOf(ft)
				if len(v) > 0 {
					v[0] = "DERIVED"
				}
				sub.set(tagFrameType, "CS", v)
			}
			if el.Tag == tagPixelValueTransform || el.Tag == tagFrameVOILUT {
				neutralize(sub, windowCenter, width)
			}
			inner[i] = sub.sorted()
			changed = true
		}
		if changed {
			v, _ := dicom.NewValue(inner)
			el.Value = v
			el.ValueLength = tag.VLUndefinedLength
		}
	}
	return g.sorted()
}

func derivedType(v []string, secondary bool) []string {
	out := append([]string(nil), v...)
	for len(out) < 2 {
		out = append(out, "")
	}
	out[0] = "DERIVED"
	if secondary {
		out[1] = "SECONDARY"
	} else if out[1] == "" {
		out[1] = "PRIMARY"
	}
	return out
}

func valuesOf(e *dicom.Element) []string {
	v, _ := e.Value.GetValue().([]string)
	return append([]string(nil), v...)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// checkText refuses text the library could not decode: written out it would
// be mojibake.
func checkText(elems []*dicom.Element, depth int) error {
	if depth > 64 {
		return reject(StepHeader, "sequences nested deeper than 64 levels")
	}
	for _, e := range elems {
		switch v := e.Value.GetValue().(type) {
		case []string:
			for _, s := range v {
				if strings.ContainsAny(s, "\uFFFD\x1b") {
					return reject(StepHeader, "%s holds text that cannot be decoded in its character set", tagName(e.Tag))
				}
			}
		case []*dicom.SequenceItemValue:
			for _, item := range sequenceItems(e) {
				if err := checkText(item, depth+1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// editor edits one level of a dataset.
type editor struct{ elems []*dicom.Element }

func element(t tag.Tag, vr string, data any) *dicom.Element {
	v, err := dicom.NewValue(data)
	if err != nil {
		panic(err) // only reached with a type this file passes by mistake
	}
	length := uint32(0)
	if vr == "SQ" {
		length = tag.VLUndefinedLength
	}
	return &dicom.Element{Tag: t, ValueRepresentation: tag.GetVRKind(t, vr), RawValueRepresentation: vr, ValueLength: length, Value: v}
}

func (e *editor) set(t tag.Tag, vr string, data any) {
	n := element(t, vr, data)
	for i, el := range e.elems {
		if el.Tag == t {
			e.elems[i] = n
			return
		}
	}
	e.elems = append(e.elems, n)
}

func (e *editor) drop(match func(*dicom.Element) bool) {
	e.elems = slices.DeleteFunc(e.elems, match)
}

func is(tags ...tag.Tag) func(*dicom.Element) bool {
	return func(el *dicom.Element) bool { return slices.Contains(tags, el.Tag) }
}

// sorted returns the elements in ascending tag order, as the encoding
// requires; appended elements land in place.
func (e *editor) sorted() []*dicom.Element {
	slices.SortStableFunc(e.elems, func(a, b *dicom.Element) int {
		if a.Tag.Group != b.Tag.Group {
			return int(a.Tag.Group) - int(b.Tag.Group)
		}
		return int(a.Tag.Element) - int(b.Tag.Element)
	})
	return e.elems
}
