package remap

import (
	"io"

	"github.com/suyashkumar/dicom/pkg/tag"
)

// ReadModality reads and checks a file's header, as Remap does, without
// its pixels, and returns its Modality (CT, MR, …): what an option that
// only makes sense for one modality (a CT window in HU) checks first.
func ReadModality(src io.ReaderAt, size int64, limit int64) (string, error) {
	ds, _, err := load(src, size, limit)
	if err != nil {
		return "", err
	}
	return elementText(&ds, tag.Modality), nil
}
