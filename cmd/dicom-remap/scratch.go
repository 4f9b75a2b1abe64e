package main

import (
	"io"
	"os"
	"sync"
)

// scratchFile is where remap keeps decoded frames between its passes over
// a compressed image, so that each frame is decoded once. It is a file in
// the output directory (writable wherever the output is, unlike /tmp in a
// read-only container), unlinked as soon as it is made, so that nothing is
// left behind however the run ends. Native images never write to it, and
// then it is never made.
type scratchFile struct {
	dir  string
	once sync.Once
	f    *os.File
	err  error
}

func (s *scratchFile) open() error {
	s.once.Do(func() {
		s.f, s.err = os.CreateTemp(s.dir, ".dicom-remap-scratch-*")
		if s.err == nil {
			s.err = os.Remove(s.f.Name())
		}
	})
	return s.err
}

func (s *scratchFile) WriteAt(p []byte, off int64) (int, error) {
	if err := s.open(); err != nil {
		return 0, err
	}
	return s.f.WriteAt(p, off)
}

func (s *scratchFile) ReadAt(p []byte, off int64) (int, error) {
	if err := s.open(); err != nil {
		return 0, err
	}
	return s.f.ReadAt(p, off)
}

func (s *scratchFile) close() {
	if s.f != nil {
		s.f.Close()
	}
}

var _ io.ReaderAt = (*scratchFile)(nil)
