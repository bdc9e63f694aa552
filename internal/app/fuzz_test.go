package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/app"
	"github.com/ferry-ml/ferry/internal/config"
	"github.com/ferry-ml/ferry/internal/store/postgres/pgtest"
)

var v1Routes = []struct{ method, path string }{
	{"GET", "/api/v1/lineage"},
	{"GET", "/api/v1/models/{name}/versions/{v}"},
	{"GET", "/api/v1/models/{name}/versions/{v}/reviews"},
	{"POST", "/api/v1/models/{name}/versions/{v}/approve"},
	{"POST", "/api/v1/models/{name}/versions/{v}/reject"},
	{"GET", "/api/v1/models/{name}/versions/{v}/card"},
	{"GET", "/api/v1/models/{name}/policy"},
	{"PUT", "/api/v1/models/{name}/policy"},
	{"DELETE", "/api/v1/models/{name}/policy"},
	{"POST", "/api/v1/policy/check"},
	{"GET", "/api/v1/policy"},
	{"GET", "/api/v1/audit/events"},
	{"POST", "/api/v1/endpoints"},
	{"GET", "/api/v1/endpoints/{name}"},
	{"DELETE", "/api/v1/endpoints/{name}"},
	{"POST", "/v2/models/{name}/infer"},
	{"GET", "/v2/models/{name}/versions/{v}"},
	{"POST", "/endpoints/{name}/invocations"},
}

// FuzzV1 sends arbitrary names, versions, query strings and bodies to
// every /api/v1 route of the real server (SQLite; FERRY_TEST_STORE=postgres
// for Postgres): never a 5xx, and every error is {"error_code","message"}.
func FuzzV1(f *testing.F) {
	dir := f.TempDir()
	db := ""
	if os.Getenv("FERRY_TEST_STORE") == "postgres" {
		db = pgtest.Fresh(f)
	}
	policyFile := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policyFile, []byte(acceptancePolicy), 0o600); err != nil {
		f.Fatal(err)
	}
	cfg, err := config.Load(config.Source{Args: []string{"--data", dir, "--db", db, "--policy-file", policyFile, "--registry-self-approval=true"},
		Getenv: func(string) string { return "" }})
	if err != nil {
		f.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { a.Close() })
	h := a.Handler()
	do := func(method, path, ctype string, body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, bytes.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	w := do("POST", "/api/2.0/mlflow/runs/create", "application/json", []byte(`{"experiment_id":"0"}`))
	var run struct {
		Run struct {
			Info struct {
				RunID string `json:"run_id"`
			}
		}
	}
	_ = json.Unmarshal(w.Body.Bytes(), &run)
	id := run.Run.Info.RunID
	do("POST", "/api/2.0/mlflow/registered-models/create", "application/json", []byte(`{"name":"m"}`))
	do("POST", "/api/2.0/mlflow/model-versions/create", "application/json", []byte(`{"name":"m","source":"mlflow-artifacts:/0/`+id+`/artifacts/model","run_id":"`+id+`"}`))

	f.Add(uint8(0), "m", "1", "uri=models:/m/1&depth=3", []byte(`{}`))
	f.Add(uint8(3), "m", "@champion", "", []byte(`{"comment":"ok"}`))
	f.Add(uint8(5), "m", "latest", "format=html", []byte(``))
	f.Add(uint8(7), "m", "1", "", []byte("version: 1\ngates:\n  - name: g\n    when: {aliases: [a]}\n    require: {approvals: 1}\n"))
	f.Add(uint8(9), "m", "1", "", []byte(`{"uri":"models:/m/1","stage":"production"}`))
	f.Add(uint8(11), "m", "1", "resource=models:/m&limit=5&order=desc", []byte(``))
	f.Add(uint8(12), "m", "1", "", []byte(`{"endpoint":"m","model":"models:/m/1"}`))
	f.Add(uint8(15), "m", "1", "", []byte(`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP64","data":[1,2]}]}`))
	f.Add(uint8(17), "m", "1", "", []byte(`{"instances":[[1,2]]}`))
	f.Fuzz(func(t *testing.T, which uint8, name, version, rawQuery string, body []byte) {
		r := v1Routes[int(which)%len(v1Routes)]
		p := strings.NewReplacer("{name}", url.PathEscape(name), "{v}", url.PathEscape(version)).Replace(r.path)
		if _, err := url.ParseRequestURI(p); err != nil || name == "" || version == "" {
			return
		}
		if strings.ContainsAny(rawQuery, " #\x7f") || strings.ContainsFunc(rawQuery, func(c rune) bool { return c < 0x20 }) {
			rawQuery = url.QueryEscape(rawQuery)
		}
		ctype := "application/json"
		if r.method == "PUT" {
			ctype = "application/yaml"
		}
		w := do(r.method, p+"?"+rawQuery, ctype, body)
		if w.Code >= 500 {
			t.Fatalf("%s %s?%s %q: %d %s", r.method, p, rawQuery, body, w.Code, w.Body)
		}
		if w.Code >= 400 && w.Code != http.StatusUnsupportedMediaType {
			var e struct {
				Code    string `json:"error_code"`
				Message string `json:"message"`
				Error   string `json:"error"` // the Open Inference Protocol's form
			}
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || (e.Error == "" && (e.Code == "" || e.Message == "")) {
				t.Fatalf("%s %s: %d with body %q", r.method, p, w.Code, w.Body)
			}
		}
		if w.Code == http.StatusOK && r.method == "GET" && strings.HasSuffix(r.path, "/card") && w.Body.Len() == 0 {
			t.Fatalf("empty card")
		}
	})
}
