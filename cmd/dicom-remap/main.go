// Command dicom-remap linearly remaps the pixel intensities of a DICOM image
// to [MIN, MAX] and writes OUTDIR/<name>-normalized.dcm.
package main

import (
	"os"
	"runtime/debug"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

func init() {
	// Pixels stream through fixed buffers, so the live heap stays a few
	// megabytes whatever the input: collecting it less often saves time and
	// costs little memory. GOGC in the environment still decides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}
