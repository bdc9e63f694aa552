// Package monitor keeps what Ferry watches about its deployments as time
// series: system metrics sampled from the serving path (requests per
// second, error rate, latency quantiles per endpoint), the drift of each
// endpoint's traffic and predictions against its reference, and each
// served version's performance against delayed ground truth (metrics,
// concept-drift detectors, CBPE estimates); and it builds drift reports.
// Points are stored with their labels and pruned after a retention
// period.
package monitor

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Point is one value of a series at a time.
type Point struct {
	Series string            `json:"series"`
	Labels map[string]string `json:"labels"`
	// Time is Unix milliseconds.
	Time  int64   `json:"time"`
	Value float64 `json:"value"`
}

// Query selects points of one series whose labels include Labels, with
// Time in [From, To) (0: open), oldest first, at most Limit (0:
// MaxQueryPoints).
type Query struct {
	Series   string
	Labels   map[string]string
	From, To int64
	Limit    int
	// Newest selects the newest Limit points rather than the oldest,
	// still returned oldest first.
	Newest bool
}

// Store keeps points.
type Store interface {
	AppendPoints(ctx context.Context, points []Point) error
	QueryPoints(ctx context.Context, q Query) ([]Point, error)
	// DeletePointsBefore removes the points older than t (Unix ms) and
	// says how many.
	DeletePointsBefore(ctx context.Context, t int64) (int64, error)
}

// CanonicalLabels renders labels as JSON with sorted keys: the stored
// form, equal for equal label sets.
func CanonicalLabels(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b := []byte{'{'}
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(labels[k])
		b = append(append(append(b, kb...), ':'), vb...)
	}
	return string(append(b, '}'))
}

// MaxQueryPoints bounds one query's answer.
const MaxQueryPoints = 100_000

// Validate checks a query.
func (q Query) Validate() error {
	switch {
	case q.Series == "":
		return errdefs.InvalidArgument("Give the series to read.")
	case q.Limit < 0 || q.Limit > MaxQueryPoints:
		return errdefs.InvalidArgument("A query returns at most %d points, got a limit of %d.", MaxQueryPoints, q.Limit)
	case q.To != 0 && q.To < q.From:
		return errdefs.InvalidArgument("The query's end (%d) is before its start (%d).", q.To, q.From)
	}
	return nil
}

// Retention calls prune every Every until ctx ends, with the time (Unix
// ms) before which kept records go: Keep ago. Store.DeletePointsBefore
// prunes points; callers add what else they keep as long.
func Retention(ctx context.Context, prune func(ctx context.Context, before int64) (int64, error), keep, every time.Duration,
	now func() time.Time, log func(deleted int64, err error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := prune(ctx, now().Add(-keep).UnixMilli())
		if log != nil && (n > 0 || err != nil) {
			log(n, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
