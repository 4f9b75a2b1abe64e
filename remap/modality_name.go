package remap

import (
	"io"

	"github.com/suyashkumar/dicom/pkg/tag"
)

// ReadModality reads and checks a file's header, as Remap does, without
// its pixels, and returns its Modality (CT, MR, …): what an option that
// only makes sense for one modality (a CT window in HU) checks first.
// memLimit is Params.MemoryLimit: a deflated data set that cannot fit in
// half of it is refused before it is inflated, as Remap refuses it.
func ReadModality(src io.ReaderAt, size int64, limit, memLimit int64) (string, error) {
	ds, _, err := loadWithin(src, size, limit, memLimit)
	if err != nil {
		return "", err
	}
	return elementText(&ds, tag.Modality), nil
}
