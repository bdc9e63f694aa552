package cli_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// `ferry monitor report` fetches the JSON report once and writes it and
// its HTML rendering.
func TestMonitorReport(t *testing.T) {
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/endpoints/fraud/monitor/report" {
			w.WriteHeader(404)
			_, _ = w.Write([]byte(`{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Endpoint 'x' has no reference dataset"}`))
			return
		}
		queries = append(queries, r.URL.RawQuery)
		_, _ = w.Write([]byte(`{"endpoint":"fraud","generated":1,"reference":{"dataset":"d","version":1,"rows":3},
			"current":{"rows":2,"from":1,"to":2},"drift_share":0.5,"drift_share_threshold":0.5,"dataset_drift":true,
			"features":[{"name":"<b>amount</b>","kind":"num","test":"ks","statistic":0.9,"p_value":0.01,"score":0.01,"threshold":0.05,
			"drifted":true,"n_ref":3,"n_cur":2,"histogram":{"edges":[0,1,2],"reference":[2,1],"current":[0,2],"reference_missing":0,"current_missing":0},
			"over_time":[{"time":1,"value":0.01,"test":"ks"}]}],"prediction":null,"prediction_error":"no model","over_time":{"from":0,"to":3},
			"drift_share_over_time":[]}`))
	}))
	defer srv.Close()
	env := map[string]string{"FERRY_URL": srv.URL}
	t.Chdir(t.TempDir())
	stdout, stderr, code := run(env, "monitor", "report", "fraud", "--from", "1000", "--to", "2024-03-01T12:00:00Z")
	if code != 0 || stderr != "" || !strings.Contains(stdout, "DATASET DRIFT (1 of 1 features drifted") {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	if queries[0] != "from=1000&to=1709294400000" {
		t.Fatalf("query %q", queries[0])
	}
	h, err := os.ReadFile("fraud-report.html")
	if err != nil || !strings.Contains(string(h), "&lt;b&gt;amount&lt;/b&gt;") || strings.Contains(string(h), "<b>amount") {
		t.Fatalf("html: %v", err)
	}
	j, err := os.ReadFile("fraud-report.json")
	var doc map[string]any
	if err != nil || json.Unmarshal(j, &doc) != nil || doc["endpoint"] != "fraud" || !strings.Contains(string(j), "\n  ") {
		t.Fatalf("json: %v %s", err, j)
	}
	// --json alone prints the report; --json FILE writes only it.
	stdout, _, code = run(env, "monitor", "report", "fraud", "--json")
	if code != 0 || json.Unmarshal([]byte(stdout), &doc) != nil {
		t.Fatalf("--json: %d %s", code, stdout)
	}
	os.Remove("fraud-report.html")
	if _, _, code = run(env, "monitor", "report", "fraud", "--json", "only.json"); code != 0 {
		t.Fatal(code)
	}
	if _, err := os.Stat("only.json"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("fraud-report.html"); err == nil {
		t.Fatal("--json FILE also wrote the HTML")
	}
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"monitor", "report"}, 2, "missing ENDPOINT"},
		{[]string{"monitor", "report", "fraud", "--from", "yesterday"}, 2, "--from"},
		{[]string{"monitor", "report", "fraud", "extra"}, 2, "unexpected argument"},
		{[]string{"monitor", "report", "x"}, 1, "no reference dataset"},
	} {
		_, stderr, code := run(env, c.args...)
		if code != c.code || !strings.Contains(stderr, c.msg) {
			t.Errorf("%v: exit %d, %s", c.args, code, stderr)
		}
	}
}
