package mlflow_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

var fuzzPostEndpoints = []string{
	"experiments/create", "experiments/search", "experiments/update", "experiments/delete",
	"experiments/restore", "experiments/set-experiment-tag", "runs/create", "runs/update",
	"runs/delete", "runs/restore", "runs/log-metric", "runs/log-parameter", "runs/set-tag",
	"runs/delete-tag", "runs/log-batch", "runs/log-model", "runs/log-inputs", "runs/search",
}

var fuzzGetEndpoints = []string{
	"experiments/get", "experiments/get-by-name", "experiments/search", "runs/get",
	"metrics/get-history", "metrics/get-history-bulk-interval", "artifacts/list",
}

// checkAnswer fails on a 5xx, and on an error answer that is not MLflow's
// JSON error body.
func checkAnswer(t *testing.T, what string, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code >= 500 {
		t.Fatalf("%s: status %d: %s", what, w.Code, w.Body)
	}
	var v map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("%s: answer is not a JSON object: %q", what, w.Body)
	}
	if w.Code >= 400 {
		if code, _ := v["error_code"].(string); code == "" {
			t.Fatalf("%s: error without error_code: %s", what, w.Body)
		}
	}
}

// FuzzEndpoints sends arbitrary JSON bodies to every POST endpoint and
// arbitrary query strings to every GET endpoint of the real stack: the
// answer is always a JSON object and never a server error.
func FuzzEndpoints(f *testing.F) {
	e := newEnv(f)
	runID := runID(e.createRun("0", nil))
	for _, s := range []string{
		`{"run_id":"` + runID + `","key":"k","value":"NaN","timestamp":1}`,
		`{"run_id":"` + runID + `","metrics":[{"key":"a","value":1,"timestamp":1}],"params":[{"key":"p","value":"v"}]}`,
		`{"experiment_ids":["0"],"filter":"metrics.a > 0 and params.p = 'v'","order_by":["metrics.a DESC"]}`,
		`{"name":"fuzz","tags":[{"key":"a","value":"b"}]}`,
		`{"experiment_id":0,"new_name":"x"}`,
		`{"run_id":"` + runID + `","datasets":[{"dataset":{"name":"d","digest":"x","source_type":"s","source":"s"}}]}`,
		`{"run_id":"` + runID + `","model_json":"{\"artifact_path\":1}"}`,
	} {
		f.Add(uint8(0), []byte(s), "run_id="+runID+"&metric_key=k&run_ids="+runID)
	}
	f.Add(uint8(3), []byte(`{"experiment_ids":[1e400],"max_results":-1}`), "experiment_id=0&view_type=ALL&max_results=abc")
	f.Add(uint8(7), []byte(`{"filter":"tags.\"x\" = 'y' AND attributes.status IN ('A','B')"}`), "path=../x&run_id="+runID)
	f.Fuzz(func(t *testing.T, which uint8, body []byte, rawQuery string) {
		ep := fuzzPostEndpoints[int(which)%len(fuzzPostEndpoints)]
		req := httptest.NewRequest("POST", api+ep, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, req)
		checkAnswer(t, "POST "+ep+" "+string(body), w)

		get := fuzzGetEndpoints[int(which)%len(fuzzGetEndpoints)]
		if strings.ContainsAny(rawQuery, " #\x7f") || strings.ContainsFunc(rawQuery, func(r rune) bool { return r < 0x20 }) {
			rawQuery = url.QueryEscape(rawQuery)
		}
		req = httptest.NewRequest("GET", api+get+"?"+rawQuery, nil)
		w = httptest.NewRecorder()
		e.h.ServeHTTP(w, req)
		checkAnswer(t, "GET "+get+"?"+rawQuery, w)
	})
}

// FuzzArtifactPaths sends arbitrary paths to the artifact proxy.
func FuzzArtifactPaths(f *testing.F) {
	e := newEnv(f)
	for _, p := range []string{"a/b.txt", "../x", "%2e%2e/x", "a//b", "a/./b", "a\\b", "%00", ""} {
		f.Add(p, []byte("data"))
	}
	f.Fuzz(func(t *testing.T, p string, body []byte) {
		target := artifactsAPI + "/" + p
		if _, err := url.ParseRequestURI(target); err != nil || strings.ContainsAny(p, " #?\x7f") ||
			strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 }) {
			target = artifactsAPI + "/" + url.PathEscape(p)
		}
		for _, method := range []string{"PUT", "GET", "DELETE"} {
			req := httptest.NewRequest(method, target, bytes.NewReader(body))
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, req)
			if w.Code >= 500 {
				t.Fatalf("%s %q: %d %s", method, target, w.Code, w.Body)
			}
			if method == "GET" && w.Code == http.StatusOK {
				continue // the file itself
			}
			var v map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
				t.Fatalf("%s %q: answer is not JSON: %d %q", method, target, w.Code, w.Body)
			}
		}
		req := httptest.NewRequest("GET", artifactsAPI+"?path="+url.QueryEscape(p), nil)
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, req)
		checkAnswer(t, "list "+p, w)
	})
}

// fuzzRegistryEndpoints are the registry routes with their methods.
var fuzzRegistryEndpoints = []struct{ method, path string }{
	{"POST", "registered-models/create"}, {"POST", "registered-models/rename"},
	{"PATCH", "registered-models/update"}, {"DELETE", "registered-models/delete"},
	{"GET", "registered-models/get"}, {"GET", "registered-models/search"},
	{"POST", "registered-models/get-latest-versions"}, {"GET", "registered-models/get-latest-versions"},
	{"POST", "registered-models/set-tag"}, {"DELETE", "registered-models/delete-tag"},
	{"POST", "registered-models/alias"}, {"DELETE", "registered-models/alias"}, {"GET", "registered-models/alias"},
	{"POST", "model-versions/create"}, {"PATCH", "model-versions/update"},
	{"POST", "model-versions/transition-stage"}, {"DELETE", "model-versions/delete"},
	{"GET", "model-versions/get"}, {"GET", "model-versions/search"}, {"GET", "model-versions/get-download-uri"},
	{"POST", "model-versions/set-tag"}, {"DELETE", "model-versions/delete-tag"},
}

// FuzzRegistryEndpoints sends arbitrary JSON bodies and query strings to
// every registry route (and to /model-versions/get-artifact) of the real
// stack: the answer is always MLflow's JSON (or the file) and never a
// server error.
func FuzzRegistryEndpoints(f *testing.F) {
	e := newEnv(f)
	runID := runID(e.createRun("0", nil))
	e.ok("POST", api+"registered-models/create", map[string]any{"name": "m"})
	e.ok("POST", api+"model-versions/create", map[string]any{"name": "m", "source": "runs:/" + runID + "/model", "run_id": runID})
	for _, s := range []string{
		`{"name":"m","description":"d","tags":[{"key":"a","value":"b"}]}`,
		`{"name":"m","new_name":"n"}`,
		`{"name":"m","version":"1","stage":"Production","archive_existing_versions":true}`,
		`{"name":"m","alias":"champion","version":"1"}`,
		`{"name":"m","source":"mlflow-artifacts:/0/` + runID + `/artifacts/model","run_id":"` + runID + `"}`,
		`{"name":"m","source":"s3://b/%2e%2e/x","tags":[{"key":"k"}]}`,
		`{"name":"m","version":" +1_0 ","key":"k","value":"v"}`,
		`{"name":"m","stages":["none","STAGING"]}`,
		`{"filter":"name LIKE 'm%' AND tags.\u0060mlflow.prompt.is_prompt\u0060 != 'true'","max_results":1000,"order_by":["name DESC"]}`,
		`{"name":"m","version":1,"alias":"v1"}`,
	} {
		f.Add(uint8(0), []byte(s), "name=m&version=1&alias=champion&path=MLmodel")
	}
	f.Add(uint8(5), []byte(`{}`), "filter=run_id+IN+('"+runID+"')&order_by=version_number&order_by=name+DESC&max_results=2")
	f.Add(uint8(18), []byte(`{}`), "filter=version_number+>+0+AND+source_path+LIKE+'runs%25'&page_token=eyJvZmZzZXQiOiAxfQ==")
	f.Add(uint8(7), []byte(`{}`), "name=m&stages=Production&stages=None")
	f.Add(uint8(12), []byte(`{}`), "name=m&version=1&path=../%2e%2e/x")
	f.Fuzz(func(t *testing.T, which uint8, body []byte, rawQuery string) {
		ep := fuzzRegistryEndpoints[int(which)%len(fuzzRegistryEndpoints)]
		if strings.ContainsAny(rawQuery, " #\x7f") || strings.ContainsFunc(rawQuery, func(r rune) bool { return r < 0x20 }) {
			rawQuery = url.QueryEscape(rawQuery)
		}
		var req *http.Request
		if ep.method == "GET" {
			req = httptest.NewRequest("GET", api+ep.path+"?"+rawQuery, nil)
		} else {
			req = httptest.NewRequest(ep.method, api+ep.path, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
		}
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, req)
		checkAnswer(t, ep.method+" "+ep.path+" "+string(body)+" ?"+rawQuery, w)

		req = httptest.NewRequest("GET", "/model-versions/get-artifact?"+rawQuery, nil)
		w = httptest.NewRecorder()
		e.h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("get-artifact ?%s: %d %s", rawQuery, w.Code, w.Body)
		}
		if w.Code != http.StatusOK {
			checkAnswer(t, "get-artifact ?"+rawQuery, w)
		}
	})
}
