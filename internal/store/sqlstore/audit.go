package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ferry-ml/ferry/internal/audit"
)

// The audit trail's tables (migrations 0004_audit.sql): audit_events, one
// row per entry; audit_checkpoints, one signed checkpoint per append
// transaction; audit_head, a single row that appenders lock.

const auditEventColumns = `seq, time_ns, actor, action, resource, request_digest, before_digest, after_digest, status, request_id, prev_hash, hash`

const auditCheckpointColumns = `seq, hash, time_ns, key_id, signature`

// AppendAudit implements audit.Store. The head row is read with the
// dialect's locking clause (Postgres: FOR NO KEY UPDATE), so appenders in
// every process queue on it; on SQLite the write transaction itself
// (BEGIN IMMEDIATE) serialises them.
func (s *Store) AppendAudit(ctx context.Context, fn func(head audit.Head) ([]audit.Record, *audit.Checkpoint, error)) error {
	st, err := s.auditStatements(ctx)
	if err != nil {
		return err
	}
	return s.write(ctx, func(t tx) error {
		var h audit.Head
		err := t.queryRowStmt(ctx, st.head).Scan(&h.Seq, &h.Hash)
		if errors.Is(err, sql.ErrNoRows) {
			return errors.New("audit_head has no row: the audit tables were tampered with")
		}
		if err != nil {
			return fmt.Errorf("read audit head: %w", err)
		}
		recs, cp, err := fn(h)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return nil
		}
		if err := insertAuditRecords(ctx, t, st, recs); err != nil {
			return fmt.Errorf("insert audit entries: %w", err)
		}
		if cp != nil {
			if _, err := t.execStmt(ctx, st.checkpoint, cp.Seq, cp.Hash, cp.Time.UnixNano(), cp.KeyID, cp.Signature); err != nil {
				return fmt.Errorf("insert audit checkpoint: %w", err)
			}
		}
		last := recs[len(recs)-1]
		if _, err := t.execStmt(ctx, st.setHead, last.Seq, last.Hash); err != nil {
			return fmt.Errorf("update audit head: %w", err)
		}
		return nil
	})
}

// auditStmts are AppendAudit's prepared statements.
type auditStmts struct {
	head, checkpoint, setHead *sql.Stmt
	insert                    map[int]*sql.Stmt // by batch size
}

// auditStatements prepares AppendAudit's statements (outside its
// transaction, as prepared requires).
func (s *Store) auditStatements(ctx context.Context) (auditStmts, error) {
	qs := []string{
		`SELECT seq, hash FROM audit_head WHERE id = 1` + s.d.ForUpdate,
		`INSERT INTO audit_checkpoints (` + auditCheckpointColumns + `) VALUES (?, ?, ?, ?, ?)`,
		`UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`,
	}
	for _, n := range batchSizes {
		qs = append(qs, `INSERT INTO audit_events (`+auditEventColumns+`) VALUES `+valuesRows(n, auditEventWidth))
	}
	st, err := s.prepared(ctx, qs...)
	if err != nil {
		return auditStmts{}, err
	}
	a := auditStmts{head: st[0], checkpoint: st[1], setHead: st[2], insert: make(map[int]*sql.Stmt, len(batchSizes))}
	for i, n := range batchSizes {
		a.insert[n] = st[3+i]
	}
	return a, nil
}

// auditEventWidth is the number of columns of an audit_events row.
const auditEventWidth = 12

func insertAuditRecords(ctx context.Context, t tx, st auditStmts, recs []audit.Record) error {
	args := make([]any, 0, auditEventWidth*min(len(recs), batchSizes[0]))
	for _, b := range rowBatches(len(recs)) {
		args = args[:0]
		for _, r := range recs[b[0]:b[1]] {
			args = append(args, r.Seq, r.Time.UnixNano(), r.Actor, r.Action, r.Resource, r.RequestDigest,
				r.Before, r.After, r.Status, r.RequestID, r.PrevHash, r.Hash)
		}
		if _, err := t.execStmt(ctx, st.insert[b[1]-b[0]], args...); err != nil {
			return err
		}
	}
	return nil
}

func scanAuditRecord(row interface{ Scan(...any) error }) (audit.Record, error) {
	var r audit.Record
	var ns int64
	err := row.Scan(&r.Seq, &ns, &r.Actor, &r.Action, &r.Resource, &r.RequestDigest,
		&r.Before, &r.After, &r.Status, &r.RequestID, &r.PrevHash, &r.Hash)
	r.Time = time.Unix(0, ns).UTC()
	return r, err
}

func scanAuditRecords(rows *sql.Rows, capacity int) ([]audit.Record, error) {
	defer rows.Close()
	out := make([]audit.Record, 0, capacity)
	for rows.Next() {
		r, err := scanAuditRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ReadAudit implements audit.Store: the entries and the checkpoints come
// from one read transaction, so every checkpoint of the snapshot has its
// entries in it (they commit together).
func (s *Store) ReadAudit(ctx context.Context, afterSeq int64, limit int) (audit.Chunk, error) {
	if limit <= 0 {
		return audit.Chunk{}, fmt.Errorf("read audit: limit %d must be positive", limit)
	}
	var ch audit.Chunk
	err := s.read(ctx, func(t tx) error {
		rows, err := t.query(ctx, `SELECT `+auditEventColumns+` FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`, afterSeq, limit)
		if err != nil {
			return fmt.Errorf("read audit entries: %w", err)
		}
		if ch.Records, err = scanAuditRecords(rows, limit); err != nil {
			return fmt.Errorf("read audit entries: %w", err)
		}
		ch.End = len(ch.Records) < limit
		q, args := `SELECT `+auditCheckpointColumns+` FROM audit_checkpoints WHERE seq > ?`, []any{afterSeq}
		if !ch.End {
			q += ` AND seq <= ?`
			args = append(args, ch.Records[len(ch.Records)-1].Seq)
		}
		rows, err = t.query(ctx, q+` ORDER BY seq LIMIT ?`, append(args, limit)...)
		if err != nil {
			return fmt.Errorf("read audit checkpoints: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var cp audit.Checkpoint
			var ns int64
			if err := rows.Scan(&cp.Seq, &cp.Hash, &ns, &cp.KeyID, &cp.Signature); err != nil {
				return fmt.Errorf("read audit checkpoints: %w", err)
			}
			cp.Time = time.Unix(0, ns).UTC()
			ch.Checkpoints = append(ch.Checkpoints, cp)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read audit checkpoints: %w", err)
		}
		return nil
	})
	return ch, err
}

// ListAudit implements audit.Store. The resource prefix is matched as
// audit.MatchResource defines, with byte-wise ranges (audit.ResourceRanges)
// that the (resource, seq) index serves: SQLite compares text byte-wise,
// and the Postgres column is COLLATE "C".
func (s *Store) ListAudit(ctx context.Context, q audit.Query) ([]audit.Record, error) {
	q = q.Normalized()
	var where []string
	var args []any
	switch {
	case q.Resource != "" && q.ExactResource:
		where = append(where, `resource = ?`)
		args = append(args, q.Resource)
	case q.Resource != "":
		r := audit.ResourceRanges(q.Resource)
		where = append(where, `(resource = ? OR (resource >= ? AND resource < ?) OR (resource >= ? AND resource < ?))`)
		args = append(args, q.Resource, r[0][0], r[0][1], r[1][0], r[1][1])
	}
	if q.Actor != "" {
		where = append(where, `actor = ?`)
		args = append(args, q.Actor)
	}
	if q.AfterSeq > 0 {
		where = append(where, `seq > ?`)
		args = append(args, q.AfterSeq)
	}
	if q.BeforeSeq > 0 {
		where = append(where, `seq < ?`)
		args = append(args, q.BeforeSeq)
	}
	query := `SELECT ` + auditEventColumns + ` FROM audit_events`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	if q.NewestFirst {
		query += ` ORDER BY seq DESC LIMIT ?`
	} else {
		query += ` ORDER BY seq LIMIT ?`
	}
	args = append(args, q.Limit)
	var out []audit.Record
	err := s.read(ctx, func(t tx) error {
		rows, err := t.query(ctx, query, args...)
		if err != nil {
			return err
		}
		out, err = scanAuditRecords(rows, min(q.Limit, 64))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	return out, nil
}
