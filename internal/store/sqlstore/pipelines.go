package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/pipeline"
)

const pipelineStepColumns = `run_id, name, position, deps, status, attempts, worker, lease_until, started_at, ended_at,
	exit_code, error, cache_key, outputs, log, links`

// Distributed implements pipeline.QueueStore: Postgres is shared by
// workers on several machines; an embedded SQLite file is not.
func (s *Store) Distributed() bool { return s.d.ForUpdate != "" }

// CreatePipelineRun implements pipeline.QueueStore.
func (s *Store) CreatePipelineRun(ctx context.Context, run pipeline.RunRecord) error {
	params, err := json.Marshal(run.Params)
	if err != nil {
		return err
	}
	return s.write(ctx, func(t tx) error {
		if _, err := t.exec(ctx, `INSERT INTO pipeline_runs (id, name, spec, params, workdir, status, created_at, created_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, run.ID, run.Name, run.Spec, string(params), run.Workdir, run.Status, run.CreatedAt, run.CreatedBy); err != nil {
			return err
		}
		for _, st := range run.Steps {
			deps, _ := json.Marshal(st.Deps)
			if _, err := t.exec(ctx, `INSERT INTO pipeline_steps (run_id, name, position, deps, status) VALUES (?, ?, ?, ?, ?)`,
				run.ID, st.Name, st.Position, string(deps), st.Status); err != nil {
				return err
			}
		}
		return nil
	})
}

func scanPipelineRun(row interface{ Scan(...any) error }) (pipeline.RunRecord, error) {
	var r pipeline.RunRecord
	var params string
	if err := row.Scan(&r.ID, &r.Name, &r.Spec, &params, &r.Workdir, &r.Status, &r.CreatedAt, &r.EndedAt, &r.CreatedBy); err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(params), &r.Params); err != nil {
		return r, fmt.Errorf("pipeline run %s: params: %w", r.ID, err)
	}
	return r, nil
}

func scanPipelineStep(row interface{ Scan(...any) error }) (pipeline.StepRecord, error) {
	var st pipeline.StepRecord
	var deps, outputs, links string
	if err := row.Scan(&st.RunID, &st.Name, &st.Position, &deps, &st.Status, &st.Attempts, &st.Worker, &st.LeaseUntil,
		&st.StartedAt, &st.EndedAt, &st.ExitCode, &st.Error, &st.CacheKey, &outputs, &st.Log, &links); err != nil {
		return st, err
	}
	if err := json.Unmarshal([]byte(deps), &st.Deps); err != nil {
		return st, err
	}
	if err := json.Unmarshal([]byte(links), &st.Links); err != nil {
		return st, err
	}
	return st, json.Unmarshal([]byte(outputs), &st.Outputs)
}

const pipelineRunColumns = `id, name, spec, params, workdir, status, created_at, ended_at, created_by`

func (s *Store) pipelineRun(ctx context.Context, t tx, id string) (pipeline.RunRecord, error) {
	r, err := scanPipelineRun(t.queryRow(ctx, `SELECT `+pipelineRunColumns+` FROM pipeline_runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, errdefs.NotFound("Pipeline run '%s' does not exist", id)
	}
	if err != nil {
		return r, err
	}
	rows, err := t.query(ctx, `SELECT `+pipelineStepColumns+` FROM pipeline_steps WHERE run_id = ? ORDER BY position`, id)
	if err != nil {
		return r, err
	}
	defer rows.Close()
	for rows.Next() {
		st, err := scanPipelineStep(rows)
		if err != nil {
			return r, err
		}
		r.Steps = append(r.Steps, st)
	}
	return r, rows.Err()
}

// GetPipelineRun implements pipeline.QueueStore.
func (s *Store) GetPipelineRun(ctx context.Context, id string) (pipeline.RunRecord, error) {
	var r pipeline.RunRecord
	err := s.read(ctx, func(t tx) error {
		var err error
		r, err = s.pipelineRun(ctx, t, id)
		return err
	})
	return r, err
}

// ListPipelineRuns implements pipeline.QueueStore (newest first, without
// steps).
func (s *Store) ListPipelineRuns(ctx context.Context, limit int) ([]pipeline.RunRecord, error) {
	var out []pipeline.RunRecord
	err := s.read(ctx, func(t tx) error {
		rows, err := t.query(ctx, `SELECT `+pipelineRunColumns+` FROM pipeline_runs ORDER BY created_at DESC, id LIMIT ?`, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanPipelineRun(rows)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, err
}

// ClaimPipelineStep implements pipeline.QueueStore: on Postgres the
// candidate row is locked with SKIP LOCKED, so concurrent workers take
// different steps without waiting for each other.
func (s *Store) ClaimPipelineStep(ctx context.Context, worker string, now, leaseUntil int64) (pipeline.RunRecord, pipeline.StepRecord, bool, error) {
	var run pipeline.RunRecord
	var step pipeline.StepRecord
	found := false
	lock := ""
	if s.d.ForUpdate != "" {
		lock = s.d.ForUpdate + " SKIP LOCKED"
	}
	err := s.write(ctx, func(t tx) error {
		var runID, name string
		err := t.queryRow(ctx, `SELECT run_id, name FROM pipeline_steps
			WHERE status = ? OR (status = ? AND lease_until < ?)
			ORDER BY lease_until, run_id, position LIMIT 1`+lock, pipeline.StepReady, pipeline.StepRunning, now).Scan(&runID, &name)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := t.exec(ctx, `UPDATE pipeline_steps SET status = ?, worker = ?, lease_until = ?, attempts = attempts + 1,
				started_at = CASE WHEN started_at = 0 THEN ? ELSE started_at END WHERE run_id = ? AND name = ?`,
			pipeline.StepRunning, worker, leaseUntil, now, runID, name); err != nil {
			return err
		}
		if _, err := t.exec(ctx, `UPDATE pipeline_runs SET status = ? WHERE id = ? AND status = ?`, pipeline.RunRunning, runID, pipeline.RunQueued); err != nil {
			return err
		}
		if run, err = s.pipelineRun(ctx, t, runID); err != nil {
			return err
		}
		for _, st := range run.Steps {
			if st.Name == name {
				step = st
			}
		}
		found = true
		return nil
	})
	return run, step, found, err
}

// HeartbeatPipelineStep implements pipeline.QueueStore.
func (s *Store) HeartbeatPipelineStep(ctx context.Context, runID, step, worker string, leaseUntil int64, log string) error {
	return s.write(ctx, func(t tx) error {
		res, err := t.exec(ctx, `UPDATE pipeline_steps SET lease_until = ?, log = ? WHERE run_id = ? AND name = ? AND worker = ? AND status = ?`,
			leaseUntil, log, runID, step, worker, pipeline.StepRunning)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return pipeline.LeaseLost(runID, step, worker)
		}
		return nil
	})
}

// FinishPipelineStep implements pipeline.QueueStore.
func (s *Store) FinishPipelineStep(ctx context.Context, r pipeline.StepRecord, worker string, now int64) error {
	outputs, err := json.Marshal(r.Outputs)
	if err != nil {
		return err
	}
	if r.Outputs == nil {
		outputs = []byte("[]")
	}
	links, err := json.Marshal(r.Links)
	if err != nil {
		return err
	}
	if r.Links == nil {
		links = []byte("[]")
	}
	return s.write(ctx, func(t tx) error {
		// Lock the run: steps finishing at once update readiness in turn.
		var status string
		if err := t.queryRow(ctx, `SELECT status FROM pipeline_runs WHERE id = ?`+s.d.ForUpdate, r.RunID).Scan(&status); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errdefs.NotFound("Pipeline run '%s' does not exist", r.RunID)
			}
			return err
		}
		res, err := t.exec(ctx, `UPDATE pipeline_steps SET status = ?, ended_at = ?, exit_code = ?, error = ?, cache_key = ?,
				outputs = ?, log = ?, links = ?, lease_until = 0 WHERE run_id = ? AND name = ? AND worker = ? AND status = ?`,
			r.Status, now, r.ExitCode, r.Error, r.CacheKey, string(outputs), r.Log, string(links), r.RunID, r.Name, worker, pipeline.StepRunning)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return pipeline.LeaseLost(r.RunID, r.Name, worker)
		}
		run, err := s.pipelineRun(ctx, t, r.RunID)
		if err != nil {
			return err
		}
		// Settle the pending steps, as often as settling one settles more
		// (a skipped or failed step ends its dependents at once).
		state := map[string]string{}
		for _, st := range run.Steps {
			state[st.Name] = st.Status
		}
		for changed := true; changed; {
			changed = false
			for _, st := range run.Steps {
				if state[st.Name] != pipeline.StepPending {
					continue
				}
				var deps []string
				for _, d := range st.Deps {
					deps = append(deps, state[d])
				}
				next := pipeline.NextStatus(deps)
				if next == "" {
					continue
				}
				state[st.Name], changed = next, true
				ended := int64(0)
				if next != pipeline.StepReady {
					ended = now
				}
				if _, err := t.exec(ctx, `UPDATE pipeline_steps SET status = ?, ended_at = ? WHERE run_id = ? AND name = ?`,
					next, ended, r.RunID, st.Name); err != nil {
					return err
				}
			}
		}
		var all []string
		for _, st := range run.Steps {
			all = append(all, state[st.Name])
		}
		if rs := pipeline.RunStatusOf(all); rs != "" {
			_, err = t.exec(ctx, `UPDATE pipeline_runs SET status = ?, ended_at = ? WHERE id = ?`, rs, now, r.RunID)
		}
		return err
	})
}

// SavePipeline implements pipeline.RegistryStore (insert or replace,
// keeping the creation time and the last firing).
func (s *Store) SavePipeline(ctx context.Context, p pipeline.Registered) error {
	params, _ := json.Marshal(p.Params)
	triggers, _ := json.Marshal(p.Triggers)
	if p.Triggers == nil {
		triggers = []byte("[]")
	}
	return s.write(ctx, func(t tx) error {
		_, err := t.exec(ctx, `INSERT INTO pipelines (name, spec, workdir, params, schedule, triggers, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, workdir = excluded.workdir, params = excluded.params,
				schedule = excluded.schedule, triggers = excluded.triggers, updated_at = excluded.updated_at`,
			p.Name, p.Spec, p.Workdir, string(params), p.Schedule, string(triggers), p.CreatedAt, p.UpdatedAt)
		return err
	})
}

// ListPipelines implements pipeline.RegistryStore.
func (s *Store) ListPipelines(ctx context.Context) ([]pipeline.Registered, error) {
	var out []pipeline.Registered
	err := s.read(ctx, func(t tx) error {
		rows, err := t.query(ctx, `SELECT name, spec, workdir, params, schedule, triggers, created_at, updated_at, last_fired_at
			FROM pipelines ORDER BY name`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p pipeline.Registered
			var params, triggers string
			if err := rows.Scan(&p.Name, &p.Spec, &p.Workdir, &params, &p.Schedule, &triggers, &p.CreatedAt, &p.UpdatedAt, &p.LastFiredAt); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(params), &p.Params); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(triggers), &p.Triggers); err != nil {
				return err
			}
			out = append(out, p)
		}
		return rows.Err()
	})
	return out, err
}

// DeletePipeline implements pipeline.RegistryStore.
func (s *Store) DeletePipeline(ctx context.Context, name string) error {
	return s.write(ctx, func(t tx) error {
		res, err := t.exec(ctx, `DELETE FROM pipelines WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errdefs.NotFound("Pipeline '%s' is not registered", name)
		}
		return nil
	})
}

// MarkPipelineFired implements pipeline.RegistryStore: a conditional
// update, so one server of several fires a minute.
func (s *Store) MarkPipelineFired(ctx context.Context, name string, minute int64) (bool, error) {
	fired := false
	err := s.write(ctx, func(t tx) error {
		res, err := t.exec(ctx, `UPDATE pipelines SET last_fired_at = ? WHERE name = ? AND last_fired_at < ?`, minute, name, minute)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		fired = n == 1
		return nil
	})
	return fired, err
}

// PipelineRunsLinking returns the submitted runs whose steps read or
// made the thing uri names (lineage).
func (s *Store) PipelineRunsLinking(ctx context.Context, uri string) ([]string, error) {
	needle, _ := json.Marshal(uri)
	var out []string
	err := s.read(ctx, func(t tx) error {
		rows, err := t.query(ctx, `SELECT DISTINCT run_id FROM pipeline_steps WHERE links LIKE ? ESCAPE '\' ORDER BY run_id`,
			"%"+likeEscape(string(needle))+"%")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			out = append(out, id)
		}
		return rows.Err()
	})
	return out, err
}

// likeEscape escapes LIKE's wildcards (and the escape character).
func likeEscape(v string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(v)
}
