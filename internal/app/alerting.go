package app

import (
	"context"
	"errors"
	"fmt"
	"os"
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
type alerting struct {
	a    *App
	file string // alert_rules

	mu     sync.Mutex
	e      *alert.Engine // nil without rules
	source string        // "api", "file" or ""
	doc    alert.RulesDocument
}

// open loads the rules in force at start-up.
func (s *alerting) open(ctx context.Context) error {
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
		return s.swap(ctx, []byte(stored.Document), "api", stored)
	case s.file != "":
		b, err := os.ReadFile(s.file)
		if err != nil {
			return fmt.Errorf("alert_rules: %w", err)
		}
		if err := s.swap(ctx, b, "file", alert.RulesDocument{Document: string(b)}); err != nil {
			return fmt.Errorf("alert_rules %s: %w", s.file, err)
		}
	}
	return nil
}

// swap builds an engine from doc and puts it in force, adopting the
// state of the unchanged rules of the one it replaces, which is closed.
func (s *alerting) swap(ctx context.Context, doc []byte, source string, meta alert.RulesDocument) error {
	cfg, err := alert.ParseRules(doc)
	if err != nil {
		return err
	}
	e, err := alert.New(cfg, alert.Options{Logger: s.a.log, History: s.a.store, Trigger: s.a.triggerPipeline})
	if err != nil {
		return err
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
		return errors.Join(err, e.Close(ctx))
	}
	s.mu.Lock()
	old := s.e
	if old != nil {
		kept := e.Adopt(old)
		s.a.log.Info("alert rules replaced", "source", source, "rules", len(cfg.Rules), "kept_state", kept)
	}
	s.e, s.source, s.doc = e, source, meta
	s.mu.Unlock()
	if old != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := old.Close(cctx); err != nil {
			s.a.log.Warn("alert rules replaced: notifications of the previous rules were cut short", "error", err.Error())
		}
	}
	return nil
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

// PutRules implements v1.Alerts: the document is checked, stored and put
// in force; a document that does not parse changes nothing.
func (s *alerting) PutRules(ctx context.Context, doc string) error {
	if _, err := alert.ParseRules([]byte(doc)); err != nil {
		return err
	}
	meta := alert.RulesDocument{Document: doc, UpdatedAt: time.Now().UnixMilli(), UpdatedBy: audit.Actor(ctx)}
	if err := s.a.store.PutAlertRules(ctx, meta); err != nil {
		return err
	}
	if err := s.swap(ctx, []byte(doc), "api", meta); err != nil {
		return err
	}
	audit.Note(ctx, audit.Change{Action: "alert.set_rules", Resource: "alerts:/rules", After: audit.Digest(doc)})
	return nil
}

// DeleteRules implements v1.Alerts: the stored document is removed and
// the alert_rules file (if any) is in force again.
func (s *alerting) DeleteRules(ctx context.Context) error {
	if err := s.a.store.DeleteAlertRules(ctx); err != nil {
		return err
	}
	audit.Note(ctx, audit.Change{Action: "alert.delete_rules", Resource: "alerts:/rules"})
	if s.file == "" {
		s.mu.Lock()
		old := s.e
		s.e, s.source, s.doc = nil, "", alert.RulesDocument{}
		s.mu.Unlock()
		if old != nil {
			return old.Close(ctx)
		}
		return nil
	}
	b, err := os.ReadFile(s.file)
	if err != nil {
		return fmt.Errorf("alert_rules: %w", err)
	}
	return s.swap(ctx, b, "file", alert.RulesDocument{Document: string(b)})
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
	if err := s.a.store.PutSilence(ctx, sl); err != nil {
		return err
	}
	if e := s.engine(); e != nil {
		return e.AddSilence(sl)
	}
	return nil
}

// RemoveSilence implements v1.Alerts.
func (s *alerting) RemoveSilence(ctx context.Context, id string) error {
	if err := s.a.store.DeleteSilence(ctx, id); err != nil {
		return err
	}
	if e := s.engine(); e != nil {
		if err := e.RemoveSilence(id); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
			return err
		}
	}
	return nil
}
