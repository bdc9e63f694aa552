package app_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// copyDir copies the files of src (not recursive beyond one level of
// directories) to dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if d.Name() == ".ferry" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestExamplePipeline runs examples/breast-cancer end to end against a
// server with the example's policy: validate, split, a grid search whose
// trials are child runs, a baseline, evaluation, registration, the
// champion alias through the policy gate, and a deployment. A second run
// restores every step; a changed dataset re-runs what depends on it and
// rolls the new version out as a canary.
func TestExamplePipeline(t *testing.T) {
	ex := t.TempDir()
	copyDir(t, "../../examples/breast-cancer", ex)
	s := &testServer{t: t, dir: t.TempDir(), extraCfg: []string{"--policy-file", filepath.Join(ex, "policy.yaml")}}
	s.start()
	defer s.stop()
	file := filepath.Join(ex, "pipeline.yaml")
	code, out := runCLI(s.srv.URL, "pipeline", "run", file)
	if code != 0 || !strings.Contains(out, "pipeline breast-cancer succeeded") {
		t.Fatalf("first run: %d\n%s", code, out)
	}
	d := mustOK(t, call(t, s.srv, "GET", "/api/v1/endpoints/cancer", nil))["deployment"].(map[string]any)
	if d["version"] != 1.0 || d["status"] != "ready" {
		t.Fatalf("endpoint after the first run: %v", d)
	}
	mv := mustOK(t, call(t, s.srv, "GET", "/api/2.0/mlflow/registered-models/alias?name=cancer&alias=champion", nil))
	if mv["model_version"].(map[string]any)["version"] != "1" {
		t.Fatalf("champion: %v", mv)
	}
	// The search's trials are child runs of one parent run.
	runs := mustOK(t, call(t, s.srv, "POST", "/api/2.0/mlflow/runs/search", map[string]any{
		"experiment_ids": []string{"1"}, "filter": "tags.mlflow.parentRunId != ''"}))
	if n := len(runs["runs"].([]any)); n != 4 {
		t.Fatalf("%d child runs, want 4 (the grid)", n)
	}

	code, out = runCLI(s.srv.URL, "pipeline", "run", file)
	if code != 0 || !strings.Contains(out, "succeeded in") || !strings.Contains(out, ": 10 cached;") {
		t.Fatalf("second run should restore every step: %d\n%s", code, out)
	}

	// New data: everything downstream of it runs again; the new version
	// goes out as a canary beside version 1.
	data := filepath.Join(ex, "data", "cancer.csv")
	b, _ := os.ReadFile(data)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if err := os.WriteFile(data, []byte(strings.Join(lines[:len(lines)-40], "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out = runCLI(s.srv.URL, "pipeline", "run", file)
	if code != 0 || !regexp.MustCompile(`(?m)split +succeeded`).MatchString(out) || !regexp.MustCompile(`(?m)register +succeeded`).MatchString(out) {
		t.Fatalf("third run: %d\n%s", code, out)
	}
	d = mustOK(t, call(t, s.srv, "GET", "/api/v1/endpoints/cancer", nil))["deployment"].(map[string]any)
	r, _ := d["rollout"].(map[string]any)
	if d["version"] != 1.0 || r == nil || r["strategy"] != "canary" || r["version"] != 2.0 || r["state"] != "progressing" {
		t.Fatalf("endpoint after new data: %v", d)
	}
}
