package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/serving"
)

const deploymentColumns = `endpoint, model, version, strategy, status, message, state, created_at, updated_at`

// deploymentState is the JSON of the state column.
type deploymentState struct {
	Rollout      *serving.Rollout `json:"rollout,omitempty"`
	Previous     *serving.Ref     `json:"previous,omitempty"`
	PreviousWarm bool             `json:"previous_warm,omitempty"`
}

func scanDeployment(row interface{ Scan(...any) error }) (serving.Deployment, error) {
	var d serving.Deployment
	var state string
	if err := row.Scan(&d.Endpoint, &d.Model, &d.Version, &d.Strategy, &d.Status, &d.Message, &state, &d.CreatedAt, &d.UpdatedAt); err != nil {
		return d, err
	}
	var st deploymentState
	if err := json.Unmarshal([]byte(state), &st); err != nil {
		return d, fmt.Errorf("deployment %s: state: %w", d.Endpoint, err)
	}
	d.Rollout, d.Previous, d.PreviousWarm = st.Rollout, st.Previous, st.PreviousWarm
	return d, nil
}

func insertEvent(ctx context.Context, t tx, ev serving.Event) error {
	_, err := t.exec(ctx, `INSERT INTO deployment_events (endpoint, time, actor, action, model, version,
			candidate_model, candidate_version, weight, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ev.Endpoint, ev.Time, ev.Actor, ev.Action, ev.Model, ev.Version, ev.Candidate.Model, ev.Candidate.Version, ev.Weight, ev.Reason)
	return err
}

// SaveDeployment implements serving.Store (insert or replace, and the
// event, in one transaction).
func (s *Store) SaveDeployment(ctx context.Context, d serving.Deployment, ev serving.Event) error {
	state, err := json.Marshal(deploymentState{Rollout: d.Rollout, Previous: d.Previous, PreviousWarm: d.PreviousWarm})
	if err != nil {
		return err
	}
	return s.write(ctx, func(t tx) error {
		_, err := t.exec(ctx, `INSERT INTO deployments (`+deploymentColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (endpoint) DO UPDATE SET model = excluded.model, version = excluded.version,
				strategy = excluded.strategy, status = excluded.status, message = excluded.message,
				state = excluded.state, created_at = excluded.created_at, updated_at = excluded.updated_at`,
			d.Endpoint, d.Model, d.Version, d.Strategy, d.Status, d.Message, string(state), d.CreatedAt, d.UpdatedAt)
		if err != nil {
			return err
		}
		return insertEvent(ctx, t, ev)
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
func (s *Store) DeleteDeployment(ctx context.Context, endpoint string, ev serving.Event) error {
	return s.write(ctx, func(t tx) error {
		res, err := t.exec(ctx, `DELETE FROM deployments WHERE endpoint = ?`, endpoint)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errdefs.NotFound("Endpoint '%s' does not exist", endpoint)
		}
		return insertEvent(ctx, t, ev)
	})
}

// DeploymentEvents implements serving.Store.
func (s *Store) DeploymentEvents(ctx context.Context, endpoint string, limit int) ([]serving.Event, error) {
	var out []serving.Event
	err := s.read(ctx, func(t tx) error {
		rows, err := t.query(ctx, `SELECT id, endpoint, time, actor, action, model, version, candidate_model,
				candidate_version, weight, reason FROM deployment_events WHERE endpoint = ? ORDER BY id DESC LIMIT ?`, endpoint, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ev serving.Event
			if err := rows.Scan(&ev.ID, &ev.Endpoint, &ev.Time, &ev.Actor, &ev.Action, &ev.Model, &ev.Version,
				&ev.Candidate.Model, &ev.Candidate.Version, &ev.Weight, &ev.Reason); err != nil {
				return err
			}
			out = append(out, ev)
		}
		return rows.Err()
	})
	return out, err
}

// EndpointsServing implements serving.Store.
func (s *Store) EndpointsServing(ctx context.Context, model string, version int64) ([]string, error) {
	var out []string
	err := s.read(ctx, func(t tx) error {
		rows, err := t.query(ctx, `SELECT endpoint FROM deployment_events WHERE model = ? AND version = ?
			UNION SELECT endpoint FROM deployment_events WHERE candidate_model = ? AND candidate_version = ?
			ORDER BY endpoint`, model, version, model, version)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e string
			if err := rows.Scan(&e); err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	return out, err
}
