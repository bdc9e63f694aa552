package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/ferry-ml/ferry/internal/store/postgres"
	"github.com/ferry-ml/ferry/internal/store/sqlstore"
	"github.com/ferry-ml/ferry/internal/store/storetest"
)

// dsn returns the test server's address. Tests skip without a server,
// except under CI, where Postgres must be there.
func dsn(t testing.TB) string {
	d := os.Getenv("FERRY_TEST_POSTGRES")
	if d == "" {
		d = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	db, err := sql.Open("pgx", d)
	if err == nil {
		err = db.PingContext(context.Background())
		db.Close()
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("postgres at %s: %v", d, err)
		}
		t.Skipf("no postgres at %s: %v", d, err)
	}
	return d
}

// freshSchema creates an empty schema and returns a DSN that uses it.
func freshSchema(t testing.TB, base string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "ferry_test_" + hex.EncodeToString(b[:])
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err == nil {
			_, _ = db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
			db.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

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
