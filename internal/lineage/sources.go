package lineage

import (
	"context"
	"strconv"
	"strings"

	"github.com/ferry-ml/ferry/internal/registry"
	"github.com/ferry-ml/ferry/internal/tracking"
)

// Runs is what the tracking source reads.
type Runs interface {
	GetRun(ctx context.Context, id string) (tracking.Run, error)
}

// Datasets finds datasets and the runs that used them.
type Datasets interface {
	// Dataset returns a dataset by name and digest (ErrNotFound if no
	// run logged it).
	Dataset(ctx context.Context, name, digest string) (tracking.Dataset, error)
	// RunsWithDataset returns the ids of runs that logged the dataset as
	// an input, with each input's context tag ("" when none).
	RunsWithDataset(ctx context.Context, name, digest string) ([]DatasetUse, error)
}

// DatasetUse is one run's use of a dataset.
type DatasetUse struct {
	RunID   string
	Context string // mlflow.data.context: training, evaluation, ...
}

// TrackingSource gives datasets and runs, and the dataset → run edges.
type TrackingSource struct {
	Runs     Runs
	Datasets Datasets
}

// Node implements Source.
func (s TrackingSource) Node(ctx context.Context, uri string) (Node, bool, error) {
	if id, ok := ParseRunURI(uri); ok {
		run, err := s.Runs.GetRun(ctx, id)
		if err != nil {
			return Node{}, true, err
		}
		return runNode(run), true, nil
	}
	if strings.HasPrefix(uri, "datasets:/") {
		name, digest, err := ParseDatasetURI(uri)
		if err != nil {
			return Node{}, true, err
		}
		d, err := s.Datasets.Dataset(ctx, name, digest)
		if err != nil {
			return Node{}, true, err
		}
		return datasetNode(d), true, nil
	}
	return Node{}, false, nil
}

func runNode(run tracking.Run) Node {
	attrs := map[string]string{
		"experiment_id": run.Info.ExperimentID,
		"status":        string(run.Info.Status),
		"start_time":    strconv.FormatInt(run.Info.StartTime, 10),
	}
	if run.Info.LifecycleStage == tracking.StageDeleted {
		attrs["deleted"] = "true"
	}
	return Node{URI: RunURI(run.Info.RunID), Kind: KindRun, Label: run.Info.RunName, Attrs: attrs}
}

func datasetNode(d tracking.Dataset) Node {
	return Node{URI: DatasetURI(d.Name, d.Digest), Kind: KindDataset, Label: d.Name, Attrs: map[string]string{
		"digest": d.Digest, "source_type": d.SourceType, "source": d.Source,
	}}
}

// Edges implements Source.
func (s TrackingSource) Edges(ctx context.Context, uri string) (up, down []Edge, err error) {
	if id, ok := ParseRunURI(uri); ok {
		run, err := s.Runs.GetRun(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		for _, in := range run.Inputs {
			up = append(up, Edge{From: DatasetURI(in.Dataset.Name, in.Dataset.Digest), To: uri, Relation: inputRelation(in.Tags)})
		}
		return up, nil, nil
	}
	if strings.HasPrefix(uri, "datasets:/") {
		name, digest, err := ParseDatasetURI(uri)
		if err != nil {
			return nil, nil, err
		}
		uses, err := s.Datasets.RunsWithDataset(ctx, name, digest)
		if err != nil {
			return nil, nil, err
		}
		for _, u := range uses {
			rel := "input"
			if u.Context != "" {
				rel = "input:" + u.Context
			}
			down = append(down, Edge{From: uri, To: RunURI(u.RunID), Relation: rel})
		}
	}
	return nil, down, nil
}

func inputRelation(tags []tracking.Tag) string {
	for _, t := range tags {
		if t.Key == "mlflow.data.context" && t.Value != "" {
			return "input:" + t.Value
		}
	}
	return "input"
}

// Versions is what the registry source reads.
type Versions interface {
	Resolve(ctx context.Context, uri string) (registry.ModelVersion, error)
	VersionsOfRun(ctx context.Context, runID string) ([]registry.ModelVersion, error)
}

// RegistrySource gives model versions and the run → version edges.
type RegistrySource struct {
	Versions Versions
}

// Node implements Source; aliases and stages resolve to the version.
func (s RegistrySource) Node(ctx context.Context, uri string) (Node, bool, error) {
	if !strings.HasPrefix(uri, "models:/") {
		return Node{}, false, nil
	}
	mv, err := s.Versions.Resolve(ctx, uri)
	if err != nil {
		return Node{}, true, err
	}
	return versionNode(mv), true, nil
}

func versionNode(mv registry.ModelVersion) Node {
	attrs := map[string]string{
		"stage":    mv.CurrentStage,
		"approval": string(mv.Approval.Status),
		"source":   mv.Source,
	}
	if len(mv.Aliases) > 0 {
		attrs["aliases"] = strings.Join(mv.Aliases, ",")
	}
	return Node{URI: registry.VersionURI(mv.Name, mv.Version), Kind: KindModelVersion,
		Label: mv.Name + " v" + strconv.FormatInt(mv.Version, 10), Attrs: attrs}
}

// Edges implements Source.
func (s RegistrySource) Edges(ctx context.Context, uri string) (up, down []Edge, err error) {
	if strings.HasPrefix(uri, "models:/") {
		mv, err := s.Versions.Resolve(ctx, uri)
		if err != nil {
			return nil, nil, err
		}
		if run := RunOfVersion(mv); run != "" {
			up = append(up, Edge{From: RunURI(run), To: uri, Relation: "registered_as"})
		}
		return up, nil, nil
	}
	if id, ok := ParseRunURI(uri); ok {
		vs, err := s.Versions.VersionsOfRun(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		for _, mv := range vs {
			down = append(down, Edge{From: uri, To: registry.VersionURI(mv.Name, mv.Version), Relation: "registered_as"})
		}
	}
	return nil, down, nil
}

// RunOfVersion returns the run a version came from: its run_id, or the
// run whose artifacts its source points into (the registry refuses a
// version where the two disagree).
func RunOfVersion(mv registry.ModelVersion) string {
	if mv.RunID != "" {
		return mv.RunID
	}
	return registry.RunOfSource(mv.Source)
}
