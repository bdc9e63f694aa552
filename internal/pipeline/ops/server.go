package ops

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/ferry-ml/ferry/internal/dataset"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/learn"
	"github.com/ferry-ml/ferry/internal/learn/gbdt"
	"github.com/ferry-ml/ferry/internal/pipeline"
)

// Server is what the server-backed operations need of a Ferry server
// (the command-line client implements it over the MLflow and /api/v1
// APIs).
type Server interface {
	// CreateRun starts a run in the experiment (created when missing);
	// parent, when set, makes it a child run.
	CreateRun(ctx context.Context, experiment, name, parent string) (runID string, err error)
	LogRun(ctx context.Context, runID string, params map[string]string, metrics map[string]float64) error
	EndRun(ctx context.Context, runID string, failed bool) error
	// UploadArtifact stores data under the run's artifacts at path and
	// returns the artifact's location (mlflow-artifacts:/...).
	UploadArtifact(ctx context.Context, runID, path string, data []byte) (string, error)
	// RegisterModel creates a version of the model (and the model when
	// missing) from source, returning the version number.
	RegisterModel(ctx context.Context, name, source, runID string) (int64, error)
	SetAlias(ctx context.Context, name, alias string, version int64) error
	// Deploy puts a models:/ URI behind an endpoint.
	Deploy(ctx context.Context, endpoint, modelURI, strategy string, options map[string]any) error
	// EndpointReady says whether the endpoint serves a version.
	EndpointReady(ctx context.Context, endpoint string) (bool, error)
	// DatasetVersion resolves NAME, NAME@latest or NAME@VERSION.
	DatasetVersion(ctx context.Context, ref string) (dataset.Version, error)
	// OpenDataset streams a version's file.
	OpenDataset(ctx context.Context, v dataset.Version) (io.ReadCloser, error)
	// LogInput records a dataset as an input of a run (lineage).
	LogInput(ctx context.Context, runID string, ds dataset.MLflowDataset) error
}

// WithServer adds the operations that record in a Ferry server to ops:
// search (a hyperparameter search whose trials are child runs), register,
// alias and deploy.
func WithServer(ops pipeline.Ops, srv Server) pipeline.Ops {
	out := pipeline.Ops{}
	for k, v := range ops {
		out[k] = v
	}
	s := serverOps{srv}
	out["load"] = loadOp{srv}
	out["search"] = pipeline.OpFunc(s.search)
	out["register"] = pipeline.OpFunc(s.register)
	out["alias"] = pipeline.OpFunc(s.alias)
	out["deploy"] = pipeline.OpFunc(s.deploy)
	return out
}

type serverOps struct{ srv Server }

// trial is one setting of a search.
type trial struct {
	params  map[string]string
	metrics map[string]float64
	model   []byte
	runID   string
	err     error
}

// search trains a gbdt learner for each setting of a grid
// ("max_depth=3,6;learning_rate=0.1,0.3") or for `trials` random picks
// from it, `parallel` at a time, each a child run of one parent run that
// logs the setting and its validation metrics; the best by `metric`
// (default roc_auc for classifiers, rmse for regression; `maximize`
// decides the direction) is the step's model.json, metrics.json and
// run_id.txt.
func (s serverOps) search(ctx context.Context, c pipeline.OpCall) error {
	a := &args{c: c}
	task, target := a.task(), a.str("target", "")
	grid := a.str("grid", "")
	experiment := a.str("experiment", "Default")
	metric := a.str("metric", map[bool]string{true: "rmse", false: "roc_auc"}[task == learn.Regression])
	maximize := a.str("maximize", map[bool]string{true: "false", false: "true"}[metric == "rmse" || metric == "mae" || metric == "log_loss"]) == "true"
	parallel := int(a.num("parallel", 2))
	randomTrials := int(a.num("trials", 0))
	seed := uint64(a.num("seed", 0))
	validFrac := a.num("valid_fraction", 0.25)
	t := a.table("data", target, task)
	if a.err != nil {
		return a.err
	}
	settings, err := parseGrid(grid)
	if err != nil {
		return fmt.Errorf("step %q: with.grid: %w", c.Step, err)
	}
	if randomTrials > 0 && randomTrials < len(settings) {
		r := rand.New(rand.NewPCG(seed, seed^0x5eed))
		r.Shuffle(len(settings), func(i, j int) { settings[i], settings[j] = settings[j], settings[i] })
		settings = settings[:randomTrials]
	}
	trainIdx, validIdx, err := learn.SplitIndices(t.Rows, t.Y, validFrac, seed, task != learn.Regression)
	if err != nil {
		return err
	}
	train, valid := t.Subset(trainIdx), t.Subset(validIdx)
	parent, err := s.srv.CreateRun(ctx, experiment, c.Step, "")
	if err != nil {
		return err
	}
	if err := s.logInput(ctx, a, parent); err != nil {
		return err
	}
	trials := make([]trial, len(settings))
	sem := make(chan struct{}, max(1, parallel))
	var wg sync.WaitGroup
	for i, set := range settings {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			trials[i] = s.trial(ctx, a, experiment, parent, c.Step, i, task, len(t.Classes), set, seed, train, valid)
		}()
	}
	wg.Wait()
	best := -1
	for i, tr := range trials {
		if tr.err != nil {
			fmt.Fprintf(c.Log, "trial %d %v failed: %v\n", i, tr.params, tr.err)
			continue
		}
		fmt.Fprintf(c.Log, "trial %d %v: %s\n", i, tr.params, formatMetrics(tr.metrics))
		v, ok := tr.metrics[metric]
		if !ok {
			return errdefs.InvalidArgument("step %q: the trials have no metric %q (they have %s)", c.Step, metric, formatMetrics(tr.metrics))
		}
		if best < 0 || (maximize && v > trials[best].metrics[metric]) || (!maximize && v < trials[best].metrics[metric]) {
			best = i
		}
	}
	if best < 0 {
		_ = s.srv.EndRun(ctx, parent, true)
		return fmt.Errorf("step %q: every trial failed", c.Step)
	}
	b := trials[best]
	metrics := map[string]float64{}
	for k, v := range b.metrics {
		metrics["best_"+k] = v
	}
	if err := s.srv.LogRun(ctx, parent, b.params, metrics); err != nil {
		return err
	}
	if err := s.srv.EndRun(ctx, parent, false); err != nil {
		return err
	}
	fmt.Fprintf(c.Log, "best of %d trials by %s: %v (run %s)\n", len(trials), metric, b.params, b.runID)
	if err := os.WriteFile(filepath.Join(c.Outputs, "model.json"), b.model, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(c.Outputs, "run_id.txt"), []byte(b.runID+"\n"), 0o644); err != nil {
		return err
	}
	return writeMetrics(c, b.metrics)
}

func (s serverOps) trial(ctx context.Context, a *args, experiment, parent, step string, i int, task learn.Task, classes int,
	set map[string]string, seed uint64, train, valid learn.Dataset) (tr trial) {
	tr.params = set
	obj := map[learn.Task]gbdt.Objective{learn.Binary: gbdt.BinaryLogistic, learn.Multiclass: gbdt.MultiSoftprob, learn.Regression: gbdt.RegSquaredError}[task]
	p := gbdt.DefaultParams(obj)
	p.Seed = seed
	if task == learn.Multiclass {
		p.NumClass = classes
	}
	for k, v := range set {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			tr.err = fmt.Errorf("%s=%q is not a number", k, v)
			return tr
		}
		switch k {
		case "n_estimators":
			p.NumRounds = int(f)
		case "max_depth":
			p.MaxDepth = int(f)
		case "learning_rate":
			p.LearningRate = f
		case "min_child_weight":
			p.MinChildWeight = f
		case "reg_lambda":
			p.Lambda = f
		case "subsample":
			p.Subsample = f
		default:
			tr.err = fmt.Errorf("unknown gbdt parameter %q (n_estimators, max_depth, learning_rate, min_child_weight, reg_lambda, subsample)", k)
			return tr
		}
	}
	tr.runID, tr.err = s.srv.CreateRun(ctx, experiment, fmt.Sprintf("%s-trial-%d", step, i), parent)
	if tr.err != nil {
		return tr
	}
	defer func() { _ = s.srv.EndRun(ctx, tr.runID, tr.err != nil) }()
	if tr.err = s.logInput(ctx, a, tr.runID); tr.err != nil {
		return tr
	}
	m, err := gbdt.Train(ctx, &train, nil, p)
	if err != nil {
		tr.err = err
		return tr
	}
	out, err := m.Predict(valid.X, valid.Rows)
	if err != nil {
		tr.err = err
		return tr
	}
	if tr.metrics, tr.err = learn.Evaluate(task, valid.Y, out); tr.err != nil {
		return tr
	}
	var b strings.Builder
	if tr.err = m.WriteXGBoostJSON(&b); tr.err != nil {
		return tr
	}
	tr.model = []byte(b.String())
	tr.err = s.srv.LogRun(ctx, tr.runID, set, tr.metrics)
	return tr
}

// parseGrid expands "a=1,2;b=x,y" into every combination, in a stable
// order.
func parseGrid(grid string) ([]map[string]string, error) {
	settings := []map[string]string{{}}
	for _, part := range strings.Split(grid, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, vs, ok := strings.Cut(part, "=")
		if !ok || strings.TrimSpace(k) == "" || strings.TrimSpace(vs) == "" {
			return nil, fmt.Errorf("%q: use name=v1,v2;name2=v3", part)
		}
		var next []map[string]string
		for _, s := range settings {
			for _, v := range strings.Split(vs, ",") {
				n := map[string]string{}
				for kk, vv := range s {
					n[kk] = vv
				}
				n[strings.TrimSpace(k)] = strings.TrimSpace(v)
				next = append(next, n)
			}
		}
		settings = next
	}
	if len(settings) > 1000 {
		return nil, fmt.Errorf("%d settings; at most 1000", len(settings))
	}
	return settings, nil
}

// register logs a model file (and its metrics) to a run and creates a
// model version from it; version.txt holds the number.
func (s serverOps) register(ctx context.Context, c pipeline.OpCall) error {
	a := &args{c: c}
	name := a.str("name", "")
	modelPath := a.path("model")
	experiment := a.str("experiment", "Default")
	if a.err != nil {
		return a.err
	}
	model, err := os.ReadFile(modelPath)
	if err != nil {
		return err
	}
	runID := strings.TrimSpace(c.With["run_id"])
	if p := c.With["run_id_file"]; p != "" {
		b, err := os.ReadFile(a.abs(p))
		if err != nil {
			return err
		}
		runID = strings.TrimSpace(string(b))
	}
	if runID == "" {
		if runID, err = s.srv.CreateRun(ctx, experiment, c.Step, ""); err != nil {
			return err
		}
		if err := s.logInput(ctx, a, runID); err != nil {
			return err
		}
	}
	if p := c.With["metrics"]; p != "" {
		b, err := os.ReadFile(a.abs(p))
		if err != nil {
			return err
		}
		var m map[string]float64
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("with.metrics: %w", err)
		}
		if err := s.srv.LogRun(ctx, runID, nil, m); err != nil {
			return err
		}
	}
	loc, err := s.srv.UploadArtifact(ctx, runID, "model/"+filepath.Base(modelPath), model)
	if err != nil {
		return err
	}
	_ = s.srv.EndRun(ctx, runID, false)
	v, err := s.srv.RegisterModel(ctx, name, loc, runID)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Log, "registered version %d of model %s from %s\n", v, name, loc)
	link(c, "output", fmt.Sprintf("models:/%s/%d", name, v))
	return os.WriteFile(filepath.Join(c.Outputs, "version.txt"), []byte(strconv.FormatInt(v, 10)+"\n"), 0o644)
}

func (a *args) abs(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(a.c.Workdir, p)
}

// version reads with.version, or the number in with.version_file.
func (a *args) version() int64 {
	v := a.c.With["version"]
	if p := a.c.With["version_file"]; p != "" {
		b, err := os.ReadFile(a.abs(p))
		if err != nil && a.err == nil {
			a.err = err
		}
		v = strings.TrimSpace(string(b))
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if (err != nil || n < 1) && a.err == nil {
		a.err = errdefs.InvalidArgument("step %q: give with.version (a number) or with.version_file", a.c.Step)
	}
	return n
}

// alias points an alias at a version (the policy gates apply).
func (s serverOps) alias(ctx context.Context, c pipeline.OpCall) error {
	a := &args{c: c}
	name, alias, v := a.str("name", ""), a.str("alias", ""), a.version()
	if a.err != nil {
		return a.err
	}
	if err := s.srv.SetAlias(ctx, name, alias, v); err != nil {
		return err
	}
	fmt.Fprintf(c.Log, "alias %s of model %s → version %d\n", alias, name, v)
	return nil
}

// deploy serves a version at an endpoint with a strategy; rollout
// options (steps, interval, weight, sticky) and the canary analysis's
// limits (max_error_rate, max_latency_ratio, max_p99_ms, max_shift,
// min_requests) pass through. A rollout
// strategy (canary, shadow, ab) on an endpoint that serves nothing yet
// deploys directly: there is no stable version to compare with.
func (s serverOps) deploy(ctx context.Context, c pipeline.OpCall) error {
	a := &args{c: c}
	endpoint := a.str("endpoint", "")
	uri := c.With["model"]
	if uri == "" {
		name := a.str("name", "")
		uri = fmt.Sprintf("models:/%s/%d", name, a.version())
	}
	strategy := a.str("strategy", "direct")
	if a.err != nil {
		return a.err
	}
	opts := map[string]any{}
	keys := make([]string, 0, len(c.With))
	for k := range c.With {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	analysis := map[string]any{} // the canary's analysis, as the deploy API takes it
	for _, k := range keys {
		switch k {
		case "interval", "sticky":
			opts[k] = c.With[k]
		case "weight":
			n, err := strconv.Atoi(c.With[k])
			if err != nil {
				return errdefs.InvalidArgument("step %q: with.weight: %q is not a whole number", c.Step, c.With[k])
			}
			opts[k] = n
		case "steps":
			var ws []int
			for _, f := range strings.Split(c.With[k], ",") {
				n, err := strconv.Atoi(strings.TrimSpace(f))
				if err != nil {
					return errdefs.InvalidArgument("step %q: with.steps: %q is not a whole number", c.Step, f)
				}
				ws = append(ws, n)
			}
			opts[k] = ws
		case "min_requests":
			n, err := strconv.Atoi(c.With[k])
			if err != nil || n < 0 {
				return errdefs.InvalidArgument("step %q: with.min_requests: %q is not a whole number", c.Step, c.With[k])
			}
			analysis[k] = n
		case "max_error_rate", "max_latency_ratio", "max_p99_ms", "max_shift":
			x, err := strconv.ParseFloat(c.With[k], 64)
			if err != nil || x < 0 || math.IsInf(x, 0) {
				return errdefs.InvalidArgument("step %q: with.%s: %q is not a non-negative number", c.Step, k, c.With[k])
			}
			analysis[k] = x
		}
	}
	if len(analysis) > 0 {
		opts["analysis"] = analysis
	}
	if strategy == "canary" || strategy == "shadow" || strategy == "ab" {
		ready, err := s.srv.EndpointReady(ctx, endpoint)
		if err != nil {
			return err
		}
		if !ready {
			fmt.Fprintf(c.Log, "endpoint %s serves nothing yet: deploying directly instead of a %s rollout\n", endpoint, strategy)
			strategy, opts = "direct", map[string]any{}
		}
	}
	if err := s.srv.Deploy(ctx, endpoint, uri, strategy, opts); err != nil {
		return err
	}
	fmt.Fprintf(c.Log, "deployed %s at endpoint %s (%s)\n", uri, endpoint, strategy)
	link(c, "output", "endpoints:/"+endpoint)
	return nil
}

// loadOp fetches a version of a dataset registered with `ferry data add`
// (with.dataset: NAME, NAME@latest or NAME@VERSION) as data.csv, and
// writes dataset.json: the version and its MLflow dataset description,
// which search, train and register log as their runs' input. Its cache
// key holds the digest the reference resolves to, so a new latest
// version re-runs it and what depends on it.
type loadOp struct{ srv Server }

// loaded is dataset.json.
type loaded struct {
	Version dataset.Version       `json:"version"`
	MLflow  dataset.MLflowDataset `json:"mlflow"`
}

func (l loadOp) Key(ctx context.Context, with map[string]string) (string, error) {
	v, err := l.srv.DatasetVersion(ctx, with["dataset"])
	if err != nil {
		return "", err
	}
	return v.Digest, nil
}

func (l loadOp) Run(ctx context.Context, c pipeline.OpCall) error {
	a := &args{c: c}
	ref := a.str("dataset", "")
	if a.err != nil {
		return a.err
	}
	v, err := l.srv.DatasetVersion(ctx, ref)
	if err != nil {
		return err
	}
	rc, err := l.srv.OpenDataset(ctx, v)
	if err != nil {
		return err
	}
	defer rc.Close()
	raw := filepath.Join(c.Outputs, "data.csv")
	if v.Format == "parquet" {
		raw = filepath.Join(c.Outputs, ".data.parquet")
	}
	f, err := os.Create(raw)
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), rc)
	if err != nil {
		f.Close()
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != v.Digest {
		f.Close()
		return fmt.Errorf("dataset %s version %d: the downloaded file's sha256 %s is not the version's %s", v.Name, v.Version, got, v.Digest)
	}
	if v.Format == "parquet" { // the steps after read CSV
		out, err := os.Create(filepath.Join(c.Outputs, "data.csv"))
		if err == nil {
			err = dataset.ParquetToCSV(ctx, f, n, out)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
		}
		f.Close()
		os.Remove(raw)
		if err != nil {
			return err
		}
	} else if err := f.Close(); err != nil {
		return err
	}
	var p dataset.Profile
	if err := json.Unmarshal(v.Profile, &p); err != nil {
		return err
	}
	v.Profile = nil
	b, err := json.MarshalIndent(loaded{Version: v, MLflow: p.MLflowDataset(v.Name, "ferry", v.Source)}, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Log, "loaded dataset %s version %d: %d rows, sha256 %s\n", v.Name, v.Version, v.Rows, v.Digest)
	link(c, "input", v.URI())
	return os.WriteFile(filepath.Join(c.Outputs, "dataset.json"), b, 0o644)
}

// logInput records the dataset of with.dataset_file (a load step's
// dataset.json), if any, as an input of run.
func (s serverOps) logInput(ctx context.Context, a *args, runID string) error {
	p := a.c.With["dataset_file"]
	if p == "" {
		return nil
	}
	b, err := os.ReadFile(a.abs(p))
	if err != nil {
		return err
	}
	var l loaded
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("with.dataset_file: %w", err)
	}
	return s.srv.LogInput(ctx, runID, l.MLflow)
}

// link records a lineage fact when the executor asks for them.
func link(c pipeline.OpCall, relation, uri string) {
	if c.Link != nil {
		c.Link(relation, uri)
	}
}
