package remap

import (
	"github.com/dicom-remap/dicom-remap/codec/jpeg"
	"github.com/dicom-remap/dicom-remap/codec/jpeg2000"
	"github.com/dicom-remap/dicom-remap/codec/jpegls"
	"github.com/dicom-remap/dicom-remap/codec/ljpeg"
	"github.com/dicom-remap/dicom-remap/codec/rle"
)

const tsRLE = "1.2.840.10008.1.2.5"

// syntaxCodecs are the encapsulated transfer syntaxes that can be decoded.
var syntaxCodecs = map[string]syntaxCodec{
	tsRLE:                    {uid: tsRLE, name: "RLE Lossless", newDecoder: newRLE},
	"1.2.840.10008.1.2.4.57": {uid: "1.2.840.10008.1.2.4.57", name: "JPEG Lossless", newDecoder: newLJPEG, jpeg: true},
	"1.2.840.10008.1.2.4.70": {uid: "1.2.840.10008.1.2.4.70", name: "JPEG Lossless SV1", newDecoder: newLJPEG, jpeg: true},
	"1.2.840.10008.1.2.4.50": {uid: "1.2.840.10008.1.2.4.50", name: "JPEG Baseline", newDecoder: newJPEG, jpeg: true,
		lossy: true, method: "ISO_10918_1"},
	"1.2.840.10008.1.2.4.51": {uid: "1.2.840.10008.1.2.4.51", name: "JPEG Extended", newDecoder: newJPEG, jpeg: true,
		lossy: true, method: "ISO_10918_1"},
	"1.2.840.10008.1.2.4.80": {uid: "1.2.840.10008.1.2.4.80", name: "JPEG-LS Lossless", newDecoder: newJPEGLS, jpeg: true},
	"1.2.840.10008.1.2.4.81": {uid: "1.2.840.10008.1.2.4.81", name: "JPEG-LS Near-Lossless", newDecoder: newJPEGLS, jpeg: true,
		lossy: true, method: "ISO_14495_1"},
	tsJ2KLossless: {uid: tsJ2KLossless, name: "JPEG 2000 Lossless", newDecoder: newJPEG2000, j2k: true},
	// Lossless or lossy: the input's own Lossy Image Compression is kept,
	// and set when the stream is irreversible (attachEncapsulated).
	tsJ2K: {uid: tsJ2K, name: "JPEG 2000", newDecoder: newJPEG2000, j2k: true, method: "ISO_15444_1"},
}

// JPEG 2000 syntaxes: .90 is lossless only; .91 may be either, and is
// lossy when the stream's wavelet is irreversible (9/7).
const (
	tsJ2KLossless = "1.2.840.10008.1.2.4.90"
	tsJ2K         = "1.2.840.10008.1.2.4.91"
)

func newRLE() frameDecoder      { return new(rle.Decoder) }
func newLJPEG() frameDecoder    { return new(ljpeg.Decoder) }
func newJPEG() frameDecoder     { return new(jpeg.Decoder) }
func newJPEGLS() frameDecoder   { return new(jpegls.Decoder) }
func newJPEG2000() frameDecoder { return new(jpeg2000.Decoder) }
