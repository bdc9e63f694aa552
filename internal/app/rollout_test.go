package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/app"
	"github.com/ferry-ml/ferry/internal/config"
	"github.com/ferry-ml/ferry/internal/modelrt/modelrttest"
)

// testServer is a Ferry server that can be restarted on the same
// storage, with a fast rollout controller and self-approval.
type testServer struct {
	t        *testing.T
	dir, db  string
	srv      *httptest.Server
	app      *app.App
	extraCfg []string
}

func (s *testServer) start() {
	args := append([]string{"--data", s.dir, "--db", s.db, "--registry-self-approval=true", "--rollout-tick", "20ms",
		"--prediction-log-max-rate", "0"}, s.extraCfg...) // the A/B check counts every request
	cfg, err := config.Load(config.Source{Args: args, Getenv: func(string) string { return "" }})
	if err != nil {
		s.t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		s.t.Fatal(err)
	}
	s.app, s.srv = a, httptest.NewServer(a.Handler())
}

func (s *testServer) stop() {
	if s.srv != nil {
		s.srv.Close()
		if err := s.app.Close(); err != nil {
			s.t.Error(err)
		}
		s.srv = nil
	}
}

// cancerRows are breast-cancer rows (30 features) and v1's answers.
type cancerRows struct {
	x      []float64
	rows   int
	labels []float64
}

func (c cancerRows) row(i int) []float64 { return c.x[(i%c.rows)*30 : (i%c.rows+1)*30] }

// failingOIP is an external runtime speaking the Open Inference
// Protocol that answers its health check (a row of zeros) and fails
// every real request.
func failingOIP(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/health/ready", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"ready":true}`) })
	mux.HandleFunc("GET /v2/models/model", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"name":"model","platform":"test","inputs":[{"name":"input-0","datatype":"FP64","shape":[-1,30]}],
			"outputs":[{"name":"predict","datatype":"FP64","shape":[-1]}]}`)
	})
	mux.HandleFunc("POST /v2/models/model/infer", func(w http.ResponseWriter, r *http.Request) {
		if !healthCheck(r) {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"error":"the model's feature store is unreachable"}`)
			return
		}
		_, _ = io.WriteString(w, `{"model_name":"model","outputs":[{"name":"predict","datatype":"FP64","shape":[1],"data":[0.5]}]}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// healthCheck says whether an OIP request is Ferry's health check: one
// row of zeros.
func healthCheck(r *http.Request) bool {
	var req struct {
		Inputs []struct {
			Data []float64 `json:"data"`
		} `json:"inputs"`
	}
	if json.NewDecoder(r.Body).Decode(&req) != nil || len(req.Inputs) == 0 {
		return false
	}
	for _, in := range req.Inputs {
		for _, v := range in.Data {
			if v != 0 {
				return false
			}
		}
	}
	return true
}

// setupRolloutModels registers model "cancer": v1 an XGBClassifier
// (MLmodel, trained by python3-xgboost), v2 a 100-tree booster file on
// the same features, v3 an external runtime that fails.
func setupRolloutModels(t *testing.T, srv *httptest.Server, failing string) cancerRows {
	run := newRun(t, srv, 0.97)
	fixture := "../modelrt/mlmodel/testdata/xgb_early_stopping"
	for _, f := range []string{"MLmodel", "model.json"} {
		b, err := os.ReadFile(filepath.Join(fixture, f))
		if err != nil {
			t.Fatal(err)
		}
		upload(t, srv.URL, run, "model/"+f, b)
	}
	b, err := os.ReadFile("../modelrt/xgboost/testdata/bench_100x6.ubj")
	if err != nil {
		t.Fatal(err)
	}
	upload(t, srv.URL, run, "bench/model.ubj", b)
	mustOK(t, call(t, srv, "POST", "/api/2.0/mlflow/registered-models/create", map[string]any{"name": "cancer"}))
	for _, src := range []string{"mlflow-artifacts:/0/" + run + "/artifacts/model", "mlflow-artifacts:/0/" + run + "/artifacts/bench/model.ubj", failing} {
		body := map[string]any{"name": "cancer", "source": src}
		if strings.HasPrefix(src, "mlflow-artifacts:") {
			body["run_id"] = run
		}
		mustOK(t, call(t, srv, "POST", "/api/2.0/mlflow/model-versions/create", body))
	}
	x, rows, _ := modelrttest.ReadTable(t, filepath.Join(fixture, "rows.tsv"), 0)
	labels, _, _ := modelrttest.ReadTable(t, filepath.Join(fixture, "predict.tsv"), 0)
	return cancerRows{x: x, rows: rows, labels: labels}
}

// infer sends one row over the Open Inference Protocol.
func infer(t *testing.T, base, path string, row []float64, header map[string]string) (status int, version string, proba float64, requestID string) {
	t.Helper()
	data, _ := json.Marshal(row)
	req, _ := http.NewRequest("POST", base+path, strings.NewReader(
		`{"inputs": [{"name": "input-0", "shape": [1, 30], "datatype": "FP64", "data": `+string(data)+`}]}`))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Version string `json:"model_version"`
		Outputs []struct {
			Data []float64 `json:"data"`
		} `json:"outputs"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode == 200 {
		proba = out.Outputs[0].Data[0]
		if h := resp.Header.Get("Ferry-Model-Version"); h != "" && h != out.Version {
			t.Fatalf("header says version %s, body %s", h, out.Version)
		}
	}
	return resp.StatusCode, out.Version, proba, resp.Header.Get("X-Request-Id")
}

func deployment(t *testing.T, srv *httptest.Server) (map[string]any, map[string]any) {
	t.Helper()
	body := mustOK(t, call(t, srv, "GET", "/api/v1/endpoints/cancer", nil))
	d := body["deployment"].(map[string]any)
	r, _ := d["rollout"].(map[string]any)
	return body, r
}

// until sends requests until cond holds, failing after a deadline.
func until(t *testing.T, what string, send func(i int), cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; !cond(); i++ {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		if send != nil {
			send(i)
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestRollouts is the serving issue's done-when for rollouts: a canary
// whose candidate fails rolls back by itself and says why (history,
// audit trail, lineage, metrics); a healthy canary promotes itself; a
// blue-green switch rolls back instantly; a shadow reports its
// agreement with the stable version; an A/B split is sticky and, with
// ground truth, compares the variants' accuracy; a rollout in progress
// survives a restart.
func TestRollouts(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) { testRollouts(t, e) })
	}
}

func testRollouts(t *testing.T, e engine) {
	dir := t.TempDir()
	db, _ := e.setup(t, dir)
	s := &testServer{t: t, dir: dir, db: db}
	s.start()
	defer s.stop()
	failing := failingOIP(t)
	data := setupRolloutModels(t, s.srv, failing.URL)
	deploy := func(body map[string]any) reply {
		body["endpoint"] = "cancer"
		return call(t, s.srv, "POST", "/api/v1/endpoints", body)
	}
	mustOK(t, deploy(map[string]any{"model": "models:/cancer/1"}))

	// A rollout needs a ready stable version; bad options are refused.
	for _, tc := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"model": "models:/cancer/2", "strategy": "canary", "steps": []int{10, 5}}, "increasing weights"},
		{map[string]any{"model": "models:/cancer/2", "strategy": "canary", "interval": "forever"}, "Invalid interval"},
		{map[string]any{"model": "models:/cancer/2", "strategy": "ab", "weight": 101}, "weight must be between 1 and 100"},
		{map[string]any{"model": "models:/cancer/2", "strategy": "ab", "sticky": "cookie:x"}, "sticky must be"},
		{map[string]any{"model": "models:/cancer/2", "strategy": "ab", "sticky": "field:nope"}, "not a feature of both versions"},
		{map[string]any{"model": "models:/cancer/1", "strategy": "canary"}, "already serves version 1"},
		{map[string]any{"model": "models:/cancer/2", "strategy": "direct", "weight": 5}, "apply to the canary, shadow and ab"},
		{map[string]any{"model": "models:/cancer/2", "strategy": "rainbow"}, "Unknown strategy"},
	} {
		if r := deploy(tc.body); r.status != 400 || !strings.Contains(fmt.Sprint(r.body["message"]), tc.want) {
			t.Errorf("%v: %d %v, want 400 with %q", tc.body, r.status, r.body, tc.want)
		}
	}
	if r := call(t, s.srv, "POST", "/api/v1/endpoints/cancer/promote", nil); r.status != 409 {
		t.Errorf("promote without a rollout: %d %v", r.status, r.body)
	}

	// 1. A canary whose candidate fails is rolled back by the controller.
	mustOK(t, deploy(map[string]any{"model": "models:/cancer/3", "strategy": "canary", "steps": []int{50, 100},
		"interval": "1h", "analysis": map[string]any{"min_requests": 5}}))
	if r := deploy(map[string]any{"model": "models:/cancer/2"}); r.status != 409 {
		t.Fatalf("deploy during a rollout: %d %v", r.status, r.body)
	}
	var failed int
	until(t, "the failing canary to roll back", func(i int) {
		switch st, _, _, _ := infer(t, s.srv.URL, "/v2/models/cancer/infer", data.row(i), nil); st {
		case 200:
		case 502: // the runtime's failure, answered as a gateway would
			failed++
		default:
			t.Fatalf("canary request: status %d", st)
		}
	}, func() bool { _, r := deployment(t, s.srv); return r["state"] == "rolled_back" })
	body, r := deployment(t, s.srv)
	if d := body["deployment"].(map[string]any); d["version"] != 1.0 || !strings.Contains(r["reason"].(string), "error rate") || failed == 0 {
		t.Fatalf("after rollback: %v (failed requests %d)", body, failed)
	}
	for i := range 20 {
		if st, v, _, _ := infer(t, s.srv.URL, "/v2/models/cancer/infer", data.row(i), nil); st != 200 || v != "1" {
			t.Fatalf("after rollback request %d: %d version %s", i, st, v)
		}
	}
	hist := body["history"].([]any)
	last := hist[0].(map[string]any)
	if last["action"] != "rollback" || last["actor"] != "system:rollout" || !strings.Contains(last["reason"].(string), "error rate") {
		t.Fatalf("history: %v", hist)
	}
	// The controller appends its own audit event (the request that
	// triggered nothing is not its author).
	until(t, "the automatic rollback in the audit trail", nil, func() bool {
		events := mustOK(t, call(t, s.srv, "GET", "/api/v1/audit/events?resource=endpoints:/cancer", nil))["events"].([]any)
		for _, ev := range events {
			m := ev.(map[string]any)
			if m["action"] == "serving.rollback" && m["actor"] == "system:rollout" {
				return true
			}
		}
		return false
	})
	lin := get(t, s.srv.URL+"/api/v1/lineage?uri=endpoints:/cancer")
	if !strings.Contains(lin, `"uri":"models:/cancer/3"`) || !strings.Contains(lin, `"relation":"served_by"`) {
		t.Fatalf("lineage: %s", lin)
	}
	metrics := get(t, s.srv.URL+"/metrics")
	for _, want := range []string{
		`ferry_rollout_state{endpoint="cancer",state="rolled_back",strategy="canary"} 1`,
		`ferry_inference_requests_total{code="200",endpoint="cancer",model="cancer",version="1"}`,
		`ferry_inference_request_duration_seconds_bucket{endpoint="cancer",model="cancer",version="3",le="+Inf"}`,
		`ferry_inference_in_flight_requests{endpoint="cancer"} 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if !strings.Contains(metrics, `version="3"} `) || !strings.Contains(metrics, `ferry_inference_requests_total{code="5`) {
		t.Errorf("/metrics does not count the candidate's failures")
	}

	// 2. A healthy canary passes its steps and is promoted.
	mustOK(t, deploy(map[string]any{"model": "models:/cancer/2", "strategy": "canary", "steps": []int{50, 100},
		"interval": "150ms", "analysis": map[string]any{"min_requests": 5, "max_latency_ratio": 1000}}))
	seen := map[string]bool{}
	until(t, "the canary to promote", func(i int) {
		st, v, _, _ := infer(t, s.srv.URL, "/v2/models/cancer/infer", data.row(i), nil)
		if st != 200 {
			t.Fatalf("canary request: %d", st)
		}
		seen[v] = true
	}, func() bool {
		_, r := deployment(t, s.srv)
		if r["state"] == "rolled_back" {
			t.Fatalf("the healthy canary was rolled back: %v", r["reason"])
		}
		return r["state"] == "promoted"
	})
	body, _ = deployment(t, s.srv)
	if d := body["deployment"].(map[string]any); d["version"] != 2.0 || !seen["1"] || !seen["2"] {
		t.Fatalf("after promotion: %v; versions seen %v", d, seen)
	}
	if p := body["deployment"].(map[string]any)["previous"].(map[string]any); p["version"] != 1.0 {
		t.Fatalf("previous: %v", p)
	}

	// 3. Blue-green: v1 takes all traffic at once, v2 stays warm; a
	// rollback is instant and a second one returns.
	// (through the command-line client)
	if code, out := runCLI(s.srv.URL, "deploy", "cancer", "--model", "models:/cancer/1", "--strategy", "blue-green"); code != 0 ||
		!strings.Contains(out, "Deployed version 1 of model cancer at endpoint cancer (blue-green)") {
		t.Fatalf("ferry deploy: %d %s", code, out)
	}
	if _, v, _, _ := infer(t, s.srv.URL, "/v2/models/cancer/infer", data.row(0), nil); v != "1" {
		t.Fatalf("blue-green serves version %s", v)
	}
	code, out := runCLI(s.srv.URL, "endpoints", "status", "cancer")
	if code != 0 ||
		!strings.Contains(out, "Previous:  models:/cancer/2 (kept loaded for an instant rollback)") ||
		!strings.Contains(out, "promote") || !strings.Contains(out, "step 1 (50%) failed: error rate") {
		t.Fatalf("ferry endpoints status: %d %s", code, out)
	}
	if code, out := runCLI(s.srv.URL, "rollback", "cancer"); code != 0 || !strings.Contains(out, "Endpoint cancer serves version 2 of model cancer") {
		t.Fatalf("ferry rollback: %d %s", code, out)
	}
	if _, v, _, _ := infer(t, s.srv.URL, "/v2/models/cancer/infer", data.row(0), nil); v != "2" {
		t.Fatalf("after rollback serves version %s", v)
	}
	mustOK(t, call(t, s.srv, "POST", "/api/v1/endpoints/cancer/rollback", nil))

	// 4. Shadow: clients get v1's answers; v2 sees every request and the
	// agreement is what the two versions' answers say.
	mustOK(t, deploy(map[string]any{"model": "models:/cancer/2", "strategy": "shadow"}))
	var agree int
	for i := range data.rows {
		st, v, p1, _ := infer(t, s.srv.URL, "/v2/models/cancer/infer", data.row(i), nil)
		_, _, p2, _ := infer(t, s.srv.URL, "/v2/models/cancer/versions/2/infer", data.row(i), nil)
		if st != 200 || v != "1" {
			t.Fatalf("shadow request: %d version %s", st, v)
		}
		if (p1 >= 0.5) == (p2 >= 0.5) {
			agree++
		}
	}
	var shadow map[string]any
	until(t, "the shadow to compare every request", nil, func() bool {
		body, _ := deployment(t, s.srv)
		shadow, _ = body["report"].(map[string]any)["shadow"].(map[string]any)
		return shadow != nil && shadow["compared"].(float64) >= float64(data.rows)
	})
	if want := float64(agree) / float64(data.rows); math.Abs(shadow["agreement_rate"].(float64)-want) > 1e-9 || shadow["failed"] != 0.0 {
		t.Fatalf("shadow report %v, want agreement %v", shadow, want)
	}
	mustOK(t, call(t, s.srv, "POST", "/api/v1/endpoints/cancer/rollback", nil))

	// 5. A/B split, sticky per user; ground truth through the feedback
	// API gives each variant's accuracy and a significance test.
	mustOK(t, deploy(map[string]any{"model": "models:/cancer/2", "strategy": "ab", "sticky": "header:X-User"}))
	variantOf := map[string]string{}
	correct := map[string]int{}
	count := map[string]int{}
	for i := range 200 {
		user := fmt.Sprintf("user-%d", i%50)
		st, v, p, id := infer(t, s.srv.URL, "/v2/models/cancer/infer", data.row(i), map[string]string{"X-User": user})
		if st != 200 {
			t.Fatalf("ab request: %d", st)
		}
		if prev, ok := variantOf[user]; ok && prev != v {
			t.Fatalf("user %s moved from version %s to %s", user, prev, v)
		}
		variantOf[user] = v
		truth := data.labels[i%data.rows]
		count[v]++
		if (p >= 0.5) == (truth == 1) {
			correct[v]++
		}
		mustOK(t, call(t, s.srv, "POST", "/api/v1/endpoints/cancer/feedback", map[string]any{"request_id": id, "ground_truth": truth}))
	}
	if count["1"] == 0 || count["2"] == 0 {
		t.Fatalf("the split sent everything one way: %v", count)
	}
	var outcome map[string]any
	until(t, "the A/B outcome to cover every request", nil, func() bool {
		body, _ := deployment(t, s.srv)
		outcome, _ = body["report"].(map[string]any)["outcome"].(map[string]any)
		return outcome != nil && outcome["stable_n"].(float64)+outcome["candidate_n"].(float64) == 200
	})
	if outcome["stable_n"] != float64(count["1"]) || outcome["candidate_n"] != float64(count["2"]) ||
		math.Abs(outcome["stable"].(float64)-float64(correct["1"])/float64(count["1"])) > 1e-12 ||
		math.Abs(outcome["candidate"].(float64)-float64(correct["2"])/float64(count["2"])) > 1e-12 ||
		outcome["metric"] != "accuracy" || !(outcome["p_value"].(float64) >= 0 && outcome["p_value"].(float64) <= 1) {
		t.Fatalf("outcome %v; counted %v correct %v", outcome, count, correct)
	}
	mustOK(t, call(t, s.srv, "POST", "/api/v1/endpoints/cancer/rollback", nil))

	// 6. A canary in progress survives a restart.
	mustOK(t, deploy(map[string]any{"model": "models:/cancer/2", "strategy": "canary", "interval": "1h"}))
	s.stop()
	s.start()
	_, r = deployment(t, s.srv)
	if r["state"] != "progressing" || r["weight"] != 5.0 {
		t.Fatalf("after restart: %v", r)
	}
	if st, v, _, _ := infer(t, s.srv.URL, "/v2/models/cancer/versions/2/infer", data.row(0), nil); st != 200 || v != "2" {
		t.Fatalf("the candidate is not loaded after a restart: %d %s", st, v)
	}
	mustOK(t, call(t, s.srv, "POST", "/api/v1/endpoints/cancer/promote", nil))
	if _, v, _, _ := infer(t, s.srv.URL, "/v2/models/cancer/infer", data.row(0), nil); v != "2" {
		t.Fatalf("after promote serves version %s", v)
	}
}
