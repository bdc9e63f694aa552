package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/ferry-ml/ferry/internal/alert"
	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Record implements alert.History: the event is appended to the alert
// history (a NaN value is stored as NULL).
func (s *Store) Record(ctx context.Context, e alert.Event) error {
	labels, err := json.Marshal(e.Labels)
	if err != nil {
		return err
	}
	var value any
	if !math.IsNaN(e.Value) && !math.IsInf(e.Value, 0) {
		value = e.Value
	}
	return s.write(ctx, func(t tx) error {
		_, err := t.exec(ctx, `INSERT INTO alert_events (kind, time, rule, fingerprint, labels, from_state, to_state, value,
			group_key, group_uri, channel, status, alerts, attempt, err, target) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			string(e.Kind), e.Time.UnixMilli(), e.Rule, e.Fingerprint, string(labels), string(e.From), string(e.To), value,
			e.GroupKey, alert.GroupURI(e.Rule, e.GroupKey), e.Channel, e.Status, e.Alerts, e.Attempt, e.Err, e.Target)
		return err
	})
}

// ListAlertEvents implements alert.HistoryReader.
func (s *Store) ListAlertEvents(ctx context.Context, q alert.HistoryQuery) ([]alert.Event, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	var where []string
	var args []any
	for _, c := range []struct {
		col, val string
	}{{"rule", q.Rule}, {"target", q.Target}, {"group_uri", q.Group}, {"kind", string(q.Kind)}} {
		if c.val != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.val)
		}
	}
	if !q.Since.IsZero() {
		where = append(where, "time >= ?")
		args = append(args, q.Since.UnixMilli())
	}
	if !q.Until.IsZero() {
		where = append(where, "time < ?")
		args = append(args, q.Until.UnixMilli())
	}
	stmt := `SELECT kind, time, rule, fingerprint, labels, from_state, to_state, value, group_key, channel, status,
		alerts, attempt, err, target FROM alert_events`
	if len(where) > 0 {
		stmt += " WHERE " + strings.Join(where, " AND ")
	}
	stmt += " ORDER BY id DESC LIMIT ?"
	args = append(args, q.Limit)
	var out []alert.Event
	err := s.read(ctx, func(t tx) error {
		rows, err := t.query(ctx, stmt, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e alert.Event
			var kind, from, to, labels string
			var ms int64
			var value sql.NullFloat64
			if err := rows.Scan(&kind, &ms, &e.Rule, &e.Fingerprint, &labels, &from, &to, &value, &e.GroupKey,
				&e.Channel, &e.Status, &e.Alerts, &e.Attempt, &e.Err, &e.Target); err != nil {
				return err
			}
			e.Kind, e.From, e.To, e.Time = alert.EventKind(kind), alert.State(from), alert.State(to), time.UnixMilli(ms).UTC()
			e.Value = math.NaN()
			if value.Valid {
				e.Value = value.Float64
			}
			if err := json.Unmarshal([]byte(labels), &e.Labels); err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	return out, err
}

// DeleteAlertEventsBefore removes the history older than t (Unix ms)
// and says how many events; the deliveries that started something (a
// pipeline run) are kept: they are the lineage of what they started.
func (s *Store) DeleteAlertEventsBefore(ctx context.Context, t int64) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx tx) error {
		res, err := tx.exec(ctx, `DELETE FROM alert_events WHERE time < ? AND target = ''`, t)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}

// PutSilence keeps a silence, replacing one with the same id.
func (s *Store) PutSilence(ctx context.Context, sl alert.Silence) error {
	if err := sl.Validate(); err != nil {
		return err
	}
	m, err := json.Marshal(sl.Matchers)
	if err != nil {
		return err
	}
	return s.write(ctx, func(t tx) error {
		_, err := t.exec(ctx, `INSERT INTO alert_silences (id, matchers, starts_at, ends_at, comment, created_by) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET matchers = excluded.matchers, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
			comment = excluded.comment, created_by = excluded.created_by`,
			sl.ID, string(m), sl.StartsAt.UnixMilli(), sl.EndsAt.UnixMilli(), sl.Comment, sl.CreatedBy)
		return err
	})
}

// DeleteSilencesEndedBefore removes the silences that ended before t
// (Unix ms) and says how many.
func (s *Store) DeleteSilencesEndedBefore(ctx context.Context, t int64) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx tx) error {
		res, err := tx.exec(ctx, `DELETE FROM alert_silences WHERE ends_at < ?`, t)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}

// ListSilences returns the kept silences by id.
func (s *Store) ListSilences(ctx context.Context) ([]alert.Silence, error) {
	var out []alert.Silence
	err := s.read(ctx, func(t tx) error {
		rows, err := t.query(ctx, `SELECT id, matchers, starts_at, ends_at, comment, created_by FROM alert_silences ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var sl alert.Silence
			var m string
			var from, to int64
			if err := rows.Scan(&sl.ID, &m, &from, &to, &sl.Comment, &sl.CreatedBy); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(m), &sl.Matchers); err != nil {
				return err
			}
			sl.StartsAt, sl.EndsAt = time.UnixMilli(from).UTC(), time.UnixMilli(to).UTC()
			out = append(out, sl)
		}
		return rows.Err()
	})
	return out, err
}

// GetAlertRules returns the stored rules document; ok is false when none
// is stored.
func (s *Store) GetAlertRules(ctx context.Context) (r alert.RulesDocument, ok bool, err error) {
	err = s.read(ctx, func(t tx) error {
		err := t.queryRow(ctx, `SELECT document, updated_at, updated_by FROM alert_rules WHERE id = 1`).
			Scan(&r.Document, &r.UpdatedAt, &r.UpdatedBy)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		ok = err == nil
		return err
	})
	return r, ok, err
}

// PutAlertRules stores the rules document, replacing the one stored.
func (s *Store) PutAlertRules(ctx context.Context, r alert.RulesDocument) error {
	return s.write(ctx, func(t tx) error {
		_, err := t.exec(ctx, `INSERT INTO alert_rules (id, document, updated_at, updated_by) VALUES (1, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at,
			updated_by = excluded.updated_by`, r.Document, r.UpdatedAt, r.UpdatedBy)
		return err
	})
}

// DeleteAlertRules removes the stored rules document (ErrNotFound when
// there is none).
func (s *Store) DeleteAlertRules(ctx context.Context) error {
	return s.write(ctx, func(t tx) error {
		res, err := t.exec(ctx, `DELETE FROM alert_rules WHERE id = 1`)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errdefs.NotFound("No alert rules were set through the API.")
		}
		return nil
	})
}

var (
	_ alert.History       = (*Store)(nil)
	_ alert.HistoryReader = (*Store)(nil)
)
