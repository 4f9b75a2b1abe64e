//go:build !linux

package main

// memoryLimit is 0 (unknown) where the limits are not read.
func memoryLimit() int64 { return 0 }
