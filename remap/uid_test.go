package remap

import (
	"strconv"
	"testing"
)

// TestDeriveUID: the exported scheme gives the images' UIDs from the same
// parts, so that UIDs derived elsewhere follow the same rule.
func TestDeriveUID(t *testing.T) {
	p := Params{Version: "9.9", Min: -5, Max: 300}
	src := IntRange(-1024, 3071)
	itoa := func(v int64) string { return strconv.FormatInt(v, 10) }
	if got, want := DeriveUID(p.Version, "series", "1.2.3", itoa(p.Min), itoa(p.Max)), deriveUID("series", p, "1.2.3", ValueRange{}, ""); got != want {
		t.Errorf("series: %s, images get %s", got, want)
	}
	if got, want := DeriveUID(p.Version, "instance", "1.2.3", itoa(p.Min), itoa(p.Max), "-1024", "3071", "m"), deriveUID("instance", p, "1.2.3", src, "m"); got != want {
		t.Errorf("instance: %s, images get %s", got, want)
	}
	if DeriveUID("a") == DeriveUID("b") {
		t.Error("different parts, same UID")
	}
}
