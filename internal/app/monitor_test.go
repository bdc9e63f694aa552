package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Each endpoint's requests per second, error rate and latency quantiles
// are recorded as monitored series.
func TestSystemSeries(t *testing.T) {
	s := &testServer{t: t, dir: t.TempDir()}
	s.start()
	defer s.stop()
	data := setupRolloutModels(t, s.srv, failingOIP(t).URL)
	mustOK(t, call(t, s.srv, "POST", "/api/v1/endpoints", map[string]any{"endpoint": "cancer", "model": "models:/cancer/1"}))
	for i := range 30 {
		if st, _, _, _ := infer(t, s.srv.URL, "/v2/models/cancer/infer", data.row(i), nil); st != 200 {
			t.Fatalf("request %d: %d", i, st)
		}
	}
	if err := s.app.MonitorTick(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	for series, check := range map[string]func(float64) bool{
		"requests_per_second": func(v float64) bool { return v > 0 },
		"error_rate":          func(v float64) bool { return v == 0 },
		"latency_p50_ms":      func(v float64) bool { return v > 0 },
		"latency_p99_ms":      func(v float64) bool { return v > 0 },
	} {
		pts := mustOK(t, call(t, s.srv, "GET", "/api/v1/monitor/series?series="+series+"&endpoint=cancer", nil))["points"].([]any)
		if len(pts) != 1 || !check(pts[0].(map[string]any)["value"].(float64)) {
			t.Errorf("%s: %v", series, pts)
		}
	}
	if r := call(t, s.srv, "GET", "/api/v1/monitor/series?series=requests_per_second&from=x", nil); r.status != 400 {
		t.Errorf("bad from: %d", r.status)
	}
	if r := call(t, s.srv, "GET", "/api/v1/monitor/series", nil); r.status != 400 {
		t.Errorf("no series: %d %v", r.status, fmt.Sprint(r.body))
	}
}

// Drift of live traffic against the endpoint's reference dataset is
// recorded as series, and an alert rule over them fires once per group
// to a real webhook listener.
func TestDriftAlert(t *testing.T) {
	var mu sync.Mutex
	var calls []map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p map[string]any
		_ = json.NewDecoder(r.Body).Decode(&p)
		mu.Lock()
		calls = append(calls, p)
		mu.Unlock()
	}))
	defer hook.Close()
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	_ = os.WriteFile(rules, []byte(fmt.Sprintf(`rules:
  - name: data-drift
    series: drift_share
    condition: ">= 0.5"
    severity: critical
    group_by: [endpoint]
    annotations: {summary: "{{ .Labels.endpoint }} drifted"}
    channels: [hook]
channels:
  - {name: hook, type: webhook, url: %q}
`, hook.URL)), 0o644)
	s := &testServer{t: t, dir: dir, extraCfg: []string{"--alert-rules", rules}}
	s.start()
	defer s.stop()
	data := setupRolloutModels(t, s.srv, failingOIP(t).URL)
	mustOK(t, call(t, s.srv, "POST", "/api/v1/endpoints", map[string]any{"endpoint": "cancer", "model": "models:/cancer/1"}))
	// The reference: the fixture's rows, named as the model's features.
	var b strings.Builder
	for j := range 30 {
		if j > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "f%d", j)
	}
	b.WriteString("\n")
	for i := range data.rows {
		for j, v := range data.row(i) {
			if j > 0 {
				b.WriteString(",")
			}
			b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		}
		b.WriteString("\n")
	}
	ref := filepath.Join(dir, "ref.csv")
	_ = os.WriteFile(ref, []byte(b.String()), 0o644)
	if code, out := runCLI(s.srv.URL, "data", "add", "cancer-ref", ref); code != 0 {
		t.Fatalf("data add: %s", out)
	}
	if r := call(t, s.srv, "PUT", "/api/v1/endpoints/cancer/reference", map[string]any{"dataset": "cancer-ref@1"}); r.status != 200 {
		t.Fatalf("reference: %d %v", r.status, r.body)
	}
	// Before any traffic: not enough data, no drift recorded, no alert.
	if err := s.app.MonitorTick(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	// Traffic three times larger in every feature.
	for i := range 120 {
		row := append([]float64(nil), data.row(i)...)
		for j := range row {
			row[j] *= 3
		}
		if st, _, _, _ := infer(t, s.srv.URL, "/v2/models/cancer/infer", row, nil); st != 200 {
			t.Fatalf("request %d: %d", i, st)
		}
	}
	until(t, "the prediction log to hold the traffic", nil, func() bool {
		p := mustOK(t, call(t, s.srv, "GET", "/api/v1/endpoints/cancer/predictions?max_results=1000", nil))["predictions"].([]any)
		return len(p) == 120
	})
	for range 2 { // a second tick does not notify again
		if err := s.app.MonitorTick(context.Background(), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.app.Alerts().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	pts := mustOK(t, call(t, s.srv, "GET", "/api/v1/monitor/series?series=drift_share&endpoint=cancer", nil))["points"].([]any)
	if len(pts) != 2 || pts[0].(map[string]any)["value"].(float64) < 0.5 {
		t.Fatalf("drift_share: %v", pts)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 1 || calls[0]["status"] != "firing" || !strings.Contains(fmt.Sprint(calls[0]["commonAnnotations"]), "cancer drifted") {
		t.Fatalf("webhook calls: %v", calls)
	}
}
