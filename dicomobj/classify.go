package dicomobj

import "io"

// Header is what Classify reads of an object.
type Header struct {
	Kind        Kind
	SOPClass    string // of the data set, else of the file meta
	SOPInstance string // likewise
	Series      string // Series Instance UID, "" when absent
}

// Classify reads the header of the DICOM file of size bytes in src and says
// what it is. It reads element headers, and values only of UIDs, up to
// Pixel Data: an image costs its header, a report or presentation state a
// walk over its element headers, which also checks that they hold
// together. An error means the file is not well-formed DICOM.
func Classify(src io.ReaderAt, size int64) (Header, error) {
	o, err := walk(src, size, true)
	if err != nil {
		if o != nil && o.uid(nil, 0, tagMetaSOPClass) == directoryClass {
			// A DICOMDIR is an index, skipped unread whatever its state,
			// as files named DICOMDIR are.
			return o.header(), nil
		}
		return Header{}, err
	}
	return o.header(), nil
}

func (o *object) header() Header {
	h := Header{
		SOPClass:    o.uid(o.elems, tagSOPClass, tagMetaSOPClass),
		SOPInstance: o.uid(o.elems, tagSOPInstance, tagMetaSOP),
		Series:      o.uid(o.elems, tagSeries, 0),
	}
	metaClass := o.uid(nil, 0, tagMetaSOPClass)
	switch name, ok := classKind(h.SOPClass); {
	case h.SOPClass == directoryClass || metaClass == directoryClass:
		h.Kind = Kind{Name: "a DICOMDIR index", Index: true}
	case ok:
		h.Kind = Kind{Name: name}
	case o.pixels:
		h.Kind = Kind{Image: true}
	case o.floatPix:
		h.Kind = Kind{Name: "an image of floating-point pixels"}
	default:
		h.Kind = Kind{Name: "an object without pixel data"}
	}
	return h
}

// uid is the value of the data set element t, else of the meta element m.
func (o *object) uid(elems []*element, t, m uint32) string {
	if e := find(elems, t); e != nil && e.value != nil {
		return uidText(e.value)
	}
	if e := find(o.meta, m); m != 0 && e != nil {
		return uidText(e.value)
	}
	return ""
}
