//go:build linux && !arm

package main

import (
	"os"
	"syscall"
)

// writebackEvery is how many bytes are written before their writeback to
// disk is started.
const writebackEvery = 8 << 20

// earlyWriteback starts the disk writeback of what was written so far while
// the rest is still being computed, so that the final fsync has little left
// to wait for. It only starts I/O; durability still comes from fsync.
type earlyWriteback struct {
	f          *os.File
	off, start int64
}

func (w *earlyWriteback) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if w.off-w.start >= writebackEvery {
		const syncFileRangeWrite = 2 // SYNC_FILE_RANGE_WRITE
		syscall.SyncFileRange(int(w.f.Fd()), w.start, w.off-w.start, syncFileRangeWrite)
		w.start = w.off
	}
	return n, err
}

func newWriteback(f *os.File) *earlyWriteback { return &earlyWriteback{f: f} }
