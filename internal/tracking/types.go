// Package tracking is Ferry's experiment-tracking domain: experiments, runs
// and what runs log (metrics, params, tags, dataset inputs, models). Service
// validates every request the way MLflow does and keeps the rules; Store is
// the persistence it needs, declared here and implemented in internal/store.
package tracking

import (
	"sort"

	"github.com/ferry-ml/ferry/internal/filter"
)

// LifecycleStage of an experiment or a run.
type LifecycleStage string

// Lifecycle stages.
const (
	StageActive  LifecycleStage = "active"
	StageDeleted LifecycleStage = "deleted"
)

// ViewType selects runs or experiments by lifecycle stage in searches.
type ViewType int

// View types, numbered as in MLflow's protos.
const (
	ActiveOnly  ViewType = 1
	DeletedOnly ViewType = 2
	All         ViewType = 3
)

// Stages returns the lifecycle stages a view includes.
func (v ViewType) Stages() []LifecycleStage {
	switch v {
	case DeletedOnly:
		return []LifecycleStage{StageDeleted}
	case All:
		return []LifecycleStage{StageActive, StageDeleted}
	}
	return []LifecycleStage{StageActive}
}

// RunStatus is a run's execution status.
type RunStatus string

// Run statuses, as in MLflow.
const (
	StatusRunning   RunStatus = "RUNNING"
	StatusScheduled RunStatus = "SCHEDULED"
	StatusFinished  RunStatus = "FINISHED"
	StatusFailed    RunStatus = "FAILED"
	StatusKilled    RunStatus = "KILLED"
)

// Valid reports whether s is one of the statuses MLflow defines.
func (s RunStatus) Valid() bool {
	switch s {
	case StatusRunning, StatusScheduled, StatusFinished, StatusFailed, StatusKilled:
		return true
	}
	return false
}

// DefaultExperimentID is the experiment that always exists.
const DefaultExperimentID = "0"

// Well-known tag keys.
const (
	TagRunName        = "mlflow.runName"
	TagUser           = "mlflow.user"
	TagLoggedModels   = "mlflow.log-model.history"
	TagDatasetContext = "mlflow.data.context"
)

// Tag is a key/value string pair on an experiment, run or dataset input.
type Tag struct {
	Key   string
	Value string
}

// Param is a run's immutable key/value parameter.
type Param struct {
	Key   string
	Value string
}

// Metric is one measurement. Value may be NaN or ±Inf.
type Metric struct {
	Key       string
	Value     float64
	Timestamp int64 // milliseconds since the epoch
	Step      int64
}

// RunMetric is a metric with the run it belongs to (bulk history reads).
type RunMetric struct {
	RunID string
	Metric
}

// Experiment groups runs.
type Experiment struct {
	ID               string
	Name             string
	ArtifactLocation string
	LifecycleStage   LifecycleStage
	CreationTime     int64
	LastUpdateTime   int64
	Tags             []Tag
}

// RunInfo is a run's metadata.
type RunInfo struct {
	RunID          string
	RunName        string
	ExperimentID   string
	UserID         string
	Status         RunStatus
	StartTime      int64
	EndTime        *int64
	ArtifactURI    string
	LifecycleStage LifecycleStage
}

// RunData is what a run logged: the latest value of each metric, params and tags.
type RunData struct {
	Metrics []Metric
	Params  []Param
	Tags    []Tag
}

// Sort orders metrics, params and tags by key, as MLflow answers them.
func (d *RunData) Sort() {
	sort.Slice(d.Tags, func(i, j int) bool { return d.Tags[i].Key < d.Tags[j].Key })
	sort.Slice(d.Params, func(i, j int) bool { return d.Params[i].Key < d.Params[j].Key })
	sort.Slice(d.Metrics, func(i, j int) bool { return d.Metrics[i].Key < d.Metrics[j].Key })
}

// Dataset is a dataset as MLflow's log-inputs records it.
type Dataset struct {
	Name       string
	Digest     string
	SourceType string
	Source     string
	Schema     string
	Profile    string
}

// DatasetInput is a dataset used by a run, with tags such as mlflow.data.context.
type DatasetInput struct {
	Tags    []Tag
	Dataset Dataset
}

// Run is a run with everything it logged.
type Run struct {
	Info   RunInfo
	Data   RunData
	Inputs []DatasetInput
}

// ExperimentQuery is a parsed, validated experiment search for a Store.
type ExperimentQuery struct {
	Filter  []filter.Clause
	OrderBy []filter.Order
	Stages  []LifecycleStage
	Offset  int
	Limit   int
}

// RunQuery is a parsed, validated run search for a Store.
type RunQuery struct {
	ExperimentIDs []string
	Filter        []filter.Clause
	OrderBy       []filter.Order
	Stages        []LifecycleStage
	Offset        int
	Limit         int
}

// RunUpdate changes a run's info; nil fields are left as they are.
type RunUpdate struct {
	Status  *RunStatus
	EndTime *int64
	RunName *string
}
