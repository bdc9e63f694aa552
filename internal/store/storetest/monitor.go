package storetest

import (
	"context"
	"math"
	"testing"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/monitor"
)

// MonitorStore is what the monitored-series suite exercises.
type MonitorStore interface {
	monitor.Store
}

// RunMonitor runs the monitored-series conformance suite.
func RunMonitor(t *testing.T, newStore func(t *testing.T) MonitorStore) {
	ctx := context.Background()
	s := newStore(t)
	a, b := map[string]string{"endpoint": "a", "zone": "x"}, map[string]string{"endpoint": "b"}
	must(t, s.AppendPoints(ctx, []monitor.Point{
		{Series: "rps", Labels: a, Time: 10, Value: 1.5}, {Series: "rps", Labels: b, Time: 10, Value: 2},
		{Series: "rps", Labels: a, Time: 20, Value: 3}, {Series: "err", Labels: a, Time: 20, Value: 0},
	}))
	wantErr(t, s.AppendPoints(ctx, []monitor.Point{{Series: "rps", Time: 30, Value: math.NaN()}}), errdefs.ErrInvalidArgument)
	got, err := s.QueryPoints(ctx, monitor.Query{Series: "rps", Labels: map[string]string{"endpoint": "a"}})
	must(t, err)
	if len(got) != 2 || got[0].Value != 1.5 || got[1].Time != 20 || got[0].Labels["zone"] != "x" {
		t.Fatalf("endpoint a: %+v", got)
	}
	if got, _ := s.QueryPoints(ctx, monitor.Query{Series: "rps", From: 11}); len(got) != 1 || got[0].Value != 3 {
		t.Fatalf("from 11: %+v", got)
	}
	if got, _ := s.QueryPoints(ctx, monitor.Query{Series: "rps", To: 11}); len(got) != 2 {
		t.Fatalf("to 11: %+v", got)
	}
	if got, _ := s.QueryPoints(ctx, monitor.Query{Series: "rps", Limit: 1}); len(got) != 1 {
		t.Fatalf("limit: %+v", got)
	}
	_, err = s.QueryPoints(ctx, monitor.Query{})
	wantErr(t, err, errdefs.ErrInvalidArgument)
	n, err := s.DeletePointsBefore(ctx, 15)
	must(t, err)
	if n != 2 {
		t.Fatalf("deleted %d", n)
	}
	if got, _ := s.QueryPoints(ctx, monitor.Query{Series: "rps"}); len(got) != 1 {
		t.Fatalf("after retention: %+v", got)
	}
}
