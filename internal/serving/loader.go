package serving

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/ferry-ml/ferry/internal/blob"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/modelrt"
	"github.com/ferry-ml/ferry/internal/modelrt/mlmodel"
	"github.com/ferry-ml/ferry/internal/registry"
	"github.com/ferry-ml/ferry/internal/tracking"
)

// Artifacts reads files of the artifact store (blob.Store does).
type Artifacts interface {
	Get(ctx context.Context, key string) (io.ReadCloser, blob.Entry, error)
}

// ArtifactLoader loads versions whose files are in Ferry's artifact store
// (mlflow-artifacts: locations): an MLflow model directory (MLmodel with
// the xgboost or lightgbm flavor) or a single XGBoost or LightGBM model
// file.
type ArtifactLoader struct {
	Artifacts Artifacts
	// MaxBytes bounds a model file (default mlmodel.DefaultMaxDataBytes).
	MaxBytes int64
}

// Load implements Loader.
func (l ArtifactLoader) Load(ctx context.Context, mv registry.ModelVersion) (*Loaded, error) {
	loc := mv.StorageLocation
	if loc == "" {
		loc = mv.Source
	}
	key, ok := tracking.ArtifactKey(loc)
	if !ok {
		return nil, fmt.Errorf("%w: the files of version %d of model '%s' are at %s, outside Ferry's artifact store (external runtimes are to come)", modelrt.ErrBadModel, mv.Version, mv.Name, loc)
	}
	key = strings.Trim(key, "/")
	limit := l.MaxBytes
	if limit <= 0 {
		limit = mlmodel.DefaultMaxDataBytes
	}
	read := func(ctx context.Context, rel string) ([]byte, error) {
		return l.read(ctx, path.Join(key, rel), limit)
	}
	o, err := mlmodel.Open(ctx, mlmodel.Location{
		Read:     read,
		ReadFile: func(ctx context.Context) ([]byte, error) { return l.read(ctx, key, limit) },
		Name:     loc,
	}, mlmodel.Options{})
	if err != nil {
		return nil, err
	}
	return &Loaded{Runtime: o.Runtime, Flavor: o.Flavor, Labels: o.Labels}, nil
}

// read returns a file of the store; a missing one (or a directory)
// matches fs.ErrNotExist.
func (l ArtifactLoader) read(ctx context.Context, key string, limit int64) ([]byte, error) {
	rc, _, err := l.Artifacts.Get(ctx, key)
	if err != nil {
		if errors.Is(err, errdefs.ErrNotFound) || errors.Is(err, errdefs.ErrInvalidArgument) {
			return nil, fmt.Errorf("%s: %w", key, fs.ErrNotExist)
		}
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", modelrt.ErrBadModel, key, limit)
	}
	return b, nil
}
