package sqlite_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ferry-ml/ferry/internal/store/sqlite"
	"github.com/ferry-ml/ferry/internal/store/sqlstore"
	"github.com/ferry-ml/ferry/internal/store/storetest"
	"github.com/ferry-ml/ferry/internal/tracking"
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

// TestTwoProcessesShareTheFile opens the same database twice, as two Ferry
// processes would, and writes from both at once: SQLite's lock is taken at
// BEGIN IMMEDIATE and waited for (busy_timeout), so no writer sees
// "database is locked".
func TestTwoProcessesShareTheFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ferry.db")
	var stores []*sqlstore.Store
	for i := 0; i < 2; i++ {
		s, err := sqlite.Open(ctx, path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.EnsureDefaultExperiment(ctx, "mlflow-artifacts:", 1); err != nil {
			t.Fatal(err)
		}
		stores = append(stores, s)
	}
	runID := tracking.NewRunID()
	if err := stores[0].CreateRun(ctx, tracking.Run{Info: tracking.RunInfo{RunID: runID, ExperimentID: "0", Status: tracking.StatusRunning, StartTime: 1}}); err != nil {
		t.Fatal(err)
	}
	const perWriter = 100
	var wg sync.WaitGroup
	errs := make(chan error, 4*perWriter)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s := stores[w%2]
			for i := 0; i < perWriter; i++ {
				m := tracking.Metric{Key: "m", Value: float64(i), Timestamp: int64(w), Step: int64(w*perWriter + i)}
				if err := s.LogBatch(ctx, runID, []tracking.Metric{m}, nil, nil); err != nil {
					errs <- err
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("writer failed: %v", err)
	}
	h, err := stores[1].MetricHistory(ctx, runID, "m")
	if err != nil || len(h) != 4*perWriter {
		t.Fatalf("history: %d values, %v", len(h), err)
	}
}
