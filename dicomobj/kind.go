// Package dicomobj tells DICOM objects apart from a cheap read of their
// header (an image to normalize, or a report, presentation state,
// segmentation, RT object, document or index that is not one) and writes
// derived copies of objects whose references to images are rewritten. It
// works on element headers and the few values it needs, never on pixel
// data, and knows nothing of files or flags: callers give readers and
// writers.
package dicomobj

import "strings"

// Kind is what an object is, as far as normalizing goes.
type Kind struct {
	// Image is true for an object whose pixels series mode normalizes.
	Image bool
	// Name says what the object is, for a skip reason: "a segmentation
	// (SEG)". Empty for images.
	Name string
	// Index is true for a DICOMDIR: a file-set index, never linked.
	Index bool
}

// Storage SOP classes that hold no image to normalize, by UID or by UID
// prefix (ending in "."), with what they are. An object of any other class
// is an image when it has Pixel Data.
var nonImage = []struct{ uid, name string }{
	{"1.2.840.10008.1.3.10", "a DICOMDIR index"},
	{"1.2.840.10008.5.1.4.1.1.88.59", "a key object selection (KO)"},
	{"1.2.840.10008.5.1.4.1.1.88.67", "a radiation dose structured report (SR)"},
	{"1.2.840.10008.5.1.4.1.1.88.68", "a radiation dose structured report (SR)"},
	{"1.2.840.10008.5.1.4.1.1.88.73", "a radiation dose structured report (SR)"},
	{"1.2.840.10008.5.1.4.1.1.88.76", "a radiation dose structured report (SR)"},
	{"1.2.840.10008.5.1.4.1.1.88.", "a structured report (SR)"},
	{"1.2.840.10008.5.1.4.1.1.11.", "a presentation state (PR)"},
	{"1.2.840.10008.5.1.4.1.1.66.4", "a segmentation (SEG)"},
	{"1.2.840.10008.5.1.4.1.1.66.7", "a segmentation (SEG)"},
	{"1.2.840.10008.5.1.4.1.1.66.8", "a segmentation (SEG)"},
	{"1.2.840.10008.5.1.4.1.1.66.5", "a surface segmentation"},
	{"1.2.840.10008.5.1.4.1.1.66.6", "tractography results"},
	{"1.2.840.10008.5.1.4.1.1.66.1", "a spatial registration (REG)"},
	{"1.2.840.10008.5.1.4.1.1.66.2", "spatial fiducials (FID)"},
	{"1.2.840.10008.5.1.4.1.1.66.3", "a deformable spatial registration (REG)"},
	{"1.2.840.10008.5.1.4.1.1.66", "raw data"},
	{"1.2.840.10008.5.1.4.1.1.67", "a real world value mapping"},
	{"1.2.840.10008.5.1.4.1.1.68.", "a surface scan"},
	{"1.2.840.10008.5.1.4.1.1.104.1", "an encapsulated PDF"},
	{"1.2.840.10008.5.1.4.1.1.104.2", "an encapsulated CDA document"},
	{"1.2.840.10008.5.1.4.1.1.104.", "an encapsulated document (STL, OBJ or MTL)"},
	{"1.2.840.10008.5.1.4.1.1.9.", "a waveform"},
	{"1.2.840.10008.5.1.4.1.1.481.3", "an RT structure set (RTSTRUCT)"},
	{"1.2.840.10008.5.1.4.1.1.481.5", "an RT plan (RTPLAN)"},
	{"1.2.840.10008.5.1.4.1.1.481.8", "an RT ion plan (RTPLAN)"},
	{"1.2.840.10008.5.1.4.1.1.481.1", ""}, // RT Image: an image
	{"1.2.840.10008.5.1.4.1.1.481.2", ""}, // RT Dose: an image (a dose grid)
	{"1.2.840.10008.5.1.4.1.1.481.", "an RT treatment object (record, intent or radiation)"},
	{"1.2.840.10008.5.1.4.34.", "an RT instruction or protocol"},
	{"1.2.840.10008.5.1.4.1.1.4.2", "an MR spectroscopy object"},
	{"1.2.840.10008.5.1.4.1.1.30", "a parametric map (floating-point pixels)"},
	{"1.2.840.10008.5.1.4.1.1.78.", "an ophthalmic measurement"},
	{"1.2.840.10008.5.1.4.1.1.79.1", "an ophthalmic measurement"},
	{"1.2.840.10008.5.1.4.1.1.80.1", "an ophthalmic visual field"},
	{"1.2.840.10008.5.1.4.1.1.77.1.5.3", "a stereometric relationship"},
	{"1.2.840.10008.5.1.4.1.1.200.", "a protocol"},
	{"1.2.840.10008.5.1.4.1.1.90.1", "content assessment results"},
	{"1.2.840.10008.5.1.4.1.1.91.1", "microscopy annotations"},
	{"1.2.840.10008.5.1.4.38.1", "a hanging protocol"},
	{"1.2.840.10008.5.1.4.39.1", "a color palette"},
	{"1.2.840.10008.5.1.4.43.1", "an implant template"},
	{"1.2.840.10008.5.1.4.44.1", "an implant template"},
	{"1.2.840.10008.5.1.4.45.1", "an implant template"},
	// Retired stand-alone objects.
	{"1.2.840.10008.5.1.4.1.1.8", "a stand-alone overlay"},
	{"1.2.840.10008.5.1.4.1.1.9", "a stand-alone curve"},
	{"1.2.840.10008.5.1.4.1.1.10", "a stand-alone modality LUT"},
	{"1.2.840.10008.5.1.4.1.1.11", "a stand-alone VOI LUT"},
	{"1.2.840.10008.5.1.4.1.1.129", "a stand-alone PET curve"},
}

const directoryClass = "1.2.840.10008.1.3.10"

// classKind returns what a SOP class names, ok false when it is not a
// class of the table (an image class, or one not known).
func classKind(class string) (name string, ok bool) {
	for _, c := range nonImage {
		if class == c.uid || strings.HasSuffix(c.uid, ".") && strings.HasPrefix(class, c.uid) {
			return c.name, c.name != ""
		}
	}
	return "", false
}
