package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Coordinator is a worker's view of the server that hands out steps:
// the Queue in process, or its HTTP API for `ferry worker`.
type Coordinator interface {
	Claim(ctx context.Context, worker string, lease time.Duration) (RunRecord, StepRecord, bool, error)
	// Heartbeat renews the lease and passes the end of the step's log so
	// far (for readers following it).
	Heartbeat(ctx context.Context, runID, step, worker string, lease time.Duration, log string) error
	Finish(ctx context.Context, worker string, r StepRecord) error
	// Download copies an output stored under key to a local file;
	// Upload stores a local file under key.
	Download(ctx context.Context, key, path string) error
	Upload(ctx context.Context, key, path string) error
}

// Worker claims steps of submitted runs and runs them: the outputs of
// the steps a step reads are downloaded from the artifact store, its own
// are uploaded there, and its lease is renewed while it runs. A worker
// that dies stops renewing: once the lease ends another worker takes
// the step.
type Worker struct {
	Name  string
	Coord Coordinator
	Ops   Ops
	// Dir holds the worker's copies of outputs and its steps' logs.
	Dir string
	// Lease is how long a claim lasts without a heartbeat (default 30s);
	// Poll how long an idle worker waits before asking again (default 1s).
	Lease, Poll time.Duration
	Log         *slog.Logger
}

func (w *Worker) defaults() {
	if w.Lease <= 0 {
		w.Lease = 30 * time.Second
	}
	if w.Poll <= 0 {
		w.Poll = time.Second
	}
	if w.Log == nil {
		w.Log = slog.Default()
	}
}

// Run works until ctx ends.
func (w *Worker) Run(ctx context.Context) error {
	w.defaults()
	for ctx.Err() == nil {
		worked, err := w.Once(ctx)
		if err != nil && ctx.Err() == nil {
			w.Log.Error("pipeline worker", "worker", w.Name, "error", err.Error())
		}
		if !worked || err != nil {
			if sleep(ctx, w.Poll) != nil {
				break
			}
		}
	}
	return nil
}

// OutputKey is where a submitted run keeps a step's output.
func OutputKey(runID, step, name string) string {
	return "pipelines/" + runID + "/" + step + "/" + name
}

// Once claims and runs one step; worked is false when none was ready.
func (w *Worker) Once(ctx context.Context) (worked bool, err error) {
	w.defaults()
	run, step, ok, err := w.Coord.Claim(ctx, w.Name, w.Lease)
	if err != nil || !ok {
		return false, err
	}
	w.Log.Info("pipeline step claimed", "worker", w.Name, "run", run.ID, "step", step.Name, "attempt", step.Attempts)
	result := w.runClaimed(ctx, run, step)
	if ctx.Err() != nil {
		return true, ctx.Err() // a stopped worker reports nothing: its lease ends
	}
	if err := w.Coord.Finish(ctx, w.Name, result); err != nil {
		if errors.Is(err, errdefs.ErrConflict) {
			w.Log.Warn("pipeline step lost", "worker", w.Name, "run", run.ID, "step", step.Name, "error", err.Error())
			return true, nil
		}
		return true, err
	}
	return true, nil
}

func (w *Worker) runClaimed(ctx context.Context, run RunRecord, step StepRecord) StepRecord {
	res := StepRecord{RunID: run.ID, Name: step.Name, Attempts: step.Attempts}
	fail := func(err error) StepRecord {
		res.Status, res.Error = StatusFailed, err.Error()
		return res
	}
	sp, err := Parse([]byte(run.Spec), w.Ops)
	if err != nil {
		return fail(err)
	}
	i := sp.Index(step.Name)
	if i < 0 {
		return fail(fmt.Errorf("the run's pipeline has no step %q", step.Name))
	}
	dir := filepath.Join(w.Dir, run.ID)
	upstream := map[string]StepResult{}
	for _, st := range run.Steps {
		if !contains(step.Deps, st.Name) {
			continue
		}
		r := StepResult{Name: st.Name, Status: st.Status}
		for _, o := range st.Outputs {
			p := filepath.Join(dir, "inputs", st.Name, o.Name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return fail(err)
			}
			if err := w.Coord.Download(ctx, o.Path, p); err != nil {
				return fail(fmt.Errorf("download %s's output %s: %w", st.Name, o.Name, err))
			}
			r.Outputs = append(r.Outputs, Output{Name: o.Name, Path: p, SHA256: o.SHA256, Size: o.Size})
		}
		upstream[st.Name] = r
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	beat := make(chan struct{})
	go func() {
		defer close(beat)
		t := time.NewTicker(w.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-t.C:
				if err := w.Coord.Heartbeat(sctx, run.ID, step.Name, w.Name, w.Lease, logTail(filepath.Join(dir, "logs", step.Name+".log"))); err != nil && sctx.Err() == nil {
					w.Log.Warn("pipeline heartbeat", "worker", w.Name, "run", run.ID, "step", step.Name, "error", err.Error())
					if errors.Is(err, errdefs.ErrConflict) {
						cancel() // another worker has it now
						return
					}
				}
			}
		}
	}()
	x := &Executor{Ops: w.Ops, Workdir: run.Workdir, RunDir: dir}
	params := map[string]any{}
	for k, v := range run.Params {
		if f, ok := v.(float64); ok && f == float64(int64(f)) && sp.Params[k].Type == "int" {
			v = int64(f)
		}
		params[k] = v
	}
	r := x.RunStep(sctx, sp, i, params, upstream)
	cancel()
	<-beat
	res.Status, res.ExitCode, res.Error, res.CacheKey, res.Links = r.Status, r.ExitCode, r.Error, r.CacheKey, r.Links
	res.Attempts = step.Attempts
	res.Log = logTail(r.Log)
	for _, o := range r.Outputs {
		key := OutputKey(run.ID, step.Name, o.Name)
		if err := w.Coord.Upload(ctx, key, o.Path); err != nil {
			return fail(fmt.Errorf("upload output %s: %w", o.Name, err))
		}
		res.Outputs = append(res.Outputs, Output{Name: o.Name, Path: key, SHA256: o.SHA256, Size: o.Size})
	}
	return res
}

// logTail reads the end of a step's log (at most MaxStepLog bytes).
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > MaxStepLog {
		b = b[len(b)-MaxStepLog:]
	}
	return string(b)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
