// Package sqlite opens Ferry's embedded store: a pure-Go SQLite database
// (modernc.org/sqlite, no cgo) in WAL mode with a busy timeout, one
// writer connection and a pool of readers, migrated on open.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ferry-ml/ferry/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options tunes the database.
type Options struct {
	// Synchronous is SQLite's synchronous pragma: "full" (default; a
	// committed write survives power loss) or "normal" (survives a crash
	// of Ferry, not of the machine; faster).
	Synchronous string
	// Readers is the size of the read pool (default: 2 × GOMAXPROCS, at least 4).
	Readers int
}

// Dialect is SQLite's dialect.
func Dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		IsUniqueViolation: func(err error) bool {
			var e *sqlite.Error
			if errors.As(err, &e) {
				return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
			}
			return false
		},
		// LIKE is made case-sensitive per connection (case_sensitive_like),
		// so ILIKE lowers both sides.
		ILike:     func(col string) string { return "LOWER(" + col + ") LIKE LOWER(?)" },
		MaxParams: 32766,
	}
}

// Open opens (creating if needed) the database file at path and applies
// pending migrations.
func Open(ctx context.Context, path string, opts Options) (*sqlstore.Store, error) {
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("sqlite: create directory: %w", err)
		}
	}
	sync := strings.ToUpper(opts.Synchronous)
	if sync == "" {
		sync = "FULL"
	}
	if sync != "FULL" && sync != "NORMAL" {
		return nil, fmt.Errorf("sqlite: synchronous must be full or normal, got %q", opts.Synchronous)
	}
	pragmas := []string{
		"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)",
		"synchronous(" + sync + ")", "case_sensitive_like(1)", "temp_store(MEMORY)",
		"cache_size(-65536)", "mmap_size(268435456)", // readers: 16 MiB cache each, below
	}
	dsn := func(txlock string, extra ...string) string {
		q := url.Values{}
		for _, p := range append(pragmas, extra...) {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", txlock)
		return "file:" + path + "?" + q.Encode()
	}
	// Writers take the lock at BEGIN (no deadlock on upgrade); readers
	// never write and begin deferred.
	w, err := sql.Open("sqlite", dsn("immediate"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	// One writer: SQLite serialises writes anyway, and a single connection
	// means in-process writers queue in Go instead of spinning on the lock.
	w.SetMaxOpenConns(1)
	w.SetConnMaxLifetime(0)
	w.SetMaxIdleConns(1)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	ms, err := sqlstore.LoadMigrations(migrations, "migrations")
	if err != nil {
		w.Close()
		return nil, err
	}
	if _, err := sqlstore.Migrate(ctx, w, Dialect(), ms, ""); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	r := w
	if path != ":memory:" {
		r, err = sql.Open("sqlite", dsn("deferred", "query_only(1)", "cache_size(-16384)"))
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("sqlite: open readers: %w", err)
		}
		n := opts.Readers
		if n <= 0 {
			n = max(4, 2*runtime.GOMAXPROCS(0))
		}
		r.SetMaxOpenConns(n)
		r.SetMaxIdleConns(n)
		r.SetConnMaxLifetime(0)
	}
	d := Dialect()
	if sync == "FULL" {
		d.DurableSync, d.RelaxedSync = "PRAGMA synchronous=FULL", "PRAGMA synchronous=NORMAL"
		d.SyncAll = "PRAGMA wal_checkpoint(PASSIVE)" // syncs the WAL first
	}
	return sqlstore.New(w, r, d), nil
}
