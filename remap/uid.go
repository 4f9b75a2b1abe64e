package remap

import (
	"crypto/sha256"
	"io"
	"math/big"
	"strings"
)

// DeriveUID returns the 2.25 UID (an RFC 9562 version 8 UUID as an integer)
// hashed from parts: the scheme of every UID this tool writes, so that
// reruns give the same UIDs and other inputs or parameters other ones.
// The images' UIDs hash the version, their role, the source UID, MIN and
// MAX (and for an instance its source range and method); callers deriving
// UIDs of other objects give a role of their own.
func DeriveUID(parts ...string) string {
	h := sha256.New()
	io.WriteString(h, "dicom-remap\x00"+strings.Join(parts, "\x00"))
	sum := h.Sum(nil)[:16]
	sum[6] = sum[6]&0x0f | 0x80 // version 8
	sum[8] = sum[8]&0x3f | 0x80 // RFC 9562 variant
	return "2.25." + new(big.Int).SetBytes(sum).String()
}
