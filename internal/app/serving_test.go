package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/modelrt/modelrttest"
)

// upload puts a file into a run's artifacts through the MLflow artifact proxy.
func upload(t *testing.T, base, run, rel string, data []byte) {
	t.Helper()
	req, _ := http.NewRequest("PUT", base+"/api/2.0/mlflow-artifacts/artifacts/0/"+run+"/artifacts/"+rel, bytes.NewReader(data))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("upload %s: %d", rel, resp.StatusCode)
	}
}

func post(t *testing.T, url, ctype, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, ctype, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	if out == nil {
		out = map[string]any{"raw": string(raw)}
	}
	return resp.StatusCode, out
}

const deployPolicy = `version: 1
gates:
  - name: deploy-review
    when: {deploy: true}
    require:
      approvals: 1
`

// TestServeAnXGBoostModel: an XGBClassifier logged as MLflow writes it
// (MLmodel + model.json, trained by python3-xgboost with early stopping)
// is registered, refused deployment until approved (policy gate), then
// deployed and served over the Open Inference Protocol (probabilities)
// and MLflow's /invocations (class labels, as the classifier's predict),
// equal to the library's predictions; it is served again after a
// restart, and bad requests get clear 4xx answers.
func TestServeAnXGBoostModel(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) { testServeAnXGBoostModel(t, e) })
	}
}

func testServeAnXGBoostModel(t *testing.T, e engine) {
	dir := t.TempDir()
	db, _ := e.setup(t, dir)
	policyFile := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policyFile, []byte(deployPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := &testServer{t: t, dir: dir, db: db, extraCfg: []string{"--policy-file", policyFile}}
	ts.start()
	defer ts.stop()
	srv := ts.srv

	fixture := "../modelrt/mlmodel/testdata/xgb_early_stopping"
	run := newRun(t, srv, 0.97)
	for _, f := range []string{"MLmodel", "model.json"} {
		b, err := os.ReadFile(filepath.Join(fixture, f))
		if err != nil {
			t.Fatal(err)
		}
		upload(t, srv.URL, run, "model/"+f, b)
	}
	upload(t, srv.URL, run, "broken/model.json", []byte(`{"learner": {"truncated`))
	mustOK(t, call(t, srv, "POST", "/api/2.0/mlflow/registered-models/create", map[string]any{"name": "cancer"}))
	for _, src := range []string{"model", "broken/model.json"} {
		mustOK(t, call(t, srv, "POST", "/api/2.0/mlflow/model-versions/create", map[string]any{
			"name": "cancer", "source": "mlflow-artifacts:/0/" + run + "/artifacts/" + src, "run_id": run}))
	}

	// The deploy gate refuses an unapproved version.
	r := call(t, srv, "POST", "/api/v1/endpoints", map[string]any{"endpoint": "cancer", "model": "models:/cancer/1"})
	if r.status != 403 || !strings.Contains(r.body["message"].(string), "deploying version 1 of model 'cancer'") {
		t.Fatalf("unapproved deploy: %d %v", r.status, r.body)
	}
	for _, v := range []string{"1", "2"} {
		mustOK(t, call(t, srv, "POST", "/api/v1/models/cancer/versions/"+v+"/approve", map[string]any{}))
	}
	// A version whose files do not load is refused, and nothing is saved.
	r = call(t, srv, "POST", "/api/v1/endpoints", map[string]any{"endpoint": "cancer", "model": "models:/cancer/2"})
	if r.status != 400 || !strings.Contains(r.body["message"].(string), "cannot be served") {
		t.Fatalf("corrupt model deploy: %d %v", r.status, r.body)
	}
	if r := call(t, srv, "GET", "/api/v1/endpoints/cancer", nil); r.status != 404 {
		t.Fatalf("a refused deployment was saved: %d %v", r.status, r.body)
	}
	d := mustOK(t, call(t, srv, "POST", "/api/v1/endpoints", map[string]any{"endpoint": "cancer", "model": "models:/cancer/1"}))
	if d["deployment"].(map[string]any)["status"] != "ready" {
		t.Fatalf("deployment: %v", d)
	}

	x, rows, _ := modelrttest.ReadTable(t, filepath.Join(fixture, "rows.tsv"), 0)
	proba, _, _ := modelrttest.ReadTable(t, filepath.Join(fixture, "predict_proba.tsv"), 0)
	labels, _, _ := modelrttest.ReadTable(t, filepath.Join(fixture, "predict.tsv"), 0)
	nf := len(x) / rows

	check := func(base string) {
		t.Helper()
		// Open Inference Protocol: probabilities.
		data, _ := json.Marshal(x)
		status, body := post(t, base+"/v2/models/cancer/infer", "application/json",
			fmt.Sprintf(`{"id": "req-7", "inputs": [{"name": "input-0", "shape": [%d, %d], "datatype": "FP64", "data": %s}]}`, rows, nf, data))
		if status != 200 || body["id"] != "req-7" || body["model_version"] != "1" {
			t.Fatalf("infer: %d %v", status, body)
		}
		out := body["outputs"].([]any)[0].(map[string]any)
		got := out["data"].([]any)
		if out["name"] != "predict" || len(got) != rows {
			t.Fatalf("infer output: %v", out)
		}
		for i, g := range got {
			if math.Abs(g.(float64)-proba[i]) > 1e-6 {
				t.Fatalf("row %d: %v, xgboost said %v", i, g, proba[i])
			}
		}
		// MLflow /invocations: the classifier's labels.
		var inst []string
		for r := 0; r < rows; r++ {
			b, _ := json.Marshal(x[r*nf : (r+1)*nf])
			inst = append(inst, string(b))
		}
		status, body = post(t, base+"/endpoints/cancer/invocations", "application/json", `{"instances": [`+strings.Join(inst, ",")+`]}`)
		if status != 200 {
			t.Fatalf("invocations: %d %v", status, body)
		}
		preds := body["predictions"].([]any)
		for i, p := range preds {
			if p.(float64) != labels[i] {
				t.Fatalf("row %d: label %v, xgboost said %v", i, p, labels[i])
			}
		}
	}
	check(srv.URL)

	// Bad requests.
	for _, tc := range []struct {
		url, ctype, body string
		status           int
		want             string
	}{
		{"/v2/models/cancer/infer", "application/json", `{"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP64", "data": [1, 2]}]}`, 400, `"error":`},
		{"/v2/models/nope/infer", "application/json", `{"inputs": []}`, 404, `Endpoint 'nope' does not exist`},
		{"/v2/models/cancer/versions/9/infer", "application/json", `{}`, 404, `serves version 1, not 9`},
		{"/endpoints/cancer/invocations", "application/json", `{"instances": [[1, 2]]}`, 400, `"error_code":"BAD_REQUEST"`},
		{"/endpoints/cancer/invocations", "text/plain", `1,2`, 415, `Content-Type must be`},
		{"/endpoints/nope/invocations", "application/json", `{"instances": [[1]]}`, 404, `RESOURCE_DOES_NOT_EXIST`},
	} {
		resp, err := http.Post(srv.URL+tc.url, tc.ctype, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
			t.Errorf("%s %s: %d %s, want %d containing %q", tc.url, tc.body, resp.StatusCode, b, tc.status, tc.want)
		}
	}
	if r := call(t, srv, "GET", "/v2/models/cancer", nil); r.status != 200 || r.body["platform"] != "xgboost" {
		t.Fatalf("model metadata: %v", r.body)
	}
	if r := call(t, srv, "GET", "/v2/models/cancer/ready", nil); r.status != 200 || r.body["ready"] != true {
		t.Fatalf("ready: %v", r.body)
	}
	lin := mustOK(t, call(t, srv, "GET", "/api/v1/lineage?uri="+url.QueryEscape("models:/cancer/1"), nil))
	down, _ := json.Marshal(lin["downstream"])
	if !strings.Contains(string(down), "endpoints:/cancer") {
		t.Fatalf("lineage downstream: %s", down)
	}
	events := mustOK(t, call(t, srv, "GET", "/api/v1/audit/events?resource="+url.QueryEscape("endpoints:/cancer"), nil))["events"].([]any)
	if len(events) != 1 || events[0].(map[string]any)["action"] != "serving.deploy" {
		t.Fatalf("deploy audit: %v", events)
	}

	// A restarted server serves the endpoint again.
	ts.stop()
	ts.start()
	srv = ts.srv
	check(srv.URL)

	// The command line.
	if code, out := runCLI(srv.URL, "deploy", "cancer", "--model", "models:/cancer/latest"); code != 1 || !strings.Contains(out, "cannot be served") {
		t.Fatalf("ferry deploy of the corrupt latest version: exit %d\n%s", code, out)
	}
	if code, out := runCLI(srv.URL, "deploy", "cancer", "--model", "models:/cancer/1"); code != 0 || !strings.Contains(out, "Deployed version 1 of model cancer at endpoint cancer") {
		t.Fatalf("ferry deploy: exit %d\n%s", code, out)
	}
	if code, out := runCLI(srv.URL, "endpoints", "list"); code != 0 || !strings.Contains(out, "cancer") || !strings.Contains(out, "ready") {
		t.Fatalf("ferry endpoints list: exit %d\n%s", code, out)
	}
	if code, out := runCLI(srv.URL, "endpoints", "status", "cancer"); code != 0 || !strings.Contains(out, "models:/cancer/1") || !strings.Contains(out, "/v2/models/cancer/infer") {
		t.Fatalf("ferry endpoints status: exit %d\n%s", code, out)
	}
	if code, out := runCLI(srv.URL, "endpoints", "rm", "cancer"); code != 0 {
		t.Fatalf("ferry endpoints rm: exit %d\n%s", code, out)
	}
	if status, _ := post(t, srv.URL+"/v2/models/cancer/infer", "application/json", `{}`); status != 404 {
		t.Fatalf("a removed endpoint still answers: %d", status)
	}
}
