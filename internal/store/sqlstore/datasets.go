package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ferry-ml/ferry/internal/dataset"
	"github.com/ferry-ml/ferry/internal/errdefs"
)

const datasetColumns = `name, version, digest, source, format, size, nrows, schema, profile, created_at, created_by`

func scanDatasetVersion(row interface{ Scan(...any) error }) (dataset.Version, error) {
	var v dataset.Version
	var schema, profile string
	if err := row.Scan(&v.Name, &v.Version, &v.Digest, &v.Source, &v.Format, &v.Size, &v.Rows, &schema, &profile, &v.CreatedAt, &v.CreatedBy); err != nil {
		return v, err
	}
	if err := json.Unmarshal([]byte(schema), &v.Schema); err != nil {
		return v, fmt.Errorf("dataset %s version %d: schema: %w", v.Name, v.Version, err)
	}
	v.Profile = json.RawMessage(profile)
	return v, nil
}

// CreateDatasetVersion implements dataset.VersionStore: the next number
// of the dataset, or the version that already has the digest.
func (s *Store) CreateDatasetVersion(ctx context.Context, v dataset.Version) (dataset.Version, bool, error) {
	schema, err := json.Marshal(v.Schema)
	if err != nil {
		return v, false, err
	}
	// Concurrent adds may pick the same number (Postgres): the insert then
	// does nothing and the next attempt sees the other one's row.
	for attempt := 0; attempt < 10; attempt++ {
		var done, created bool
		err = s.write(ctx, func(t tx) error {
			existing, err := scanDatasetVersion(t.queryRow(ctx, `SELECT `+datasetColumns+` FROM dataset_versions WHERE name = ? AND digest = ?`, v.Name, v.Digest))
			if err == nil {
				v, done = existing, true
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if err := t.queryRow(ctx, `SELECT COALESCE(MAX(version), 0) + 1 FROM dataset_versions WHERE name = ?`, v.Name).Scan(&v.Version); err != nil {
				return err
			}
			res, err := t.exec(ctx, `INSERT INTO dataset_versions (`+datasetColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT DO NOTHING`,
				v.Name, v.Version, v.Digest, v.Source, v.Format, v.Size, v.Rows, string(schema), string(v.Profile), v.CreatedAt, v.CreatedBy)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			done, created = n == 1, n == 1
			return nil
		})
		if err != nil || done {
			return v, created, err
		}
	}
	return v, false, errdefs.Conflict("Dataset '%s' is being changed by others; try again", v.Name)
}

// GetDatasetVersion implements dataset.VersionStore.
func (s *Store) GetDatasetVersion(ctx context.Context, name string, version int64) (dataset.Version, error) {
	var v dataset.Version
	err := s.read(ctx, func(t tx) error {
		var err error
		if version == 0 {
			v, err = scanDatasetVersion(t.queryRow(ctx, `SELECT `+datasetColumns+` FROM dataset_versions WHERE name = ? ORDER BY version DESC LIMIT 1`, name))
		} else {
			v, err = scanDatasetVersion(t.queryRow(ctx, `SELECT `+datasetColumns+` FROM dataset_versions WHERE name = ? AND version = ?`, name, version))
		}
		if errors.Is(err, sql.ErrNoRows) {
			if version == 0 {
				return errdefs.NotFound("Dataset '%s' does not exist", name)
			}
			return errdefs.NotFound("Dataset '%s' has no version %d", name, version)
		}
		return err
	})
	return v, err
}

func (s *Store) listDatasetVersions(ctx context.Context, query string, args ...any) ([]dataset.Version, error) {
	var out []dataset.Version
	err := s.read(ctx, func(t tx) error {
		rows, err := t.query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scanDatasetVersion(rows)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return rows.Err()
	})
	return out, err
}

// ListDatasetVersions implements dataset.VersionStore (newest first).
func (s *Store) ListDatasetVersions(ctx context.Context, name string) ([]dataset.Version, error) {
	return s.listDatasetVersions(ctx, `SELECT `+datasetColumns+` FROM dataset_versions WHERE name = ? ORDER BY version DESC`, name)
}

// ListDatasets implements dataset.VersionStore.
func (s *Store) ListDatasets(ctx context.Context) ([]dataset.Version, error) {
	return s.listDatasetVersions(ctx, `SELECT `+datasetColumns+` FROM dataset_versions d
		WHERE version = (SELECT MAX(version) FROM dataset_versions WHERE name = d.name) ORDER BY name`)
}
