package main

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/dicom-remap/dicom-remap/remap"
)

// windowPreset is a named CT window: level and width in HU. --window NAME
// is exactly --source-range=(L−W/2):(L+W/2), so the output bytes are
// those of that range; only the provenance record names the preset.
type windowPreset struct {
	name         string
	level, width int64
}

// windowPresets are the windows of Radiopaedia's "Windowing (CT)" article
// (radiopaedia.org/articles/windowing-ct); where it gives a range
// (subdural: W 130–300, L 50–100), the value chosen lies in it. README
// lists them with their sources.
var windowPresets = []windowPreset{
	{"brain", 40, 80},
	{"subdural", 75, 215},
	{"stroke", 32, 8},
	{"temporal-bone", 600, 2800},
	{"head-soft-tissue", 40, 375},
	{"lung", -600, 1500},
	{"mediastinum", 50, 350},
	{"soft-tissue", 50, 400},
	{"liver", 30, 150},
	{"spine-soft-tissue", 50, 250},
	{"bone", 400, 1800},
}

func findWindow(name string) *windowPreset {
	for i := range windowPresets {
		if windowPresets[i].name == name {
			return &windowPresets[i]
		}
	}
	return nil
}

func windowNames() string {
	var names []string
	for _, w := range windowPresets {
		names = append(names, w.name)
	}
	return strings.Join(names, ", ")
}

// sourceRange is [L − W/2, L + W/2] in HU, exact.
func (w *windowPreset) sourceRange() remap.ValueRange {
	lo := big.NewRat(2*w.level-w.width, 2)
	hi := big.NewRat(2*w.level+w.width, 2)
	return remap.ValueRange{Lo: lo, Hi: hi}
}

// String names the preset for the provenance record; "" for none.
func (w *windowPreset) String() string {
	if w == nil {
		return ""
	}
	r := w.sourceRange()
	return fmt.Sprintf("%s: level %d HU, width %d HU, source range %s", w.name, w.level, w.width, r)
}

// checkWindow refuses, before anything is written, an input that is not
// CT: a window in HU means nothing for other modalities. Each file's header
// is read (not its pixels).
func checkWindow(c *config) *failure {
	files, _, f := collect(c.input, c.outDir)
	if f != nil {
		return f
	}
	for _, in := range files {
		file, f := openInput(in.path, c.pixelLimit)
		if f != nil {
			return f
		}
		modality, err := remap.ReadModality(file.src, file.size, c.pixelLimit, memoryLimit())
		file.close()
		if err != nil {
			return remapFailure(in.path, err)
		}
		if modality != "CT" {
			if modality == "" {
				modality = "none"
			}
			return fail(in.path, exitUsage, "window: --window %s is a CT window in HU, and this image's modality is %s", c.window.name, modality)
		}
	}
	return nil
}
