package dataset

import (
	"errors"
	"fmt"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// ErrMalformedCSV is matched (errors.Is) by every error about the CSV text
// itself: a row with the wrong number of fields, bad quoting, a missing or
// duplicated header. Such errors also match errdefs.ErrInvalidArgument.
var ErrMalformedCSV = errors.New("malformed csv")

// RowError describes one malformed row. Line is the 1-based line of the
// input where the problem was found (for a wrong field count, the line the
// record starts on).
type RowError struct {
	Line   int64  `json:"line"`
	Reason string `json:"reason"`
}

func (e *RowError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// Is makes a RowError match ErrMalformedCSV and errdefs.ErrInvalidArgument.
func (e *RowError) Is(target error) bool {
	return target == ErrMalformedCSV || target == errdefs.ErrInvalidArgument
}

// malformed returns a *RowError for line.
func malformed(line int64, format string, args ...any) *RowError {
	return &RowError{Line: line, Reason: fmt.Sprintf(format, args...)}
}
