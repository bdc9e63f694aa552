package middleware_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-ml/ferry/internal/api/middleware"
	"github.com/ferry-ml/ferry/internal/errdefs"
)

// tokenAuth authenticates "Bearer <name>:<level>" headers.
type tokenAuth struct{}

func (tokenAuth) Authenticate(_ context.Context, r *http.Request) (middleware.Principal, error) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return middleware.Principal{}, errdefs.Unauthenticated("missing credentials")
	}
	name, level, _ := strings.Cut(tok, ":")
	p := middleware.Principal{Name: name}
	switch level {
	case "read":
		p.Level = middleware.Read
	case "write":
		p.Level = middleware.Write
	case "admin":
		p.Level = middleware.Admin
	case "broken":
		return p, errors.New("token database unreachable")
	}
	return p, nil
}

type recordingAuditor struct {
	mu     sync.Mutex
	events []middleware.AuditEvent
}

func (a *recordingAuditor) Audit(_ context.Context, e middleware.AuditEvent) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, e)
	return nil
}

func (a *recordingAuditor) all() []middleware.AuditEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]middleware.AuditEvent(nil), a.events...)
}

type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type stack struct {
	handler http.Handler
	router  *middleware.Router
	audit   *recordingAuditor
	logs    *logBuffer
}

func newStack(t *testing.T, cfg middleware.RouterConfig) *stack {
	t.Helper()
	logs := &logBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	audit := &recordingAuditor{}
	cfg.Logger = logger
	if cfg.Auditor == nil {
		cfg.Auditor = audit
	}
	r := middleware.NewRouter(cfg)
	h := middleware.Chain(
		middleware.RequestIDs(),
		middleware.AccessLog(logger),
		middleware.Recover(logger, nil),
	)(r)
	return &stack{handler: h, router: r, audit: audit, logs: logs}
}

func (s *stack) do(t *testing.T, method, target string, body io.Reader, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, body)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	s.handler.ServeHTTP(w, req)
	return w
}

func errorCode(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct {
		Code    string `json:"error_code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("error body is not JSON: %q", w.Body.String())
	}
	if body.Message == "" {
		t.Errorf("error body without message: %s", w.Body.String())
	}
	return body.Code
}

func ok(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	_, _ = io.WriteString(w, "ok")
}

func TestRequestIDs(t *testing.T) {
	s := newStack(t, middleware.RouterConfig{})
	var seen string
	s.router.HandleFunc("GET /x", middleware.Read, func(w http.ResponseWriter, r *http.Request) {
		seen = middleware.RequestID(r.Context())
	})

	w := s.do(t, "GET", "/x", nil, "X-Request-Id", "abc-123_x.y:z")
	if got := w.Header().Get("X-Request-Id"); got != "abc-123_x.y:z" || seen != got {
		t.Errorf("incoming id: header %q, context %q", got, seen)
	}

	ids := map[string]bool{}
	for _, bad := range []string{"", "has space", "new\nline", strings.Repeat("a", 129), "<script>"} {
		w := s.do(t, "GET", "/x", nil, "X-Request-Id", bad)
		got := w.Header().Get("X-Request-Id")
		if got == bad || got == "" || seen != got {
			t.Errorf("bad incoming id %q: got header %q, context %q", bad, got, seen)
		}
		if ids[got] {
			t.Errorf("generated id %q twice", got)
		}
		ids[got] = true
	}
}

func TestAccessLog(t *testing.T) {
	s := newStack(t, middleware.RouterConfig{Authenticator: tokenAuth{}})
	s.router.HandleFunc("POST /items/{id}", middleware.Write, ok)
	w := s.do(t, "POST", "/items/7?token=s3cret", strings.NewReader(`{"password":"hunter2"}`),
		"Authorization", "Bearer alice:write", "X-Request-Id", "req-1")
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.logs.String()), "\n") {
		if strings.Contains(l, `"http request"`) {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string]any{
		"method": "POST", "path": "/items/7", "route": "POST /items/{id}", "status": float64(200),
		"bytes": float64(2), "request_id": "req-1", "principal": "alice",
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("log %s = %v, want %v", k, line[k], v)
		}
	}
	if _, ok := line["duration"]; !ok {
		t.Error("no duration in access log")
	}
	if logs := s.logs.String(); strings.Contains(logs, "hunter2") || strings.Contains(logs, "s3cret") ||
		strings.Contains(logs, "Bearer") {
		t.Errorf("secrets in the log: %s", logs)
	}
}

// A quiet route's successful requests are logged at debug level, its
// failures as usual.
func TestAccessLogQuiet(t *testing.T) {
	s := newStack(t, middleware.RouterConfig{})
	s.router.HandleFunc("POST /predict/{code}", middleware.Read, func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.PathValue("code"))
		w.WriteHeader(code)
	}, middleware.Quiet())
	s.router.HandleFunc("POST /loud", middleware.Read, ok)
	for _, tc := range []struct{ path, level string }{
		{"/predict/200", "DEBUG"}, {"/predict/400", "INFO"}, {"/predict/502", "WARN"}, {"/loud", "INFO"},
	} {
		s.logs.Reset()
		s.do(t, "POST", tc.path, strings.NewReader(`{}`))
		var line map[string]any
		if err := json.Unmarshal([]byte(strings.TrimSpace(s.logs.String())), &line); err != nil {
			t.Fatalf("%s: %v: %q", tc.path, err, s.logs.String())
		}
		if line["msg"] != "http request" || line["level"] != tc.level {
			t.Errorf("%s logged %v, want level %s", tc.path, line, tc.level)
		}
	}
}

func TestRecover(t *testing.T) {
	s := newStack(t, middleware.RouterConfig{})
	s.router.HandleFunc("GET /boom", middleware.Read, func(http.ResponseWriter, *http.Request) {
		panic("kaboom")
	})
	s.router.HandleFunc("GET /late", middleware.Read, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "partial")
		panic("late kaboom")
	})
	// A surface-specific error writer is used for its routes' panics.
	s.router.HandleFunc("GET /custom", middleware.Read, func(http.ResponseWriter, *http.Request) {
		panic(errors.New("custom kaboom"))
	}, middleware.Errors(func(w http.ResponseWriter, _ *http.Request, err error) {
		w.WriteHeader(599)
		_, _ = io.WriteString(w, "custom:"+err.Error())
	}))

	w := s.do(t, "GET", "/boom", nil)
	if w.Code != 500 || errorCode(t, w) != "INTERNAL_ERROR" {
		t.Errorf("panic answered %d %s", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), "kaboom") {
		t.Errorf("panic value leaked to the client: %s", w.Body)
	}
	logs := s.logs.String()
	if !strings.Contains(logs, `"level":"ERROR"`) || !strings.Contains(logs, "kaboom") ||
		!strings.Contains(logs, "middleware_test.go") {
		t.Errorf("panic not logged with stack: %s", logs)
	}

	w = s.do(t, "GET", "/late", nil)
	if w.Code != 200 || w.Body.String() != "partial" {
		t.Errorf("panic after writing: %d %q", w.Code, w.Body)
	}

	w = s.do(t, "GET", "/custom", nil)
	if w.Code != 599 || !strings.HasPrefix(w.Body.String(), "custom:panic") {
		t.Errorf("custom writer: %d %q", w.Code, w.Body)
	}
}

func TestRecoverOutsideRoutes(t *testing.T) {
	h := middleware.Chain(middleware.RequestIDs(), middleware.Recover(slog.New(slog.DiscardHandler), nil))(
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("bare") }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 500 || errorCode(t, w) != "INTERNAL_ERROR" {
		t.Errorf("got %d %s", w.Code, w.Body)
	}

	h = middleware.Recover(slog.New(slog.DiscardHandler), nil)(
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("ErrAbortHandler not passed through: %v", p)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

func TestPermissions(t *testing.T) {
	s := newStack(t, middleware.RouterConfig{Authenticator: tokenAuth{}})
	var principal middleware.Principal
	handler := func(w http.ResponseWriter, r *http.Request) {
		principal, _ = middleware.PrincipalFrom(r.Context())
		ok(w, r)
	}
	s.router.HandleFunc("GET /public", middleware.Public, handler)
	s.router.HandleFunc("GET /read", middleware.Read, handler)
	s.router.HandleFunc("POST /write", middleware.Write, handler)
	s.router.HandleFunc("POST /admin", middleware.Admin, handler)

	cases := []struct {
		method, path, token string
		status              int
		code                string
	}{
		{"GET", "/public", "", 200, ""},
		{"GET", "/read", "", 401, "UNAUTHENTICATED"},
		{"GET", "/read", "bob:read", 200, ""},
		{"POST", "/write", "bob:read", 403, "PERMISSION_DENIED"},
		{"POST", "/write", "carol:write", 200, ""},
		{"POST", "/admin", "carol:write", 403, "PERMISSION_DENIED"},
		{"POST", "/admin", "root:admin", 200, ""},
		{"GET", "/read", "x:broken", 500, "INTERNAL_ERROR"},
	}
	for _, c := range cases {
		var hdr []string
		if c.token != "" {
			hdr = []string{"Authorization", "Bearer " + c.token}
		}
		principal = middleware.Principal{}
		w := s.do(t, c.method, c.path, strings.NewReader("{}"), hdr...)
		if w.Code != c.status {
			t.Errorf("%s %s as %q: status %d, want %d (%s)", c.method, c.path, c.token, w.Code, c.status, w.Body)
			continue
		}
		if c.code != "" && errorCode(t, w) != c.code {
			t.Errorf("%s %s as %q: code %s, want %s", c.method, c.path, c.token, errorCode(t, w), c.code)
		}
		if c.status == 200 && c.token != "" && principal.Name != strings.Split(c.token, ":")[0] {
			t.Errorf("%s %s: handler saw principal %+v", c.method, c.path, principal)
		}
	}
	if strings.Contains(s.logs.String(), "Bearer") {
		t.Error("credentials in the log")
	}
}

func TestAnonymousAdminDefault(t *testing.T) {
	s := newStack(t, middleware.RouterConfig{})
	s.router.HandleFunc("POST /admin", middleware.Admin, func(w http.ResponseWriter, r *http.Request) {
		p, _ := middleware.PrincipalFrom(r.Context())
		_, _ = io.WriteString(w, p.Name)
	})
	w := s.do(t, "POST", "/admin", nil)
	if w.Code != 200 || w.Body.String() != "anonymous" {
		t.Errorf("got %d %q", w.Code, w.Body)
	}
}

func TestAudit(t *testing.T) {
	s := newStack(t, middleware.RouterConfig{Authenticator: tokenAuth{}})
	s.router.HandleFunc("GET /read", middleware.Read, ok)
	s.router.HandleFunc("POST /search", middleware.Read, ok)
	s.router.HandleFunc("POST /things/{id}", middleware.Write, ok)
	s.router.HandleFunc("POST /ignore-body", middleware.Write, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
	})
	s.router.HandleFunc("PUT /stream/{p...}", middleware.Write, func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 3)
		_, _ = io.ReadFull(r.Body, buf) // abandons the rest
	}, middleware.BodyLimit(-1))

	body := `{"name":"x"}`
	sum := sha256.Sum256([]byte(body))
	s.do(t, "GET", "/read", nil, "Authorization", "Bearer a:write")
	s.do(t, "POST", "/search", strings.NewReader(body), "Authorization", "Bearer a:write")
	if n := len(s.audit.all()); n != 0 {
		t.Fatalf("read routes audited: %d events", n)
	}

	s.do(t, "POST", "/things/1", strings.NewReader(body), "Authorization", "Bearer alice:write", "X-Request-Id", "r1")
	s.do(t, "POST", "/things/2", strings.NewReader(body), "Authorization", "Bearer bob:read")
	s.do(t, "POST", "/things/3", strings.NewReader(body))
	s.do(t, "POST", "/ignore-body", strings.NewReader(body), "Authorization", "Bearer alice:write")
	s.do(t, "PUT", "/stream/a/b", strings.NewReader("0123456789"), "Authorization", "Bearer alice:write")

	ev := s.audit.all()
	if len(ev) != 5 {
		t.Fatalf("got %d audit events, want 5: %+v", len(ev), ev)
	}
	want := []middleware.AuditEvent{
		{RequestID: "r1", Method: "POST", Route: "POST /things/{id}", Path: "/things/1", Principal: "alice", Status: 200,
			BodySHA256: hex.EncodeToString(sum[:]), BodyBytes: int64(len(body))},
		{Method: "POST", Route: "POST /things/{id}", Path: "/things/2", Principal: "bob", Status: 403,
			BodySHA256: hex.EncodeToString(sum[:]), BodyBytes: int64(len(body))},
		{Method: "POST", Route: "POST /things/{id}", Path: "/things/3", Principal: "", Status: 401,
			BodySHA256: hex.EncodeToString(sum[:]), BodyBytes: int64(len(body))},
		{Method: "POST", Route: "POST /ignore-body", Path: "/ignore-body", Principal: "alice", Status: 400,
			BodySHA256: hex.EncodeToString(sum[:]), BodyBytes: int64(len(body))},
		{Method: "PUT", Route: "PUT /stream/{p...}", Path: "/stream/a/b", Principal: "alice", Status: 200,
			BodySHA256: "", BodyBytes: 3},
	}
	for i, w := range want {
		got := ev[i]
		if w.RequestID != "" && got.RequestID != w.RequestID {
			t.Errorf("event %d: request id %q, want %q", i, got.RequestID, w.RequestID)
		}
		if got.RequestID == "" || got.Time.IsZero() || got.Remote == "" {
			t.Errorf("event %d lacks id/time/remote: %+v", i, got)
		}
		got.RequestID, got.Time, got.Remote = w.RequestID, w.Time, w.Remote
		if !reflect.DeepEqual(got, w) {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, got, w)
		}
	}
}

type failingAuditor struct{}

func (failingAuditor) Audit(context.Context, middleware.AuditEvent) error {
	return errors.New("audit disk full")
}

func TestAuditFailureIsLogged(t *testing.T) {
	s := newStack(t, middleware.RouterConfig{Auditor: failingAuditor{}})
	s.router.HandleFunc("POST /w", middleware.Write, ok)
	if w := s.do(t, "POST", "/w", strings.NewReader("{}")); w.Code != 200 {
		t.Errorf("status %d", w.Code)
	}
	if !strings.Contains(s.logs.String(), "audit disk full") {
		t.Error("audit failure not logged")
	}
}

func TestBodyLimits(t *testing.T) {
	s := newStack(t, middleware.RouterConfig{MaxBodyBytes: 16})
	read := func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			middleware.WriteJSONError(w, r, err)
			return
		}
		_, _ = w.Write(b)
	}
	s.router.HandleFunc("POST /default", middleware.Write, read)
	s.router.HandleFunc("POST /small", middleware.Write, read, middleware.BodyLimit(4))
	s.router.HandleFunc("POST /unlimited", middleware.Write, read, middleware.BodyLimit(-1))

	cases := []struct {
		path    string
		size    int
		chunked bool
		status  int
	}{
		{"/default", 16, false, 200},
		{"/default", 17, false, 413},
		{"/default", 17, true, 413},
		{"/small", 4, true, 200},
		{"/small", 5, false, 413},
		{"/small", 5, true, 413},
		{"/unlimited", 1 << 20, true, 200},
	}
	for _, c := range cases {
		var body io.Reader = strings.NewReader(strings.Repeat("x", c.size))
		if c.chunked {
			body = io.MultiReader(body) // hides the length: no Content-Length
		}
		w := s.do(t, "POST", c.path, body)
		if w.Code != c.status {
			t.Errorf("%s with %d bytes (chunked %v): status %d, want %d", c.path, c.size, c.chunked, w.Code, c.status)
		}
		if c.status == 413 && errorCode(t, w) != "INVALID_PARAMETER_VALUE" {
			t.Errorf("%s: code %s", c.path, errorCode(t, w))
		}
		if c.status == 200 && w.Body.Len() != c.size {
			t.Errorf("%s: echoed %d bytes", c.path, w.Body.Len())
		}
	}
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	s := newStack(t, middleware.RouterConfig{})
	s.router.HandleFunc("POST /api/2.0/mlflow/runs/create", middleware.Write, ok)
	s.router.HandleFunc("GET /api/2.0/mlflow/runs/get", middleware.Read, ok)
	s.router.HandleFunc("GET /", middleware.Public, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ui")
	})
	var nsCalls int
	s.router.Namespace("/api/2.0/", func(w http.ResponseWriter, r *http.Request, err error) {
		nsCalls++
		middleware.WriteJSONError(w, r, err)
	})

	w := s.do(t, "GET", "/api/2.0/mlflow/experiments/list", nil)
	if w.Code != 404 || errorCode(t, w) != "ENDPOINT_NOT_FOUND" || nsCalls != 1 {
		t.Errorf("unknown API path: %d %s (namespace writer calls %d)", w.Code, w.Body, nsCalls)
	}
	w = s.do(t, "GET", "/api/2.0/mlflow/runs/create", nil)
	if w.Code != 405 || w.Header().Get("Allow") != "POST" || errorCode(t, w) != "BAD_REQUEST" {
		t.Errorf("wrong method: %d allow=%q %s", w.Code, w.Header().Get("Allow"), w.Body)
	}
	w = s.do(t, "DELETE", "/api/2.0/mlflow/runs/get", nil)
	if w.Code != 405 || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("wrong method: %d allow=%q", w.Code, w.Header().Get("Allow"))
	}
	if w := s.do(t, "GET", "/some/page", nil); w.Code != 200 || w.Body.String() != "ui" {
		t.Errorf("catch-all outside namespaces: %d %q", w.Code, w.Body)
	}
	if w := s.do(t, "POST", "/some/page", nil); w.Code != 405 {
		t.Errorf("POST to the GET catch-all: %d", w.Code)
	}
	if w := s.do(t, "GET", "/api/2.0/mlflow/runs/get", nil); w.Code != 200 {
		t.Errorf("known route: %d", w.Code)
	}
}

func TestGroupOptions(t *testing.T) {
	s := newStack(t, middleware.RouterConfig{})
	custom := func(w http.ResponseWriter, _ *http.Request, err error) {
		w.WriteHeader(middleware.StatusOf(err))
		_, _ = io.WriteString(w, "group:"+err.Error())
	}
	g := s.router.Group(middleware.Errors(custom), middleware.BodyLimit(2))
	g.HandleFunc("POST /g", middleware.Write, ok)
	g.HandleFunc("POST /g/big", middleware.Write, ok, middleware.BodyLimit(10))
	if w := s.do(t, "POST", "/g", strings.NewReader("abc")); w.Code != 413 || !strings.HasPrefix(w.Body.String(), "group:") {
		t.Errorf("group limit: %d %q", w.Code, w.Body)
	}
	if w := s.do(t, "POST", "/g/big", strings.NewReader("abc")); w.Code != 200 {
		t.Errorf("route override: %d %q", w.Code, w.Body)
	}
}

func TestNonCanonicalPathsInNamespaces(t *testing.T) {
	s := newStack(t, middleware.RouterConfig{})
	s.router.HandleFunc("GET /api/2.0/files/{path...}", middleware.Read, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.PathValue("path"))
	})
	s.router.HandleFunc("GET /static/{path...}", middleware.Public, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.PathValue("path"))
	})
	s.router.Namespace("/api/2.0/", nil)
	for _, p := range []string{"/api/2.0/files/a/../../x", "/api/2.0/files/a//b", "/api/2.0/files/./a", "/api/2.0/files/a/%2e%2e/b"} {
		w := s.do(t, "GET", p, nil)
		if w.Code != 400 || errorCode(t, w) != "INVALID_PARAMETER_VALUE" {
			t.Errorf("%s: %d %s", p, w.Code, w.Body)
		}
	}
	if w := s.do(t, "GET", "/api/2.0/files/a/b/", nil); w.Code != 200 || w.Body.String() != "a/b/" {
		t.Errorf("trailing slash: %d %q", w.Code, w.Body)
	}
	// Outside namespaces ServeMux's usual redirect applies.
	if w := s.do(t, "GET", "/static/a/../b", nil); w.Code != http.StatusTemporaryRedirect && w.Code != http.StatusMovedPermanently {
		t.Errorf("outside namespace: %d", w.Code)
	}
}
