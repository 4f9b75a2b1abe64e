package main

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// Temporary outputs in progress, removed if SIGINT or SIGTERM arrives so that
// an interrupted run leaves nothing behind.
var (
	tempMu      sync.Mutex
	tempFiles   = map[string]bool{}
	signalsOnce sync.Once
)

// createTemp creates a temporary file that an interrupting signal removes,
// until done is called. The handler is installed, and the file registered,
// before the file can be seen: no window where a signal leaves it behind.
func createTemp(dir, pattern string) (f *os.File, done func(), err error) {
	signalsOnce.Do(func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		go func() {
			sig := <-ch
			tempMu.Lock() // held until exit: no new file can appear
			for name := range tempFiles {
				os.Remove(name)
			}
			os.Stderr.WriteString("dicom-remap: interrupted: no output written\n")
			os.Exit(128 + int(sig.(syscall.Signal)))
		}()
	})
	tempMu.Lock()
	defer tempMu.Unlock()
	f, err = os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, nil, err
	}
	name := f.Name()
	tempFiles[name] = true
	return f, func() {
		tempMu.Lock()
		delete(tempFiles, name)
		tempMu.Unlock()
	}, nil
}

// removeTemps removes every temporary output still registered: the path
// out of a recovered panic, which skipped the usual cleanup.
func removeTemps() {
	tempMu.Lock()
	defer tempMu.Unlock()
	for name := range tempFiles {
		os.Remove(name)
		delete(tempFiles, name)
	}
}
