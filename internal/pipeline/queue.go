package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/ferry-ml/ferry/internal/audit"
	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Run statuses of a submitted pipeline.
const (
	RunQueued    = "queued"
	RunRunning   = "running"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
)

// Step statuses a submitted run's steps have before they end.
const (
	StepPending = "pending" // waiting for its dependencies
	StepReady   = "ready"   // claimable by a worker
	StepRunning = "running" // claimed; its worker holds a lease
)

// RunRecord is a pipeline run submitted to the server, executed by
// workers that claim its steps one at a time.
type RunRecord struct {
	ID      string         `json:"id"`
	Name    string         `json:"name"`
	Spec    string         `json:"spec"`
	Params  map[string]any `json:"params"`
	Workdir string         `json:"workdir"`
	Status  string         `json:"status"`
	// CreatedAt and EndedAt are Unix milliseconds; CreatedBy is the actor.
	CreatedAt int64        `json:"created_at"`
	EndedAt   int64        `json:"ended_at,omitempty"`
	CreatedBy string       `json:"created_by,omitempty"`
	Steps     []StepRecord `json:"steps,omitempty"`
}

// StepRecord is one step of a submitted run.
type StepRecord struct {
	RunID    string   `json:"run_id"`
	Name     string   `json:"name"`
	Position int      `json:"position"`
	Deps     []string `json:"deps,omitempty"`
	Status   string   `json:"status"`
	Attempts int      `json:"attempts"`
	// Worker holds the step while its lease (Unix ms) lasts.
	Worker     string `json:"worker,omitempty"`
	LeaseUntil int64  `json:"lease_until,omitempty"`
	StartedAt  int64  `json:"started_at,omitempty"`
	EndedAt    int64  `json:"ended_at,omitempty"`
	ExitCode   int    `json:"exit_code,omitempty"`
	Error      string `json:"error,omitempty"`
	CacheKey   string `json:"cache_key,omitempty"`
	// Outputs' Path is the artifact-store key of each output.
	Outputs []Output `json:"outputs,omitempty"`
	// Log is the step's output (the end of it, at most MaxStepLog bytes).
	Log string `json:"log,omitempty"`
	// Links are what the step read or made (lineage).
	Links []Link `json:"links,omitempty"`
}

// MaxStepLog bounds the log kept with a step.
const MaxStepLog = 64 << 10

// QueueStore keeps submitted runs. FinishPipelineStep makes the pending
// steps whose dependencies all ended ready (or skipped, or
// upstream_failed) and ends the run when no step is left, in the same
// transaction as the step's result.
type QueueStore interface {
	CreatePipelineRun(ctx context.Context, run RunRecord) error
	GetPipelineRun(ctx context.Context, id string) (RunRecord, error)
	ListPipelineRuns(ctx context.Context, limit int) ([]RunRecord, error)
	// ClaimPipelineStep gives worker a ready step, or one whose worker's
	// lease ended before now (its attempt is lost), leased until
	// leaseUntil; ok is false when there is none.
	ClaimPipelineStep(ctx context.Context, worker string, now, leaseUntil int64) (run RunRecord, step StepRecord, ok bool, err error)
	// HeartbeatPipelineStep extends worker's lease; errdefs.ErrConflict
	// when the step is no longer worker's.
	HeartbeatPipelineStep(ctx context.Context, runID, step, worker string, leaseUntil int64, log string) error
	FinishPipelineStep(ctx context.Context, result StepRecord, worker string, now int64) error
	// Distributed says whether workers on other machines can share the
	// store (Postgres), as opposed to an embedded database.
	Distributed() bool
}

// Queue is the server's side of distributed pipeline runs: it accepts
// runs and hands their steps to workers under leases.
type Queue struct {
	Store QueueStore
	Ops   Ops // the operations a submitted spec may use
	Now   func() time.Time
}

func (q *Queue) now() time.Time {
	if q.Now != nil {
		return q.Now()
	}
	return time.Now()
}

// Submit checks a pipeline and its parameters and queues a run whose
// steps without dependencies are ready at once. workdir is where the
// workers find the pipeline's files.
func (q *Queue) Submit(ctx context.Context, spec, workdir string, given map[string]string) (RunRecord, error) {
	sp, err := Parse([]byte(spec), q.Ops)
	if err != nil {
		return RunRecord{}, err
	}
	params, err := sp.ResolveParams(given)
	if err != nil {
		return RunRecord{}, err
	}
	if workdir == "" {
		return RunRecord{}, errdefs.InvalidArgument("Give the pipeline's directory (workdir): workers run its steps there.")
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	run := RunRecord{ID: hex.EncodeToString(id), Name: sp.Name, Spec: spec, Params: params, Workdir: workdir,
		Status: RunQueued, CreatedAt: q.now().UnixMilli(), CreatedBy: audit.Actor(ctx)}
	for i, s := range sp.Steps {
		st := StepRecord{RunID: run.ID, Name: s.Name, Position: i, Deps: sp.Deps(i), Status: StepPending}
		if len(st.Deps) == 0 {
			st.Status = StepReady
		}
		run.Steps = append(run.Steps, st)
	}
	if err := q.Store.CreatePipelineRun(ctx, run); err != nil {
		return RunRecord{}, err
	}
	audit.Note(ctx, audit.Change{Action: "pipeline.submit", Resource: "pipelines:/" + run.ID})
	return run, nil
}

// Claim gives a worker the next step, leased for lease; ok is false
// when nothing is ready.
func (q *Queue) Claim(ctx context.Context, worker string, lease time.Duration) (RunRecord, StepRecord, bool, error) {
	if err := checkWorker(worker, lease); err != nil {
		return RunRecord{}, StepRecord{}, false, err
	}
	now := q.now()
	return q.Store.ClaimPipelineStep(ctx, worker, now.UnixMilli(), now.Add(lease).UnixMilli())
}

// Heartbeat extends a worker's lease on a step and keeps the end of its
// log so far.
func (q *Queue) Heartbeat(ctx context.Context, runID, step, worker string, lease time.Duration, log string) error {
	if err := checkWorker(worker, lease); err != nil {
		return err
	}
	if len(log) > MaxStepLog {
		log = log[len(log)-MaxStepLog:]
	}
	return q.Store.HeartbeatPipelineStep(ctx, runID, step, worker, q.now().Add(lease).UnixMilli(), log)
}

// Finish records a worker's result for its step.
func (q *Queue) Finish(ctx context.Context, worker string, r StepRecord) error {
	switch r.Status {
	case StatusSucceeded, StatusFailed, StatusCached, StatusSkipped, StatusCancelled:
	default:
		return errdefs.InvalidArgument("A finished step's status is succeeded, failed, cached, skipped or cancelled, got %q.", r.Status)
	}
	if len(r.Log) > MaxStepLog {
		r.Log = r.Log[len(r.Log)-MaxStepLog:]
	}
	return q.Store.FinishPipelineStep(ctx, r, worker, q.now().UnixMilli())
}

func checkWorker(worker string, lease time.Duration) error {
	if worker == "" || len(worker) > 128 {
		return errdefs.InvalidArgument("A worker needs a name of 1 to 128 characters.")
	}
	if lease < time.Second || lease > time.Hour {
		return errdefs.InvalidArgument("A lease lasts between 1s and 1h, got %s.", lease)
	}
	return nil
}

// NextStatus is what a pending step becomes once its dependencies
// ended with these statuses: ready, skipped (a dependency was skipped)
// or upstream_failed; "" while one is still going.
func NextStatus(deps []string) string {
	next := StepReady
	for _, st := range deps {
		switch st {
		case StatusSucceeded, StatusCached:
		case StatusSkipped:
			if next == StepReady {
				next = StatusSkipped
			}
		case StatusFailed, StatusUpstreamFailed, StatusCancelled:
			next = StatusUpstreamFailed
		default:
			return ""
		}
	}
	return next
}

// Ended says whether a step status is final.
func Ended(status string) bool {
	switch status {
	case StepPending, StepReady, StepRunning:
		return false
	}
	return true
}

// RunStatusOf is a run's status from its steps' ("" while running).
func RunStatusOf(steps []string) string {
	status := RunSucceeded
	for _, st := range steps {
		if !Ended(st) {
			return ""
		}
		if st == StatusFailed || st == StatusUpstreamFailed || st == StatusCancelled {
			status = RunFailed
		}
	}
	return status
}

// LeaseLost is the conflict a store returns when a worker no longer
// holds its step.
func LeaseLost(runID, step, worker string) error {
	return errdefs.Conflict("Step %s of pipeline run %s is no longer held by worker %s (its lease ended and another worker took it).", step, runID, worker)
}
