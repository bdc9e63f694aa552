package tracking

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/ferry-ml/ferry/internal/audit"
	"github.com/ferry-ml/ferry/internal/blob"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/filter"
)

// ArtifactLister lists artifact files; blob.Store satisfies it.
type ArtifactLister interface {
	List(ctx context.Context, dir string) ([]blob.Entry, error)
}

// Options configures a Service.
type Options struct {
	// ArtifactRoot is the URI under which new experiments get their
	// artifact location, "mlflow-artifacts:" when artifacts are proxied.
	ArtifactRoot string
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// Service is the tracking domain: MLflow's rules over a Store.
type Service struct {
	store     Store
	artifacts ArtifactLister
	root      string
	now       func() time.Time
}

// NewService returns a tracking service over store; artifacts may be nil
// when artifact listing is not available.
func NewService(store Store, artifacts ArtifactLister, opts Options) *Service {
	s := &Service{store: store, artifacts: artifacts, root: opts.ArtifactRoot, now: opts.Now}
	if s.root == "" {
		s.root = ArtifactScheme
	}
	s.root = strings.TrimRight(s.root, "/")
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Init prepares the store: the Default experiment always exists.
func (s *Service) Init(ctx context.Context) error {
	return s.store.EnsureDefaultExperiment(ctx, s.root, s.millis())
}

func (s *Service) millis() int64 { return s.now().UnixMilli() }

// ---- experiments

// CreateExperiment creates an experiment and returns its id.
func (s *Service) CreateExperiment(ctx context.Context, name, artifactLocation string, tags []Tag) (string, error) {
	if err := ValidateExperimentName(name); err != nil {
		return "", err
	}
	if strings.HasPrefix(artifactLocation, "runs:") {
		return "", errdefs.InvalidArgument("Artifact location cannot be a runs:/ URI. Given: '%s'", artifactLocation)
	}
	for _, t := range tags {
		if err := ValidateExperimentTag(t); err != nil {
			return "", err
		}
	}
	now := s.millis()
	id, err := s.store.CreateExperiment(ctx, Experiment{
		Name: name, ArtifactLocation: artifactLocation, LifecycleStage: StageActive,
		CreationTime: now, LastUpdateTime: now, Tags: tags,
	}, s.root)
	if err == nil {
		s.noteExperiment(ctx, "create_experiment", id, nil)
	}
	return id, err
}

// Audit notes. Experiment and run lifecycle changes carry digests of the
// experiment or run info before and after; data writes (metrics, params,
// tags, inputs) carry the digest of what was written as "after" — metrics
// and inputs only ever append and params never change, and reading the
// old value of a tag would cost a read on the hottest path.

func note(ctx context.Context, action, resource string, before, after any) {
	if !audit.Recording(ctx) {
		return
	}
	audit.Note(ctx, audit.Change{Action: "tracking." + action, Resource: resource,
		Before: audit.Digest(before), After: audit.Digest(after)})
}

// RunURI is the audit resource of a run.
func RunURI(id string) string { return "runs:/" + id }

// ExperimentURI is the audit resource of an experiment.
func ExperimentURI(id string) string { return "experiments:/" + id }

// experimentState reads an experiment for an audit digest (nil if gone).
func (s *Service) experimentState(ctx context.Context, id string) any {
	if !audit.Recording(ctx) {
		return nil
	}
	e, err := s.store.GetExperiment(ctx, id)
	if err != nil {
		return nil
	}
	return e
}

func (s *Service) noteExperiment(ctx context.Context, action, id string, before any) {
	note(ctx, action, ExperimentURI(id), before, s.experimentState(ctx, id))
}

func (s *Service) runState(ctx context.Context, id string) any {
	if !audit.Recording(ctx) {
		return nil
	}
	r, err := s.store.GetRun(ctx, id)
	if err != nil {
		return nil
	}
	return r.Info
}

// GetExperiment returns an experiment by id.
func (s *Service) GetExperiment(ctx context.Context, id string) (Experiment, error) {
	if id == "" {
		return Experiment{}, MissingValue("experiment_id")
	}
	return s.store.GetExperiment(ctx, id)
}

// GetExperimentByName returns an experiment by name, active or deleted.
func (s *Service) GetExperimentByName(ctx context.Context, name string) (Experiment, error) {
	if name == "" {
		return Experiment{}, MissingValue("experiment_name")
	}
	return s.store.GetExperimentByName(ctx, name)
}

// ExperimentSearch is an experiments/search request.
type ExperimentSearch struct {
	Filter     string
	OrderBy    []string
	ViewType   ViewType
	MaxResults int // 0: default 1000
	PageToken  string
}

// SearchExperiments finds experiments; the returned token is "" on the last page.
func (s *Service) SearchExperiments(ctx context.Context, q ExperimentSearch) ([]Experiment, string, error) {
	limit, err := maxResults(q.MaxResults, 1000, MaxExperimentsPerSearch)
	if err != nil {
		return nil, "", err
	}
	offset, err := DecodePageToken(q.PageToken)
	if err != nil {
		return nil, "", err
	}
	clauses, err := filter.ParseExperimentFilter(q.Filter)
	if err != nil {
		return nil, "", err
	}
	order, err := filter.ParseExperimentOrderBy(q.OrderBy)
	if err != nil {
		return nil, "", err
	}
	exps, err := s.store.SearchExperiments(ctx, ExperimentQuery{
		Filter: clauses, OrderBy: order, Stages: viewType(q.ViewType).Stages(),
		Offset: offset, Limit: limit + 1,
	})
	if err != nil {
		return nil, "", err
	}
	exps, next := Page(exps, offset, limit)
	return exps, next, nil
}

// UpdateExperiment renames an active experiment.
func (s *Service) UpdateExperiment(ctx context.Context, id, newName string) error {
	if id == "" {
		return MissingValue("experiment_id")
	}
	if newName == "" {
		return errdefs.InvalidArgument("The new name of the experiment must not be empty.")
	}
	if err := ValidateExperimentName(newName); err != nil {
		return err
	}
	before := s.experimentState(ctx, id)
	if err := s.store.RenameExperiment(ctx, id, newName, s.millis()); err != nil {
		return err
	}
	s.noteExperiment(ctx, "rename_experiment", id, before)
	return nil
}

// DeleteExperiment marks an experiment and its runs deleted.
func (s *Service) DeleteExperiment(ctx context.Context, id string) error {
	if id == "" {
		return MissingValue("experiment_id")
	}
	return s.setExperimentStage(ctx, "delete_experiment", id, StageDeleted)
}

func (s *Service) setExperimentStage(ctx context.Context, action, id string, stage LifecycleStage) error {
	before := s.experimentState(ctx, id)
	if err := s.store.SetExperimentStage(ctx, id, stage, s.millis()); err != nil {
		return err
	}
	s.noteExperiment(ctx, action, id, before)
	return nil
}

// RestoreExperiment brings a deleted experiment and its runs back.
func (s *Service) RestoreExperiment(ctx context.Context, id string) error {
	if id == "" {
		return MissingValue("experiment_id")
	}
	return s.setExperimentStage(ctx, "restore_experiment", id, StageActive)
}

// SetExperimentTag sets a tag on an active experiment.
func (s *Service) SetExperimentTag(ctx context.Context, id string, tag Tag) error {
	if id == "" {
		return MissingValue("experiment_id")
	}
	if tag.Key == "" {
		return MissingValue("key")
	}
	if err := ValidateExperimentTag(tag); err != nil {
		return err
	}
	before := s.experimentState(ctx, id)
	if err := s.store.SetExperimentTag(ctx, id, tag); err != nil {
		return err
	}
	s.noteExperiment(ctx, "set_experiment_tag", id, before)
	return nil
}

// ---- runs

// CreateRunRequest is a runs/create request.
type CreateRunRequest struct {
	ExperimentID string
	UserID       string
	RunName      string
	StartTime    int64 // 0: now
	Tags         []Tag
}

// CreateRun creates a run in an active experiment. Without a run name
// (argument or mlflow.runName tag) one is generated.
func (s *Service) CreateRun(ctx context.Context, req CreateRunRequest) (Run, error) {
	if req.ExperimentID == "" {
		req.ExperimentID = DefaultExperimentID
	}
	tags := make([]Tag, 0, len(req.Tags)+1)
	tagName := ""
	for i, t := range req.Tags {
		if err := ValidateTag(&t, fmt.Sprintf("tags[%d]", i)); err != nil {
			return Run{}, err
		}
		if t.Key == TagRunName {
			tagName = t.Value
			continue
		}
		tags = append(tags, t)
	}
	name := req.RunName
	switch {
	case name != "" && tagName != "" && name != tagName:
		return Run{}, errdefs.InvalidArgument("Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='%s', mlflow.runName='%s').", name, tagName)
	case name == "":
		name = tagName
	}
	if name == "" {
		name = GenerateRunName()
	}
	tags = append(tags, Tag{Key: TagRunName, Value: name})
	exp, err := s.store.GetExperiment(ctx, req.ExperimentID)
	if err != nil {
		return Run{}, err
	}
	if exp.LifecycleStage != StageActive {
		return Run{}, ExperimentNotActive(exp.ID, exp.LifecycleStage)
	}
	id := NewRunID()
	start := req.StartTime
	if start == 0 {
		start = s.millis()
	}
	run := Run{
		Info: RunInfo{
			RunID: id, RunName: name, ExperimentID: exp.ID, UserID: req.UserID,
			Status: StatusRunning, StartTime: start,
			ArtifactURI:    appendURIPath(exp.ArtifactLocation, id, "artifacts"),
			LifecycleStage: StageActive,
		},
		Data: RunData{Tags: tags},
	}
	if err := s.store.CreateRun(ctx, run); err != nil {
		return Run{}, err
	}
	run.Data.Sort()
	note(ctx, "create_run", RunURI(run.Info.RunID), nil, run.Info)
	return run, nil
}

// GetRun returns a run with its latest metrics, params, tags and inputs.
func (s *Service) GetRun(ctx context.Context, id string) (Run, error) {
	if err := ValidateRunID(id, "run_id"); err != nil {
		return Run{}, err
	}
	return s.store.GetRun(ctx, id)
}

// UpdateRun changes status, end time or name of an active run.
func (s *Service) UpdateRun(ctx context.Context, id string, u RunUpdate) (RunInfo, error) {
	if err := ValidateRunID(id, "run_id"); err != nil {
		return RunInfo{}, err
	}
	if u.Status != nil && !u.Status.Valid() {
		return RunInfo{}, InvalidValue("status", string(*u.Status), "")
	}
	if u.RunName != nil && *u.RunName == "" {
		u.RunName = nil
	}
	before := s.runState(ctx, id)
	info, err := s.store.UpdateRun(ctx, id, u)
	if err != nil {
		return RunInfo{}, err
	}
	note(ctx, "update_run", RunURI(id), before, info)
	return info, nil
}

// DeleteRun marks a run deleted.
func (s *Service) DeleteRun(ctx context.Context, id string) error {
	if err := ValidateRunID(id, "run_id"); err != nil {
		return err
	}
	return s.setRunStage(ctx, "delete_run", id, StageDeleted)
}

func (s *Service) setRunStage(ctx context.Context, action, id string, stage LifecycleStage) error {
	before := s.runState(ctx, id)
	if err := s.store.SetRunStage(ctx, id, stage, s.millis()); err != nil {
		return err
	}
	note(ctx, action, RunURI(id), before, s.runState(ctx, id))
	return nil
}

// RestoreRun brings a deleted run back.
func (s *Service) RestoreRun(ctx context.Context, id string) error {
	if err := ValidateRunID(id, "run_id"); err != nil {
		return err
	}
	return s.setRunStage(ctx, "restore_run", id, StageActive)
}

// LogMetric logs one metric value.
func (s *Service) LogMetric(ctx context.Context, runID string, m Metric) error {
	if err := ValidateRunID(runID, "run_id"); err != nil {
		return err
	}
	if err := ValidateMetric(m, ""); err != nil {
		return err
	}
	return s.logBatch(ctx, "log_metric", runID, []Metric{m}, nil, nil)
}

// logBatch writes and notes a batch.
func (s *Service) logBatch(ctx context.Context, action, runID string, metrics []Metric, params []Param, tags []Tag) error {
	if err := s.store.LogBatch(ctx, runID, metrics, params, tags); err != nil {
		return err
	}
	note(ctx, action, RunURI(runID), nil, RunData{Metrics: metrics, Params: params, Tags: tags})
	return nil
}

// LogParam logs one param; logging it again with another value is an error.
func (s *Service) LogParam(ctx context.Context, runID string, p Param) error {
	if err := ValidateRunID(runID, "run_id"); err != nil {
		return err
	}
	if p.Key == "" {
		return MissingValue("key")
	}
	if err := ValidateParam(&p, ""); err != nil {
		return err
	}
	return s.logBatch(ctx, "log_param", runID, nil, []Param{p}, nil)
}

// SetTag sets one run tag.
func (s *Service) SetTag(ctx context.Context, runID string, t Tag) error {
	if err := ValidateRunID(runID, "run_id"); err != nil {
		return err
	}
	if t.Key == "" {
		return MissingValue("key")
	}
	if err := ValidateTag(&t, ""); err != nil {
		return err
	}
	return s.logBatch(ctx, "set_tag", runID, nil, nil, []Tag{t})
}

// DeleteTag removes a run tag.
func (s *Service) DeleteTag(ctx context.Context, runID, key string) error {
	if err := ValidateRunID(runID, "run_id"); err != nil {
		return err
	}
	if key == "" {
		return MissingValue("key")
	}
	if err := s.store.DeleteTag(ctx, runID, key); err != nil {
		return err
	}
	note(ctx, "delete_tag", RunURI(runID), Tag{Key: key}, nil)
	return nil
}

// LogBatch logs metrics, params and tags at once; a batch that fails
// validation writes nothing.
func (s *Service) LogBatch(ctx context.Context, runID string, metrics []Metric, params []Param, tags []Tag) error {
	if err := ValidateRunID(runID, "run_id"); err != nil {
		return err
	}
	if err := ValidateBatchLimits(len(metrics), len(params), len(tags)); err != nil {
		return err
	}
	for i, m := range metrics {
		if err := ValidateMetric(m, fmt.Sprintf("metrics[%d]", i)); err != nil {
			return err
		}
	}
	for i := range params {
		if err := ValidateParam(&params[i], fmt.Sprintf("params[%d]", i)); err != nil {
			return err
		}
	}
	if err := validateUniqueParams(params); err != nil {
		return err
	}
	for i := range tags {
		if err := ValidateTag(&tags[i], fmt.Sprintf("tags[%d]", i)); err != nil {
			return err
		}
	}
	if len(metrics)+len(params)+len(tags) == 0 {
		// MLflow still checks the run exists and is active.
		run, err := s.store.GetRun(ctx, runID)
		if err != nil {
			return err
		}
		if run.Info.LifecycleStage != StageActive {
			return RunNotActive(runID, run.Info.LifecycleStage)
		}
		return nil
	}
	return s.logBatch(ctx, "log_batch", runID, metrics, params, tags)
}

// LogModel appends an MLmodel description (JSON) to the run's
// mlflow.log-model.history tag, as MLflow's log_model records it.
func (s *Service) LogModel(ctx context.Context, runID, modelJSON string) error {
	if err := ValidateRunID(runID, "run_id"); err != nil {
		return err
	}
	if modelJSON == "" {
		return MissingValue("model_json")
	}
	var model map[string]any
	if err := json.Unmarshal([]byte(modelJSON), &model); err != nil {
		return errdefs.InvalidArgument("Malformed model info. \n %s \n is not a valid JSON.", modelJSON)
	}
	var missing []string
	for _, k := range []string{"artifact_path", "flavors", "run_id", "utc_time_created"} {
		if _, ok := model[k]; !ok {
			missing = append(missing, "'"+k+"'")
		}
	}
	if len(missing) > 0 {
		// MLflow prints the missing keys as a Python set.
		return errdefs.InvalidArgument("Model json is missing mandatory fields: {%s}", strings.Join(missing, ", "))
	}
	err := s.store.UpdateTag(ctx, runID, TagLoggedModels, func(old string, found bool) (string, error) {
		var history []any
		if found && old != "" {
			if err := json.Unmarshal([]byte(old), &history); err != nil {
				history = nil
			}
		}
		history = append(history, model)
		b, err := json.Marshal(history)
		if err != nil {
			return "", err
		}
		return string(b), nil
	})
	if err != nil {
		return err
	}
	note(ctx, "log_model", RunURI(runID), nil, model)
	return nil
}

// LogInputs records datasets a run used.
func (s *Service) LogInputs(ctx context.Context, runID string, inputs []DatasetInput) error {
	if err := ValidateRunID(runID, "run_id"); err != nil {
		return err
	}
	for _, in := range inputs {
		if err := ValidateDatasetInput(in); err != nil {
			return err
		}
	}
	if len(inputs) == 0 {
		_, err := s.store.GetRun(ctx, runID)
		return err
	}
	if err := s.store.LogInputs(ctx, runID, inputs); err != nil {
		return err
	}
	note(ctx, "log_inputs", RunURI(runID), nil, inputs)
	return nil
}

// RunSearch is a runs/search request.
type RunSearch struct {
	ExperimentIDs []string
	Filter        string
	ViewType      ViewType
	MaxResults    int // 0: default 1000
	OrderBy       []string
	PageToken     string
}

// SearchRuns finds runs; the returned token is "" on the last page.
func (s *Service) SearchRuns(ctx context.Context, q RunSearch) ([]Run, string, error) {
	if q.MaxResults < 0 || q.MaxResults > MaxRunsPerSearch {
		return nil, "", errdefs.InvalidArgument("Invalid value for request parameter max_results. It must be at most %d, but got value %d", MaxRunsPerSearch, q.MaxResults)
	}
	limit := q.MaxResults
	if limit == 0 {
		limit = 1000
	}
	offset, err := DecodePageToken(q.PageToken)
	if err != nil {
		return nil, "", err
	}
	clauses, err := filter.ParseRunFilter(q.Filter)
	if err != nil {
		return nil, "", err
	}
	order, err := filter.ParseRunOrderBy(q.OrderBy)
	if err != nil {
		return nil, "", err
	}
	if len(q.ExperimentIDs) == 0 {
		return nil, "", nil
	}
	runs, err := s.store.SearchRuns(ctx, RunQuery{
		ExperimentIDs: q.ExperimentIDs, Filter: clauses, OrderBy: order,
		Stages: viewType(q.ViewType).Stages(), Offset: offset, Limit: limit + 1,
	})
	if err != nil {
		return nil, "", err
	}
	runs, next := Page(runs, offset, limit)
	return runs, next, nil
}

// MetricHistory returns all values of a metric of a run.
func (s *Service) MetricHistory(ctx context.Context, runID, key string) ([]Metric, error) {
	if err := ValidateRunID(runID, "run_id"); err != nil {
		return nil, err
	}
	if key == "" {
		return nil, MissingValue("metric_key")
	}
	if _, err := s.store.GetRun(ctx, runID); err != nil {
		return nil, err
	}
	return s.store.MetricHistory(ctx, runID, key)
}

// MetricHistoryBulkInterval returns, for up to 100 runs, the values of one
// metric at no more than maxResults steps per run, sampled evenly across
// the steps in [startStep, endStep] and always keeping the first and last.
func (s *Service) MetricHistoryBulkInterval(ctx context.Context, runIDs []string, key string, startStep, endStep *int64, maxResults int) ([]RunMetric, error) {
	if len(runIDs) == 0 {
		return nil, errdefs.InvalidArgument("GetMetricHistoryBulkInterval request must specify at least one run_id.")
	}
	if len(runIDs) > MaxBulkRunIDs {
		return nil, errdefs.InvalidArgument("GetMetricHistoryBulkInterval request must specify at most %d run_ids. Received %d run_ids.", MaxBulkRunIDs, len(runIDs))
	}
	if key == "" {
		return nil, MissingValue("metric_key")
	}
	if maxResults == 0 {
		maxResults = MaxBulkIntervalResults
	}
	if maxResults < 1 || maxResults > MaxBulkIntervalResults {
		return nil, errdefs.InvalidArgument("max_results must be between 1 and %d.", MaxBulkIntervalResults)
	}
	if startStep != nil && endStep != nil && *startStep > *endStep {
		return nil, errdefs.InvalidArgument("end_step must be greater than start_step. Found start_step=%d and end_step=%d.", *startStep, *endStep)
	}
	ids := append([]string(nil), runIDs...)
	sort.Strings(ids)
	all, err := s.store.MetricHistoryRange(ctx, ids, key, startStep, endStep)
	if err != nil {
		return nil, err
	}
	var out []RunMetric
	for len(all) > 0 {
		n := 1
		for n < len(all) && all[n].RunID == all[0].RunID {
			n++
		}
		out = append(out, sampleSteps(all[:n], maxResults)...)
		all = all[n:]
	}
	return out, nil
}

// sampleSteps keeps the values at up to max distinct steps of one run's
// history (ordered by step), evenly spaced, first and last included.
func sampleSteps(hist []RunMetric, max int) []RunMetric {
	var steps []int64
	for i, m := range hist {
		if i == 0 || m.Step != hist[i-1].Step {
			steps = append(steps, m.Step)
		}
	}
	if len(steps) <= max {
		return hist
	}
	keep := make(map[int64]bool, max)
	if max == 1 {
		keep[steps[0]] = true
	} else {
		for i := 0; i < max; i++ {
			keep[steps[i*(len(steps)-1)/(max-1)]] = true
		}
	}
	out := make([]RunMetric, 0, max)
	for _, m := range hist {
		if keep[m.Step] {
			out = append(out, m)
		}
	}
	return out
}

// ArtifactFile is one entry of an artifacts/list answer.
type ArtifactFile struct {
	Path  string // relative to the run's artifact root
	IsDir bool
	Size  int64
}

// ListArtifacts lists the direct children of path in a run's artifacts.
func (s *Service) ListArtifacts(ctx context.Context, runID, dir string) (string, []ArtifactFile, error) {
	if err := ValidateRunID(runID, "run_id"); err != nil {
		return "", nil, err
	}
	run, err := s.store.GetRun(ctx, runID)
	if err != nil {
		return "", nil, err
	}
	root := run.Info.ArtifactURI
	if dir != "" {
		if err := ValidateArtifactPath(dir); err != nil {
			return "", nil, err
		}
	}
	rootKey, ok := ArtifactKey(root)
	if !ok || s.artifacts == nil {
		return root, nil, errdefs.InvalidArgument("Listing artifacts of '%s' is not supported by this server: only %s URIs are served", root, ArtifactScheme)
	}
	listDir := rootKey
	if dir = strings.Trim(dir, "/"); dir != "" {
		listDir = rootKey + "/" + dir
	}
	entries, err := s.artifacts.List(ctx, listDir)
	if err != nil {
		return "", nil, err
	}
	files := make([]ArtifactFile, 0, len(entries))
	for _, e := range entries {
		rel := strings.TrimPrefix(strings.TrimPrefix(e.Path, rootKey), "/")
		files = append(files, ArtifactFile{Path: rel, IsDir: e.IsDir, Size: e.Size})
	}
	return root, files, nil
}

// ---- helpers

// ArtifactScheme is the URI scheme of artifacts served by Ferry itself.
const ArtifactScheme = "mlflow-artifacts:"

// ArtifactKey maps an mlflow-artifacts: URI to a key of the artifact
// store; ok is false for any other URI.
func ArtifactKey(uri string) (key string, ok bool) {
	rest, found := strings.CutPrefix(uri, ArtifactScheme)
	if !found {
		return "", false
	}
	if strings.HasPrefix(rest, "//") {
		// mlflow-artifacts://host:port/path: drop the authority.
		rest = rest[2:]
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			rest = rest[i:]
		} else {
			rest = ""
		}
	}
	return strings.Trim(rest, "/"), true
}

// ValidateArtifactPath refuses artifact paths that are absolute, climb
// out of their root or carry "#", NUL or a URI scheme, as MLflow's
// validate_path_is_safe does. Like it, the path is also judged after
// percent-decoding until it no longer changes, so that no later decoding
// layer can turn an accepted path into a traversal.
func ValidateArtifactPath(p string) error {
	dec := p
	for range 8 {
		next, err := url.PathUnescape(dec)
		if err != nil || next == dec {
			break
		}
		dec = next
	}
	for _, v := range []string{p, dec} {
		if strings.ContainsAny(v, "\\#\x00") || strings.HasPrefix(v, "/") || strings.Contains(v, "://") {
			return InvalidValue("path", p, "")
		}
		for _, seg := range strings.Split(v, "/") {
			if seg == ".." {
				return InvalidValue("path", p, "")
			}
		}
	}
	return nil
}

func appendURIPath(base string, parts ...string) string {
	out := strings.TrimRight(base, "/")
	for _, p := range parts {
		out += "/" + p
	}
	return out
}

// NewRunID returns a random run id in MLflow's format (uuid4 hex).
func NewRunID() string { return NewID() }

// NewID returns a random uuid4 in hex, the form of MLflow's run, dataset
// and input ids.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b[:])
}

func viewType(v ViewType) ViewType {
	if v < ActiveOnly || v > All {
		return ActiveOnly
	}
	return v
}

func maxResults(n, def, max int) (int, error) {
	if n == 0 {
		return def, nil
	}
	if n < 0 {
		return 0, errdefs.InvalidArgument("Invalid value for max_results. It must be a positive integer, but got %d", n)
	}
	if n > max {
		return 0, errdefs.InvalidArgument("Invalid value for max_results. It must be at most %d, but got value %d", max, n)
	}
	return n, nil
}

type pageToken struct {
	Offset int `json:"offset"`
}

// DecodePageToken reads the offset out of a page token made by
// EncodePageToken ("" is the first page). Every Ferry search pages alike.
func DecodePageToken(tok string) (int, error) {
	if tok == "" {
		return 0, nil
	}
	raw, err := base64.StdEncoding.DecodeString(tok)
	if err != nil {
		raw, err = base64.URLEncoding.DecodeString(tok)
	}
	if err != nil {
		return 0, errdefs.InvalidArgument("Invalid page token, could not base64-decode")
	}
	var pt struct {
		Offset *int `json:"offset"`
	}
	if err := json.Unmarshal(raw, &pt); err != nil {
		return 0, errdefs.InvalidArgument("Invalid page token, decoded value=%s", raw)
	}
	if pt.Offset == nil || *pt.Offset == 0 {
		// MLflow: an offset that is missing or 0 is no page token it made.
		parsed := "{}"
		if pt.Offset != nil {
			parsed = "{'offset': 0}"
		}
		return 0, errdefs.InvalidArgument("Invalid page token, parsed value=%s", parsed)
	}
	if *pt.Offset < 0 {
		return 0, errdefs.InvalidArgument("Invalid page token, offset must be non-negative")
	}
	return *pt.Offset, nil
}

// EncodePageToken returns the token of the page starting at offset.
func EncodePageToken(offset int) string {
	b, _ := json.Marshal(pageToken{Offset: offset})
	return base64.StdEncoding.EncodeToString(b)
}

// Page trims a store result fetched with limit+1 rows and returns the
// token of the next page, if there is one.
func Page[T any](rows []T, offset, limit int) ([]T, string) {
	if len(rows) > limit {
		return rows[:limit], EncodePageToken(offset + limit)
	}
	return rows, ""
}
