package predlog

import (
	"context"
	"fmt"
	"time"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Limits of one Predictions call.
const (
	DefaultLimit = 100
	MaxLimit     = 10000
)

// Service is the prediction log as the API sees it: validated feedback
// and the paged log.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService returns the service over store.
func NewService(store Store) *Service {
	return &Service{store: store, now: time.Now}
}

// Feedback attaches ground truth to requests of fb's endpoints, all or
// nothing: every entry is validated before any is stored (errors are
// errdefs.ErrInvalidArgument and name the field, "feedback[i]." in a
// batch). An entry without Time gets the current time. Later feedback for
// the same request replaces earlier feedback.
func (s *Service) Feedback(ctx context.Context, fb ...Feedback) error {
	switch {
	case len(fb) == 0:
		return errdefs.InvalidArgument("Missing value for required parameter 'feedback'.")
	case len(fb) > MaxFeedbackBatch:
		return errdefs.InvalidArgument("Invalid value for parameter 'feedback': %d entries, at most %d are accepted.", len(fb), MaxFeedbackBatch)
	}
	now := s.now().UnixMilli()
	out := make([]Feedback, len(fb))
	for i, f := range fb {
		prefix := ""
		if len(fb) > 1 {
			prefix = fmt.Sprintf("feedback[%d].", i)
		}
		if f.Endpoint == "" {
			return errdefs.InvalidArgument("Missing value for required parameter 'endpoint'.")
		}
		if err := f.ValidateIn(prefix); err != nil {
			return err
		}
		if f.Time == 0 {
			f.Time = now
		}
		out[i] = f
	}
	if err := s.store.PutFeedback(ctx, out...); err != nil {
		return fmt.Errorf("store feedback: %w", err)
	}
	return nil
}

// Page is one page of the log.
type Page struct {
	Predictions []Logged
	// Next continues after this page; zero when there is no more.
	Next Cursor
}

// Predictions returns a page of q.Endpoint's log. q.Limit 0 means
// DefaultLimit; it may not exceed MaxLimit.
func (s *Service) Predictions(ctx context.Context, q Query) (Page, error) {
	switch {
	case q.Endpoint == "":
		return Page{}, errdefs.InvalidArgument("Missing value for required parameter 'endpoint'.")
	case q.Limit < 0 || q.Limit > MaxLimit:
		return Page{}, errdefs.InvalidArgument("Invalid value %d for parameter 'max_results': use 1 to %d.", q.Limit, MaxLimit)
	case q.Since < 0:
		return Page{}, errdefs.InvalidArgument("Invalid value %d for parameter 'since': a time in Unix milliseconds is expected.", q.Since)
	case q.Until < 0 || (q.Until != 0 && q.Until < q.Since):
		return Page{}, errdefs.InvalidArgument("Invalid value %d for parameter 'until': a time in Unix milliseconds, not before 'since', is expected.", q.Until)
	case q.Version < 0:
		return Page{}, errdefs.InvalidArgument("Invalid value %d for parameter 'version': a positive version number is expected.", q.Version)
	}
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	limit := q.Limit
	q.Limit++ // one more tells whether another page follows
	got, err := s.store.ListPredictions(ctx, q)
	if err != nil {
		return Page{}, fmt.Errorf("list predictions: %w", err)
	}
	p := Page{Predictions: got}
	if len(got) > limit {
		p.Predictions = got[:limit]
		p.Next = CursorOf(got[limit-1])
	}
	return p, nil
}
