package app

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/ferry-ml/ferry/internal/api/middleware"
	"github.com/ferry-ml/ferry/internal/audit"
	"github.com/ferry-ml/ferry/internal/config"
)

// openAudit opens the audit log: the signing key lives in the data
// directory (created on first start), as does the copy of the latest
// signed checkpoint that makes truncation of the log detectable.
func openAudit(cfg config.Config, store audit.Store, log *slog.Logger) (*audit.Log, error) {
	key, err := audit.LoadOrCreateKey(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	var trusted []ed25519.PublicKey
	for _, f := range cfg.AuditTrustedKeys {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("audit_trusted_keys: %w", err)
		}
		keys, err := audit.ParsePublicKeysPEM(b)
		if err != nil {
			return nil, fmt.Errorf("audit_trusted_keys %s: %w", f, err)
		}
		trusted = append(trusted, keys...)
	}
	return audit.New(store, key, audit.Options{
		TrustedKeys: trusted,
		HeadFile:    filepath.Join(cfg.DataDir, auditHeadFile),
		Logger:      log,
	})
}

// auditor turns the HTTP pipeline's record of a mutating request into
// audit events: one per change the services noted, or one for the request
// itself when nothing changed (a refused or failed request is recorded
// too).
type auditor struct {
	log *audit.Log
	// sync makes the request's writes durable when the append, whose
	// commit would have, fails (see sqlstore.Dialect.RelaxedSync).
	sync func(context.Context) error
}

func (a auditor) Audit(ctx context.Context, e middleware.AuditEvent) error {
	actor := e.Principal
	if actor == "" {
		actor = "unauthenticated"
	}
	base := audit.Event{Time: e.Time, Actor: actor, Action: e.Route, Resource: e.Path,
		RequestDigest: e.BodySHA256, Status: e.Status, RequestID: e.RequestID}
	err := a.log.Append(ctx, audit.RequestEvents(base, e.Changes)...)
	if err != nil {
		err = errors.Join(err, a.sync(ctx))
	}
	return err
}

// auditHeadFile is the name, in the data directory, of the copy of the
// audit log's latest signed checkpoint.
const auditHeadFile = "audit-head.txt"
