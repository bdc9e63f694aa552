package sqlite_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/ferry-ml/ferry/internal/audit"
	"github.com/ferry-ml/ferry/internal/store/sqlite"
	"github.com/ferry-ml/ferry/internal/store/sqlstore"
	"github.com/ferry-ml/ferry/internal/store/storetest"
)

// openAt opens the database at path; the test's cleanup closes it.
func openAt(tb testing.TB, path string, opts sqlite.Options) *sqlstore.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), path, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestAudit(t *testing.T) {
	storetest.RunAudit(t, func(t *testing.T) storetest.AuditStore {
		return openAt(t, filepath.Join(t.TempDir(), "ferry.db"), sqlite.Options{})
	})
}

// TestAuditTwoProcesses appends through two handles on one file, as two
// Ferry processes would: one chain.
func TestAuditTwoProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ferry.db")
	storetest.RunAuditShared(t, openAt(t, path, sqlite.Options{}), openAt(t, path, sqlite.Options{}))
}

// TestAuditTamper edits the database file through a separate connection
// (the plain "sqlite" driver) and checks that verification names the
// broken entry.
func TestAuditTamper(t *testing.T) {
	storetest.RunAuditTamper(t, func(t *testing.T) storetest.AuditTamperTarget {
		path := filepath.Join(t.TempDir(), "ferry.db")
		s := openAt(t, path, sqlite.Options{})
		raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		return storetest.AuditTamperTarget{Store: s, DB: raw, Unguard: []string{
			`DROP TRIGGER audit_events_no_update`, `DROP TRIGGER audit_events_no_delete`,
			`DROP TRIGGER audit_checkpoints_no_update`, `DROP TRIGGER audit_checkpoints_no_delete`,
		}}
	})
}

// BenchmarkAppend measures audit.Log.Append on an SQLite file, one
// caller at a time and many at once (group commit):
//
//	go test -run '^$' -bench Append -benchtime 3s ./internal/store/sqlite/
func BenchmarkAppend(b *testing.B) {
	for _, sync := range []string{"full", "normal"} {
		b.Run("sync="+sync, func(b *testing.B) {
			storetest.BenchAuditAppend(b, func(b *testing.B) storetest.AuditStore {
				return openAt(b, filepath.Join(b.TempDir(), "ferry.db"), sqlite.Options{Synchronous: sync})
			})
		})
	}
}

// BenchmarkVerify measures Verify over 10,000 entries, one checkpoint each.
func BenchmarkVerify(b *testing.B) {
	s := openAt(b, filepath.Join(b.TempDir(), "ferry.db"), sqlite.Options{Synchronous: "normal"})
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	l, err := audit.New(s, key, audit.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	const n = 10000
	for i := range n {
		if err := l.Append(ctx, audit.Event{Actor: "a", Action: "x", Resource: fmt.Sprint("runs:/", i), Status: 200}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		rep, err := l.Verify(ctx)
		if err != nil || !rep.OK || rep.Entries != n {
			b.Fatalf("verify: %v %v", rep, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n/1000, "µs/entry")
}
