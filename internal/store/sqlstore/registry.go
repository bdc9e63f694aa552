package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/filter"
	"github.com/ferry-ml/ferry/internal/registry"
)

// The registry keeps models under a surrogate key (model_id) so a rename
// touches one row; versions are soft-deleted (deleted = 1) so that their
// numbers are never handed out again.

// modelRow returns a model's id; with lock (in write transactions) it
// locks the model's row through lockModel.
func (s *Store) modelRow(ctx context.Context, t tx, name string, lock bool) (int64, error) {
	if lock {
		id, _, err := s.lockModel(ctx, t, name)
		return id, err
	}
	var id int64
	err := t.queryRow(ctx, `SELECT model_id FROM registered_models WHERE name = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, registry.ModelNotFound(name)
	}
	return id, err
}

// lockModel locks a model's row for the transaction and advances its
// revision, returning the id and the revision before this write.
func (s *Store) lockModel(ctx context.Context, t tx, name string) (id, rev int64, err error) {
	err = t.queryRow(ctx, `UPDATE registered_models SET revision = revision + 1 WHERE name = ? RETURNING model_id, revision - 1`, name).Scan(&id, &rev)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, registry.ModelNotFound(name)
	}
	return id, rev, err
}

// checkRevision refuses a move judged on another revision of the model.
func checkRevision(name string, rev, expect int64) error {
	if expect != 0 && rev != expect {
		return registry.ModelChanged(name)
	}
	return nil
}

// versionRow checks that a live version exists.
func (s *Store) versionRow(ctx context.Context, t tx, name string, version int64, lock bool) (int64, error) {
	id, err := s.modelRow(ctx, t, name, lock)
	if err != nil {
		if errors.Is(err, errdefs.ErrNotFound) {
			return 0, registry.VersionNotFound(name, version)
		}
		return 0, err
	}
	var n int
	if err := t.queryRow(ctx, `SELECT COUNT(*) FROM model_versions WHERE model_id = ? AND version = ? AND deleted = 0`, id, version).Scan(&n); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, registry.VersionNotFound(name, version)
	}
	return id, nil
}

// CreateRegisteredModel implements registry.Store.
func (s *Store) CreateRegisteredModel(ctx context.Context, m registry.RegisteredModel) error {
	return s.write(ctx, func(t tx) error {
		var id int64
		err := t.queryRow(ctx, `INSERT INTO registered_models (name, creation_time, last_updated_time, user_id, description)
			VALUES (?, ?, ?, ?, ?) RETURNING model_id`, m.Name, m.CreationTime, m.LastUpdatedTime, m.UserID, m.Description).Scan(&id)
		if err != nil {
			if s.d.IsUniqueViolation(err) {
				return registry.ModelExists(m.Name)
			}
			return err
		}
		for _, tag := range m.Tags {
			if err := upsertModelTag(ctx, t, id, tag); err != nil {
				return err
			}
		}
		return nil
	})
}

func upsertModelTag(ctx context.Context, t tx, id int64, tag registry.Tag) error {
	_, err := t.exec(ctx, `INSERT INTO registered_model_tags (model_id, key, value) VALUES (?, ?, ?)
		ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value`, id, tag.Key, tag.Value)
	return err
}

// GetRegisteredModel implements registry.Store.
func (s *Store) GetRegisteredModel(ctx context.Context, name string) (registry.RegisteredModel, error) {
	var m registry.RegisteredModel
	err := s.read(ctx, func(t tx) error {
		ms, err := s.loadModels(ctx, t, `WHERE m.name = ?`, []any{name})
		if err != nil {
			return err
		}
		if len(ms) == 0 {
			return registry.ModelNotFound(name)
		}
		m = ms[0]
		return nil
	})
	return m, err
}

// loadModels reads models matching a WHERE over registered_models m, in
// the given order, with their tags, aliases and latest versions.
func (s *Store) loadModels(ctx context.Context, t tx, where string, args []any) ([]registry.RegisteredModel, error) {
	rows, err := t.query(ctx, `SELECT m.model_id, m.name, m.creation_time, m.last_updated_time, m.user_id, m.description, m.revision
		FROM registered_models m `+where, args...)
	if err != nil {
		return nil, err
	}
	var ms []registry.RegisteredModel
	var ids []int64
	for rows.Next() {
		var m registry.RegisteredModel
		var id int64
		if err := rows.Scan(&id, &m.Name, &m.CreationTime, &m.LastUpdatedTime, &m.UserID, &m.Description, &m.Revision); err != nil {
			rows.Close()
			return nil, err
		}
		ms = append(ms, m)
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, id := range ids {
		if ms[i].Tags, err = s.modelTags(ctx, t, id); err != nil {
			return nil, err
		}
		if ms[i].Aliases, err = s.modelAliases(ctx, t, id); err != nil {
			return nil, err
		}
		if ms[i].LatestVersions, err = s.latestVersions(ctx, t, id, nil); err != nil {
			return nil, err
		}
	}
	return ms, nil
}

func (s *Store) modelTags(ctx context.Context, t tx, id int64) ([]registry.Tag, error) {
	rows, err := t.query(ctx, `SELECT key, value FROM registered_model_tags WHERE model_id = ? ORDER BY key`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []registry.Tag
	for rows.Next() {
		var tag registry.Tag
		if err := rows.Scan(&tag.Key, &tag.Value); err != nil {
			return nil, err
		}
		out = append(out, tag)
	}
	return out, rows.Err()
}

func (s *Store) modelAliases(ctx context.Context, t tx, id int64) ([]registry.Alias, error) {
	rows, err := t.query(ctx, `SELECT alias, version FROM registered_model_aliases WHERE model_id = ? ORDER BY alias`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []registry.Alias
	for rows.Next() {
		var a registry.Alias
		if err := rows.Scan(&a.Alias, &a.Version); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// latestVersions returns the newest live version of each stage (of
// stages, or of every stage), in MLflow's stage order.
func (s *Store) latestVersions(ctx context.Context, t tx, id int64, stages []string) ([]registry.ModelVersion, error) {
	// One pass over the model's versions finds each stage's newest; a
	// correlated MAX per row would be quadratic in the number of versions.
	where := `WHERE v.model_id = ? AND (v.model_id, v.version) IN (
		SELECT model_id, MAX(version) FROM model_versions WHERE model_id = ? AND deleted = 0`
	args := []any{id, id}
	if len(stages) > 0 {
		where += ` AND current_stage IN ` + placeholders(len(stages))
		for _, st := range stages {
			args = append(args, st)
		}
	}
	where += ` GROUP BY model_id, current_stage)`
	vs, err := s.loadVersions(ctx, t, where, args)
	if err != nil {
		return nil, err
	}
	rank := map[string]int{}
	for i, st := range registry.Stages {
		rank[st] = i
	}
	sort.SliceStable(vs, func(i, j int) bool { return rank[vs[i].CurrentStage] < rank[vs[j].CurrentStage] })
	return vs, nil
}

const versionColumns = `m.name, v.model_id, v.version, v.creation_time, v.last_updated_time, v.user_id, v.current_stage,
	v.description, v.source, v.storage_location, v.run_id, v.run_link, v.status, v.status_message`

// loadVersions reads live or deleted versions matching a WHERE over
// model_versions v (joined with registered_models m), with their tags,
// aliases and approval state, in the given order.
func (s *Store) loadVersions(ctx context.Context, t tx, where string, args []any) ([]registry.ModelVersion, error) {
	rows, err := t.query(ctx, `SELECT `+versionColumns+`
		FROM model_versions v JOIN registered_models m ON m.model_id = v.model_id `+where, args...)
	if err != nil {
		return nil, err
	}
	var vs []registry.ModelVersion
	var ids []int64
	for rows.Next() {
		var mv registry.ModelVersion
		var id int64
		if err := rows.Scan(&mv.Name, &id, &mv.Version, &mv.CreationTime, &mv.LastUpdatedTime, &mv.UserID, &mv.CurrentStage,
			&mv.Description, &mv.Source, &mv.StorageLocation, &mv.RunID, &mv.RunLink, &mv.Status, &mv.StatusMessage); err != nil {
			rows.Close()
			return nil, err
		}
		vs = append(vs, mv)
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range vs {
		if err := s.fillVersion(ctx, t, ids[i], &vs[i]); err != nil {
			return nil, err
		}
	}
	return vs, nil
}

func (s *Store) fillVersion(ctx context.Context, t tx, id int64, mv *registry.ModelVersion) error {
	rows, err := t.query(ctx, `SELECT key, value FROM model_version_tags WHERE model_id = ? AND version = ? ORDER BY key`, id, mv.Version)
	if err != nil {
		return err
	}
	for rows.Next() {
		var tag registry.Tag
		if err := rows.Scan(&tag.Key, &tag.Value); err != nil {
			rows.Close()
			return err
		}
		mv.Tags = append(mv.Tags, tag)
	}
	if err := closeRows(rows); err != nil {
		return err
	}
	rows, err = t.query(ctx, `SELECT alias FROM registered_model_aliases WHERE model_id = ? AND version = ? ORDER BY alias`, id, mv.Version)
	if err != nil {
		return err
	}
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			rows.Close()
			return err
		}
		mv.Aliases = append(mv.Aliases, a)
	}
	if err := closeRows(rows); err != nil {
		return err
	}
	reviews, err := s.reviews(ctx, t, id, mv.Version)
	if err != nil {
		return err
	}
	mv.Approval = registry.ApprovalOf(reviews)
	return nil
}

func closeRows(rows *sql.Rows) error {
	if err := rows.Close(); err != nil {
		return err
	}
	return rows.Err()
}

// RenameRegisteredModel implements registry.Store.
func (s *Store) RenameRegisteredModel(ctx context.Context, name, newName string, now int64) error {
	return s.write(ctx, func(t tx) error {
		id, err := s.modelRow(ctx, t, name, true)
		if err != nil {
			return err
		}
		if name == newName {
			_, err := t.exec(ctx, `UPDATE registered_models SET last_updated_time = ? WHERE model_id = ?`, now, id)
			return err
		}
		var taken int
		if err := t.queryRow(ctx, `SELECT COUNT(*) FROM registered_models WHERE name = ?`, newName).Scan(&taken); err != nil {
			return err
		}
		if taken > 0 {
			return registry.ModelExists(newName)
		}
		if _, err := t.exec(ctx, `UPDATE registered_models SET name = ?, last_updated_time = ? WHERE model_id = ?`, newName, now, id); err != nil {
			if s.d.IsUniqueViolation(err) {
				return registry.ModelExists(newName)
			}
			return err
		}
		_, err = t.exec(ctx, `UPDATE model_versions SET last_updated_time = ? WHERE model_id = ?`, now, id)
		return err
	})
}

// UpdateRegisteredModel implements registry.Store.
func (s *Store) UpdateRegisteredModel(ctx context.Context, name, description string, now int64) error {
	return s.write(ctx, func(t tx) error {
		id, err := s.modelRow(ctx, t, name, true)
		if err != nil {
			return err
		}
		_, err = t.exec(ctx, `UPDATE registered_models SET description = ?, last_updated_time = ? WHERE model_id = ?`, description, now, id)
		return err
	})
}

// DeleteRegisteredModel implements registry.Store.
func (s *Store) DeleteRegisteredModel(ctx context.Context, name string) error {
	return s.write(ctx, func(t tx) error {
		id, err := s.modelRow(ctx, t, name, true)
		if err != nil {
			return err
		}
		// Children first: foreign keys cascade too, but explicit deletes do
		// not depend on the engine's cascade settings.
		for _, q := range []string{
			`DELETE FROM model_version_reviews WHERE model_id = ?`,
			`DELETE FROM model_version_tags WHERE model_id = ?`,
			`DELETE FROM registered_model_aliases WHERE model_id = ?`,
			`DELETE FROM registered_model_tags WHERE model_id = ?`,
			`DELETE FROM registered_model_policies WHERE model_id = ?`,
			`DELETE FROM model_versions WHERE model_id = ?`,
			`DELETE FROM registered_models WHERE model_id = ?`,
		} {
			if _, err := t.exec(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// SetRegisteredModelTag implements registry.Store.
func (s *Store) SetRegisteredModelTag(ctx context.Context, name string, tag registry.Tag) error {
	return s.write(ctx, func(t tx) error {
		id, err := s.modelRow(ctx, t, name, true)
		if err != nil {
			return err
		}
		return upsertModelTag(ctx, t, id, tag)
	})
}

// DeleteRegisteredModelTag implements registry.Store; a missing key is a
// no-op, as in MLflow.
func (s *Store) DeleteRegisteredModelTag(ctx context.Context, name, key string) error {
	return s.write(ctx, func(t tx) error {
		id, err := s.modelRow(ctx, t, name, true)
		if err != nil {
			return err
		}
		_, err = t.exec(ctx, `DELETE FROM registered_model_tags WHERE model_id = ? AND key = ?`, id, key)
		return err
	})
}

// CreateModelVersion implements registry.Store.
func (s *Store) CreateModelVersion(ctx context.Context, mv registry.ModelVersion) (registry.ModelVersion, error) {
	err := s.write(ctx, func(t tx) error {
		id, err := s.modelRow(ctx, t, mv.Name, true)
		if err != nil {
			return err
		}
		if err := t.queryRow(ctx, `UPDATE registered_models SET next_version = next_version + 1, last_updated_time = ?
			WHERE model_id = ? RETURNING next_version - 1`, mv.CreationTime, id).Scan(&mv.Version); err != nil {
			return err
		}
		if _, err := t.exec(ctx, `INSERT INTO model_versions (model_id, version, creation_time, last_updated_time, user_id,
			current_stage, description, source, storage_location, run_id, run_link, status, status_message)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, mv.Version, mv.CreationTime, mv.LastUpdatedTime, mv.UserID, mv.CurrentStage, mv.Description,
			mv.Source, mv.StorageLocation, mv.RunID, mv.RunLink, mv.Status, mv.StatusMessage); err != nil {
			return err
		}
		for _, tag := range mv.Tags {
			if err := upsertVersionTag(ctx, t, id, mv.Version, tag); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return registry.ModelVersion{}, err
	}
	mv.Approval = registry.ApprovalOf(nil)
	return mv, nil
}

func upsertVersionTag(ctx context.Context, t tx, id, version int64, tag registry.Tag) error {
	_, err := t.exec(ctx, `INSERT INTO model_version_tags (model_id, version, key, value) VALUES (?, ?, ?, ?)
		ON CONFLICT (model_id, version, key) DO UPDATE SET value = excluded.value`, id, version, tag.Key, tag.Value)
	return err
}

// GetModelVersion implements registry.Store.
func (s *Store) GetModelVersion(ctx context.Context, name string, version int64) (registry.ModelVersion, error) {
	var mv registry.ModelVersion
	err := s.read(ctx, func(t tx) error {
		var err error
		mv, err = s.getVersion(ctx, t, name, version)
		return err
	})
	return mv, err
}

func (s *Store) getVersion(ctx context.Context, t tx, name string, version int64) (registry.ModelVersion, error) {
	vs, err := s.loadVersions(ctx, t, `WHERE m.name = ? AND v.version = ? AND v.deleted = 0`, []any{name, version})
	if err != nil {
		return registry.ModelVersion{}, err
	}
	if len(vs) == 0 {
		return registry.ModelVersion{}, registry.VersionNotFound(name, version)
	}
	return vs[0], nil
}

// UpdateModelVersion implements registry.Store.
func (s *Store) UpdateModelVersion(ctx context.Context, name string, version int64, u registry.VersionUpdate, now int64) (registry.ModelVersion, []int64, error) {
	var mv registry.ModelVersion
	var archived []int64
	err := s.write(ctx, func(t tx) error {
		_, rev, err := s.lockModel(ctx, t, name)
		if errors.Is(err, errdefs.ErrNotFound) {
			return registry.VersionNotFound(name, version)
		}
		if err != nil {
			return err
		}
		if err := checkRevision(name, rev, u.ExpectRevision); err != nil {
			return err
		}
		id, err := s.versionRow(ctx, t, name, version, false)
		if err != nil {
			return err
		}
		if u.Description != nil {
			if _, err := t.exec(ctx, `UPDATE model_versions SET description = ?, last_updated_time = ? WHERE model_id = ? AND version = ?`,
				*u.Description, now, id, version); err != nil {
				return err
			}
		}
		if u.Stage != nil {
			if u.ArchiveExisting {
				rows, err := t.query(ctx, `SELECT version FROM model_versions WHERE model_id = ? AND deleted = 0 AND current_stage = ? AND version <> ? ORDER BY version`,
					id, *u.Stage, version)
				if err != nil {
					return err
				}
				for rows.Next() {
					var v int64
					if err := rows.Scan(&v); err != nil {
						rows.Close()
						return err
					}
					archived = append(archived, v)
				}
				if err := closeRows(rows); err != nil {
					return err
				}
				if _, err := t.exec(ctx, `UPDATE model_versions SET current_stage = ?, last_updated_time = ?
					WHERE model_id = ? AND deleted = 0 AND current_stage = ? AND version <> ?`,
					registry.StageArchived, now, id, *u.Stage, version); err != nil {
					return err
				}
			}
			if _, err := t.exec(ctx, `UPDATE model_versions SET current_stage = ?, last_updated_time = ? WHERE model_id = ? AND version = ?`,
				*u.Stage, now, id, version); err != nil {
				return err
			}
			if _, err := t.exec(ctx, `UPDATE registered_models SET last_updated_time = ? WHERE model_id = ?`, now, id); err != nil {
				return err
			}
		}
		mv, err = s.getVersion(ctx, t, name, version)
		return err
	})
	return mv, archived, err
}

// DeleteModelVersion implements registry.Store: the version is hidden and
// redacted as MLflow does, keeps its number, and loses its aliases.
func (s *Store) DeleteModelVersion(ctx context.Context, name string, version int64, now int64) error {
	return s.write(ctx, func(t tx) error {
		id, err := s.versionRow(ctx, t, name, version, true)
		if err != nil {
			return err
		}
		for _, st := range []struct {
			q    string
			args []any
		}{
			{`DELETE FROM registered_model_aliases WHERE model_id = ? AND version = ?`, []any{id, version}},
			{`UPDATE model_versions SET deleted = 1, current_stage = 'Deleted_Internal', last_updated_time = ?, description = '',
				user_id = '', source = 'REDACTED-SOURCE-PATH', storage_location = '', run_id = 'REDACTED-RUN-ID',
				run_link = 'REDACTED-RUN-LINK', status_message = '' WHERE model_id = ? AND version = ?`, []any{now, id, version}},
			{`UPDATE registered_models SET last_updated_time = ? WHERE model_id = ?`, []any{now, id}},
		} {
			if _, err := t.exec(ctx, st.q, st.args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// LatestVersions implements registry.Store.
func (s *Store) LatestVersions(ctx context.Context, name string, stages []string) ([]registry.ModelVersion, error) {
	var vs []registry.ModelVersion
	err := s.read(ctx, func(t tx) error {
		id, err := s.modelRow(ctx, t, name, false)
		if err != nil {
			return err
		}
		vs, err = s.latestVersions(ctx, t, id, stages)
		return err
	})
	return vs, err
}

// VersionsInStage implements registry.Store.
func (s *Store) VersionsInStage(ctx context.Context, name, stage string) ([]registry.ModelVersion, error) {
	var vs []registry.ModelVersion
	err := s.read(ctx, func(t tx) error {
		var err error
		vs, err = s.loadVersions(ctx, t, `WHERE m.name = ? AND v.current_stage = ? AND v.deleted = 0 ORDER BY v.version`, []any{name, stage})
		return err
	})
	return vs, err
}

// VersionsOfRun implements registry.Store.
func (s *Store) VersionsOfRun(ctx context.Context, runID string) ([]registry.ModelVersion, error) {
	var vs []registry.ModelVersion
	err := s.read(ctx, func(t tx) error {
		var err error
		vs, err = s.loadVersions(ctx, t, `WHERE (v.run_id = ? OR v.source = ? OR v.source LIKE ?) AND v.deleted = 0 ORDER BY m.name, v.version`,
			[]any{runID, "runs:/" + runID, "runs:/" + runID + "/%"})
		return err
	})
	return vs, err
}

// SetModelVersionTag implements registry.Store.
func (s *Store) SetModelVersionTag(ctx context.Context, name string, version int64, tag registry.Tag) error {
	return s.write(ctx, func(t tx) error {
		id, err := s.versionRow(ctx, t, name, version, true)
		if err != nil {
			return err
		}
		return upsertVersionTag(ctx, t, id, version, tag)
	})
}

// DeleteModelVersionTag implements registry.Store; a missing key is a no-op.
func (s *Store) DeleteModelVersionTag(ctx context.Context, name string, version int64, key string) error {
	return s.write(ctx, func(t tx) error {
		id, err := s.versionRow(ctx, t, name, version, true)
		if err != nil {
			return err
		}
		_, err = t.exec(ctx, `DELETE FROM model_version_tags WHERE model_id = ? AND version = ? AND key = ?`, id, version, key)
		return err
	})
}

// SetAlias implements registry.Store.
func (s *Store) SetAlias(ctx context.Context, name, alias string, version int64, expectRevision int64) (int64, error) {
	var prev int64
	err := s.write(ctx, func(t tx) error {
		_, rev, err := s.lockModel(ctx, t, name)
		if err != nil {
			return err
		}
		if err := checkRevision(name, rev, expectRevision); err != nil {
			return err
		}
		id, err := s.versionRow(ctx, t, name, version, false)
		if err != nil {
			return err
		}
		err = t.queryRow(ctx, `SELECT version FROM registered_model_aliases WHERE model_id = ? AND alias = ?`, id, alias).Scan(&prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = t.exec(ctx, `INSERT INTO registered_model_aliases (model_id, alias, version) VALUES (?, ?, ?)
			ON CONFLICT (model_id, alias) DO UPDATE SET version = excluded.version`, id, alias, version)
		return err
	})
	return prev, err
}

// DeleteAlias implements registry.Store; a missing alias is a no-op.
func (s *Store) DeleteAlias(ctx context.Context, name, alias string, now int64) error {
	return s.write(ctx, func(t tx) error {
		id, err := s.modelRow(ctx, t, name, true)
		if err != nil {
			return err
		}
		_, err = t.exec(ctx, `DELETE FROM registered_model_aliases WHERE model_id = ? AND alias = ?`, id, alias)
		return err
	})
}

// GetVersionByAlias implements registry.Store.
func (s *Store) GetVersionByAlias(ctx context.Context, name, alias string) (registry.ModelVersion, error) {
	var mv registry.ModelVersion
	err := s.read(ctx, func(t tx) error {
		var v int64
		err := t.queryRow(ctx, `SELECT a.version FROM registered_model_aliases a JOIN registered_models m ON m.model_id = a.model_id
			WHERE m.name = ? AND a.alias = ?`, name, alias).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			return registry.AliasNotFound(alias)
		}
		if err != nil {
			return err
		}
		mv, err = s.getVersion(ctx, t, name, v)
		return err
	})
	return mv, err
}

// AddReview implements registry.Store.
func (s *Store) AddReview(ctx context.Context, name string, version int64, r registry.Review) error {
	return s.write(ctx, func(t tx) error {
		id, err := s.versionRow(ctx, t, name, version, true)
		if err != nil {
			return err
		}
		_, err = t.exec(ctx, `INSERT INTO model_version_reviews (model_id, version, reviewer, decision, comment, time)
			VALUES (?, ?, ?, ?, ?, ?)`, id, version, r.Reviewer, string(r.Decision), r.Comment, r.Time)
		return err
	})
}

// Reviews implements registry.Store.
func (s *Store) Reviews(ctx context.Context, name string, version int64) ([]registry.Review, error) {
	var out []registry.Review
	err := s.read(ctx, func(t tx) error {
		id, err := s.versionRow(ctx, t, name, version, false)
		if err != nil {
			return err
		}
		out, err = s.reviews(ctx, t, id, version)
		return err
	})
	return out, err
}

func (s *Store) reviews(ctx context.Context, t tx, id, version int64) ([]registry.Review, error) {
	rows, err := t.query(ctx, `SELECT reviewer, decision, comment, time FROM model_version_reviews
		WHERE model_id = ? AND version = ? ORDER BY review_id`, id, version)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []registry.Review
	for rows.Next() {
		var r registry.Review
		var d string
		if err := rows.Scan(&r.Reviewer, &d, &r.Comment, &r.Time); err != nil {
			return nil, err
		}
		r.Decision = registry.ApprovalStatus(d)
		out = append(out, r)
	}
	return out, rows.Err()
}

// SetModelPolicy implements registry.Store.
func (s *Store) SetModelPolicy(ctx context.Context, name, doc string, now int64) error {
	return s.write(ctx, func(t tx) error {
		id, err := s.modelRow(ctx, t, name, true)
		if err != nil {
			return err
		}
		if doc == "" {
			_, err = t.exec(ctx, `DELETE FROM registered_model_policies WHERE model_id = ?`, id)
			return err
		}
		_, err = t.exec(ctx, `INSERT INTO registered_model_policies (model_id, document, updated_time) VALUES (?, ?, ?)
			ON CONFLICT (model_id) DO UPDATE SET document = excluded.document, updated_time = excluded.updated_time`, id, doc, now)
		return err
	})
}

// ModelPolicy implements registry.Store.
func (s *Store) ModelPolicy(ctx context.Context, name string) (string, error) {
	var doc string
	err := s.read(ctx, func(t tx) error {
		id, err := s.modelRow(ctx, t, name, false)
		if err != nil {
			return err
		}
		err = t.queryRow(ctx, `SELECT document FROM registered_model_policies WHERE model_id = ?`, id).Scan(&doc)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	return doc, err
}

// ---- search

// registryCond renders one registry filter clause: attributes through
// cols (filter key → column), tags as an EXISTS over tagExists (a
// correlated "SELECT 1 FROM <tag table> tg WHERE ..." of the row).
func (s *Store) registryCond(c filter.Clause, cols map[string]string, tagExists string) (string, []any, error) {
	if c.Entity == filter.Tag {
		cond, args, err := s.strCond("tg.value", c)
		if err != nil {
			return "", nil, err
		}
		// MLflow 2.21+ clients add tags.`mlflow.prompt.is_prompt` != 'true'
		// to every model search to hide prompts: it must keep models that
		// lack the tag, unlike other != tag clauses.
		if c.Key == "mlflow.prompt.is_prompt" && c.Op == filter.Ne {
			eq := c
			eq.Op = filter.Eq
			cond, args, err = s.strCond("tg.value", eq)
			if err != nil {
				return "", nil, err
			}
			return "NOT EXISTS (" + tagExists + " AND tg.key = ? AND " + cond + ")", append([]any{c.Key}, args...), nil
		}
		return "EXISTS (" + tagExists + " AND tg.key = ? AND " + cond + ")", append([]any{c.Key}, args...), nil
	}
	col, ok := cols[c.Key]
	if !ok {
		return "", nil, fmt.Errorf("registry search: unsupported key %q", c.Key)
	}
	if c.Numeric {
		// Compared as a number, not truncated to an integer: 1.5 or 1e20
		// must not turn into 1 or an overflowed int64.
		// (Postgres would otherwise cast the parameter to the column's
		// bigint.)
		return col + " " + string(c.Op) + " CAST(? AS DOUBLE PRECISION)", []any{c.Num}, nil
	}
	return s.strCond(col, c)
}

// strCond renders a string comparison of col.
func (s *Store) strCond(col string, c filter.Clause) (string, []any, error) {
	switch c.Op {
	case filter.Eq, filter.Ne, filter.Like:
		return col + " " + string(c.Op) + " ?", []any{c.Str}, nil
	case filter.ILike:
		return s.d.ILike(col), []any{c.Str}, nil
	case filter.In, filter.NotIn:
		args := make([]any, len(c.List))
		for i, v := range c.List {
			args[i] = v
		}
		return col + " " + string(c.Op) + " " + placeholders(len(c.List)), args, nil
	}
	return "", nil, fmt.Errorf("registry search: unsupported comparator %s", c.Op)
}

func orderSQL(orders []filter.Order, cols map[string]string, tail []filter.Order) (string, error) {
	seen := map[string]bool{}
	var parts []string
	for _, o := range append(append([]filter.Order(nil), orders...), tail...) {
		col, ok := cols[o.Key]
		if !ok {
			return "", fmt.Errorf("registry search: unsupported order key %q", o.Key)
		}
		if seen[col] {
			continue
		}
		seen[col] = true
		dir := " DESC"
		if o.Asc {
			dir = " ASC"
		}
		parts = append(parts, col+dir)
	}
	return " ORDER BY " + strings.Join(parts, ", "), nil
}

var modelCols = map[string]string{
	"name":                   "m.name",
	"creation_timestamp":     "m.creation_time",
	"last_updated_timestamp": "m.last_updated_time",
}

var versionCols = map[string]string{
	"name":                   "m.name",
	"version_number":         "v.version",
	"run_id":                 "v.run_id",
	"source_path":            "v.source",
	"creation_timestamp":     "v.creation_time",
	"last_updated_timestamp": "v.last_updated_time",
}

// SearchRegisteredModels implements registry.Store.
func (s *Store) SearchRegisteredModels(ctx context.Context, q registry.ModelQuery) ([]registry.RegisteredModel, error) {
	where := []string{"1 = 1"}
	var args []any
	for _, c := range q.Filter {
		cond, a, err := s.registryCond(c, modelCols, "SELECT 1 FROM registered_model_tags tg WHERE tg.model_id = m.model_id")
		if err != nil {
			return nil, err
		}
		where, args = append(where, cond), append(args, a...)
	}
	order, err := orderSQL(q.OrderBy, modelCols, []filter.Order{{Entity: filter.Attribute, Key: "name", Asc: true}})
	if err != nil {
		return nil, err
	}
	sqlText := "WHERE " + strings.Join(where, " AND ") + order + " LIMIT ? OFFSET ?"
	args = append(args, q.Limit, q.Offset)
	var ms []registry.RegisteredModel
	err = s.read(ctx, func(t tx) error {
		var err error
		ms, err = s.loadModels(ctx, t, sqlText, args)
		return err
	})
	return ms, err
}

// SearchModelVersions implements registry.Store.
func (s *Store) SearchModelVersions(ctx context.Context, q registry.VersionQuery) ([]registry.ModelVersion, error) {
	where := []string{"v.deleted = 0"}
	var args []any
	for _, c := range q.Filter {
		cond, a, err := s.registryCond(c, versionCols, "SELECT 1 FROM model_version_tags tg WHERE tg.model_id = v.model_id AND tg.version = v.version")
		if err != nil {
			return nil, err
		}
		where, args = append(where, cond), append(args, a...)
	}
	orders := q.OrderBy
	if len(orders) == 0 {
		orders = []filter.Order{{Entity: filter.Attribute, Key: "last_updated_timestamp"}}
	}
	order, err := orderSQL(orders, versionCols, []filter.Order{
		{Entity: filter.Attribute, Key: "name", Asc: true},
		{Entity: filter.Attribute, Key: "version_number"},
	})
	if err != nil {
		return nil, err
	}
	sqlText := "WHERE " + strings.Join(where, " AND ") + order + " LIMIT ? OFFSET ?"
	args = append(args, q.Limit, q.Offset)
	var vs []registry.ModelVersion
	err = s.read(ctx, func(t tx) error {
		var err error
		vs, err = s.loadVersions(ctx, t, sqlText, args)
		return err
	})
	return vs, err
}
