package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// An endpoint's drift settings: GET answers the defaults, PUT validates
// each field (400 naming it), and the tick and the report use the
// settings — PSI on request, with its threshold and drift share, over a
// time window.
func TestDriftSettingsAPI(t *testing.T) {
	dir := t.TempDir()
	s := &testServer{t: t, dir: dir}
	s.start()
	defer s.stop()
	data := setupRolloutModels(t, s.srv, failingOIP(t).URL)
	mustOK(t, call(t, s.srv, "POST", "/api/v1/endpoints", map[string]any{"endpoint": "cancer", "model": "models:/cancer/1"}))

	// Defaults, before any reference or settings.
	got := mustOK(t, call(t, s.srv, "GET", "/api/v1/endpoints/cancer/monitor", nil))["settings"].(map[string]any)
	want := map[string]any{"endpoint": "cancer", "stattest": "", "threshold": 0.0, "drift_share": 0.5, "window_rows": 1000.0, "window": ""}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("default settings %v, want %v", got, want)
	}
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"stattest": "mannw"}, "'stattest'"},
		{map[string]any{"stattest": "ks", "threshold": 3}, "'threshold'"},
		{map[string]any{"threshold": -0.1}, "'threshold'"},
		{map[string]any{"drift_share": 0}, ""}, // 0 is the default
		{map[string]any{"drift_share": 1.5}, "'drift_share'"},
		{map[string]any{"window_rows": 1_000_000}, "'window_rows'"},
		{map[string]any{"window": "soon"}, "'window'"},
		{map[string]any{"window": "-1h"}, "'window'"},
		{map[string]any{"window": "1h", "window_rows": 10}, "'window_rows'"},
		{map[string]any{"dataset": "cancer-ref@1"}, "dataset"}, // the reference has its own route
	} {
		r := call(t, s.srv, "PUT", "/api/v1/endpoints/cancer/monitor", tc.body)
		if tc.field == "" {
			if r.status != 200 {
				t.Errorf("%v: %d %v", tc.body, r.status, r.body)
			}
			continue
		}
		if r.status != 400 || r.body["error_code"] != "INVALID_PARAMETER_VALUE" || !strings.Contains(fmt.Sprint(r.body["message"]), tc.field) {
			t.Errorf("%v: %d %v, want 400 naming %s", tc.body, r.status, r.body, tc.field)
		}
	}
	if r := call(t, s.srv, "PUT", "/api/v1/endpoints/cancer/monitor", map[string]any{"stattest": "mannw"}); !strings.Contains(fmt.Sprint(r.body["message"]), "psi") {
		t.Errorf("an unknown test lists the valid ones: %v", r.body)
	}
	if r := call(t, s.srv, "PUT", "/api/v1/endpoints/bad%20name/monitor", map[string]any{}); r.status != 400 {
		t.Errorf("invalid endpoint name: %d %v", r.status, r.body)
	}

	// PSI with a tiny threshold over the last hour: every compared
	// feature drifts even on traffic from the reference's distribution.
	set := mustOK(t, call(t, s.srv, "PUT", "/api/v1/endpoints/cancer/monitor",
		map[string]any{"stattest": "psi", "threshold": 1e-9, "drift_share": 0.9, "window": "1h"}))["settings"].(map[string]any)
	want = map[string]any{"endpoint": "cancer", "stattest": "psi", "threshold": 1e-9, "drift_share": 0.9, "window_rows": 100000.0, "window": "1h0m0s"}
	if fmt.Sprint(set) != fmt.Sprint(want) {
		t.Fatalf("put answered %v, want %v", set, want)
	}
	got = mustOK(t, call(t, s.srv, "GET", "/api/v1/endpoints/cancer/monitor", nil))["settings"].(map[string]any)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("settings %v, want %v", got, want)
	}
	ref := writeReference(t, dir, data)
	if code, out := runCLI(s.srv.URL, "data", "add", "cancer-ref", ref); code != 0 {
		t.Fatalf("data add: %s", out)
	}
	mustOK(t, call(t, s.srv, "PUT", "/api/v1/endpoints/cancer/reference", map[string]any{"dataset": "cancer-ref@1"}))
	for i := range 60 {
		row := append([]float64(nil), data.row(i)...)
		for j := range row {
			row[j] *= 1.5
		}
		if st, _, _, _ := infer(t, s.srv.URL, "/v2/models/cancer/infer", row, nil); st != 200 {
			t.Fatalf("request %d: %d", i, st)
		}
	}
	until(t, "the prediction log to hold the traffic", nil, func() bool {
		p := mustOK(t, call(t, s.srv, "GET", "/api/v1/endpoints/cancer/predictions?max_results=1000", nil))["predictions"].([]any)
		return len(p) == 60
	})
	if err := s.app.MonitorTick(context.Background(), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	pts := mustOK(t, call(t, s.srv, "GET", "/api/v1/monitor/series?series=feature_drift_score&endpoint=cancer", nil))["points"].([]any)
	if len(pts) != 30 || pts[0].(map[string]any)["labels"].(map[string]any)["test"] != "psi" {
		t.Fatalf("feature_drift_score: %d points, first %v", len(pts), pts[0])
	}
	rep := mustOK(t, call(t, s.srv, "GET", "/api/v1/endpoints/cancer/monitor/report", nil))
	settings := rep["settings"].(map[string]any)
	if settings["stattest"] != "psi" || settings["window"] != "1h0m0s" || rep["drift_share_threshold"] != 0.9 ||
		rep["current"].(map[string]any)["rows"].(float64) != 60 || fmt.Sprint(rep["features_missing_in_reference"]) != "[]" {
		t.Fatalf("report: settings %v threshold %v current %v missing %v", settings, rep["drift_share_threshold"], rep["current"],
			rep["features_missing_in_reference"])
	}
	// An empty body restores the defaults.
	mustOK(t, call(t, s.srv, "PUT", "/api/v1/endpoints/cancer/monitor", nil))
	got = mustOK(t, call(t, s.srv, "GET", "/api/v1/endpoints/cancer/monitor", nil))["settings"].(map[string]any)
	if got["stattest"] != "" || got["window_rows"] != 1000.0 {
		t.Fatalf("after reset: %v", got)
	}
}
