package remap

import (
	"github.com/dicom-remap/dicom-remap/codec/rle"
)

// syntaxCodecs are the encapsulated transfer syntaxes that can be decoded.
var syntaxCodecs = map[string]syntaxCodec{
	"1.2.840.10008.1.2.5": {name: "RLE Lossless", newDecoder: func() frameDecoder { return new(rle.Decoder) }},
}

func init() {
	for uid, c := range syntaxCodecs {
		c.uid = uid
		syntaxCodecs[uid] = c
	}
}
