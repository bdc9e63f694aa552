package tracking

import "context"

// Store is the persistence the tracking service needs. Every method is
// atomic: it either applies entirely or not at all. Errors match the
// errdefs sentinels (ErrNotFound, ErrAlreadyExists, ErrInvalidArgument)
// and carry MLflow's user-facing messages; the constructors in errors.go
// build them so every implementation speaks alike.
type Store interface {
	// EnsureDefaultExperiment creates experiment "0" named "Default", with
	// artifact location artifactRoot + "/0", created at now, unless it exists.
	EnsureDefaultExperiment(ctx context.Context, artifactRoot string, now int64) error
	// CreateExperiment stores e (ID ignored) and returns the new ID. A name
	// held by any experiment, active or deleted, is ErrAlreadyExists. An
	// empty ArtifactLocation is replaced by artifactRoot + "/" + ID.
	CreateExperiment(ctx context.Context, e Experiment, artifactRoot string) (string, error)
	GetExperiment(ctx context.Context, id string) (Experiment, error)
	GetExperimentByName(ctx context.Context, name string) (Experiment, error)
	SearchExperiments(ctx context.Context, q ExperimentQuery) ([]Experiment, error)
	RenameExperiment(ctx context.Context, id, name string, now int64) error
	// SetExperimentStage deletes or restores an experiment and its runs.
	SetExperimentStage(ctx context.Context, id string, stage LifecycleStage, now int64) error
	SetExperimentTag(ctx context.Context, id string, tag Tag) error

	// CreateRun stores a new run with its tags (run.Data.Tags); the
	// experiment must exist and be active.
	CreateRun(ctx context.Context, run Run) error
	GetRun(ctx context.Context, id string) (Run, error)
	// UpdateRun applies u to an active run and returns the new info.
	// A new run name is mirrored into the mlflow.runName tag.
	UpdateRun(ctx context.Context, id string, u RunUpdate) (RunInfo, error)
	// SetRunStage deletes or restores a run.
	SetRunStage(ctx context.Context, id string, stage LifecycleStage, now int64) error
	// LogBatch writes metrics, params and tags to an active run, all or
	// nothing. A param already logged with a different value is
	// ErrInvalidArgument (ParamChanged); the same value again is a no-op.
	// A tag mlflow.runName also renames the run.
	LogBatch(ctx context.Context, runID string, metrics []Metric, params []Param, tags []Tag) error
	// DeleteTag removes a tag from an active run; a missing tag is ErrNotFound.
	DeleteTag(ctx context.Context, runID, key string) error
	// UpdateTag sets tag key of an active run to fn(old, found), atomically.
	UpdateTag(ctx context.Context, runID, key string, fn func(old string, found bool) (string, error)) error
	// LogInputs records dataset inputs of an active run; a dataset is
	// identified by (experiment, name, digest) and stored once.
	LogInputs(ctx context.Context, runID string, inputs []DatasetInput) error
	SearchRuns(ctx context.Context, q RunQuery) ([]Run, error)
	// MetricHistory returns every value of one metric of a run, ordered by
	// step, timestamp and value.
	MetricHistory(ctx context.Context, runID, key string) ([]Metric, error)
	// MetricHistoryRange returns the values of one metric for several runs
	// with step in [startStep, endStep] (nil: unbounded), ordered by run,
	// step, timestamp.
	MetricHistoryRange(ctx context.Context, runIDs []string, key string, startStep, endStep *int64) ([]RunMetric, error)
}
