// Package serving runs registered model versions behind named endpoints.
// A deployment puts one version of a registered model behind an endpoint
// after the registry's policy gates allow it; the service loads the
// version's files into a native runtime, keeps the loaded model in memory
// and answers predictions from it. Deployments are stored, so a restarted
// server serves them again; one whose model cannot be loaded is marked
// failed with the reason and never takes the server down. Only the direct
// strategy exists so far (blue-green, canary, shadow and A/B are to come).
package serving

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/ferry-ml/ferry/internal/audit"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/modelrt"
	"github.com/ferry-ml/ferry/internal/registry"
)

// Deployment statuses.
const (
	StatusReady  = "ready"
	StatusFailed = "failed"
)

// StrategyDirect replaces what an endpoint serves at once.
const StrategyDirect = "direct"

// Deployment is what an endpoint serves.
type Deployment struct {
	Endpoint  string `json:"endpoint"`
	Model     string `json:"model"`
	Version   int64  `json:"version"`
	Strategy  string `json:"strategy"`
	Status    string `json:"status"`
	Message   string `json:"message,omitempty"`
	CreatedAt int64  `json:"created_at"`
	UpdatedAt int64  `json:"updated_at"`
}

// Store keeps deployments.
type Store interface {
	SaveDeployment(ctx context.Context, d Deployment) error
	GetDeployment(ctx context.Context, endpoint string) (Deployment, error)
	ListDeployments(ctx context.Context) ([]Deployment, error)
	DeleteDeployment(ctx context.Context, endpoint string) error
}

// Loaded is a model ready to answer.
type Loaded struct {
	Runtime modelrt.Model
	// Labels, when set, turns a classifier's probabilities into class
	// labels for MLflow's /invocations (a scikit-learn classifier's
	// predict); nil answers the runtime's outputs.
	Labels func(x []float64, rows int, out []float64) error
	// Flavor describes the runtime for metadata ("xgboost", "lightgbm").
	Flavor string
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

// Endpoint is a deployment with its loaded model.
type Endpoint struct {
	Deployment
	*Loaded
}

// Service manages endpoints.
type Service struct {
	store  Store
	reg    Registry
	gate   registry.Gate
	loader Loader
	log    *slog.Logger
	now    func() time.Time

	mu        sync.RWMutex
	endpoints map[string]*Endpoint // ready endpoints
	deploy    sync.Mutex           // one deployment change at a time
}

// Options configures a Service.
type Options struct {
	Gate   registry.Gate // nil: every deployment is allowed
	Logger *slog.Logger
	Now    func() time.Time
}

// New returns the service; Start loads the stored deployments.
func New(store Store, reg Registry, loader Loader, opts Options) *Service {
	s := &Service{store: store, reg: reg, gate: opts.Gate, loader: loader, log: opts.Logger, now: opts.Now,
		endpoints: map[string]*Endpoint{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Start loads every stored deployment. A model that cannot be loaded marks
// its deployment failed, with the reason; it does not stop the others.
func (s *Service) Start(ctx context.Context) error {
	ds, err := s.store.ListDeployments(ctx)
	if err != nil {
		return fmt.Errorf("serving: list deployments: %w", err)
	}
	for _, d := range ds {
		ld, err := s.load(ctx, d.Model, d.Version)
		if err != nil {
			s.log.Error("endpoint failed to load", "endpoint", d.Endpoint, "model", d.Model, "version", d.Version, "error", err.Error())
			d.Status, d.Message = StatusFailed, err.Error()
			if serr := s.store.SaveDeployment(ctx, d); serr != nil {
				return serr
			}
			continue
		}
		d.Status, d.Message = StatusReady, ""
		s.put(&Endpoint{Deployment: d, Loaded: ld})
	}
	return nil
}

func (s *Service) load(ctx context.Context, model string, version int64) (*Loaded, error) {
	mv, err := s.reg.GetModelVersion(ctx, model, registry.VersionString(version))
	if err != nil {
		return nil, err
	}
	return s.loader.Load(ctx, mv)
}

func (s *Service) put(e *Endpoint) {
	s.mu.Lock()
	s.endpoints[e.Endpoint] = e
	s.mu.Unlock()
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

// Deploy puts the version a models:/ URI names behind endpoint, once the
// policy gates allow it and its files load. Nothing changes on failure.
func (s *Service) Deploy(ctx context.Context, endpoint, modelURI, strategy string) (Deployment, error) {
	if err := ValidateEndpoint(endpoint); err != nil {
		return Deployment{}, err
	}
	if strategy == "" {
		strategy = StrategyDirect
	}
	if strategy != StrategyDirect {
		return Deployment{}, errdefs.NotImplemented("Strategy '%s' is not available yet; use direct.", strategy)
	}
	mv, err := s.reg.Resolve(ctx, modelURI)
	if err != nil {
		return Deployment{}, err
	}
	s.deploy.Lock()
	defer s.deploy.Unlock()
	if s.gate != nil {
		if err := s.gate.Allow(ctx, mv, registry.Target{Kind: registry.TargetDeploy, Name: endpoint}); err != nil {
			return Deployment{}, err
		}
	}
	ld, err := s.loader.Load(ctx, mv)
	if err != nil {
		if errors.Is(err, modelrt.ErrBadModel) || errors.Is(err, errdefs.ErrNotFound) {
			return Deployment{}, errdefs.InvalidArgument("Version %d of model '%s' cannot be served: %v", mv.Version, mv.Name, err)
		}
		return Deployment{}, err
	}
	now := s.now().UnixMilli()
	d := Deployment{Endpoint: endpoint, Model: mv.Name, Version: mv.Version, Strategy: strategy,
		Status: StatusReady, CreatedAt: now, UpdatedAt: now}
	before, err := s.store.GetDeployment(ctx, endpoint)
	switch {
	case err == nil:
		d.CreatedAt = before.CreatedAt
	case errors.Is(err, errdefs.ErrNotFound):
	default:
		return Deployment{}, err
	}
	if err := s.store.SaveDeployment(ctx, d); err != nil {
		return Deployment{}, err
	}
	s.put(&Endpoint{Deployment: d, Loaded: ld})
	c := audit.Change{Action: "serving.deploy", Resource: URI(endpoint), After: audit.Digest(d)}
	if before.Endpoint != "" {
		c.Before = audit.Digest(before)
	}
	audit.Note(ctx, c)
	return d, nil
}

// Undeploy removes an endpoint.
func (s *Service) Undeploy(ctx context.Context, endpoint string) error {
	if err := ValidateEndpoint(endpoint); err != nil {
		return err
	}
	s.deploy.Lock()
	defer s.deploy.Unlock()
	before, err := s.store.GetDeployment(ctx, endpoint)
	if err != nil {
		return err
	}
	if err := s.store.DeleteDeployment(ctx, endpoint); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.endpoints, endpoint)
	s.mu.Unlock()
	audit.Note(ctx, audit.Change{Action: "serving.undeploy", Resource: URI(endpoint), Before: audit.Digest(before)})
	return nil
}

// Endpoint returns a ready endpoint; an unknown or failed one is
// ErrNotFound (failed ones say why).
func (s *Service) Endpoint(ctx context.Context, name string) (*Endpoint, error) {
	s.mu.RLock()
	e := s.endpoints[name]
	s.mu.RUnlock()
	if e != nil {
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

// DeploymentsOf returns the deployments serving a model version (lineage).
func (s *Service) DeploymentsOf(ctx context.Context, model string, version int64) ([]Deployment, error) {
	ds, err := s.store.ListDeployments(ctx)
	if err != nil {
		return nil, err
	}
	var out []Deployment
	for _, d := range ds {
		if d.Model == model && d.Version == version {
			out = append(out, d)
		}
	}
	return out, nil
}
