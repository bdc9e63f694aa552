package postgres_test

import (
	"context"
	"testing"

	"github.com/ferry-ml/ferry/internal/store/postgres"
	"github.com/ferry-ml/ferry/internal/store/storetest"
)

func TestMonitorSettingsConformance(t *testing.T) {
	base := dsn(t)
	storetest.RunMonitorSettings(t, func(t *testing.T) storetest.MonitorSettingsStore {
		s, err := postgres.Open(context.Background(), freshSchema(t, base), 8)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
