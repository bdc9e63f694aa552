package app

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/ferry-ml/ferry/internal/blob"
	"github.com/ferry-ml/ferry/internal/cli"
	"github.com/ferry-ml/ferry/internal/pipeline"
	"github.com/ferry-ml/ferry/internal/pipeline/ops"
)

// localCoordinator hands the server's own executor steps straight from
// the queue, with outputs in the artifact store.
type localCoordinator struct {
	q     *pipeline.Queue
	blobs blob.Store
}

func (c localCoordinator) Claim(ctx context.Context, worker string, lease time.Duration) (pipeline.RunRecord, pipeline.StepRecord, bool, error) {
	return c.q.Claim(ctx, worker, lease)
}

func (c localCoordinator) Heartbeat(ctx context.Context, runID, step, worker string, lease time.Duration, log string) error {
	return c.q.Heartbeat(ctx, runID, step, worker, lease, log)
}

func (c localCoordinator) Finish(ctx context.Context, worker string, r pipeline.StepRecord) error {
	return c.q.Finish(ctx, worker, r)
}

func (c localCoordinator) Download(ctx context.Context, key, path string) error {
	rc, _, err := c.blobs.Get(ctx, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (c localCoordinator) Upload(ctx context.Context, key, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = c.blobs.Put(ctx, key, f)
	return err
}

// StartExecutor runs the server's own pipeline executor —
// pipeline_executors workers taking submitted steps from the queue, on
// SQLite as on Postgres — whose built-in operations reach this server at
// base. The returned function stops it and waits.
func (a *App) StartExecutor(ctx context.Context, base string) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range a.cfg.PipelineExecutors {
		w := &pipeline.Worker{Name: "server-" + strconv.Itoa(i+1), Coord: localCoordinator{a.pipelines, a.artifacts},
			Ops: ops.WithServer(ops.Learning(), cli.NewOpsServer(base)), Dir: filepath.Join(a.cfg.DataDir, "pipelines"),
			Log: a.log, Poll: time.Second}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = w.Run(ctx)
		}()
	}
	return func() { cancel(); wg.Wait() }
}

// Scheduler is the server's pipeline scheduler (schedules, triggers).
func (a *App) Scheduler() *pipeline.Scheduler { return a.scheduler }
