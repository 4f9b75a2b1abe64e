package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"regexp"
	"runtime"
	"strconv"
	"strings"

	"github.com/dicom-remap/dicom-remap/remap"
	"github.com/spf13/pflag"
)

// Version is the tool version; the image tag and every descriptor use it
// too (a test checks). Release builds may stamp it with -ldflags -X.
var Version = "0.1.0"

// ImageRepository is where the container image is published; its tag is
// Version. The descriptors name ImageRepository:Version (a test checks).
const ImageRepository = "dicom-remap/dicom-remap"

// Exit codes, documented in --help, README and the descriptors.
const (
	exitOK       = 0
	exitFailure  = 1 // I/O and internal failures
	exitUsage    = 2 // bad arguments, or a target range the input cannot store
	exitRejected = 3 // input not DICOM, corrupt or unsupported: do not retry
)

// Limits of MIN and MAX: the widest any supported pixel format can store.
const (
	lowestValue  = math.MinInt32
	highestValue = math.MaxUint32
)

const usageText = `usage: dicom-remap [flags] INPUT OUTDIR MIN MAX
       dicom-remap [flags] --min MIN --max MAX --output-dir OUTDIR INPUT
       dicom-remap --print-range INPUT...
       dicom-remap --merge-ranges RANGE.json...
       dicom-remap --learn-landmarks LANDMARKS.json INPUT...
       dicom-remap --landmarks LANDMARKS.json INPUT OUTDIR MIN MAX

Linearly remap the pixel values of the DICOM image INPUT to the integer range
[MIN, MAX] and write OUTDIR/<name>-normalized.dcm, where <name> is INPUT's
base name without one trailing ".dcm" (any case). OUTDIR is created when
missing. The output is a new derived image (new SOP Instance and Series
Instance UIDs) in Explicit VR Little Endian. MIN may be negative: -1024 needs
no "--".

The map works on modality values m = v*RescaleSlope + RescaleIntercept (HU for
CT), exact from the header's decimal strings, per frame for enhanced images,
or m = LUT[v] through a Modality LUT Sequence. Each sample becomes
MIN + (m-lo)*(MAX-MIN)/(hi-lo), rounded to the nearest integer with halves
rounded up and clamped to [MIN, MAX], where lo and hi are the extremes of the
non-padding samples over all frames and channels, or --percentiles PLO:PHI of
them, or --source-range LO:HI. Pixel padding values are left out and become
MIN; --mask-below T leaves samples below T out of the range too (they are
still mapped). A constant image becomes MIN, with a warning. A CT window in
HU:

  dicom-remap --source-range=-1000:400 ct.dcm out 0 255
  dicom-remap --percentiles 0.5:99.5 --mask-below=-500 ct.dcm out 0 255

When INPUT is a directory, every DICOM image under it (recursively; hidden
files, DICOMDIR, non-DICOM files and objects that are not images, such as SR,
KO, PR, SEG, RTSTRUCT or PDF, are skipped; --related link writes copies of
those that reference normalized images) is remapped with one map per series,
from the modality values of all files of that series whatever their rescales
(a PET series works), and written under OUTDIR with the same relative path,
plus OUTDIR/dicom-remap-provenance.json. If any file fails, no output is left.
--per-file maps each file on its own.

--print-range prints the source range of files as JSON (exact decimals;
with --percentiles also their histograms), --merge-ranges merges such JSON
files, and --source-range-from applies a range instead of measuring one: the
phases of series mode, for running them apart.

--learn-landmarks learns histogram-standardization landmarks (Nyul and
Udupa, as TorchIO's HistogramStandardization.train) from images, each a file
or a series; --landmarks maps each image's own landmarks piecewise linearly
onto them, then [0, 100] onto [MIN, MAX]. --window NAME is a CT window preset
(the source range L-W/2:L+W/2 in HU).

Flags:
%s
Exit codes:
  0  success
  1  I/O or internal failure (an existing output without --force, too)
  2  usage: bad flags or arguments, MIN >= MAX, or a range INPUT cannot store
  3  INPUT rejected: not DICOM, corrupt, truncated or unsupported; do not retry
`

// config is a parsed, checked command line.
type config struct {
	input, outDir string
	min, max      int64
	force, quiet  bool
	sync          bool // flush outputs to disk before exiting
	pixelLimit    int64
	frameLimit    int64    // 0: remap's default
	args          []string // as given, for the provenance record

	perFile       bool
	workers       int
	source        *remap.ValueRange // --source-range or --source-range-from, modality values
	method        string            // how the --source-range-from range was chosen
	percentiles   *remap.Percentiles
	maskBelow     *big.Rat
	printRange    []string // inputs to measure, in --print-range mode
	mergeRanges   []string // range files, in --merge-ranges mode
	provenanceOut bool
	provenanceAt  bool
	qc            bool   // write a quality-control picture
	qcFile        string // --qc-file: its path
	mlConfig             // --window, --landmarks, --learn-landmarks (standardize.go)
	related       string // relatedSkip or relatedLink
}

// errHelp and errVersion end a parse successfully.
var (
	errHelp    = errors.New("help")
	errVersion = errors.New("version")
)

// usageError is a command-line problem: exit 2 with an optional hint.
type usageError struct{ msg, hint string }

func (e *usageError) Error() string { return e.msg }

func usagef(hint, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), hint: hint}
}

// negativeNumber matches arguments that are negative numbers, not flags: no
// flag of ours starts with a digit or a dot.
var negativeNumber = regexp.MustCompile(`^-[0-9.]`)

func newFlagSet() (*pflag.FlagSet, *flagValues) {
	fs := pflag.NewFlagSet("dicom-remap", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	v := &flagValues{}
	fs.StringVar(&v.min, "min", "", "lower bound of the target range (instead of the MIN argument)")
	fs.StringVar(&v.max, "max", "", "upper bound of the target range (instead of the MAX argument)")
	// MIN and MAX are parsed as text so that every way they can be wrong
	// gets its own message; they are integers.
	fs.SetAnnotation("min", "kind", []string{"integer"})
	fs.SetAnnotation("max", "kind", []string{"integer"})
	fs.StringVarP(&v.outDir, "output-dir", "o", "", "output directory (instead of the OUTDIR argument)")
	fs.BoolVarP(&v.force, "force", "f", false, "replace an existing output file")
	fs.BoolVarP(&v.quiet, "quiet", "q", false, "print no warnings")
	fs.BoolVar(&v.sync, "sync", false, "flush each output and its directory to disk before exiting, to survive a power loss (slower)")
	fs.Int64Var(&v.pixelLimit, "max-pixel-bytes", 4<<30, "refuse inputs whose header declares more pixel data than this; given, it also bounds one decoded frame (default 1 GiB)")
	fs.BoolVar(&v.perFile, "per-file", false, "directory INPUT: map each file on its own extremes (the paper's behaviour)")
	fs.IntVar(&v.workers, "workers", runtime.NumCPU(), "directory INPUT: files processed at once")
	fs.StringVar(&v.sourceRange, "source-range", "", "use LO:HI, in modality units (e.g. HU: -1000:400; decimals allowed), as the source range instead of measuring it; values outside are clamped")
	fs.StringVar(&v.sourceFrom, "source-range-from", "", "use the source range in this --print-range or --merge-ranges JSON file")
	fs.StringVar(&v.percentiles, "percentiles", "", "source range [Q(PLO), Q(PHI)] from percentiles PLO:PHI (e.g. 0.5:99.5) of the non-padding samples instead of their extremes; values outside are clamped")
	fs.StringVar(&v.maskBelow, "mask-below", "", "leave samples whose modality value is below T out of the source range and the percentiles (they are still mapped, clamped)")
	fs.StringVar(&v.percentileMethod, "percentile-method", "nearest-rank", "how --percentiles are read from the sorted samples: nearest-rank, or linear (numpy's default, as TorchIO, MONAI and nnU-Net)")
	fs.StringVar(&v.window, "window", "", "CT window preset NAME (brain, subdural, stroke, lung, mediastinum, soft-tissue, liver, bone, ...): the source range L-W/2:L+W/2 in HU")
	fs.StringVar(&v.landmarks, "landmarks", "", "histogram standardization onto the landmarks in this --learn-landmarks JSON file, then [0, 100] onto [MIN, MAX]")
	fs.StringVar(&v.learnLandmarks, "learn-landmarks", "", "learn histogram-standardization landmarks from the INPUT images (files or series directories), write them to this JSON file and exit")
	fs.BoolVar(&v.printRange, "print-range", false, "print the source range of the INPUT files as JSON and exit")
	fs.BoolVar(&v.mergeRanges, "merge-ranges", false, "merge --print-range JSON files given as arguments and print the result")
	fs.BoolVar(&v.provenanceOut, "provenance-stdout", false, "also print the provenance record on stdout")
	fs.BoolVar(&v.provenanceAt, "provenance-time", false, "record the time of the run in the provenance record")
	fs.BoolVar(&v.qc, "qc", false, "also write a quality-control picture: <name>-qc.png, or dicom-remap-qc.png for a directory")
	fs.StringVar(&v.qcFile, "qc-file", "", "write the quality-control picture to this path (implies --qc)")
	fs.StringVar(&v.related, "related", relatedSkip, "directory INPUT: what to do with objects that are not images (SEG, RTSTRUCT, presentation states, KO, SR): skip, or link: write a copy of each that references normalized images, its references rewritten to them")
	fs.SetAnnotation("workers", "kind", []string{"integer"})
	fs.BoolVarP(&v.help, "help", "h", false, "print this help and exit")
	fs.BoolVar(&v.version, "version", false, "print the version and exit")
	return fs, v
}

type flagValues struct {
	min, max, outDir            string
	force, quiet, sync          bool
	pixelLimit                  int64
	help, version               bool
	perFile, printRange         bool
	mergeRanges                 bool
	workers                     int
	sourceRange, sourceFrom     string
	percentiles, maskBelow      string
	provenanceOut, provenanceAt bool
	qc                          bool
	qcFile                      string
	percentileMethod, window    string
	landmarks, learnLandmarks   string
	related                     string
}

func helpText() string {
	fs, _ := newFlagSet()
	return fmt.Sprintf(usageText, fs.FlagUsages())
}

// parseArgs turns the command line into a config. All argument checks happen
// here, before any file is touched.
func parseArgs(args []string) (*config, error) {
	fs, v := newFlagSet()
	// Hide negative numbers from pflag, which would read -1024 as the
	// shorthand flags -1 -0 -2 -4. Placeholders hold a NUL byte, which no
	// real argument can.
	hidden := map[string]string{}
	masked := append([]string(nil), args...)
	takesValue := false
scan:
	for i, a := range args {
		switch {
		case takesValue:
			takesValue = false
		case a == "--":
			break scan // the rest is positional; pflag handles it
		case negativeNumber.MatchString(a):
			key := fmt.Sprintf("\x00%d", i)
			hidden[key] = a
			masked[i] = key
		case strings.HasPrefix(a, "--") && !strings.Contains(a, "="):
			if f := fs.Lookup(a[2:]); f != nil && f.NoOptDefVal == "" {
				takesValue = true
			}
		case strings.HasPrefix(a, "-") && len(a) == 2:
			if f := fs.ShorthandLookup(a[1:]); f != nil && f.NoOptDefVal == "" {
				takesValue = true
			}
		}
	}
	if err := fs.Parse(masked); err != nil {
		return nil, usagef("run 'dicom-remap --help' for usage", "%s", err)
	}
	if v.help {
		return nil, errHelp
	}
	if v.version {
		return nil, errVersion
	}
	pos := fs.Args()
	for i, a := range pos {
		if orig, ok := hidden[a]; ok {
			pos[i] = orig
		}
	}

	c := &config{force: v.force, quiet: v.quiet, pixelLimit: v.pixelLimit, args: args, perFile: v.perFile,
		workers: v.workers, provenanceOut: v.provenanceOut, provenanceAt: v.provenanceAt, sync: v.sync,
		qc: v.qc || v.qcFile != "", qcFile: v.qcFile, related: v.related}
	if c.related != relatedSkip && c.related != relatedLink {
		return nil, usagef("", "--related %q: give skip or link", c.related)
	}
	if c.pixelLimit <= 0 {
		return nil, usagef("", "--max-pixel-bytes %d is not positive", c.pixelLimit)
	}
	if fs.Changed("max-pixel-bytes") {
		// Given, it also bounds a decoded frame (else remap's 1 GiB does).
		c.frameLimit = c.pixelLimit
	}
	if c.workers < 1 {
		return nil, usagef("", "--workers %d is not positive", c.workers)
	}
	if v.percentiles != "" {
		pc, err := remap.ParsePercentiles(v.percentiles)
		if err != nil {
			return nil, usagef("give percentiles as PLO:PHI with 0 <= PLO < PHI <= 100, e.g. 0.5:99.5", "--percentiles %q: %v", v.percentiles, err)
		}
		if pc.Lo.Sign() != 0 || pc.Hi.Cmp(big.NewRat(100, 1)) != 0 {
			c.percentiles = &pc // 0:100 is the extremes, the default
		}
	}
	if v.maskBelow != "" {
		t, err := remap.ParseDecimal(v.maskBelow)
		if err != nil || strings.TrimSpace(v.maskBelow) != v.maskBelow {
			return nil, usagef("give the threshold in modality units, e.g. --mask-below=-500", "--mask-below %q is not a decimal number", v.maskBelow)
		}
		c.maskBelow = t
	}
	if done, err := parseMLArgs(fs, v, c, pos); err != nil {
		return nil, err
	} else if done {
		return c, nil
	}
	switch {
	case v.printRange && v.mergeRanges:
		return nil, usagef("", "--print-range and --merge-ranges exclude each other")
	case (c.percentiles != nil || c.maskBelow != nil) && (v.sourceRange != "" || v.sourceFrom != "" || v.mergeRanges):
		return nil, usagef("a given source range is not measured; --merge-ranges takes them from the range files",
			"--percentiles and --mask-below choose a source range: not with --source-range, --source-range-from or --merge-ranges")
	case v.printRange || v.mergeRanges:
		if c.qc {
			return nil, usagef("", "--qc pictures a remap: it does not go with --print-range or --merge-ranges")
		}
		if len(pos) == 0 {
			return nil, usagef("run 'dicom-remap --help' for usage", "missing files to measure or merge")
		}
		if v.printRange {
			c.printRange = pos
		} else {
			c.mergeRanges = pos
		}
		return c, nil
	}
	switch {
	case v.sourceRange != "" && v.sourceFrom != "":
		return nil, usagef("", "--source-range and --source-range-from exclude each other")
	case v.sourceRange != "":
		r, err := parseRange(v.sourceRange)
		if err != nil {
			return nil, err
		}
		c.source = &r
	case v.sourceFrom != "":
		r, method, err := readRangeFile(v.sourceFrom)
		if err != nil {
			return nil, err
		}
		c.source, c.method = &r, method
	}
	var minText, maxText string
	switch len(pos) {
	case 1:
		c.input = pos[0]
	case 2:
		c.input, c.outDir = pos[0], pos[1]
	case 4:
		c.input, c.outDir, minText, maxText = pos[0], pos[1], pos[2], pos[3]
	case 0:
		return nil, usagef("run 'dicom-remap --help' for usage", "missing INPUT")
	default:
		return nil, usagef("run 'dicom-remap --help' for usage", "expected INPUT [OUTDIR [MIN MAX]], got %d arguments", len(pos))
	}
	for _, x := range []struct {
		name, flag string
		dst        *string
	}{{"OUTDIR", v.outDir, &c.outDir}, {"MIN", v.min, &minText}, {"MAX", v.max, &maxText}} {
		switch {
		case x.flag != "" && *x.dst != "":
			return nil, usagef("give each value once", "%s given both as an argument and as --%s", x.name, strings.ToLower(x.name))
		case x.flag != "":
			*x.dst = x.flag
		case *x.dst == "":
			return nil, usagef("run 'dicom-remap --help' for usage", "missing %s", x.name)
		}
	}
	if c.input == "" {
		return nil, usagef("", "INPUT is empty")
	}
	var err error
	if c.min, err = parseBound("MIN", minText); err != nil {
		return nil, err
	}
	if c.max, err = parseBound("MAX", maxText); err != nil {
		return nil, err
	}
	if c.min >= c.max {
		return nil, usagef("MIN must be below MAX", "MIN %d is not below MAX %d", c.min, c.max)
	}
	return c, nil
}

// parseRange parses LO:HI, two decimals in modality units with LO <= HI.
func parseRange(s string) (remap.ValueRange, error) {
	const hint = "give the source range in modality units as LO:HI, e.g. -1000:400 (HU) or 0:12.5"
	lo, hi, ok := strings.Cut(s, ":")
	if !ok {
		return remap.ValueRange{}, usagef(hint, "--source-range %q is not LO:HI", s)
	}
	var r remap.ValueRange
	var err error
	if r.Lo, err = remap.ParseDecimal(lo); err != nil || strings.TrimSpace(lo) != lo {
		return remap.ValueRange{}, usagef(hint, "--source-range %q: %q is not a decimal number", s, lo)
	}
	if r.Hi, err = remap.ParseDecimal(hi); err != nil || strings.TrimSpace(hi) != hi {
		return remap.ValueRange{}, usagef(hint, "--source-range %q: %q is not a decimal number", s, hi)
	}
	if r.Lo.Cmp(r.Hi) > 0 {
		return remap.ValueRange{}, usagef(hint, "--source-range %q: %s is above %s", s, lo, hi)
	}
	return r, nil
}

// parseBound parses an integer bound, explaining every way it can be wrong.
func parseBound(name, s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err == nil {
		if n < lowestValue || n > highestValue {
			return 0, usagef(fmt.Sprintf("no supported pixel format stores values outside [%d, %d]", int64(lowestValue), int64(highestValue)),
				"%s %s is out of range", name, s)
		}
		return n, nil
	}
	const hint = "pixel data is integer: give MIN and MAX as whole numbers, e.g. 0 and 4095"
	f, ferr := strconv.ParseFloat(s, 64)
	switch {
	case ferr == nil && (math.IsNaN(f) || math.IsInf(f, 0)):
		return 0, usagef(hint, "%s %q is not a finite number", name, s)
	case ferr == nil:
		return 0, usagef(hint, "%s %q is not an integer", name, s)
	case errors.Is(ferr, strconv.ErrRange) || errors.Is(err, strconv.ErrRange):
		return 0, usagef(hint, "%s %q is out of range", name, s)
	default:
		return 0, usagef(hint, "%s %q is not a number", name, s)
	}
}
