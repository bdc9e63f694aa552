// Package governance is where the registry meets the rules an
// organisation sets for it. It is the registry's policy Gate — it gathers
// the facts about a model version (its run's metrics, tags, model card,
// approvals, evaluation set, open alerts) for the policy engine — it keeps
// the global policy file and the per-model policies, and it assembles a
// version's model card from the registry, tracking, lineage, policy
// verdicts and the audit trail.
package governance

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-ml/ferry/internal/audit"
	"github.com/ferry-ml/ferry/internal/blob"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/lineage"
	"github.com/ferry-ml/ferry/internal/policy"
	"github.com/ferry-ml/ferry/internal/registry"
	"github.com/ferry-ml/ferry/internal/tracking"
)

// Runs reads runs.
type Runs interface {
	GetRun(ctx context.Context, id string) (tracking.Run, error)
}

// Artifacts opens artifact files by key (blob.Store does).
type Artifacts interface {
	Get(ctx context.Context, key string) (io.ReadCloser, blob.Entry, error)
}

// Alerts lists the alerts open on a model version. Monitoring provides it;
// until then no alert is ever open.
type Alerts interface {
	OpenAlerts(ctx context.Context, model string, version int64) ([]policy.Alert, error)
}

// PolicyStore keeps per-model policy documents (registry.Store does).
type PolicyStore interface {
	SetModelPolicy(ctx context.Context, name, doc string, now int64) error
	ModelPolicy(ctx context.Context, name string) (string, error)
}

// Options configures a Service.
type Options struct {
	// PolicyFile is the global policy document; "" for none.
	PolicyFile string
	Artifacts  Artifacts      // nil: fairness rules cannot read evaluation sets
	Alerts     Alerts         // nil: no alerts are open
	Lineage    *lineage.Graph // nil: cards carry no lineage
	History    History        // nil: cards carry no change history
	Logger     *slog.Logger
	Now        func() time.Time
}

// Service is the registry's gate and the keeper of policies.
type Service struct {
	reg       *registry.Service
	policies  PolicyStore
	runs      Runs
	artifacts Artifacts
	alerts    Alerts
	lineage   *lineage.Graph
	history   History
	log       *slog.Logger
	now       func() time.Time

	file      string
	global    atomic.Pointer[policy.Document] // nil: no global policy
	reload    sync.Mutex
	globalSrc string // the loaded file's text (under reload)

	parsed sync.Map // model + "\x00" + sha256(doc) → *policy.Document
}

// New returns the governance service and loads the global policy file; a
// file that does not parse is an error naming its line and column.
func New(reg *registry.Service, policies PolicyStore, runs Runs, opts Options) (*Service, error) {
	s := &Service{reg: reg, policies: policies, runs: runs, artifacts: opts.Artifacts, alerts: opts.Alerts,
		lineage: opts.Lineage, history: opts.History, log: opts.Logger, now: opts.Now, file: opts.PolicyFile}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.ReloadPolicy(context.Background()); err != nil {
		return nil, err
	}
	return s, nil
}

// GlobalPolicyResource is the audit resource of the global policy.
const GlobalPolicyResource = "policy:/global"

// ReloadPolicy reads the global policy file again. On any error the
// policy in force stays in force and the error (with line and column for
// a document that does not parse) is returned. A successful reload is
// noted for the audit trail with digests of the old and new documents.
func (s *Service) ReloadPolicy(ctx context.Context) error {
	s.reload.Lock()
	defer s.reload.Unlock()
	if s.file == "" {
		return nil
	}
	src, err := os.ReadFile(s.file)
	if err != nil {
		return fmt.Errorf("policy file: %w", err)
	}
	doc, err := policy.Parse(s.file, src)
	if err != nil {
		return err
	}
	c := audit.Change{Action: "governance.reload_policy", Resource: GlobalPolicyResource, After: audit.Digest(string(src))}
	if s.globalSrc != "" {
		c.Before = audit.Digest(s.globalSrc)
	}
	s.global.Store(doc)
	s.globalSrc = string(src)
	audit.Note(ctx, c)
	s.log.Info("policy loaded", "file", s.file, "gates", len(doc.Gates))
	return nil
}

// GlobalPolicy returns the global policy file's name and document (nil
// when there is none).
func (s *Service) GlobalPolicy() (string, *policy.Document) { return s.file, s.global.Load() }

// ModelPolicy returns a model's own policy document ("" when none).
func (s *Service) ModelPolicy(ctx context.Context, name string) (string, error) {
	if err := registry.ValidateModelName(name); err != nil {
		return "", err
	}
	return s.policies.ModelPolicy(ctx, name)
}

// SetModelPolicy validates and stores a model's own policy; src == ""
// removes it. A document that does not parse is refused with its line and
// column, and the policy in force stays.
func (s *Service) SetModelPolicy(ctx context.Context, name, src string) error {
	if err := registry.ValidateModelName(name); err != nil {
		return err
	}
	if strings.TrimSpace(src) != "" {
		if _, err := policy.ParseForModel("models:/"+name+"/policy", name, []byte(src)); err != nil {
			return err
		}
	}
	unlock := s.reg.Lock(name) // no gate decides while the policy changes
	defer unlock()
	before, err := s.policies.ModelPolicy(ctx, name)
	if err != nil {
		return err
	}
	if err := s.policies.SetModelPolicy(ctx, name, src, s.now().UnixMilli()); err != nil {
		return err
	}
	c := audit.Change{Action: "governance.set_model_policy", Resource: registry.ModelURI(name)}
	if before != "" {
		c.Before = audit.Digest(before)
	}
	if src != "" {
		c.After = audit.Digest(src)
	}
	audit.Note(ctx, c)
	return nil
}

// policySet returns the documents that may apply to a model: the global
// one and the model's own, read as the policy of the model named as (its
// own name, or the name a rename would give it).
func (s *Service) policySet(ctx context.Context, model, as string) ([]*policy.Document, error) {
	var set []*policy.Document
	if g := s.global.Load(); g != nil {
		set = append(set, g)
	}
	src, err := s.policies.ModelPolicy(ctx, model)
	if err != nil {
		return nil, err
	}
	if src == "" {
		return set, nil
	}
	sum := sha256.Sum256([]byte(src))
	key := as + "\x00" + string(sum[:])
	if d, ok := s.parsed.Load(key); ok {
		return append(set, d.(*policy.Document)), nil
	}
	doc, err := policy.ParseForModel("models:/"+model+"/policy", as, []byte(src))
	if err != nil {
		// Stored documents were validated when set; one that no longer
		// parses (an upgrade changed the format, or its gates name the
		// model and it is being renamed) must not open the gate.
		return nil, fmt.Errorf("the policy of model '%s' as model '%s': %w", model, as, err)
	}
	s.parsed.Store(key, doc)
	return append(set, doc), nil
}

func toPolicyTarget(t registry.Target) policy.Target {
	return policy.Target{Kind: t.Kind, Name: t.Name}
}

// Check evaluates the policies for moving mv to t, changing nothing.
func (s *Service) Check(ctx context.Context, mv registry.ModelVersion, t registry.Target) (policy.Result, error) {
	as := mv.Name
	if t.AsModel != "" {
		as = t.AsModel
	}
	set, err := s.policySet(ctx, mv.Name, as)
	if err != nil {
		return policy.Result{}, err
	}
	return policy.Evaluate(ctx, set, as, toPolicyTarget(t), s.facts(mv)), nil
}

// Allow implements registry.Gate.
func (s *Service) Allow(ctx context.Context, mv registry.ModelVersion, t registry.Target) error {
	res, err := s.Check(ctx, mv, t)
	if err != nil {
		return err
	}
	return res.Error()
}

// Targets returns the moves that the policies in force guard for a model:
// every alias and stage named by a gate that applies to it, and deploy.
func (s *Service) Targets(ctx context.Context, model string) ([]registry.Target, error) {
	set, err := s.policySet(ctx, model, model)
	if err != nil {
		return nil, err
	}
	seen := map[registry.Target]bool{}
	var out []registry.Target
	add := func(t registry.Target) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, d := range set {
		for i := range d.Gates {
			g := &d.Gates[i]
			for _, a := range g.When.Aliases {
				if policy.Applies(d, g, model, policy.Alias(a)) {
					add(registry.Target{Kind: registry.TargetAlias, Name: a})
				}
			}
			for _, st := range g.When.Stages {
				if policy.Applies(d, g, model, policy.Stage(st)) {
					add(registry.Target{Kind: registry.TargetStage, Name: st})
				}
			}
			if policy.Applies(d, g, model, policy.Deploy("")) {
				add(registry.Target{Kind: registry.TargetDeploy})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// ---- facts

// facts answers the policy engine's questions about one version.
type facts struct {
	s  *Service
	mv registry.ModelVersion

	runOnce sync.Once
	run     tracking.Run
	runErr  error
}

func (s *Service) facts(mv registry.ModelVersion) *facts { return &facts{s: s, mv: mv} }

func (f *facts) Version() int64 { return f.mv.Version }

func (f *facts) RunID() string { return lineage.RunOfVersion(f.mv) }

func (f *facts) getRun(ctx context.Context) (tracking.Run, error) {
	f.runOnce.Do(func() {
		id := f.RunID()
		if id == "" {
			f.runErr = errdefs.NotFound("version %d of model '%s' has no run", f.mv.Version, f.mv.Name)
			return
		}
		f.run, f.runErr = f.s.runs.GetRun(ctx, id)
	})
	return f.run, f.runErr
}

func (f *facts) RunMetrics(ctx context.Context) (map[string]float64, error) {
	run, err := f.getRun(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]float64, len(run.Data.Metrics))
	for _, m := range run.Data.Metrics {
		out[m.Key] = m.Value
	}
	return out, nil
}

func tagMap(tags []registry.Tag) map[string]string {
	out := make(map[string]string, len(tags))
	for _, t := range tags {
		out[t.Key] = t.Value
	}
	return out
}

func (f *facts) VersionTags(context.Context) (map[string]string, error) {
	return tagMap(f.mv.Tags), nil
}

func (f *facts) ModelTags(ctx context.Context) (map[string]string, error) {
	m, err := f.s.reg.GetRegisteredModel(ctx, f.mv.Name)
	if err != nil {
		return nil, err
	}
	return tagMap(m.Tags), nil
}

func (f *facts) CardField(ctx context.Context, path string) (string, bool, error) {
	card, err := f.s.card(ctx, f.mv, false)
	if err != nil {
		return "", false, err
	}
	v, ok := cardField(card, path)
	return v, ok, nil
}

func (f *facts) Approval(context.Context) (policy.Approval, error) {
	return policy.Approval{Status: string(f.mv.Approval.Status), Approvers: f.mv.Approval.Approvers}, nil
}

func (f *facts) OpenEvaluationSet(ctx context.Context, p string) (io.ReadCloser, error) {
	run, err := f.getRun(ctx)
	if err != nil {
		return nil, err
	}
	if f.s.artifacts == nil {
		return nil, errdefs.Unavailable("this server has no artifact store")
	}
	if err := tracking.ValidateArtifactPath(p); err != nil {
		return nil, err
	}
	key, ok := tracking.ArtifactKey(strings.TrimRight(run.Info.ArtifactURI, "/") + "/" + strings.TrimLeft(p, "/"))
	if !ok {
		return nil, errdefs.InvalidArgument("the artifacts of run %s (%s) are not in Ferry's artifact store", run.Info.RunID, run.Info.ArtifactURI)
	}
	rc, entry, err := f.s.artifacts.Get(ctx, key)
	if errors.Is(err, errdefs.ErrNotFound) {
		return nil, errdefs.NotFound("evaluation set '%s' is not among the artifacts of run %s", p, run.Info.RunID)
	}
	if err != nil {
		return nil, err
	}
	if entry.Size > MaxEvaluationSetBytes {
		rc.Close()
		return nil, errdefs.InvalidArgument("evaluation set '%s' is %d bytes; a fairness check reads at most %d", p, entry.Size, MaxEvaluationSetBytes)
	}
	return rc, nil
}

// MaxEvaluationSetBytes bounds the evaluation set a fairness rule reads
// (the engine streams it; the bound keeps a gate check quick).
const MaxEvaluationSetBytes = 1 << 30

func (f *facts) OpenAlerts(ctx context.Context) ([]policy.Alert, error) {
	if f.s.alerts == nil {
		return nil, nil
	}
	return f.s.alerts.OpenAlerts(ctx, f.mv.Name, f.mv.Version)
}
