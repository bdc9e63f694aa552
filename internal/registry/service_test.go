package registry_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/ferry-ml/ferry/internal/audit"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/registry"
	"github.com/ferry-ml/ferry/internal/store/sqlite"
)

// otherServer is a gate that, while it decides, lets "another server"
// (a second store over the same database, bypassing this service's lock)
// reject the version being moved.
type otherServer struct {
	other registry.Store
	calls int
}

func (g *otherServer) Allow(ctx context.Context, mv registry.ModelVersion, _ registry.Target) error {
	g.calls++
	if g.calls == 1 {
		return g.other.AddReview(ctx, mv.Name, mv.Version, registry.Review{Reviewer: "bob", Decision: registry.ApprovalRejected, Time: 1})
	}
	return nil
}

// TestMoveRefusedWhenTheModelChangedMeanwhile: a review landing between a
// gate's verdict and the move (from another server sharing the database)
// makes the move fail with a conflict, changing nothing; trying again
// judges the new state.
func TestMoveRefusedWhenTheModelChangedMeanwhile(t *testing.T) {
	ctx, _ := audit.WithNotes(context.Background(), "alice")
	path := filepath.Join(t.TempDir(), "ferry.db")
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	other, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	gate := &otherServer{other: other}
	reg := registry.NewService(st, nil, registry.Options{Gate: gate})
	if _, err := reg.CreateRegisteredModel(ctx, "m", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.CreateModelVersion(ctx, registry.CreateVersion{Name: "m", Source: "s3://bucket/m"}); err != nil {
		t.Fatal(err)
	}
	err = reg.SetAlias(ctx, "m", "production", "1")
	if !errors.Is(err, errdefs.ErrConflict) {
		t.Fatalf("move after a concurrent review: %v", err)
	}
	if _, err := reg.GetVersionByAlias(ctx, "m", "production"); err == nil {
		t.Fatal("the alias was set")
	}
	_, err = reg.TransitionStage(ctx, "m", "1", "Staging", false)
	if err != nil { // the second verdict sees the review; this gate allows
		t.Fatalf("stage move at the current revision: %v", err)
	}
	if err := reg.SetAlias(ctx, "m", "production", "1"); err != nil {
		t.Fatalf("retry: %v", err)
	}
}
