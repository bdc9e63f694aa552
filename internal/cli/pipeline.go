package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ferry-ml/ferry/internal/pipeline"
	"github.com/ferry-ml/ferry/internal/pipeline/ops"
)

const pipelineRunUsage = `Usage: ferry pipeline run FILE [--param NAME=VALUE]... [--no-cache] [--run-dir DIR]

Run a pipeline file on this machine, like dvc repro: the steps run in
dependency order (independent ones in parallel), each line of progress
printed as a step starts and ends. Commands run in the file's directory;
a step's outputs go to RUN_DIR/outputs/STEP and its log to
RUN_DIR/logs/STEP.log. An unchanged step (same definition, parameters,
inputs and upstream outputs) is restored from the run cache in
.ferry/cache next to the file instead of running. The exit code is 0
when every step succeeded, was restored or skipped, else 1.

Flags:
  --param NAME=VALUE  set a pipeline parameter (repeatable)
  --no-cache          run every step
  --run-dir DIR       where this run's outputs and logs go
                      (default .ferry/runs/<time> next to the file)
`

type paramFlags map[string]string

func (p paramFlags) String() string { return "" }
func (p paramFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("--param wants NAME=VALUE, got %q", v)
	}
	p[k] = val
	return nil
}

func pipelineRun(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	params := paramFlags{}
	fs.Var(params, "param", "")
	noCache := fs.Bool("no-cache", false, "")
	runDir := fs.String("run-dir", "", "")
	return func(ctx context.Context, s *session, args []string) error {
		file, err := oneArg(args, "FILE")
		if err != nil {
			return err
		}
		src, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		known := ops.WithServer(ops.Learning(), opsServer{s.client})
		sp, err := pipeline.Parse(src, known)
		if err != nil {
			return err
		}
		values, err := sp.ResolveParams(params)
		if err != nil {
			return err
		}
		dir, err := filepath.Abs(filepath.Dir(file))
		if err != nil {
			return err
		}
		if *runDir == "" {
			*runDir = filepath.Join(dir, ".ferry", "runs", time.Now().UTC().Format("20060102T150405.000Z"))
		}
		x := &pipeline.Executor{Ops: known, Workdir: dir, RunDir: *runDir}
		if !*noCache {
			x.Cache = &pipeline.Cache{Dir: filepath.Join(dir, ".ferry", "cache")}
		}
		start := time.Now()
		if !s.json {
			x.OnEvent = func(e pipeline.Event) {
				at := time.Since(start).Round(10 * time.Millisecond)
				if e.Result == nil {
					attempt := ""
					if e.Attempt > 1 {
						attempt = fmt.Sprintf(" (attempt %d)", e.Attempt)
					}
					fmt.Fprintf(s.stdout, "%8s  %-20s running%s\n", at, e.Step, attempt)
					return
				}
				r := e.Result
				line := fmt.Sprintf("%8s  %-20s %s", at, e.Step, r.Status)
				if !r.Start.IsZero() && !r.End.IsZero() {
					line += " in " + r.End.Sub(r.Start).Round(time.Millisecond).String()
				}
				if r.Error != "" {
					line += ": " + r.Error
				}
				fmt.Fprintln(s.stdout, line)
			}
		}
		res, err := x.Run(ctx, sp, values)
		if err != nil {
			return err
		}
		if s.json {
			b, _ := json.Marshal(res)
			return writeJSON(s.stdout, json.RawMessage(b))
		}
		counts := map[string]int{}
		for _, st := range res.Steps {
			counts[st.Status]++
		}
		var parts []string
		for _, k := range []string{pipeline.StatusSucceeded, pipeline.StatusCached, pipeline.StatusSkipped, pipeline.StatusFailed, pipeline.StatusUpstreamFailed, pipeline.StatusCancelled} {
			if counts[k] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", counts[k], strings.ReplaceAll(k, "_", " ")))
			}
		}
		fmt.Fprintf(s.stdout, "pipeline %s %s in %s: %s; outputs and logs in %s\n", sp.Name, res.Status,
			time.Since(start).Round(time.Millisecond), strings.Join(parts, ", "), *runDir)
		if res.Status != pipeline.StatusSucceeded {
			return errVerdict
		}
		return nil
	}
}
