package cli_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/config"
)

// selfApproval lets the fixture's only user ("anonymous", who registers
// the versions) review them.
func selfApproval(c *config.Config) { c.SelfApproval = true }

// seedModels creates, in experiment 0 ("Default"):
//
//	run "train": dataset inputs fraud-train@d1g (training) and
//	  fraud-test@e2h (evaluation), metric auc 0.8;
//	registered model "fraud" with versions 1 and 2 registered from run
//	  train; version 2 has the alias champion and the tag team=risk.
func seedModels(t *testing.T, opts ...func(*config.Config)) *fixture {
	t.Helper()
	f := &fixture{t: t, url: newServer(t, opts...).URL, runs: map[string]string{}}
	train := f.createRun("0", "train", t0, "")
	f.post("runs/log-inputs", `{"run_id": %q, "datasets": [
		{"tags": [{"key": "mlflow.data.context", "value": "training"}],
		 "dataset": {"name": "fraud-train", "digest": "d1g", "source_type": "local", "source": "{\"uri\": \"/data/train.csv\"}"}},
		{"tags": [{"key": "mlflow.data.context", "value": "evaluation"}],
		 "dataset": {"name": "fraud-test", "digest": "e2h", "source_type": "local", "source": "{\"uri\": \"/data/test.csv\"}"}}]}`, train)
	f.logAUC(0.8)
	f.post("registered-models/create", `{"name": "fraud"}`)
	for range 2 {
		f.post("model-versions/create", `{"name": "fraud", "source": "mlflow-artifacts:/0/%s/artifacts/model", "run_id": %q}`, train, train)
	}
	f.post("registered-models/alias", `{"name": "fraud", "alias": "champion", "version": "2"}`)
	f.post("model-versions/set-tag", `{"name": "fraud", "version": "2", "key": "team", "value": "risk"}`)
	return f
}

// logAUC logs a new latest value of metric auc on run train.
func (f *fixture) logAUC(v float64) {
	f.t.Helper()
	f.post("runs/log-metric", `{"run_id": %q, "key": "auc", "value": %g, "timestamp": %d}`, f.runs["train"], v, t0+int64(v*1000))
}

func TestLineageGolden(t *testing.T) {
	f := seedModels(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"lineage_model", []string{"lineage", "models:/fraud/2"}},
		{"lineage_model_alias", []string{"lineage", "models:/fraud@champion"}},
		{"lineage_dataset", []string{"lineage", "datasets:/fraud-train@d1g"}},
		{"lineage_dataset_depth1", []string{"lineage", "--depth", "1", "datasets:/fraud-train@d1g"}},
		{"lineage_run", []string{"lineage", "RUN:train"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				if name, ok := strings.CutPrefix(a, "RUN:"); ok {
					a = "runs:/" + f.runs[name]
				}
				args[i] = a
			}
			stdout, stderr, code := f.ferry(args...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			golden(t, tc.name, f.normalize(stdout))
		})
	}

	t.Run("json", func(t *testing.T) {
		stdout, _, code := f.ferry("lineage", "models:/fraud/1", "--json")
		var out struct {
			Root struct {
				URI  string `json:"uri"`
				Kind string `json:"kind"`
			} `json:"root"`
			Upstream []struct {
				Node struct {
					URI string `json:"uri"`
				} `json:"node"`
				Relation string `json:"relation"`
				Via      string `json:"via"`
				Depth    int    `json:"depth"`
			} `json:"upstream"`
			Downstream []any `json:"downstream"`
		}
		mustJSON(t, code, stdout, &out)
		if out.Root.URI != "models:/fraud/1" || out.Root.Kind != "model_version" || len(out.Upstream) != 3 || len(out.Downstream) != 0 {
			t.Errorf("lineage = %+v", out)
		}
		if u := out.Upstream[0]; u.Node.URI != "runs:/"+f.runs["train"] || u.Relation != "registered_as" || u.Via != "models:/fraud/1" || u.Depth != 1 {
			t.Errorf("upstream[0] = %+v", u)
		}
	})
}

func TestModelsApprove(t *testing.T) {
	f := seedModels(t, selfApproval)

	stdout, stderr, code := f.ferry("models", "approve", "fraud", "2", "--comment", "AUC is fine")
	if code != 0 || stderr != "" {
		t.Fatalf("approve: exit %d, stderr:\n%s", code, stderr)
	}
	for _, want := range []string{"Approved version 2 of model fraud.\n", "Approval: approved\n", "Approvers:      anonymous\n",
		"Latest review:  anonymous at ", "Comment:        AUC is fine\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("approve output lacks %q:\n%s", want, stdout)
		}
	}

	// By alias, and with a comment that needs escaping in the table.
	stdout, stderr, code = f.ferry("models", "reject", "fraud", "@champion", "--comment", "wait for the\tfairness check")
	if code != 0 || stderr != "" {
		t.Fatalf("reject: exit %d, stderr:\n%s", code, stderr)
	}
	for _, want := range []string{"Rejected version 2 of model fraud.\n", "Approval: rejected\n", "Approvers:      none\n", `Comment:        wait for the\tfairness check`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("reject output lacks %q:\n%s", want, stdout)
		}
	}

	for _, tc := range []struct{ name, version string }{
		{"models_reviews", "2"},
		{"models_show", "@champion"},
		{"models_show_pending", "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := "show"
			if tc.name == "models_reviews" {
				cmd = "reviews"
			}
			stdout, stderr, code := f.ferry("models", cmd, "fraud", tc.version)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			golden(t, tc.name, f.normalize(stdout))
		})
	}

	stdout, _, code = f.ferry("models", "show", "fraud", "latest")
	if code != 0 || !strings.Contains(stdout, "\nVersion:  2\n") {
		t.Errorf("show latest: exit %d:\n%s", code, stdout)
	}

	t.Run("json", func(t *testing.T) {
		stdout, _, code := f.ferry("models", "approve", "fraud", "1", "--json")
		var out struct {
			ModelVersion struct {
				Name     string `json:"name"`
				Version  int    `json:"version"`
				URI      string `json:"uri"`
				Approval struct {
					Status    string   `json:"status"`
					Approvers []string `json:"approvers"`
				} `json:"approval"`
			} `json:"model_version"`
		}
		mustJSON(t, code, stdout, &out)
		mv := out.ModelVersion
		if mv.Name != "fraud" || mv.Version != 1 || mv.URI != "models:/fraud/1" || mv.Approval.Status != "approved" || len(mv.Approval.Approvers) != 1 {
			t.Errorf("model_version = %+v", mv)
		}
		stdout, _, code = f.ferry("models", "reviews", "fraud", "2", "--json")
		var rv struct {
			Approval struct {
				Status string `json:"status"`
			} `json:"approval"`
			Reviews []struct {
				Decision string `json:"decision"`
			} `json:"reviews"`
		}
		mustJSON(t, code, stdout, &rv)
		if rv.Approval.Status != "rejected" || len(rv.Reviews) != 2 || rv.Reviews[0].Decision != "approved" {
			t.Errorf("reviews = %+v", rv)
		}
	})
}

func TestModelsApproveSelfApprovalRefused(t *testing.T) {
	f := seedModels(t) // self-approval is off by default
	stdout, stderr, code := f.ferry("models", "approve", "fraud", "1")
	if code != 1 || stdout != "" {
		t.Fatalf("exit %d, stdout %q; want 1 and nothing", code, stdout)
	}
	for _, want := range []string{"ferry: PERMISSION_DENIED: ", "'anonymous' registered version 1 of model 'fraud' and may not review it",
		"self-approval is disabled (setting registry_self_approval)"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	// Nothing changed.
	stdout, _, _ = f.ferry("models", "reviews", "fraud", "1")
	if !strings.HasPrefix(stdout, "Approval: pending\n") || !strings.Contains(stdout, "Reviews: none") {
		t.Errorf("after a refused approval:\n%s", stdout)
	}
}

func TestModelsCard(t *testing.T) {
	f := seedModels(t)
	dir := t.TempDir()

	out := filepath.Join(dir, "card.md")
	stdout, stderr, code := f.ferry("models", "card", "fraud", "2", "-o", out)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if !regexp.MustCompile(`^Wrote the model card of fraud version 2 \(md, \d+(\.\d)? (B|KiB)\) to .*card\.md\n$`).MatchString(stdout) {
		t.Errorf("stdout = %q", stdout)
	}
	md, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(md), "# Model card: fraud") || !strings.Contains(string(md), f.runs["train"]) {
		t.Errorf("card.md:\n%s", md)
	}
	// The same card on stdout, the default format.
	stdout, _, code = f.ferry("models", "card", "fraud", "2")
	if code != 0 || !strings.HasPrefix(stdout, "# Model card: fraud") {
		t.Errorf("card on stdout: exit %d:\n%.200s", code, stdout)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory holds %d files, want only card.md (no temporary file left)", len(entries))
	}

	html := filepath.Join(dir, "card.html")
	if _, stderr, code := f.ferry("models", "card", "fraud", "@champion", "--format", "html", "--output", html); code != 0 {
		t.Fatalf("html: exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(html); !strings.Contains(strings.ToLower(string(b)), "<html") {
		t.Errorf("card.html is not HTML:\n%.300s", b)
	}

	stdout, _, code = f.ferry("models", "card", "fraud", "2", "--json")
	var card struct {
		ModelDetails struct {
			Name string `json:"name"`
		} `json:"model_details"`
	}
	mustJSON(t, code, stdout, &card)
	if card.ModelDetails.Name != "fraud" {
		t.Errorf("JSON card: %.300s", stdout)
	}

	// A missing version is an error, and no file is written.
	missing := filepath.Join(dir, "missing.md")
	_, stderr, code = f.ferry("models", "card", "fraud", "9", "-o", missing)
	if code != 1 || !strings.Contains(stderr, "RESOURCE_DOES_NOT_EXIST") {
		t.Errorf("missing version: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("a file was written for a missing version: %v", err)
	}
}

const fraudPolicy = `version: 1
gates:
  - name: production-quality
    when: {aliases: [production]}
    require:
      metrics:
        - metrics.auc >= 0.85
`

// badPolicy has a metric threshold that is not a number on line 7.
const badPolicy = `version: 1
gates:
  - name: production-quality
    when: {aliases: [production]}
    require:
      metrics:
        - metrics.auc >= high
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

var lineCol = regexp.MustCompile(`:\d+:\d+: `)

func TestPolicyModel(t *testing.T) {
	f := seedModels(t)

	// A document with a mistake is refused, naming line and column.
	stdout, stderr, code := f.ferry("policy", "set", "fraud", writeFile(t, "bad.yaml", badPolicy))
	if code != 1 || stdout != "" {
		t.Errorf("bad policy: exit %d, stdout %q; want 1 and nothing", code, stdout)
	}
	if !strings.HasPrefix(stderr, "ferry: INVALID_PARAMETER_VALUE: ") || !strings.Contains(stderr, ":7:") || !lineCol.MatchString(stderr) {
		t.Errorf("bad policy: stderr does not name line 7 and its column:\n%s", stderr)
	}
	if strings.Contains(stderr, "Usage:") {
		t.Errorf("a server's refusal is not a usage error:\n%s", stderr)
	}
	_, stderr, _ = f.ferry("policy", "show", "fraud")
	if !strings.Contains(stderr, "model fraud has no policy of its own") {
		t.Errorf("the bad policy was stored? stderr %q", stderr)
	}

	stdout, stderr, code = f.ferry("policy", "set", "fraud", writeFile(t, "fraud.yaml", fraudPolicy))
	if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "Set the policy of model fraud from ") {
		t.Fatalf("set: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	stdout, stderr, code = f.ferry("policy", "show", "fraud")
	if code != 0 || stderr != "" || stdout != fraudPolicy {
		t.Errorf("show: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}

	// auc is 0.8: refused, exit 1, the verdict on stdout and nothing on stderr.
	stdout, stderr, code = f.ferry("policy", "check", "models:/fraud/2", "--alias", "production")
	if code != 1 || stderr != "" {
		t.Errorf("check refused: exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"REFUSED", "production-quality", "FAIL", "metrics.auc >= 0.85", "0.8"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("refusal lacks %q:\n%s", want, stdout)
		}
	}
	stdout, stderr, code = f.ferry("policy", "check", "models:/fraud@champion", "--alias", "production", "--json")
	var verdict struct {
		Allowed bool `json:"allowed"`
		Rules   []struct {
			Rule   string `json:"rule"`
			Passed bool   `json:"passed"`
		} `json:"rules"`
		Explanation string `json:"explanation"`
	}
	if code != 1 || stderr != "" {
		t.Errorf("check refused --json: exit %d, stderr %q", code, stderr)
	}
	if err := json.Unmarshal([]byte(stdout), &verdict); err != nil || verdict.Allowed || len(verdict.Rules) != 1 || verdict.Rules[0].Passed {
		t.Errorf("check refused --json: %v\n%s", err, stdout)
	}

	// auc is 0.9: allowed, exit 0.
	f.logAUC(0.9)
	stdout, stderr, code = f.ferry("policy", "check", "models:/fraud/2", "--alias", "production")
	if code != 0 || stderr != "" || !strings.Contains(stdout, "ALLOWED") || !strings.Contains(stdout, "0.9") {
		t.Errorf("check allowed: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	stdout, _, code = f.ferry("policy", "check", "models:/fraud/2", "--alias", "production", "--json")
	mustJSON(t, code, stdout, &verdict)
	if !verdict.Allowed || !strings.Contains(verdict.Explanation, "ALLOWED") {
		t.Errorf("check allowed --json:\n%s", stdout)
	}
	// A move no gate guards.
	stdout, _, code = f.ferry("policy", "check", "models:/fraud/1", "--stage", "staging")
	if code != 0 || !strings.Contains(stdout, "ALLOWED") {
		t.Errorf("unguarded move: exit %d:\n%s", code, stdout)
	}

	stdout, stderr, code = f.ferry("policy", "unset", "fraud")
	if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "Removed the policy of model fraud") {
		t.Errorf("unset: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	stdout, stderr, code = f.ferry("policy", "show", "fraud")
	if code != 0 || stdout != "" || !strings.Contains(stderr, "no policy of its own") {
		t.Errorf("show after unset: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	stdout, _, code = f.ferry("policy", "show", "fraud", "--json")
	var doc struct {
		Name   string `json:"name"`
		Policy string `json:"policy"`
	}
	mustJSON(t, code, stdout, &doc)
	if doc.Name != "fraud" || doc.Policy != "" {
		t.Errorf("show --json after unset: %+v", doc)
	}

	// Errors from the server.
	_, stderr, code = f.ferry("policy", "show", "nope")
	if code != 1 || !strings.Contains(stderr, "RESOURCE_DOES_NOT_EXIST") {
		t.Errorf("unknown model: exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = f.ferry("policy", "check", "models:/fraud/7", "--alias", "production")
	if code != 1 || !strings.Contains(stderr, "ferry: RESOURCE_DOES_NOT_EXIST") {
		t.Errorf("unknown version: exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = f.ferry("policy", "set", "fraud", filepath.Join(t.TempDir(), "absent.yaml"))
	if code != 1 || !strings.Contains(stderr, "absent.yaml") {
		t.Errorf("absent file: exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = f.ferry("policy", "set", "fraud", writeFile(t, "empty.yaml", "\n"))
	if code != 1 || !strings.Contains(stderr, "ferry policy unset fraud") {
		t.Errorf("empty file: exit %d, stderr %q", code, stderr)
	}
}

func TestPolicyGlobal(t *testing.T) {
	file := writeFile(t, "policy.yaml", fraudPolicy)
	f := seedModels(t, func(c *config.Config) { c.PolicyFile = file })

	want := "Global policy: " + file + "\nGates (1): production-quality\n"
	stdout, stderr, code := f.ferry("policy", "show")
	if code != 0 || stderr != "" || stdout != want {
		t.Errorf("show: exit %d, stderr %q, stdout %q; want %q", code, stderr, stdout, want)
	}

	// A broken file is refused with its line and column; the policy in
	// force stays.
	if err := os.WriteFile(file, []byte(badPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = f.ferry("policy", "reload")
	if code != 1 || stdout != "" || !strings.Contains(stderr, file+":7:") {
		t.Errorf("reload of a broken file: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, _, code := f.ferry("policy", "check", "models:/fraud/1", "--alias", "production"); code != 1 {
		t.Errorf("the policy in force was dropped: check exit %d", code)
	}

	second := fraudPolicy + `  - name: staging
    when: {stages: [Staging]}
    require: {approvals: 1}
`
	if err := os.WriteFile(file, []byte(second), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = f.ferry("policy", "reload")
	if want := "Reloaded.\nGlobal policy: " + file + "\nGates (2): production-quality, staging\n"; code != 0 || stderr != "" || stdout != want {
		t.Errorf("reload: exit %d, stderr %q, stdout %q; want %q", code, stderr, stdout, want)
	}
	stdout, _, code = f.ferry("policy", "show", "--json")
	var g struct {
		File   string   `json:"file"`
		Loaded bool     `json:"loaded"`
		Gates  []string `json:"gates"`
	}
	mustJSON(t, code, stdout, &g)
	if g.File != file || !g.Loaded || len(g.Gates) != 2 {
		t.Errorf("show --json: %+v", g)
	}

	// Without a policy file.
	f = seedModels(t)
	stdout, _, code = f.ferry("policy", "show")
	if code != 0 || stdout != "Global policy: none (the server has no policy_file)\n" {
		t.Errorf("no policy file: exit %d, %q", code, stdout)
	}
	stdout, _, code = f.ferry("policy", "reload")
	if code != 0 || !strings.Contains(stdout, "nothing to reload") {
		t.Errorf("reload without a file: exit %d, %q", code, stdout)
	}
}

func TestAudit(t *testing.T) {
	f := seedModels(t, selfApproval)
	if _, stderr, code := f.ferry("models", "approve", "fraud", "1", "--comment", "ok"); code != 0 {
		t.Fatalf("approve: %s", stderr)
	}

	stdout, stderr, code := f.ferry("audit", "verify")
	if code != 0 || stderr != "" {
		t.Errorf("verify: exit %d, stderr %q", code, stderr)
	}
	m := regexp.MustCompile(`^audit trail OK: (\d+) entries, signed up to seq (\d+) \((\d+) checkpoints\)\n$`).FindStringSubmatch(stdout)
	if m == nil || m[1] == "0" || m[1] != m[2] {
		t.Errorf("verify: %q", stdout)
	}
	stdout, _, code = f.ferry("audit", "verify", "--json")
	var rep struct {
		OK      bool  `json:"ok"`
		Entries int64 `json:"entries"`
	}
	mustJSON(t, code, stdout, &rep)
	if !rep.OK || rep.Entries == 0 {
		t.Errorf("verify --json: %s", stdout)
	}

	stdout, stderr, code = f.ferry("audit", "log", "--resource", "models:/fraud")
	if code != 0 || stderr != "" {
		t.Fatalf("log: exit %d, stderr %q", code, stderr)
	}
	golden(t, "audit_log_resource", f.normalize(stdout))

	// Newest first, paged.
	stdout, stderr, code = f.ferry("audit", "log", "--resource", "models:/fraud", "--newest", "--limit", "2")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || len(lines) != 3 || !strings.Contains(lines[1], "registry.approve_version") {
		t.Errorf("log --newest --limit 2: exit %d:\n%s", code, stdout)
	}
	if !regexp.MustCompile(`^ferry: showing 2 events; there may be more \(--newest --before \d+ continues\)\n$`).MatchString(stderr) {
		t.Errorf("log --limit 2: stderr %q", stderr)
	}
	stdout, _, code = f.ferry("audit", "log", "--actor", "nobody")
	if code != 0 || stdout != "No audit events found.\n" {
		t.Errorf("log --actor nobody: exit %d, %q", code, stdout)
	}
	stdout, _, code = f.ferry("audit", "log", "--json", "--limit", "1")
	var events struct {
		Events []struct {
			Seq  int64  `json:"seq"`
			Hash string `json:"hash"`
		} `json:"events"`
	}
	mustJSON(t, code, stdout, &events)
	if len(events.Events) != 1 || events.Events[0].Seq != 1 || len(events.Events[0].Hash) != 64 {
		t.Errorf("log --json: %s", stdout)
	}
}

// fakeServer answers path with status and body, and 404 elsewhere.
func fakeServer(t *testing.T, path string, status int, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestAuditVerifyBroken(t *testing.T) {
	url := fakeServer(t, "/api/v1/audit/verify", http.StatusOK,
		`{"ok": false, "entries": 40, "last_seq": 40, "checkpoints": 40, "signed": 40, "first_bad": 17, "problem": "entry 17: hash mismatch (row edited?)", "problems": 2}`)
	env := map[string]string{"FERRY_URL": url}

	stdout, stderr, code := run(env, "audit", "verify")
	if code != 1 || stderr != "" {
		t.Errorf("exit %d, stderr %q; want 1 and nothing", code, stderr)
	}
	want := "audit trail BROKEN at entry 17: hash mismatch (row edited?)\n" +
		"1 more problem found; 40 entries read (last seq 40); 40 checkpoints, the last that matches its entry at seq 40\n"
	if stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
	}

	stdout, stderr, code = run(env, "audit", "verify", "--json")
	var rep struct {
		OK       bool   `json:"ok"`
		FirstBad int64  `json:"first_bad"`
		Problem  string `json:"problem"`
	}
	if code != 1 || stderr != "" {
		t.Errorf("--json: exit %d, stderr %q; want 1 and nothing", code, stderr)
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || rep.OK || rep.FirstBad != 17 || rep.Problem != "entry 17: hash mismatch (row edited?)" {
		t.Errorf("--json: %v\n%s", err, stdout)
	}

	// A problem that names no entry.
	url = fakeServer(t, "/api/v1/audit/verify", http.StatusOK, `{"ok": false, "problem": "the head file is unreadable", "problems": 1}`)
	stdout, _, code = run(map[string]string{"FERRY_URL": url}, "audit", "verify")
	if code != 1 || !strings.HasPrefix(stdout, "audit trail BROKEN: the head file is unreadable\n") {
		t.Errorf("no entry: exit %d, %q", code, stdout)
	}

	// A server error is an error, not a verdict.
	url = fakeServer(t, "/api/v1/audit/verify", http.StatusServiceUnavailable,
		`{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "This server keeps no audit trail."}`)
	stdout, stderr, code = run(map[string]string{"FERRY_URL": url}, "audit", "verify")
	if code != 1 || stdout != "" || stderr != "ferry: TEMPORARILY_UNAVAILABLE: This server keeps no audit trail.\n" {
		t.Errorf("unavailable: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestPolicyCheckWithoutExplanation(t *testing.T) {
	// An answer without an explanation still shows every rule.
	url := fakeServer(t, "/api/v1/policy/check", http.StatusOK, `{"model": "m", "version": 3, "target": {"kind": "alias", "name": "production"},
		"allowed": false, "gates": [{"gate": "g", "source": "policy.yaml", "passed": false}],
		"rules": [{"gate": "g", "source": "policy.yaml", "rule": "metrics.auc >= 0.85", "passed": false, "detail": "auc = 0.8"}]}`)
	stdout, stderr, code := run(map[string]string{"FERRY_URL": url}, "policy", "check", "models:/m/3", "--alias", "production")
	want := "Policy check: m version 3 → alias production\nVerdict: REFUSED\n  FAIL  g: metrics.auc >= 0.85  auc = 0.8\n"
	if code != 1 || stderr != "" || stdout != want {
		t.Errorf("exit %d, stderr %q, stdout:\n%s\nwant:\n%s", code, stderr, stdout, want)
	}
}

func TestGovernanceErrors(t *testing.T) {
	f := seedModels(t)
	// An MLflow server has no /api/v1.
	mlflowURL := fakeServer(t, "/api/2.0/mlflow/experiments/search", http.StatusOK, `{"experiments": []}`)

	checkErrors(t, f.url, []errorCase{
		{name: "lineage without URI", args: []string{"lineage"}, code: 2, stderr: []string{"missing URI", "Usage: ferry lineage URI"}},
		{name: "lineage two URIs", args: []string{"lineage", "runs:/a", "runs:/b"}, code: 2, stderr: []string{`unexpected argument "runs:/b"`}},
		{name: "lineage bad URI", args: []string{"lineage", "fraud/3"}, code: 2, stderr: []string{`"fraud/3" is not a models:/, runs:/ or datasets:/ URI`}},
		{name: "lineage bad depth", args: []string{"lineage", "models:/fraud/1", "--depth", "-1"}, code: 2, stderr: []string{"--depth must be 1 or more"}},
		{name: "lineage unknown flag", args: []string{"lineage", "models:/fraud/1", "--deep"}, code: 2, stderr: []string{"unknown flag --deep", "Usage: ferry lineage"}},
		{name: "lineage unknown version", args: []string{"lineage", "models:/fraud/9"}, code: 1, stderr: []string{"ferry: RESOURCE_DOES_NOT_EXIST: "}},
		{name: "lineage depth over the limit", args: []string{"lineage", "models:/fraud/1", "--depth", "500"}, code: 1, stderr: []string{"ferry: INVALID_PARAMETER_VALUE: ", "500"}},
		{name: "models without subcommand", args: []string{"models"}, code: 2, stderr: []string{"missing subcommand for models", "ferry models approve NAME VERSION"}},
		{name: "models unknown subcommand", args: []string{"models", "promote"}, code: 2, stderr: []string{`unknown command "models promote"`}},
		{name: "approve without version", args: []string{"models", "approve", "fraud"}, code: 2, stderr: []string{"missing VERSION", "Usage: ferry models approve"}},
		{name: "approve without args", args: []string{"models", "approve"}, code: 2, stderr: []string{"missing NAME and VERSION"}},
		{name: "show extra argument", args: []string{"models", "show", "fraud", "1", "2"}, code: 2, stderr: []string{`unexpected argument "2"`}},
		{name: "unknown model", args: []string{"models", "show", "nope", "1"}, code: 1, stderr: []string{"ferry: RESOURCE_DOES_NOT_EXIST: "}},
		{name: "card bad format", args: []string{"models", "card", "fraud", "1", "--format", "pdf"}, code: 2, stderr: []string{`--format must be json, md or html, got "pdf"`}},
		{name: "card json and md", args: []string{"models", "card", "fraud", "1", "--format", "md", "--json"}, code: 2, stderr: []string{"--json prints the JSON card"}},
		{name: "check without target", args: []string{"policy", "check", "models:/fraud/1"}, code: 2, stderr: []string{"exactly one of --alias, --stage and --deploy"}},
		{name: "check two targets", args: []string{"policy", "check", "models:/fraud/1", "--alias", "p", "--deploy"}, code: 2, stderr: []string{"exactly one of"}},
		{name: "check endpoint without deploy", args: []string{"policy", "check", "models:/fraud/1", "--alias", "p", "--endpoint", "e"}, code: 2, stderr: []string{"--endpoint goes with --deploy"}},
		{name: "check not a model URI", args: []string{"policy", "check", "runs:/abc", "--alias", "p"}, code: 2, stderr: []string{"not a model version URI"}},
		{name: "check bad stage", args: []string{"policy", "check", "models:/fraud/1", "--stage", "Limbo"}, code: 1, stderr: []string{"ferry: INVALID_PARAMETER_VALUE: "}},
		{name: "policy set without file", args: []string{"policy", "set", "fraud"}, code: 2, stderr: []string{"missing FILE"}},
		{name: "policy unset without name", args: []string{"policy", "unset"}, code: 2, stderr: []string{"missing NAME"}},
		{name: "policy reload argument", args: []string{"policy", "reload", "now"}, code: 2, stderr: []string{`unexpected argument "now"`}},
		{name: "audit log bad limit", args: []string{"audit", "log", "--limit", "0"}, code: 2, stderr: []string{"--limit must be between 1 and 10000"}},
		{name: "audit log bad after", args: []string{"audit", "log", "--after", "x"}, code: 2, stderr: []string{`invalid value "x" for flag --after`}},
		{name: "audit verify argument", args: []string{"audit", "verify", "all"}, code: 2, stderr: []string{`unexpected argument "all"`}},
		{name: "not a Ferry server", env: map[string]string{"FERRY_URL": mlflowURL}, args: []string{"audit", "verify"}, code: 1,
			stderr: []string{"HTTP 404 Not Found", "does not offer this endpoint of Ferry's /api/v1 API"}},
	})
}

func TestGovernanceHelp(t *testing.T) {
	for _, args := range [][]string{
		{"lineage", "--help"},
		{"lineage", "-h", "models:/x/1"},
		{"models", "--help"},
		{"models", "approve", "--help"},
		{"models", "reject", "-h"},
		{"models", "show", "--help"},
		{"models", "reviews", "--help"},
		{"models", "card", "--help"},
		{"policy", "--help"},
		{"policy", "check", "--help"},
		{"policy", "show", "--help"},
		{"policy", "set", "--help"},
		{"policy", "unset", "--help"},
		{"policy", "reload", "--help"},
		{"audit", "--help"},
		{"audit", "verify", "--help"},
		{"audit", "log", "--help"},
	} {
		stdout, stderr, code := run(nil, args...)
		if code != 0 || stderr != "" || !strings.Contains(stdout, "Usage") || !strings.Contains(stdout, "--server URL") {
			t.Errorf("%v: exit %d, stderr %q, stdout:\n%s", args, code, stderr, stdout)
		}
	}
	// The exit codes of the verdicts are documented where scripts look.
	stdout, _, _ := run(nil, "policy", "check", "--help")
	if !strings.Contains(stdout, "0  the move is allowed") || !strings.Contains(stdout, "1  the policies refuse it") {
		t.Errorf("policy check --help does not document its exit codes:\n%s", stdout)
	}
	stdout, _, _ = run(nil, "audit", "verify", "--help")
	if !strings.Contains(stdout, "Exit status: 0 when the trail is intact, 1 when it is broken") {
		t.Errorf("audit verify --help does not document its exit codes:\n%s", stdout)
	}
	// Every command is in the overview.
	_, stderr, _ := run(nil)
	for _, cmd := range []string{"ferry lineage URI", "ferry models approve", "ferry models reject", "ferry models show", "ferry models reviews",
		"ferry models card", "ferry policy check", "ferry policy show", "ferry policy set", "ferry policy unset", "ferry policy reload",
		"ferry audit verify", "ferry audit log"} {
		if !strings.Contains(stderr, cmd) {
			t.Errorf("Usage lacks %q", cmd)
		}
	}
}

func TestModelNameEscaping(t *testing.T) {
	f := seedModels(t, selfApproval)
	const name = "risk team/fraud?v=2 #1 100%"
	b, _ := json.Marshal(name)
	f.post("registered-models/create", `{"name": %s}`, b)
	f.post("model-versions/create", `{"name": %s, "source": "mlflow-artifacts:/0/%s/artifacts/model", "run_id": %q}`, b, f.runs["train"], f.runs["train"])

	stdout, stderr, code := f.ferry("models", "approve", name, "1", "--comment", "ok")
	if code != 0 || !strings.Contains(stdout, "Approved version 1 of model "+name+".") {
		t.Errorf("approve: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	stdout, stderr, code = f.ferry("models", "show", name, "1")
	if code != 0 || !strings.Contains(stdout, "Model:    "+name+"\n") || !strings.Contains(stdout, "Approval: approved") {
		t.Errorf("show: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	if _, stderr, code := f.ferry("policy", "set", name, writeFile(t, "p.yaml", fraudPolicy)); code != 0 {
		t.Errorf("policy set: exit %d, stderr %q", code, stderr)
	}
	stdout, _, code = f.ferry("policy", "show", name)
	if code != 0 || stdout != fraudPolicy {
		t.Errorf("policy show: exit %d:\n%s", code, stdout)
	}
	// The policy is the escaped model's, not fraud's.
	if _, stderr, _ := f.ferry("policy", "show", "fraud"); !strings.Contains(stderr, "no policy of its own") {
		t.Errorf("policy show fraud: %q", stderr)
	}

	// models:/ URIs cannot hold a name with a slash, and the server builds
	// the card from them (and lineage takes one): those two are tested
	// with a name that has every other character that needs escaping.
	const name2 = "risk team?v=2 #1 100%"
	b, _ = json.Marshal(name2)
	f.post("registered-models/create", `{"name": %s}`, b)
	f.post("model-versions/create", `{"name": %s, "source": "mlflow-artifacts:/0/%s/artifacts/model", "run_id": %q}`, b, f.runs["train"], f.runs["train"])
	out := filepath.Join(t.TempDir(), "card.md")
	if _, stderr, code := f.ferry("models", "card", name2, "1", "-o", out); code != 0 {
		t.Errorf("card: exit %d, stderr %q", code, stderr)
	} else if md, _ := os.ReadFile(out); !strings.Contains(string(md), "risk team?v=2 #1 100%") {
		t.Errorf("card of another model?\n%.300s", md)
	}
	stdout, stderr, code = f.ferry("lineage", "models:/"+name2+"/1")
	if code != 0 || !strings.HasPrefix(stdout, "models:/"+name2+"/1  model_version") {
		t.Errorf("lineage: exit %d, stderr %q:\n%s", code, stderr, stdout)
	}
}
