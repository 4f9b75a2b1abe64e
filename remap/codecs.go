package remap

import (
	"fmt"

	"github.com/dicom-remap/dicom-remap/codec"
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
	// HTJ2K: the JPEG 2000 decoder reads Part 15 too; the syntaxes add rules.
	tsHTJ2KLossless: {uid: tsHTJ2KLossless, name: "HTJ2K Lossless", newDecoder: newHTJ2K(tsHTJ2KLossless), j2k: true},
	tsHTJ2KRPCL:     {uid: tsHTJ2KRPCL, name: "HTJ2K Lossless RPCL", newDecoder: newHTJ2K(tsHTJ2KRPCL), j2k: true},
	// Lossless or lossy: an irreversible stream is lossy (attachEncapsulated).
	tsHTJ2K: {uid: tsHTJ2K, name: "HTJ2K", newDecoder: newHTJ2K(tsHTJ2K), j2k: true, method: "ISO_15444_15"},
}

// JPEG 2000 syntaxes: .90 is lossless only; .91 may be either, and is
// lossy when the stream's wavelet is irreversible (9/7).
const (
	tsJ2KLossless = "1.2.840.10008.1.2.4.90"
	tsJ2K         = "1.2.840.10008.1.2.4.91"
)

// HTJ2K syntaxes (PS3.5 A.4.4, 10.18): .201 and .202 lossless only, .202
// also in RPCL order with TLM markers and few enough samples at the lowest
// resolution for a thumbnail; .203 lossless or lossy.
const (
	tsHTJ2KLossless = "1.2.840.10008.1.2.4.201"
	tsHTJ2KRPCL     = "1.2.840.10008.1.2.4.202"
	tsHTJ2K         = "1.2.840.10008.1.2.4.203"
)

// htj2kDecoder decodes the frames of an HTJ2K syntax after checking the
// rules it adds to the codestream's.
type htj2kDecoder struct {
	jpeg2000.Decoder
	ts string
}

func newHTJ2K(ts string) func() frameDecoder {
	return func() frameDecoder { return &htj2kDecoder{ts: ts} }
}

func (d *htj2kDecoder) Decode(dst, src []byte, f codec.Frame) error {
	in, err := jpeg2000.Inspect(src)
	if err != nil {
		return err
	}
	if err := htj2kRules(d.ts, in); err != nil {
		return err
	}
	return d.Decoder.Decode(dst, src, f)
}

// htj2kRules checks a frame's codestream against its transfer syntax.
func htj2kRules(ts string, in jpeg2000.Info) error {
	fail := func(format string, args ...any) error {
		return codec.Errorf("jpeg-2000", "codestream in transfer syntax %s: %s", ts, fmt.Sprintf(format, args...))
	}
	if ts == tsHTJ2K {
		return nil
	}
	if in.Irreversible {
		return fail("irreversible (9/7) wavelet, which is lossy, where the syntax is lossless only")
	}
	if ts != tsHTJ2KRPCL {
		return nil
	}
	if in.Order != jpeg2000.RPCL || in.POC {
		return fail("progression order is not RPCL throughout")
	}
	if !in.TLM {
		return fail("no TLM marker")
	}
	if s := 1 << in.Levels; (in.Width+s-1)/s > 64 || (in.Height+s-1)/s > 64 {
		return fail("%d decomposition levels leave %dx%d samples at the lowest resolution, above 64", in.Levels, (in.Width+s-1)/s, (in.Height+s-1)/s)
	}
	return nil
}

func newRLE() frameDecoder      { return new(rle.Decoder) }
func newLJPEG() frameDecoder    { return new(ljpeg.Decoder) }
func newJPEG() frameDecoder     { return new(jpeg.Decoder) }
func newJPEGLS() frameDecoder   { return new(jpegls.Decoder) }
func newJPEG2000() frameDecoder { return new(jpeg2000.Decoder) }
