// Package serving runs registered model versions behind named endpoints.
// A deployment puts a version of a registered model behind an endpoint
// after the registry's policy gates allow it; the service loads the
// version's files into a runtime (native, or an external process or
// server), health-checks it and answers predictions from memory.
//
// Besides replacing what an endpoint serves at once (direct), a version
// can reach traffic as a blue-green switch that keeps the previous
// version warm, a canary moving through weight steps each analysed
// against the stable version (rolled back automatically, with the
// reason, when a step fails), a shadow that mirrors requests off the
// request path, or an A/B split. Deployments, rollouts and their
// transitions are stored, so a restarted server resumes them; every
// transition is audited and kept in the endpoint's history, which
// lineage reads. A model that cannot be loaded marks its deployment
// failed with the reason and never takes the server down.
package serving

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-ml/ferry/internal/audit"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/inference"
	"github.com/ferry-ml/ferry/internal/modelrt"
	"github.com/ferry-ml/ferry/internal/registry"
)

// Deployment statuses.
const (
	StatusReady  = "ready"
	StatusFailed = "failed"
)

// Deployment is what an endpoint serves: its stable version, the
// rollout of a candidate (in progress, or the last one), and the
// version it served before (kept loaded after a blue-green switch until
// promoted).
type Deployment struct {
	Endpoint string `json:"endpoint"`
	Ref
	Strategy     string   `json:"strategy"`
	Status       string   `json:"status"`
	Message      string   `json:"message,omitempty"`
	Rollout      *Rollout `json:"rollout,omitempty"`
	Previous     *Ref     `json:"previous,omitempty"`
	PreviousWarm bool     `json:"previous_warm,omitempty"`
	CreatedAt    int64    `json:"created_at"`
	UpdatedAt    int64    `json:"updated_at"`
}

// Event is one transition of an endpoint, kept in its history.
type Event struct {
	ID       int64  `json:"id"`
	Endpoint string `json:"endpoint"`
	Time     int64  `json:"time"`
	Actor    string `json:"actor"`
	// Action is deploy, rollout_start, rollout_step, promote, rollback,
	// load_failed or undeploy.
	Action string `json:"action"`
	// Model and Version are the stable version after the transition,
	// Candidate the rollout's candidate (zero when none).
	Ref
	Candidate Ref    `json:"candidate"`
	Weight    int    `json:"weight"`
	Reason    string `json:"reason,omitempty"`
}

// Store keeps deployments and their history.
type Store interface {
	// SaveDeployment inserts or replaces d and appends ev to the
	// endpoint's history, in one transaction.
	SaveDeployment(ctx context.Context, d Deployment, ev Event) error
	GetDeployment(ctx context.Context, endpoint string) (Deployment, error)
	ListDeployments(ctx context.Context) ([]Deployment, error)
	// DeleteDeployment removes the deployment and appends ev; the
	// history stays.
	DeleteDeployment(ctx context.Context, endpoint string, ev Event) error
	// DeploymentEvents returns an endpoint's history, newest first, at
	// most limit events.
	DeploymentEvents(ctx context.Context, endpoint string, limit int) ([]Event, error)
	// EndpointsServing returns the endpoints whose history shows the
	// version as stable or candidate.
	EndpointsServing(ctx context.Context, model string, version int64) ([]string, error)
}

// Loaded is a model ready to answer.
type Loaded struct {
	Runtime modelrt.Model
	// Labels, when set, turns a classifier's probabilities into class
	// labels for MLflow's /invocations (a scikit-learn classifier's
	// predict); nil answers the runtime's outputs.
	Labels func(x []float64, rows int, out []float64) error
	// Flavor describes the runtime for metadata ("xgboost", "lightgbm",
	// "external").
	Flavor string
	// Sig is Runtime.Signature(), read once when the model is loaded
	// (runtimes return a copy each call), and Schema the signature
	// prepared for decoding requests.
	Sig    modelrt.Signature
	Schema *inference.Schema
}

// close releases what the runtime holds (an external process).
func (l *Loaded) close() error {
	if c, ok := l.Runtime.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// Loader loads a model version's files.
type Loader interface {
	Load(ctx context.Context, mv registry.ModelVersion) (*Loaded, error)
}

// Registry is what serving reads of the registry.
type Registry interface {
	Resolve(ctx context.Context, uri string) (registry.ModelVersion, error)
	GetModelVersion(ctx context.Context, name, version string) (registry.ModelVersion, error)
}

// AuditLog records the transitions the service makes on its own (a
// canary's steps and automatic rollbacks); transitions made by a request
// are noted on the request's audit record instead.
type AuditLog interface {
	Append(ctx context.Context, events ...audit.Event) error
}

// ActorRollout is the audit actor of the rollout controller.
const ActorRollout = "system:rollout"

// Service manages endpoints.
type Service struct {
	store    Store
	reg      Registry
	gate     registry.Gate
	loader   Loader
	audit    AuditLog
	outcomes Outcomes
	log      *slog.Logger
	now      func() time.Time
	tick     time.Duration

	endpoints atomic.Pointer[map[string]*Endpoint] // ready endpoints; replaced whole
	change    sync.Mutex                           // one endpoint change at a time
	stop      context.CancelFunc
	done      chan struct{}
}

// Options configures a Service.
type Options struct {
	Gate     registry.Gate // nil: every deployment is allowed
	Audit    AuditLog      // nil: the controller's transitions are not audited
	Outcomes Outcomes      // nil: A/B reports carry no outcome test
	Logger   *slog.Logger
	Now      func() time.Time
	// Tick is how often the rollout controller analyses canaries
	// (default 1s).
	Tick time.Duration
}

// New returns the service; Start loads the stored deployments.
func New(store Store, reg Registry, loader Loader, opts Options) *Service {
	s := &Service{store: store, reg: reg, gate: opts.Gate, loader: loader, audit: opts.Audit, outcomes: opts.Outcomes,
		log: opts.Logger, now: opts.Now, tick: opts.Tick}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.tick <= 0 {
		s.tick = time.Second
	}
	m := map[string]*Endpoint{}
	s.endpoints.Store(&m)
	return s
}

// Start loads every stored deployment and starts the rollout
// controller; Close stops it. A stable version that cannot be loaded
// marks its deployment failed, with the reason; a candidate that cannot
// be loaded rolls its rollout back. Neither stops the other endpoints.
// A canary's current step starts its analysis window again.
func (s *Service) Start(ctx context.Context) error {
	ds, err := s.store.ListDeployments(ctx)
	if err != nil {
		return fmt.Errorf("serving: list deployments: %w", err)
	}
	for _, d := range ds {
		if err := s.restore(ctx, d); err != nil {
			return err
		}
	}
	cctx, cancel := context.WithCancel(context.Background())
	s.stop, s.done = cancel, make(chan struct{})
	go s.control(cctx)
	return nil
}

func (s *Service) restore(ctx context.Context, d Deployment) error {
	now := s.now()
	stable, err := s.loadVariant(ctx, d.Ref, RoleStable)
	if err != nil {
		s.log.Error("endpoint failed to load", "endpoint", d.Endpoint, "model", d.Model, "version", d.Version, "error", err.Error())
		d.Status, d.Message = StatusFailed, err.Error()
		return s.store.SaveDeployment(ctx, d, s.event(ctx, ActorRollout, "load_failed", d, err.Error()))
	}
	d.Status, d.Message = StatusReady, ""
	var candidate, previous *Variant
	if r := d.Rollout; r.Active() {
		candidate, err = s.loadVariant(ctx, r.Ref, RoleCandidate)
		if err != nil {
			reason := "the candidate failed to load after a restart: " + err.Error()
			s.log.Error("rollout rolled back", "endpoint", d.Endpoint, "reason", reason)
			d.Rollout = endRollout(r, RolloutRolledBack, reason, now.UnixMilli())
			if err := s.store.SaveDeployment(ctx, d, s.event(ctx, ActorRollout, "rollback", d, reason)); err != nil {
				return err
			}
		} else {
			r.StepStartedAt = now.UnixMilli()
			stable.Window, candidate.Window = newWindow(now), newWindow(now)
		}
	}
	if d.PreviousWarm && d.Previous != nil {
		if previous, err = s.loadVariant(ctx, *d.Previous, RoleStable); err != nil {
			s.log.Warn("previous version not kept warm", "endpoint", d.Endpoint, "error", err.Error())
			previous = nil
		}
	}
	s.publish(newEndpoint(d, stable, candidate, previous, s.shadowFor(d, candidate)))
	return nil
}

// Close stops the rollout controller, the shadows and external runtimes.
func (s *Service) Close() error {
	if s.stop != nil {
		s.stop()
		<-s.done
		s.stop = nil
	}
	s.change.Lock()
	defer s.change.Unlock()
	var err error
	for _, e := range *s.endpoints.Load() {
		err = errors.Join(err, s.retire(e, nil, false))
	}
	m := map[string]*Endpoint{}
	s.endpoints.Store(&m)
	return err
}

func (s *Service) loadVariant(ctx context.Context, ref Ref, role string) (*Variant, error) {
	mv, err := s.reg.GetModelVersion(ctx, ref.Model, registry.VersionString(ref.Version))
	if err != nil {
		return nil, err
	}
	ld, err := s.load(ctx, mv)
	if err != nil {
		return nil, err
	}
	return &Variant{Ref: ref, Loaded: ld, Role: role}, nil
}

// load loads a version's model and reads its signature once.
func (s *Service) load(ctx context.Context, mv registry.ModelVersion) (*Loaded, error) {
	ld, err := s.loader.Load(ctx, mv)
	if err != nil {
		return nil, err
	}
	ld.Sig = ld.Runtime.Signature()
	ld.Schema = inference.NewSchema(ld.Sig)
	return ld, nil
}

// shadowFor starts the mirror of a shadow rollout's candidate.
func (s *Service) shadowFor(d Deployment, candidate *Variant) *shadow {
	if candidate == nil || !d.Rollout.Active() || d.Rollout.Strategy != StrategyShadow {
		return nil
	}
	return startShadow(candidate, d.Rollout.Weight)
}

// publish makes e what its endpoint serves.
func (s *Service) publish(e *Endpoint) {
	old := *s.endpoints.Load()
	m := make(map[string]*Endpoint, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[e.Endpoint] = e
	s.endpoints.Store(&m)
}

func (s *Service) unpublish(name string) {
	old := *s.endpoints.Load()
	m := make(map[string]*Endpoint, len(old))
	for k, v := range old {
		if k != name {
			m[k] = v
		}
	}
	s.endpoints.Store(&m)
}

// retireDelay is how long a replaced runtime stays open for requests
// still using it.
const retireDelay = 5 * time.Second

// retire stops what old runs that next no longer uses: its shadow and
// the runtimes of variants next does not carry (after a delay when
// requests may still hold them).
func (s *Service) retire(old, next *Endpoint, delay bool) error {
	if old == nil {
		return nil
	}
	if old.shadow != nil && (next == nil || next.shadow != old.shadow) {
		old.shadow.stop()
	}
	keep := map[*Loaded]bool{}
	if next != nil {
		for _, v := range []*Variant{next.Stable, next.Candidate, next.Previous} {
			if v != nil {
				keep[v.Loaded] = true
			}
		}
	}
	var err error
	for _, v := range []*Variant{old.Stable, old.Candidate, old.Previous} {
		if v == nil || keep[v.Loaded] {
			continue
		}
		if delay {
			ld := v.Loaded
			time.AfterFunc(retireDelay, func() { _ = ld.close() })
			continue
		}
		err = errors.Join(err, v.close())
	}
	return err
}

var endpointRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// ValidateEndpoint checks an endpoint name: 1 to 63 lower-case letters,
// digits, '.', '_' or '-', starting with a letter or digit.
func ValidateEndpoint(name string) error {
	if !endpointRE.MatchString(name) {
		return errdefs.InvalidArgument("Invalid endpoint name '%s': use 1 to 63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit.", name)
	}
	return nil
}

// URI is the audit and lineage resource of an endpoint.
func URI(endpoint string) string { return "endpoints:/" + endpoint }

// DeployRequest asks for a model version at an endpoint.
type DeployRequest struct {
	Endpoint string `json:"endpoint"`
	// Model is a models:/ URI.
	Model    string `json:"model"`
	Strategy string `json:"strategy"`
	RolloutOptions
}

// Deploy puts the version a models:/ URI names behind an endpoint with
// the request's strategy, once the policy gates allow it, its files load
// and it answers a health-check prediction. Nothing changes on failure.
// Direct and blue-green replace the stable version (blue-green keeps the
// previous one loaded); canary, shadow and ab start a rollout of the
// version as a candidate beside the stable one.
func (s *Service) Deploy(ctx context.Context, req DeployRequest) (Deployment, error) {
	if err := ValidateEndpoint(req.Endpoint); err != nil {
		return Deployment{}, err
	}
	if req.Strategy == "" {
		req.Strategy = StrategyDirect
	}
	if err := ValidateStrategy(req.Strategy); err != nil {
		return Deployment{}, err
	}
	rollout := req.Strategy != StrategyDirect && req.Strategy != StrategyBlueGreen
	if !rollout && (len(req.Steps) > 0 || req.Weight != 0 || req.Sticky != "" || req.Interval != 0) {
		return Deployment{}, errdefs.InvalidArgument("Steps, interval, weight and sticky apply to the canary, shadow and ab strategies, not %s.", req.Strategy)
	}
	mv, err := s.reg.Resolve(ctx, req.Model)
	if err != nil {
		return Deployment{}, err
	}
	ref := Ref{Model: mv.Name, Version: mv.Version}
	s.change.Lock()
	defer s.change.Unlock()
	cur, err := s.store.GetDeployment(ctx, req.Endpoint)
	exists := err == nil
	if err != nil && !errors.Is(err, errdefs.ErrNotFound) {
		return Deployment{}, err
	}
	old := (*s.endpoints.Load())[req.Endpoint]
	switch {
	case exists && cur.Rollout.Active():
		return Deployment{}, errdefs.Conflict("Endpoint '%s' has a %s rollout of version %d of model '%s' in progress: promote or roll it back first.",
			req.Endpoint, cur.Rollout.Strategy, cur.Rollout.Version, cur.Rollout.Model)
	case rollout && (old == nil || cur.Status != StatusReady):
		return Deployment{}, errdefs.InvalidArgument("A %s rollout needs a ready stable version at endpoint '%s' to compare with: deploy one with the direct strategy first.", req.Strategy, req.Endpoint)
	case rollout && cur.Ref == ref:
		return Deployment{}, errdefs.InvalidArgument("Endpoint '%s' already serves version %d of model '%s'.", req.Endpoint, ref.Version, ref.Model)
	}
	now := s.now()
	var ro *Rollout
	if rollout {
		if ro, err = newRollout(req.Strategy, ref, req.RolloutOptions, now.UnixMilli()); err != nil {
			return Deployment{}, err
		}
	}
	if s.gate != nil {
		if err := s.gate.Allow(ctx, mv, registry.Target{Kind: registry.TargetDeploy, Name: req.Endpoint}); err != nil {
			return Deployment{}, err
		}
	}
	ld, err := s.load(ctx, mv)
	if err != nil {
		if errors.Is(err, modelrt.ErrBadModel) || errors.Is(err, errdefs.ErrNotFound) {
			return Deployment{}, errdefs.InvalidArgument("Version %d of model '%s' cannot be served: %v", mv.Version, mv.Name, err)
		}
		return Deployment{}, err
	}
	if err := healthCheck(ctx, ld); err != nil {
		_ = ld.close()
		return Deployment{}, errdefs.InvalidArgument("Version %d of model '%s' failed its health check: %v", mv.Version, mv.Name, err)
	}
	if ro != nil && ro.Sticky != "" {
		if kind, name, _ := cutSticky(ro.Sticky); kind == "field" {
			v := &Variant{Ref: ref, Loaded: ld}
			if old.Stable.FeatureIndex(name) < 0 || v.FeatureIndex(name) < 0 {
				_ = ld.close()
				return Deployment{}, errdefs.InvalidArgument("sticky field '%s' is not a feature of both versions.", name)
			}
		}
	}
	d := Deployment{Endpoint: req.Endpoint, Ref: ref, Strategy: req.Strategy, Status: StatusReady,
		CreatedAt: now.UnixMilli(), UpdatedAt: now.UnixMilli()}
	if exists {
		d.CreatedAt = cur.CreatedAt
	}
	var next *Endpoint
	action := "deploy"
	switch {
	case rollout:
		d.Ref, d.Previous, d.PreviousWarm, d.Rollout = cur.Ref, cur.Previous, cur.PreviousWarm, ro
		stable := &Variant{Ref: old.Stable.Ref, Loaded: old.Stable.Loaded, Role: RoleStable, Window: newWindow(now)}
		cand := &Variant{Ref: ref, Loaded: ld, Role: RoleCandidate, Window: newWindow(now)}
		next = newEndpoint(d, stable, cand, old.Previous, s.shadowFor(d, cand))
		action = "rollout_start"
	default:
		stable := &Variant{Ref: ref, Loaded: ld, Role: RoleStable}
		var warm *Variant
		if exists && cur.Status == StatusReady && cur.Ref != ref {
			d.Previous = &cur.Ref
			if req.Strategy == StrategyBlueGreen && old != nil {
				d.PreviousWarm, warm = true, old.Stable
			}
		}
		next = newEndpoint(d, stable, nil, warm, nil)
	}
	if err := s.store.SaveDeployment(ctx, d, s.event(ctx, "", action, d, "")); err != nil {
		if next.shadow != nil {
			next.shadow.stop()
		}
		_ = ld.close()
		return Deployment{}, err
	}
	s.publish(next)
	_ = s.retire(old, next, true)
	c := audit.Change{Action: "serving." + action, Resource: URI(req.Endpoint), After: audit.Digest(d)}
	if exists {
		c.Before = audit.Digest(cur)
	}
	audit.Note(ctx, c)
	return d, nil
}

func cutSticky(s string) (kind, name string, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return s[:i], s[i+1:], true
		}
	}
	return "", "", false
}

// healthCheck asks a freshly loaded model for one prediction (a row of
// zeros) and wants a finite answer.
func healthCheck(ctx context.Context, ld *Loaded) error {
	sig := ld.Sig
	x := make([]float64, len(sig.Inputs))
	out := make([]float64, sig.Outputs)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := predict(ctx, ld.Runtime, x, 1, out, false); err != nil {
		return err
	}
	return checkFinite(out)
}

// checkFinite refuses outputs JSON cannot carry (an exp that
// overflowed): they are reported, never replaced by a made-up value.
func checkFinite(v []float64) error {
	for i, x := range v {
		if x != x || x > maxFloat || x < -maxFloat {
			return fmt.Errorf("the model's output %d is %v, which JSON cannot carry", i, x)
		}
	}
	return nil
}

const maxFloat = 1.7976931348623157e308

// CheckFinite is checkFinite for the protocol surfaces.
func CheckFinite(v []float64) error { return checkFinite(v) }

// event builds the history event of a transition to d; actor "" takes
// the request's.
func (s *Service) event(ctx context.Context, actor, action string, d Deployment, reason string) Event {
	if actor == "" {
		actor = audit.Actor(ctx)
	}
	ev := Event{Endpoint: d.Endpoint, Time: s.now().UnixMilli(), Actor: actor, Action: action, Ref: d.Ref, Reason: reason}
	if r := d.Rollout; r != nil {
		ev.Weight = r.Weight
		if r.Active() || action == "rollback" || action == "promote" {
			ev.Candidate = r.Ref
		}
	}
	return ev
}

// Undeploy removes an endpoint.
func (s *Service) Undeploy(ctx context.Context, endpoint string) error {
	if err := ValidateEndpoint(endpoint); err != nil {
		return err
	}
	s.change.Lock()
	defer s.change.Unlock()
	before, err := s.store.GetDeployment(ctx, endpoint)
	if err != nil {
		return err
	}
	if err := s.store.DeleteDeployment(ctx, endpoint, s.event(ctx, "", "undeploy", before, "")); err != nil {
		return err
	}
	old := (*s.endpoints.Load())[endpoint]
	s.unpublish(endpoint)
	_ = s.retire(old, nil, true)
	audit.Note(ctx, audit.Change{Action: "serving.undeploy", Resource: URI(endpoint), Before: audit.Digest(before)})
	return nil
}

// Endpoint returns a ready endpoint; an unknown or failed one is
// ErrNotFound (failed ones say why, as ErrUnavailable).
func (s *Service) Endpoint(ctx context.Context, name string) (*Endpoint, error) {
	if e := (*s.endpoints.Load())[name]; e != nil {
		return e, nil
	}
	d, err := s.store.GetDeployment(ctx, name)
	if err == nil && d.Status == StatusFailed {
		return nil, errdefs.Unavailable("Endpoint '%s' failed to load version %d of model '%s': %s", name, d.Version, d.Model, d.Message)
	}
	return nil, errdefs.NotFound("Endpoint '%s' does not exist", name)
}

// Deployments lists every deployment, by endpoint.
func (s *Service) Deployments(ctx context.Context) ([]Deployment, error) {
	ds, err := s.store.ListDeployments(ctx)
	sort.Slice(ds, func(i, j int) bool { return ds[i].Endpoint < ds[j].Endpoint })
	return ds, err
}

// Deployment returns one deployment.
func (s *Service) Deployment(ctx context.Context, endpoint string) (Deployment, error) {
	if err := ValidateEndpoint(endpoint); err != nil {
		return Deployment{}, err
	}
	return s.store.GetDeployment(ctx, endpoint)
}

// History returns an endpoint's transitions, newest first.
func (s *Service) History(ctx context.Context, endpoint string, limit int) ([]Event, error) {
	if err := ValidateEndpoint(endpoint); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	return s.store.DeploymentEvents(ctx, endpoint, limit)
}
