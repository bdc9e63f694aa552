// Package errdefs defines the error kinds that every Ferry layer shares:
// domain services and stores return errors that match one of the sentinels
// below with errors.Is, and the HTTP surfaces map each kind to the status and
// error code their protocol prescribes. The message of such an error is meant
// for the user and is passed through unchanged.
package errdefs

import (
	"errors"
	"fmt"
)

// Sentinels that callers test with errors.Is.
var (
	ErrInvalidArgument = errors.New("invalid argument")
	ErrNotFound        = errors.New("not found")
	ErrAlreadyExists   = errors.New("already exists")
	ErrConflict        = errors.New("conflict")
	ErrPermission      = errors.New("permission denied")
	ErrUnauthenticated = errors.New("unauthenticated")
	ErrUnavailable     = errors.New("unavailable")
	ErrNotImplemented  = errors.New("not implemented")
)

// kindError carries a user-facing message and the kind it belongs to.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string        { return e.msg }
func (e *kindError) Is(target error) bool { return target == e.kind }

func newf(kind error, format string, args ...any) error {
	if len(args) == 0 {
		return &kindError{kind: kind, msg: format}
	}
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// InvalidArgument reports a request that can never succeed as sent.
func InvalidArgument(format string, args ...any) error {
	return newf(ErrInvalidArgument, format, args...)
}

// NotFound reports a resource that does not exist.
func NotFound(format string, args ...any) error { return newf(ErrNotFound, format, args...) }

// AlreadyExists reports a create of something that exists already.
func AlreadyExists(format string, args ...any) error {
	return newf(ErrAlreadyExists, format, args...)
}

// Conflict reports a write that lost a race or contradicts current state.
func Conflict(format string, args ...any) error { return newf(ErrConflict, format, args...) }

// Permission reports an authenticated caller that may not do this.
func Permission(format string, args ...any) error { return newf(ErrPermission, format, args...) }

// Unauthenticated reports a caller that did not prove who it is.
func Unauthenticated(format string, args ...any) error {
	return newf(ErrUnauthenticated, format, args...)
}

// Unavailable reports a feature that is switched off or a dependency that is down.
func Unavailable(format string, args ...any) error { return newf(ErrUnavailable, format, args...) }

// NotImplemented reports a request for something this server does not do.
func NotImplemented(format string, args ...any) error {
	return newf(ErrNotImplemented, format, args...)
}
