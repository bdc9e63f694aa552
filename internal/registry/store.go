package registry

import "context"

// Store is the persistence the registry needs. Every method is atomic.
// Errors match the errdefs sentinels and carry MLflow's messages (see
// errors.go). Versions are addressed by model name and number; a deleted
// version keeps its number, which is never reused.
type Store interface {
	// CreateRegisteredModel stores m with its tags; a taken name is
	// ErrAlreadyExists (ModelExists).
	CreateRegisteredModel(ctx context.Context, m RegisteredModel) error
	// GetRegisteredModel returns the model with tags, aliases and its
	// latest version per stage.
	GetRegisteredModel(ctx context.Context, name string) (RegisteredModel, error)
	RenameRegisteredModel(ctx context.Context, name, newName string, now int64) error
	UpdateRegisteredModel(ctx context.Context, name, description string, now int64) error
	// DeleteRegisteredModel removes the model with its versions, tags,
	// aliases, reviews and policy.
	DeleteRegisteredModel(ctx context.Context, name string) error
	SearchRegisteredModels(ctx context.Context, q ModelQuery) ([]RegisteredModel, error)
	SetRegisteredModelTag(ctx context.Context, name string, tag Tag) error
	DeleteRegisteredModelTag(ctx context.Context, name, key string) error

	// CreateModelVersion numbers mv after every version the model ever
	// had, stores it with its tags and returns it as stored.
	CreateModelVersion(ctx context.Context, mv ModelVersion) (ModelVersion, error)
	GetModelVersion(ctx context.Context, name string, version int64) (ModelVersion, error)
	// UpdateModelVersion applies u and returns the version as it now is,
	// with the numbers of other versions it archived.
	UpdateModelVersion(ctx context.Context, name string, version int64, u VersionUpdate, now int64) (ModelVersion, []int64, error)
	// DeleteModelVersion deletes a version and the aliases pointing to it.
	DeleteModelVersion(ctx context.Context, name string, version int64, now int64) error
	SearchModelVersions(ctx context.Context, q VersionQuery) ([]ModelVersion, error)
	// LatestVersions returns the newest version of each of stages (every
	// stage when empty) of a model.
	LatestVersions(ctx context.Context, name string, stages []string) ([]ModelVersion, error)
	// VersionsInStage returns every live version of a model in stage.
	VersionsInStage(ctx context.Context, name, stage string) ([]ModelVersion, error)
	SetModelVersionTag(ctx context.Context, name string, version int64, tag Tag) error
	DeleteModelVersionTag(ctx context.Context, name string, version int64, key string) error
	// VersionsOfRun returns the live versions registered from a run.
	VersionsOfRun(ctx context.Context, runID string) ([]ModelVersion, error)

	// SetAlias points alias at version (which must exist) and returns the
	// version it pointed at before (0: none). With expectRevision != 0 the
	// model must still be at that revision (RegisteredModel.Revision), or
	// nothing changes and the error is ModelChanged.
	SetAlias(ctx context.Context, name, alias string, version int64, expectRevision int64) (int64, error)
	DeleteAlias(ctx context.Context, name, alias string, now int64) error
	GetVersionByAlias(ctx context.Context, name, alias string) (ModelVersion, error)

	// AddReview records a reviewer's decision on a version.
	AddReview(ctx context.Context, name string, version int64, r Review) error
	// Reviews returns a version's decisions, oldest first.
	Reviews(ctx context.Context, name string, version int64) ([]Review, error)

	// SetModelPolicy stores (doc != "") or removes the policy document of
	// a registered model; ModelPolicy returns it ("" when none).
	SetModelPolicy(ctx context.Context, name, doc string, now int64) error
	ModelPolicy(ctx context.Context, name string) (string, error)
}
