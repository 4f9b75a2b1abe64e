// Command dicom-remap linearly remaps the pixel intensities of a DICOM image
// to [MIN, MAX] and writes OUTDIR/<name>-normalized.dcm.
package main

import (
	"os"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
