package app_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestV1BadInput: every mistake a client can make against /api/v1 gets a
// 4xx with a message that says what is wrong, in the {"error_code",
// "message"} form, and changes nothing.
func TestV1BadInput(t *testing.T) {
	srv := startServer(t, t.TempDir(), "", true)
	run := newRun(t, srv, 0.9)
	mustOK(t, call(t, srv, "POST", "/api/2.0/mlflow/registered-models/create", map[string]any{"name": "m"}))
	mustOK(t, call(t, srv, "POST", "/api/2.0/mlflow/model-versions/create", map[string]any{
		"name": "m", "source": "mlflow-artifacts:/0/" + run + "/artifacts/model", "run_id": run}))

	tests := []struct {
		method, path string
		body         any
		status       int
		code, msg    string
	}{
		{"GET", "/api/v1/lineage", nil, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'uri'"},
		{"GET", "/api/v1/lineage?uri=s3://bucket/x", nil, 400, "INVALID_PARAMETER_VALUE", "Unknown lineage node"},
		{"GET", "/api/v1/lineage?uri=models:/m/1&depth=0", nil, 400, "INVALID_PARAMETER_VALUE", "'depth'"},
		{"GET", "/api/v1/lineage?uri=models:/m/1&depth=51", nil, 400, "INVALID_PARAMETER_VALUE", "over the limit"},
		{"GET", "/api/v1/lineage?uri=models:/m/9", nil, 404, "RESOURCE_DOES_NOT_EXIST", "Model Version (name=m, version=9) not found"},
		{"GET", "/api/v1/lineage?uri=datasets:/nope@x", nil, 404, "RESOURCE_DOES_NOT_EXIST", "No dataset 'nope'"},
		{"GET", "/api/v1/models/m/versions/2", nil, 404, "RESOURCE_DOES_NOT_EXIST", "not found"},
		{"GET", "/api/v1/models/m/versions/@nope", nil, 400, "INVALID_PARAMETER_VALUE", "alias nope not found"},
		{"GET", "/api/v1/models/m/versions/shiny", nil, 400, "INVALID_PARAMETER_VALUE", "Not a proper models:/ URI"},
		{"POST", "/api/v1/models/m/versions/1/approve", map[string]any{"coment": "typo"}, 400, "INVALID_PARAMETER_VALUE", "unknown field \"coment\""},
		{"POST", "/api/v1/models/m/versions/1/approve", "not an object", 400, "INVALID_PARAMETER_VALUE", "Malformed JSON body"},
		{"POST", "/api/v1/models/m/versions/1/reject", map[string]any{"comment": strings.Repeat("x", 5001)}, 400, "INVALID_PARAMETER_VALUE", "at most 5000"},
		{"POST", "/api/v1/models/ghost/versions/1/approve", map[string]any{}, 404, "RESOURCE_DOES_NOT_EXIST", "not found"},
		{"GET", "/api/v1/models/m/versions/1/card?format=pdf", nil, 400, "INVALID_PARAMETER_VALUE", "Invalid card format 'pdf'"},
		{"GET", "/api/v1/models/ghost/policy", nil, 404, "RESOURCE_DOES_NOT_EXIST", "Registered Model with name=ghost not found"},
		{"PUT", "/api/v1/models/m/policy", map[string]any{"policy": "version: 1\ngates: [\n"}, 400, "INVALID_PARAMETER_VALUE", "models:/m/policy:"},
		{"PUT", "/api/v1/models/m/policy", map[string]any{"document": "x"}, 400, "INVALID_PARAMETER_VALUE", "Expected {\"policy\""},
		{"PUT", "/api/v1/models/m/policy", map[string]any{"policy": "  "}, 400, "INVALID_PARAMETER_VALUE", "use DELETE"},
		{"POST", "/api/v1/policy/check", map[string]any{"alias": "production"}, 400, "INVALID_PARAMETER_VALUE", "'uri'"},
		{"POST", "/api/v1/policy/check", map[string]any{"uri": "models:/m/1"}, 400, "INVALID_PARAMETER_VALUE", "exactly one of"},
		{"POST", "/api/v1/policy/check", map[string]any{"uri": "models:/m/1", "alias": "a", "stage": "Staging"}, 400, "INVALID_PARAMETER_VALUE", "exactly one of"},
		{"POST", "/api/v1/policy/check", map[string]any{"uri": "models:/m/1", "stage": "Prod"}, 400, "INVALID_PARAMETER_VALUE", "Invalid Model Version stage: Prod"},
		{"POST", "/api/v1/policy/check", map[string]any{"uri": "runs:/x", "alias": "a"}, 400, "INVALID_PARAMETER_VALUE", "Not a proper models:/ URI"},
		{"GET", "/api/v1/audit/events?limit=abc", nil, 400, "INVALID_PARAMETER_VALUE", "limit"},
		{"GET", "/api/v1/nothing-here", nil, 404, "ENDPOINT_NOT_FOUND", ""},
		{"DELETE", "/api/v1/lineage", nil, 405, "BAD_REQUEST", ""},
	}
	for _, tc := range tests {
		r := call(t, srv, tc.method, tc.path, tc.body)
		msg, _ := r.body["message"].(string)
		if r.status != tc.status || r.body["error_code"] != tc.code || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s %s: %d %v; want %d %s %q", tc.method, tc.path, r.status, r.body, tc.status, tc.code, tc.msg)
		}
	}
	// Nothing above changed the version or stored a policy.
	v := mustOK(t, call(t, srv, "GET", "/api/v1/models/m/versions/1", nil))["model_version"].(map[string]any)
	if v["approval"].(map[string]any)["status"] != "pending" {
		t.Errorf("a refused review changed the version: %v", v)
	}
	if p := mustOK(t, call(t, srv, "GET", "/api/v1/models/m/policy", nil)); p["policy"] != "" {
		t.Errorf("a refused policy was stored: %v", p)
	}

	// The card's format also follows Accept; the HTML carries a strict CSP.
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/models/m/versions/1/card", nil)
	req.Header.Set("Accept", "text/html;q=0.9, */*")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") || !strings.Contains(string(b), "<html") {
		t.Errorf("card by Accept: %s %s", resp.Header, b[:min(len(b), 200)])
	}
	// A YAML body sets a model's policy.
	req, _ = http.NewRequest("PUT", srv.URL+"/api/v1/models/m/policy", strings.NewReader("version: 1\ngates:\n  - name: g\n    when: {aliases: [champion]}\n    require: {approvals: 2}\n"))
	req.Header.Set("Content-Type", "application/yaml")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PUT policy as YAML: %d", resp.StatusCode)
	}
	check := mustOK(t, call(t, srv, "POST", "/api/v1/policy/check", map[string]any{"uri": "models:/m/latest", "alias": "champion"}))
	rules, _ := check["rules"].([]any)
	if check["allowed"] != false || check["version"] != float64(1) || len(rules) != 1 ||
		rules[0].(map[string]any)["rule"] != "approvals >= 2" || !strings.Contains(check["explanation"].(string), "approvals >= 2") {
		t.Errorf("policy check after PUT: %v", check)
	}
}
