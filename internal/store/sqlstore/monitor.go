package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/monitor"
)

// AppendPoints implements monitor.Store (one transaction). A non-finite
// value is refused: series feed alerts, which must not read NaN.
func (s *Store) AppendPoints(ctx context.Context, points []monitor.Point) error {
	for _, p := range points {
		if p.Series == "" || math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
			return errdefs.InvalidArgument("monitor point %q at %d: a series name and a finite value are required", p.Series, p.Time)
		}
	}
	return s.write(ctx, func(t tx) error {
		for _, p := range points {
			if _, err := t.exec(ctx, `INSERT INTO monitor_points (series, labels, time, value) VALUES (?, ?, ?, ?)`,
				p.Series, monitor.CanonicalLabels(p.Labels), p.Time, p.Value); err != nil {
				return err
			}
		}
		return nil
	})
}

// QueryPoints implements monitor.Store: the label filter is applied to
// the decoded labels (a point matches when it carries every label). The
// newest points (q.Newest) are read newest first and returned reversed.
func (s *Store) QueryPoints(ctx context.Context, q monitor.Query) ([]monitor.Point, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit == 0 {
		limit = monitor.MaxQueryPoints
	}
	to := q.To
	if to == 0 {
		to = math.MaxInt64
	}
	order := `ORDER BY time, labels`
	if q.Newest {
		order = `ORDER BY time DESC, labels DESC`
	}
	var out []monitor.Point
	err := s.read(ctx, func(t tx) error {
		rows, err := t.query(ctx, `SELECT labels, time, value FROM monitor_points WHERE series = ? AND time >= ? AND time < ?
			`+order, q.Series, q.From, to)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() && len(out) < limit {
			p := monitor.Point{Series: q.Series}
			var labels string
			if err := rows.Scan(&labels, &p.Time, &p.Value); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(labels), &p.Labels); err != nil {
				return err
			}
			match := true
			for k, v := range q.Labels {
				if p.Labels[k] != v {
					match = false
				}
			}
			if match {
				out = append(out, p)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	if q.Newest {
		slices.Reverse(out)
	}
	return out, nil
}

// DeletePointsBefore implements monitor.Store.
func (s *Store) DeletePointsBefore(ctx context.Context, t int64) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx tx) error {
		res, err := tx.exec(ctx, `DELETE FROM monitor_points WHERE time < ?`, t)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}

// SetReference implements monitor.References.
func (s *Store) SetReference(ctx context.Context, r monitor.Reference) error {
	return s.write(ctx, func(t tx) error {
		_, err := t.exec(ctx, `INSERT INTO monitor_references (endpoint, dataset, version) VALUES (?, ?, ?)
			ON CONFLICT (endpoint) DO UPDATE SET dataset = excluded.dataset, version = excluded.version`, r.Endpoint, r.Dataset, r.Version)
		return err
	})
}

// GetReference implements monitor.References.
func (s *Store) GetReference(ctx context.Context, endpoint string) (monitor.Reference, error) {
	r := monitor.Reference{Endpoint: endpoint}
	err := s.read(ctx, func(t tx) error {
		err := t.queryRow(ctx, `SELECT dataset, version FROM monitor_references WHERE endpoint = ?`, endpoint).Scan(&r.Dataset, &r.Version)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: endpoint %s: %w", monitor.ErrNoReference, endpoint, errdefs.NotFound("Endpoint '%s' has no reference dataset", endpoint))
		}
		return err
	})
	return r, err
}

// ListReferences implements monitor.References.
func (s *Store) ListReferences(ctx context.Context) ([]monitor.Reference, error) {
	var out []monitor.Reference
	err := s.read(ctx, func(t tx) error {
		rows, err := t.query(ctx, `SELECT endpoint, dataset, version FROM monitor_references ORDER BY endpoint`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r monitor.Reference
			if err := rows.Scan(&r.Endpoint, &r.Dataset, &r.Version); err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, err
}
