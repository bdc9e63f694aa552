package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ferry-ml/ferry/internal/store/sqlite"
	"github.com/ferry-ml/ferry/internal/store/sqlstore"
	"github.com/ferry-ml/ferry/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	for plan, tuning := range sqlstore.SearchPlans() {
		t.Run(plan, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) storetest.Store {
				s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ferry.db"), sqlite.Options{})
				if err != nil {
					t.Fatal(err)
				}
				s.SetSearchTuning(tuning)
				t.Cleanup(func() { s.Close() })
				return s
			})
		})
	}
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ferry.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{Synchronous: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureDefaultExperiment(ctx, "mlflow-artifacts:", 1); err != nil {
		t.Fatal(err)
	}
	v1, _ := s.SchemaVersion(ctx)
	s.Close()
	s, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v2, _ := s.SchemaVersion(ctx)
	if v1 == 0 || v1 != v2 {
		t.Fatalf("schema versions %d then %d", v1, v2)
	}
	if _, err := s.GetExperiment(ctx, "0"); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Open(ctx, path, sqlite.Options{Synchronous: "sometimes"}); err == nil {
		t.Fatal("bad synchronous accepted")
	}
}
