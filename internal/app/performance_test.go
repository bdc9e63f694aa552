package app_test

import (
	"context"
	"math"
	"testing"
	"time"
)

// Ground truth sent through the feedback API after the predictions is
// measured per model version: the accuracy recorded as a series and
// answered by the performance route is the one computed from the sent
// truth. Feedback for an unknown request id, labels of the wrong type and
// a window without labels change nothing and raise no alert.
func TestPerformanceFeedback(t *testing.T) {
	s := startWithHook(t, `rules:
  - name: accuracy-drop
    series: accuracy
    condition: "< 0.7"
    severity: critical
    channels: [hook]
  - name: concept-drift
    series: concept_drift
    condition: "== 1"
    severity: warning
    channels: [hook]
`)
	ctx := context.Background()
	data := setupRolloutModels(t, s.srv, failingOIP(t).URL)
	mustOK(t, call(t, s.srv, "POST", "/api/v1/endpoints", map[string]any{"endpoint": "cancer", "model": "models:/cancer/1"}))

	// Before any traffic: known endpoint, nothing measured yet.
	if err := s.app.MonitorTick(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	perf := mustOK(t, call(t, s.srv, "GET", "/api/v1/endpoints/cancer/performance", nil))
	if perf["state"] != "not_enough_data" || len(perf["versions"].([]any)) != 0 {
		t.Fatalf("before traffic: %v", perf)
	}
	if r := call(t, s.srv, "GET", "/api/v1/endpoints/nope/performance", nil); r.status != 404 {
		t.Fatalf("unknown endpoint: %d %v", r.status, r.body)
	}

	const n = 64
	ids := make([]string, n)
	probas := make([]float64, n)
	for i := range n {
		st, _, p, id := infer(t, s.srv.URL, "/v2/models/cancer/infer", data.row(i), nil)
		if st != 200 || id == "" {
			t.Fatalf("request %d: %d %q", i, st, id)
		}
		ids[i], probas[i] = id, p
	}
	until(t, "the prediction log to hold the traffic", nil, func() bool {
		p := mustOK(t, call(t, s.srv, "GET", "/api/v1/endpoints/cancer/predictions?max_results=1000", nil))["predictions"].([]any)
		return len(p) == n
	})
	// Traffic without labels: no metric, an explicit state.
	if err := s.app.MonitorTick(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if pts := perfSeries(t, s.testServer, "accuracy"); len(pts) != 0 {
		t.Fatalf("accuracy without labels: %v", pts)
	}
	v := perfVersion(t, s.testServer)
	if v["state"] != "not_enough_data" || v["reason"] == "" || v["labelled_rows"].(float64) != 0 || v["rows"].(float64) != n {
		t.Fatalf("without labels: %v", v)
	}

	// Truth for the first 40 requests: the predicted class, wrong for
	// every fourth.
	var feedback []map[string]any
	correct := 0
	for i := range 40 {
		class := 0.0
		if probas[i] >= 0.5 {
			class = 1
		}
		truth := class
		if i%4 == 0 {
			truth = 1 - class
		} else {
			correct++
		}
		feedback = append(feedback, map[string]any{"request_id": ids[i], "ground_truth": truth})
	}
	want := float64(correct) / 40
	// Labels of the wrong type for four more, which would pull the
	// accuracy under the alert's threshold if they were counted as wrong.
	for i, truth := range []any{0.5, 3, -1, []float64{1, 0}} {
		feedback = append(feedback, map[string]any{"request_id": ids[40+i], "ground_truth": truth})
	}
	// An unknown request id is kept (the log may be sampled) and changes
	// nothing.
	feedback = append(feedback, map[string]any{"request_id": "no-such-request", "ground_truth": 0})
	mustOK(t, call(t, s.srv, "POST", "/api/v1/endpoints/cancer/feedback", map[string]any{"feedback": feedback}))
	// A label that is not a number is refused with a clear error.
	if r := call(t, s.srv, "POST", "/api/v1/endpoints/cancer/feedback", map[string]any{"request_id": ids[50], "ground_truth": "yes"}); r.status != 400 {
		t.Fatalf("string label: %d %v", r.status, r.body)
	}

	for range 2 {
		if err := s.app.MonitorTick(ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.app.Alerts().Flush(ctx); err != nil {
		t.Fatal(err)
	}
	pts := perfSeries(t, s.testServer, "accuracy")
	if len(pts) != 2 {
		t.Fatalf("accuracy: %v", pts)
	}
	for _, p := range pts {
		pt := p.(map[string]any)
		labels := pt["labels"].(map[string]any)
		if math.Abs(pt["value"].(float64)-want) > 1e-12 || labels["endpoint"] != "cancer" || labels["version"] != "1" || labels["model"] != "cancer" {
			t.Fatalf("accuracy point %v, want %v", pt, want)
		}
	}
	for name, want := range map[string]float64{"labelled_rows": 40, "invalid_labels": 4} {
		pts := perfSeries(t, s.testServer, name)
		if len(pts) == 0 || pts[len(pts)-1].(map[string]any)["value"].(float64) != want {
			t.Errorf("%s: %v, want %v", name, pts, want)
		}
	}
	for _, name := range []string{"roc_auc", "f1", "log_loss"} {
		if len(perfSeries(t, s.testServer, name)) != 2 {
			t.Errorf("%s: %v", name, perfSeries(t, s.testServer, name))
		}
	}
	if pts := perfSeries(t, s.testServer, "concept_drift"); len(pts) != 6 {
		t.Errorf("concept_drift: %v", pts)
	} else {
		for _, p := range pts {
			if p.(map[string]any)["value"].(float64) != 0 {
				t.Errorf("concept drift on a steady error rate: %v", p)
			}
		}
	}

	perf = mustOK(t, call(t, s.srv, "GET", "/api/v1/endpoints/cancer/performance", nil))
	v = perfVersion(t, s.testServer)
	metrics := v["metrics"].(map[string]any)
	if perf["state"] != "ok" || v["state"] != "ok" || v["task"] != "binary" || math.Abs(metrics["accuracy"].(float64)-want) > 1e-12 ||
		v["labelled_rows"].(float64) != 40 || v["invalid_labels"].(float64) != 4 || v["invalid_reason"] == "" {
		t.Fatalf("performance: %v", perf)
	}
	if dets := v["detectors"].([]any); len(dets) != 3 {
		t.Errorf("detectors: %v", dets)
	}
	// 40 labelled rows are too few to calibrate CBPE on: said, not guessed.
	if est := v["estimated"].(map[string]any); est["state"] != "not_enough_data" || est["rows"].(float64) != n-44 {
		t.Errorf("estimate: %v", est)
	}
	if len(perfSeries(t, s.testServer, "estimated_accuracy")) != 0 {
		t.Errorf("estimated_accuracy recorded without enough labelled rows")
	}
	calls := s.received()
	if len(calls) != 0 {
		t.Fatalf("false alarm: %v", calls)
	}
}

func perfSeries(t *testing.T, s *testServer, name string) []any {
	t.Helper()
	return mustOK(t, call(t, s.srv, "GET", "/api/v1/monitor/series?series="+name+"&endpoint=cancer", nil))["points"].([]any)
}

// perfVersion is the one version of the cancer endpoint's performance.
func perfVersion(t *testing.T, s *testServer) map[string]any {
	t.Helper()
	perf := mustOK(t, call(t, s.srv, "GET", "/api/v1/endpoints/cancer/performance", nil))
	vs := perf["versions"].([]any)
	if len(vs) != 1 {
		t.Fatalf("versions: %v", perf)
	}
	return vs[0].(map[string]any)
}
