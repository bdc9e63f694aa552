package predlog

import (
	"context"
	"fmt"
)

// Variants of an endpoint that splits traffic ("" when it does not).
const (
	VariantStable    = "stable"
	VariantCandidate = "candidate"
)

// Record is one answered prediction request.
type Record struct {
	RequestID string
	Endpoint  string
	Model     string
	Version   int64
	// Time is when the request was answered, Unix milliseconds.
	Time int64
	// LatencyMicros is how long the prediction took.
	LatencyMicros int64
	// Rows, Features and Outputs shape Inputs (Rows × Features) and
	// Predictions (Rows × Outputs).
	Rows, Features, Outputs int
	// Inputs are the feature values, row-major; NaN is a missing value.
	Inputs []float64
	// Predictions are the model's outputs, row-major.
	Predictions []float64
	// FeatureNames names the columns of Inputs (nil when unknown). The
	// records of one ListPredictions answer share it: read it only.
	FeatureNames []string
	// Variant is VariantStable, VariantCandidate or "".
	Variant string
}

// Validate checks that the record is complete and that its arrays have
// the shape it declares.
func (r Record) Validate() error {
	switch {
	case r.RequestID == "":
		return fmt.Errorf("prediction record: no request id")
	case r.Endpoint == "":
		return fmt.Errorf("prediction record %s: no endpoint", r.RequestID)
	case r.Rows < 0 || r.Features < 0 || r.Outputs < 0:
		return fmt.Errorf("prediction record %s: negative shape %d×%d/%d", r.RequestID, r.Rows, r.Features, r.Outputs)
	case !shaped(len(r.Inputs), r.Rows, r.Features):
		return fmt.Errorf("prediction record %s: %d inputs for %d rows of %d features", r.RequestID, len(r.Inputs), r.Rows, r.Features)
	case !shaped(len(r.Predictions), r.Rows, r.Outputs):
		return fmt.Errorf("prediction record %s: %d predictions for %d rows of %d outputs", r.RequestID, len(r.Predictions), r.Rows, r.Outputs)
	case r.FeatureNames != nil && len(r.FeatureNames) != r.Features:
		return fmt.Errorf("prediction record %s: %d feature names for %d features", r.RequestID, len(r.FeatureNames), r.Features)
	}
	return nil
}

// shaped reports whether n values fill rows × cols without overflow.
func shaped(n, rows, cols int) bool {
	if rows == 0 || cols == 0 {
		return n == 0
	}
	return n%cols == 0 && n/cols == rows
}

// Feedback is the ground truth of one logged (or sampled-out) request.
type Feedback struct {
	Endpoint  string
	RequestID string
	// Truth holds one value per row of the request.
	Truth []float64
	// Time is when the feedback arrived, Unix milliseconds.
	Time int64
}

// Logged is a logged prediction with its feedback, if any.
type Logged struct {
	Record
	// Truth is nil when no feedback was given.
	Truth []float64
	// FeedbackTime is when the feedback arrived (0 without feedback).
	FeedbackTime int64
}

// Cursor is a position in an endpoint's log, ordered by time then
// request id; the zero Cursor is the start.
type Cursor struct {
	Time      int64
	RequestID string
}

// IsZero reports whether c is the start of the log.
func (c Cursor) IsZero() bool { return c.RequestID == "" }

// CursorOf is the position just after l.
func CursorOf(l Logged) Cursor { return Cursor{Time: l.Time, RequestID: l.RequestID} }

// Query selects an endpoint's logged predictions.
type Query struct {
	// Endpoint is required.
	Endpoint string
	// Since (inclusive) and Until (exclusive) bound the time, Unix
	// milliseconds; 0 leaves that side open.
	Since, Until int64
	// Version selects one model version (0 = all).
	Version int64
	// WithFeedbackOnly keeps only predictions that have ground truth.
	WithFeedbackOnly bool
	// Limit caps the answer. A Store requires it to be positive; Service
	// applies DefaultLimit and MaxLimit.
	Limit int
	// After continues from a position (exclusive).
	After Cursor
	// Newest selects the newest Limit predictions of the selection
	// instead of the oldest (still returned oldest first); it does not
	// page (After must be zero).
	Newest bool
}

// Store keeps the log. Implementations run each call in one transaction.
type Store interface {
	// AppendPredictions writes a batch; a record whose (endpoint, request
	// id) is stored already, or appears earlier in the batch, is ignored.
	// An invalid record fails the whole batch.
	AppendPredictions(ctx context.Context, recs []Record) error
	// PutFeedback stores ground truth, replacing earlier feedback for the
	// same (endpoint, request id); within one call the last one wins.
	// Feedback for a request that was never logged is kept (the log may
	// be sampled, or the prediction not written yet).
	PutFeedback(ctx context.Context, fb ...Feedback) error
	// ListPredictions returns up to q.Limit predictions ordered by time
	// then request id, with their feedback.
	ListPredictions(ctx context.Context, q Query) ([]Logged, error)
}
