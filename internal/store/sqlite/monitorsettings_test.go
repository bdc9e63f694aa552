package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ferry-ml/ferry/internal/store/sqlite"
	"github.com/ferry-ml/ferry/internal/store/storetest"
)

func TestMonitorSettingsConformance(t *testing.T) {
	storetest.RunMonitorSettings(t, func(t *testing.T) storetest.MonitorSettingsStore {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ferry.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
