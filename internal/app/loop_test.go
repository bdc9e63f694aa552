package app_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rescale writes the example's data as a new instrument would measure it:
// every feature 1.5 times larger, the diagnoses unchanged. It returns the
// feature names and rows for traffic.
func rescale(t *testing.T, src, dst string) ([]string, [][]float64) {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(strings.Join(recs[0], ",") + "\n")
	var rows [][]float64
	for _, rec := range recs[1:] {
		row := make([]float64, len(rec)-1)
		for j, cell := range rec[:len(rec)-1] {
			v, err := strconv.ParseFloat(cell, 64)
			if err != nil {
				t.Fatal(err)
			}
			row[j] = v * 1.5
			b.WriteString(strconv.FormatFloat(row[j], 'g', -1, 64) + ",")
		}
		b.WriteString(rec[len(rec)-1] + "\n")
		rows = append(rows, row)
	}
	if err := os.WriteFile(dst, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return recs[0][:len(recs[0])-1], rows
}

// TestClosedLoop runs the example's loop end to end: a version trained on
// the cancer dataset serves, its training data is the drift reference;
// traffic from a rescaled instrument drifts; the drift alert (alerts.yaml)
// respects its `for`, fires once and starts the registered retraining
// pipeline; the new version passes the policy gate, goes out as a canary
// and promotes itself; its own training data becomes the reference and
// the alert resolves. The chain is in lineage and in the audit trail.
func TestClosedLoop(t *testing.T) {
	ex := t.TempDir()
	copyDir(t, "../../examples/breast-cancer", ex)
	s := &testServer{t: t, dir: t.TempDir(), extraCfg: []string{
		"--policy-file", filepath.Join(ex, "policy.yaml"), "--alert-rules", filepath.Join(ex, "alerts.yaml")}}
	s.start()
	defer s.stop()
	stop := s.app.StartExecutor(context.Background(), s.srv.URL)
	defer func() { stop() }()

	if code, out := runCLI(s.srv.URL, "data", "add", "cancer", filepath.Join(ex, "data", "cancer.csv")); code != 0 {
		t.Fatalf("data add: %s", out)
	}
	retrain := filepath.Join(ex, "retrain.yaml")
	// Fast steps; the latency check relaxed: this test is about the loop,
	// and one slow request on a loaded machine must not roll it back.
	fast := []string{"--param", "steps=50,100", "--param", "interval=500ms", "--param", "max_latency_ratio=1000"}
	if code, out := runCLI(s.srv.URL, append([]string{"pipeline", "register", retrain}, fast...)...); code != 0 {
		t.Fatalf("register: %s", out)
	}
	if code, out := runCLI(s.srv.URL, append([]string{"pipeline", "run", retrain}, fast...)...); code != 0 {
		t.Fatalf("first training: %s", out)
	}
	ref := mustOK(t, call(t, s.srv, "GET", "/api/v1/endpoints/cancer/reference", nil))["reference"].(map[string]any)
	if ref["dataset"] != "cancer" || ref["version"] != 1.0 || ref["model"] != "models:/cancer/1" {
		t.Fatalf("reference of version 1: %v", ref)
	}

	// The new instrument: its labelled data arrives as version 2 of the
	// dataset, and its measurements reach the endpoint.
	names, rows := rescale(t, filepath.Join(ex, "data", "cancer.csv"), filepath.Join(ex, "cancer-v2.csv"))
	if code, out := runCLI(s.srv.URL, "data", "add", "cancer", filepath.Join(ex, "cancer-v2.csv")); code != 0 {
		t.Fatalf("data add v2: %s", out)
	}
	sent := 0
	send := func(int) {
		row := rows[sent%len(rows)]
		sent++
		r := call(t, s.srv, "POST", "/endpoints/cancer/invocations", map[string]any{
			"dataframe_split": map[string]any{"columns": names, "data": [][]float64{row}}})
		if r.status != 200 {
			t.Fatalf("invocation %d: %d %v", sent, r.status, r.body)
		}
	}
	for i := range 200 {
		send(i)
	}
	until(t, "the prediction log to hold the traffic", nil, func() bool {
		p := mustOK(t, call(t, s.srv, "GET", "/api/v1/endpoints/cancer/predictions?max_results=1000", nil))["predictions"].([]any)
		return len(p) == 200
	})
	ctx := context.Background()
	now := time.Now()
	tick := func(at time.Time) {
		t.Helper()
		if err := s.app.MonitorTick(ctx, at); err != nil {
			t.Fatal(err)
		}
		if err := s.app.Alerts().Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	runs := func() []any {
		return mustOK(t, call(t, s.srv, "GET", "/api/v1/pipelines/runs", nil))["runs"].([]any)
	}
	tick(now)
	alerts := mustOK(t, call(t, s.srv, "GET", "/api/v1/alerts", nil))["alerts"].([]any)
	if len(alerts) != 1 || alerts[0].(map[string]any)["state"] != "pending" || len(runs()) != 0 {
		t.Fatalf("within `for`: alerts %v, %d runs", alerts, len(runs()))
	}
	tick(now.Add(3 * time.Minute))
	tick(now.Add(4 * time.Minute)) // still firing: no second run
	rs := runs()
	if len(rs) != 1 || rs[0].(map[string]any)["name"] != "cancer-retrain" {
		t.Fatalf("runs after the alert fired: %v", rs)
	}
	runID := rs[0].(map[string]any)["id"].(string)
	until(t, "the retraining run to succeed", nil, func() bool {
		st := runs()[0].(map[string]any)["status"]
		if st == "failed" {
			t.Fatalf("retraining failed: %v", mustOK(t, call(t, s.srv, "GET", "/api/v1/pipelines/runs/"+runID, nil)))
		}
		return st == "succeeded"
	})
	// A restart while the alert still fires (version 2 is a canary, the
	// reference still version 1's data): the new engine fires again after
	// `for`, but this firing episode has its run already.
	stop()
	s.stop()
	s.start()
	stop = s.app.StartExecutor(context.Background(), s.srv.URL)
	tick(now.Add(10 * time.Minute))
	tick(now.Add(13 * time.Minute))
	if a := mustOK(t, call(t, s.srv, "GET", "/api/v1/alerts", nil))["alerts"].([]any); len(a) != 1 || a[0].(map[string]any)["state"] != "firing" {
		t.Fatalf("after the restart: %v", a)
	}
	if rs := runs(); len(rs) != 1 {
		t.Fatalf("a restart started the retraining again: %d runs", len(rs))
	}
	until(t, "version 2 to be promoted by its canary", send, func() bool {
		d := mustOK(t, call(t, s.srv, "GET", "/api/v1/endpoints/cancer", nil))["deployment"].(map[string]any)
		r, _ := d["rollout"].(map[string]any)
		if r != nil && r["state"] == "rolled_back" {
			t.Fatalf("the canary rolled back: %v", d)
		}
		if r != nil && r["analysis"].(map[string]any)["max_latency_ratio"] != 1000.0 {
			t.Fatalf("the pipeline's analysis limit did not reach the rollout: %v", r)
		}
		return d["version"] == 2.0
	})
	ref = mustOK(t, call(t, s.srv, "GET", "/api/v1/endpoints/cancer/reference", nil))["reference"].(map[string]any)
	if ref["version"] != 2.0 || ref["model"] != "models:/cancer/2" {
		t.Fatalf("reference of version 2: %v", ref)
	}
	tick(now.Add(30 * time.Minute))
	if a := mustOK(t, call(t, s.srv, "GET", "/api/v1/alerts", nil))["alerts"].([]any); len(a) != 0 {
		t.Fatalf("the drift alert should resolve against the new reference: %v", a)
	}

	// The history: pending, firing, the notification that started the
	// run; after the restart pending and firing again, a notification that
	// started nothing; the resolution.
	hist := mustOK(t, call(t, s.srv, "GET", "/api/v1/alerts/history?rule=data-drift", nil))["events"].([]any)
	var transitions, retrains []string
	group := ""
	for i := len(hist) - 1; i >= 0; i-- {
		e := hist[i].(map[string]any)
		if e["kind"] == "transition" {
			transitions = append(transitions, fmt.Sprint(e["to"]))
		} else if e["channel"] == "retrain" && e["status"] == "firing" {
			if e["error"] != nil {
				t.Fatalf("retrain notification: %v", e)
			}
			retrains = append(retrains, fmt.Sprint(e["target"]))
			group = e["group"].(string)
		}
	}
	if strings.Join(transitions, ",") != "pending,firing,pending,firing,resolved" || group == "" ||
		strings.Join(retrains, ",") != "pipelines:/"+runID+",<nil>" {
		t.Fatalf("transitions %v, retrain targets %v, group %q", transitions, retrains, group)
	}
	// Lineage: the new version's upstream reaches the alert and the
	// endpoint it watched.
	lin := get(t, s.srv.URL+"/api/v1/lineage?uri=models:/cancer/2&depth=5")
	for _, want := range []string{`"uri":"pipelines:/` + runID + `"`, `"uri":"` + group + `"`, `"kind":"alert"`,
		`"relation":"triggered"`, `"relation":"alerted"`, `"uri":"endpoints:/cancer"`} {
		if !strings.Contains(lin, want) {
			t.Fatalf("lineage of models:/cancer/2 lacks %s: %s", want, lin)
		}
	}
	// Audit: the alert started the run.
	aud := get(t, s.srv.URL+"/api/v1/audit/events?max_results=1000")
	for _, want := range []string{`"actor":"alert:data-drift"`, `"action":"pipeline.submit"`, `"resource":"pipelines:/` + runID + `"`} {
		if !strings.Contains(aud, want) {
			t.Fatalf("audit trail lacks %s", want)
		}
	}
}
