package mlmodel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/ferry-ml/ferry/internal/modelrt"
	"github.com/ferry-ml/ferry/internal/modelrt/lightgbm"
	"github.com/ferry-ml/ferry/internal/modelrt/xgboost"
)

// Location is where a model version's files are, for Open: an MLflow
// model directory, or a single model file.
type Location struct {
	// Read reads a file relative to the location ("MLmodel", the flavor's
	// data), as for Load.
	Read ReadFunc
	// ReadFile reads the location itself as one file. Nothing there (or
	// a directory) must give an error matching fs.ErrNotExist. It bounds
	// what it reads itself.
	ReadFile func(ctx context.Context) ([]byte, error)
	// Name is how errors name the location (its URI).
	Name string
}

// Opened is a model that Open loaded.
type Opened struct {
	// Runtime answers predictions: the *Model of an MLflow model
	// directory, else the *xgboost.Model or *lightgbm.Model of the file.
	Runtime modelrt.Model
	// Flavor is "xgboost" or "lightgbm".
	Flavor string
	// Labels, set for a scikit-learn classifier's MLmodel
	// (Model.ClassifierLabels), writes the class label of each row, as
	// the classifier's predict and MLflow's pyfunc do (Model.PredictLabels).
	Labels func(x []float64, rows int, out []float64) error
	// MLmodel is the loaded MLflow model; nil for a single model file.
	MLmodel *Model
}

// Open loads the model at loc: an MLflow model directory (an MLmodel
// file with the xgboost or lightgbm flavor, loaded with LoadWith and
// opt) when loc holds "MLmodel", else loc itself as a single XGBoost
// (JSON, UBJSON or legacy binary) or LightGBM (text) model file, told
// apart by its content. Nothing at loc is an error matching
// modelrt.ErrBadModel; an error of loc's functions other than
// fs.ErrNotExist is returned as is.
func Open(ctx context.Context, loc Location, opt Options) (*Opened, error) {
	doc, err := loc.Read(ctx, MLmodelFile)
	switch {
	case err == nil:
		// Read MLmodel once: LoadWith gets the bytes already read.
		read := func(ctx context.Context, rel string) ([]byte, error) {
			if rel == MLmodelFile {
				return doc, nil
			}
			return loc.Read(ctx, rel)
		}
		m, err := LoadWith(ctx, read, opt)
		if err != nil {
			return nil, err
		}
		o := &Opened{Runtime: m, Flavor: m.Flavor, MLmodel: m}
		if m.ClassifierLabels {
			o.Labels = m.PredictLabels
		}
		return o, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	// A single model file.
	b, err := loc.ReadFile(ctx)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: no MLmodel and no model file at %s", modelrt.ErrBadModel, loc.Name)
		}
		return nil, err
	}
	if IsLightGBMText(b) {
		m, err := lightgbm.Load(b)
		if err != nil {
			return nil, err
		}
		return &Opened{Runtime: m, Flavor: "lightgbm"}, nil
	}
	m, err := xgboost.Load(b)
	if err != nil {
		return nil, err
	}
	return &Opened{Runtime: m, Flavor: "xgboost"}, nil
}

// IsLightGBMText reports whether a model file is LightGBM's text format
// (it starts with "tree", or names its "version=v..." near the top);
// anything else is taken for an XGBoost model.
func IsLightGBMText(b []byte) bool {
	t := bytes.TrimSpace(b)
	return bytes.HasPrefix(t, []byte("tree")) || bytes.Contains(t[:min(len(t), 256)], []byte("version=v"))
}
