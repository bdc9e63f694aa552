// Package postgres opens Ferry's shared store on PostgreSQL through pgx's
// database/sql driver, migrated on open under an advisory lock so that
// replicas starting together apply each migration once.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/ferry-ml/ferry/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock serialises migrations across processes (an arbitrary key).
const migrationLock = `SELECT pg_advisory_xact_lock(7020250211)`

// Dialect is Postgres's dialect.
func Dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Numbered:  true,
		ForUpdate: " FOR NO KEY UPDATE",
		IsUniqueViolation: func(err error) bool {
			var e *pgconn.PgError
			return errors.As(err, &e) && e.Code == "23505"
		},
		ILike:     func(col string) string { return col + " ILIKE ?" },
		MaxParams: 65535,
		ReadTx:    &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead},
	}
}

// Open connects to the database at dsn (postgres://...) and applies
// pending migrations.
func Open(ctx context.Context, dsn string, maxConns int) (*sqlstore.Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if maxConns <= 0 {
		maxConns = 16
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	ms, err := sqlstore.LoadMigrations(migrations, "migrations")
	if err != nil {
		db.Close()
		return nil, err
	}
	if _, err := sqlstore.Migrate(ctx, db, Dialect(), ms, migrationLock); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return sqlstore.New(db, db, Dialect()), nil
}
