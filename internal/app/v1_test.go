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

// TestGateBypasses: the ways around a gate found in review are closed.
func TestGateBypasses(t *testing.T) {
	const policy = `version: 1
gates:
  - name: fraud-quality
    models: [fraud]
    when: {aliases: [production]}
    require:
      metrics: [metrics.auc >= 0.85]
`
	srv := startServerWith(t, t.TempDir(), "", true, policy)
	bad, good := newRun(t, srv, 0.10), newRun(t, srv, 0.95)
	mustOK(t, call(t, srv, "POST", "/api/2.0/mlflow/registered-models/create", map[string]any{"name": "fraud"}))

	// 1. Files of a weak run registered under a strong run's id.
	r := call(t, srv, "POST", "/api/2.0/mlflow/model-versions/create", map[string]any{
		"name": "fraud", "source": "mlflow-artifacts:/0/" + bad + "/artifacts/model", "run_id": good})
	if r.status != 400 || !strings.Contains(r.body["message"].(string), "holds artifacts of run "+bad) {
		t.Fatalf("mismatched run_id: %d %v", r.status, r.body)
	}
	// Without a run_id the gate judges the run the files belong to.
	mustOK(t, call(t, srv, "POST", "/api/2.0/mlflow/model-versions/create", map[string]any{
		"name": "fraud", "source": "mlflow-artifacts:/0/" + bad + "/artifacts/model"}))
	r = call(t, srv, "POST", "/api/2.0/mlflow/registered-models/alias", map[string]any{"name": "fraud", "alias": "production", "version": "1"})
	if r.status != 403 || !strings.Contains(r.body["message"].(string), "auc = 0.1") {
		t.Fatalf("weak version without run_id: %d %v", r.status, r.body)
	}

	// 2. Rename away from the gate's glob, move the alias, rename back.
	mustOK(t, call(t, srv, "POST", "/api/2.0/mlflow/registered-models/rename", map[string]any{"name": "fraud", "new_name": "tmp"}))
	mustOK(t, call(t, srv, "POST", "/api/2.0/mlflow/registered-models/alias", map[string]any{"name": "tmp", "alias": "production", "version": "1"}))
	r = call(t, srv, "POST", "/api/2.0/mlflow/registered-models/rename", map[string]any{"name": "tmp", "new_name": "fraud"})
	if r.status != 403 || !strings.Contains(r.body["message"].(string), "renaming 'tmp' to 'fraud' would keep version 1 at alias 'production'") {
		t.Fatalf("rename into a gate: %d %v", r.status, r.body)
	}
	if r := call(t, srv, "GET", "/api/2.0/mlflow/registered-models/get?name=fraud", nil); r.status != 404 {
		t.Fatalf("the refused rename happened: %d", r.status)
	}
}

// TestCardHistoryOfARecreatedModel: a model deleted and created again
// under the same name does not inherit the old one's history.
func TestCardHistoryOfARecreatedModel(t *testing.T) {
	srv := startServer(t, t.TempDir(), "", true)
	run := newRun(t, srv, 0.9)
	register := func() {
		mustOK(t, call(t, srv, "POST", "/api/2.0/mlflow/registered-models/create", map[string]any{"name": "m"}))
		mustOK(t, call(t, srv, "POST", "/api/2.0/mlflow/model-versions/create", map[string]any{
			"name": "m", "source": "mlflow-artifacts:/0/" + run + "/artifacts/model", "run_id": run}))
	}
	register()
	mustOK(t, call(t, srv, "POST", "/api/v1/models/m/versions/1/approve", map[string]any{"comment": "old"}))
	if r := call(t, srv, "DELETE", "/api/2.0/mlflow/registered-models/delete", map[string]any{"name": "m"}); r.status != 200 {
		t.Fatalf("delete: %v", r.body)
	}
	register()
	card := mustOK(t, call(t, srv, "GET", "/api/v1/models/m/versions/1/card?format=json", nil))
	hist, _ := card["ferry"].(map[string]any)["history"].([]any)
	var actions []string
	for _, h := range hist {
		actions = append(actions, h.(map[string]any)["action"].(string))
	}
	got := strings.Join(actions, ",")
	if got != "registry.create_model,registry.create_version" {
		t.Fatalf("history of the new model: %s", got)
	}
}

// TestCardHistoryFollowsRenames: a renamed model's card keeps the events
// from before the rename, under the old name.
func TestCardHistoryFollowsRenames(t *testing.T) {
	srv := startServer(t, t.TempDir(), "", true)
	run := newRun(t, srv, 0.9)
	mustOK(t, call(t, srv, "POST", "/api/2.0/mlflow/registered-models/create", map[string]any{"name": "a"}))
	mustOK(t, call(t, srv, "POST", "/api/2.0/mlflow/model-versions/create", map[string]any{
		"name": "a", "source": "mlflow-artifacts:/0/" + run + "/artifacts/model", "run_id": run}))
	mustOK(t, call(t, srv, "POST", "/api/v1/models/a/versions/1/approve", map[string]any{}))
	mustOK(t, call(t, srv, "POST", "/api/2.0/mlflow/registered-models/rename", map[string]any{"name": "a", "new_name": "b"}))
	mustOK(t, call(t, srv, "POST", "/api/2.0/mlflow/registered-models/rename", map[string]any{"name": "b", "new_name": "c"}))
	card := mustOK(t, call(t, srv, "GET", "/api/v1/models/c/versions/1/card?format=json", nil))
	hist, _ := card["ferry"].(map[string]any)["history"].([]any)
	var got []string
	for _, h := range hist {
		m := h.(map[string]any)
		got = append(got, m["action"].(string)+" "+m["resource"].(string))
	}
	// Each rename shows both names: the model leaving the old one and
	// taking the new one.
	want := "registry.create_model models:/a,registry.create_version models:/a/1,registry.approve_version models:/a/1," +
		"registry.rename_model models:/a,registry.rename_model models:/b," +
		"registry.rename_model models:/b,registry.rename_model models:/c"
	if strings.Join(got, ",") != want {
		t.Fatalf("history:\n got %s\nwant %s", strings.Join(got, ","), want)
	}
}
