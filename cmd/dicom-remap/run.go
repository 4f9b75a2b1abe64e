package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dicom-remap/dicom-remap/remap"
)

// run is the whole command: it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	var c *config
	defer func() {
		// No panic reaches the user as a stack trace, and none leaves a
		// file: the temporary outputs still open are removed (worker
		// goroutines recover on their own and return errors).
		if r := recover(); r != nil {
			removeTemps()
			name := "internal error"
			if c != nil && c.input != "" {
				name = oneLine(c.input) + ": internal error"
			}
			fmt.Fprintf(stderr, "dicom-remap: %s: %s\n", name, oneLine(fmt.Sprint(r)))
			code = exitFailure
		}
	}()
	c, err := parseArgs(args)
	switch {
	case errors.Is(err, errHelp):
		fmt.Fprint(stdout, helpText())
		return exitOK
	case errors.Is(err, errVersion):
		fmt.Fprintf(stdout, "dicom-remap %s\n", Version)
		return exitOK
	case err != nil:
		fmt.Fprintf(stderr, "dicom-remap: %s\n", oneLine(err.Error()))
		var u *usageError
		if errors.As(err, &u) && u.hint != "" {
			fmt.Fprintf(stderr, "dicom-remap: hint: %s\n", u.hint)
		}
		return exitUsage
	}
	switch {
	case c.printRange != nil:
		return printRanges(c, stdout, stderr)
	case c.mergeRanges != nil:
		return mergeRangeFiles(c, stdout, stderr)
	}
	if code, ok := runML(c, stdout, stderr); !ok {
		return code
	}
	if info, err := os.Stat(c.input); err == nil && info.IsDir() {
		return remapDirectory(c, stdout, stderr)
	}
	return remapFile(c, stderr)
}

// failure is an error with the file it concerns and the exit code it means.
type failure struct {
	file string
	code int
	err  error
}

func fail(file string, code int, format string, args ...any) *failure {
	return &failure{file: file, code: code, err: fmt.Errorf(format, args...)}
}

func (f *failure) Error() string { return f.file + ": " + f.err.Error() }

// reportErr prints err, a *failure or an error of the remap of file, and
// returns its exit code.
func reportErr(file string, err error, stderr io.Writer) int {
	var f *failure
	if errors.As(err, &f) {
		return f.report(stderr)
	}
	return remapFailure(file, err).report(stderr)
}

func (f *failure) report(stderr io.Writer) int {
	fmt.Fprintf(stderr, "dicom-remap: %s: %s\n", oneLine(f.file), oneLine(f.err.Error()))
	return f.code
}

// oneLine keeps a message on one printable line whatever a library or a
// file name put in it: control characters are escaped.
func oneLine(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// outputName is INPUT's base name without one trailing ".dcm" (any case),
// plus "-normalized.dcm".
func outputName(input string) string {
	base := filepath.Base(input)
	if base == "/" || base == "." {
		base = ""
	}
	if len(base) >= 4 && strings.EqualFold(base[len(base)-4:], ".dcm") {
		base = base[:len(base)-4]
	}
	return base + "-normalized.dcm"
}

func remapFile(c *config, stderr io.Writer) int {
	out := filepath.Join(c.outDir, outputName(c.input))
	if f := checkPaths(c, out); f != nil {
		return f.report(stderr)
	}
	in, f := openInput(c.input, c.pixelLimit)
	if f != nil {
		return f.report(stderr)
	}
	defer in.close()
	if f := refuseNonImage(c.input, in); f != nil {
		return f.report(stderr)
	}

	if err := os.MkdirAll(c.outDir, 0o777); err != nil {
		return fail(c.outDir, exitFailure, "create output directory: %v", pathless(err)).report(stderr)
	}
	scratch := &scratchFile{dir: c.outDir}
	defer scratch.close()
	params := remap.Params{Min: c.min, Max: c.max, Version: Version, PixelLimit: c.pixelLimit, FrameLimit: c.frameLimit, MemoryLimit: memoryLimit(), Source: c.source,
		Method: c.method, Percentiles: c.percentiles, MaskBelow: c.maskBelow, Scratch: scratch, Standardize: c.landmarks}
	var rep remap.Report
	fill := func(w io.Writer) error {
		var err error
		rep, err = remap.Remap(w, in.src, in.size, params)
		return err
	}
	var werr error
	if c.qc {
		werr = writeWithQC(c, out, &params, fill)
	} else {
		werr = writeAtomically(out, c.force, c.sync, fill)
	}
	if werr != nil {
		return reportErr(c.input, werr, stderr)
	}
	if !c.quiet {
		for _, w := range rep.Warnings {
			fmt.Fprintf(stderr, "dicom-remap: %s: warning: %s\n", c.input, w)
		}
	}
	if rep.Constant && !c.quiet {
		fmt.Fprintf(stderr, "dicom-remap: %s: warning: constant image: every pixel set to %d\n", c.input, c.min)
	}
	return exitOK
}

// checkPaths refuses what can be refused before reading: an output that is
// the input (the names always differ, but a link can make them one file),
// or one that exists without --force.
func checkPaths(c *config, out string) *failure {
	outInfo, err := os.Stat(out)
	if err != nil {
		return nil
	}
	if inInfo, err := os.Stat(c.input); err == nil && os.SameFile(inInfo, outInfo) {
		return fail(c.input, exitUsage, "output %s is the input", out)
	}
	if !c.force {
		return fail(out, exitFailure, "output exists: use --force to replace it")
	}
	if outInfo.IsDir() {
		return fail(out, exitFailure, "output exists and is a directory")
	}
	return nil
}

// writeAtomically writes through a temporary file in the destination
// directory and renames it into place, so that no partial output is ever
// visible, whatever stops the process. With sync the file and the directory
// are also flushed to disk first, so that the output survives a power loss;
// without, the kernel writes them back in its own time, as for cp or
// dcmconv. Without force an output that appeared meanwhile is kept.
func writeAtomically(path string, force, sync bool, fill func(io.Writer) error) error {
	t, err := writeTemp(path, false, sync, fill)
	if err != nil {
		return err
	}
	if err := t.commit(force); err != nil {
		return err
	}
	if sync {
		syncDir(filepath.Dir(path))
	}
	return nil
}

// tempOutput is a complete output waiting to be renamed into place.
type tempOutput struct {
	name, path string
	sha256     string // when asked for
	done       func()
}

// writeTemp writes fill's bytes to a temporary file next to path, synced
// when asked, hashing them when asked (hashing a large file costs as much as
// mapping it). On error nothing is left.
func writeTemp(path string, hash, sync bool, fill func(io.Writer) error) (_ *tempOutput, err error) {
	dir := filepath.Dir(path)
	tmp, done, err := createTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fail(dir, exitFailure, "create temporary file: %v", pathless(err))
	}
	t := &tempOutput{name: tmp.Name(), path: path, done: done}
	ok := false
	defer func() {
		// Also when fill panics: err is then still nil.
		if !ok {
			tmp.Close()
			t.discard()
		}
	}()
	var dst io.Writer = tmp
	if sync {
		dst = newWriteback(tmp)
	}
	sum := sha256.New()
	if hash {
		dst = io.MultiWriter(dst, sum)
	}
	if err := fill(dst); err != nil {
		return nil, err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return nil, fail(path, exitFailure, "write: %v", pathless(err))
	}
	if sync {
		if err := tmp.Sync(); err != nil {
			return nil, fail(path, exitFailure, "write: %v", pathless(err))
		}
	}
	if err := tmp.Close(); err != nil {
		return nil, fail(path, exitFailure, "write: %v", pathless(err))
	}
	if hash {
		t.sha256 = hex.EncodeToString(sum.Sum(nil))
	}
	ok = true
	return t, nil
}

// discard removes the temporary file.
func (t *tempOutput) discard() {
	os.Remove(t.name)
	t.done()
}

// commit renames the temporary file into place; without force an existing
// output is kept and the temporary file removed. The caller syncs the
// directory (once per directory for many files).
func (t *tempOutput) commit(force bool) error {
	defer t.done()
	var err error
	if force {
		err = os.Rename(t.name, t.path)
	} else if err = os.Link(t.name, t.path); err == nil {
		os.Remove(t.name)
	} else if errors.Is(err, os.ErrExist) {
		os.Remove(t.name)
		return fail(t.path, exitFailure, "output exists: use --force to replace it")
	} else if _, serr := os.Lstat(t.path); errors.Is(serr, os.ErrNotExist) {
		// No hard links on this file system: a plain rename, checked first.
		err = os.Rename(t.name, t.path)
	}
	if err != nil {
		os.Remove(t.name)
		return fail(t.path, exitFailure, "rename: %v", pathless(err))
	}
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// pathless drops the path from an *os.PathError: the message names the file
// already.
func pathless(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
