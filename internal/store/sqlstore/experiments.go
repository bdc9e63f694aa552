package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/tracking"
)

// expID parses an experiment id; ok is false for ids that cannot exist.
func expID(id string) (int64, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil && n >= 0
}

// EnsureDefaultExperiment creates experiment 0 "Default" if it is missing.
func (s *Store) EnsureDefaultExperiment(ctx context.Context, artifactRoot string, now int64) error {
	return s.write(ctx, func(t tx) error {
		var n int
		if err := t.queryRow(ctx, `SELECT COUNT(*) FROM experiments WHERE experiment_id = 0`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		loc := strings.TrimRight(artifactRoot, "/") + "/0"
		// DO NOTHING: a concurrent starter may have won (an error here would
		// abort a Postgres transaction).
		_, err := t.exec(ctx, `INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)
			VALUES (0, 'Default', ?, 'active', ?, ?) ON CONFLICT DO NOTHING`, loc, now, now)
		return err
	})
}

// CreateExperiment implements tracking.Store.
func (s *Store) CreateExperiment(ctx context.Context, e tracking.Experiment, artifactRoot string) (string, error) {
	var id int64
	err := s.write(ctx, func(t tx) error {
		err := t.queryRow(ctx, `INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time)
			VALUES (?, ?, ?, ?, ?) RETURNING experiment_id`,
			e.Name, e.ArtifactLocation, string(tracking.StageActive), e.CreationTime, e.LastUpdateTime).Scan(&id)
		if err != nil {
			if s.d.IsUniqueViolation(err) {
				return tracking.ExperimentExists(e.Name)
			}
			return err
		}
		if e.ArtifactLocation == "" {
			loc := strings.TrimRight(artifactRoot, "/") + "/" + strconv.FormatInt(id, 10)
			if _, err := t.exec(ctx, `UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?`, loc, id); err != nil {
				return err
			}
		}
		for _, tag := range e.Tags {
			if err := upsertExperimentTag(ctx, t, id, tag); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(id, 10), nil
}

func upsertExperimentTag(ctx context.Context, t tx, id int64, tag tracking.Tag) error {
	_, err := t.exec(ctx, `INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)
		ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value`, id, tag.Key, tag.Value)
	return err
}

const experimentColumns = `experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time`

func scanExperiment(row interface{ Scan(...any) error }) (tracking.Experiment, error) {
	var e tracking.Experiment
	var id int64
	var stage string
	err := row.Scan(&id, &e.Name, &e.ArtifactLocation, &stage, &e.CreationTime, &e.LastUpdateTime)
	e.ID = strconv.FormatInt(id, 10)
	e.LifecycleStage = tracking.LifecycleStage(stage)
	return e, err
}

// GetExperiment implements tracking.Store.
func (s *Store) GetExperiment(ctx context.Context, id string) (tracking.Experiment, error) {
	n, ok := expID(id)
	if !ok {
		return tracking.Experiment{}, tracking.ExperimentNotFound(id)
	}
	return s.getExperiment(ctx, `experiment_id = ?`, n, tracking.ExperimentNotFound(id))
}

// GetExperimentByName implements tracking.Store.
func (s *Store) GetExperimentByName(ctx context.Context, name string) (tracking.Experiment, error) {
	return s.getExperiment(ctx, `name = ?`, name, tracking.ExperimentNameNotFound(name))
}

func (s *Store) getExperiment(ctx context.Context, where string, arg any, notFound error) (tracking.Experiment, error) {
	var e tracking.Experiment
	err := s.read(ctx, func(t tx) error {
		var err error
		e, err = scanExperiment(t.queryRow(ctx, `SELECT `+experimentColumns+` FROM experiments WHERE `+where, arg))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound
		}
		if err != nil {
			return err
		}
		tags, err := experimentTags(ctx, t, []tracking.Experiment{e})
		e.Tags = tags[e.ID]
		return err
	})
	return e, err
}

// experimentTags loads the tags of the given experiments, keyed by id.
func experimentTags(ctx context.Context, t tx, exps []tracking.Experiment) (map[string][]tracking.Tag, error) {
	out := make(map[string][]tracking.Tag, len(exps))
	if len(exps) == 0 {
		return out, nil
	}
	args := make([]any, len(exps))
	for i, e := range exps {
		args[i], _ = expID(e.ID)
	}
	rows, err := t.query(ctx, `SELECT experiment_id, key, value FROM experiment_tags WHERE experiment_id IN `+
		placeholders(len(args))+` ORDER BY experiment_id, key`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var tag tracking.Tag
		if err := rows.Scan(&id, &tag.Key, &tag.Value); err != nil {
			return nil, err
		}
		k := strconv.FormatInt(id, 10)
		out[k] = append(out[k], tag)
	}
	return out, rows.Err()
}

// experimentStage reads an experiment's stage inside t, locking its row.
func (s *Store) experimentStage(ctx context.Context, t tx, id string) (int64, tracking.LifecycleStage, error) {
	n, ok := expID(id)
	if !ok {
		return 0, "", tracking.ExperimentNotFound(id)
	}
	var stage string
	err := t.queryRow(ctx, `SELECT lifecycle_stage FROM experiments WHERE experiment_id = ?`+s.d.ForUpdate, n).Scan(&stage)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", tracking.ExperimentNotFound(id)
	}
	return n, tracking.LifecycleStage(stage), err
}

// RenameExperiment implements tracking.Store.
func (s *Store) RenameExperiment(ctx context.Context, id, name string, now int64) error {
	return s.write(ctx, func(t tx) error {
		n, stage, err := s.experimentStage(ctx, t, id)
		if err != nil {
			return err
		}
		if stage != tracking.StageActive {
			return errdefs.InvalidArgument("Cannot rename a non-active experiment.")
		}
		_, err = t.exec(ctx, `UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?`, name, now, n)
		if s.d.IsUniqueViolation(err) {
			return tracking.ExperimentExists(name)
		}
		return err
	})
}

// SetExperimentStage implements tracking.Store: deleting an experiment
// deletes its active runs; restoring it restores its deleted runs.
func (s *Store) SetExperimentStage(ctx context.Context, id string, stage tracking.LifecycleStage, now int64) error {
	return s.write(ctx, func(t tx) error {
		n, _, err := s.experimentStage(ctx, t, id)
		if err != nil {
			return err
		}
		if _, err := t.exec(ctx, `UPDATE experiments SET lifecycle_stage = ?, last_update_time = ? WHERE experiment_id = ?`,
			string(stage), now, n); err != nil {
			return err
		}
		if stage == tracking.StageDeleted {
			_, err = t.exec(ctx, `UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? WHERE experiment_id = ? AND lifecycle_stage = 'active'`, now, n)
		} else {
			_, err = t.exec(ctx, `UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE experiment_id = ? AND lifecycle_stage = 'deleted'`, n)
		}
		return err
	})
}

// SetExperimentTag implements tracking.Store.
func (s *Store) SetExperimentTag(ctx context.Context, id string, tag tracking.Tag) error {
	return s.write(ctx, func(t tx) error {
		n, stage, err := s.experimentStage(ctx, t, id)
		if err != nil {
			return err
		}
		if stage != tracking.StageActive {
			return tracking.ExperimentNotActive(id, stage)
		}
		return upsertExperimentTag(ctx, t, n, tag)
	})
}
