package predlog

import (
	"math"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/requestid"
)

// Limits of feedback.
const (
	// MaxTruthValues bounds the ground truth of one request.
	MaxTruthValues = 1 << 20
	// MaxFeedbackBatch bounds the feedback of one call.
	MaxFeedbackBatch = 10000
)

// Validate checks the feedback's request id and ground truth (the
// endpoint is the caller's to check); errors are errdefs.ErrInvalidArgument
// and name the field.
func (f Feedback) Validate() error { return f.ValidateIn("") }

// ValidateIn is Validate for an entry of a list: prefix qualifies the
// field names in errors ("feedback[3]." names 'feedback[3].request_id').
func (f Feedback) ValidateIn(prefix string) error {
	if f.RequestID == "" {
		return errdefs.InvalidArgument("Missing value for required parameter '%srequest_id'.", prefix)
	}
	if !requestid.Valid(f.RequestID) {
		id := f.RequestID
		if len(id) > 40 {
			id = id[:40] + "..."
		}
		return errdefs.InvalidArgument("Invalid value %q for parameter '%srequest_id': use 1 to %d letters, digits, '-', '_', '.' or ':'.",
			id, prefix, requestid.MaxLen)
	}
	switch n := len(f.Truth); {
	case n == 0:
		return errdefs.InvalidArgument("Missing value for required parameter '%sground_truth': give a number, or one per row.", prefix)
	case n > MaxTruthValues:
		return errdefs.InvalidArgument("Invalid value for parameter '%sground_truth': %d values, at most %d are accepted.", prefix, n, MaxTruthValues)
	}
	for i, v := range f.Truth {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return errdefs.InvalidArgument("Invalid value for parameter '%sground_truth': value %d is not a finite number.", prefix, i)
		}
	}
	return nil
}
