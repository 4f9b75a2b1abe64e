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

// registerTemp records a temporary file until the returned func is called.
func registerTemp(name string) (done func()) {
	signalsOnce.Do(func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		go func() {
			sig := <-ch
			tempMu.Lock() // held until exit: no new rename can start
			for f := range tempFiles {
				os.Remove(f)
			}
			code := 128 + int(syscall.SIGINT)
			if sig == syscall.SIGTERM {
				code = 128 + int(syscall.SIGTERM)
			}
			os.Stderr.WriteString("dicom-remap: interrupted: no output written\n")
			os.Exit(code)
		}()
	})
	tempMu.Lock()
	tempFiles[name] = true
	tempMu.Unlock()
	return func() {
		tempMu.Lock()
		delete(tempFiles, name)
		tempMu.Unlock()
	}
}
