package mlflow_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-ml/ferry/internal/api/middleware"
	"github.com/ferry-ml/ferry/internal/api/mlflow"
	"github.com/ferry-ml/ferry/internal/blob/fs"
	"github.com/ferry-ml/ferry/internal/registry"
	"github.com/ferry-ml/ferry/internal/store/postgres"
	"github.com/ferry-ml/ferry/internal/store/postgres/pgtest"
	"github.com/ferry-ml/ferry/internal/store/sqlite"
	"github.com/ferry-ml/ferry/internal/store/sqlstore"
	"github.com/ferry-ml/ferry/internal/tracking"
)

// env is the real stack: SQLite store and filesystem artifacts in a temp
// directory, the tracking and registry services, the MLflow surface on a
// Router, and the global middlewares.
type env struct {
	t        testing.TB
	h        http.Handler
	svc      *tracking.Service
	reg      *registry.Service
	dir      string
	blobDir  string
	logs     *syncBuffer
	srv      *httptest.Server
	allow5xx bool
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWith(t, middleware.RouterConfig{})
}

// newEnvWith builds the stack with a custom router configuration
// (authenticator, auditor); the logger is always the env's.
func newEnvWith(t testing.TB, cfg middleware.RouterConfig) *env {
	t.Helper()
	if os.Getenv("FERRY_TEST_STORE") == "postgres" {
		// Fuzz against Postgres: go test -fuzz ... with FERRY_TEST_STORE=postgres.
		return newEnvOn(t, cfg, openPostgres)
	}
	return newEnvOn(t, cfg, openSQLite)
}

// openSQLite opens a fresh SQLite store in dir.
func openSQLite(t testing.TB, dir string) *sqlstore.Store {
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "ferry.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// openPostgres opens a store in a fresh schema of the test Postgres
// (FERRY_TEST_POSTGRES, default postgres://postgres@127.0.0.1:5432/test);
// the test skips without a server, except under CI.
func openPostgres(t testing.TB, _ string) *sqlstore.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), pgtest.Fresh(t), 8)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newEnvOn builds the stack over the store open returns.
func newEnvOn(t testing.TB, cfg middleware.RouterConfig, open func(testing.TB, string) *sqlstore.Store) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st := open(t, dir)
	blobDir := filepath.Join(dir, "artifacts")
	blobs, err := fs.New(blobDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	svc := tracking.NewService(st, blobs, tracking.Options{})
	if err := svc.Init(ctx); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	level := slog.LevelInfo
	if _, ok := t.(*testing.B); ok {
		level = slog.LevelError // benchmarks measure the pipeline, not the log sink
	}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: level}))
	cfg.Logger = logger
	r := middleware.NewRouter(cfg)
	reg := registry.NewService(st, svc, registry.Options{})
	mlflow.New(svc, blobs, mlflow.Options{Logger: logger, Version: "test-version", Registry: reg}).Register(r)
	h := middleware.Chain(
		middleware.RequestIDs(),
		middleware.AccessLog(logger),
		middleware.Recover(logger, nil),
	)(r)
	e := &env{t: t, h: h, svc: svc, reg: reg, dir: dir, blobDir: blobDir, logs: logs}
	t.Cleanup(func() {
		if e.srv != nil {
			e.srv.Close()
		}
		if !e.allow5xx && strings.Contains(logs.String(), `"level":"ERROR"`) {
			t.Errorf("unexpected ERROR logs:\n%s", logs)
		}
	})
	return e
}

// url starts (once) a real HTTP server on loopback and returns its base URL.
func (e *env) url() string {
	if e.srv == nil {
		e.srv = httptest.NewServer(e.h)
	}
	return e.srv.URL
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic value (numbers as json.Number).
func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var v map[string]any
	d := json.NewDecoder(bytes.NewReader(r.body))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("response is not a JSON object (%d): %q", r.status, r.body)
	}
	return v
}

func (r resp) errorCode(t testing.TB) string {
	t.Helper()
	v := r.json(t)
	code, _ := v["error_code"].(string)
	if msg, _ := v["message"].(string); msg == "" || code == "" {
		t.Errorf("error body lacks error_code or message: %s", r.body)
	}
	return code
}

func (r resp) message(t testing.TB) string {
	t.Helper()
	msg, _ := r.json(t)["message"].(string)
	return msg
}

// do sends a request through the handler; bodies of POST/PUT/PATCH are JSON.
func (e *env) do(method, target string, body any, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, target, rd)
	if body != nil && (method == "POST" || method == "PUT" || method == "PATCH") {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	res := resp{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
	if res.status >= 500 && !e.allow5xx && res.status != http.StatusNotImplemented && res.status != http.StatusServiceUnavailable {
		e.t.Errorf("%s %s answered %d: %s", method, target, res.status, res.body)
	}
	return res
}

// ok sends a request that must succeed and returns the decoded answer.
func (e *env) ok(method, target string, body any) map[string]any {
	e.t.Helper()
	r := e.do(method, target, body)
	if r.status != http.StatusOK {
		e.t.Fatalf("%s %s: status %d: %s", method, target, r.status, r.body)
	}
	return r.json(e.t)
}

// fail sends a request that must fail with status and error code.
func (e *env) fail(method, target string, body any, status int, code string) resp {
	e.t.Helper()
	r := e.do(method, target, body)
	if r.status != status {
		e.t.Errorf("%s %s: status %d, want %d: %s", method, target, r.status, status, r.body)
		return r
	}
	if got := r.errorCode(e.t); got != code {
		e.t.Errorf("%s %s: error_code %s, want %s: %s", method, target, got, code, r.body)
	}
	return r
}

const api = "/api/2.0/mlflow/"

func (e *env) createExperiment(name string) string {
	e.t.Helper()
	return e.ok("POST", api+"experiments/create", map[string]any{"name": name})["experiment_id"].(string)
}

func (e *env) createRun(expID string, extra map[string]any) map[string]any {
	e.t.Helper()
	body := map[string]any{"experiment_id": expID, "start_time": 1700000000000}
	for k, v := range extra {
		body[k] = v
	}
	return e.ok("POST", api+"runs/create", body)["run"].(map[string]any)
}

func runID(run map[string]any) string {
	return run["info"].(map[string]any)["run_id"].(string)
}

// get walks a decoded JSON value: get(v, "run", "info", "status").
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

// tagValue finds a {key, value} entry in a decoded tag list.
func tagValue(list any, key string) (string, bool) {
	items, _ := list.([]any)
	for _, it := range items {
		m := it.(map[string]any)
		if m["key"] == key {
			s, _ := m["value"].(string)
			return s, true
		}
	}
	return "", false
}
