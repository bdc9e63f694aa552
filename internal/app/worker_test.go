package app_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/cli"
	"github.com/ferry-ml/ferry/internal/store/postgres/pgtest"
)

// startWorker runs `ferry worker` until the returned stop is called (its
// death: it stops renewing its lease and reports nothing).
func startWorker(server, name string) (stop func() string) {
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		cli.Main(ctx, []string{"worker", "--name", name, "--lease", "1s", "--poll", "100ms", "--server", server}, &out, &out,
			func(string) string { return "" })
	}()
	return func() string { cancel(); <-done; return out.String() }
}

// TestWorkers is the distributed execution's done-when: a submitted run's
// steps are claimed by ferry worker processes sharing a Postgres-backed
// server; a worker killed in the middle of a step stops renewing its
// lease, and another worker runs the step again to the end.
func TestWorkers(t *testing.T) {
	dir := t.TempDir()
	s := &testServer{t: t, dir: dir, db: pgtest.Fresh(t)}
	s.start()
	defer s.stop()
	work := t.TempDir()
	file := filepath.Join(work, "p.yaml")
	_ = os.WriteFile(file, []byte(`name: dist
steps:
  - name: a
    run: echo hello > "$FERRY_OUTPUTS/a.txt"
    outputs: [a.txt]
  - name: b
    run: echo starting; sleep 2; tr a-z A-Z < ${{ steps.a.outputs.a.txt }} > "$FERRY_OUTPUTS/b.txt"; echo done
    outputs: [b.txt]
  - name: c
    run: cat ${{ steps.b.outputs.b.txt }}; grep -q HELLO ${{ steps.b.outputs.b.txt }}
`), 0o644)
	code, out := runCLI(s.srv.URL, "pipeline", "submit", file)
	if code != 0 || !strings.Contains(out, "Submitted run") {
		t.Fatalf("submit: %d %s", code, out)
	}
	id := strings.Fields(out)[2]
	step := func(name string) map[string]any {
		run := mustOK(t, call(t, s.srv, "GET", "/api/v1/pipelines/runs/"+id, nil))["run"].(map[string]any)
		for _, st := range run["steps"].([]any) {
			if m := st.(map[string]any); m["name"] == name {
				return m
			}
		}
		t.Fatalf("no step %s", name)
		return nil
	}
	stopA := startWorker(s.srv.URL, "worker-a")
	until(t, "worker-a to be running step b", nil, func() bool {
		b := step("b")
		return b["status"] == "running" && b["worker"] == "worker-a"
	})
	logA := stopA() // killed in the middle of b
	if b := step("b"); b["status"] != "running" || b["attempts"] != 1.0 {
		t.Fatalf("after worker-a died: %v\n%s", b, logA)
	}
	stopB := startWorker(s.srv.URL, "worker-b")
	defer stopB()
	// Follow b's log as worker-b runs it: it streams until b ends.
	if code, out := runCLI(s.srv.URL, "pipeline", "logs", id, "b", "--follow"); code != 0 || !strings.Contains(out, "starting") || !strings.Contains(out, "done") {
		t.Fatalf("pipeline logs --follow: %d %q", code, out)
	}
	until(t, "the run to end", nil, func() bool {
		run := mustOK(t, call(t, s.srv, "GET", "/api/v1/pipelines/runs/"+id, nil))["run"].(map[string]any)
		return run["status"] == "succeeded" || run["status"] == "failed"
	})
	b := step("b")
	if b["status"] != "succeeded" || b["worker"] != "worker-b" || b["attempts"] != 2.0 {
		t.Fatalf("step b: %v", b)
	}
	if c := step("c"); c["status"] != "succeeded" || !strings.Contains(c["log"].(string), "HELLO") {
		t.Fatalf("step c: %v", c)
	}
	if code, out := runCLI(s.srv.URL, "pipeline", "show", id); code != 0 || !strings.Contains(out, "succeeded") {
		t.Fatalf("pipeline show: %d %s", code, out)
	}
}

// A server on SQLite refuses workers, saying why.
func TestWorkerRefusedOnSQLite(t *testing.T) {
	s := &testServer{t: t, dir: t.TempDir()}
	s.start()
	defer s.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	code := cli.Main(ctx, []string{"worker", "--server", s.srv.URL}, &out, &out, func(string) string { return "" })
	if code != 1 || !strings.Contains(out.String(), "SQLite") || !strings.Contains(out.String(), "postgres") {
		t.Fatalf("%d %s", code, out.String())
	}
}

// The server's own executor runs submitted pipelines on SQLite: the
// example from data to deployment, followed with --follow.
func TestServerExecutor(t *testing.T) {
	ex := t.TempDir()
	copyDir(t, "../../examples/breast-cancer", ex)
	s := &testServer{t: t, dir: t.TempDir(), extraCfg: []string{"--policy-file", filepath.Join(ex, "policy.yaml")}}
	s.start()
	defer s.stop()
	stop := s.app.StartExecutor(context.Background(), s.srv.URL)
	defer stop()
	code, out := runCLI(s.srv.URL, "pipeline", "submit", filepath.Join(ex, "pipeline.yaml"), "--follow")
	if code != 0 || !strings.Contains(out, "pipeline breast-cancer succeeded") || !strings.Contains(out, "server-") {
		t.Fatalf("submit --follow: %d\n%s", code, out)
	}
	d := mustOK(t, call(t, s.srv, "GET", "/api/v1/endpoints/cancer", nil))["deployment"].(map[string]any)
	if d["status"] != "ready" {
		t.Fatalf("endpoint: %v", d)
	}
	if code, out := runCLI(s.srv.URL, "pipeline", "runs"); code != 0 || !strings.Contains(out, "breast-cancer") || !strings.Contains(out, "succeeded") {
		t.Fatalf("pipeline runs: %d %s", code, out)
	}
	// Lineage: the run produced the model version and the endpoint.
	id := mustOK(t, call(t, s.srv, "GET", "/api/v1/pipelines/runs", nil))["runs"].([]any)[0].(map[string]any)["id"].(string)
	lin := get(t, s.srv.URL+"/api/v1/lineage?uri=models:/cancer/1")
	if !strings.Contains(lin, `"uri":"pipelines:/`+id+`"`) || !strings.Contains(lin, `"relation":"produced"`) {
		t.Fatalf("the model's lineage lacks the pipeline run: %s", lin)
	}
	lin = get(t, s.srv.URL+"/api/v1/lineage?uri=pipelines:/"+id)
	if !strings.Contains(lin, `"uri":"endpoints:/cancer"`) || !strings.Contains(lin, `"kind":"pipeline_run"`) {
		t.Fatalf("the run's lineage: %s", lin)
	}
}

// A registered pipeline starts when a new version of its dataset is
// added, and on its schedule once a minute at most.
func TestPipelineTriggersAndSchedules(t *testing.T) {
	s := &testServer{t: t, dir: t.TempDir()}
	s.start()
	defer s.stop()
	stop := s.app.StartExecutor(context.Background(), s.srv.URL)
	defer stop()
	work := t.TempDir()
	file := filepath.Join(work, "p.yaml")
	_ = os.WriteFile(file, []byte(`name: retrain
schedule: "0 3 * * *"
triggers: [{dataset: cancer}]
steps:
  - name: load
    uses: load
    with: {dataset: cancer@latest}
    outputs: [data.csv, dataset.json]
  - name: count
    run: wc -l < ${{ steps.load.outputs.data.csv }}
`), 0o644)
	if code, out := runCLI(s.srv.URL, "pipeline", "register", file); code != 0 ||
		!strings.Contains(out, "runs start on schedule 0 3 * * * and on new versions of dataset cancer") {
		t.Fatalf("register: %d %s", code, out)
	}
	if code, out := runCLI(s.srv.URL, "pipeline", "list"); code != 0 || !strings.Contains(out, "dataset:cancer") {
		t.Fatalf("list: %d %s", code, out)
	}
	runs := func() []any {
		return mustOK(t, call(t, s.srv, "GET", "/api/v1/pipelines/runs", nil))["runs"].([]any)
	}
	if n := len(runs()); n != 0 {
		t.Fatalf("%d runs before any trigger", n)
	}
	src, _ := os.ReadFile("../../examples/breast-cancer/data/cancer.csv")
	_ = os.WriteFile(filepath.Join(work, "cancer.csv"), src, 0o644)
	if code, out := runCLI(s.srv.URL, "data", "add", "cancer", filepath.Join(work, "cancer.csv")); code != 0 {
		t.Fatalf("data add: %s", out)
	}
	until(t, "the triggered run to succeed", nil, func() bool {
		rs := runs()
		return len(rs) == 1 && rs[0].(map[string]any)["status"] == "succeeded"
	})
	id := runs()[0].(map[string]any)["id"].(string)
	run := mustOK(t, call(t, s.srv, "GET", "/api/v1/pipelines/runs/"+id, nil))["run"].(map[string]any)
	if log := run["steps"].([]any)[1].(map[string]any)["log"].(string); !strings.Contains(log, "570") {
		t.Fatalf("count step log: %q", log)
	}
	// The schedule: 03:00 fires once, however many ticks.
	at := time.Date(2026, 12, 5, 3, 0, 20, 0, time.UTC)
	sched := *s.app.Scheduler()
	sched.Now = func() time.Time { return at }
	sched.Tick(context.Background())
	sched.Tick(context.Background())
	at = at.Add(time.Minute)
	sched.Tick(context.Background())
	if n := len(runs()); n != 2 {
		t.Fatalf("%d runs after the scheduled minute, want 2", n)
	}
	if code, out := runCLI(s.srv.URL, "pipeline", "unregister", "retrain"); code != 0 {
		t.Fatalf("unregister: %s", out)
	}
}
