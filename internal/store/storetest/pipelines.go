package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/pipeline"
)

// PipelineStore is what the pipeline-queue suite exercises.
type PipelineStore interface {
	pipeline.QueueStore
	PipelineRunsLinking(ctx context.Context, uri string) ([]string, error)
}

// RunPipelineQueue runs the pipeline-queue conformance suite: claims,
// leases and their expiry, readiness of dependents, run status, and
// concurrent claimers never sharing a step.
func RunPipelineQueue(t *testing.T, newStore func(t *testing.T) PipelineStore) {
	ctx := context.Background()
	s := newStore(t)
	run := pipeline.RunRecord{ID: "r1", Name: "p", Spec: "name: p", Params: map[string]any{"x": 1.0}, Workdir: "/w",
		Status: pipeline.RunQueued, CreatedAt: 10, Steps: []pipeline.StepRecord{
			{RunID: "r1", Name: "a", Position: 0, Status: pipeline.StepReady},
			{RunID: "r1", Name: "b", Position: 1, Deps: []string{"a"}, Status: pipeline.StepPending},
			{RunID: "r1", Name: "c", Position: 2, Deps: []string{"b"}, Status: pipeline.StepPending},
			{RunID: "r1", Name: "d", Position: 3, Deps: []string{"a"}, Status: pipeline.StepPending},
		}}
	must(t, s.CreatePipelineRun(ctx, run))
	_, err := s.GetPipelineRun(ctx, "nope")
	wantErr(t, err, errdefs.ErrNotFound)

	_, st, ok, err := s.ClaimPipelineStep(ctx, "w1", 100, 1100)
	must(t, err)
	if !ok || st.Name != "a" || st.Attempts != 1 || st.Worker != "w1" {
		t.Fatalf("first claim: %v %+v", ok, st)
	}
	if _, _, ok, _ := s.ClaimPipelineStep(ctx, "w2", 200, 1200); ok {
		t.Fatal("a step was claimed twice while its lease lasts")
	}
	must(t, s.HeartbeatPipelineStep(ctx, "r1", "a", "w1", 2000, "so far"))
	if r, _ := s.GetPipelineRun(ctx, "r1"); r.Steps[0].Log != "so far" || r.Steps[0].LeaseUntil != 2000 {
		t.Fatalf("heartbeat: %+v", r.Steps[0])
	}
	wantErr(t, s.HeartbeatPipelineStep(ctx, "r1", "a", "w2", 2000, ""), errdefs.ErrConflict)
	// The lease ends: another worker takes the step; the first one's
	// heartbeat and result are refused.
	_, st, ok, err = s.ClaimPipelineStep(ctx, "w2", 2001, 3000)
	must(t, err)
	if !ok || st.Name != "a" || st.Attempts != 2 || st.Worker != "w2" {
		t.Fatalf("after the lease: %v %+v", ok, st)
	}
	wantErr(t, s.HeartbeatPipelineStep(ctx, "r1", "a", "w1", 4000, ""), errdefs.ErrConflict)
	wantErr(t, s.FinishPipelineStep(ctx, pipeline.StepRecord{RunID: "r1", Name: "a", Status: pipeline.StatusSucceeded}, "w1", 2500), errdefs.ErrConflict)
	out := []pipeline.Output{{Name: "o.txt", Path: "pipelines/r1/a/o.txt", SHA256: "ab", Size: 2}}
	must(t, s.FinishPipelineStep(ctx, pipeline.StepRecord{RunID: "r1", Name: "a", Status: pipeline.StatusSucceeded, Outputs: out, Log: "ok\n"}, "w2", 2500))
	got, err := s.GetPipelineRun(ctx, "r1")
	must(t, err)
	status := func(r pipeline.RunRecord) string {
		var b []byte
		for _, st := range r.Steps {
			b = fmt.Appendf(b, "%s=%s ", st.Name, st.Status)
		}
		return string(b) + r.Status
	}
	if s := status(got); s != "a=succeeded b=ready c=pending d=ready running" {
		t.Fatalf("after a: %s", s)
	}
	if a := got.Steps[0]; len(a.Outputs) != 1 || a.Outputs[0] != out[0] || a.Log != "ok\n" || a.EndedAt != 2500 || a.StartedAt != 100 {
		t.Fatalf("a: %+v", a)
	}
	// b fails: c is upstream_failed at once; d still runs; the run fails.
	_, st, _, _ = s.ClaimPipelineStep(ctx, "w1", 3000, 4000)
	must(t, s.FinishPipelineStep(ctx, pipeline.StepRecord{RunID: "r1", Name: st.Name, Status: pipeline.StatusFailed, Error: "boom", ExitCode: 3}, "w1", 3100))
	_, st2, _, _ := s.ClaimPipelineStep(ctx, "w1", 3200, 4200)
	if st.Name != "b" || st2.Name != "d" {
		t.Fatalf("claim order: %s then %s", st.Name, st2.Name)
	}
	got, _ = s.GetPipelineRun(ctx, "r1")
	if s := status(got); s != "a=succeeded b=failed c=upstream_failed d=running running" {
		t.Fatalf("after b failed: %s", s)
	}
	links := []pipeline.Link{{Relation: "input", URI: "datasets:/cancer@ab%_"}, {Relation: "output", URI: "models:/cancer/3"}}
	must(t, s.FinishPipelineStep(ctx, pipeline.StepRecord{RunID: "r1", Name: "d", Status: pipeline.StatusSucceeded, Links: links}, "w1", 3300))
	for uri, want := range map[string]int{"datasets:/cancer@ab%_": 1, "models:/cancer/3": 1, "models:/cancer/33": 0, "datasets:/cancer@ab": 0, "%": 0} {
		ids, err := s.PipelineRunsLinking(ctx, uri)
		must(t, err)
		if len(ids) != want {
			t.Fatalf("runs linking %s: %v", uri, ids)
		}
	}
	got, _ = s.GetPipelineRun(ctx, "r1")
	if s := status(got); s != "a=succeeded b=failed c=upstream_failed d=succeeded failed" || got.EndedAt != 3300 {
		t.Fatalf("the end: %s", s)
	}
	runs, err := s.ListPipelineRuns(ctx, 10)
	must(t, err)
	if len(runs) != 1 || runs[0].ID != "r1" || runs[0].Params["x"] != 1.0 {
		t.Fatalf("list: %+v", runs)
	}

	// Concurrent claimers take different steps.
	wide := pipeline.RunRecord{ID: "r2", Name: "wide", Spec: "x", Params: map[string]any{}, Workdir: "/w", Status: pipeline.RunQueued, CreatedAt: 20}
	for i := range 20 {
		wide.Steps = append(wide.Steps, pipeline.StepRecord{RunID: "r2", Name: fmt.Sprintf("s%d", i), Position: i, Status: pipeline.StepReady})
	}
	must(t, s.CreatePipelineRun(ctx, wide))
	var mu sync.Mutex
	claimed := map[string]string{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, st, ok, err := s.ClaimPipelineStep(ctx, fmt.Sprintf("w%d", w), 5000, 9000)
				if err != nil {
					t.Error(err)
					return
				}
				if !ok {
					return
				}
				mu.Lock()
				if prev, dup := claimed[st.Name]; dup {
					t.Errorf("step %s claimed by %s and w%d", st.Name, prev, w)
				}
				claimed[st.Name] = fmt.Sprintf("w%d", w)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(claimed) != 20 {
		t.Fatalf("%d of 20 steps claimed", len(claimed))
	}
}
