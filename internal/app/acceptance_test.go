package app_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/ferry-ml/ferry/internal/app"
	"github.com/ferry-ml/ferry/internal/cli"
	"github.com/ferry-ml/ferry/internal/config"
	"github.com/ferry-ml/ferry/internal/store/postgres/pgtest"
)

// The acceptance flow, on both stores, over HTTP with the requests
// MLflow's Python client sends (RestStore: endpoint, method and body as
// in MLflow's tests/store/model_registry/test_rest_store.py): create a
// model, register versions from runs, try to set alias production — a
// version below the policy's threshold is refused with the failed rule, a
// passing and approved one gets it — the model card renders in three
// formats, `ferry audit verify` passes, and after a row of the audit log
// is edited by hand in the database it fails naming that entry.

const acceptancePolicy = `version: 1
gates:
  - name: production-readiness
    when:
      aliases: [production]
      stages: [Production]
    require:
      metrics:
        - metrics.auc >= 0.85
      approvals: 1
`

type engine struct {
	name string
	// unguard drops the triggers that refuse UPDATE and DELETE on the
	// audit tables, as an attacker with DDL rights would.
	unguard []string
	// setup returns the database setting ("" = SQLite in the data
	// directory) and a function that opens the same database raw.
	setup func(t *testing.T, dataDir string) (db string, raw func() (*sql.DB, error))
}

func engines(t *testing.T) []engine {
	return []engine{
		{"sqlite", []string{`DROP TRIGGER audit_events_no_update`}, func(t *testing.T, dataDir string) (string, func() (*sql.DB, error)) {
			return "", func() (*sql.DB, error) { return sql.Open("sqlite", filepath.Join(dataDir, "ferry.db")) }
		}},
		{"postgres", []string{`DROP TRIGGER audit_events_append_only ON audit_events`}, func(t *testing.T, _ string) (string, func() (*sql.DB, error)) {
			dsn := pgtest.Fresh(t)
			return dsn, func() (*sql.DB, error) { return sql.Open("pgx", dsn) }
		}},
	}
}

func startServer(t *testing.T, dataDir, db string, selfApproval bool) *httptest.Server {
	t.Helper()
	return startServerWith(t, dataDir, db, selfApproval, acceptancePolicy)
}

func startServerWith(t *testing.T, dataDir, db string, selfApproval bool, policyText string) *httptest.Server {
	t.Helper()
	policyFile := filepath.Join(dataDir, "policy.yaml")
	if err := os.WriteFile(policyFile, []byte(policyText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.Source{Args: []string{"--data", dataDir, "--db", db, "--policy-file", policyFile,
		fmt.Sprintf("--registry-self-approval=%v", selfApproval)}, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	return srv
}

// reply is a decoded JSON answer.
type reply struct {
	status int
	body   map[string]any
}

// call sends a JSON request and decodes the JSON answer into a map.
func call(t *testing.T, srv *httptest.Server, method, path string, body any) reply {
	t.Helper()
	if body == nil {
		return callRaw(t, srv, method, path, "", "")
	}
	b, _ := json.Marshal(body)
	return callRaw(t, srv, method, path, "application/json", string(b))
}

// callRaw sends body with the content type (none when empty) and decodes
// the JSON answer into a map.
func callRaw(t *testing.T, srv *httptest.Server, method, path, contentType, body string) reply {
	t.Helper()
	var rd io.Reader
	if contentType != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, srv.URL+path, rd)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: status %d, body %q is not JSON", method, path, resp.StatusCode, raw)
	}
	return reply{resp.StatusCode, out}
}

func unpack(r reply) (int, map[string]any) { return r.status, r.body }

func mustOK(t *testing.T, r reply) map[string]any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %v", r.status, r.body)
	}
	return r.body
}

// newRun creates a run in the Default experiment that logged auc.
func newRun(t *testing.T, srv *httptest.Server, auc float64) string {
	t.Helper()
	body := mustOK(t, call(t, srv, "POST", "/api/2.0/mlflow/runs/create", map[string]any{"experiment_id": "0", "start_time": 1700000000000}))
	id := body["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
	mustOK(t, call(t, srv, "POST", "/api/2.0/mlflow/runs/log-metric",
		map[string]any{"run_id": id, "run_uuid": id, "key": "auc", "value": auc, "timestamp": 1700000001000, "step": 0}))
	mustOK(t, call(t, srv, "POST", "/api/2.0/mlflow/runs/log-inputs", map[string]any{"run_id": id, "datasets": []any{
		map[string]any{"tags": []any{map[string]any{"key": "mlflow.data.context", "value": "training"}},
			"dataset": map[string]any{"name": "transactions", "digest": "d41d8cd9", "source_type": "local", "source": "file:///data/tx.csv"}}}}))
	return id
}

func TestAcceptanceRegistryGatesAuditCard(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			dataDir := t.TempDir()
			db, raw := e.setup(t, dataDir)
			srv := startServer(t, dataDir, db, true)

			weak, strong := newRun(t, srv, 0.80), newRun(t, srv, 0.91)
			mustOK(t, call(t, srv, "POST", "/api/2.0/mlflow/registered-models/create", map[string]any{"name": "fraud"}))
			for _, run := range []string{weak, strong} {
				mustOK(t, call(t, srv, "POST", "/api/2.0/mlflow/model-versions/create", map[string]any{
					"name": "fraud", "source": "mlflow-artifacts:/0/" + run + "/artifacts/model", "run_id": run}))
			}

			// Version 1 is below the threshold and unapproved: refused, with
			// each failed rule named.
			status, body := unpack(call(t, srv, "POST", "/api/2.0/mlflow/registered-models/alias",
				map[string]any{"name": "fraud", "alias": "production", "version": "1"}))
			msg, _ := body["message"].(string)
			if status != http.StatusForbidden || body["error_code"] != "PERMISSION_DENIED" ||
				!strings.Contains(msg, "metrics.auc >= 0.85") || !strings.Contains(msg, "auc = 0.8") || !strings.Contains(msg, "approvals") {
				t.Fatalf("weak version: %d %v", status, body)
			}
			// The stage path is gated too.
			status, body = unpack(call(t, srv, "POST", "/api/2.0/mlflow/model-versions/transition-stage",
				map[string]any{"name": "fraud", "version": "1", "stage": "production", "archive_existing_versions": false}))
			if status != http.StatusForbidden || !strings.Contains(body["message"].(string), "metrics.auc >= 0.85") {
				t.Fatalf("stage move of weak version: %d %v", status, body)
			}

			// Version 2 passes the threshold but is not approved yet.
			status, body = unpack(call(t, srv, "POST", "/api/2.0/mlflow/registered-models/alias",
				map[string]any{"name": "fraud", "alias": "production", "version": "2"}))
			msg, _ = body["message"].(string)
			if status != http.StatusForbidden || strings.Contains(msg, "metrics.auc") || !strings.Contains(msg, "approvals") {
				t.Fatalf("unapproved version: %d %v", status, body)
			}
			// What-if without changing anything.
			check := mustOK(t, call(t, srv, "POST", "/api/v1/policy/check", map[string]any{"uri": "models:/fraud/2", "alias": "production"}))
			if check["allowed"] != false || !strings.Contains(check["explanation"].(string), "approvals") {
				t.Fatalf("policy check: %v", check)
			}

			approved := mustOK(t, call(t, srv, "POST", "/api/v1/models/fraud/versions/2/approve", map[string]any{"comment": "reviewed slices"}))
			if st := approved["model_version"].(map[string]any)["approval"].(map[string]any)["status"]; st != "approved" {
				t.Fatalf("approval: %v", approved)
			}
			mustOK(t, call(t, srv, "POST", "/api/2.0/mlflow/registered-models/alias",
				map[string]any{"name": "fraud", "alias": "production", "version": "2"}))
			got := mustOK(t, call(t, srv, "GET", "/api/2.0/mlflow/registered-models/alias?name=fraud&alias=production", nil))
			if v := got["model_version"].(map[string]any)["version"]; v != "2" {
				t.Fatalf("production points at %v", v)
			}

			// Lineage: dataset → run → version.
			lin := mustOK(t, call(t, srv, "GET", "/api/v1/lineage?uri="+url.QueryEscape("models:/fraud@production"), nil))
			up, _ := json.Marshal(lin["upstream"])
			if !strings.Contains(string(up), "runs:/"+strong) || !strings.Contains(string(up), "datasets:/transactions@d41d8cd9") {
				t.Fatalf("lineage upstream: %s", up)
			}

			// The card in all three formats.
			for _, f := range []struct{ format, ctype, want string }{
				{"json", "application/json", `"model_details"`},
				{"md", "text/markdown", "# Model card: fraud, version 2"},
				{"html", "text/html", "<html"},
			} {
				resp, err := http.Get(srv.URL + "/api/v1/models/fraud/versions/2/card?format=" + f.format)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				card := string(b)
				if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), f.ctype) || !strings.Contains(card, f.want) ||
					!strings.Contains(card, "0.91") || !strings.Contains(card, "reviewed slices") || !strings.Contains(card, "d41d8cd9") {
					t.Fatalf("card %s: %d %s\n%s", f.format, resp.StatusCode, resp.Header.Get("Content-Type"), card)
				}
			}

			// The audit trail verifies, through the CLI as a user runs it.
			if code, out := runCLI(srv.URL, "audit", "verify"); code != 0 {
				t.Fatalf("audit verify on an untouched log: exit %d\n%s", code, out)
			}
			events := mustOK(t, call(t, srv, "GET", "/api/v1/audit/events?resource="+url.QueryEscape("models:/fraud"), nil))["events"].([]any)
			var aliasSeq int64
			refused := 0
			for _, ev := range events {
				m := ev.(map[string]any)
				if m["action"] == "registry.set_alias" && m["status"] == float64(200) {
					aliasSeq = int64(m["seq"].(float64))
				}
				if m["action"] == "registry.set_alias" && m["status"] == float64(403) && m["before"] == m["after"] {
					refused++
				}
			}
			if refused != 2 {
				t.Fatalf("refused alias moves audited under models:/fraud: %d, want 2", refused)
			}
			if aliasSeq == 0 {
				t.Fatalf("no audit event for the alias move among %v", events)
			}

			// A row edited by hand in the database is detected, by number.
			db2, err := raw()
			if err != nil {
				t.Fatal(err)
			}
			defer db2.Close()
			q := `UPDATE audit_events SET actor = 'mallory' WHERE seq = ` + fmt.Sprint(aliasSeq)
			if _, err := db2.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Fatalf("an UPDATE of the audit log was not refused by its guard: %v", err)
			}
			for _, stmt := range e.unguard {
				if _, err := db2.Exec(stmt); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db2.Exec(q); err != nil {
				t.Fatal(err)
			}
			code, out := runCLI(srv.URL, "audit", "verify")
			if code != 1 || !strings.Contains(out, fmt.Sprintf("entry %d", aliasSeq)) {
				t.Fatalf("audit verify after editing entry %d: exit %d\n%s", aliasSeq, code, out)
			}
		})
	}
}

// TestSelfApprovalRefused: by default the author of a version may not
// approve it; on loopback everyone is "anonymous", so approving needs
// registry_self_approval (the dev preset sets it) until tokens exist.
func TestSelfApprovalRefused(t *testing.T) {
	dataDir := t.TempDir()
	srv := startServer(t, dataDir, "", false)
	run := newRun(t, srv, 0.9)
	mustOK(t, call(t, srv, "POST", "/api/2.0/mlflow/registered-models/create", map[string]any{"name": "m"}))
	mustOK(t, call(t, srv, "POST", "/api/2.0/mlflow/model-versions/create", map[string]any{
		"name": "m", "source": "mlflow-artifacts:/0/" + run + "/artifacts/model", "run_id": run}))
	status, body := unpack(call(t, srv, "POST", "/api/v1/models/m/versions/1/approve", map[string]any{}))
	if status != http.StatusForbidden || !strings.Contains(body["message"].(string), "self-approval is disabled") {
		t.Fatalf("self-approval: %d %v", status, body)
	}
}

// TestAliasRace: two clients set production at once, to two versions
// that both pass the gate; both requests are answered, the alias ends on
// one of them, and both moves are in the audit trail, chained in order.
func TestAliasRace(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			dataDir := t.TempDir()
			db, _ := e.setup(t, dataDir)
			srv := startServer(t, dataDir, db, true)
			run := newRun(t, srv, 0.95)
			mustOK(t, call(t, srv, "POST", "/api/2.0/mlflow/registered-models/create", map[string]any{"name": "race"}))
			for v := 1; v <= 2; v++ {
				mustOK(t, call(t, srv, "POST", "/api/2.0/mlflow/model-versions/create", map[string]any{
					"name": "race", "source": "mlflow-artifacts:/0/" + run + "/artifacts/model", "run_id": run}))
				mustOK(t, call(t, srv, "POST", fmt.Sprintf("/api/v1/models/race/versions/%d/approve", v), map[string]any{}))
			}
			var wg sync.WaitGroup
			statuses := make([]int, 2)
			for i := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					statuses[i] = (call(t, srv, "POST", "/api/2.0/mlflow/registered-models/alias",
						map[string]any{"name": "race", "alias": "production", "version": fmt.Sprint(i + 1)}).status)
				}()
			}
			wg.Wait()
			if statuses[0] != 200 || statuses[1] != 200 {
				t.Fatalf("statuses %v", statuses)
			}
			events := mustOK(t, call(t, srv, "GET", "/api/v1/audit/events?resource="+url.QueryEscape("models:/race"), nil))["events"].([]any)
			var moves []map[string]any
			for _, ev := range events {
				if m := ev.(map[string]any); m["action"] == "registry.set_alias" {
					moves = append(moves, m)
				}
			}
			if len(moves) != 2 {
				t.Fatalf("alias moves audited: %d", len(moves))
			}
			// Serialised: the second move started from the state the first
			// one left.
			if moves[1]["before"] != moves[0]["after"] {
				t.Fatalf("audited moves do not chain: %v then %v", moves[0], moves[1])
			}
			final := mustOK(t, call(t, srv, "GET", "/api/2.0/mlflow/registered-models/alias?name=race&alias=production", nil))
			if v := final["model_version"].(map[string]any)["version"]; v != "1" && v != "2" {
				t.Fatalf("production points at %v", v)
			}
			if code, out := runCLI(srv.URL, "audit", "verify"); code != 0 {
				t.Fatalf("audit verify: exit %d\n%s", code, out)
			}
		})
	}
}

func runCLI(server string, args ...string) (int, string) {
	var out bytes.Buffer
	code := cli.Main(context.Background(), append(args, "--server", server), &out, &out, func(string) string { return "" })
	return code, out.String()
}
