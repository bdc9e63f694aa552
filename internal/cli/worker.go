package cli

import (
	"context"
	"errors"

	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-ml/ferry/internal/pipeline"
	"github.com/ferry-ml/ferry/internal/pipeline/ops"
)

const workerUsage = `Usage: ferry worker [--name NAME] [--dir DIR] [--lease 30s] [--poll 2s]

Run steps of pipelines submitted to the server (ferry pipeline submit):
claim a ready step, run it in the pipeline's directory (which this
machine must see at the path it was submitted with), renew its lease while
it runs, store its outputs in the server's artifact store and report the
result. Several workers on several machines share a server whose metadata
is in Postgres (steps are claimed with SELECT ... FOR UPDATE SKIP LOCKED);
a worker that dies stops renewing its lease, and once the lease ends
another worker runs the step again. A server on SQLite refuses workers.
`

const pipelineSubmitUsage = `Usage: ferry pipeline submit FILE [--param NAME=VALUE]... [--workdir DIR] [--follow]

Queue a pipeline run in the server for ferry worker processes to execute;
with --follow, print its steps as they end and exit 1 if it fails.
`

const pipelineRunsUsage = `Usage: ferry pipeline runs

List the pipeline runs submitted to the server, newest first.
`

const pipelineShowUsage = `Usage: ferry pipeline show RUN_ID

Show a submitted run: each step's status, attempts, worker, duration and
error; --json adds the logs.
`

// httpCoordinator is a worker's view of the server over its HTTP API.
type httpCoordinator struct{ c *client }

func leaseBody(worker string, lease time.Duration) map[string]any {
	return map[string]any{"worker": worker, "lease_seconds": lease.Seconds()}
}

func (h httpCoordinator) Claim(ctx context.Context, worker string, lease time.Duration) (pipeline.RunRecord, pipeline.StepRecord, bool, error) {
	var out struct {
		Run  *pipeline.RunRecord  `json:"run"`
		Step *pipeline.StepRecord `json:"step"`
	}
	if _, err := h.c.callV1(ctx, "POST", "pipelines/claim", nil, leaseBody(worker, lease), &out); err != nil || out.Run == nil || out.Step == nil {
		return pipeline.RunRecord{}, pipeline.StepRecord{}, false, err
	}
	return *out.Run, *out.Step, true, nil
}

func (h httpCoordinator) stepPath(runID, step, verb string) string {
	return "pipelines/runs/" + url.PathEscape(runID) + "/steps/" + url.PathEscape(step) + "/" + verb
}

func (h httpCoordinator) Heartbeat(ctx context.Context, runID, step, worker string, lease time.Duration, log string) error {
	body := leaseBody(worker, lease)
	body["log"] = log
	_, err := h.c.callV1(ctx, "POST", h.stepPath(runID, step, "heartbeat"), nil, body, nil)
	return h.conflict(err)
}

func (h httpCoordinator) Finish(ctx context.Context, worker string, r pipeline.StepRecord) error {
	body := leaseBody(worker, time.Second)
	body["result"] = r
	_, err := h.c.callV1(ctx, "POST", h.stepPath(r.RunID, r.Name, "finish"), nil, body, nil)
	return h.conflict(err)
}

// conflict maps a 409 answer to errdefs.ErrConflict (a lost lease).
func (h httpCoordinator) conflict(err error) error {
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusConflict {
		return pipeline.LeaseLost("", "", ae.Message)
	}
	return err
}

func (h httpCoordinator) Download(ctx context.Context, key, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.c.artifactURL(key), nil)
	if err != nil {
		return err
	}
	resp, err := h.c.http.Do(req)
	if err != nil {
		return &unreachableError{server: h.c.base, err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return fmt.Errorf("downloading %s: %w", key, decodeError(resp.StatusCode, body))
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (h httpCoordinator) Upload(ctx context.Context, key, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, h.c.artifactURL(key), f)
	if err != nil {
		return err
	}
	req.ContentLength = st.Size()
	resp, err := h.c.http.Do(req)
	if err != nil {
		return &unreachableError{server: h.c.base, err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return fmt.Errorf("uploading %s: %w", key, decodeError(resp.StatusCode, body))
	}
	return nil
}

// NewWorker returns a worker that takes steps from the server at base.
func newWorker(c *client, name, dir string, lease, poll time.Duration, log *slog.Logger) *pipeline.Worker {
	return &pipeline.Worker{Name: name, Coord: httpCoordinator{c}, Ops: ops.WithServer(ops.Learning(), opsServer{c}),
		Dir: dir, Lease: lease, Poll: poll, Log: log}
}

func workerCmd(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	host, _ := os.Hostname()
	name := fs.String("name", fmt.Sprintf("%s-%d", host, os.Getpid()), "")
	dir := fs.String("dir", "", "")
	lease := fs.Duration("lease", 30*time.Second, "")
	poll := fs.Duration("poll", 2*time.Second, "")
	return func(ctx context.Context, s *session, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q", args[0])
		}
		if *dir == "" {
			*dir = filepath.Join(os.TempDir(), "ferry-worker-"+*name)
		}
		log := slog.New(slog.NewTextHandler(s.stderr, nil))
		// Refuse early, with the server's reason, when it takes no workers.
		if _, _, _, err := (httpCoordinator{s.client}).Claim(ctx, "", *lease); err != nil && strings.Contains(err.Error(), "SQLite") {
			return err
		}
		log.Info("ferry worker started", "name", *name, "server", s.server, "dir", *dir)
		return newWorker(s.client, *name, *dir, *lease, *poll, log).Run(ctx)
	}
}

func pipelineSubmit(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	params := paramFlags{}
	fs.Var(params, "param", "")
	workdir := fs.String("workdir", "", "")
	follow := fs.Bool("follow", false, "")
	return func(ctx context.Context, s *session, args []string) error {
		body, err := specBody(args, *workdir, params)
		if err != nil {
			return err
		}
		var out struct {
			Run pipeline.RunRecord `json:"run"`
		}
		raw, err := s.client.callV1(ctx, "POST", "pipelines/runs", nil, body, &out)
		if err != nil {
			return err
		}
		if !*follow {
			if s.json {
				return writeJSON(s.stdout, raw)
			}
			return writeString(s.stdout, fmt.Sprintf("Submitted run %s of pipeline %s (%d steps).\n", out.Run.ID, out.Run.Name, len(out.Run.Steps)))
		}
		fmt.Fprintf(s.stdout, "run %s of pipeline %s\n", out.Run.ID, out.Run.Name)
		seen := map[string]bool{}
		for {
			var cur struct {
				Run pipeline.RunRecord `json:"run"`
			}
			if _, err := s.client.callV1(ctx, "GET", "pipelines/runs/"+out.Run.ID, nil, nil, &cur); err != nil {
				return err
			}
			for _, st := range cur.Run.Steps {
				if pipeline.Ended(st.Status) && !seen[st.Name] {
					seen[st.Name] = true
					line := fmt.Sprintf("  %-20s %s (attempt %d, %s)", st.Name, st.Status, st.Attempts, cell(st.Worker, 0))
					if st.Error != "" {
						line += ": " + st.Error
					}
					fmt.Fprintln(s.stdout, line)
				}
			}
			if cur.Run.Status == pipeline.RunSucceeded || cur.Run.Status == pipeline.RunFailed {
				fmt.Fprintf(s.stdout, "pipeline %s %s\n", cur.Run.Name, cur.Run.Status)
				if cur.Run.Status == pipeline.RunFailed {
					return errVerdict
				}
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
}

func pipelineRuns(*flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(ctx context.Context, s *session, args []string) error {
		var out struct {
			Runs []pipeline.RunRecord `json:"runs"`
		}
		raw, err := s.client.callV1(ctx, "GET", "pipelines/runs", nil, nil, &out)
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, raw)
		}
		t := newTable(s.stdout)
		t.row("RUN", "PIPELINE", "STATUS", "SUBMITTED (UTC)", "BY")
		for _, r := range out.Runs {
			t.row(r.ID, cell(r.Name, 0), r.Status, fmtTime(r.CreatedAt), cell(r.CreatedBy, 0))
		}
		return t.flush()
	}
}

func pipelineShow(*flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(ctx context.Context, s *session, args []string) error {
		id, err := oneArg(args, "RUN_ID")
		if err != nil {
			return err
		}
		var out struct {
			Run pipeline.RunRecord `json:"run"`
		}
		raw, err := s.client.callV1(ctx, "GET", "pipelines/runs/"+url.PathEscape(id), nil, nil, &out)
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, raw)
		}
		r := out.Run
		fmt.Fprintf(s.stdout, "Run %s of pipeline %s: %s (submitted %s)\n", r.ID, cell(r.Name, 0), r.Status, fmtTime(r.CreatedAt))
		t := newTable(s.stdout)
		t.row("  STEP", "STATUS", "ATTEMPTS", "WORKER", "SECONDS", "ERROR")
		for _, st := range r.Steps {
			secs := ""
			if st.EndedAt > 0 && st.StartedAt > 0 {
				secs = strconv.FormatFloat(float64(st.EndedAt-st.StartedAt)/1000, 'f', 1, 64)
			}
			t.row("  "+st.Name, st.Status, strconv.Itoa(st.Attempts), cell(st.Worker, 0), secs, cell(st.Error, 60))
		}
		return t.flush()
	}
}

const pipelineRegisterUsage = `Usage: ferry pipeline register FILE [--param NAME=VALUE]... [--workdir DIR]

Keep a pipeline in the server so that its schedule (schedule: "0 3 * * *")
and triggers (triggers: [{dataset: NAME}], a new version of the dataset)
start runs, executed like submitted ones. Registering a pipeline of the
same name again replaces it.
`

const pipelineListUsage = `Usage: ferry pipeline list

List the registered pipelines with their schedules and triggers.
`

const pipelineUnregisterUsage = `Usage: ferry pipeline unregister NAME

Stop a registered pipeline's schedule and triggers.
`

func pipelineRegister(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	params := paramFlags{}
	fs.Var(params, "param", "")
	workdir := fs.String("workdir", "", "")
	return func(ctx context.Context, s *session, args []string) error {
		body, err := specBody(args, *workdir, params)
		if err != nil {
			return err
		}
		var out struct {
			Pipeline pipeline.Registered `json:"pipeline"`
		}
		raw, err := s.client.callV1(ctx, "POST", "pipelines", nil, body, &out)
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, raw)
		}
		return writeString(s.stdout, fmt.Sprintf("Registered pipeline %s%s.\n", out.Pipeline.Name, describeStarts(out.Pipeline)))
	}
}

func describeStarts(p pipeline.Registered) string {
	var parts []string
	if p.Schedule != "" {
		parts = append(parts, "on schedule "+p.Schedule)
	}
	for _, tr := range p.Triggers {
		parts = append(parts, "on new versions of dataset "+tr.Dataset)
	}
	if len(parts) == 0 {
		return " (no schedule or trigger: it starts only when submitted)"
	}
	return ": runs start " + strings.Join(parts, " and ")
}

func pipelineList(*flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(ctx context.Context, s *session, args []string) error {
		var out struct {
			Pipelines []pipeline.Registered `json:"pipelines"`
		}
		raw, err := s.client.callV1(ctx, "GET", "pipelines", nil, nil, &out)
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, raw)
		}
		t := newTable(s.stdout)
		t.row("PIPELINE", "SCHEDULE", "TRIGGERS", "WORKDIR", "UPDATED (UTC)")
		for _, p := range out.Pipelines {
			var trs []string
			for _, tr := range p.Triggers {
				trs = append(trs, "dataset:"+tr.Dataset)
			}
			t.row(cell(p.Name, 0), cell(p.Schedule, 0), strings.Join(trs, ","), cell(p.Workdir, 40), fmtTime(p.UpdatedAt))
		}
		return t.flush()
	}
}

func pipelineUnregister(*flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(ctx context.Context, s *session, args []string) error {
		name, err := oneArg(args, "NAME")
		if err != nil {
			return err
		}
		raw, err := s.client.callV1(ctx, "DELETE", "pipelines/"+url.PathEscape(name), nil, nil, nil)
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, raw)
		}
		return writeString(s.stdout, "Pipeline "+cell(name, 0)+" unregistered.\n")
	}
}

const pipelineLogsUsage = `Usage: ferry pipeline logs RUN_ID STEP [--follow]

Print a submitted run's step log; with --follow, keep printing what its
worker reports until the step ends.
`

func pipelineLogs(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	follow := fs.Bool("follow", false, "")
	return func(ctx context.Context, s *session, args []string) error {
		if len(args) != 2 {
			return usagef("want RUN_ID STEP")
		}
		u := s.client.base + "/api/v1/pipelines/runs/" + url.PathEscape(args[0]) + "/steps/" + url.PathEscape(args[1]) + "/log"
		if *follow {
			u += "?follow=true"
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		resp, err := s.client.http.Do(req)
		if err != nil {
			return &unreachableError{server: s.client.base, err: err}
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			return decodeError(resp.StatusCode, body)
		}
		_, err = io.Copy(s.stdout, resp.Body)
		return err
	}
}

// specBody reads a pipeline file (the one argument) into the body of a
// submission or registration; workdir defaults to the file's directory.
func specBody(args []string, workdir string, params paramFlags) (map[string]any, error) {
	file, err := oneArg(args, "FILE")
	if err != nil {
		return nil, err
	}
	spec, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if workdir == "" {
		if workdir, err = filepath.Abs(filepath.Dir(file)); err != nil {
			return nil, err
		}
	}
	return map[string]any{"spec": string(spec), "workdir": workdir, "params": map[string]string(params)}, nil
}
