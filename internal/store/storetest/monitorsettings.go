package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/monitor"
)

// MonitorSettingsStore is what the monitoring references and drift
// settings suite exercises.
type MonitorSettingsStore interface {
	monitor.References
	monitor.SettingsStore
}

// RunMonitorSettings runs the references and drift settings conformance
// suite.
func RunMonitorSettings(t *testing.T, newStore func(t *testing.T) MonitorSettingsStore) {
	ctx := context.Background()
	s := newStore(t)

	t.Run("references", func(t *testing.T) {
		_, err := s.GetReference(ctx, "none")
		if !errors.Is(err, monitor.ErrNoReference) || !errors.Is(err, errdefs.ErrNotFound) {
			t.Fatalf("missing reference: %v", err)
		}
		must(t, s.SetReference(ctx, monitor.Reference{Endpoint: "b", Dataset: "d", Version: 1}))
		must(t, s.SetReference(ctx, monitor.Reference{Endpoint: "a", Dataset: "d", Version: 2}))
		must(t, s.SetReference(ctx, monitor.Reference{Endpoint: "b", Dataset: "e", Version: 3}))
		got, err := s.GetReference(ctx, "b")
		must(t, err)
		if got != (monitor.Reference{Endpoint: "b", Dataset: "e", Version: 3}) {
			t.Fatalf("reference = %+v", got)
		}
		list, err := s.ListReferences(ctx)
		must(t, err)
		if len(list) != 2 || list[0].Endpoint != "a" || list[1].Dataset != "e" {
			t.Fatalf("references = %+v", list)
		}
	})

	t.Run("drift settings", func(t *testing.T) {
		got, err := s.GetDriftSettings(ctx, "fraud")
		must(t, err)
		if got != (monitor.DriftSettings{Endpoint: "fraud"}) {
			t.Fatalf("absent settings = %+v, want the zero settings", got)
		}
		for _, want := range []monitor.DriftSettings{
			{Endpoint: "fraud", StatTest: "psi", Threshold: 0.25, DriftShare: 0.3, WindowRows: 500},
			{Endpoint: "fraud", StatTest: "ks", Window: 90 * time.Minute},
			{Endpoint: "fraud"},
		} {
			must(t, s.SetDriftSettings(ctx, want))
			got, err := s.GetDriftSettings(ctx, "fraud")
			must(t, err)
			if got != want {
				t.Fatalf("settings = %+v, want %+v", got, want)
			}
		}
		// Settings need no reference, and are per endpoint.
		must(t, s.SetDriftSettings(ctx, monitor.DriftSettings{Endpoint: "other", DriftShare: 1}))
		if got, _ := s.GetDriftSettings(ctx, "fraud"); got != (monitor.DriftSettings{Endpoint: "fraud"}) {
			t.Fatalf("fraud after other = %+v", got)
		}
		for _, bad := range []monitor.DriftSettings{
			{Endpoint: "fraud", StatTest: "mannw"},
			{Endpoint: "fraud", DriftShare: 1.5},
			{Endpoint: "fraud", WindowRows: 10, Window: time.Hour},
		} {
			wantErr(t, s.SetDriftSettings(ctx, bad), errdefs.ErrInvalidArgument)
		}
		if got, _ := s.GetDriftSettings(ctx, "other"); got.DriftShare != 1 {
			t.Fatalf("other = %+v", got)
		}
	})
}
