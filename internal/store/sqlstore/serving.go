package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/serving"
)

const deploymentColumns = `endpoint, model, version, strategy, status, message, created_at, updated_at`

func scanDeployment(row interface{ Scan(...any) error }) (serving.Deployment, error) {
	var d serving.Deployment
	err := row.Scan(&d.Endpoint, &d.Model, &d.Version, &d.Strategy, &d.Status, &d.Message, &d.CreatedAt, &d.UpdatedAt)
	return d, err
}

// SaveDeployment implements serving.Store (insert or replace).
func (s *Store) SaveDeployment(ctx context.Context, d serving.Deployment) error {
	return s.write(ctx, func(t tx) error {
		_, err := t.exec(ctx, `INSERT INTO deployments (`+deploymentColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (endpoint) DO UPDATE SET model = excluded.model, version = excluded.version,
				strategy = excluded.strategy, status = excluded.status, message = excluded.message,
				created_at = excluded.created_at, updated_at = excluded.updated_at`,
			d.Endpoint, d.Model, d.Version, d.Strategy, d.Status, d.Message, d.CreatedAt, d.UpdatedAt)
		return err
	})
}

// GetDeployment implements serving.Store.
func (s *Store) GetDeployment(ctx context.Context, endpoint string) (serving.Deployment, error) {
	var d serving.Deployment
	err := s.read(ctx, func(t tx) error {
		var err error
		d, err = scanDeployment(t.queryRow(ctx, `SELECT `+deploymentColumns+` FROM deployments WHERE endpoint = ?`, endpoint))
		if errors.Is(err, sql.ErrNoRows) {
			return errdefs.NotFound("Endpoint '%s' does not exist", endpoint)
		}
		return err
	})
	return d, err
}

// ListDeployments implements serving.Store.
func (s *Store) ListDeployments(ctx context.Context) ([]serving.Deployment, error) {
	var out []serving.Deployment
	err := s.read(ctx, func(t tx) error {
		rows, err := t.query(ctx, `SELECT `+deploymentColumns+` FROM deployments ORDER BY endpoint`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDeployment(rows)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return rows.Err()
	})
	return out, err
}

// DeleteDeployment implements serving.Store.
func (s *Store) DeleteDeployment(ctx context.Context, endpoint string) error {
	return s.write(ctx, func(t tx) error {
		res, err := t.exec(ctx, `DELETE FROM deployments WHERE endpoint = ?`, endpoint)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errdefs.NotFound("Endpoint '%s' does not exist", endpoint)
		}
		return nil
	})
}
