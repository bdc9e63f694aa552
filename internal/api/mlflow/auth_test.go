package mlflow_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-ml/ferry/internal/api/middleware"
	"github.com/ferry-ml/ferry/internal/errdefs"
)

// bearer authenticates "Bearer <name>:<read|write>".
type bearer struct{}

func (bearer) Authenticate(_ context.Context, r *http.Request) (middleware.Principal, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return middleware.Principal{}, errdefs.Unauthenticated("Authentication required")
	}
	name, level, _ := strings.Cut(tok, ":")
	p := middleware.Principal{Name: name, Level: middleware.Read}
	if level == "write" {
		p.Level = middleware.Write
	}
	return p, nil
}

type auditLog struct {
	mu sync.Mutex
	ev []middleware.AuditEvent
}

func (a *auditLog) Audit(_ context.Context, e middleware.AuditEvent) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ev = append(a.ev, e)
	return nil
}

// TestPermissionsAndAudit checks that every MLflow route declares a fitting
// permission and that writes reach the audit hook.
func TestPermissionsAndAudit(t *testing.T) {
	audit := &auditLog{}
	e := newEnvWith(t, middleware.RouterConfig{Authenticator: bearer{}, Auditor: audit})
	reader := []string{"Authorization", "Bearer rita:read"}
	writer := []string{"Authorization", "Bearer will:write"}

	if r := e.do("GET", "/health", nil); r.status != 200 {
		t.Errorf("health needs no credentials: %d", r.status)
	}
	r := e.do("GET", api+"experiments/get?experiment_id=0", nil)
	if r.status != 401 || r.errorCode(t) != "UNAUTHENTICATED" {
		t.Errorf("anonymous read: %d %s", r.status, r.body)
	}
	if r := e.do("GET", api+"experiments/get?experiment_id=0", nil, reader...); r.status != 200 {
		t.Errorf("reader read: %d %s", r.status, r.body)
	}
	if r := e.do("POST", api+"runs/search", map[string]any{"experiment_ids": []string{"0"}}, reader...); r.status != 200 {
		t.Errorf("reader search (a POST that reads): %d %s", r.status, r.body)
	}
	r = e.do("POST", api+"experiments/create", map[string]any{"name": "x"}, reader...)
	if r.status != 403 || r.errorCode(t) != "PERMISSION_DENIED" {
		t.Errorf("reader write: %d %s", r.status, r.body)
	}
	r = e.do("PUT", artifactsAPI+"/a.txt", "data", append(reader, "Content-Type", "text/plain")...)
	if r.status != 403 {
		t.Errorf("reader upload: %d %s", r.status, r.body)
	}
	body := `{"name":"audited"}`
	if r := e.do("POST", api+"experiments/create", body, writer...); r.status != 200 {
		t.Fatalf("writer write: %d %s", r.status, r.body)
	}

	audit.mu.Lock()
	defer audit.mu.Unlock()
	if len(audit.ev) != 3 {
		t.Fatalf("audit events: %+v", audit.ev)
	}
	last := audit.ev[2]
	if last.Route != "POST /api/2.0/mlflow/experiments/create" || last.Principal != "will" || last.Status != 200 ||
		last.BodySHA256 != fmt.Sprintf("%x", sha256.Sum256([]byte(body))) || last.BodyBytes != int64(len(body)) {
		t.Errorf("audit event %+v", last)
	}
	if audit.ev[0].Status != 403 || audit.ev[0].Principal != "rita" {
		t.Errorf("denied write not audited: %+v", audit.ev[0])
	}
}
