// Package registry is Ferry's model registry: registered models, their
// numbered versions, tags, aliases and (deprecated, still served) stages,
// as MLflow's model registry defines them, plus what an organisation needs
// before a version reaches production: approvals by reviewers and policy
// gates on every move of an alias or stage. Service holds the rules;
// Store is the persistence it needs, implemented in internal/store.
package registry

import "github.com/ferry-ml/ferry/internal/filter"

// Tag is a key/value pair on a registered model or a model version.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Alias names one version of a registered model.
type Alias struct {
	Alias   string `json:"alias"`
	Version int64  `json:"version"`
}

// Stages of MLflow's (deprecated) stage workflow.
const (
	StageNone       = "None"
	StageStaging    = "Staging"
	StageProduction = "Production"
	StageArchived   = "Archived"
)

// Stages lists the stages in MLflow's order.
var Stages = [...]string{StageNone, StageStaging, StageProduction, StageArchived}

// Version statuses; Ferry registers synchronously, so versions are READY.
const (
	StatusReady = "READY"
)

// RegisteredModel is a named model and what hangs off it.
type RegisteredModel struct {
	Name            string  `json:"name"`
	CreationTime    int64   `json:"creation_timestamp"`
	LastUpdatedTime int64   `json:"last_updated_timestamp"`
	UserID          string  `json:"user_id,omitempty"`
	Description     string  `json:"description,omitempty"`
	Tags            []Tag   `json:"tags,omitempty"`
	Aliases         []Alias `json:"aliases,omitempty"`
	// LatestVersions holds the newest version of each stage (filled by
	// reads that return whole models).
	LatestVersions []ModelVersion `json:"latest_versions,omitempty"`
	// Revision advances with every change to the model or anything under
	// it; a gated move carries the revision its gate judged.
	Revision int64 `json:"-"`
}

// ApprovalStatus is a version's review state, as SageMaker's
// ModelApprovalStatus.
type ApprovalStatus string

// Approval statuses.
const (
	ApprovalPending  ApprovalStatus = "pending"
	ApprovalApproved ApprovalStatus = "approved"
	ApprovalRejected ApprovalStatus = "rejected"
)

// Review is one reviewer's decision on a version.
type Review struct {
	Reviewer string         `json:"reviewer"`
	Decision ApprovalStatus `json:"decision"` // approved or rejected
	Comment  string         `json:"comment,omitempty"`
	Time     int64          `json:"time"`
}

// Approval is a version's current review state: the latest decision, and
// the reviewers whose latest decision approves it.
type Approval struct {
	Status    ApprovalStatus `json:"status"`
	Reviewer  string         `json:"reviewer,omitempty"`
	Time      int64          `json:"time,omitempty"`
	Comment   string         `json:"comment,omitempty"`
	Approvers []string       `json:"approvers,omitempty"`
}

// ModelVersion is one registered version of a model.
type ModelVersion struct {
	Name            string   `json:"name"`
	Version         int64    `json:"version"`
	CreationTime    int64    `json:"creation_timestamp"`
	LastUpdatedTime int64    `json:"last_updated_timestamp"`
	UserID          string   `json:"user_id,omitempty"`
	CurrentStage    string   `json:"current_stage"`
	Description     string   `json:"description,omitempty"`
	Source          string   `json:"source"`
	RunID           string   `json:"run_id,omitempty"`
	RunLink         string   `json:"run_link,omitempty"`
	Status          string   `json:"status"`
	StatusMessage   string   `json:"status_message,omitempty"`
	Tags            []Tag    `json:"tags,omitempty"`
	Aliases         []string `json:"aliases,omitempty"`
	// StorageLocation is where the files are: the source with runs:/
	// resolved to the run's artifact location.
	StorageLocation string `json:"storage_location,omitempty"`
	// Approval is the review state (always filled by reads).
	Approval Approval `json:"approval"`
}

// ModelQuery selects registered models in SearchRegisteredModels.
type ModelQuery struct {
	Filter  []filter.Clause // AND of clauses over name and tags
	OrderBy []filter.Order  // after them: name ASC
	Offset  int
	Limit   int
}

// VersionQuery selects versions in SearchModelVersions.
type VersionQuery struct {
	Filter  []filter.Clause // name, version_number, run_id, source_path, tags
	OrderBy []filter.Order  // after them: name ASC, version_number DESC
	Offset  int
	Limit   int
}

// VersionUpdate changes fields of a version; nil fields stay.
type VersionUpdate struct {
	Description *string
	Stage       *string
	// ArchiveExisting moves the other versions in Stage to Archived.
	ArchiveExisting bool
	// ExpectRevision, when not 0, is the model revision the move was
	// judged on (see Store.SetAlias).
	ExpectRevision int64
}
