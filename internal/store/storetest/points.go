package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/ferry-ml/ferry/internal/monitor"
)

// RunMonitorPoints runs the conformance suite of monitor.Query's
// selections: the oldest or the newest Limit points of the matching
// ones (Newest), always returned oldest first, ties by labels.
func RunMonitorPoints(t *testing.T, newStore func(t *testing.T) monitor.Store) {
	ctx := context.Background()
	s := newStore(t)
	a := map[string]string{"endpoint": "a", "feature": "x"}
	a2 := map[string]string{"endpoint": "a", "feature": "y"}
	b := map[string]string{"endpoint": "b", "feature": "x"}
	var points []monitor.Point
	for i := range 5 {
		tm := int64(10 * (i + 1)) // 10 … 50
		points = append(points,
			monitor.Point{Series: "score", Labels: a, Time: tm, Value: float64(i)},
			monitor.Point{Series: "score", Labels: a2, Time: tm, Value: 100 + float64(i)},
			// b is newer than a: it must not take a's place among the newest.
			monitor.Point{Series: "score", Labels: b, Time: tm + 5, Value: 200 + float64(i)})
	}
	points = append(points, monitor.Point{Series: "other", Labels: a, Time: 60, Value: -1})
	must(t, s.AppendPoints(ctx, points))

	// A point is written as time:value (feature y's values are 100+).
	for _, tc := range []struct {
		name string
		q    monitor.Query
		want string
	}{
		{"oldest", monitor.Query{Series: "score", Labels: map[string]string{"endpoint": "a"}, Limit: 3},
			"[10:0 10:100 20:1]"},
		{"newest", monitor.Query{Series: "score", Labels: map[string]string{"endpoint": "a"}, Limit: 3, Newest: true},
			"[40:103 50:4 50:104]"},
		{"newest of one feature", monitor.Query{Series: "score", Labels: a, Limit: 2, Newest: true},
			"[40:3 50:4]"},
		{"newest in a range", monitor.Query{Series: "score", Labels: a, From: 15, To: 40, Limit: 10, Newest: true},
			"[20:1 30:2]"},
		{"newest, limit beyond the matches", monitor.Query{Series: "score", Labels: a, Limit: 100, Newest: true},
			"[10:0 20:1 30:2 40:3 50:4]"},
		{"newest, no limit", monitor.Query{Series: "score", Labels: map[string]string{"endpoint": "b"}, Newest: true},
			"[15:200 25:201 35:202 45:203 55:204]"},
		{"newest, none", monitor.Query{Series: "score", Labels: map[string]string{"endpoint": "c"}, Limit: 1, Newest: true},
			"[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.QueryPoints(ctx, tc.q)
			must(t, err)
			var out []string
			for _, p := range got {
				if p.Series != tc.q.Series {
					t.Errorf("point of series %q", p.Series)
				}
				out = append(out, fmt.Sprintf("%d:%v", p.Time, p.Value))
			}
			if s := fmt.Sprint(out); s != tc.want {
				t.Errorf("got %s, want %s", s, tc.want)
			}
		})
	}
}
