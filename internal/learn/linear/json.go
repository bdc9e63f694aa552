package linear

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/learn"
)

// Format is the "format" field of a stored linear model.
const Format = "ferry.linear.v1"

// maxJSONFeatures and maxJSONClasses bound what Unmarshal accepts.
const (
	maxJSONFeatures = 1 << 20
	maxJSONClasses  = 1 << 16
)

// modelJSON is the stored form of a Model:
//
//	{
//	  "format": "ferry.linear.v1",
//	  "params": {"kind": "logistic_regression", "C": 1, "max_iter": 1000, "tol": 1e-6},
//	  "task": "binary" | "multiclass" | "regression",
//	  "classes": 2,                       // classifiers only
//	  "feature_names": ["f0", ...],       // one per input column
//	  "coef": [[...], ...],               // one row per output, on raw inputs
//	  "intercept": [...],                 // one per output
//	  "standardization": {"mean": [...], "scale": [...]}, // logistic only
//	  "fit": {"iterations": 17, "converged": true}
//	}
//
// Outputs are 1 for regression and binary (the margin of class 1), k for
// multiclass (softmax margins). Prediction is intercept + coef·x, then
// the sigmoid (binary) or softmax (multiclass); the standardisation the
// model was fitted under is already folded into coef and intercept and is
// kept for reading the coefficients on standardised features.
type modelJSON struct {
	Format          string      `json:"format"`
	Params          Params      `json:"params"`
	Task            learn.Task  `json:"task"`
	Classes         int         `json:"classes,omitempty"`
	FeatureNames    []string    `json:"feature_names"`
	Coef            [][]float64 `json:"coef"`
	Intercept       []float64   `json:"intercept"`
	Standardization *stdJSON    `json:"standardization,omitempty"`
	Fit             fitJSON     `json:"fit"`
}

type stdJSON struct {
	Mean  []float64 `json:"mean"`
	Scale []float64 `json:"scale"`
}

type fitJSON struct {
	Iterations int  `json:"iterations"`
	Converged  bool `json:"converged"`
}

// MarshalJSON writes the model in the format above. The same model gives
// the same bytes (floats in Go's shortest round-tripping form).
func (m *Model) MarshalJSON() ([]byte, error) {
	doc := modelJSON{
		Format:       Format,
		Params:       m.params,
		Task:         m.task,
		Classes:      m.classes,
		FeatureNames: m.features,
		Coef:         m.Coef(),
		Intercept:    m.intercept,
		Fit:          fitJSON{Iterations: m.iterations, Converged: m.converged},
	}
	if m.mean != nil {
		doc.Standardization = &stdJSON{Mean: m.mean, Scale: m.scale}
	}
	return json.Marshal(doc)
}

// Unmarshal reads a model written by MarshalJSON. Anything else — an
// unknown field or format, inconsistent shapes, a non-finite number — is
// an InvalidArgument error saying what is wrong.
func Unmarshal(data []byte) (*Model, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc modelJSON
	if err := dec.Decode(&doc); err != nil {
		return nil, errdefs.InvalidArgument("linear model JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errdefs.InvalidArgument("linear model JSON: data after the document")
	}
	bad := func(format string, args ...any) (*Model, error) {
		return nil, errdefs.InvalidArgument("linear model JSON: "+format, args...)
	}
	if doc.Format != Format {
		return bad("format %q, want %q", doc.Format, Format)
	}
	params, err := doc.Params.withDefaults()
	if err != nil {
		return bad("params: %v", err)
	}
	if params != doc.Params {
		return bad("params %+v are not complete (want %+v)", doc.Params, params)
	}
	p := len(doc.FeatureNames)
	if p < 1 || p > maxJSONFeatures {
		return bad("%d feature names, want 1 to %d", p, maxJSONFeatures)
	}
	outputs := 1
	switch {
	case params.Kind != Logistic:
		if doc.Task != learn.Regression || doc.Classes != 0 {
			return bad("%s is a regression with no classes, got task %q and %d classes", params.Kind, doc.Task, doc.Classes)
		}
	case doc.Task == learn.Binary && doc.Classes == 2:
	case doc.Task == learn.Multiclass && doc.Classes > 2 && doc.Classes <= maxJSONClasses:
		outputs = doc.Classes
	default:
		return bad("logistic regression with task %q and %d classes", doc.Task, doc.Classes)
	}
	if len(doc.Coef) != outputs || len(doc.Intercept) != outputs {
		return bad("%d coefficient rows and %d intercepts, want %d of each", len(doc.Coef), len(doc.Intercept), outputs)
	}
	m := &Model{
		params:     params,
		task:       doc.Task,
		classes:    doc.Classes,
		features:   doc.FeatureNames,
		intercept:  doc.Intercept,
		coef:       make([]float64, 0, outputs*p),
		iterations: doc.Fit.Iterations,
		converged:  doc.Fit.Converged,
	}
	for o, row := range doc.Coef {
		if len(row) != p {
			return bad("coefficient row %d has %d values for %d features", o, len(row), p)
		}
		m.coef = append(m.coef, row...)
	}
	if err := finite("coef", m.coef); err != nil {
		return nil, err
	}
	if err := finite("intercept", m.intercept); err != nil {
		return nil, err
	}
	if s := doc.Standardization; s != nil {
		if params.Kind != Logistic || len(s.Mean) != p || len(s.Scale) != p {
			return bad("standardization needs a logistic regression and %d means and scales", p)
		}
		if err := finite("standardization mean", s.Mean); err != nil {
			return nil, err
		}
		for j, v := range s.Scale {
			if !(v > 0) || math.IsInf(v, 0) {
				return bad("standardization scale %d is %v, want a positive number", j, v)
			}
		}
		m.mean, m.scale = s.Mean, s.Scale
	} else if params.Kind == Logistic {
		return bad("a logistic regression needs its standardization")
	}
	if doc.Fit.Iterations < 0 {
		return bad("fit iterations %d", doc.Fit.Iterations)
	}
	return m, nil
}

func finite(what string, v []float64) error {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return errdefs.InvalidArgument("linear model JSON: %s[%d] is %v", what, i, x)
		}
	}
	return nil
}

var _ json.Marshaler = (*Model)(nil)

// String names the model for logs.
func (m *Model) String() string {
	return fmt.Sprintf("%s(%s, %d features, %d outputs)", m.params.Kind, m.task, len(m.features), m.Outputs())
}
