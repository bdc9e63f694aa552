package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Op is a built-in operation a `uses:` step names.
type Op interface {
	Run(ctx context.Context, call OpCall) error
}

// KeyedOp is an Op whose result depends on more than its with values —
// a dataset reference such as NAME@latest resolves to a different version
// over time: Key returns what the run cache must also see (the digest
// the reference resolves to now).
type KeyedOp interface {
	Op
	Key(ctx context.Context, with map[string]string) (string, error)
}

// OpFunc adapts a function to Op.
type OpFunc func(ctx context.Context, call OpCall) error

// Run implements Op.
func (f OpFunc) Run(ctx context.Context, call OpCall) error { return f(ctx, call) }

// OpCall is what a built-in operation gets.
type OpCall struct {
	Step   string
	With   map[string]string // references resolved
	Params map[string]any
	// Outputs is the directory the step's declared outputs are written
	// to; Workdir the pipeline's directory.
	Outputs, Workdir string
	Log              io.Writer
	// Link records what the step read or made, for lineage: relation
	// "input" (a dataset version) or "output" (a model version, an
	// endpoint), and its URI.
	Link func(relation, uri string)
}

// Link is a lineage fact of a step: it read (input) or made (output) the
// thing uri names.
type Link struct {
	Relation string `json:"relation"`
	URI      string `json:"uri"`
}

// Ops are the operations `uses:` may name.
type Ops map[string]Op

func (o Ops) names() []string { return sortedKeys(o) }

// Step statuses.
const (
	StatusSucceeded      = "succeeded"
	StatusFailed         = "failed"
	StatusCached         = "cached"  // restored from the run cache
	StatusSkipped        = "skipped" // its when was false, or a dependency was skipped
	StatusUpstreamFailed = "upstream_failed"
	StatusCancelled      = "cancelled"
)

// Output is a file a step wrote.
type Output struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// StepResult is what became of one step.
type StepResult struct {
	Name     string    `json:"name"`
	Status   string    `json:"status"`
	Attempts int       `json:"attempts"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	ExitCode int       `json:"exit_code,omitempty"`
	Error    string    `json:"error,omitempty"`
	CacheKey string    `json:"cache_key,omitempty"`
	Outputs  []Output  `json:"outputs,omitempty"`
	// Log is the file holding the step's output, every attempt.
	Log string `json:"log,omitempty"`
	// Links are the step's lineage facts (built-in operations'), most
	// recent attempt.
	Links []Link `json:"links,omitempty"`
}

// Result is a pipeline run: succeeded when no step failed.
type Result struct {
	Status string       `json:"status"`
	Steps  []StepResult `json:"steps"`
}

// Event reports progress: a step started (Status "running", with its
// attempt) or ended (its final StepResult).
type Event struct {
	Step    string
	Status  string
	Attempt int
	Result  *StepResult
}

// Executor runs pipelines on this machine.
type Executor struct {
	Ops Ops
	// Workdir is the pipeline's directory: inputs are read and commands
	// run there.
	Workdir string
	// RunDir holds this run's outputs (RunDir/outputs/STEP/) and logs
	// (RunDir/logs/STEP.log).
	RunDir string
	// Cache, when set, restores unchanged steps.
	Cache *Cache
	// OnEvent, when set, is called as steps start and end (from several
	// goroutines, one call at a time).
	OnEvent func(Event)
	// Shell runs `run:` commands (default /bin/sh -c).
	Shell []string
	// Sleep waits between attempts (default: a timer honouring ctx).
	Sleep func(ctx context.Context, d time.Duration) error

	mu sync.Mutex
}

// stderrTail is how much of a failed command's output its error keeps.
const stderrTail = 2048

// Run runs the pipeline with resolved params (see Spec.ResolveParams).
// Independent steps run in parallel up to the spec's concurrency; a
// failed step fails the run and its dependents are not run, while other
// branches finish. Cancelling ctx stops running steps.
func (x *Executor) Run(ctx context.Context, sp *Spec, params map[string]any) (*Result, error) {
	if x.Shell == nil {
		x.Shell = []string{"/bin/sh", "-c"}
	}
	if x.Sleep == nil {
		x.Sleep = sleep
	}
	for _, d := range []string{filepath.Join(x.RunDir, "outputs"), filepath.Join(x.RunDir, "logs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	n := len(sp.Steps)
	res := &Result{Status: StatusSucceeded, Steps: make([]StepResult, n)}
	done := make([]bool, n)
	started := make([]bool, n)
	finished := make(chan int)
	sem := make(chan struct{}, sp.Concurrency)
	running := 0
	for remaining := n; remaining > 0; {
		for _, i := range sp.Order {
			if started[i] || !allDone(sp.Steps[i].deps, done) {
				continue
			}
			started[i] = true
			if status, why := x.blocked(sp, i, res); status != "" {
				res.Steps[i] = StepResult{Name: sp.Steps[i].Name, Status: status, Error: why}
				x.emit(Event{Step: sp.Steps[i].Name, Status: status, Result: &res.Steps[i]})
				done[i] = true
				remaining--
				continue
			}
			running++
			go func(i int) {
				sem <- struct{}{}
				r := x.runStep(ctx, sp, i, params, res)
				<-sem
				x.mu.Lock()
				res.Steps[i] = r
				x.mu.Unlock()
				x.emit(Event{Step: r.Name, Status: r.Status, Attempt: r.Attempts, Result: &r})
				finished <- i
			}(i)
		}
		if running == 0 {
			break
		}
		i := <-finished
		running--
		done[i] = true
		remaining--
	}
	for _, s := range res.Steps {
		if s.Status == StatusFailed || s.Status == StatusUpstreamFailed || s.Status == StatusCancelled {
			res.Status = StatusFailed
		}
	}
	return res, ctx.Err()
}

func allDone(deps []int, done []bool) bool {
	for _, d := range deps {
		if !done[d] {
			return false
		}
	}
	return true
}

// blocked says whether step i cannot run because of its dependencies.
func (x *Executor) blocked(sp *Spec, i int, res *Result) (status, why string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, d := range sp.Steps[i].deps {
		switch res.Steps[d].Status {
		case StatusFailed, StatusUpstreamFailed, StatusCancelled:
			return StatusUpstreamFailed, fmt.Sprintf("step %q did not succeed", sp.Steps[d].Name)
		case StatusSkipped:
			return StatusSkipped, fmt.Sprintf("step %q was skipped", sp.Steps[d].Name)
		}
	}
	return "", ""
}

func (x *Executor) emit(e Event) {
	if x.OnEvent == nil {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.OnEvent(e)
}

// runStep evaluates when, consults the cache, runs the step with its
// retries and records its outputs.
func (x *Executor) runStep(ctx context.Context, sp *Spec, i int, params map[string]any, res *Result) StepResult {
	x.mu.Lock()
	upstream := map[string]StepResult{}
	for _, d := range sp.Steps[i].deps {
		upstream[sp.Steps[d].Name] = res.Steps[d]
	}
	x.mu.Unlock()
	return x.RunStep(ctx, sp, i, params, upstream)
}

// Deps returns the names of the steps step i depends on.
func (sp *Spec) Deps(i int) []string {
	var names []string
	for _, d := range sp.Steps[i].deps {
		names = append(names, sp.Steps[d].Name)
	}
	return names
}

// Index returns the position of a step, or -1.
func (sp *Spec) Index(name string) int {
	for i, s := range sp.Steps {
		if s.Name == name {
			return i
		}
	}
	return -1
}

// RunStep runs step i alone — a worker's share of a distributed run —
// given the results of the steps it depends on (their outputs' paths on
// this machine): its when condition, the run cache, the command or
// operation with its retries, and its outputs.
func (x *Executor) RunStep(ctx context.Context, sp *Spec, i int, params map[string]any, upstream map[string]StepResult) StepResult {
	if x.Shell == nil {
		x.Shell = []string{"/bin/sh", "-c"}
	}
	if x.Sleep == nil {
		x.Sleep = sleep
	}
	for _, d := range []string{filepath.Join(x.RunDir, "outputs"), filepath.Join(x.RunDir, "logs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return StepResult{Name: sp.Steps[i].Name, Status: StatusFailed, Error: err.Error()}
		}
	}
	s := sp.Steps[i]
	r := StepResult{Name: s.Name, Start: time.Now(), Log: filepath.Join(x.RunDir, "logs", s.Name+".log")}
	fail := func(err error) StepResult {
		r.Status, r.Error, r.End = StatusFailed, err.Error(), time.Now()
		if ctx.Err() != nil {
			r.Status = StatusCancelled
		}
		return r
	}
	outputs := map[string]map[string]Output{}
	statuses := map[string]string{}
	for name, ds := range upstream {
		statuses[name] = ds.Status
		outputs[name] = map[string]Output{}
		for _, o := range ds.Outputs {
			outputs[name][o.Name] = o
		}
	}
	value := func(ref string, forKey bool) (string, error) {
		parts := strings.SplitN(ref, ".", 4)
		switch {
		case len(parts) == 2 && parts[0] == "params":
			return fmt.Sprint(params[parts[1]]), nil
		case len(parts) == 4 && parts[0] == "steps" && parts[2] == "outputs":
			o, ok := outputs[parts[1]][parts[3]]
			if !ok {
				return "", fmt.Errorf("step %q has no output %q", parts[1], parts[3])
			}
			if forKey {
				return "sha256:" + o.SHA256, nil
			}
			return o.Path, nil
		}
		return "", fmt.Errorf("unknown reference %q", ref)
	}
	if s.When != "" {
		e, _ := parseExpr(unwrap(s.When))
		v, err := e.eval(func(ref string) (any, error) {
			if p := strings.SplitN(ref, ".", 3); len(p) == 3 && p[0] == "steps" && p[2] == "status" {
				return statuses[p[1]], nil
			}
			if p := strings.SplitN(ref, ".", 2); len(p) == 2 && p[0] == "params" {
				return params[p[1]], nil
			}
			return value(ref, false)
		})
		if err != nil {
			return fail(fmt.Errorf("when: %w", err))
		}
		if !truthy(v) {
			r.Status, r.End, r.Error = StatusSkipped, time.Now(), "its when condition is false"
			return r
		}
	}
	run, with, env, err := resolveStep(s, value, false)
	if err != nil {
		return fail(err)
	}
	outDir := filepath.Join(x.RunDir, "outputs", s.Name)
	if err := os.RemoveAll(outDir); err != nil {
		return fail(err)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fail(err)
	}
	if x.Cache != nil && s.Caching() {
		key, err := x.cacheKey(ctx, s, params, value)
		if err != nil {
			return fail(err)
		}
		r.CacheKey = key
		if outs, ok, err := x.Cache.Restore(key, outDir); err != nil {
			return fail(err)
		} else if ok {
			r.Status, r.Outputs, r.End = StatusCached, outs, time.Now()
			return r
		}
	}
	logf, err := os.OpenFile(r.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fail(err)
	}
	defer logf.Close()
	delay := s.Retry.Backoff
	for attempt := 1; ; attempt++ {
		r.Attempts = attempt
		x.emit(Event{Step: s.Name, Status: "running", Attempt: attempt})
		fmt.Fprintf(logf, "--- attempt %d at %s\n", attempt, time.Now().UTC().Format(time.RFC3339))
		if s.Run != "" {
			r.ExitCode, err = x.command(ctx, s, run, env, outDir, logf)
		} else {
			octx, cancel := stepContext(ctx, s.Timeout)
			r.Links = nil
			err = x.Ops[s.Uses].Run(octx, OpCall{Step: s.Name, With: with, Params: params,
				Outputs: outDir, Workdir: x.Workdir, Log: logf,
				Link: func(rel, uri string) { r.Links = append(r.Links, Link{Relation: rel, URI: uri}) }})
			if octx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
				err = fmt.Errorf("timed out after %s", s.Timeout)
			}
			cancel()
		}
		if err == nil {
			err = x.collect(s, outDir, &r)
		}
		if err == nil {
			break
		}
		fmt.Fprintf(logf, "--- attempt %d failed: %v\n", attempt, err)
		if attempt > s.Retry.Limit || ctx.Err() != nil {
			return fail(err)
		}
		if serr := x.Sleep(ctx, delay); serr != nil {
			return fail(err)
		}
		delay = min(time.Duration(float64(delay)*s.Retry.Factor), s.Retry.Max)
	}
	if x.Cache != nil && s.Caching() {
		if err := x.Cache.Store(r.CacheKey, outDir, r.Outputs); err != nil {
			return fail(fmt.Errorf("store in the run cache: %w", err))
		}
	}
	r.Status, r.End = StatusSucceeded, time.Now()
	return r
}

func stepContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, timeout)
}

// resolveStep replaces the references of a step's run command (shell-
// quoted), with and env values.
func resolveStep(s Step, value func(string, bool) (string, error), forKey bool) (run string, with, env map[string]string, err error) {
	sub := func(text string, quote bool) (string, error) {
		var ferr error
		out := refRE.ReplaceAllStringFunc(text, func(m string) string {
			v, err := value(refRE.FindStringSubmatch(m)[1], forKey)
			if err != nil && ferr == nil {
				ferr = err
			}
			if quote {
				return shellQuote(v)
			}
			return v
		})
		return out, ferr
	}
	if run, err = sub(s.Run, true); err != nil {
		return
	}
	with, env = map[string]string{}, map[string]string{}
	for k, v := range s.With {
		if with[k], err = sub(v, false); err != nil {
			return
		}
	}
	for k, v := range s.Env {
		if env[k], err = sub(v, false); err != nil {
			return
		}
	}
	return run, with, env, nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// command runs a `run:` step in its own process group, killed with its
// children on timeout or cancellation.
func (x *Executor) command(ctx context.Context, s Step, run string, env map[string]string, outDir string, log io.Writer) (int, error) {
	cctx := ctx
	if s.Timeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, s.Timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(cctx, x.Shell[0], append(x.Shell[1:], run)...)
	cmd.Dir = x.Workdir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	// Parameters reach a command only through its references (in run or
	// env), so that the cache key, which holds them, sees every one it reads.
	cmd.Env = append(os.Environ(), "FERRY_OUTPUTS="+outDir, "FERRY_STEP="+s.Name, "FERRY_RUN_DIR="+x.RunDir)
	for _, k := range sortedKeys(env) {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	tail := &tailWriter{max: stderrTail}
	cmd.Stdout = log
	cmd.Stderr = io.MultiWriter(log, tail)
	err := cmd.Run()
	code := 0
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	switch {
	case err == nil:
		return 0, nil
	case s.Timeout > 0 && errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil:
		return code, fmt.Errorf("timed out after %s", s.Timeout)
	case ctx.Err() != nil:
		return code, ctx.Err()
	}
	msg := err.Error()
	if t := strings.TrimSpace(tail.String()); t != "" {
		msg += ": " + t
	}
	return code, errors.New(msg)
}

// collect checks the declared outputs were written and hashes them.
func (x *Executor) collect(s Step, outDir string, r *StepResult) error {
	r.Outputs = nil
	for _, name := range s.Outputs {
		p := filepath.Join(outDir, name)
		sum, size, err := hashFile(p)
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("step %q did not write its output %q (to $FERRY_OUTPUTS/%s)", s.Name, name, name)
		}
		if err != nil {
			return err
		}
		r.Outputs = append(r.Outputs, Output{Name: name, Path: p, SHA256: sum, Size: size})
	}
	return nil
}

// cacheKey is the sha256 of what determines a step's outputs: its
// definition with references resolved to values (the parameters it reads,
// upstream outputs as their content hashes) and the content of its
// inputs. A built-in operation also sees every parameter, so its key
// holds them all.
func (x *Executor) cacheKey(ctx context.Context, s Step, params map[string]any, value func(string, bool) (string, error)) (string, error) {
	run, with, env, err := resolveStep(s, value, true)
	if err != nil {
		return "", err
	}
	opKey := ""
	if k, ok := x.Ops[s.Uses].(KeyedOp); ok && s.Uses != "" {
		_, realWith, _, err := resolveStep(s, value, false)
		if err != nil {
			return "", err
		}
		if opKey, err = k.Key(ctx, realWith); err != nil {
			return "", fmt.Errorf("step %q: %w", s.Name, err)
		}
	}
	inputs := map[string]string{}
	for _, in := range s.Inputs {
		sum, err := hashPath(filepath.Join(x.Workdir, in))
		if err != nil {
			return "", fmt.Errorf("step %q: input %s: %w", s.Name, in, err)
		}
		inputs[in] = sum
	}
	ps := map[string]string{}
	if s.Uses != "" {
		for k, v := range params {
			ps[k] = fmt.Sprintf("%T:%v", v, v)
		}
	}
	b, err := json.Marshal(map[string]any{"v": 1, "run": run, "uses": s.Uses, "with": with, "env": env,
		"outputs": s.Outputs, "inputs": inputs, "params": ps, "op": opKey})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

func hashFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", 0, err
	}
	if !st.Mode().IsRegular() {
		return "", 0, fmt.Errorf("%s is not a regular file", p)
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

// hashPath hashes a file, or a directory as the sorted list of its
// files' relative paths and hashes (as DVC hashes a directory).
func hashPath(p string) (string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		sum, _, err := hashFile(p)
		return sum, err
	}
	var lines []string
	err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		sum, _, err := hashFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(p, path)
		lines = append(lines, filepath.ToSlash(rel)+" "+sum)
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(lines)
	h := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(h[:]), nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// tailWriter keeps the last max bytes written.
type tailWriter struct {
	max int
	buf []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tailWriter) String() string { return string(t.buf) }

// Cache is the run cache: the outputs of each step run, stored under
// the step's cache key (DIR/KEY[:2]/KEY/), restored when the key
// recurs.
type Cache struct{ Dir string }

type manifest struct {
	Outputs []Output `json:"outputs"`
	Created string   `json:"created"`
}

func (c *Cache) dir(key string) string { return filepath.Join(c.Dir, key[:2], key) }

// Restore copies the outputs stored under key into outDir; ok is false
// when the key is not cached (or its files are gone or altered).
func (c *Cache) Restore(key, outDir string) (outs []Output, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(c.dir(key), "manifest.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, false, nil // a damaged entry is a miss
	}
	for _, o := range m.Outputs {
		src := filepath.Join(c.dir(key), "files", o.Name)
		if sum, _, err := hashFile(src); err != nil || sum != o.SHA256 {
			return nil, false, nil
		}
		dst := filepath.Join(outDir, o.Name)
		if err := copyFile(src, dst); err != nil {
			return nil, false, err
		}
		o.Path = dst
		outs = append(outs, o)
	}
	return outs, true, nil
}

// Store keeps a step's outputs under key; it is written to a temporary
// directory first and renamed, so a crash leaves no partial entry.
func (c *Cache) Store(key, outDir string, outs []Output) error {
	final := c.dir(key)
	if _, err := os.Stat(filepath.Join(final, "manifest.json")); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(final), ".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.MkdirAll(filepath.Join(tmp, "files"), 0o755); err != nil {
		return err
	}
	stored := make([]Output, len(outs))
	for i, o := range outs {
		if err := copyFile(filepath.Join(outDir, o.Name), filepath.Join(tmp, "files", o.Name)); err != nil {
			return err
		}
		stored[i] = Output{Name: o.Name, SHA256: o.SHA256, Size: o.Size}
	}
	b, _ := json.Marshal(manifest{Outputs: stored, Created: time.Now().UTC().Format(time.RFC3339)})
	if err := os.WriteFile(filepath.Join(tmp, "manifest.json"), b, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil && !errors.Is(err, os.ErrExist) {
		if _, serr := os.Stat(filepath.Join(final, "manifest.json")); serr == nil {
			return nil // stored by a concurrent run
		}
		return err
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
