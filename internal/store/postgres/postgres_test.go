package postgres_test

import (
	"context"
	"testing"

	"github.com/ferry-ml/ferry/internal/store/postgres"
	"github.com/ferry-ml/ferry/internal/store/postgres/pgtest"
	"github.com/ferry-ml/ferry/internal/store/sqlstore"
	"github.com/ferry-ml/ferry/internal/store/storetest"
)

// dsn and freshSchema are pgtest's, under the names these tests use.
func dsn(t testing.TB) string { return pgtest.DSN(t) }

func freshSchema(t testing.TB, base string) string { return pgtest.FreshSchema(t, base) }

func TestConformance(t *testing.T) {
	base := dsn(t)
	for plan, tuning := range sqlstore.SearchPlans() {
		t.Run(plan, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) storetest.Store {
				s, err := postgres.Open(context.Background(), freshSchema(t, base), 8)
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

func TestConcurrentMigrations(t *testing.T) {
	d := freshSchema(t, dsn(t))
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() {
			s, err := postgres.Open(context.Background(), d, 2)
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent open: %v", err)
		}
	}
}
