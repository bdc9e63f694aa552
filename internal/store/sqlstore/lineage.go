package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/lineage"
	"github.com/ferry-ml/ferry/internal/tracking"
)

// Dataset implements lineage.Datasets: a dataset logged under the same
// name and digest in several experiments is the same data.
func (s *Store) Dataset(ctx context.Context, name, digest string) (tracking.Dataset, error) {
	var d tracking.Dataset
	err := s.read(ctx, func(t tx) error {
		err := t.queryRow(ctx, `SELECT name, digest, dataset_source_type, dataset_source, dataset_schema, dataset_profile
			FROM datasets WHERE name = ? AND digest = ? ORDER BY experiment_id LIMIT 1`, name, digest).
			Scan(&d.Name, &d.Digest, &d.SourceType, &d.Source, &d.Schema, &d.Profile)
		if errors.Is(err, sql.ErrNoRows) {
			return errdefs.NotFound("No dataset '%s' with digest '%s' was logged by any run", name, digest)
		}
		return err
	})
	return d, err
}

// RunsWithDataset implements lineage.Datasets.
func (s *Store) RunsWithDataset(ctx context.Context, name, digest string) ([]lineage.DatasetUse, error) {
	var out []lineage.DatasetUse
	err := s.read(ctx, func(t tx) error {
		rows, err := t.query(ctx, `SELECT i.destination_id, COALESCE(it.value, '')
			FROM datasets d
			JOIN inputs i ON i.source_type = 'DATASET' AND i.source_id = d.dataset_uuid AND i.destination_type = 'RUN'
			LEFT JOIN input_tags it ON it.input_uuid = i.input_uuid AND it.name = 'mlflow.data.context'
			WHERE d.name = ? AND d.digest = ?
			ORDER BY i.destination_id`, name, digest)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var u lineage.DatasetUse
			if err := rows.Scan(&u.RunID, &u.Context); err != nil {
				return err
			}
			out = append(out, u)
		}
		return rows.Err()
	})
	return out, err
}
