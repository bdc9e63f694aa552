package mlflow_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var (
	reRunID    = regexp.MustCompile(`[0-9a-f]{32}`)
	reNowTimes = regexp.MustCompile(`"(creation_time|last_update_time)":\d+`)
)

// normalise replaces what changes between runs (run ids, wall-clock
// times) and indents the JSON for readable diffs.
func normalise(t *testing.T, body []byte) []byte {
	t.Helper()
	b := reRunID.ReplaceAll(body, []byte("RUN_ID"))
	b = reNowTimes.ReplaceAll(b, []byte(`"$1":0`))
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

func golden(t *testing.T, name string, body []byte) {
	t.Helper()
	got := normalise(t, body)
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s:\n%s", name, path, got)
	}
}

// TestGolden pins the exact shape of representative answers.
func TestGolden(t *testing.T) {
	e := newEnv(t)
	exp := e.ok("POST", api+"experiments/create", map[string]any{
		"name": "golden", "tags": []map[string]string{{"key": "team", "value": "ml"}},
	})["experiment_id"].(string)
	run := e.createRun(exp, map[string]any{"run_name": "golden-run", "user_id": "alice",
		"tags": []map[string]string{{"key": "mlflow.source.type", "value": "LOCAL"}}})
	id := runID(run)
	e.ok("POST", api+"runs/log-batch", map[string]any{"run_id": id,
		"metrics": []map[string]any{
			{"key": "acc", "value": 0.875, "timestamp": 1700000001000, "step": 1},
			{"key": "loss", "value": "NaN", "timestamp": 1700000001000, "step": 1},
			{"key": "big", "value": 1e300, "timestamp": 1700000001000},
		},
		"params": []map[string]any{{"key": "lr", "value": "0.01"}, {"key": "depth", "value": "6"}},
	})
	e.ok("POST", api+"runs/log-inputs", map[string]any{"run_id": id, "datasets": []map[string]any{{
		"tags":    []map[string]string{{"key": "mlflow.data.context", "value": "train"}},
		"dataset": map[string]string{"name": "iris", "digest": "d1", "source_type": "local", "source": "/data/iris.csv"},
	}}})
	e.ok("POST", api+"runs/update", map[string]any{"run_id": id, "status": "FINISHED", "end_time": 1700000002000})

	golden(t, "create_run", e.do("POST", api+"runs/create", map[string]any{
		"experiment_id": exp, "run_name": "fresh", "start_time": 1700000000000}).body)
	golden(t, "get_run", e.do("GET", api+"runs/get?run_id="+id, nil).body)
	golden(t, "get_experiment", e.do("GET", api+"experiments/get?experiment_id="+exp, nil).body)
	golden(t, "search_runs", e.do("POST", api+"runs/search", map[string]any{
		"experiment_ids": []string{exp}, "filter": "attributes.status = 'FINISHED'"}).body)
	golden(t, "metric_history", e.do("GET", api+"metrics/get-history?run_id="+id+"&metric_key=loss", nil).body)
	golden(t, "error_param_changed", e.do("POST", api+"runs/log-parameter", map[string]any{
		"run_id": id, "key": "lr", "value": "0.1"}).body)
	golden(t, "error_missing", e.do("POST", api+"runs/log-metric", map[string]any{"run_id": id, "key": "k"}).body)
	golden(t, "error_type", e.do("POST", api+"runs/log-metric", map[string]any{
		"run_id": id, "key": "k", "value": 1, "timestamp": "yesterday"}).body)
}
