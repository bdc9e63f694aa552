package registry

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ferry-ml/ferry/internal/audit"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/filter"
	"github.com/ferry-ml/ferry/internal/tracking"
)

// Runs is what the registry reads of tracking: the run a version is
// registered from.
type Runs interface {
	GetRun(ctx context.Context, id string) (tracking.Run, error)
}

// Target is a move a policy gate guards: an alias, a stage, or (for the
// serving layer) a deployment.
type Target struct {
	Kind string // TargetAlias, TargetStage or TargetDeploy
	Name string // the alias, the stage, or the endpoint
	// AsModel, when set, judges the move under this model name instead of
	// the version's own (a rename asks whether the model's aliases and
	// stages would pass the gates of its new name).
	AsModel string
}

// Target kinds.
const (
	TargetAlias  = "alias"
	TargetStage  = "stage"
	TargetDeploy = "deploy"
)

func (t Target) String() string {
	if t.Kind == TargetStage {
		return "stage '" + t.Name + "'"
	}
	return t.Kind + " '" + t.Name + "'"
}

// Gate decides whether a version may move to a target. Allow returns nil
// to allow, or an error listing every failed rule.
type Gate interface {
	Allow(ctx context.Context, mv ModelVersion, t Target) error
}

// Options configures a Service.
type Options struct {
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// Gate guards alias and stage moves; nil allows every move.
	Gate Gate
	// AllowSelfApproval lets the author of a version review it.
	AllowSelfApproval bool
}

// Service is the model registry: MLflow's rules plus approvals and gates.
type Service struct {
	store Store
	runs  Runs
	gate  Gate
	now   func() time.Time
	self  bool

	// locks serialise, per model, the moves of aliases and stages with
	// everything a gate reads (reviews, tags, the model's policy), so a
	// verdict still holds when the move is made. Striped by name hash:
	// bounded memory whatever names clients send.
	locks [64]sync.Mutex
}

// NewService returns a registry over store; runs resolves run ids (nil:
// run ids and runs:/ sources are taken as given).
func NewService(store Store, runs Runs, opts Options) *Service {
	s := &Service{store: store, runs: runs, gate: opts.Gate, now: opts.Now, self: opts.AllowSelfApproval}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// SetGate replaces the gate (the policy engine is built after the registry
// it reads from).
func (s *Service) SetGate(g Gate) { s.gate = g }

func (s *Service) millis() int64 { return s.now().UnixMilli() }

// Lock holds the lock of the named models (several for a rename) until
// the returned function is called; see Service.locks. Governance takes it
// while it changes a model's policy.
func (s *Service) Lock(names ...string) func() {
	idx := make([]int, 0, len(names))
	for _, n := range names {
		h := fnv.New32a()
		_, _ = h.Write([]byte(n))
		i := int(h.Sum32() % uint32(len(s.locks)))
		if !slices.Contains(idx, i) {
			idx = append(idx, i)
		}
	}
	slices.Sort(idx) // one order for everyone: no deadlock
	for _, i := range idx {
		s.locks[i].Lock()
	}
	return func() {
		for _, i := range idx {
			s.locks[i].Unlock()
		}
	}
}

// ModelURI is the audit resource of a registered model.
func ModelURI(name string) string { return "models:/" + name }

// VersionURI is the audit resource of a model version.
func VersionURI(name string, version int64) string {
	return "models:/" + name + "/" + strconv.FormatInt(version, 10)
}

// modelState is what a registered model's audit digests cover.
func modelState(m RegisteredModel) any {
	m.LatestVersions = nil
	return m
}

func (s *Service) noteModel(ctx context.Context, action, name string, before, after *RegisteredModel) {
	c := audit.Change{Action: "registry." + action, Resource: ModelURI(name)}
	if before != nil {
		c.Before = audit.Digest(modelState(*before))
	}
	if after != nil {
		c.After = audit.Digest(modelState(*after))
	}
	audit.Note(ctx, c)
}

func (s *Service) noteVersion(ctx context.Context, action string, before, after *ModelVersion) {
	c := audit.Change{Action: "registry." + action}
	if before != nil {
		c.Resource, c.Before = VersionURI(before.Name, before.Version), audit.Digest(*before)
	}
	if after != nil {
		c.Resource, c.After = VersionURI(after.Name, after.Version), audit.Digest(*after)
	}
	audit.Note(ctx, c)
}

// modelAfter and versionAfter read a model or version for an audit
// digest; a failure leaves the digest empty rather than failing a change
// that already happened.
func (s *Service) modelAfter(ctx context.Context, name string) *RegisteredModel {
	m, err := s.store.GetRegisteredModel(ctx, name)
	if err != nil {
		return nil
	}
	return &m
}

func (s *Service) versionAfter(ctx context.Context, name string, v int64) *ModelVersion {
	mv, err := s.store.GetModelVersion(ctx, name, v)
	if err != nil {
		return nil
	}
	return &mv
}

// changeModel runs fn under the model's lock with the model as it is,
// then notes the change for the audit trail with digests before and after.
// A change that fails (a gate refuses it, say) is noted too, unchanged, so
// the refused attempt is found under the model's resource; the event's
// status tells it failed.
func (s *Service) changeModel(ctx context.Context, name, action string, fn func(before RegisteredModel) error) error {
	unlock := s.Lock(name)
	defer unlock()
	before, err := s.store.GetRegisteredModel(ctx, name)
	if err != nil {
		return err
	}
	if err := fn(before); err != nil {
		s.noteModel(ctx, action, name, &before, &before)
		return err
	}
	s.noteModel(ctx, action, name, &before, s.modelAfter(ctx, name))
	return nil
}

// changeVersion is changeModel for one version.
func (s *Service) changeVersion(ctx context.Context, name string, v int64, action string, fn func(before ModelVersion) error) error {
	unlock := s.Lock(name)
	defer unlock()
	before, err := s.store.GetModelVersion(ctx, name, v)
	if err != nil {
		return err
	}
	if err := fn(before); err != nil {
		s.noteVersion(ctx, action, &before, &before)
		return err
	}
	s.noteVersion(ctx, action, &before, s.versionAfter(ctx, name, v))
	return nil
}

// ---- registered models

// CreateRegisteredModel creates a model.
func (s *Service) CreateRegisteredModel(ctx context.Context, name, description string, tags []Tag) (RegisteredModel, error) {
	if err := ValidateModelName(name); err != nil {
		return RegisteredModel{}, err
	}
	for _, t := range tags {
		if err := ValidateTag(t); err != nil {
			return RegisteredModel{}, err
		}
	}
	if err := ValidateText("description", description); err != nil {
		return RegisteredModel{}, err
	}
	now := s.millis()
	m := RegisteredModel{Name: name, CreationTime: now, LastUpdatedTime: now, Description: description,
		Tags: dedupTags(tags), UserID: audit.Actor(ctx)}
	if err := s.store.CreateRegisteredModel(ctx, m); err != nil {
		return RegisteredModel{}, err
	}
	after := s.modelAfter(ctx, name)
	s.noteModel(ctx, "create_model", name, nil, after)
	if after != nil {
		return *after, nil
	}
	return m, nil
}

// GetRegisteredModel returns a model with its latest versions.
func (s *Service) GetRegisteredModel(ctx context.Context, name string) (RegisteredModel, error) {
	if err := ValidateModelName(name); err != nil {
		return RegisteredModel{}, err
	}
	return s.store.GetRegisteredModel(ctx, name)
}

// RenameRegisteredModel renames a model; its versions follow.
func (s *Service) RenameRegisteredModel(ctx context.Context, name, newName string) (RegisteredModel, error) {
	if err := ValidateModelName(name); err != nil {
		return RegisteredModel{}, err
	}
	if newName == "" {
		return RegisteredModel{}, errdefs.InvalidArgument("Registered model name cannot be empty.")
	}
	if err := ValidateModelName(newName); err != nil {
		return RegisteredModel{}, err
	}
	unlock := s.Lock(name, newName)
	defer unlock()
	before, err := s.store.GetRegisteredModel(ctx, name)
	if err != nil {
		return RegisteredModel{}, err
	}
	if err := s.checkRename(ctx, before, newName); err != nil {
		return RegisteredModel{}, err
	}
	if err := s.store.RenameRegisteredModel(ctx, name, newName, s.millis()); err != nil {
		return RegisteredModel{}, err
	}
	after, err := s.store.GetRegisteredModel(ctx, newName)
	if err != nil {
		return RegisteredModel{}, err
	}
	s.noteModel(ctx, "rename_model", name, &before, nil)
	s.noteModel(ctx, "rename_model", newName, nil, &after)
	return after, nil
}

// checkRename refuses a rename that would carry an alias or a stage past
// gates that guard it under the new name (global gates may name models).
func (s *Service) checkRename(ctx context.Context, m RegisteredModel, newName string) error {
	if s.gate == nil || m.Name == newName {
		return nil
	}
	type move struct {
		version int64
		t       Target
	}
	var moves []move
	for _, a := range m.Aliases {
		moves = append(moves, move{a.Version, Target{Kind: TargetAlias, Name: a.Alias}})
	}
	for _, st := range []string{StageStaging, StageProduction} {
		vs, err := s.store.VersionsInStage(ctx, m.Name, st)
		if err != nil {
			return err
		}
		for _, v := range vs {
			moves = append(moves, move{v.Version, Target{Kind: TargetStage, Name: st}})
		}
	}
	for _, mv := range moves {
		v, err := s.store.GetModelVersion(ctx, m.Name, mv.version)
		if err != nil {
			return err
		}
		mv.t.AsModel = newName
		if err := s.gate.Allow(ctx, v, mv.t); err != nil {
			return fmt.Errorf("renaming '%s' to '%s' would keep version %d at %s: %w", m.Name, newName, v.Version, mv.t, err)
		}
	}
	return nil
}

// UpdateRegisteredModel sets a model's description.
func (s *Service) UpdateRegisteredModel(ctx context.Context, name, description string) (RegisteredModel, error) {
	if err := ValidateModelName(name); err != nil {
		return RegisteredModel{}, err
	}
	if err := ValidateText("description", description); err != nil {
		return RegisteredModel{}, err
	}
	before, err := s.store.GetRegisteredModel(ctx, name)
	if err != nil {
		return RegisteredModel{}, err
	}
	if err := s.store.UpdateRegisteredModel(ctx, name, description, s.millis()); err != nil {
		return RegisteredModel{}, err
	}
	after, err := s.store.GetRegisteredModel(ctx, name)
	if err != nil {
		return RegisteredModel{}, err
	}
	s.noteModel(ctx, "update_model", name, &before, &after)
	return after, nil
}

// DeleteRegisteredModel deletes a model and everything under it.
func (s *Service) DeleteRegisteredModel(ctx context.Context, name string) error {
	if err := ValidateModelName(name); err != nil {
		return err
	}
	unlock := s.Lock(name)
	defer unlock()
	before, err := s.store.GetRegisteredModel(ctx, name)
	if err != nil {
		return err
	}
	if err := s.store.DeleteRegisteredModel(ctx, name); err != nil {
		return err
	}
	s.noteModel(ctx, "delete_model", name, &before, nil)
	return nil
}

// Search limits of MLflow's registry.
const (
	DefaultModelResults   = 100
	MaxModelResults       = 1000
	DefaultVersionResults = 200000
	MaxVersionResults     = 200000
)

// SearchRegisteredModels searches models with MLflow's filter grammar.
func (s *Service) SearchRegisteredModels(ctx context.Context, filterStr string, maxResults int64, orderBy []string, pageToken string) ([]RegisteredModel, string, error) {
	return search(searchRequest{filterStr, maxResults, orderBy, pageToken, DefaultModelResults, MaxModelResults},
		filter.ParseRegisteredModelFilter, filter.ParseRegisteredModelOrderBy,
		func(cl []filter.Clause, ob []filter.Order, offset, limit int) ([]RegisteredModel, error) {
			return s.store.SearchRegisteredModels(ctx, ModelQuery{Filter: cl, OrderBy: ob, Offset: offset, Limit: limit})
		})
}

// searchRequest is a registry search as MLflow's API takes it.
type searchRequest struct {
	filter     string
	maxResults int64
	orderBy    []string
	pageToken  string
	def, max   int64 // max_results default and limit
}

// search parses and checks a registry search and runs one page of it.
func search[T any](q searchRequest, parseFilter func(string) ([]filter.Clause, error), parseOrder func([]string) ([]filter.Order, error),
	run func(cl []filter.Clause, ob []filter.Order, offset, limit int) ([]T, error)) ([]T, string, error) {
	limit, err := checkMaxResults(q.maxResults, q.def, q.max)
	if err != nil {
		return nil, "", err
	}
	clauses, err := parseFilter(q.filter)
	if err != nil {
		return nil, "", err
	}
	orders, err := parseOrder(q.orderBy)
	if err != nil {
		return nil, "", err
	}
	offset, err := tracking.DecodePageToken(q.pageToken)
	if err != nil {
		return nil, "", err
	}
	rows, err := run(clauses, orders, offset, limit+1)
	if err != nil {
		return nil, "", err
	}
	rows, next := tracking.Page(rows, offset, limit)
	return rows, next, nil
}

func checkMaxResults(n, def, max int64) (int, error) {
	if n == 0 {
		n = def
	}
	if n < 1 {
		return 0, errdefs.InvalidArgument("Invalid value for max_results. It must be a positive integer, but got %d", n)
	}
	if n > max {
		return 0, errdefs.InvalidArgument("Invalid value for request parameter max_results. It must be at most %d, but got value %d", max, n)
	}
	return int(n), nil
}

// GetLatestVersions returns the newest version in each of stages (all
// stages when none are given).
func (s *Service) GetLatestVersions(ctx context.Context, name string, stages []string) ([]ModelVersion, error) {
	if err := ValidateModelName(name); err != nil {
		return nil, err
	}
	if _, err := s.store.GetRegisteredModel(ctx, name); err != nil {
		return nil, err
	}
	canon := make([]string, 0, len(stages))
	for _, st := range stages {
		c, err := CanonicalStage(st)
		if err != nil {
			return nil, err
		}
		canon = append(canon, c)
	}
	return s.store.LatestVersions(ctx, name, canon)
}

// SetRegisteredModelTag sets a tag on a model.
func (s *Service) SetRegisteredModelTag(ctx context.Context, name string, tag Tag) error {
	if err := ValidateModelName(name); err != nil {
		return err
	}
	if err := ValidateTag(tag); err != nil {
		return err
	}
	return s.changeModel(ctx, name, "set_model_tag", func(RegisteredModel) error {
		return s.store.SetRegisteredModelTag(ctx, name, tag)
	})
}

// DeleteRegisteredModelTag removes a tag from a model.
func (s *Service) DeleteRegisteredModelTag(ctx context.Context, name, key string) error {
	if err := ValidateModelName(name); err != nil {
		return err
	}
	if err := ValidateTagKey(key); err != nil {
		return err
	}
	return s.changeModel(ctx, name, "delete_model_tag", func(RegisteredModel) error {
		return s.store.DeleteRegisteredModelTag(ctx, name, key)
	})
}

// ---- aliases

// SetAlias points alias at a version, after the policy gate allows it.
func (s *Service) SetAlias(ctx context.Context, name, alias, version string) error {
	if err := ValidateModelName(name); err != nil {
		return err
	}
	if err := ValidateAlias(alias); err != nil {
		return err
	}
	v, err := ParseVersion(version)
	if err != nil {
		return err
	}
	err = s.changeModel(ctx, name, "set_alias", func(before RegisteredModel) error {
		mv, err := s.store.GetModelVersion(ctx, name, v)
		if err != nil {
			return err
		}
		if err := s.allow(ctx, mv, Target{Kind: TargetAlias, Name: alias}); err != nil {
			return err
		}
		// The move is made only if nothing changed since the model was
		// read (the lock covers this server, the revision all of them).
		_, err = s.store.SetAlias(ctx, name, alias, v, before.Revision)
		return err
	})
	if errors.Is(err, errdefs.ErrNotFound) {
		return VersionNotFound(name, v) // MLflow checks the version only
	}
	return err
}

// DeleteAlias removes an alias.
func (s *Service) DeleteAlias(ctx context.Context, name, alias string) error {
	if err := ValidateModelName(name); err != nil {
		return err
	}
	if err := ValidateAlias(alias); err != nil {
		return err
	}
	return s.changeModel(ctx, name, "delete_alias", func(RegisteredModel) error {
		return s.store.DeleteAlias(ctx, name, alias, s.millis())
	})
}

// GetVersionByAlias returns the version an alias points at.
func (s *Service) GetVersionByAlias(ctx context.Context, name, alias string) (ModelVersion, error) {
	if err := ValidateModelName(name); err != nil {
		return ModelVersion{}, err
	}
	if err := ValidateAlias(alias); err != nil {
		return ModelVersion{}, err
	}
	return s.store.GetVersionByAlias(ctx, name, alias)
}

func (s *Service) allow(ctx context.Context, mv ModelVersion, t Target) error {
	if s.gate == nil {
		return nil
	}
	return s.gate.Allow(ctx, mv, t)
}

// ---- model versions

// CreateVersion is a model-versions/create request.
type CreateVersion struct {
	Name        string
	Source      string
	RunID       string
	RunLink     string
	Description string
	Tags        []Tag
}

// CreateModelVersion registers a new version of a model.
func (s *Service) CreateModelVersion(ctx context.Context, req CreateVersion) (ModelVersion, error) {
	if err := ValidateModelName(req.Name); err != nil {
		return ModelVersion{}, err
	}
	if req.Source == "" {
		return ModelVersion{}, errdefs.InvalidArgument("Missing value for required parameter 'source'. See the API docs for more information about request parameters.")
	}
	for _, t := range req.Tags {
		if err := ValidateTag(t); err != nil {
			return ModelVersion{}, err
		}
	}
	for _, f := range [][2]string{{"source", req.Source}, {"run_id", req.RunID}, {"run_link", req.RunLink}, {"description", req.Description}} {
		if err := ValidateText(f[0], f[1]); err != nil {
			return ModelVersion{}, err
		}
	}
	storage, err := s.resolveSource(ctx, req.Source, req.RunID)
	if err != nil {
		return ModelVersion{}, err
	}
	now := s.millis()
	mv, err := s.store.CreateModelVersion(ctx, ModelVersion{
		Name: req.Name, CreationTime: now, LastUpdatedTime: now, UserID: audit.Actor(ctx),
		CurrentStage: StageNone, Description: req.Description, Source: req.Source, RunID: req.RunID,
		RunLink: req.RunLink, Status: StatusReady, Tags: dedupTags(req.Tags), StorageLocation: storage,
	})
	if err != nil {
		return ModelVersion{}, err
	}
	// Digest the version as stored (tags sorted), as later changes will.
	if after := s.versionAfter(ctx, mv.Name, mv.Version); after != nil {
		mv = *after
	}
	s.noteVersion(ctx, "create_version", nil, &mv)
	return mv, nil
}

// resolveSource validates a version source and returns where its files
// are. A source must not escape the artifact root: local paths are
// refused (Ferry's runs keep artifacts behind mlflow-artifacts:), and
// relative references ("..") anywhere in a URI's path are refused.
func (s *Service) resolveSource(ctx context.Context, source, runID string) (string, error) {
	if runID != "" && s.runs != nil {
		if _, err := s.runs.GetRun(ctx, runID); err != nil {
			return "", err
		}
	}
	if err := ValidateSource(source, runID); err != nil {
		return "", err
	}
	switch {
	case strings.HasPrefix(source, "runs:/"):
		id, rel, _ := strings.Cut(strings.TrimPrefix(source, "runs:/"), "/")
		if s.runs == nil {
			return source, nil
		}
		run, err := s.runs.GetRun(ctx, id)
		if err != nil {
			return "", err
		}
		loc := strings.TrimRight(run.Info.ArtifactURI, "/")
		if rel = strings.Trim(rel, "/"); rel != "" {
			loc += "/" + rel
		}
		return loc, nil
	case strings.HasPrefix(source, "models:/"):
		mv, err := s.Resolve(ctx, source)
		if err != nil {
			return "", err
		}
		if mv.StorageLocation != "" {
			return mv.StorageLocation, nil
		}
		return mv.Source, nil
	}
	return source, nil
}

// GetModelVersion returns one version.
func (s *Service) GetModelVersion(ctx context.Context, name, version string) (ModelVersion, error) {
	v, err := nameVersion(name, version)
	if err != nil {
		return ModelVersion{}, err
	}
	return s.store.GetModelVersion(ctx, name, v)
}

// UpdateModelVersion sets a version's description.
func (s *Service) UpdateModelVersion(ctx context.Context, name, version, description string) (ModelVersion, error) {
	v, err := nameVersion(name, version)
	if err != nil {
		return ModelVersion{}, err
	}
	if err := ValidateText("description", description); err != nil {
		return ModelVersion{}, err
	}
	before, err := s.store.GetModelVersion(ctx, name, v)
	if err != nil {
		return ModelVersion{}, err
	}
	after, _, err := s.store.UpdateModelVersion(ctx, name, v, VersionUpdate{Description: &description}, s.millis())
	if err != nil {
		return ModelVersion{}, err
	}
	s.noteVersion(ctx, "update_version", &before, &after)
	return after, nil
}

// TransitionStage moves a version to a stage (after the gate allows it),
// optionally archiving the versions already there.
func (s *Service) TransitionStage(ctx context.Context, name, version, stage string, archiveExisting bool) (ModelVersion, error) {
	v, err := nameVersion(name, version)
	if err != nil {
		return ModelVersion{}, err
	}
	canon, err := CanonicalStage(stage)
	if err != nil {
		return ModelVersion{}, err
	}
	if archiveExisting && canon != StageStaging && canon != StageProduction {
		return ModelVersion{}, errdefs.InvalidArgument("Model version transition cannot archive existing model versions because '%s' is not an Active stage. Valid stages are ['Staging', 'Production']", stage)
	}
	unlock := s.Lock(name)
	defer unlock()
	model, err := s.store.GetRegisteredModel(ctx, name)
	if errors.Is(err, errdefs.ErrNotFound) {
		return ModelVersion{}, VersionNotFound(name, v)
	}
	if err != nil {
		return ModelVersion{}, err
	}
	before, err := s.store.GetModelVersion(ctx, name, v)
	if err != nil {
		return ModelVersion{}, err
	}
	if err := s.allow(ctx, before, Target{Kind: TargetStage, Name: canon}); err != nil {
		s.noteVersion(ctx, "transition_stage", &before, &before) // the refused attempt
		return ModelVersion{}, err
	}
	var others []ModelVersion
	if archiveExisting {
		vs, err := s.store.VersionsInStage(ctx, name, canon)
		if err != nil {
			return ModelVersion{}, err
		}
		others = vs
	}
	after, archived, err := s.store.UpdateModelVersion(ctx, name, v,
		VersionUpdate{Stage: &canon, ArchiveExisting: archiveExisting, ExpectRevision: model.Revision}, s.millis())
	if err != nil {
		return ModelVersion{}, err
	}
	s.noteVersion(ctx, "transition_stage", &before, &after)
	for _, o := range others {
		for _, a := range archived {
			if o.Version == a {
				o := o
				s.noteVersion(ctx, "archive_version", &o, s.versionAfter(ctx, name, a))
			}
		}
	}
	return after, nil
}

// DeleteModelVersion deletes a version; its number is never reused.
func (s *Service) DeleteModelVersion(ctx context.Context, name, version string) error {
	v, err := nameVersion(name, version)
	if err != nil {
		return err
	}
	unlock := s.Lock(name)
	defer unlock()
	before, err := s.store.GetModelVersion(ctx, name, v)
	if err != nil {
		return err
	}
	if err := s.store.DeleteModelVersion(ctx, name, v, s.millis()); err != nil {
		return err
	}
	s.noteVersion(ctx, "delete_version", &before, nil)
	return nil
}

// SearchModelVersions searches versions with MLflow's filter grammar.
func (s *Service) SearchModelVersions(ctx context.Context, filterStr string, maxResults int64, orderBy []string, pageToken string) ([]ModelVersion, string, error) {
	return search(searchRequest{filterStr, maxResults, orderBy, pageToken, DefaultVersionResults, MaxVersionResults},
		filter.ParseModelVersionFilter, filter.ParseModelVersionOrderBy,
		func(cl []filter.Clause, ob []filter.Order, offset, limit int) ([]ModelVersion, error) {
			return s.store.SearchModelVersions(ctx, VersionQuery{Filter: cl, OrderBy: ob, Offset: offset, Limit: limit})
		})
}

// GetDownloadURI returns a version's download URI as MLflow does: the
// source as registered, except that a models:/ source is the location it
// resolved to. (StorageLocation always holds the resolved location.)
func (s *Service) GetDownloadURI(ctx context.Context, name, version string) (string, error) {
	mv, err := s.GetModelVersion(ctx, name, version)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(mv.Source, "models:/") && mv.StorageLocation != "" {
		return mv.StorageLocation, nil
	}
	return mv.Source, nil
}

// SetModelVersionTag sets a tag on a version.
func (s *Service) SetModelVersionTag(ctx context.Context, name, version string, tag Tag) error {
	v, err := nameVersion(name, version)
	if err != nil {
		return err
	}
	if err := ValidateTag(tag); err != nil {
		return err
	}
	return s.changeVersion(ctx, name, v, "set_version_tag", func(ModelVersion) error {
		return s.store.SetModelVersionTag(ctx, name, v, tag)
	})
}

// DeleteModelVersionTag removes a tag from a version.
func (s *Service) DeleteModelVersionTag(ctx context.Context, name, version, key string) error {
	v, err := nameVersion(name, version)
	if err != nil {
		return err
	}
	if err := ValidateTagKey(key); err != nil {
		return err
	}
	return s.changeVersion(ctx, name, v, "delete_version_tag", func(ModelVersion) error {
		return s.store.DeleteModelVersionTag(ctx, name, v, key)
	})
}

// VersionsOfRun returns the versions registered from a run.
func (s *Service) VersionsOfRun(ctx context.Context, runID string) ([]ModelVersion, error) {
	return s.store.VersionsOfRun(ctx, runID)
}

// ---- approvals

// Review records the caller's decision (ApprovalApproved or
// ApprovalRejected) on a version and returns the version after it.
func (s *Service) Review(ctx context.Context, name, version string, decision ApprovalStatus, comment string) (ModelVersion, error) {
	if decision != ApprovalApproved && decision != ApprovalRejected {
		return ModelVersion{}, errdefs.InvalidArgument("Invalid review decision '%s': use approved or rejected.", decision)
	}
	if err := ValidateText("comment", comment); err != nil {
		return ModelVersion{}, err
	}
	if len(comment) > MaxCommentLength {
		return ModelVersion{}, errdefs.InvalidArgument("Review comment is %d bytes long; at most %d are allowed.", len(comment), MaxCommentLength)
	}
	unlock := s.Lock(name)
	defer unlock()
	mv, err := s.GetModelVersion(ctx, name, version)
	if err != nil {
		return ModelVersion{}, err
	}
	reviewer := audit.Actor(ctx)
	if reviewer == "" {
		return ModelVersion{}, errdefs.Unauthenticated("A review needs an authenticated reviewer.")
	}
	if !s.self && reviewer == mv.UserID {
		return ModelVersion{}, errdefs.Permission("'%s' registered version %d of model '%s' and may not review it: self-approval is disabled (setting registry_self_approval).", reviewer, mv.Version, name)
	}
	if err := s.store.AddReview(ctx, name, mv.Version, Review{Reviewer: reviewer, Decision: decision, Comment: comment, Time: s.millis()}); err != nil {
		return ModelVersion{}, err
	}
	after, err := s.store.GetModelVersion(ctx, name, mv.Version)
	if err != nil {
		return ModelVersion{}, err
	}
	action := "approve_version"
	if decision == ApprovalRejected {
		action = "reject_version"
	}
	s.noteVersion(ctx, action, &mv, &after)
	return after, nil
}

// Reviews returns a version's review decisions, oldest first.
func (s *Service) Reviews(ctx context.Context, name, version string) ([]Review, error) {
	mv, err := s.GetModelVersion(ctx, name, version)
	if err != nil {
		return nil, err
	}
	return s.store.Reviews(ctx, name, mv.Version)
}

// ApprovalOf derives a version's approval state from its reviews (oldest
// first): each reviewer's latest decision counts; any standing rejection
// makes the version rejected, otherwise one approval makes it approved.
func ApprovalOf(reviews []Review) Approval {
	if len(reviews) == 0 {
		return Approval{Status: ApprovalPending}
	}
	latest := map[string]ApprovalStatus{}
	var order []string
	for _, r := range reviews {
		if _, ok := latest[r.Reviewer]; !ok {
			order = append(order, r.Reviewer)
		}
		latest[r.Reviewer] = r.Decision
	}
	last := reviews[len(reviews)-1]
	a := Approval{Status: ApprovalPending, Reviewer: last.Reviewer, Time: last.Time, Comment: last.Comment}
	rejected := false
	for _, who := range order {
		switch latest[who] {
		case ApprovalApproved:
			a.Approvers = append(a.Approvers, who)
		case ApprovalRejected:
			rejected = true
		}
	}
	switch {
	case rejected:
		a.Status = ApprovalRejected
	case len(a.Approvers) > 0:
		a.Status = ApprovalApproved
	}
	return a
}

// ---- URIs

// Resolve returns the version a models:/ URI names: models:/NAME/3,
// models:/NAME@ALIAS, models:/NAME/STAGE (the newest version in that
// stage) or models:/NAME/latest (the newest version).
func (s *Service) Resolve(ctx context.Context, uri string) (ModelVersion, error) {
	ref, err := ParseModelURI(uri)
	if err != nil {
		return ModelVersion{}, err
	}
	if err := ValidateModelName(ref.Name); err != nil {
		return ModelVersion{}, err
	}
	if ref.Alias != "" {
		if err := ValidateAlias(ref.Alias); err != nil {
			return ModelVersion{}, err
		}
	}
	switch {
	case ref.Alias != "":
		return s.store.GetVersionByAlias(ctx, ref.Name, ref.Alias)
	case ref.Version > 0:
		return s.store.GetModelVersion(ctx, ref.Name, ref.Version)
	}
	var stages []string
	if ref.Stage != "" {
		stages = []string{ref.Stage}
	}
	if _, err := s.store.GetRegisteredModel(ctx, ref.Name); err != nil {
		return ModelVersion{}, err
	}
	vs, err := s.store.LatestVersions(ctx, ref.Name, stages)
	if err != nil {
		return ModelVersion{}, err
	}
	var best *ModelVersion
	for i := range vs {
		if best == nil || vs[i].Version > best.Version {
			best = &vs[i]
		}
	}
	if best == nil {
		what := "versions"
		if ref.Stage != "" {
			what = "versions in stage " + ref.Stage
		}
		return ModelVersion{}, errdefs.NotFound("Registered model '%s' has no %s (%s)", ref.Name, what, uri)
	}
	return *best, nil
}

// ModelRef is a parsed models:/ URI: exactly one of Version, Alias, Stage
// or Latest is set.
type ModelRef struct {
	Name    string
	Version int64
	Alias   string
	Stage   string
	Latest  bool
}

// nameVersion checks the (name, version) pair of a version request.
func nameVersion(name, version string) (int64, error) {
	if err := ValidateModelName(name); err != nil {
		return 0, err
	}
	return ParseVersion(version)
}

// ParseModelURI parses models:/NAME/VERSION, models:/NAME/STAGE,
// models:/NAME/latest and models:/NAME@ALIAS.
func ParseModelURI(uri string) (ModelRef, error) {
	bad := func() (ModelRef, error) {
		return ModelRef{}, errdefs.InvalidArgument("Not a proper models:/ URI: %s. Models URIs must be of the form 'models:/model_name/suffix' or 'models:/model_name@alias' where suffix is a model version, stage, or the string 'latest' and where alias is a registered model alias. Only one of suffix or alias can be defined at a time.", uri)
	}
	rest, ok := strings.CutPrefix(uri, "models:/")
	if !ok {
		return bad()
	}
	rest = strings.Trim(rest, "/")
	// MLflow names may contain "/" (and Ferry addresses them), so the
	// suffix is what follows the last "/", and an alias what follows an
	// "@" after it.
	slash := strings.LastIndexByte(rest, '/')
	if at := strings.LastIndexByte(rest, '@'); at > slash {
		name, alias := rest[:at], rest[at+1:]
		if name == "" || alias == "" {
			return bad()
		}
		return ModelRef{Name: name, Alias: alias}, nil
	}
	if slash <= 0 || slash == len(rest)-1 {
		return bad()
	}
	name, suffix := rest[:slash], rest[slash+1:]
	if isDigits(suffix) {
		n, err := strconv.ParseInt(suffix, 10, 64)
		if err != nil || n < 1 {
			return bad()
		}
		return ModelRef{Name: name, Version: n}, nil
	}
	if strings.EqualFold(suffix, "latest") {
		return ModelRef{Name: name, Latest: true}, nil
	}
	stage, err := CanonicalStage(suffix)
	if err != nil {
		return bad()
	}
	return ModelRef{Name: name, Stage: stage}, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// String renders the reference as a URI.
func (r ModelRef) String() string {
	switch {
	case r.Alias != "":
		return "models:/" + r.Name + "@" + r.Alias
	case r.Version > 0:
		return VersionURI(r.Name, r.Version)
	case r.Stage != "":
		return "models:/" + r.Name + "/" + r.Stage
	}
	return "models:/" + r.Name + "/latest"
}

func dedupTags(tags []Tag) []Tag {
	if len(tags) < 2 {
		return tags
	}
	idx := map[string]int{}
	out := make([]Tag, 0, len(tags))
	for _, t := range tags {
		if i, ok := idx[t.Key]; ok {
			out[i] = t
			continue
		}
		idx[t.Key] = len(out)
		out = append(out, t)
	}
	return out
}

// VersionString renders a version number as MLflow sends it.
func VersionString(v int64) string { return strconv.FormatInt(v, 10) }
