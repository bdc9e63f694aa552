package middleware

import (
	"context"
	"net/http"
	"time"

	"github.com/ferry-ml/ferry/internal/audit"
	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Permission is what a route requires of its caller. Levels are ordered:
// a principal holding a level holds every lower one.
type Permission uint8

// Permission levels.
const (
	// Public routes (health, version) skip authentication entirely.
	Public Permission = iota
	// Read allows reading tracking data, artifacts, models.
	Read
	// Write allows creating and changing them.
	Write
	// Admin allows administering the server (users, tokens, settings).
	Admin
)

func (p Permission) String() string {
	switch p {
	case Public:
		return "public"
	case Read:
		return "read"
	case Write:
		return "write"
	case Admin:
		return "admin"
	}
	return "unknown"
}

// Principal is an authenticated caller.
type Principal struct {
	// Name identifies the caller in logs and the audit trail.
	Name string
	// Level is the highest permission the caller holds server-wide.
	Level Permission
	// Roles are free-form role names for authorizers that need more than
	// Level (per-experiment or per-model rules).
	Roles []string
}

// Can reports whether p holds permission need server-wide.
func (p Principal) Can(need Permission) bool { return p.Level >= need }

// Authenticator establishes who sent a request. A request without valid
// credentials yields an error matching errdefs.ErrUnauthenticated; any
// other error is treated as a failure of the authenticator itself.
type Authenticator interface {
	Authenticate(ctx context.Context, r *http.Request) (Principal, error)
}

// AnonymousAdmin authenticates every request as the administrator
// "anonymous". It is the default, meant for a server listening on loopback
// only.
type AnonymousAdmin struct{}

// Authenticate implements Authenticator.
func (AnonymousAdmin) Authenticate(context.Context, *http.Request) (Principal, error) {
	return Principal{Name: "anonymous", Level: Admin}, nil
}

// Authorizer decides whether a principal may use a route that requires
// permission need. It returns nil to allow, or an error matching
// errdefs.ErrPermission to deny.
type Authorizer interface {
	Authorize(ctx context.Context, p Principal, need Permission, r *http.Request) error
}

// LevelAuthorizer allows a request when the principal's Level covers the
// route's permission. It is the default Authorizer.
type LevelAuthorizer struct{}

// Authorize implements Authorizer.
func (LevelAuthorizer) Authorize(_ context.Context, p Principal, need Permission, _ *http.Request) error {
	if p.Can(need) {
		return nil
	}
	return errdefs.Permission("Permission denied: '%s' needs %s permission.", p.Name, need)
}

// AuditEvent describes one completed request to a mutating route (a route
// that requires Write or Admin), whether it succeeded or not.
type AuditEvent struct {
	Time      time.Time // when the request arrived
	RequestID string
	Method    string
	Route     string // the registered pattern, e.g. "POST /api/2.0/mlflow/runs/create"
	Path      string // the request path
	Principal string // "" when authentication failed
	Remote    string // the client address as the server saw it
	Status    int
	// BodySHA256 is the hex SHA-256 of the complete request body, or ""
	// when the body was not read to its end (an early error, or a streamed
	// upload the handler abandoned).
	BodySHA256 string
	BodyBytes  int64
	// Changes are what the domain services noted (audit.Note) while
	// serving the request; empty when nothing changed.
	Changes []audit.Change
}

// Auditor records mutating requests. Audit runs after the response has
// been written; an error is logged, it cannot change the response.
type Auditor interface {
	Audit(ctx context.Context, e AuditEvent) error
}

// NopAuditor discards audit events. It is the default Auditor.
type NopAuditor struct{}

// Audit implements Auditor.
func (NopAuditor) Audit(context.Context, AuditEvent) error { return nil }
