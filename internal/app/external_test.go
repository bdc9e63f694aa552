package app_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// TestExternalRuntimes: a version whose files are a ferry-runtime.yaml
// and a Python scoring server is started, supervised and served behind
// Ferry's router over both protocols; a runtime that hangs times out
// with a 504 while other endpoints keep answering.
func TestExternalRuntimes(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	s := &testServer{t: t, dir: t.TempDir()}
	s.start()
	defer s.stop()
	run := newRun(t, s.srv, 0.9)
	script, err := os.ReadFile("../modelrt/remote/testdata/python/mlflow_server.py")
	if err != nil {
		t.Fatal(err)
	}
	upload(t, s.srv.URL, run, "ext/mlflow_server.py", script)
	upload(t, s.srv.URL, run, "ext/ferry-runtime.yaml", []byte(`protocol: mlflow
command: ["python3", "mlflow_server.py", "--port", "${PORT}"]
timeout: 5s
signature:
  inputs: [{name: a}, {name: b}]
  outputs: 2
`))
	// A runtime that answers its health check and then hangs.
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v2/health/ready":
		case strings.HasSuffix(r.URL.Path, "/infer"):
			if !healthCheck(r) {
				select {
				case <-release:
				case <-r.Context().Done():
				}
				return
			}
			_, _ = io.WriteString(w, `{"outputs":[{"name":"y","datatype":"FP64","shape":[1],"data":[0]}]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer hung.Close()
	defer close(release)
	upload(t, s.srv.URL, run, "hung/ferry-runtime.yaml", []byte(fmt.Sprintf(`protocol: oip
url: %s
timeout: 300ms
signature:
  inputs: [{name: a}, {name: b}]
`, hung.URL)))
	mustOK(t, call(t, s.srv, "POST", "/api/2.0/mlflow/registered-models/create", map[string]any{"name": "ext"}))
	for _, dir := range []string{"ext", "hung"} {
		mustOK(t, call(t, s.srv, "POST", "/api/2.0/mlflow/model-versions/create", map[string]any{
			"name": "ext", "source": "mlflow-artifacts:/0/" + run + "/artifacts/" + dir, "run_id": run}))
	}
	for i, name := range []string{"ext", "hung"} {
		d := mustOK(t, call(t, s.srv, "POST", "/api/v1/endpoints", map[string]any{"endpoint": name, "model": fmt.Sprintf("models:/ext/%d", i+1)}))
		if d["deployment"].(map[string]any)["status"] != "ready" {
			t.Fatalf("%s: %v", name, d)
		}
	}
	status, body := post(t, s.srv.URL+"/endpoints/ext/invocations", "application/json", `{"dataframe_split": {"columns": ["b", "a"], "data": [[2, 1], [null, 3]]}}`)
	if status != 200 || fmt.Sprint(body["predictions"]) != "[[3 0] [3 1]]" {
		t.Fatalf("ext invocations: %d %v", status, body)
	}
	status, body = post(t, s.srv.URL+"/v2/models/ext/infer", "application/json", `{"id": "r1", "inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP64", "data": [4, 5]}]}`)
	if status != 200 || body["id"] != "r1" || fmt.Sprint(body["outputs"].([]any)[0].(map[string]any)["data"]) != "[9 0]" {
		t.Fatalf("ext infer: %d %v", status, body)
	}
	if st, b := post(t, s.srv.URL+"/endpoints/ext/invocations", "application/json", `{"dataframe_split": {"columns": ["a"], "data": [[1]]}}`); st != 400 || !strings.Contains(fmt.Sprint(b), "b") {
		t.Fatalf("missing feature: %d %v", st, b)
	}

	if code, out := runCLI(s.srv.URL, "endpoints", "status", "ext"); code != 0 || !strings.Contains(out, "Runtime:   external (stable v1): ready, 0 restarts, pid ") {
		t.Fatalf("ferry endpoints status: %d %s", code, out)
	}

	// The hung endpoint times out; meanwhile the other endpoint answers.
	var wg sync.WaitGroup
	var hungStatus int
	var hungBody map[string]any
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		hungStatus, hungBody = post(t, s.srv.URL+"/v2/models/hung/infer", "application/json", `{"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP64", "data": [1, 2]}]}`)
	}()
	answered := 0
	for range 20 {
		select {
		case <-done:
		default:
			if st, _ := post(t, s.srv.URL+"/endpoints/ext/invocations", "application/json", `{"instances": [[1, 2]]}`); st != 200 {
				t.Fatalf("ext while another endpoint hangs: %d", st)
			}
			answered++
		}
	}
	wg.Wait()
	if hungStatus != 504 || !strings.Contains(fmt.Sprint(hungBody["error"]), "did not answer in time") || answered == 0 {
		t.Fatalf("hung endpoint: %d %v (other answers meanwhile: %d)", hungStatus, hungBody, answered)
	}
}
