package postgres_test

import (
	"context"
	"testing"

	"github.com/ferry-ml/ferry/internal/monitor"
	"github.com/ferry-ml/ferry/internal/store/postgres"
	"github.com/ferry-ml/ferry/internal/store/storetest"
)

func TestRegistryConformance(t *testing.T) {
	base := dsn(t)
	storetest.RunRegistry(t, func(t *testing.T) storetest.RegistryStore {
		s, err := postgres.Open(context.Background(), freshSchema(t, base), 8)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestServingConformance(t *testing.T) {
	base := dsn(t)
	storetest.RunServing(t, func(t *testing.T) storetest.ServingStore {
		s, err := postgres.Open(context.Background(), freshSchema(t, base), 8)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestDatasetConformance(t *testing.T) {
	base := dsn(t)
	storetest.RunDatasets(t, func(t *testing.T) storetest.DatasetStore {
		s, err := postgres.Open(context.Background(), freshSchema(t, base), 8)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestMonitorConformance(t *testing.T) {
	base := dsn(t)
	storetest.RunMonitor(t, func(t *testing.T) storetest.MonitorStore {
		s, err := postgres.Open(context.Background(), freshSchema(t, base), 8)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestMonitorPointsConformance(t *testing.T) {
	base := dsn(t)
	storetest.RunMonitorPoints(t, func(t *testing.T) monitor.Store {
		s, err := postgres.Open(context.Background(), freshSchema(t, base), 8)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestPipelineQueueConformance(t *testing.T) {
	base := dsn(t)
	storetest.RunPipelineQueue(t, func(t *testing.T) storetest.PipelineStore {
		s, err := postgres.Open(context.Background(), freshSchema(t, base), 8)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestPredictionsConformance(t *testing.T) {
	base := dsn(t)
	storetest.RunPredictions(t, func(t *testing.T) storetest.PredictionStore {
		s, err := postgres.Open(context.Background(), freshSchema(t, base), 8)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
