package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPanicLeavesNothing: a panic while an output is written (in remap, in
// the writer) leaves no temporary file, whether it is recovered right
// above writeTemp or at the top of run, which removes every temporary
// output still registered.
func TestPanicLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	func() {
		defer func() { recover() }()
		writeTemp(filepath.Join(dir, "a-normalized.dcm"), false, false, func(w io.Writer) error {
			w.Write([]byte("partial"))
			panic("a decoder bug")
		})
	}()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("writeTemp left %v", entries)
	}
	// A temporary output registered and never finished, as a panic in
	// another goroutine's unwinding would leave it: the top-level recover
	// removes it.
	f, done, err := createTemp(dir, ".b.tmp-*")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	defer done()
	removeTemps()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("removeTemps left %v", entries)
	}
}

// TestGuard: a panic in a series worker is the failure of its file, exit
// 1, never the end of the process.
func TestGuard(t *testing.T) {
	f := guard("scan/IM0001", func() *failure {
		var m map[string]int
		m["x"] = 1 // a nil map write: a runtime panic
		return nil
	})
	if f == nil || f.code != exitFailure || f.file != "scan/IM0001" || !strings.Contains(f.err.Error(), "internal error") {
		t.Fatalf("got %+v", f)
	}
	if f := guard("x", func() *failure { return nil }); f != nil {
		t.Fatalf("no panic: got %+v", f)
	}
}
