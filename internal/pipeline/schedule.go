package pipeline

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/ferry-ml/ferry/internal/audit"
	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Registered is a pipeline kept in the server so that its schedule and
// triggers start runs.
type Registered struct {
	Name    string            `json:"name"`
	Spec    string            `json:"spec"`
	Workdir string            `json:"workdir"`
	Params  map[string]string `json:"params,omitempty"`
	// Schedule and Triggers are the spec's (copied for listing).
	Schedule  string    `json:"schedule,omitempty"`
	Triggers  []Trigger `json:"triggers,omitempty"`
	CreatedAt int64     `json:"created_at"`
	UpdatedAt int64     `json:"updated_at"`
	// LastFiredAt is the minute (Unix ms) its schedule last started a run.
	LastFiredAt int64 `json:"last_fired_at,omitempty"`
}

// RegistryStore keeps registered pipelines.
type RegistryStore interface {
	SavePipeline(ctx context.Context, p Registered) error
	ListPipelines(ctx context.Context) ([]Registered, error)
	DeletePipeline(ctx context.Context, name string) error
	// MarkPipelineFired records that the schedule fired at minute, and
	// says false when it had already fired then (another server did).
	MarkPipelineFired(ctx context.Context, name string, minute int64) (bool, error)
}

// Scheduler starts runs of registered pipelines: on their cron schedule,
// and when a new version of a dataset they are triggered by is added.
type Scheduler struct {
	Store RegistryStore
	Queue *Queue
	Log   *slog.Logger
	Now   func() time.Time
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Register checks a pipeline (as Submit would, with its parameters) and
// keeps it, replacing one of the same name.
func (s *Scheduler) Register(ctx context.Context, spec, workdir string, params map[string]string) (Registered, error) {
	sp, err := Parse([]byte(spec), s.Queue.Ops)
	if err != nil {
		return Registered{}, err
	}
	if _, err := sp.ResolveParams(params); err != nil {
		return Registered{}, err
	}
	if workdir == "" {
		return Registered{}, errdefs.InvalidArgument("Give the pipeline's directory (workdir): workers run its steps there.")
	}
	now := s.now().UnixMilli()
	p := Registered{Name: sp.Name, Spec: spec, Workdir: workdir, Params: params, Triggers: sp.Triggers, CreatedAt: now, UpdatedAt: now}
	if sp.Schedule != nil {
		p.Schedule = sp.Schedule.String()
	}
	if err := s.Store.SavePipeline(ctx, p); err != nil {
		return Registered{}, err
	}
	audit.Note(ctx, audit.Change{Action: "pipeline.register", Resource: "pipelines:/" + p.Name})
	return p, nil
}

// Tick starts the runs whose schedule matches now's minute (once per
// minute, across servers sharing the store).
func (s *Scheduler) Tick(ctx context.Context) {
	now := s.now().Truncate(time.Minute)
	ps, err := s.Store.ListPipelines(ctx)
	if err != nil {
		s.log().Error("pipeline schedules", "error", err.Error())
		return
	}
	for _, p := range ps {
		if p.Schedule == "" {
			continue
		}
		c, err := ParseCron(p.Schedule)
		if err != nil || !c.Matches(now) {
			continue
		}
		if ok, err := s.Store.MarkPipelineFired(ctx, p.Name, now.UnixMilli()); err != nil || !ok {
			continue
		}
		s.start(ctx, p, "schedule "+p.Schedule)
	}
}

// DatasetAdded starts the runs of the pipelines triggered by a new
// version of the dataset.
func (s *Scheduler) DatasetAdded(ctx context.Context, dataset string) {
	ps, err := s.Store.ListPipelines(ctx)
	if err != nil {
		s.log().Error("pipeline triggers", "error", err.Error())
		return
	}
	for _, p := range ps {
		for _, tr := range p.Triggers {
			if tr.Dataset == dataset {
				s.start(ctx, p, "a new version of dataset "+dataset)
			}
		}
	}
}

// Start submits a run of the registered pipeline name, its registered
// parameters overridden by params (ErrNotFound when none is registered
// under that name): what an alert's pipeline channel starts.
func (s *Scheduler) Start(ctx context.Context, name string, params map[string]string) (RunRecord, error) {
	ps, err := s.Store.ListPipelines(ctx)
	if err != nil {
		return RunRecord{}, err
	}
	i := slices.IndexFunc(ps, func(p Registered) bool { return p.Name == name })
	if i < 0 {
		return RunRecord{}, errdefs.NotFound("No registered pipeline named '%s' (ferry pipeline register).", name)
	}
	given := maps.Clone(ps[i].Params)
	if given == nil {
		given = map[string]string{}
	}
	maps.Copy(given, params)
	return s.Queue.Submit(ctx, ps[i].Spec, ps[i].Workdir, given)
}

func (s *Scheduler) start(ctx context.Context, p Registered, why string) {
	run, err := s.Queue.Submit(ctx, p.Spec, p.Workdir, p.Params)
	if err != nil {
		s.log().Error("pipeline not started", "pipeline", p.Name, "because", why, "error", err.Error())
		return
	}
	s.log().Info("pipeline started", "pipeline", p.Name, "run", run.ID, "because", why)
}

func (s *Scheduler) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Run ticks at the start of every minute until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	for {
		next := s.now().Truncate(time.Minute).Add(time.Minute)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
			s.Tick(context.WithoutCancel(ctx))
		}
	}
}
