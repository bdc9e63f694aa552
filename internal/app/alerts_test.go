package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Silences through the API (Alertmanager's body) hold back a firing
// alert's notifications, survive a restart, and once expired let the
// next evaluation notify; bad silences get 400s naming the field.
func TestAlertSilencesAPI(t *testing.T) {
	s := startWithHook(t, `rules:
  - name: busy
    series: requests_per_second
    condition: "> 0"
    group_by: [endpoint]
    channels: [hook]
`)
	data := setupRolloutModels(t, s.srv, failingOIP(t).URL)
	mustOK(t, call(t, s.srv, "POST", "/api/v1/endpoints", map[string]any{"endpoint": "cancer", "model": "models:/cancer/1"}))
	traffic := func() {
		for i := range 5 {
			if st, _, _, _ := infer(t, s.srv.URL, "/v2/models/cancer/infer", data.row(i), nil); st != 200 {
				t.Fatalf("request %d: %d", i, st)
			}
		}
	}
	tick := func(at time.Time) {
		t.Helper()
		if err := s.app.MonitorTick(context.Background(), at); err != nil {
			t.Fatal(err)
		}
		if err := s.app.Alerts().Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		body any
		want string
	}{
		{map[string]any{"duration": "1h"}, "matchers"},
		{map[string]any{"matchers": []any{map[string]any{"name": "endpoint", "value": "c.*", "isRegex": true}}, "duration": "1h"}, "equality"},
		{map[string]any{"matchers": []any{map[string]any{"name": "endpoint", "value": "cancer"}}}, "endsAt"},
		{map[string]any{"matchers": []any{map[string]any{"name": "endpoint", "value": "cancer"}}, "duration": "soon"}, "duration"},
		{map[string]any{"matchers": []any{map[string]any{"name": "endpoint", "value": "cancer"}}, "endsAt": "2020-01-01T00:00:00Z"}, "already be over"},
		{map[string]any{"matchers": []any{map[string]any{"name": "endpoint", "value": "cancer"}}, "duration": "1h", "extra": 1}, "unknown field"},
	} {
		r := call(t, s.srv, "POST", "/api/v1/alerts/silences", tc.body)
		if r.status != 400 || !strings.Contains(fmt.Sprint(r.body), tc.want) {
			t.Errorf("silence %v: %d %v, want 400 about %s", tc.body, r.status, r.body, tc.want)
		}
	}
	id := mustOK(t, call(t, s.srv, "POST", "/api/v1/alerts/silences", map[string]any{
		"matchers": []any{map[string]any{"name": "endpoint", "value": "cancer"}}, "duration": "1h", "comment": "load test"}))["silenceID"].(string)

	traffic()
	tick(time.Now())
	a := mustOK(t, call(t, s.srv, "GET", "/api/v1/alerts", nil))["alerts"].([]any)
	if len(a) != 1 || a[0].(map[string]any)["state"] != "firing" || a[0].(map[string]any)["silenced"] != true || len(s.received()) != 0 {
		t.Fatalf("silenced alert: %v, %d webhook calls", a, len(s.received()))
	}
	// The silence outlives a restart.
	s.stop()
	s.start()
	sl := mustOK(t, call(t, s.srv, "GET", "/api/v1/alerts/silences", nil))["silences"].([]any)
	if len(sl) != 1 || sl[0].(map[string]any)["id"] != id || sl[0].(map[string]any)["state"] != "active" ||
		sl[0].(map[string]any)["comment"] != "load test" {
		t.Fatalf("silences after a restart: %v", sl)
	}
	traffic()
	tick(time.Now())
	if len(s.received()) != 0 {
		t.Fatalf("%d webhook calls under a silence", len(s.received()))
	}
	// Expiring it (Alertmanager's DELETE) ends it now; it stays listed.
	mustOK(t, call(t, s.srv, "DELETE", "/api/v1/alerts/silences/"+id, nil))
	mustOK(t, call(t, s.srv, "DELETE", "/api/v1/alerts/silences/"+id, nil)) // already expired: nothing to do
	if r := call(t, s.srv, "DELETE", "/api/v1/alerts/silences/nope", nil); r.status != 404 {
		t.Fatalf("unknown silence: %d", r.status)
	}
	if r := call(t, s.srv, "POST", "/api/v1/alerts/silences", map[string]any{"id": "nope",
		"matchers": []any{map[string]any{"name": "endpoint", "value": "cancer"}}, "duration": "1h"}); r.status != 404 {
		t.Fatalf("update of an unknown silence: %d", r.status)
	}
	sl = mustOK(t, call(t, s.srv, "GET", "/api/v1/alerts/silences", nil))["silences"].([]any)
	if len(sl) != 1 || sl[0].(map[string]any)["state"] != "expired" {
		t.Fatalf("silences after expiry: %v", sl)
	}
	traffic()
	tick(time.Now())
	if len(s.received()) != 1 {
		t.Fatalf("%d webhook calls once the silence is gone, want 1", len(s.received()))
	}
	rules2 := mustOK(t, call(t, s.srv, "GET", "/api/v1/alerts/rules", nil))["rules"].([]any)
	if len(rules2) != 1 || rules2[0].(map[string]any)["condition"] != "> 0" {
		t.Fatalf("rules: %v", rules2)
	}
	if r := call(t, s.srv, "GET", "/api/v1/alerts/history?kind=bogus", nil); r.status != 400 {
		t.Fatalf("bad kind: %d", r.status)
	}
}

// hookServer is a test server with alert rules whose `hook` channel is a
// real webhook listener recording the payloads it receives.
type hookServer struct {
	*testServer
	mu    sync.Mutex
	calls []map[string]any
}

// startWithHook starts a server in a new directory with the rules (YAML
// rules only: the hook channel is appended).
func startWithHook(t *testing.T, rules string) *hookServer {
	t.Helper()
	h := &hookServer{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p map[string]any
		_ = json.NewDecoder(r.Body).Decode(&p)
		h.mu.Lock()
		h.calls = append(h.calls, p)
		h.mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	dir := t.TempDir()
	file := filepath.Join(dir, "rules.yaml")
	doc := rules + fmt.Sprintf("channels:\n  - {name: hook, type: webhook, url: %q}\n", hook.URL)
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	h.testServer = &testServer{t: t, dir: dir, extraCfg: []string{"--alert-rules", file}}
	h.start()
	t.Cleanup(h.stop)
	return h
}

// received returns the payloads received so far.
func (h *hookServer) received() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any(nil), h.calls...)
}

// Rules set through the API are checked (errors name the line), in force
// at once without the alert_rules file, kept across restarts, and
// replacing them keeps the state of the unchanged rules: a firing alert
// does not notify again.
func TestAlertRulesAPI(t *testing.T) {
	var mu sync.Mutex
	var got []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p struct {
			GroupKey string `json:"groupKey"`
		}
		_ = json.NewDecoder(r.Body).Decode(&p)
		mu.Lock()
		got = append(got, p.GroupKey)
		mu.Unlock()
	}))
	defer hook.Close()
	received := func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), got...) }
	s := &testServer{t: t, dir: t.TempDir()}
	s.start()
	defer s.stop()
	r := mustOK(t, call(t, s.srv, "GET", "/api/v1/alerts/rules", nil))
	if r["source"] != "" || len(r["rules"].([]any)) != 0 {
		t.Fatalf("rules before any: %v", r)
	}
	put := func(doc string) reply {
		return callRaw(t, s.srv, "PUT", "/api/v1/alerts/rules", "application/yaml", doc)
	}
	if r := put("rules:\n  - name: a\n    series: s\n    condition: '=> 1'\n"); r.status != 400 || !strings.Contains(fmt.Sprint(r.body["message"]), "line 4") {
		t.Fatalf("bad document: %d %v", r.status, r.body)
	}
	doc := func(threshold string) string {
		return fmt.Sprintf(`rules:
  - {name: busy, series: requests_per_second, condition: "> 0", group_by: [endpoint], channels: [hook]}
  - {name: slow, series: latency_p99_ms, condition: "> %s", group_by: [endpoint], channels: [hook]}
channels:
  - {name: hook, type: webhook, url: %q}
`, threshold, hook.URL)
	}
	if r := put(doc("1000")); r.status != 200 || r.body["source"] != "api" || len(r.body["rules"].([]any)) != 2 {
		t.Fatalf("put: %d %v", r.status, r.body)
	}
	data := setupRolloutModels(t, s.srv, failingOIP(t).URL)
	mustOK(t, call(t, s.srv, "POST", "/api/v1/endpoints", map[string]any{"endpoint": "cancer", "model": "models:/cancer/1"}))
	tick := func() {
		t.Helper()
		for i := range 5 {
			if st, _, _, _ := infer(t, s.srv.URL, "/v2/models/cancer/infer", data.row(i), nil); st != 200 {
				t.Fatalf("request %d: %d", i, st)
			}
		}
		if err := s.app.MonitorTick(context.Background(), time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := s.app.Alerts().Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	tick()
	if g := received(); len(g) != 1 || !strings.HasPrefix(g[0], "busy:") {
		t.Fatalf("notifications: %v", g)
	}
	// Replace the rules: busy is unchanged and keeps firing silently.
	mustOK(t, call(t, s.srv, "GET", "/api/v1/alerts/rules", nil))
	if r := put(doc("2000")); r.status != 200 {
		t.Fatalf("replace: %d %v", r.status, r.body)
	}
	tick()
	if g := received(); len(g) != 1 {
		t.Fatalf("an unchanged firing rule notified again after the replacement: %v", g)
	}
	// Kept across a restart.
	s.stop()
	s.start()
	r = mustOK(t, call(t, s.srv, "GET", "/api/v1/alerts/rules", nil))
	if r["source"] != "api" || !strings.Contains(r["document"].(string), "> 2000") || r["updated_by"] == "" {
		t.Fatalf("rules after a restart: %v", r)
	}
	if aud := get(t, s.srv.URL+"/api/v1/audit/events?max_results=1000"); !strings.Contains(aud, `"action":"alert.set_rules"`) {
		t.Fatal("setting the rules is not in the audit trail")
	}
	r = mustOK(t, call(t, s.srv, "DELETE", "/api/v1/alerts/rules", nil))
	if r["source"] != "" || len(r["rules"].([]any)) != 0 || s.app.Alerts() != nil {
		t.Fatalf("after delete: %v", r)
	}
	if r := call(t, s.srv, "DELETE", "/api/v1/alerts/rules", nil); r.status != 404 {
		t.Fatalf("second delete: %d", r.status)
	}
}
