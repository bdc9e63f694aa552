package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/monitor"
	"github.com/ferry-ml/ferry/internal/tracking"
)

// references gives each endpoint the data its traffic is compared with:
// the dataset version set for the endpoint (PUT .../reference), else the
// training data of the model version it serves — the dataset a run of
// that version logged as an input, when it is a dataset version of this
// server — so a new version brings its own reference.
type references struct{ a *App }

func (r references) SetReference(ctx context.Context, ref monitor.Reference) error {
	return r.a.store.SetReference(ctx, ref)
}

func (r references) GetReference(ctx context.Context, endpoint string) (monitor.Reference, error) {
	ref, err := r.a.store.GetReference(ctx, endpoint)
	if !errors.Is(err, monitor.ErrNoReference) {
		return ref, err
	}
	derived, ok, derr := r.trainingData(ctx, endpoint)
	if derr != nil || !ok {
		return ref, errors.Join(err, derr)
	}
	return derived, nil
}

func (r references) ListReferences(ctx context.Context) ([]monitor.Reference, error) {
	refs, err := r.a.store.ListReferences(ctx)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, ref := range refs {
		set[ref.Endpoint] = true
	}
	deps, err := r.a.serving.Deployments(ctx)
	if err != nil {
		return nil, err
	}
	for _, d := range deps {
		if set[d.Endpoint] {
			continue
		}
		ref, ok, err := r.trainingData(ctx, d.Endpoint)
		if err != nil {
			r.a.log.Warn("monitor: no reference from the training data", "endpoint", d.Endpoint, "error", err.Error())
			continue
		}
		if ok {
			refs = append(refs, ref)
		}
	}
	return refs, nil
}

// trainingData finds the dataset version the endpoint's stable model
// version was trained on; ok is false when its run logged none of this
// server's datasets.
func (r references) trainingData(ctx context.Context, endpoint string) (monitor.Reference, bool, error) {
	d, err := r.a.serving.Deployment(ctx, endpoint)
	if err != nil {
		return monitor.Reference{}, false, err
	}
	mv, err := r.a.registry.GetModelVersion(ctx, d.Model, strconv.FormatInt(d.Version, 10))
	if errors.Is(err, errdefs.ErrNotFound) {
		return monitor.Reference{}, false, nil // a deleted version: no training data to find
	}
	if err != nil || mv.RunID == "" {
		return monitor.Reference{}, false, err
	}
	run, err := r.a.tracking.GetRun(ctx, mv.RunID)
	if err != nil {
		if errors.Is(err, errdefs.ErrNotFound) {
			return monitor.Reference{}, false, nil
		}
		return monitor.Reference{}, false, err
	}
	for _, in := range run.Inputs {
		if _, ok := tracking.ArtifactKey(in.Dataset.Source); !ok {
			continue
		}
		vs, err := r.a.store.ListDatasetVersions(ctx, in.Dataset.Name)
		if err != nil {
			if errors.Is(err, errdefs.ErrNotFound) {
				continue
			}
			return monitor.Reference{}, false, err
		}
		for _, v := range vs {
			if v.Source == in.Dataset.Source {
				return monitor.Reference{Endpoint: endpoint, Dataset: v.Name, Version: v.Version,
					Model: fmt.Sprintf("models:/%s/%d", d.Model, d.Version)}, true, nil
			}
		}
	}
	return monitor.Reference{}, false, nil
}

var _ monitor.References = references{}
