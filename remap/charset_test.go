package remap

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// The expected strings are pydicom's readings of the same bytes (pydicom's
// charset samples and the examples of PS3.5 Annexes H to K).
var decodeCases = []struct {
	name, scs  string
	delimiters string
	in, want   string
}{
	{"latin-1", "ISO_IR 100", nameDelimiters, "Buc^J\xe9r\xf4me", "Buc^Jérôme"},
	{"greek", "ISO_IR 126", nameDelimiters, "\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2", "Διονυσιος"},
	{"thai", "ISO_IR 166", textDelimiters, "\xa1\xd2\xc3\xc3\xe9\xdf", "การร้฿"},
	{"jis x 0201 and 0208", `ISO 2022 IR 13\ISO 2022 IR 87`, nameDelimiters,
		"\xd4\xcf\xc0\xde^\xc0\xdb\xb3", "ﾔﾏﾀﾞ^ﾀﾛｳ"},
	{"jis x 0208 group", `ISO 2022 IR 13\ISO 2022 IR 87`, nameDelimiters,
		"\x1b$B;3ED\x1b(J^\x1b$BB@O:\x1b(J", "山田^太郎"},
	{"jis x 0208 after ascii", `\ISO 2022 IR 87`, nameDelimiters, "\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B", "やまだ^たろう"},
	{"jis x 0212", `\ISO 2022 IR 87\ISO 2022 IR 159`, nameDelimiters, "\x1b$(D0!\x1b(B", "丂"},
	{"korean", `\ISO 2022 IR 149`, nameDelimiters, "\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7", "洪^吉洞"},
	// A delimiter ends a G1 designation: what follows is in the first set.
	{"korean reset", `\ISO 2022 IR 149`, textDelimiters, "\x1b$)C\xb1\xe8\r\n\xb1\xe8", "김\r\n±è"},
	{"gb 2312", `\ISO 2022 IR 58`, nameDelimiters, "\x1b$)A\xd5\xc5^\x1b$)A\xd0\xa1\xb6\xab", "张^小东"},
	{"gb18030", "GB18030", nameDelimiters, "\xcd\xf5^\xd0\xa1\xb6\xab", "王^小东"},
	{"gb18030 four bytes", "GB18030", textDelimiters, "\x95\x32\x82\x36", "𠀀"},
	{"gbk", "GBK", nameDelimiters, "\xe9\x46", "镕"},
	{"utf-8", "ISO_IR 192", nameDelimiters, "王^小東", "王^小東"},
	{"stand-alone ignores extensions", `ISO_IR 192\ISO 2022 IR 87`, nameDelimiters, "王", "王"},
	{"misspelt", "ISO-IR 100", nameDelimiters, "J\xe9r\xf4me", "Jérôme"},
	{"python codec name", "UTF-8", nameDelimiters, "Jérôme", "Jérôme"},
	{"python latin-1", "latin1", nameDelimiters, "J\xe9r\xf4me", "Jérôme"},
	{"default is latin-1", "", nameDelimiters, "J\xe9r\xf4me", "Jérôme"},
	{"escape to ascii always allowed", "ISO_IR 100", textDelimiters, "a\x1b(Bb", "ab"},
}

func TestDecodeCharacterSets(t *testing.T) {
	for _, c := range decodeCases {
		t.Run(c.name, func(t *testing.T) {
			tc := newTextCoding(strings.Split(c.scs, `\`))
			got, ok := tc.decode([]byte(c.in), c.delimiters)
			if !ok || got != c.want {
				t.Fatalf("decode(%q) = %q, %v; want %q", c.in, got, ok, c.want)
			}
		})
	}
}

func TestUndecodableText(t *testing.T) {
	for _, c := range []struct{ name, scs, in string }{
		{"undeclared set", `\ISO 2022 IR 149`, "\x1b$B;3"},
		{"unknown escape", `\ISO 2022 IR 87`, "\x1b$Z;3"},
		{"truncated escape", `\ISO 2022 IR 87`, "\x1b$"},
		{"odd jis byte", `\ISO 2022 IR 87`, "\x1b$B;3E"},
		{"space inside jis", `\ISO 2022 IR 87`, "\x1b$B; 3"},
		{"invalid utf-8", "ISO_IR 192", "\xff\xfe"},
		{"unassigned greek", "ISO_IR 126", "\xff"},
		{"unassigned thai", "ISO_IR 166", "\xdc"},
		{"high bytes under jis", `ISO 2022 IR 87`, "\xb1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tc := newTextCoding(strings.Split(c.scs, `\`))
			if got, ok := tc.decode([]byte(c.in), nameDelimiters); ok {
				t.Fatalf("decode(%q) = %q, want a failure", c.in, got)
			}
		})
	}
	// An unknown set: ASCII is read, anything else is not.
	tc := newTextCoding([]string{"ISO_IR 999"})
	if got, ok := tc.decode([]byte("Buc^Jerome"), nameDelimiters); !ok || got != "Buc^Jerome" {
		t.Fatalf("ASCII in an unknown set: %q, %v", got, ok)
	}
	if got, ok := tc.decode([]byte("J\xe9r\xf4me"), nameDelimiters); ok {
		t.Fatalf("Latin-1 in an unknown set decoded to %q", got)
	}
}

// charsetImage is a CT slice whose text is in ISO 2022 with code
// extensions: a Japanese top level, a sequence item in Korean with its own
// Specific Character Set, an item nested in it that inherits the Korean,
// and a private element after the Pixel Data, read in the top-level set.
func charsetImage() []byte { return charsetImageIn(fixture.ExplicitLE) }

func charsetImageIn(ts string) []byte {
	s := fixture.CTSlice(2, 2, 0, "1", "1")
	s.TransferSyntax = ts
	s.Replace = append(s.Replace, fixture.Str(0x0010, 0x0010, "PN", "\xd4\xcf\xc0\xde^\xc0\xdb\xb3=\x1b$B;3ED\x1b(J^\x1b$BB@O:\x1b(J"))
	s.Extra = append(s.Extra,
		fixture.Str(0x0008, 0x0005, "CS", `ISO 2022 IR 13\ISO 2022 IR 87`),
		fixture.Str(0x0020, 0x4000, "LT", "\x1b$B;3ED\x1b(J\r\n\\\xb1"),
		fixture.Seq(0x0008, 0x1115, []fixture.Elem{
			fixture.Str(0x0008, 0x0005, "CS", `\ISO 2022 IR 149`),
			fixture.Str(0x0008, 0x103e, "LO", "\x1b$)C\xb1\xe8\xc8\xf1\xc1\xdf\\two"),
			fixture.Seq(0x0040, 0x0555, []fixture.Elem{
				fixture.Str(0x0008, 0x0104, "LO", "\x1b$)C\xb1\xe8"),
			}),
		}),
		fixture.Str(0x7fe1, 0x0010, "LO", "DICOM_REMAP TEST"),
		fixture.Str(0x7fe1, 0x1001, "LO", "\x1b$B;3ED\x1b(J"),
	)
	return fixture.Build(s)
}

// TestRemapCharacterSets: in every transfer syntax, a deflated one too
// (inflated here so that the library does not decode its text).
func TestRemapCharacterSets(t *testing.T) {
	for _, ts := range []string{fixture.ExplicitLE, fixture.ImplicitLE, fixture.ExplicitBE, fixture.DeflatedLE} {
		// Implicit VR gives a private element no VR: its bytes are kept as
		// they are (UN), not read as text.
		t.Run(ts, func(t *testing.T) { checkCharsetImage(t, charsetImageIn(ts), ts != fixture.ImplicitLE) })
	}
}

func checkCharsetImage(t *testing.T, in []byte, privateText bool) {
	var out bytes.Buffer
	if _, err := Remap(&out, bytes.NewReader(in), int64(len(in)), Params{Min: 0, Max: 255, Version: "test"}); err != nil {
		t.Fatal(err)
	}
	ds, err := dicom.Parse(bytes.NewReader(out.Bytes()), int64(out.Len()), nil, dicom.SkipPixelData())
	if err != nil {
		t.Fatal(err)
	}
	get := func(elems []*dicom.Element, g, e uint16) []string {
		t.Helper()
		el := find(elems, tag.Tag{Group: g, Element: e})
		if el == nil {
			t.Fatalf("(%04x,%04x) missing", g, e)
		}
		return valuesOf(el)
	}
	items := func(elems []*dicom.Element, g, e uint16) [][]*dicom.Element {
		t.Helper()
		el := find(elems, tag.Tag{Group: g, Element: e})
		if el == nil || len(sequenceItems(el)) != 1 {
			t.Fatalf("(%04x,%04x): want one item", g, e)
		}
		return sequenceItems(el)
	}
	item := items(ds.Elements, 0x0008, 0x1115)[0]
	inner := items(item, 0x0040, 0x0555)[0]
	for _, c := range []struct {
		got  []string
		want string
	}{
		{get(ds.Elements, 0x0008, 0x0005), "ISO_IR 192"},
		{get(ds.Elements, 0x0010, 0x0010), "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎"},
		{get(ds.Elements, 0x0020, 0x4000), "山田\r\n\\ｱ"},
		{get(item, 0x0008, 0x0005), "ISO_IR 192"},
		{get(item, 0x0008, 0x103e), `김희중\two`},
		{get(inner, 0x0008, 0x0104), "김"},
	} {
		if got := strings.Join(c.got, `\`); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
	if got := get(ds.Elements, 0x7fe1, 0x1001); privateText && strings.Join(got, `\`) != "山田" {
		t.Errorf("private element after the pixel data: %q", got)
	}
}

// TestRemapRefusesUndecodableText: text that is not valid in its declared
// set is refused, not written as mojibake.
func TestRemapRefusesUndecodableText(t *testing.T) {
	s := fixture.CTSlice(2, 2, 0, "1", "1")
	s.Extra = append(s.Extra, fixture.Str(0x0008, 0x0005, "CS", `\ISO 2022 IR 149`))
	s.Replace = append(s.Replace, fixture.Str(0x0010, 0x0010, "PN", "\x1b$B;3ED\x1b(B"))
	in := fixture.Build(s)
	_, err := Remap(&bytes.Buffer{}, bytes.NewReader(in), int64(len(in)), Params{Min: 0, Max: 255, Version: "test"})
	if KindOf(err) != Rejected || !strings.Contains(err.Error(), "Patient's Name holds text that cannot be decoded") {
		t.Fatalf("got %v", err)
	}
}

// FuzzTextCoding: whatever the Specific Character Set and the bytes, decoding
// gives valid UTF-8 without escape sequences or fails; printable ASCII
// without escapes decodes to itself in every set.
func FuzzTextCoding(f *testing.F) {
	for _, c := range decodeCases {
		f.Add(c.scs, []byte(c.in), c.delimiters == nameDelimiters)
	}
	f.Fuzz(func(t *testing.T, scs string, value []byte, name bool) {
		tc := newTextCoding(strings.Split(scs, `\`))
		delimiters := textDelimiters
		if name {
			delimiters = nameDelimiters
		}
		got, ok := tc.decode(value, delimiters)
		if ok && (!utf8.ValidString(got) || strings.ContainsRune(got, 0x1b)) {
			t.Fatalf("%q in %q decoded to %q", value, scs, got)
		}
		ascii := true
		for _, c := range value {
			ascii = ascii && c >= 0x20 && c < 0x7f
		}
		if ascii && (!ok || got != string(value)) {
			t.Fatalf("ASCII %q in %q decoded to %q, %v", value, scs, got, ok)
		}
	})
}

// TestInheritedSetRelabelled: text decoded in a sequence item that inherits
// the top level's set makes the top level declare ISO_IR 192, even when
// the top level's own text is ASCII and its set is the default (empty).
func TestInheritedSetRelabelled(t *testing.T) {
	for _, c := range []struct{ scs, ts string }{
		{"", fixture.ExplicitLE}, {"", fixture.ImplicitLE}, {"", fixture.ExplicitBE}, {"", fixture.DeflatedLE}, {"ISO_IR 100", fixture.ExplicitLE},
	} {
		scs := c.scs
		s := fixture.CTSlice(2, 2, 0, "1", "1")
		s.TransferSyntax = c.ts
		s.Extra = append(s.Extra, fixture.Str(0x0008, 0x0005, "CS", scs),
			fixture.Seq(0x0008, 0x1115, []fixture.Elem{fixture.Str(0x0008, 0x103e, "LO", "J\xe9r\xf4me")}))
		in := fixture.Build(s)
		var out bytes.Buffer
		if _, err := Remap(&out, bytes.NewReader(in), int64(len(in)), Params{Min: 0, Max: 255, Version: "test"}); err != nil {
			t.Fatal(err)
		}
		ds, err := dicom.Parse(bytes.NewReader(out.Bytes()), int64(out.Len()), nil, dicom.SkipPixelData())
		if err != nil {
			t.Fatal(err)
		}
		cs := find(ds.Elements, tag.SpecificCharacterSet)
		item := sequenceItems(find(ds.Elements, tag.Tag{Group: 0x0008, Element: 0x1115}))[0]
		if got := textOf(cs); got != "ISO_IR 192" {
			t.Errorf("%q %s: top level declares %q", scs, c.ts, got)
		}
		if got := textOf(find(item, tag.Tag{Group: 0x0008, Element: 0x103e})); got != "Jérôme" {
			t.Errorf("%q %s: item text %q", scs, c.ts, got)
		}
	}
}
