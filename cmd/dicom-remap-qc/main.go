// Command dicom-remap-qc draws the quality-control picture of dicom-remap
// --qc: it reads a qc.Picture (JSON) on stdin and writes the PNG on stdout.
// dicom-remap runs it; it is a program of its own so that the plotting
// library's start-up cost is paid only by runs that ask for a picture.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/dicom-remap/dicom-remap/qc"
	"github.com/dicom-remap/dicom-remap/qc/render"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) != 0 {
		fmt.Fprintln(stderr, "dicom-remap-qc: takes no arguments: dicom-remap --qc runs it")
		return 2
	}
	var p qc.Picture
	if err := json.NewDecoder(bufio.NewReader(stdin)).Decode(&p); err != nil {
		fmt.Fprintf(stderr, "dicom-remap-qc: read picture: %v\n", err)
		return 1
	}
	if err := p.Check(); err != nil {
		fmt.Fprintf(stderr, "dicom-remap-qc: %v\n", err)
		return 1
	}
	w := bufio.NewWriter(stdout)
	if err := render.Render(w, p); err != nil {
		fmt.Fprintf(stderr, "dicom-remap-qc: render: %v\n", err)
		return 1
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(stderr, "dicom-remap-qc: write: %v\n", err)
		return 1
	}
	return 0
}
