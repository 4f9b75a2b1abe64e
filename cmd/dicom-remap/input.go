package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// smallInput is the size up to which an input file is read whole, in one
// system call, rather than in pieces: slices are a megabyte or less, and
// each piece costs a call and a copy.
const smallInput = 4 << 20

// smallInputs recycles the buffers of whole small inputs: a series reads
// thousands.
var smallInputs = sync.Pool{New: func() any { return new([]byte) }}

// input is one input file, opened for reading.
type input struct {
	src  io.ReaderAt
	size int64
	data []byte // the whole file when it is held in memory, else nil
	file *os.File
	buf  *[]byte // data's pooled buffer, if any
}

// openInput opens path for remapping. A small regular file is read whole;
// a pipe or device, which cannot be read twice, is held in memory up to
// limit plus room for a header; a large file is read where it lies.
func openInput(path string, limit int64) (*input, *failure) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fail(path, exitFailure, "open: %v", pathless(err))
	}
	info, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, fail(path, exitFailure, "stat: %v", pathless(err))
	}
	in := &input{src: file, size: info.Size(), file: file}
	switch {
	case info.IsDir():
		file.Close()
		return nil, fail(path, exitRejected, "read: is a directory, not a DICOM file")
	case !info.Mode().IsRegular():
		data, err := io.ReadAll(io.LimitReader(file, limit+1<<20))
		if err != nil {
			file.Close()
			return nil, fail(path, exitFailure, "read: %v", pathless(err))
		}
		in.hold(data)
	case in.size <= smallInput:
		in.buf = smallInputs.Get().(*[]byte)
		if int64(cap(*in.buf)) < in.size {
			*in.buf = make([]byte, in.size)
		}
		n, err := file.ReadAt((*in.buf)[:in.size], 0)
		if err != nil && !errors.Is(err, io.EOF) {
			in.close()
			return nil, fail(path, exitFailure, "read: %v", pathless(err))
		}
		// A file cut short since Stat is read as it now is.
		in.hold((*in.buf)[:n])
	}
	return in, nil
}

func (in *input) hold(data []byte) {
	in.data, in.size, in.src = data, int64(len(data)), bytes.NewReader(data)
}

// sha256 hashes the whole file.
func (in *input) sha256() (string, error) {
	if in.data != nil {
		sum := sha256.Sum256(in.data)
		return hex.EncodeToString(sum[:]), nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(in.file, 0, in.size)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (in *input) close() {
	in.file.Close()
	if in.buf != nil {
		smallInputs.Put(in.buf)
	}
}

// openForOutput creates the directory of out, an output of series mode at
// the input's relative path, then opens the input.
func openForOutput(path, out string, limit int64) (*input, *failure) {
	if err := os.MkdirAll(filepath.Dir(out), 0o777); err != nil {
		return nil, fail(filepath.Dir(out), exitFailure, "create output directory: %v", pathless(err))
	}
	return openInput(path, limit)
}
