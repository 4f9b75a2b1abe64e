package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
	"github.com/dicom-remap/dicom-remap/remap"
)

// TestAdversarialInputs: each hostile input gets its documented exit code
// and a one-line message naming the problem; nothing is left in OUTDIR and
// the input is unchanged.
func TestAdversarialInputs(t *testing.T) {
	good := func() fixture.Spec { return fixture.CTSlice(8, 8, 0, "1", "1") }
	with := func(f func(*fixture.Spec)) []byte { s := good(); f(&s); return fixture.Build(s) }
	valid := fixture.Build(good())
	// A header, then one OB element that claims 2 GiB.
	claim := append(append(make([]byte, 128), "DICM"...), fixture.Meta(fixture.CTImage, "1.2.3", fixture.ExplicitLE)...)
	claim = append(claim, 0x09, 0x00, 0x10, 0x00, 'O', 'B', 0, 0, 0xf0, 0xff, 0xff, 0x7f)
	cases := []struct {
		name  string
		data  []byte
		flags []string
		exit  int
		msg   string
	}{
		{"empty file", nil, nil, exitRejected, "not a DICOM file"},
		{"not dicom", []byte("Patient notes, plain text, certainly not DICOM.\n"), nil, exitRejected, "not a DICOM file"},
		{"truncated in the header", valid[:150], nil, exitRejected, "truncated"},
		{"truncated in the pixel data", with(func(s *fixture.Spec) { s.TruncatePixels = 33 }), nil, exitRejected, "truncated"},
		{"odd pixel data length", with(func(s *fixture.Spec) { s.Values = s.Values[:len(s.Values)-1]; s.PixelDataLength = 127 }), nil, exitRejected, "truncated"},
		{"bits stored above bits allocated", with(func(s *fixture.Spec) {
			s.Replace = []fixture.Elem{fixture.US(0x0028, 0x0101, 20), fixture.US(0x0028, 0x0102, 19)}
		}), nil, exitRejected, "bits stored 20 does not fit bits allocated 16"},
		{"high bit inconsistent", with(func(s *fixture.Spec) { s.Replace = []fixture.Elem{fixture.US(0x0028, 0x0102, 11)} }), nil, exitRejected, "high bit 11"},
		{"zero rows", with(func(s *fixture.Spec) { s.Replace = []fixture.Elem{fixture.US(0x0028, 0x0010, 0)} }), nil, exitRejected, "is empty"},
		{"rows times columns times frames overflows", with(func(s *fixture.Spec) {
			s.Replace = []fixture.Elem{fixture.US(0x0028, 0x0010, 65535), fixture.US(0x0028, 0x0011, 65535)}
			s.Extra = []fixture.Elem{fixture.Str(0x0028, 0x0008, "IS", "2147483647")}
		}), nil, exitRejected, "exceeds"},
		{"frames not a number", with(func(s *fixture.Spec) { s.Extra = []fixture.Elem{fixture.Str(0x0028, 0x0008, "IS", "many")} }), nil, exitRejected, "number of frames"},
		{"frames negative", with(func(s *fixture.Spec) { s.Extra = []fixture.Elem{fixture.Str(0x0028, 0x0008, "IS", "-3")} }), nil, exitRejected, "number of frames"},
		{"wrong VR for rows", with(func(s *fixture.Spec) { s.Replace = []fixture.Elem{fixture.Str(0x0028, 0x0010, "CS", "EIGHT")} }), nil, exitRejected, "Rows"},
		{"undefined length where not allowed", with(func(s *fixture.Spec) {
			e := fixture.Str(0x0020, 0x4000, "UT", "comment")
			e.Undefined = true
			s.Extra = []fixture.Elem{e}
		}), nil, exitRejected, "undefined length"},
		{"a few bytes claiming gigabytes", claim, nil, exitRejected, "declares"},
		// The library reads an unknown VR and would write it back: the
		// output would not be DICOM (found by FuzzRemap).
		{"invalid VR in the data set", with(func(s *fixture.Spec) { s.Extra = []fixture.Elem{fixture.Str(0x0008, 0x0070, "00", "ACME")} }), nil, exitRejected, `invalid VR "00"`},
		{"sequences nested too deep", with(func(s *fixture.Spec) { s.Extra = []fixture.Elem{fixture.Nested(200)} }), nil, exitRejected, "nested deeper"},
		{"a DICOMDIR", fixture.File("1.2.840.10008.1.3.10", "1.2.3.4", []fixture.Elem{
			fixture.Str(0x0004, 0x1130, "CS", "FILESET"),
			fixture.Str(0x0008, 0x0016, "UI", "1.2.840.10008.1.3.10"),
			fixture.Str(0x0008, 0x0018, "UI", "1.2.3.4"),
		}), nil, exitRejected, "a DICOMDIR index, not an image"},
		{"pixel data over the limit", valid, []string{"--max-pixel-bytes", "100"}, exitRejected, "over the 100-byte limit"},
		{"no preamble is fine", with(func(s *fixture.Spec) { s.NoPreamble = true }), nil, exitOK, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "in.dcm")
			if err := os.WriteFile(in, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "out")
			var stdout, stderr bytes.Buffer
			code := run(append(append([]string{}, c.flags...), in, out, "0", "100"), nil, &stdout, &stderr)
			if code != c.exit {
				t.Fatalf("exit %d, want %d: %s", code, c.exit, stderr.String())
			}
			after, _ := os.ReadFile(in)
			if sha256.Sum256(after) != sha256.Sum256(c.data) {
				t.Fatal("input changed")
			}
			if c.exit == exitOK {
				return
			}
			msg := stderr.String()
			if !strings.HasPrefix(msg, "dicom-remap: "+in+": ") || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, c.msg) {
				t.Errorf("stderr %q: want one line about %s mentioning %q", msg, in, c.msg)
			}
			if entries, _ := os.ReadDir(out); len(entries) != 0 {
				t.Errorf("left %v in OUTDIR", entries)
			}
		})
	}
}

// TestAwkwardPaths: a directory, a symlink loop, spaces and Unicode.
func TestAwkwardPaths(t *testing.T) {
	dir := t.TempDir()
	loop := filepath.Join(dir, "loop.dcm")
	os.Symlink(loop, loop)
	unicode := filepath.Join(dir, "Données patient", "Ωmega scan.DCM")
	os.MkdirAll(filepath.Dir(unicode), 0o755)
	out := filepath.Join(dir, "sortie é")
	for _, c := range []struct {
		name, input string
		exit        int
		msg         string
	}{
		{"directory without DICOM files", filepath.Dir(unicode), exitRejected, "no DICOM files"},
		{"symlink loop", loop, exitFailure, "too many levels of symbolic links"},
		{"spaces and unicode", unicode, exitOK, ""},
	} {
		if c.exit == exitOK {
			os.WriteFile(unicode, fixture.Build(fixture.CTSlice(4, 4, 0, "1", "1")), 0o644)
		}
		var stderr bytes.Buffer
		code := run([]string{c.input, out, "0", "100"}, nil, &bytes.Buffer{}, &stderr)
		if code != c.exit || !strings.Contains(stderr.String(), c.msg) {
			t.Errorf("%s: exit %d %q, want %d mentioning %q", c.name, code, stderr.String(), c.exit, c.msg)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "Ωmega scan-normalized.dcm")); err != nil {
		t.Error(err)
	}
}

// FuzzParseArgs: any command line is either a config that satisfies the
// documented rules or a usage error; never a panic.
func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{
		"in.dcm\x00out\x000\x00100", "in\x00out\x00-1024\x003071", "--min=-5\x00--max\x005\x00-o\x00o\x00in",
		"--\x00-x.dcm\x00o\x00-1\x001", "in\x00out\x0010abc\x001", "--force\x00-q\x00a\x00b\x001e400\x00nan", "-h", "--version",
		"in\x00out\x00-\x00-.5", "--max-pixel-bytes\x00-1\x00in\x00o\x000\x001",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		c, err := parseArgs(args)
		if err != nil {
			if _, ok := err.(*usageError); !ok && err != errHelp && err != errVersion {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if strings.ContainsAny(oneLine(err.Error()), "\n\r") {
				t.Fatalf("the printed error would span lines: %q", err)
			}
			return
		}
		if c.min >= c.max || c.min < lowestValue || c.max > highestValue || c.input == "" || c.outDir == "" || c.pixelLimit <= 0 {
			t.Fatalf("accepted an invalid config %+v from %q", c, args)
		}
	})
}

// FuzzOutputName: the output name always ends in -normalized.dcm, has no
// directory part, and drops at most one trailing .dcm.
func FuzzOutputName(f *testing.F) {
	for _, s := range []string{"a.dcm", "IM0001", "/x/y.DCM", "", ".dcm", "a.dcm.dcm", "dir/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := outputName(in)
		if !strings.HasSuffix(got, "-normalized.dcm") || strings.Contains(got, "/") {
			t.Fatalf("outputName(%q) = %q", in, got)
		}
		base, name := filepath.Base(in), strings.TrimSuffix(got, "-normalized.dcm")
		if base == "/" || base == "." { // no name at all
			base = ""
		}
		if name != base && !(strings.HasPrefix(base, name) && strings.EqualFold(base[len(name):], ".dcm")) {
			t.Fatalf("outputName(%q) = %q drops more than one trailing .dcm", in, got)
		}
	})
}

// FuzzSourceRange: --source-range text (modality values, decimals) either
// parses to exact LO <= HI that print back to the same values, or is a
// usage error.
func FuzzSourceRange(f *testing.F) {
	for _, s := range []string{"-1024:3071", "0:0", "5:1", ":", "1:", "a:b", "-9223372036854775808:0", "0:4294967296", "-1000:400", "0:12.5", "1.2E-05:1e3", "1e400:1e401"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseRange(s)
		if err != nil {
			if _, ok := err.(*usageError); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		if r.Lo.Cmp(r.Hi) > 0 {
			t.Fatalf("parseRange(%q) accepted %v", s, r)
		}
		// Round trip: the exact decimals print and parse back to themselves.
		if again, err := parseRange(remap.FormatDecimal(r.Lo) + ":" + remap.FormatDecimal(r.Hi)); err != nil || again.Lo.Cmp(r.Lo) != 0 || again.Hi.Cmp(r.Hi) != 0 {
			t.Fatalf("parseRange(%q) = %v does not round-trip: %v", s, r, err)
		}
	})
}

// FuzzRangeRecord: a range file from anywhere either gives a valid range
// or a usage error, never a panic.
func FuzzRangeRecord(f *testing.F) {
	for _, s := range []string{`{"lo": -5, "hi": 7, "files": 2}`, `{"files": 3}`, `{"lo": 9, "hi": 1}`, `[]`, `{"lo": 1e400}`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "r.json")
		os.WriteFile(path, data, 0o644)
		r, _, err := readRangeFile(path)
		if err != nil {
			if _, ok := err.(*usageError); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		if r.Lo.Cmp(r.Hi) > 0 {
			t.Fatalf("accepted %v", r)
		}
	})
}

// FuzzMergeRecords: range records from anywhere (histograms included)
// either merge into a record whose range reads back, or are refused; never
// a panic.
func FuzzMergeRecords(f *testing.F) {
	for _, s := range []string{
		`{"lo": -5, "hi": 7, "files": 2}`,
		`{"lo": 1, "hi": 2, "files": 1, "percentiles": "1:99", "histograms": [{"slope": "1", "intercept": "0", "values": [1, 2], "counts": [3, 4]}]}`,
		`{"files": 1, "percentiles": "1:99", "histograms": [{"slope": "0", "intercept": "0", "values": [1], "counts": [1]}]}`,
		`{"files": 1, "percentiles": "1:99", "histograms": [{"slope": "1", "intercept": "0", "values": [2, 1], "counts": [1, 1]}]}`,
		`{"lo": 0.5, "hi": 1e3, "files": 1, "mask_below": "-1"}`,
	} {
		f.Add([]byte(s), []byte(`{"lo": 0, "hi": 1, "files": 1}`))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var recs []rangeRecord
		for _, data := range [][]byte{a, b} {
			var r rangeRecord
			if json.Unmarshal(data, &r) != nil {
				return
			}
			recs = append(recs, r)
		}
		merged, err := mergeRecords(recs)
		if err != nil {
			return
		}
		data, _ := json.Marshal(merged)
		var again rangeRecord
		if err := json.Unmarshal(data, &again); err != nil {
			t.Fatalf("merged record does not read back: %v\n%s", err, data)
		}
		if _, _, err := again.valueRange(); err != nil {
			t.Fatalf("merged range does not read back: %v\n%s", err, data)
		}
	})
}
