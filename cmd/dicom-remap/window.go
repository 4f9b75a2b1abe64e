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
// (radiopaedia.org/articles/windowing-ct, its table "typical window width
// and level values"). The table itself could not be read from the sources
// searched (pacs.de/term/windowing-ct mirrors the article's opening); its
// values were read from verbatim quotes of it in public code that cites
// the article, which agree with each other. Each line names what else
// confirms or contradicts it. Where the table gives a range, the preset is
// its middle, a pair no source gives. README lists the same.
var windowPresets = []windowPreset{
	// W:80 L:40; also OHIF's, Orthanc Stone's and dwv's default brain
	// presets, and the article's own worked example.
	{"brain", 40, 80},
	// Table: W:130–300 L:50–100. 215/75 is the middle: unconfirmed as a pair.
	{"subdural", 75, 215},
	// W:8 L:32: Radiopaedia case 19148 ("stroke window setting") and Lev et
	// al., Radiology 1999;213:150 (PubMed 10540655), which it cites.
	{"stroke", 32, 8},
	// Table: temporal bones W:2800 L:600 (or W:4000 L:700). Table only.
	{"temporal-bone", 600, 2800},
	// Table: head and neck soft tissues W:350–400 L:20–60. 375/40 is the
	// middle: unconfirmed as a pair.
	{"head-soft-tissue", 40, 375},
	// Table: lungs W:1500 L:−600; also OHIF's default lung preset.
	{"lung", -600, 1500},
	// Table: mediastinum W:350 L:50. Table only.
	{"mediastinum", 50, 350},
	// Table: abdomen soft tissues W:400 L:50. Table only (OHIF's soft
	// tissue is W:400 L:40, Orthanc Stone's abdomen W:400 L:60).
	{"soft-tissue", 50, 400},
	// Table: liver W:150 L:30. Table only (OHIF's liver is W:150 L:90).
	{"liver", 30, 150},
	// Table: spine soft tissues W:250 L:50. Table only.
	{"spine-soft-tissue", 50, 250},
	// Table: spine bone W:1800 L:400. Table only (viewers differ: OHIF
	// W:2500 L:480, dwv W:2000 L:500, Orthanc Stone W:1500 L:300).
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
