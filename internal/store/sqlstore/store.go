// Package sqlstore implements Ferry's stores over database/sql for both
// supported engines. The SQL is written once with "?" placeholders; a
// Dialect supplies what differs between SQLite and Postgres (placeholders,
// locking clauses, error classification). Engine packages (sqlite,
// postgres) open the connections, apply their own migrations and hand
// them to New.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ferry-ml/ferry/internal/audit"
)

// Dialect describes one SQL engine.
type Dialect struct {
	// Numbered placeholders ($1, $2, ...) instead of "?".
	Numbered bool
	// ForUpdate is appended to the SELECT with which a write transaction
	// reads the run or experiment it is about to change, locking that row
	// until the transaction ends, so that writers of one row queue instead
	// of deadlocking on a lock upgrade ("" when the engine serialises
	// writers anyway).
	ForUpdate string
	// IsUniqueViolation reports whether err is a unique-constraint violation.
	IsUniqueViolation func(err error) bool
	// ILike renders a case-insensitive LIKE of col against a bound pattern.
	ILike func(col string) string
	// MaxParams bounds the bind parameters of one statement.
	MaxParams int
	// ReadTx are the options of read transactions: every statement of a
	// read (a search runs several) must see one snapshot. nil: the
	// engine's default transaction already is one (SQLite's WAL reads).
	ReadTx *sql.TxOptions
	// DurableSync and RelaxedSync, when set (SQLite with synchronous=FULL
	// and one writer connection), are run on the writer before a write
	// transaction begins. A write made for an audited request
	// (audit.Recording) commits relaxed, without its own fsync: the audit
	// append that follows it, before the response is released, commits
	// durably and its fsync of the write-ahead log makes the earlier write
	// durable too — one fsync for the change and its audit entry. Every
	// other write commits durably. Sync covers a failed audit append.
	DurableSync, RelaxedSync string
	// SyncAll makes every committed write durable (Store.Sync).
	SyncAll string
}

// Store is the SQL implementation of the domain store interfaces.
type Store struct {
	w *sql.DB // writes (one connection on SQLite)
	r *sql.DB // reads (may be the same pool)
	d Dialect

	tuning SearchTuning

	// writerSync is the sync pragma last run on the writer connection; it
	// is only read and written while holding that (single) connection.
	writerSync string

	stmts stmtCache // prepared hot-path statements
}

// New returns a store over already migrated databases. w and r may be the
// same *sql.DB.
func New(w, r *sql.DB, d Dialect) *Store {
	return &Store{w: w, r: r, d: d, tuning: DefaultSearchTuning()}
}

// Close closes the underlying pools.
func (s *Store) Close() error {
	s.stmts.close()
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// Sync makes every write committed so far durable (a no-op where every
// commit already is).
func (s *Store) Sync(ctx context.Context) error {
	if s.d.SyncAll == "" {
		return nil
	}
	_, err := s.w.ExecContext(ctx, s.d.SyncAll)
	return err
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.r.PingContext(ctx) }

// Dialect returns the engine's dialect.
func (s *Store) Dialect() Dialect { return s.d }

// rebind turns "?" placeholders into the dialect's form.
func (s *Store) rebind(q string) string {
	if !s.d.Numbered {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// tx wraps a transaction and rebinds its queries.
type tx struct {
	s  *Store
	tx *sql.Tx
}

func (t tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.s.rebind(q), args...)
}

// execStmt runs a statement prepared on the writer pool inside the transaction.
func (t tx) execStmt(ctx context.Context, st *sql.Stmt, args ...any) (sql.Result, error) {
	return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
}

// queryRowStmt runs a prepared query inside the transaction.
func (t tx) queryRowStmt(ctx context.Context, st *sql.Stmt, args ...any) *sql.Row {
	return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
}

func (t tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.s.rebind(q), args...)
}

func (t tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.s.rebind(q), args...)
}

// write runs fn in a write transaction, committing when it returns nil.
func (s *Store) write(ctx context.Context, fn func(tx) error) error {
	return s.inTx(ctx, s.w, false, fn)
}

// read runs fn in a read-only transaction for a consistent snapshot.
func (s *Store) read(ctx context.Context, fn func(tx) error) error {
	return s.inTx(ctx, s.r, true, fn)
}

func (s *Store) inTx(ctx context.Context, db *sql.DB, readOnly bool, fn func(tx) error) error {
	var opts *sql.TxOptions
	if readOnly {
		opts = s.d.ReadTx
	}
	var t *sql.Tx
	var err error
	if !readOnly && s.d.DurableSync != "" {
		conn, cerr := db.Conn(ctx)
		if cerr != nil {
			return fmt.Errorf("begin: %w", cerr)
		}
		defer conn.Close()
		want := s.d.DurableSync
		if audit.Recording(ctx) {
			want = s.d.RelaxedSync
		}
		if want != s.writerSync {
			if _, err := conn.ExecContext(ctx, want); err != nil {
				return fmt.Errorf("begin: %w", err)
			}
			s.writerSync = want
		}
		t, err = conn.BeginTx(ctx, opts)
	} else {
		t, err = db.BeginTx(ctx, opts)
	}
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx{s: s, tx: t}); err != nil {
		_ = t.Rollback()
		return err
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// placeholders returns "(?, ?, ...)" with n marks.
func placeholders(n int) string {
	if n <= 0 {
		return "()"
	}
	return "(" + strings.Repeat("?, ", n-1) + "?)"
}

// valuesRows returns "(?,?),(?,?)..." for rows of width cols.
func valuesRows(rows, cols int) string {
	one := placeholders(cols)
	var b strings.Builder
	b.Grow(rows * (len(one) + 2))
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(one)
	}
	return b.String()
}

// batchSizes are the row counts of multi-row statements: any number of
// rows is written as statements of these sizes, so only a handful of
// statement texts exist and each is prepared once (execPrepared). The
// largest keeps 6-column rows well within both engines' bind limits.
var batchSizes = [...]int{250, 50, 10, 1}

// rowBatches splits n rows into consecutive [lo, hi) ranges whose sizes
// are drawn from batchSizes, largest first.
func rowBatches(n int) [][2]int {
	var out [][2]int
	lo := 0
	for _, size := range batchSizes {
		for n-lo >= size {
			out = append(out, [2]int{lo, lo + size})
			lo += size
		}
	}
	return out
}
