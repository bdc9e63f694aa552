package drift

import (
	"errors"
	"fmt"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Sentinels that callers test with errors.Is. Every error returned by this
// package matches one of them and, in addition, errdefs.ErrInvalidArgument.
var (
	// ErrNotEnoughData reports a reference or current window that is empty
	// after NaN/±Inf are dropped: there is nothing to compare, which means
	// "no verdict yet", never a drift.
	ErrNotEnoughData = errors.New("not enough data")
	// ErrUnknownTest reports a test that Column does not implement or that
	// does not apply to the column kind.
	ErrUnknownTest = errors.New("unknown drift test")
	// ErrInvalidInput reports arguments that can never be valid.
	ErrInvalidInput = errors.New("invalid input")
)

type inputError struct {
	kind error
	msg  string
}

func (e *inputError) Error() string { return e.msg }

func (e *inputError) Is(target error) bool {
	return target == e.kind || target == errdefs.ErrInvalidArgument
}

// newError returns an error of the given kind whose message starts with the
// kind's text.
func newError(kind error, format string, args ...any) error {
	return &inputError{kind: kind, msg: kind.Error() + ": " + fmt.Sprintf(format, args...)}
}
