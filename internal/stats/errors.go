package stats

import (
	"errors"
	"fmt"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Sentinels that callers test with errors.Is. Every error returned by this
// package matches exactly one of them and, in addition,
// errdefs.ErrInvalidArgument.
var (
	// ErrTooFewSamples reports a sample (after dropping NaN) that is too
	// small for the statistic: fewer than 2 values for a t-test, no values
	// for PSI, n < 1 for a proportion.
	ErrTooFewSamples = errors.New("too few samples")
	// ErrZeroVariance reports two samples that are both constant, so the
	// t statistic is 0/0 or ±Inf.
	ErrZeroVariance = errors.New("zero variance in both samples")
	// ErrNonFinite reports an infinite input value, or values so large that
	// the statistic overflows float64.
	ErrNonFinite = errors.New("non-finite value")
	// ErrInvalidInput reports arguments that can never be valid, such as a
	// success count above its trial count or a negative bin count.
	ErrInvalidInput = errors.New("invalid input")
)

// inputError is a user-facing error of one sentinel kind that also matches
// errdefs.ErrInvalidArgument.
type inputError struct {
	kind error
	msg  string
}

func (e *inputError) Error() string { return e.msg }

func (e *inputError) Is(target error) bool {
	return target == e.kind || target == errdefs.ErrInvalidArgument
}

// newError returns an error of the given kind whose message starts with the
// kind's text, e.g. "too few samples: welch t-test needs ...".
func newError(kind error, format string, args ...any) error {
	return &inputError{kind: kind, msg: kind.Error() + ": " + fmt.Sprintf(format, args...)}
}
