package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ferry-ml/ferry/internal/monitor"
	"github.com/ferry-ml/ferry/internal/store/sqlite"
	"github.com/ferry-ml/ferry/internal/store/storetest"
)

func TestRegistryConformance(t *testing.T) {
	storetest.RunRegistry(t, func(t *testing.T) storetest.RegistryStore {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ferry.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestServingConformance(t *testing.T) {
	storetest.RunServing(t, func(t *testing.T) storetest.ServingStore {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ferry.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestDatasetConformance(t *testing.T) {
	storetest.RunDatasets(t, func(t *testing.T) storetest.DatasetStore {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ferry.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestMonitorConformance(t *testing.T) {
	storetest.RunMonitor(t, func(t *testing.T) storetest.MonitorStore {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ferry.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestMonitorPointsConformance(t *testing.T) {
	storetest.RunMonitorPoints(t, func(t *testing.T) monitor.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ferry.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestPipelineQueueConformance(t *testing.T) {
	storetest.RunPipelineQueue(t, func(t *testing.T) storetest.PipelineStore {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ferry.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestPredictionsConformance(t *testing.T) {
	storetest.RunPredictions(t, func(t *testing.T) storetest.PredictionStore {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ferry.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
