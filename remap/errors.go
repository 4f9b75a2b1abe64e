package remap

import (
	"errors"
	"fmt"
)

// Step names where in the transform an error happened; the CLI prints it
// between the file name and the cause.
type Step string

const (
	StepRead   Step = "read"
	StepHeader Step = "header"
	StepPixels Step = "pixel data"
	StepRange  Step = "target range"
	StepWrite  Step = "write"
)

// Kind classifies an error by what the caller should do about it.
type Kind int

const (
	// Internal covers I/O and anything unexpected: the run may succeed again.
	Internal Kind = iota
	// Rejected input: not DICOM, corrupt, truncated or an unsupported kind.
	// Retrying cannot help.
	Rejected
	// Unrepresentable means the requested target range cannot be stored in
	// this input's pixel format: the arguments must change.
	Unrepresentable
)

// Error is the error type returned by Remap and Measure.
type Error struct {
	Kind Kind
	Step Step
	Err  error
}

func (e *Error) Error() string { return string(e.Step) + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func reject(step Step, format string, args ...any) error {
	return &Error{Kind: Rejected, Step: step, Err: fmt.Errorf(format, args...)}
}

func wrapRead(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Kind: Rejected, Step: StepRead, Err: err}
}

func wrapWrite(err error) error {
	return &Error{Kind: Internal, Step: StepWrite, Err: err}
}

// KindOf returns the Kind of err, Internal when err carries none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}
