package monitor

import (
	"context"

	"github.com/ferry-ml/ferry/internal/predlog"
)

// latest reads the endpoint's newest n logged requests of [start, end)
// (Unix ms), oldest first, in one query however busy the log is; with
// labelled set, only requests with ground truth.
func latest(ctx context.Context, log Predictions, endpoint string, labelled bool, start, end int64, n int) ([]predlog.Logged, error) {
	return log.ListPredictions(ctx, predlog.Query{Endpoint: endpoint, WithFeedbackOnly: labelled, Since: start, Until: end,
		Limit: n, Newest: true})
}
