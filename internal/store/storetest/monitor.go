package storetest

import (
	"context"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/alert"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/monitor"
)

// MonitorStore is what the monitored-series suite exercises.
type MonitorStore interface {
	monitor.Store
	alert.History
	alert.HistoryReader
	PutSilence(ctx context.Context, s alert.Silence) error
	ListSilences(ctx context.Context) ([]alert.Silence, error)
	GetAlertRules(ctx context.Context) (alert.RulesDocument, bool, error)
	PutAlertRules(ctx context.Context, r alert.RulesDocument) error
	DeleteAlertRules(ctx context.Context) error
	DeleteAlertEventsBefore(ctx context.Context, t int64) (int64, error)
	DeleteSilencesEndedBefore(ctx context.Context, t int64) (int64, error)
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
	t.Run("alert history", func(t *testing.T) { runAlertHistory(t, s) })
}

func runAlertHistory(t *testing.T, s MonitorStore) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	gk := `drift:{endpoint="fraud"}`
	evs := []alert.Event{
		{Kind: alert.EventTransition, Time: t0, Rule: "drift", Fingerprint: "f1", Labels: map[string]string{"endpoint": "fraud"},
			From: alert.StateInactive, To: alert.StatePending, Value: 0.8},
		{Kind: alert.EventTransition, Time: t0.Add(time.Minute), Rule: "drift", Fingerprint: "f1", Labels: map[string]string{"endpoint": "fraud"},
			From: alert.StatePending, To: alert.StateFiring, Value: math.NaN()},
		{Kind: alert.EventNotification, Time: t0.Add(time.Minute), Rule: "drift", GroupKey: gk, Labels: map[string]string{"endpoint": "fraud"},
			Channel: "retrain", Status: "firing", Alerts: 1, Attempt: 1, Target: "pipelines:/r1"},
		{Kind: alert.EventNotification, Time: t0.Add(2 * time.Minute), Rule: "latency", GroupKey: "latency:{}",
			Channel: "hook", Status: "firing", Alerts: 2, Attempt: 3, Err: "HTTP 500"},
	}
	for _, e := range evs {
		must(t, s.Record(ctx, e))
	}
	all, err := s.ListAlertEvents(ctx, alert.HistoryQuery{})
	must(t, err)
	if len(all) != 4 || all[0].Rule != "latency" || all[0].Err != "HTTP 500" || all[0].Attempt != 3 || all[3].Value != 0.8 {
		t.Fatalf("all events, newest first: %+v", all)
	}
	if !math.IsNaN(all[2].Value) || !all[2].Time.Equal(t0.Add(time.Minute)) || all[2].To != alert.StateFiring {
		t.Fatalf("transition round trip: %+v", all[2])
	}
	byTarget, err := s.ListAlertEvents(ctx, alert.HistoryQuery{Target: "pipelines:/r1"})
	must(t, err)
	if len(byTarget) != 1 || !reflect.DeepEqual(byTarget[0].Labels, map[string]string{"endpoint": "fraud"}) || byTarget[0].GroupKey != gk {
		t.Fatalf("by target: %+v", byTarget)
	}
	byGroup, _ := s.ListAlertEvents(ctx, alert.HistoryQuery{Group: alert.GroupURI("drift", gk)})
	if len(byGroup) != 1 || byGroup[0].Channel != "retrain" {
		t.Fatalf("by group: %+v", byGroup)
	}
	ranged, _ := s.ListAlertEvents(ctx, alert.HistoryQuery{Rule: "drift", Kind: alert.EventTransition, Since: t0.Add(time.Second), Until: t0.Add(time.Hour)})
	if len(ranged) != 1 || ranged[0].To != alert.StateFiring {
		t.Fatalf("rule, kind and time range: %+v", ranged)
	}
	if got, _ := s.ListAlertEvents(ctx, alert.HistoryQuery{Limit: 2}); len(got) != 2 {
		t.Fatalf("limit: %d", len(got))
	}
	_, err = s.ListAlertEvents(ctx, alert.HistoryQuery{Limit: -1})
	wantErr(t, err, errdefs.ErrInvalidArgument)
	// Retention: the event before the first minute goes.
	n, err := s.DeleteAlertEventsBefore(ctx, t0.Add(time.Minute).UnixMilli())
	must(t, err)
	if left, _ := s.ListAlertEvents(ctx, alert.HistoryQuery{}); n != 1 || len(left) != 3 {
		t.Fatalf("retention deleted %d, left %d", n, len(left))
	}
	// Later: everything but the delivery that started a run (lineage).
	n, err = s.DeleteAlertEventsBefore(ctx, t0.Add(time.Hour).UnixMilli())
	must(t, err)
	if left, _ := s.ListAlertEvents(ctx, alert.HistoryQuery{}); n != 2 || len(left) != 1 || left[0].Target != "pipelines:/r1" {
		t.Fatalf("retention deleted %d, left %+v", n, left)
	}

	sl := alert.Silence{ID: "s1", Matchers: map[string]string{"endpoint": "fraud"}, StartsAt: t0, EndsAt: t0.Add(time.Hour),
		Comment: "deploying", CreatedBy: "ana"}
	must(t, s.PutSilence(ctx, sl))
	sl.Comment = "still deploying"
	must(t, s.PutSilence(ctx, sl))
	wantErr(t, s.PutSilence(ctx, alert.Silence{ID: "bad"}), errdefs.ErrInvalidArgument)
	got, err := s.ListSilences(ctx)
	must(t, err)
	if len(got) != 1 || !reflect.DeepEqual(got[0], sl) {
		t.Fatalf("silences: %+v, want %+v", got, sl)
	}
	// Retention: a silence that ended before the cut goes.
	if n, err := s.DeleteSilencesEndedBefore(ctx, t0.Add(time.Hour).UnixMilli()); err != nil || n != 0 {
		t.Fatalf("pruned %d silences ending at the cut: %v", n, err)
	}
	if n, err := s.DeleteSilencesEndedBefore(ctx, t0.Add(time.Hour+time.Millisecond).UnixMilli()); err != nil || n != 1 {
		t.Fatalf("pruned %d ended silences: %v", n, err)
	}
	if got, _ := s.ListSilences(ctx); len(got) != 0 {
		t.Fatalf("silences after retention: %+v", got)
	}

	if _, ok, err := s.GetAlertRules(ctx); ok || err != nil {
		t.Fatalf("rules before any: %v %v", ok, err)
	}
	must(t, s.PutAlertRules(ctx, alert.RulesDocument{Document: "rules: []\n", UpdatedAt: 5, UpdatedBy: "ana"}))
	want := alert.RulesDocument{Document: "rules:\n  - {name: a, series: s, condition: '> 1'}\n", UpdatedAt: 9, UpdatedBy: "bo"}
	must(t, s.PutAlertRules(ctx, want))
	if got, ok, err := s.GetAlertRules(ctx); !ok || err != nil || got != want {
		t.Fatalf("rules: %+v %v %v", got, ok, err)
	}
	must(t, s.DeleteAlertRules(ctx))
	wantErr(t, s.DeleteAlertRules(ctx), errdefs.ErrNotFound)
}
