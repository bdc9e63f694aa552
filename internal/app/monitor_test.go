package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/drift"
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
	s := startWithHook(t, `rules:
  - name: data-drift
    series: drift_share
    condition: ">= 0.5"
    severity: critical
    group_by: [endpoint]
    annotations: {summary: "{{ .Labels.endpoint }} drifted"}
    channels: [hook]
`)
	dir := s.dir
	data := setupRolloutModels(t, s.srv, failingOIP(t).URL)
	mustOK(t, call(t, s.srv, "POST", "/api/v1/endpoints", map[string]any{"endpoint": "cancer", "model": "models:/cancer/1"}))
	// The reference: the fixture's rows, named as the model's features.
	ref := writeReference(t, dir, data)
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
	calls := s.received()
	if len(calls) != 1 || calls[0]["status"] != "firing" || !strings.Contains(fmt.Sprint(calls[0]["commonAnnotations"]), "cancer drifted") {
		t.Fatalf("webhook calls: %v", calls)
	}
	// /metrics exports the last tick's points and the alerts, for a team
	// that scrapes Ferry with its own Prometheus.
	metrics := get(t, s.srv.URL+"/metrics")
	last := pts[len(pts)-1].(map[string]any)["value"].(float64)
	for _, want := range []string{
		"ferry_monitor_drift_share{endpoint=\"cancer\"} " + strconv.FormatFloat(last, 'g', -1, 64),
		"ferry_monitor_dataset_drift{endpoint=\"cancer\"} 1",
		"ferry_monitor_requests_per_second{endpoint=\"cancer\"} ",
		"ferry_monitor_feature_drift{endpoint=\"cancer\",feature=\"f0\"} ",
		"ferry_alerts{rule=\"data-drift\",state=\"firing\"} 1",
	} {
		if !strings.Contains(metrics, "\n"+want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// The drift of the served model's predictions is recorded next to the
// features' (its reference predictions are the model's on the reference
// rows), and the drift report — API JSON and HTML, and `ferry monitor
// report` — describes the same window without recording anything.
func TestDriftReport(t *testing.T) {
	dir := t.TempDir()
	s := &testServer{t: t, dir: dir}
	s.start()
	defer s.stop()
	data := setupRolloutModels(t, s.srv, failingOIP(t).URL)
	mustOK(t, call(t, s.srv, "POST", "/api/v1/endpoints", map[string]any{"endpoint": "cancer", "model": "models:/cancer/1"}))
	// A second endpoint serving the same version answers the reference
	// rows, independently of the monitor, without touching cancer's log.
	mustOK(t, call(t, s.srv, "POST", "/api/v1/endpoints", map[string]any{"endpoint": "oracle", "model": "models:/cancer/1"}))
	ref := writeReference(t, dir, data)
	var refPred []float64
	for i := range data.rows {
		st, _, p, _ := infer(t, s.srv.URL, "/v2/models/oracle/infer", data.row(i), nil)
		if st != 200 {
			t.Fatalf("oracle row %d: %d", i, st)
		}
		refPred = append(refPred, p)
	}
	if code, out := runCLI(s.srv.URL, "data", "add", "cancer-ref", ref); code != 0 {
		t.Fatalf("data add: %s", out)
	}
	mustOK(t, call(t, s.srv, "PUT", "/api/v1/endpoints/cancer/reference", map[string]any{"dataset": "cancer-ref@1"}))
	// Without traffic: 409, not enough data; unknown endpoint: 404.
	if r := call(t, s.srv, "GET", "/api/v1/endpoints/cancer/monitor/report", nil); r.status != 409 || !strings.Contains(fmt.Sprint(r.body["message"]), "not enough data") {
		t.Fatalf("no traffic: %d %v", r.status, r.body)
	}
	if r := call(t, s.srv, "GET", "/api/v1/endpoints/nowhere/monitor/report", nil); r.status != 404 || r.body["error_code"] != "RESOURCE_DOES_NOT_EXIST" {
		t.Fatalf("unknown endpoint: %d %v", r.status, r.body)
	}
	// Traffic: every feature scaled by 3.
	var curPred []float64
	for i := range 120 {
		row := append([]float64(nil), data.row(i)...)
		for j := range row {
			row[j] *= 3
		}
		st, _, p, _ := infer(t, s.srv.URL, "/v2/models/cancer/infer", row, nil)
		if st != 200 {
			t.Fatalf("request %d: %d", i, st)
		}
		curPred = append(curPred, p)
	}
	until(t, "the prediction log to hold the traffic", nil, func() bool {
		p := mustOK(t, call(t, s.srv, "GET", "/api/v1/endpoints/cancer/predictions?max_results=1000", nil))["predictions"].([]any)
		return len(p) == 120
	})
	if err := s.app.MonitorTick(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	want, err := drift.Column(refPred, curPred, drift.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pts := mustOK(t, call(t, s.srv, "GET", "/api/v1/monitor/series?series=prediction_drift_score&endpoint=cancer", nil))["points"].([]any)
	if len(pts) != 1 {
		t.Fatalf("prediction_drift_score: %v", pts)
	}
	p := pts[0].(map[string]any)
	if got := p["value"].(float64); math.Abs(got-want.Score()) > 1e-12 || p["labels"].(map[string]any)["test"] != string(want.Test) {
		t.Fatalf("prediction_drift_score %v, want %v (%s)", p, want.Score(), want.Test)
	}
	pts = mustOK(t, call(t, s.srv, "GET", "/api/v1/monitor/series?series=prediction_drift&endpoint=cancer", nil))["points"].([]any)
	if len(pts) != 1 || pts[0].(map[string]any)["value"].(float64) != map[bool]float64{true: 1, false: 0}[want.Drifted] {
		t.Fatalf("prediction_drift: %v (want drifted %v)", pts, want.Drifted)
	}

	// The JSON report.
	rep := mustOK(t, call(t, s.srv, "GET", "/api/v1/endpoints/cancer/monitor/report", nil))
	if rep["endpoint"] != "cancer" || rep["current"].(map[string]any)["rows"].(float64) != 120 ||
		rep["reference"].(map[string]any)["rows"].(float64) != float64(data.rows) || len(rep["features"].([]any)) != 30 {
		t.Fatalf("report: %v", rep)
	}
	pred := rep["prediction"].(map[string]any)
	if pred["model"] != "cancer" || pred["version"].(float64) != 1 || pred["test"] != string(want.Test) ||
		math.Abs(pred["score"].(float64)-want.Score()) > 1e-12 || len(pred["over_time"].([]any)) != 1 {
		t.Fatalf("report prediction: %v", pred)
	}
	f0 := rep["features"].([]any)[0].(map[string]any)
	hist := f0["histogram"].(map[string]any)
	total := 0.0
	for _, c := range hist["current"].([]any) {
		total += c.(float64)
	}
	if f0["name"] != "f0" || len(hist["edges"].([]any)) != 21 || total != 120 || len(f0["over_time"].([]any)) != 1 {
		t.Fatalf("report feature: %v", f0)
	}
	// The report recorded nothing.
	pts = mustOK(t, call(t, s.srv, "GET", "/api/v1/monitor/series?series=drift_share&endpoint=cancer", nil))["points"].([]any)
	if len(pts) != 1 {
		t.Fatalf("drift_share after the report: %v", pts)
	}
	if r := call(t, s.srv, "GET", "/api/v1/endpoints/cancer/monitor/report?from=x", nil); r.status != 400 {
		t.Fatalf("bad from: %d", r.status)
	}
	// HTML.
	resp, err := http.Get(s.srv.URL + "/api/v1/endpoints/cancer/monitor/report?format=html")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(page), "Drift report: cancer") || strings.Contains(string(page), "<script") {
		t.Fatalf("html: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// The CLI writes both files.
	htmlPath, jsonPath := filepath.Join(dir, "r.html"), filepath.Join(dir, "r.json")
	if code, out := runCLI(s.srv.URL, "monitor", "report", "cancer", "--html", htmlPath, "--json", jsonPath); code != 0 {
		t.Fatalf("ferry monitor report: %s", out)
	}
	h, _ := os.ReadFile(htmlPath)
	j, _ := os.ReadFile(jsonPath)
	var doc map[string]any
	if err := json.Unmarshal(j, &doc); err != nil || doc["endpoint"] != "cancer" || !strings.Contains(string(h), "<svg") {
		t.Fatalf("files: %v %s", err, j)
	}
}

// writeReference writes the fixture's rows as dir/ref.csv, named as the
// model's features (f0 ... f29).
func writeReference(t *testing.T, dir string, data cancerRows) string {
	t.Helper()
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
	if err := os.WriteFile(ref, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return ref
}
