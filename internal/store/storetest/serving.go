package storetest

import (
	"context"
	"reflect"
	"testing"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/serving"
)

// ServingStore is what the serving suite exercises.
type ServingStore interface {
	serving.Store
}

// RunServing runs the deployments conformance suite.
func RunServing(t *testing.T, newStore func(t *testing.T) ServingStore) {
	ctx := context.Background()
	s := newStore(t)
	_, err := s.GetDeployment(ctx, "fraud")
	wantErr(t, err, errdefs.ErrNotFound)
	ev := func(endpoint, action string, ref, cand serving.Ref) serving.Event {
		return serving.Event{Endpoint: endpoint, Time: 7, Actor: "alice", Action: action, Ref: ref, Candidate: cand, Weight: 5, Reason: "why"}
	}
	v3, v4 := serving.Ref{Model: "fraud-model", Version: 3}, serving.Ref{Model: "fraud-model", Version: 4}
	wantErr(t, s.DeleteDeployment(ctx, "fraud", ev("fraud", "undeploy", v3, serving.Ref{})), errdefs.ErrNotFound)
	d := serving.Deployment{Endpoint: "fraud", Ref: v3, Strategy: serving.StrategyDirect,
		Status: serving.StatusReady, CreatedAt: 10, UpdatedAt: 10}
	must(t, s.SaveDeployment(ctx, d, ev("fraud", "deploy", v3, serving.Ref{})))
	must(t, s.SaveDeployment(ctx, serving.Deployment{Endpoint: "churn", Ref: serving.Ref{Model: "churn", Version: 1}, Strategy: serving.StrategyDirect,
		Status: serving.StatusFailed, Message: "bad model file: truncated", CreatedAt: 5, UpdatedAt: 6}, ev("churn", "load_failed", serving.Ref{Model: "churn", Version: 1}, serving.Ref{})))
	got, err := s.GetDeployment(ctx, "fraud")
	must(t, err)
	if !reflect.DeepEqual(got, d) {
		t.Fatalf("got %+v, want %+v", got, d)
	}
	// A rollout in progress and a warm previous version round-trip.
	d.Rollout = &serving.Rollout{Strategy: serving.StrategyCanary, Ref: v4, State: serving.RolloutProgressing, Weight: 10,
		Steps: []int{5, 10, 100}, Step: 1, IntervalMs: 60000, Analysis: serving.Analysis{MaxErrorRate: 0.01, MaxLatencyRatio: 2, MinRequests: 10},
		StartedAt: 11, StepStartedAt: 12, LastCheck: &serving.Check{Time: 12, Verdict: serving.VerdictPassed, Candidate: serving.WindowStats{Requests: 40}}}
	d.Previous, d.PreviousWarm, d.UpdatedAt = &serving.Ref{Model: "old", Version: 9}, true, 20
	must(t, s.SaveDeployment(ctx, d, ev("fraud", "rollout_step", v3, v4))) // replaces
	all, err := s.ListDeployments(ctx)
	must(t, err)
	if len(all) != 2 || all[0].Endpoint != "churn" || all[0].Message != "bad model file: truncated" || !reflect.DeepEqual(all[1], d) {
		t.Fatalf("list: %+v", all)
	}
	must(t, s.DeleteDeployment(ctx, "churn", ev("churn", "undeploy", serving.Ref{Model: "churn", Version: 1}, serving.Ref{})))
	all, err = s.ListDeployments(ctx)
	must(t, err)
	if len(all) != 1 || all[0].Endpoint != "fraud" {
		t.Fatalf("after delete: %+v", all)
	}
	// History: newest first, kept after the endpoint is removed.
	evs, err := s.DeploymentEvents(ctx, "fraud", 10)
	must(t, err)
	if len(evs) != 2 || evs[0].Action != "rollout_step" || evs[1].Action != "deploy" || evs[0].ID <= evs[1].ID {
		t.Fatalf("fraud history: %+v", evs)
	}
	want := ev("fraud", "rollout_step", v3, v4)
	want.ID = evs[0].ID
	if evs[0] != want {
		t.Fatalf("event: got %+v, want %+v", evs[0], want)
	}
	if evs, err = s.DeploymentEvents(ctx, "fraud", 1); err != nil || len(evs) != 1 {
		t.Fatalf("limit 1: %v %+v", err, evs)
	}
	if evs, err = s.DeploymentEvents(ctx, "churn", 10); err != nil || len(evs) != 2 || evs[0].Action != "undeploy" {
		t.Fatalf("churn history after removal: %v %+v", err, evs)
	}
	for _, c := range []struct {
		ref  serving.Ref
		want []string
	}{{v3, []string{"fraud"}}, {v4, []string{"fraud"}}, {serving.Ref{Model: "churn", Version: 1}, []string{"churn"}}, {serving.Ref{Model: "fraud-model", Version: 5}, nil}} {
		got, err := s.EndpointsServing(ctx, c.ref.Model, c.ref.Version)
		must(t, err)
		if !reflect.DeepEqual(got, c.want) {
			t.Fatalf("EndpointsServing(%v) = %v, want %v", c.ref, got, c.want)
		}
	}
}
