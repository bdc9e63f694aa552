package app_test

import (
	"context"
	"fmt"
	"testing"
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
	if err := s.app.RecordSystemNow(context.Background()); err != nil {
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
