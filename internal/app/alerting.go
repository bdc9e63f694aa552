package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/ferry-ml/ferry/internal/alert"
	"github.com/ferry-ml/ferry/internal/audit"
	"github.com/ferry-ml/ferry/internal/errdefs"
)

// alerting runs the alert engine and is what the API exposes of it. The
// rules in force are the document set through the API (kept in the
// store), else the alert_rules file, else none. Replacing them builds a
// new engine that adopts the state of the unchanged rules; the engine
// records its history in the store, starts pipelines for pipeline
// channels and holds the stored silences.
//
// Changes — rules and silences — take ops, one at a time, so that the
// store and the engine in force never disagree; a new engine is built
// and checked before the store is written.
type alerting struct {
	a    *App
	file string // alert_rules

	ops sync.Mutex

	mu     sync.Mutex // guards the fields below; taken briefly, under ops or alone
	e      *alert.Engine
	source string // "api", "file" or ""
	doc    alert.RulesDocument
}

// open loads the rules in force at start-up.
func (s *alerting) open(ctx context.Context) error {
	s.ops.Lock()
	defer s.ops.Unlock()
	stored, ok, err := s.a.store.GetAlertRules(ctx)
	if err != nil {
		return err
	}
	switch {
	case ok:
		if s.file != "" {
			s.a.log.Warn("alert rules set through the API take precedence over alert_rules",
				"file", s.file, "updated_by", stored.UpdatedBy, "updated_at", time.UnixMilli(stored.UpdatedAt).UTC())
		}
		e, err := s.build(ctx, stored.Document)
		if err != nil {
			return err
		}
		s.publish(ctx, e, "api", stored)
	case s.file != "":
		e, doc, err := s.buildFile(ctx)
		if err != nil {
			return err
		}
		s.publish(ctx, e, "file", doc)
	}
	return nil
}

// build makes an engine from a rules document, holding the stored
// silences.
func (s *alerting) build(ctx context.Context, doc string) (*alert.Engine, error) {
	cfg, err := alert.ParseRules([]byte(doc))
	if err != nil {
		return nil, err
	}
	e, err := alert.New(cfg, alert.Options{Logger: s.a.log, History: s.a.store, Trigger: s.a.triggerPipeline})
	if err != nil {
		return nil, err
	}
	silences, err := s.a.store.ListSilences(ctx)
	if err == nil {
		for _, sl := range silences {
			if err = e.AddSilence(sl); err != nil {
				break
			}
		}
	}
	if err != nil {
		return nil, errors.Join(err, e.Close(ctx))
	}
	return e, nil
}

// buildFile builds the engine of the alert_rules file.
func (s *alerting) buildFile(ctx context.Context) (*alert.Engine, alert.RulesDocument, error) {
	b, err := os.ReadFile(s.file)
	if err != nil {
		return nil, alert.RulesDocument{}, fmt.Errorf("alert_rules: %w", err)
	}
	e, err := s.build(ctx, string(b))
	if err != nil {
		return nil, alert.RulesDocument{}, fmt.Errorf("alert_rules %s: %w", s.file, err)
	}
	return e, alert.RulesDocument{Document: string(b)}, nil
}

// publish puts e in force (nil: no rules), adopting the state of the
// unchanged rules of the engine it replaces, which is closed.
func (s *alerting) publish(ctx context.Context, e *alert.Engine, source string, doc alert.RulesDocument) {
	s.mu.Lock()
	old := s.e
	if old != nil && e != nil {
		kept := e.Adopt(old)
		s.a.log.Info("alert rules replaced", "source", source, "rules", len(e.Rules()), "kept_state", kept)
	}
	s.e, s.source, s.doc = e, source, doc
	s.mu.Unlock()
	if old != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := old.Close(cctx); err != nil {
			s.a.log.Warn("alert rules replaced: notifications of the previous rules were cut short", "error", err.Error())
		}
	}
}

func (s *alerting) engine() *alert.Engine {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.e
}

func (s *alerting) close(ctx context.Context) error {
	if e := s.engine(); e != nil {
		return e.Close(ctx)
	}
	return nil
}

// Rules implements v1.Alerts.
func (s *alerting) Rules() []alert.Rule {
	if e := s.engine(); e != nil {
		return e.Rules()
	}
	return nil
}

// RulesDocument implements v1.Alerts: the document in force and where
// it comes from ("api", "file", or "" without rules).
func (s *alerting) RulesDocument() (alert.RulesDocument, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.doc, s.source
}

// PutRules implements v1.Alerts: the document is checked and its engine
// built, then stored and put in force; a document that does not parse
// changes nothing.
func (s *alerting) PutRules(ctx context.Context, doc string) error {
	s.ops.Lock()
	defer s.ops.Unlock()
	e, err := s.build(ctx, doc)
	if err != nil {
		return err
	}
	meta := alert.RulesDocument{Document: doc, UpdatedAt: time.Now().UnixMilli(), UpdatedBy: audit.Actor(ctx)}
	if err := s.a.store.PutAlertRules(ctx, meta); err != nil {
		return errors.Join(err, e.Close(ctx))
	}
	s.publish(ctx, e, "api", meta)
	audit.Note(ctx, audit.Change{Action: "alert.set_rules", Resource: "alerts:/rules", After: audit.Digest(doc)})
	return nil
}

// DeleteRules implements v1.Alerts: the stored document is removed and
// the alert_rules file (if any, checked first) is in force again.
func (s *alerting) DeleteRules(ctx context.Context) error {
	s.ops.Lock()
	defer s.ops.Unlock()
	if _, ok, err := s.a.store.GetAlertRules(ctx); err != nil || !ok {
		if err == nil {
			err = errdefs.NotFound("No alert rules were set through the API.")
		}
		return err
	}
	var (
		e   *alert.Engine
		doc alert.RulesDocument
		src string
	)
	if s.file != "" {
		var err error
		if e, doc, err = s.buildFile(ctx); err != nil {
			return err
		}
		src = "file"
	}
	if err := s.a.store.DeleteAlertRules(ctx); err != nil {
		if e != nil {
			err = errors.Join(err, e.Close(ctx))
		}
		return err
	}
	s.publish(ctx, e, src, doc)
	audit.Note(ctx, audit.Change{Action: "alert.delete_rules", Resource: "alerts:/rules"})
	return nil
}

// Active implements v1.Alerts.
func (s *alerting) Active() []alert.Alert {
	if e := s.engine(); e != nil {
		return e.Alerts()
	}
	return nil
}

// History implements v1.Alerts.
func (s *alerting) History(ctx context.Context, q alert.HistoryQuery) ([]alert.Event, error) {
	return s.a.store.ListAlertEvents(ctx, q)
}

// Silences implements v1.Alerts.
func (s *alerting) Silences(ctx context.Context) ([]alert.Silence, error) {
	return s.a.store.ListSilences(ctx)
}

// AddSilence implements v1.Alerts: kept in the store, in force in the
// engine.
func (s *alerting) AddSilence(ctx context.Context, sl alert.Silence) error {
	s.ops.Lock()
	defer s.ops.Unlock()
	if err := s.a.store.PutSilence(ctx, sl); err != nil {
		return err
	}
	if e := s.engine(); e != nil {
		return e.AddSilence(sl)
	}
	return nil
}

// ExpireSilence implements v1.Alerts: the silence ends now, as
// Alertmanager expires one — it stays listed, expired, until
// monitor_retention prunes it. An expired one is left as it is.
func (s *alerting) ExpireSilence(ctx context.Context, id string) error {
	s.ops.Lock()
	defer s.ops.Unlock()
	all, err := s.a.store.ListSilences(ctx)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(all, func(x alert.Silence) bool { return x.ID == id })
	if i < 0 {
		return errdefs.NotFound("Silence '%s' does not exist.", id)
	}
	sl := all[i]
	now := time.Now().UTC().Truncate(time.Millisecond)
	if !sl.EndsAt.After(now) {
		return nil
	}
	sl.EndsAt = now
	if !sl.StartsAt.Before(now) { // a pending one: it never started
		sl.StartsAt = now.Add(-time.Millisecond)
	}
	if err := s.a.store.PutSilence(ctx, sl); err != nil {
		return err
	}
	if e := s.engine(); e != nil {
		return e.AddSilence(sl)
	}
	return nil
}
