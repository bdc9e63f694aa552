package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ferry-ml/ferry/internal/audit"
	"github.com/ferry-ml/ferry/internal/store/sqlite"
	"github.com/ferry-ml/ferry/internal/store/sqlstore"
	"github.com/ferry-ml/ferry/internal/tracking"
)

// TestAuditedWritesDeferTheirSync: with synchronous=full, a write made for
// an audited request commits without its own fsync (the audit append that
// follows commits durably), every other write commits durably; with
// synchronous=normal nothing changes.
func TestAuditedWritesDeferTheirSync(t *testing.T) {
	for _, tc := range []struct {
		sync                   string
		plain, audited, plain2 int
	}{
		{"full", 2, 1, 2},
		{"normal", 1, 1, 1},
	} {
		t.Run(tc.sync, func(t *testing.T) {
			ctx := context.Background()
			s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "f.db"), sqlite.Options{Synchronous: tc.sync})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			audited, _ := audit.WithNotes(ctx, "alice")
			for i, step := range []struct {
				ctx  context.Context
				want int
			}{{ctx, tc.plain}, {audited, tc.audited}, {ctx, tc.plain2}} {
				if _, err := s.CreateExperiment(step.ctx, tracking.Experiment{Name: "e" + string(rune('0'+i))}, "mlflow-artifacts:"); err != nil {
					t.Fatal(err)
				}
				got, err := sqlstore.WriterSynchronous(ctx, s)
				if err != nil || got != step.want {
					t.Fatalf("step %d: synchronous = %d (%v), want %d", i, got, err, step.want)
				}
			}
			if err := s.Sync(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}
