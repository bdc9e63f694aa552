package mlflow_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestHealthAndVersion(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/health", nil)
	if r.status != 200 || string(r.body) != "OK" {
		t.Errorf("health: %d %q", r.status, r.body)
	}
	r = e.do("GET", "/version", nil)
	if r.status != 200 || string(r.body) != "test-version" {
		t.Errorf("version: %d %q", r.status, r.body)
	}
	if r.header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id in the response")
	}
}

func TestExperiments(t *testing.T) {
	e := newEnv(t)

	// The Default experiment always exists.
	def := e.ok("GET", api+"experiments/get?experiment_id=0", nil)
	if get(def, "experiment", "name") != "Default" || get(def, "experiment", "lifecycle_stage") != "active" {
		t.Errorf("default experiment: %v", def)
	}

	id := e.ok("POST", api+"experiments/create", map[string]any{
		"name": "exp-a", "tags": []map[string]string{{"key": "team", "value": "ml"}},
	})["experiment_id"].(string)
	if id == "" || id == "0" {
		t.Fatalf("new experiment id %q", id)
	}
	exp := e.ok("GET", api+"experiments/get?experiment_id="+id, nil)["experiment"]
	if get(exp, "name") != "exp-a" || get(exp, "experiment_id") != id {
		t.Errorf("get: %v", exp)
	}
	if v, _ := tagValue(get(exp, "tags"), "team"); v != "ml" {
		t.Errorf("experiment tags: %v", get(exp, "tags"))
	}
	if loc, _ := get(exp, "artifact_location").(string); loc != "mlflow-artifacts:/"+id {
		t.Errorf("artifact_location %q", loc)
	}
	for _, f := range []string{"creation_time", "last_update_time"} {
		if _, ok := get(exp, f).(json.Number); !ok {
			t.Errorf("%s is not a JSON number: %v", f, get(exp, f))
		}
	}

	// Numeric experiment_id in a JSON body is accepted (old clients).
	num := json.RawMessage(id)
	e.ok("POST", api+"experiments/set-experiment-tag", map[string]any{"experiment_id": num, "key": "k", "value": "v"})
	byName := e.ok("GET", api+"experiments/get-by-name?experiment_name=exp-a", nil)
	if v, _ := tagValue(get(byName, "experiment", "tags"), "k"); v != "v" {
		t.Errorf("tag set with numeric id: %v", byName)
	}

	e.fail("POST", api+"experiments/create", map[string]any{"name": "exp-a"}, 400, "RESOURCE_ALREADY_EXISTS")
	e.fail("POST", api+"experiments/create", map[string]any{}, 400, "INVALID_PARAMETER_VALUE")
	e.fail("GET", api+"experiments/get?experiment_id=424242", nil, 404, "RESOURCE_DOES_NOT_EXIST")
	e.fail("GET", api+"experiments/get-by-name?experiment_name=nope", nil, 404, "RESOURCE_DOES_NOT_EXIST")
	r := e.fail("GET", api+"experiments/get", nil, 400, "INVALID_PARAMETER_VALUE")
	if !strings.Contains(r.message(t), "Missing value for required parameter 'experiment_id'") {
		t.Errorf("message %q", r.message(t))
	}

	e.ok("POST", api+"experiments/update", map[string]any{"experiment_id": id, "new_name": "exp-b"})
	if get(e.ok("GET", api+"experiments/get?experiment_id="+id, nil), "experiment", "name") != "exp-b" {
		t.Error("rename did not stick")
	}
	e.fail("POST", api+"experiments/update", map[string]any{"experiment_id": id}, 400, "INVALID_PARAMETER_VALUE")

	e.ok("POST", api+"experiments/delete", map[string]any{"experiment_id": id})
	if get(e.ok("GET", api+"experiments/get?experiment_id="+id, nil), "experiment", "lifecycle_stage") != "deleted" {
		t.Error("delete did not stick")
	}
	e.fail("POST", api+"runs/create", map[string]any{"experiment_id": id}, 400, "INVALID_PARAMETER_VALUE")
	e.ok("POST", api+"experiments/restore", map[string]any{"experiment_id": id})
	if get(e.ok("GET", api+"experiments/get?experiment_id="+id, nil), "experiment", "lifecycle_stage") != "active" {
		t.Error("restore did not stick")
	}

	// experiments/list was removed in MLflow 2.0.
	e.fail("GET", api+"experiments/list", nil, 404, "ENDPOINT_NOT_FOUND")
	e.fail("GET", api+"experiments/list?view_type=ALL", nil, 404, "ENDPOINT_NOT_FOUND")
}

func TestSearchExperiments(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 5; i++ {
		e.createExperiment(fmt.Sprintf("search-%d", i))
	}
	gone := e.createExperiment("gone")
	e.ok("POST", api+"experiments/delete", map[string]any{"experiment_id": gone})

	names := func(v map[string]any) []string {
		var out []string
		for _, x := range v["experiments"].([]any) {
			out = append(out, x.(map[string]any)["name"].(string))
		}
		return out
	}
	all := e.ok("POST", api+"experiments/search", map[string]any{"max_results": 100})
	if n := len(names(all)); n != 6 { // Default + 5 active
		t.Errorf("active experiments: %v", names(all))
	}
	if _, ok := all["next_page_token"]; ok {
		t.Error("next_page_token on the last page")
	}
	deleted := e.ok("GET", api+"experiments/search?view_type=DELETED_ONLY&max_results=10", nil)
	if got := names(deleted); len(got) != 1 || got[0] != "gone" {
		t.Errorf("deleted experiments: %v", got)
	}

	// Filter and order, then walk pages of two.
	var seen []string
	token := ""
	for pages := 0; pages < 10; pages++ {
		body := map[string]any{"filter": "name LIKE 'search-%'", "order_by": []string{"name DESC"}, "max_results": 2}
		if token != "" {
			body["page_token"] = token
		}
		page := e.ok("POST", api+"experiments/search", body)
		seen = append(seen, names(page)...)
		token, _ = page["next_page_token"].(string)
		if token == "" {
			break
		}
	}
	if strings.Join(seen, ",") != "search-4,search-3,search-2,search-1,search-0" {
		t.Errorf("paged search: %v", seen)
	}

	q := url.Values{"filter": {"name = 'search-2'"}, "max_results": {"5"}}
	if got := names(e.ok("GET", api+"experiments/search?"+q.Encode(), nil)); len(got) != 1 || got[0] != "search-2" {
		t.Errorf("GET search: %v", got)
	}

	e.fail("POST", api+"experiments/search", map[string]any{"max_results": "many"}, 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", api+"experiments/search", map[string]any{"view_type": "SOME"}, 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", api+"experiments/search", map[string]any{"page_token": "!!!"}, 400, "INVALID_PARAMETER_VALUE")
}

var generatedName = regexp.MustCompile(`^[a-z]+-[a-z]+-\d+$`)

func TestRunLifecycle(t *testing.T) {
	e := newEnv(t)
	exp := e.createExperiment("runs")

	run := e.createRun(exp, map[string]any{"user_id": "alice", "tags": []map[string]string{{"key": "src", "value": "test"}}})
	id := runID(run)
	info := run["info"].(map[string]any)
	if len(id) != 32 || info["run_uuid"] != id {
		t.Errorf("run id %q, run_uuid %v", id, info["run_uuid"])
	}
	name, _ := info["run_name"].(string)
	if !generatedName.MatchString(name) {
		t.Errorf("generated run name %q", name)
	}
	if v, _ := tagValue(get(run, "data", "tags"), "mlflow.runName"); v != name {
		t.Errorf("mlflow.runName tag %q, run name %q", v, name)
	}
	if info["status"] != "RUNNING" || info["lifecycle_stage"] != "active" || info["user_id"] != "alice" ||
		info["experiment_id"] != exp || info["start_time"] != json.Number("1700000000000") {
		t.Errorf("run info: %v", info)
	}
	if _, ok := info["end_time"]; ok {
		t.Error("end_time set on a running run")
	}
	if uri, _ := info["artifact_uri"].(string); uri != "mlflow-artifacts:/"+exp+"/"+id+"/artifacts" {
		t.Errorf("artifact_uri %q", uri)
	}

	// Logging.
	e.ok("POST", api+"runs/log-metric", map[string]any{"run_id": id, "key": "loss", "value": 0.5, "timestamp": 10, "step": 1})
	e.ok("POST", api+"runs/log-metric", map[string]any{"run_uuid": id, "key": "loss", "value": 0.25, "timestamp": 20, "step": 2})
	e.ok("POST", api+"runs/log-parameter", map[string]any{"run_id": id, "key": "lr", "value": "0.01"})
	e.ok("POST", api+"runs/log-parameter", map[string]any{"run_id": id, "key": "lr", "value": "0.01"}) // same value: fine
	e.ok("POST", api+"runs/set-tag", map[string]any{"run_id": id, "key": "stage", "value": "dev"})
	e.ok("POST", api+"runs/log-batch", map[string]any{
		"run_id":  id,
		"metrics": []map[string]any{{"key": "acc", "value": 0.9, "timestamp": 30, "step": 0}},
		"params":  []map[string]any{{"key": "depth", "value": "6"}},
		"tags":    []map[string]any{{"key": "owner", "value": "ml"}},
	})

	got := e.ok("GET", api+"runs/get?run_id="+id, nil)["run"]
	metrics := map[string]string{}
	for _, m := range get(got, "data", "metrics").([]any) {
		mm := m.(map[string]any)
		metrics[mm["key"].(string)] = fmt.Sprint(mm["value"], "@", mm["step"])
	}
	if metrics["loss"] != "0.25@2" || metrics["acc"] != "0.9@0" {
		t.Errorf("latest metrics: %v", metrics)
	}
	if v, _ := tagValue(get(got, "data", "params"), "lr"); v != "0.01" {
		t.Errorf("params %v", get(got, "data", "params"))
	}
	for _, k := range []string{"stage", "owner", "src"} {
		if _, ok := tagValue(get(got, "data", "tags"), k); !ok {
			t.Errorf("tag %s missing: %v", k, get(got, "data", "tags"))
		}
	}

	hist := e.ok("GET", api+"metrics/get-history?run_id="+id+"&metric_key=loss", nil)
	if n := len(hist["metrics"].([]any)); n != 2 {
		t.Errorf("history: %v", hist)
	}

	// Changing a param is refused.
	r := e.fail("POST", api+"runs/log-parameter", map[string]any{"run_id": id, "key": "lr", "value": "0.1"}, 400, "INVALID_PARAMETER_VALUE")
	if !strings.Contains(r.message(t), "Changing param values is not allowed") {
		t.Errorf("message %q", r.message(t))
	}

	e.ok("POST", api+"runs/delete-tag", map[string]any{"run_id": id, "key": "stage"})
	e.fail("POST", api+"runs/delete-tag", map[string]any{"run_id": id, "key": "stage"}, 404, "RESOURCE_DOES_NOT_EXIST")

	// Update: status, end time, name.
	upd := e.ok("POST", api+"runs/update", map[string]any{"run_id": id, "status": "FINISHED", "end_time": 1700000005000, "run_name": "renamed"})
	ri := upd["run_info"].(map[string]any)
	if ri["status"] != "FINISHED" || ri["end_time"] != json.Number("1700000005000") || ri["run_name"] != "renamed" {
		t.Errorf("update: %v", ri)
	}
	got = e.ok("GET", api+"runs/get?run_uuid="+id, nil)["run"]
	if v, _ := tagValue(get(got, "data", "tags"), "mlflow.runName"); v != "renamed" {
		t.Errorf("runName tag after rename: %q", v)
	}
	e.fail("POST", api+"runs/update", map[string]any{"run_id": id, "status": "DONE"}, 400, "INVALID_PARAMETER_VALUE")

	// Deleted runs refuse writes.
	e.ok("POST", api+"runs/delete", map[string]any{"run_id": id})
	if get(e.ok("GET", api+"runs/get?run_id="+id, nil), "run", "info", "lifecycle_stage") != "deleted" {
		t.Error("delete did not stick")
	}
	for _, w := range []struct {
		path string
		body map[string]any
	}{
		{"runs/log-metric", map[string]any{"run_id": id, "key": "x", "value": 1, "timestamp": 1}},
		{"runs/log-parameter", map[string]any{"run_id": id, "key": "y", "value": "1"}},
		{"runs/set-tag", map[string]any{"run_id": id, "key": "z", "value": "1"}},
		{"runs/log-batch", map[string]any{"run_id": id, "metrics": []map[string]any{{"key": "x", "value": 1, "timestamp": 1}}}},
		{"runs/log-batch", map[string]any{"run_id": id}},
	} {
		r := e.fail("POST", api+w.path, w.body, 400, "INVALID_PARAMETER_VALUE")
		if !strings.Contains(r.message(t), "must be in the 'active' state") {
			t.Errorf("%s on a deleted run: %q", w.path, r.message(t))
		}
	}
	e.ok("POST", api+"runs/restore", map[string]any{"run_id": id})
	e.ok("POST", api+"runs/log-metric", map[string]any{"run_id": id, "key": "x", "value": 1, "timestamp": 1})

	// Unknown runs.
	e.fail("GET", api+"runs/get?run_id=ffffffffffffffffffffffffffffffff", nil, 404, "RESOURCE_DOES_NOT_EXIST")
	e.fail("POST", api+"runs/log-metric", map[string]any{"run_id": "ffffffffffffffffffffffffffffffff", "key": "x", "value": 1, "timestamp": 1}, 404, "RESOURCE_DOES_NOT_EXIST")
	r = e.fail("POST", api+"runs/log-metric", map[string]any{"run_id": 31, "key": "x", "value": 1, "timestamp": 1}, 400, "INVALID_PARAMETER_VALUE")
	if !strings.Contains(r.message(t), "Invalid value 31 for parameter 'run_id' supplied") {
		t.Errorf("message %q", r.message(t))
	}
}

func TestRunNames(t *testing.T) {
	e := newEnv(t)
	run := e.createRun("0", map[string]any{"run_name": "given"})
	if get(run, "info", "run_name") != "given" {
		t.Errorf("run_name %v", get(run, "info", "run_name"))
	}
	run = e.createRun("0", map[string]any{"tags": []map[string]string{{"key": "mlflow.runName", "value": "from-tag"}}})
	if get(run, "info", "run_name") != "from-tag" {
		t.Errorf("name from tag: %v", get(run, "info", "run_name"))
	}
	e.fail("POST", api+"runs/create", map[string]any{"run_name": "a", "tags": []map[string]string{{"key": "mlflow.runName", "value": "b"}}},
		400, "INVALID_PARAMETER_VALUE")
	// No experiment id: the Default experiment.
	run = e.ok("POST", api+"runs/create", map[string]any{})["run"].(map[string]any)
	if get(run, "info", "experiment_id") != "0" {
		t.Errorf("default experiment: %v", get(run, "info"))
	}
	// start_time as a numeric string, as some clients send int64s.
	run = e.ok("POST", api+"runs/create", map[string]any{"start_time": "1600000000000"})["run"].(map[string]any)
	if get(run, "info", "start_time") != json.Number("1600000000000") {
		t.Errorf("start_time %v", get(run, "info", "start_time"))
	}
}

func TestNonFiniteMetrics(t *testing.T) {
	e := newEnv(t)
	id := runID(e.createRun("0", nil))
	for i, v := range []any{"NaN", "Infinity", "-Infinity", 1.5, "2.5"} {
		e.ok("POST", api+"runs/log-metric", map[string]any{"run_id": id, "key": fmt.Sprint("m", i), "value": v, "timestamp": 1, "step": 0})
	}
	// Bare NaN token, as Python's json.dumps writes it.
	r := e.do("POST", api+"runs/log-metric", fmt.Sprintf(`{"run_id":%q,"key":"bare","value":NaN,"timestamp":1}`, id))
	if r.status != 200 {
		t.Fatalf("bare NaN: %d %s", r.status, r.body)
	}
	raw := string(e.do("GET", api+"runs/get?run_id="+id, nil).body)
	for _, want := range []string{
		`{"key":"m0","value":"NaN","timestamp":1,"step":0}`,
		`{"key":"m1","value":"Infinity","timestamp":1,"step":0}`,
		`{"key":"m2","value":"-Infinity","timestamp":1,"step":0}`,
		`{"key":"m3","value":1.5,"timestamp":1,"step":0}`,
		`{"key":"m4","value":2.5,"timestamp":1,"step":0}`,
		`{"key":"bare","value":"NaN","timestamp":1,"step":0}`,
	} {
		if !strings.Contains(raw, want) {
			t.Errorf("run JSON lacks %s:\n%s", want, raw)
		}
	}
	hist := string(e.do("GET", api+"metrics/get-history?run_id="+id+"&metric_key=m1", nil).body)
	if hist != `{"metrics":[{"key":"m1","value":"Infinity","timestamp":1,"step":0}]}` {
		t.Errorf("history: %s", hist)
	}
	// The ajax bulk-interval endpoint renders them alike.
	bulk := string(e.do("GET", "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids="+id+"&metric_key=m2", nil).body)
	if bulk != `{"metrics":[{"key":"m2","value":"-Infinity","timestamp":1,"step":0,"run_id":"`+id+`"}]}` {
		t.Errorf("bulk: %s", bulk)
	}
}

func TestMetricHistoryBulkInterval(t *testing.T) {
	e := newEnv(t)
	a, b := runID(e.createRun("0", nil)), runID(e.createRun("0", nil))
	for _, id := range []string{a, b} {
		var ms []map[string]any
		for s := 0; s < 50; s++ {
			ms = append(ms, map[string]any{"key": "loss", "value": s, "timestamp": s, "step": s})
		}
		e.ok("POST", api+"runs/log-batch", map[string]any{"run_id": id, "metrics": ms})
	}
	q := url.Values{"run_ids": {a, b}, "metric_key": {"loss"}, "max_results": {"10"}}
	v := e.ok("GET", api+"metrics/get-history-bulk-interval?"+q.Encode(), nil)
	perRun := map[string]int{}
	for _, m := range v["metrics"].([]any) {
		perRun[m.(map[string]any)["run_id"].(string)]++
	}
	if perRun[a] < 2 || perRun[a] > 12 || perRun[b] != perRun[a] {
		t.Errorf("sampled per run: %v", perRun)
	}
	q.Set("start_step", "10")
	e.fail("GET", api+"metrics/get-history-bulk-interval?"+q.Encode(), nil, 400, "INVALID_PARAMETER_VALUE")
	q.Set("end_step", "20")
	v = e.ok("GET", "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?"+q.Encode(), nil)
	for _, m := range v["metrics"].([]any) {
		step, _ := m.(map[string]any)["step"].(json.Number).Int64()
		if step < 10 || step > 20 {
			t.Errorf("step %d outside [10, 20]", step)
		}
	}
	q.Set("max_results", "0")
	e.fail("GET", api+"metrics/get-history-bulk-interval?"+q.Encode(), nil, 400, "INVALID_PARAMETER_VALUE")
	e.fail("GET", api+"metrics/get-history-bulk-interval?metric_key=loss", nil, 400, "INVALID_PARAMETER_VALUE")
}

func TestLogBatchLimitsAndAtomicity(t *testing.T) {
	e := newEnv(t)
	id := runID(e.createRun("0", nil))

	metrics := func(n int) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			out[i] = map[string]any{"key": fmt.Sprint("m", i%10), "value": i, "timestamp": i, "step": i}
		}
		return out
	}
	e.ok("POST", api+"runs/log-batch", map[string]any{"run_id": id, "metrics": metrics(1000)})
	r := e.fail("POST", api+"runs/log-batch", map[string]any{"run_id": id, "metrics": metrics(1001)}, 400, "INVALID_PARAMETER_VALUE")
	if !strings.Contains(r.message(t), "A batch logging request can contain at most 1000 metrics. Got 1001 metrics.") {
		t.Errorf("message %q", r.message(t))
	}
	params := make([]map[string]any, 101)
	for i := range params {
		params[i] = map[string]any{"key": fmt.Sprint("p", i), "value": "v"}
	}
	e.fail("POST", api+"runs/log-batch", map[string]any{"run_id": id, "params": params}, 400, "INVALID_PARAMETER_VALUE")

	// Over 1,000,000 bytes: MLflow's message, 400.
	big := map[string]any{"run_id": id, "tags": []map[string]any{{"key": "t", "value": strings.Repeat("x", 1_000_001)}}}
	r = e.fail("POST", api+"runs/log-batch", big, 400, "INVALID_PARAMETER_VALUE")
	if !regexp.MustCompile(`^Batched logging API requests must be at most 1000000 bytes, got a request of size \d+\.$`).MatchString(r.message(t)) {
		t.Errorf("message %q", r.message(t))
	}

	// Atomicity: one bad element and nothing is written.
	before := string(e.do("GET", api+"runs/get?run_id="+id, nil).body)
	for _, bad := range []map[string]any{
		{"run_id": id, "metrics": []map[string]any{{"key": "ok", "value": 1, "timestamp": 1}, {"key": "../bad", "value": 1, "timestamp": 1}}},
		{"run_id": id, "metrics": []map[string]any{{"key": "ok", "value": 1, "timestamp": 1}}, "params": []map[string]any{{"key": "p", "value": "1"}, {"key": "p", "value": "2"}}},
		{"run_id": id, "metrics": []map[string]any{{"key": "ok", "value": 1, "timestamp": 1}}, "tags": []map[string]any{{"value": "no key"}}},
		{"run_id": id, "metrics": []map[string]any{{"key": "ok", "value": 1, "timestamp": 1}, {"key": "late", "value": "x", "timestamp": 1}}},
		{"run_id": id, "metrics": []map[string]any{{"key": "ok", "value": 1, "timestamp": -5}}},
	} {
		e.fail("POST", api+"runs/log-batch", bad, 400, "INVALID_PARAMETER_VALUE")
	}
	// A param that conflicts with a stored one fails the whole batch in the store.
	e.ok("POST", api+"runs/log-parameter", map[string]any{"run_id": id, "key": "fixed", "value": "1"})
	before = string(e.do("GET", api+"runs/get?run_id="+id, nil).body)
	e.fail("POST", api+"runs/log-batch", map[string]any{"run_id": id,
		"metrics": []map[string]any{{"key": "ok", "value": 1, "timestamp": 1}},
		"params":  []map[string]any{{"key": "fresh", "value": "1"}, {"key": "fixed", "value": "2"}}}, 400, "INVALID_PARAMETER_VALUE")
	if after := string(e.do("GET", api+"runs/get?run_id="+id, nil).body); after != before {
		t.Errorf("failed batch changed the run:\nbefore %s\nafter  %s", before, after)
	}
	if h := e.ok("GET", api+"metrics/get-history?run_id="+id+"&metric_key=ok", nil); len(h) != 0 {
		t.Errorf("failed batches wrote metrics: %v", h)
	}
}

func TestLogModelAndInputs(t *testing.T) {
	e := newEnv(t)
	id := runID(e.createRun("0", nil))
	model := `{"artifact_path":"model","utc_time_created":"2024-01-01 00:00:00.000000","flavors":{"sklearn":{}},"run_id":"` + id + `"}`
	e.ok("POST", api+"runs/log-model", map[string]any{"run_id": id, "model_json": model})
	e.fail("POST", api+"runs/log-model", map[string]any{"run_id": id, "model_json": "{not json"}, 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", api+"runs/log-model", map[string]any{"run_id": id}, 400, "INVALID_PARAMETER_VALUE")
	run := e.ok("GET", api+"runs/get?run_id="+id, nil)["run"]
	if v, ok := tagValue(get(run, "data", "tags"), "mlflow.log-model.history"); !ok || !strings.Contains(v, `"artifact_path":"model"`) {
		t.Errorf("log-model history tag: %q", v)
	}

	e.ok("POST", api+"runs/log-inputs", map[string]any{"run_id": id, "datasets": []map[string]any{{
		"tags":    []map[string]string{{"key": "mlflow.data.context", "value": "training"}},
		"dataset": map[string]string{"name": "iris", "digest": "abc123", "source_type": "local", "source": "/data/iris.csv", "schema": `{"cols":[]}`},
	}}})
	run = e.ok("GET", api+"runs/get?run_id="+id, nil)["run"]
	di := get(run, "inputs", "dataset_inputs", 0)
	if get(di, "dataset", "name") != "iris" || get(di, "dataset", "schema") != `{"cols":[]}` || get(di, "dataset", "profile") != nil {
		t.Errorf("dataset input: %v", di)
	}
	if v, _ := tagValue(get(di, "tags"), "mlflow.data.context"); v != "training" {
		t.Errorf("input tags: %v", get(di, "tags"))
	}
	e.fail("POST", api+"runs/log-inputs", map[string]any{"run_id": id, "datasets": []map[string]any{{"dataset": map[string]string{"name": "x"}}}},
		400, "INVALID_PARAMETER_VALUE")
}

func TestSearchRuns(t *testing.T) {
	e := newEnv(t)
	exp := e.createExperiment("search-runs")
	var ids []string
	for i := 0; i < 7; i++ {
		id := runID(e.createRun(exp, map[string]any{"run_name": fmt.Sprint("run-", i), "start_time": 1700000000000 + i}))
		e.ok("POST", api+"runs/log-batch", map[string]any{"run_id": id,
			"metrics": []map[string]any{{"key": "acc", "value": float64(i) / 10, "timestamp": 1}},
			"params":  []map[string]any{{"key": "model", "value": []string{"tree", "linear"}[i%2]}}})
		ids = append(ids, id)
	}
	e.ok("POST", api+"runs/delete", map[string]any{"run_id": ids[6]})

	names := func(v map[string]any) []string {
		var out []string
		runs, _ := v["runs"].([]any)
		for _, r := range runs {
			out = append(out, get(r, "info", "run_name").(string))
		}
		return out
	}
	res := e.ok("POST", api+"runs/search", map[string]any{"experiment_ids": []string{exp}})
	if got := names(res); len(got) != 6 || got[0] != "run-5" {
		t.Errorf("default order is start_time DESC: %v", got)
	}
	res = e.ok("POST", api+"runs/search", map[string]any{"experiment_ids": []any{json.RawMessage(exp)},
		"filter": "metrics.acc > 0.25 and params.model = 'tree'", "order_by": []string{"metrics.acc ASC"}})
	if got := strings.Join(names(res), ","); got != "run-4" {
		t.Errorf("filtered: %v", got)
	}
	res = e.ok("POST", api+"runs/search", map[string]any{"experiment_ids": []string{exp}, "run_view_type": "DELETED_ONLY"})
	if got := names(res); len(got) != 1 || got[0] != "run-6" {
		t.Errorf("deleted: %v", got)
	}
	res = e.ok("POST", api+"runs/search", map[string]any{"experiment_ids": []string{exp}, "run_view_type": "ALL", "order_by": []string{"attributes.run_name"}})
	if got := names(res); len(got) != 7 || got[0] != "run-0" {
		t.Errorf("all by name: %v", got)
	}

	var seen []string
	token := ""
	for i := 0; i < 10; i++ {
		body := map[string]any{"experiment_ids": []string{exp}, "max_results": 4, "order_by": []string{"metrics.acc DESC"}}
		if token != "" {
			body["page_token"] = token
		}
		page := e.ok("POST", api+"runs/search", body)
		seen = append(seen, names(page)...)
		if token, _ = page["next_page_token"].(string); token == "" {
			break
		}
	}
	if strings.Join(seen, ",") != "run-5,run-4,run-3,run-2,run-1,run-0" {
		t.Errorf("pages: %v", seen)
	}

	// Bad searches are 400s, never 500s, and never reach SQL as text.
	for _, f := range []string{
		"metrics.acc > 0.1; DROP TABLE runs; --",
		"params.model = 'x' OR 1=1",
		"attributes.run_name = '' UNION SELECT * FROM experiments --'",
		"tags.`x` = 'a' AND (1=1)",
		"metrics.acc >",
		"name = 'unterminated",
		"\x00",
	} {
		e.fail("POST", api+"runs/search", map[string]any{"experiment_ids": []string{exp}, "filter": f}, 400, "INVALID_PARAMETER_VALUE")
	}
	res = e.ok("POST", api+"runs/search", map[string]any{"experiment_ids": []string{exp},
		"filter": "params.model = 'x'' OR ''1''=''1'"})
	if len(names(res)) != 0 {
		t.Errorf("quoted injection matched runs: %v", names(res))
	}
	e.fail("POST", api+"runs/search", map[string]any{"experiment_ids": []string{exp}, "order_by": []string{"metrics.acc; DROP TABLE runs"}}, 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", api+"runs/search", map[string]any{"experiment_ids": []string{exp}, "max_results": 50001}, 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", api+"runs/search", map[string]any{"experiment_ids": []string{exp}, "page_token": "not-a-token"}, 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", api+"runs/search", map[string]any{"experiment_ids": exp}, 400, "INVALID_PARAMETER_VALUE")
}

func TestAjaxAliasAndRouting(t *testing.T) {
	e := newEnv(t)
	id := e.ok("POST", "/ajax-api/2.0/mlflow/experiments/create", map[string]any{"name": "via-ajax"})["experiment_id"].(string)
	if get(e.ok("GET", api+"experiments/get?experiment_id="+id, nil), "experiment", "name") != "via-ajax" {
		t.Error("ajax create not visible through /api")
	}
	e.ok("GET", "/ajax-api/2.0/mlflow/experiments/search?max_results=5", nil)

	e.fail("GET", api+"no/such/endpoint", nil, 404, "ENDPOINT_NOT_FOUND")
	e.fail("GET", "/ajax-api/2.0/mlflow/nothing", nil, 404, "ENDPOINT_NOT_FOUND")
	e.fail("GET", "/api/2.0/preview/mlflow/anything", nil, 404, "ENDPOINT_NOT_FOUND")
	e.fail("GET", "/api/v1/models", nil, 404, "ENDPOINT_NOT_FOUND")
	// The npm client's set-experiment-tag bug produces this path: 404.
	e.fail("POST", api+"experimentsset-experiment-tag", map[string]any{}, 404, "ENDPOINT_NOT_FOUND")
	r := e.fail("GET", api+"runs/create", nil, 405, "BAD_REQUEST")
	if r.header.Get("Allow") != "POST" {
		t.Errorf("Allow %q", r.header.Get("Allow"))
	}
}

func TestBadRequestsNeverFail500(t *testing.T) {
	e := newEnv(t)
	e.fail("POST", api+"experiments/create", `{"name": "x",`, 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", api+"experiments/create", `[]`, 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", api+"experiments/create", `"just a string"`, 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", api+"runs/create", "\xff\xfe", 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", api+"runs/create", strings.Repeat("[", 100000), 400, "INVALID_PARAMETER_VALUE")

	r := e.do("POST", api+"experiments/create", `{"name":"x"}`, "Content-Type", "text/plain")
	if r.status != 400 || r.message(t) != "Bad Request. Content-Type must be one of ['application/json']." {
		t.Errorf("content type: %d %s", r.status, r.body)
	}
	r = e.do("POST", api+"experiments/create", `{"name":"x"}`, "Content-Type", "")
	if r.status != 400 || r.message(t) != "Bad Request. Content-Type header is missing." {
		t.Errorf("no content type: %d %s", r.status, r.body)
	}

	// A body over the 1 MiB JSON limit: 413 in MLflow's error format.
	huge := `{"name":"` + strings.Repeat("x", 2<<20) + `"}`
	r = e.fail("POST", api+"experiments/create", huge, 413, "INVALID_PARAMETER_VALUE")
	if !strings.Contains(r.message(t), "1048576 bytes") {
		t.Errorf("message %q", r.message(t))
	}

	// Values that are valid JSON but nonsense for the store.
	e.fail("POST", api+"runs/log-metric", map[string]any{"run_id": "../../etc", "key": "k", "value": 1, "timestamp": 1}, 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", api+"runs/log-metric", map[string]any{"run_id": "x' OR '1'='1", "key": "k", "value": 1, "timestamp": 1}, 400, "INVALID_PARAMETER_VALUE")
	e.fail("GET", api+"experiments/get?experiment_id=1'%20OR%20'1'='1", nil, 404, "RESOURCE_DOES_NOT_EXIST")
	e.fail("POST", api+"experiments/create", map[string]any{"name": strings.Repeat("n", 600)}, 400, "INVALID_PARAMETER_VALUE")
	e.fail("POST", api+"experiments/create", map[string]any{"name": "x", "artifact_location": "s3://b/p#frag"}, 400, "INVALID_PARAMETER_VALUE")
	e.fail("GET", api+"runs/get?run_id=", nil, 400, "INVALID_PARAMETER_VALUE")
	e.fail("GET", api+"metrics/get-history?run_id=abc", nil, 400, "INVALID_PARAMETER_VALUE")
	if got := e.do("POST", api+"runs/search", map[string]any{"experiment_ids": []string{"0"}, "max_results": "1e99"}); got.status != 400 {
		t.Errorf("max_results 1e99: %d", got.status)
	}
}

func TestRequestIDAndAccessLog(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", api+"experiments/get?experiment_id=0", nil, "X-Request-Id", "trace-42")
	if r.header.Get("X-Request-Id") != "trace-42" {
		t.Errorf("request id %q", r.header.Get("X-Request-Id"))
	}
	logs := e.logs.String()
	if !strings.Contains(logs, `"request_id":"trace-42"`) || !strings.Contains(logs, `"route":"GET /api/2.0/mlflow/experiments/get"`) ||
		!strings.Contains(logs, `"principal":"anonymous"`) {
		t.Errorf("access log: %s", logs)
	}
	if r.status != http.StatusOK {
		t.Errorf("status %d", r.status)
	}
}
