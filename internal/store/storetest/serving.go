package storetest

import (
	"context"
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
	wantErr(t, s.DeleteDeployment(ctx, "fraud"), errdefs.ErrNotFound)
	d := serving.Deployment{Endpoint: "fraud", Model: "fraud-model", Version: 3, Strategy: serving.StrategyDirect,
		Status: serving.StatusReady, CreatedAt: 10, UpdatedAt: 10}
	must(t, s.SaveDeployment(ctx, d))
	must(t, s.SaveDeployment(ctx, serving.Deployment{Endpoint: "churn", Model: "churn", Version: 1, Strategy: serving.StrategyDirect,
		Status: serving.StatusFailed, Message: "bad model file: truncated", CreatedAt: 5, UpdatedAt: 6}))
	got, err := s.GetDeployment(ctx, "fraud")
	must(t, err)
	if got != d {
		t.Fatalf("got %+v, want %+v", got, d)
	}
	d.Version, d.UpdatedAt = 4, 20
	must(t, s.SaveDeployment(ctx, d)) // replaces
	all, err := s.ListDeployments(ctx)
	must(t, err)
	if len(all) != 2 || all[0].Endpoint != "churn" || all[0].Message != "bad model file: truncated" || all[1] != d {
		t.Fatalf("list: %+v", all)
	}
	must(t, s.DeleteDeployment(ctx, "churn"))
	all, err = s.ListDeployments(ctx)
	must(t, err)
	if len(all) != 1 || all[0].Endpoint != "fraud" {
		t.Fatalf("after delete: %+v", all)
	}
}
