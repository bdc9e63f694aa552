package remote

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Sentinels callers test with errors.Is.
var (
	// ErrRuntime is matched by every error of the external runtime's
	// making: an answer with a non-2xx status (a *RuntimeError) or one
	// Ferry cannot read.
	ErrRuntime = errors.New("external runtime error")
	// ErrTimeout is matched by a prediction that did not finish within
	// the spec's timeout (or the caller's deadline); such an error also
	// matches context.DeadlineExceeded and errdefs.ErrUnavailable.
	ErrTimeout = errors.New("external runtime timed out")
	// ErrNotReady is matched when the runtime cannot take a prediction
	// now (starting, restarting, failed, stopped, unreachable) and when
	// Open gives up waiting for it; such an error also matches
	// errdefs.ErrUnavailable.
	ErrNotReady = errors.New("external runtime not ready")
)

// maxErrorBody bounds the part of an error answer kept in a RuntimeError.
const maxErrorBody = 512

// RuntimeError is the runtime answering with a non-2xx status. It
// matches ErrRuntime and, so that the HTTP layer answers sensibly, also
// errdefs.ErrInvalidArgument for the statuses that blame the request
// (400, 404, 413, 415, 422) and errdefs.ErrUnavailable for those that
// say "later" (429, 502, 503, 504).
type RuntimeError struct {
	StatusCode int
	// Body is the start of the answer (at most 512 bytes).
	Body string
	// Message is the error message the answer carries ({"error": ...},
	// {"message": ...}), else the start of the body.
	Message string
}

func (e *RuntimeError) Error() string {
	return fmt.Sprintf("external runtime answered %d %s: %s", e.StatusCode, http.StatusText(e.StatusCode), e.Message)
}

// Is implements errors.Is.
func (e *RuntimeError) Is(target error) bool {
	switch target {
	case ErrRuntime:
		return true
	case errdefs.ErrInvalidArgument:
		switch e.StatusCode {
		case 400, 404, 413, 415, 422:
			return true
		}
	case errdefs.ErrUnavailable:
		switch e.StatusCode {
		case 429, 502, 503, 504:
			return true
		}
	}
	return false
}

// kindError is a message that matches several sentinels.
type kindError struct {
	msg   string
	kinds []error
	cause error // wrapped, may be nil
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.cause }
func (e *kindError) Is(target error) bool {
	for _, k := range e.kinds {
		if k == target {
			return true
		}
	}
	return false
}

func timeoutError(format string, args ...any) error {
	return &kindError{msg: fmt.Sprintf(format, args...), kinds: []error{ErrTimeout, context.DeadlineExceeded, errdefs.ErrUnavailable}}
}

func notReady(cause error, format string, args ...any) error {
	return &kindError{msg: fmt.Sprintf(format, args...), kinds: []error{ErrNotReady, errdefs.ErrUnavailable}, cause: cause}
}

// badAnswer is an answer Ferry cannot read.
func badAnswer(err error) error {
	return fmt.Errorf("%w: unreadable answer: %w", ErrRuntime, err)
}
