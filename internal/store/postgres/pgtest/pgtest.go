// Package pgtest gives tests an empty Postgres schema of their own on the
// test server (FERRY_TEST_POSTGRES, default the machine's local server).
// Tests skip without a server, except under CI, where it must be there.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// DefaultDSN is the test server when FERRY_TEST_POSTGRES is not set.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// DSN returns the test server's address, skipping the test (failing it
// under CI) when the server does not answer.
func DSN(tb testing.TB) string {
	tb.Helper()
	d := os.Getenv("FERRY_TEST_POSTGRES")
	if d == "" {
		d = DefaultDSN
	}
	db, err := sql.Open("pgx", d)
	if err == nil {
		err = db.PingContext(context.Background())
		db.Close()
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("postgres at %s: %v", d, err)
		}
		tb.Skipf("no postgres at %s: %v", d, err)
	}
	return d
}

// FreshSchema creates an empty schema, dropped by the test's cleanup, and
// returns base with search_path set to it.
func FreshSchema(tb testing.TB, base string) string {
	tb.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "ferry_test_" + hex.EncodeToString(b[:])
	db, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if db, err := sql.Open("pgx", base); err == nil {
			_, _ = db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
			db.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Fresh is FreshSchema on the test server.
func Fresh(tb testing.TB) string {
	tb.Helper()
	return FreshSchema(tb, DSN(tb))
}
