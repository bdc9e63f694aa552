package postgres_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/ferry-ml/ferry/internal/store/postgres"
	"github.com/ferry-ml/ferry/internal/store/sqlstore"
	"github.com/ferry-ml/ferry/internal/store/storetest"
)

// openAt opens a store on the database d; the test's cleanup closes it.
func openAt(tb testing.TB, d string) *sqlstore.Store {
	tb.Helper()
	s, err := postgres.Open(context.Background(), d, 8)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestAudit(t *testing.T) {
	base := dsn(t)
	storetest.RunAudit(t, func(t *testing.T) storetest.AuditStore {
		return openAt(t, freshSchema(t, base))
	})
}

// TestAuditTwoServers appends through two pools on one database, as two
// Ferry servers would: the lock on audit_head makes one chain.
func TestAuditTwoServers(t *testing.T) {
	d := freshSchema(t, dsn(t))
	storetest.RunAuditShared(t, openAt(t, d), openAt(t, d))
}

// TestAuditTamper edits the tables through a separate pgx connection with
// the same search_path and checks that verification names the broken
// entry.
func TestAuditTamper(t *testing.T) {
	base := dsn(t)
	storetest.RunAuditTamper(t, func(t *testing.T) storetest.AuditTamperTarget {
		d := freshSchema(t, base)
		s := openAt(t, d)
		raw, err := sql.Open("pgx", d)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		return storetest.AuditTamperTarget{Store: s, DB: raw, Numbered: true, Unguard: []string{
			`DROP TRIGGER audit_events_append_only ON audit_events`,
			`DROP TRIGGER audit_checkpoints_append_only ON audit_checkpoints`,
		}}
	})
}

// BenchmarkAppend measures audit.Log.Append on Postgres, one caller at a
// time and many at once (group commit):
//
//	go test -run '^$' -bench Append -benchtime 3s ./internal/store/postgres/
func BenchmarkAppend(b *testing.B) {
	base := dsn(b)
	storetest.BenchAuditAppend(b, func(b *testing.B) storetest.AuditStore {
		return openAt(b, freshSchema(b, base))
	})
}
